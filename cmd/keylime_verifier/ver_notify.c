/* ver_notify: revocation notifications (PROTOCOL.md section 10).
 *
 * The message is upstream's prepare_error JSON (same keys, order and
 * separators), signed RSA-PSS/SHA-256 with the agent's revocation key (the
 * RevocationNotifier key the tenant's --cert payload made), wrapped as
 * {"msg": ..., "signature": ...}. Channels: "agent" posts it to every agent
 * of this verifier (over each one's mTLS), the failing one included: upstream
 * means to skip it, but its loop sends it the message whenever it comes first
 * (always, with one agent), and deployments rely on that; we send each agent
 * one copy. "webhook" posts it to
 * webhook_url, retried with backoff until a 200 or 202. Sending never
 * blocks polling; each send is a small record freed when it finishes.
 */
#define KL_LOGMODULE "verifier"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "json/json.h"
#include "payload/revocation.h"
#include "util/kl_alloc.h"
#include "util/kl_log.h"
#include "verifier.h"

typedef struct ver_note {
    ver_ctx *ctx;
    char *target; /* agent id or webhook URL (logs) */
    char url[512];
    kl_buf body;
    char *ca_pem; /* the agent's mTLS certificate */
    bool webhook;
    int tries;
    kl_http_call *call;
    struct event *timer;
    struct ver_note *next, *prev;
} ver_note;

/* ------------------------------------------------------------- message */

static void
asctime_now(char *out, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;

    localtime_r(&t, &tm);
    strftime(out, n, "%a %b %e %H:%M:%S %Y", &tm); /* Python's time.asctime() */
}

static json_t *
build_msg(const ver_agent *a, const char *type, const kl_failure *ev, const char *label)
{
    char when[64];
    json_t *m;
    kl_buf ctxt;

    asctime_now(when, sizeof(when));
    m = json_pack("{s:s, s:s?, s:s, s:I, s:s?, s:s?, s:s}", "type", type, "ip", a->ip,
                  "agent_id", a->id, "port", (json_int_t)a->port, "tpm_policy",
                  a->tpm_policy_text, "meta_data", a->meta_data, "event_time", when);
    if (!m || !ev)
        return m;
    kl_buf_init(&ctxt, 1 << 20);
    if (kl_json_dump_py(&ctxt, ev->context) == KL_OK && kl_buf_terminate(&ctxt) == KL_OK) {
        json_object_set_new(m, "event_id", json_string(ev->event_id));
        json_object_set_new(m, "severity_label", json_string(label));
        json_object_set_new(m, "context", json_string((const char *)ctxt.ptr));
    }
    kl_buf_free(&ctxt);
    return m;
}

kl_rc
ver_notify_message(kl_buf *out, const ver_agent *a, const char *type, const kl_failure *ev,
                   const char *label)
{
    json_t *m = build_msg(a, type, ev, label), *env = NULL;
    kl_buf msg, sig;
    kl_rc rc = m ? KL_OK : kl_err_set(KL_ENOMEM, "out of memory");

    kl_buf_init(&msg, 1 << 20);
    kl_buf_init(&sig, 4096);
    if (rc == KL_OK)
        rc = kl_json_dump_py(&msg, m);
    if (rc == KL_OK && a->revocation_key && a->revocation_key[0])
        rc = kl_revocation_sign(&sig, KL_BYTES_CSTR(a->revocation_key), kl_buf_bytes(&msg));
    if (rc == KL_OK) {
        env = json_object();
        if (!env || json_object_set_new(env, "msg", kl_json_string_lossy(kl_buf_bytes(&msg))) ||
            json_object_set_new(env, "signature", kl_json_string_lossy(kl_buf_bytes(&sig))))
            rc = kl_err_set(KL_ENOMEM, "out of memory");
    }
    if (rc == KL_OK)
        rc = kl_json_dump_py(out, env);
    json_decref(m);
    json_decref(env);
    kl_buf_free(&msg);
    kl_buf_free(&sig);
    return rc;
}

/* ------------------------------------------------------------- sending */

static void
note_free(ver_note *n)
{
    ver_ctx *ctx = n->ctx;

    if (n->prev)
        n->prev->next = n->next;
    else
        ctx->notes = n->next;
    if (n->next)
        n->next->prev = n->prev;
    if (n->call)
        kl_http_client_cancel(ctx->http, n->call);
    if (n->timer)
        event_free(n->timer);
    kl_free(n->target);
    kl_free(n->ca_pem);
    kl_buf_free(&n->body);
    kl_free(n);
}

void
ver_notify_free_all(ver_ctx *ctx)
{
    while (ctx->notes)
        note_free(ctx->notes);
}

static void note_send(ver_note *n);

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    note_send(arg);
}

static void
on_sent(const kl_http_response *resp, void *payload)
{
    ver_note *n = payload;
    const ver_config *c = n->ctx->cfg;
    struct timeval tv;
    double wait = c->retry_interval;

    n->call = NULL;
    if (resp->rc == KL_OK && (resp->status == 200 || (n->webhook && resp->status == 202))) {
        LOG_INFO("revocation notification delivered to %s", n->target);
        note_free(n);
        return;
    }
    if (!n->webhook || n->tries >= c->max_retries) {
        LOG_WARN("revocation notification to %s failed: %s", n->target,
                 resp->rc != KL_OK ? (resp->error ? resp->error : "no answer") : "HTTP error");
        if (resp->rc == KL_OK)
            LOG_WARN("  (HTTP %d)", resp->status);
        note_free(n);
        return;
    }
    if (c->exponential_backoff && wait > 1)
        wait = pow(wait, n->tries);
    if (!n->timer)
        n->timer = evtimer_new(n->ctx->base, on_retry, n);
    tv.tv_sec = (time_t)wait;
    tv.tv_usec = (suseconds_t)((wait - (double)tv.tv_sec) * 1e6);
    if (!n->timer || evtimer_add(n->timer, &tv) != 0)
        note_free(n);
}

static void
note_send(ver_note *n)
{
    ver_ctx *ctx = n->ctx;
    kl_tls_client_opts tls = n->webhook ? ctx->hook_tls : ctx->agent_tls;
    kl_http_request_opts o = {0};

    if (!n->webhook)
        tls.ca_pem = n->ca_pem;
    o.method = "POST";
    o.url = n->url;
    o.body = kl_buf_bytes(&n->body);
    o.tls = strncmp(n->url, "https:", 6) ? NULL : &tls;
    o.timeout_ms = 60000;
    n->tries++;
    if (kl_http_client_send(ctx->http, &o, on_sent, n, &n->call) != KL_OK) {
        LOG_WARN("revocation notification to %s not sent: %s", n->target, kl_err_msg());
        note_free(n);
    }
}

static void
note_start(ver_ctx *ctx, const char *target, const char *url, const kl_buf *body,
           const char *ca_pem, bool webhook)
{
    ver_note *n = kl_calloc(1, sizeof(*n));

    if (!n)
        return;
    n->ctx = ctx;
    n->webhook = webhook;
    snprintf(n->url, sizeof(n->url), "%s", url);
    kl_buf_init(&n->body, body->len + 1);
    n->target = kl_strdup(target);
    n->ca_pem = ca_pem ? kl_strdup(ca_pem) : NULL;
    n->next = ctx->notes;
    if (ctx->notes)
        ctx->notes->prev = n;
    ctx->notes = n;
    if (!n->target || (ca_pem && !n->ca_pem) ||
        kl_buf_append(&n->body, body->ptr, body->len) != KL_OK) {
        note_free(n);
        return;
    }
    note_send(n);
}

typedef struct {
    ver_ctx *ctx;
    const kl_buf *body;
    size_t sent;
} fanout;

static void
to_agent(ver_agent *a, void *arg)
{
    fanout *f = arg;
    bool tls = f->ctx->cfg->enable_agent_mtls && a->mtls_cert &&
               strcmp(a->mtls_cert, "disabled");
    bool v6 = strchr(a->ip, ':') != NULL;
    char url[512];

    if (a->state == VER_TERMINATED)
        return;
    snprintf(url, sizeof(url), "%s://%s%s%s:%lld/v%s/notifications/revocation",
             tls ? "https" : "http", v6 ? "[" : "", a->ip, v6 ? "]" : "", (long long)a->port,
             a->supported_version);
    note_start(f->ctx, a->id, url, f->body, tls ? a->mtls_cert : NULL, false);
    f->sent++;
}

void
ver_notify(ver_ctx *ctx, ver_agent *a, const char *type, const kl_failure *ev)
{
    const kl_strlist *ch = &ctx->cfg->enabled_revocation_notifications;
    fanout f = {ctx, NULL, 0};
    kl_buf body;

    if (ch->n == 0)
        return;
    kl_buf_init(&body, 4 << 20);
    if (ver_notify_message(&body, a, type, ev,
                           ev ? kl_severity_label(ctx->severity, ev->severity) : "") != KL_OK) {
        LOG_ERR("agent %s: cannot build the revocation notification: %s", a->id, kl_err_msg());
        kl_buf_free(&body);
        return;
    }
    f.body = &body;
    if (kl_strlist_has(ch, "webhook"))
        note_start(ctx, ctx->cfg->webhook_url, ctx->cfg->webhook_url, &body, NULL, true);
    if (kl_strlist_has(ch, "agent"))
        ver_table_each(&ctx->agents, to_agent, &f);
    LOG_WARN("agent %s: %s notification sent to %zu agents%s", a->id, type, f.sent,
             kl_strlist_has(ch, "webhook") ? " and the webhook" : "");
    kl_buf_free(&body);
}
