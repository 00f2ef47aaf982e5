/* agent_api: the agent's REST routes (Rust agent dialect: /version and
 * /v<X.Y>/ for each enabled version) and the small handlers: /version,
 * agent/info, keys/pubkey. */
#define KL_LOGMODULE "agent"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "tpmdev/tpmdev.h"
#include "util/kl_log.h"

void
agent_reply_init(agent_reply *r)
{
    memset(r, 0, sizeof(*r));
    kl_buf_init(&r->raw, 1024u << 20);
}

void
agent_reply_free(agent_reply *r)
{
    json_decref(r->results);
    kl_buf_free(&r->raw);
    r->results = NULL;
}

void
agent_reply_set(agent_reply *r, int code, const char *fmt, ...)
{
    va_list ap;

    r->code = code;
    va_start(ap, fmt);
    vsnprintf(r->buf, sizeof(r->buf), fmt, ap);
    va_end(ap);
    r->status = r->buf;
    if (code >= 400)
        LOG_WARN("returning %d: %s", code, r->buf);
}

static void
reply_send(kl_http_req *req, agent_reply *r)
{
    if (r->raw.len)
        kl_http_reply_json_raw(req, r->code, r->status, kl_buf_bytes(&r->raw));
    else if (r->null_results)
        kl_http_reply_json(req, r->code, r->status, json_null());
    else {
        kl_http_reply_json(req, r->code, r->status, r->results);
        r->results = NULL;
    }
    agent_reply_free(r);
}

static void
route_version(kl_http_req *req, const kl_route_match *m, void *payload)
{
    agent_ctx *a = payload;
    json_t *all = json_array();
    agent_reply r;

    (void)m;
    agent_reply_init(&r);
    for (size_t i = 0; all && i < a->versions.n; i++)
        json_array_append_new(all, json_string(a->versions.items[i]));
    agent_reply_set(&r, 200, "Success");
    r.results = json_pack("{s:s,s:o*}", "supported_version", a->versions.items[a->versions.n - 1],
                          "supported_versions", all);
    reply_send(req, &r);
}

static void
route_info(kl_http_req *req, const kl_route_match *m, void *payload)
{
    agent_ctx *a = payload;
    agent_reply r;

    (void)m;
    agent_reply_init(&r);
    agent_reply_set(&r, 200, "Success");
    r.results = json_pack("{s:s,s:s,s:s,s:s,s:I}", "agent_uuid", a->uuid, "tpm_hash_alg",
                          kl_hash_name(a->hash), "tpm_enc_alg", a->enc_name, "tpm_sign_alg",
                          a->sign_name, "ak_handle",
                          (json_int_t)kl_tpmdev_key_persistent_handle(a->ak));
    reply_send(req, &r);
}

static void
route_pubkey(kl_http_req *req, const kl_route_match *m, void *payload)
{
    agent_ctx *a = payload;
    agent_reply r;

    (void)m;
    agent_reply_init(&r);
    agent_reply_set(&r, 200, "Success");
    r.results = json_pack("{s:s%}", "pubkey", (const char *)a->nk_pem.ptr, a->nk_pem.len);
    reply_send(req, &r);
}

static void
quote_args(kl_http_req *req, const kl_route_match *m, agent_quote_args *q)
{
    q->nonce = kl_http_req_query(req, "nonce");
    q->mask = kl_http_req_query(req, "mask");
    q->partial = kl_http_req_query(req, "partial");
    q->ima_ml_entry = kl_http_req_query(req, "ima_ml_entry");
    q->version = m->version;
}

static void
route_identity(kl_http_req *req, const kl_route_match *m, void *payload)
{
    agent_quote_args q;
    agent_reply r;

    agent_reply_init(&r);
    quote_args(req, m, &q);
    agent_quote_identity(payload, &q, &r);
    reply_send(req, &r);
}

static void
route_integrity(kl_http_req *req, const kl_route_match *m, void *payload)
{
    agent_quote_args q;
    agent_reply r;

    agent_reply_init(&r);
    quote_args(req, m, &q);
    agent_quote_integrity(payload, &q, &r);
    reply_send(req, &r);
}

#define BODY_ROUTE(name, fn)                                                                       \
    static void name(kl_http_req *req, const kl_route_match *m, void *payload)                     \
    {                                                                                              \
        agent_reply r;                                                                             \
        (void)m;                                                                                   \
        agent_reply_init(&r);                                                                      \
        fn(payload, kl_http_req_body(req), &r);                                                    \
        reply_send(req, &r);                                                                             \
    }
BODY_ROUTE(route_ukey, agent_ukey)
BODY_ROUTE(route_vkey, agent_vkey)
BODY_ROUTE(route_revocation, agent_revocation)

static void
route_verify(kl_http_req *req, const kl_route_match *m, void *payload)
{
    agent_reply r;

    (void)m;
    agent_reply_init(&r);
    agent_verify(payload, kl_http_req_query(req, "challenge"), &r);
    reply_send(req, &r);
}

static const kl_route agent_routes[] = {
    {KL_HTTP_GET, "version", false, route_version, 0},
    {KL_HTTP_GET, "agent/info", true, route_info, 0},
    {KL_HTTP_GET, "keys/pubkey", true, route_pubkey, 0},
    {KL_HTTP_GET, "quotes/identity", true, route_identity, 0},
    {KL_HTTP_GET, "quotes/integrity", true, route_integrity, 0},
    {KL_HTTP_POST, "keys/ukey", true, route_ukey, 0},
    {KL_HTTP_POST, "keys/vkey", true, route_vkey, 0},
    {KL_HTTP_GET, "keys/verify", true, route_verify, 0},
    {KL_HTTP_POST, "notifications/revocation", true, route_revocation, 0},
};

const kl_router agent_router_template = {
    KL_ROUTER_AGENT, NULL, 0, agent_routes, sizeof(agent_routes) / sizeof(agent_routes[0]),
};
