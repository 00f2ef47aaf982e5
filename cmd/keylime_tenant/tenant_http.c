/* tenant_http: one blocking request to the registrar, the verifier or the
 * agent, with the TLS settings upstream's tenant uses for each. */
#include "http/http_client.h"
#include "tenant.h"
#include "util/kl_alloc.h"

#include "json/json.h"
#include <string.h>

#define RESPONSE_MAX (64u << 20)

void
tenant_resp_free(tenant_resp *r)
{
    kl_buf_free(&r->body);
    json_decref(r->json);
    r->json = NULL;
    r->status = 0;
}

bool
tenant_agent_tls(const tenant *t)
{
    return t->agent_mtls && t->have_reg && t->reg.mtls_cert != NULL;
}

/* "host:port", IPv6 addresses in brackets (upstream bracketize_ipv6). */
static kl_rc
base_url(kl_buf *url, bool tls, const char *ip, const char *port)
{
    bool v6 = ip && strchr(ip, ':') && ip[0] != '[';

    return kl_buf_printf(url, "%s://%s%s%s:%s", tls ? "https" : "http", v6 ? "[" : "",
                         ip ? ip : "None", v6 ? "]" : "", port ? port : "None");
}

/* Trust for the agent: the configured CAs plus its certificate from the
 * registrar (upstream writes it to a file and adds it as a CA). */
static kl_rc
agent_trust(const tenant *t, kl_buf *pem)
{
    kl_rc rc = kl_buf_append(pem, t->tls.ca_pem.ptr, t->tls.ca_pem.len);

    if (rc == KL_OK)
        rc = kl_buf_append_str(pem, "\n");
    if (rc == KL_OK)
        rc = kl_buf_append_str(pem, t->reg.mtls_cert);
    if (rc == KL_OK)
        rc = kl_buf_terminate(pem);
    return rc;
}

static void
client_opts(const tenant *t, kl_tls_client_opts *o, const kl_buf *trust)
{
    memset(o, 0, sizeof(*o));
    if (t->tls.enabled) {
        o->cert_file = t->tls.cert;
        o->key_file = t->tls.key;
        o->key_password = t->tls.password;
    }
    o->ca_pem = trust->len ? (const char *)trust->ptr : NULL;
    o->verify_peer = t->tls.verify;
}

static kl_rc
parse_body(tenant_resp *out)
{
    json_t *j = NULL;

    if (out->body.len == 0)
        return KL_OK;
    if (kl_json_parse(kl_buf_bytes(&out->body), "response", &j) == KL_OK) {
        out->json = j;
        return KL_OK;
    }
    kl_err_clear();
    return KL_OK;
}

kl_rc
tenant_http(tenant *t, tenant_peer peer, const char *method, const char *path, kl_bytes body,
            tenant_resp *out)
{
    bool agent = peer == TP_AGENT, tls = !agent || tenant_agent_tls(t);
    const char *ip = peer == TP_VERIFIER    ? t->verifier_ip
                     : peer == TP_REGISTRAR ? t->registrar_ip
                                            : t->agent_ip;
    const char *port = peer == TP_VERIFIER    ? t->verifier_port
                       : peer == TP_REGISTRAR ? t->registrar_port
                                              : t->agent_port;
    kl_tls_client_opts topts;
    kl_http_request_opts o = {0};
    kl_buf url, trust;
    kl_rc rc;

    memset(out, 0, sizeof(*out));
    kl_buf_init(&out->body, RESPONSE_MAX);
    kl_buf_init(&url, 8192);
    kl_buf_init(&trust, 32u << 20);
    rc = base_url(&url, tls, ip, port);
    if (rc == KL_OK)
        rc = kl_buf_append_str(&url, path);
    if (rc == KL_OK)
        rc = kl_buf_terminate(&url);
    if (rc == KL_OK && agent && tls)
        rc = agent_trust(t, &trust);
    else if (rc == KL_OK && t->tls.ca_pem.len)
        rc = kl_buf_append(&trust, t->tls.ca_pem.ptr, t->tls.ca_pem.len);
    if (rc == KL_OK && trust.len)
        rc = kl_buf_terminate(&trust);
    if (rc != KL_OK)
        goto out;
    client_opts(t, &topts, &trust);
    o.method = method;
    o.url = (const char *)url.ptr;
    o.body = body;
    o.tls = tls ? &topts : NULL;
    o.timeout_ms = (unsigned)(t->cfg->request_timeout * 1000.0);
    o.max_response = RESPONSE_MAX;
    rc = kl_http_fetch(&out->status, &out->body, &o);
    if (rc == KL_OK)
        rc = parse_body(out);
out:
    kl_buf_free(&url);
    kl_buf_free(&trust);
    return rc;
}

kl_rc
tenant_resp_json(const tenant_resp *r)
{
    if (r->json)
        return KL_OK;
    return kl_err_set(KL_EPARSE, "Unable to convert response to JSON format");
}
