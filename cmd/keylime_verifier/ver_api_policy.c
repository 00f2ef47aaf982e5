/* ver_api_policy: named runtime policies (/allowlists) and measured-boot
 * policies (/mbpolicies), with upstream's answers: POST 201 or 409 when the
 * name exists, PUT 201 or 404 (runtime) / 409 (measured boot) when it does
 * not, DELETE 204 (empty body) or 409 while an agent uses it, GET the list
 * of names or one policy. */
#define KL_LOGMODULE "verifier"

#include <string.h>

#include "util/kl_alloc.h"
#include "util/kl_b64.h"
#include "util/kl_log.h"
#include "verifier.h"

static void
db_error(ver_reply *r, const char *what)
{
    LOG_ERR("%s: %s", what, kl_err_msg());
    ver_reply_set(r, 500, "Internal Server Error");
}

/* GET /allowlists or /mbpolicies: the names. */
static void
list_names(ver_ctx *ctx, const char *sql, const char *key, ver_reply *r)
{
    kl_db_rows *rows = NULL;
    json_t *names = json_array();

    if (!names || kl_db_query(ctx->db, &rows, sql, NULL, 0) != KL_OK) {
        json_decref(names);
        db_error(r, "listing policies");
        return;
    }
    for (size_t i = 0; i < kl_db_rows_count(rows); i++)
        json_array_append_new(names, json_string(kl_db_rows_get(rows, i, 0)));
    kl_db_rows_free(rows);
    ver_reply_set(r, 200, "Success");
    r->results = json_pack("{s:o}", key, names);
}

/* In use by an agent? Then 409 with upstream's text. */
static bool
in_use(ver_ctx *ctx, const char *column, const char *name, const char *what, ver_reply *r)
{
    char *user = NULL;

    if (ver_policy_user(ctx, column, name, &user) != KL_OK) {
        db_error(r, "checking policy users");
        return true;
    }
    if (user)
        ver_reply_set(r, 409, "Can't delete %s as it's currently in use by agent %s", what, user);
    kl_free(user);
    return user != NULL;
}

/* ------------------------------------------------------------ runtime */

static void
rt_show(ver_ctx *ctx, const char *name, ver_reply *r)
{
    kl_db_val v[] = {KL_DB_S(name)};
    kl_db_rows *rows = NULL;
    const char *text;

    if (kl_db_query(ctx->db, &rows, "SELECT ima_policy FROM allowlists WHERE name = ?", v, 1) !=
        KL_OK) {
        db_error(r, "reading a runtime policy");
        return;
    }
    if (kl_db_rows_count(rows) == 0) {
        ver_reply_set(r, 404, "Runtime policy %s not found", name);
    } else {
        text = kl_db_rows_get(rows, 0, 0);
        ver_reply_set(r, 200, "Success");
        /* "tmp_policy" (sic) is upstream's key; it is always null */
        r->results = json_pack("{s:s, s:n, s:o}", "name", name, "tmp_policy", "runtime_policy",
                               text ? json_string(text) : json_null());
    }
    kl_db_rows_free(rows);
}

static void
rt_delete(ver_ctx *ctx, const char *name, ver_reply *r)
{
    ver_rtpolicy *p = NULL;

    if (ver_rtpolicy_find(ctx, name, &p) != KL_OK) {
        db_error(r, "reading a runtime policy");
        return;
    }
    if (!p) {
        ver_reply_set(r, 404, "Runtime policy %s not found", name);
        return;
    }
    if (in_use(ctx, "ima_policy", name, "allowlist", r))
        return;
    if (ver_rtpolicy_delete(ctx, p) != KL_OK) {
        db_error(r, "deleting a runtime policy");
        return;
    }
    LOG_INFO("runtime policy %s deleted", name);
    ver_reply_set(r, 204, "No Content");
    r->empty_body = true;
}

static void
rt_store(ver_ctx *ctx, kl_http_req *req, const char *name, bool update, ver_reply *r)
{
    json_t *b = ver_body_object(req, r);
    const char *text_b64 = json_string_value(json_object_get(b, "runtime_policy"));
    const char *tpm_policy = json_string_value(json_object_get(b, "tpm_policy"));
    ver_rtpolicy *p = NULL;
    char checksum[65];
    int64_t generator;
    kl_buf text;

    kl_buf_init(&text, (size_t)ctx->cfg->max_upload_size);
    if (!b)
        goto out;
    if (!text_b64 || kl_b64_decode_append(&text, KL_BYTES_CSTR(text_b64), false) != KL_OK) {
        ver_reply_set(r, 400, "Exception error: runtime_policy must be base64 of a runtime "
                              "policy");
        goto out;
    }
    if (!ver_rtpolicy_validate(ctx, kl_buf_bytes(&text),
                               json_string_value(json_object_get(b, "runtime_policy_key")),
                               checksum, &generator, r))
        goto out;
    if (ver_rtpolicy_find(ctx, name, &p) != KL_OK) {
        db_error(r, "reading a runtime policy");
        goto out;
    }
    if (!update && p) {
        ver_reply_set(r, 409, "Runtime policy with name %s already exists", name);
        goto out;
    }
    if (update && !p) {
        ver_reply_set(r, 404, "Runtime policy with name %s does not already exist, use POST to "
                              "create", name);
        goto out;
    }
    if (ver_rtpolicy_store(ctx, name, kl_buf_bytes(&text), tpm_policy, checksum, generator,
                           update, NULL) != KL_OK) {
        db_error(r, "storing a runtime policy");
        goto out;
    }
    LOG_INFO("runtime policy %s %s (sha256 %s)", name, update ? "updated" : "added", checksum);
    ver_reply_set(r, 201, "Created");
out:
    json_decref(b);
    kl_buf_free(&text);
}

void
ver_api_allowlists(kl_http_req *req, const kl_route_match *m, void *payload)
{
    ver_ctx *ctx = payload;
    const char *name = m->n_args ? m->args[0] : NULL;
    ver_reply r = {0};

    ver_store_flush(ctx);
    switch (kl_http_req_method(req)) {
    case KL_HTTP_GET:
        if (name)
            rt_show(ctx, name, &r);
        else
            list_names(ctx, "SELECT name FROM allowlists ORDER BY name", "runtimepolicy names",
                       &r);
        break;
    case KL_HTTP_DELETE: rt_delete(ctx, name, &r); break;
    case KL_HTTP_POST: rt_store(ctx, req, name, false, &r); break;
    default: rt_store(ctx, req, name, true, &r); break;
    }
    ver_reply_send(req, &r);
}

/* ------------------------------------------------------- measured boot */

static void
mb_show(ver_ctx *ctx, const char *name, ver_reply *r)
{
    ver_mbpolicy *p = NULL;

    if (ver_mbpolicy_find(ctx, name, &p) != KL_OK) {
        db_error(r, "reading a measured boot policy");
        return;
    }
    if (!p) {
        ver_reply_set(r, 404, "Measured boot policy %s not found", name);
        return;
    }
    ver_reply_set(r, 200, "Success");
    r->results = json_pack("{s:s, s:o}", "name", name, "mb_policy",
                           p->text ? json_string(p->text) : json_null());
}

static void
mb_delete(ver_ctx *ctx, const char *name, ver_reply *r)
{
    ver_mbpolicy *p = NULL;

    if (ver_mbpolicy_find(ctx, name, &p) != KL_OK) {
        db_error(r, "reading a measured boot policy");
        return;
    }
    if (!p) {
        ver_reply_set(r, 404, "Measured boot policy %s not found", name);
        return;
    }
    if (in_use(ctx, "mb_policy", name, "mb_policy", r))
        return;
    if (ver_mbpolicy_delete(ctx, p) != KL_OK) {
        db_error(r, "deleting a measured boot policy");
        return;
    }
    LOG_INFO("measured boot policy %s deleted", name);
    ver_reply_set(r, 204, "No Content");
    r->empty_body = true;
}

static void
mb_store(ver_ctx *ctx, kl_http_req *req, const char *name, bool update, ver_reply *r)
{
    json_t *b = ver_body_object(req, r), *text;
    ver_mbpolicy *p = NULL;

    if (!b)
        return;
    text = json_object_get(b, "mb_policy");
    if (text && !json_is_null(text) && !json_is_string(text)) {
        ver_reply_set(r, 400, "Exception error: mb_policy must be JSON text or null");
    } else if (ver_mbpolicy_find(ctx, name, &p) != KL_OK) {
        db_error(r, "reading a measured boot policy");
    } else if (!update && p) {
        ver_reply_set(r, 409, "Measured boot policy with name %s already exists", name);
    } else if (update && !p) {
        ver_reply_set(r, 409, "Measured boot policy with name %s does not already exist", name);
    } else if (ver_mbpolicy_store(ctx, name, json_string_value(text), update, NULL) != KL_OK) {
        db_error(r, "storing a measured boot policy");
    } else {
        LOG_INFO("measured boot policy %s %s", name, update ? "updated" : "added");
        ver_reply_set(r, 201, "Created");
    }
    json_decref(b);
}

void
ver_api_mbpolicies(kl_http_req *req, const kl_route_match *m, void *payload)
{
    ver_ctx *ctx = payload;
    const char *name = m->n_args ? m->args[0] : NULL;
    ver_reply r = {0};

    ver_store_flush(ctx);
    switch (kl_http_req_method(req)) {
    case KL_HTTP_GET:
        if (name)
            mb_show(ctx, name, &r);
        else
            list_names(ctx, "SELECT name FROM mbpolicies ORDER BY name", "mbpolicy names", &r);
        break;
    case KL_HTTP_DELETE: mb_delete(ctx, name, &r); break;
    case KL_HTTP_POST: mb_store(ctx, req, name, false, &r); break;
    default: mb_store(ctx, req, name, true, &r); break;
    }
    ver_reply_send(req, &r);
}
