/* ca: create and open a CA directory, issue certificates (see ca.h). */
#define KL_LOGMODULE "ca"
#include "tls/ca.h"

#include "tls/ca_int.h"
#include "tls/certgen.h"
#include "util/kl_alloc.h"
#include "util/kl_log.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_MAX (1u << 16)

kl_rc
kl_ca_check_name(const char *name)
{
    if (!name || !*name)
        return kl_err_set(KL_EINVAL, "the certificate name is empty");
    if (name[0] == '.' || strchr(name, '/') || strlen(name) > 200)
        return kl_err_set(KL_EINVAL,
                          "certificate name '%s' is not usable in a file name (no '/', "
                          "no leading '.', at most 200 bytes)",
                          name);
    if (strcmp(name, "ca") == 0)
        return kl_err_set(KL_EINVAL, "certificate name 'ca' is reserved for the CA's own key");
    return KL_OK;
}

static bool
password_set(const char *pw)
{
    return pw && *pw && strcmp(pw, "default") != 0;
}

/* Writes <dir>/<base><suffix> and releases pem. */
static kl_rc
write_pem(const char *dir, const char *base, const char *suffix, kl_buf *pem, bool secret)
{
    char *path = NULL;
    kl_rc rc = kl_certgen_path(&path, dir, base, suffix);

    if (rc == KL_OK)
        rc = kl_certgen_write(path, kl_buf_bytes(pem), secret);
    kl_free(path);
    if (secret)
        kl_buf_free_secret(pem);
    else
        kl_buf_free(pem);
    return rc;
}

static kl_rc
write_key_files(const char *dir, const char *base, EVP_PKEY *key, const char *password)
{
    kl_buf pem;
    kl_rc rc;

    kl_buf_init(&pem, KEY_MAX);
    rc = kl_certgen_key_pem(&pem, key, password);
    if (rc == KL_OK)
        rc = write_pem(dir, base, "-private.pem", &pem, true);
    kl_buf_free_secret(&pem);
    kl_buf_init(&pem, KEY_MAX);
    if (rc == KL_OK)
        rc = kl_certgen_pub_pem(&pem, key);
    if (rc == KL_OK)
        rc = write_pem(dir, base, "-public.pem", &pem, false);
    kl_buf_free(&pem);
    return rc;
}

static kl_rc
write_cert(const char *dir, const char *base, const char *suffix, X509 *x)
{
    kl_buf pem;
    kl_rc rc;

    kl_buf_init(&pem, KEY_MAX);
    rc = kl_certgen_cert_pem(&pem, x);
    if (rc == KL_OK)
        return write_pem(dir, base, suffix, &pem, false);
    kl_buf_free(&pem);
    return rc;
}

static bool
old_ca_file(const char *n)
{
    static const char *const ext[] = {".pem", ".crt", ".der", ".zip"};
    size_t len = strlen(n);

    if (strcmp(n, KL_CA_SERIAL) == 0 || strcmp(n, KL_CA_REVOKED) == 0)
        return true;
    for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++)
        if (len > 4 && strcmp(n + len - 4, ext[i]) == 0)
            return true;
    return false;
}

/* Removes what upstream's init removes. */
static kl_rc
remove_old_ca(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    kl_rc rc = KL_OK;

    if (!d)
        return kl_err_set(KL_EIO, "cannot read directory %s: %s", dir, strerror(errno));
    while (rc == KL_OK && (e = readdir(d)) != NULL) {
        char *path = NULL;

        if (!old_ca_file(e->d_name))
            continue;
        rc = kl_certgen_path(&path, dir, e->d_name, "");
        if (rc == KL_OK && unlink(path) != 0 && errno != ENOENT)
            rc = kl_err_set(KL_EIO, "cannot remove %s: %s", path, strerror(errno));
        kl_free(path);
    }
    closedir(d);
    return rc;
}

static kl_rc
ca_extensions(X509 *x, const kl_ca_params *p)
{
    kl_rc rc = kl_certgen_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");

    if (rc == KL_OK)
        rc = kl_certgen_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
    if (rc == KL_OK)
        rc = kl_certgen_ext(x, x, NID_subject_key_identifier, "hash");
    if (rc == KL_OK)
        rc = kl_certgen_ext(x, x, NID_authority_key_identifier, "keyid:always");
    if (rc == KL_OK && p->crl_dist && *p->crl_dist) {
        char uri[1024];

        snprintf(uri, sizeof(uri), "URI:%s", p->crl_dist);
        rc = kl_certgen_ext(x, x, NID_crl_distribution_points, uri);
    }
    return rc;
}

/* The CA key and certificate (serial 1). */
static kl_rc
make_ca_cert(const kl_ca_params *p, EVP_PKEY **key, X509 **cert)
{
    X509_NAME *name = NULL;
    kl_rc rc = kl_certgen_key_rsa(key, p->bits);

    if (rc == KL_OK)
        rc = kl_certgen_name(&name, p, p->ca_name);
    if (rc == KL_OK)
        rc = kl_certgen_new(cert, *key, 1, p->ca_days, name, name);
    if (rc == KL_OK)
        rc = ca_extensions(*cert, p);
    if (rc == KL_OK)
        rc = kl_certgen_sign(*cert, *key);
    X509_NAME_free(name);
    return rc;
}

static kl_rc
write_empty_revoked(const char *dir)
{
    char *path = NULL;
    kl_rc rc = kl_certgen_path(&path, dir, KL_CA_REVOKED, "");

    if (rc == KL_OK)
        rc = kl_certgen_write(path, KL_BYTES("", 0), false);
    kl_free(path);
    return rc;
}

kl_rc
kl_ca_init(const char *dir, const kl_ca_params *p, bool replace)
{
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    char *cert_path = NULL;
    kl_rc rc = kl_certgen_mkdir(dir);

    if (rc == KL_OK)
        rc = kl_certgen_path(&cert_path, dir, KL_CA_CERT, "");
    if (rc == KL_OK && !replace && access(cert_path, F_OK) == 0)
        rc = kl_err_set(KL_EEXIST, "%s already exists", cert_path);
    if (rc == KL_OK && access(dir, W_OK) != 0)
        rc = kl_err_set(KL_EIO, "cannot write to %s: %s", dir, strerror(errno));
    if (rc == KL_OK && replace)
        rc = remove_old_ca(dir);
    if (rc == KL_OK)
        rc = make_ca_cert(p, &key, &cert);
    if (rc == KL_OK)
        rc = write_key_files(dir, "ca", key, password_set(p->password) ? p->password : NULL);
    if (rc == KL_OK)
        rc = kl_ca_set_last_serial(dir, 1);
    if (rc == KL_OK)
        rc = write_empty_revoked(dir);
    if (rc == KL_OK)
        rc = kl_ca_write_crl(dir, cert, key, p->cert_days);
    if (rc == KL_OK) /* last: its presence means the CA is complete */
        rc = write_cert(dir, KL_CA_CERT, "", cert);
    if (rc == KL_OK)
        LOG_INFO("CA created in %s", dir);
    EVP_PKEY_free(key);
    X509_free(cert);
    kl_free(cert_path);
    return rc;
}

kl_rc
kl_ca_open(kl_ca **out, const char *dir, const kl_ca_params *p)
{
    kl_ca *ca = kl_calloc(1, sizeof(*ca));
    char *path = NULL;
    kl_rc rc = ca ? KL_OK : kl_err_set(KL_ENOMEM, "out of memory");

    if (rc == KL_OK) {
        ca->p = *p;
        ca->dir = kl_strdup(dir);
        rc = ca->dir ? KL_OK : kl_err_set(KL_ENOMEM, "out of memory");
    }
    if (rc == KL_OK)
        rc = kl_certgen_path(&path, dir, KL_CA_CERT, "");
    if (rc == KL_OK)
        rc = kl_certgen_load_cert(&ca->cert, path);
    kl_free(path);
    path = NULL;
    if (rc == KL_OK)
        rc = kl_certgen_path(&path, dir, KL_CA_KEY, "");
    if (rc == KL_OK)
        rc = kl_certgen_load_key(&ca->key, path, password_set(p->password) ? p->password : NULL);
    if (rc == KL_OK && !X509_check_private_key(ca->cert, ca->key))
        rc = kl_err_set(KL_EINVAL, "%s does not match %s/" KL_CA_CERT, path, dir);
    kl_free(path);
    if (rc != KL_OK)
        kl_ca_free(ca);
    else
        *out = ca;
    return rc;
}

void
kl_ca_free(kl_ca *ca)
{
    if (!ca)
        return;
    X509_free(ca->cert);
    EVP_PKEY_free(ca->key);
    kl_free(ca->dir);
    kl_free(ca);
}

const char *
kl_ca_dir(const kl_ca *ca)
{
    return ca->dir;
}

static kl_rc
leaf_extensions(X509 *x, X509 *issuer, const kl_ca_params *p, const kl_ca_issue_opts *o,
                const char *name)
{
    static const char *const eku[] = {NULL, "serverAuth,clientAuth", "clientAuth"};
    kl_rc rc = kl_certgen_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE");

    if (rc == KL_OK)
        rc = kl_certgen_ext(x, issuer, NID_key_usage, "critical,digitalSignature,keyEncipherment");
    if (rc == KL_OK && eku[o->usage])
        rc = kl_certgen_ext(x, issuer, NID_ext_key_usage, eku[o->usage]);
    if (rc == KL_OK)
        rc = kl_certgen_ext(x, issuer, NID_subject_key_identifier, "hash");
    if (rc == KL_OK)
        rc = kl_certgen_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
    if (rc == KL_OK && o->n_sans > 0)
        rc = kl_certgen_sans(x, o->sans, o->n_sans);
    else if (rc == KL_OK)
        rc = kl_certgen_sans(x, &name, 1);
    if (rc == KL_OK && p->crl_dist && *p->crl_dist) {
        char uri[1024];

        snprintf(uri, sizeof(uri), "URI:%s", p->crl_dist);
        rc = kl_certgen_ext(x, issuer, NID_crl_distribution_points, uri);
    }
    return rc;
}

static kl_rc
fill_info(kl_ca_cert_info *info, const X509 *x)
{
    kl_rc rc = KL_OK;

    if (info) {
        rc = kl_certgen_serial(x, &info->serial);
        if (rc == KL_OK)
            rc = kl_certgen_subject(x, info->subject, sizeof(info->subject));
    }
    return rc;
}

kl_rc
kl_ca_issue(kl_ca *ca, const char *name, const kl_ca_issue_opts *o, kl_ca_cert_info *info)
{
    static const kl_ca_issue_opts none = {0};
    EVP_PKEY *key = NULL;
    X509 *x = NULL;
    X509_NAME *subject = NULL;
    uint64_t serial = 0;
    kl_rc rc = kl_ca_check_name(name);

    o = o ? o : &none;
    if (rc == KL_OK && (unsigned)o->usage > KL_CA_USE_CLIENT)
        rc = kl_err_set(KL_EINVAL, "unknown certificate usage %d", (int)o->usage);
    if (rc == KL_OK)
        rc = kl_ca_last_serial(ca->dir, &serial);
    if (rc == KL_OK)
        rc = kl_certgen_key_rsa(&key, ca->p.bits);
    if (rc == KL_OK)
        rc = kl_certgen_name(&subject, &ca->p, name);
    if (rc == KL_OK)
        rc = kl_certgen_new(&x, key, serial + 1, ca->p.cert_days, subject,
                            X509_get_subject_name(ca->cert));
    if (rc == KL_OK)
        rc = leaf_extensions(x, ca->cert, &ca->p, o, name);
    if (rc == KL_OK)
        rc = kl_certgen_sign(x, ca->key);
    if (rc == KL_OK) /* first, so that a serial is never given out twice */
        rc = kl_ca_set_last_serial(ca->dir, serial + 1);
    if (rc == KL_OK)
        rc = write_key_files(ca->dir, name, key, o->key_password);
    if (rc == KL_OK)
        rc = write_cert(ca->dir, name, "-cert.crt", x);
    if (rc == KL_OK)
        rc = fill_info(info, x);
    if (rc == KL_OK)
        LOG_INFO("issued %s (serial %llu) in %s", name, (unsigned long long)(serial + 1), ca->dir);
    X509_NAME_free(subject);
    X509_free(x);
    EVP_PKEY_free(key);
    return rc;
}

kl_rc
kl_ca_cert_info_get(const kl_ca *ca, const char *name, kl_ca_cert_info *info)
{
    X509 *x = NULL;
    char *path = NULL;
    kl_rc rc = kl_ca_check_name(name);

    if (rc == KL_OK)
        rc = kl_certgen_path(&path, ca->dir, name, "-cert.crt");
    if (rc == KL_OK)
        rc = kl_certgen_load_cert(&x, path);
    if (rc == KL_OK)
        rc = fill_info(info, x);
    X509_free(x);
    kl_free(path);
    return rc;
}

kl_rc
kl_ca_import_key(const char *dir, const kl_ca_params *p, const char *key_file, uint64_t last_serial)
{
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    char *path = NULL;
    kl_rc rc = kl_certgen_load_key(&key, key_file, NULL);

    if (rc == KL_OK)
        rc = kl_certgen_path(&path, dir, KL_CA_CERT, "");
    if (rc == KL_OK)
        rc = kl_certgen_load_cert(&cert, path);
    if (rc == KL_OK && !X509_check_private_key(cert, key))
        rc = kl_err_set(KL_EINVAL, "%s does not match %s", key_file, path);
    if (rc == KL_OK && last_serial >= UINT64_MAX - 1)
        rc = kl_err_set(KL_EINVAL, "serial %llu is too large", (unsigned long long)last_serial);
    if (rc == KL_OK)
        rc = write_key_files(dir, "ca", key, password_set(p->password) ? p->password : NULL);
    if (rc == KL_OK)
        rc = kl_ca_set_last_serial(dir, last_serial + 1);
    ERR_clear_error();
    X509_free(cert);
    EVP_PKEY_free(key);
    kl_free(path);
    return rc;
}
