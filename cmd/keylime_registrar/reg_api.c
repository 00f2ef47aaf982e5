/* reg_api: the registrar's REST API (PROTOCOL.md section 2.2): routes,
 * activation, reading, listing and deleting agents, /version. */
#define KL_LOGMODULE "registrar"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json/json.h"
#include "registrar.h"
#include "tpm/makecred.h"
#include "util/kl_log.h"

void
reg_reply_set(reg_reply *r, int code, const char *fmt, ...)
{
    va_list ap;

    r->code = code;
    va_start(ap, fmt);
    vsnprintf(r->buf, sizeof(r->buf), fmt, ap);
    va_end(ap);
    r->status = r->buf;
}

void
reg_version(reg_reply *out)
{
    json_t *versions = json_pack("[sssssss]", "2.0", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6");

    reg_reply_set(out, 200, "Success");
    out->results = json_pack("{s:s,s:o*}", "current_version", "2.6", "supported_versions",
                             versions);
}

static bool
lookup(reg_ctx *ctx, const char *agent_id, reg_record *rec, reg_reply *out)
{
    bool found = false;

    if (reg_store_get(ctx->db, agent_id, rec, &found) != KL_OK) {
        LOG_ERR("reading agent '%s': %s", agent_id, kl_err_msg());
        reg_reply_set(out, 500, "Internal Server Error");
        return false;
    }
    if (!found)
        reg_reply_set(out, 404, "Agent with ID '%s' not found", agent_id);
    return found;
}

static const char *
auth_tag_of(kl_bytes body, json_t **doc)
{
    json_t *v;

    if (kl_json_parse(body, "request body", doc) != KL_OK)
        return NULL;
    v = json_object_get(*doc, "auth_tag");
    return json_is_string(v) ? json_string_value(v) : NULL;
}

void
reg_activate(reg_ctx *ctx, const char *agent_id, kl_bytes body, reg_reply *out)
{
    json_t *doc = NULL;
    const char *tag = auth_tag_of(body, &doc);
    reg_record rec = {0};
    bool ok = false, found;

    if (!tag) {
        reg_reply_set(out, 400, doc ? "Bad Request" : "Malformed Request Parameter");
        goto out;
    }
    if (!lookup(ctx, agent_id, &rec, out))
        goto out;
    if (!rec.key || kl_makecred_check_auth_tag(&ok, KL_BYTES_CSTR(rec.key),
                                               KL_BYTES_CSTR(agent_id), KL_BYTES_CSTR(tag)) != KL_OK)
        ok = false;
    if (ok && reg_store_set_active(ctx->db, agent_id) == KL_OK) {
        LOG_INFO("agent '%s' activated: its AK is bound to its EK", agent_id);
        reg_reply_set(out, 200, "Success");
        goto out;
    }
    if (ok) {
        LOG_ERR("activating agent '%s': %s", agent_id, kl_err_msg());
        reg_reply_set(out, 500, "Internal Server Error");
        goto out;
    }
    if (reg_store_delete(ctx->db, agent_id, &found) != KL_OK)
        LOG_ERR("deleting agent '%s': %s", agent_id, kl_err_msg());
    LOG_WARN("agent '%s' answered the credential challenge wrongly; its record was deleted",
             agent_id);
    reg_reply_set(out, 400, "Auth tag '%.128s' for agent '%s' does not match expected value. The "
                            "agent has been deleted from the database and will need to be "
                            "restarted to reattempt registration", tag, agent_id);
out:
    reg_record_free(&rec);
    json_decref(doc);
}

void
reg_show(reg_ctx *ctx, const char *agent_id, reg_reply *out)
{
    reg_record rec = {0};

    if (!lookup(ctx, agent_id, &rec, out))
        goto out;
    if (!rec.active) {
        reg_reply_set(out, 404, "Agent with ID '%s' has not been activated", agent_id);
        goto out;
    }
    reg_reply_set(out, 200, "Success");
    out->results = json_pack("{s:s,s:s?,s:s?,s:s?,s:s?,s:s?,s:o,s:I}", "agent_id", rec.agent_id,
                             "ek_tpm", rec.ek_tpm, "ekcert", rec.ekcert, "aik_tpm", rec.aik_tpm,
                             "mtls_cert", rec.mtls_cert, "ip", rec.ip, "port",
                             rec.port >= 0 ? json_integer(rec.port) : json_null(), "regcount",
                             (json_int_t)rec.regcount);
    if (!out->results)
        reg_reply_set(out, 500, "Internal Server Error");
out:
    reg_record_free(&rec);
}

void
reg_list(reg_ctx *ctx, reg_reply *out)
{
    json_t *ids = NULL;

    if (reg_store_ids(ctx->db, &ids) != KL_OK) {
        LOG_ERR("listing agents: %s", kl_err_msg());
        reg_reply_set(out, 500, "Internal Server Error");
        return;
    }
    reg_reply_set(out, 200, "Success");
    out->results = json_pack("{s:o}", "uuids", ids);
}

void
reg_delete(reg_ctx *ctx, const char *agent_id, reg_reply *out)
{
    bool found = false;

    if (reg_store_delete(ctx->db, agent_id, &found) != KL_OK) {
        LOG_ERR("deleting agent '%s': %s", agent_id, kl_err_msg());
        reg_reply_set(out, 500, "Internal Server Error");
    } else if (!found) {
        reg_reply_set(out, 404, "Agent with ID '%s' not found", agent_id);
    } else {
        LOG_INFO("agent '%s' deleted", agent_id);
        reg_reply_set(out, 200, "Success");
    }
}

/* --- HTTP glue --- */

static void
reply_send(kl_http_req *req, reg_reply *r)
{
    kl_http_reply_json(req, r->code, r->status, r->results);
    r->results = NULL;
}

static void
route_version(kl_http_req *req, const kl_route_match *m, void *payload)
{
    reg_reply r = {0};

    (void)m;
    (void)payload;
    reg_version(&r);
    reply_send(req, &r);
}

static void
route_list(kl_http_req *req, const kl_route_match *m, void *payload)
{
    reg_reply r = {0};

    (void)m;
    reg_list(payload, &r);
    reply_send(req, &r);
}

static void
route_show(kl_http_req *req, const kl_route_match *m, void *payload)
{
    reg_reply r = {0};

    reg_show(payload, m->args[0], &r);
    reply_send(req, &r);
}

static void
route_delete(kl_http_req *req, const kl_route_match *m, void *payload)
{
    reg_reply r = {0};

    reg_delete(payload, m->args[0], &r);
    reply_send(req, &r);
}

static void
route_register(kl_http_req *req, const kl_route_match *m, void *payload)
{
    reg_reply r = {0};

    reg_register(payload, m->n_args ? m->args[0] : NULL, kl_http_req_body(req), &r);
    reply_send(req, &r);
}

static void
route_activate(kl_http_req *req, const kl_route_match *m, void *payload)
{
    reg_reply r = {0};

    reg_activate(payload, m->args[0], kl_http_req_body(req), &r);
    reply_send(req, &r);
}

static const kl_route reg_routes[] = {
    {KL_HTTP_GET, "version", false, route_version, 0},
    {KL_HTTP_GET, "agents action=list_registrations", true, route_list, KL_ROUTE_ADMIN},
    {KL_HTTP_GET, "agents/* action=read_registration", true, route_show, KL_ROUTE_ADMIN},
    {KL_HTTP_DELETE, "agents/* action=delete_registration", true, route_delete,
     KL_ROUTE_ADMIN},
    {KL_HTTP_POST, "agents", true, route_register, 0},
    {KL_HTTP_POST, "agents/*", true, route_register, 0},
    {KL_HTTP_POST, "agents/*/activate", true, route_activate, 0},
    {KL_HTTP_PUT, "agents/*/activate", true, route_activate, 0},
    {KL_HTTP_PUT, "agents/*", true, route_activate, 0},
};

static const char *const reg_versions[] = {"2.0", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6"};

const kl_router reg_router = {
    KL_ROUTER_PY, reg_versions, sizeof(reg_versions) / sizeof(reg_versions[0]),
    reg_routes,   sizeof(reg_routes) / sizeof(reg_routes[0]),
};
