/* lib/tpmdev against swtpm: context, EK, EK certificates, AK, PCRs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/pubkey.h"
#include "tpm/tpm_public.h"
#include "tpm_fixture.h"
#include "tpmdev/tpmdev_pcr.h"

/* swtpm_setup makes these (TESTBED.md): an RSA-2048 EK at 0x81010001 and
 * an ECC P-384 EK at 0x81010016 with its certificate in NV 0x01c00016. */
#define SWTPM_EK_RSA 0x81010001u
#define SWTPM_EK_ECC384 0x81010016u
#define SWTPM_EK_CERT_ECC384 0x01c00016u

static int
setup(void **state)
{
    *state = fx_open();
    return 0;
}

static int
teardown(void **state)
{
    kl_tpmdev_close(*state);
    return 0;
}

/* The SubjectPublicKeyInfo DER of a TPM2B_PUBLIC and of a certificate. */
static void
spki_of_public(kl_bytes pub, kl_buf *out)
{
    kl_tpm_public *p = NULL;

    fx_ok(kl_tpm_public_parse(&p, pub), "kl_tpm_public_parse");
    fx_ok(kl_pubkey_spki_der(kl_tpm_public_key(p), out), "kl_pubkey_spki_der");
    kl_tpm_public_free(p);
}

static void
spki_of_cert(kl_bytes der, kl_buf *out)
{
    kl_pubkey *k = NULL;
    uint32_t keyid;
    bool has_keyid;

    fx_ok(kl_pubkey_load_any(&k, der, &keyid, &has_keyid), "kl_pubkey_load_any");
    fx_ok(kl_pubkey_spki_der(k, out), "kl_pubkey_spki_der");
    kl_pubkey_free(k);
}

static void
test_tpmdev_open_errors(void **state)
{
    kl_tpmdev *t = NULL;
    bool sw = false;
    char vendor[17];

    assert_int_equal(kl_tpmdev_open(&t, "swtpm:path=/nonexistent/kl-test.sock"), KL_EIO);
    assert_null(t);
    assert_non_null(strstr(kl_err_msg(), "swtpm:path=/nonexistent/kl-test.sock"));
    fx_ok(kl_tpmdev_vendor(*state, vendor, sizeof(vendor)), "vendor");
    fx_ok(kl_tpmdev_is_software(*state, &sw), "is_software");
    assert_true(sw);
    assert_non_null(strstr(vendor, "SW"));
}

static void
test_tpmdev_ek_rsa(void **state)
{
    kl_tpmdev *t = *state;
    kl_tpmdev_key *ek = fx_ek(t, KL_TPMDEV_EK_RSA2048), *persistent = NULL;
    kl_buf cert, chain, a, b;

    kl_buf_init(&cert, 65536);
    kl_buf_init(&chain, 65536);
    kl_buf_init(&a, 4096);
    kl_buf_init(&b, 4096);
    /* the template is the TCG default: the same key swtpm_setup made */
    fx_ok(kl_tpmdev_key_persistent(&persistent, t, SWTPM_EK_RSA), "persistent EK");
    assert_int_equal(kl_tpmdev_key_persistent_handle(persistent), SWTPM_EK_RSA);
    assert_int_equal(kl_tpmdev_key_persistent_handle(ek), 0);
    assert_true(kl_bytes_eq(kl_tpmdev_key_public(ek), kl_tpmdev_key_public(persistent)));
    /* its certificate certifies this key */
    fx_ok(kl_tpmdev_ek_cert(&cert, t, KL_TPMDEV_EK_RSA2048), "kl_tpmdev_ek_cert");
    assert_true(cert.len > 500 && cert.ptr[0] == 0x30);
    spki_of_public(kl_tpmdev_key_public(ek), &a);
    spki_of_cert(kl_buf_bytes(&cert), &b);
    assert_true(kl_bytes_eq(kl_buf_bytes(&a), kl_buf_bytes(&b)));
    /* swtpm stores no CA chain */
    fx_ok(kl_tpmdev_ek_chain(&chain, t), "kl_tpmdev_ek_chain");
    assert_int_equal(chain.len, 0);
    kl_tpmdev_key_free(persistent);
    kl_tpmdev_key_free(ek);
    kl_buf_free(&cert);
    kl_buf_free(&chain);
    kl_buf_free(&a);
    kl_buf_free(&b);
}

static void
test_tpmdev_ek_ecc(void **state)
{
    kl_tpmdev *t = *state;
    kl_tpmdev_key *ek = fx_ek(t, KL_TPMDEV_EK_ECC_P256), *p384 = NULL;
    kl_tpm_public *p = NULL;
    kl_buf cert, a, b;

    kl_buf_init(&cert, 65536);
    kl_buf_init(&a, 4096);
    kl_buf_init(&b, 4096);
    fx_ok(kl_tpm_public_parse(&p, kl_tpmdev_key_public(ek)), "parse");
    assert_int_equal(kl_tpm_public_type(p), 0x0023);
    kl_tpm_public_free(p);
    /* swtpm certifies a P-384 EK (high range), none at the P-256 index */
    assert_int_equal(kl_tpmdev_ek_cert(&cert, t, KL_TPMDEV_EK_ECC_P256), KL_ENOTFOUND);
    assert_non_null(strstr(kl_err_msg(), "0x01c0000a"));
    fx_ok(kl_tpmdev_nv_read(&cert, t, SWTPM_EK_CERT_ECC384), "nv_read");
    fx_ok(kl_tpmdev_key_persistent(&p384, t, SWTPM_EK_ECC384), "persistent P-384 EK");
    spki_of_public(kl_tpmdev_key_public(p384), &a);
    spki_of_cert(kl_buf_bytes(&cert), &b);
    assert_true(kl_bytes_eq(kl_buf_bytes(&a), kl_buf_bytes(&b)));
    kl_tpmdev_key_free(p384);
    assert_int_equal(kl_tpmdev_nv_read(&cert, t, 0x01c0ffffu), KL_ENOTFOUND);
    assert_int_equal(kl_tpmdev_key_persistent(&p384, t, 0x81000999u), KL_EIO);
    assert_null(p384);
    assert_non_null(strstr(kl_err_msg(), "Esys_TR_FromTPMPublic"));
    kl_tpmdev_key_free(ek);
    kl_buf_free(&cert);
    kl_buf_free(&a);
    kl_buf_free(&b);
}

/* One AK kind: created under an EK, saved, loaded again, with the
 * attributes of tpm2_createak and the requested scheme. */
static void
check_ak(kl_tpmdev *t, kl_tpmdev_ek_type ek_type, const char *enc, const char *sign,
         const char *hash, uint16_t scheme, uint16_t hash_alg)
{
    kl_tpmdev_key *ek = fx_ek(t, ek_type), *ak, *again = NULL;
    uint16_t s = 0, h = 0;
    kl_buf pub, priv;
    const uint8_t *p;

    kl_buf_init(&pub, 4096);
    kl_buf_init(&priv, 4096);
    ak = fx_ak(t, ek, enc, sign, hash, &pub, &priv);
    assert_true(kl_bytes_eq(kl_tpmdev_key_public(ak), kl_buf_bytes(&pub)));
    p = pub.ptr + 2; /* TPMT_PUBLIC: type, nameAlg, objectAttributes */
    assert_int_equal((uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | p[6] << 8 | p[7], 0x00050072);
    assert_int_equal(p[2] << 8 | p[3], hash_alg);
    assert_true(kl_tpmdev_key_scheme(ak, &s, &h));
    assert_int_equal(s, scheme);
    assert_int_equal(h, hash_alg);
    kl_tpmdev_key_free(ak);
    /* the saved blobs load again (the agent's restart) */
    fx_ok(kl_tpmdev_ak_load(&again, t, ek, kl_buf_bytes(&pub), kl_buf_bytes(&priv)), "reload");
    assert_true(kl_bytes_eq(kl_tpmdev_key_public(again), kl_buf_bytes(&pub)));
    kl_tpmdev_key_free(again);
    /* malformed blobs are a parse error, not a TPM error */
    assert_int_equal(
        kl_tpmdev_ak_load(&again, t, ek, KL_BYTES(pub.ptr, pub.len - 1), kl_buf_bytes(&priv)),
        KL_EPARSE);
    kl_tpmdev_key_free(ek);
    kl_buf_free(&pub);
    kl_buf_free_secret(&priv);
}

static void
test_tpmdev_ak_rsa(void **state)
{
    check_ak(*state, KL_TPMDEV_EK_RSA2048, "rsa", "rsassa", "sha256", 0x0014, 0x000b);
}

static void
test_tpmdev_ak_ecc(void **state)
{
    check_ak(*state, KL_TPMDEV_EK_ECC_P256, "ecc", "ecdsa", "sha256", 0x0018, 0x000b);
    check_ak(*state, KL_TPMDEV_EK_RSA2048, "ecc384", "ecdsa", "sha384", 0x0018, 0x000c);
}

static void
test_tpmdev_ak_opts(void **state)
{
    kl_tpmdev_ak_opts o = KL_TPMDEV_AK_OPTS_INIT;

    (void)state;
    fx_ok(kl_tpmdev_ak_opts_set(&o, "rsa2048", "rsapss", "sha384"), "rsapss");
    assert_int_equal(o.scheme, 0x0016);
    assert_int_equal(kl_tpmdev_ak_opts_set(&o, "rsa", "ecdsa", "sha256"), KL_EINVAL);
    assert_int_equal(kl_tpmdev_ak_opts_set(&o, "ecc", "rsassa", "sha256"), KL_EINVAL);
    assert_int_equal(kl_tpmdev_ak_opts_set(&o, "ecc", "ecdsa", "md5"), KL_EINVAL);
    assert_int_equal(kl_tpmdev_ak_opts_set(&o, "dsa", "ecdsa", "sha256"), KL_EINVAL);
}

static void
test_tpmdev_ak_other_ek(void **state)
{
    kl_tpmdev *t = *state;
    kl_tpmdev_key *rsa_ek = fx_ek(t, KL_TPMDEV_EK_RSA2048), *ecc_ek, *ak = NULL;
    kl_buf pub, priv;

    kl_buf_init(&pub, 4096);
    kl_buf_init(&priv, 4096);
    kl_tpmdev_key_free(fx_ak(t, rsa_ek, "rsa", "rsassa", "sha256", &pub, &priv));
    kl_tpmdev_key_free(rsa_ek);
    ecc_ek = fx_ek(t, KL_TPMDEV_EK_ECC_P256);
    assert_int_equal(kl_tpmdev_ak_load(&ak, t, ecc_ek, kl_buf_bytes(&pub), kl_buf_bytes(&priv)),
                     KL_EIO);
    assert_non_null(strstr(kl_err_msg(), "Esys_Load"));
    assert_null(ak);
    kl_tpmdev_key_free(ecc_ek);
    kl_buf_free(&pub);
    kl_buf_free_secret(&priv);
}

static void
test_tpmdev_pcr(void **state)
{
    kl_tpmdev *t = *state;
    kl_tpmdev_digest d[2] = {{.bank = KL_HASH_SHA1}, {.bank = KL_HASH_SHA256}};
    uint8_t want1[KL_HASH_MAX_SIZE], want256[KL_HASH_MAX_SIZE], cat[2 * KL_HASH_MAX_SIZE];
    uint32_t banks = 0;
    kl_pcr_set s;

    fx_ok(kl_tpmdev_pcr_banks(t, &banks), "banks");
    assert_int_equal(banks, 1u << KL_HASH_SHA1 | 1u << KL_HASH_SHA256);
    memset(d[0].digest, 0x11, 20);
    memset(d[1].digest, 0x22, 32);
    fx_ok(kl_tpmdev_pcr_reset(t, 23), "reset 23");
    fx_ok(kl_tpmdev_pcr_extend(t, 23, d, 2), "extend 23");
    memset(cat, 0, sizeof(cat));
    memcpy(cat + 20, d[0].digest, 20);
    fx_ok(kl_hash(KL_HASH_SHA1, cat, 40, want1), "sha1");
    memset(cat, 0, sizeof(cat));
    memcpy(cat + 32, d[1].digest, 32);
    fx_ok(kl_hash(KL_HASH_SHA256, cat, 64, want256), "sha256");
    /* all 24 PCRs: more than one TPM2_PCR_Read */
    fx_ok(kl_tpmdev_pcr_read(&s, t, KL_HASH_SHA256, 0xffffff), "read sha256");
    assert_int_equal(s.present, 0xffffff);
    assert_memory_equal(s.value[23], want256, 32);
    fx_ok(kl_tpmdev_pcr_read(&s, t, KL_HASH_SHA1, 1u << 23), "read sha1");
    assert_memory_equal(s.value[23], want1, 20);
    fx_ok(kl_tpmdev_pcr_reset(t, 23), "reset 23");
    fx_ok(kl_tpmdev_pcr_read(&s, t, KL_HASH_SHA1, 1u << 23), "read sha1");
    memset(want1, 0, 20);
    assert_memory_equal(s.value[23], want1, 20);
    /* locality 0 cannot reset PCR 10; an inactive bank cannot be read */
    assert_int_equal(kl_tpmdev_pcr_reset(t, 10), KL_EIO);
    assert_non_null(strstr(kl_err_msg(), "Esys_PCR_Reset"));
    assert_int_not_equal(kl_tpmdev_pcr_read(&s, t, KL_HASH_SHA384, 1u << 10), KL_OK);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tpmdev_open_errors), cmocka_unit_test(test_tpmdev_ek_rsa),
        cmocka_unit_test(test_tpmdev_ek_ecc),      cmocka_unit_test(test_tpmdev_ak_rsa),
        cmocka_unit_test(test_tpmdev_ak_ecc),      cmocka_unit_test(test_tpmdev_ak_opts),
        cmocka_unit_test(test_tpmdev_ak_other_ek), cmocka_unit_test(test_tpmdev_pcr),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
