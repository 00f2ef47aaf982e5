/* Unit tests for tpm/ekcert: loading tpm_cert_store directories and files,
 * EK certificate checks with their warnings, and the registrar's
 * key-equals-EK rule. Fixtures: tests/data/certs, tests/data/tpm. */
/* cmocka.h needs the standard headers before it: keep this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tpm/ekcert.h"
#include "util/kl_alloc.h"
#include "util/kl_file.h"
/* clang-format on */

static char *
path_of(const char *rel)
{
    const char *base = getenv("KL_TEST_DATA");
    size_t n;
    char *p;

    if (!base)
        fail_msg("KL_TEST_DATA is not set");
    n = strlen(base) + strlen(rel) + 2;
    p = kl_malloc(n);
    assert_non_null(p);
    snprintf(p, n, "%s/%s", base, rel);
    return p;
}

static void
read_data(const char *rel, kl_buf *out)
{
    char *p = path_of(rel);

    kl_buf_init(out, 1 << 20);
    if (kl_file_read(p, out) != KL_OK)
        fail_msg("%s: %s", rel, kl_err_msg());
    kl_free(p);
}

static kl_ekcert_store *
store(const char *rel)
{
    kl_ekcert_store *s = NULL;
    char *p = path_of(rel);

    if (kl_ekcert_store_load(&s, p) != KL_OK)
        fail_msg("%s: %s", rel, kl_err_msg());
    kl_free(p);
    return s;
}

static kl_ekcert_result
check(const char *cert, const char *store_rel)
{
    kl_ekcert_store *s = store(store_rel);
    kl_ekcert_result r;
    kl_buf b;

    read_data(cert, &b);
    assert_int_equal(kl_ekcert_verify(&r, kl_buf_bytes(&b), s, NULL, 0), KL_OK);
    kl_buf_free(&b);
    kl_ekcert_store_free(s);
    return r;
}

static void
test_ekcert_store_load(void **state)
{
    kl_ekcert_store *s = store("certs/tpm_cert_store");

    (void)state;
    /* 51 files of one certificate, two of them after a text dump */
    assert_int_equal(kl_ekcert_store_count(s), 51);
    kl_ekcert_store_free(s);
    s = store("certs/idevid-test-ca/iak_idevid_chain.pem");
    assert_int_equal(kl_ekcert_store_count(s), 2);
    kl_ekcert_store_free(s);
}

static void
test_ekcert_store_errors(void **state)
{
    char dir[] = "/tmp/kl-ekcert-XXXXXX";
    kl_ekcert_store *s = NULL;
    char file[64];

    (void)state;
    assert_int_equal(kl_ekcert_store_load(&s, "/nonexistent/store"), KL_EIO);
    assert_non_null(mkdtemp(dir));
    assert_int_equal(kl_ekcert_store_load(&s, dir), KL_ENOTFOUND);
    /* a .pem without a certificate is skipped, others are not read */
    snprintf(file, sizeof(file), "%s/empty.pem", dir);
    assert_int_equal(kl_file_write(file, "nothing\n", 8), KL_OK);
    assert_int_equal(kl_ekcert_store_load(&s, dir), KL_ENOTFOUND);
    assert_null(s);
    assert_int_equal(unlink(file), 0);
    assert_int_equal(rmdir(dir), 0);
}

static void
test_ekcert_valid(void **state)
{
    kl_ekcert_result r = check("certs/swtpm/ekcert.pem", "certs/swtpm");

    (void)state;
    assert_true(r.valid);
    assert_false(r.nonstrict_der || r.direct || r.trailing);
    assert_non_null(strstr(r.issuer, "swtpm-localca-issuercert.pem"));
    r = check("tpm/swtpm/ekcert.der", "certs/swtpm");
    assert_true(r.valid);
}

static void
test_ekcert_invalid(void **state)
{
    kl_ekcert_result r = check("certs/swtpm/ekcert.pem", "certs/tpm_cert_store");

    (void)state;
    assert_false(r.valid);
    assert_non_null(strstr(r.reason, "No Root CA matched EK Certificate"));
}

static void
test_ekcert_warnings(void **state)
{
    kl_ekcert_result r;

    (void)state;
    r = check("certs/ek-samples/stm_rsa_ek.der", "certs/tpm_cert_store");
    assert_true(r.valid);
    assert_int_equal(r.trailing, 431);
    assert_non_null(strstr(r.issuer, "STM_RSA_05I.pem"));
    r = check("certs/ek-samples/nuvoton_ecc_ek_nonstrict.der", "certs/tpm_cert_store");
    assert_true(r.valid);
    assert_true(r.nonstrict_der);
    r = check("certs/keylime-c/noca-leaf.der", "certs/keylime-c");
    assert_true(r.valid);
    assert_true(r.direct);
}

static void
test_ekcert_intermediates(void **state)
{
    kl_ekcert_store *s = NULL;
    kl_ekcert_result r;
    kl_buf cert, inter;
    kl_bytes chain[1];
    char *p = path_of("certs/swtpm/swtpm-localca-rootca-cert.pem");

    (void)state;
    assert_int_equal(kl_ekcert_store_load(&s, p), KL_OK);
    kl_free(p);
    read_data("tpm/swtpm/ekcert.der", &cert);
    read_data("certs/swtpm/swtpm-localca-issuercert.pem", &inter);
    assert_int_equal(kl_ekcert_verify(&r, kl_buf_bytes(&cert), s, NULL, 0), KL_OK);
    assert_false(r.valid);
    chain[0] = kl_buf_bytes(&inter);
    assert_int_equal(kl_ekcert_verify(&r, kl_buf_bytes(&cert), s, chain, 1), KL_OK);
    assert_true(r.valid);
    chain[0] = KL_BYTES_STR("garbage");
    assert_int_equal(kl_ekcert_verify(&r, kl_buf_bytes(&cert), s, chain, 1), KL_EPARSE);
    assert_int_equal(kl_ekcert_verify(&r, KL_BYTES_STR("garbage"), s, NULL, 0), KL_EPARSE);
    kl_buf_free(&cert);
    kl_buf_free(&inter);
    kl_ekcert_store_free(s);
}

static void
test_ekcert_matches_ek(void **state)
{
    kl_tpm_public *ek = NULL, *ak = NULL;
    kl_buf ekb, akb, cert;
    bool same = false;

    (void)state;
    read_data("tpm/swtpm/ek.pub", &ekb);
    read_data("tpm/swtpm/ak.pub", &akb);
    read_data("tpm/swtpm/ekcert.der", &cert);
    assert_int_equal(kl_tpm_public_parse(&ek, kl_buf_bytes(&ekb)), KL_OK);
    assert_int_equal(kl_tpm_public_parse(&ak, kl_buf_bytes(&akb)), KL_OK);
    assert_int_equal(kl_ekcert_matches_ek(&same, kl_buf_bytes(&cert), ek), KL_OK);
    assert_true(same);
    assert_int_equal(kl_ekcert_matches_ek(&same, kl_buf_bytes(&cert), ak), KL_OK);
    assert_false(same);
    assert_int_equal(kl_ekcert_matches_ek(&same, KL_BYTES_STR("x"), ek), KL_EPARSE);
    kl_tpm_public_free(ek);
    kl_tpm_public_free(ak);
    kl_buf_free(&ekb);
    kl_buf_free(&akb);
    kl_buf_free(&cert);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ekcert_store_load), cmocka_unit_test(test_ekcert_store_errors),
        cmocka_unit_test(test_ekcert_valid),      cmocka_unit_test(test_ekcert_invalid),
        cmocka_unit_test(test_ekcert_warnings),   cmocka_unit_test(test_ekcert_intermediates),
        cmocka_unit_test(test_ekcert_matches_ek),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
