/* fuzz_quote: quote strings and their parts (tpm/quote.h).
 *
 * The first byte chooses the mode. Even: the rest is a quote string,
 * parsed and verified against a fixed AK. Odd: the rest is the three parts
 * (u16le lengths of the attest and signature, then attest, signature and
 * PCR blob); the attest is signed here with the AK, half the time over the
 * signature bytes given instead, so verification gets past the signature
 * and exercises the nonce and PCR checks. Checks: the parts of a parsed
 * quote format back to a string that parses to the same parts;
 * verification runs (KL_OK) and gives at most one irrecoverable event,
 * and on success values only for PCRs of the quoted bank the attest
 * selected; the clock check runs; an allocation failure gives KL_ENOMEM.
 */
#include "../tests/tpm_build.h"
#include "fuzz_tpm_common.h"
#include "tpm/quote.h"

static kl_privkey *ak_key;
static kl_tpm_public *ak;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    TPMT_PUBLIC t;

    (void)argc;
    (void)argv;
    fuzz_tpm_quiet();
    FUZZ_CHECK(kl_privkey_generate_ec(&ak_key, KL_EC_P256) == KL_OK);
    tb_ak_template(&t, true, KL_HASH_SHA256, TPM2_ALG_ECDSA);
    FUZZ_CHECK(tb_public(&ak, ak_key, &t) == KL_OK);
    return 0;
}

static uint32_t
bank_mask(const kl_pcr_selection *sel, kl_hash_alg h)
{
    uint16_t alg = 0;

    (void)kl_tpm_alg_of_hash(h, &alg);
    for (size_t i = 0; i < sel->count; i++) {
        if (sel->banks[i].tpm_alg == alg)
            return sel->banks[i].mask;
    }
    return 0;
}

static void
check_parts(const kl_quote *q)
{
    kl_quote *again = NULL;
    kl_buf text;

    kl_buf_init(&text, (size_t)1 << 20);
    FUZZ_CHECK(kl_quote_format(&text, kl_quote_attest(q), kl_quote_signature(q),
                               kl_quote_pcrblob(q)) == KL_OK);
    FUZZ_CHECK(kl_quote_parse(&again, kl_buf_bytes(&text)) == KL_OK);
    FUZZ_CHECK(kl_bytes_eq(kl_quote_attest(q), kl_quote_attest(again)));
    FUZZ_CHECK(kl_bytes_eq(kl_quote_signature(q), kl_quote_signature(again)));
    FUZZ_CHECK(kl_bytes_eq(kl_quote_pcrblob(q), kl_quote_pcrblob(again)));
    kl_quote_free(again);
    kl_buf_free(&text);
}

static void
check_verify(const kl_quote *q, kl_bytes nonce, kl_hash_alg h)
{
    kl_verdict v = KL_VERDICT_INIT;
    kl_tpm_clock prev = KL_TPM_CLOCK_INITIAL;
    kl_pcr_set pcrs;

    FUZZ_CHECK(kl_quote_verify(&v, &pcrs, q, ak, nonce, h) == KL_OK);
    FUZZ_CHECK(v.count <= 1 && pcrs.bank == h);
    if (v.count) {
        FUZZ_CHECK(v.irrecoverable && pcrs.present == 0);
        FUZZ_CHECK(json_string_value(json_object_get(v.items[0].context, "error")) != NULL);
    } else {
        FUZZ_CHECK((pcrs.present & ~bank_mask(kl_quote_selection(q), h)) == 0);
        FUZZ_CHECK(kl_bytes_eq(kl_quote_extra_data(q), nonce));
    }
    kl_verdict_free(&v);
    FUZZ_CHECK(kl_quote_check_clock(&v, &prev, kl_quote_clock(q)) == KL_OK);
    FUZZ_CHECK(v.count <= 1);
    kl_verdict_free(&v);
}

static void
run_text(kl_bytes text, kl_hash_alg h, bool self_nonce)
{
    kl_quote *q = NULL;
    kl_rc rc = kl_quote_parse(&q, text);

    FUZZ_CHECK(rc == KL_OK || rc == KL_EPARSE);
    FUZZ_CHECK((rc == KL_OK) == (q != NULL));
    if (rc != KL_OK) {
        fuzz_touch_error();
        return;
    }
    check_parts(q);
    check_verify(q, self_nonce ? kl_quote_extra_data(q) : KL_BYTES_STR("AbCdEfGhIj0123456789"), h);
    kl_quote_free(q);
}

/* Parts mode: lengths, then the parts; the attest is signed here. */
static void
run_parts(const uint8_t *data, size_t size, bool sign)
{
    size_t la, ls;
    kl_bytes attest, sig, blob;
    kl_buf text, own;

    if (size < 4)
        return;
    la = (size_t)data[0] | (size_t)data[1] << 8;
    ls = (size_t)data[2] | (size_t)data[3] << 8;
    data += 4;
    size -= 4;
    if (la > size || ls > size - la)
        return;
    attest = KL_BYTES(data, la);
    sig = KL_BYTES(data + la, ls);
    blob = KL_BYTES(data + la + ls, size - la - ls);
    kl_buf_init(&own, 4096);
    if (sign && tb_sign(&own, ak_key, KL_SIG_ECDSA, KL_HASH_SHA256, attest) == KL_OK)
        sig = kl_buf_bytes(&own);
    kl_buf_init(&text, (size_t)1 << 20);
    FUZZ_CHECK(kl_quote_format(&text, attest, sig, blob) == KL_OK);
    run_text(kl_buf_bytes(&text), KL_HASH_SHA256, true);
    kl_buf_free(&text);
    kl_buf_free(&own);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t h = fuzz_hash(data, size);

    if (size == 0) {
        run_text(KL_BYTES(NULL, 0), KL_HASH_SHA256, false);
        return 0;
    }
    if (data[0] & 1) {
        run_parts(data + 1, size - 1, h & 2);
    } else {
        static const kl_hash_alg hashes[] = {KL_HASH_SHA256, KL_HASH_SHA1, KL_HASH_SHA384,
                                             KL_HASH_SHA512};

        run_text(fuzz_input(data + 1, size - 1), hashes[h % 4], h & 4);
    }
    /* one allocation failure in parse + verify */
    {
        kl_verdict v = KL_VERDICT_INIT;
        kl_quote *q = NULL;
        kl_pcr_set pcrs;
        kl_rc rc;

        kl_alloc_fail_at(1 + (h >> 8) % 6);
        rc = kl_quote_parse(&q, fuzz_input(data + 1, size - 1));
        if (rc == KL_OK)
            rc = kl_quote_verify(&v, &pcrs, q, ak, kl_quote_extra_data(q), KL_HASH_SHA256);
        kl_alloc_fail_at(0);
        FUZZ_CHECK(rc == KL_OK || rc == KL_EPARSE || rc == KL_ENOMEM);
        kl_quote_free(q);
        kl_verdict_free(&v);
    }
    return 0;
}
