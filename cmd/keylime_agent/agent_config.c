/* agent_config: agent.conf as the Rust agent reads it (section [agent]),
 * with its defaults and "default" keywords (PROTOCOL.md section 11.2).
 * Push-mode, IAK/IDevID and ZeroMQ options are accepted and ignored. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "util/kl_alloc.h"

#define OPT(key, type, def, field) \
    {"agent", key, type, def, 0, 0, NULL, offsetof(agent_config, field), 0}
#define OPT_SECRET(key, def, field) \
    {"agent", key, KL_OPT_STR, def, 0, 0, NULL, offsetof(agent_config, field), KL_OPT_SECRET}
#define OPT_PORT(key, def, field) \
    {"agent", key, KL_OPT_INT, def, 1, 65535, NULL, offsetof(agent_config, field), 0}
#define OPT_CHOICE(key, def, choices, field) \
    {"agent", key, KL_OPT_CHOICE, def, 0, 0, choices, offsetof(agent_config, field), 0}

static const kl_opt agent_opts[] = {
    OPT("version", KL_OPT_STR, "2.4", version),
    OPT("api_versions", KL_OPT_STR, "default", api_versions),
    OPT("uuid", KL_OPT_STR, "d432fbb3-d2f1-4a97-9ef7-75bd81c00000", uuid),
    OPT("ip", KL_OPT_STR, "127.0.0.1", ip),
    OPT_PORT("port", "9002", port),
    OPT("contact_ip", KL_OPT_STR, "127.0.0.1", contact_ip),
    OPT_PORT("contact_port", "9002", contact_port),
    OPT("registrar_ip", KL_OPT_STR, "127.0.0.1", registrar_ip),
    OPT_PORT("registrar_port", "8890", registrar_port),
    OPT("enable_agent_mtls", KL_OPT_BOOL, "true", enable_agent_mtls),
    OPT("keylime_dir", KL_OPT_STR, "/var/lib/keylime", keylime_dir),
    OPT("server_key", KL_OPT_STR, "default", server_key),
    OPT_SECRET("server_key_password", "", server_key_password),
    OPT("server_cert", KL_OPT_STR, "default", server_cert),
    OPT("payload_key", KL_OPT_STR, "default", payload_key),
    OPT_SECRET("payload_key_password", "", payload_key_password),
    OPT("trusted_client_ca", KL_OPT_LIST, "default", trusted_client_ca),
    OPT("enc_keyname", KL_OPT_STR, "derived_tci_key", enc_keyname),
    OPT("dec_payload_file", KL_OPT_STR, "decrypted_payload", dec_payload_file),
    OPT("secure_size", KL_OPT_STR, "1m", secure_size),
    OPT("extract_payload_zip", KL_OPT_BOOL, "true", extract_payload_zip),
    OPT("revocation_actions_dir", KL_OPT_STR, "/usr/libexec/keylime", revocation_actions_dir),
    OPT("revocation_cert", KL_OPT_STR, "default", revocation_cert),
    OPT("revocation_actions", KL_OPT_LIST, "", revocation_actions),
    OPT("payload_script", KL_OPT_STR, "autorun.sh", payload_script),
    OPT("enable_insecure_payload", KL_OPT_BOOL, "false", enable_insecure_payload),
    OPT("allow_payload_revocation_actions", KL_OPT_BOOL, "true",
        allow_payload_revocation_actions),
    OPT_CHOICE("tpm_hash_alg", "sha256", "sha1|sha256|sha384|sha512", tpm_hash_alg),
    OPT_CHOICE("tpm_encryption_alg", "rsa", "rsa|ecc|rsa2048|ecc256|ecc384", tpm_encryption_alg),
    OPT_CHOICE("tpm_signing_alg", "rsassa", "rsassa|rsapss|ecdsa", tpm_signing_alg),
    OPT("ek_handle", KL_OPT_STR, "generate", ek_handle),
    OPT("enable_iak_idevid", KL_OPT_BOOL, "false", enable_iak_idevid),
    OPT("run_as", KL_OPT_STR, "keylime:tss", run_as),
    OPT("agent_data_path", KL_OPT_STR, "default", agent_data_path),
    OPT("ima_ml_path", KL_OPT_STR, "default", ima_ml_path),
    OPT("measuredboot_ml_path", KL_OPT_STR, "default", measuredboot_ml_path),
    OPT("tcti", KL_OPT_STR, "", tcti),
};

const kl_config_spec agent_config_spec = {
    "agent", true, agent_opts, sizeof(agent_opts) / sizeof(agent_opts[0]),
};

/* Absolute, so "default" (dir + absolute fallback) gives the kernel's file. */
#define KL_IMA_ML_DEFAULT "/sys/kernel/security/ima/ascii_runtime_measurements"
#define KL_MB_ML_DEFAULT "/sys/kernel/security/tpm0/binary_bios_measurements"

static const char *const supported_versions[] = {"2.1", "2.2", "2.3", "2.4", "2.5", "2.6"};
#define N_SUPPORTED (sizeof(supported_versions) / sizeof(supported_versions[0]))

kl_rc
agent_api_versions(kl_strlist *out, const char *setting)
{
    kl_strlist want = {0};
    kl_rc rc = KL_OK;

    memset(out, 0, sizeof(*out));
    if (!strcmp(setting, "latest"))
        rc = kl_strlist_split(&want, "2.6");
    else if (strcmp(setting, "default") && setting[0])
        rc = kl_strlist_split(&want, setting);
    out->items = kl_calloc(N_SUPPORTED, sizeof(char *));
    if (rc == KL_OK && !out->items)
        rc = kl_err_set(KL_ENOMEM, "out of memory");
    for (size_t i = 0; rc == KL_OK && i < N_SUPPORTED; i++) {
        if (want.n && !kl_strlist_has(&want, supported_versions[i]))
            continue;
        if (!(out->items[out->n++] = kl_strdup(supported_versions[i])))
            rc = kl_err_set(KL_ENOMEM, "out of memory");
    }
    if (rc == KL_OK && out->n == 0)
        rc = kl_err_set(KL_EINVAL, "agent.conf: api_versions = \"%s\" enables no version this "
                                   "agent supports (2.1 to 2.6, \"default\" or \"latest\")", setting);
    kl_strlist_free(&want);
    if (rc != KL_OK)
        kl_strlist_free(out);
    return rc;
}

/* kl_config_path, except that an absolute fallback is used as is. */
static kl_rc
path(char **out, const char *value, const char *dir, const char *fallback)
{
    if (fallback[0] == '/' && (!value[0] || !strcmp(value, "default"))) {
        *out = kl_strdup(fallback);
        return *out ? KL_OK : kl_err_set(KL_ENOMEM, "out of memory");
    }
    return kl_config_path(out, value, dir, fallback);
}

static kl_rc
resolve_cas(agent_paths *p, const agent_config *c)
{
    const kl_strlist *l = &c->trusted_client_ca;
    size_t n = l->n ? l->n : 1;
    kl_rc rc = KL_OK;

    p->client_cas = kl_calloc(n, sizeof(char *));
    if (!p->client_cas)
        return kl_err_set(KL_ENOMEM, "out of memory");
    for (size_t i = 0; rc == KL_OK && i < n; i++) {
        const char *v = l->n ? l->items[i] : "default";

        rc = path(&p->client_cas[i], v, p->dir, "cv_ca/cacert.crt");
        p->n_client_cas = i + 1;
    }
    return rc;
}

kl_rc
agent_paths_resolve(agent_paths *p, const agent_config *c)
{
    const char *env = getenv("KEYLIME_DIR");
    kl_rc rc;

    memset(p, 0, sizeof(*p));
    p->dir = kl_strdup(env && env[0] ? env : c->keylime_dir);
    if (!p->dir)
        return kl_err_set(KL_ENOMEM, "out of memory");
    rc = path(&p->server_key, c->server_key, p->dir, "server-private.pem");
    if (rc == KL_OK)
        rc = path(&p->server_cert, c->server_cert, p->dir, "server-cert.crt");
    if (rc == KL_OK)
        rc = path(&p->payload_key, c->payload_key, p->dir, "payload-private.pem");
    if (rc == KL_OK)
        rc = path(&p->secure, "secure", p->dir, "secure");
    if (rc == KL_OK)
        rc = path(&p->unzipped, "secure/unzipped", p->dir, "secure/unzipped");
    if (rc == KL_OK)
        rc = path(&p->revocation_cert, c->revocation_cert, p->dir,
                  "secure/unzipped/RevocationNotifier-cert.crt");
    if (rc == KL_OK)
        rc = path(&p->agent_data, c->agent_data_path, p->dir, "agent_data.json");
    if (rc == KL_OK)
        rc = path(&p->ima_ml, c->ima_ml_path, p->dir, KL_IMA_ML_DEFAULT);
    if (rc == KL_OK)
        rc = path(&p->mb_ml, c->measuredboot_ml_path, p->dir, KL_MB_ML_DEFAULT);
    if (rc == KL_OK)
        rc = resolve_cas(p, c);
    if (rc != KL_OK)
        agent_paths_free(p);
    return rc;
}

void
agent_paths_free(agent_paths *p)
{
    char **all[] = {&p->dir,    &p->server_key, &p->server_cert,     &p->payload_key,
                    &p->secure, &p->unzipped,   &p->revocation_cert, &p->agent_data,
                    &p->ima_ml, &p->mb_ml};

    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        kl_free(*all[i]);
    for (size_t i = 0; i < p->n_client_cas; i++)
        kl_free(p->client_cas[i]);
    kl_free(p->client_cas);
    memset(p, 0, sizeof(*p));
}
