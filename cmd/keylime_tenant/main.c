/* keylime_tenant: provisions agents into the verifier and manages policies,
 * a replacement for upstream's Python tenant with the same command line
 * and output (see tenant.h). Exit status: 0 done, 1 failed, 2 bad usage. */
#include "tenant.h"
#include "util/kl_agent_id.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

static bool
truthy(const char *s)
{
    return s && s[0];
}

/* Upstream downloads files for these commands; this tenant does not fetch
 * arbitrary URLs, and cannot check GPG signatures. */
static kl_rc
refuse_downloads(const tenant_args *a)
{
    static const char *const fetching[] = {"add", "update", "addallowlist", "addruntimepolicy",
                                           "updateruntimepolicy"};
    bool fetches = false;

    for (size_t i = 0; i < sizeof(fetching) / sizeof(fetching[0]); i++)
        fetches = fetches || !strcmp(a->command, fetching[i]);
    if (!fetches)
        return KL_OK;
    if (truthy(a->runtime_policy_url))
        return kl_err_set(KL_EUNSUPPORTED,
                          "--runtime-policy-url is not supported: keylime_tenant does not "
                          "download files. Download %s yourself, check it, and pass it with "
                          "--runtime-policy FILE --runtime-policy-checksum SHA256",
                          a->runtime_policy_url);
    if (truthy(a->allowlist_url))
        return kl_err_set(KL_EUNSUPPORTED,
                          "--allowlist-url is not supported: keylime_tenant does not download "
                          "files. Download %s yourself and pass it with --allowlist FILE",
                          a->allowlist_url);
    if (a->vkey_urls.n || a->vkey_sig_urls.n || a->vkey_sig_url_keys.n)
        return kl_err_set(KL_EUNSUPPORTED,
                          "--signature-verification-key-url (and -sig-url, -sig-url-key) are not "
                          "supported: keylime_tenant does not download files. Download the key, "
                          "check it, and pass it with --signature-verification-key FILE");
    if (a->vkey_sigs.n && a->vkeys.n) {
        if (!a->vkey_sig_keys.n)
            return kl_err_set(KL_EINVAL, "A gpg key is missing for key signature file '%s'",
                              a->vkey_sigs.items[0]);
        return kl_err_set(KL_EUNSUPPORTED,
                          "--signature-verification-key-sig is not supported: keylime_tenant "
                          "cannot check GPG signatures. Check the key with 'gpg --verify' and pass "
                          "only --signature-verification-key FILE");
    }
    return KL_OK;
}

static bool
version_ok(const char *v)
{
    size_t i = 0, digits = 0, dots = 0;

    for (; v[i]; i++) {
        if (v[i] == '.' && digits && !dots)
            dots = 1, digits = 0;
        else if (v[i] >= '0' && v[i] <= '9')
            digits++;
        else
            return false;
    }
    return dots && digits && i < 16;
}

/* What upstream's main checks before running the command. */
static kl_rc
start_checks(const tenant_args *a)
{
    if (a->push_model)
        return kl_err_set(KL_EUNSUPPORTED,
                          "--push-model is not supported: this tenant provisions pull-mode "
                          "agents only (the verifier polls them). Leave out --push-model, or use "
                          "upstream's tenant for push-mode agents");
    if (a->agent_uuid && !kl_agent_id_valid(a->agent_uuid))
        return kl_err_set(KL_EINVAL, "The agent ID set via agent uuid parameter use invalid "
                                     "characters");
    if (!a->agent_uuid)
        tl_warn("Using default UUID %s", TENANT_DEFAULT_UUID);
    if (a->agent_api_version && !version_ok(a->agent_api_version))
        return kl_err_set(KL_EINVAL, "--agent-api-version %s: give a version such as 2.6",
                          a->agent_api_version);
    return refuse_downloads(a);
}

static int
fail(void)
{
    if (strcmp(kl_err_msg(), TENANT_LOGGED) != 0)
        tl_error("%s", kl_err_msg());
    return TENANT_EXIT_FAIL;
}

int
main(int argc, char **argv)
{
    tenant_config cfg;
    tenant_args args;
    tenant t;
    int status = TENANT_EXIT_OK;
    tenant_args_result r;

    signal(SIGPIPE, SIG_IGN);
    memset(&cfg, 0, sizeof(cfg));
    memset(&t, 0, sizeof(t));
    r = tenant_args_parse(&args, argc, argv, stdout, stderr);
    if (r != TENANT_ARGS_RUN) {
        tenant_args_free(&args);
        return r == TENANT_ARGS_HELP ? TENANT_EXIT_OK : TENANT_EXIT_USAGE;
    }
    if (kl_config_load(&cfg, &tenant_config_spec, NULL) != KL_OK ||
        tenant_init(&t, &cfg, &args) != KL_OK || tenant_tls_setup(&t.tls, &cfg) != KL_OK ||
        start_checks(&args) != KL_OK || tenant_run(&t) != KL_OK)
        status = fail();
    tenant_free(&t);
    kl_config_free(&cfg, &tenant_config_spec);
    tenant_args_free(&args);
    return status;
}
