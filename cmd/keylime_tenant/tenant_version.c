/* tenant_version: API version negotiation (PROTOCOL.md 1.3). The tenant
 * speaks 1.0 .. 2.6 and never 3.0 (push mode); it takes the highest
 * version both sides list, compared as packaging.version does. */
#include "tenant.h"
#include "util/kl_alloc.h"

#include <string.h>

/* Ascending, as upstream's VERSIONS without 3.0. */
static const char *const local_versions[] = {"1.0", "2.0", "2.1", "2.2",
                                             "2.3", "2.4", "2.5", "2.6"};
#define N_LOCAL (sizeof(local_versions) / sizeof(local_versions[0]))

const char *
tenant_versions_repr(void)
{
    return "['1.0', '2.0', '2.1', '2.2', '2.3', '2.4', '2.5', '2.6']";
}

static bool
remote_has(const json_t *remote, const char *v)
{
    size_t i;
    json_t *e;

    if (json_is_string(remote))
        return !strcmp(json_string_value(remote), v);
    json_array_foreach(remote, i,
                       e) if (json_is_string(e) && !strcmp(json_string_value(e), v)) return true;
    return false;
}

void
tenant_version_pick(char out[16], bool *found, const json_t *remote)
{
    *found = false;
    out[0] = 0;
    for (size_t i = N_LOCAL; i-- > 0;)
        if (remote_has(remote, local_versions[i])) {
            snprintf(out, 16, "%s", local_versions[i]);
            *found = true;
            return;
        }
}

/* _fetch_server_versions: the server's supported_versions, or NULL (with
 * upstream's warning) when it cannot say. New reference. */
static json_t *
fetch_versions(tenant *t, tenant_peer peer, const char *name)
{
    tenant_resp r;
    json_t *v = NULL;

    if (tenant_http(t, peer, "GET", "/version", KL_BYTES("", 0), &r) != KL_OK) {
        tl_warn("Error fetching versions from %s: %s", name, kl_err_msg());
        kl_err_clear();
    } else if (r.status == 410) {
        tl_log("tenant", TL_DEBUG, "%s returned 410 (push mode)", name);
    } else if (r.status != 200) {
        tl_warn("Failed to get versions from %s: %d", name, r.status);
    } else if (!(v = json_object_get(json_object_get(r.json, "results"), "supported_versions"))) {
        tl_warn("Unexpected response format from %s /version endpoint", name);
    } else {
        json_incref(v);
    }
    tenant_resp_free(&r);
    return v;
}

static kl_rc
negotiate(tenant *t, tenant_peer peer, const char *name, char out[16])
{
    json_t *remote = fetch_versions(t, peer, name);
    char *repr = NULL;
    bool found;
    kl_rc rc = KL_OK;

    if (!remote) {
        snprintf(out, 16, "%s", TENANT_API_CURRENT);
    } else {
        tenant_version_pick(out, &found, remote);
        if (!found) {
            repr = tl_repr(remote);
            rc = kl_err_set(KL_EUNSUPPORTED,
                            "No compatible API version with %s. Tenant supports: %s, Server "
                            "supports: %s",
                            name, tenant_versions_repr(), repr ? repr : "?");
        }
    }
    if (rc == KL_OK)
        tl_info("Using API version %s for %s communication", out, name);
    json_decref(remote);
    kl_free(repr);
    return rc;
}

kl_rc
tenant_verifier_version(tenant *t)
{
    if (t->verifier_api[0])
        return KL_OK;
    return negotiate(t, TP_VERIFIER, "verifier", t->verifier_api);
}

kl_rc
tenant_registrar_version(tenant *t)
{
    if (t->registrar_api[0])
        return KL_OK;
    if (!t->registrar_ip || !t->registrar_ip[0] || !t->registrar_port || !t->registrar_port[0])
        return kl_err_set(KL_EINVAL, "registrar_ip and registrar_port must be configured for "
                                     "version negotiation");
    return negotiate(t, TP_REGISTRAR, "registrar", t->registrar_api);
}

static bool
contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);

    for (; *hay; hay++)
        if (!strncasecmp(hay, needle, n))
            return true;
    return false;
}

/* The agent's answer to GET /version: supported_versions, else the old
 * supported_version. */
static kl_rc
agent_versions_answer(tenant *t, const tenant_resp *r)
{
    json_t *res = json_object_get(r->json, "results");
    json_t *vers = json_object_get(res, "supported_versions");
    char picked[16], *repr = NULL;
    bool found;
    kl_rc rc = KL_OK;

    if (!vers || json_is_null(vers))
        vers = json_object_get(res, "supported_version");
    if (!json_is_object(res) || !vers || (!json_is_string(vers) && !json_is_array(vers)) ||
        (json_is_array(vers) && json_array_size(vers) == 0) ||
        (json_is_string(vers) && !json_string_length(vers))) {
        tl_warn("Agent did not provide version information");
        return KL_OK;
    }
    tenant_version_pick(picked, &found, vers);
    if (json_is_string(vers)) {
        json_t *l = json_pack("[O]", vers);

        repr = tl_repr(l);
        json_decref(l);
    } else {
        repr = tl_repr(vers);
    }
    if (!found) {
        tl_error("No compatible API version between tenant and agent %s. Agent supports: %s, "
                 "Tenant supports: %s",
                 t->agent_uuid, repr ? repr : "?", tenant_versions_repr());
        rc = kl_err_set(KL_EUNSUPPORTED,
                        "Agent %s has no compatible API version. Agent supports: %s, Tenant "
                        "supports: %s",
                        t->agent_uuid, repr ? repr : "?", tenant_versions_repr());
    } else if (!t->agent_api[0]) {
        snprintf(t->agent_api, sizeof(t->agent_api), "%s", picked);
        tl_info("Negotiated API version %s with agent %s (agent: %s, tenant: %s)", picked,
                t->agent_uuid, repr ? repr : "?", tenant_versions_repr());
    }
    kl_free(repr);
    return rc;
}

static kl_rc
ask_agent(tenant *t)
{
    tenant_resp r;
    kl_rc rc;

    if (t->reg.mtls_cert && !strcmp(t->reg.mtls_cert, "disabled")) {
        t->agent_mtls = false;
        tl_warn("Warning: mTLS for %s is disabled: the identity of each node will be based on the "
                "properties of the TPM only. Unless you have strict control of your network, it "
                "is strongly advised that remote code execution should be disabled, by setting "
                "\"payload_script=\" and \"extract_payload_zip=False\" under \"[agent]\" in agent "
                "configuration file.",
                t->fid_agent);
    }
    rc = tenant_http(t, TP_AGENT, "GET", "/version", KL_BYTES("", 0), &r);
    if (rc != KL_OK && contains_ci(kl_err_msg(), "unknown ca"))
        return kl_err_set(rc, "Keylime agent does not recognize mTLS certificate form tenant. "
                              "Check if agents trusted_client_ca is configured correctly");
    if (rc != KL_OK)
        return rc;
    if (r.status == 200)
        rc = tenant_resp_json(&r);
    if (rc == KL_OK && r.status == 200)
        rc = agent_versions_answer(t, &r);
    tenant_resp_free(&r);
    return rc;
}

kl_rc
tenant_agent_version(tenant *t)
{
    const char *given = t->args->agent_api_version;
    kl_rc rc = KL_OK;

    if (given)
        snprintf(t->agent_api, sizeof(t->agent_api), "%s", given);
    if (!t->reg.mtls_cert && !given)
        snprintf(t->agent_api, sizeof(t->agent_api), "1.0");
    else if (t->agent_ip && t->agent_port)
        rc = ask_agent(t);
    if (rc != KL_OK)
        return rc;
    if (!t->agent_api[0]) {
        snprintf(t->agent_api, sizeof(t->agent_api), "%s", TENANT_API_CURRENT);
        tl_warn("Could not detect supported API version. Defaulting to %s (push_model=False, "
                "agent_ip=%s, agent_port=%s)",
                TENANT_API_CURRENT, t->agent_ip ? t->agent_ip : "None",
                t->agent_port ? t->agent_port : "None");
    }
    tl_info("Using API version %s for agent communication", t->agent_api);
    return KL_OK;
}
