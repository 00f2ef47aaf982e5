/* http_server: listeners and connections on libevent's evhttp.
 *
 * Each listener has its own struct evhttp (caps, timeout, handler and TLS
 * differ per socket). Every accepted connection gets a kl_http_conn (see
 * http_int.h): it is counted, and accepting pauses while a listener has
 * KL_HTTP_MAX_CONNS open, so a flood cannot exhaust file descriptors; and
 * it carries a deadline by which the next request must have arrived in
 * full, so a peer trickling bytes (slowloris) cannot hold it forever
 * (evhttp's own timeout is only an inactivity timeout). libevent 2.1 has
 * no hook for "connection freed", so we keep a reference on each
 * connection's bufferevent and a TICK_MS timer notices when evhttp has let
 * go of it (socket closed up to TICK_MS later).
 *
 * Oversized requests never reach a handler: evhttp itself answers a body
 * over max_body with 413, request line plus headers over max_headers with
 * 400 (libevent 2.1 reports that as an invalid header; it has no 431) and
 * malformed requests with 400, then closes.
 *
 * Plain HTTP sent to a TLS listener: OpenSSL recognises a first record
 * starting with "GET ", "POST ", "HEAD " or "PUT " (SSL_R_HTTP_REQUEST).
 * From the SSL info callback, still inside the failed handshake and before
 * libevent closes anything, we write a minimal "400" with a JSON envelope
 * straight to the socket, as nginx does, then libevent closes. Any other
 * garbage just closes the connection.
 */
#define KL_LOGMODULE "http"
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>
#include <openssl/err.h>

#include "http/http_int.h"
#include "util/kl_alloc.h"
#include "util/kl_log.h"

struct kl_http_listener {
    kl_http_server *s;
    struct evhttp *http;
    struct evhttp_bound_socket *bound;
    SSL_CTX *tls;
    kl_http_handler handler;
    void *payload;
    unsigned timeout_s;
    size_t n_conns;
    bool paused;
    kl_http_conn *conns;
    kl_http_listener *next;
};

struct kl_http_server {
    struct event_base *base;
    kl_http_listener *listeners;
    size_t accepted;
};

static void conn_release(kl_http_conn *c);

#define PLAIN_TO_TLS_BODY                                                                          \
    "{\"code\": 400, \"status\": \"plain HTTP request sent to an HTTPS port; use https://\", "  \
    "\"results\": {}}"
#define PLAIN_TO_TLS_ANSWER                                                                        \
    "HTTP/1.1 400 Bad Request\r\n"                                                                 \
    "Content-Type: application/json\r\n"                                                           \
    "Content-Length: 96\r\n"                                                                       \
    "Connection: close\r\n"                                                                        \
    "\r\n" PLAIN_TO_TLS_BODY
/* the Content-Length above */
_Static_assert(sizeof(PLAIN_TO_TLS_BODY) - 1 == 96, "PLAIN_TO_TLS_BODY length");

kl_rc
kl_http_server_new(kl_http_server **out, struct event_base *base)
{
    kl_http_server *s;

    *out = NULL;
    if (base == NULL)
        return kl_err_set(KL_EINVAL, "http: server needs an event base");
    s = kl_calloc(1, sizeof(*s));
    if (s == NULL)
        return kl_err_set(KL_ENOMEM, "http: out of memory");
    s->base = base;
    *out = s;
    return KL_OK;
}

void
kl_http_server_free(kl_http_server *s)
{
    kl_http_listener *l, *next;

    if (s == NULL)
        return;
    for (l = s->listeners; l != NULL; l = next) {
        next = l->next;
        if (l->http != NULL)
            evhttp_free(l->http); /* drops its connections; we hold references */
        while (l->conns != NULL)
            conn_release(l->conns);
        kl_free(l);
    }
    kl_free(s);
}

/* --- connection accounting --- */

#define TICK_MS 500

static void
listener_pause(kl_http_listener *l, bool pause)
{
    struct evconnlistener *el = evhttp_bound_socket_get_listener(l->bound);

    if (el == NULL || l->paused == pause)
        return;
    l->paused = pause;
    if (pause) {
        evconnlistener_disable(el);
        LOG_WARN("%zu connections open: not accepting more for now", l->n_conns);
    } else {
        evconnlistener_enable(el);
    }
}

static void
conn_set_deadline(kl_http_conn *c)
{
    struct timeval now, d = {0, 0};

    evutil_gettimeofday(&now, NULL);
    d.tv_sec = c->l ? c->l->timeout_s : 60;
    evutil_timeradd(&now, &d, &c->deadline);
}

/* evhttp has dropped the connection (or the server is going away). */
static void
conn_release(kl_http_conn *c)
{
    kl_http_listener *l = c->l;
    kl_http_req *req = c->pending;

    if (req != NULL) {
        /* evhttp freed it without its close callback: the request is gone */
        req->conn = NULL;
        if (req->on_close != NULL)
            req->on_close(req->on_close_payload);
        kl_http_req_destroy(req);
    }
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        l->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    l->n_conns--;
    if (l->paused && l->n_conns < KL_HTTP_MAX_CONNS)
        listener_pause(l, false);
    event_free(c->tick);
    bufferevent_decref(c->bev); /* frees it and closes the socket */
    kl_free(c);
}

static bool
conn_dropped(const kl_http_conn *c)
{
    bufferevent_event_cb ecb = NULL;

    bufferevent_getcb(c->bev, NULL, NULL, &ecb, NULL);
    return ecb == NULL;
}

static void
conn_tick(evutil_socket_t fd, short what, void *arg)
{
    kl_http_conn *c = arg;
    struct timeval now;
    evutil_socket_t sock;

    (void)fd;
    (void)what;
    if (conn_dropped(c)) {
        conn_release(c);
        return;
    }
    evutil_gettimeofday(&now, NULL);
    if (c->pending != NULL || c->shut || evutil_timercmp(&now, &c->deadline, <))
        return;
    sock = bufferevent_getfd(c->bev);
    if (sock < 0)
        return;
    LOG_DEBUG("connection took too long to send a request; closing it");
    /* evhttp sees end-of-file on its next read and drops the connection */
    c->shut = true;
    shutdown(sock, SHUT_RDWR);
}

static void
drain_socket(int fd)
{
    char sink[4096];

    for (int i = 0; i < 16; i++) {
        if (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) <= 0)
            break;
    }
}

/* SSL info callback: answers plain HTTP on a TLS port (see the top). */
static void
tls_info_cb(const SSL *ssl, int where, int ret)
{
    unsigned long e;
    int fd;

    if (!(where & SSL_CB_EXIT) || ret > 0)
        return;
    e = ERR_peek_last_error();
    if (ERR_GET_LIB(e) != ERR_LIB_SSL || ERR_GET_REASON(e) != SSL_R_HTTP_REQUEST)
        return;
    fd = SSL_get_fd(ssl);
    if (fd < 0)
        return;
    drain_socket(fd);
    if (send(fd, PLAIN_TO_TLS_ANSWER, sizeof(PLAIN_TO_TLS_ANSWER) - 1,
             MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
        LOG_DEBUG("could not answer plain HTTP on the TLS port: %s", strerror(errno));
    shutdown(fd, SHUT_WR);
}

static struct bufferevent *
conn_bev(kl_http_listener *l)
{
    struct event_base *base = l->s->base;
    struct bufferevent *bev;
    SSL *ssl;

    if (l->tls == NULL)
        return bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    ssl = SSL_new(l->tls);
    if (ssl == NULL)
        return NULL;
    SSL_set_info_callback(ssl, tls_info_cb);
    bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                         BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL) {
        SSL_free(ssl);
        return NULL;
    }
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    return bev;
}

/* evhttp's bufferevent factory: called once per accepted connection. */
static struct bufferevent *
conn_new(struct event_base *base, void *arg)
{
    kl_http_listener *l = arg;
    kl_http_conn *c = kl_calloc(1, sizeof(*c));
    struct timeval tv = {0, TICK_MS * 1000};

    /* release what evhttp has dropped since the last tick, so that the
     * count is right when it matters */
    for (kl_http_conn *o = l->conns, *next; o != NULL; o = next) {
        next = o->next;
        if (conn_dropped(o))
            conn_release(o);
    }
    if (c == NULL)
        goto fail;
    c->l = l;
    c->tick = event_new(base, -1, EV_PERSIST, conn_tick, c);
    c->bev = conn_bev(l);
    if (c->tick == NULL || c->bev == NULL || event_add(c->tick, &tv) != 0)
        goto fail;
    bufferevent_incref(c->bev);
    c->next = l->conns;
    if (l->conns != NULL)
        l->conns->prev = c;
    l->conns = c;
    l->s->accepted++;
    if (++l->n_conns >= KL_HTTP_MAX_CONNS)
        listener_pause(l, true);
    conn_set_deadline(c);
    return c->bev;
fail:
    /* evhttp falls back to a plain socket bufferevent; nothing is served
     * over it on a TLS port since the peer speaks TLS */
    LOG_ERR("out of memory for a new connection");
    if (c != NULL) {
        if (c->bev != NULL)
            bufferevent_free(c->bev);
        if (c->tick != NULL)
            event_free(c->tick);
        kl_free(c);
    }
    return NULL;
}

static kl_http_conn *
conn_find(kl_http_listener *l, struct evhttp_request *ev)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(ev);
    struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;

    for (kl_http_conn *c = l->conns; c != NULL && bev != NULL; c = c->next) {
        if (c->bev == bev)
            return c;
    }
    return NULL;
}

/* evhttp frees the connection while a request is still unanswered. */
static void
conn_closed_cb(struct evhttp_connection *evcon, void *arg)
{
    kl_http_req *req = arg;

    (void)evcon;
    if (req->conn != NULL)
        req->conn->pending = NULL;
    if (req->on_close != NULL)
        req->on_close(req->on_close_payload);
    /* a request detached from its connection (peer gone) is ours to free */
    if (evhttp_request_get_connection(req->ev) == NULL)
        evhttp_request_free(req->ev);
    kl_http_req_destroy(req);
}

/* Answers leave in one piece: without TCP_NODELAY, evhttp's separate
 * writes of headers and body meet the peer's delayed ACK (40 ms a reply). */
static void
nodelay(struct evhttp_request *ev)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(ev);
    struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
    evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
    int one = 1;

    if (fd >= 0)
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void
request_cb(struct evhttp_request *ev, void *arg)
{
    kl_http_listener *l = arg;
    kl_http_conn *c = conn_find(l, ev);
    kl_http_req *req = kl_http_req_create(ev, c);

    if (req == NULL) {
        evhttp_send_error(ev, 500, "Internal Server Error");
        return;
    }
    if (c != NULL)
        c->pending = req;
    nodelay(ev);
    evhttp_connection_set_closecb(evhttp_request_get_connection(ev), conn_closed_cb, req);
    l->handler(req, l->payload);
}

void
kl_http_conn_replied(kl_http_req *req)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req->ev);

    if (evcon != NULL)
        evhttp_connection_set_closecb(evcon, NULL, NULL);
    if (req->conn != NULL) {
        req->conn->pending = NULL;
        conn_set_deadline(req->conn);
    }
}

/* --- listening --- */

static kl_rc
listener_bind(kl_http_listener *l, const kl_http_listen_opts *o, uint16_t *bound_port)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    evutil_socket_t fd;

    l->bound = evhttp_bind_socket_with_handle(l->http, o->ip, o->port);
    if (l->bound == NULL)
        return kl_err_set(KL_EIO, "http: cannot listen on %s port %u: %s (address in use, or "
                                  "not an address of this host?)",
                          o->ip, (unsigned)o->port, strerror(errno));
    fd = evhttp_bound_socket_get_fd(l->bound);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return kl_err_set(KL_EIO, "http: getsockname: %s", strerror(errno));
    if (bound_port != NULL) {
        if (ss.ss_family == AF_INET6)
            *bound_port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        else
            *bound_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    }
    return KL_OK;
}

kl_rc
kl_http_server_listen(kl_http_server *s, const kl_http_listen_opts *o, uint16_t *bound_port)
{
    kl_http_listener *l;
    kl_rc rc;

    if (s == NULL || o == NULL || o->ip == NULL || o->handler == NULL)
        return kl_err_set(KL_EINVAL, "http: listen needs an address and a handler");
    l = kl_calloc(1, sizeof(*l));
    if (l == NULL)
        return kl_err_set(KL_ENOMEM, "http: out of memory");
    l->s = s;
    l->tls = o->tls;
    l->handler = o->handler;
    l->payload = o->payload;
    l->timeout_s = o->timeout_s ? o->timeout_s : 60;
    l->http = evhttp_new(s->base);
    if (l->http == NULL) {
        kl_free(l);
        return kl_err_set(KL_ENOMEM, "http: cannot create the HTTP server");
    }
    /* linked first so that kl_http_server_free cleans up after a failure */
    l->next = s->listeners;
    s->listeners = l;
    evhttp_set_max_body_size(l->http, (ev_ssize_t)(o->max_body ? o->max_body : 1u << 20));
    evhttp_set_max_headers_size(l->http,
                                (ev_ssize_t)(o->max_headers ? o->max_headers : 16u << 10));
    evhttp_set_timeout(l->http, (int)l->timeout_s);
    evhttp_set_allowed_methods(l->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                            EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH |
                                            EVHTTP_REQ_HEAD | EVHTTP_REQ_OPTIONS);
    evhttp_set_default_content_type(l->http, "application/json");
    evhttp_set_bevcb(l->http, conn_new, l);
    evhttp_set_gencb(l->http, request_cb, l);
    rc = listener_bind(l, o, bound_port);
    if (rc != KL_OK)
        return rc;
    LOG_INFO("listening on %s port %u (%s)", o->ip, bound_port ? *bound_port : o->port,
             o->tls ? "https" : "http");
    return KL_OK;
}

/* The TLS session of a request's connection, or NULL over plain HTTP. */
SSL *
kl_http_conn_ssl(const kl_http_conn *c)
{
    if (c == NULL || c->l == NULL || c->l->tls == NULL)
        return NULL;
    return bufferevent_openssl_get_ssl(c->bev);
}

void
kl_http_server_counts(const kl_http_server *s, size_t *open, size_t *accepted)
{
    *open = 0;
    *accepted = s ? s->accepted : 0;
    for (const kl_http_listener *l = s ? s->listeners : NULL; l != NULL; l = l->next)
        *open += l->n_conns;
}
