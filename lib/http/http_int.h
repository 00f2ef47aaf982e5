/* http_int: what http_server.c and http_req.c share (not public). */
#ifndef KL_HTTP_INT_H
#define KL_HTTP_INT_H

#include <stdbool.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <sys/queue.h>

#include <event2/keyvalq_struct.h>

#include <openssl/ssl.h>

#include "http/http_server.h"

#define KL_HTTP_MAX_CONNS 1024 /* per listener; accepting pauses at the cap */

typedef struct kl_http_listener kl_http_listener;
typedef struct kl_http_conn kl_http_conn;

/* One accepted connection. evhttp owns the bufferevent; we hold an extra
 * reference on it, so it stays valid until we see that evhttp has dropped
 * it (its callbacks are cleared) and let go. A periodic tick notices that,
 * and enforces the deadline by which the next request must have arrived in
 * full. */
struct kl_http_conn {
    kl_http_listener *l;
    struct bufferevent *bev;
    struct event *tick;
    struct timeval deadline; /* for the next complete request (monotonic) */
    bool shut;               /* deadline passed: socket shut down */
    kl_http_req *pending;    /* the request being handled, or NULL */
    kl_http_conn *prev, *next;
};

struct kl_http_req {
    struct evhttp_request *ev;
    kl_http_conn *conn;
    char *path;               /* decoded, owned */
    struct evkeyvalq *query;  /* parsed on first use, owned */
    bool query_done;
    char peer[64];
    void (*on_close)(void *payload);
    void *on_close_payload;
};

/* The TLS session of a connection, or NULL over plain HTTP. */
SSL *kl_http_conn_ssl(const kl_http_conn *c);
/* Called by http_req.c when req has been answered. */
void kl_http_conn_replied(kl_http_req *req);
/* Frees the request wrapper (not the evhttp request). */
void kl_http_req_destroy(kl_http_req *req);
/* The wrapper for a new request on conn; NULL on ENOMEM. */
kl_http_req *kl_http_req_create(struct evhttp_request *ev, kl_http_conn *conn);

#endif
