/* ca_pkg: the certificate package (the tenant's --cert payload, upstream's
 * cmd_certpkg) as an in-memory ZIP with stored entries (see ca.h). */
#include "tls/ca.h"
#include "tls/ca_int.h"
#include "tls/certgen.h"
#include "util/kl_alloc.h"
#include "util/kl_file.h"

#include <archive.h>
#include <archive_entry.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FILE_MAX (1u << 20)
#define NOTIFIER "RevocationNotifier"

static la_ssize_t
zip_out(struct archive *a, void *u, const void *p, size_t n)
{
    (void)a;
    return kl_buf_append(u, p, n) == KL_OK ? (la_ssize_t)n : -1;
}

static kl_rc
zip_add(struct archive *a, const char *name, kl_bytes data)
{
    struct archive_entry *e = archive_entry_new();
    kl_rc rc = KL_OK;

    if (!e)
        return kl_err_set(KL_ENOMEM, "out of memory");
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0600);
    archive_entry_set_size(e, (la_int64_t)data.len);
    archive_entry_set_mtime(e, time(NULL), 0);
    if (archive_write_header(a, e) != ARCHIVE_OK ||
        (data.len && archive_write_data(a, data.ptr, data.len) != (la_ssize_t)data.len))
        rc = kl_err_set(KL_EIO, "zip entry %s: %s", name,
                        archive_error_string(a) ? archive_error_string(a) : "write failed");
    archive_entry_free(e);
    return rc;
}

/* Adds <dir>/<base><suffix> as the entry <base><suffix>. */
static kl_rc
zip_add_file(struct archive *a, const char *dir, const char *base, const char *suffix)
{
    char *path = NULL;
    kl_buf b;
    kl_rc rc = kl_certgen_path(&path, dir, base, suffix);

    kl_buf_init(&b, FILE_MAX);
    if (rc == KL_OK)
        rc = kl_file_read(path, &b);
    if (rc == KL_OK)
        rc = zip_add(a, strrchr(path, '/') + 1, kl_buf_bytes(&b));
    kl_buf_free_secret(&b);
    kl_free(path);
    return rc;
}

static kl_rc
zip_entries(struct archive *a, const char *dir, const char *name, const kl_ca_pkg_opts *o)
{
    static const char *const ca_files[] = {KL_CA_CERT, KL_CA_CRL_DER, KL_CA_CRL_PEM};
    kl_rc rc = zip_add_file(a, dir, name, "-public.pem");

    if (rc == KL_OK)
        rc = zip_add_file(a, dir, name, "-cert.crt");
    if (rc == KL_OK)
        rc = zip_add_file(a, dir, name, "-private.pem");
    for (size_t i = 0; rc == KL_OK && i < sizeof(ca_files) / sizeof(ca_files[0]); i++)
        rc = zip_add_file(a, dir, ca_files[i], "");
    if (rc == KL_OK && o->revocation_notifier)
        rc = zip_add_file(a, dir, NOTIFIER, "-cert.crt");
    for (size_t i = 0; rc == KL_OK && i < o->n_extra; i++) {
        const char *n = o->extra[i].name;

        if (!n || !*n || strchr(n, '/') || strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
            rc = kl_err_set(KL_EINVAL, "package file name '%s' is not a base name", n ? n : "");
        else
            rc = zip_add(a, n, o->extra[i].data);
    }
    return rc;
}

static kl_rc
build_zip(kl_buf *zip, const char *dir, const char *name, const kl_ca_pkg_opts *o)
{
    struct archive *a = archive_write_new();
    kl_rc rc = KL_OK;

    if (!a)
        return kl_err_set(KL_ENOMEM, "out of memory");
    if (archive_write_set_format_zip(a) != ARCHIVE_OK ||
        archive_write_set_options(a, "zip:compression=store") != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
        archive_write_open2(a, zip, NULL, zip_out, NULL, NULL) != ARCHIVE_OK)
        rc = kl_err_set(KL_EIO, "zip: %s",
                        archive_error_string(a) ? archive_error_string(a) : "cannot start");
    if (rc == KL_OK)
        rc = zip_entries(a, dir, name, o);
    if (rc == KL_OK && archive_write_close(a) != ARCHIVE_OK)
        rc = kl_err_set(KL_EIO, "zip: %s",
                        archive_error_string(a) ? archive_error_string(a) : "cannot finish");
    archive_write_free(a);
    return rc;
}

static bool
exists(const char *dir, const char *base, const char *suffix)
{
    char *path = NULL;
    bool yes = kl_certgen_path(&path, dir, base, suffix) == KL_OK && access(path, F_OK) == 0;

    kl_free(path);
    return yes;
}

/* Issues the notifier if missing and appends its private key. */
static kl_rc
notifier(kl_ca *ca, kl_buf *revocation_key)
{
    char *path = NULL;
    kl_buf b;
    kl_rc rc = KL_OK;

    if (!exists(ca->dir, NOTIFIER, "-private.pem") || !exists(ca->dir, NOTIFIER, "-cert.crt"))
        rc = kl_ca_issue(ca, NOTIFIER, NULL, NULL);
    if (rc != KL_OK || !revocation_key)
        return rc;
    kl_buf_init(&b, FILE_MAX);
    rc = kl_certgen_path(&path, ca->dir, NOTIFIER, "-private.pem");
    if (rc == KL_OK)
        rc = kl_file_read(path, &b);
    if (rc == KL_OK)
        rc = kl_buf_append(revocation_key, b.ptr, b.len);
    kl_buf_free_secret(&b);
    kl_free(path);
    return rc;
}

kl_rc
kl_ca_package(kl_ca *ca, const char *name, const kl_ca_pkg_opts *o, kl_buf *zip,
              kl_buf *revocation_key, kl_ca_cert_info *info)
{
    static const kl_ca_pkg_opts none = {0};
    kl_ca_cert_info tmp;
    kl_rc rc = kl_ca_check_name(name);

    o = o ? o : &none;
    if (rc == KL_OK)
        rc = kl_ca_cert_info_get(ca, name, info ? info : &tmp);
    if (rc == KL_OK && o->revocation_notifier)
        rc = notifier(ca, revocation_key);
    if (rc == KL_OK)
        rc = build_zip(zip, ca->dir, name, o);
    return rc;
}

kl_rc
kl_ca_tenant_package(const char *dir, const kl_ca_params *p, const char *uuid,
                     const kl_ca_pkg_file *extra, size_t n_extra, kl_buf *zip,
                     kl_buf *revocation_key, kl_ca_cert_info *info)
{
    kl_ca_pkg_opts o = {.revocation_notifier = true, .extra = extra, .n_extra = n_extra};
    kl_ca *ca = NULL;
    kl_rc rc = kl_ca_check_name(uuid);

    if (rc == KL_OK && !exists(dir, KL_CA_CERT, ""))
        rc = kl_ca_init(dir, p, false);
    if (rc == KL_OK)
        rc = kl_ca_open(&ca, dir, p);
    if (rc == KL_OK && !exists(dir, uuid, "-private.pem"))
        rc = kl_ca_issue(ca, uuid, NULL, NULL);
    if (rc == KL_OK)
        rc = kl_ca_package(ca, uuid, &o, zip, revocation_key, info);
    kl_ca_free(ca);
    return rc;
}
