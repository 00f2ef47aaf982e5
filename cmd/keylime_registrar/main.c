/* keylime_registrar: stores agents' TPM identities and binds each AK to its
 * EK with a credential challenge. HTTP (agents register and activate) and
 * HTTPS with client certificates (the tenant reads and deletes), on one
 * event loop. Usage: keylime_registrar [--check-config] [--help]. */
#define KL_LOGMODULE "registrar"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "http/http_server.h"
#include "registrar.h"
#include "tls/tls.h"
#include "util/kl_log.h"

static void
usage(FILE *f)
{
    fputs("usage: keylime_registrar [--check-config] [--help]\n"
          "  Reads registrar.conf (/etc/keylime, /usr/etc/keylime, registrar.conf.d/ snippets,\n"
          "  KEYLIME_REGISTRAR_CONFIG, KEYLIME_REGISTRAR_<OPTION> overrides) and serves agents\n"
          "  on [registrar] ip:port (HTTP) and ip:tls_port (HTTPS, admin).\n"
          "  --check-config  print the configuration with the origin of each value and exit\n",
          f);
}

static void
dispatch(kl_http_req *req, void *payload)
{
    kl_router_dispatch(&reg_router, req, payload);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    LOG_INFO("signal %d: shutting down", (int)sig);
    event_base_loopexit(arg, NULL);
}

static kl_rc
open_db(kl_db **db, const reg_config *cfg, const char *work)
{
    kl_db_rows *rows = NULL;
    kl_rc rc = kl_db_open(db, cfg->database_url, work, "reg_data.sqlite");

    if (rc != KL_OK)
        return rc;
    if (cfg->auto_migrate_db)
        return reg_store_migrate(*db);
    rc = kl_db_query(*db, &rows, "SELECT COUNT(*) FROM registrarmain", NULL, 0);
    kl_db_rows_free(rows);
    if (rc != KL_OK)
        return kl_err_wrap(rc, "database has no registrarmain table and auto_migrate_db is off; "
                               "set auto_migrate_db = True once to create it: ");
    return KL_OK;
}

static kl_rc
make_tls(SSL_CTX **ctx, const reg_config *cfg, const char *work)
{
    reg_tls_paths p;
    kl_tls_generate_opts g = {0};
    kl_tls_server_opts o = {0};
    kl_rc rc;

    rc = reg_tls_resolve(&p, cfg, work);
    if (rc == KL_OK && !strcmp(cfg->tls_dir, "generate")) {
        g.bind_ip = cfg->ip;
        g.extra_sans = (const char *const *)cfg->cert_subject_alternative_names.items;
        g.n_extra_sans = cfg->cert_subject_alternative_names.n;
        g.key_password = cfg->server_key_password[0] ? cfg->server_key_password : NULL;
        rc = kl_tls_generate_dir(p.dir, &g);
    }
    if (rc == KL_OK) {
        o.cert_file = p.cert;
        o.key_file = p.key;
        o.key_password = cfg->server_key_password;
        o.client_cas = (const char *const *)p.client_cas;
        o.n_client_cas = p.n_client_cas;
        o.client_auth = KL_TLS_CLIENT_OPTIONAL;
        rc = kl_tls_server_ctx(ctx, &o);
    }
    reg_tls_paths_free(&p);
    return rc;
}

static kl_rc
serve(const reg_config *cfg, kl_db *db, SSL_CTX *tls)
{
    struct event_base *base = event_base_new();
    struct event *sigs[2] = {NULL, NULL};
    kl_http_server *srv = NULL;
    reg_ctx ctx = {cfg, db};
    kl_http_listen_opts o = {0};
    uint16_t port = 0, tls_port = 0;
    kl_rc rc;

    if (!base)
        return kl_err_set(KL_ENOMEM, "cannot create the event loop");
    rc = kl_http_server_new(&srv, base);
    o.ip = cfg->ip;
    o.max_body = (size_t)cfg->max_upload_size;
    o.handler = dispatch;
    o.payload = &ctx;
    o.port = (uint16_t)cfg->port;
    if (rc == KL_OK)
        rc = kl_http_server_listen(srv, &o, &port);
    o.port = (uint16_t)cfg->tls_port;
    o.tls = tls;
    if (rc == KL_OK)
        rc = kl_http_server_listen(srv, &o, &tls_port);
    if (rc != KL_OK)
        goto out;
    sigs[0] = evsignal_new(base, SIGINT, on_signal, base);
    sigs[1] = evsignal_new(base, SIGTERM, on_signal, base);
    for (int i = 0; i < 2; i++)
        if (sigs[i])
            event_add(sigs[i], NULL);
    LOG_INFO("listening on http://%s:%u (agents) and https://%s:%u (admin); database %s",
             cfg->ip, port, cfg->ip, tls_port, kl_db_engine(db));
    fprintf(stderr, "keylime_registrar: ready on %s ports %u (HTTP) and %u (HTTPS)\n", cfg->ip,
            port, tls_port);
    event_base_dispatch(base);
out:
    for (int i = 0; i < 2; i++)
        if (sigs[i])
            event_free(sigs[i]);
    kl_http_server_free(srv);
    event_base_free(base);
    return rc;
}

int
main(int argc, char **argv)
{
    reg_config cfg;
    const char *work = kl_config_work_dir();
    SSL_CTX *tls = NULL;
    kl_db *db = NULL;
    int exit_code;
    kl_rc rc = KL_OK;

    memset(&cfg, 0, sizeof(cfg));
    exit_code = kl_config_cli(argc, argv, "keylime_registrar", usage, &cfg, &reg_config_spec);
    if (exit_code >= 0)
        return exit_code;
    if (!strcmp(cfg.tpm_identity, "iak_idevid"))
        rc = kl_err_set(KL_EUNSUPPORTED,
                        "registrar.conf: tpm_identity = iak_idevid is not supported by this "
                        "registrar; use 'default' or 'ek_cert'");
    if (rc == KL_OK)
        rc = make_tls(&tls, &cfg, work);
    if (rc == KL_OK)
        rc = open_db(&db, &cfg, work);
    if (rc == KL_OK)
        rc = serve(&cfg, db, tls);
    if (rc != KL_OK)
        fprintf(stderr, "keylime_registrar: %s\n", kl_err_msg());
    kl_db_close(db);
    SSL_CTX_free(tls);
    kl_config_free(&cfg, &reg_config_spec);
    return rc == KL_OK ? 0 : 1;
}
