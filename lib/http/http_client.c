/* http_client: libcurl's multi interface driven by a libevent loop.
 *
 * One CURLM per client, so curl's connection cache keeps connections
 * alive and reuses them for later requests to the same host with the same
 * TLS settings. curl tells us which sockets to watch (sock_cb) and when to
 * call it back (timer_cb); finished transfers are collected after each
 * curl_multi_socket_action and their callbacks run from there, never from
 * inside kl_http_client_send. A callback may send, cancel or free the
 * client: freeing is deferred until the collecting loop has returned.
 */
#define KL_LOGMODULE "http"
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "http/http_client.h"
#include "util/kl_alloc.h"
#include "util/kl_log.h"

typedef struct sock_watch sock_watch;

struct sock_watch {
    struct event *ev;
    sock_watch *prev, *next;
};

struct kl_http_call {
    kl_http_client *c;
    CURL *easy;
    struct curl_slist *hdrs;
    kl_buf body;
    bool too_big;
    kl_http_done done;
    void *payload;
    char err[CURL_ERROR_SIZE];
    kl_http_call *prev, *next;
};

struct kl_http_client {
    struct event_base *base;
    CURLM *multi;
    struct event *timer;
    kl_http_call *calls;
    sock_watch *socks;
    int depth; /* > 0 while callbacks run */
    bool dead; /* kl_http_client_free was called from a callback */
};

static void check_done(kl_http_client *c);

/* --- curl <-> libevent --- */

static void
sock_event_cb(evutil_socket_t fd, short what, void *arg)
{
    kl_http_client *c = arg;
    int running = 0, action = 0;

    if (what & EV_READ)
        action |= CURL_CSELECT_IN;
    if (what & EV_WRITE)
        action |= CURL_CSELECT_OUT;
    curl_multi_socket_action(c->multi, fd, action, &running);
    check_done(c);
}

static void
timer_event_cb(evutil_socket_t fd, short what, void *arg)
{
    kl_http_client *c = arg;
    int running = 0;

    (void)fd;
    (void)what;
    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(c);
}

static void
watch_drop(kl_http_client *c, sock_watch *w)
{
    if (w->prev != NULL)
        w->prev->next = w->next;
    else
        c->socks = w->next;
    if (w->next != NULL)
        w->next->prev = w->prev;
    event_free(w->ev);
    kl_free(w);
}

static int
sock_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    kl_http_client *c = userp;
    sock_watch *w = socketp;
    short flags = EV_PERSIST;

    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (w != NULL)
            watch_drop(c, w);
        curl_multi_assign(c->multi, s, NULL);
        return 0;
    }
    if (w == NULL) {
        w = kl_calloc(1, sizeof(*w));
        if (w == NULL)
            return -1;
        w->next = c->socks;
        if (c->socks != NULL)
            c->socks->prev = w;
        c->socks = w;
        curl_multi_assign(c->multi, s, w);
    } else {
        event_free(w->ev);
    }
    if (what & CURL_POLL_IN)
        flags |= EV_READ;
    if (what & CURL_POLL_OUT)
        flags |= EV_WRITE;
    w->ev = event_new(c->base, s, flags, sock_event_cb, c);
    if (w->ev == NULL || event_add(w->ev, NULL) != 0)
        return -1;
    return 0;
}

static int
timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    kl_http_client *c = userp;
    struct timeval tv;

    (void)multi;
    if (timeout_ms < 0) {
        evtimer_del(c->timer);
        return 0;
    }
    tv.tv_sec = timeout_ms / 1000;
    tv.tv_usec = (timeout_ms % 1000) * 1000;
    return evtimer_add(c->timer, &tv) == 0 ? 0 : -1;
}

/* --- calls --- */

static void
call_destroy(kl_http_call *call)
{
    kl_http_client *c = call->c;

    if (call->prev != NULL)
        call->prev->next = call->next;
    else
        c->calls = call->next;
    if (call->next != NULL)
        call->next->prev = call->prev;
    curl_multi_remove_handle(c->multi, call->easy);
    curl_easy_cleanup(call->easy);
    curl_slist_free_all(call->hdrs);
    kl_buf_free(&call->body);
    kl_free(call);
}

static void
call_finish(kl_http_call *call, CURLcode result)
{
    kl_http_response resp = {KL_OK, 0, NULL, KL_BYTES(NULL, 0)};
    long status = 0;

    curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &status);
    resp.status = (int)status;
    if (result == CURLE_OPERATION_TIMEDOUT)
        resp.rc = KL_ETIMEOUT;
    else if (result == CURLE_WRITE_ERROR && call->too_big)
        resp.rc = KL_ETOOBIG;
    else if (result != CURLE_OK)
        resp.rc = KL_EIO;
    if (resp.rc == KL_ETOOBIG)
        resp.error = "the response is larger than allowed";
    else if (resp.rc != KL_OK)
        resp.error = call->err[0] ? call->err : curl_easy_strerror(result);
    else
        resp.body = kl_buf_bytes(&call->body);
    /* the handle leaves curl before the callback, which may free the client */
    curl_multi_remove_handle(call->c->multi, call->easy);
    call->done(&resp, call->payload);
    call_destroy(call);
}

static void
client_destroy(kl_http_client *c)
{
    while (c->calls != NULL)
        call_destroy(c->calls);
    curl_multi_cleanup(c->multi);
    while (c->socks != NULL)
        watch_drop(c, c->socks);
    event_free(c->timer);
    kl_free(c);
}

static void
check_done(kl_http_client *c)
{
    CURLMsg *msg;
    int left = 0;

    c->depth++;
    while (!c->dead && (msg = curl_multi_info_read(c->multi, &left)) != NULL) {
        kl_http_call *call = NULL;
        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&call);
        if (call != NULL)
            call_finish(call, msg->data.result);
    }
    c->depth--;
    if (c->dead && c->depth == 0)
        client_destroy(c);
}

static size_t
write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    kl_http_call *call = userdata;
    size_t n = size * nmemb;

    if (kl_buf_append(&call->body, ptr, n) != KL_OK) {
        call->too_big = true;
        return 0;
    }
    return n;
}

kl_rc
kl_http_client_new(kl_http_client **out, struct event_base *base)
{
    kl_http_client *c;

    *out = NULL;
    if (base == NULL)
        return kl_err_set(KL_EINVAL, "http: client needs an event base");
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return kl_err_set(KL_EIO, "http: curl_global_init failed");
    c = kl_calloc(1, sizeof(*c));
    if (c == NULL)
        return kl_err_set(KL_ENOMEM, "http: out of memory");
    c->base = base;
    c->multi = curl_multi_init();
    c->timer = evtimer_new(base, timer_event_cb, c);
    if (c->multi == NULL || c->timer == NULL) {
        if (c->multi != NULL)
            curl_multi_cleanup(c->multi);
        if (c->timer != NULL)
            event_free(c->timer);
        kl_free(c);
        return kl_err_set(KL_ENOMEM, "http: cannot create the curl multi handle");
    }
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    *out = c;
    return KL_OK;
}

void
kl_http_client_free(kl_http_client *c)
{
    if (c == NULL)
        return;
    if (c->depth > 0) {
        /* from a callback: drop the calls now, the rest when it returns */
        c->dead = true;
        while (c->calls != NULL)
            call_destroy(c->calls);
        return;
    }
    client_destroy(c);
}

void
kl_http_client_set_max_idle(kl_http_client *c, long n)
{
    if (c != NULL && n > 0)
        curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, n);
}

void
kl_http_client_cancel(kl_http_client *c, kl_http_call *call)
{
    if (c == NULL || call == NULL)
        return;
    call_destroy(call);
}

/* Keylime's TLS rules for a request (PROTOCOL.md 11.4): our CAs only (no
 * system bundle once any trust is configured), peer verified, host name
 * never checked; TLS 1.2 or later. */
static kl_rc
set_tls(CURL *e, const kl_tls_client_opts *t)
{
    CURLcode r = CURLE_OK;

    if (t == NULL)
        return KL_OK;
    if (t->cert_file != NULL)
        r = curl_easy_setopt(e, CURLOPT_SSLCERT, t->cert_file);
    if (r == CURLE_OK && t->key_file != NULL)
        r = curl_easy_setopt(e, CURLOPT_SSLKEY, t->key_file);
    if (r == CURLE_OK && t->key_password != NULL && t->key_password[0] != '\0')
        r = curl_easy_setopt(e, CURLOPT_KEYPASSWD, t->key_password);
    if (r == CURLE_OK && (t->ca_file != NULL || t->ca_pem != NULL)) {
        r = curl_easy_setopt(e, CURLOPT_CAINFO, t->ca_file);
        if (r == CURLE_OK)
            r = curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
    }
    if (r == CURLE_OK && t->ca_pem != NULL) {
        struct curl_blob blob = {(void *)(uintptr_t)t->ca_pem, strlen(t->ca_pem),
                                 CURL_BLOB_COPY};
        r = curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
    }
    if (r == CURLE_OK)
        r = curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, t->verify_peer ? 1L : 0L);
    if (r == CURLE_OK)
        r = curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    if (r != CURLE_OK)
        return kl_err_set(KL_EINVAL, "http: TLS options: %s", curl_easy_strerror(r));
    return KL_OK;
}

static kl_rc
set_method_body(kl_http_call *call, const kl_http_request_opts *o)
{
    CURL *e = call->easy;
    CURLcode r = CURLE_OK;
    bool has_body = o->body.len > 0;

    if (has_body || strcmp(o->method, "POST") == 0 || strcmp(o->method, "PUT") == 0) {
        r = curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)o->body.len);
        if (r == CURLE_OK)
            r = curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, has_body ? (const char *)o->body.ptr
                                                                      : "");
        call->hdrs = curl_slist_append(call->hdrs, "Expect:");
        if (has_body && call->hdrs != NULL)
            call->hdrs = curl_slist_append(call->hdrs, "Content-Type: application/json");
        if (call->hdrs == NULL)
            return kl_err_set(KL_ENOMEM, "http: out of memory");
        if (r == CURLE_OK)
            r = curl_easy_setopt(e, CURLOPT_HTTPHEADER, call->hdrs);
    }
    if (r == CURLE_OK && strcmp(o->method, "GET") != 0)
        r = curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, o->method);
    if (r != CURLE_OK)
        return kl_err_set(KL_EINVAL, "http: request options: %s", curl_easy_strerror(r));
    return KL_OK;
}

static kl_rc
call_setup(kl_http_call *call, const kl_http_request_opts *o)
{
    CURL *e = call->easy;
    CURLcode r;

    r = curl_easy_setopt(e, CURLOPT_URL, o->url);
    if (r == CURLE_OK)
        r = curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    if (r == CURLE_OK)
        r = curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    if (r == CURLE_OK)
        r = curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(o->timeout_ms ? o->timeout_ms : 60000));
    if (r == CURLE_OK)
        r = curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (r == CURLE_OK)
        r = curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    if (r == CURLE_OK)
        r = curl_easy_setopt(e, CURLOPT_WRITEDATA, call);
    if (r == CURLE_OK)
        r = curl_easy_setopt(e, CURLOPT_ERRORBUFFER, call->err);
    if (r == CURLE_OK)
        r = curl_easy_setopt(e, CURLOPT_PRIVATE, call);
    if (r != CURLE_OK)
        return kl_err_set(KL_EINVAL, "http: request options for '%s': %s", o->url,
                          curl_easy_strerror(r));
    if (set_tls(e, o->tls) != KL_OK)
        return KL_EINVAL;
    return set_method_body(call, o);
}

kl_rc
kl_http_client_send(kl_http_client *c, const kl_http_request_opts *o, kl_http_done done,
                    void *payload, kl_http_call **call_out)
{
    kl_http_call *call;
    size_t max = o->max_response ? o->max_response : (16u << 20);
    kl_rc rc;

    if (call_out != NULL)
        *call_out = NULL;
    if (c == NULL || c->dead || o == NULL || o->url == NULL || o->method == NULL || done == NULL)
        return kl_err_set(KL_EINVAL, "http: send needs a client, a method, a URL and a callback");
    call = kl_calloc(1, sizeof(*call));
    if (call == NULL)
        return kl_err_set(KL_ENOMEM, "http: out of memory");
    call->c = c;
    call->done = done;
    call->payload = payload;
    kl_buf_init(&call->body, max + 1); /* a kl_buf holds max - 1 bytes */
    call->next = c->calls;
    if (c->calls != NULL)
        c->calls->prev = call;
    c->calls = call;
    call->easy = curl_easy_init();
    if (call->easy == NULL) {
        rc = kl_err_set(KL_ENOMEM, "http: curl_easy_init failed");
        goto out;
    }
    rc = call_setup(call, o);
    if (rc == KL_OK && curl_multi_add_handle(c->multi, call->easy) != CURLM_OK)
        rc = kl_err_set(KL_EIO, "http: cannot start the request to '%s'", o->url);
out:
    if (rc != KL_OK) {
        call_destroy(call);
        return rc;
    }
    if (call_out != NULL)
        *call_out = call;
    return KL_OK;
}

/* --- blocking fetch --- */

typedef struct {
    bool finished;
    kl_rc rc;
    int status;
    kl_buf *body;
    char error[CURL_ERROR_SIZE];
} fetch_state;

static void
fetch_done(const kl_http_response *resp, void *payload)
{
    fetch_state *st = payload;

    st->finished = true;
    st->rc = resp->rc;
    st->status = resp->status;
    if (resp->error != NULL)
        snprintf(st->error, sizeof(st->error), "%s", resp->error);
    if (resp->rc == KL_OK && resp->body.len > 0 &&
        kl_buf_append(st->body, resp->body.ptr, resp->body.len) != KL_OK) {
        st->rc = KL_ETOOBIG;
        snprintf(st->error, sizeof(st->error), "the response does not fit the buffer");
    }
}

kl_rc
kl_http_fetch(int *status, kl_buf *body, const kl_http_request_opts *o)
{
    fetch_state st = {false, KL_OK, 0, body, ""};
    struct event_base *base = event_base_new();
    kl_http_client *c = NULL;
    kl_rc rc;

    *status = 0;
    if (base == NULL)
        return kl_err_set(KL_ENOMEM, "http: cannot create an event loop");
    rc = kl_http_client_new(&c, base);
    if (rc == KL_OK)
        rc = kl_http_client_send(c, o, fetch_done, &st, NULL);
    while (rc == KL_OK && !st.finished) {
        if (event_base_loop(base, EVLOOP_ONCE) < 0)
            rc = kl_err_set(KL_EIO, "http: event loop failed");
    }
    if (rc == KL_OK && st.rc != KL_OK)
        rc = kl_err_set(st.rc, "http: %s %s: %s", o->method, o->url, st.error);
    *status = st.status;
    kl_http_client_free(c);
    event_base_free(base);
    return rc;
}
