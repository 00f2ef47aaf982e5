/* ver_agent_post: POST /v2.x/agents/{id}, the tenant adding an agent.
 *
 * Checks and answers follow upstream's AgentsHandler.post: a missing
 * required field is 400 "Exception error: '<field>'" (Python's KeyError
 * text), a named runtime or measured-boot policy given twice is 409, one
 * that does not exist 404, an agent that exists 409. We also refuse at once
 * what upstream only finds out when it first polls (an AK or tpm_policy
 * that does not parse, a V that is not 32 bytes of base64, no address).
 */
#define KL_LOGMODULE "verifier"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "util/kl_alloc.h"
#include "util/kl_b64.h"
#include "util/kl_log.h"
#include "verifier.h"

/* upstream's json.dumps(EMPTY_RUNTIME_POLICY) */
static const char empty_policy[] =
    "{\"meta\": {\"version\": 1, \"generator\": 1}, \"release\": 0, \"digests\": {}, "
    "\"excludes\": [], \"keyrings\": {}, \"ima\": {\"ignored_keyrings\": [], "
    "\"log_hash_alg\": \"sha1\", \"dm_policy\": null}, \"ima-buf\": {}, "
    "\"verification-keys\": \"\"}";

static const char *const api_versions[] = {"2.0", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6"};

/* The fields read with json_body[...] upstream (absent: 400). */
static const char *const required[] = {
    "tpm_policy", "metadata", "ima_sign_verification_keys", "revocation_key",
    "accept_tpm_hash_algs", "accept_tpm_encryption_algs", "accept_tpm_signing_algs", "ak_tpm",
    "runtime_policy", "mb_policy_name", "mb_policy"};

static bool
bad(ver_reply *r, const char *fmt, const char *arg)
{
    char msg[400];

    snprintf(msg, sizeof(msg), fmt, arg);
    ver_reply_set(r, 400, "Exception error: %s", msg);
    return false;
}

static bool
check_fields(json_t *b, ver_reply *r)
{
    static const char *const strings[] = {"tpm_policy", "metadata", "ima_sign_verification_keys",
                                          "revocation_key", "ak_tpm", "runtime_policy"};
    static const char *const lists[] = {"accept_tpm_hash_algs", "accept_tpm_encryption_algs",
                                        "accept_tpm_signing_algs"};
    json_t *v;

    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
        if (!json_object_get(b, required[i]))
            return bad(r, "'%s'", required[i]);
    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
        if (!json_is_string(json_object_get(b, strings[i])))
            return bad(r, "%s must be a string", strings[i]);
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
        if (!json_is_array(json_object_get(b, lists[i])))
            return bad(r, "%s must be a list of strings", lists[i]);
    v = json_object_get(b, "mb_policy");
    if (!json_is_null(v) && !json_is_string(v))
        return bad(r, "%s must be JSON text or null", "mb_policy");
    v = json_object_get(b, "mb_policy_name");
    if (!json_is_null(v) && !json_is_string(v))
        return bad(r, "%s must be a string", "mb_policy_name");
    v = json_object_get(b, "runtime_policy_name");
    if (v && !json_is_null(v) && !json_is_string(v))
        return bad(r, "%s must be a string", "runtime_policy_name");
    return true;
}

static const char *
str_or_null(json_t *b, const char *key)
{
    return json_string_value(json_object_get(b, key));
}

static kl_rc
dup_field(char **dst, const char *s)
{
    *dst = NULL;
    if (!s)
        return KL_OK;
    *dst = kl_strdup(s);
    return *dst ? KL_OK : kl_err_set(KL_ENOMEM, "out of memory");
}

static kl_rc
dump_list(char **dst, json_t *l)
{
    kl_buf b;
    kl_rc rc;

    kl_buf_init(&b, 1 << 16);
    rc = kl_json_dump_py(&b, l);
    if (rc == KL_OK)
        rc = kl_buf_terminate(&b);
    *dst = rc == KL_OK ? (char *)kl_buf_take(&b, NULL) : NULL;
    kl_buf_free(&b);
    return rc;
}

/* cloudagent_port: an int or a string of digits. */
static bool
read_port(json_t *v, int64_t *port)
{
    const char *s = json_string_value(v);
    char *end;
    long p;

    if (json_is_integer(v)) {
        *port = json_integer_value(v);
        return *port > 0 && *port < 65536;
    }
    if (!s || !s[0])
        return false;
    p = strtol(s, &end, 10);
    *port = p;
    return !*end && p > 0 && p < 65536;
}

static const char *
pick_version(const char *asked)
{
    for (size_t i = 0; asked && i < sizeof(api_versions) / sizeof(api_versions[0]); i++)
        if (!strcmp(asked, api_versions[i]))
            return asked;
    if (asked && asked[0])
        LOG_WARN("the tenant asked for agent API version %s, which this verifier does not "
                 "speak; using 2.6 (renegotiated at the first contact)", asked);
    return "2.6";
}

static bool
check_v(const char *v, ver_reply *r)
{
    kl_buf raw;
    bool ok;

    kl_buf_init(&raw, 64);
    ok = kl_b64_decode_append(&raw, KL_BYTES_CSTR(v), false) == KL_OK && raw.len == 32;
    kl_buf_free_secret(&raw);
    return ok ? true : bad(r, "%s", "v must be 32 bytes of base64");
}

/* The agent's fields from the body. */
static bool
fill(ver_ctx *ctx, ver_agent *a, const char *id, json_t *b, ver_reply *r)
{
    const char *mtls = str_or_null(b, "mtls_cert");
    const char *v = str_or_null(b, "v");
    json_t *vport = json_object_get(b, "verifier_port");
    kl_rc rc;

    if (v && !check_v(v, r))
        return false;
    if (!str_or_null(b, "cloudagent_ip") || !read_port(json_object_get(b, "cloudagent_port"),
                                                       &a->port))
        return bad(r, "%s", "cloudagent_ip and cloudagent_port are needed to poll the agent");
    a->verifier_port = ctx->cfg->port;
    if (vport && !read_port(vport, &a->verifier_port))
        return bad(r, "%s", "verifier_port must be a port number");
    rc = dup_field(&a->id, id);
    if (rc == KL_OK)
        rc = dup_field(&a->v, v);
    if (rc == KL_OK)
        rc = dup_field(&a->ip, str_or_null(b, "cloudagent_ip"));
    if (rc == KL_OK)
        rc = dup_field(&a->tpm_policy_text, str_or_null(b, "tpm_policy"));
    if (rc == KL_OK)
        rc = dup_field(&a->meta_data, str_or_null(b, "metadata"));
    if (rc == KL_OK)
        rc = dup_field(&a->ima_keys_text, str_or_null(b, "ima_sign_verification_keys"));
    if (rc == KL_OK)
        rc = dup_field(&a->revocation_key, str_or_null(b, "revocation_key"));
    if (rc == KL_OK)
        rc = dup_field(&a->ak_tpm, str_or_null(b, "ak_tpm"));
    if (rc == KL_OK)
        rc = dup_field(&a->mtls_cert, mtls);
    if (rc == KL_OK)
        rc = dup_field(&a->supported_version, pick_version(str_or_null(b, "supported_version")));
    if (rc == KL_OK)
        rc = dup_field(&a->verifier_id, ctx->cfg->uuid);
    if (rc == KL_OK)
        rc = dup_field(&a->verifier_ip, json_object_get(b, "verifier_ip")
                                            ? str_or_null(b, "verifier_ip") : ctx->cfg->ip);
    if (rc == KL_OK)
        rc = dump_list(&a->accept_text[0], json_object_get(b, "accept_tpm_hash_algs"));
    if (rc == KL_OK)
        rc = dump_list(&a->accept_text[1], json_object_get(b, "accept_tpm_encryption_algs"));
    if (rc == KL_OK)
        rc = dump_list(&a->accept_text[2], json_object_get(b, "accept_tpm_signing_algs"));
    if (rc == KL_OK)
        rc = ver_agent_decode(a);
    if (rc != KL_OK)
        return bad(r, "%s", kl_err_msg());
    return true;
}

/* ------------------------------------------------------------- policies */

/* What POST decided about the policies before storing anything. */
typedef struct {
    const char *rt_name; /* store the text under it, unless rt_found */
    ver_rtpolicy *rt_found;
    char checksum[65];
    int64_t generator;
    const char *mb_name;
    const char *mb_text;
    ver_mbpolicy *mb_found;
} decision;

static bool
decide_runtime(ver_ctx *ctx, ver_agent *a, json_t *b, kl_buf *text, decision *d, ver_reply *r)
{
    const char *name = str_or_null(b, "runtime_policy_name");

    if (name && !name[0])
        name = NULL;
    if (text->len == 0 && !name &&
        kl_buf_append(text, empty_policy, sizeof(empty_policy) - 1) != KL_OK)
        return bad(r, "%s", kl_err_msg());
    d->rt_name = name ? name : a->id;
    if (text->len && !ver_rtpolicy_validate(ctx, kl_buf_bytes(text),
                                            str_or_null(b, "runtime_policy_key"), d->checksum,
                                            &d->generator, r))
        return false;
    /* a name only: the stored policy; a text under the agent's name: upstream
     * keeps a policy of that name that is already there */
    if (ver_rtpolicy_find(ctx, d->rt_name, &d->rt_found) != KL_OK)
        return bad(r, "%s", kl_err_msg());
    return true;
}

static bool
decide_mb(ver_ctx *ctx, ver_agent *a, json_t *b, decision *d, ver_reply *r)
{
    const char *name = str_or_null(b, "mb_policy_name");
    bool named = name && name[0];

    d->mb_text = str_or_null(b, "mb_policy");
    d->mb_name = named ? name : a->id;
    if (ver_mbpolicy_find(ctx, d->mb_name, &d->mb_found) != KL_OK)
        return bad(r, "%s", kl_err_msg());
    if (d->mb_text && d->mb_found) {
        ver_reply_set(r, 409, named ? "mb_policy with name %s already exists. Please use a "
                                      "different name or delete the mb_policy from the verifier."
                                    : "mb_policy with name %s already exists. You can delete "
                                      "the mb_policy from the verifier.",
                      d->mb_name);
        return false;
    }
    if (named && !d->mb_text && !d->mb_found) {
        ver_reply_set(r, 404, "Could not find mb_policy with name %s!", name);
        return false;
    }
    return true;
}

static bool
store_policies(ver_ctx *ctx, ver_agent *a, const kl_buf *text, decision *d, ver_reply *r)
{
    kl_rc rc = KL_OK;

    a->rt = d->rt_found;
    if (!a->rt)
        rc = ver_rtpolicy_store(ctx, d->rt_name, kl_buf_bytes(text), NULL, d->checksum,
                                d->generator, false, &a->rt);
    a->mb = d->mb_found;
    if (rc == KL_OK && !a->mb)
        rc = ver_mbpolicy_store(ctx, d->mb_name, d->mb_text, false, &a->mb);
    if (a->rt)
        a->rt->users++;
    if (a->mb)
        a->mb->users++;
    if (rc == KL_OK && a->rt && a->mb)
        return true;
    ver_reply_set(r, 500, "cannot store the agent's policies: %s", kl_err_msg());
    return false;
}

/* The checks upstream makes before it stores anything. */
static bool
precheck(ver_ctx *ctx, const char *id, json_t *b, kl_buf *text, ver_reply *r)
{
    const char *name = str_or_null(b, "runtime_policy_name");
    const char *mtls = str_or_null(b, "mtls_cert");
    ver_rtpolicy *stored = NULL;
    bool exists;

    if (!check_fields(b, r))
        return false;
    if (ctx->cfg->enable_agent_mtls && (!mtls || !strcmp(mtls, "disabled")) &&
        strcmp(pick_version(str_or_null(b, "supported_version")), "1.0")) {
        ver_reply_set(r, 400, "mTLS certificate for agent is required!");
        return false;
    }
    if (kl_b64_decode_append(text, KL_BYTES_CSTR(str_or_null(b, "runtime_policy")), false) !=
        KL_OK)
        return bad(r, "%s", "runtime_policy is not base64");
    if (name && name[0] && ver_rtpolicy_find(ctx, name, &stored) != KL_OK)
        return bad(r, "%s", kl_err_msg());
    if (name && name[0] && text->len && stored) {
        ver_reply_set(r, 409, "IMA policy with name %s already exists. Please use a different "
                              "name or delete the allowlist from the verifier.", name);
        return false;
    }
    if (name && name[0] && !text->len && !stored) {
        ver_reply_set(r, 404, "Could not find IMA policy with name %s!", name);
        return false;
    }
    if (ver_table_get(&ctx->agents, id) || ver_store_count_agent(ctx, id, &exists) != KL_OK ||
        exists) {
        ver_reply_set(r, 409, "Agent of uuid %s already exists. Please use delete or update.",
                      id);
        return false;
    }
    return true;
}

void
ver_agent_from_post(ver_ctx *ctx, const char *id, json_t *b, ver_agent **out, ver_reply *r)
{
    ver_agent *a = NULL;
    decision d;
    kl_buf text;
    bool ok = false;

    *out = NULL;
    memset(&d, 0, sizeof(d));
    kl_buf_init(&text, (size_t)ctx->cfg->max_upload_size);
    if (ver_agent_new(ctx, &a) != KL_OK) {
        ver_reply_set(r, 500, "out of memory");
        goto out;
    }
    ok = precheck(ctx, id, b, &text, r) && fill(ctx, a, id, b, r) &&
         decide_runtime(ctx, a, b, &text, &d, r) && decide_mb(ctx, a, b, &d, r) &&
         store_policies(ctx, a, &text, &d, r);
    if (ok && ver_store_insert_agent(ctx, a) != KL_OK) {
        ver_reply_set(r, 500, "cannot store the agent: %s", kl_err_msg());
        ok = false;
    }
out:
    kl_buf_free(&text);
    if (!ok) {
        ver_agent_free(a);
        return;
    }
    *out = a;
}
