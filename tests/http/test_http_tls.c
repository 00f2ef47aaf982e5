/* Unit tests for tls/tls_server with http_server and http_client: client
 * certificates optional and required, trust from a CA file or from a
 * self-signed certificate in memory (no host name checks), plain HTTP on
 * the TLS port, and the router's admin rules over HTTP and HTTPS. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http/http_client.h"
#include "http/http_server.h"
#include "http/router.h"
#include "http_test_util.h"
#include "tls/tls.h"
#include "util/kl_alloc.h"
/* clang-format on */

static test_certs certs;

typedef struct {
    struct event_base *base;
    kl_http_server *srv;
    kl_http_client *cli;
    SSL_CTX *ctx;
    uint16_t port;
} fixture;

static void
who_fn(kl_http_req *req, const kl_route_match *m, void *payload)
{
    X509 *peer = kl_http_req_peer_cert(req);
    char cn[64] = "none";

    (void)m;
    (void)payload;
    if (peer != NULL)
        X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof(cn));
    kl_http_reply_json(req, 200, "Success",
                       json_pack("{s:s, s:b}", "cn", cn, "tls", kl_http_req_is_tls(req)));
}

static const kl_route routes[] = {
    {KL_HTTP_GET, "who", false, who_fn, 0},
    {KL_HTTP_GET, "agents action=list_registrations", true, who_fn, KL_ROUTE_ADMIN},
    {KL_HTTP_GET, "nameless", false, who_fn, KL_ROUTE_ADMIN},
};
static const char *const versions[] = {"2.0", "2.6"};
static const kl_router router = {KL_ROUTER_PY, versions, 2, routes, 3};

static void
handler(kl_http_req *req, void *payload)
{
    kl_router_dispatch(&router, req, payload);
}

static fixture *
start(const char *cert, const char *key, kl_tls_client_auth auth, bool tls)
{
    fixture *f = kl_calloc(1, sizeof(*f));
    const char *cas[] = {certs.ca};
    kl_tls_server_opts t = {cert, key, NULL, cas, 1, auth};
    kl_http_listen_opts o = {0};

    f->base = event_base_new();
    if (tls)
        assert_int_equal(kl_tls_server_ctx(&f->ctx, &t), KL_OK);
    assert_int_equal(kl_http_server_new(&f->srv, f->base), KL_OK);
    o.ip = "127.0.0.1";
    o.tls = f->ctx;
    o.handler = handler;
    o.timeout_s = 2;
    assert_int_equal(kl_http_server_listen(f->srv, &o, &f->port), KL_OK);
    assert_int_equal(kl_http_client_new(&f->cli, f->base), KL_OK);
    return f;
}

static void
stop(fixture *f)
{
    kl_http_client_free(f->cli);
    kl_http_server_free(f->srv);
    event_base_free(f->base);
    SSL_CTX_free(f->ctx);
    kl_free(f);
}

typedef struct {
    bool done;
    kl_rc rc;
    int status;
    char body[512];
} result;

static void
on_done(const kl_http_response *resp, void *payload)
{
    result *r = payload;

    r->done = true;
    r->rc = resp->rc;
    r->status = resp->status;
    snprintf(r->body, sizeof(r->body), "%.*s", (int)resp->body.len,
             resp->body.ptr ? (const char *)resp->body.ptr : "");
}

static result
get(fixture *f, const char *scheme, const char *path, const kl_tls_client_opts *t)
{
    char url[128];
    kl_http_request_opts o = {0};
    result r = {0};

    snprintf(url, sizeof(url), "%s://127.0.0.1:%u%s", scheme, f->port, path);
    o.method = "GET";
    o.url = url;
    o.tls = t;
    o.timeout_ms = 5000;
    assert_int_equal(kl_http_client_send(f->cli, &o, on_done, &r, NULL), KL_OK);
    assert_true(test_pump_until(f->base, &r.done, 6000));
    return r;
}

static void
test_tls_client_cert_optional(void **state)
{
    fixture *f = start(certs.server, certs.server_key, KL_TLS_CLIENT_OPTIONAL, true);
    kl_tls_client_opts with = {certs.client, certs.client_key, NULL, certs.ca, NULL, true};
    kl_tls_client_opts without = {NULL, NULL, NULL, certs.ca, NULL, true};
    kl_tls_client_opts other = {certs.other_client, certs.other_client_key, NULL, certs.ca, NULL,
                                 true};
    kl_tls_client_opts wrong_ca = {NULL, NULL, NULL, certs.other_ca, NULL, true};
    result r;

    (void)state;
    /* the server's certificate names nowhere.invalid: no host name check */
    r = get(f, "https", "/who", &with);
    assert_int_equal(r.rc, KL_OK);
    assert_string_equal(r.body, "{\"code\": 200, \"status\": \"Success\", \"results\": "
                                "{\"cn\": \"admin-client\", \"tls\": true}}");
    r = get(f, "https", "/who", &without);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"cn\": \"none\""));
    /* a certificate from another CA fails the handshake even if optional */
    r = get(f, "https", "/who", &other);
    assert_int_equal(r.rc, KL_EIO);
    /* the client does not trust the server */
    r = get(f, "https", "/who", &wrong_ca);
    assert_int_equal(r.rc, KL_EIO);
    /* admin routes: without a certificate 403 as upstream's authorization */
    r = get(f, "https", "/v2.6/agents", &without);
    assert_int_equal(r.status, 403);
    assert_string_equal(r.body, "{\"errors\": [{\"status\": \"403\", \"title\": \"Forbidden\", "
                                "\"detail\": \"Action list_registrations requires admin "
                                "authentication (mTLS certificate)\"}]}");
    r = get(f, "https", "/nameless", &without);
    assert_int_equal(r.status, 403);
    assert_non_null(strstr(r.body, "Could not determine required permissions"));
    r = get(f, "https", "/v2/agents", &with);
    assert_int_equal(r.status, 200);
    /* PY answers without a body */
    r = get(f, "https", "/v2.6/nothing", &with);
    assert_int_equal(r.status, 404);
    assert_string_equal(r.body, "");
    stop(f);
}

static void
test_tls_client_cert_required(void **state)
{
    fixture *f = start(certs.server, certs.server_key, KL_TLS_CLIENT_REQUIRED, true);
    kl_tls_client_opts with = {certs.client, certs.client_key, NULL, certs.ca, NULL, true};
    kl_tls_client_opts without = {NULL, NULL, NULL, certs.ca, NULL, true};
    kl_tls_client_opts other = {certs.other_client, certs.other_client_key, NULL, certs.ca, NULL,
                                 true};
    result r;

    (void)state;
    r = get(f, "https", "/who", &without);
    assert_int_equal(r.rc, KL_EIO);
    assert_int_equal(r.status, 0);
    r = get(f, "https", "/who", &other);
    assert_int_equal(r.rc, KL_EIO);
    r = get(f, "https", "/who", &with);
    assert_int_equal(r.rc, KL_OK);
    assert_non_null(strstr(r.body, "admin-client"));
    stop(f);
}

static void
test_tls_trust_self_signed_in_memory(void **state)
{
    fixture *f = start(certs.self, certs.self_key, KL_TLS_CLIENT_OPTIONAL, true);
    kl_tls_client_opts mem = {certs.client, certs.client_key, NULL, NULL, certs.self_pem, true};
    kl_tls_client_opts both = {certs.client, certs.client_key, NULL,
                               certs.ca,     certs.self_pem,   true};
    kl_tls_client_opts ca_only = {certs.client, certs.client_key, NULL, certs.ca, NULL, true};
    kl_tls_client_opts noverify = {NULL, NULL, NULL, NULL, NULL, false};
    result r;

    (void)state;
    r = get(f, "https", "/who", &mem);
    assert_int_equal(r.rc, KL_OK);
    assert_non_null(strstr(r.body, "admin-client"));
    r = get(f, "https", "/who", &both);
    assert_int_equal(r.rc, KL_OK);
    r = get(f, "https", "/who", &ca_only);
    assert_int_equal(r.rc, KL_EIO);
    r = get(f, "https", "/who", &noverify);
    assert_int_equal(r.rc, KL_OK);
    stop(f);
}

static void
test_tls_plain_http_on_tls_port(void **state)
{
    fixture *f = start(certs.server, certs.server_key, KL_TLS_CLIENT_OPTIONAL, true);
    const char *req = "GET /who HTTP/1.1\r\nHost: x\r\n\r\n";
    kl_buf out;

    (void)state;
    kl_buf_init(&out, 1 << 16);
    assert_true(test_raw_exchange(f->base, f->port, req, strlen(req), 0, &out, 3000));
    assert_int_equal(kl_buf_terminate(&out), KL_OK);
    assert_memory_equal(out.ptr, "HTTP/1.1 400 Bad Request\r\n", 26);
    assert_non_null(strstr((char *)out.ptr, "\r\n\r\n{\"code\": 400, \"status\": \"plain HTTP "
                                            "request sent to an HTTPS port; use https://\", "
                                            "\"results\": {}}"));
    /* the advertised Content-Length is right */
    assert_int_equal(strlen(strstr((char *)out.ptr, "\r\n\r\n") + 4), 96);
    /* other garbage: closed, nothing written */
    kl_buf_reset(&out);
    assert_true(test_raw_exchange(f->base, f->port, "\x00\x01\x02\x03zzzzzzzz", 12, 0, &out,
                                  3000));
    assert_int_equal(out.len, 0);
    /* the server still works */
    {
        kl_tls_client_opts t = {NULL, NULL, NULL, certs.ca, NULL, true};
        result r = get(f, "https", "/who", &t);
        assert_int_equal(r.status, 200);
    }
    kl_buf_free(&out);
    stop(f);
}

static void
test_tls_admin_over_plain_http(void **state)
{
    fixture *f = start(NULL, NULL, KL_TLS_CLIENT_OPTIONAL, false);
    result r;

    (void)state;
    r = get(f, "http", "/v2.6/agents", NULL);
    assert_int_equal(r.status, 400);
    assert_string_equal(r.body, "");
    r = get(f, "http", "/who", NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"tls\": false"));
    r = get(f, "http", "/v2.6/agents/x", NULL);
    assert_int_equal(r.status, 404);
    stop(f);
}

static void
test_tls_server_ctx_errors(void **state)
{
    SSL_CTX *ctx = NULL;
    const char *cas[] = {certs.ca};
    const char *bad_cas[] = {"/nonexistent/ca.pem"};
    kl_tls_server_opts o = {certs.server, certs.client_key, NULL, cas, 1, KL_TLS_CLIENT_OPTIONAL};

    (void)state;
    assert_int_equal(kl_tls_server_ctx(&ctx, &o), KL_ECRYPTO);
    assert_non_null(strstr(kl_err_msg(), "does not match"));
    o.key_file = certs.server_key;
    o.cert_file = "/nonexistent/cert.pem";
    assert_int_equal(kl_tls_server_ctx(&ctx, &o), KL_ECRYPTO);
    assert_non_null(strstr(kl_err_msg(), "/nonexistent/cert.pem"));
    o.cert_file = certs.server;
    o.client_cas = bad_cas;
    assert_int_equal(kl_tls_server_ctx(&ctx, &o), KL_ECRYPTO);
    assert_non_null(strstr(kl_err_msg(), "/nonexistent/ca.pem"));
    o.n_client_cas = 0;
    o.client_auth = KL_TLS_CLIENT_REQUIRED;
    assert_int_equal(kl_tls_server_ctx(&ctx, &o), KL_EINVAL);
    assert_null(ctx);
    assert_null(kl_tls_verified_peer(NULL));
}

/* kl_http_fetch runs its own loop: the server runs in a thread. */
typedef struct {
    struct event_base *base;
} thread_arg;

static void *
serve(void *arg)
{
    thread_arg *a = arg;
    struct timeval tv = {3, 0};

    event_base_loopexit(a->base, &tv);
    event_base_dispatch(a->base);
    return NULL;
}

static void
test_tls_fetch(void **state)
{
    fixture *f = start(certs.server, certs.server_key, KL_TLS_CLIENT_REQUIRED, true);
    kl_tls_client_opts t = {certs.client, certs.client_key, NULL, certs.ca, NULL, true};
    kl_http_request_opts o = {0};
    thread_arg a = {f->base};
    pthread_t th;
    char url[128];
    kl_buf body;
    int status = 0;

    (void)state;
    kl_buf_init(&body, 1024);
    snprintf(url, sizeof(url), "https://127.0.0.1:%u/who", f->port);
    o.method = "GET";
    o.url = url;
    o.tls = &t;
    assert_int_equal(pthread_create(&th, NULL, serve, &a), 0);
    assert_int_equal(kl_http_fetch(&status, &body, &o), KL_OK);
    assert_int_equal(status, 200);
    assert_int_equal(kl_buf_terminate(&body), KL_OK);
    assert_non_null(strstr((char *)body.ptr, "admin-client"));
    /* the caller's buffer caps the body */
    kl_buf_free(&body);
    kl_buf_init(&body, 10);
    assert_int_equal(kl_http_fetch(&status, &body, &o), KL_ETOOBIG);
    pthread_join(th, NULL);
    kl_buf_free(&body);
    stop(f);
}

static int
group_setup(void **state)
{
    (void)state;
    return test_certs_make(&certs) ? 0 : -1;
}

static int
group_teardown(void **state)
{
    (void)state;
    test_certs_remove(&certs);
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls_client_cert_optional),
        cmocka_unit_test(test_tls_client_cert_required),
        cmocka_unit_test(test_tls_trust_self_signed_in_memory),
        cmocka_unit_test(test_tls_plain_http_on_tls_port),
        cmocka_unit_test(test_tls_admin_over_plain_http),
        cmocka_unit_test(test_tls_server_ctx_errors),
        cmocka_unit_test(test_tls_fetch),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
