/* Tests of kl_tls_generate_dir and kl_tls_self_signed (lib/tls/tls_gen.c). */
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

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "certs_util.h"
#include "tls/tls.h"
#include "util/kl_alloc.h"
/* clang-format on */

typedef struct {
    char root[PATH_MAX];
    char dir[PATH_MAX + 8]; /* root/cv_ca, not created */
} fixture;

static int
setup(void **state)
{
    fixture *f = kl_calloc(1, sizeof(*f));
    char conf[PATH_MAX + 16];

    certs_tmpdir(f->root);
    snprintf(f->dir, sizeof(f->dir), "%s/cv_ca", f->root);
    /* an empty ca.conf, so the defaults apply whatever /etc holds */
    snprintf(conf, sizeof(conf), "%s/ca.conf", f->root);
    certs_write(conf, "[ca]\n");
    setenv("KEYLIME_CA_CONFIG", conf, 1);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;

    certs_rmtree(f->root);
    unsetenv("KEYLIME_CA_CONFIG");
    kl_free(f);
    return 0;
}

static const char *const extra[] = {"verifier.example.org", "192.0.2.7"};

static void
generate(fixture *f, const char *bind_ip, const char *password)
{
    kl_tls_generate_opts o = {
        .bind_ip = bind_ip, .extra_sans = extra, .n_extra_sans = 2, .key_password = password};

    assert_int_equal(kl_tls_generate_dir(f->dir, &o), KL_OK);
}

static void
test_tls_gen_creates_all_files(void **state)
{
    static const char *const keys[] = {"ca-private.pem", "server-private.pem",
                                       "client-private.pem"};
    fixture *f = *state;

    generate(f, "10.1.2.3", NULL);
    assert_int_equal(certs_mode(f->dir), 0700);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(certs_mode(certs_path(f->dir, keys[i])), 0600);
    assert_true(certs_mode(certs_path(f->dir, "cacert.crt")) >= 0);
    assert_true(certs_mode(certs_path(f->dir, "cacrl.der")) >= 0);
}

static void
test_tls_gen_certs_chain_and_sans(void **state)
{
    fixture *f = *state;
    char ca[PATH_MAX + 32];
    X509 *server, *client;

    generate(f, "10.1.2.3", NULL);
    snprintf(ca, sizeof(ca), "%s/cacert.crt", f->dir);
    server = certs_load(certs_path(f->dir, "server-cert.crt"));
    client = certs_load(certs_path(f->dir, "client-cert.crt"));
    assert_true(certs_chains(ca, server));
    assert_true(certs_chains(ca, client));
    assert_true(certs_has_san(server, "localhost"));
    assert_true(certs_has_san(server, "127.0.0.1"));
    assert_true(certs_has_san(server, "::1"));
    assert_true(certs_has_san(server, "10.1.2.3"));
    assert_true(certs_has_san(server, "verifier.example.org"));
    assert_true(certs_has_san(server, "192.0.2.7"));
    assert_false(certs_has_san(server, "192.0.2.8"));
    /* extendedKeyUsage: server is also a client, client is only a client */
    assert_int_equal(X509_check_purpose(server, X509_PURPOSE_SSL_SERVER, 0), 1);
    assert_int_equal(X509_check_purpose(server, X509_PURPOSE_SSL_CLIENT, 0), 1);
    assert_int_equal(X509_check_purpose(client, X509_PURPOSE_SSL_CLIENT, 0), 1);
    assert_int_not_equal(X509_check_purpose(client, X509_PURPOSE_SSL_SERVER, 0), 1);
    assert_int_equal(X509_check_host(client, "client", 0, 0, NULL), 1);
    X509_free(server);
    X509_free(client);
}

static void
test_tls_gen_unspecified_bind_ip_left_out(void **state)
{
    fixture *f = *state;
    X509 *server;

    generate(f, "0.0.0.0", NULL);
    server = certs_load(certs_path(f->dir, "server-cert.crt"));
    assert_false(certs_has_san(server, "0.0.0.0"));
    assert_true(certs_has_san(server, "127.0.0.1"));
    X509_free(server);
}

static void
test_tls_gen_second_call_keeps_files(void **state)
{
    fixture *f = *state;
    char *ca1, *srv1, *ca2, *srv2;
    char ca[PATH_MAX + 32];
    X509 *client;

    generate(f, NULL, NULL);
    ca1 = certs_slurp(certs_path(f->dir, "cacert.crt"), NULL);
    srv1 = certs_slurp(certs_path(f->dir, "server-cert.crt"), NULL);
    /* a lost client pair is made again, by the same CA */
    assert_int_equal(unlink(certs_path(f->dir, "client-cert.crt")), 0);
    generate(f, NULL, NULL);
    ca2 = certs_slurp(certs_path(f->dir, "cacert.crt"), NULL);
    srv2 = certs_slurp(certs_path(f->dir, "server-cert.crt"), NULL);
    assert_string_equal(ca1, ca2);
    assert_string_equal(srv1, srv2);
    snprintf(ca, sizeof(ca), "%s/cacert.crt", f->dir);
    client = certs_load(certs_path(f->dir, "client-cert.crt"));
    assert_true(certs_chains(ca, client));
    X509_free(client);
    kl_free(ca1);
    kl_free(ca2);
    kl_free(srv1);
    kl_free(srv2);
}

static void
test_tls_gen_key_password(void **state)
{
    fixture *f = *state;
    char *pem;
    FILE *k;
    EVP_PKEY *key;

    generate(f, NULL, "hunter2");
    pem = certs_slurp(certs_path(f->dir, "server-private.pem"), NULL);
    assert_non_null(strstr(pem, "ENCRYPTED PRIVATE KEY"));
    kl_free(pem);
    k = fopen(certs_path(f->dir, "server-private.pem"), "r");
    assert_non_null(k);
    key = PEM_read_PrivateKey(k, NULL, NULL, (void *)(uintptr_t) "hunter2");
    fclose(k);
    assert_non_null(key);
    EVP_PKEY_free(key);
}

static void
test_tls_gen_unwritable_dir_fails(void **state)
{
    fixture *f = *state;
    char bad[PATH_MAX + 16];

    /* a path below a regular file cannot be created */
    snprintf(bad, sizeof(bad), "%s/file", f->root);
    certs_write(bad, "");
    strncat(bad, "/cv_ca", sizeof(bad) - strlen(bad) - 1);
    assert_int_not_equal(kl_tls_generate_dir(bad, NULL), KL_OK);
    assert_non_null(strstr(kl_err_msg(), bad));
}

static void
test_tls_gen_bad_ca_conf_fails(void **state)
{
    fixture *f = *state;
    char conf[PATH_MAX + 16];

    snprintf(conf, sizeof(conf), "%s/ca.conf", f->root);
    certs_write(conf, "[ca]\ncert_bits = 512\n");
    assert_int_not_equal(kl_tls_generate_dir(f->dir, NULL), KL_OK);
    assert_non_null(strstr(kl_err_msg(), "cert_bits"));
}

static void
test_tls_self_signed(void **state)
{
    kl_buf key, cert;
    BIO *b;
    X509 *x;
    EVP_PKEY *k;
    char cn[128];

    (void)state;
    kl_buf_init(&key, 1u << 16);
    kl_buf_init(&cert, 1u << 16);
    assert_int_equal(kl_tls_self_signed(&key, &cert, "d432fbb3-agent", "192.0.2.10", 30), KL_OK);
    x = certs_parse(cert.ptr, cert.len);
    b = BIO_new_mem_buf(key.ptr, (int)key.len);
    k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    assert_non_null(k);
    assert_int_equal(EVP_PKEY_get_base_id(k), EVP_PKEY_EC);
    assert_int_equal(X509_check_private_key(x, k), 1);
    assert_int_equal(X509_verify(x, k), 1);
    X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn));
    assert_string_equal(cn, "d432fbb3-agent");
    assert_true(certs_has_san(x, "192.0.2.10"));
    assert_false(certs_has_san(x, "192.0.2.11"));
    assert_int_equal(X509_cmp_time(X509_get0_notAfter(x), NULL), 1);
    assert_non_null(strstr((const char *)key.ptr, "BEGIN PRIVATE KEY"));
    X509_free(x);
    EVP_PKEY_free(k);
    kl_buf_free_secret(&key);
    kl_buf_free(&cert);
}

static void
test_tls_self_signed_dns_and_bad_input(void **state)
{
    kl_buf key, cert;
    X509 *x;

    (void)state;
    kl_buf_init(&key, 1u << 16);
    kl_buf_init(&cert, 1u << 16);
    assert_int_equal(kl_tls_self_signed(&key, &cert, "agent", "agent.example", 1), KL_OK);
    x = certs_parse(cert.ptr, cert.len);
    assert_true(certs_has_san(x, "agent.example"));
    X509_free(x);
    assert_int_equal(kl_tls_self_signed(&key, &cert, "", "127.0.0.1", 1), KL_EINVAL);
    assert_int_equal(kl_tls_self_signed(&key, &cert, "a", "127.0.0.1", 0), KL_EINVAL);
    kl_buf_free_secret(&key);
    kl_buf_free(&cert);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tls_gen_creates_all_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_gen_certs_chain_and_sans, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_gen_unspecified_bind_ip_left_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_gen_second_call_keeps_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_gen_key_password, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_gen_unwritable_dir_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_gen_bad_ca_conf_fails, setup, teardown),
        cmocka_unit_test(test_tls_self_signed),
        cmocka_unit_test(test_tls_self_signed_dns_and_bad_input),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
