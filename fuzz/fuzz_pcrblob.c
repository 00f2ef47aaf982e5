/* fuzz_pcrblob: the tpm2-tools PCR blob (tpm/pcr.h).
 *
 * The input is a blob, parsed for each hash bank. Checks: the outcome
 * does not depend on the bank asked for; the values returned are the
 * requested bank's selected PCRs; the digest over every bank equals the
 * hash of the banks' values concatenated in selection order; a bank's
 * values rebuilt as a blob parse back to the same values; an allocation
 * failure gives KL_ENOMEM.
 */
#include "fuzz_tpm_common.h"
#include "tpm/pcr.h"

#include <tss2/tss2_tpm2_types.h>

static const kl_hash_alg banks[] = {KL_HASH_SHA1, KL_HASH_SHA256, KL_HASH_SHA384, KL_HASH_SHA512};

static uint32_t
mask_of(const kl_pcr_selection *sel, uint16_t alg)
{
    for (size_t i = 0; i < sel->count; i++) {
        if (sel->banks[i].tpm_alg == alg)
            return sel->banks[i].mask;
    }
    return 0;
}

static void
check_rebuild(const kl_pcr_set *s, uint16_t alg)
{
    kl_pcr_selection sel;
    kl_pcr_set back;
    kl_buf b;

    kl_buf_init(&b, 1 << 16);
    FUZZ_CHECK(kl_pcrblob_build(&b, alg, s) == KL_OK);
    FUZZ_CHECK(kl_pcrblob_parse(kl_buf_bytes(&b), alg, &sel, &back) == KL_OK);
    FUZZ_CHECK(sel.count == 1 && sel.banks[0].mask == s->present && back.present == s->present);
    for (unsigned p = 0; p < KL_PCR_COUNT; p++) {
        if (kl_pcr_set_has(s, p))
            FUZZ_CHECK(memcmp(back.value[p], s->value[p], kl_hash_size(s->bank)) == 0);
    }
    kl_buf_free(&b);
}

/* The digest of all values, from per-bank parses, when every bank is one
 * kl_tpm_hash_of_alg knows. */
static bool
digest_by_banks(kl_bytes blob, const kl_pcr_selection *sel, kl_hash_alg alg, uint8_t *out)
{
    kl_hasher *h = NULL;
    bool ok = true;

    FUZZ_CHECK(kl_hasher_new(&h) == KL_OK && kl_hasher_start(h, alg) == KL_OK);
    for (size_t i = 0; ok && i < sel->count; i++) {
        kl_pcr_selection s2;
        kl_pcr_set vals;
        kl_hash_alg bank;

        if (!kl_tpm_hash_of_alg(sel->banks[i].tpm_alg, &bank)) {
            ok = false;
            break;
        }
        FUZZ_CHECK(kl_pcrblob_parse(blob, sel->banks[i].tpm_alg, &s2, &vals) == KL_OK);
        for (unsigned p = 0; p < KL_PCR_COUNT; p++) {
            if (kl_pcr_set_has(&vals, p))
                FUZZ_CHECK(kl_hasher_update(h, vals.value[p], kl_hash_size(bank)) == KL_OK);
        }
    }
    if (ok)
        FUZZ_CHECK(kl_hasher_finish(h, out) == KL_OK);
    kl_hasher_free(h);
    return ok;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_tpm_quiet();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kl_bytes blob = fuzz_input(data, size);
    kl_rc first = KL_OK;

    for (size_t i = 0; i < sizeof(banks) / sizeof(banks[0]); i++) {
        uint8_t d1[KL_HASH_MAX_SIZE], d2[KL_HASH_MAX_SIZE];
        kl_pcr_selection sel;
        kl_pcr_set s;
        uint16_t alg = 0;
        kl_rc rc;

        (void)kl_tpm_alg_of_hash(banks[i], &alg);
        rc = kl_pcrblob_parse_digest(blob, alg, &sel, &s, KL_HASH_SHA256, NULL, d1);
        FUZZ_CHECK(rc == KL_OK || rc == KL_EPARSE);
        if (i == 0)
            first = rc;
        FUZZ_CHECK(rc == first);
        if (rc != KL_OK) {
            fuzz_touch_error();
            FUZZ_CHECK(s.present == 0);
            continue;
        }
        FUZZ_CHECK(s.bank == banks[i] && s.present == mask_of(&sel, alg));
        FUZZ_CHECK(sel.count <= 16);
        check_rebuild(&s, alg);
        if (i == 0 && digest_by_banks(blob, &sel, KL_HASH_SHA256, d2))
            FUZZ_CHECK(memcmp(d1, d2, 32) == 0);
    }
    /* one allocation failure */
    if (size) {
        uint8_t d[KL_HASH_MAX_SIZE];
        kl_pcr_selection sel;
        kl_pcr_set s;
        kl_rc rc;

        kl_alloc_fail_at(1 + fuzz_hash(data, size) % 3);
        rc = kl_pcrblob_parse_digest(blob, TPM2_ALG_SHA256, &sel, &s, KL_HASH_SHA1, NULL, d);
        kl_alloc_fail_at(0);
        FUZZ_CHECK(rc == first || rc == KL_ENOMEM);
    }
    return 0;
}
