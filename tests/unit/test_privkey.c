/* Unit tests for crypto/privkey and the TPM-oriented kl_pubkey functions:
 * keys from raw parameters, prehashed RSASSA/RSAPSS/ECDSA(r, s), RSA-OAEP
 * and ECDH both ways. Fixtures: tests/data/tpm/keylime-c (mc_ek_*). */
/* cmocka.h needs the standard headers before it: keep this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/privkey.h"
#include "util/kl_alloc.h"
#include "util/kl_file.h"
#include "util/kl_hex.h"
/* clang-format on */

static kl_privkey *rsa, *p256, *p384, *p521;

static void
read_data(const char *rel, kl_buf *out)
{
    const char *base = getenv("KL_TEST_DATA");
    char path[1024];

    if (!base)
        fail_msg("KL_TEST_DATA is not set");
    snprintf(path, sizeof(path), "%s/%s", base, rel);
    kl_buf_init(out, 1 << 20);
    if (kl_file_read(path, out) != KL_OK)
        fail_msg("%s: %s", rel, kl_err_msg());
}

static int
setup(void **state)
{
    (void)state;
    if (kl_privkey_generate_rsa(&rsa, 2048) != KL_OK ||
        kl_privkey_generate_ec(&p256, KL_EC_P256) != KL_OK ||
        kl_privkey_generate_ec(&p384, KL_EC_P384) != KL_OK ||
        kl_privkey_generate_ec(&p521, KL_EC_P521) != KL_OK)
        return -1;
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    kl_privkey_free(rsa);
    kl_privkey_free(p256);
    kl_privkey_free(p384);
    kl_privkey_free(p521);
    return 0;
}

static kl_pubkey *
pub_of(const kl_privkey *k)
{
    kl_pubkey *p = NULL;

    assert_int_equal(kl_privkey_public(k, &p), KL_OK);
    return p;
}

static void
test_privkey_curves(void **state)
{
    kl_pubkey *p = pub_of(p384);
    kl_ec_curve c;

    (void)state;
    assert_int_equal(kl_ec_curve_size(KL_EC_P256), 32);
    assert_int_equal(kl_ec_curve_size(KL_EC_P521), 66);
    assert_int_equal(kl_ec_curve_size(KL_EC_COUNT), 0);
    assert_string_equal(kl_ec_curve_name(KL_EC_P384), "P-384");
    assert_true(kl_pubkey_ec_curve(p, &c));
    assert_int_equal(c, KL_EC_P384);
    kl_pubkey_free(p);
    p = pub_of(rsa);
    assert_false(kl_pubkey_ec_curve(p, &c));
    kl_pubkey_free(p);
}

/* RSA parameters out and back in give the same key */
static void
test_privkey_rsa_params_roundtrip(void **state)
{
    kl_pubkey *p = pub_of(rsa), *q = NULL;
    uint64_t e = 0;
    kl_buf n;

    (void)state;
    kl_buf_init(&n, 4096);
    assert_int_equal(kl_pubkey_rsa_params(p, &n, &e), KL_OK);
    assert_int_equal(n.len, 256);
    assert_int_equal(e, 65537);
    assert_int_equal(kl_pubkey_from_rsa(&q, kl_buf_bytes(&n), e), KL_OK);
    assert_true(kl_pubkey_eq(p, q));
    kl_pubkey_free(q);
    /* leading zero bytes are ignored */
    {
        uint8_t padded[258] = {0};

        memcpy(padded + 2, n.ptr, n.len);
        assert_int_equal(kl_pubkey_from_rsa(&q, KL_BYTES(padded, 258), e), KL_OK);
        assert_true(kl_pubkey_eq(p, q));
        kl_pubkey_free(q);
    }
    /* e = 3 makes another key */
    assert_int_equal(kl_pubkey_from_rsa(&q, kl_buf_bytes(&n), 3), KL_OK);
    assert_false(kl_pubkey_eq(p, q));
    kl_pubkey_free(q);
    kl_buf_free(&n);
    kl_pubkey_free(p);
}

static void
test_privkey_rsa_params_bad(void **state)
{
    uint8_t even[4] = {0x80, 0, 0, 2}, odd[4] = {0x80, 0, 0, 3}, zero[2] = {0, 0};
    kl_pubkey *q = (kl_pubkey *)1;

    (void)state;
    assert_int_equal(kl_pubkey_from_rsa(&q, KL_BYTES(even, 4), 65537), KL_EINVAL);
    assert_null(q);
    assert_int_equal(kl_pubkey_from_rsa(&q, KL_BYTES(zero, 2), 65537), KL_EINVAL);
    assert_int_equal(kl_pubkey_from_rsa(&q, KL_BYTES(NULL, 0), 65537), KL_EINVAL);
    assert_int_equal(kl_pubkey_from_rsa(&q, KL_BYTES(odd, 4), 1), KL_EINVAL);
    assert_int_equal(kl_pubkey_from_rsa(&q, KL_BYTES(odd, 4), 65536), KL_EINVAL);
}

static void
check_ec_roundtrip(const kl_privkey *k, kl_ec_curve want)
{
    kl_pubkey *p = pub_of(k), *q = NULL;
    uint8_t x[66], y[66];
    kl_ec_curve c;
    size_t sz;

    assert_int_equal(kl_pubkey_ec_params(p, &c, x, y), KL_OK);
    assert_int_equal(c, want);
    sz = kl_ec_curve_size(c);
    assert_int_equal(kl_pubkey_from_ec(&q, c, KL_BYTES(x, sz), KL_BYTES(y, sz)), KL_OK);
    assert_true(kl_pubkey_eq(p, q));
    kl_pubkey_free(q);
    kl_pubkey_free(p);
}

static void
test_privkey_ec_params_roundtrip(void **state)
{
    (void)state;
    check_ec_roundtrip(p256, KL_EC_P256);
    check_ec_roundtrip(p384, KL_EC_P384);
    check_ec_roundtrip(p521, KL_EC_P521);
}

static void
test_privkey_ec_params_bad(void **state)
{
    kl_pubkey *p = pub_of(p256), *q = NULL;
    uint8_t x[66], y[66], big[33];
    kl_ec_curve c;

    (void)state;
    assert_int_equal(kl_pubkey_ec_params(p, &c, x, y), KL_OK);
    /* not on the curve */
    y[31] ^= 1;
    assert_int_equal(kl_pubkey_from_ec(&q, c, KL_BYTES(x, 32), KL_BYTES(y, 32)), KL_EINVAL);
    assert_null(q);
    y[31] ^= 1;
    /* coordinate >= p (all ones is above P-256's prime) */
    memset(x, 0xff, 32);
    assert_int_equal(kl_pubkey_from_ec(&q, c, KL_BYTES(x, 32), KL_BYTES(y, 32)), KL_EINVAL);
    assert_non_null(strstr(kl_err_msg(), "field prime"));
    /* too long */
    memset(big, 1, sizeof(big));
    assert_int_equal(kl_pubkey_from_ec(&q, c, KL_BYTES(big, 33), KL_BYTES(y, 32)), KL_EINVAL);
    /* the point at infinity has no affine form: (0, 0) is not on the curve */
    memset(x, 0, 32);
    memset(y, 0, 32);
    assert_int_equal(kl_pubkey_from_ec(&q, c, KL_BYTES(x, 32), KL_BYTES(y, 32)), KL_EINVAL);
    assert_int_equal(kl_pubkey_from_ec(&q, KL_EC_COUNT, KL_BYTES(x, 32), KL_BYTES(y, 32)),
                     KL_EUNSUPPORTED);
    /* an RSA key has no EC parameters */
    kl_pubkey_free(p);
    p = pub_of(rsa);
    assert_int_equal(kl_pubkey_ec_params(p, &c, x, y), KL_EINVAL);
    kl_pubkey_free(p);
}

static void
sign_and_verify(const kl_privkey *k, kl_sig_scheme scheme, kl_hash_alg alg)
{
    kl_pubkey *p = pub_of(k);
    uint8_t digest[64];
    size_t dlen = kl_hash_size(alg);
    bool ok = false;
    kl_buf sig;

    memset(digest, 0x5a, sizeof(digest));
    kl_buf_init(&sig, 4096);
    assert_int_equal(kl_privkey_sign_digest(k, scheme, alg, KL_BYTES(digest, dlen), &sig), KL_OK);
    switch (scheme) {
    case KL_SIG_RSASSA:
        assert_int_equal(
            kl_pubkey_verify_digest(p, alg, KL_BYTES(digest, dlen), kl_buf_bytes(&sig), &ok),
            KL_OK);
        assert_true(ok);
        /* a PKCS#1 v1.5 signature is not a PSS one */
        assert_int_equal(
            kl_pubkey_verify_rsapss_digest(p, alg, KL_BYTES(digest, dlen), kl_buf_bytes(&sig), &ok),
            KL_OK);
        assert_false(ok);
        break;
    case KL_SIG_RSAPSS:
    case KL_SIG_RSAPSS_MAXSALT:
        assert_int_equal(
            kl_pubkey_verify_rsapss_digest(p, alg, KL_BYTES(digest, dlen), kl_buf_bytes(&sig), &ok),
            KL_OK);
        assert_true(ok);
        digest[0] ^= 1;
        assert_int_equal(
            kl_pubkey_verify_rsapss_digest(p, alg, KL_BYTES(digest, dlen), kl_buf_bytes(&sig), &ok),
            KL_OK);
        assert_false(ok);
        break;
    case KL_SIG_ECDSA: {
        size_t half = sig.len / 2;
        kl_bytes r = KL_BYTES(sig.ptr, half), s = KL_BYTES(sig.ptr + half, half);

        assert_int_equal(kl_pubkey_verify_ecdsa_rs(p, alg, KL_BYTES(digest, dlen), r, s, &ok),
                         KL_OK);
        assert_true(ok);
        /* r and s swapped */
        assert_int_equal(kl_pubkey_verify_ecdsa_rs(p, alg, KL_BYTES(digest, dlen), s, r, &ok),
                         KL_OK);
        assert_false(ok);
        /* empty r */
        assert_int_equal(
            kl_pubkey_verify_ecdsa_rs(p, alg, KL_BYTES(digest, dlen), KL_BYTES(NULL, 0), s, &ok),
            KL_OK);
        assert_false(ok);
        break;
    }
    }
    kl_buf_free(&sig);
    kl_pubkey_free(p);
}

static void
test_privkey_sign_verify(void **state)
{
    (void)state;
    sign_and_verify(rsa, KL_SIG_RSASSA, KL_HASH_SHA256);
    sign_and_verify(rsa, KL_SIG_RSASSA, KL_HASH_SHA1);
    sign_and_verify(rsa, KL_SIG_RSAPSS, KL_HASH_SHA256);
    sign_and_verify(rsa, KL_SIG_RSAPSS, KL_HASH_SHA512);
    sign_and_verify(rsa, KL_SIG_RSAPSS_MAXSALT, KL_HASH_SHA256);
    sign_and_verify(p256, KL_SIG_ECDSA, KL_HASH_SHA256);
    sign_and_verify(p384, KL_SIG_ECDSA, KL_HASH_SHA384);
    sign_and_verify(p521, KL_SIG_ECDSA, KL_HASH_SHA512);
}

static void
test_privkey_sign_wrong_scheme(void **state)
{
    uint8_t digest[32] = {0};
    kl_buf sig;

    (void)state;
    kl_buf_init(&sig, 4096);
    assert_int_equal(
        kl_privkey_sign_digest(rsa, KL_SIG_ECDSA, KL_HASH_SHA256, KL_BYTES(digest, 32), &sig),
        KL_EINVAL);
    assert_int_equal(
        kl_privkey_sign_digest(p256, KL_SIG_RSASSA, KL_HASH_SHA256, KL_BYTES(digest, 32), &sig),
        KL_EINVAL);
    assert_int_equal(
        kl_privkey_sign_digest(p256, KL_SIG_ECDSA, KL_HASH_SHA256, KL_BYTES(digest, 20), &sig),
        KL_EINVAL);
    kl_buf_free(&sig);
}

static void
test_privkey_oaep(void **state)
{
    kl_pubkey *p = pub_of(rsa);
    uint8_t seed[32];
    kl_buf ct, pt;

    (void)state;
    memset(seed, 7, sizeof(seed));
    kl_buf_init(&ct, 4096);
    kl_buf_init(&pt, 4096);
    assert_int_equal(kl_pubkey_rsa_oaep_encrypt(p, KL_HASH_SHA256, KL_BYTES_STR("IDENTITY\0"),
                                                KL_BYTES(seed, 32), &ct),
                     KL_OK);
    assert_int_equal(ct.len, 256);
    assert_int_equal(kl_privkey_rsa_oaep_decrypt(rsa, KL_HASH_SHA256, KL_BYTES_STR("IDENTITY\0"),
                                                 kl_buf_bytes(&ct), &pt),
                     KL_OK);
    assert_int_equal(pt.len, 32);
    assert_memory_equal(pt.ptr, seed, 32);
    /* the label counts, NUL included */
    kl_buf_reset(&pt);
    assert_int_equal(kl_privkey_rsa_oaep_decrypt(rsa, KL_HASH_SHA256, KL_BYTES_STR("IDENTITY"),
                                                 kl_buf_bytes(&ct), &pt),
                     KL_EVERIFY);
    /* too long for the key */
    {
        uint8_t big[300] = {0};

        kl_buf_reset(&ct);
        assert_int_equal(kl_pubkey_rsa_oaep_encrypt(p, KL_HASH_SHA256, KL_BYTES(NULL, 0),
                                                    KL_BYTES(big, sizeof(big)), &ct),
                         KL_EINVAL);
    }
    kl_buf_free_secret(&pt);
    kl_buf_free(&ct);
    kl_pubkey_free(p);
}

static void
check_ecdh(const kl_privkey *k)
{
    kl_pubkey *p = pub_of(k);
    uint8_t z[66], qx[66], qy[66], z2[66];
    kl_ec_curve c;
    size_t sz;

    assert_true(kl_pubkey_ec_curve(p, &c));
    sz = kl_ec_curve_size(c);
    assert_int_equal(kl_pubkey_ecdh_ephemeral(p, KL_BYTES(NULL, 0), z, qx, qy), KL_OK);
    assert_int_equal(kl_privkey_ecdh(k, KL_BYTES(qx, sz), KL_BYTES(qy, sz), z2), KL_OK);
    assert_memory_equal(z, z2, sz);
    kl_pubkey_free(p);
}

static void
test_privkey_ecdh(void **state)
{
    (void)state;
    check_ecdh(p256);
    check_ecdh(p384);
    check_ecdh(p521);
}

/* the test hook: a fixed ephemeral scalar gives fixed outputs */
static void
test_privkey_ecdh_fixed_scalar(void **state)
{
    kl_pubkey *p = pub_of(p256);
    uint8_t d[32], z1[32], z2[32], x1[32], x2[32], y1[32], y2[32], n[32];

    (void)state;
    memset(d, 0x42, sizeof(d));
    assert_int_equal(kl_pubkey_ecdh_ephemeral(p, KL_BYTES(d, 32), z1, x1, y1), KL_OK);
    assert_int_equal(kl_pubkey_ecdh_ephemeral(p, KL_BYTES(d, 32), z2, x2, y2), KL_OK);
    assert_memory_equal(z1, z2, 32);
    assert_memory_equal(x1, x2, 32);
    assert_memory_equal(y1, y2, 32);
    /* 0 and the group order are out of range; so is a too long scalar */
    memset(d, 0, sizeof(d));
    assert_int_equal(kl_pubkey_ecdh_ephemeral(p, KL_BYTES(d, 32), z1, x1, y1), KL_EINVAL);
    assert_true(kl_hex_decode(
        n, KL_BYTES_STR("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551")));
    assert_int_equal(kl_pubkey_ecdh_ephemeral(p, KL_BYTES(n, 32), z1, x1, y1), KL_EINVAL);
    {
        uint8_t long_d[40] = {1};

        assert_int_equal(kl_pubkey_ecdh_ephemeral(p, KL_BYTES(long_d, 40), z1, x1, y1), KL_EINVAL);
    }
    kl_pubkey_free(p);
    /* an RSA key cannot do ECDH */
    p = pub_of(rsa);
    assert_int_equal(kl_pubkey_ecdh_ephemeral(p, KL_BYTES(NULL, 0), z1, x1, y1), KL_EINVAL);
    kl_pubkey_free(p);
    assert_int_equal(kl_privkey_ecdh(rsa, KL_BYTES(x1, 32), KL_BYTES(y1, 32), z1), KL_EINVAL);
}

static void
test_privkey_ecdh_bad_peer(void **state)
{
    uint8_t x[32] = {1}, y[32] = {2}, z[32];

    (void)state;
    assert_int_equal(kl_privkey_ecdh(p256, KL_BYTES(x, 32), KL_BYTES(y, 32), z), KL_EINVAL);
}

static void
test_privkey_load_pem(void **state)
{
    kl_privkey *k = NULL;
    kl_pubkey *p, *want = NULL;
    kl_buf pem, pub, out;

    (void)state;
    read_data("tpm/keylime-c/mc_ek_ecc.key", &pem);
    read_data("tpm/keylime-c/mc_ek_ecc.pem", &pub);
    assert_int_equal(kl_privkey_load_pem(&k, kl_buf_bytes(&pem)), KL_OK);
    assert_int_equal(kl_pubkey_load_pem(&want, kl_buf_bytes(&pub)), KL_OK);
    p = pub_of(k);
    assert_true(kl_pubkey_eq(p, want));
    kl_pubkey_free(p);
    /* and back out as PEM */
    kl_buf_init(&out, 1 << 16);
    assert_int_equal(kl_privkey_pem(k, &out), KL_OK);
    assert_non_null(memmem(out.ptr, out.len, "PRIVATE KEY", 11));
    kl_buf_free_secret(&out);
    kl_privkey_free(k);
    kl_pubkey_free(want);
    /* a public key is not a private key */
    assert_int_equal(kl_privkey_load_pem(&k, kl_buf_bytes(&pub)), KL_EPARSE);
    assert_null(k);
    kl_buf_free(&pem);
    kl_buf_free(&pub);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_privkey_curves),
        cmocka_unit_test(test_privkey_rsa_params_roundtrip),
        cmocka_unit_test(test_privkey_rsa_params_bad),
        cmocka_unit_test(test_privkey_ec_params_roundtrip),
        cmocka_unit_test(test_privkey_ec_params_bad),
        cmocka_unit_test(test_privkey_sign_verify),
        cmocka_unit_test(test_privkey_sign_wrong_scheme),
        cmocka_unit_test(test_privkey_oaep),
        cmocka_unit_test(test_privkey_ecdh),
        cmocka_unit_test(test_privkey_ecdh_fixed_scalar),
        cmocka_unit_test(test_privkey_ecdh_bad_peer),
        cmocka_unit_test(test_privkey_load_pem),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
