/* Unit tests for crypto/x509: certificates in DER (strict or not, with
 * padding after them) and PEM (with text before the block), stores,
 * chains with intermediates, and upstream's one-step fallback. Fixtures:
 * tests/data/certs. */
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

#include "crypto/x509.h"
#include "util/kl_alloc.h"
#include "util/kl_file.h"
/* clang-format on */

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

static kl_x509 *
load(const char *rel)
{
    kl_x509 *c = NULL;
    kl_buf b;

    read_data(rel, &b);
    if (kl_x509_load(&c, kl_buf_bytes(&b)) != KL_OK)
        fail_msg("%s: %s", rel, kl_err_msg());
    kl_buf_free(&b);
    return c;
}

static kl_x509_store *
store_of(const char *const *rels, size_t n)
{
    kl_x509_store *s = NULL;

    assert_int_equal(kl_x509_store_new(&s), KL_OK);
    for (size_t i = 0; i < n; i++) {
        size_t added = 0;
        kl_buf b;

        read_data(rels[i], &b);
        assert_int_equal(kl_x509_store_add_pem(s, kl_buf_bytes(&b), rels[i], &added), KL_OK);
        assert_true(added > 0);
        kl_buf_free(&b);
    }
    return s;
}

static void
test_x509_strict_der(void **state)
{
    kl_x509 *c;

    (void)state;
    c = load("certs/ek-samples/nuvoton_ecc_ek_nonstrict.der");
    assert_false(kl_x509_is_strict_der(c));
    kl_x509_free(c);
    c = load("certs/ek-samples/stm_ecc_ek.der");
    assert_true(kl_x509_is_strict_der(c));
    kl_x509_free(c);
    c = load("certs/swtpm/ekcert.pem");
    assert_true(kl_x509_is_strict_der(c));
    kl_x509_free(c);
    /* the Nuvoton root has the same multi-valued name as its EK */
    c = load("certs/tpm_cert_store/NUVO_2110.pem");
    assert_false(kl_x509_is_strict_der(c));
    kl_x509_free(c);
    c = load("certs/tpm_cert_store/STM_ECC_01I.pem");
    assert_true(kl_x509_is_strict_der(c));
    kl_x509_free(c);
}

/* hand-made encodings the strictness check must reject */
static void
test_x509_strict_der_rules(void **state)
{
    kl_buf der;
    kl_x509 *c = NULL;

    (void)state;
    read_data("certs/ek-samples/stm_ecc_ek.der", &der);
    assert_int_equal(kl_x509_from_der(&c, kl_buf_bytes(&der)), KL_OK);
    assert_true(kl_x509_is_strict_der(c));
    kl_x509_free(c);
    /* the version INTEGER 02 written as 00 02: OpenSSL still parses it */
    {
        kl_buf t;
        const uint8_t *v = memmem(der.ptr, der.len, "\xa0\x03\x02\x01\x02", 5);
        size_t at;

        assert_non_null(v);
        at = (size_t)(v - der.ptr);
        kl_buf_init(&t, 1 << 16);
        assert_int_equal(kl_buf_append(&t, der.ptr, at), KL_OK);
        assert_int_equal(kl_buf_append(&t, "\xa0\x04\x02\x02\x00\x02", 6), KL_OK);
        assert_int_equal(kl_buf_append(&t, der.ptr + at + 5, der.len - at - 5), KL_OK);
        /* fix the two enclosing lengths (both long form, 2 bytes) */
        t.ptr[3]++;
        t.ptr[7]++;
        if (kl_x509_from_der(&c, kl_buf_bytes(&t)) == KL_OK) {
            assert_false(kl_x509_is_strict_der(c));
            kl_x509_free(c);
        }
        kl_buf_free(&t);
    }
    kl_buf_free(&der);
}

static void
test_x509_der_padding(void **state)
{
    kl_x509 *c = NULL;
    size_t used = 0;
    kl_buf b;

    (void)state;
    read_data("certs/ek-samples/stm_rsa_ek.der", &b);
    assert_int_equal(kl_x509_from_der(&c, kl_buf_bytes(&b)), KL_EPARSE);
    assert_null(c);
    assert_non_null(strstr(kl_err_msg(), "431 bytes after"));
    assert_int_equal(kl_x509_from_der_prefix(&c, kl_buf_bytes(&b), &used), KL_OK);
    assert_int_equal(used, b.len - 431);
    assert_int_equal(kl_x509_der(c).len, used);
    kl_x509_free(c);
    assert_int_equal(kl_x509_from_der(&c, KL_BYTES(b.ptr, 10)), KL_EPARSE);
    assert_int_equal(kl_x509_from_der(&c, KL_BYTES(NULL, 0)), KL_EPARSE);
    kl_buf_free(&b);
}

/* The CN by itself, whatever the one-line text looks like ("CN = x"); none
 * for an empty subject; a buffer too small is a refusal, not a cut name. */
static void
test_x509_subject_cn(void **state)
{
    kl_x509 *c = load("certs/tpm_cert_store/Alibaba_Cloud_vTPM_EK.pem");
    char buf[64];

    (void)state;
    assert_true(kl_x509_subject_cn(c, buf, sizeof(buf)));
    assert_string_equal(buf, "Aliyun TPM EKMF CA");
    assert_false(kl_x509_subject_cn(c, buf, 5));
    assert_string_equal(buf, "");
    kl_x509_free(c);
    c = load("certs/swtpm/ekcert.pem");
    assert_true(kl_x509_subject_cn(c, buf, sizeof(buf)));
    assert_string_equal(buf, "unknown");
    kl_x509_free(c);
    c = load("certs/ek-samples/stm_ecc_ek.der");
    assert_false(kl_x509_subject_cn(c, buf, sizeof(buf)));
    kl_x509_free(c);
}

static void
test_x509_pem_with_text(void **state)
{
    kl_x509 *c = load("certs/tpm_cert_store/Alibaba_Cloud_vTPM_EK.pem");
    char buf[256];

    (void)state;
    kl_x509_subject(c, buf, sizeof(buf));
    assert_non_null(strstr(buf, "Aliyun TPM EKMF CA"));
    kl_x509_issuer(c, buf, sizeof(buf));
    assert_non_null(strstr(buf, "Aliyun TPM Root CA"));
    kl_x509_free(c);
    assert_int_equal(kl_x509_from_pem(&c, KL_BYTES_STR("no certificate here\n")), KL_EPARSE);
    assert_int_equal(kl_x509_from_pem(&c, KL_BYTES_STR("-----BEGIN CERTIFICATE-----\nAAAA\n"
                                                       "-----END CERTIFICATE-----\n")),
                     KL_EPARSE);
}

static void
test_x509_pubkey(void **state)
{
    kl_x509 *c = load("certs/swtpm/ekcert.pem");
    kl_pubkey *k = NULL, *want = NULL;
    kl_buf pem;

    (void)state;
    assert_int_equal(kl_x509_pubkey(c, &k), KL_OK);
    read_data("tpm/swtpm/ek.pem", &pem);
    assert_int_equal(kl_pubkey_load_pem(&want, kl_buf_bytes(&pem)), KL_OK);
    assert_true(kl_pubkey_eq(k, want));
    kl_pubkey_free(k);
    kl_pubkey_free(want);
    kl_buf_free(&pem);
    kl_x509_free(c);
}

static void
test_x509_store_add(void **state)
{
    kl_x509_store *s = NULL;
    size_t added = 0;
    kl_buf b;

    (void)state;
    assert_int_equal(kl_x509_store_new(&s), KL_OK);
    read_data("certs/idevid-test-ca/iak_idevid_chain.pem", &b);
    assert_int_equal(kl_x509_store_add_pem(s, kl_buf_bytes(&b), "chain", &added), KL_OK);
    assert_int_equal(added, 2);
    assert_int_equal(kl_x509_store_count(s), 2);
    assert_int_equal(kl_x509_store_add_pem(s, KL_BYTES_STR("text only"), "x", &added), KL_OK);
    assert_int_equal(added, 0);
    /* a good block, then a damaged one */
    assert_int_equal(kl_buf_append_str(&b, "-----BEGIN CERTIFICATE-----\n!!!!\n"
                                           "-----END CERTIFICATE-----\n"),
                     KL_OK);
    assert_int_equal(kl_x509_store_add_pem(s, kl_buf_bytes(&b), "bad", &added), KL_EPARSE);
    assert_int_equal(added, 2);
    kl_buf_free(&b);
    kl_x509_store_free(s);
}

static void
test_x509_verify_chain(void **state)
{
    static const char *const full[] = {"certs/swtpm/swtpm-localca-issuercert.pem",
                                       "certs/swtpm/swtpm-localca-rootca-cert.pem"};
    static const char *const root[] = {"certs/swtpm/swtpm-localca-rootca-cert.pem"};
    kl_x509 *ek = load("certs/swtpm/ekcert.pem"), *inter = load(full[0]);
    const kl_x509 *chain[1] = {inter};
    kl_x509_store *s = store_of(full, 2);
    kl_x509_check chk;

    (void)state;
    assert_int_equal(kl_x509_store_verify(s, ek, NULL, 0, &chk), KL_OK);
    assert_true(chk.ok);
    assert_false(chk.direct);
    assert_string_equal(chk.anchor, full[0]);
    kl_x509_store_free(s);
    /* only the root: the intermediate must come with the certificate */
    s = store_of(root, 1);
    assert_int_equal(kl_x509_store_verify(s, ek, NULL, 0, &chk), KL_OK);
    assert_false(chk.ok);
    assert_true(chk.detail[0] != 0);
    assert_int_equal(kl_x509_store_verify(s, ek, chain, 1, &chk), KL_OK);
    assert_true(chk.ok);
    assert_string_equal(chk.anchor, root[0]);
    kl_x509_store_free(s);
    kl_x509_free(inter);
    kl_x509_free(ek);
}

/* a CA without CA:TRUE: OpenSSL refuses the chain, upstream's rule passes */
static void
test_x509_verify_direct(void **state)
{
    static const char *const ca[] = {"certs/keylime-c/noca-ca.pem"};
    kl_x509 *leaf = load("certs/keylime-c/noca-leaf.der");
    kl_x509_store *s = store_of(ca, 1);
    kl_x509_check chk;

    (void)state;
    assert_int_equal(kl_x509_store_verify(s, leaf, NULL, 0, &chk), KL_OK);
    assert_true(chk.ok);
    assert_true(chk.direct);
    assert_string_equal(chk.anchor, ca[0]);
    assert_true(chk.detail[0] != 0);
    kl_x509_store_free(s);
    kl_x509_free(leaf);
}

static void
test_x509_verify_wrong_store(void **state)
{
    static const char *const ca[] = {"certs/keylime-c/noca-ca.pem"};
    kl_x509 *ek = load("certs/swtpm/ekcert.pem");
    kl_x509_store *s = store_of(ca, 1);
    kl_x509_check chk;

    (void)state;
    assert_int_equal(kl_x509_store_verify(s, ek, NULL, 0, &chk), KL_OK);
    assert_false(chk.ok);
    assert_false(chk.direct);
    kl_x509_store_free(s);
    kl_x509_free(ek);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_x509_strict_der),
        cmocka_unit_test(test_x509_strict_der_rules),
        cmocka_unit_test(test_x509_der_padding),
        cmocka_unit_test(test_x509_pem_with_text),
        cmocka_unit_test(test_x509_subject_cn),
        cmocka_unit_test(test_x509_pubkey),
        cmocka_unit_test(test_x509_store_add),
        cmocka_unit_test(test_x509_verify_chain),
        cmocka_unit_test(test_x509_verify_direct),
        cmocka_unit_test(test_x509_verify_wrong_store),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
