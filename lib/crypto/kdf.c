#include "crypto/kdf.h"

#include "crypto/crypto_int.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#define KDF_MAX_BITS (1u << 16)

/* HMAC over up to n parts. */
static kl_rc
hmac_parts(kl_hash_alg alg, kl_bytes key, const kl_bytes *parts, size_t n, uint8_t *out)
{
    const EVP_MD *md = kl_hash_md(alg);
    EVP_MAC *mac = NULL;
    EVP_MAC_CTX *ctx = NULL;
    OSSL_PARAM params[2];
    char mdname[64];
    size_t outlen = 0;
    kl_rc rc = KL_OK;

    if (!md)
        return kl_err_set(KL_EUNSUPPORTED, "hash %s is not available", kl_hash_name(alg));
    snprintf(mdname, sizeof(mdname), "%s", EVP_MD_get0_name(md));
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, mdname, 0);
    params[1] = OSSL_PARAM_construct_end();
    mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    /* an empty key is legal in HMAC; OpenSSL wants a non-NULL pointer */
    if (!ctx || !EVP_MAC_init(ctx, key.len ? key.ptr : (const uint8_t *)"", key.len, params)) {
        rc = kl_crypto_err("HMAC init");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (parts[i].len && !EVP_MAC_update(ctx, parts[i].ptr, parts[i].len)) {
            rc = kl_crypto_err("HMAC update");
            goto out;
        }
    }
    if (!EVP_MAC_final(ctx, out, &outlen, kl_hash_size(alg)))
        rc = kl_crypto_err("HMAC final");
out:
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return rc;
}

kl_rc
kl_hmac(kl_hash_alg alg, kl_bytes key, kl_bytes msg, uint8_t *out)
{
    return hmac_parts(alg, key, &msg, 1, out);
}

kl_rc
kl_hmac2(kl_hash_alg alg, kl_bytes key, kl_bytes a, kl_bytes b, uint8_t *out)
{
    const kl_bytes parts[2] = {a, b};

    return hmac_parts(alg, key, parts, 2, out);
}

static void
be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static kl_rc
check_bits(kl_hash_alg alg, size_t bits)
{
    if (bits == 0 || bits % 8 || bits > KDF_MAX_BITS)
        return kl_err_set(KL_EINVAL, "KDF output of %zu bits (need a positive multiple of 8)",
                          bits);
    if (kl_hash_md(alg) == NULL)
        return kl_err_set(KL_EUNSUPPORTED, "hash %s is not available", kl_hash_name(alg));
    return KL_OK;
}

kl_rc
kl_kdfa(kl_hash_alg alg, kl_bytes key, const char *label, kl_bytes context_u, kl_bytes context_v,
        size_t bits, uint8_t *out)
{
    size_t hlen = kl_hash_size(alg), want = bits / 8, done = 0;
    uint8_t counter[4], length[4], block[KL_HASH_MAX_SIZE];
    kl_rc rc = check_bits(alg, bits);

    if (rc != KL_OK)
        return rc;
    be32(length, (uint32_t)bits);
    for (uint32_t i = 1; done < want; i++) {
        /* the label is hashed with its NUL, which is the 0x00 separator */
        const kl_bytes parts[5] = {KL_BYTES(counter, 4), KL_BYTES(label, strlen(label) + 1),
                                   context_u, context_v, KL_BYTES(length, 4)};
        size_t n = want - done < hlen ? want - done : hlen;

        be32(counter, i);
        rc = hmac_parts(alg, key, parts, 5, block);
        if (rc != KL_OK)
            break;
        memcpy(out + done, block, n);
        done += n;
    }
    kl_wipe(block, sizeof(block));
    return rc;
}

kl_rc
kl_kdfe(kl_hash_alg alg, kl_bytes z, const char *label, kl_bytes party_u, kl_bytes party_v,
        size_t bits, uint8_t *out)
{
    size_t hlen = kl_hash_size(alg), want = bits / 8, done = 0;
    uint8_t counter[4], block[KL_HASH_MAX_SIZE];
    kl_hasher *h = NULL;
    kl_rc rc = check_bits(alg, bits);

    if (rc == KL_OK)
        rc = kl_hasher_new(&h);
    for (uint32_t i = 1; rc == KL_OK && done < want; i++) {
        size_t n = want - done < hlen ? want - done : hlen;

        be32(counter, i);
        rc = kl_hasher_start(h, alg);
        if (rc == KL_OK)
            rc = kl_hasher_update(h, counter, 4);
        if (rc == KL_OK)
            rc = kl_hasher_update(h, z.ptr, z.len);
        if (rc == KL_OK)
            rc = kl_hasher_update(h, label, strlen(label) + 1);
        if (rc == KL_OK)
            rc = kl_hasher_update(h, party_u.ptr, party_u.len);
        if (rc == KL_OK)
            rc = kl_hasher_update(h, party_v.ptr, party_v.len);
        if (rc == KL_OK)
            rc = kl_hasher_finish(h, block);
        if (rc == KL_OK) {
            memcpy(out + done, block, n);
            done += n;
        }
    }
    kl_wipe(block, sizeof(block));
    kl_hasher_free(h);
    return rc;
}
