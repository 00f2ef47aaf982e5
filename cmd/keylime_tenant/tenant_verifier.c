/* tenant_verifier: the agent's record on the verifier (upstream
 * do_cvstatus, do_cvlist, do_cvbulkinfo, do_cvreactivate, do_cvstop,
 * do_status). Adding and deleting are in tenant_body.c. */
#include "tenant.h"
#include "util/kl_alloc.h"

#include <string.h>

/* 503 and 504, which upstream reports before anything else. */
static kl_rc
unavailable(const tenant *t, int status, const char *what)
{
    if (status == 503)
        return kl_err_set(KL_EIO, "Cannot connect to %s%s. Connection refused.", t->fid_verifier,
                          what);
    if (status == 504)
        return kl_err_set(KL_ETIMEOUT, "%s timed out%s.", t->fid_verifier, what);
    return KL_OK;
}

/* operational_state number -> upstream's name, in place. */
static kl_rc
name_state(json_t *agent, const char *none_name)
{
    json_t *s = json_object_get(agent, "operational_state");
    const char *name;

    if (!json_is_object(agent))
        return kl_err_set(KL_EPARSE, "the verifier's agent status is not an object");
    if (!s)
        return kl_err_set(KL_EPARSE, "'operational_state'");
    if (json_is_null(s)) {
        if (none_name && json_object_set_new(agent, "operational_state", json_string(none_name)))
            return kl_err_set(KL_ENOMEM, "out of memory");
        return KL_OK;
    }
    name = json_is_integer(s) ? tl_state_name(json_integer_value(s)) : NULL;
    if (!name)
        return kl_err_set(KL_EPARSE, "Invalid agent state");
    if (json_object_set_new(agent, "operational_state", json_string(name)) != 0)
        return kl_err_set(KL_ENOMEM, "out of memory");
    return KL_OK;
}

/* A 200 answer: results re-keyed by the agent id, the state named. */
static kl_rc
status_found(tenant *t, json_t *body)
{
    json_t *res = json_object_get(body, "results");
    json_t *wrapped;
    char *s;
    kl_rc rc;

    json_incref(res);
    json_object_del(body, "results");
    wrapped = json_pack("{s:o}", t->agent_uuid, res ? res : json_null());
    if (!wrapped || json_object_set_new(body, "results", wrapped) != 0)
        return kl_err_set(KL_ENOMEM, "out of memory");
    rc = name_state(res, NULL);
    if (rc != KL_OK)
        return rc;
    s = tl_dumps(wrapped);
    tl_info("Agent Info from %s:\n%s", t->fid_verifier, s ? s : "");
    kl_free(s);
    return KL_OK;
}

kl_rc
tenant_agent_request(tenant *t, const char *method, const char *suffix, kl_bytes body,
                     tenant_resp *out)
{
    char path[256];
    kl_rc rc = tenant_verifier_version(t);

    memset(out, 0, sizeof(*out));
    if (rc != KL_OK)
        return rc;
    snprintf(path, sizeof(path), "/v%s/agents/%s%s", t->verifier_api, t->agent_uuid, suffix);
    return tenant_http(t, TP_VERIFIER, method, path, body, out);
}

kl_rc
tenant_cvstatus(tenant *t, bool not_found_fail, json_int_t *code, json_t **out)
{
    tenant_resp r;
    kl_rc rc;

    tenant_set_fid(t);
    rc = tenant_agent_request(t, "GET", "", KL_BYTES("", 0), &r);
    if (rc == KL_OK)
        rc = tenant_resp_json(&r);
    if (rc == KL_OK)
        rc = unavailable(t, r.status, "");
    if (rc != KL_OK)
        goto out;
    *code = json_integer_value(json_object_get(r.json, "code"));
    if (r.status == 404) {
        tl_info("Verifier at %s with Port %s does not have agent %s.", t->verifier_ip,
                t->verifier_port, t->agent_uuid);
        if (not_found_fail)
            rc =
                kl_err_set(KL_ENOTFOUND, "%s does not exist on %s.", t->fid_agent, t->fid_verifier);
    } else if (r.status == 200) {
        rc = status_found(t, r.json);
    } else {
        rc = kl_err_set(KL_EIO,
                        "Status command response: %d. Unexpected response from %s while checking "
                        "status for %s : <Response [%d]>",
                        r.status, t->fid_verifier, t->fid_agent, r.status);
    }
    if (rc == KL_OK && out) {
        *out = r.json;
        r.json = NULL;
    }
out:
    tenant_resp_free(&r);
    return rc;
}

static kl_rc
list_request(tenant *t, bool bulk, tenant_resp *r)
{
    char path[512];
    kl_rc rc;

    tenant_set_fid(t);
    rc = tenant_verifier_version(t);
    if (rc != KL_OK)
        return rc;
    snprintf(path, sizeof(path), "/v%s/agents/?%sverifier=%s", t->verifier_api,
             bulk ? "bulk=True&" : "", t->verifier_id ? t->verifier_id : "");
    return tenant_http(t, TP_VERIFIER, "GET", path, KL_BYTES("", 0), r);
}

static void
log_list(const tenant *t, const json_t *body)
{
    char *repr = tl_repr(body), *res = tl_dumps(json_object_get(body, "results"));

    tl_info("From verifier %s port %s retrieved: \"%s\"\n", t->verifier_ip, t->verifier_port,
            repr ? repr : "");
    tl_info("Agent list from %s retrieved: \n%s", t->fid_verifier, res ? res : "");
    kl_free(repr);
    kl_free(res);
}

kl_rc
tenant_cmd_cvlist(tenant *t)
{
    tenant_resp r;
    kl_rc rc = list_request(t, false, &r);

    if (rc == KL_OK)
        rc = tenant_resp_json(&r);
    if (rc != KL_OK)
        goto out;
    if (r.status == 503)
        tl_error("Cannot connect to %s. Connection refused.", t->fid_verifier);
    else if (r.status == 504)
        tl_error("%s timed out.", t->fid_verifier);
    else if (r.status == 404)
        tl_info("%s does not have any agents", t->fid_verifier);
    else if (r.status == 200)
        log_list(t, r.json);
    else
        rc = kl_err_set(KL_EIO,
                        "Status command response: %d. Unexpected response from %s while providing "
                        "agent list : <Response [%d]>",
                        r.status, t->fid_verifier, r.status);
out:
    tenant_resp_free(&r);
    return rc;
}

kl_rc
tenant_cmd_bulkinfo(tenant *t)
{
    const char *id;
    json_t *agents, *a;
    tenant_resp r;
    char *s = NULL;
    kl_rc rc = list_request(t, true, &r);

    if (rc != KL_OK)
        return rc;
    if (r.status != 200) {
        rc = kl_err_set(KL_EIO,
                        "Status command response: %d. Unexpected response from %s while providing "
                        "bulk status for all agents : <Response [%d]>",
                        r.status, t->fid_verifier, r.status);
        goto out;
    }
    agents = json_object_get(r.json, "results");
    if (!json_is_object(agents)) {
        rc = kl_err_set(KL_EPARSE, "'results'");
        goto out;
    }
    json_object_foreach(agents, id, a)
    {
        rc = name_state(a, "Not applicable (Push Mode)");
        if (rc != KL_OK)
            goto out;
    }
    s = tl_dumps(agents);
    tl_info("Bulk Agent Info:\n%s", s ? s : "");
out:
    kl_free(s);
    tenant_resp_free(&r);
    return rc;
}

/* The verifier's own address and id as it reports them for the agent. */
kl_rc
tenant_take_verifier(tenant *t, const json_t *agent)
{
    static const char *const keys[] = {"verifier_ip", "verifier_port", "verifier_id"};
    char **fields[] = {&t->verifier_ip, &t->verifier_port, &t->verifier_id};

    for (size_t i = 0; i < 3; i++) {
        json_t *v = json_object_get(agent, keys[i]);
        char *s = json_is_string(v) ? kl_strdup(json_string_value(v)) : tl_dumps(v);

        if (!v)
            return kl_err_set(KL_EPARSE, "'%s'", keys[i]);
        if (!s)
            return kl_err_set(KL_ENOMEM, "out of memory");
        if (json_is_null(v)) {
            kl_free(s);
            s = NULL;
        }
        kl_free(*fields[i]);
        *fields[i] = s;
        if (i == 1)
            t->verifier_port_int = json_is_integer(v);
    }
    return KL_OK;
}

kl_rc
tenant_cmd_reactivate(tenant *t, bool verifier_check)
{
    json_t *st = NULL;
    json_int_t code;
    tenant_resp r = {0};
    kl_rc rc = KL_OK;

    if (verifier_check) {
        rc = tenant_cvstatus(t, true, &code, &st);
        if (rc == KL_OK)
            rc = tenant_take_verifier(
                t, json_object_get(json_object_get(st, "results"), t->agent_uuid));
        json_decref(st);
        if (rc != KL_OK)
            return rc;
    }
    tenant_set_fid(t);
    rc = tenant_agent_request(t, "PUT", "/reactivate", KL_BYTES("", 0), &r);
    if (rc == KL_OK)
        rc = tenant_resp_json(&r);
    if (rc == KL_OK)
        rc = unavailable(t, r.status, "");
    if (rc == KL_OK && r.status == 200) {
        tl_info("Agent %s re-activated", t->agent_uuid);
        tl_info("%s re-activated", t->fid_agent);
    } else if (rc == KL_OK) {
        rc = kl_err_set(KL_EIO, "Reactivate command response: %d Unexpected response from %s.",
                        r.status, t->fid_verifier);
    }
    tenant_resp_free(&r);
    return rc;
}

kl_rc
tenant_cvstop(tenant *t)
{
    tenant_resp r;
    kl_rc rc = tenant_agent_request(t, "PUT", "/stop", KL_BYTES("", 0), &r);

    tenant_set_fid(t);
    if (rc == KL_OK)
        rc = unavailable(t, r.status, "");
    if (rc == KL_OK && r.status != 200)
        rc = kl_err_set(KL_EIO, "Stop command response: %d Unexpected response from %s.", r.status,
                        t->fid_verifier);
    if (rc == KL_OK)
        tl_info("%s stopped", t->fid_agent);
    tenant_resp_free(&r);
    return rc;
}

kl_rc
tenant_cmd_status(tenant *t)
{
    json_int_t code;
    kl_rc rc = tenant_cmd_regstatus(t);

    if (rc == KL_OK)
        rc = tenant_cvstatus(t, true, &code, NULL);
    return rc;
}
