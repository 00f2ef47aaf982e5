/* Unit tests for the bootstrap key and payload (tenant_payload.c): the -k
 * key file (K, U, V lines; K = U xor V), -p, -f encryption that the agent's
 * decryption reads back, --cert packages from a new CA with --include
 * files, max_payload_size, and upstream's refusals of flag combinations. */
/* cmocka.h needs the standard headers before it: keep this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "payload/bootstrap.h"
#include "payload/payload_crypt.h"
#include "tenant_test.h"
#include "util/kl_b64.h"
/* clang-format on */

typedef struct {
    tenant_config c;
    tenant t;
} fixture;

static kl_rc
prepare(fixture *f, tenant_args *a)
{
    if (!a->command)
        a->command = "add";
    if (!a->agent_uuid)
        a->agent_uuid = "agent-7";
    f->c = test_config();
    assert_int_equal(tenant_init(&f->t, &f->c, a), KL_OK);
    return tenant_payload_prepare(&f->t);
}

static void
expect_refused(tenant_args *a, const char *msg)
{
    fixture f;

    assert_int_not_equal(prepare(&f, a), KL_OK);
    if (!strstr(kl_err_msg(), msg))
        fail_msg("'%s' lacks '%s'", kl_err_msg(), msg);
    tenant_free(&f.t);
}

/* A key file of K, U, V (base64 lines). */
static const char *
keyfile(const uint8_t *k, const uint8_t *u, const uint8_t *v, size_t n)
{
    kl_buf b;
    const char *path;

    kl_buf_init(&b, 4096);
    assert_int_equal(kl_b64_encode_append(&b, k, n), KL_OK);
    assert_int_equal(kl_buf_append_byte(&b, '\n'), KL_OK);
    assert_int_equal(kl_b64_encode_append(&b, u, n), KL_OK);
    assert_int_equal(kl_buf_append_byte(&b, '\n'), KL_OK);
    assert_int_equal(kl_b64_encode_append(&b, v, n), KL_OK);
    assert_int_equal(kl_buf_append_str(&b, "\n"), KL_OK);
    assert_int_equal(kl_buf_terminate(&b), KL_OK);
    path = test_file("keys.txt", (const char *)b.ptr);
    kl_buf_free(&b);
    return path;
}

static void
test_tenant_keyfile(void **state)
{
    uint8_t k[32], u[32], v[32];
    tenant_args a = {0};
    fixture f;

    (void)state;
    assert_int_equal(kl_bootstrap_split(k, u, v), KL_OK);
    a.keyfile = keyfile(k, u, v, 32);
    a.payload = test_file("payload.txt", "b64-ciphertext-text");
    assert_int_equal(prepare(&f, &a), KL_OK);
    assert_int_equal(f.t.klen, 32);
    assert_memory_equal(f.t.k, k, 32);
    assert_memory_equal(f.t.u, u, 32);
    assert_memory_equal(f.t.v, v, 32);
    assert_true(f.t.have_payload);
    assert_true(kl_bytes_eq_str(kl_buf_bytes(&f.t.payload), "b64-ciphertext-text"));
    tenant_free(&f.t);
    /* K that is not U xor V, and a line that is not base64 */
    a.payload = NULL;
    a.keyfile = keyfile(u, u, v, 32);
    expect_refused(&a, "with K = U xor V");
    a.keyfile = test_file("badkeys.txt", "QUJD\nQQ\n");
    expect_refused(&a, "line 2 is not the base64");
    a.keyfile = test_file("emptykeys.txt", "!!!\n");
    expect_refused(&a, "must hold three base64 lines K, U, V");
    a.keyfile = "/nonexistent/keys";
    expect_refused(&a, "[Errno 2] No such file or directory: '/nonexistent/keys'");
}

static void
test_tenant_file_payload(void **state)
{
    const char *plain = "secret payload\n";
    tenant_args a = {.file = test_file("plain.txt", plain)};
    char tag[KL_BOOTSTRAP_TAG_HEX + 1];
    uint8_t k[32];
    kl_buf out;
    fixture f;
    bool ok;

    (void)state;
    kl_buf_init(&out, 4096);
    assert_int_equal(prepare(&f, &a), KL_OK);
    assert_true(f.t.have_payload);
    /* the agent's side: K = U xor V decrypts, and the auth tag checks */
    assert_int_equal(kl_bootstrap_combine(k, KL_BYTES(f.t.u, f.t.ulen), KL_BYTES(f.t.v, f.t.vlen)),
                     KL_OK);
    assert_memory_equal(k, f.t.k, 32);
    assert_int_equal(kl_payload_decrypt(&out, KL_BYTES(k, 32), kl_buf_bytes(&f.t.payload)), KL_OK);
    assert_true(kl_bytes_eq_str(kl_buf_bytes(&out), plain));
    assert_int_equal(kl_bootstrap_hmac_hex(tag, KL_BYTES(k, 32), KL_BYTES_CSTR("agent-7")), KL_OK);
    assert_int_equal(
        kl_bootstrap_check_tag(&ok, KL_BYTES(k, 32), KL_BYTES_CSTR("agent-7"), KL_BYTES_CSTR(tag)),
        KL_OK);
    assert_true(ok);
    kl_buf_free_secret(&out);
    tenant_free(&f.t);
}

static void
test_tenant_payload_refusals(void **state)
{
    tenant_args a = {0};
    const char *file = test_file("p.txt", "x");

    (void)state;
    a = (tenant_args){.verify = true};
    expect_refused(&a, "--verify only works when a payload is provided to the agent via -k, -f, "
                       "or --cert");
    a = (tenant_args){.keyfile = file, .file = file};
    expect_refused(&a, "You must specify one of -k, -f, or --cert");
    a = (tenant_args){.ca_dir = "default", .file = file};
    expect_refused(&a, "You must specify one of -k, -f, or --cert");
    a = (tenant_args){.incl_dir = "/tmp"};
    expect_refused(&a, "--include option is only valid when used with --cert");
    a = (tenant_args){.file = "/nonexistent/file"};
    expect_refused(&a, "[Errno 2] No such file or directory");
}

static void
test_tenant_payload_max_size(void **state)
{
    tenant_args a = {.file = test_file("big.txt", "0123456789012345678901234567890123456789")};
    fixture f;

    (void)state;
    f.c = test_config();
    f.c.max_payload_size = 40;
    a.command = "add";
    a.agent_uuid = "agent-7";
    assert_int_equal(tenant_init(&f.t, &f.c, &a), KL_OK);
    assert_int_not_equal(tenant_payload_prepare(&f.t), KL_OK);
    assert_non_null(strstr(kl_err_msg(), "exceeds max size 40"));
    tenant_free(&f.t);
}

/* --cert: a new CA in a temporary directory, a package with the --include
 * files, the notifier's key for the verifier and the metadata. */
static void
test_tenant_cert_package(void **state)
{
    const char *incl_file = test_file("incl/autorun.sh", NULL);
    char dir[700], incl[600];
    tenant_args a = {0};
    kl_buf zip;
    fixture f;
    char *meta;

    (void)state;
    snprintf(incl, sizeof(incl), "%s", incl_file);
    *strrchr(incl, '/') = 0;
    assert_int_equal(mkdir(incl, 0700), 0);
    assert_int_equal(kl_file_write(incl_file, "#!/bin/sh\n", 10), KL_OK);
    snprintf(dir, sizeof(dir), "%s/ca", incl);
    setenv("KEYLIME_CA_CONFIG", test_file("ca.conf", "[ca]\npassword = test-pw\n"), 1);
    a.ca_dir = dir;
    a.incl_dir = incl;
    a.agent_uuid = "agent-7";
    assert_int_equal(prepare(&f, &a), KL_OK);
    assert_true(f.t.have_payload);
    assert_true(f.t.revocation_key.len > 100);
    meta = tl_dumps(f.t.metadata);
    assert_non_null(strstr(meta, "{\"cert_serial\": "));
    assert_non_null(strstr(meta, "CN=agent-7"));
    kl_free(meta);
    kl_buf_init(&zip, 1u << 20);
    assert_int_equal(kl_payload_decrypt(&zip, KL_BYTES(f.t.k, 32), kl_buf_bytes(&f.t.payload)),
                     KL_OK);
    assert_memory_equal(zip.ptr, "PK", 2);
    assert_true(memmem(zip.ptr, zip.len, "autorun.sh", 10) != NULL);
    assert_true(memmem(zip.ptr, zip.len, "RevocationNotifier-cert.crt", 27) != NULL);
    assert_true(memmem(zip.ptr, zip.len, "agent-7-private.pem", 19) != NULL);
    kl_buf_free_secret(&zip);
    tenant_free(&f.t);
    unsetenv("KEYLIME_CA_CONFIG");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tenant_keyfile),
        cmocka_unit_test(test_tenant_file_payload),
        cmocka_unit_test(test_tenant_payload_refusals),
        cmocka_unit_test(test_tenant_payload_max_size),
        cmocka_unit_test(test_tenant_cert_package),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
