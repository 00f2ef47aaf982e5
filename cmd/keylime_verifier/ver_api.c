/* ver_api: the verifier's REST API v2 (PROTOCOL.md section 2.3): routes,
 * /version, and the /agents handlers (list, bulk, show, add, delete,
 * reactivate, stop). Admin routes need a client certificate from
 * trusted_client_ca (the router answers 403 otherwise). */
#define KL_LOGMODULE "verifier"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json/json.h"
#include "util/kl_agent_id.h"
#include "util/kl_log.h"
#include "verifier.h"

void
ver_reply_set(ver_reply *r, int code, const char *fmt, ...)
{
    va_list ap;

    r->code = code;
    va_start(ap, fmt);
    vsnprintf(r->buf, sizeof(r->buf), fmt, ap);
    va_end(ap);
    r->status = r->buf;
}

void
ver_reply_send(kl_http_req *req, ver_reply *r)
{
    if (r->empty_body) {
        json_decref(r->results);
        kl_http_reply(req, r->code, "application/json", (kl_bytes){NULL, 0});
    } else {
        kl_http_reply_json(req, r->code, r->status ? r->status : kl_http_reason(r->code),
                           r->results);
    }
    r->results = NULL;
}

json_t *
ver_body_object(kl_http_req *req, ver_reply *r)
{
    kl_bytes body = kl_http_req_body(req);
    json_t *j = NULL;

    if (body.len == 0) {
        ver_reply_set(r, 400, "Expected non zero content length");
        return NULL;
    }
    if (kl_json_parse(body, "request body", &j) != KL_OK) {
        ver_reply_set(r, 400, "Exception error: %s", kl_err_msg());
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        ver_reply_set(r, 400, "Exception error: the body must be a JSON object");
        return NULL;
    }
    return j;
}

void
ver_api_version(kl_http_req *req, const kl_route_match *m, void *payload)
{
    json_t *v = json_pack("[sssssss]", "2.0", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6");

    (void)m;
    (void)payload;
    kl_http_reply_json(req, 200, "Success",
                       json_pack("{s:s,s:o*}", "current_version", "2.6", "supported_versions", v));
}

/* The id in the path: upstream's validators.valid_agent_id. */
static bool
valid_id(const char *id, ver_reply *r)
{
    if (kl_agent_id_valid(id))
        return true;
    ver_reply_set(r, 400, "agent_id not not valid"); /* sic, upstream's text */
    return false;
}

/* --------------------------------------------------------------- reads */

typedef struct {
    json_t *out;
    const char *verifier_id; /* NULL: all */
} bulk_list;

static void
add_status(ver_agent *a, void *arg)
{
    bulk_list *b = arg;

    if (!b->verifier_id || (a->verifier_id && !strcmp(a->verifier_id, b->verifier_id)))
        json_object_set_new(b->out, a->id, ver_agent_status(a->ctx, a));
}

static void
route_list(kl_http_req *req, const kl_route_match *m, void *payload)
{
    ver_ctx *ctx = payload;
    const char *vid = kl_http_req_query(req, "verifier");
    ver_reply r = {0};
    json_t *ids = NULL;
    bulk_list bulk = {NULL, NULL};

    (void)m;
    if (vid && !vid[0])
        vid = NULL;
    ver_store_flush(ctx);
    if (kl_http_req_query(req, "bulk")) {
        /* agents of other verifiers (shared database) are not polled
         * here; bulk lists the ones this verifier holds */
        bulk.out = json_object();
        bulk.verifier_id = vid;
        ver_table_each(&ctx->agents, add_status, &bulk);
        ver_reply_set(&r, 200, "Success");
        r.results = bulk.out;
    } else if (ver_store_agent_ids(ctx, vid, &ids) != KL_OK) {
        LOG_ERR("listing agents: %s", kl_err_msg());
        ver_reply_set(&r, 500, "Internal Server Error");
    } else {
        ver_reply_set(&r, 200, "Success");
        r.results = json_pack("{s:o}", "uuids", ids);
    }
    ver_reply_send(req, &r);
}

static void
route_show(kl_http_req *req, const kl_route_match *m, void *payload)
{
    ver_ctx *ctx = payload;
    ver_agent *a;
    ver_reply r = {0};

    if (valid_id(m->args[0], &r)) {
        a = ver_table_get(&ctx->agents, m->args[0]);
        if (!a) {
            ver_reply_set(&r, 404, "agent id not found");
        } else {
            ver_reply_set(&r, 200, "Success");
            r.results = ver_agent_status(ctx, a);
        }
    }
    ver_reply_send(req, &r);
}

/* ---------------------------------------------------------------- add */

static void
route_add(kl_http_req *req, const kl_route_match *m, void *payload)
{
    ver_ctx *ctx = payload;
    ver_reply r = {0};
    ver_agent *a = NULL;
    json_t *body;

    if (!valid_id(m->args[0], &r) || !(body = ver_body_object(req, &r))) {
        ver_reply_send(req, &r);
        return;
    }
    ver_agent_from_post(ctx, m->args[0], body, &a, &r);
    json_decref(body);
    if (a && ver_table_put(&ctx->agents, a) != KL_OK) {
        ver_reply_set(&r, 500, "out of memory");
        ver_agent_free(a);
        a = NULL;
    }
    if (a) {
        kl_http_client_set_max_idle(ctx->http, (long)ctx->agents.count + 1024);
        LOG_INFO("agent %s added (%s:%lld, API %s, runtime policy %s); polling starts", a->id,
                 a->ip, (long long)a->port, a->supported_version, a->rt->name);
        ver_poll_start(ctx, a);
        ver_reply_set(&r, 200, "Success");
    } else if (r.code == 500) {
        LOG_ERR("adding agent %s: %s", m->args[0], r.status);
    }
    ver_reply_send(req, &r);
}

/* ------------------------------------------------------------- delete */

static void
delete_now(ver_ctx *ctx, ver_agent *a, ver_reply *r)
{
    if (ver_store_delete_agent(ctx, a->id) != KL_OK) {
        LOG_ERR("deleting agent %s: %s", a->id, kl_err_msg());
        ver_reply_set(r, 500, "Internal Server Error");
        return;
    }
    ver_poll_stop(ctx, a);
    ver_table_remove(&ctx->agents, a);
    if (a->dirty)
        ctx->n_dirty--;
    LOG_INFO("agent %s deleted", a->id);
    ver_agent_free(a);
    ver_reply_set(r, 200, "Success");
}

static void
route_delete(kl_http_req *req, const kl_route_match *m, void *payload)
{
    ver_ctx *ctx = payload;
    ver_reply r = {0};
    ver_agent *a;
    bool exists = false;

    if (!valid_id(m->args[0], &r))
        goto out;
    a = ver_table_get(&ctx->agents, m->args[0]);
    if (!a) {
        if (ver_store_count_agent(ctx, m->args[0], &exists) == KL_OK && exists)
            ver_reply_set(&r, 404, "agent id associated to this verifier");
        else
            ver_reply_set(&r, 404, "agent id not found");
        goto out;
    }
    if (a->state == VER_TERMINATED) {
        ver_reply_set(&r, 202, "Accepted");
    } else if (!ver_poll_busy(a) || a->state == VER_SAVED || a->state == VER_FAILED ||
               a->state == VER_TENANT_FAILED || a->state == VER_INVALID_QUOTE) {
        delete_now(ctx, a, &r); /* idle: no request of its own in flight */
    } else {
        /* a request is in flight: its answer completes the deletion */
        a->state = VER_TERMINATED;
        ver_store_dirty(ctx, a);
        ver_reply_set(&r, 202, "Accepted");
    }
out:
    ver_reply_send(req, &r);
}

/* ---------------------------------------------------- reactivate, stop */

static ver_agent *
put_target(ver_ctx *ctx, const kl_route_match *m, ver_reply *r)
{
    ver_agent *a = NULL;

    if (valid_id(m->args[0], r)) {
        a = ver_table_get(&ctx->agents, m->args[0]);
        if (!a)
            ver_reply_set(r, 404, "agent id not found");
        else if (a->state == VER_TERMINATED) {
            ver_reply_set(r, 409, "agent %s is being deleted", a->id);
            a = NULL;
        }
    }
    return a;
}

static void
route_reactivate(kl_http_req *req, const kl_route_match *m, void *payload)
{
    ver_ctx *ctx = payload;
    ver_reply r = {0};
    ver_agent *a = put_target(ctx, m, &r);

    if (a) {
        /* a fresh start: the severity of the last failure no longer
         * holds back the next one (upstream keeps it, so that a repeat of
         * the same failure would stop polling without changing the state) */
        a->severity = -1;
        ver_poll_start(ctx, a);
        LOG_INFO("agent %s reactivated", a->id);
        ver_reply_set(&r, 200, "Success");
    }
    ver_reply_send(req, &r);
}

static void
route_stop(kl_http_req *req, const kl_route_match *m, void *payload)
{
    ver_ctx *ctx = payload;
    ver_reply r = {0};
    ver_agent *a = put_target(ctx, m, &r);

    if (a) {
        ver_poll_stop(ctx, a);
        a->state = VER_TENANT_FAILED;
        ver_store_dirty(ctx, a);
        LOG_INFO("agent %s stopped by the tenant", a->id);
        ver_reply_set(&r, 200, "Success");
    }
    ver_reply_send(req, &r);
}

/* -------------------------------------------------------------- routes */

static const kl_route ver_routes[] = {
    {KL_HTTP_GET, "version", false, ver_api_version, 0},
    {KL_HTTP_GET, "versions", false, ver_api_version, 0},
    {KL_HTTP_GET, "agents action=list_agents", true, route_list, KL_ROUTE_ADMIN},
    {KL_HTTP_GET, "agents/* action=read_agent", true, route_show, KL_ROUTE_ADMIN},
    {KL_HTTP_POST, "agents/* action=create_agent", true, route_add, KL_ROUTE_ADMIN},
    {KL_HTTP_DELETE, "agents/* action=delete_agent", true, route_delete, KL_ROUTE_ADMIN},
    {KL_HTTP_PUT, "agents/*/reactivate action=reactivate_agent", true, route_reactivate,
     KL_ROUTE_ADMIN},
    {KL_HTTP_PUT, "agents/*/stop action=stop_agent", true, route_stop, KL_ROUTE_ADMIN},
    {KL_HTTP_GET, "allowlists action=list_runtime_policies", true, ver_api_allowlists,
     KL_ROUTE_ADMIN},
    {KL_HTTP_GET, "allowlists/* action=read_runtime_policy", true, ver_api_allowlists,
     KL_ROUTE_ADMIN},
    {KL_HTTP_POST, "allowlists/* action=create_runtime_policy", true, ver_api_allowlists,
     KL_ROUTE_ADMIN},
    {KL_HTTP_PUT, "allowlists/* action=update_runtime_policy", true, ver_api_allowlists,
     KL_ROUTE_ADMIN},
    {KL_HTTP_DELETE, "allowlists/* action=delete_runtime_policy", true, ver_api_allowlists,
     KL_ROUTE_ADMIN},
    {KL_HTTP_GET, "mbpolicies action=list_mb_policies", true, ver_api_mbpolicies,
     KL_ROUTE_ADMIN},
    {KL_HTTP_GET, "mbpolicies/* action=read_mb_policy", true, ver_api_mbpolicies,
     KL_ROUTE_ADMIN},
    {KL_HTTP_POST, "mbpolicies/* action=create_mb_policy", true, ver_api_mbpolicies,
     KL_ROUTE_ADMIN},
    {KL_HTTP_PUT, "mbpolicies/* action=update_mb_policy", true, ver_api_mbpolicies,
     KL_ROUTE_ADMIN},
    {KL_HTTP_DELETE, "mbpolicies/* action=delete_mb_policy", true, ver_api_mbpolicies,
     KL_ROUTE_ADMIN},
    {KL_HTTP_GET, "verify/identity", true, ver_api_verify_identity, 0},
    {KL_HTTP_POST, "verify/evidence", true, ver_api_verify_evidence, 0},
};

static const char *const ver_versions[] = {"2.0", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6"};

const kl_router ver_router = {
    KL_ROUTER_PY, ver_versions, sizeof(ver_versions) / sizeof(ver_versions[0]),
    ver_routes,   sizeof(ver_routes) / sizeof(ver_routes[0]),
};
