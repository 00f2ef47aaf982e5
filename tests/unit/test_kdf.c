/* Unit tests for crypto/kdf: HMAC (RFC 4231), KDFa and KDFe. The KDF
 * answers were computed with OpenSSL's KBKDF/SSKDF (`openssl kdf`) and
 * python-cryptography's KBKDFHMAC/ConcatKDFHash (what upstream Keylime
 * uses), which agree. */
/* cmocka.h needs the standard headers before it: keep this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/kdf.h"
#include "util/kl_alloc.h"
#include "util/kl_hex.h"
/* clang-format on */

static int
reset_alloc(void **state)
{
    (void)state;
    kl_alloc_fail_at(0);
    return 0;
}

static void
assert_hex(const uint8_t *got, size_t n, const char *want)
{
    char hex[2 * 128 + 1];

    assert_true(n <= 128);
    kl_hex_encode(hex, got, n);
    assert_string_equal(hex, want);
}

static uint8_t key32[32], ctx34[34];

static int
setup(void **state)
{
    (void)state;
    for (int i = 0; i < 32; i++)
        key32[i] = (uint8_t)i;
    assert_true(kl_hex_decode(
        ctx34,
        KL_BYTES_STR("000b0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20")));
    return 0;
}

/* RFC 4231 test case 2 */
static void
test_kdf_hmac_rfc4231(void **state)
{
    uint8_t out[64];

    (void)state;
    assert_int_equal(kl_hmac(KL_HASH_SHA256, KL_BYTES_STR("Jefe"),
                             KL_BYTES_STR("what do ya want for nothing?"), out),
                     KL_OK);
    assert_hex(out, 32, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    assert_int_equal(kl_hmac(KL_HASH_SHA384, KL_BYTES_STR("Jefe"),
                             KL_BYTES_STR("what do ya want for nothing?"), out),
                     KL_OK);
    assert_hex(out, 48,
               "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c7"
               "8b3239ecfab21649");
    /* two parts give the same as their concatenation */
    assert_int_equal(kl_hmac2(KL_HASH_SHA256, KL_BYTES_STR("Jefe"), KL_BYTES_STR("what do ya "),
                              KL_BYTES_STR("want for nothing?"), out),
                     KL_OK);
    assert_hex(out, 32, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

static void
test_kdf_hmac_empty_key(void **state)
{
    uint8_t a[32], b[32];

    (void)state;
    assert_int_equal(kl_hmac(KL_HASH_SHA256, KL_BYTES(NULL, 0), KL_BYTES_STR("x"), a), KL_OK);
    assert_int_equal(kl_hmac(KL_HASH_SHA256, KL_BYTES("", 0), KL_BYTES_STR("x"), b), KL_OK);
    assert_memory_equal(a, b, 32);
}

static void
test_kdf_kdfa_storage(void **state)
{
    uint8_t out[16];

    (void)state;
    assert_int_equal(kl_kdfa(KL_HASH_SHA256, KL_BYTES(key32, 32), "STORAGE", KL_BYTES(ctx34, 34),
                             KL_BYTES(NULL, 0), 128, out),
                     KL_OK);
    assert_hex(out, 16, "183572815254b6d9b4854251cf94ccf5");
}

static void
test_kdf_kdfa_split_context(void **state)
{
    uint8_t a[16], b[16];

    (void)state;
    /* contextU || contextV is what is hashed */
    assert_int_equal(kl_kdfa(KL_HASH_SHA256, KL_BYTES(key32, 32), "STORAGE", KL_BYTES(ctx34, 10),
                             KL_BYTES(ctx34 + 10, 24), 128, a),
                     KL_OK);
    assert_int_equal(kl_kdfa(KL_HASH_SHA256, KL_BYTES(key32, 32), "STORAGE", KL_BYTES(ctx34, 34),
                             KL_BYTES(NULL, 0), 128, b),
                     KL_OK);
    assert_memory_equal(a, b, 16);
}

/* longer than one HMAC block: counter 2 */
static void
test_kdf_kdfa_two_blocks(void **state)
{
    uint8_t out[48];

    (void)state;
    assert_int_equal(kl_kdfa(KL_HASH_SHA256, KL_BYTES(key32, 32), "INTEGRITY", KL_BYTES(NULL, 0),
                             KL_BYTES(NULL, 0), 384, out),
                     KL_OK);
    assert_hex(out, 48,
               "062b7f39dfd0e1c6b000f9a037b29cf44a3cbbd2316607e04f9761a91fad5a53da3f0f498aaf86d6"
               "74a9bfb727aaf060");
}

static void
test_kdf_kdfe(void **state)
{
    uint8_t z[32], u[32], v[32], out[40];

    (void)state;
    for (int i = 0; i < 32; i++)
        z[i] = (uint8_t)(0xa0 + i);
    memset(u, 0x11, 32);
    memset(v, 0x22, 32);
    assert_int_equal(kl_kdfe(KL_HASH_SHA256, KL_BYTES(z, 32), "IDENTITY", KL_BYTES(u, 32),
                             KL_BYTES(v, 32), 320, out),
                     KL_OK);
    assert_hex(out, 40,
               "3d4d90164ab3757fca9eec1b8cf428e4345d9f44288038b1fddf4b8a3872ad582c7c001269b4f127");
}

static void
test_kdf_bad_sizes(void **state)
{
    uint8_t out[16];

    (void)state;
    assert_int_equal(kl_kdfa(KL_HASH_SHA256, KL_BYTES(key32, 32), "X", KL_BYTES(NULL, 0),
                             KL_BYTES(NULL, 0), 0, out),
                     KL_EINVAL);
    assert_int_equal(kl_kdfa(KL_HASH_SHA256, KL_BYTES(key32, 32), "X", KL_BYTES(NULL, 0),
                             KL_BYTES(NULL, 0), 12, out),
                     KL_EINVAL);
    assert_int_equal(kl_kdfe(KL_HASH_SHA256, KL_BYTES(key32, 32), "X", KL_BYTES(NULL, 0),
                             KL_BYTES(NULL, 0), 7, out),
                     KL_EINVAL);
    assert_int_equal(kl_kdfa(KL_HASH_COUNT, KL_BYTES(key32, 32), "X", KL_BYTES(NULL, 0),
                             KL_BYTES(NULL, 0), 128, out),
                     KL_EUNSUPPORTED);
}

static void
test_kdf_alloc_failure(void **state)
{
    uint8_t z[32] = {1}, out[32];

    (void)state;
    for (size_t n = 1; n < 4; n++) {
        kl_rc rc;

        kl_alloc_fail_at(n);
        rc = kl_kdfe(KL_HASH_SHA256, KL_BYTES(z, 32), "IDENTITY", KL_BYTES(NULL, 0),
                     KL_BYTES(NULL, 0), 256, out);
        kl_alloc_fail_at(0);
        assert_true(rc == KL_OK || rc == KL_ENOMEM);
    }
}

#define T(f) cmocka_unit_test_teardown(f, reset_alloc)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_kdf_hmac_rfc4231),       T(test_kdf_hmac_empty_key),  T(test_kdf_kdfa_storage),
        T(test_kdf_kdfa_split_context), T(test_kdf_kdfa_two_blocks), T(test_kdf_kdfe),
        T(test_kdf_bad_sizes),          T(test_kdf_alloc_failure),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
