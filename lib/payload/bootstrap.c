/* bootstrap: K = U xor V, auth tags and /keys/verify answers. */
#include "payload/bootstrap.h"

#include "crypto/cipher.h"
#include "crypto/kdf.h"
#include "util/kl_hex.h"

#define TAG_LEN (KL_BOOTSTRAP_TAG_HEX / 2)

kl_rc
kl_bootstrap_combine(uint8_t *k_out, kl_bytes u, kl_bytes v)
{
    if (u.len != v.len)
        return kl_err_set(KL_EINVAL, "U (%zu bytes) and V (%zu bytes) differ in length", u.len,
                          v.len);
    if (u.len != 16 && u.len != 32)
        return kl_err_set(KL_EINVAL, "U and V of %zu bytes (need 16 or 32)", u.len);
    for (size_t i = 0; i < u.len; i++)
        k_out[i] = u.ptr[i] ^ v.ptr[i];
    return KL_OK;
}

kl_rc
kl_bootstrap_hmac_hex(char out[KL_BOOTSTRAP_TAG_HEX + 1], kl_bytes key, kl_bytes msg)
{
    uint8_t mac[TAG_LEN];
    kl_rc rc;

    out[0] = '\0';
    rc = kl_hmac(KL_HASH_SHA384, key, msg, mac);
    if (rc == KL_OK)
        kl_hex_encode(out, mac, sizeof(mac));
    kl_wipe(mac, sizeof(mac));
    return rc;
}

kl_rc
kl_bootstrap_tag_decode(uint8_t out[KL_BOOTSTRAP_TAG_HEX / 2], kl_bytes tag_hex)
{
    if (tag_hex.len != KL_BOOTSTRAP_TAG_HEX)
        return kl_err_set(KL_EPARSE, "auth_tag has %zu characters (need %d hex digits)",
                          tag_hex.len, KL_BOOTSTRAP_TAG_HEX);
    if (!kl_hex_decode(out, tag_hex))
        return kl_err_set(KL_EPARSE, "auth_tag is not hex");
    return KL_OK;
}

kl_rc
kl_bootstrap_check_tag(bool *ok, kl_bytes k, kl_bytes uuid, kl_bytes tag_hex)
{
    uint8_t want[TAG_LEN], got[TAG_LEN];
    kl_rc rc;

    *ok = false;
    rc = kl_bootstrap_tag_decode(got, tag_hex);
    if (rc != KL_OK)
        return rc;
    rc = kl_hmac(KL_HASH_SHA384, k, uuid, want);
    if (rc == KL_OK)
        *ok = kl_ct_equal(want, got, sizeof(want));
    kl_wipe(want, sizeof(want));
    return rc;
}

kl_rc
kl_bootstrap_split(uint8_t k[32], uint8_t u[32], uint8_t v[32])
{
    kl_rc rc;

    rc = kl_rand_bytes(k, 32);
    if (rc == KL_OK)
        rc = kl_rand_bytes(v, 32);
    if (rc != KL_OK) {
        kl_wipe(k, 32);
        kl_wipe(v, 32);
        return rc;
    }
    for (size_t i = 0; i < 32; i++)
        u[i] = k[i] ^ v[i];
    return KL_OK;
}
