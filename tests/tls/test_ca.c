/* Tests of the CA library (lib/tls/ca*.c). */
/* cmocka.h needs the standard headers before it: keep this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <unistd.h>

#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "certs_util.h"
#include "tls/ca.h"
#include "util/kl_alloc.h"
/* clang-format on */

typedef struct {
    char dir[PATH_MAX];
    kl_ca_params p;
    kl_ca *ca;
} fixture;

static int
setup(void **state)
{
    fixture *f = kl_calloc(1, sizeof(*f));

    certs_tmpdir(f->dir);
    kl_ca_params_default(&f->p);
    assert_int_equal(kl_ca_init(f->dir, &f->p, false), KL_OK);
    assert_int_equal(kl_ca_open(&f->ca, f->dir, &f->p), KL_OK);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;

    kl_ca_free(f->ca);
    certs_rmtree(f->dir);
    kl_free(f);
    return 0;
}

static void
test_ca_init_files(void **state)
{
    fixture *f = *state;
    X509 *ca = certs_load(certs_path(f->dir, "cacert.crt"));
    uint64_t serial = 0;

    assert_int_equal(certs_mode(certs_path(f->dir, "ca-private.pem")), 0600);
    assert_true(certs_mode(certs_path(f->dir, "cacrl.der")) >= 0);
    assert_true(certs_mode(certs_path(f->dir, "cacrl.pem")) >= 0);
    assert_int_equal(X509_check_ca(ca), 1);
    assert_true(ASN1_INTEGER_get_uint64(&serial, X509_get0_serialNumber(ca)));
    assert_int_equal(serial, 1);
    assert_true(certs_chains(certs_path(f->dir, "cacert.crt"), ca));
    X509_free(ca);
    /* a second init without replace refuses */
    assert_int_equal(kl_ca_init(f->dir, &f->p, false), KL_EEXIST);
}

static void
test_ca_issue(void **state)
{
    static const char *const sans[] = {"agent.example", "192.0.2.1"};
    fixture *f = *state;
    kl_ca_issue_opts o = {.sans = sans, .n_sans = 2};
    kl_ca_cert_info info, again;
    char ca_file[PATH_MAX + 16];
    X509 *x;

    assert_int_equal(kl_ca_issue(f->ca, "agent1", NULL, &info), KL_OK);
    assert_int_equal(info.serial, 2);
    assert_string_equal(info.subject, "OU=53,O=Keylime,L=Lexington,ST=MA,CN=agent1,C=US");
    assert_int_equal(certs_mode(certs_path(f->dir, "agent1-private.pem")), 0600);
    assert_true(certs_mode(certs_path(f->dir, "agent1-public.pem")) >= 0);
    snprintf(ca_file, sizeof(ca_file), "%s/cacert.crt", f->dir);
    x = certs_load(certs_path(f->dir, "agent1-cert.crt"));
    assert_true(certs_chains(ca_file, x));
    assert_true(certs_has_san(x, "agent1")); /* upstream: DNS:<name> without SANs */
    X509_free(x);

    assert_int_equal(kl_ca_issue(f->ca, "agent2", &o, &info), KL_OK);
    assert_int_equal(info.serial, 3);
    x = certs_load(certs_path(f->dir, "agent2-cert.crt"));
    assert_true(certs_has_san(x, "agent.example"));
    assert_true(certs_has_san(x, "192.0.2.1"));
    assert_false(certs_has_san(x, "agent2"));
    X509_free(x);
    assert_int_equal(kl_ca_cert_info_get(f->ca, "agent1", &again), KL_OK);
    assert_int_equal(again.serial, 2);
    assert_int_equal(kl_ca_cert_info_get(f->ca, "nobody", &again), KL_ENOTFOUND);
}

static void
test_ca_subject_escaping(void **state)
{
    fixture *f = *state;
    kl_ca *ca = NULL;
    kl_ca_params p = f->p;
    kl_ca_cert_info info;

    p.organization = "Acme, Inc.";
    p.org_unit = "R+D";
    assert_int_equal(kl_ca_open(&ca, f->dir, &p), KL_OK);
    assert_int_equal(kl_ca_issue(ca, "x", NULL, &info), KL_OK);
    assert_string_equal(info.subject, "OU=R\\+D,O=Acme\\, Inc.,L=Lexington,ST=MA,CN=x,C=US");
    kl_ca_free(ca);
}

static void
test_ca_bad_names(void **state)
{
    fixture *f = *state;

    assert_int_equal(kl_ca_issue(f->ca, "../evil", NULL, NULL), KL_EINVAL);
    assert_int_equal(kl_ca_issue(f->ca, ".hidden", NULL, NULL), KL_EINVAL);
    assert_int_equal(kl_ca_issue(f->ca, "ca", NULL, NULL), KL_EINVAL);
    assert_int_equal(kl_ca_issue(f->ca, "", NULL, NULL), KL_EINVAL);
    assert_non_null(strstr(kl_err_msg(), "empty"));
}

/* The serials in a DER CRL file, verified against the CA key. */
static size_t
crl_serials(const char *dir, uint64_t *out, size_t max)
{
    FILE *fp = fopen(certs_path(dir, "cacrl.der"), "rb");
    X509_CRL *crl;
    X509 *ca = certs_load(certs_path(dir, "cacert.crt"));
    STACK_OF(X509_REVOKED) * r;
    size_t n = 0;

    assert_non_null(fp);
    crl = d2i_X509_CRL_fp(fp, NULL);
    fclose(fp);
    assert_non_null(crl);
    assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(ca)), 1);
    r = X509_CRL_get_REVOKED(crl);
    for (int i = 0; r && i < sk_X509_REVOKED_num(r) && n < max; i++)
        assert_true(ASN1_INTEGER_get_uint64(
            &out[n++], X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(r, i))));
    X509_CRL_free(crl);
    X509_free(ca);
    return n;
}

static void
test_ca_revoke(void **state)
{
    fixture *f = *state;
    uint64_t serials[8], s = 0;
    char *pem;

    assert_int_equal(crl_serials(f->dir, serials, 8), 0);
    assert_int_equal(kl_ca_issue(f->ca, "a", NULL, NULL), KL_OK);
    assert_int_equal(kl_ca_issue(f->ca, "b", NULL, NULL), KL_OK);
    assert_int_equal(kl_ca_revoke_name(f->ca, "b", &s), KL_OK);
    assert_int_equal(s, 3);
    assert_int_equal(crl_serials(f->dir, serials, 8), 1);
    assert_int_equal(serials[0], 3);
    /* twice is once; then by serial */
    assert_int_equal(kl_ca_revoke_name(f->ca, "b", NULL), KL_OK);
    assert_int_equal(kl_ca_revoke_serial(f->ca, 2), KL_OK);
    assert_int_equal(crl_serials(f->dir, serials, 8), 2);
    assert_true((serials[0] == 2 && serials[1] == 3) || (serials[0] == 3 && serials[1] == 2));
    pem = certs_slurp(certs_path(f->dir, "cacrl.pem"), NULL);
    assert_non_null(strstr(pem, "-----BEGIN X509 CRL-----"));
    kl_free(pem);
    /* not issued, the CA itself, unknown name */
    assert_int_equal(kl_ca_revoke_serial(f->ca, 99), KL_EINVAL);
    assert_int_equal(kl_ca_revoke_serial(f->ca, 1), KL_EINVAL);
    assert_int_equal(kl_ca_revoke_name(f->ca, "nobody", NULL), KL_ENOTFOUND);
}

static void
test_ca_password(void **state)
{
    fixture *f = *state;
    char dir[PATH_MAX];
    kl_ca_params p = f->p;
    kl_ca *ca = NULL;
    char *pem;

    certs_tmpdir(dir);
    p.password = "s3cret";
    assert_int_equal(kl_ca_init(dir, &p, false), KL_OK);
    pem = certs_slurp(certs_path(dir, "ca-private.pem"), NULL);
    assert_non_null(strstr(pem, "ENCRYPTED"));
    kl_free(pem);
    assert_int_equal(kl_ca_open(&ca, dir, &p), KL_OK);
    kl_ca_free(ca);
    p.password = "wrong";
    assert_int_equal(kl_ca_open(&ca, dir, &p), KL_EPERM);
    assert_non_null(strstr(kl_err_msg(), "wrong password"));
    p.password = "default";
    assert_int_equal(kl_ca_open(&ca, dir, &p), KL_EPERM);
    assert_non_null(strstr(kl_err_msg(), "no password"));
    certs_rmtree(dir);
}

static void
test_ca_open_missing_and_unwritable(void **state)
{
    fixture *f = *state;
    kl_ca *ca = NULL;
    char bad[PATH_MAX + 16];

    snprintf(bad, sizeof(bad), "%s/none", f->dir);
    assert_int_equal(kl_ca_open(&ca, bad, &f->p), KL_ENOTFOUND);
    assert_null(ca);
    snprintf(bad, sizeof(bad), "%s/file", f->dir);
    certs_write(bad, "");
    strncat(bad, "/ca", sizeof(bad) - strlen(bad) - 1);
    assert_int_equal(kl_ca_init(bad, &f->p, false), KL_EIO);
    assert_non_null(strstr(kl_err_msg(), bad));
}

/* The entry names of a zip, checking each one is stored uncompressed: its
 * bytes occur as they are in the archive. */
static size_t
zip_names(const kl_buf *zip, char names[][64], size_t max)
{
    struct archive *a = archive_read_new();
    struct archive_entry *e;
    size_t n = 0;

    archive_read_support_format_zip(a);
    assert_int_equal(archive_read_open_memory(a, zip->ptr, zip->len), ARCHIVE_OK);
    while (archive_read_next_header(a, &e) == ARCHIVE_OK && n < max) {
        char data[8192];
        la_ssize_t got = archive_read_data(a, data, sizeof(data));

        assert_true(got > 0);
        assert_non_null(memmem(zip->ptr, zip->len, data, (size_t)got));
        snprintf(names[n++], 64, "%s", archive_entry_pathname(e));
    }
    archive_read_free(a);
    return n;
}

static void
test_ca_package(void **state)
{
    static const char *const want[] = {"u1-public.pem",
                                       "u1-cert.crt",
                                       "u1-private.pem",
                                       "cacert.crt",
                                       "cacrl.der",
                                       "cacrl.pem",
                                       "RevocationNotifier-cert.crt",
                                       "autorun.sh"};
    fixture *f = *state;
    kl_ca_pkg_file extra = {"autorun.sh", KL_BYTES_STR("#!/bin/sh\necho hi\n")};
    kl_ca_pkg_opts o = {.revocation_notifier = true, .extra = &extra, .n_extra = 1};
    kl_ca_cert_info info;
    kl_buf zip, rkey;
    char names[16][64];
    size_t n;

    kl_buf_init(&zip, 1u << 20);
    kl_buf_init(&rkey, 1u << 16);
    assert_int_equal(kl_ca_issue(f->ca, "u1", NULL, NULL), KL_OK);
    assert_int_equal(kl_ca_package(f->ca, "u1", &o, &zip, &rkey, &info), KL_OK);
    assert_int_equal(info.serial, 2);
    assert_string_equal(info.subject, "OU=53,O=Keylime,L=Lexington,ST=MA,CN=u1,C=US");
    n = zip_names(&zip, names, 16);
    assert_int_equal(n, 8);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(names[i], want[i]);
    assert_non_null(strstr((const char *)rkey.ptr, "PRIVATE KEY"));
    assert_true(certs_mode(certs_path(f->dir, "RevocationNotifier-cert.crt")) >= 0);
    /* without the notifier: exactly the six files */
    kl_buf_free_secret(&zip);
    kl_buf_init(&zip, 1u << 20);
    assert_int_equal(kl_ca_package(f->ca, "u1", NULL, &zip, NULL, NULL), KL_OK);
    assert_int_equal(zip_names(&zip, names, 16), 6);
    /* bad requests */
    extra.name = "../x";
    assert_int_equal(kl_ca_package(f->ca, "u1", &o, &zip, NULL, NULL), KL_EINVAL);
    assert_int_equal(kl_ca_package(f->ca, "missing", NULL, &zip, NULL, NULL), KL_ENOTFOUND);
    kl_buf_free_secret(&zip);
    kl_buf_free_secret(&rkey);
}

static void
test_ca_tenant_package_creates_ca(void **state)
{
    fixture *f = *state;
    char dir[PATH_MAX + 8];
    kl_ca_cert_info info;
    kl_buf zip, rkey;
    char names[16][64];

    snprintf(dir, sizeof(dir), "%s/new", f->dir);
    kl_buf_init(&zip, 1u << 20);
    kl_buf_init(&rkey, 1u << 16);
    assert_int_equal(kl_ca_tenant_package(dir, &f->p, "d432fbb3-d2f1-4a97-9ef7-75bd81c00000", NULL,
                                          0, &zip, &rkey, &info),
                     KL_OK);
    assert_int_equal(info.serial, 2);
    assert_int_equal(zip_names(&zip, names, 16), 7);
    assert_string_equal(names[6], "RevocationNotifier-cert.crt");
    assert_int_equal(certs_mode(dir), 0700);
    kl_buf_free_secret(&zip);
    kl_buf_free_secret(&rkey);
}

static void
test_ca_import_key(void **state)
{
    fixture *f = *state;
    char key[PATH_MAX + 16], other[PATH_MAX];
    kl_ca_cert_info info;
    kl_ca *ca = NULL;

    snprintf(key, sizeof(key), "%s/ca-private.pem", f->dir);
    assert_int_equal(kl_ca_import_key(f->dir, &f->p, key, 10), KL_OK);
    assert_int_equal(kl_ca_open(&ca, f->dir, &f->p), KL_OK);
    assert_int_equal(kl_ca_issue(ca, "after", NULL, &info), KL_OK);
    assert_int_equal(info.serial, 12); /* upstream stores last serial + 1 */
    kl_ca_free(ca);
    /* a key of another CA does not fit */
    certs_tmpdir(other);
    assert_int_equal(kl_ca_init(other, &f->p, false), KL_OK);
    snprintf(key, sizeof(key), "%s/ca-private.pem", other);
    assert_int_equal(kl_ca_import_key(f->dir, &f->p, key, 10), KL_EINVAL);
    certs_rmtree(other);
}

static void
test_ca_conf_load(void **state)
{
    fixture *f = *state;
    char conf[PATH_MAX + 16];
    kl_ca_conf c;
    kl_ca_params p;

    snprintf(conf, sizeof(conf), "%s/ca.conf", f->dir);
    certs_write(conf, "[ca]\ncert_org_unit = 99\ncert_lifetime = 30\n");
    setenv("KEYLIME_CA_CONFIG", conf, 1);
    assert_int_equal(kl_ca_conf_load(&c, NULL), KL_OK);
    kl_ca_params_from_conf(&p, &c);
    assert_string_equal(p.org_unit, "99");
    assert_int_equal(p.cert_days, 30);
    assert_string_equal(p.country, "US");
    assert_int_equal(p.bits, 2048);
    assert_string_equal(p.password, "default");
    kl_ca_conf_free(&c);
    unsetenv("KEYLIME_CA_CONFIG");
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_ca_init_files),
        T(test_ca_issue),
        T(test_ca_subject_escaping),
        T(test_ca_bad_names),
        T(test_ca_revoke),
        T(test_ca_password),
        T(test_ca_open_missing_and_unwritable),
        T(test_ca_package),
        T(test_ca_tenant_package_creates_ca),
        T(test_ca_import_key),
        T(test_ca_conf_load),
    };
#undef T

    return cmocka_run_group_tests(tests, NULL, NULL);
}
