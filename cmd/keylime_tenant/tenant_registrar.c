/* tenant_registrar: what the tenant asks the registrar (upstream
 * registrar_client.py and the tenant's reg* commands). Upstream logs these
 * under the logger keylime.registrar_client. */
#include "tenant.h"
#include "util/kl_alloc.h"

#include <string.h>

#define RC_LOG "registrar_client"

void
tenant_regdata_free(tenant_regdata *r)
{
    json_decref(r->record);
    memset(r, 0, sizeof(*r));
}

static const char *
str_or_null(const json_t *j)
{
    return json_is_string(j) ? json_string_value(j) : NULL;
}

/* The RegistrarData dict: mandatory aik_tpm, regcount, ek_tpm, ip, port,
 * then mtls_cert and ekcert (None when absent). */
static kl_rc
take_record(tenant *t, json_t *res, bool *found)
{
    static const char *const mandatory[] = {"aik_tpm", "regcount", "ek_tpm", "ip", "port"};
    json_t *rec;

    for (size_t i = 0; i < sizeof(mandatory) / sizeof(mandatory[0]); i++)
        if (!json_object_get(res, mandatory[i])) {
            tl_log(RC_LOG, TL_CRITICAL, "Error: did not receive %s from Registrar Server.",
                   mandatory[i]);
            return KL_OK;
        }
    if (!json_is_string(json_object_get(res, "aik_tpm")) ||
        !json_is_string(json_object_get(res, "ek_tpm")) ||
        !json_is_integer(json_object_get(res, "regcount")))
        return kl_err_set(KL_EPARSE,
                          "the registrar's record of %s is malformed "
                          "(aik_tpm, ek_tpm must be strings, regcount a number)",
                          t->agent_uuid);
    rec = json_pack("{s:O,s:O,s:O,s:O,s:O,s:O*,s:O*}", "aik_tpm", json_object_get(res, "aik_tpm"),
                    "regcount", json_object_get(res, "regcount"), "ek_tpm",
                    json_object_get(res, "ek_tpm"), "ip", json_object_get(res, "ip"), "port",
                    json_object_get(res, "port"), "mtls_cert", json_object_get(res, "mtls_cert"),
                    "ekcert", json_object_get(res, "ekcert"));
    if (!rec)
        return kl_err_set(KL_ENOMEM, "out of memory");
    if (json_object_get(res, "provider_keys") &&
        json_object_set(rec, "provider_keys", json_object_get(res, "provider_keys")) != 0) {
        json_decref(rec);
        return kl_err_set(KL_ENOMEM, "out of memory");
    }
    tenant_regdata_free(&t->reg);
    t->reg.record = rec;
    t->reg.aik_tpm = json_string_value(json_object_get(rec, "aik_tpm"));
    t->reg.ek_tpm = json_string_value(json_object_get(rec, "ek_tpm"));
    t->reg.ekcert = str_or_null(json_object_get(rec, "ekcert"));
    t->reg.mtls_cert = str_or_null(json_object_get(rec, "mtls_cert"));
    t->reg.regcount = json_integer_value(json_object_get(rec, "regcount"));
    t->have_reg = true;
    *found = true;
    return KL_OK;
}

kl_rc
tenant_reg_get(tenant *t, bool *found)
{
    char path[256];
    tenant_resp r;
    kl_rc rc;

    *found = false;
    rc = tenant_registrar_version(t);
    if (rc != KL_OK)
        return rc;
    snprintf(path, sizeof(path), "/v%s/agents/%s", t->registrar_api, t->agent_uuid);
    rc = tenant_http(t, TP_REGISTRAR, "GET", path, KL_BYTES("", 0), &r);
    if (rc == KL_OK)
        rc = tenant_resp_json(&r);
    if (rc != KL_OK) {
        /* upstream logs the exception and goes on as if nothing was found */
        tl_log(RC_LOG, TL_ERROR, "%s", kl_err_msg());
        kl_err_clear();
        rc = KL_OK;
    } else if (r.status == 404) {
        tl_log(RC_LOG, TL_CRITICAL, "Error: could not get agent %s data from Registrar Server: %d",
               t->agent_uuid, r.status);
        tl_http_response(RC_LOG, TL_CRITICAL, r.json);
    } else if (r.status != 200) {
        tl_log(RC_LOG, TL_CRITICAL,
               "Error: unexpected http response code from Registrar Server: %d", r.status);
        tl_http_response(RC_LOG, TL_CRITICAL, r.json);
    } else if (!json_is_object(json_object_get(r.json, "results"))) {
        tl_log(RC_LOG, TL_CRITICAL,
               "Error: unexpected http response body from Registrar Server: %d", r.status);
    } else {
        rc = take_record(t, json_object_get(r.json, "results"), found);
    }
    tenant_resp_free(&r);
    return rc;
}

static kl_rc
need_registrar(const tenant *t)
{
    if (!t->registrar_ip || !t->registrar_ip[0] || !t->registrar_port || !t->registrar_port[0])
        return kl_err_set(KL_EINVAL, "registrar_ip and registrar_port have both to be set in the "
                                     "configuration");
    return KL_OK;
}

static kl_rc
log_found(tenant *t)
{
    json_t *resp, *rec = json_deep_copy(t->reg.record);
    char *all = NULL, *res = NULL;
    kl_rc rc = KL_OK;

    if (!rec || json_object_set_new(rec, "operational_state", json_string("Registered")) != 0)
        rec = NULL;
    resp = rec ? json_pack("{s:i,s:s++++++,s:{s:o}}", "code", 200, "status", "Agent ",
                           t->agent_uuid, " exists on registrar ", t->registrar_ip, " port ",
                           t->registrar_port, ".", "results", t->agent_uuid, rec)
               : NULL;
    if (!resp || !(all = tl_dumps(resp)) || !(res = tl_dumps(json_object_get(resp, "results")))) {
        rc = kl_err_set(KL_ENOMEM, "out of memory");
        goto out;
    }
    tl_info("Status from %s: %s", t->fid_registrar,
            json_string_value(json_object_get(resp, "status")));
    tl_info("%s", all);
    tl_info("Agent Info from %s:\n%s", t->fid_registrar, res);
out:
    json_decref(resp);
    kl_free(all);
    kl_free(res);
    return rc;
}

kl_rc
tenant_cmd_regstatus(tenant *t)
{
    bool found;
    json_t *resp;
    char *s;
    kl_rc rc = need_registrar(t);

    if (rc != KL_OK)
        return rc;
    tenant_set_fid(t);
    rc = tenant_reg_get(t, &found);
    if (rc != KL_OK || found)
        return rc == KL_OK ? log_found(t) : rc;
    tl_info("Agent %s does not exist on the registrar. Please register the agent with the "
            "registrar.",
            t->agent_uuid);
    resp = json_pack("{s:i,s:s++++++,s:{}}", "code", 404, "status", "Agent ", t->agent_uuid,
                     " does not exist on registrar ", t->registrar_ip, " port ", t->registrar_port,
                     ".", "results");
    s = tl_dumps(resp);
    if (s)
        tl_info("%s", s);
    kl_free(s);
    json_decref(resp);
    return kl_err_set(KL_ENOTFOUND,
                      "%s does not exist on %s. Check the agent logs to for error messages "
                      "while attempting to get registered.",
                      t->fid_agent, t->fid_registrar);
}

kl_rc
tenant_cmd_reglist(tenant *t)
{
    char path[64], *all = NULL, *res = NULL;
    tenant_resp r;
    kl_rc rc = need_registrar(t);

    if (rc == KL_OK) {
        tenant_set_fid(t);
        rc = tenant_registrar_version(t);
    }
    if (rc != KL_OK)
        return rc;
    snprintf(path, sizeof(path), "/v%s/agents/", t->registrar_api);
    rc = tenant_http(t, TP_REGISTRAR, "GET", path, KL_BYTES("", 0), &r);
    if (rc == KL_OK)
        rc = tenant_resp_json(&r);
    if (rc == KL_OK && r.status != 200) {
        tl_log(RC_LOG, TL_WARNING, "Registrar returned: %d Unexpected response from registrar.",
               r.status);
        tl_http_response(RC_LOG, TL_WARNING, r.json);
        tl_info("From registrar %s port %s retrieved null\n", t->registrar_ip, t->registrar_port);
        rc = kl_err_set(KL_EPARSE, "the registrar answered %d to the agent list request", r.status);
    } else if (rc == KL_OK && !json_is_object(json_object_get(r.json, "results"))) {
        rc = kl_err_set(KL_EPARSE, "the registrar's agent list has no results object");
    } else if (rc == KL_OK) {
        all = tl_dumps(r.json);
        res = tl_dumps(json_object_get(r.json, "results"));
        tl_info("From registrar %s port %s retrieved %s\n", t->registrar_ip, t->registrar_port,
                all ? all : "");
        tl_info("Agent list from %s retrieved: \n%s", t->fid_registrar, res ? res : "");
    }
    kl_free(all);
    kl_free(res);
    tenant_resp_free(&r);
    return rc;
}

kl_rc
tenant_cmd_regdelete(tenant *t)
{
    char path[256];
    tenant_resp r;
    kl_rc rc = need_registrar(t);

    if (rc == KL_OK)
        rc = tenant_registrar_version(t);
    if (rc != KL_OK)
        return rc;
    snprintf(path, sizeof(path), "/v%s/agents/%s", t->registrar_api, t->agent_uuid);
    rc = tenant_http(t, TP_REGISTRAR, "DELETE", path, KL_BYTES("", 0), &r);
    if (rc == KL_OK)
        rc = tenant_resp_json(&r);
    if (rc == KL_OK && r.status == 200) {
        tl_log(RC_LOG, TL_DEBUG, "Registrar deleted.");
    } else if (rc == KL_OK) {
        tl_log(RC_LOG, TL_WARNING,
               "Status command response: %d Unexpected response from "
               "registrar.",
               r.status);
        tl_http_response(RC_LOG, TL_WARNING, r.json);
    }
    tenant_resp_free(&r);
    return rc;
}
