#include "crypto/pubkey.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdatomic.h>

#include "crypto/crypto_int.h"
#include "util/kl_alloc.h"

struct kl_pubkey {
    atomic_int refs;
    EVP_PKEY *pkey;
};

static kl_rc
wrap(kl_pubkey **out, EVP_PKEY *pkey)
{
    int id = EVP_PKEY_get_base_id(pkey);
    kl_pubkey *k;

    if (id != EVP_PKEY_RSA && id != EVP_PKEY_EC) {
        const char *name = OBJ_nid2sn(id);

        EVP_PKEY_free(pkey);
        return kl_err_set(KL_EUNSUPPORTED, "unsupported key type %s (only RSA and EC keys)",
                          name ? name : "unknown");
    }
    /* IMA key ids hash the uncompressed point, whatever form the key came in */
    if (id == EVP_PKEY_EC)
        (void)EVP_PKEY_set_utf8_string_param(pkey, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                             "uncompressed");
    k = kl_calloc(1, sizeof(*k));
    if (!k) {
        EVP_PKEY_free(pkey);
        return kl_err_set(KL_ENOMEM, "out of memory");
    }
    atomic_init(&k->refs, 1);
    k->pkey = pkey;
    *out = k;
    return KL_OK;
}

static bool
skid_keyid(X509 *cert, uint32_t *keyid)
{
    const ASN1_OCTET_STRING *skid = X509_get0_subject_key_id(cert);
    const uint8_t *p;
    int n;

    ERR_clear_error();
    if (!skid || (n = ASN1_STRING_length(skid)) < 4)
        return false;
    p = ASN1_STRING_get0_data(skid) + n - 4;
    *keyid = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    return true;
}

static EVP_PKEY *
from_cert(X509 *cert, uint32_t *keyid, bool *has_keyid)
{
    EVP_PKEY *pkey = X509_get_pubkey(cert);

    if (pkey && keyid && has_keyid)
        *has_keyid = skid_keyid(cert, keyid);
    X509_free(cert);
    return pkey;
}

static EVP_PKEY *
try_all(kl_bytes data, uint32_t *keyid, bool *has_keyid)
{
    const unsigned char *p;
    EVP_PKEY *pkey = NULL;
    X509 *cert;
    BIO *bio;

    if (data.len > INT32_MAX)
        return NULL;
    p = data.ptr;
    if ((cert = d2i_X509(NULL, &p, (long)data.len)) != NULL && p == data.ptr + data.len)
        return from_cert(cert, keyid, has_keyid);
    X509_free(cert);
    if ((bio = BIO_new_mem_buf(data.ptr, (int)data.len)) == NULL)
        return NULL;
    if ((cert = PEM_read_bio_X509(bio, NULL, kl_crypto_no_passphrase, NULL)) != NULL) {
        BIO_free(bio);
        return from_cert(cert, keyid, has_keyid);
    }
    p = data.ptr;
    if ((pkey = d2i_PUBKEY(NULL, &p, (long)data.len)) != NULL && p == data.ptr + data.len)
        goto done;
    EVP_PKEY_free(pkey);
    (void)BIO_reset(bio);
    if ((pkey = PEM_read_bio_PUBKEY(bio, NULL, kl_crypto_no_passphrase, NULL)) != NULL)
        goto done;
    p = data.ptr;
    if ((pkey = d2i_AutoPrivateKey(NULL, &p, (long)data.len)) != NULL)
        goto done;
    (void)BIO_reset(bio);
    pkey = PEM_read_bio_PrivateKey(bio, NULL, kl_crypto_no_passphrase, NULL);
done:
    BIO_free(bio);
    ERR_clear_error();
    return pkey;
}

kl_rc
kl_pubkey_load_any(kl_pubkey **out, kl_bytes data, uint32_t *keyid, bool *has_keyid)
{
    EVP_PKEY *pkey;
    kl_rc rc;

    *out = NULL;
    if (has_keyid)
        *has_keyid = false;
    pkey = try_all(data, keyid, has_keyid);
    if (!pkey)
        return kl_err_set(KL_ENOTFOUND, "no certificate or key found in the data");
    rc = wrap(out, pkey);
    if (rc != KL_OK && has_keyid)
        *has_keyid = false;
    return rc;
}

kl_rc
kl_pubkey_load_pem(kl_pubkey **out, kl_bytes pem)
{
    EVP_PKEY *pkey = NULL;
    X509 *cert;
    BIO *bio;

    *out = NULL;
    if (pem.len > INT32_MAX)
        return kl_err_set(KL_ETOOBIG, "PEM data larger than 2 GiB");
    if ((bio = BIO_new_mem_buf(pem.ptr, (int)pem.len)) == NULL)
        return kl_err_set(KL_ENOMEM, "out of memory");
    pkey = PEM_read_bio_PUBKEY(bio, NULL, kl_crypto_no_passphrase, NULL);
    if (!pkey) {
        (void)BIO_reset(bio);
        if ((cert = PEM_read_bio_X509(bio, NULL, kl_crypto_no_passphrase, NULL)) != NULL)
            pkey = from_cert(cert, NULL, NULL);
    }
    BIO_free(bio);
    ERR_clear_error();
    if (!pkey)
        return kl_err_set(KL_EPARSE, "not a PEM public key or certificate");
    return wrap(out, pkey);
}

kl_pubkey *
kl_pubkey_ref(kl_pubkey *k)
{
    if (k)
        atomic_fetch_add(&k->refs, 1);
    return k;
}

void
kl_pubkey_free(kl_pubkey *k)
{
    if (!k || atomic_fetch_sub(&k->refs, 1) != 1)
        return;
    EVP_PKEY_free(k->pkey);
    kl_free(k);
}

bool
kl_pubkey_is_ec(const kl_pubkey *k)
{
    return EVP_PKEY_get_base_id(k->pkey) == EVP_PKEY_EC;
}

static kl_rc
raw_public_bytes(const kl_pubkey *k, kl_buf *out)
{
    unsigned char *der = NULL;
    size_t n;
    int len;
    kl_rc rc;

    if (kl_pubkey_is_ec(k)) {
        n = EVP_PKEY_get1_encoded_public_key(k->pkey, &der);
        if (n == 0)
            return kl_crypto_err("encoding an EC public key");
        /* OpenSSL may hand out the compressed form; IMA uses uncompressed */
        if (der[0] != 0x04) {
            OPENSSL_free(der);
            return kl_err_set(KL_EUNSUPPORTED, "EC key is not in uncompressed form");
        }
    } else {
        len = i2d_PublicKey(k->pkey, &der);
        if (len <= 0)
            return kl_crypto_err("encoding an RSA public key");
        n = (size_t)len;
    }
    rc = kl_buf_append(out, der, n);
    OPENSSL_free(der);
    return rc;
}

kl_rc
kl_pubkey_ima_keyid(const kl_pubkey *k, uint32_t *out)
{
    uint8_t d[20];
    kl_buf raw;
    kl_rc rc;

    kl_buf_init(&raw, 1 << 16);
    rc = raw_public_bytes(k, &raw);
    if (rc == KL_OK)
        rc = kl_hash(KL_HASH_SHA1, raw.ptr, raw.len, d);
    if (rc == KL_OK)
        *out = (uint32_t)d[16] << 24 | (uint32_t)d[17] << 16 | (uint32_t)d[18] << 8 | d[19];
    kl_buf_free(&raw);
    return rc;
}

kl_rc
kl_pubkey_spki_der(const kl_pubkey *k, kl_buf *out)
{
    unsigned char *der = NULL;
    int len = i2d_PUBKEY(k->pkey, &der);
    kl_rc rc;

    if (len <= 0)
        return kl_crypto_err("encoding a public key");
    rc = kl_buf_append(out, der, (size_t)len);
    OPENSSL_free(der);
    return rc;
}

kl_rc
kl_pubkey_spki_pem(const kl_pubkey *k, kl_buf *out)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data;
    long n;
    kl_rc rc;

    if (!bio)
        return kl_err_set(KL_ENOMEM, "out of memory");
    if (!PEM_write_bio_PUBKEY(bio, k->pkey)) {
        BIO_free(bio);
        return kl_crypto_err("writing a PEM public key");
    }
    n = BIO_get_mem_data(bio, &data);
    rc = kl_buf_append(out, data, (size_t)n);
    BIO_free(bio);
    return rc;
}

kl_rc
kl_pubkey_verify_digest(const kl_pubkey *k, kl_hash_alg alg, kl_bytes digest, kl_bytes sig,
                        bool *ok)
{
    const EVP_MD *md = kl_hash_md(alg);
    EVP_PKEY_CTX *ctx;
    int r;

    *ok = false;
    if (!md || digest.len != kl_hash_size(alg))
        return KL_OK;
    ctx = EVP_PKEY_CTX_new(k->pkey, NULL);
    if (!ctx)
        return kl_err_set(KL_ENOMEM, "out of memory");
    if (EVP_PKEY_verify_init(ctx) <= 0 || EVP_PKEY_CTX_set_signature_md(ctx, md) <= 0 ||
        (!kl_pubkey_is_ec(k) && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0)) {
        EVP_PKEY_CTX_free(ctx);
        return kl_crypto_err("setting up a signature check");
    }
    r = EVP_PKEY_verify(ctx, sig.ptr, sig.len, digest.ptr, digest.len);
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    *ok = r == 1;
    return KL_OK;
}

kl_rc
kl_pubkey_verify_ecdsa_sha256(const kl_pubkey *k, kl_bytes msg, kl_bytes sig, bool *ok)
{
    EVP_MD_CTX *ctx;
    int r;

    *ok = false;
    if (!kl_pubkey_is_ec(k))
        return KL_OK;
    ctx = EVP_MD_CTX_new();
    if (!ctx)
        return kl_err_set(KL_ENOMEM, "out of memory");
    if (EVP_DigestVerifyInit(ctx, NULL, kl_hash_md(KL_HASH_SHA256), NULL, k->pkey) <= 0) {
        EVP_MD_CTX_free(ctx);
        return kl_crypto_err("setting up an ECDSA check");
    }
    r = EVP_DigestVerify(ctx, sig.ptr, sig.len, msg.ptr, msg.len);
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    *ok = r == 1;
    return KL_OK;
}
