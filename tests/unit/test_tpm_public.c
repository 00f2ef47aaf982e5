/* Unit tests for tpm/tpm_public: TPM2B_PUBLIC parsing (RSA of any size and
 * exponent, ECC P-256/384/521 with coordinate checks), names, marshalling
 * software keys, and rejected structures. Fixtures: tests/data/tpm. */
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

#include "../tpm_build.h"
#include "crypto/privkey.h"
#include "tpm/tpm_public.h"
#include "util/kl_alloc.h"
#include "util/kl_file.h"
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

static kl_tpm_public *
load(const char *rel)
{
    kl_tpm_public *p = NULL;
    kl_buf b;

    read_data(rel, &b);
    if (kl_tpm_public_parse(&p, kl_buf_bytes(&b)) != KL_OK)
        fail_msg("%s: %s", rel, kl_err_msg());
    kl_buf_free(&b);
    return p;
}

static void
assert_name(const kl_tpm_public *p, const char *hex)
{
    kl_bytes n = kl_tpm_public_name(p);
    char got[2 * 66 + 1];

    assert_true(n.len <= 66);
    kl_hex_encode(got, n.ptr, n.len);
    assert_string_equal(got, hex);
}

/* The TPMT_PUBLIC of a vector, to mutate. */
static void
unmarshal(const char *rel, TPMT_PUBLIC *t)
{
    size_t off = 0;
    kl_buf b;

    read_data(rel, &b);
    assert_int_equal(Tss2_MU_TPMT_PUBLIC_Unmarshal(b.ptr + 2, b.len - 2, &off, t), 0);
    kl_buf_free(&b);
}

/* t marshalled as a TPM2B_PUBLIC (without checks on its content). */
static void
marshal(const TPMT_PUBLIC *t, kl_buf *out)
{
    uint8_t buf[sizeof(*t) + 2];
    size_t off = 2;

    assert_int_equal(Tss2_MU_TPMT_PUBLIC_Marshal(t, buf, sizeof(buf), &off), 0);
    buf[0] = (uint8_t)((off - 2) >> 8);
    buf[1] = (uint8_t)(off - 2);
    kl_buf_init(out, 1 << 16);
    assert_int_equal(kl_buf_append(out, buf, off), KL_OK);
}

static kl_rc
parse_tpmt(const TPMT_PUBLIC *t, kl_tpm_public **out)
{
    kl_buf b;
    kl_rc rc;

    marshal(t, &b);
    rc = kl_tpm_public_parse(out, kl_buf_bytes(&b));
    kl_buf_free(&b);
    return rc;
}

static void
test_tpm_public_swtpm_ak(void **state)
{
    kl_tpm_public *p = load("tpm/swtpm/ak.pub");
    kl_pubkey *pem = NULL;
    kl_buf b;

    (void)state;
    assert_name(p, "000bdc426fa72572f1d1f22b38d5db93fcd426a8e1b9267a1c567715e8c99562a8bd");
    assert_int_equal(kl_tpm_public_type(p), TPM2_ALG_RSA);
    assert_int_equal(kl_tpm_public_tpmt(p)->objectAttributes, TB_AK_ATTRS);
    assert_int_equal(kl_tpm_public_bytes(p).len, 282);
    read_data("tpm/swtpm/ak.pem", &b);
    assert_int_equal(kl_pubkey_load_pem(&pem, kl_buf_bytes(&b)), KL_OK);
    assert_true(kl_pubkey_eq(pem, kl_tpm_public_key(p)));
    kl_pubkey_free(pem);
    kl_buf_free(&b);
    kl_tpm_public_free(p);
}

static void
test_tpm_public_ek_names(void **state)
{
    kl_tpm_public *p = load("tpm/swtpm/ek.pub");

    (void)state;
    assert_name(p, "000b7c951ff3341f1b24bcd1c9ea4942d642c9ffa3944a8f70246e39f3a2321d62ab");
    assert_int_equal(kl_tpm_public_tpmt(p)->parameters.rsaDetail.symmetric.keyBits.aes, 128);
    kl_tpm_public_free(p);
    p = load("tpm/keylime-test-data/ek.pub");
    assert_name(p, "000b524fe073981b4ac6fb4b571723bf939f67fa0a154dc85eee0dd1e5b21df47ca5");
    kl_tpm_public_free(p);
}

static void
test_tpm_public_ecc(void **state)
{
    kl_tpm_public *p = load("tpm/keylime-c/ak_ecc.pub");
    kl_ec_curve c;
    kl_buf name;

    (void)state;
    assert_int_equal(kl_tpm_public_type(p), TPM2_ALG_ECC);
    assert_true(kl_pubkey_ec_curve(kl_tpm_public_key(p), &c));
    assert_int_equal(c, KL_EC_P256);
    read_data("tpm/keylime-c/ak_ecc.name", &name);
    assert_int_equal(kl_tpm_public_name(p).len, name.len);
    assert_memory_equal(kl_tpm_public_name(p).ptr, name.ptr, name.len);
    kl_buf_free(&name);
    kl_tpm_public_free(p);
    p = load("tpm/keylime-c/ak384.pub");
    assert_true(kl_pubkey_ec_curve(kl_tpm_public_key(p), &c));
    assert_int_equal(c, KL_EC_P384);
    kl_tpm_public_free(p);
}

/* software keys through kl_tpm_public_marshal and back */
static void
marshal_roundtrip(kl_privkey *k, bool ecc)
{
    kl_tpm_public *p = NULL;
    kl_pubkey *pub = NULL;
    uint8_t d[32];
    TPMT_PUBLIC t;
    kl_bytes raw;

    tb_ak_template(&t, ecc, KL_HASH_SHA256, TPM2_ALG_RSASSA);
    assert_int_equal(tb_public(&p, k, &t), KL_OK);
    assert_int_equal(kl_privkey_public(k, &pub), KL_OK);
    assert_true(kl_pubkey_eq(pub, kl_tpm_public_key(p)));
    /* name = nameAlg || sha256(TPMT_PUBLIC) */
    raw = kl_tpm_public_bytes(p);
    assert_int_equal(kl_hash(KL_HASH_SHA256, raw.ptr + 2, raw.len - 2, d), KL_OK);
    assert_int_equal(kl_tpm_public_name(p).len, 34);
    assert_memory_equal(kl_tpm_public_name(p).ptr, "\x00\x0b", 2);
    assert_memory_equal(kl_tpm_public_name(p).ptr + 2, d, 32);
    kl_pubkey_free(pub);
    kl_tpm_public_free(p);
}

static void
test_tpm_public_marshal_roundtrip(void **state)
{
    kl_privkey *k = NULL;

    (void)state;
    assert_int_equal(kl_privkey_generate_rsa(&k, 3072), KL_OK);
    marshal_roundtrip(k, false);
    kl_privkey_free(k);
    for (int c = 0; c < KL_EC_COUNT; c++) {
        assert_int_equal(kl_privkey_generate_ec(&k, (kl_ec_curve)c), KL_OK);
        marshal_roundtrip(k, true);
        kl_privkey_free(k);
    }
}

static void
test_tpm_public_marshal_mismatch(void **state)
{
    kl_privkey *k = NULL;
    kl_pubkey *pub = NULL;
    TPMT_PUBLIC t;
    kl_buf b;

    (void)state;
    assert_int_equal(kl_privkey_generate_ec(&k, KL_EC_P256), KL_OK);
    assert_int_equal(kl_privkey_public(k, &pub), KL_OK);
    tb_ak_template(&t, false, KL_HASH_SHA256, TPM2_ALG_RSASSA);
    kl_buf_init(&b, 4096);
    assert_int_equal(kl_tpm_public_marshal(&b, &t, pub), KL_EINVAL);
    kl_buf_free(&b);
    kl_pubkey_free(pub);
    kl_privkey_free(k);
}

/* the exponent field: 0 means 65537; other odd values are used as given */
static void
test_tpm_public_exponent(void **state)
{
    kl_tpm_public *p = NULL;
    uint64_t e = 0;
    TPMT_PUBLIC t;
    kl_buf n;

    (void)state;
    unmarshal("tpm/swtpm/ak.pub", &t);
    assert_int_equal(t.parameters.rsaDetail.exponent, 0);
    t.parameters.rsaDetail.exponent = 3;
    assert_int_equal(parse_tpmt(&t, &p), KL_OK);
    kl_buf_init(&n, 4096);
    assert_int_equal(kl_pubkey_rsa_params(kl_tpm_public_key(p), &n, &e), KL_OK);
    assert_int_equal(e, 3);
    kl_buf_free(&n);
    kl_tpm_public_free(p);
    t.parameters.rsaDetail.exponent = 2;
    assert_int_equal(parse_tpmt(&t, &p), KL_EINVAL);
    assert_null(p);
}

static void
test_tpm_public_rsa_sizes(void **state)
{
    kl_tpm_public *p = NULL;
    TPMT_PUBLIC t;

    (void)state;
    unmarshal("tpm/swtpm/ak.pub", &t);
    t.parameters.rsaDetail.keyBits = 1024;
    assert_int_equal(parse_tpmt(&t, &p), KL_EPARSE);
    assert_non_null(strstr(kl_err_msg(), "Misparsed either modulus or keybits"));
    /* a 1024-bit key is fine when keyBits says so */
    t.unique.rsa.size = 128;
    t.unique.rsa.buffer[127] |= 1;
    assert_int_equal(parse_tpmt(&t, &p), KL_OK);
    kl_tpm_public_free(p);
}

static void
test_tpm_public_ecc_checks(void **state)
{
    kl_tpm_public *p = NULL;
    TPMT_PUBLIC t, good;

    (void)state;
    unmarshal("tpm/keylime-c/ak_ecc.pub", &good);
    t = good;
    t.unique.ecc.x.size = 31;
    assert_int_equal(parse_tpmt(&t, &p), KL_EPARSE);
    assert_non_null(strstr(kl_err_msg(), "Misparsed X coordinate"));
    t = good;
    memset(t.unique.ecc.y.buffer, 0xff, 32);
    assert_int_equal(parse_tpmt(&t, &p), KL_EINVAL);
    assert_non_null(strstr(kl_err_msg(), "field prime"));
    t = good;
    t.unique.ecc.y.buffer[31] ^= 1;
    assert_int_equal(parse_tpmt(&t, &p), KL_EINVAL);
    assert_non_null(strstr(kl_err_msg(), "not on"));
    t = good;
    t.parameters.eccDetail.curveID = TPM2_ECC_NIST_P192;
    assert_int_equal(parse_tpmt(&t, &p), KL_EUNSUPPORTED);
    t = good;
    t.parameters.eccDetail.curveID = TPM2_ECC_NIST_P384;
    assert_int_equal(parse_tpmt(&t, &p), KL_EPARSE);
    assert_null(p);
}

/* P-521 coordinates may come in 65 bytes when their top byte is 0 */
static void
test_tpm_public_p521_short_coordinate(void **state)
{
    kl_tpm_public *p = NULL;
    kl_privkey *k = NULL;
    TPMT_PUBLIC t;
    int tries = 0;

    (void)state;
    tb_ak_template(&t, true, KL_HASH_SHA512, TPM2_ALG_ECDSA);
    for (;;) {
        assert_true(++tries < 2000);
        assert_int_equal(kl_privkey_generate_ec(&k, KL_EC_P521), KL_OK);
        assert_int_equal(tb_public(&p, k, &t), KL_OK);
        kl_privkey_free(k);
        if (kl_tpm_public_tpmt(p)->unique.ecc.x.buffer[0] == 0)
            break;
        kl_tpm_public_free(p);
    }
    {
        TPMT_PUBLIC s = *kl_tpm_public_tpmt(p);
        kl_tpm_public *q = NULL;

        memmove(s.unique.ecc.x.buffer, s.unique.ecc.x.buffer + 1, 65);
        s.unique.ecc.x.size = 65;
        assert_int_equal(parse_tpmt(&s, &q), KL_OK);
        assert_true(kl_pubkey_eq(kl_tpm_public_key(p), kl_tpm_public_key(q)));
        kl_tpm_public_free(q);
    }
    kl_tpm_public_free(p);
}

static void
test_tpm_public_bad_structures(void **state)
{
    kl_tpm_public *p = NULL;
    TPMT_PUBLIC t;
    kl_buf b;

    (void)state;
    read_data("tpm/swtpm/ak.pub", &b);
    assert_int_equal(kl_tpm_public_parse(&p, KL_BYTES(b.ptr, 1)), KL_EPARSE);
    assert_int_equal(kl_tpm_public_parse(&p, KL_BYTES(b.ptr, b.len - 1)), KL_EPARSE);
    assert_int_equal(kl_buf_append_byte(&b, 0), KL_OK);
    assert_int_equal(kl_tpm_public_parse(&p, kl_buf_bytes(&b)), KL_EPARSE);
    /* the size says one byte more than the TPMT_PUBLIC */
    b.ptr[1]++;
    assert_int_equal(kl_tpm_public_parse(&p, kl_buf_bytes(&b)), KL_EPARSE);
    assert_non_null(strstr(kl_err_msg(), "More in tpm2b_public than tpmt_public"));
    assert_null(p);
    kl_buf_free(&b);
    unmarshal("tpm/swtpm/ak.pub", &t);
    t.nameAlg = 0x0012;
    assert_int_equal(parse_tpmt(&t, &p), KL_EUNSUPPORTED);
    assert_non_null(strstr(kl_err_msg(), "nameAlg"));
    memset(&t, 0, sizeof(t));
    t.type = TPM2_ALG_KEYEDHASH;
    t.nameAlg = TPM2_ALG_SHA256;
    t.parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_NULL;
    assert_int_equal(parse_tpmt(&t, &p), KL_EUNSUPPORTED);
    assert_non_null(strstr(kl_err_msg(), "Invalid tpm2b_public type"));
    assert_null(p);
}

static void
test_tpm_public_alloc_failure(void **state)
{
    kl_buf b;

    (void)state;
    read_data("tpm/keylime-c/ak_ecc.pub", &b);
    for (size_t n = 1; n < 8; n++) {
        kl_tpm_public *p = NULL;
        kl_rc rc;

        kl_alloc_fail_at(n);
        rc = kl_tpm_public_parse(&p, kl_buf_bytes(&b));
        kl_alloc_fail_at(0);
        assert_true(rc == KL_OK || rc == KL_ENOMEM);
        assert_true((rc == KL_OK) == (p != NULL));
        kl_tpm_public_free(p);
    }
    kl_buf_free(&b);
}

#define T(f) cmocka_unit_test_teardown(f, reset_alloc)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_tpm_public_swtpm_ak),
        T(test_tpm_public_ek_names),
        T(test_tpm_public_ecc),
        T(test_tpm_public_marshal_roundtrip),
        T(test_tpm_public_marshal_mismatch),
        T(test_tpm_public_exponent),
        T(test_tpm_public_rsa_sizes),
        T(test_tpm_public_ecc_checks),
        T(test_tpm_public_p521_short_coordinate),
        T(test_tpm_public_bad_structures),
        T(test_tpm_public_alloc_failure),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
