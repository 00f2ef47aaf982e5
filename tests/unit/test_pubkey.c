/* Unit tests for crypto/pubkey: loading keys in every form upstream's
 * get_pubkey accepts, SKID and IMA key ids, SPKI output, and prehashed and
 * message signature checks. Fixtures are in tests/data/unit (see README.md
 * there) and tests/data/ima/keys, tests/data/policy. */
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

#include "crypto/hash.h"
#include "crypto/pubkey.h"
#include "util/kl_alloc.h"
#include "util/kl_file.h"
/* clang-format on */

#define RSA2048_KEYID 0xf3452d23u   /* 4081397027 */
#define SECP256K1_KEYID 0x531f4025u /* 1394556965 */

static int
reset_alloc(void **state)
{
    (void)state;
    kl_alloc_fail_at(0);
    return 0;
}

/* Reads KL_TEST_DATA/rel into out (initialised here; caller frees). */
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

typedef struct {
    kl_rc rc;
    kl_pubkey *key;
    uint32_t keyid;
    bool has_keyid;
} loaded;

static loaded
load_any(const char *rel)
{
    loaded l = {KL_OK, NULL, 0xdeadbeef, true};
    kl_buf b;

    read_data(rel, &b);
    l.rc = kl_pubkey_load_any(&l.key, kl_buf_bytes(&b), &l.keyid, &l.has_keyid);
    kl_buf_free(&b);
    return l;
}

static uint32_t
ima_keyid(const kl_pubkey *k)
{
    uint32_t id = 0;

    assert_int_equal(kl_pubkey_ima_keyid(k, &id), KL_OK);
    return id;
}

/* The DER SPKI of k, compared with the DER SPKI of reference file rel. */
static void
assert_same_key(const kl_pubkey *k, const char *rel_spki_der)
{
    kl_buf want, got;

    read_data(rel_spki_der, &want);
    kl_buf_init(&got, 1 << 16);
    assert_int_equal(kl_pubkey_spki_der(k, &got), KL_OK);
    assert_int_equal(got.len, want.len);
    assert_memory_equal(got.ptr, want.ptr, want.len);
    kl_buf_free(&want);
    kl_buf_free(&got);
}

static void
test_pubkey_load_pem_cert_with_skid(void **state)
{
    loaded l = load_any("unit/rsa2048-cert.pem");

    (void)state;
    assert_int_equal(l.rc, KL_OK);
    assert_non_null(l.key);
    assert_true(l.has_keyid);
    /* the default SKID is sha1 of RSAPublicKey: the IMA key id */
    assert_int_equal(l.keyid, RSA2048_KEYID);
    assert_false(kl_pubkey_is_ec(l.key));
    assert_same_key(l.key, "unit/rsa2048pub.der");
    kl_pubkey_free(l.key);
}

static void
test_pubkey_load_der_cert(void **state)
{
    loaded l = load_any("unit/rsa2048-cert.der");

    (void)state;
    assert_int_equal(l.rc, KL_OK);
    assert_true(l.has_keyid);
    assert_int_equal(l.keyid, RSA2048_KEYID);
    assert_same_key(l.key, "unit/rsa2048pub.der");
    kl_pubkey_free(l.key);
}

static void
test_pubkey_skid_last_four_bytes(void **state)
{
    loaded l = load_any("unit/rsa2048-cert-skid.pem");

    (void)state;
    /* SKID 01:02:03:04:05:06:07:08: the key id comes from the SKID, not
     * from the key */
    assert_int_equal(l.rc, KL_OK);
    assert_true(l.has_keyid);
    assert_int_equal(l.keyid, 0x05060708u);
    assert_int_equal(ima_keyid(l.key), RSA2048_KEYID);
    kl_pubkey_free(l.key);
}

static void
test_pubkey_skid_too_short(void **state)
{
    loaded l = load_any("unit/rsa2048-cert-shortskid.pem");

    (void)state;
    assert_int_equal(l.rc, KL_OK);
    assert_non_null(l.key);
    assert_false(l.has_keyid);
    kl_pubkey_free(l.key);
}

static void
test_pubkey_cert_without_skid(void **state)
{
    loaded l = load_any("unit/rsa2048-cert-noskid.der");

    (void)state;
    assert_int_equal(l.rc, KL_OK);
    assert_non_null(l.key);
    assert_false(l.has_keyid);
    assert_int_equal(ima_keyid(l.key), RSA2048_KEYID);
    kl_pubkey_free(l.key);
}

static void
test_pubkey_ec_cert(void **state)
{
    loaded l = load_any("unit/secp256k1-cert.der");

    (void)state;
    assert_int_equal(l.rc, KL_OK);
    assert_true(kl_pubkey_is_ec(l.key));
    assert_true(l.has_keyid);
    assert_int_equal(l.keyid, SECP256K1_KEYID);
    assert_int_equal(ima_keyid(l.key), SECP256K1_KEYID);
    kl_pubkey_free(l.key);
}

static void
test_pubkey_load_spki_der_and_pem(void **state)
{
    loaded d = load_any("unit/rsa2048pub.der");
    loaded p = load_any("ima/keys/rsa2048pub.pem");

    (void)state;
    assert_int_equal(d.rc, KL_OK);
    assert_int_equal(p.rc, KL_OK);
    /* not a certificate: no key id, and has_keyid is reset */
    assert_false(d.has_keyid);
    assert_false(p.has_keyid);
    assert_int_equal(ima_keyid(d.key), RSA2048_KEYID);
    assert_int_equal(ima_keyid(p.key), RSA2048_KEYID);
    assert_same_key(p.key, "unit/rsa2048pub.der");
    kl_pubkey_free(d.key);
    kl_pubkey_free(p.key);
}

static void
test_pubkey_load_private_keys(void **state)
{
    loaded pem = load_any("ima/keys/rsa2048.pem");
    loaded der = load_any("unit/rsa2048-pkcs8.der");
    loaded ec = load_any("ima/keys/secp256k1.pem");
    loaded big = load_any("policy/sign-runtime-policy/rsa-4096-private.pem");

    (void)state;
    assert_int_equal(pem.rc, KL_OK);
    assert_int_equal(der.rc, KL_OK);
    assert_int_equal(ec.rc, KL_OK);
    assert_int_equal(big.rc, KL_OK);
    assert_false(pem.has_keyid);
    assert_int_equal(ima_keyid(pem.key), RSA2048_KEYID);
    assert_int_equal(ima_keyid(der.key), RSA2048_KEYID);
    /* secp256k1.pem starts with an EC PARAMETERS block */
    assert_true(kl_pubkey_is_ec(ec.key));
    assert_int_equal(ima_keyid(ec.key), SECP256K1_KEYID);
    assert_int_equal(ima_keyid(big.key), 0xcbc4d3e1u);
    assert_same_key(der.key, "unit/rsa2048pub.der");
    kl_pubkey_free(pem.key);
    kl_pubkey_free(der.key);
    kl_pubkey_free(ec.key);
    kl_pubkey_free(big.key);
}

static void
test_pubkey_encrypted_private_key_fails(void **state)
{
    loaded p8 = load_any("unit/rsa2048-encrypted.pem");
    loaded trad = load_any("unit/rsa2048-encrypted-trad.pem");

    (void)state;
    /* no passphrase prompt (this would hang reading the terminal): not found */
    assert_int_equal(p8.rc, KL_ENOTFOUND);
    assert_null(p8.key);
    assert_false(p8.has_keyid);
    assert_string_equal(kl_err_msg(), "no certificate or key found in the data");
    assert_int_equal(trad.rc, KL_ENOTFOUND);
    assert_null(trad.key);
}

static void
test_pubkey_garbage_not_found(void **state)
{
    static const char *const junk[] = {
        "",
        "not a key",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
        "\x30\x03\x02\x01\x01",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
        kl_pubkey *k = (kl_pubkey *)1;
        uint32_t id = 7;
        bool has = true;

        assert_int_equal(kl_pubkey_load_any(&k, KL_BYTES(junk[i], strlen(junk[i])), &id, &has),
                         KL_ENOTFOUND);
        assert_null(k);
        assert_false(has);
    }
}

static void
test_pubkey_der_with_trailing_bytes(void **state)
{
    kl_buf b;
    kl_pubkey *k = NULL;

    (void)state;
    /* a DER SPKI followed by junk is not accepted as that key */
    read_data("unit/rsa2048pub.der", &b);
    assert_int_equal(kl_buf_append(&b, "\x00", 1), KL_OK);
    assert_int_equal(kl_pubkey_load_any(&k, kl_buf_bytes(&b), NULL, NULL), KL_ENOTFOUND);
    assert_null(k);
    kl_buf_free(&b);
}

static void
test_pubkey_keyid_outputs_optional(void **state)
{
    kl_buf b;
    kl_pubkey *k = NULL;
    bool has = true;

    (void)state;
    read_data("unit/rsa2048-cert.der", &b);
    assert_int_equal(kl_pubkey_load_any(&k, kl_buf_bytes(&b), NULL, NULL), KL_OK);
    kl_pubkey_free(k);
    k = NULL;
    assert_int_equal(kl_pubkey_load_any(&k, kl_buf_bytes(&b), NULL, &has), KL_OK);
    assert_false(has);
    kl_pubkey_free(k);
    kl_buf_free(&b);
}

static void
test_pubkey_ed25519_unsupported(void **state)
{
    static const char *const files[] = {"unit/ed25519.pem", "unit/ed25519pub.pem",
                                        "unit/ed25519-cert.pem"};

    (void)state;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        loaded l = load_any(files[i]);

        assert_int_equal(l.rc, KL_EUNSUPPORTED);
        assert_null(l.key);
        assert_string_equal(kl_err_msg(), "unsupported key type ED25519 (only RSA and EC keys)");
    }
}

static void
test_pubkey_load_pem_public_and_cert(void **state)
{
    kl_buf b;
    kl_pubkey *k = NULL;

    (void)state;
    read_data("ima/keys/rsa2048pub.pem", &b);
    assert_int_equal(kl_pubkey_load_pem(&k, kl_buf_bytes(&b)), KL_OK);
    assert_int_equal(ima_keyid(k), RSA2048_KEYID);
    kl_pubkey_free(k);
    kl_buf_free(&b);

    read_data("unit/rsa2048-cert-skid.pem", &b);
    assert_int_equal(kl_pubkey_load_pem(&k, kl_buf_bytes(&b)), KL_OK);
    assert_int_equal(ima_keyid(k), RSA2048_KEYID);
    kl_pubkey_free(k);
    kl_buf_free(&b);

    read_data("policy/runtime-policy-pubkey.pub", &b);
    assert_int_equal(kl_pubkey_load_pem(&k, kl_buf_bytes(&b)), KL_OK);
    assert_true(kl_pubkey_is_ec(k));
    assert_int_equal(ima_keyid(k), 0x581fc296u);
    kl_pubkey_free(k);
    kl_buf_free(&b);

    read_data("policy/sign-runtime-policy/ec-p521-public.pem", &b);
    assert_int_equal(kl_pubkey_load_pem(&k, kl_buf_bytes(&b)), KL_OK);
    assert_int_equal(ima_keyid(k), 0xf6f4262bu);
    kl_pubkey_free(k);
    kl_buf_free(&b);
}

static void
test_pubkey_load_pem_rejects(void **state)
{
    static const char *const files[] = {"ima/keys/rsa2048.pem", "unit/rsa2048pub.der",
                                        "unit/rsa2048-cert.der", "unit/rsa2048-encrypted.pem"};
    kl_pubkey *k = (kl_pubkey *)1;
    kl_buf b;

    (void)state;
    /* private keys and DER are not PEM public keys */
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        read_data(files[i], &b);
        assert_int_equal(kl_pubkey_load_pem(&k, kl_buf_bytes(&b)), KL_EPARSE);
        assert_null(k);
        assert_string_equal(kl_err_msg(), "not a PEM public key or certificate");
        kl_buf_free(&b);
    }
    read_data("unit/ed25519pub.pem", &b);
    assert_int_equal(kl_pubkey_load_pem(&k, kl_buf_bytes(&b)), KL_EUNSUPPORTED);
    assert_null(k);
    kl_buf_free(&b);
}

static void
test_pubkey_compressed_ec_keyid(void **state)
{
    loaded l = load_any("unit/secp256k1pub-compressed.pem");

    (void)state;
    /* the IMA key id hashes the uncompressed point whatever the input form */
    assert_int_equal(l.rc, KL_OK);
    assert_true(kl_pubkey_is_ec(l.key));
    assert_int_equal(ima_keyid(l.key), SECP256K1_KEYID);
    kl_pubkey_free(l.key);
}

static void
test_pubkey_spki_pem_matches_file(void **state)
{
    loaded l = load_any("ima/keys/rsa2048.pem");
    kl_buf want, got;

    (void)state;
    assert_int_equal(l.rc, KL_OK);
    read_data("ima/keys/rsa2048pub.pem", &want);
    kl_buf_init(&got, 1 << 16);
    assert_int_equal(kl_buf_append_str(&got, "prefix"), KL_OK);
    assert_int_equal(kl_pubkey_spki_pem(l.key, &got), KL_OK);
    assert_int_equal(got.len, 6 + want.len);
    assert_memory_equal(got.ptr, "prefix", 6);
    assert_memory_equal(got.ptr + 6, want.ptr, want.len);
    kl_buf_free(&want);
    kl_buf_free(&got);
    kl_pubkey_free(l.key);
}

static void
test_pubkey_spki_cap(void **state)
{
    loaded l = load_any("ima/keys/rsa2048pub.pem");
    kl_buf out;

    (void)state;
    kl_buf_init(&out, 100);
    assert_int_equal(kl_pubkey_spki_der(l.key, &out), KL_ETOOBIG);
    assert_int_equal(kl_pubkey_spki_pem(l.key, &out), KL_ETOOBIG);
    assert_int_equal(out.len, 0);
    kl_buf_free(&out);
    kl_pubkey_free(l.key);
}

static void
test_pubkey_ref_counting(void **state)
{
    loaded l = load_any("ima/keys/rsa2048pub.pem");
    kl_pubkey *r;

    (void)state;
    r = kl_pubkey_ref(l.key);
    assert_ptr_equal(r, l.key);
    kl_pubkey_free(l.key);
    /* still alive through the second reference (ASan would see a UAF) */
    assert_int_equal(ima_keyid(r), RSA2048_KEYID);
    kl_pubkey_free(r);
    assert_null(kl_pubkey_ref(NULL));
    kl_pubkey_free(NULL);
}

static void
test_pubkey_verify_rsa_prehashed(void **state)
{
    loaded l = load_any("ima/keys/rsa2048pub.pem");
    kl_buf d256, d1, s256, s1;
    bool ok = false;

    (void)state;
    read_data("unit/msg.sha256", &d256);
    read_data("unit/msg.sha1", &d1);
    read_data("unit/msg.sha256.rsa2048.sig", &s256);
    read_data("unit/msg.sha1.rsa2048.sig", &s1);
    assert_int_equal(kl_pubkey_verify_digest(l.key, KL_HASH_SHA256, kl_buf_bytes(&d256),
                                             kl_buf_bytes(&s256), &ok),
                     KL_OK);
    assert_true(ok);
    assert_int_equal(
        kl_pubkey_verify_digest(l.key, KL_HASH_SHA1, kl_buf_bytes(&d1), kl_buf_bytes(&s1), &ok),
        KL_OK);
    assert_true(ok);
    /* the DigestInfo names the algorithm: the sha256 signature is not a
     * sha1 one, even over a 20-byte prefix of the digest */
    assert_int_equal(kl_pubkey_verify_digest(l.key, KL_HASH_SHA1, KL_BYTES(d256.ptr, 20),
                                             kl_buf_bytes(&s256), &ok),
                     KL_OK);
    assert_false(ok);
    /* one flipped digest bit */
    d256.ptr[31] ^= 1;
    ok = true;
    assert_int_equal(kl_pubkey_verify_digest(l.key, KL_HASH_SHA256, kl_buf_bytes(&d256),
                                             kl_buf_bytes(&s256), &ok),
                     KL_OK);
    assert_false(ok);
    d256.ptr[31] ^= 1;
    /* one flipped signature bit */
    s256.ptr[100] ^= 0x10;
    ok = true;
    assert_int_equal(kl_pubkey_verify_digest(l.key, KL_HASH_SHA256, kl_buf_bytes(&d256),
                                             kl_buf_bytes(&s256), &ok),
                     KL_OK);
    assert_false(ok);
    s256.ptr[100] ^= 0x10;
    /* a truncated signature */
    ok = true;
    assert_int_equal(kl_pubkey_verify_digest(l.key, KL_HASH_SHA256, kl_buf_bytes(&d256),
                                             KL_BYTES(s256.ptr, 255), &ok),
                     KL_OK);
    assert_false(ok);
    kl_buf_free(&d256);
    kl_buf_free(&d1);
    kl_buf_free(&s256);
    kl_buf_free(&s1);
    kl_pubkey_free(l.key);
}

static void
test_pubkey_verify_digest_wrong_length(void **state)
{
    loaded l = load_any("ima/keys/rsa2048pub.pem");
    kl_buf d, s;
    bool ok = true;

    (void)state;
    read_data("unit/msg.sha256", &d);
    read_data("unit/msg.sha256.rsa2048.sig", &s);
    /* a 31-byte "sha256" digest: false, not an error */
    assert_int_equal(
        kl_pubkey_verify_digest(l.key, KL_HASH_SHA256, KL_BYTES(d.ptr, 31), kl_buf_bytes(&s), &ok),
        KL_OK);
    assert_false(ok);
    ok = true;
    assert_int_equal(
        kl_pubkey_verify_digest(l.key, KL_HASH_SHA512, kl_buf_bytes(&d), kl_buf_bytes(&s), &ok),
        KL_OK);
    assert_false(ok);
    ok = true;
    assert_int_equal(
        kl_pubkey_verify_digest(l.key, KL_HASH_COUNT, kl_buf_bytes(&d), kl_buf_bytes(&s), &ok),
        KL_OK);
    assert_false(ok);
    kl_buf_free(&d);
    kl_buf_free(&s);
    kl_pubkey_free(l.key);
}

static void
test_pubkey_verify_ecdsa_prehashed(void **state)
{
    loaded l = load_any("ima/keys/secp256k1.pem");
    loaded rsa = load_any("ima/keys/rsa2048pub.pem");
    kl_buf d, s;
    bool ok = false;

    (void)state;
    read_data("unit/msg.sha256", &d);
    read_data("unit/msg.sha256.secp256k1.sig", &s);
    assert_int_equal(
        kl_pubkey_verify_digest(l.key, KL_HASH_SHA256, kl_buf_bytes(&d), kl_buf_bytes(&s), &ok),
        KL_OK);
    assert_true(ok);
    d.ptr[0] ^= 0x80;
    assert_int_equal(
        kl_pubkey_verify_digest(l.key, KL_HASH_SHA256, kl_buf_bytes(&d), kl_buf_bytes(&s), &ok),
        KL_OK);
    assert_false(ok);
    d.ptr[0] ^= 0x80;
    /* a signature that is not DER at all */
    ok = true;
    assert_int_equal(kl_pubkey_verify_digest(l.key, KL_HASH_SHA256, kl_buf_bytes(&d),
                                             KL_BYTES_STR("not a signature"), &ok),
                     KL_OK);
    assert_false(ok);
    /* the EC signature checked with the RSA key */
    ok = true;
    assert_int_equal(
        kl_pubkey_verify_digest(rsa.key, KL_HASH_SHA256, kl_buf_bytes(&d), kl_buf_bytes(&s), &ok),
        KL_OK);
    assert_false(ok);
    kl_buf_free(&d);
    kl_buf_free(&s);
    kl_pubkey_free(l.key);
    kl_pubkey_free(rsa.key);
}

static void
test_pubkey_verify_ecdsa_sha256_message(void **state)
{
    loaded pub = load_any("policy/sign-runtime-policy/ec-p521-public.pem");
    loaded other = load_any("policy/runtime-policy-pubkey.pub");
    loaded rsa = load_any("policy/sign-runtime-policy/rsa-4096-private.pem");
    kl_buf msg, sig;
    bool ok = false;

    (void)state;
    read_data("unit/msg.txt", &msg);
    read_data("unit/msg.p521.sig", &sig);
    assert_int_equal(pub.rc, KL_OK);
    assert_int_equal(
        kl_pubkey_verify_ecdsa_sha256(pub.key, kl_buf_bytes(&msg), kl_buf_bytes(&sig), &ok), KL_OK);
    assert_true(ok);
    /* the message is hashed here: passing its digest does not verify */
    {
        uint8_t d[32];

        assert_int_equal(kl_hash(KL_HASH_SHA256, msg.ptr, msg.len, d), KL_OK);
        assert_int_equal(
            kl_pubkey_verify_ecdsa_sha256(pub.key, KL_BYTES(d, 32), kl_buf_bytes(&sig), &ok),
            KL_OK);
        assert_false(ok);
    }
    /* one changed message byte */
    msg.ptr[0] ^= 0x20;
    ok = true;
    assert_int_equal(
        kl_pubkey_verify_ecdsa_sha256(pub.key, kl_buf_bytes(&msg), kl_buf_bytes(&sig), &ok), KL_OK);
    assert_false(ok);
    msg.ptr[0] ^= 0x20;
    /* another EC key */
    ok = true;
    assert_int_equal(
        kl_pubkey_verify_ecdsa_sha256(other.key, kl_buf_bytes(&msg), kl_buf_bytes(&sig), &ok),
        KL_OK);
    assert_false(ok);
    /* an RSA key is never accepted here */
    ok = true;
    assert_int_equal(
        kl_pubkey_verify_ecdsa_sha256(rsa.key, kl_buf_bytes(&msg), kl_buf_bytes(&sig), &ok), KL_OK);
    assert_false(ok);
    kl_buf_free(&msg);
    kl_buf_free(&sig);
    kl_pubkey_free(pub.key);
    kl_pubkey_free(other.key);
    kl_pubkey_free(rsa.key);
}

static void
test_pubkey_alloc_failure_sweep(void **state)
{
    kl_buf cert;
    bool done = false;

    (void)state;
    read_data("unit/secp256k1-cert.der", &cert);
    for (size_t n = 1; n < 20 && !done; n++) {
        kl_pubkey *k = (kl_pubkey *)1;
        uint32_t id = 0, ima = 0;
        bool has = false;
        kl_rc rc;

        kl_alloc_fail_at(n);
        rc = kl_pubkey_load_any(&k, kl_buf_bytes(&cert), &id, &has);
        if (rc == KL_OK)
            rc = kl_pubkey_ima_keyid(k, &ima);
        kl_alloc_fail_at(0);
        if (rc == KL_OK) {
            assert_int_equal(id, SECP256K1_KEYID);
            assert_int_equal(ima, SECP256K1_KEYID);
            done = true;
        } else {
            assert_int_equal(rc, KL_ENOMEM);
        }
        /* k is NULL when loading failed, a key when only the key id failed */
        kl_pubkey_free(k);
    }
    assert_true(done);
    kl_buf_free(&cert);
}

#define T(f) cmocka_unit_test_teardown(f, reset_alloc)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_pubkey_load_pem_cert_with_skid),
        T(test_pubkey_load_der_cert),
        T(test_pubkey_skid_last_four_bytes),
        T(test_pubkey_skid_too_short),
        T(test_pubkey_cert_without_skid),
        T(test_pubkey_ec_cert),
        T(test_pubkey_load_spki_der_and_pem),
        T(test_pubkey_load_private_keys),
        T(test_pubkey_encrypted_private_key_fails),
        T(test_pubkey_garbage_not_found),
        T(test_pubkey_der_with_trailing_bytes),
        T(test_pubkey_keyid_outputs_optional),
        T(test_pubkey_ed25519_unsupported),
        T(test_pubkey_load_pem_public_and_cert),
        T(test_pubkey_load_pem_rejects),
        T(test_pubkey_compressed_ec_keyid),
        T(test_pubkey_spki_pem_matches_file),
        T(test_pubkey_spki_cap),
        T(test_pubkey_ref_counting),
        T(test_pubkey_verify_rsa_prehashed),
        T(test_pubkey_verify_digest_wrong_length),
        T(test_pubkey_verify_ecdsa_prehashed),
        T(test_pubkey_verify_ecdsa_sha256_message),
        T(test_pubkey_alloc_failure_sweep),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
