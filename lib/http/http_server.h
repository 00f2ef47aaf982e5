/* http_server: HTTP/1.1 server on libevent's evhttp, plain or over OpenSSL.
 *
 * One kl_http_server can listen on several sockets (the registrar's 8890
 * plain and 8891 TLS). Every request is capped (headers, body) and timed
 * out; requests beyond the caps are answered by the server before any
 * handler runs: body 413, request line + headers 400 (libevent 2.1 has no
 * 431), malformed 400. Each listener holds at most 1024 connections
 * (accepting pauses at the cap) and closes a connection whose next request
 * has not arrived in full within timeout_s (slowloris). Plain HTTP sent to
 * a TLS listener is answered 400 with an envelope saying to use https://.
 * A handler answers through kl_http_reply*
 * exactly once, either before it returns or later from the same event
 * loop (the request stays valid until answered or until the peer goes
 * away, see kl_http_req_on_close).
 */
#ifndef KL_HTTP_SERVER_H
#define KL_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <jansson.h>
#include <openssl/ssl.h>

#include "util/kl_buf.h"
#include "util/kl_err.h"

typedef struct kl_http_server kl_http_server;
typedef struct kl_http_req kl_http_req;

typedef enum {
    KL_HTTP_GET = 0,
    KL_HTTP_POST,
    KL_HTTP_PUT,
    KL_HTTP_DELETE,
    KL_HTTP_PATCH,
    KL_HTTP_HEAD,
    KL_HTTP_OTHER,
} kl_http_method;

typedef void (*kl_http_handler)(kl_http_req *req, void *payload);

typedef struct {
    const char *ip;        /* bind address ("0.0.0.0", "::", "127.0.0.1") */
    uint16_t port;         /* 0: any free port (read back from *bound_port) */
    SSL_CTX *tls;          /* NULL: plain HTTP. Borrowed; outlives the server */
    size_t max_body;       /* 0: 1 MiB */
    size_t max_headers;    /* 0: 16 KiB (request line + headers) */
    unsigned timeout_s;    /* idle/read/write timeout; 0: 60 s */
    kl_http_handler handler;
    void *payload;
} kl_http_listen_opts;

/* Caller frees with kl_http_server_free (closes every listener and
 * connection; requests not yet answered are dropped). */
KL_MUST_CHECK kl_rc kl_http_server_new(kl_http_server **out, struct event_base *base);
void kl_http_server_free(kl_http_server *s);

/* Starts listening; KL_EIO with "address in use"-style detail when the
 * bind fails. *bound_port (may be NULL) gets the port actually bound. */
KL_MUST_CHECK kl_rc kl_http_server_listen(kl_http_server *s, const kl_http_listen_opts *o,
                                          uint16_t *bound_port);

/* Connections open now and accepted since the start, over all listeners
 * (metrics and tests). */
void kl_http_server_counts(const kl_http_server *s, size_t *open, size_t *accepted);

/* --- the request (all borrowed from req) --- */
kl_http_method kl_http_req_method(const kl_http_req *req);
const char *kl_http_req_method_name(const kl_http_req *req);
/* The decoded path without the query ("/v2.6/agents/x"). */
const char *kl_http_req_path(const kl_http_req *req);
/* The decoded value of a query parameter (first occurrence), or NULL. */
const char *kl_http_req_query(const kl_http_req *req, const char *name);
/* A request header, or NULL. */
const char *kl_http_req_header(const kl_http_req *req, const char *name);
kl_bytes kl_http_req_body(const kl_http_req *req);
/* True when the request arrived over TLS. */
bool kl_http_req_is_tls(const kl_http_req *req);
/* The client certificate, only if one was sent and verified against the
 * listener's trusted CAs; NULL otherwise. */
X509 *kl_http_req_peer_cert(const kl_http_req *req);
/* "ip:port" of the peer (for logs). */
const char *kl_http_req_peer(const kl_http_req *req);

/* Called if the connection closes before the request is answered (a
 * handler that answers later must stop using req then). */
void kl_http_req_on_close(kl_http_req *req, void (*cb)(void *payload), void *payload);

/* --- answers (exactly one per request) --- */
/* Adds a response header (e.g. Location, Allow) before the answer is sent. */
void kl_http_reply_header(kl_http_req *req, const char *name, const char *value);
/* Raw body with a content type ("application/json"). */
void kl_http_reply(kl_http_req *req, int code, const char *content_type, kl_bytes body);
/* Keylime's envelope {"code": code, "status": status, "results": results}.
 * results is stolen (json_decref'd); NULL means {} and json_null() gives
 * "results": null (the Rust agent's answer to ukey/vkey). Serialised as
 * Python's json.dumps does (", " and ": " separators). */
void kl_http_reply_json(kl_http_req *req, int code, const char *status, json_t *results);
/* Envelope with a body that is already serialised JSON (for large
 * results built without jansson, e.g. a quote with an IMA list). */
void kl_http_reply_json_raw(kl_http_req *req, int code, const char *status,
                            kl_bytes results_json);

/* The text of a status code's reason phrase ("Not Found"). */
const char *kl_http_reason(int code);

#endif
