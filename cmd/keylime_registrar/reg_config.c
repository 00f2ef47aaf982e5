/* reg_config: registrar.conf, as upstream's templates define it (2.6).
 * Options upstream has and we do not use (durable attestation, worker
 * counts, pool sizes, signed_attributes) are accepted and ignored. */
#define KL_LOGMODULE "registrar"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "registrar.h"
#include "util/kl_alloc.h"
#include "util/kl_log.h"

#define OPT(key, type, def, field) \
    {"registrar", key, type, def, 0, 0, NULL, offsetof(reg_config, field), 0}
#define OPT_RANGE(key, def, min, max, field) \
    {"registrar", key, KL_OPT_INT, def, min, max, NULL, offsetof(reg_config, field), 0}
#define OPT_CHOICE(key, def, choices, field) \
    {"registrar", key, KL_OPT_CHOICE, def, 0, 0, choices, offsetof(reg_config, field), 0}

static const kl_opt reg_opts[] = {
    OPT("ip", KL_OPT_STR, "127.0.0.1", ip),
    OPT_RANGE("port", "8890", 1, 65535, port),
    OPT_RANGE("tls_port", "8891", 1, 65535, tls_port),
    OPT("tls_dir", KL_OPT_STR, "default", tls_dir),
    OPT("server_key", KL_OPT_STR, "default", server_key),
    {"registrar", "server_key_password", KL_OPT_STR, "", 0, 0, NULL,
     offsetof(reg_config, server_key_password), KL_OPT_SECRET},
    OPT("server_cert", KL_OPT_STR, "default", server_cert),
    OPT("cert_subject_alternative_names", KL_OPT_LIST, "", cert_subject_alternative_names),
    OPT("trusted_client_ca", KL_OPT_STR, "default", trusted_client_ca),
    {"registrar", "database_url", KL_OPT_STR, "sqlite", 0, 0, NULL,
     offsetof(reg_config, database_url), KL_OPT_SECRET},
    OPT("auto_migrate_db", KL_OPT_BOOL, "True", auto_migrate_db),
    OPT_RANGE("max_upload_size", "1048576", 1024, 104857600, max_upload_size),
    OPT_CHOICE("tpm_identity", "default", "default|ek_cert|iak_idevid|ek_cert_or_iak_idevid",
               tpm_identity),
    OPT_CHOICE("malformed_cert_action", "warn", "warn|reject|ignore", malformed_cert_action),
    OPT_CHOICE("authorization_provider", "simple", "simple", authorization_provider),
};

const kl_config_spec reg_config_spec = {
    "registrar", false, reg_opts, sizeof(reg_opts) / sizeof(reg_opts[0]),
};

static bool
exists(const char *path)
{
    return access(path, R_OK) == 0;
}

/* tls_dir: "generate" -> <work>/reg_ca (created by main), "default" ->
 * <work>/cv_ca (the verifier's), else a path (relative to the work dir). */
static kl_rc
resolve_dir(char **out, const char *tls_dir, const char *work)
{
    if (!tls_dir[0])
        return kl_err_set(KL_EINVAL, "registrar.conf: [registrar] tls_dir is empty; set it to "
                                     "'generate', 'default' or a directory");
    if (!strcmp(tls_dir, "generate"))
        return kl_config_path(out, "reg_ca", work, "reg_ca");
    if (!strcmp(tls_dir, "default"))
        return kl_config_path(out, "cv_ca", work, "cv_ca");
    return kl_config_path(out, tls_dir, work, "cv_ca");
}

kl_rc
reg_tls_resolve(reg_tls_paths *out, const reg_config *c, const char *work)
{
    bool generate = !strcmp(c->tls_dir, "generate");
    kl_rc rc;

    memset(out, 0, sizeof(*out));
    rc = resolve_dir(&out->dir, c->tls_dir, work);
    if (rc == KL_OK)
        rc = kl_config_path(&out->cert, c->server_cert, out->dir, "server-cert.crt");
    if (rc == KL_OK)
        rc = kl_config_path(&out->key, c->server_key, out->dir, "server-private.pem");
    if (rc != KL_OK)
        return rc;
    /* Upstream trusts <work>/cv_ca/cacert.crt for "default" whatever
     * tls_dir is (so the tenant's cv_ca client certificate works). A
     * registrar that generated its own CA and runs without a verifier CA
     * on this machine trusts its own CA instead. */
    if (!strcmp(c->trusted_client_ca, "default") || !c->trusted_client_ca[0]) {
        rc = kl_config_path(&out->client_ca, "cv_ca/cacert.crt", work, "cv_ca/cacert.crt");
        if (rc == KL_OK && generate && !exists(out->client_ca)) {
            kl_free(out->client_ca);
            out->client_ca = NULL;
            rc = kl_config_path(&out->client_ca, "cacert.crt", out->dir, "cacert.crt");
            LOG_INFO("no verifier CA at %s/cv_ca; admin clients must hold certificates from %s",
                     work, out->client_ca);
        }
    } else {
        rc = kl_config_path(&out->client_ca, c->trusted_client_ca, out->dir, "cacert.crt");
    }
    return rc;
}

void
reg_tls_paths_free(reg_tls_paths *p)
{
    kl_free(p->dir);
    kl_free(p->cert);
    kl_free(p->key);
    kl_free(p->client_ca);
    memset(p, 0, sizeof(*p));
}
