/* http_client: HTTP(S) requests on the libcurl multi interface, driven by
 * a libevent loop.
 *
 * Connections are kept alive and reused per host and TLS identity (one
 * CURLM per client); any number of requests may be in flight. Every
 * request has a total timeout and a cap on the response body. TLS follows
 * kl_tls_client_opts: client certificate, trusted CAs from a file and/or
 * memory, peer verification on, host name checks off (Keylime's rule).
 */
#ifndef KL_HTTP_CLIENT_H
#define KL_HTTP_CLIENT_H

#include <stddef.h>

#include <event2/event.h>

#include "tls/tls.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"

typedef struct kl_http_client kl_http_client;
typedef struct kl_http_call kl_http_call;

typedef struct {
    kl_rc rc;          /* KL_OK when an HTTP answer arrived (any status);
                          KL_ETIMEOUT, KL_EIO (connect, TLS), KL_ETOOBIG */
    int status;        /* HTTP status, 0 without an answer */
    const char *error; /* what went wrong when rc != KL_OK (curl's message) */
    kl_bytes body;     /* borrowed for the callback's duration */
} kl_http_response;

typedef void (*kl_http_done)(const kl_http_response *resp, void *payload);

typedef struct {
    const char *method;       /* "GET", "POST", "PUT", "DELETE" */
    const char *url;          /* http:// or https:// */
    kl_bytes body;            /* sent with Content-Type: application/json if len > 0 */
    const kl_tls_client_opts *tls; /* NULL: library defaults (system CAs) */
    unsigned timeout_ms;      /* total; 0: 60000 */
    size_t max_response;      /* 0: 16 MiB */
} kl_http_request_opts;

/* Caller frees with kl_http_client_free, which cancels what is in flight
 * (their callbacks are not called). */
KL_MUST_CHECK kl_rc kl_http_client_new(kl_http_client **out, struct event_base *base);
void kl_http_client_free(kl_http_client *c);

/* Starts a request; done(resp, payload) is called exactly once from the
 * event loop (never from inside this call). *call_out (may be NULL) is a
 * handle for kl_http_client_cancel, valid until done runs. */
KL_MUST_CHECK kl_rc kl_http_client_send(kl_http_client *c, const kl_http_request_opts *o,
                                        kl_http_done done, void *payload,
                                        kl_http_call **call_out);
/* How many idle connections the client keeps open for reuse (curl's
 * CURLMOPT_MAXCONNECTS; by default four per request in flight). A poller
 * that talks to many peers in turn sets it to the number of peers, so that
 * each keeps its TLS connection between polls. */
void kl_http_client_set_max_idle(kl_http_client *c, long n);

/* Cancels a request in flight; its callback is not called. */
void kl_http_client_cancel(kl_http_client *c, kl_http_call *call);

/* Blocking convenience for command-line tools and start-up code (runs a
 * private loop). The body is appended to *body (capped by max_response);
 * *status gets the HTTP status. rc as in kl_http_response, with the error
 * detail in kl_err_msg(). */
KL_MUST_CHECK kl_rc kl_http_fetch(int *status, kl_buf *body, const kl_http_request_opts *o);

/* kl_http_fetch for plain http:// URLs (o->tls must be NULL) on libevent's
 * own HTTP client, without libcurl: for the agent, which registers over
 * plain HTTP and keeps its memory small. One connection per call
 * (Connection: close); the same answers and errors as kl_http_fetch. */
KL_MUST_CHECK kl_rc kl_http_fetch_plain(int *status, kl_buf *body,
                                        const kl_http_request_opts *o);

#endif
