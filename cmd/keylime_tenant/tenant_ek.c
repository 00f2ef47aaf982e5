/* tenant_ek: the tenant's checks of the agent's EK after a good identity
 * quote (upstream validate_tpm_quote's second half, check_ek and
 * cert_utils.verify_ek_script; PROTOCOL.md 3.6). */
#include "crypto/pubkey.h"
#include "tenant.h"
#include "tpm/ekcert.h"
#include "tpm/tpm_public.h"
#include "util/kl_alloc.h"
#include "util/kl_b64.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* KEYLIME_TEST (upstream's test mode) lets an emulator go without an EK
 * certificate when the registrar holds the literal "emulator". */
static bool
test_mode(void)
{
    const char *v = getenv("KEYLIME_TEST");

    return v && (!strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes") ||
                 !strcasecmp(v, "on"));
}

static kl_rc
ek_public(const tenant *t, kl_tpm_public **ek)
{
    kl_buf b;
    kl_rc rc;

    kl_buf_init(&b, 1u << 16);
    rc = kl_b64_decode_lenient_append(&b, KL_BYTES_CSTR(t->reg.ek_tpm));
    if (rc == KL_OK)
        rc = kl_tpm_public_parse(ek, kl_buf_bytes(&b));
    if (rc != KL_OK)
        rc = kl_err_wrap(rc, "the registrar's ek_tpm of %s: ", t->agent_uuid);
    kl_buf_free(&b);
    return rc;
}

/* The certificate chains to tpm_cert_store and holds the EK's key. */
static kl_rc
cert_valid(const tenant *t, kl_bytes der, bool *ok)
{
    kl_ekcert_store *store = NULL;
    kl_tpm_public *ek = NULL;
    kl_ekcert_result res;
    bool same = false;
    kl_rc rc = kl_ekcert_store_load(&store, t->cfg->tpm_cert_store);

    *ok = false;
    if (rc != KL_OK)
        return kl_err_wrap(rc, "tpm_cert_store: ");
    rc = kl_ekcert_verify(&res, der, store, NULL, 0);
    if (rc == KL_EPARSE)
        rc = kl_err_set(rc, "Error processing ek/ekcert. Does this TPM have a valid EK?");
    if (rc == KL_OK && !res.valid)
        tl_log("cert_utils", TL_WARNING, "EK certificate of %s: %s", t->fid_agent, res.reason);
    if (rc == KL_OK && res.valid)
        rc = ek_public(t, &ek);
    if (rc == KL_OK && res.valid)
        rc = kl_ekcert_matches_ek(&same, der, ek);
    if (rc == KL_OK && res.valid && !same)
        tl_warn("The EK certificate of %s does not hold the key of its ek_tpm", t->fid_agent);
    *ok = rc == KL_OK && res.valid && same;
    kl_tpm_public_free(ek);
    kl_ekcert_store_free(store);
    return rc;
}

/* upstream check_ek: with require_ek_cert, the certificate must be there
 * and valid. */
static kl_rc
check_ek(const tenant *t, const char *ekcert, bool *ok)
{
    kl_buf der;
    kl_rc rc;

    *ok = true;
    if (!t->cfg->require_ek_cert)
        return KL_OK;
    if (ekcert && !strcmp(ekcert, "emulator") && test_mode()) {
        tl_info("Not checking ekcert of TPM emulator for %s", t->fid_agent);
        return KL_OK;
    }
    if (!ekcert) {
        tl_warn("No EK cert provided, require_ek_cert option in config set to True for %s",
                t->fid_agent);
        *ok = false;
        return KL_OK;
    }
    kl_buf_init(&der, 1u << 20);
    rc = kl_b64_decode_lenient_append(&der, KL_BYTES_CSTR(ekcert));
    if (rc != KL_OK)
        rc = kl_err_set(KL_EPARSE, "Error processing ek/ekcert. Does this TPM have a valid EK?");
    if (rc == KL_OK)
        rc = cert_valid(t, kl_buf_bytes(&der), ok);
    if (rc == KL_OK && !*ok)
        tl_warn("Invalid EK certificate for %s", t->fid_agent);
    kl_buf_free(&der);
    return rc;
}

static kl_rc
ek_pem(const tenant *t, kl_buf *pem)
{
    kl_tpm_public *ek = NULL;
    kl_rc rc = ek_public(t, &ek);

    if (rc == KL_OK)
        rc = kl_pubkey_spki_pem(kl_tpm_public_key(ek), pem);
    if (rc == KL_OK)
        rc = kl_buf_terminate(pem);
    kl_tpm_public_free(ek);
    return rc;
}

kl_rc
tenant_run_script(const char *path, char *const *envp, const char *cwd, kl_buf *out, bool *ok)
{
    char *const argv[] = {(char *)(uintptr_t)path, NULL};
    int fds[2], status = 0;
    char chunk[4096];
    ssize_t n;
    pid_t pid;
    kl_rc rc = KL_OK;

    *ok = false;
    if (pipe2(fds, O_CLOEXEC) != 0)
        return kl_err_set(KL_EIO, "ek_check_script: pipe: %s", strerror(errno));
    pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return kl_err_set(KL_EIO, "ek_check_script: fork: %s", strerror(errno));
    }
    if (pid == 0) {
        if ((cwd && chdir(cwd) != 0) || dup2(fds[1], 1) < 0 || dup2(fds[1], 2) < 0)
            _exit(127);
        execve(path, argv, envp);
        _exit(127);
    }
    close(fds[1]);
    while ((n = read(fds[0], chunk, sizeof(chunk))) > 0 || (n < 0 && errno == EINTR))
        if (n > 0 && rc == KL_OK && kl_buf_append(out, chunk, (size_t)n) != KL_OK)
            rc = KL_OK; /* output beyond the cap is dropped */
    close(fds[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    *ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (kl_buf_terminate(out) != KL_OK)
        out->len = out->len ? out->len - 1 : 0;
    return rc;
}

/* The environment upstream gives the script: ours plus AGENT_UUID, EK,
 * EK_TPM, EK_CERT, PROVKEYS, TPM_CERT_STORE. */
static kl_rc
script_env(const tenant *t, const char *ek, char ***out)
{
    static const char *const names[] = {"AGENT_UUID", "EK",       "EK_TPM",
                                        "EK_CERT",    "PROVKEYS", "TPM_CERT_STORE"};
    json_t *pk = json_object_get(t->reg.record, "provider_keys");
    json_t *none = json_object();
    char *prov = tl_dumps(pk ? pk : none);
    const char *vals[] = {t->agent_uuid,      ek,
                          t->reg.ek_tpm,      t->reg.ekcert ? t->reg.ekcert : "",
                          prov ? prov : "{}", t->cfg->tpm_cert_store};
    size_t n = 0, k = 0;
    char **env;
    kl_buf b;

    while (environ[n])
        n++;
    env = kl_calloc(n + 7, sizeof(char *));
    for (size_t i = 0; env && i < n; i++) {
        bool ours = false;

        for (size_t j = 0; j < 6; j++)
            ours = ours || (!strncmp(environ[i], names[j], strlen(names[j])) &&
                            environ[i][strlen(names[j])] == '=');
        if (!ours)
            env[k++] = environ[i];
    }
    for (size_t j = 0; env && j < 6; j++) {
        kl_buf_init(&b, 1u << 20);
        if (kl_buf_printf(&b, "%s=%s", names[j], vals[j]) != KL_OK ||
            kl_buf_terminate(&b) != KL_OK) {
            kl_buf_free(&b);
            continue;
        }
        env[k++] = (char *)kl_buf_take(&b, NULL);
    }
    kl_free(prov);
    json_decref(none);
    if (!env)
        return kl_err_set(KL_ENOMEM, "out of memory");
    *out = env;
    return KL_OK;
}

static void
env_free(char **env)
{
    size_t n = 0;

    if (!env)
        return;
    while (environ[n])
        n++;
    for (size_t i = 0; env[i]; i++) {
        bool inherited = false;

        for (size_t j = 0; j < n && !inherited; j++)
            inherited = env[i] == environ[j];
        if (!inherited)
            kl_free(env[i]);
    }
    kl_free(env);
}

static kl_rc
run_ek_script(const tenant *t, bool *ok)
{
    const char *work = kl_config_work_dir();
    char *script = NULL, **env = NULL;
    struct stat st;
    kl_buf pem, output;
    kl_rc rc;

    kl_buf_init(&pem, 1u << 16);
    kl_buf_init(&output, 1u << 20);
    *ok = false;
    rc = kl_config_path(&script, t->cfg->ek_check_script, work, NULL);
    if (rc == KL_OK)
        tl_info("Checking EK for %s with script %s", t->fid_agent, script);
    if (rc == KL_OK)
        rc = ek_pem(t, &pem);
    if (rc == KL_OK && (stat(script, &st) != 0 || !S_ISREG(st.st_mode))) {
        tl_log("cert_utils", TL_WARNING,
               "External check script (%s) not found; please make sure its path is correct",
               script);
        goto out;
    }
    if (rc == KL_OK)
        rc = script_env(t, (const char *)pem.ptr, &env);
    if (rc == KL_OK)
        rc = tenant_run_script(script, env, work, &output, ok);
    if (rc == KL_OK && !*ok)
        tl_log("cert_utils", TL_ERROR, "External check script failed to validate EK: %s",
               output.len ? (const char *)output.ptr : "");
    else if (rc == KL_OK)
        tl_log("cert_utils", TL_INFO, "ek_check output: %s",
               output.len ? (const char *)output.ptr : "");
out:
    env_free(env);
    kl_free(script);
    kl_buf_free(&pem);
    kl_buf_free(&output);
    return rc;
}

kl_rc
tenant_ek_check(tenant *t, bool *ok)
{
    json_t *pk = json_object_get(t->reg.record, "provider_keys");
    kl_rc rc;

    *ok = true;
    if (!t->cfg->require_ek_cert && !t->cfg->ek_check_script[0]) {
        tl_warn("DANGER: EK cert checking is disabled and no additional checks on EKs have been "
                "specified with ek_check_script option for %s. Keylime is not secure!!",
                t->fid_agent);
        return KL_OK;
    }
    rc = check_ek(t, t->reg.ekcert, ok);
    if (rc == KL_OK && *ok && json_is_object(pk))
        rc = check_ek(t, json_string_value(json_object_get(pk, "ekcert")), ok);
    if (rc != KL_OK || !*ok || !t->cfg->ek_check_script[0])
        return rc;
    return run_ek_script(t, ok);
}
