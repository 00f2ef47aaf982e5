#include "crypto/privkey.h"

#include "crypto/crypto_int.h"
#include "util/kl_alloc.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <string.h>

struct kl_privkey {
    EVP_PKEY *pkey;
};

static kl_rc
wrap(kl_privkey **out, EVP_PKEY *pkey)
{
    int id = EVP_PKEY_get_base_id(pkey);
    kl_privkey *k;

    if (id != EVP_PKEY_RSA && id != EVP_PKEY_EC) {
        EVP_PKEY_free(pkey);
        return kl_err_set(KL_EUNSUPPORTED, "only RSA and EC private keys are supported");
    }
    k = kl_calloc(1, sizeof(*k));
    if (!k) {
        EVP_PKEY_free(pkey);
        return kl_err_set(KL_ENOMEM, "out of memory");
    }
    k->pkey = pkey;
    *out = k;
    return KL_OK;
}

static bool
is_ec(const kl_privkey *k)
{
    return EVP_PKEY_get_base_id(k->pkey) == EVP_PKEY_EC;
}

kl_rc
kl_privkey_load_pem(kl_privkey **out, kl_bytes pem)
{
    EVP_PKEY *pkey;
    BIO *bio;

    *out = NULL;
    if (pem.len > INT32_MAX)
        return kl_err_set(KL_ETOOBIG, "PEM data too large");
    bio = BIO_new_mem_buf(pem.ptr, (int)pem.len);
    if (!bio)
        return kl_err_set(KL_ENOMEM, "out of memory");
    pkey = PEM_read_bio_PrivateKey(bio, NULL, kl_crypto_no_passphrase, NULL);
    BIO_free(bio);
    ERR_clear_error();
    if (!pkey)
        return kl_err_set(KL_EPARSE, "no unencrypted PEM private key found");
    return wrap(out, pkey);
}

kl_rc
kl_privkey_generate_rsa(kl_privkey **out, unsigned bits)
{
    EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);

    *out = NULL;
    if (!pkey)
        return kl_crypto_err("generating an RSA key");
    return wrap(out, pkey);
}

kl_rc
kl_privkey_generate_ec(kl_privkey **out, kl_ec_curve c)
{
    EVP_PKEY *pkey;

    *out = NULL;
    if (kl_ec_curve_size(c) == 0)
        return kl_err_set(KL_EINVAL, "unknown curve");
    pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", kl_ec_curve_group(c));
    if (!pkey)
        return kl_crypto_err("generating an EC key");
    return wrap(out, pkey);
}

void
kl_privkey_free(kl_privkey *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey);
    kl_free(k);
}

kl_rc
kl_privkey_public(const kl_privkey *k, kl_pubkey **out)
{
    unsigned char *der = NULL;
    const unsigned char *p;
    EVP_PKEY *pub;
    int len;

    *out = NULL;
    len = i2d_PUBKEY(k->pkey, &der);
    if (len <= 0)
        return kl_crypto_err("encoding the public key");
    p = der;
    pub = d2i_PUBKEY(NULL, &p, len);
    OPENSSL_free(der);
    if (!pub)
        return kl_crypto_err("decoding the public key");
    return kl_pubkey_wrap(out, pub);
}

kl_rc
kl_privkey_pem(const kl_privkey *k, kl_buf *out)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data;
    long n;
    kl_rc rc;

    if (!bio)
        return kl_err_set(KL_ENOMEM, "out of memory");
    if (!PEM_write_bio_PrivateKey(bio, k->pkey, NULL, NULL, 0, NULL, NULL)) {
        BIO_free(bio);
        return kl_crypto_err("writing the private key");
    }
    n = BIO_get_mem_data(bio, &data);
    rc = kl_buf_append(out, data, (size_t)n);
    OPENSSL_cleanse(data, (size_t)n);
    BIO_free(bio);
    return rc;
}

/* Converts a DER ECDSA signature into r || s of sz bytes each. */
static kl_rc
der_to_rs(const uint8_t *der, size_t len, size_t sz, kl_buf *out)
{
    const unsigned char *p = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)len);
    const BIGNUM *r, *s;
    kl_rc rc;

    if (!es)
        return kl_crypto_err("decoding an ECDSA signature");
    ECDSA_SIG_get0(es, &r, &s);
    rc = kl_buf_reserve(out, 2 * sz);
    if (rc == KL_OK && (BN_bn2binpad(r, out->ptr + out->len, (int)sz) < 0 ||
                        BN_bn2binpad(s, out->ptr + out->len + sz, (int)sz) < 0))
        rc = kl_crypto_err("encoding r and s");
    if (rc == KL_OK)
        out->len += 2 * sz;
    ECDSA_SIG_free(es);
    return rc;
}

kl_rc
kl_privkey_sign_digest(const kl_privkey *k, kl_sig_scheme scheme, kl_hash_alg alg, kl_bytes digest,
                       kl_buf *out)
{
    const EVP_MD *md = kl_hash_md(alg);
    uint8_t sig[1024];
    size_t n = sizeof(sig), fsz = 0;
    EVP_PKEY_CTX *ctx;
    kl_pubkey *pub = NULL;
    kl_ec_curve c;
    kl_rc rc = KL_OK;

    if (!md || digest.len != kl_hash_size(alg) || is_ec(k) != (scheme == KL_SIG_ECDSA))
        return kl_err_set(KL_EINVAL, "signature scheme, hash or digest do not fit the key");
    if (scheme == KL_SIG_ECDSA) {
        rc = kl_privkey_public(k, &pub);
        if (rc != KL_OK)
            return rc;
        if (!kl_pubkey_ec_curve(pub, &c))
            rc = kl_err_set(KL_EINVAL, "not an EC key on P-256, P-384 or P-521");
        kl_pubkey_free(pub);
        if (rc != KL_OK)
            return rc;
        fsz = kl_ec_curve_size(c);
    }
    ctx = EVP_PKEY_CTX_new(k->pkey, NULL);
    if (!ctx)
        return kl_err_set(KL_ENOMEM, "out of memory");
    if (EVP_PKEY_sign_init(ctx) <= 0 || EVP_PKEY_CTX_set_signature_md(ctx, md) <= 0 ||
        (scheme == KL_SIG_RSASSA && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0) ||
        ((scheme == KL_SIG_RSAPSS || scheme == KL_SIG_RSAPSS_MAXSALT) &&
         (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
          EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, scheme == KL_SIG_RSAPSS ? RSA_PSS_SALTLEN_DIGEST
                                                                        : RSA_PSS_SALTLEN_MAX) <=
              0 ||
          EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) <= 0)) ||
        EVP_PKEY_sign(ctx, sig, &n, digest.ptr, digest.len) <= 0)
        rc = kl_crypto_err("signing");
    EVP_PKEY_CTX_free(ctx);
    if (rc != KL_OK)
        return rc;
    if (scheme == KL_SIG_ECDSA)
        return der_to_rs(sig, n, fsz, out);
    return kl_buf_append(out, sig, n);
}

kl_rc
kl_privkey_rsa_oaep_decrypt(const kl_privkey *k, kl_hash_alg alg, kl_bytes label, kl_bytes in,
                            kl_buf *out)
{
    return kl_crypto_rsa_oaep(k->pkey, false, alg, label, in, out);
}

kl_rc
kl_privkey_ecdh(const kl_privkey *k, kl_bytes x, kl_bytes y, uint8_t *z)
{
    kl_pubkey *mine = NULL, *peer = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    kl_ec_curve c;
    size_t zlen = 0;
    kl_rc rc;

    if (!is_ec(k))
        return kl_err_set(KL_EINVAL, "ECDH needs an EC key");
    rc = kl_privkey_public(k, &mine);
    if (rc != KL_OK)
        return rc;
    if (!kl_pubkey_ec_curve(mine, &c)) {
        rc = kl_err_set(KL_EINVAL, "not an EC key on P-256, P-384 or P-521");
        goto out;
    }
    rc = kl_pubkey_from_ec(&peer, c, x, y);
    if (rc != KL_OK)
        goto out;
    ctx = EVP_PKEY_CTX_new(k->pkey, NULL);
    if (!ctx || EVP_PKEY_derive_init(ctx) <= 0 || EVP_PKEY_derive_set_peer(ctx, peer->pkey) <= 0 ||
        EVP_PKEY_derive(ctx, NULL, &zlen) <= 0 || zlen != kl_ec_curve_size(c) ||
        EVP_PKEY_derive(ctx, z, &zlen) <= 0)
        rc = kl_crypto_err("ECDH");
out:
    EVP_PKEY_CTX_free(ctx);
    kl_pubkey_free(mine);
    kl_pubkey_free(peer);
    return rc;
}
