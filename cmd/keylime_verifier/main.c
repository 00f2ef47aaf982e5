/* keylime_verifier: polls agents for quotes and checks them (signature,
 * nonce, PCRs, IMA list against the runtime policy, boot log against the
 * measured-boot policy), delivers V, tracks states and sends revocation
 * notifications; HTTPS API for the tenant. One event loop.
 * Usage: keylime_verifier [--check-config] [--help]. */
#define KL_LOGMODULE "verifier"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "http/http_server.h"
#include "tls/tls.h"
#include "util/kl_alloc.h"
#include "util/kl_log.h"
#include "verifier.h"

static void
usage(FILE *f)
{
    fputs("usage: keylime_verifier [--check-config] [--help]\n"
          "  Reads verifier.conf (/etc/keylime, /usr/etc/keylime, verifier.conf.d/ snippets,\n"
          "  KEYLIME_VERIFIER_CONFIG, KEYLIME_VERIFIER_<OPTION> overrides), serves the REST\n"
          "  API on https://[verifier] ip:port and polls the agents added with keylime_tenant.\n"
          "  --check-config  print the configuration with the origin of each value and exit\n",
          f);
}

static void
dispatch(kl_http_req *req, void *payload)
{
    kl_router_dispatch(&ver_router, req, payload);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    LOG_INFO("signal %d: shutting down", (int)sig);
    event_base_loopexit(arg, NULL);
}

static kl_rc
make_tls(SSL_CTX **srv, ver_ctx *ctx, ver_tls_paths *p)
{
    const ver_config *cfg = ctx->cfg;
    kl_tls_generate_opts g = {0};
    kl_tls_server_opts o = {0};
    kl_rc rc = ver_tls_resolve(p, cfg, ctx->work_dir);

    if (rc == KL_OK && !strcmp(cfg->tls_dir, "generate")) {
        g.bind_ip = cfg->ip;
        g.extra_sans = (const char *const *)cfg->cert_subject_alternative_names.items;
        g.n_extra_sans = cfg->cert_subject_alternative_names.n;
        g.key_password = cfg->server_key_password[0] ? cfg->server_key_password : NULL;
        rc = kl_tls_generate_dir(p->dir, &g);
    }
    if (rc != KL_OK)
        return rc;
    o.cert_file = p->server_cert;
    o.key_file = p->server_key;
    o.key_password = cfg->server_key_password;
    o.client_cas = (const char *const *)p->client_cas;
    o.n_client_cas = p->n_client_cas;
    o.client_auth = KL_TLS_CLIENT_OPTIONAL;
    /* towards agents: our client certificate, each agent's own certificate
     * as the only trust (set per request) */
    ctx->agent_tls.cert_file = p->client_cert;
    ctx->agent_tls.key_file = p->client_key;
    ctx->agent_tls.key_password = cfg->client_key_password;
    ctx->agent_tls.verify_peer = true;
    ctx->hook_tls = ctx->agent_tls;
    ctx->hook_tls.ca_file = p->server_ca;
    ctx->hook_tls.verify_peer = p->server_ca != NULL;
    return kl_tls_server_ctx(srv, &o);
}

static kl_rc
make_severity(ver_ctx *ctx)
{
    const ver_config *c = ctx->cfg;
    kl_rc rc = kl_severity_new(&ctx->severity, KL_BYTES_CSTR(c->severity_labels),
                               KL_BYTES_CSTR(c->severity_policy));

    if (rc != KL_OK)
        return kl_err_wrap(rc, "verifier.conf: severity_labels / severity_policy: ");
    return kl_mb_engine_find(c->measured_boot_policy_name, &ctx->mb_engine);
}

static void
start_agent(ver_agent *a, void *arg)
{
    ver_ctx *ctx = a->ctx;

    (void)arg;
    if (a->state == VER_TERMINATED) {
        /* deleted (202) while a request was in flight, then the verifier
         * stopped before it completed: finish the deletion now */
        if (ver_store_delete_agent(ctx, a->id) != KL_OK) {
            LOG_ERR("agent %s: cannot complete its deletion: %s", a->id, kl_err_msg());
            return;
        }
        LOG_INFO("agent %s: deletion completed", a->id);
        ver_table_remove(&ctx->agents, a);
        ver_agent_free(a);
        return;
    }
    /* upstream's APPROVED_REACTIVATE_STATES resume; the others stay as they are */
    if (a->state == VER_START || (a->state >= VER_GET_QUOTE && a->state <= VER_PROVIDE_V_RETRY)) {
        LOG_INFO("agent %s: resuming (state %d, %llu attestations, IMA from entry %zu)", a->id,
                 a->state, (unsigned long long)a->st.attestation_count, a->st.ima.next_entry);
        ver_poll_start(a->ctx, a);
    }
}

static kl_rc
serve(ver_ctx *ctx, SSL_CTX *tls)
{
    struct event *sigs[2] = {NULL, NULL};
    kl_http_server *srv = NULL;
    kl_http_listen_opts o = {0};
    uint16_t port = 0;
    kl_rc rc;

    rc = kl_http_server_new(&srv, ctx->base);
    o.ip = ctx->cfg->ip;
    o.port = (uint16_t)ctx->cfg->port;
    o.tls = tls;
    o.max_body = (size_t)ctx->cfg->max_upload_size;
    o.handler = dispatch;
    o.payload = ctx;
    if (rc == KL_OK)
        rc = kl_http_server_listen(srv, &o, &port);
    if (rc != KL_OK)
        goto out;
    sigs[0] = evsignal_new(ctx->base, SIGINT, on_signal, ctx->base);
    sigs[1] = evsignal_new(ctx->base, SIGTERM, on_signal, ctx->base);
    for (int i = 0; i < 2; i++)
        if (sigs[i])
            event_add(sigs[i], NULL);
    /* one kept-alive connection per agent (plus notifications) */
    kl_http_client_set_max_idle(ctx->http, (long)ctx->agents.count + 1024);
    ver_table_each(&ctx->agents, start_agent, NULL);
    LOG_INFO("listening on https://%s:%u; database %s; %zu agents resumed", ctx->cfg->ip, port,
             kl_db_engine(ctx->db), ctx->agents.count);
    fprintf(stderr, "keylime_verifier: ready on %s port %u (HTTPS), %zu agents\n", ctx->cfg->ip,
            port, ctx->agents.count);
    event_base_dispatch(ctx->base);
    ver_store_flush(ctx);
out:
    for (int i = 0; i < 2; i++)
        if (sigs[i])
            event_free(sigs[i]);
    kl_http_server_free(srv);
    return rc;
}

static void
free_agent(ver_agent *a, void *arg)
{
    ver_ctx *ctx = arg;

    ver_poll_stop(ctx, a);
    ver_agent_free(a);
}

static void
teardown(ver_ctx *ctx)
{
    ver_notify_free_all(ctx);
    ver_table_each(&ctx->agents, free_agent, ctx);
    kl_free(ctx->agents.buckets);
    kl_http_client_free(ctx->http);
    ver_policies_free(ctx->policies);
    kl_severity_free(ctx->severity);
    if (ctx->flush_timer)
        event_free(ctx->flush_timer);
    kl_db_close(ctx->db);
    if (ctx->base)
        event_base_free(ctx->base);
}

int
main(int argc, char **argv)
{
    ver_config cfg;
    ver_ctx ctx;
    ver_tls_paths paths;
    SSL_CTX *tls = NULL;
    int exit_code;
    kl_rc rc;

    memset(&cfg, 0, sizeof(cfg));
    memset(&ctx, 0, sizeof(ctx));
    memset(&paths, 0, sizeof(paths));
    exit_code = kl_config_cli(argc, argv, "keylime_verifier", usage, &cfg, &ver_config_spec);
    if (exit_code >= 0)
        return exit_code;
    ctx.cfg = &cfg;
    ctx.work_dir = kl_config_work_dir();
    ctx.base = event_base_new();
    rc = ctx.base ? ver_config_check(&cfg) : kl_err_set(KL_ENOMEM, "no event loop");
    if (rc == KL_OK)
        rc = make_severity(&ctx);
    if (rc == KL_OK)
        rc = make_tls(&tls, &ctx, &paths);
    if (rc == KL_OK)
        rc = ver_policies_new(&ctx.policies);
    if (rc == KL_OK)
        rc = kl_http_client_new(&ctx.http, ctx.base);
    if (rc == KL_OK)
        rc = ver_store_open(&ctx);
    if (rc == KL_OK)
        rc = ver_store_load_agents(&ctx);
    if (rc == KL_OK)
        rc = serve(&ctx, tls);
    if (rc != KL_OK)
        fprintf(stderr, "keylime_verifier: %s\n", kl_err_msg());
    teardown(&ctx);
    SSL_CTX_free(tls);
    ver_tls_paths_free(&paths);
    kl_config_free(&cfg, &ver_config_spec);
    return rc == KL_OK ? 0 : 1;
}
