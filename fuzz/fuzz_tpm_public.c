/* fuzz_tpm_public: TPM2B_PUBLIC structures (tpm/tpm_public.h).
 *
 * Checks: a parsed object keeps the input as its bytes; its name is
 * nameAlg || H(TPMT_PUBLIC) of the right size; its key marshals under its
 * own TPMT_PUBLIC to an object with the same key (and, for a canonical
 * input, the same bytes and name); an allocation failure gives KL_ENOMEM.
 */
#include "fuzz_tpm_common.h"
#include "tpm/pcr.h"
#include "tpm/tpm_public.h"

#include <tss2/tss2_tpm2_types.h>

static void
check_remarshal(const kl_tpm_public *p, kl_bytes input)
{
    kl_tpm_public *q = NULL;
    kl_buf b;
    kl_rc rc;

    kl_buf_init(&b, 1 << 16);
    rc = kl_tpm_public_marshal(&b, kl_tpm_public_tpmt(p), kl_tpm_public_key(p));
    FUZZ_CHECK(rc == KL_OK);
    FUZZ_CHECK(kl_tpm_public_parse(&q, kl_buf_bytes(&b)) == KL_OK);
    FUZZ_CHECK(kl_pubkey_eq(kl_tpm_public_key(p), kl_tpm_public_key(q)));
    FUZZ_CHECK(kl_tpm_public_type(p) == kl_tpm_public_type(q));
    /* the same bytes give the same name */
    if (kl_bytes_eq(kl_buf_bytes(&b), input))
        FUZZ_CHECK(kl_bytes_eq(kl_tpm_public_name(p), kl_tpm_public_name(q)));
    kl_tpm_public_free(q);
    kl_buf_free(&b);
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
    kl_bytes in = fuzz_input(data, size);
    kl_tpm_public *p = NULL;
    kl_rc rc = kl_tpm_public_parse(&p, in);

    FUZZ_CHECK(rc == KL_OK || rc == KL_EPARSE || rc == KL_EUNSUPPORTED || rc == KL_EINVAL);
    FUZZ_CHECK((rc == KL_OK) == (p != NULL));
    if (rc != KL_OK) {
        fuzz_touch_error();
    } else {
        kl_bytes name = kl_tpm_public_name(p);
        uint16_t alg = kl_tpm_public_tpmt(p)->nameAlg;
        kl_hash_alg h;

        FUZZ_CHECK(kl_bytes_eq(kl_tpm_public_bytes(p), in));
        FUZZ_CHECK(kl_tpm_hash_of_alg(alg, &h));
        FUZZ_CHECK(name.len == 2 + kl_hash_size(h));
        FUZZ_CHECK(name.ptr[0] == (alg >> 8) && name.ptr[1] == (alg & 0xff));
        FUZZ_CHECK(kl_tpm_public_type(p) == TPM2_ALG_RSA || kl_tpm_public_type(p) == TPM2_ALG_ECC);
        FUZZ_CHECK(kl_pubkey_is_ec(kl_tpm_public_key(p)) ==
                   (kl_tpm_public_type(p) == TPM2_ALG_ECC));
        check_remarshal(p, in);
        kl_tpm_public_free(p);
    }
    if (size) {
        kl_tpm_public *q = NULL;
        kl_rc rc2;

        kl_alloc_fail_at(1 + fuzz_hash(data, size) % 4);
        rc2 = kl_tpm_public_parse(&q, in);
        kl_alloc_fail_at(0);
        FUZZ_CHECK(rc2 == rc || rc2 == KL_ENOMEM || (rc2 == KL_ECRYPTO && rc == KL_OK));
        kl_tpm_public_free(q);
    }
    return 0;
}
