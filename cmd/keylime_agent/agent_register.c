/* agent_register: registration at the registrar over HTTP (PROTOCOL.md
 * section 3.2): GET /version, POST /v<X>/agents/<uuid> with the EK, EK
 * certificate, AK, mTLS certificate and contact address, TPM2_Activate-
 * Credential on the blob, PUT /v<X>/agents/<uuid> with the auth_tag.
 * Connection failures are retried with backoff; refusals end the agent. */
#define KL_LOGMODULE "agent"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "http/http_client.h"
#include "json/json.h"
#include "tpm/makecred.h"
#include "tpmdev/tpmdev_cred.h"
#include "util/kl_alloc.h"
#include "util/kl_b64.h"
#include "util/kl_log.h"

#define REG_ATTEMPTS 10
#define REG_MAX_BODY (1u << 20)

typedef struct {
    int status;
    kl_buf body;
    json_t *doc; /* parsed body, or NULL */
} reg_answer;

static kl_rc
call(agent_ctx *a, const char *method, const char *path, kl_bytes body, reg_answer *ans)
{
    kl_http_request_opts o = {0};
    char url[512];
    kl_rc rc;

    snprintf(url, sizeof(url), "http://%s:%lld%s", a->cfg->registrar_ip,
             a->cfg->registrar_port, path);
    o.method = method;
    o.url = url;
    o.body = body;
    o.timeout_ms = 30000;
    o.max_response = REG_MAX_BODY;
    json_decref(ans->doc);
    ans->doc = NULL;
    kl_buf_reset(&ans->body);
    rc = kl_http_fetch_plain(&ans->status, &ans->body, &o);
    if (rc == KL_OK && ans->body.len &&
        kl_json_parse(kl_buf_bytes(&ans->body), "registrar answer", &ans->doc) != KL_OK)
        ans->doc = NULL; /* not JSON: the status code alone tells */
    return rc;
}

/* Like call, retrying while the registrar cannot be reached. */
static kl_rc
call_retry(agent_ctx *a, const char *method, const char *path, kl_bytes body, reg_answer *ans)
{
    unsigned delay = 1;
    kl_rc rc = KL_OK;

    for (int i = 1; i <= REG_ATTEMPTS; i++) {
        rc = call(a, method, path, body, ans);
        if (rc == KL_OK)
            return KL_OK;
        LOG_WARN("registrar %s:%lld unreachable (%s); attempt %d of %d, retrying in %u s",
                 a->cfg->registrar_ip, a->cfg->registrar_port, kl_err_msg(), i, REG_ATTEMPTS,
                 delay);
        if (i < REG_ATTEMPTS)
            sleep(delay);
        delay = delay * 2 > 30 ? 30 : delay * 2;
    }
    return kl_err_wrap(rc, "cannot reach the registrar at %s:%lld (check registrar_ip and "
                           "registrar_port): ", a->cfg->registrar_ip, a->cfg->registrar_port);
}

static const char *
status_of(const reg_answer *ans)
{
    json_t *s = json_object_get(ans->doc, "status");

    return json_is_string(s) ? json_string_value(s) : "(no status)";
}

/* The registrar's current version if we speak it, else the newest of ours
 * it lists, else our newest. */
static void
pick_version(agent_ctx *a, const reg_answer *ans, char *out, size_t n)
{
    json_t *res = json_object_get(ans->doc, "results");
    json_t *cur = json_object_get(res, "current_version");
    json_t *all = json_object_get(res, "supported_versions");
    const kl_strlist *mine = &a->versions;

    snprintf(out, n, "%s", mine->items[mine->n - 1]);
    if (ans->status != 200)
        return;
    if (json_is_string(cur) && kl_strlist_has(mine, json_string_value(cur))) {
        snprintf(out, n, "%s", json_string_value(cur));
        return;
    }
    for (size_t i = mine->n; i-- > 0;) {
        size_t k;
        json_t *v;

        json_array_foreach(all, k, v) {
            if (json_is_string(v) && !strcmp(json_string_value(v), mine->items[i])) {
                snprintf(out, n, "%s", mine->items[i]);
                return;
            }
        }
    }
}

static kl_rc
registration_body(agent_ctx *a, kl_buf *out)
{
    kl_buf ek64, ak64;
    json_t *doc;
    kl_rc rc;

    kl_buf_init(&ek64, 64 * 1024);
    kl_buf_init(&ak64, 64 * 1024);
    rc = kl_b64_encode_append(&ek64, a->ek_pub.ptr, a->ek_pub.len);
    if (rc == KL_OK)
        rc = kl_b64_encode_append(&ak64, a->ak_pub.ptr, a->ak_pub.len);
    if (rc != KL_OK)
        goto out;
    doc = json_pack("{s:s%,s:s%,s:o,s:s,s:I,s:n,s:n}", "ek_tpm", (const char *)ek64.ptr,
                    ek64.len, "aik_tpm", (const char *)ak64.ptr, ak64.len, "ekcert",
                    a->ekcert_pem.len ? json_stringn((const char *)a->ekcert_pem.ptr,
                                                     a->ekcert_pem.len)
                                      : json_null(),
                    "ip", a->cfg->contact_ip, "port", (json_int_t)a->cfg->contact_port,
                    "iak_cert", "idevid_cert");
    if (doc && a->cfg->enable_agent_mtls)
        json_object_set_new(doc, "mtls_cert", json_stringn((const char *)a->mtls_cert_pem.ptr,
                                                           a->mtls_cert_pem.len));
    else if (doc)
        json_object_set_new(doc, "mtls_cert", json_string("disabled"));
    rc = doc ? kl_json_dump_py(out, doc) : kl_err_set(KL_ENOMEM, "out of memory");
    json_decref(doc);
out:
    kl_buf_free(&ek64);
    kl_buf_free(&ak64);
    return rc;
}

static kl_rc
activate(agent_ctx *a, const char *version, const reg_answer *ans, reg_answer *act)
{
    json_t *blob = json_object_get(json_object_get(ans->doc, "results"), "blob");
    kl_buf raw, secret, tag, body;
    char path[256];
    kl_rc rc;

    kl_buf_init(&raw, 64 * 1024);
    kl_buf_init(&secret, 256);
    kl_buf_init(&tag, 256);
    kl_buf_init(&body, 1024);
    rc = json_is_string(blob)
             ? kl_b64_decode_append(&raw, KL_BYTES_CSTR(json_string_value(blob)), false)
             : kl_err_set(KL_EPARSE, "the registrar's answer holds no credential blob");
    if (rc == KL_OK)
        rc = kl_tpmdev_cred_activate(&secret, a->tpm, a->ak, a->ek, kl_buf_bytes(&raw));
    if (rc == KL_OK)
        rc = kl_makecred_auth_tag_from_secret(&tag, kl_buf_bytes(&secret),
                                              KL_BYTES_CSTR(a->uuid));
    if (rc == KL_OK)
        rc = kl_buf_printf(&body, "{\"auth_tag\": \"%.*s\"}", (int)tag.len, (const char *)tag.ptr);
    snprintf(path, sizeof(path), "/v%s/agents/%s", version, a->uuid);
    if (rc == KL_OK)
        rc = call_retry(a, "PUT", path, kl_buf_bytes(&body), act);
    kl_buf_free(&raw);
    kl_buf_free_secret(&secret);
    kl_buf_free_secret(&tag);
    kl_buf_free(&body);
    return rc;
}

kl_rc
agent_register(agent_ctx *a)
{
    reg_answer ans = {0}, act = {0};
    char version[16], path[256];
    kl_buf body;
    kl_rc rc;

    kl_buf_init(&ans.body, REG_MAX_BODY);
    kl_buf_init(&act.body, REG_MAX_BODY);
    kl_buf_init(&body, 1024 * 1024);
    rc = call_retry(a, "GET", "/version", KL_BYTES(NULL, 0), &ans);
    if (rc != KL_OK)
        goto out;
    pick_version(a, &ans, version, sizeof(version));
    rc = registration_body(a, &body);
    snprintf(path, sizeof(path), "/v%s/agents/%s", version, a->uuid);
    if (rc == KL_OK)
        rc = call_retry(a, "POST", path, kl_buf_bytes(&body), &ans);
    if (rc == KL_OK && ans.status != 200)
        rc = kl_err_set(KL_EPERM, "the registrar refused the registration of agent %s (HTTP %d: "
                                  "%s)", a->uuid, ans.status, status_of(&ans));
    if (rc == KL_OK)
        rc = activate(a, version, &ans, &act);
    if (rc == KL_OK && act.status != 200)
        rc = kl_err_set(KL_EPERM, "the registrar refused the activation of agent %s (HTTP %d: "
                                  "%s)", a->uuid, act.status, status_of(&act));
    if (rc == KL_OK)
        LOG_INFO("agent %s registered and activated at %s:%lld (API %s)", a->uuid,
                 a->cfg->registrar_ip, a->cfg->registrar_port, version);
out:
    json_decref(ans.doc);
    json_decref(act.doc);
    kl_buf_free(&ans.body);
    kl_buf_free(&act.body);
    kl_buf_free(&body);
    return rc;
}
