/* Unit tests for payload/revocation: the collection's signed revocation
 * messages verify (swtpm RevocationNotifier and rust-keylime's test key),
 * a flipped bit in message or signature does not; signing uses the
 * maximum PSS salt; malformed envelopes, signatures and keys are refused. */
/* cmocka.h needs the standard headers before it: keep this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "crypto/hash.h"
#include "crypto/privkey.h"
#include "payload/revocation.h"
#include "payload_test.h"
/* clang-format on */

#define CERT "payload/RevocationNotifier-cert.crt"

/* Verifies as the Rust agent does: salt length exactly the maximum. */
static bool
verify_max_salt(const kl_buf *cert_pem, kl_bytes msg, kl_bytes sig_b64)
{
    BIO *bio = BIO_new_mem_buf(cert_pem->ptr, (int)cert_pem->len);
    X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    EVP_PKEY *pk = X509_get0_pubkey(x);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    kl_buf sig;
    int r;

    pt_decode(sig_b64, false, &sig);
    assert_true(EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, pk) == 1);
    assert_true(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1);
    assert_true(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_MAX) == 1);
    assert_true(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1);
    r = EVP_DigestVerify(md, sig.ptr, sig.len, msg.ptr, msg.len);
    EVP_MD_CTX_free(md);
    X509_free(x);
    BIO_free(bio);
    kl_buf_free(&sig);
    return r == 1;
}

static void
parse_vector(kl_buf *msg, kl_buf *sig)
{
    kl_buf body;

    pt_read("payload/revocation_message.json", &body);
    kl_buf_init(msg, 1 << 16);
    kl_buf_init(sig, 1 << 16);
    assert_int_equal(kl_revocation_parse(msg, sig, kl_buf_bytes(&body)), KL_OK);
    kl_buf_free(&body);
}

static void
test_revocation_vector(void **state)
{
    kl_buf cert, msg, sig, raw, bad;
    bool ok = false;

    (void)state;
    pt_read(CERT, &cert);
    parse_vector(&msg, &sig);
    assert_true(msg.len > 100 && msg.ptr[0] == '{');
    assert_non_null(memmem(msg.ptr, msg.len, "\"tpm_policy\": \"{\\\"15\\\"", 22));
    assert_int_equal(sig.len, 344);
    assert_int_equal(
        kl_revocation_verify(&ok, kl_buf_bytes(&cert), kl_buf_bytes(&msg), kl_buf_bytes(&sig)),
        KL_OK);
    assert_true(ok);
    assert_true(verify_max_salt(&cert, kl_buf_bytes(&msg), kl_buf_bytes(&sig)));
    /* one bit of the message */
    msg.ptr[30] ^= 0x01;
    assert_int_equal(
        kl_revocation_verify(&ok, kl_buf_bytes(&cert), kl_buf_bytes(&msg), kl_buf_bytes(&sig)),
        KL_OK);
    assert_false(ok);
    msg.ptr[30] ^= 0x01;
    /* one bit of the signature */
    pt_decode(kl_buf_bytes(&sig), false, &raw);
    raw.ptr[100] ^= 0x10;
    kl_buf_init(&bad, 1024);
    assert_int_equal(kl_b64_encode_append(&bad, raw.ptr, raw.len), KL_OK);
    assert_int_equal(
        kl_revocation_verify(&ok, kl_buf_bytes(&cert), kl_buf_bytes(&msg), kl_buf_bytes(&bad)),
        KL_OK);
    assert_false(ok);
    kl_buf_free(&bad);
    kl_buf_free(&raw);
    kl_buf_free(&cert);
    kl_buf_free(&msg);
    kl_buf_free(&sig);
}

/* rust-keylime's test data: test_ok.json (whole file) and "Hello World!" */
static void
test_revocation_rust_vectors(void **state)
{
    kl_buf cert, msg, sig;
    bool ok = false;

    (void)state;
    pt_read("payload/rust-keylime/test-cert.pem", &cert);
    pt_read("payload/rust-keylime/test_ok.json", &msg);
    pt_read("payload/rust-keylime/revocation.sig", &sig);
    assert_int_equal(msg.len, 25);
    assert_int_equal(
        kl_revocation_verify(&ok, kl_buf_bytes(&cert), kl_buf_bytes(&msg), kl_buf_bytes(&sig)),
        KL_OK);
    assert_true(ok);
    assert_int_equal(
        kl_revocation_verify(&ok, kl_buf_bytes(&cert), KL_BYTES(msg.ptr, 24), kl_buf_bytes(&sig)),
        KL_OK);
    assert_false(ok);
    kl_buf_free(&sig);
    pt_read("payload/rust-keylime/test-rsa.sig", &sig);
    assert_int_equal(kl_revocation_verify(&ok, kl_buf_bytes(&cert), KL_BYTES_STR("Hello World!"),
                                          kl_buf_bytes(&sig)),
                     KL_OK);
    assert_true(ok);
    kl_buf_free(&sig);
    kl_buf_free(&msg);
    kl_buf_free(&cert);
}

/* Our signatures: maximum salt (what the Rust agent insists on) */
static void
test_revocation_sign(void **state)
{
    kl_buf key, cert, sig, msg, sig2;
    bool ok = false;

    (void)state;
    pt_read("payload/revocation-private.pem", &key);
    pt_read(CERT, &cert);
    parse_vector(&msg, &sig2);
    kl_buf_init(&sig, 1024);
    assert_int_equal(kl_revocation_sign(&sig, kl_buf_bytes(&key), kl_buf_bytes(&msg)), KL_OK);
    assert_int_equal(sig.len, 344);
    assert_false(kl_bytes_eq(kl_buf_bytes(&sig), kl_buf_bytes(&sig2))); /* PSS is randomised */
    assert_int_equal(
        kl_revocation_verify(&ok, kl_buf_bytes(&cert), kl_buf_bytes(&msg), kl_buf_bytes(&sig)),
        KL_OK);
    assert_true(ok);
    assert_true(verify_max_salt(&cert, kl_buf_bytes(&msg), kl_buf_bytes(&sig)));
    kl_buf_free(&sig);
    kl_buf_free(&sig2);
    kl_buf_free(&msg);
    kl_buf_free(&cert);
    kl_buf_free_secret(&key);
}

/* A PSS signature with a digest-length salt: accepted (any salt), though
 * the Rust agent would want the maximum. */
static void
test_revocation_other_salt(void **state)
{
    kl_privkey *k = NULL;
    kl_buf key, cert, sig, b64;
    uint8_t digest[32];
    bool ok = false;

    (void)state;
    pt_read("payload/revocation-private.pem", &key);
    pt_read(CERT, &cert);
    assert_int_equal(kl_privkey_load_pem(&k, kl_buf_bytes(&key)), KL_OK);
    assert_int_equal(kl_hash(KL_HASH_SHA256, "hi", 2, digest), KL_OK);
    kl_buf_init(&sig, 1024);
    kl_buf_init(&b64, 1024);
    assert_int_equal(
        kl_privkey_sign_digest(k, KL_SIG_RSAPSS, KL_HASH_SHA256, KL_BYTES(digest, 32), &sig),
        KL_OK);
    assert_int_equal(kl_b64_encode_append(&b64, sig.ptr, sig.len), KL_OK);
    assert_int_equal(
        kl_revocation_verify(&ok, kl_buf_bytes(&cert), KL_BYTES_STR("hi"), kl_buf_bytes(&b64)),
        KL_OK);
    assert_true(ok);
    assert_false(verify_max_salt(&cert, KL_BYTES_STR("hi"), kl_buf_bytes(&b64)));
    kl_privkey_free(k);
    kl_buf_free(&b64);
    kl_buf_free(&sig);
    kl_buf_free(&cert);
    kl_buf_free_secret(&key);
}

static void
test_revocation_bad_keys_and_sigs(void **state)
{
    kl_privkey *ec = NULL;
    kl_buf cert, pem, out;
    bool ok = true;

    (void)state;
    pt_read(CERT, &cert);
    kl_buf_init(&out, 1024);
    assert_int_equal(
        kl_revocation_verify(&ok, kl_buf_bytes(&cert), KL_BYTES_STR("m"), KL_BYTES_STR("abc$")),
        KL_EPARSE);
    assert_false(ok);
    assert_int_equal(
        kl_revocation_verify(&ok, KL_BYTES_STR("no cert"), KL_BYTES_STR("m"), KL_BYTES_STR("AAAA")),
        KL_EPARSE);
    ok = true;
    assert_int_equal(
        kl_revocation_verify(&ok, kl_buf_bytes(&cert), KL_BYTES_STR("m"), KL_BYTES_STR("")), KL_OK);
    assert_false(ok);
    assert_int_equal(kl_revocation_sign(&out, KL_BYTES_STR("junk"), KL_BYTES_STR("m")), KL_EPARSE);
    assert_int_equal(kl_revocation_sign(&out, kl_buf_bytes(&cert), KL_BYTES_STR("m")), KL_EPARSE);
    assert_int_equal(kl_privkey_generate_ec(&ec, KL_EC_P256), KL_OK);
    kl_buf_init(&pem, 4096);
    assert_int_equal(kl_privkey_pem(ec, &pem), KL_OK);
    assert_int_equal(kl_revocation_sign(&out, kl_buf_bytes(&pem), KL_BYTES_STR("m")), KL_EINVAL);
    assert_int_equal(out.len, 0);
    kl_buf_free_secret(&pem);
    kl_privkey_free(ec);
    kl_buf_free(&out);
    kl_buf_free(&cert);
}

static void
test_revocation_parse_errors(void **state)
{
    static const char *bad[] = {
        "",
        "not json",
        "[1]",
        "{\"signature\": \"AA==\"}",
        "{\"msg\": {\"type\": \"revocation\"}, \"signature\": \"AA==\"}",
        "{\"msg\": \"not json\", \"signature\": \"AA==\"}",
        "{\"msg\": \"[1, 2]\", \"signature\": \"AA==\"}",
        "{\"msg\": \"{}\"}",
        "{\"msg\": \"{}\", \"signature\": null}",
    };
    kl_buf msg, sig;

    (void)state;
    kl_buf_init(&msg, 1024);
    kl_buf_init(&sig, 1024);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(kl_revocation_parse(&msg, &sig, KL_BYTES(bad[i], strlen(bad[i]))),
                         KL_EPARSE);
        assert_int_equal(msg.len + sig.len, 0);
    }
    assert_int_equal(
        kl_revocation_parse(&msg, &sig,
                            KL_BYTES_STR("{\"msg\": \"{\\\"a\\\": 1}\", \"signature\": \"\"}")),
        KL_OK);
    assert_true(kl_bytes_eq_str(kl_buf_bytes(&msg), "{\"a\": 1}"));
    assert_int_equal(sig.len, 0);
    kl_buf_free(&msg);
    kl_buf_free(&sig);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_revocation_vector),
        cmocka_unit_test(test_revocation_rust_vectors),
        cmocka_unit_test(test_revocation_sign),
        cmocka_unit_test(test_revocation_other_salt),
        cmocka_unit_test(test_revocation_bad_keys_and_sigs),
        cmocka_unit_test(test_revocation_parse_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
