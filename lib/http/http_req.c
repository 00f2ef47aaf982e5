/* http_req: what a handler reads from a request, and its answer.
 *
 * The envelope follows PROTOCOL.md section 1.4 and is written the way
 * Python's json.dumps writes it (", " and ": "), as upstream's Python
 * servers do; JSON clients (including the Rust agent's serde) read it the
 * same as the Rust agent's compact form.
 */
#define KL_LOGMODULE "http"
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "http/http_int.h"
#include "json/json.h"
#include "tls/tls.h"
#include "util/kl_alloc.h"
#include "util/kl_hex.h"
#include "util/kl_log.h"

/* Percent-decodes a path; "%00" and broken escapes are kept as written. */
static char *
decode_path(const char *raw)
{
    size_t n = strlen(raw), j = 0;
    char *out = kl_malloc(n + 1);

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (raw[i] == '%' && i + 2 < n && (hi = kl_hex_digit((uint8_t)raw[i + 1])) >= 0 &&
            (lo = kl_hex_digit((uint8_t)raw[i + 2])) >= 0 && (hi | lo) != 0) {
            out[j++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[j++] = raw[i];
        }
    }
    out[j] = '\0';
    return out;
}

kl_http_req *
kl_http_req_create(struct evhttp_request *ev, kl_http_conn *conn)
{
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(ev);
    const char *raw = uri ? evhttp_uri_get_path(uri) : NULL;
    struct evhttp_connection *evcon = evhttp_request_get_connection(ev);
    kl_http_req *req = kl_calloc(1, sizeof(*req));
    char *addr = NULL;
    ev_uint16_t port = 0;

    if (req == NULL)
        return NULL;
    req->ev = ev;
    req->conn = conn;
    req->path = decode_path(raw && raw[0] ? raw : "/");
    if (req->path == NULL) {
        kl_free(req);
        return NULL;
    }
    if (evcon != NULL)
        evhttp_connection_get_peer(evcon, &addr, &port);
    snprintf(req->peer, sizeof(req->peer), "%s:%u", addr ? addr : "?", (unsigned)port);
    return req;
}

void
kl_http_req_destroy(kl_http_req *req)
{
    if (req == NULL)
        return;
    if (req->query != NULL) {
        evhttp_clear_headers(req->query);
        kl_free(req->query);
    }
    kl_free(req->path);
    kl_free(req);
}

kl_http_method
kl_http_req_method(const kl_http_req *req)
{
    switch (evhttp_request_get_command(req->ev)) {
    case EVHTTP_REQ_GET: return KL_HTTP_GET;
    case EVHTTP_REQ_POST: return KL_HTTP_POST;
    case EVHTTP_REQ_PUT: return KL_HTTP_PUT;
    case EVHTTP_REQ_DELETE: return KL_HTTP_DELETE;
    case EVHTTP_REQ_PATCH: return KL_HTTP_PATCH;
    case EVHTTP_REQ_HEAD: return KL_HTTP_HEAD;
    default: return KL_HTTP_OTHER;
    }
}

const char *
kl_http_req_method_name(const kl_http_req *req)
{
    static const char *const names[] = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"};
    kl_http_method m = kl_http_req_method(req);

    if (evhttp_request_get_command(req->ev) == EVHTTP_REQ_OPTIONS)
        return "OPTIONS";
    return m < KL_HTTP_OTHER ? names[m] : "OTHER";
}

const char *
kl_http_req_path(const kl_http_req *req)
{
    return req->path;
}

const char *
kl_http_req_query(const kl_http_req *req, const char *name)
{
    kl_http_req *r = (kl_http_req *)(uintptr_t)req; /* parsed lazily */
    const struct evhttp_uri *uri;
    const char *q;

    if (!r->query_done) {
        r->query_done = true;
        uri = evhttp_request_get_evhttp_uri(r->ev);
        q = uri ? evhttp_uri_get_query(uri) : NULL;
        r->query = q ? kl_calloc(1, sizeof(*r->query)) : NULL;
        if (r->query != NULL) {
            TAILQ_INIT(r->query);
            if (evhttp_parse_query_str(q, r->query) != 0)
                LOG_DEBUG("malformed query string from %s", r->peer);
        }
    }
    return r->query ? evhttp_find_header(r->query, name) : NULL;
}

const char *
kl_http_req_header(const kl_http_req *req, const char *name)
{
    return evhttp_find_header(evhttp_request_get_input_headers(req->ev), name);
}

kl_bytes
kl_http_req_body(const kl_http_req *req)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req->ev);
    size_t n = evbuffer_get_length(in);

    if (n == 0)
        return KL_BYTES(NULL, 0);
    return KL_BYTES(evbuffer_pullup(in, -1), n);
}

bool
kl_http_req_is_tls(const kl_http_req *req)
{
    return kl_http_conn_ssl(req->conn) != NULL;
}

X509 *
kl_http_req_peer_cert(const kl_http_req *req)
{
    return kl_tls_verified_peer(kl_http_conn_ssl(req->conn));
}

const char *
kl_http_req_peer(const kl_http_req *req)
{
    return req->peer;
}

void
kl_http_req_on_close(kl_http_req *req, void (*cb)(void *payload), void *payload)
{
    req->on_close = cb;
    req->on_close_payload = payload;
}

/* --- answers --- */

void
kl_http_reply_header(kl_http_req *req, const char *name, const char *value)
{
    evhttp_add_header(evhttp_request_get_output_headers(req->ev), name, value);
}

void
kl_http_reply(kl_http_req *req, int code, const char *content_type, kl_bytes body)
{
    struct evbuffer *out = evbuffer_new();
    struct evkeyvalq *h = evhttp_request_get_output_headers(req->ev);
    struct evhttp_request *ev = req->ev;

    if (content_type != NULL && body.len > 0)
        evhttp_add_header(h, "Content-Type", content_type);
    if (out != NULL && body.len > 0 && evbuffer_add(out, body.ptr, body.len) != 0) {
        evbuffer_free(out);
        out = NULL;
    }
    LOG_DEBUG("%s %s from %s: %d", kl_http_req_method_name(req), req->path, req->peer, code);
    kl_http_conn_replied(req);
    kl_http_req_destroy(req);
    if (out == NULL) {
        evhttp_send_error(ev, 500, "Internal Server Error");
        return;
    }
    evhttp_send_reply(ev, code, kl_http_reason(code), out);
    evbuffer_free(out);
}

static void
reply_envelope(kl_http_req *req, int code, const char *status, json_t *results, kl_bytes raw)
{
    kl_buf b;
    kl_rc rc;

    kl_buf_init(&b, SIZE_MAX);
    rc = kl_buf_printf(&b, "{\"code\": %d, \"status\": ", code);
    if (rc == KL_OK)
        rc = kl_json_write_string(&b, KL_BYTES(status, strlen(status)));
    if (rc == KL_OK)
        rc = kl_buf_append_str(&b, ", \"results\": ");
    if (rc == KL_OK && results != NULL)
        rc = kl_json_dump_py(&b, results);
    else if (rc == KL_OK && raw.len > 0)
        rc = kl_buf_append(&b, raw.ptr, raw.len);
    else if (rc == KL_OK)
        rc = kl_buf_append_str(&b, "{}");
    if (rc == KL_OK)
        rc = kl_buf_append_byte(&b, '}');
    if (rc != KL_OK) {
        LOG_ERR("cannot serialise a %d answer: %s", code, kl_err_msg());
        kl_buf_free(&b);
        kl_buf_init(&b, 128);
        code = 500;
        if (kl_buf_append_str(&b, "{\"code\": 500, \"status\": \"Internal Server Error\", "
                                  "\"results\": {}}") != KL_OK)
            kl_buf_reset(&b);
    }
    kl_http_reply(req, code, "application/json", kl_buf_bytes(&b));
    kl_buf_free(&b);
}

void
kl_http_reply_json(kl_http_req *req, int code, const char *status, json_t *results)
{
    reply_envelope(req, code, status ? status : kl_http_reason(code),
                   results ? results : NULL, KL_BYTES(NULL, 0));
    json_decref(results);
}

void
kl_http_reply_json_raw(kl_http_req *req, int code, const char *status, kl_bytes results_json)
{
    reply_envelope(req, code, status ? status : kl_http_reason(code), NULL,
                   results_json.len ? results_json : KL_BYTES_STR("{}"));
}
