/* Unit tests for crypto/cipher AES-GCM: the GCM specification's test cases
 * (McGrew and Viega, cases 1, 2, 4, 13, 14), a 16-byte IV vector from
 * rust-keylime's crypto.rs tests, tampering, and argument checks. */
/* cmocka.h needs the standard headers before it: keep this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/cipher.h"
#include "util/kl_hex.h"
/* clang-format on */

typedef struct {
    const char *key, *iv, *aad, *plain, *cipher, *tag;
} gcm_case;

static size_t
unhex(uint8_t *out, const char *hex)
{
    size_t n = strlen(hex);

    assert_true(kl_hex_decode(out, KL_BYTES(hex, n)));
    return n / 2;
}

static void
check_case(const gcm_case *c)
{
    uint8_t key[32], iv[64], aad[64], plain[128], want[128], got[128], tag[16], wtag[16];
    size_t kn = unhex(key, c->key), ivn = unhex(iv, c->iv), an = unhex(aad, c->aad);
    size_t pn = unhex(plain, c->plain);

    unhex(want, c->cipher);
    unhex(wtag, c->tag);
    assert_int_equal(kl_aes_gcm_encrypt(KL_BYTES(key, kn), KL_BYTES(iv, ivn), KL_BYTES(aad, an),
                                        KL_BYTES(plain, pn), got, tag),
                     KL_OK);
    assert_memory_equal(got, want, pn);
    assert_memory_equal(tag, wtag, 16);
    /* in place */
    assert_int_equal(kl_aes_gcm_decrypt(KL_BYTES(key, kn), KL_BYTES(iv, ivn), KL_BYTES(aad, an),
                                        KL_BYTES(got, pn), tag, got),
                     KL_OK);
    assert_memory_equal(got, plain, pn);
}

static void
test_aes_gcm_spec_vectors(void **state)
{
    static const char *z128 = "00000000000000000000000000000000";
    static const char *z256 = "0000000000000000000000000000000000000000000000000000000000000000";
    const gcm_case cases[] = {
        {z128, "000000000000000000000000", "", "", "", "58e2fccefa7e3061367f1d57a4e7455a"},
        {z128, "000000000000000000000000", "", z128, "0388dace60b6a392f328c2b971b2fe78",
         "ab6e47d42cec13bdf53a67b21257bddf"},
        {"feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
         "feedfacedeadbeeffeedfacedeadbeefabaddad2",
         "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
         "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
         "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
         "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
         "5bc94fbc3221a5db94fae95ae7121a47"},
        {z256, "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
        {z256, "000000000000000000000000", "", z128, "cea7403d4d606b6e074ec5d3baf39d18",
         "d0d1c8a799996bf0265b98b5d48ab919"},
        /* Keylime's 16-byte IV: rust-keylime test_encrypt_aead_short */
        {"30313233343536373839303132333435", "4142434445464748494a4b4c4d4e4f50", "",
         "7465737420737472696e672c206c6f6e676572207468616e2074686520626c6f636b2073697a65",
         "b2198661586c9839ccdd0b1d5b4ff92fa9c0e6477c4e8e42c19acd9e8061dd1e759401337da285",
         "a70580e6a2e10b5d3a09994f46d90ab6"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_case(&cases[i]);
}

static void
test_aes_gcm_tamper(void **state)
{
    uint8_t key[32] = {7}, iv[16] = {9}, aad[4] = {1, 2, 3, 4}, msg[40], ct[40], out[40], tag[16];

    (void)state;
    memset(msg, 'm', sizeof(msg));
    assert_int_equal(kl_aes_gcm_encrypt(KL_BYTES(key, 32), KL_BYTES(iv, 16), KL_BYTES(aad, 4),
                                        KL_BYTES(msg, 40), ct, tag),
                     KL_OK);
    ct[5] ^= 1;
    memset(out, 0xaa, sizeof(out));
    assert_int_equal(kl_aes_gcm_decrypt(KL_BYTES(key, 32), KL_BYTES(iv, 16), KL_BYTES(aad, 4),
                                        KL_BYTES(ct, 40), tag, out),
                     KL_EVERIFY);
    /* no plaintext of a forged message is left behind */
    for (size_t i = 0; i < sizeof(out); i++)
        assert_int_equal(out[i], 0);
    ct[5] ^= 1;
    aad[0] ^= 1;
    assert_int_equal(kl_aes_gcm_decrypt(KL_BYTES(key, 32), KL_BYTES(iv, 16), KL_BYTES(aad, 4),
                                        KL_BYTES(ct, 40), tag, out),
                     KL_EVERIFY);
    aad[0] ^= 1;
    tag[15] ^= 0x80;
    assert_int_equal(kl_aes_gcm_decrypt(KL_BYTES(key, 32), KL_BYTES(iv, 16), KL_BYTES(aad, 4),
                                        KL_BYTES(ct, 40), tag, out),
                     KL_EVERIFY);
    tag[15] ^= 0x80;
    assert_int_equal(kl_aes_gcm_decrypt(KL_BYTES(key, 32), KL_BYTES(iv, 16), KL_BYTES(aad, 4),
                                        KL_BYTES(ct, 40), tag, out),
                     KL_OK);
    assert_memory_equal(out, msg, 40);
}

static void
test_aes_gcm_bad_args(void **state)
{
    uint8_t key[32] = {0}, iv[80] = {0}, buf[8] = {0}, tag[16];

    (void)state;
    assert_int_equal(kl_aes_gcm_encrypt(KL_BYTES(key, 24), KL_BYTES(iv, 12), KL_BYTES(NULL, 0),
                                        KL_BYTES(buf, 8), buf, tag),
                     KL_EINVAL);
    assert_int_equal(kl_aes_gcm_encrypt(KL_BYTES(key, 16), KL_BYTES(iv, 0), KL_BYTES(NULL, 0),
                                        KL_BYTES(buf, 8), buf, tag),
                     KL_EINVAL);
    assert_int_equal(kl_aes_gcm_decrypt(KL_BYTES(key, 16), KL_BYTES(iv, 65), KL_BYTES(NULL, 0),
                                        KL_BYTES(buf, 8), tag, buf),
                     KL_EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aes_gcm_spec_vectors),
        cmocka_unit_test(test_aes_gcm_tamper),
        cmocka_unit_test(test_aes_gcm_bad_args),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
