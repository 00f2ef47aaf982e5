/* kl_dsse: PAE, envelope detection, payload decoding, both backends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "policy/dsse.h"
#include "util/kl_b64.h"

static void
test_dsse_pae(void **state)
{
    kl_buf out;

    (void)state;
    kl_buf_init(&out, 1024);
    assert_int_equal(kl_dsse_pae(&out, KL_BYTES_STR(KL_DSSE_KEYLIME_TYPE), KL_BYTES_STR("{}")),
                     KL_OK);
    assert_true(kl_bytes_eq_str(kl_buf_bytes(&out), "DSSEv1 28 application/vnd.keylime+json 2 {}"));
    kl_buf_free(&out);
}

/* Python truthiness of "payload", the last duplicate winning. */
static bool
is_envelope(kl_bytes text)
{
    bool env = false;

    assert_int_equal(kl_dsse_is_envelope(text, &env), KL_OK);
    return env;
}

static void
test_dsse_is_envelope(void **state)
{
    (void)state;
    assert_true(is_envelope(KL_BYTES_STR("{\"payload\": \"e30=\"}")));
    assert_false(is_envelope(KL_BYTES_STR("{\"payload\": \"\"}")));
    assert_false(is_envelope(KL_BYTES_STR("{\"payload\": \"x\", \"payload\": \"\"}")));
    assert_false(is_envelope(KL_BYTES_STR("{\"payload\": 0}")));
    assert_false(is_envelope(KL_BYTES_STR("{\"digests\": {}}")));
    assert_false(is_envelope(KL_BYTES_STR("not json")));
}

/* Without a key or certificates the payload is returned unchecked; the
 * payload may be hex, base64 or URL-safe base64 (upstream b64dec). */
static void
test_dsse_payload_encodings(void **state)
{
    const char *const envs[] = {
        "{\"payload\": \"7b7d\", \"payloadType\": \"t\", \"signatures\": []}",
        "{\"payload\": \"e30=\", \"payloadType\": \"t\", \"signatures\": []}",
        "{\"payload\": \"Pz8_\", \"payloadType\": \"t\", \"signatures\": []}",
    };
    const char *const want[] = {"{}", "{}", "???"};
    kl_buf out;
    bool checked;

    (void)state;
    kl_buf_init(&out, 1024);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(kl_dsse_open(KL_BYTES(envs[i], strlen(envs[i])), NULL, &out, &checked),
                         KL_OK);
        assert_false(checked);
        assert_true(kl_bytes_eq_str(kl_buf_bytes(&out), want[i]));
    }
    assert_int_equal(kl_dsse_open(KL_BYTES_STR("{\"payload\": \"e30=\", \"signatures\": []}"), NULL,
                                  &out, &checked),
                     KL_EPARSE);
    assert_int_equal(kl_dsse_open(KL_BYTES_STR("{\"payload\": \"!\", \"payloadType\": \"t\", "
                                               "\"signatures\": []}"),
                                  NULL, &out, &checked),
                     KL_EPARSE);
    kl_buf_free(&out);
}

/* An x509-backend envelope: keyid = base64 of the signer's PEM certificate. */
static void
make_x509_envelope(kl_buf *env, bool corrupt)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *cert = X509_new();
    BIO *bio = BIO_new(BIO_s_mem());
    unsigned char sig[256];
    size_t siglen = sizeof(sig);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    kl_buf pae;
    char *pem;
    long pemlen;

    assert_non_null(key);
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                               (const unsigned char *)"dsse_lib", -1, -1, 0);
    X509_set_issuer_name(cert, X509_get_subject_name(cert));
    assert_true(X509_sign(cert, key, EVP_sha256()) > 0);
    assert_true(PEM_write_bio_X509(bio, cert));
    pemlen = BIO_get_mem_data(bio, &pem);
    kl_buf_init(&pae, 1024);
    assert_int_equal(kl_dsse_pae(&pae, KL_BYTES_STR(KL_DSSE_KEYLIME_TYPE), KL_BYTES_STR("{}")),
                     KL_OK);
    assert_true(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1);
    assert_true(EVP_DigestSign(md, sig, &siglen, pae.ptr, pae.len) == 1);
    if (corrupt)
        sig[siglen - 1] ^= 1;
    assert_int_equal(kl_buf_append_str(env, "{\"payload\": \"e30=\", \"payloadType\": \""
                                            KL_DSSE_KEYLIME_TYPE "\", \"signatures\": "
                                            "[{\"keyid\": \""),
                     KL_OK);
    assert_int_equal(kl_b64_encode_append(env, (const uint8_t *)pem, (size_t)pemlen), KL_OK);
    assert_int_equal(kl_buf_append_str(env, "\", \"sig\": \""), KL_OK);
    assert_int_equal(kl_b64_encode_append(env, sig, siglen), KL_OK);
    assert_int_equal(kl_buf_append_str(env, "\"}]}"), KL_OK);
    kl_buf_free(&pae);
    EVP_MD_CTX_free(md);
    BIO_free(bio);
    X509_free(cert);
    EVP_PKEY_free(key);
}

static void
test_dsse_x509_backend(void **state)
{
    kl_buf env, out;
    bool checked;

    (void)state;
    kl_buf_init(&env, 1 << 16);
    kl_buf_init(&out, 1024);
    make_x509_envelope(&env, false);
    assert_int_equal(kl_dsse_open(kl_buf_bytes(&env), NULL, &out, &checked), KL_OK);
    assert_true(checked);
    assert_true(kl_bytes_eq_str(kl_buf_bytes(&out), "{}"));
    kl_buf_reset(&env);
    make_x509_envelope(&env, true);
    assert_int_equal(kl_dsse_open(kl_buf_bytes(&env), NULL, &out, &checked), KL_EVERIFY);
    kl_buf_free(&env);
    kl_buf_free(&out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dsse_pae),
        cmocka_unit_test(test_dsse_is_envelope),
        cmocka_unit_test(test_dsse_payload_encodings),
        cmocka_unit_test(test_dsse_x509_backend),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
