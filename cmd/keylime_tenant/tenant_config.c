/* tenant_config: tenant.conf as upstream's 2.6 template defines it, and the
 * TLS files as upstream's web_util.get_tls_options("tenant", client) picks
 * them (PROTOCOL.md 11.2, 11.4). */
#include "tenant.h"
#include "util/kl_alloc.h"
#include "util/kl_file.h"

#include <stddef.h>
#include <string.h>
#include <unistd.h>

#define OPT(key, type, def, field)                                                                 \
    {                                                                                              \
        "tenant", key, type, def, 0, 0, NULL, offsetof(tenant_config, field), 0                    \
    }
#define OPT_RANGE(key, type, def, min, max, field)                                                 \
    {                                                                                              \
        "tenant", key, type, def, min, max, NULL, offsetof(tenant_config, field), 0                \
    }

static const kl_opt tenant_opt_table[] = {
    OPT("verifier_ip", KL_OPT_STR, "127.0.0.1", verifier_ip),
    OPT("verifier_port", KL_OPT_STR, "8881", verifier_port),
    OPT("registrar_ip", KL_OPT_STR, "127.0.0.1", registrar_ip),
    OPT("registrar_port", KL_OPT_STR, "8891", registrar_port),
    OPT("tls_dir", KL_OPT_STR, "default", tls_dir),
    OPT("enable_agent_mtls", KL_OPT_BOOL, "True", enable_agent_mtls),
    OPT("client_key", KL_OPT_STR, "default", client_key),
    {"tenant", "client_key_password", KL_OPT_STR, "", 0, 0, NULL,
     offsetof(tenant_config, client_key_password), KL_OPT_SECRET},
    OPT("client_cert", KL_OPT_STR, "default", client_cert),
    OPT("trusted_server_ca", KL_OPT_STR, "default", trusted_server_ca),
    OPT("tpm_cert_store", KL_OPT_STR, "/var/lib/keylime/tpm_cert_store", tpm_cert_store),
    OPT_RANGE("max_payload_size", KL_OPT_INT, "1048576", 0, 1073741824, max_payload_size),
    OPT("accept_tpm_hash_algs", KL_OPT_LIST, "['sha512', 'sha384', 'sha256']",
        accept_tpm_hash_algs),
    OPT("accept_tpm_encryption_algs", KL_OPT_LIST, "['ecc', 'rsa']", accept_tpm_encryption_algs),
    OPT("accept_tpm_signing_algs", KL_OPT_LIST, "['ecschnorr', 'rsassa']", accept_tpm_signing_algs),
    OPT("exponential_backoff", KL_OPT_BOOL, "True", exponential_backoff),
    OPT_RANGE("retry_interval", KL_OPT_FLOAT, "2", 0, 3600, retry_interval),
    OPT_RANGE("max_retries", KL_OPT_INT, "5", 0, 1000, max_retries),
    OPT_RANGE("request_timeout", KL_OPT_FLOAT, "60", 0, 86400, request_timeout),
    OPT("require_ek_cert", KL_OPT_BOOL, "True", require_ek_cert),
    OPT("ek_check_script", KL_OPT_STR, "", ek_check_script),
    OPT("mb_refstate", KL_OPT_STR, "", mb_refstate),
};

const kl_config_spec tenant_config_spec = {
    "tenant",
    false,
    tenant_opt_table,
    sizeof(tenant_opt_table) / sizeof(tenant_opt_table[0]),
};

/* get_tls_dir: "default" is the verifier's cv_ca; anything else is taken
 * relative to the work directory; "generate" is refused (upstream raises). */
static kl_rc
tls_dir(char **out, const char *value)
{
    const char *work = kl_config_work_dir();

    if (!value[0])
        return kl_err_set(KL_EINVAL, "The 'tls_dir' option is not set for 'tenant'");
    if (!strcmp(value, "generate"))
        return kl_err_set(KL_EINVAL, "The tls_dir=generate option is not supported for 'tenant'");
    if (!strcmp(value, "default"))
        return kl_config_path(out, "cv_ca", work, "cv_ca");
    return kl_config_path(out, value, work, "cv_ca");
}

/* client_cert / client_key: "" none, "default" <tls_dir>/client-<x>, else
 * relative to tls_dir. */
static kl_rc
tls_file(char **out, const char *value, const char *dir, const char *option, const char *def)
{
    *out = NULL;
    if (!value[0]) {
        tl_warn("No value provided in %s option for tenant", option);
        return KL_OK;
    }
    if (!strcmp(value, "default"))
        tl_info("Using default %s option for tenant", option);
    return kl_config_path(out, value, dir, def);
}

static kl_rc
push_ca(tenant_tls *t, const char *value, const char *dir)
{
    char **grown = kl_realloc(t->cas, (t->n_cas + 1) * sizeof(char *));

    if (!grown)
        return kl_err_set(KL_ENOMEM, "out of memory");
    t->cas = grown;
    t->cas[t->n_cas] = NULL;
    if (kl_config_path(&t->cas[t->n_cas], value, dir, "cacert.crt") != KL_OK)
        return KL_ENOMEM;
    t->n_cas++;
    return KL_OK;
}

/* trusted_server_ca: "" none (warning), "default" <work>/cv_ca/cacert.crt,
 * "all" no verification, else a list of files relative to tls_dir (one
 * file name is taken as a list of one). */
static kl_rc
tls_cas(tenant_tls *t, const char *value, const char *dir)
{
    kl_strlist l = {NULL, 0};
    kl_rc rc = KL_OK;

    t->verify = true;
    if (!value[0]) {
        tl_warn("No value provided in trusted_server_ca for tenant");
        return KL_OK;
    }
    if (!strcmp(value, "all")) {
        t->verify = false;
        return KL_OK;
    }
    if (!strcmp(value, "default"))
        return push_ca(t, "cv_ca/cacert.crt", kl_config_work_dir());
    if (value[0] == '[')
        rc = kl_strlist_parse_py(&l, value);
    if (rc != KL_OK)
        return kl_err_wrap(rc, "tenant.conf: [tenant] trusted_server_ca: ");
    for (size_t i = 0; rc == KL_OK && i < (l.n ? l.n : 1); i++)
        rc = push_ca(t, l.n ? l.items[i] : value, dir);
    kl_strlist_free(&l);
    return rc;
}

/* The CA files' text, concatenated, for kl_tls_client_opts.ca_pem. A file
 * that cannot be read is an error naming it. */
static kl_rc
read_cas(tenant_tls *t)
{
    kl_buf one;
    kl_rc rc = KL_OK;

    kl_buf_init(&one, 4u << 20);
    for (size_t i = 0; rc == KL_OK && i < t->n_cas; i++) {
        rc = kl_file_read(t->cas[i], &one);
        if (rc != KL_OK)
            rc = kl_err_wrap(rc, "trusted_server_ca: ");
        if (rc == KL_OK)
            rc = kl_buf_append(&t->ca_pem, one.ptr, one.len);
        if (rc == KL_OK)
            rc = kl_buf_append_byte(&t->ca_pem, '\n');
    }
    if (rc == KL_OK)
        rc = kl_buf_terminate(&t->ca_pem);
    kl_buf_free(&one);
    return rc;
}

static void
tls_report(tenant_tls *t, const tenant_config *c)
{
    bool cert_ok = t->cert && access(t->cert, R_OK) == 0;
    bool key_ok = t->key && access(t->key, R_OK) == 0;

    if (!c->enable_agent_mtls)
        tl_warn("Warning: agent mTLS is currently disabled, keys will be sent in the clear! "
                "This should only be used for testing.");
    if (!t->verify)
        tl_warn("Warning: server certificate verification is disabled as 'trusted_server_ca' "
                "option is set to 'all'. This should only be used for testing.");
    if (t->n_cas == 0)
        tl_warn("No certificates provided in 'trusted_server_ca'");
    if (t->cert && !cert_ok)
        tl_warn("Could not find file %s provided in 'client_cert'", t->cert);
    if (t->key && !key_ok)
        tl_warn("Could not find file %s provided in 'client_key'", t->key);
    t->enabled = cert_ok && key_ok;
    if (t->enabled)
        tl_info("TLS is enabled.");
    else
        tl_warn("TLS is disabled.");
}

kl_rc
tenant_tls_setup(tenant_tls *out, const tenant_config *c)
{
    char *dir = NULL;
    kl_rc rc;

    memset(out, 0, sizeof(*out));
    kl_buf_init(&out->ca_pem, 16u << 20);
    tl_info("Setting up client TLS...");
    rc = tls_dir(&dir, c->tls_dir);
    if (rc == KL_OK)
        rc = tls_cas(out, c->trusted_server_ca, dir);
    if (rc == KL_OK)
        rc = tls_file(&out->cert, c->client_cert, dir, "client_cert", "client-cert.crt");
    if (rc == KL_OK)
        rc = tls_file(&out->key, c->client_key, dir, "client_key", "client-private.pem");
    if (rc == KL_OK && !c->client_key_password[0])
        tl_info("No value provided in client_key_password option for tenant, assuming the key "
                "is unencrypted");
    else if (rc == KL_OK && !(out->password = kl_strdup(c->client_key_password)))
        rc = kl_err_set(KL_ENOMEM, "out of memory");
    if (rc == KL_OK) {
        tls_report(out, c);
        rc = read_cas(out);
        /* without a client certificate upstream never reads the CA files */
        if (rc != KL_OK && rc != KL_ENOMEM && !out->enabled) {
            kl_buf_reset(&out->ca_pem);
            rc = KL_OK;
        }
    }
    kl_free(dir);
    return rc;
}

void
tenant_tls_free(tenant_tls *t)
{
    kl_free(t->cert);
    kl_free(t->key);
    if (t->password) {
        kl_wipe(t->password, strlen(t->password));
        kl_free(t->password);
    }
    for (size_t i = 0; i < t->n_cas; i++)
        kl_free(t->cas[i]);
    kl_free(t->cas);
    kl_buf_free(&t->ca_pem);
    memset(t, 0, sizeof(*t));
}
