/* keylime_ca commands (see keylime_ca.h). */
#include "keylime_ca.h"
#include "util/kl_file.h"
#include "util/kl_alloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ZIP_MAX (16u << 20)

static kl_rc
parse_serial(const char *s, uint64_t *out)
{
    char *end = NULL;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || !*s || *s == '-' || *end)
        return kl_err_set(KL_EINVAL, "serial '%s' is not a decimal number", s);
    *out = v;
    return KL_OK;
}

static kl_rc
cmd_create(kl_ca *ca, const ca_args *a)
{
    kl_ca_cert_info info;
    kl_rc rc = kl_ca_issue(ca, a->name, NULL, &info);

    if (rc == KL_OK)
        printf("created certificate %s (serial %llu, %s) in %s\n", a->name,
               (unsigned long long)info.serial, info.subject, kl_ca_dir(ca));
    return rc;
}

static kl_rc
cmd_pkg(kl_ca *ca, const ca_args *a)
{
    kl_ca_cert_info info;
    kl_buf zip;
    char *path = NULL;
    size_t n = strlen(kl_ca_dir(ca)) + strlen(a->name) + sizeof("/-pkg.zip");
    kl_rc rc;

    kl_buf_init(&zip, ZIP_MAX);
    rc = kl_ca_package(ca, a->name, NULL, &zip, NULL, &info);
    path = rc == KL_OK ? kl_malloc(n) : NULL;
    if (rc == KL_OK && !path)
        rc = kl_err_set(KL_ENOMEM, "out of memory");
    if (rc == KL_OK) {
        snprintf(path, n, "%s/%s-pkg.zip", kl_ca_dir(ca), a->name);
        rc = kl_file_write_mode(path, zip.ptr, zip.len, 0600); /* the zip holds keys */
    }
    if (rc == KL_OK)
        printf("wrote %s (serial %llu, %s)\n", path, (unsigned long long)info.serial, info.subject);
    kl_free(path);
    kl_buf_free_secret(&zip);
    return rc;
}

static kl_rc
cmd_revoke(kl_ca *ca, const ca_args *a)
{
    uint64_t serial = 0;
    kl_rc rc;

    if (a->name)
        rc = kl_ca_revoke_name(ca, a->name, &serial);
    else if ((rc = parse_serial(a->serial, &serial)) == KL_OK)
        rc = kl_ca_revoke_serial(ca, serial);
    if (rc == KL_OK)
        printf("revoked serial %llu; CRL updated in %s\n", (unsigned long long)serial,
               kl_ca_dir(ca));
    return rc;
}

static kl_rc
cmd_import(const char *dir, const ca_args *a, const kl_ca_params *p)
{
    uint64_t serial = 0;
    kl_rc rc = parse_serial(a->serial, &serial);

    if (rc == KL_OK)
        rc = kl_ca_import_key(dir, p, a->file ? a->file : "ca-private.pem", serial);
    if (rc == KL_OK)
        printf("imported the CA key into %s\n", dir);
    return rc;
}

/* Commands that work on an open CA. */
static kl_rc
with_ca(const char *dir, const ca_args *a, const kl_ca_params *p)
{
    kl_ca *ca = NULL;
    kl_rc rc = kl_ca_open(&ca, dir, p);

    if (rc == KL_OK && strcmp(a->command, "create") == 0)
        rc = cmd_create(ca, a);
    else if (rc == KL_OK && strcmp(a->command, "pkg") == 0)
        rc = cmd_pkg(ca, a);
    else if (rc == KL_OK)
        rc = cmd_revoke(ca, a);
    kl_ca_free(ca);
    return rc;
}

static kl_rc
run(const char *dir, const ca_args *a, const kl_ca_params *p)
{
    kl_rc rc;

    if (strcmp(a->command, "init") == 0) {
        rc = kl_ca_init(dir, p, true);
        if (rc == KL_OK)
            printf("created CA in %s\n", dir);
        return rc;
    }
    if (strcmp(a->command, "import-priv") == 0)
        return cmd_import(dir, a, p);
    return with_ca(dir, a, p);
}

int
ca_run(const ca_args *a, const kl_ca_params *p)
{
    char *dir = NULL;
    kl_rc rc = KL_OK;

    if (!a->dir) {
        const char *work = kl_config_work_dir();

        if (access(work, R_OK | W_OK) != 0)
            rc = kl_err_set(KL_EPERM, "without -d, this must run as a user who can write to %s",
                            work);
        else
            rc = kl_config_path(&dir, "ca", work, "ca");
    }
    if (rc == KL_OK)
        rc = run(dir ? dir : a->dir, a, p);
    kl_free(dir);
    if (rc != KL_OK) {
        fprintf(stderr, "keylime_ca: %s\n", kl_err_msg());
        return CA_EXIT_FAIL;
    }
    return CA_EXIT_OK;
}
