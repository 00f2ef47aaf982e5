/* ver_agent: one agent in memory, and the table that holds them.
 *
 * An agent is built from the tenant's POST body (checked as upstream's
 * AgentsHandler.post checks it, plus what upstream only finds out in the
 * poll loop: an AK that does not parse, a tpm_policy that is not JSON) or
 * from its database row at start-up; either way the texts are decoded once
 * here (AK, tpm_policy, keyring, accepted algorithms), not per quote.
 */
#define KL_LOGMODULE "verifier"

#include <stdio.h>
#include <string.h>

#include "json/json.h"
#include "util/kl_agent_id.h"
#include "util/kl_alloc.h"
#include "util/kl_b64.h"
#include "util/kl_hashfn.h"
#include "verifier.h"

/* ----------------------------------------------------------- the table */

static size_t
slot(const ver_table *t, const char *id)
{
    return (size_t)(kl_hashfn(id, strlen(id)) & (t->n_buckets - 1));
}

ver_agent *
ver_table_get(const ver_table *t, const char *id)
{
    if (!t->n_buckets)
        return NULL;
    for (ver_agent *a = t->buckets[slot(t, id)]; a; a = a->next)
        if (!strcmp(a->id, id))
            return a;
    return NULL;
}

static kl_rc
grow(ver_table *t)
{
    size_t n = t->n_buckets ? t->n_buckets * 2 : 64;
    ver_agent **b = kl_calloc(n, sizeof(*b));
    ver_table nt = {b, n, t->count};

    if (!b)
        return kl_err_set(KL_ENOMEM, "out of memory");
    for (size_t i = 0; i < t->n_buckets; i++)
        for (ver_agent *a = t->buckets[i], *next; a; a = next) {
            size_t s = slot(&nt, a->id);

            next = a->next;
            a->next = b[s];
            b[s] = a;
        }
    kl_free(t->buckets);
    *t = nt;
    return KL_OK;
}

kl_rc
ver_table_put(ver_table *t, ver_agent *a)
{
    size_t s;

    if (t->count + 1 > t->n_buckets) {
        kl_rc rc = grow(t);

        if (rc != KL_OK)
            return rc;
    }
    s = slot(t, a->id);
    a->next = t->buckets[s];
    t->buckets[s] = a;
    t->count++;
    return KL_OK;
}

void
ver_table_remove(ver_table *t, ver_agent *a)
{
    if (!t->n_buckets)
        return;
    for (ver_agent **pp = &t->buckets[slot(t, a->id)]; *pp; pp = &(*pp)->next)
        if (*pp == a) {
            *pp = a->next;
            t->count--;
            return;
        }
}

void
ver_table_each(const ver_table *t, void (*fn)(ver_agent *a, void *arg), void *arg)
{
    for (size_t i = 0; i < t->n_buckets; i++)
        for (ver_agent *a = t->buckets[i], *next; a; a = next) {
            next = a->next;
            fn(a, arg);
        }
}

/* ------------------------------------------------------------ creating */

kl_rc
ver_agent_new(ver_ctx *ctx, ver_agent **out)
{
    ver_agent *a = kl_calloc(1, sizeof(*a));

    *out = NULL;
    if (!a || kl_attest_state_init(&a->st) != KL_OK) {
        kl_free(a);
        return kl_err_set(KL_ENOMEM, "out of memory");
    }
    a->ctx = ctx;
    a->severity = -1;
    a->state = VER_START;
    kl_buf_init(&a->pubkey, 1 << 16);
    kl_buf_init(&a->enc_v, 1 << 16);
    *out = a;
    return KL_OK;
}

/* ------------------------------------------------------------ decoding */

static void
free_list(char **l)
{
    for (size_t i = 0; l && l[i]; i++)
        kl_free(l[i]);
    kl_free(l);
}

/* A JSON list of strings -> NULL-terminated array. */
static kl_rc
decode_list(char ***out, const char *text, const char *what)
{
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    size_t i, n = json_array_size(j);
    char **l = NULL;
    kl_rc rc = KL_OK;

    if (!json_is_array(j)) {
        json_decref(j);
        return kl_err_set(KL_EPARSE, "%s must be a list of strings", what);
    }
    l = kl_calloc(n + 1, sizeof(char *));
    if (!l)
        rc = kl_err_set(KL_ENOMEM, "out of memory");
    for (i = 0; rc == KL_OK && i < n; i++) {
        const char *s = json_string_value(json_array_get(j, i));

        if (!s)
            rc = kl_err_set(KL_EPARSE, "%s must be a list of strings", what);
        else if (!(l[i] = kl_strdup(s)))
            rc = kl_err_set(KL_ENOMEM, "out of memory");
    }
    json_decref(j);
    if (rc != KL_OK) {
        free_list(l);
        l = NULL;
    }
    *out = l;
    return rc;
}

static kl_rc
decode_ak(ver_agent *a)
{
    kl_buf der;
    kl_rc rc;

    if (!a->ak_tpm)
        return kl_err_set(KL_EINVAL, "ak_tpm is missing");
    kl_buf_init(&der, 1 << 16);
    rc = kl_b64_decode_append(&der, KL_BYTES_CSTR(a->ak_tpm), false);
    if (rc == KL_OK)
        rc = kl_tpm_public_parse(&a->ak, kl_buf_bytes(&der));
    kl_buf_free(&der);
    return rc == KL_OK ? KL_OK : kl_err_wrap(rc, "ak_tpm: ");
}

static kl_rc
decode_mask(ver_agent *a)
{
    json_t *j = json_loads(a->tpm_policy_text, 0, NULL);
    const char *m = json_string_value(json_object_get(j, "mask"));
    char hex[16];

    if (!m) {
        /* upstream would fail the first poll with a KeyError; the mask
         * is what the policy lists then */
        snprintf(hex, sizeof(hex), "0x%x", kl_tpm_policy_mask(a->tpm_policy));
        m = hex;
    }
    a->mask = kl_strdup(m);
    json_decref(j);
    return a->mask ? KL_OK : kl_err_set(KL_ENOMEM, "out of memory");
}

kl_rc
ver_agent_decode(ver_agent *a)
{
    static const char *const names[3] = {"accept_tpm_hash_algs", "accept_tpm_encryption_algs",
                                         "accept_tpm_signing_algs"};
    kl_rc rc = decode_ak(a);

    if (rc == KL_OK && !a->tpm_policy_text)
        rc = kl_err_set(KL_EINVAL, "tpm_policy is missing");
    if (rc == KL_OK)
        rc = kl_tpm_policy_parse(&a->tpm_policy, KL_BYTES_CSTR(a->tpm_policy_text));
    if (rc == KL_OK)
        rc = decode_mask(a);
    for (int i = 0; i < 3 && rc == KL_OK; i++)
        rc = decode_list(&a->accept[i], a->accept_text[i], names[i]);
    if (rc == KL_OK && a->ima_keys_text && a->ima_keys_text[0]) {
        rc = kl_ima_keyrings_new(&a->tenant_keys);
        if (rc == KL_OK)
            rc = kl_ima_keyrings_set_tenant(a->tenant_keys, KL_BYTES_CSTR(a->ima_keys_text));
        if (rc != KL_OK)
            rc = kl_err_wrap(rc, "ima_sign_verification_keys: ");
    }
    return rc;
}

void
ver_agent_free(ver_agent *a)
{
    if (!a)
        return;
    char *strs[] = {a->id, a->v, a->ip, a->tpm_policy_text, a->mask, a->meta_data,
                    a->ima_keys_text, a->accept_text[0], a->accept_text[1], a->accept_text[2],
                    a->supported_version, a->ak_tpm, a->mtls_cert, a->verifier_id,
                    a->verifier_ip, a->last_event_id};

    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        kl_free(strs[i]);
    if (a->revocation_key) {
        kl_wipe(a->revocation_key, strlen(a->revocation_key));
        kl_free(a->revocation_key);
    }
    for (int i = 0; i < 3; i++)
        free_list(a->accept[i]);
    kl_tpm_policy_free(a->tpm_policy);
    kl_tpm_public_free(a->ak);
    kl_ima_keyrings_free(a->tenant_keys);
    kl_attest_state_free(&a->st);
    kl_buf_free(&a->pubkey);
    kl_buf_free(&a->enc_v);
    if (a->timer)
        event_free(a->timer);
    if (a->ctx) {
        ver_rtpolicy_release(a->ctx, a->rt);
        ver_mbpolicy_release(a->ctx, a->mb);
    }
    kl_free(a);
}

/* ---------------------------------------------------------- the status */

static json_t *
text_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *
list_json(char **l)
{
    json_t *j = json_array();

    for (size_t i = 0; l && l[i]; i++)
        json_array_append_new(j, json_string(l[i]));
    return j;
}

static const char *
attestation_status(int state)
{
    switch (state) {
    case VER_GET_QUOTE:
    case VER_GET_QUOTE_RETRY:
    case VER_PROVIDE_V:
    case VER_PROVIDE_V_RETRY: return "PASS";
    case VER_FAILED:
    case VER_INVALID_QUOTE:
    case VER_TENANT_FAILED: return "FAIL";
    default: return "PENDING";
    }
}

json_t *
ver_agent_status(const ver_ctx *ctx, const ver_agent *a)
{
    char period[32], maxint[32];
    json_t *j;

    snprintf(period, sizeof(period), "%llds", (long long)ctx->cfg->quote_interval);
    snprintf(maxint, sizeof(maxint), "%llds", (long long)(5 * ctx->cfg->quote_interval));
    j = json_pack("{s:i, s:o, s:o, s:I, s:o, s:o, s:i, s:i, s:o, s:o, s:o, s:s, s:s, s:s}",
                  "operational_state", a->state, "v", text_or_null(a->v), "ip",
                  text_or_null(a->ip), "port", (json_int_t)a->port, "tpm_policy",
                  text_or_null(a->tpm_policy_text), "meta_data", text_or_null(a->meta_data),
                  "has_mb_refstate", a->mb && a->mb->text ? 1 : 0, "has_runtime_policy",
                  a->rt && a->rt->generator > 1 ? 1 : 0, "accept_tpm_hash_algs",
                  list_json(a->accept[0]), "accept_tpm_encryption_algs", list_json(a->accept[1]),
                  "accept_tpm_signing_algs", list_json(a->accept[2]), "hash_alg", a->hash_alg,
                  "enc_alg", a->enc_alg, "sign_alg", a->sign_alg);
    if (!j)
        return NULL;
    json_object_set_new(j, "verifier_id", text_or_null(a->verifier_id));
    json_object_set_new(j, "verifier_ip", text_or_null(a->verifier_ip));
    json_object_set_new(j, "verifier_port", json_integer(a->verifier_port));
    json_object_set_new(j, "severity_level",
                        a->severity >= 0 ? json_integer(a->severity) : json_null());
    json_object_set_new(j, "last_event_id", text_or_null(a->last_event_id));
    json_object_set_new(j, "attestation_count", json_integer((json_int_t)a->st.attestation_count));
    json_object_set_new(j, "last_received_quote", json_integer(a->last_received_quote));
    json_object_set_new(j, "last_successful_attestation",
                        json_integer(a->last_successful_attestation));
    json_object_set_new(j, "attestation_status", json_string(attestation_status(a->state)));
    json_object_set_new(j, "attestation_period", json_string(period));
    json_object_set_new(j, "maximum_attestation_interval", json_string(maxint));
    return j;
}
