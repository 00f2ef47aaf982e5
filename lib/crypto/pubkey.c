#include "crypto/pubkey.h"

#include "crypto/crypto_int.h"
#include "util/kl_alloc.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdatomic.h>
#include <string.h>

kl_rc
kl_pubkey_wrap(kl_pubkey **out, EVP_PKEY *pkey)
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
    rc = kl_pubkey_wrap(out, pkey);
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
    return kl_pubkey_wrap(out, pkey);
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

/* --- Keys from raw parameters, TPM signature schemes, MakeCredential --- */

static const struct {
    const char *name; /* ours and OpenSSL's group name */
    int nid;
    size_t size;
} curves[KL_EC_COUNT] = {
    [KL_EC_P256] = {"P-256", NID_X9_62_prime256v1, 32},
    [KL_EC_P384] = {"P-384", NID_secp384r1, 48},
    [KL_EC_P521] = {"P-521", NID_secp521r1, 66},
};

size_t
kl_ec_curve_size(kl_ec_curve c)
{
    return (unsigned)c < KL_EC_COUNT ? curves[c].size : 0;
}

const char *
kl_ec_curve_name(kl_ec_curve c)
{
    return (unsigned)c < KL_EC_COUNT ? curves[c].name : "unknown";
}

const char *
kl_ec_curve_group(kl_ec_curve c)
{
    return kl_ec_curve_name(c);
}

/* A key made by EVP_PKEY_fromdata from what bld holds. */
static kl_rc
from_params(kl_pubkey **out, const char *type, OSSL_PARAM_BLD *bld, int selection)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY *pkey = NULL;
    kl_rc rc = KL_OK;

    if (!params || !ctx)
        rc = kl_err_set(KL_ENOMEM, "out of memory");
    else if (EVP_PKEY_fromdata_init(ctx) <= 0 ||
             EVP_PKEY_fromdata(ctx, &pkey, selection, params) <= 0)
        rc = kl_crypto_err(type[0] == 'R' ? "importing an RSA key" : "importing an EC key");
    OSSL_PARAM_free(params);
    EVP_PKEY_CTX_free(ctx);
    if (rc == KL_OK)
        rc = kl_pubkey_wrap(out, pkey);
    return rc;
}

kl_rc
kl_pubkey_from_rsa(kl_pubkey **out, kl_bytes n, uint64_t e)
{
    OSSL_PARAM_BLD *bld = NULL;
    BIGNUM *bn = NULL, *be = NULL;
    kl_rc rc;

    *out = NULL;
    while (n.len && n.ptr[0] == 0)
        n = KL_BYTES(n.ptr + 1, n.len - 1);
    if (n.len == 0 || !(n.ptr[n.len - 1] & 1))
        return kl_err_set(KL_EINVAL, "RSA modulus is %s", n.len ? "even" : "empty");
    if (e < 3 || !(e & 1))
        return kl_err_set(KL_EINVAL, "RSA exponent %llu is not odd and at least 3",
                          (unsigned long long)e);
    if (n.len > INT32_MAX)
        return kl_err_set(KL_ETOOBIG, "RSA modulus too large");
    bld = OSSL_PARAM_BLD_new();
    bn = BN_bin2bn(n.ptr, (int)n.len, NULL);
    be = BN_new();
    if (!bld || !bn || !be || !BN_set_word(be, (BN_ULONG)e) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be)) {
        rc = kl_err_set(KL_ENOMEM, "out of memory");
        goto out;
    }
    rc = from_params(out, "RSA", bld, EVP_PKEY_PUBLIC_KEY);
out:
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    return rc;
}

/* Whether the big-endian value v is below the field prime of curve c. */
static kl_rc
below_prime(kl_ec_curve c, kl_bytes v, const char *label)
{
    EC_GROUP *g = EC_GROUP_new_by_curve_name(curves[c].nid);
    BIGNUM *p = BN_new(), *x = BN_bin2bn(v.ptr, (int)v.len, NULL);
    kl_rc rc = KL_OK;

    if (!g || !p || !x || !EC_GROUP_get_curve(g, p, NULL, NULL, NULL))
        rc = kl_crypto_err("reading the curve parameters");
    else if (BN_cmp(x, p) >= 0)
        rc = kl_err_set(KL_EINVAL, "EC %s coordinate is not below the field prime of %s", label,
                        curves[c].name);
    EC_GROUP_free(g);
    BN_free(p);
    BN_free(x);
    return rc;
}

kl_rc
kl_pubkey_from_ec(kl_pubkey **out, kl_ec_curve curve, kl_bytes x, kl_bytes y)
{
    uint8_t point[1 + 2 * 66] = {0x04};
    OSSL_PARAM_BLD *bld = NULL;
    EVP_PKEY_CTX *check = NULL;
    size_t sz = kl_ec_curve_size(curve);
    kl_rc rc;

    *out = NULL;
    if (sz == 0)
        return kl_err_set(KL_EUNSUPPORTED, "unsupported elliptic curve");
    if (x.len > sz || y.len > sz)
        return kl_err_set(KL_EINVAL, "EC %s coordinate has %zu bytes, more than %zu for %s",
                          x.len > sz ? "x" : "y", x.len > sz ? x.len : y.len, sz,
                          curves[curve].name);
    if ((rc = below_prime(curve, x, "x")) != KL_OK || (rc = below_prime(curve, y, "y")) != KL_OK)
        return rc;
    if (x.len)
        memcpy(point + 1 + sz - x.len, x.ptr, x.len);
    if (y.len)
        memcpy(point + 1 + 2 * sz - y.len, y.ptr, y.len);
    bld = OSSL_PARAM_BLD_new();
    if (!bld ||
        !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, curves[curve].name, 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * sz)) {
        OSSL_PARAM_BLD_free(bld);
        return kl_err_set(KL_ENOMEM, "out of memory");
    }
    rc = from_params(out, "EC", bld, EVP_PKEY_PUBLIC_KEY);
    OSSL_PARAM_BLD_free(bld);
    ERR_clear_error();
    if (rc == KL_ECRYPTO)
        return kl_err_set(KL_EINVAL, "EC point is not on %s", curves[curve].name);
    if (rc != KL_OK)
        return rc;
    /* on the curve, not the point at infinity */
    check = EVP_PKEY_CTX_new((*out)->pkey, NULL);
    if (!check || EVP_PKEY_public_check(check) != 1) {
        rc = check ? kl_err_set(KL_EINVAL, "EC point is not a valid %s public key",
                                curves[curve].name)
                   : kl_err_set(KL_ENOMEM, "out of memory");
        kl_pubkey_free(*out);
        *out = NULL;
    }
    EVP_PKEY_CTX_free(check);
    ERR_clear_error();
    return rc;
}

bool
kl_pubkey_eq(const kl_pubkey *a, const kl_pubkey *b)
{
    bool eq = EVP_PKEY_eq(a->pkey, b->pkey) == 1;

    ERR_clear_error();
    return eq;
}

bool
kl_pubkey_ec_curve(const kl_pubkey *k, kl_ec_curve *out)
{
    char name[64];
    int nid;

    if (!kl_pubkey_is_ec(k) || !EVP_PKEY_get_group_name(k->pkey, name, sizeof(name), NULL)) {
        ERR_clear_error();
        return false;
    }
    nid = EC_curve_nist2nid(name);
    if (nid == NID_undef)
        nid = OBJ_sn2nid(name);
    for (int i = 0; i < KL_EC_COUNT; i++) {
        if (curves[i].nid == nid) {
            *out = (kl_ec_curve)i;
            return true;
        }
    }
    return false;
}

kl_rc
kl_pubkey_rsa_params(const kl_pubkey *k, kl_buf *n, uint64_t *e)
{
    BIGNUM *bn = NULL, *be = NULL;
    kl_rc rc;

    if (kl_pubkey_is_ec(k))
        return kl_err_set(KL_EINVAL, "not an RSA key");
    if (!EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_N, &bn) ||
        !EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_E, &be) || BN_num_bytes(be) > 8) {
        rc = kl_crypto_err("reading RSA parameters");
        goto out;
    }
    rc = kl_buf_reserve(n, (size_t)BN_num_bytes(bn));
    if (rc != KL_OK)
        goto out;
    n->len += (size_t)BN_bn2bin(bn, n->ptr + n->len);
    *e = 0;
    for (int i = BN_num_bits(be) - 1; i >= 0; i--)
        *e = *e << 1 | (uint64_t)BN_is_bit_set(be, i);
out:
    BN_free(bn);
    BN_free(be);
    return rc;
}

kl_rc
kl_pubkey_ec_params(const kl_pubkey *k, kl_ec_curve *curve, uint8_t *x, uint8_t *y)
{
    BIGNUM *bx = NULL, *by = NULL;
    kl_rc rc = KL_OK;
    size_t sz;

    if (!kl_pubkey_ec_curve(k, curve))
        return kl_err_set(KL_EINVAL, "not an EC key on P-256, P-384 or P-521");
    sz = curves[*curve].size;
    if (!EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_EC_PUB_X, &bx) ||
        !EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &by) ||
        BN_bn2binpad(bx, x, (int)sz) < 0 || BN_bn2binpad(by, y, (int)sz) < 0)
        rc = kl_crypto_err("reading EC parameters");
    BN_free(bx);
    BN_free(by);
    return rc;
}

/* One prehashed verification: pad is an RSA padding mode or 0 for EC. */
static kl_rc
verify_prehashed(const kl_pubkey *k, kl_hash_alg alg, int pad, kl_bytes digest, kl_bytes sig,
                 bool *ok)
{
    const EVP_MD *md = kl_hash_md(alg);
    EVP_PKEY_CTX *ctx;
    int r;

    *ok = false;
    if (!md || digest.len != kl_hash_size(alg) || kl_pubkey_is_ec(k) != (pad == 0))
        return KL_OK;
    ctx = EVP_PKEY_CTX_new(k->pkey, NULL);
    if (!ctx)
        return kl_err_set(KL_ENOMEM, "out of memory");
    if (EVP_PKEY_verify_init(ctx) <= 0 || EVP_PKEY_CTX_set_signature_md(ctx, md) <= 0 ||
        (pad && EVP_PKEY_CTX_set_rsa_padding(ctx, pad) <= 0) ||
        (pad == RSA_PKCS1_PSS_PADDING &&
         (EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_AUTO) <= 0 ||
          EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) <= 0))) {
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
kl_pubkey_verify_rsapss_digest(const kl_pubkey *k, kl_hash_alg alg, kl_bytes digest, kl_bytes sig,
                               bool *ok)
{
    return verify_prehashed(k, alg, RSA_PKCS1_PSS_PADDING, digest, sig, ok);
}

kl_rc
kl_pubkey_verify_ecdsa_rs(const kl_pubkey *k, kl_hash_alg alg, kl_bytes digest, kl_bytes r,
                          kl_bytes s, bool *ok)
{
    uint8_t der[2 * 66 + 16], *p = der;
    ECDSA_SIG *es;
    BIGNUM *br, *bs;
    int len;

    *ok = false;
    if (!kl_pubkey_is_ec(k) || r.len == 0 || s.len == 0 || r.len > 66 || s.len > 66)
        return KL_OK;
    es = ECDSA_SIG_new();
    br = BN_bin2bn(r.ptr, (int)r.len, NULL);
    bs = BN_bin2bn(s.ptr, (int)s.len, NULL);
    if (!es || !br || !bs || !ECDSA_SIG_set0(es, br, bs)) {
        ECDSA_SIG_free(es);
        BN_free(br);
        BN_free(bs);
        return kl_err_set(KL_ENOMEM, "out of memory");
    }
    len = i2d_ECDSA_SIG(es, NULL);
    if (len > 0 && (size_t)len <= sizeof(der))
        len = i2d_ECDSA_SIG(es, &p);
    ECDSA_SIG_free(es);
    if (len <= 0 || (size_t)len > sizeof(der))
        return kl_crypto_err("encoding an ECDSA signature");
    return verify_prehashed(k, alg, 0, digest, KL_BYTES(der, (size_t)len), ok);
}

kl_rc
kl_crypto_rsa_oaep(EVP_PKEY *pkey, bool encrypt, kl_hash_alg alg, kl_bytes label, kl_bytes in,
                   kl_buf *out)
{
    const EVP_MD *md = kl_hash_md(alg);
    EVP_PKEY_CTX *ctx = NULL;
    void *lab = NULL;
    size_t n = 0;
    int (*init)(EVP_PKEY_CTX *) = encrypt ? EVP_PKEY_encrypt_init : EVP_PKEY_decrypt_init;
    int (*run)(EVP_PKEY_CTX *, unsigned char *, size_t *, const unsigned char *, size_t) =
        encrypt ? EVP_PKEY_encrypt : EVP_PKEY_decrypt;
    kl_rc rc;

    if (EVP_PKEY_base_id(pkey) != EVP_PKEY_RSA || !md)
        return kl_err_set(KL_EINVAL, "RSA-OAEP needs an RSA key and a known hash");
    ctx = EVP_PKEY_CTX_new(pkey, NULL);
    /* the context takes ownership of the label */
    lab = label.len ? OPENSSL_memdup(label.ptr, label.len) : NULL;
    if (!ctx || (label.len && !lab)) {
        rc = kl_err_set(KL_ENOMEM, "out of memory");
        goto out;
    }
    if (init(ctx) <= 0 || EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) <= 0 ||
        EVP_PKEY_CTX_set_rsa_oaep_md(ctx, md) <= 0 || EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) <= 0 ||
        (lab && EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, lab, (int)label.len) <= 0)) {
        rc = kl_crypto_err("setting up RSA-OAEP");
        goto out;
    }
    lab = NULL; /* owned by ctx now */
    if (run(ctx, NULL, &n, in.ptr, in.len) <= 0) {
        rc = kl_crypto_err("setting up RSA-OAEP");
        goto out;
    }
    rc = kl_buf_reserve(out, n);
    if (rc != KL_OK)
        goto out;
    if (run(ctx, out->ptr + out->len, &n, in.ptr, in.len) <= 0) {
        ERR_clear_error();
        rc = encrypt ? kl_err_set(KL_EINVAL, "RSA-OAEP: %zu bytes do not fit the key", in.len)
                     : kl_err_set(KL_EVERIFY, "RSA-OAEP decryption failed");
        goto out;
    }
    out->len += n;
out:
    OPENSSL_free(lab);
    EVP_PKEY_CTX_free(ctx);
    return rc;
}

kl_rc
kl_pubkey_rsa_oaep_encrypt(const kl_pubkey *k, kl_hash_alg alg, kl_bytes label, kl_bytes in,
                           kl_buf *out)
{
    return kl_crypto_rsa_oaep(k->pkey, true, alg, label, in, out);
}

/* An EC key pair on curve c whose private scalar is d (test hook). */
static kl_rc
keypair_from_scalar(EVP_PKEY **out, kl_ec_curve c, kl_bytes d)
{
    EC_GROUP *g = EC_GROUP_new_by_curve_name(curves[c].nid);
    BIGNUM *bd = BN_bin2bn(d.ptr, (int)d.len, NULL);
    EC_POINT *q = g ? EC_POINT_new(g) : NULL;
    uint8_t point[1 + 2 * 66];
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    size_t plen = 0;
    kl_rc rc = KL_OK;

    *out = NULL;
    if (!g || !bd || !q || !bld) {
        rc = kl_err_set(KL_ENOMEM, "out of memory");
        goto out;
    }
    if (BN_is_zero(bd) || BN_cmp(bd, EC_GROUP_get0_order(g)) >= 0) {
        rc = kl_err_set(KL_EINVAL, "ephemeral scalar out of range for %s", curves[c].name);
        goto out;
    }
    if (!EC_POINT_mul(g, q, bd, NULL, NULL, NULL) ||
        !(plen = EC_POINT_point2oct(g, q, POINT_CONVERSION_UNCOMPRESSED, point, sizeof(point),
                                    NULL)) ||
        !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, curves[c].name, 0) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, bd) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, plen) ||
        !(params = OSSL_PARAM_BLD_to_param(bld)) ||
        !(ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, out, EVP_PKEY_KEYPAIR, params) <= 0)
        rc = kl_crypto_err("making the ephemeral key");
out:
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    EC_POINT_free(q);
    BN_clear_free(bd);
    EC_GROUP_free(g);
    return rc;
}

kl_rc
kl_pubkey_ecdh_ephemeral(const kl_pubkey *k, kl_bytes scalar, uint8_t *z, uint8_t *qx, uint8_t *qy)
{
    EVP_PKEY *eph = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    kl_pubkey view;
    kl_ec_curve c;
    size_t zlen = 0, sz;
    kl_rc rc;

    if (!kl_pubkey_ec_curve(k, &c))
        return kl_err_set(KL_EINVAL, "ECDH needs an EC key on P-256, P-384 or P-521");
    sz = curves[c].size;
    if (scalar.len) {
        if (scalar.len > sz)
            return kl_err_set(KL_EINVAL, "ephemeral scalar longer than %zu bytes", sz);
        rc = keypair_from_scalar(&eph, c, scalar);
        if (rc != KL_OK)
            return rc;
    } else if ((eph = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curves[c].name)) == NULL) {
        return kl_crypto_err("generating an ephemeral key");
    }
    ctx = EVP_PKEY_CTX_new(eph, NULL);
    if (!ctx || EVP_PKEY_derive_init(ctx) <= 0 || EVP_PKEY_derive_set_peer(ctx, k->pkey) <= 0 ||
        EVP_PKEY_derive(ctx, NULL, &zlen) <= 0 || zlen != sz ||
        EVP_PKEY_derive(ctx, z, &zlen) <= 0 || zlen != sz) {
        rc = kl_crypto_err("ECDH");
        goto out;
    }
    view.pkey = eph;
    rc = kl_pubkey_ec_params(&view, &c, qx, qy);
out:
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(eph);
    return rc;
}
