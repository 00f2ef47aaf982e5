/* fuzz_credblob: credential blobs (tpm/makecred.h) as the agent receives
 * them.
 *
 * The input is a blob: split (kl_makecred_parse) and activated in software
 * with fixed EKs (P-256 always, RSA-2048 for one input in 16: RSA
 * decryption is slow). Checks: the parts are views of the input that
 * tile it; activation never succeeds on a blob it did not make (the
 * integrity HMAC), fails as a parse or verification error, and leaves no
 * output; a blob made here activates.
 */
#include "../tests/tpm_build.h"
#include "fuzz_tpm_common.h"
#include "tpm/makecred.h"

typedef struct {
    kl_privkey *key;
    kl_tpm_public *ek;
} ek_pair;

static ek_pair ecc, rsa;
static const uint8_t name[34] = {0x00, 0x0b, 0x42};

static void
make_ek(ek_pair *e, bool is_ecc)
{
    TPMT_PUBLIC t;

    FUZZ_CHECK((is_ecc ? kl_privkey_generate_ec(&e->key, KL_EC_P256)
                       : kl_privkey_generate_rsa(&e->key, 2048)) == KL_OK);
    tb_ek_template(&t, is_ecc);
    FUZZ_CHECK(tb_public(&e->ek, e->key, &t) == KL_OK);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    kl_buf blob, out;

    (void)argc;
    (void)argv;
    fuzz_tpm_quiet();
    make_ek(&ecc, true);
    make_ek(&rsa, false);
    /* the activation path works at all */
    kl_buf_init(&blob, 4096);
    kl_buf_init(&out, 256);
    FUZZ_CHECK(kl_makecred_blob(&blob, ecc.ek, KL_BYTES_STR("secret"), KL_BYTES(name, 34)) ==
               KL_OK);
    FUZZ_CHECK(kl_makecred_activate(&out, kl_buf_bytes(&blob), ecc.ek, ecc.key,
                                    KL_BYTES(name, 34)) == KL_OK);
    FUZZ_CHECK(kl_bytes_eq_str(kl_buf_bytes(&out), "secret"));
    kl_buf_free(&blob);
    kl_buf_free(&out);
    return 0;
}

static void
try_activate(const ek_pair *e, kl_bytes in)
{
    kl_buf out;
    kl_rc rc;

    kl_buf_init(&out, 256);
    rc = kl_makecred_activate(&out, in, e->ek, e->key, KL_BYTES(name, 34));
    FUZZ_CHECK(rc == KL_EPARSE || rc == KL_EVERIFY);
    FUZZ_CHECK(out.len == 0);
    fuzz_touch_error();
    kl_buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kl_bytes in = fuzz_input(data, size);
    kl_makecred_parts p;
    kl_rc rc = kl_makecred_parse(&p, in);

    FUZZ_CHECK(rc == KL_OK || rc == KL_EPARSE);
    if (rc != KL_OK) {
        fuzz_touch_error();
    } else {
        FUZZ_CHECK(fuzz_within(p.credential, data, size) && fuzz_within(p.secret, data, size));
        FUZZ_CHECK(8 + 2 + p.credential.len + 2 + p.secret.len == size);
        FUZZ_CHECK(p.credential.ptr == data + 10);
        FUZZ_CHECK(p.integrity.ptr == p.credential.ptr + 2);
        FUZZ_CHECK(2 + p.integrity.len + p.identity.len == p.credential.len);
    }
    try_activate(&ecc, in);
    if (fuzz_hash(data, size) % 16 == 0)
        try_activate(&rsa, in);
    return 0;
}
