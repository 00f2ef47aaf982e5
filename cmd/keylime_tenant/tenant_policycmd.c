/* tenant_policycmd: the runtime and measured-boot policy commands (upstream
 * do_*_runtime_policy, do_*_mb_policy): one request to the verifier's
 * /allowlists/ or /mbpolicies/, the answer print()ed as a Python dict, and
 * an answer of 400 or more turned into an error whose text is that dict. */
#include "tenant.h"
#include "util/kl_alloc.h"

#include <string.h>

#define DEPRECATED_TAIL                                                                            \
    "Keylime has implemented support for a unified policy format, and will no longer accept "      \
    "separate allow/exclude lists in the near future.A conversion script to upgrade legacy "       \
    "allow/exclude lists to the new format is available under "                                    \
    "keylime/cmd/convert_runtime_policy.py."

typedef enum { PC_ADD, PC_UPDATE, PC_SHOW, PC_DELETE, PC_LIST } pc_op;

typedef struct {
    const char *command;
    bool mb; /* /mbpolicies/ rather than /allowlists/ */
    pc_op op;
    const char *header;      /* printed before the answer ("... command response: N.") */
    const char *replaced_by; /* deprecated spelling: the command to use */
} pc_entry;

static const pc_entry pc_table[] = {
    {"addruntimepolicy", false, PC_ADD, NULL, NULL},
    {"updateruntimepolicy", false, PC_UPDATE, NULL, NULL},
    {"showruntimepolicy", false, PC_SHOW, "Show allowlist", NULL},
    {"deleteruntimepolicy", false, PC_DELETE, NULL, NULL},
    {"listruntimepolicy", false, PC_LIST, "list", NULL},
    {"addallowlist", false, PC_ADD, NULL, "addruntimepolicy"},
    {"showallowlist", false, PC_SHOW, "Show allowlist", "showruntimepolicy"},
    {"deleteallowlist", false, PC_DELETE, NULL, "deleteruntimepolicy"},
    {"addmbpolicy", true, PC_ADD, NULL, NULL},
    {"updatembpolicy", true, PC_UPDATE, NULL, NULL},
    {"showmbpolicy", true, PC_SHOW, "showmbpolicy", NULL},
    {"deletembpolicy", true, PC_DELETE, NULL, NULL},
    {"listmbpolicy", true, PC_LIST, "listmbpolicy", NULL},
};

static const pc_entry *
find(const char *command)
{
    for (size_t i = 0; i < sizeof(pc_table) / sizeof(pc_table[0]); i++)
        if (!strcmp(pc_table[i].command, command))
            return &pc_table[i];
    return NULL;
}

bool
tenant_is_policy_command(const char *command)
{
    return find(command) != NULL;
}

/* Policy names go into the path; everything but [A-Za-z0-9._~-] is
 * percent-encoded so that a name cannot change the request. */
static kl_rc
path_for(kl_buf *path, const tenant *t, const pc_entry *e, const char *name)
{
    kl_rc rc =
        kl_buf_printf(path, "/v%s/%s/", t->verifier_api, e->mb ? "mbpolicies" : "allowlists");

    for (const unsigned char *p = (const unsigned char *)(name ? name : ""); rc == KL_OK && *p;
         p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("._~-", *p))
            rc = kl_buf_append_byte(path, *p);
        else
            rc = kl_buf_printf(path, "%%%02X", *p);
    }
    if (rc == KL_OK)
        rc = kl_buf_terminate(path);
    return rc;
}

/* The name the command works on, or the error upstream gives without one. */
static kl_rc
policy_name(const tenant *t, const pc_entry *e, const char **name)
{
    const tenant_args *a = t->args;
    static const char *const what[] = {"add", "update", "show", "delete"};

    if (e->mb) {
        *name = a->mb_policy_name;
        if (e->op <= PC_UPDATE && !*name)
            return kl_err_set(KL_EINVAL, "mb_policy_name is required to add measure boot policy");
        if (e->op > PC_UPDATE && (!*name || !**name))
            return kl_err_set(KL_EINVAL, "--mb_policy_name is required to %s a runtime policy",
                              what[e->op]);
        return KL_OK;
    }
    if (e->op <= PC_UPDATE) {
        if (!a->runtime_policy_name && !a->allowlist_name)
            return kl_err_set(KL_EINVAL, "runtime_policy_name is required to add a runtime policy");
        if (!a->runtime_policy_name)
            tl_warn("WARNING: --allowlist-name is deprecated. Use --runtime-policy-name "
                    "instead." DEPRECATED_TAIL);
        return KL_OK; /* process_policy picks the name */
    }
    *name = a->allowlist_name && a->allowlist_name[0] ? a->allowlist_name : a->runtime_policy_name;
    if (!*name || !**name)
        return kl_err_set(KL_EINVAL,
                          "--allowlist_name or --runtime_policy_name is required to %s "
                          "a runtime policy",
                          what[e->op]);
    return KL_OK;
}

/* The body of POST/PUT: {"tpm_policy", "runtime_policy",
 * "runtime_policy_key"} or {"mb_policy"}. */
static kl_rc
policy_body(tenant *t, const pc_entry *e, char **text)
{
    const tenant_policy *p = &t->pol;
    char *tpm = NULL;
    json_t *b;
    kl_rc rc = tenant_policy_process(t);

    if (rc != KL_OK)
        return rc;
    if (e->mb) {
        b = json_pack("{s:s?}", "mb_policy", p->mb_policy);
    } else {
        tpm = tl_dumps(p->tpm_policy);
        b = tpm ? json_pack("{s:s,s:s,s:s}", "tpm_policy", tpm, "runtime_policy", p->runtime_policy,
                            "runtime_policy_key", p->runtime_policy_key)
                : NULL;
    }
    if (!b || !(*text = tl_dumps(b)))
        rc = kl_err_set(KL_ENOMEM, "out of memory");
    json_decref(b);
    kl_free(tpm);
    return rc;
}

static kl_rc
answer(const pc_entry *e, const tenant_resp *r)
{
    json_t *empty = json_object();
    const json_t *shown = r->json ? r->json : empty;
    char *repr;
    kl_rc rc = KL_OK;

    if (e->header) {
        printf("%s command response: %d.\n", e->header, r->status);
        fflush(stdout);
    }
    tl_print_repr(shown);
    if (r->status >= 400) {
        repr = tl_repr(shown);
        rc = kl_err_set(KL_EIO, "%s", repr ? repr : "{}");
        kl_free(repr);
    }
    json_decref(empty);
    return rc;
}

kl_rc
tenant_cmd_policy(tenant *t, const char *command)
{
    static const char *const methods[] = {"POST", "PUT", "GET", "DELETE", "GET"};
    const pc_entry *e = find(command);
    const char *name = NULL;
    char *body = NULL;
    tenant_resp r = {0};
    kl_buf path;
    kl_rc rc;

    if (!e)
        return kl_err_set(KL_EINVAL, "Invalid command specified: %s", command);
    if (e->replaced_by)
        tl_warn("WARNING: -c %s is deprecated. Use -c %s instead." DEPRECATED_TAIL, e->command,
                e->replaced_by);
    kl_buf_init(&path, 8192);
    rc = e->op == PC_LIST ? KL_OK : policy_name(t, e, &name);
    if (rc == KL_OK && e->op <= PC_UPDATE)
        rc = policy_body(t, e, &body);
    if (rc == KL_OK && e->op <= PC_UPDATE)
        name = e->mb ? t->pol.mb_policy_name : t->pol.runtime_policy_name;
    if (rc == KL_OK)
        rc = tenant_verifier_version(t);
    if (rc == KL_OK)
        rc = path_for(&path, t, e, e->op == PC_LIST ? "" : name);
    if (rc == KL_OK)
        rc = tenant_http(t, TP_VERIFIER, methods[e->op], (const char *)path.ptr,
                         body ? KL_BYTES_CSTR(body) : KL_BYTES("", 0), &r);
    if (rc == KL_OK)
        rc = answer(e, &r);
    tenant_resp_free(&r);
    kl_buf_free(&path);
    kl_free(body);
    return rc;
}
