#include "tpm/quote.h"

#include "util/kl_alloc.h"
#include "util/kl_b64.h"

#include <inttypes.h>
#include <string.h>
#include <tss2/tss2_mu.h>

#define EVENT_ID "qoute_validation.quote_validation"

struct kl_quote {
    kl_buf raw; /* the three decoded parts, back to back */
    kl_bytes attest, sig, pcrblob;
    TPMS_ATTEST att;
    TPMT_SIGNATURE tsig;
    kl_tpm_clock clock;
    kl_pcr_selection att_sel;  /* the attest's */
    kl_pcr_selection blob_sel; /* the PCR blob's */
};

/* Decodes the base64 part text into q->raw; *view is set by the caller
 * once every part is in (raw may move while it grows). */
static kl_rc
decode_part(kl_quote *q, kl_bytes text, const char *what, size_t *start)
{
    kl_rc rc;

    *start = q->raw.len;
    rc = kl_b64_decode_lenient_append(&q->raw, text);
    if (rc == KL_EPARSE)
        return kl_err_wrap(KL_EPARSE, "quote %s: ", what);
    return rc;
}

static kl_rc
split(kl_quote *q, kl_bytes text)
{
    const uint8_t *p, *c1, *c2, *end;
    size_t s[3];
    kl_rc rc;

    if (text.len > KL_QUOTE_MAX)
        return kl_err_set(KL_EPARSE, "quote of %zu bytes is longer than %d", text.len,
                          KL_QUOTE_MAX);
    if (text.len == 0 || text.ptr[0] != 'r')
        return kl_err_set(KL_EPARSE, "Invalid quote type %s%.1s", text.len ? "" : "(empty)",
                          text.len ? (const char *)text.ptr : "");
    end = text.ptr + text.len;
    p = text.ptr + 1;
    c1 = memchr(p, ':', (size_t)(end - p));
    c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
    if (!c2)
        return kl_err_set(KL_EPARSE, "Quote is not compound: need three ':'-separated parts");
    /* like upstream, ignore anything after a third ':' (it is not signed) */
    if ((p = memchr(c2 + 1, ':', (size_t)(end - c2 - 1))) != NULL)
        end = p;
    p = text.ptr + 1;
    if ((rc = decode_part(q, KL_BYTES(p, (size_t)(c1 - p)), "attest", &s[0])) != KL_OK ||
        (rc = decode_part(q, KL_BYTES(c1 + 1, (size_t)(c2 - c1 - 1)), "signature", &s[1])) !=
            KL_OK ||
        (rc = decode_part(q, KL_BYTES(c2 + 1, (size_t)(end - c2 - 1)), "PCR blob", &s[2])) != KL_OK)
        return rc;
    q->attest = KL_BYTES(q->raw.ptr + s[0], s[1] - s[0]);
    q->sig = KL_BYTES(q->raw.ptr + s[1], s[2] - s[1]);
    q->pcrblob = KL_BYTES(q->raw.ptr + s[2], q->raw.len - s[2]);
    return KL_OK;
}

static kl_rc
attest_selection(kl_quote *q)
{
    const TPML_PCR_SELECTION *ps = &q->att.attested.quote.pcrSelect;

    q->att_sel.count = ps->count;
    for (UINT32 i = 0; i < ps->count; i++) {
        uint32_t mask = 0;

        for (UINT8 j = 0; j < ps->pcrSelections[i].sizeofSelect; j++)
            mask |= (uint32_t)ps->pcrSelections[i].pcrSelect[j] << (8 * j);
        q->att_sel.banks[i].tpm_alg = ps->pcrSelections[i].hash;
        q->att_sel.banks[i].mask = mask;
    }
    return KL_OK;
}

static kl_rc
unmarshal_attest(kl_quote *q)
{
    const uint8_t *a = q->attest.ptr;
    size_t off = 0;
    TSS2_RC trc;
    uint32_t magic;
    uint16_t type;

    /* checked here first for upstream's messages (tss2-mu would log) */
    if (q->attest.len < 6)
        return kl_err_set(KL_EPARSE, "TPMS_ATTEST of %zu bytes is truncated", q->attest.len);
    magic = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
    type = (uint16_t)(a[4] << 8 | a[5]);
    if (magic != TPM2_GENERATED_VALUE)
        return kl_err_set(KL_EPARSE, "Bad magic in tpms_attest: 0x%08x", magic);
    if (type != TPM2_ST_ATTEST_QUOTE)
        return kl_err_set(KL_EPARSE, "Unsupported type in tpms_attest: 0x%04x", type);
    trc = Tss2_MU_TPMS_ATTEST_Unmarshal(a, q->attest.len, &off, &q->att);
    if (trc != TSS2_RC_SUCCESS)
        return kl_err_set(KL_EPARSE, "malformed TPMS_ATTEST (tss2-mu error 0x%" PRIx32 ")", trc);
    if (off != q->attest.len)
        return kl_err_set(KL_EPARSE, "TPMS_ATTEST has %zu trailing bytes", q->attest.len - off);
    q->clock.clock = q->att.clockInfo.clock;
    q->clock.reset_count = q->att.clockInfo.resetCount;
    q->clock.restart_count = q->att.clockInfo.restartCount;
    q->clock.safe = q->att.clockInfo.safe;
    return attest_selection(q);
}

static kl_rc
unmarshal_sig(kl_quote *q)
{
    size_t off = 0;
    TSS2_RC trc;

    if (q->sig.len < 2)
        return kl_err_set(KL_EPARSE, "TPMT_SIGNATURE of %zu bytes is truncated", q->sig.len);
    trc = Tss2_MU_TPMT_SIGNATURE_Unmarshal(q->sig.ptr, q->sig.len, &off, &q->tsig);
    if (trc != TSS2_RC_SUCCESS)
        return kl_err_set(KL_EPARSE, "malformed TPMT_SIGNATURE (tss2-mu error 0x%" PRIx32 ")", trc);
    /* upstream reads the signature by its size field and ignores the rest */
    q->sig.len = off;
    return KL_OK;
}

kl_rc
kl_quote_parse(kl_quote **out, kl_bytes text)
{
    kl_quote *q = kl_malloc(sizeof(*q));
    kl_pcr_set none;
    kl_rc rc;

    *out = NULL;
    if (!q)
        return kl_err_set(KL_ENOMEM, "out of memory");
    memset(q, 0, sizeof(*q));
    kl_buf_init(&q->raw, KL_QUOTE_MAX);
    rc = split(q, text);
    if (rc == KL_OK)
        rc = unmarshal_attest(q);
    if (rc == KL_OK)
        rc = unmarshal_sig(q);
    if (rc == KL_OK) {
        rc = kl_pcrblob_parse(q->pcrblob, 0, &q->blob_sel, &none);
        if (rc == KL_EPARSE)
            rc = kl_err_wrap(KL_EPARSE, "quote PCR blob: ");
    }
    if (rc != KL_OK) {
        kl_quote_free(q);
        return rc;
    }
    *out = q;
    return KL_OK;
}

void
kl_quote_free(kl_quote *q)
{
    if (!q)
        return;
    kl_buf_free(&q->raw);
    kl_free(q);
}

const kl_tpm_clock *
kl_quote_clock(const kl_quote *q)
{
    return &q->clock;
}

kl_bytes
kl_quote_extra_data(const kl_quote *q)
{
    return KL_BYTES(q->att.extraData.buffer, q->att.extraData.size);
}

kl_bytes
kl_quote_attest(const kl_quote *q)
{
    return q->attest;
}

kl_bytes
kl_quote_signature(const kl_quote *q)
{
    return q->sig;
}

kl_bytes
kl_quote_pcrblob(const kl_quote *q)
{
    return q->pcrblob;
}

const TPMS_ATTEST *
kl_quote_tpms_attest(const kl_quote *q)
{
    return &q->att;
}

const TPMT_SIGNATURE *
kl_quote_tpmt_signature(const kl_quote *q)
{
    return &q->tsig;
}

const kl_pcr_selection *
kl_quote_selection(const kl_quote *q)
{
    return &q->att_sel;
}

const kl_pcr_selection *
kl_quote_blob_selection(const kl_quote *q)
{
    return &q->blob_sel;
}

kl_rc
kl_quote_add_failure(kl_verdict *v, const char *error)
{
    json_t *ctx = json_pack("{s:s,s:s}", "message", "Quote data validation", "error", error);

    if (!ctx)
        return kl_err_set(KL_ENOMEM, "out of memory");
    return kl_verdict_add(v, EVENT_ID, ctx, false);
}

/* The outcome of one check: KL_OK and why[0] == 0 when it passed; KL_OK and
 * the reason in why when the quote failed it; an error when it could not
 * run. */
typedef struct {
    char why[256];
} reason;

static kl_rc fail(reason *r, const char *fmt, ...) KL_PRINTF(2, 3);

static kl_rc
fail(reason *r, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(r->why, sizeof(r->why), fmt, ap);
    va_end(ap);
    return KL_OK;
}

/* upstream: RSA AKs sign with RSASSA (RSAPSS too, here), ECC AKs with
 * ECDSA; the signature's hash must be the one expected. */
static kl_rc
check_scheme(reason *r, const kl_quote *q, const kl_tpm_public *ak, kl_hash_alg hash_alg)
{
    TPMI_ALG_SIG_SCHEME s = q->tsig.sigAlg;
    uint16_t type = kl_tpm_public_type(ak), hash;
    kl_hash_alg used;

    if (type == TPM2_ALG_RSA && s != TPM2_ALG_RSASSA && s != TPM2_ALG_RSAPSS)
        return fail(r, "Unsupported quote signature algorithm '0x%x' for RSA keys", s);
    if (type == TPM2_ALG_ECC && s != TPM2_ALG_ECDSA)
        return fail(r, "Unsupported quote signature algorithm '0x%x' for EC keys", s);
    /* every scheme's details start with the hash (TPMS_SIGNATURE_*.hash) */
    hash = s == TPM2_ALG_ECDSA ? q->tsig.signature.ecdsa.hash : q->tsig.signature.rsassa.hash;
    if (!kl_tpm_hash_of_alg(hash, &used))
        return fail(r, "Unsupported hash with id 0x%x in signature blob", hash);
    if (used != hash_alg)
        return fail(r, "Quote was expected to use %s but used %s instead", kl_hash_name(hash_alg),
                    kl_hash_name(used));
    return KL_OK;
}

static kl_rc
check_signature(reason *r, const kl_quote *q, const kl_tpm_public *ak, kl_hash_alg alg,
                kl_hasher *h)
{
    const kl_pubkey *key = kl_tpm_public_key(ak);
    const TPMU_SIGNATURE *u = &q->tsig.signature;
    uint8_t digest[KL_HASH_MAX_SIZE];
    kl_bytes d = KL_BYTES(digest, kl_hash_size(alg));
    bool ok = false;
    kl_rc rc = kl_hasher_digest(h, alg, q->attest.ptr, q->attest.len, digest);

    if (rc != KL_OK)
        return rc;
    switch (q->tsig.sigAlg) {
    case TPM2_ALG_RSASSA:
        rc = kl_pubkey_verify_digest(key, alg, d,
                                     KL_BYTES(u->rsassa.sig.buffer, u->rsassa.sig.size), &ok);
        break;
    case TPM2_ALG_RSAPSS:
        rc = kl_pubkey_verify_rsapss_digest(
            key, alg, d, KL_BYTES(u->rsapss.sig.buffer, u->rsapss.sig.size), &ok);
        break;
    default: {
        kl_ec_curve c = KL_EC_P256;
        size_t max;

        (void)kl_pubkey_ec_curve(key, &c);
        max = kl_ec_curve_size(c);
        if (u->ecdsa.signatureR.size == 0 || u->ecdsa.signatureR.size > max)
            return fail(r, "Invalid r coordinate size %u for curve %s", u->ecdsa.signatureR.size,
                        kl_ec_curve_name(c));
        if (u->ecdsa.signatureS.size == 0 || u->ecdsa.signatureS.size > max)
            return fail(r, "Invalid s coordinate size %u for curve %s", u->ecdsa.signatureS.size,
                        kl_ec_curve_name(c));
        rc = kl_pubkey_verify_ecdsa_rs(
            key, alg, d, KL_BYTES(u->ecdsa.signatureR.buffer, u->ecdsa.signatureR.size),
            KL_BYTES(u->ecdsa.signatureS.buffer, u->ecdsa.signatureS.size), &ok);
    }
    }
    if (rc == KL_OK && !ok)
        return fail(r, "The quote signature does not verify with the AK (%s over the attest)",
                    kl_hash_name(alg));
    return rc;
}

static bool
selects_bank(const kl_pcr_selection *s, uint16_t bank)
{
    for (size_t i = 0; i < s->count; i++)
        if (s->banks[i].tpm_alg == bank)
            return true;
    return false;
}

static kl_rc
check_pcrs(reason *r, const kl_quote *q, kl_hash_alg alg, kl_hasher *h, kl_pcr_set *pcrs)
{
    const TPM2B_DIGEST *quoted = &q->att.attested.quote.pcrDigest;
    uint8_t digest[KL_HASH_MAX_SIZE];
    kl_pcr_selection sel;
    uint16_t bank;
    kl_rc rc;

    if (!kl_pcr_selection_eq(&q->att_sel, &q->blob_sel))
        return fail(r, "The PCR selection of the quote differs from the PCR blob's selection");
    (void)kl_tpm_alg_of_hash(alg, &bank);
    if (!selects_bank(&q->blob_sel, bank))
        return fail(r, "The quote selects no PCR of the %s bank", kl_hash_name(alg));
    rc = kl_pcrblob_parse_digest(q->pcrblob, bank, &sel, pcrs, alg, h, digest);
    if (rc == KL_EPARSE)
        return fail(r, "%s", kl_err_msg());
    if (rc != KL_OK)
        return rc;
    if (quoted->size != kl_hash_size(alg) || memcmp(quoted->buffer, digest, quoted->size) != 0)
        return fail(r, "The digest used for quoting is different than the one that was "
                       "calculated");
    return KL_OK;
}

static kl_rc
check(reason *r, const kl_quote *q, const kl_tpm_public *ak, kl_bytes nonce, kl_hash_alg alg,
      kl_pcr_set *pcrs)
{
    kl_hasher *h = NULL;
    uint16_t bank;
    kl_rc rc;

    if (!kl_tpm_alg_of_hash(alg, &bank))
        return fail(r, "Unsupported hash algorithm %s for quotes", kl_hash_name(alg));
    rc = check_scheme(r, q, ak, alg);
    if (rc != KL_OK || r->why[0])
        return rc;
    rc = kl_hasher_new(&h);
    if (rc == KL_OK)
        rc = check_signature(r, q, ak, alg, h);
    if (rc == KL_OK && !r->why[0] && !kl_bytes_eq(kl_quote_extra_data(q), nonce))
        rc = fail(r, "The nonce from the attestation differs from the expected nonce");
    if (rc == KL_OK && !r->why[0])
        rc = check_pcrs(r, q, alg, h, pcrs);
    kl_hasher_free(h);
    return rc;
}

kl_rc
kl_quote_verify(kl_verdict *v, kl_pcr_set *pcrs, const kl_quote *q, const kl_tpm_public *ak,
                kl_bytes nonce, kl_hash_alg hash_alg)
{
    reason r = {""};
    kl_rc rc;

    pcrs->bank = hash_alg;
    pcrs->present = 0;
    rc = check(&r, q, ak, nonce, hash_alg, pcrs);
    if (rc != KL_OK || r.why[0])
        pcrs->present = 0;
    if (rc == KL_OK && r.why[0])
        rc = kl_quote_add_failure(v, r.why);
    return rc;
}

static kl_rc
clock_failure(kl_verdict *v, const char *why)
{
    json_t *ctx = json_pack("{s:s,s:s}", "message",
                            "Validation of clockinfo from quote using tpm2-tools", "data", why);

    if (!ctx)
        return kl_err_set(KL_ENOMEM, "out of memory");
    return kl_verdict_add(v, EVENT_ID, ctx, false);
}

/* The reason current does not follow previous, or NULL. */
static const char *
clock_problem(const kl_tpm_clock *previous, const kl_tpm_clock *current)
{
    bool reset_changed = current->reset_count != previous->reset_count;
    bool restart_changed = current->restart_count != previous->restart_count;

    if (current->reset_count < previous->reset_count)
        return "resetCount value decreased on TPM between two consecutive quotes";
    if (current->restart_count < previous->restart_count)
        return "restartCount value decreased on TPM between two consecutive quotes";
    if (current->safe != 1)
        return "clock safe flag is disabled";
    if (!(reset_changed && restart_changed) && current->clock <= previous->clock)
        return "clock timestamp did issued by TPM did not increase between two consecutive "
               "quotes";
    return NULL;
}

kl_rc
kl_quote_check_clock(kl_verdict *v, const kl_tpm_clock *previous, const kl_tpm_clock *current)
{
    const char *why = clock_problem(previous, current);

    return why ? clock_failure(v, why) : KL_OK;
}

kl_rc
kl_quote_advance_clock(kl_verdict *v, kl_tpm_clock *state, const kl_tpm_clock *current)
{
    const char *why = clock_problem(state, current);

    if (why)
        return clock_failure(v, why);
    if (!(current->reset_count != state->reset_count &&
          current->restart_count != state->restart_count))
        *state = *current;
    return KL_OK;
}

static kl_rc
append_b64(kl_buf *out, kl_bytes b)
{
    return kl_b64_encode_append(out, b.ptr, b.len);
}

kl_rc
kl_quote_format(kl_buf *out, kl_bytes attest, kl_bytes sig, kl_bytes pcrblob)
{
    kl_rc rc = kl_buf_append_byte(out, 'r');

    if (rc == KL_OK)
        rc = append_b64(out, attest);
    if (rc == KL_OK)
        rc = kl_buf_append_byte(out, ':');
    if (rc == KL_OK)
        rc = append_b64(out, sig);
    if (rc == KL_OK)
        rc = kl_buf_append_byte(out, ':');
    if (rc == KL_OK)
        rc = append_b64(out, pcrblob);
    return rc;
}
