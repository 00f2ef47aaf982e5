/* ca_crl: the CA's serial counter, revoked list and CRL (see ca.h). */
#include "crypto/crypto_int.h"
#include "tls/ca.h"
#include "tls/ca_int.h"
#include "tls/certgen.h"
#include "util/kl_alloc.h"
#include "util/kl_file.h"

#include <errno.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATE_MAX (1u << 20)
#define MAX_REVOKED 100000

/* Reads <dir>/<file> as text. */
static kl_rc
read_state(const char *dir, const char *file, kl_buf *b)
{
    char *path = NULL;
    kl_rc rc = kl_certgen_path(&path, dir, file, "");

    kl_buf_init(b, STATE_MAX);
    if (rc == KL_OK)
        rc = kl_file_read(path, b);
    if (rc == KL_OK)
        rc = kl_buf_terminate(b);
    kl_free(path);
    return rc;
}

static kl_rc
write_state(const char *dir, const char *file, const kl_buf *b)
{
    char *path = NULL;
    kl_rc rc = kl_certgen_path(&path, dir, file, "");

    if (rc == KL_OK)
        rc = kl_certgen_write(path, kl_buf_bytes(b), false);
    kl_free(path);
    return rc;
}

/* A decimal serial at *p (advanced past it and the line end). */
static bool
parse_serial(const char **p, uint64_t *out)
{
    char *end = NULL;
    unsigned long long v;

    if (**p < '0' || **p > '9')
        return false;
    errno = 0;
    v = strtoull(*p, &end, 10);
    if (errno || (*end != '\n' && *end != '\0'))
        return false;
    *out = v;
    *p = end + (*end == '\n');
    return true;
}

kl_rc
kl_ca_last_serial(const char *dir, uint64_t *out)
{
    kl_buf b;
    const char *p;
    kl_rc rc = read_state(dir, KL_CA_SERIAL, &b);

    p = rc == KL_OK ? (const char *)b.ptr : NULL;
    if (rc == KL_OK && (!parse_serial(&p, out) || *p != '\0'))
        rc = kl_err_set(KL_EPARSE, "%s/" KL_CA_SERIAL ": not a serial number", dir);
    kl_buf_free(&b);
    return rc;
}

kl_rc
kl_ca_set_last_serial(const char *dir, uint64_t serial)
{
    kl_buf b;
    kl_rc rc;

    kl_buf_init(&b, 64);
    rc = kl_buf_printf(&b, "%llu\n", (unsigned long long)serial);
    if (rc == KL_OK)
        rc = write_state(dir, KL_CA_SERIAL, &b);
    kl_buf_free(&b);
    return rc;
}

static kl_rc
add_revoked(X509_CRL *crl, uint64_t serial, const ASN1_TIME *when)
{
    X509_REVOKED *r = X509_REVOKED_new();
    ASN1_INTEGER *s = ASN1_INTEGER_new();
    bool ok = r && s && ASN1_INTEGER_set_uint64(s, serial) && X509_REVOKED_set_serialNumber(r, s) &&
              X509_REVOKED_set_revocationDate(r, (ASN1_TIME *)(uintptr_t)when) &&
              X509_CRL_add0_revoked(crl, r);

    ASN1_INTEGER_free(s);
    if (!ok) {
        X509_REVOKED_free(r);
        return kl_crypto_err("building the CRL");
    }
    return KL_OK;
}

/* The CRL entries from the text of ca-revoked. */
static kl_rc
add_revoked_list(X509_CRL *crl, const char *list, const ASN1_TIME *when, const char *dir)
{
    size_t n = 0;
    kl_rc rc = KL_OK;

    while (rc == KL_OK && *list) {
        uint64_t serial;

        if (!parse_serial(&list, &serial) || ++n > MAX_REVOKED)
            return kl_err_set(KL_EPARSE, "%s/" KL_CA_REVOKED ": bad line %zu", dir, n + 1);
        rc = add_revoked(crl, serial, when);
    }
    return rc;
}

static kl_rc
build_crl(X509_CRL **out, const char *dir, X509 *cert, EVP_PKEY *key, unsigned days,
          const char *list)
{
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *now = ASN1_TIME_new(), *next = ASN1_TIME_new();
    bool ok =
        crl && now && next && X509_gmtime_adj(now, 0) && X509_time_adj_ex(next, (int)days, 0, NULL);
    kl_rc rc = KL_OK;

    ok = ok && X509_CRL_set_version(crl, X509_CRL_VERSION_2);
    ok = ok && X509_CRL_set_issuer_name(crl, X509_get_subject_name(cert));
    ok = ok && X509_CRL_set1_lastUpdate(crl, now) && X509_CRL_set1_nextUpdate(crl, next);
    if (!ok)
        rc = kl_crypto_err("building the CRL");
    if (rc == KL_OK)
        rc = add_revoked_list(crl, list, now, dir);
    if (rc == KL_OK && (!X509_CRL_sort(crl) || X509_CRL_sign(crl, key, EVP_sha256()) <= 0))
        rc = kl_crypto_err("signing the CRL");
    ASN1_TIME_free(now);
    ASN1_TIME_free(next);
    if (rc != KL_OK)
        X509_CRL_free(crl);
    else
        *out = crl;
    return rc;
}

static kl_rc
write_crl_files(const char *dir, X509_CRL *crl)
{
    unsigned char *der = NULL;
    int der_len = i2d_X509_CRL(crl, &der);
    BIO *b = BIO_new(BIO_s_mem());
    char *path = NULL, *pem = NULL;
    long pem_len;
    kl_rc rc = KL_OK;

    if (der_len <= 0 || !b || !PEM_write_bio_X509_CRL(b, crl))
        rc = kl_crypto_err("encoding the CRL");
    if (rc == KL_OK)
        rc = kl_certgen_path(&path, dir, KL_CA_CRL_DER, "");
    if (rc == KL_OK)
        rc = kl_certgen_write(path, KL_BYTES(der, (size_t)der_len), false);
    kl_free(path);
    path = NULL;
    pem_len = b ? BIO_get_mem_data(b, &pem) : 0;
    if (rc == KL_OK)
        rc = kl_certgen_path(&path, dir, KL_CA_CRL_PEM, "");
    if (rc == KL_OK)
        rc = kl_certgen_write(path, KL_BYTES(pem, (size_t)pem_len), false);
    kl_free(path);
    OPENSSL_free(der);
    BIO_free(b);
    return rc;
}

kl_rc
kl_ca_write_crl(const char *dir, X509 *cert, EVP_PKEY *key, unsigned days)
{
    X509_CRL *crl = NULL;
    kl_buf list;
    kl_rc rc = read_state(dir, KL_CA_REVOKED, &list);

    if (rc == KL_OK)
        rc = build_crl(&crl, dir, cert, key, days, (const char *)list.ptr);
    if (rc == KL_OK)
        rc = write_crl_files(dir, crl);
    X509_CRL_free(crl);
    kl_buf_free(&list);
    return rc;
}

/* Whether the list text holds serial. */
static bool
list_has(const char *list, uint64_t serial)
{
    uint64_t s;

    while (*list && parse_serial(&list, &s))
        if (s == serial)
            return true;
    return false;
}

kl_rc
kl_ca_revoke_serial(kl_ca *ca, uint64_t serial)
{
    uint64_t last = 0;
    kl_buf list;
    kl_rc rc = kl_ca_last_serial(ca->dir, &last);

    kl_buf_init(&list, STATE_MAX);
    if (rc == KL_OK && (serial < 2 || serial > last))
        rc = kl_err_set(KL_EINVAL, "serial %llu was not issued by this CA (2..%llu)",
                        (unsigned long long)serial, (unsigned long long)last);
    if (rc == KL_OK)
        rc = read_state(ca->dir, KL_CA_REVOKED, &list);
    if (rc == KL_OK && !list_has((const char *)list.ptr, serial)) {
        rc = kl_buf_printf(&list, "%llu\n", (unsigned long long)serial);
        if (rc == KL_OK)
            rc = write_state(ca->dir, KL_CA_REVOKED, &list);
    }
    if (rc == KL_OK)
        rc = kl_ca_write_crl(ca->dir, ca->cert, ca->key, ca->p.cert_days);
    kl_buf_free(&list);
    return rc;
}

kl_rc
kl_ca_revoke_name(kl_ca *ca, const char *name, uint64_t *serial_out)
{
    kl_ca_cert_info info;
    kl_rc rc = kl_ca_cert_info_get(ca, name, &info);

    if (rc == KL_OK)
        rc = kl_ca_revoke_serial(ca, info.serial);
    if (rc == KL_OK && serial_out)
        *serial_out = info.serial;
    return rc;
}
