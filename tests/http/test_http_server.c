/* Unit tests for http/http_server and http/http_client, in process: one
 * event loop, servers on 127.0.0.1 port 0, our client or raw sockets. */
/* clang-format off */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http/http_client.h"
#include "http/http_server.h"
#include "http_test_util.h"
#include "util/kl_alloc.h"
/* clang-format on */

typedef struct {
    struct event_base *base;
    kl_http_server *srv;
    kl_http_client *cli;
    uint16_t port;
    int handled;
    kl_http_req *held; /* a request left unanswered */
    bool held_closed;
} fixture;

/* "/echo" answers the body back in an envelope; "/big" 10 KiB; "/hold"
 * nothing (yet); anything else 404. */
static void
handler(kl_http_req *req, void *payload)
{
    fixture *f = payload;
    const char *path = kl_http_req_path(req);
    static char big[10240];

    f->handled++;
    if (strcmp(path, "/echo") == 0) {
        kl_bytes b = kl_http_req_body(req);
        json_t *r = json_pack("{s:s%, s:s?}", "body", b.ptr ? (const char *)b.ptr : "", b.len,
                              "q", kl_http_req_query(req, "q"));
        kl_http_reply_json(req, 200, "Success", r);
    } else if (strcmp(path, "/big") == 0) {
        memset(big, 'x', sizeof(big));
        kl_http_reply(req, 200, "text/plain", KL_BYTES(big, sizeof(big)));
    } else if (strcmp(path, "/hold") == 0) {
        f->held = req;
    } else {
        kl_http_reply_json(req, 404, "Not Found", NULL);
    }
}

static int
setup(void **state)
{
    fixture *f = kl_calloc(1, sizeof(*f));
    kl_http_listen_opts o = {0};

    f->base = event_base_new();
    assert_int_equal(kl_http_server_new(&f->srv, f->base), KL_OK);
    o.ip = "127.0.0.1";
    o.max_body = 1000;
    o.max_headers = 2048;
    o.timeout_s = 1;
    o.handler = handler;
    o.payload = f;
    assert_int_equal(kl_http_server_listen(f->srv, &o, &f->port), KL_OK);
    assert_true(f->port != 0);
    assert_int_equal(kl_http_client_new(&f->cli, f->base), KL_OK);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;

    kl_http_client_free(f->cli);
    kl_http_server_free(f->srv);
    event_base_free(f->base);
    kl_free(f);
    return 0;
}

typedef struct {
    bool done;
    kl_rc rc;
    int status;
    kl_buf body;
} result;

static void
on_done(const kl_http_response *resp, void *payload)
{
    result *r = payload;

    r->done = true;
    r->rc = resp->rc;
    r->status = resp->status;
    kl_buf_init(&r->body, 1 << 20);
    if (resp->body.len)
        assert_int_equal(kl_buf_append(&r->body, resp->body.ptr, resp->body.len), KL_OK);
    assert_int_equal(kl_buf_terminate(&r->body), KL_OK);
}

static void
call(fixture *f, const char *method, const char *path, const char *body, unsigned timeout_ms,
     size_t max, result *r)
{
    char url[128];
    kl_http_request_opts o = {0};

    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", f->port, path);
    o.method = method;
    o.url = url;
    o.body = KL_BYTES(body, body ? strlen(body) : 0);
    o.timeout_ms = timeout_ms;
    o.max_response = max;
    memset(r, 0, sizeof(*r));
    assert_int_equal(kl_http_client_send(f->cli, &o, on_done, r, NULL), KL_OK);
    assert_false(r->done); /* never from inside send */
    assert_true(test_pump_until(f->base, &r->done, 5000));
}

static void
test_http_plain_roundtrip(void **state)
{
    fixture *f = *state;
    result r;

    call(f, "POST", "/echo?q=a%20b", "{\"x\": 1}", 0, 0, &r);
    assert_int_equal(r.rc, KL_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal((char *)r.body.ptr, "{\"code\": 200, \"status\": \"Success\", \"results\": "
                                            "{\"body\": \"{\\\"x\\\": 1}\", \"q\": \"a b\"}}");
    kl_buf_free(&r.body);
    call(f, "GET", "/nothing", NULL, 0, 0, &r);
    assert_int_equal(r.status, 404);
    kl_buf_free(&r.body);
}

static void
test_http_keepalive_reuse(void **state)
{
    fixture *f = *state;
    size_t open, accepted;
    result r;

    for (int i = 0; i < 3; i++) {
        call(f, "GET", "/echo", NULL, 0, 0, &r);
        assert_int_equal(r.status, 200);
        kl_buf_free(&r.body);
    }
    kl_http_server_counts(f->srv, &open, &accepted);
    assert_int_equal(accepted, 1);
    assert_int_equal(open, 1);
    assert_int_equal(f->handled, 3);
}

static void
test_http_caps(void **state)
{
    fixture *f = *state;
    kl_buf out;
    char big[4096];
    const char *body_over = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n";

    kl_buf_init(&out, 1 << 16);
    /* body over max_body (1000): 413 */
    assert_true(test_raw_exchange(f->base, f->port, body_over, strlen(body_over), 0, &out, 3000));
    assert_int_equal(kl_buf_terminate(&out), KL_OK);
    assert_memory_equal(out.ptr, "HTTP/1.1 413", 12);
    /* headers over max_headers (2048): 400 */
    kl_buf_reset(&out);
    snprintf(big, sizeof(big), "GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: %03000d\r\n\r\n", 1);
    assert_true(test_raw_exchange(f->base, f->port, big, strlen(big), 0, &out, 3000));
    assert_memory_equal(out.ptr, "HTTP/1.1 400", 12);
    /* garbage: 400 */
    kl_buf_reset(&out);
    assert_true(test_raw_exchange(f->base, f->port, "\x01\x02 junk\r\n\r\n", 11, 0, &out, 3000));
    assert_memory_equal(out.ptr, "HTTP/1.1 400", 12);
    assert_int_equal(f->handled, 0);
    kl_buf_free(&out);
}

static void
test_http_slowloris(void **state)
{
    fixture *f = *state;
    kl_buf out;
    const char *req = "GET /echo HTTP/1.1\r\nHost: x\r\nX-A: bbbbbbbbbbbbbbbbbbbb\r\n\r\n";
    size_t open, accepted;

    kl_buf_init(&out, 1 << 16);
    /* idle after a partial request line: closed after timeout_s (1 s) */
    assert_true(test_raw_exchange(f->base, f->port, "GET /ec", 7, 0, &out, 3000));
    /* one byte every 150 ms keeps it busy, but the deadline still closes */
    assert_true(test_raw_exchange(f->base, f->port, req, strlen(req), 150, &out, 3000));
    assert_int_equal(f->handled, 0);
    /* both connections are gone from the server's count (within a tick) */
    for (int i = 0; i < 20; i++) {
        bool never = false;
        kl_http_server_counts(f->srv, &open, &accepted);
        if (open == 0)
            break;
        test_pump_until(f->base, &never, 100);
    }
    assert_int_equal(open, 0);
    assert_int_equal(accepted, 2);
    kl_buf_free(&out);
}

static void
test_http_client_timeout_and_cap(void **state)
{
    fixture *f = *state;
    result r;

    call(f, "GET", "/hold", NULL, 300, 0, &r);
    assert_int_equal(r.rc, KL_ETIMEOUT);
    assert_int_equal(r.status, 0);
    kl_buf_free(&r.body);
    assert_non_null(f->held); /* left unanswered: freed with the server */
    call(f, "GET", "/big", NULL, 0, 1000, &r);
    assert_int_equal(r.rc, KL_ETOOBIG);
    kl_buf_free(&r.body);
    call(f, "GET", "/big", NULL, 0, 10240, &r);
    assert_int_equal(r.rc, KL_OK);
    assert_int_equal(r.body.len, 10240);
    kl_buf_free(&r.body);
}

static void
held_closed(void *payload)
{
    ((fixture *)payload)->held_closed = true;
}

static void
test_http_cancel_and_late_reply(void **state)
{
    fixture *f = *state;
    char url[128];
    kl_http_request_opts o = {0};
    kl_http_call *c = NULL;
    result r = {0}, r2;

    snprintf(url, sizeof(url), "http://127.0.0.1:%u/hold", f->port);
    o.method = "GET";
    o.url = url;
    assert_int_equal(kl_http_client_send(f->cli, &o, on_done, &r, &c), KL_OK);
    assert_non_null(c);
    while (f->held == NULL)
        event_base_loop(f->base, EVLOOP_ONCE);
    kl_http_req_on_close(f->held, held_closed, f);
    kl_http_client_cancel(f->cli, c);
    /* the server notices the peer went away when it answers; a late
     * answer on a second request works */
    f->held = NULL;
    call(f, "GET", "/echo", NULL, 0, 0, &r2);
    assert_int_equal(r2.status, 200);
    kl_buf_free(&r2.body);
    assert_false(r.done);
}

static void
test_http_fetch_errors(void **state)
{
    kl_http_request_opts o = {0};
    kl_buf body;
    int status = -1;

    (void)state;
    kl_buf_init(&body, 1024);
    o.method = "GET";
    o.url = "http://127.0.0.1:1/version";
    o.timeout_ms = 2000;
    assert_int_equal(kl_http_fetch(&status, &body, &o), KL_EIO);
    assert_int_equal(status, 0);
    o.url = "ftp://127.0.0.1/x";
    assert_int_not_equal(kl_http_fetch(&status, &body, &o), KL_OK);
    kl_buf_free(&body);
}

static atomic_bool serve_stop;

static void
tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

/* Runs the fixture's server loop until serve_stop (a 20 ms tick makes
 * each EVLOOP_ONCE return). */
static void *
serve_thread(void *arg)
{
    fixture *f = arg;
    struct event *t = event_new(f->base, -1, EV_PERSIST, tick, NULL);
    struct timeval tv = {0, 20000};

    event_add(t, &tv);
    while (!atomic_load(&serve_stop))
        event_base_loop(f->base, EVLOOP_ONCE);
    event_free(t);
    return NULL;
}

static kl_rc
fetch_plain(fixture *f, const char *method, const char *path, const char *body, unsigned ms,
            size_t max, int *status, kl_buf *out)
{
    char url[128];
    kl_http_request_opts o = {0};

    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", f->port, path);
    o.method = method;
    o.url = url;
    o.body = KL_BYTES(body, body ? strlen(body) : 0);
    o.timeout_ms = ms;
    o.max_response = max;
    kl_buf_reset(out);
    return kl_http_fetch_plain(status, out, &o);
}

/* kl_http_fetch_plain (libevent's client) against the server running in
 * a second thread: answers, status codes, body cap, timeout, refusals. */
static void
test_http_fetch_plain(void **state)
{
    fixture *f = *state;
    kl_http_request_opts o = {0};
    pthread_t th;
    kl_buf body;
    int status = -1;

    kl_buf_init(&body, 1 << 20);
    atomic_store(&serve_stop, false);
    assert_int_equal(pthread_create(&th, NULL, serve_thread, f), 0);
    assert_int_equal(fetch_plain(f, "GET", "/echo?q=v1", NULL, 0, 0, &status, &body), KL_OK);
    assert_int_equal(status, 200);
    assert_int_equal(kl_buf_terminate(&body), KL_OK);
    assert_non_null(strstr((const char *)body.ptr, "\"q\": \"v1\""));
    assert_int_equal(fetch_plain(f, "PUT", "/echo", "{\"k\": 1}", 0, 0, &status, &body), KL_OK);
    assert_int_equal(kl_buf_terminate(&body), KL_OK);
    assert_non_null(strstr((const char *)body.ptr, "{\\\"k\\\": 1}"));
    assert_int_equal(fetch_plain(f, "DELETE", "/nowhere", NULL, 0, 0, &status, &body), KL_OK);
    assert_int_equal(status, 404);
    assert_int_equal(fetch_plain(f, "GET", "/big", NULL, 0, 1000, &status, &body), KL_ETOOBIG);
    assert_int_equal(fetch_plain(f, "GET", "/hold", NULL, 300, 0, &status, &body), KL_ETIMEOUT);
    assert_int_equal(status, 0);
    assert_int_equal(fetch_plain(f, "PATCH", "/echo", NULL, 0, 0, &status, &body), KL_EINVAL);
    atomic_store(&serve_stop, true);
    assert_int_equal(pthread_join(th, NULL), 0);
    o.method = "GET";
    o.url = "http://127.0.0.1:1/version";
    assert_int_equal(kl_http_fetch_plain(&status, &body, &o), KL_EIO);
    o.url = "https://127.0.0.1:1/version";
    assert_int_equal(kl_http_fetch_plain(&status, &body, &o), KL_EINVAL);
    o.url = "not a url";
    assert_int_equal(kl_http_fetch_plain(&status, &body, &o), KL_EINVAL);
    kl_buf_free(&body);
}

static void
test_http_bind_busy(void **state)
{
    fixture *f = *state;
    kl_http_listen_opts o = {0};

    o.ip = "127.0.0.1";
    o.port = f->port;
    o.handler = handler;
    assert_int_equal(kl_http_server_listen(f->srv, &o, NULL), KL_EIO);
    o.ip = "300.1.1.1";
    o.port = 0;
    assert_int_equal(kl_http_server_listen(f->srv, &o, NULL), KL_EIO);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_http_plain_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_keepalive_reuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_caps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_slowloris, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_client_timeout_and_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_cancel_and_late_reply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_bind_busy, setup, teardown),
        cmocka_unit_test(test_http_fetch_errors),
        cmocka_unit_test_setup_teardown(test_http_fetch_plain, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
