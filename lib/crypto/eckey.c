#include "crypto/eckey.h"

#include "crypto/crypto_int.h"
#include "util/kl_alloc.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <time.h>

struct kl_eckey {
    EVP_PKEY *pkey;
};

static kl_rc
wrap(kl_eckey **out, EVP_PKEY *pkey)
{
    kl_eckey *k = kl_calloc(1, sizeof(*k));

    if (!k) {
        EVP_PKEY_free(pkey);
        return kl_err_set(KL_ENOMEM, "out of memory");
    }
    /* python-cryptography always writes the uncompressed point */
    (void)EVP_PKEY_set_utf8_string_param(pkey, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                         "uncompressed");
    ERR_clear_error();
    k->pkey = pkey;
    *out = k;
    return KL_OK;
}

kl_rc
kl_eckey_load_pem(kl_eckey **out, kl_bytes pem)
{
    EVP_PKEY *pkey;
    BIO *bio;
    int id;

    *out = NULL;
    if (pem.len > INT32_MAX)
        return kl_err_set(KL_ETOOBIG, "the key file is too large");
    bio = BIO_new_mem_buf(pem.ptr, (int)pem.len);
    if (!bio)
        return kl_err_set(KL_ENOMEM, "out of memory");
    pkey = PEM_read_bio_PrivateKey(bio, NULL, kl_crypto_no_passphrase, NULL);
    BIO_free(bio);
    ERR_clear_error();
    if (!pkey) {
        if (memmem(pem.ptr, pem.len, "ENCRYPTED", 9))
            return kl_err_set(KL_EINVAL, "the private key is encrypted; only unencrypted keys "
                                         "are supported");
        return kl_err_set(KL_EPARSE, "no PEM private key found");
    }
    id = EVP_PKEY_get_base_id(pkey);
    if (id != EVP_PKEY_EC) {
        const char *name = OBJ_nid2sn(id);

        EVP_PKEY_free(pkey);
        return kl_err_set(KL_EUNSUPPORTED,
                          "only elliptic curve keys are supported, this is "
                          "an %s key",
                          name ? name : "unknown");
    }
    return wrap(out, pkey);
}

kl_rc
kl_eckey_generate(kl_eckey **out)
{
    EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

    *out = NULL;
    if (!pkey)
        return kl_crypto_err("generating a P-256 key");
    return wrap(out, pkey);
}

void
kl_eckey_free(kl_eckey *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey);
    kl_free(k);
}

/* Appends what a BIO collected and frees it. */
static kl_rc
take_bio(BIO *bio, kl_buf *out)
{
    char *data;
    long n = BIO_get_mem_data(bio, &data);
    kl_rc rc = n >= 0 ? kl_buf_append(out, data, (size_t)n)
                      : kl_err_set(KL_EIO, "reading an OpenSSL memory buffer");

    BIO_free(bio);
    return rc;
}

kl_rc
kl_eckey_private_pem(const kl_eckey *k, kl_buf *out)
{
    BIO *bio = BIO_new(BIO_s_mem());

    if (!bio)
        return kl_err_set(KL_ENOMEM, "out of memory");
    if (!PEM_write_bio_PrivateKey_traditional(bio, k->pkey, NULL, NULL, 0, NULL, NULL)) {
        BIO_free(bio);
        return kl_crypto_err("writing the private key");
    }
    return take_bio(bio, out);
}

kl_rc
kl_eckey_public_pem(const kl_eckey *k, kl_buf *out)
{
    BIO *bio = BIO_new(BIO_s_mem());

    if (!bio)
        return kl_err_set(KL_ENOMEM, "out of memory");
    if (!PEM_write_bio_PUBKEY(bio, k->pkey)) {
        BIO_free(bio);
        return kl_crypto_err("writing the public key");
    }
    return take_bio(bio, out);
}

kl_rc
kl_eckey_sign_sha256(const kl_eckey *k, kl_bytes msg, kl_buf *out)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t n = 0;
    kl_rc rc;

    if (!ctx)
        return kl_err_set(KL_ENOMEM, "out of memory");
    if (EVP_DigestSignInit(ctx, NULL, kl_hash_md(KL_HASH_SHA256), NULL, k->pkey) != 1 ||
        EVP_DigestSign(ctx, NULL, &n, msg.ptr, msg.len) != 1) {
        rc = kl_crypto_err("signing");
        goto out;
    }
    rc = kl_buf_reserve(out, n);
    if (rc != KL_OK)
        goto out;
    if (EVP_DigestSign(ctx, out->ptr + out->len, &n, msg.ptr, msg.len) != 1) {
        rc = kl_crypto_err("signing");
        goto out;
    }
    out->len += n;
out:
    EVP_MD_CTX_free(ctx);
    return rc;
}

/* x509.random_serial_number(): 20 random bytes, shifted right by one. */
static bool
set_serial(X509 *x)
{
    unsigned char rnd[20];
    BIGNUM *bn = NULL;
    bool ok;

    ok = RAND_bytes(rnd, sizeof(rnd)) == 1 && (bn = BN_bin2bn(rnd, sizeof(rnd), NULL)) &&
         BN_rshift1(bn, bn) && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
    BN_free(bn);
    return ok;
}

/* datetime.today() read as UTC (what cryptography does with it), +days. */
static bool
set_validity(X509 *x, int days)
{
    time_t now = time(NULL), wall;
    struct tm tm;

    if (!localtime_r(&now, &tm))
        return false;
    wall = timegm(&tm);
    return ASN1_TIME_set(X509_getm_notBefore(x), wall - 86400) &&
           ASN1_TIME_set(X509_getm_notAfter(x), wall + (time_t)days * 86400);
}

static bool
add_ext(X509 *x, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, NULL, nid, value);
    bool ok = ext && X509_add_ext(x, ext, -1);

    X509_EXTENSION_free(ext);
    return ok;
}

kl_rc
kl_eckey_self_signed_cert(const kl_eckey *k, const char *name, int days, kl_buf *out)
{
    X509 *x = X509_new();
    X509_NAME *dn = X509_NAME_new();
    char san[256];
    BIO *bio = NULL;
    kl_rc rc;

    snprintf(san, sizeof(san), "DNS:%s", name);
    if (!x || !dn || !X509_set_version(x, 2) || !set_serial(x) ||
        !X509_NAME_add_entry_by_NID(dn, NID_commonName, MBSTRING_UTF8, (const unsigned char *)name,
                                    -1, -1, 0) ||
        !X509_set_subject_name(x, dn) || !X509_set_issuer_name(x, dn) || !set_validity(x, days) ||
        !X509_set_pubkey(x, k->pkey) || !add_ext(x, NID_subject_alt_name, san) ||
        !add_ext(x, NID_basic_constraints, "critical,CA:FALSE") ||
        !X509_sign(x, k->pkey, kl_hash_md(KL_HASH_SHA256))) {
        rc = kl_crypto_err("creating the certificate");
        goto out;
    }
    bio = BIO_new(BIO_s_mem());
    if (!bio || !PEM_write_bio_X509(bio, x)) {
        rc = kl_crypto_err("writing the certificate");
        BIO_free(bio);
        goto out;
    }
    rc = take_bio(bio, out);
out:
    X509_NAME_free(dn);
    X509_free(x);
    return rc;
}
