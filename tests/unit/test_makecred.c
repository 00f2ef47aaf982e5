/* Unit tests for tpm/makecred: challenges, registrar keys and auth_tag,
 * credential blobs for RSA and ECC EKs (made here, activated in software
 * with the EK's private key), the fixed-randomness hook, the blob parser,
 * and everything activation must refuse. */
/* cmocka.h needs the standard headers before it: keep this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../tpm_build.h"
#include "tpm/makecred.h"
#include "util/kl_alloc.h"
/* clang-format on */

#define SECRET "Kq3Zr8TqP1xW0aB7cD9eF2gH4iJ6kL5m"

typedef struct {
    kl_privkey *key;
    kl_tpm_public *ek;
} ek_pair;

static ek_pair rsa, p256, p384;
static const uint8_t name[34] = {0x00, 0x0b, 1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                 11,   12,   13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                 23,   24,   25, 26, 27, 28, 29, 30, 31, 32};

static int
make_ek(ek_pair *e, bool ecc, kl_ec_curve c)
{
    TPMT_PUBLIC t;

    if ((ecc ? kl_privkey_generate_ec(&e->key, c) : kl_privkey_generate_rsa(&e->key, 2048)) !=
        KL_OK)
        return -1;
    tb_ek_template(&t, ecc);
    return tb_public(&e->ek, e->key, &t) == KL_OK ? 0 : -1;
}

static int
setup(void **state)
{
    (void)state;
    return make_ek(&rsa, false, KL_EC_P256) || make_ek(&p256, true, KL_EC_P256) ||
                   make_ek(&p384, true, KL_EC_P384)
               ? -1
               : 0;
}

static int
teardown(void **state)
{
    (void)state;
    kl_privkey_free(rsa.key);
    kl_tpm_public_free(rsa.ek);
    kl_privkey_free(p256.key);
    kl_tpm_public_free(p256.ek);
    kl_privkey_free(p384.key);
    kl_tpm_public_free(p384.ek);
    return 0;
}

static int
reset_alloc(void **state)
{
    (void)state;
    kl_alloc_fail_at(0);
    return 0;
}

static void
test_makecred_challenge(void **state)
{
    char a[KL_MAKECRED_CHALLENGE_LEN + 1], b[KL_MAKECRED_CHALLENGE_LEN + 1];

    (void)state;
    assert_int_equal(kl_makecred_challenge(a), KL_OK);
    assert_int_equal(kl_makecred_challenge(b), KL_OK);
    assert_int_equal(strlen(a), 32);
    assert_string_not_equal(a, b);
    for (size_t i = 0; i < 32; i++)
        assert_non_null(
            strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz", a[i]));
}

/* expected/registration_swtpm.json */
static void
test_makecred_auth_tag(void **state)
{
    const char *agent = "f3362555182c3011f3a170b6162567e78e801e52744ef8a8601891f2d8e8dd4b";
    const char *tag = "ff62721888698c95b35c068ce452bfd82272ca94ec930037318c0a6fb723ff0363b028a79e6f"
                      "63807d6b6f4791015598";
    kl_buf key, got;
    bool ok = false;

    (void)state;
    kl_buf_init(&key, 256);
    kl_buf_init(&got, 256);
    assert_int_equal(kl_makecred_key(&key, KL_BYTES_STR(SECRET)), KL_OK);
    assert_true(
        kl_bytes_eq_str(kl_buf_bytes(&key), "S3EzWnI4VHFQMXhXMGFCN2NEOWVGMmdINGlKNmtMNW0="));
    assert_int_equal(kl_makecred_auth_tag(&got, kl_buf_bytes(&key), KL_BYTES(agent, strlen(agent))),
                     KL_OK);
    assert_true(kl_bytes_eq_str(kl_buf_bytes(&got), tag));
    kl_buf_reset(&got);
    assert_int_equal(kl_makecred_auth_tag_from_secret(&got, KL_BYTES_STR(SECRET),
                                                      KL_BYTES(agent, strlen(agent))),
                     KL_OK);
    assert_true(kl_bytes_eq_str(kl_buf_bytes(&got), tag));
    assert_int_equal(kl_makecred_check_auth_tag(&ok, kl_buf_bytes(&key),
                                                KL_BYTES(agent, strlen(agent)),
                                                KL_BYTES(tag, strlen(tag))),
                     KL_OK);
    assert_true(ok);
    /* another agent, a short tag, upper case: no */
    assert_int_equal(kl_makecred_check_auth_tag(&ok, kl_buf_bytes(&key), KL_BYTES_STR("other"),
                                                KL_BYTES(tag, strlen(tag))),
                     KL_OK);
    assert_false(ok);
    assert_int_equal(kl_makecred_check_auth_tag(&ok, kl_buf_bytes(&key),
                                                KL_BYTES(agent, strlen(agent)),
                                                KL_BYTES(tag, strlen(tag) - 1)),
                     KL_OK);
    assert_false(ok);
    assert_int_equal(kl_makecred_check_auth_tag(&ok, kl_buf_bytes(&key),
                                                KL_BYTES(agent, strlen(agent)),
                                                KL_BYTES_STR("FF62721888698C95B35C068CE452BFD82272"
                                                             "CA94EC930037318C0A6FB723FF0363B028A7"
                                                             "9E6F63807D6B6F4791015598")),
                     KL_OK);
    assert_false(ok);
    kl_buf_free(&key);
    kl_buf_free(&got);
}

static void
roundtrip(const ek_pair *e, size_t secret_size, size_t enc_size)
{
    kl_makecred_parts parts;
    kl_buf blob, out;

    kl_buf_init(&blob, 4096);
    kl_buf_init(&out, 256);
    assert_int_equal(
        kl_makecred_blob(&blob, e->ek, KL_BYTES(SECRET, secret_size), KL_BYTES(name, sizeof(name))),
        KL_OK);
    assert_int_equal(kl_makecred_parse(&parts, kl_buf_bytes(&blob)), KL_OK);
    assert_int_equal(parts.integrity.len, 32);
    assert_int_equal(parts.identity.len, 2 + secret_size);
    assert_int_equal(parts.credential.len, 2 + 32 + 2 + secret_size);
    assert_int_equal(parts.secret.len, enc_size);
    assert_int_equal(blob.len, 8 + 2 + parts.credential.len + 2 + enc_size);
    assert_int_equal(kl_makecred_activate(&out, kl_buf_bytes(&blob), e->ek, e->key,
                                          KL_BYTES(name, sizeof(name))),
                     KL_OK);
    assert_int_equal(out.len, secret_size);
    assert_memory_equal(out.ptr, SECRET, secret_size);
    kl_buf_free_secret(&out);
    kl_buf_free(&blob);
}

static void
test_makecred_roundtrip(void **state)
{
    (void)state;
    roundtrip(&rsa, 32, 256);
    roundtrip(&rsa, 1, 256);
    roundtrip(&p256, 32, 2 + 32 + 2 + 32);
    roundtrip(&p384, 9, 2 + 48 + 2 + 48);
}

static void
test_makecred_layout(void **state)
{
    kl_buf blob;

    (void)state;
    kl_buf_init(&blob, 4096);
    assert_int_equal(
        kl_makecred_blob(&blob, rsa.ek, KL_BYTES_STR(SECRET), KL_BYTES(name, sizeof(name))), KL_OK);
    /* RSA-2048 EK, 32-byte secret: 336 bytes like tpm/swtpm/mkcred.blob */
    assert_int_equal(blob.len, 336);
    assert_memory_equal(blob.ptr, "\xba\xdc\xc0\xde\x00\x00\x00\x01\x00\x44\x00\x20", 12);
    assert_memory_equal(blob.ptr + 8 + 2 + 68, "\x01\x00", 2);
    kl_buf_free(&blob);
}

/* the hook: an ECC blob is reproducible; an RSA blob's credential part is */
static void
test_makecred_fixed(void **state)
{
    uint8_t seed[32], scalar[32];
    kl_makecred_parts pa, pb;
    kl_buf a, b;

    (void)state;
    memset(seed, 3, sizeof(seed));
    memset(scalar, 5, sizeof(scalar));
    kl_buf_init(&a, 4096);
    kl_buf_init(&b, 4096);
    assert_int_equal(kl_makecred_blob_fixed(&a, p256.ek, KL_BYTES_STR(SECRET), KL_BYTES(name, 34),
                                            KL_BYTES(NULL, 0), KL_BYTES(scalar, 32)),
                     KL_OK);
    assert_int_equal(kl_makecred_blob_fixed(&b, p256.ek, KL_BYTES_STR(SECRET), KL_BYTES(name, 34),
                                            KL_BYTES(NULL, 0), KL_BYTES(scalar, 32)),
                     KL_OK);
    assert_true(kl_bytes_eq(kl_buf_bytes(&a), kl_buf_bytes(&b)));
    kl_buf_reset(&a);
    kl_buf_reset(&b);
    assert_int_equal(kl_makecred_blob_fixed(&a, rsa.ek, KL_BYTES_STR(SECRET), KL_BYTES(name, 34),
                                            KL_BYTES(seed, 32), KL_BYTES(NULL, 0)),
                     KL_OK);
    assert_int_equal(kl_makecred_blob_fixed(&b, rsa.ek, KL_BYTES_STR(SECRET), KL_BYTES(name, 34),
                                            KL_BYTES(seed, 32), KL_BYTES(NULL, 0)),
                     KL_OK);
    assert_int_equal(kl_makecred_parse(&pa, kl_buf_bytes(&a)), KL_OK);
    assert_int_equal(kl_makecred_parse(&pb, kl_buf_bytes(&b)), KL_OK);
    assert_true(kl_bytes_eq(pa.credential, pb.credential));
    assert_false(kl_bytes_eq(pa.secret, pb.secret));
    /* a seed of the wrong size */
    kl_buf_reset(&a);
    assert_int_equal(kl_makecred_blob_fixed(&a, rsa.ek, KL_BYTES_STR(SECRET), KL_BYTES(name, 34),
                                            KL_BYTES(seed, 20), KL_BYTES(NULL, 0)),
                     KL_EINVAL);
    kl_buf_free(&a);
    kl_buf_free(&b);
}

static void
expect_activation_failure(const ek_pair *e, kl_bytes blob, kl_bytes nm, kl_rc want)
{
    kl_buf out;

    kl_buf_init(&out, 256);
    assert_int_equal(kl_makecred_activate(&out, blob, e->ek, e->key, nm), want);
    assert_int_equal(out.len, 0);
    kl_buf_free(&out);
}

static void
test_makecred_activation_refuses(void **state)
{
    uint8_t other_name[34];
    kl_buf blob;

    (void)state;
    memcpy(other_name, name, sizeof(name));
    other_name[33] ^= 1;
    kl_buf_init(&blob, 4096);
    for (int k = 0; k < 2; k++) {
        const ek_pair *e = k ? &p256 : &rsa;

        kl_buf_reset(&blob);
        assert_int_equal(kl_makecred_blob(&blob, e->ek, KL_BYTES_STR(SECRET), KL_BYTES(name, 34)),
                         KL_OK);
        /* another object's name */
        expect_activation_failure(e, kl_buf_bytes(&blob), KL_BYTES(other_name, 34), KL_EVERIFY);
        /* another EK */
        expect_activation_failure(k ? &p384 : &p256, kl_buf_bytes(&blob), KL_BYTES(name, 34),
                                  k ? KL_EVERIFY : KL_EPARSE);
        /* a changed HMAC, a changed encIdentity */
        blob.ptr[12] ^= 1;
        expect_activation_failure(e, kl_buf_bytes(&blob), KL_BYTES(name, 34), KL_EVERIFY);
        blob.ptr[12] ^= 1;
        blob.ptr[8 + 2 + 34 + 3] ^= 1;
        expect_activation_failure(e, kl_buf_bytes(&blob), KL_BYTES(name, 34), KL_EVERIFY);
        blob.ptr[8 + 2 + 34 + 3] ^= 1;
        /* a changed encrypted secret */
        blob.ptr[blob.len - 1] ^= 1;
        expect_activation_failure(e, kl_buf_bytes(&blob), KL_BYTES(name, 34), KL_EVERIFY);
    }
    kl_buf_free(&blob);
}

static void
test_makecred_bad_inputs(void **state)
{
    uint8_t big[33] = {0};
    kl_privkey *k = NULL;
    kl_tpm_public *ak = NULL;
    TPMT_PUBLIC t;
    kl_buf blob;

    (void)state;
    kl_buf_init(&blob, 4096);
    assert_int_equal(kl_makecred_blob(&blob, rsa.ek, KL_BYTES(big, 33), KL_BYTES(name, 34)),
                     KL_EINVAL);
    assert_int_equal(kl_makecred_blob(&blob, rsa.ek, KL_BYTES(NULL, 0), KL_BYTES(name, 34)),
                     KL_EINVAL);
    assert_int_equal(kl_makecred_blob(&blob, rsa.ek, KL_BYTES_STR(SECRET), KL_BYTES(name, 1)),
                     KL_EINVAL);
    /* an AK is not a storage key */
    assert_int_equal(kl_privkey_generate_ec(&k, KL_EC_P256), KL_OK);
    tb_ak_template(&t, true, KL_HASH_SHA256, TPM2_ALG_ECDSA);
    assert_int_equal(tb_public(&ak, k, &t), KL_OK);
    assert_int_equal(kl_makecred_blob(&blob, ak, KL_BYTES_STR(SECRET), KL_BYTES(name, 34)),
                     KL_EUNSUPPORTED);
    assert_int_equal(blob.len, 0);
    kl_tpm_public_free(ak);
    kl_privkey_free(k);
    kl_buf_free(&blob);
}

static void
expect_parse_error(const uint8_t *p, size_t n, const char *needle)
{
    kl_makecred_parts parts;

    assert_int_equal(kl_makecred_parse(&parts, KL_BYTES(p, n)), KL_EPARSE);
    if (!strstr(kl_err_msg(), needle))
        fail_msg("error \"%s\" lacks \"%s\"", kl_err_msg(), needle);
}

static void
test_makecred_parse_errors(void **state)
{
    uint8_t b[] = {0xba, 0xdc, 0xc0, 0xde, 0, 0, 0, 1, 0, 4, 0, 1, 0xaa, 0xbb, 0, 2, 1, 2};
    kl_makecred_parts parts;

    (void)state;
    assert_int_equal(kl_makecred_parse(&parts, KL_BYTES(b, sizeof(b))), KL_OK);
    assert_int_equal(parts.credential.len, 4);
    assert_int_equal(parts.integrity.len, 1);
    assert_int_equal(parts.identity.len, 1);
    assert_int_equal(parts.secret.len, 2);
    expect_parse_error(b, 3, "truncated");
    expect_parse_error(b, sizeof(b) - 1, "truncated");
    b[0] = 0;
    expect_parse_error(b, sizeof(b), "bad magic");
    b[0] = 0xba;
    b[7] = 2;
    expect_parse_error(b, sizeof(b), "version 2");
    b[7] = 1;
    b[11] = 3; /* an integrity HMAC longer than the credential */
    expect_parse_error(b, sizeof(b), "does not fit");
    b[11] = 1;
    {
        uint8_t longer[sizeof(b) + 1];

        memcpy(longer, b, sizeof(b));
        longer[sizeof(b)] = 0;
        expect_parse_error(longer, sizeof(longer), "1 trailing bytes");
    }
}

static void
test_makecred_alloc_failure(void **state)
{
    (void)state;
    for (size_t n = 1; n < 40; n++) {
        kl_buf blob, out;
        kl_rc rc;

        kl_buf_init(&blob, 4096);
        kl_buf_init(&out, 256);
        kl_alloc_fail_at(n);
        rc = kl_makecred_blob(&blob, p256.ek, KL_BYTES_STR(SECRET), KL_BYTES(name, 34));
        if (rc == KL_OK)
            rc = kl_makecred_activate(&out, kl_buf_bytes(&blob), p256.ek, p256.key,
                                      KL_BYTES(name, 34));
        kl_alloc_fail_at(0);
        assert_true(rc == KL_OK || rc == KL_ENOMEM || rc == KL_ECRYPTO);
        kl_buf_free(&blob);
        kl_buf_free_secret(&out);
    }
}

#define T(f) cmocka_unit_test_teardown(f, reset_alloc)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_makecred_challenge),     T(test_makecred_auth_tag),
        T(test_makecred_roundtrip),     T(test_makecred_layout),
        T(test_makecred_fixed),         T(test_makecred_activation_refuses),
        T(test_makecred_bad_inputs),    T(test_makecred_parse_errors),
        T(test_makecred_alloc_failure),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
