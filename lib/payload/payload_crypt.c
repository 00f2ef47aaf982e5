/* payload_crypt: iv || AES-GCM ciphertext || tag, in base64. */
#include "payload/payload_crypt.h"

#include "crypto/cipher.h"
#include "util/kl_b64.h"

#include <stdint.h>

static kl_rc
check_key(kl_bytes key)
{
    if (key.len != 16 && key.len != 32)
        return kl_err_set(KL_EINVAL, "payload key of %zu bytes (need 16 or 32)", key.len);
    return KL_OK;
}

kl_rc
kl_payload_decrypt(kl_buf *out, kl_bytes key, kl_bytes text_b64)
{
    kl_buf raw;
    size_t n;
    kl_rc rc;

    rc = check_key(key);
    if (rc != KL_OK)
        return rc;
    kl_buf_init(&raw, text_b64.len / 4 * 3 + 4);
    if (kl_b64_decode_append(&raw, text_b64, false) != KL_OK) {
        rc = kl_err_set(KL_EPARSE, "payload is not valid base64");
        goto out;
    }
    if (raw.len < KL_PAYLOAD_IV + KL_AES_GCM_TAG) {
        rc = kl_err_set(KL_EPARSE, "payload of %zu bytes is shorter than IV and tag", raw.len);
        goto out;
    }
    n = raw.len - KL_PAYLOAD_IV - KL_AES_GCM_TAG;
    rc = kl_buf_reserve(out, n);
    if (rc != KL_OK)
        goto out;
    rc = kl_aes_gcm_decrypt(key, KL_BYTES(raw.ptr, KL_PAYLOAD_IV), KL_BYTES(NULL, 0),
                            KL_BYTES(raw.ptr + KL_PAYLOAD_IV, n),
                            raw.ptr + raw.len - KL_AES_GCM_TAG, out->ptr + out->len);
    if (rc == KL_OK)
        out->len += n;
out:
    kl_buf_free(&raw);
    return rc;
}

kl_rc
kl_payload_encrypt_iv(kl_buf *out_b64, kl_bytes key, const uint8_t iv[KL_PAYLOAD_IV],
                      kl_bytes plain)
{
    kl_buf raw;
    size_t n;
    kl_rc rc;

    rc = check_key(key);
    if (rc != KL_OK)
        return rc;
    if (plain.len > SIZE_MAX / 2)
        return kl_err_set(KL_ETOOBIG, "payload too large");
    n = plain.len + KL_PAYLOAD_IV + KL_AES_GCM_TAG;
    kl_buf_init(&raw, n + 1);
    rc = kl_buf_append(&raw, iv, KL_PAYLOAD_IV);
    if (rc == KL_OK)
        rc = kl_buf_reserve(&raw, n - KL_PAYLOAD_IV);
    if (rc != KL_OK)
        goto out;
    rc = kl_aes_gcm_encrypt(key, KL_BYTES(iv, KL_PAYLOAD_IV), KL_BYTES(NULL, 0), plain,
                            raw.ptr + KL_PAYLOAD_IV, raw.ptr + KL_PAYLOAD_IV + plain.len);
    if (rc != KL_OK)
        goto out;
    raw.len = n;
    rc = kl_b64_encode_append(out_b64, raw.ptr, raw.len);
out:
    kl_buf_free(&raw);
    return rc;
}

kl_rc
kl_payload_encrypt(kl_buf *out_b64, kl_bytes key, kl_bytes plain)
{
    uint8_t iv[KL_PAYLOAD_IV];
    kl_rc rc;

    rc = kl_rand_bytes(iv, sizeof(iv));
    if (rc != KL_OK)
        return rc;
    return kl_payload_encrypt_iv(out_b64, key, iv, plain);
}
