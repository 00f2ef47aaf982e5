/* ver_poll: the poll loop, upstream's process_agent / invoke_get_quote /
 * invoke_provide_v (PROTOCOL.md 6.2), one agent at a time, all on the event
 * loop. Each agent has one timer and at most one request in flight:
 *
 *   START -> quote (pubkey asked) -> ok: PROVIDE_V (V sent once, after the
 *   first good quote) -> GET_QUOTE every quote_interval (partial=1)
 *   no answer / 408 / 500: retry after retry_interval ** n (exponential
 *   backoff), n = 1..max_retries, then FAILED (not_reachable)
 *   failed checks: INVALID_QUOTE, revocation sent; polling stops unless the
 *   failure is recoverable and below the highest severity (then the next
 *   quote is asked at once, as upstream does)
 *   TERMINATED (DELETE while a request was in flight): deleted when it ends
 */
#define KL_LOGMODULE "verifier"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "crypto/cipher.h"
#include "json/json.h"
#include "util/kl_alloc.h"
#include "util/kl_b64.h"
#include "util/kl_log.h"
#include "verifier.h"

enum { ACT_QUOTE = 0, ACT_QUOTE_FULL, ACT_VKEY };

static void send_quote(ver_agent *a, bool need_pubkey);
static void send_vkey(ver_agent *a);

kl_rc
ver_nonce(char out[21])
{
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    uint8_t r[64];
    size_t n = 0;

    while (n < 20) {
        kl_rc rc = kl_rand_bytes(r, sizeof(r));

        if (rc != KL_OK)
            return rc;
        for (size_t i = 0; i < sizeof(r) && n < 20; i++)
            if (r[i] < 248) /* 248 = 4 * 62: no bias */
                out[n++] = alnum[r[i] % 62];
    }
    out[20] = 0;
    return KL_OK;
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
    ver_agent *a = arg;

    (void)fd;
    (void)what;
    if (a->action == ACT_VKEY)
        send_vkey(a);
    else
        send_quote(a, a->action == ACT_QUOTE_FULL);
}

static void
schedule(ver_agent *a, double seconds, int action)
{
    struct timeval tv;

    if (!a->timer)
        a->timer = evtimer_new(a->ctx->base, on_timer, a);
    if (!a->timer) {
        LOG_ERR("agent %s: cannot create a timer (out of memory); polling stops", a->id);
        return;
    }
    a->action = action;
    tv.tv_sec = (time_t)seconds;
    tv.tv_usec = (suseconds_t)((seconds - (double)tv.tv_sec) * 1e6);
    evtimer_add(a->timer, &tv);
}

bool
ver_poll_busy(const ver_agent *a)
{
    return a->call != NULL;
}

void
ver_poll_stop(ver_ctx *ctx, ver_agent *a)
{
    if (a->timer)
        evtimer_del(a->timer);
    if (a->call)
        kl_http_client_cancel(ctx->http, a->call);
    a->call = NULL;
}

void
ver_poll_start(ver_ctx *ctx, ver_agent *a)
{
    ver_poll_stop(ctx, a);
    a->state = VER_START;
    a->retries = 0;
    a->provide_v = true;
    ver_store_dirty(ctx, a);
    schedule(a, 0, ACT_QUOTE_FULL);
}

/* The agent was deleted while its request was in flight. */
static bool
terminated(ver_agent *a)
{
    ver_ctx *ctx = a->ctx;

    if (a->state != VER_TERMINATED)
        return false;
    LOG_INFO("agent %s: deleted by the tenant", a->id);
    if (ver_store_delete_agent(ctx, a->id) != KL_OK)
        LOG_ERR("agent %s: cannot delete its row: %s", a->id, kl_err_msg());
    ver_poll_stop(ctx, a);
    ver_table_remove(&ctx->agents, a);
    if (a->dirty)
        ctx->n_dirty--;
    ver_agent_free(a);
    return true;
}

/* ------------------------------------------------------------- failures */

/* Upstream's process_agent with FAILED or INVALID_QUOTE: a higher severity
 * than stored changes the state (and, for INVALID_QUOTE, notifies); an
 * irrecoverable failure or one at the highest severity stops polling,
 * otherwise the next quote is asked at once. Consumes v. */
static void
fail(ver_agent *a, int state, kl_verdict *v)
{
    ver_ctx *ctx = a->ctx;
    int idx = kl_severity_assign(ctx->severity, v);
    const kl_failure *ev = idx >= 0 ? &v->items[idx] : NULL;
    int level = ev ? ev->severity : kl_severity_max(ctx->severity);
    bool stop = v->irrecoverable || level >= kl_severity_max(ctx->severity);
    const char *reason;
    kl_buf ctxt;

    /* contexts can be large (the example policy explains itself at
     * length): log at most 8 KiB of it */
    kl_buf_init(&ctxt, 64u << 20);
    if (!ev || kl_json_dump_py(&ctxt, ev->context) != KL_OK || kl_buf_terminate(&ctxt) != KL_OK)
        kl_buf_reset(&ctxt);
    reason = ev ? json_string_value(json_object_get(ev->context, "reason")) : NULL;
    LOG_WARN("agent %s: %s: %s %s%s%s%.*s%s", a->id,
             state == VER_FAILED ? "Failed" : "Invalid Quote", ev ? ev->event_id : "(no event)",
             reason ? "reason: " : "", reason ? reason : "", reason ? "; " : "",
             (int)(ctxt.len > 8192 ? 8192 : ctxt.len), ctxt.len ? (const char *)ctxt.ptr : "",
             ctxt.len > 8192 ? " [...]" : "");
    kl_buf_free(&ctxt);
    if (a->severity < 0 || a->severity < level) {
        a->severity = level;
        kl_free(a->last_event_id);
        a->last_event_id = ev ? kl_strdup(ev->event_id) : NULL;
        a->state = state;
        if (state == VER_INVALID_QUOTE)
            ver_notify(ctx, a, "revocation", ev);
    }
    ver_store_dirty(ctx, a);
    kl_verdict_free(v);
    if (stop)
        LOG_WARN("agent %s: attestation stopped (state %d); reactivate it with the tenant once "
                 "the cause is fixed", a->id, a->state);
    else
        send_quote(a, false);
}

static void
fail_internal(ver_agent *a, const char *id, const char *msg)
{
    kl_verdict v = KL_VERDICT_INIT;
    char event[64];

    snprintf(event, sizeof(event), "internal.verifier.%s", id);
    if (kl_verdict_add_msg(&v, event, false, "%s", msg) != KL_OK)
        v.irrecoverable = true;
    fail(a, VER_FAILED, &v);
}

/* 408/500/no answer: retry, or give up after max_retries. */
static void
retry(ver_agent *a, bool vkey)
{
    const ver_config *c = a->ctx->cfg;
    double base = c->retry_interval, wait = base;

    if (a->retries >= c->max_retries) {
        LOG_WARN("agent %s was not reachable %s in %d tries, setting state to Failed", a->id,
                 vkey ? "to provide V" : "for quote", a->retries);
        if (vkey || a->st.attestation_count > 0) {
            kl_verdict v = KL_VERDICT_INIT;

            if (kl_verdict_add_msg(&v, vkey ? "internal.verifier.not_reachable_v"
                                            : "internal.verifier.not_reachable",
                                   false, "%s", vkey ? "agent was not reachable to provide V"
                                                     : "agent was not reachable from verifier") ==
                KL_OK) {
                kl_severity_assign(a->ctx->severity, &v);
                ver_notify(a->ctx, a, "comm_error", &v.items[0]);
            }
            kl_verdict_free(&v);
        }
        fail_internal(a, vkey ? "not_reachable_v" : "not_reachable",
                      vkey ? "agent was not reachable to provide V"
                           : "agent was not reachable from verifier");
        return;
    }
    a->retries++;
    if (c->exponential_backoff && base > 1)
        wait = pow(base, a->retries);
    LOG_INFO("agent %s (%s:%lld) not reachable, try %d/%lld again in %.1f s", a->id, a->ip,
             (long long)a->port, a->retries, c->max_retries, wait);
    schedule(a, wait, vkey ? ACT_VKEY : ACT_QUOTE_FULL);
}

/* ------------------------------------------------------------ requests */

/* "https://ip:port" (http:// when mTLS is off for this agent). */
static void
agent_base(char *out, size_t n, const ver_agent *a)
{
    bool tls = a->ctx->cfg->enable_agent_mtls && a->mtls_cert && strcmp(a->mtls_cert, "disabled");
    bool v6 = strchr(a->ip, ':') != NULL;

    snprintf(out, n, "%s://%s%s%s:%lld", tls ? "https" : "http", v6 ? "[" : "", a->ip,
             v6 ? "]" : "", (long long)a->port);
}

static void
agent_url(char *out, size_t n, const ver_agent *a, const char *path)
{
    char base[300];

    agent_base(base, sizeof(base), a);
    snprintf(out, n, "%s/v%s/%s", base, a->supported_version, path);
}

static kl_rc
agent_send(ver_agent *a, const char *method, const char *url, kl_bytes body, kl_http_done done)
{
    ver_ctx *ctx = a->ctx;
    kl_tls_client_opts tls = ctx->agent_tls;
    kl_http_request_opts o = {0};

    tls.ca_pem = a->mtls_cert;
    o.method = method;
    o.url = url;
    o.body = body;
    o.tls = strncmp(url, "https:", 6) ? NULL : &tls;
    o.timeout_ms = (unsigned)(ctx->cfg->request_timeout * 1000);
    o.max_response = (size_t)ctx->cfg->max_upload_size;
    return kl_http_client_send(ctx->http, &o, done, a, &a->call);
}

static void on_quote(const kl_http_response *resp, void *payload);

static void
send_quote(ver_agent *a, bool need_pubkey)
{
    char url[1024], path[256];

    if (ver_nonce(a->nonce) != KL_OK) {
        fail_internal(a, "exception", "cannot make a nonce");
        return;
    }
    snprintf(path, sizeof(path), "quotes/integrity?nonce=%s&mask=%s&partial=%s&ima_ml_entry=%zu",
             a->nonce, a->mask, need_pubkey ? "0" : "1", a->st.ima.next_entry);
    agent_url(url, sizeof(url), a, path);
    if (a->state == VER_START)
        a->state = VER_GET_QUOTE;
    if (agent_send(a, "GET", url, (kl_bytes){NULL, 0}, on_quote) != KL_OK)
        fail_internal(a, "exception", kl_err_msg());
}

static void on_vkey(const kl_http_response *resp, void *payload);

static kl_rc
encrypt_v(ver_agent *a)
{
    kl_pubkey *key = NULL;
    kl_buf v, enc;
    kl_rc rc;

    kl_buf_init(&v, 64);
    kl_buf_init(&enc, 4096);
    rc = kl_pubkey_load_pem(&key, kl_buf_bytes(&a->pubkey));
    if (rc == KL_OK)
        rc = kl_b64_decode_append(&v, KL_BYTES_CSTR(a->v), false);
    if (rc == KL_OK)
        rc = kl_pubkey_rsa_oaep_encrypt(key, KL_HASH_SHA1, (kl_bytes){NULL, 0}, kl_buf_bytes(&v),
                                        &enc);
    kl_buf_reset(&a->enc_v);
    if (rc == KL_OK)
        rc = kl_b64_encode_append(&a->enc_v, enc.ptr, enc.len);
    kl_buf_free_secret(&v);
    kl_buf_free(&enc);
    kl_pubkey_free(key);
    return rc;
}

static void
send_vkey(ver_agent *a)
{
    char url[512];
    kl_buf body;
    kl_rc rc = KL_OK;

    a->state = VER_PROVIDE_V;
    if (a->enc_v.len == 0)
        rc = encrypt_v(a);
    kl_buf_init(&body, 8192);
    if (rc == KL_OK)
        rc = kl_buf_printf(&body, "{\"encrypted_key\": \"%.*s\"}", (int)a->enc_v.len,
                           (const char *)a->enc_v.ptr);
    agent_url(url, sizeof(url), a, "keys/vkey");
    if (rc == KL_OK)
        rc = agent_send(a, "POST", url, kl_buf_bytes(&body), on_vkey);
    kl_buf_free(&body);
    if (rc != KL_OK)
        fail_internal(a, "exception", kl_err_msg());
}

/* The next step after a good quote: V (once), then quotes. */
static void
next_after_ok(ver_agent *a)
{
    double q = a->ctx->cfg->quote_interval;

    a->retries = 0;
    if (a->provide_v && a->v) {
        send_vkey(a);
        return;
    }
    a->state = VER_GET_QUOTE;
    ver_store_dirty(a->ctx, a);
    if (q <= 0)
        send_quote(a, false);
    else
        schedule(a, q, ACT_QUOTE);
}

/* A 400 whose status says the API version is not supported. */
static bool
version_refused(const kl_http_response *resp)
{
    json_t *j = NULL;
    bool yes = false;

    if (resp->status == 400 && kl_json_parse(resp->body, "agent answer", &j) == KL_OK)
        yes = json_is_string(json_object_get(j, "status")) &&
              strstr(json_string_value(json_object_get(j, "status")),
                     "API version not supported") != NULL;
    json_decref(j);
    return yes;
}

static void renegotiate(ver_agent *a, bool vkey);

static bool
transport_trouble(ver_agent *a, const kl_http_response *resp, bool vkey)
{
    if (resp->rc != KL_OK || resp->status == 408 || resp->status == 500) {
        if (resp->rc != KL_OK)
            LOG_INFO("agent %s: %s", a->id, resp->error ? resp->error : "no answer");
        retry(a, vkey);
        return true;
    }
    if (version_refused(resp)) {
        renegotiate(a, vkey);
        return true;
    }
    if (resp->status != 200) {
        LOG_ERR("agent %s: unexpected %s answer %d", a->id, vkey ? "Provide V" : "Get Quote",
                resp->status);
        if (vkey)
            fail_internal(a, "no_v", "Unexpected provide V response");
        else
            fail_internal(a, "no_quote", "Unexpected Get Quote reponse from agent");
        return true;
    }
    return false;
}

static void
on_vkey(const kl_http_response *resp, void *payload)
{
    ver_agent *a = payload;

    a->call = NULL;
    if (terminated(a) || transport_trouble(a, resp, true))
        return;
    a->provide_v = false;
    LOG_INFO("agent %s: V delivered", a->id);
    next_after_ok(a);
}

/* ------------------------------------------------------ checking a quote */

static void
fill_inputs(ver_agent *a, kl_attest_inputs *in, const kl_runtime_policy *policy)
{
    const ver_config *c = a->ctx->cfg;

    memset(in, 0, sizeof(*in));
    in->ak = a->ak;
    in->nonce = KL_BYTES(a->nonce, strlen(a->nonce));
    in->tpm_policy = a->tpm_policy;
    in->runtime_policy = policy;
    in->tenant_keys = a->tenant_keys;
    in->have_mb_policy = a->mb && a->mb->text;
    in->mb_refstate = in->have_mb_policy ? KL_BYTES_CSTR(a->mb->text) : (kl_bytes){NULL, 0};
    in->mb_engine = a->ctx->mb_engine;
    in->mb_evaluate_always = !strcmp(c->measured_boot_evaluate, "always");
    in->tomtou_events = c->ignore_tomtou_errors;
    in->accept_hash = (const char *const *)a->accept[0];
    in->accept_enc = (const char *const *)a->accept[1];
    in->accept_sign = (const char *const *)a->accept[2];
    in->cached_pubkey = kl_buf_bytes(&a->pubkey);
}

static void
copy_alg(char *dst, size_t n, json_t *results, const char *key)
{
    const char *s = json_string_value(json_object_get(results, key));

    if (s)
        snprintf(dst, n, "%s", s);
}

/* After a good quote: counters, algorithms, and a new key means V again. */
static kl_rc
accept_quote(ver_agent *a, json_t *results, const kl_attest_result *res, bool got_pubkey)
{
    kl_bytes pk = res->pubkey;

    a->last_successful_attestation = (int64_t)time(NULL);
    copy_alg(a->hash_alg, sizeof(a->hash_alg), results, "hash_alg");
    copy_alg(a->enc_alg, sizeof(a->enc_alg), results, "enc_alg");
    copy_alg(a->sign_alg, sizeof(a->sign_alg), results, "sign_alg");
    if (!got_pubkey)
        a->provide_v = false;
    else if (!kl_bytes_eq(pk, kl_buf_bytes(&a->pubkey))) {
        kl_buf_reset(&a->pubkey);
        kl_buf_reset(&a->enc_v);
        a->provide_v = true;
        return kl_buf_append(&a->pubkey, pk.ptr, pk.len);
    }
    return KL_OK;
}

static void
check_quote(ver_agent *a, json_t *results)
{
    const kl_runtime_policy *policy = NULL;
    kl_verdict v = KL_VERDICT_INIT;
    kl_attest_inputs in;
    kl_attest_result res;
    bool got_pubkey = json_is_string(json_object_get(results, "pubkey"));
    kl_rc rc;

    rc = ver_rtpolicy_parsed(a->ctx, a->rt, &policy);
    if (rc != KL_OK) {
        fail_internal(a, "exception", kl_err_msg());
        return;
    }
    fill_inputs(a, &in, policy);
    rc = kl_attest_quote(&v, &res, &a->st, &in, results);
    a->last_received_quote = (int64_t)time(NULL);
    if (rc == KL_OK && !kl_verdict_failed(&v))
        rc = accept_quote(a, results, &res, got_pubkey);
    if (rc != KL_OK) {
        kl_verdict_free(&v);
        fail_internal(a, "exception", kl_err_msg());
        return;
    }
    if (kl_verdict_failed(&v)) {
        a->ctx->quotes_failed++;
        fail(a, VER_INVALID_QUOTE, &v);
        return;
    }
    kl_verdict_free(&v);
    a->ctx->quotes_ok++;
    LOG_DEBUG("agent %s: quote %llu ok", a->id, (unsigned long long)a->st.attestation_count);
    next_after_ok(a);
}

static void
on_quote(const kl_http_response *resp, void *payload)
{
    ver_agent *a = payload;
    json_t *j = NULL, *results;

    a->call = NULL;
    if (terminated(a) || transport_trouble(a, resp, false))
        return;
    if (kl_json_parse(resp->body, "the agent's quote answer", &j) != KL_OK ||
        !json_is_object(results = json_object_get(j, "results"))) {
        json_decref(j);
        fail_internal(a, "exception", "Agent caused the verifier to throw an exception");
        return;
    }
    check_quote(a, results);
    json_decref(j);
}

/* ------------------------------------------------- version renegotiation */

static const char *const our_versions[] = {"2.0", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6"};

static int
version_rank(const char *v)
{
    for (int i = 0; v && i < (int)(sizeof(our_versions) / sizeof(our_versions[0])); i++)
        if (!strcmp(v, our_versions[i]))
            return i;
    return -1;
}

/* The newest version both speak, from the agent's /version answer. */
static int
choose_version(json_t *results)
{
    json_t *list = json_object_get(results, "supported_versions"), *x;
    int best = version_rank(json_string_value(json_object_get(results, "supported_version")));
    size_t i;

    json_array_foreach(list, i, x) {
        int r = version_rank(json_string_value(x));

        if (r > best)
            best = r;
    }
    return best;
}

static void
on_version(const kl_http_response *resp, void *payload)
{
    ver_agent *a = payload;
    bool vkey = a->action == ACT_VKEY;
    json_t *j = NULL;
    int r = -1;
    char *v;

    a->call = NULL;
    if (terminated(a))
        return;
    if (resp->rc == KL_OK && resp->status == 200 &&
        kl_json_parse(resp->body, "the agent's /version answer", &j) == KL_OK)
        r = choose_version(json_object_get(j, "results"));
    json_decref(j);
    if (r < 0 || (a->st.attestation_count > 0 && r < version_rank(a->supported_version))) {
        fail_internal(a, "version_not_supported", "Agent API version not supported");
        return;
    }
    v = kl_strdup(our_versions[r]);
    if (!v) {
        fail_internal(a, "exception", "out of memory");
        return;
    }
    LOG_WARN("agent %s: API version %s refused by the agent; now using %s", a->id,
             a->supported_version, v);
    kl_free(a->supported_version);
    a->supported_version = v;
    ver_store_dirty(a->ctx, a);
    retry(a, vkey);
}

static void
renegotiate(ver_agent *a, bool vkey)
{
    char url[512], base[300];

    agent_base(base, sizeof(base), a);
    snprintf(url, sizeof(url), "%s/version", base);
    a->action = vkey ? ACT_VKEY : ACT_QUOTE_FULL;
    if (agent_send(a, "GET", url, (kl_bytes){NULL, 0}, on_version) != KL_OK)
        fail_internal(a, "exception", kl_err_msg());
}
