/* Helpers shared by the tenant's unit tests: a tenant.conf with upstream's
 * defaults (no file read), argv parsing into a tenant, temp files. */
#ifndef KL_TENANT_TEST_H
#define KL_TENANT_TEST_H

#include "tenant.h"
#include "util/kl_alloc.h"
#include "util/kl_file.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *test_hash_algs[] = {"sha512", "sha384", "sha256"};
static char *test_enc_algs[] = {"ecc", "rsa"};
static char *test_sign_algs[] = {"ecschnorr", "rsassa"};

/* tenant.conf as upstream's 2.6 template has it. */
static inline tenant_config
test_config(void)
{
    tenant_config c;

    memset(&c, 0, sizeof(c));
    c.verifier_ip = "127.0.0.1";
    c.verifier_port = "8881";
    c.registrar_ip = "127.0.0.1";
    c.registrar_port = "8891";
    c.tls_dir = "default";
    c.enable_agent_mtls = true;
    c.client_key = "default";
    c.client_key_password = "";
    c.client_cert = "default";
    c.trusted_server_ca = "default";
    c.tpm_cert_store = "/var/lib/keylime/tpm_cert_store";
    c.max_payload_size = 1048576;
    c.accept_tpm_hash_algs = (kl_strlist){test_hash_algs, 3};
    c.accept_tpm_encryption_algs = (kl_strlist){test_enc_algs, 2};
    c.accept_tpm_signing_algs = (kl_strlist){test_sign_algs, 2};
    c.exponential_backoff = true;
    c.retry_interval = 2;
    c.max_retries = 5;
    c.request_timeout = 60;
    c.require_ek_cert = true;
    c.ek_check_script = "";
    c.mb_refstate = "";
    return c;
}

/* Reads what was written to f (rewound) as a new string (kl_free). */
static inline char *
test_slurp(FILE *f)
{
    kl_buf b;
    char chunk[4096];
    size_t n;

    kl_buf_init(&b, 1u << 20);
    rewind(f);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (kl_buf_append(&b, chunk, n) != KL_OK)
            break;
    if (kl_buf_terminate(&b) != KL_OK) {
        kl_buf_free(&b);
        return NULL;
    }
    return (char *)kl_buf_take(&b, NULL);
}

/* Parses a NULL-terminated argument list (argv[0] added); the usage/error
 * text goes to *err_text when not NULL (caller frees with kl_free). */
static inline tenant_args_result
test_parse(tenant_args *a, const char *const *args, char **err_text)
{
    char *argv[64] = {"keylime_tenant"};
    int argc = 1;
    FILE *err = tmpfile();
    FILE *out = fopen("/dev/null", "w");
    tenant_args_result r;

    for (; args[argc - 1] && argc < 63; argc++)
        argv[argc] = (char *)(uintptr_t)args[argc - 1];
    r = tenant_args_parse(a, argc, argv, out, err);
    if (err_text)
        *err_text = test_slurp(err);
    fclose(err);
    fclose(out);
    return r;
}

/* The path of a test data file (KL_TEST_DATA/rel), static buffer. */
static inline const char *
test_data(const char *rel)
{
    static char path[4][1024];
    static int i;
    const char *d = getenv("KL_TEST_DATA");

    i = (i + 1) % 4;
    snprintf(path[i], sizeof(path[i]), "%s/%s", d ? d : "tests/data", rel);
    return path[i];
}

static char test_dir[256];

static inline int
test_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Removes the temporary directory at exit. */
static inline void
test_rm_dir(void)
{
    if (test_dir[0])
        nftw(test_dir, test_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Writes text to a new file in a temporary directory, static path. */
static inline const char *
test_file(const char *name, const char *text)
{
    static char path[8][512];
    static int i;
    char *dir = test_dir;

    if (!dir[0]) {
        snprintf(dir, sizeof(test_dir), "/tmp/kl-tenant-test.XXXXXX");
        if (!mkdtemp(dir))
            return NULL;
        atexit(test_rm_dir);
    }
    i = (i + 1) % 8;
    snprintf(path[i], sizeof(path[i]), "%s/%s", dir, name);
    if (text && kl_file_write(path[i], text, strlen(text)) != KL_OK)
        return NULL;
    return path[i];
}

#endif
