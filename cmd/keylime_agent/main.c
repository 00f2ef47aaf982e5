/* keylime_agent: runs on each monitored node. Owns the TPM (EK, AK,
 * quotes), registers with the registrar, answers the verifier and tenant
 * over mutual TLS, combines U and V, runs the payload and revocation
 * actions. Usage: keylime_agent [--check-config] [--help]. */
#define KL_LOGMODULE "agent"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "agent.h"
#include "http/http_server.h"
#include "tls/tls.h"
#include "tpmdev/tpmdev.h"
#include "tpmdev/tpmdev_pcr.h"
#include "util/kl_log.h"

typedef struct {
    kl_router router;
    agent_ctx *a;
} agent_server;

static void
usage(FILE *f)
{
    fputs("usage: keylime_agent [--check-config] [--help]\n"
          "  Reads agent.conf (/etc/keylime, /usr/etc/keylime, agent.conf.d/ snippets,\n"
          "  KEYLIME_AGENT_CONFIG, KEYLIME_AGENT_<OPTION> overrides; TPM from TCTI or tcti),\n"
          "  registers with the registrar and serves the agent API on [agent] ip:port.\n"
          "  --check-config  print the configuration with the origin of each value and exit\n",
          f);
}

static void
dispatch(kl_http_req *req, void *payload)
{
    agent_server *s = payload;

    kl_router_dispatch(&s->router, req, s->a);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    LOG_INFO("signal %d: shutting down", (int)sig);
    event_base_loopexit(arg, NULL);
}

/* Payload scripts and revocation actions run in worker processes. */
static void
on_child(evutil_socket_t sig, short what, void *arg)
{
    int status;
    pid_t pid;

    (void)sig;
    (void)what;
    (void)arg;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
        LOG_INFO("worker %d ended (%s %d)", (int)pid, WIFEXITED(status) ? "status" : "signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

static kl_rc
server_tls(SSL_CTX **ctx, const agent_ctx *a)
{
    kl_tls_server_opts o = {0};

    o.cert_file = a->paths->server_cert;
    o.key_file = a->paths->server_key;
    o.key_password = a->cfg->server_key_password;
    o.client_cas = (const char *const *)a->paths->client_cas;
    o.n_client_cas = a->paths->n_client_cas;
    o.client_auth = KL_TLS_CLIENT_REQUIRED;
    return kl_tls_server_ctx(ctx, &o);
}

static kl_rc
prepare(agent_ctx *a)
{
    kl_rc rc;

    if (mkdir(a->paths->dir, 0700) != 0 && errno != EEXIST)
        return kl_err_set(KL_EIO, "cannot create keylime_dir %s: %s", a->paths->dir,
                          strerror(errno));
    if (!a->cfg->enable_agent_mtls && a->cfg->payload_script[0] &&
        !a->cfg->enable_insecure_payload)
        return kl_err_set(KL_EINVAL, "agent.conf: mTLS is disabled but payload_script is set; "
                                     "set enable_insecure_payload = true to accept payloads "
                                     "without mTLS, or set payload_script = \"\"");
    rc = agent_api_versions(&a->versions, a->cfg->api_versions);
    if (rc == KL_OK)
        rc = agent_identity_init(a);
    if (rc == KL_OK)
        rc = agent_keys_init(a);
    if (rc == KL_OK)
        rc = kl_tpmdev_pcr_bind(a->tpm, 16, a->hash, kl_buf_bytes(&a->nk_pem));
    if (rc == KL_OK)
        rc = agent_secure_dir(a);
    if (rc == KL_OK)
        rc = kl_uvstore_new(&a->uv, a->uuid);
    if (rc == KL_OK)
        rc = agent_register(a);
    if (rc == KL_OK) { /* the EK is only needed for activation */
        kl_tpmdev_key_free(a->ek);
        a->ek = NULL;
    }
    return rc;
}

static kl_rc
serve(agent_ctx *a)
{
    struct event *sigs[3] = {NULL, NULL, NULL};
    int signums[3] = {SIGINT, SIGTERM, SIGCHLD};
    agent_server srv = {agent_router_template, a};
    kl_http_listen_opts o = {0};
    kl_http_server *http = NULL;
    SSL_CTX *tls = NULL;
    uint16_t port = 0;
    kl_rc rc = KL_OK;

    srv.router.versions = (const char *const *)a->versions.items;
    srv.router.n_versions = a->versions.n;
    if (a->cfg->enable_agent_mtls)
        rc = server_tls(&tls, a);
    else
        LOG_WARN("mTLS is disabled: the agent API is served over plain HTTP");
    if (rc == KL_OK)
        rc = kl_http_server_new(&http, a->base);
    o.ip = a->cfg->ip;
    o.port = (uint16_t)a->cfg->port;
    o.tls = tls;
    o.max_body = 16u << 20;
    o.handler = dispatch;
    o.payload = &srv;
    if (rc == KL_OK)
        rc = kl_http_server_listen(http, &o, &port);
    if (rc == KL_OK)
        rc = agent_drop_privileges(a->cfg->run_as, a->paths->secure);
    if (rc != KL_OK)
        goto out;
    for (int i = 0; i < 3; i++) {
        sigs[i] = evsignal_new(a->base, signums[i], i == 2 ? on_child : on_signal, a->base);
        if (sigs[i])
            event_add(sigs[i], NULL);
    }
    LOG_INFO("agent %s serving on %s://%s:%u", a->uuid, tls ? "https" : "http", a->cfg->ip, port);
    fprintf(stderr, "keylime_agent: %s ready on %s port %u\n", a->uuid, a->cfg->ip, port);
#ifdef __GLIBC__
    malloc_trim(0); /* hand back what start-up (keys, TPM, registration) freed */
#endif
    event_base_dispatch(a->base);
out:
    for (int i = 0; i < 3; i++)
        if (sigs[i])
            event_free(sigs[i]);
    kl_http_server_free(http);
    SSL_CTX_free(tls);
    return rc;
}

int
main(int argc, char **argv)
{
    agent_config cfg;
    agent_paths paths;
    agent_ctx a;
    int exit_code;
    kl_rc rc;

    memset(&cfg, 0, sizeof(cfg));
    memset(&paths, 0, sizeof(paths));
    memset(&a, 0, sizeof(a));
    exit_code = kl_config_cli(argc, argv, "keylime_agent", usage, &cfg, &agent_config_spec);
    if (exit_code >= 0)
        return exit_code;
    rc = agent_paths_resolve(&paths, &cfg);
    a.cfg = &cfg;
    a.paths = &paths;
    if (rc == KL_OK && !(a.base = event_base_new()))
        rc = kl_err_set(KL_ENOMEM, "cannot create the event loop");
    if (rc == KL_OK)
        rc = prepare(&a);
    if (rc == KL_OK)
        rc = serve(&a);
    if (rc != KL_OK)
        fprintf(stderr, "keylime_agent: %s\n", kl_err_msg());
    kl_uvstore_free(a.uv);
    agent_keys_free(&a);
    agent_identity_free(&a);
    kl_strlist_free(&a.versions);
    if (a.base)
        event_base_free(a.base);
    agent_paths_free(&paths);
    kl_config_free(&cfg, &agent_config_spec);
    return rc == KL_OK ? 0 : 1;
}
