#define KL_LOGMODULE "attest"
#include "attest/attest.h"

#include <string.h>

#include "attest/attest_int.h"
#include "json/json.h"
#include "util/kl_b64.h"
#include "util/kl_log.h"

#define EV_QV "qoute_validation." /* sic: upstream's spelling, on the wire */

static const char *const default_hash[] = {"sha512", "sha384", "sha256", NULL};
static const char *const default_enc[] = {"ecc", "rsa", NULL};
static const char *const default_sign[] = {"ecschnorr", "rsassa", NULL};

kl_rc
kl_attest_state_init(kl_attest_state *st)
{
    memset(st, 0, sizeof(*st));
    st->clock = (kl_tpm_clock)KL_TPM_CLOCK_INITIAL;
    return kl_ima_keyrings_new(&st->learned);
}

void
kl_attest_state_free(kl_attest_state *st)
{
    kl_ima_keyrings_free(st->learned);
    st->learned = NULL;
}

/* upstream reset_ima_attestation: start over from entry 0, forget keys. */
static kl_rc
reset_ima(kl_attest_state *st)
{
    memset(&st->ima, 0, sizeof(st->ima));
    st->boottime = 0;
    kl_ima_keyrings_free(st->learned);
    st->learned = NULL;
    return kl_ima_keyrings_new(&st->learned);
}

/* upstream Encrypt.normalize: "ecc" is P-256, "rsa" RSA-2048. */
static const char *
normalized(const char *alg)
{
    if (strcmp(alg, "ecc") == 0)
        return "ecc256";
    if (strcmp(alg, "rsa") == 0)
        return "rsa2048";
    return alg;
}

static bool
accepted(const char *alg, const char *const *list)
{
    for (; alg && *list; list++)
        if (strcmp(alg, *list) == 0 || strcmp(normalized(alg), normalized(*list)) == 0)
            return true;
    return false;
}

static kl_rc
alg_failure(kl_verdict *v, const char *id, const char *what, json_t *value)
{
    const char *s = json_string_value(value);
    json_t *ctx;

    ctx = json_pack("{s:s+,s:O}", "message", what, s ? s : "None", "data",
                    value ? value : json_null());
    if (!ctx)
        return kl_err_set(KL_ENOMEM, "out of memory");
    return kl_verdict_add(v, id, ctx, false);
}

/* upstream: hash_alg, enc_alg and sign_alg must be in the agent's accept
 * lists (and the hash known). *ok is false after a failure. */
static kl_rc
check_algorithms(kl_verdict *v, const kl_attest_inputs *in, json_t *res, kl_hash_alg *hash,
                 bool *ok)
{
    json_t *h = json_object_get(res, "hash_alg"), *e = json_object_get(res, "enc_alg");
    json_t *s = json_object_get(res, "sign_alg");
    const char *hs = json_string_value(h);

    *ok = false;
    if (!hs || !accepted(hs, in->accept_hash ? in->accept_hash : default_hash) ||
        !kl_hash_from_name(KL_BYTES(hs, strlen(hs)), hash) || *hash > KL_HASH_SM3_256)
        return alg_failure(v, EV_QV "invalid_hash_alg",
                           "TPM Quote is using an unaccepted hash algorithm: ", h);
    if (!accepted(json_string_value(e), in->accept_enc ? in->accept_enc : default_enc))
        return alg_failure(v, EV_QV "invalid_enc_alg",
                           "TPM Quote is using an unaccepted encryption algorithm: ", e);
    if (!accepted(json_string_value(s), in->accept_sign ? in->accept_sign : default_sign))
        return alg_failure(v, EV_QV "invalid_sign_alg",
                           "TPM Quote is using an unaccepted signing algorithm: ", s);
    *ok = true;
    return KL_OK;
}

/* A string member, or absent/null. Anything else is a bad response. */
static bool
opt_string(json_t *res, const char *key, kl_bytes *out, bool *have)
{
    json_t *v = json_object_get(res, key);

    *have = json_is_string(v);
    if (*have)
        *out = KL_BYTES(json_string_value(v), json_string_length(v));
    return !v || json_is_null(v) || *have;
}

static kl_rc
read_response(kl_verdict *v, json_t *res, kl_attest_response *r, json_int_t *entry,
              json_int_t *boottime, bool *ok)
{
    json_t *q = json_object_get(res, "quote");
    json_t *e = json_object_get(res, "ima_measurement_list_entry");
    json_t *b = json_object_get(res, "boottime");
    const char *bad = NULL;

    memset(r, 0, sizeof(*r));
    *ok = false;
    if (!json_is_object(res))
        bad = "the response is not a JSON object";
    else if (!json_is_string(q))
        bad = q ? "'quote' is not a string" : "'quote'";
    else if (!opt_string(res, "pubkey", &r->pubkey, &r->have_pubkey) ||
             !opt_string(res, "ima_measurement_list", &r->ima_list, &r->have_ima_list) ||
             !opt_string(res, "mb_measurement_list", &r->mb_list, &r->have_mb_list))
        bad = "pubkey, ima_measurement_list and mb_measurement_list must be strings";
    else if ((e && !json_is_integer(e)) || (b && !json_is_integer(b)))
        bad = "ima_measurement_list_entry and boottime must be integers";
    if (bad)
        return kl_verdict_add(v, EV_QV "invalid_data",
                              json_pack("{s:s,s:s}", "message",
                                        "parsing agent get quote respone failed", "data", bad),
                              false);
    r->quote = json_string_value(q);
    *entry = e ? json_integer_value(e) : 0;
    *boottime = b ? json_integer_value(b) : 0;
    *ok = true;
    return KL_OK;
}

/* upstream: entry 0 starts over; another entry than the expected one is a
 * failure; a changed boot time (for a non-zero entry) starts over without
 * one. *stop: nothing more to check this time. */
static kl_rc
check_ima_entry(kl_verdict *v, kl_attest_state *st, json_int_t entry, json_int_t boottime,
                bool *stop)
{
    kl_rc rc = KL_OK;

    *stop = false;
    if (entry == 0) {
        rc = reset_ima(st);
    } else if (entry < 0 || (uint64_t)entry != st->ima.next_entry) {
        rc = kl_verdict_add(v, EV_QV "invalid_ima_entry_nb",
                            json_pack("{s:s,s:I,s:I}", "message",
                                      "Agent did not respond with requested next IMA measurement "
                                      "list entry",
                                      "got", entry, "expected", (json_int_t)st->ima.next_entry),
                            false);
    } else if (boottime != st->boottime) {
        *stop = true;
        return reset_ima(st);
    }
    st->boottime = boottime;
    return rc;
}

/* The nonce as upstream compares it: as given, else base64-decoded. */
static kl_rc
pick_nonce(const kl_quote *q, kl_bytes nonce, kl_buf *decoded, kl_bytes *out)
{
    kl_rc rc;

    *out = nonce;
    if (kl_bytes_eq(kl_quote_extra_data(q), nonce))
        return KL_OK;
    rc = kl_b64_decode_lenient_append(decoded, nonce);
    if (rc == KL_ENOMEM)
        return rc;
    if (rc == KL_OK && kl_bytes_eq(kl_quote_extra_data(q), kl_buf_bytes(decoded)))
        *out = kl_buf_bytes(decoded);
    return KL_OK;
}

kl_rc
kl_attest_verify_quote(kl_verdict *v, kl_pcr_set *pcrs, kl_quote **out, const kl_tpm_public *ak,
                       kl_bytes nonce, kl_bytes quote, kl_hash_alg hash_alg)
{
    kl_quote *q = NULL;
    kl_bytes picked;
    kl_buf decoded;
    kl_rc rc;

    *out = NULL;
    kl_buf_init(&decoded, 4096);
    rc = kl_quote_parse(&q, quote);
    if (rc == KL_EPARSE) {
        rc = kl_verdict_add(v, EV_QV "quote_validation",
                            json_pack("{s:s,s:s}", "message", "Quote data validation", "error",
                                      kl_err_msg()),
                            false);
        goto out;
    }
    if (rc == KL_OK)
        rc = pick_nonce(q, nonce, &decoded, &picked);
    if (rc == KL_OK)
        rc = kl_quote_verify(v, pcrs, q, ak, picked, hash_alg);
    if (rc == KL_OK) {
        *out = q;
        q = NULL;
    }
out:
    kl_quote_free(q);
    kl_buf_free(&decoded);
    return rc;
}

/* upstream check_quote: the quote, then the clock, then the PCRs. */
static kl_rc
check_quote(kl_verdict *v, kl_attest_result *res, kl_attest_state *st, const kl_attest_inputs *in,
            const kl_attest_response *r)
{
    size_t before = v->count;
    kl_quote *q = NULL;
    kl_rc rc;

    rc = kl_attest_verify_quote(v, &res->pcrs, &q, in->ak, in->nonce, KL_BYTES_CSTR(r->quote),
                                r->hash_alg);
    if (rc != KL_OK || v->count > before)
        goto out;
    rc = kl_quote_check_clock(v, &st->clock, kl_quote_clock(q));
    if (rc != KL_OK || v->count > before)
        goto out;
    {
        const kl_tpm_clock *c = kl_quote_clock(q);

        /* upstream keeps the new clock unless both counters changed */
        if (!(c->reset_count != st->clock.reset_count &&
              c->restart_count != st->clock.restart_count))
            st->clock = *c;
    }
    rc = kl_attest_check_pcrs(v, res, st, in, r);
out:
    kl_quote_free(q);
    return rc;
}

kl_rc
kl_attest_quote(kl_verdict *v, kl_attest_result *res, kl_attest_state *st,
                const kl_attest_inputs *in, json_t *results)
{
    size_t before = v->count;
    json_int_t entry, boottime;
    kl_attest_response r;
    bool ok, stop;
    kl_rc rc;

    memset(res, 0, sizeof(*res));
    rc = read_response(v, results, &r, &entry, &boottime, &ok);
    if (rc != KL_OK || !ok)
        return rc;
    if (!r.have_pubkey) {
        if (in->cached_pubkey.len == 0)
            return kl_verdict_add(v, EV_QV "no_pubkey",
                                  json_pack("{s:s,s:n}", "message",
                                            "agent did not provide public key and no key or "
                                            "encrypted_v was cached at CV",
                                            "data"),
                                  false);
        r.pubkey = in->cached_pubkey;
        r.have_pubkey = true;
    }
    res->pubkey = r.pubkey;
    rc = check_algorithms(v, in, results, &r.hash_alg, &ok);
    if (rc != KL_OK || !ok)
        return rc;
    rc = check_ima_entry(v, st, entry, boottime, &stop);
    if (rc != KL_OK || stop)
        return rc;
    rc = check_quote(v, res, st, in, &r);
    if (rc == KL_OK && v->count == before)
        st->attestation_count++;
    return rc;
}
