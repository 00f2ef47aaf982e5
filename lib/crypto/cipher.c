#include "crypto/cipher.h"

#include "crypto/crypto_int.h"

#include <limits.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

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

kl_rc
kl_rand_bytes(uint8_t *out, size_t n)
{
    if (n > INT_MAX || RAND_bytes(out, (int)n) != 1)
        return kl_crypto_err("random bytes");
    return KL_OK;
}
