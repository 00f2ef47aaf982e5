/* ver_policy: named runtime policies (table allowlists) and measured-boot
 * policies (table mbpolicies).
 *
 * A policy's row is read when a name is first needed; a runtime policy's
 * text is parsed when the first agent using it is polled, and that parse
 * is shared by every name with the same checksum (ten thousand agents on
 * one policy hold it once). The text itself is not kept in memory: GET
 * /allowlists/{name} reads it from the database. Updating a policy (PUT)
 * replaces the parse; agents pick up the new one at their next quote.
 */
#define KL_LOGMODULE "verifier"

#include <stdio.h>
#include <string.h>

#include "crypto/hash.h"
#include "json/json.h"
#include "util/kl_alloc.h"
#include "util/kl_b64.h"
#include "util/kl_hex.h"
#include "util/kl_log.h"
#include "verifier.h"

typedef struct ver_parsed {
    char checksum[65];
    kl_runtime_policy *policy;
    unsigned refs;
    struct ver_parsed *next;
} ver_parsed;

struct ver_policies {
    ver_rtpolicy *rt;
    ver_mbpolicy *mb;
    ver_parsed *parsed;
};

kl_rc
ver_policies_new(ver_policies **out)
{
    *out = kl_calloc(1, sizeof(**out));
    return *out ? KL_OK : kl_err_set(KL_ENOMEM, "out of memory");
}

static void
rt_free(ver_rtpolicy *p)
{
    kl_free(p->name);
    kl_free(p);
}

static void
mb_free(ver_mbpolicy *p)
{
    kl_free(p->name);
    kl_free(p->text);
    kl_free(p);
}

void
ver_policies_free(ver_policies *ps)
{
    if (!ps)
        return;
    for (ver_rtpolicy *p = ps->rt, *n; p; p = n) {
        n = p->next;
        rt_free(p);
    }
    for (ver_mbpolicy *p = ps->mb, *n; p; p = n) {
        n = p->next;
        mb_free(p);
    }
    for (ver_parsed *p = ps->parsed, *n; p; p = n) {
        n = p->next;
        kl_runtime_policy_free(p->policy);
        kl_free(p);
    }
    kl_free(ps);
}

/* ------------------------------------------------------ the parse cache */

static void
parsed_put(ver_policies *ps, ver_parsed *x)
{
    if (!x || --x->refs)
        return;
    for (ver_parsed **pp = &ps->parsed; *pp; pp = &(*pp)->next)
        if (*pp == x) {
            *pp = x->next;
            break;
        }
    kl_runtime_policy_free(x->policy);
    kl_free(x);
}

static kl_rc
parse_text(kl_runtime_policy **out, const char *text)
{
    kl_runtime_policy_opts o = KL_RUNTIME_POLICY_OPTS_INIT;

    /* checked when it was stored (signature included); NULL is upstream's
     * "{}" */
    if (!text)
        return kl_runtime_policy_empty(out);
    return kl_runtime_policy_load(out, KL_BYTES(text, strlen(text)), &o);
}

static kl_rc
parsed_get(ver_ctx *ctx, ver_rtpolicy *p, ver_parsed **out)
{
    kl_db_val v[] = {KL_DB_S(p->name)};
    kl_db_rows *rows = NULL;
    ver_parsed *x;
    kl_rc rc;

    for (x = ctx->policies->parsed; x; x = x->next)
        if (!strcmp(x->checksum, p->checksum)) {
            x->refs++;
            *out = x;
            return KL_OK;
        }
    x = kl_calloc(1, sizeof(*x));
    if (!x)
        return kl_err_set(KL_ENOMEM, "out of memory");
    rc = kl_db_query(ctx->db, &rows, "SELECT ima_policy FROM allowlists WHERE name = ?", v, 1);
    if (rc == KL_OK && kl_db_rows_count(rows) == 0)
        rc = kl_err_set(KL_ENOTFOUND, "runtime policy %s is no longer in the database",
                        p->name);
    if (rc == KL_OK)
        rc = parse_text(&x->policy, kl_db_rows_get(rows, 0, 0));
    kl_db_rows_free(rows);
    if (rc != KL_OK) {
        kl_free(x);
        return kl_err_wrap(rc, "runtime policy %s: ", p->name);
    }
    memcpy(x->checksum, p->checksum, sizeof(x->checksum));
    x->refs = 1;
    x->next = ctx->policies->parsed;
    ctx->policies->parsed = x;
    LOG_INFO("runtime policy %s parsed (%zu bytes in memory)", p->name,
             kl_runtime_policy_memory(x->policy));
    *out = x;
    return KL_OK;
}

kl_rc
ver_rtpolicy_parsed(ver_ctx *ctx, ver_rtpolicy *p, const kl_runtime_policy **out)
{
    kl_rc rc = KL_OK;

    if (!p->parsed)
        rc = parsed_get(ctx, p, &p->parsed);
    *out = rc == KL_OK ? p->parsed->policy : NULL;
    return rc;
}

/* ------------------------------------------------------ finding by name */

kl_rc
ver_rtpolicy_find(ver_ctx *ctx, const char *name, ver_rtpolicy **out)
{
    kl_db_val v[] = {KL_DB_S(name)};
    kl_db_rows *rows = NULL;
    ver_rtpolicy *p;
    int64_t gen;
    kl_rc rc;

    *out = NULL;
    for (p = ctx->policies->rt; p; p = p->next)
        if (!strcmp(p->name, name)) {
            *out = p;
            return KL_OK;
        }
    rc = kl_db_query(ctx->db, &rows, "SELECT checksum, generator FROM allowlists WHERE name = ?",
                     v, 1);
    if (rc != KL_OK || kl_db_rows_count(rows) == 0)
        goto out;
    p = kl_calloc(1, sizeof(*p));
    if (!p || !(p->name = kl_strdup(name))) {
        kl_free(p);
        rc = kl_err_set(KL_ENOMEM, "out of memory");
        goto out;
    }
    snprintf(p->checksum, sizeof(p->checksum), "%s",
             kl_db_rows_get(rows, 0, 0) ? kl_db_rows_get(rows, 0, 0) : "");
    p->generator = kl_db_rows_int(rows, 0, 1, &gen) ? gen : -1;
    p->next = ctx->policies->rt;
    ctx->policies->rt = p;
    *out = p;
out:
    kl_db_rows_free(rows);
    return rc;
}

kl_rc
ver_mbpolicy_find(ver_ctx *ctx, const char *name, ver_mbpolicy **out)
{
    kl_db_val v[] = {KL_DB_S(name)};
    kl_db_rows *rows = NULL;
    const char *text;
    ver_mbpolicy *p;
    kl_rc rc;

    *out = NULL;
    for (p = ctx->policies->mb; p; p = p->next)
        if (!strcmp(p->name, name)) {
            *out = p;
            return KL_OK;
        }
    rc = kl_db_query(ctx->db, &rows, "SELECT mb_policy FROM mbpolicies WHERE name = ?", v, 1);
    if (rc != KL_OK || kl_db_rows_count(rows) == 0)
        goto out;
    text = kl_db_rows_get(rows, 0, 0);
    p = kl_calloc(1, sizeof(*p));
    if (!p || !(p->name = kl_strdup(name)) || (text && !(p->text = kl_strdup(text)))) {
        if (p)
            mb_free(p);
        rc = kl_err_set(KL_ENOMEM, "out of memory");
        goto out;
    }
    p->next = ctx->policies->mb;
    ctx->policies->mb = p;
    *out = p;
out:
    kl_db_rows_free(rows);
    return rc;
}

/* ------------------------------------------------------------ validating */

static bool
refuse(ver_reply *r, int code, const char *msg, kl_rc rc)
{
    if (rc != KL_OK)
        ver_reply_set(r, code, "%s: %s", msg, kl_err_msg());
    else
        ver_reply_set(r, code, "%s", msg);
    return false;
}

static bool
load_key(kl_pubkey **key, const char *key_b64, ver_reply *r)
{
    kl_buf der;
    uint32_t keyid;
    bool has_keyid, ok = false;

    *key = NULL;
    kl_buf_init(&der, 1 << 16);
    if (kl_b64_decode_append(&der, KL_BYTES(key_b64, strlen(key_b64)), false) != KL_OK)
        refuse(r, 400, "runtime_policy_key is not base64", KL_OK);
    else if (kl_pubkey_load_any(key, kl_buf_bytes(&der), &keyid, &has_keyid) != KL_OK)
        refuse(r, 400, "runtime_policy_key holds no usable public key", KL_OK);
    else
        ok = true;
    kl_buf_free(&der);
    return ok;
}

bool
ver_rtpolicy_validate(ver_ctx *ctx, kl_bytes text, const char *key_b64, char checksum[65],
                      int64_t *generator, ver_reply *r)
{
    kl_runtime_policy_opts o = KL_RUNTIME_POLICY_OPTS_INIT;
    kl_runtime_policy *p = NULL;
    kl_pubkey *key = NULL;
    json_t *doc = NULL;
    uint8_t sum[32];
    bool ok = false;
    kl_rc rc;

    if (kl_json_parse(text, "runtime policy", &doc) != KL_OK)
        return refuse(r, 400, "Runtime policy is not valid JSON!", KL_OK);
    json_decref(doc);
    o.require_signature = ctx->cfg->require_allow_list_signatures;
    if (o.require_signature && (!key_b64 || !key_b64[0]))
        return refuse(r, 401, "Runtime policy signature verification required but no key was "
                              "given!", KL_OK);
    if (key_b64 && key_b64[0] && !load_key(&key, key_b64, r))
        return false;
    o.dsse_key = key;
    rc = kl_runtime_policy_load(&p, text, &o);
    if (rc == KL_EVERIFY)
        refuse(r, 401, "Runtime policy failed DSSE signature verification!", KL_OK);
    else if (rc != KL_OK)
        refuse(r, 400, "Runtime policy is malformatted", rc);
    else if (kl_hash(KL_HASH_SHA256, text.ptr, text.len, sum) != KL_OK)
        refuse(r, 500, "cannot hash the runtime policy", KL_OK);
    else {
        kl_hex_encode(checksum, sum, sizeof(sum));
        *generator = kl_runtime_policy_generator(p);
        ok = true;
    }
    kl_runtime_policy_free(p);
    kl_pubkey_free(key);
    return ok;
}

/* ------------------------------------------------------------- storing */

kl_rc
ver_rtpolicy_store(ver_ctx *ctx, const char *name, kl_bytes text, const char *tpm_policy,
                   const char checksum[65], int64_t generator, bool update, ver_rtpolicy **out)
{
    /* upstream stores "{}" as NULL */
    bool null_text = text.len == 2 && !memcmp(text.ptr, "{}", 2);
    kl_db_val v[] = {KL_DB_S(checksum), KL_DB_I(generator), KL_DB_S(tpm_policy),
                     null_text ? KL_DB_NUL : KL_DB_SN((const char *)text.ptr, text.len),
                     KL_DB_S(name)};
    ver_rtpolicy *p = NULL;
    kl_rc rc;

    if (update)
        rc = kl_db_exec(ctx->db, "UPDATE allowlists SET checksum = ?, generator = ?, "
                        "tpm_policy = ?, ima_policy = ? WHERE name = ?", v, 5, NULL);
    else
        rc = kl_db_exec(ctx->db, "INSERT INTO allowlists (checksum, generator, tpm_policy, "
                        "ima_policy, name) VALUES (?, ?, ?, ?, ?)", v, 5, NULL);
    if (rc == KL_OK)
        rc = ver_rtpolicy_find(ctx, name, &p);
    if (rc == KL_OK && p && update) {
        /* agents using it switch to the new text at their next quote */
        parsed_put(ctx->policies, p->parsed);
        p->parsed = NULL;
        memcpy(p->checksum, checksum, 65);
        p->generator = generator;
    }
    if (out)
        *out = p;
    return rc;
}

kl_rc
ver_mbpolicy_store(ver_ctx *ctx, const char *name, const char *text, bool update,
                   ver_mbpolicy **out)
{
    kl_db_val v[] = {KL_DB_S(text), KL_DB_S(name)};
    ver_mbpolicy *p = NULL;
    kl_rc rc;

    if (update)
        rc = kl_db_exec(ctx->db, "UPDATE mbpolicies SET mb_policy = ? WHERE name = ?", v, 2,
                        NULL);
    else
        rc = kl_db_exec(ctx->db, "INSERT INTO mbpolicies (mb_policy, name) VALUES (?, ?)", v, 2,
                        NULL);
    if (rc == KL_OK)
        rc = ver_mbpolicy_find(ctx, name, &p);
    if (rc == KL_OK && p && update) {
        char *copy = text ? kl_strdup(text) : NULL;

        if (text && !copy)
            return kl_err_set(KL_ENOMEM, "out of memory");
        kl_free(p->text);
        p->text = copy;
    }
    if (out)
        *out = p;
    return rc;
}

/* ------------------------------------------------------------ deleting */

kl_rc
ver_policy_user(ver_ctx *ctx, const char *column, const char *name, char **agent_id)
{
    kl_db_val v[] = {KL_DB_S(name)};
    kl_db_rows *rows = NULL;
    const char *sql = !strcmp(column, "mb_policy")
                          ? "SELECT agent_id FROM verifiermain WHERE mb_policy = ? LIMIT 1"
                          : "SELECT agent_id FROM verifiermain WHERE ima_policy = ? LIMIT 1";
    kl_rc rc;

    *agent_id = NULL;
    ver_store_flush(ctx);
    rc = kl_db_query(ctx->db, &rows, sql, v, 1);
    if (rc == KL_OK && kl_db_rows_count(rows) > 0) {
        *agent_id = kl_strdup(kl_db_rows_get(rows, 0, 0));
        if (!*agent_id)
            rc = kl_err_set(KL_ENOMEM, "out of memory");
    }
    kl_db_rows_free(rows);
    return rc;
}

static void
forget_rt(ver_ctx *ctx, ver_rtpolicy *p)
{
    for (ver_rtpolicy **pp = &ctx->policies->rt; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    parsed_put(ctx->policies, p->parsed);
    rt_free(p);
}

static void
forget_mb(ver_ctx *ctx, ver_mbpolicy *p)
{
    for (ver_mbpolicy **pp = &ctx->policies->mb; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    mb_free(p);
}

kl_rc
ver_rtpolicy_delete(ver_ctx *ctx, ver_rtpolicy *p)
{
    kl_db_val v[] = {KL_DB_S(p->name)};
    kl_rc rc = kl_db_exec(ctx->db, "DELETE FROM allowlists WHERE name = ?", v, 1, NULL);

    if (rc == KL_OK)
        forget_rt(ctx, p);
    return rc;
}

kl_rc
ver_mbpolicy_delete(ver_ctx *ctx, ver_mbpolicy *p)
{
    kl_db_val v[] = {KL_DB_S(p->name)};
    kl_rc rc = kl_db_exec(ctx->db, "DELETE FROM mbpolicies WHERE name = ?", v, 1, NULL);

    if (rc == KL_OK)
        forget_mb(ctx, p);
    return rc;
}

/* An agent lets go of its policies (deleted or freed): entries nobody
 * uses are forgotten (the rows stay; they are read again when needed). */
void
ver_rtpolicy_release(ver_ctx *ctx, ver_rtpolicy *p)
{
    if (p && p->users && --p->users == 0)
        forget_rt(ctx, p);
}

void
ver_mbpolicy_release(ver_ctx *ctx, ver_mbpolicy *p)
{
    if (p && p->users && --p->users == 0)
        forget_mb(ctx, p);
}
