#include "crypto/cipher.h"

#include "crypto/crypto_int.h"

#include <limits.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

static kl_rc
aes_cfb(kl_bytes key, const uint8_t iv[KL_AES_BLOCK], kl_bytes in, uint8_t *out, int enc)
{
    const char *name = key.len == 16   ? "AES-128-CFB"
                       : key.len == 24 ? "AES-192-CFB"
                       : key.len == 32 ? "AES-256-CFB"
                                       : NULL;
    EVP_CIPHER *cipher = NULL;
    EVP_CIPHER_CTX *ctx = NULL;
    int n = 0, tail = 0;
    kl_rc rc = KL_OK;

    if (!name)
        return kl_err_set(KL_EINVAL, "AES key of %zu bytes (need 16, 24 or 32)", key.len);
    if (in.len > INT_MAX)
        return kl_err_set(KL_ETOOBIG, "AES-CFB input too large");
    cipher = EVP_CIPHER_fetch(NULL, name, NULL);
    ctx = EVP_CIPHER_CTX_new();
    if (!cipher || !ctx || !EVP_CipherInit_ex2(ctx, cipher, key.ptr, iv, enc, NULL) ||
        (in.len && !EVP_CipherUpdate(ctx, out, &n, in.ptr, (int)in.len)) ||
        !EVP_CipherFinal_ex(ctx, out + n, &tail) || (size_t)(n + tail) != in.len)
        rc = kl_crypto_err(enc ? "AES-CFB encryption" : "AES-CFB decryption");
    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_free(cipher);
    return rc;
}

kl_rc
kl_aes_cfb_encrypt(kl_bytes key, const uint8_t iv[KL_AES_BLOCK], kl_bytes in, uint8_t *out)
{
    return aes_cfb(key, iv, in, out, 1);
}

kl_rc
kl_aes_cfb_decrypt(kl_bytes key, const uint8_t iv[KL_AES_BLOCK], kl_bytes in, uint8_t *out)
{
    return aes_cfb(key, iv, in, out, 0);
}

/* One AES-GCM pass; tag is written (enc) or checked (!enc). */
static kl_rc
aes_gcm(kl_bytes key, kl_bytes iv, kl_bytes aad, kl_bytes in, uint8_t *out, uint8_t *tag, int enc)
{
    const char *name = key.len == 16 ? "AES-128-GCM" : key.len == 32 ? "AES-256-GCM" : NULL;
    EVP_CIPHER *cipher = NULL;
    EVP_CIPHER_CTX *ctx = NULL;
    int n = 0, tail = 0, ivlen = (int)iv.len;
    uint8_t fin[KL_AES_BLOCK];
    kl_rc rc = KL_OK;

    if (!name)
        return kl_err_set(KL_EINVAL, "AES-GCM key of %zu bytes (need 16 or 32)", key.len);
    if (iv.len == 0 || iv.len > 64)
        return kl_err_set(KL_EINVAL, "AES-GCM IV of %zu bytes (need 1 to 64)", iv.len);
    if (in.len > INT_MAX || aad.len > INT_MAX)
        return kl_err_set(KL_ETOOBIG, "AES-GCM input too large");
    cipher = EVP_CIPHER_fetch(NULL, name, NULL);
    ctx = EVP_CIPHER_CTX_new();
    if (!cipher || !ctx || !EVP_CipherInit_ex2(ctx, cipher, NULL, NULL, enc, NULL) ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, ivlen, NULL) <= 0 ||
        !EVP_CipherInit_ex2(ctx, NULL, key.ptr, iv.ptr, enc, NULL) ||
        (aad.len && !EVP_CipherUpdate(ctx, NULL, &n, aad.ptr, (int)aad.len)) ||
        (in.len && !EVP_CipherUpdate(ctx, out, &n, in.ptr, (int)in.len)) ||
        (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, KL_AES_GCM_TAG, tag) <= 0)) {
        rc = kl_crypto_err(enc ? "AES-GCM encryption" : "AES-GCM decryption");
        goto out;
    }
    if (!in.len)
        n = 0;
    if (!EVP_CipherFinal_ex(ctx, in.len ? out + n : fin, &tail) || (size_t)(n + tail) != in.len) {
        ERR_clear_error();
        rc = enc ? kl_err_set(KL_ECRYPTO, "AES-GCM encryption failed")
                 : kl_err_set(KL_EVERIFY, "AES-GCM tag mismatch: wrong key or damaged data");
        goto out;
    }
    if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, KL_AES_GCM_TAG, tag) <= 0)
        rc = kl_crypto_err("AES-GCM tag");
out:
    if (rc != KL_OK && in.len)
        kl_wipe(out, in.len);
    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_free(cipher);
    return rc;
}

kl_rc
kl_aes_gcm_encrypt(kl_bytes key, kl_bytes iv, kl_bytes aad, kl_bytes in, uint8_t *out,
                   uint8_t tag[KL_AES_GCM_TAG])
{
    return aes_gcm(key, iv, aad, in, out, tag, 1);
}

kl_rc
kl_aes_gcm_decrypt(kl_bytes key, kl_bytes iv, kl_bytes aad, kl_bytes in,
                   const uint8_t tag[KL_AES_GCM_TAG], uint8_t *out)
{
    uint8_t t[KL_AES_GCM_TAG];

    memcpy(t, tag, sizeof(t));
    return aes_gcm(key, iv, aad, in, out, t, 0);
}

kl_rc
kl_rand_bytes(uint8_t *out, size_t n)
{
    if (n > INT_MAX || RAND_bytes(out, (int)n) != 1)
        return kl_crypto_err("random bytes");
    return KL_OK;
}
