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

/* Upstream trusts <work>/cv_ca/cacert.crt for "default" whatever tls_dir
 * is (so the tenant's cv_ca client certificate works). A registrar that
 * generated its own CA and runs without a verifier CA on this machine
 * trusts its own CA instead. */
static kl_rc
default_client_ca(char **out, const char *dir, const char *work, bool generate)
{
    kl_rc rc = kl_config_path(out, "cv_ca/cacert.crt", work, "cv_ca/cacert.crt");

    if (rc == KL_OK && generate && !exists(*out)) {
        kl_free(*out);
        *out = NULL;
        rc = kl_config_path(out, "cacert.crt", dir, "cacert.crt");
        LOG_INFO("no verifier CA at %s/cv_ca; admin clients must hold certificates from %s", work,
                 *out);
    }
    return rc;
}

/* trusted_client_ca: "default", one file, or a Python list of files
 * (relative to tls_dir). Upstream's "all" (no client certificate check on
 * the admin port) is refused. */
static kl_rc
resolve_client_cas(reg_tls_paths *out, const char *value, const char *work, bool generate)
{
    kl_strlist l = {NULL, 0};
    kl_rc rc = KL_OK;

    if (!strcmp(value, "all"))
        return kl_err_set(KL_EINVAL, "registrar: trusted_client_ca = all would accept any client "
                                     "certificate on the admin port; name the CA files instead");
    if (value[0] == '[')
        rc = kl_strlist_parse_py(&l, value);
    if (rc != KL_OK)
        return kl_err_wrap(rc, "registrar: trusted_client_ca: ");
    out->client_cas = kl_calloc(l.n ? l.n : 1, sizeof(char *));
    if (!out->client_cas)
        rc = kl_err_set(KL_ENOMEM, "out of memory");
    for (size_t i = 0; rc == KL_OK && i < (l.n ? l.n : 1); i++) {
        const char *v = l.n ? l.items[i] : value;

        if (!strcmp(v, "default") || !v[0])
            rc = default_client_ca(&out->client_cas[i], out->dir, work, generate);
        else
            rc = kl_config_path(&out->client_cas[i], v, out->dir, "cacert.crt");
        out->n_client_cas = i + 1;
    }
    kl_strlist_free(&l);
    return rc;
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
    if (rc == KL_OK)
        rc = resolve_client_cas(out, c->trusted_client_ca, work, generate);
    return rc;
}

void
reg_tls_paths_free(reg_tls_paths *p)
{
    kl_free(p->dir);
    kl_free(p->cert);
    kl_free(p->key);
    for (size_t i = 0; i < p->n_client_cas; i++)
        kl_free(p->client_cas[i]);
    kl_free(p->client_cas);
    memset(p, 0, sizeof(*p));
}
