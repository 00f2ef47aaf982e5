/* Unit tests for crypto/cipher: AES-CFB128 against NIST SP 800-38A F.3.13
 * to F.3.18, and random bytes. */
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

static const char *plain_hex = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
                               "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";

static void
unhex(uint8_t *out, const char *hex)
{
    assert_true(kl_hex_decode(out, KL_BYTES(hex, strlen(hex))));
}

static void
check_vector(const char *key_hex, const char *cipher_hex)
{
    uint8_t key[32], iv[16], plain[64], want[64], got[64];
    size_t klen = strlen(key_hex) / 2;

    unhex(key, key_hex);
    unhex(iv, "000102030405060708090a0b0c0d0e0f");
    unhex(plain, plain_hex);
    unhex(want, cipher_hex);
    assert_int_equal(kl_aes_cfb_encrypt(KL_BYTES(key, klen), iv, KL_BYTES(plain, 64), got), KL_OK);
    assert_memory_equal(got, want, 64);
    assert_int_equal(kl_aes_cfb_decrypt(KL_BYTES(key, klen), iv, KL_BYTES(want, 64), got), KL_OK);
    assert_memory_equal(got, plain, 64);
}

static void
test_cipher_sp800_38a(void **state)
{
    (void)state;
    check_vector("2b7e151628aed2a6abf7158809cf4f3c",
                 "3b3fd92eb72dad20333449f8e83cfb4ac8a64537a0b3a93fcde3cdad9f1ce58b"
                 "26751f67a3cbb140b1808cf187a4f4dfc04b05357c5d1c0eeac4c66f9ff7f2e6");
    check_vector("8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b",
                 "cdc80d6fddf18cab34c25909c99a417467ce7f7f81173621961a2b70171d3d7a"
                 "2e1e8a1dd59b88b1c8e60fed1efac4c9c05f9f9ca9834fa042ae8fba584b09ff");
    check_vector("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
                 "dc7e84bfda79164b7ecd8486985d386039ffed143b28b1c832113c6331e5407b"
                 "df10132415e54b92a13ed0a8267ae2f975a385741ab9cef82031623d55b1e471");
}

/* CFB needs no padding: any length, and in place */
static void
test_cipher_odd_length_in_place(void **state)
{
    uint8_t key[16] = {0}, iv[16] = {0}, buf[34], copy[34];

    (void)state;
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)i;
    memcpy(copy, buf, sizeof(buf));
    assert_int_equal(kl_aes_cfb_encrypt(KL_BYTES(key, 16), iv, KL_BYTES(buf, 34), buf), KL_OK);
    assert_memory_not_equal(buf, copy, 34);
    assert_int_equal(kl_aes_cfb_decrypt(KL_BYTES(key, 16), iv, KL_BYTES(buf, 34), buf), KL_OK);
    assert_memory_equal(buf, copy, 34);
    assert_int_equal(kl_aes_cfb_encrypt(KL_BYTES(key, 16), iv, KL_BYTES(NULL, 0), buf), KL_OK);
}

static void
test_cipher_bad_key(void **state)
{
    uint8_t key[20] = {0}, iv[16] = {0}, buf[4] = {0};

    (void)state;
    assert_int_equal(kl_aes_cfb_encrypt(KL_BYTES(key, 20), iv, KL_BYTES(buf, 4), buf), KL_EINVAL);
    assert_int_equal(kl_aes_cfb_decrypt(KL_BYTES(key, 0), iv, KL_BYTES(buf, 4), buf), KL_EINVAL);
}

static void
test_cipher_rand(void **state)
{
    uint8_t a[32] = {0}, b[32] = {0}, zero[32] = {0};

    (void)state;
    assert_int_equal(kl_rand_bytes(a, sizeof(a)), KL_OK);
    assert_int_equal(kl_rand_bytes(b, sizeof(b)), KL_OK);
    assert_memory_not_equal(a, zero, 32);
    assert_memory_not_equal(a, b, 32);
    assert_int_equal(kl_rand_bytes(a, 0), KL_OK);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cipher_sp800_38a),
        cmocka_unit_test(test_cipher_odd_length_in_place),
        cmocka_unit_test(test_cipher_bad_key),
        cmocka_unit_test(test_cipher_rand),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
