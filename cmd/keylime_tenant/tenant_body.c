/* tenant_body: adding the agent to the verifier (upstream do_cvadd: the
 * body of POST /v{v}/agents/{id}, then polling until the verifier has it)
 * and deleting it (do_cvdelete, with the 202 "being deleted" path). */
#include "tenant.h"
#include "util/kl_alloc.h"
#include "util/kl_b64.h"

#include <string.h>

static json_t *
str_or_none(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* A port as upstream holds it: text from the command line or tenant.conf,
 * a number when it came from the registrar or the verifier. */
static json_t *
port_value(const char *port, bool as_int)
{
    char *end;
    long long v;

    if (!port)
        return json_null();
    if (as_int) {
        v = strtoll(port, &end, 10);
        if (!*end)
            return json_integer(v);
    }
    return json_string(port);
}

static json_t *
strlist_json(const kl_strlist *l)
{
    json_t *a = json_array();

    for (size_t i = 0; a && i < l->n; i++)
        if (json_array_append_new(a, json_string(l->items[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/* Sets key in order; the value reference is stolen. false on ENOMEM. */
static bool
put(json_t *o, const char *key, json_t *v)
{
    return v && json_object_set_new(o, key, v) == 0;
}

static json_t *
b64_v(const tenant *t)
{
    kl_buf b;
    json_t *j = NULL;

    if (t->vlen == 0)
        return json_null();
    kl_buf_init(&b, 128);
    if (kl_b64_encode_append(&b, t->v, t->vlen) == KL_OK)
        j = json_stringn((const char *)b.ptr, b.len);
    kl_buf_free_secret(&b);
    return j;
}

static json_t *
dumped(const json_t *j)
{
    char *s = tl_dumps(j);
    json_t *r = s ? json_string(s) : NULL;

    kl_free(s);
    return r;
}

kl_rc
tenant_cvadd_body(const tenant *t, json_t **out)
{
    const tenant_policy *p = &t->pol;
    const tenant_config *c = t->cfg;
    json_t *o = json_object();
    bool ok = o != NULL;

    ok = ok && put(o, "v", b64_v(t));
    ok = ok && put(o, "cloudagent_ip", str_or_none(t->cv_agent_ip));
    ok = ok && put(o, "cloudagent_port", port_value(t->agent_port, t->agent_port_int));
    ok = ok && put(o, "verifier_ip", str_or_none(t->verifier_ip));
    ok = ok && put(o, "verifier_port", port_value(t->verifier_port, t->verifier_port_int));
    ok = ok && put(o, "tpm_policy", dumped(p->tpm_policy));
    ok = ok && put(o, "runtime_policy", json_string(p->runtime_policy));
    ok = ok && put(o, "runtime_policy_name", json_string(p->runtime_policy_name));
    ok = ok && put(o, "runtime_policy_key", json_string(p->runtime_policy_key));
    ok = ok && put(o, "mb_policy", str_or_none(p->mb_policy));
    ok = ok && put(o, "mb_policy_name", json_string(p->mb_policy_name));
    ok = ok && put(o, "ima_sign_verification_keys", json_string(p->ima_sign_verification_keys));
    ok = ok && put(o, "metadata", dumped(t->metadata));
    ok = ok && put(o, "revocation_key",
                   json_stringn(t->revocation_key.len ? (const char *)t->revocation_key.ptr : "",
                                t->revocation_key.len));
    ok = ok && put(o, "accept_tpm_hash_algs", strlist_json(&c->accept_tpm_hash_algs));
    ok = ok && put(o, "accept_tpm_encryption_algs", strlist_json(&c->accept_tpm_encryption_algs));
    ok = ok && put(o, "accept_tpm_signing_algs", strlist_json(&c->accept_tpm_signing_algs));
    ok = ok && put(o, "ak_tpm", json_string(t->reg.aik_tpm));
    ok = ok && put(o, "mtls_cert", str_or_none(t->reg.mtls_cert));
    ok = ok && put(o, "supported_version", str_or_none(t->agent_api[0] ? t->agent_api : NULL));
    if (!ok) {
        json_decref(o);
        return kl_err_set(KL_ENOMEM, "out of memory (or text that is not UTF-8) in the request "
                                     "to the verifier");
    }
    *out = o;
    return KL_OK;
}

/* do_cvadd's wait: GET until the verifier answers 200, max_retries times. */
static kl_rc
wait_added(tenant *t)
{
    unsigned tries = 0;
    json_int_t code;
    kl_rc rc;

    for (;;) {
        rc = tenant_cvstatus(t, false, &code, NULL);
        if (rc != KL_OK)
            return rc;
        if (code == 200)
            break;
        if ((long long)++tries >= t->cfg->max_retries)
            return kl_err_set(KL_ETIMEOUT, "%s still not added to %s after $%u tries", t->fid_agent,
                              t->fid_verifier, tries);
        tl_info("%s still not added to %s at try %u/%lld, trying again in %d seconds...",
                t->fid_agent, t->fid_verifier, tries, t->cfg->max_retries,
                (int)tenant_retry_time(t, tries));
        tenant_sleep(tenant_retry_time(t, tries));
    }
    tl_info("%s added to %s after %u tries", t->fid_agent, t->fid_verifier, tries);
    return KL_OK;
}

static kl_rc
post_agent(tenant *t, const char *text)
{
    tenant_resp r;
    kl_rc rc = tenant_agent_request(t, "POST", "", KL_BYTES_CSTR(text), &r);

    if (rc == KL_OK && r.status == 503)
        rc = kl_err_set(KL_EIO, "Cannot connect to %s while adding %s. Connection refused.",
                        t->fid_verifier, t->fid_agent);
    if (rc == KL_OK && r.status == 504) {
        tl_error("%s timed out while adding %s.", t->fid_verifier, t->fid_agent);
        rc = kl_err_set(KL_ETIMEOUT, "%s timed out while adding %s", t->fid_verifier, t->fid_agent);
    }
    if (rc == KL_OK)
        rc = tenant_resp_json(&r);
    if (rc == KL_OK && r.status == 409)
        rc = kl_err_set(KL_EEXIST,
                        "%s responded indicating a conflict for agent %s. Run "
                        "\"delete\" or \"update\" first.",
                        t->fid_verifier, t->fid_agent);
    if (rc == KL_OK && r.status != 200) {
        tl_http_response("tenant", TL_ERROR, r.json);
        rc = kl_buf_terminate(&r.body);
        rc = kl_err_set(KL_EIO, "POST command response: %d Unexpected response from %s: %s",
                        r.status, t->fid_verifier, rc == KL_OK ? (const char *)r.body.ptr : "");
    }
    tenant_resp_free(&r);
    return rc;
}

kl_rc
tenant_cvadd(tenant *t)
{
    json_t *body = NULL;
    char *text = NULL;
    kl_rc rc = tenant_cvadd_body(t, &body);

    if (rc == KL_OK && !(text = tl_dumps(body)))
        rc = kl_err_set(KL_ENOMEM, "out of memory");
    if (rc == KL_OK)
        rc = post_agent(t, text);
    if (rc == KL_OK)
        rc = wait_added(t);
    json_decref(body);
    if (text) {
        kl_wipe(text, strlen(text));
        kl_free(text);
    }
    return rc;
}

/* After a 202: GET until the verifier no longer knows the agent. */
static kl_rc
wait_deleted(tenant *t)
{
    unsigned tries = 0;
    json_int_t code;
    char delay[32];
    kl_rc rc;

    for (;;) {
        rc = tenant_cvstatus(t, false, &code, NULL);
        if (rc != KL_OK)
            return rc;
        if (code == 404)
            break;
        if ((long long)++tries >= t->cfg->max_retries)
            return kl_err_set(KL_ETIMEOUT, "%s was not deleted from %s after %u tries",
                              t->fid_agent, t->fid_verifier, tries);
        tl_float(delay, sizeof(delay), tenant_retry_time(t, tries));
        tl_info("%s still not deleted from %s at try %u/%lld, trying again in %s seconds...",
                t->fid_agent, t->fid_verifier, tries, t->cfg->max_retries, delay);
        tenant_sleep(tenant_retry_time(t, tries));
    }
    tl_info("%s was deleted from %s after %u tries", t->fid_agent, t->fid_verifier, tries);
    tl_info("Agent %s deleted from the CV", t->agent_uuid);
    return KL_OK;
}

/* The verifier's record of where it polls the agent (verifier_check). */
static kl_rc
take_agent_address(tenant *t, const json_t *agent)
{
    json_t *ip = json_object_get(agent, "ip"), *port = json_object_get(agent, "port");
    kl_rc rc = tenant_take_verifier(t, agent);

    if (rc != KL_OK)
        return rc;
    if (!ip || !port)
        return kl_err_set(KL_EPARSE, "'%s'", ip ? "port" : "ip");
    kl_free(t->agent_ip);
    kl_free(t->agent_port);
    t->agent_ip = json_is_string(ip) ? kl_strdup(json_string_value(ip)) : NULL;
    t->agent_port = json_is_string(port) ? kl_strdup(json_string_value(port))
                    : json_is_null(port) ? NULL
                                         : tl_dumps(port);
    t->agent_port_int = json_is_integer(port);
    tenant_set_fid(t);
    return KL_OK;
}

static kl_rc
check_first(tenant *t, bool *gone)
{
    json_t *st = NULL, *agent;
    json_int_t code;
    kl_rc rc = tenant_cvstatus(t, false, &code, &st);

    *gone = false;
    if (rc == KL_OK && code == 404) {
        tl_info("The %s is deleted from %s", t->fid_agent, t->fid_verifier);
        *gone = true;
    } else if (rc == KL_OK &&
               (agent = json_object_get(json_object_get(st, "results"), t->agent_uuid)) != NULL) {
        rc = take_agent_address(t, agent);
    }
    json_decref(st);
    return rc;
}

kl_rc
tenant_cvdelete(tenant *t, bool verifier_check)
{
    json_int_t code;
    bool gone = false;
    tenant_resp r = {0};
    kl_rc rc;

    tenant_set_fid(t);
    rc = verifier_check ? check_first(t, &gone) : KL_OK;
    if (rc != KL_OK || gone)
        return rc;
    rc = tenant_agent_request(t, "DELETE", "", KL_BYTES("", 0), &r);
    if (rc == KL_OK)
        rc = tenant_resp_json(&r);
    code = rc == KL_OK ? json_integer_value(json_object_get(r.json, "code")) : 0;
    tenant_resp_free(&r);
    if (rc != KL_OK)
        return rc;
    if (code == 503)
        return kl_err_set(KL_EIO, "Cannot connect to %s to delete %s. Connection refused.",
                          t->fid_verifier, t->fid_agent);
    if (code == 504)
        return kl_err_set(KL_ETIMEOUT, "%s timed out while deleting %s.", t->fid_verifier,
                          t->fid_agent);
    if (code == 200)
        tl_info("Agent %s deleted from the CV", t->agent_uuid);
    else if (code == 202)
        return wait_deleted(t);
    else if (code == 404)
        tl_info("Agent %s is already absent from the CV", t->agent_uuid);
    else
        return kl_err_set(KL_EIO, "Unexpected response code %lld from %s while deleting %s",
                          (long long)code, t->fid_verifier, t->fid_agent);
    return KL_OK;
}
