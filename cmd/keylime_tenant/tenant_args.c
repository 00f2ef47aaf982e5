/* tenant_args: upstream's command line, parsed the way Python 3's argparse
 * parses it (the table order matters: it is argparse's add_argument order,
 * which decides abbreviations and the usage text). */
#include "tenant.h"
#include "util/kl_alloc.h"

#include <stddef.h>
#include <string.h>

#define F(field) offsetof(tenant_args, field)
#define STORE(s1, s2, meta, field, help)                                                           \
    {                                                                                              \
        {s1, s2, NULL}, meta, TA_STORE, F(field), help                                             \
    }

const tenant_opt tenant_opts[] = {
    {{"-h", "--help", NULL}, NULL, TA_HELP, 0, "show this help message and exit"},
    STORE("-c", "--command", "COMMAND", command,
          "what to do: add (the default), delete, update, status, cvstatus, cvlist, bulkinfo, "
          "reactivate, regstatus, reglist, regdelete, addruntimepolicy, showruntimepolicy, "
          "updateruntimepolicy, deleteruntimepolicy, listruntimepolicy, addmbpolicy, "
          "showmbpolicy, updatembpolicy, deletembpolicy, listmbpolicy"),
    {{"--push-model", NULL, NULL},
     NULL,
     TA_TRUE,
     F(push_model),
     "push-model agents are not supported by this tenant (refused)"},
    STORE("-t", "--targethost", "AGENT_IP", agent_ip, "the agent's IP address"),
    STORE("-tp", "--targetport", "AGENT_PORT", agent_port, "the agent's port"),
    STORE("-r", "--registrarhost", "REGISTRAR_IP", registrar_ip,
          "the registrar's IP address (tenant.conf registrar_ip)"),
    STORE("-rp", "--registrarport", "REGISTRAR_PORT", registrar_port,
          "the registrar's TLS port (tenant.conf registrar_port)"),
    STORE("--cv_targethost", NULL, "CV_AGENT_IP", cv_agent_ip,
          "the agent's IP address as the verifier reaches it, when it differs from -t"),
    STORE("-v", "--cv", "VERIFIER_IP", verifier_ip, "the verifier's IP address"),
    STORE("-vp", "--cvport", "VERIFIER_PORT", verifier_port, "the verifier's port"),
    STORE("-vi", "--cvid", "VERIFIER_ID", verifier_id, "the verifier's identifier"),
    {{"-nvc", "--no-verifier-check", NULL},
     NULL,
     TA_FALSE,
     F(verifier_check),
     "delete/reactivate: do not ask the verifier where it keeps the agent first"},
    STORE("-u", "--uuid", "AGENT_UUID", agent_uuid, "the agent's identifier"),
    STORE("-f", "--file", "FILE", file, "encrypt FILE and deliver it to the agent"),
    STORE("--cert", NULL, "CA_DIR", ca_dir,
          "deliver a certificate package from the CA in CA_DIR ('default': <work dir>/ca)"),
    STORE("-k", "--key", "KEYFILE", keyfile,
          "a file of three base64 lines K, U, V (with -p: the payload encrypted under K)"),
    STORE("-p", "--payload", "PAYLOAD", payload, "the encrypted payload to deliver with -k"),
    STORE("--include", NULL, "INCL_DIR", incl_dir,
          "add the files of INCL_DIR to the --cert package"),
    STORE("--allowlist", NULL, "ALLOWLIST", allowlist,
          "DEPRECATED: a legacy allowlist, converted to a runtime policy"),
    STORE("--runtime-policy", NULL, "RUNTIME_POLICY", runtime_policy,
          "a runtime policy file (JSON, or a DSSE envelope)"),
    {{"--signature-verification-key", "--sign_verification_key", NULL},
     "IMA_SIGN_VERIFICATION_KEYS",
     TA_APPEND,
     F(vkeys),
     "DEPRECATED: an IMA signature verification key file (repeatable)"},
    {{"--signature-verification-key-sig", NULL, NULL},
     "IMA_SIGN_VERIFICATION_KEY_SIGS",
     TA_APPEND,
     F(vkey_sigs),
     "DEPRECATED: GPG signature of a verification key (not supported)"},
    {{"--signature-verification-key-sig-key", NULL, NULL},
     "IMA_SIGN_VERIFICATION_KEY_SIG_KEYS",
     TA_APPEND,
     F(vkey_sig_keys),
     "DEPRECATED: GPG key for those signatures (not supported)"},
    {{"--signature-verification-key-url", NULL, NULL},
     "IMA_SIGN_VERIFICATION_KEY_URLS",
     TA_APPEND,
     F(vkey_urls),
     "DEPRECATED: not supported; download the key and pass it as a file"},
    {{"--signature-verification-key-sig-url", NULL, NULL},
     "IMA_SIGN_VERIFICATION_KEY_SIG_URLS",
     TA_APPEND,
     F(vkey_sig_urls),
     "DEPRECATED: not supported"},
    {{"--signature-verification-key-sig-url-key", NULL, NULL},
     "IMA_SIGN_VERIFICATION_KEY_SIG_URL_KEYS",
     TA_APPEND,
     F(vkey_sig_url_keys),
     "DEPRECATED: not supported"},
    STORE("--mb_refstate", NULL, "MB_POLICY", mb_policy, "the same as --mb-policy"),
    STORE("--allowlist-url", NULL, "ALLOWLIST_URL", allowlist_url,
          "DEPRECATED: not supported; download the allowlist and use --allowlist"),
    STORE("--exclude", NULL, "IMA_EXCLUDE", ima_exclude,
          "DEPRECATED: an exclude list for --allowlist"),
    STORE("--runtime-policy-checksum", NULL, "RUNTIME_POLICY_CHECKSUM", runtime_policy_checksum,
          "the SHA-256 (hex) the runtime policy file must have"),
    STORE("--runtime-policy-sig-key", NULL, "RUNTIME_POLICY_SIG_KEY", runtime_policy_sig_key,
          "the public key that must have signed the runtime policy (DSSE)"),
    STORE("--runtime-policy-url", NULL, "RUNTIME_POLICY_URL", runtime_policy_url,
          "not supported; download the policy and use --runtime-policy"),
    STORE("--tpm_policy", NULL, "TPM_POLICY", tpm_policy,
          "PCR values as JSON, e.g. {\"15\": \"0000...\"}"),
    {{"--verify", NULL, NULL},
     NULL,
     TA_TRUE,
     F(verify),
     "wait until the agent proves it derived the bootstrap key"},
    STORE("--allowlist-name", NULL, "ALLOWLIST_NAME", allowlist_name,
          "DEPRECATED: the same as --runtime-policy-name"),
    STORE("--runtime-policy-name", NULL, "RUNTIME_POLICY_NAME", runtime_policy_name,
          "the name of the runtime policy on the verifier"),
    STORE("--mb-policy", NULL, "MB_POLICY", mb_policy,
          "a measured-boot policy file, or 'default' (tenant.conf mb_refstate)"),
    STORE("--mb-policy-name", NULL, "MB_POLICY_NAME", mb_policy_name,
          "the name of the measured-boot policy on the verifier"),
    STORE("--agent-api-version", NULL, "AGENT_API_VERSION", agent_api_version,
          "the API version to use with the agent (negotiated by default)"),
    STORE("--supported-version", NULL, "SUPPORTED_VERSION", supported_version,
          "DEPRECATED: the same as --agent-api-version"),
};

const size_t tenant_n_opts = sizeof(tenant_opts) / sizeof(tenant_opts[0]);

typedef struct {
    int opt;              /* index into tenant_opts, -1: an unknown option */
    const char *str;      /* the spelling matched */
    const char *explicit; /* a value given with the option itself, or NULL */
} opt_match;

typedef enum { ARG_POSITIONAL = 0, ARG_OPTION, ARG_DASHDASH } arg_kind;

static void
usage_error(FILE *err, const char *fmt, const char *a, const char *b)
{
    tenant_usage_print(err);
    fprintf(err, "keylime_tenant: error: ");
    fprintf(err, fmt, a, b);
    fputc('\n', err);
}

static bool
exact(const char *arg, size_t len, opt_match *m)
{
    for (size_t i = 0; i < tenant_n_opts; i++)
        for (const char *const *s = tenant_opts[i].strings; *s; s++)
            if (strlen(*s) == len && !strncmp(*s, arg, len)) {
                *m = (opt_match){(int)i, *s, NULL};
                return true;
            }
    return false;
}

/* argparse's _negative_number_matcher: ^-\d+$|^-\d*\.\d+$ */
static bool
negative_number(const char *s)
{
    const char *p = s + 1;
    const char *dot = strchr(p, '.');

    if (!*p)
        return false;
    for (const char *q = p; *q; q++)
        if (!(*q >= '0' && *q <= '9') && q != dot)
            return false;
    return !dot || dot[1];
}

/* argparse _get_option_tuples: the spellings arg abbreviates. Returns the
 * number of matches; the list (for the ambiguity message) goes to names. */
static size_t
prefix_matches(const char *arg, opt_match *m, kl_buf *names)
{
    const char *eq = strchr(arg, '=');
    bool dashdash = arg[1] == '-';
    size_t plen = dashdash && eq ? (size_t)(eq - arg) : strlen(arg), n = 0;

    for (size_t i = 0; i < tenant_n_opts; i++)
        for (const char *const *s = tenant_opts[i].strings; *s; s++) {
            opt_match cand = {(int)i, *s, NULL};

            if (!dashdash && strlen(*s) == 2 && !strncmp(*s, arg, 2))
                cand.explicit = arg + 2;
            else if (strncmp(*s, arg, plen) != 0)
                continue;
            else if (dashdash && eq)
                cand.explicit = eq + 1;
            if (n++ == 0)
                *m = cand;
            if (kl_buf_printf(names, "%s%s", n > 1 ? ", " : "", *s) != KL_OK)
                return n;
        }
    return n;
}

/* argparse _parse_optional. -1: an ambiguous abbreviation (reported). */
static int
classify(const char *arg, opt_match *m, FILE *err)
{
    const char *eq;
    kl_buf names;
    size_t n;

    *m = (opt_match){-1, arg, NULL};
    if (arg[0] != '-')
        return ARG_POSITIONAL;
    if (exact(arg, strlen(arg), m))
        return ARG_OPTION;
    if (!arg[1])
        return ARG_POSITIONAL;
    eq = strchr(arg, '=');
    if (eq && exact(arg, (size_t)(eq - arg), m)) {
        m->explicit = eq + 1;
        return ARG_OPTION;
    }
    kl_buf_init(&names, 4096);
    n = prefix_matches(arg, m, &names);
    if (n > 1 && kl_buf_terminate(&names) == KL_OK)
        usage_error(err, "ambiguous option: %s could match %s", arg, (const char *)names.ptr);
    kl_buf_free(&names);
    if (n > 1)
        return -1;
    if (n == 1)
        return ARG_OPTION;
    *m = (opt_match){-1, arg, NULL};
    if (negative_number(arg) || strchr(arg, ' '))
        return ARG_POSITIONAL;
    return ARG_OPTION;
}

static kl_rc
strs_push(tenant_strs *l, const char *v)
{
    const char **grown = kl_realloc(l->items, (l->n + 1) * sizeof(*grown));

    if (!grown)
        return kl_err_set(KL_ENOMEM, "out of memory");
    l->items = grown;
    l->items[l->n++] = v;
    return KL_OK;
}

/* The option's names for messages: "-u/--uuid". */
static void
opt_names(char *out, size_t n, const tenant_opt *o)
{
    size_t used = 0;

    out[0] = 0;
    for (const char *const *s = o->strings; *s && used < n; s++)
        used += (size_t)snprintf(out + used, n - used, "%s%s", s == o->strings ? "" : "/", *s);
}

static void
store(tenant_args *a, const tenant_opt *o, const char *value)
{
    char *field = (char *)a + o->offset;

    if (o->kind == TA_TRUE || o->kind == TA_FALSE)
        *(bool *)(void *)field = o->kind == TA_TRUE;
    else
        *(const char **)(void *)field = value;
}

/* One option occurrence; *i is advanced past what it consumed. */
static tenant_args_result
consume(tenant_args *a, const opt_match *m, char **argv, const int *kind, int argc, int *i,
        FILE *help, FILE *err)
{
    const tenant_opt *o = &tenant_opts[m->opt];
    char names[160];
    const char *value = m->explicit;

    opt_names(names, sizeof(names), o);
    if (o->kind == TA_HELP || o->kind == TA_TRUE || o->kind == TA_FALSE) {
        if (value) {
            char msg[256];

            snprintf(msg, sizeof(msg), "argument %s: ignored explicit argument '%s'", names, value);
            usage_error(err, "%s%s", msg, "");
            return TENANT_ARGS_USAGE;
        }
        if (o->kind == TA_HELP) {
            tenant_help_print(help);
            return TENANT_ARGS_HELP;
        }
        store(a, o, NULL);
        return TENANT_ARGS_RUN;
    }
    if (!value) {
        if (*i + 1 >= argc || kind[*i + 1] != ARG_POSITIONAL) {
            usage_error(err, "argument %s: %s", names, "expected one argument");
            return TENANT_ARGS_USAGE;
        }
        value = argv[++*i];
    }
    if (o->kind == TA_APPEND) {
        if (strs_push((tenant_strs *)(void *)((char *)a + o->offset), value) != KL_OK) {
            usage_error(err, "%s%s", "out of memory", "");
            return TENANT_ARGS_USAGE;
        }
    } else {
        store(a, o, value);
    }
    return TENANT_ARGS_RUN;
}

static bool
truthy(const char *s)
{
    return s && s[0];
}

/* upstream cli/options.get_opts_error (Python truthiness: "" is unset). */
static const char *
opts_error(const tenant_args *a)
{
    bool add_policy =
        !strcmp(a->command, "addallowlist") || !strcmp(a->command, "addruntimepolicy");

    if (add_policy && !(truthy(a->allowlist) || truthy(a->allowlist_url) ||
                        truthy(a->runtime_policy) || truthy(a->runtime_policy_url)))
        return "--allowlist or --runtime_policy is required to add a runtime policy";
    if (truthy(a->ima_exclude) && !truthy(a->allowlist))
        return "--exclude cannot be used without an --allowlist";
    if (truthy(a->allowlist) && truthy(a->allowlist_url))
        return "--allowlist and --allowlist-url cannot be specified at the same time";
    if (truthy(a->runtime_policy) && truthy(a->runtime_policy_url))
        return "--runtime_policy and --runtime_policy-url cannot be specified at the same time";
    if (truthy(a->runtime_policy_url) && !truthy(a->runtime_policy_checksum))
        return "--runtime_policy-url must have --runtime_policy-checksum to verifier integrity";
    if (truthy(a->runtime_policy_checksum) &&
        !(truthy(a->runtime_policy_url) || truthy(a->runtime_policy)))
        return "--runtime_policy-checksum must have either --runtime_policy or "
               "--runtime_policy-url";
    return NULL;
}

/* Unrecognized arguments, reported together at the end as argparse does. */
static tenant_args_result
report_extras(char **argv, const int *extra, int n_extra, FILE *err)
{
    kl_buf b;

    kl_buf_init(&b, 1 << 20);
    for (int j = 0; j < n_extra; j++)
        if (kl_buf_printf(&b, "%s%s", j ? " " : "", argv[extra[j]]) != KL_OK)
            break;
    if (kl_buf_terminate(&b) == KL_OK)
        usage_error(err, "unrecognized arguments: %s%s", (const char *)b.ptr, "");
    kl_buf_free(&b);
    return TENANT_ARGS_USAGE;
}

static tenant_args_result
parse_all(tenant_args *a, int argc, char **argv, int *kind, opt_match *m, int *extra, FILE *help,
          FILE *err)
{
    tenant_args_result r = TENANT_ARGS_RUN;
    bool dashdash = false;
    int n_extra = 0;

    for (int i = 1; i < argc; i++) {
        kind[i] = dashdash                 ? ARG_POSITIONAL
                  : !strcmp(argv[i], "--") ? ARG_DASHDASH
                                           : classify(argv[i], &m[i], err);
        if (kind[i] < 0)
            return TENANT_ARGS_USAGE;
        dashdash = dashdash || kind[i] == ARG_DASHDASH;
    }
    for (int i = 1; i < argc && r == TENANT_ARGS_RUN; i++) {
        if (kind[i] == ARG_OPTION && m[i].opt >= 0)
            r = consume(a, &m[i], argv, kind, argc, &i, help, err);
        else
            extra[n_extra++] = i; /* Python 3.11 keeps "--" among them */
    }
    if (r == TENANT_ARGS_RUN && n_extra > 0)
        r = report_extras(argv, extra, n_extra, err);
    return r;
}

tenant_args_result
tenant_args_parse(tenant_args *out, int argc, char **argv, FILE *help, FILE *err)
{
    int *kind = kl_calloc((size_t)argc + 1, sizeof(int));
    int *extra = kl_calloc((size_t)argc + 1, sizeof(int));
    opt_match *m = kl_calloc((size_t)argc + 1, sizeof(opt_match));
    tenant_args_result r = TENANT_ARGS_USAGE;
    const char *why;

    memset(out, 0, sizeof(*out));
    out->command = "add";
    out->verifier_check = true;
    if (!kind || !extra || !m)
        usage_error(err, "%s%s", "out of memory", "");
    else
        r = parse_all(out, argc, argv, kind, m, extra, help, err);
    if (r == TENANT_ARGS_RUN && out->supported_version) {
        tl_warn("--supported-version is deprecated. Use --agent-api-version instead.");
        if (!out->agent_api_version)
            out->agent_api_version = out->supported_version;
    }
    if (r == TENANT_ARGS_RUN && (why = opts_error(out)) != NULL) {
        usage_error(err, "%s%s", why, "");
        r = TENANT_ARGS_USAGE;
    }
    kl_free(kind);
    kl_free(extra);
    kl_free(m);
    return r;
}

void
tenant_args_free(tenant_args *a)
{
    tenant_strs *lists[] = {&a->vkeys,     &a->vkey_sigs,     &a->vkey_sig_keys,
                            &a->vkey_urls, &a->vkey_sig_urls, &a->vkey_sig_url_keys};

    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        kl_free(lists[i]->items);
        lists[i]->items = NULL;
        lists[i]->n = 0;
    }
}
