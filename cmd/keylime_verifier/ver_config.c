/* ver_config: verifier.conf ([verifier] and [revocations]), as upstream's
 * 2.6 template defines it. Options we accept and do not use (worker
 * counts, pool sizes, push-mode and durable-attestation settings other
 * than the ones checked below) are ignored. */
#define KL_LOGMODULE "verifier"

#include <stddef.h>
#include <string.h>

#include "util/kl_alloc.h"
#include "verifier.h"

#define OPT(key, type, def, field) \
    {"verifier", key, type, def, 0, 0, NULL, offsetof(ver_config, field), 0}
#define OPT_SECRET(key, field) \
    {"verifier", key, KL_OPT_STR, "", 0, 0, NULL, offsetof(ver_config, field), KL_OPT_SECRET}
#define OPT_RANGE(key, type, def, min, max, field) \
    {"verifier", key, type, def, min, max, NULL, offsetof(ver_config, field), 0}
#define OPT_CHOICE(key, def, choices, field) \
    {"verifier", key, KL_OPT_CHOICE, def, 0, 0, choices, offsetof(ver_config, field), 0}
#define REV(key, type, def, field) \
    {"revocations", key, type, def, 0, 0, NULL, offsetof(ver_config, field), 0}

static const kl_opt ver_opts[] = {
    OPT("uuid", KL_OPT_STR, "default", uuid),
    OPT("ip", KL_OPT_STR, "127.0.0.1", ip),
    OPT_RANGE("port", KL_OPT_INT, "8881", 1, 65535, port),
    OPT("enable_agent_mtls", KL_OPT_BOOL, "True", enable_agent_mtls),
    OPT("tls_dir", KL_OPT_STR, "generate", tls_dir),
    OPT("server_key", KL_OPT_STR, "default", server_key),
    OPT_SECRET("server_key_password", server_key_password),
    OPT("server_cert", KL_OPT_STR, "default", server_cert),
    OPT("cert_subject_alternative_names", KL_OPT_LIST, "", cert_subject_alternative_names),
    OPT("trusted_client_ca", KL_OPT_STR, "default", trusted_client_ca),
    OPT("client_key", KL_OPT_STR, "default", client_key),
    OPT_SECRET("client_key_password", client_key_password),
    OPT("client_cert", KL_OPT_STR, "default", client_cert),
    OPT("trusted_server_ca", KL_OPT_STR, "default", trusted_server_ca),
    OPT_CHOICE("authorization_provider", "simple", "simple", authorization_provider),
    {"verifier", "database_url", KL_OPT_STR, "sqlite", 0, 0, NULL,
     offsetof(ver_config, database_url), KL_OPT_SECRET},
    OPT("auto_migrate_db", KL_OPT_BOOL, "True", auto_migrate_db),
    OPT("exponential_backoff", KL_OPT_BOOL, "True", exponential_backoff),
    OPT_RANGE("retry_interval", KL_OPT_FLOAT, "2", 0, 86400, retry_interval),
    OPT_RANGE("max_retries", KL_OPT_INT, "5", 0, 1000, max_retries),
    OPT_RANGE("quote_interval", KL_OPT_FLOAT, "2", 0, 86400, quote_interval),
    OPT_RANGE("max_upload_size", KL_OPT_INT, "104857600", 1024, 1073741824, max_upload_size),
    OPT_RANGE("request_timeout", KL_OPT_FLOAT, "60.0", 1, 3600, request_timeout),
    OPT("measured_boot_policy_name", KL_OPT_STR, "accept-all", measured_boot_policy_name),
    OPT("measured_boot_imports", KL_OPT_LIST, "[]", measured_boot_imports),
    OPT_CHOICE("measured_boot_evaluate", "once", "once|always", measured_boot_evaluate),
    OPT("severity_labels", KL_OPT_STR,
        "[\"info\", \"notice\", \"warning\", \"error\", \"critical\", \"alert\", \"emergency\"]",
        severity_labels),
    OPT("severity_policy", KL_OPT_STR, "[{\"event_id\": \".*\", \"severity_label\": \"emergency\"}]",
        severity_policy),
    OPT("ignore_tomtou_errors", KL_OPT_BOOL, "False", ignore_tomtou_errors),
    OPT("require_allow_list_signatures", KL_OPT_BOOL, "False", require_allow_list_signatures),
    OPT("mode", KL_OPT_STR, "pull", mode),
    OPT("durable_attestation_import", KL_OPT_STR, "", durable_attestation_import),
    REV("enabled_revocation_notifications", KL_OPT_LIST, "['agent']",
        enabled_revocation_notifications),
    REV("webhook_url", KL_OPT_STR, "", webhook_url),
};

const kl_config_spec ver_config_spec = {
    "verifier", false, ver_opts, sizeof(ver_opts) / sizeof(ver_opts[0]),
};

kl_rc
ver_config_check(const ver_config *c)
{
    const kl_strlist *ch = &c->enabled_revocation_notifications;
    const kl_mb_engine *e;

    if (c->mode[0] && strcmp(c->mode, "pull"))
        return kl_err_set(KL_EUNSUPPORTED, "verifier.conf: mode = %s: only pull mode is "
                                           "implemented; set mode = pull", c->mode);
    if (c->durable_attestation_import[0])
        return kl_err_set(KL_EUNSUPPORTED, "verifier.conf: durable_attestation_import is not "
                                           "supported; leave it empty");
    if (c->measured_boot_imports.n)
        return kl_err_set(KL_EUNSUPPORTED, "verifier.conf: measured_boot_imports (Python "
                                           "policy modules) cannot be loaded; leave it [] and "
                                           "use accept-all, reject-all or example");
    if (kl_mb_engine_find(c->measured_boot_policy_name, &e) != KL_OK)
        return kl_err_set(KL_EINVAL, "verifier.conf: measured_boot_policy_name = %s is unknown; "
                                     "use accept-all, reject-all or example",
                          c->measured_boot_policy_name);
    for (size_t i = 0; i < ch->n; i++) {
        if (!strcmp(ch->items[i], "zeromq"))
            return kl_err_set(KL_EUNSUPPORTED,
                              "verifier.conf: [revocations] enabled_revocation_notifications: "
                              "the zeromq channel is not implemented; use 'agent' and/or "
                              "'webhook'");
        if (strcmp(ch->items[i], "agent") && strcmp(ch->items[i], "webhook"))
            return kl_err_set(KL_EINVAL,
                              "verifier.conf: [revocations] enabled_revocation_notifications: "
                              "unknown channel '%s'; use 'agent' and/or 'webhook'",
                              ch->items[i]);
    }
    if (kl_strlist_has(ch, "webhook") && !c->webhook_url[0])
        return kl_err_set(KL_EINVAL, "verifier.conf: the webhook channel is enabled but "
                                     "[revocations] webhook_url is empty; set it");
    return KL_OK;
}

/* tls_dir: "generate" and "default" -> <work>/cv_ca; else a directory
 * (relative to the work dir). */
static kl_rc
resolve_dir(char **out, const char *tls_dir, const char *work)
{
    if (!tls_dir[0])
        return kl_err_set(KL_EINVAL, "verifier.conf: [verifier] tls_dir is empty; set it to "
                                     "'generate', 'default' or a directory");
    if (!strcmp(tls_dir, "generate") || !strcmp(tls_dir, "default"))
        return kl_config_path(out, "cv_ca", work, "cv_ca");
    return kl_config_path(out, tls_dir, work, "cv_ca");
}

/* trusted_client_ca: "default" (the CA in tls_dir), one file, or a Python
 * list of files. "all" (no client check on the admin API) is refused. */
static kl_rc
resolve_client_cas(ver_tls_paths *out, const char *value)
{
    kl_strlist l = {NULL, 0};
    kl_rc rc = KL_OK;
    size_t n;

    if (!strcmp(value, "all"))
        return kl_err_set(KL_EINVAL, "verifier.conf: trusted_client_ca = all would let any "
                                     "client administer the verifier; name the CA files");
    if (value[0] == '[')
        rc = kl_strlist_parse_py(&l, value);
    if (rc != KL_OK)
        return kl_err_wrap(rc, "verifier.conf: trusted_client_ca: ");
    n = l.n ? l.n : 1;
    out->client_cas = kl_calloc(n, sizeof(char *));
    if (!out->client_cas)
        rc = kl_err_set(KL_ENOMEM, "out of memory");
    for (size_t i = 0; rc == KL_OK && i < n; i++) {
        rc = kl_config_path(&out->client_cas[i], l.n ? l.items[i] : value, out->dir,
                            "cacert.crt");
        out->n_client_cas = i + 1;
    }
    kl_strlist_free(&l);
    return rc;
}

kl_rc
ver_tls_resolve(ver_tls_paths *out, const ver_config *c, const char *work)
{
    kl_rc rc;

    memset(out, 0, sizeof(*out));
    rc = resolve_dir(&out->dir, c->tls_dir, work);
    if (rc == KL_OK)
        rc = kl_config_path(&out->server_cert, c->server_cert, out->dir, "server-cert.crt");
    if (rc == KL_OK)
        rc = kl_config_path(&out->server_key, c->server_key, out->dir, "server-private.pem");
    if (rc == KL_OK)
        rc = kl_config_path(&out->client_cert, c->client_cert, out->dir, "client-cert.crt");
    if (rc == KL_OK)
        rc = kl_config_path(&out->client_key, c->client_key, out->dir, "client-private.pem");
    if (rc == KL_OK && strcmp(c->trusted_server_ca, "all"))
        rc = kl_config_path(&out->server_ca, c->trusted_server_ca, out->dir, "cacert.crt");
    if (rc == KL_OK)
        rc = resolve_client_cas(out, c->trusted_client_ca);
    return rc;
}

void
ver_tls_paths_free(ver_tls_paths *p)
{
    kl_free(p->dir);
    kl_free(p->server_cert);
    kl_free(p->server_key);
    kl_free(p->client_cert);
    kl_free(p->client_key);
    kl_free(p->server_ca);
    for (size_t i = 0; i < p->n_client_cas; i++)
        kl_free(p->client_cas[i]);
    kl_free(p->client_cas);
    memset(p, 0, sizeof(*p));
}
