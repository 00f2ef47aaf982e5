/* http_fetch_plain: one blocking plain-HTTP request on libevent's own
 * client (evhttp), for the agent: it registers over plain HTTP and must
 * not load libcurl and its dependency tree (megabytes of resident
 * library pages) for three requests at start-up.
 */
#define KL_LOGMODULE "http"
#include <string.h>
#include <sys/time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "http/http_client.h"

typedef struct {
    bool finished;
    kl_rc rc;
    int status;
    const char *error;
    kl_buf *body;
} plain_state;

static void
plain_error(enum evhttp_request_error err, void *arg)
{
    plain_state *st = arg;

    st->rc = err == EVREQ_HTTP_TIMEOUT         ? KL_ETIMEOUT
             : err == EVREQ_HTTP_DATA_TOO_LONG ? KL_ETOOBIG
                                               : KL_EIO;
    st->error = err == EVREQ_HTTP_TIMEOUT           ? "timed out"
                : err == EVREQ_HTTP_DATA_TOO_LONG   ? "answer larger than the limit"
                : err == EVREQ_HTTP_INVALID_HEADER  ? "malformed answer"
                                                    : "cannot connect, or the connection closed";
}

static void
plain_done(struct evhttp_request *req, void *arg)
{
    plain_state *st = arg;
    struct evbuffer *in;
    size_t n;

    st->finished = true;
    if (req == NULL || evhttp_request_get_response_code(req) == 0) {
        if (st->rc == KL_OK) {
            st->rc = KL_EIO;
            st->error = "cannot connect, or the connection closed";
        }
        return;
    }
    st->status = evhttp_request_get_response_code(req);
    in = evhttp_request_get_input_buffer(req);
    n = evbuffer_get_length(in);
    if (kl_buf_reserve(st->body, n) != KL_OK) {
        st->rc = KL_ENOMEM;
        st->error = "out of memory";
        return;
    }
    evbuffer_remove(in, st->body->ptr + st->body->len, n);
    st->body->len += n;
}

static void
plain_deadline(evutil_socket_t fd, short what, void *arg)
{
    plain_state *st = arg;

    (void)fd;
    (void)what;
    st->finished = true;
    st->rc = KL_ETIMEOUT;
    st->error = "timed out";
}

/* Sends the request on conn; the answer arrives in plain_done. */
static kl_rc
plain_send(struct evhttp_connection *conn, const struct evhttp_uri *uri, const char *host,
           const kl_http_request_opts *o, plain_state *st)
{
    static const struct {
        const char *name;
        enum evhttp_cmd_type cmd;
    } methods[] = {{"GET", EVHTTP_REQ_GET},
                   {"POST", EVHTTP_REQ_POST},
                   {"PUT", EVHTTP_REQ_PUT},
                   {"DELETE", EVHTTP_REQ_DELETE}};
    struct evhttp_request *req;
    const char *path = evhttp_uri_get_path(uri), *query = evhttp_uri_get_query(uri);
    char target[2048];
    size_t m = 0;

    while (m < sizeof(methods) / sizeof(methods[0]) && strcmp(methods[m].name, o->method) != 0)
        m++;
    if (m == sizeof(methods) / sizeof(methods[0]))
        return kl_err_set(KL_EINVAL, "http: method %s not supported", o->method);
    if ((size_t)snprintf(target, sizeof(target), "%s%s%s", path && *path ? path : "/",
                         query ? "?" : "", query ? query : "") >= sizeof(target))
        return kl_err_set(KL_EINVAL, "http: URL too long: %s", o->url);
    req = evhttp_request_new(plain_done, st);
    if (req == NULL)
        return kl_err_set(KL_ENOMEM, "out of memory");
    evhttp_request_set_error_cb(req, plain_error);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Host", host);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
    if (o->body.len) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                          "application/json");
        evbuffer_add(evhttp_request_get_output_buffer(req), o->body.ptr, o->body.len);
    }
    if (evhttp_make_request(conn, req, methods[m].cmd, target) != 0) /* frees req */
        return kl_err_set(KL_EIO, "http: cannot send %s %s", o->method, o->url);
    return KL_OK;
}

/* Connects, sends and runs base until the answer or the deadline. */
static kl_rc
plain_run(struct event_base *base, const struct evhttp_uri *uri, const kl_http_request_opts *o,
          plain_state *st)
{
    const char *host = evhttp_uri_get_host(uri);
    int port = evhttp_uri_get_port(uri);
    unsigned ms = o->timeout_ms ? o->timeout_ms : 60000;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    struct evhttp_connection *conn;
    struct event *deadline;
    kl_rc rc;

    conn = evhttp_connection_base_new(base, NULL, host, (unsigned short)(port < 0 ? 80 : port));
    deadline = evtimer_new(base, plain_deadline, st);
    if (conn == NULL || deadline == NULL) {
        rc = kl_err_set(KL_ENOMEM, "http: cannot create a connection to %s", host);
        goto out;
    }
    evhttp_connection_set_timeout_tv(conn, &tv);
    evhttp_connection_set_max_body_size(conn, (ev_ssize_t)(o->max_response ? o->max_response
                                                                            : 16u << 20));
    evtimer_add(deadline, &tv);
    rc = plain_send(conn, uri, host, o, st);
    while (rc == KL_OK && !st->finished) {
        if (event_base_loop(base, EVLOOP_ONCE) < 0)
            rc = kl_err_set(KL_EIO, "http: event loop failed");
    }
out:
    if (deadline)
        event_free(deadline);
    if (conn)
        evhttp_connection_free(conn); /* drops a request still in flight */
    return rc;
}

kl_rc
kl_http_fetch_plain(int *status, kl_buf *body, const kl_http_request_opts *o)
{
    plain_state st = {false, KL_OK, 0, "", body};
    struct evhttp_uri *uri = evhttp_uri_parse(o->url);
    struct event_base *base = NULL;
    kl_rc rc;

    *status = 0;
    if (uri == NULL || evhttp_uri_get_scheme(uri) == NULL ||
        strcmp(evhttp_uri_get_scheme(uri), "http") != 0 || evhttp_uri_get_host(uri) == NULL ||
        o->tls != NULL) {
        rc = kl_err_set(KL_EINVAL, "http: not a plain http:// URL: %s", o->url);
        goto out;
    }
    base = event_base_new();
    if (base == NULL) {
        rc = kl_err_set(KL_ENOMEM, "http: cannot create an event loop");
        goto out;
    }
    rc = plain_run(base, uri, o, &st);
    if (rc == KL_OK && st.rc != KL_OK)
        rc = kl_err_set(st.rc, "http: %s %s: %s", o->method, o->url, st.error);
    *status = st.status;
out:
    if (base)
        event_base_free(base);
    if (uri)
        evhttp_uri_free(uri);
    return rc;
}
