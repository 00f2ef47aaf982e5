/* revocation: RSA-PSS signatures of revocation messages, and their
 * envelope. Signing needs the maximum PSS salt, which crypto/privkey does
 * not offer, so it talks to OpenSSL here. */
#include "payload/revocation.h"

#include "crypto/hash.h"
#include "crypto/privkey.h"
#include "crypto/pubkey.h"
#include "util/kl_alloc.h"
#include "util/kl_b64.h"

#include "json/json.h"
#include <limits.h>

/* Largest signature accepted: RSA-16384. */
#define SIG_MAX 2048

kl_rc
kl_revocation_verify(bool *ok, kl_bytes cert_pem, kl_bytes msg, kl_bytes sig_b64)
{
    uint8_t digest[32];
    kl_pubkey *key = NULL;
    kl_buf sig;
    kl_rc rc;

    *ok = false;
    kl_buf_init(&sig, SIG_MAX + 1);
    rc = kl_pubkey_load_pem(&key, cert_pem);
    if (rc != KL_OK)
        goto out;
    if (kl_b64_decode_append(&sig, sig_b64, false) != KL_OK) {
        rc = kl_err_set(KL_EPARSE, "revocation signature is not valid base64 (or too long)");
        goto out;
    }
    if (sig.len == 0 || kl_pubkey_is_ec(key))
        goto out;
    rc = kl_hash(KL_HASH_SHA256, msg.ptr, msg.len, digest);
    if (rc == KL_OK)
        rc = kl_pubkey_verify_rsapss_digest(key, KL_HASH_SHA256, KL_BYTES(digest, sizeof(digest)),
                                            kl_buf_bytes(&sig), ok);
out:
    kl_pubkey_free(key);
    kl_buf_free(&sig);
    return rc;
}

kl_rc
kl_revocation_sign(kl_buf *sig_b64, kl_bytes key_pem, kl_bytes msg)
{
    uint8_t digest[32];
    kl_privkey *key = NULL;
    kl_buf sig;
    kl_rc rc;

    kl_buf_init(&sig, SIG_MAX);
    rc = kl_privkey_load_pem(&key, key_pem);
    if (rc != KL_OK)
        rc = kl_err_wrap(rc, "revocation signing key: ");
    if (rc == KL_OK)
        rc = kl_hash(KL_HASH_SHA256, msg.ptr, msg.len, digest);
    if (rc == KL_OK)
        rc = kl_privkey_sign_digest(key, KL_SIG_RSAPSS_MAXSALT, KL_HASH_SHA256,
                                    KL_BYTES(digest, sizeof(digest)), &sig);
    if (rc == KL_EINVAL)
        rc = kl_err_set(KL_EINVAL, "revocation signing needs an RSA key");
    if (rc == KL_OK)
        rc = kl_b64_encode_append(sig_b64, sig.ptr, sig.len);
    kl_privkey_free(key);
    kl_buf_free(&sig);
    return rc;
}

/* The string member `name` of obj, or KL_EPARSE. */
static kl_rc
get_string(json_t *obj, const char *name, kl_bytes *out)
{
    json_t *v = json_object_get(obj, name);

    if (!v)
        return kl_err_set(KL_EPARSE, "revocation message: no \"%s\" member", name);
    if (!json_is_string(v))
        return kl_err_set(KL_EPARSE, "revocation message: \"%s\" is not a string", name);
    *out = KL_BYTES(json_string_value(v), json_string_length(v));
    return KL_OK;
}

kl_rc
kl_revocation_parse(kl_buf *msg_out, kl_buf *sig_out, kl_bytes body)
{
    json_t *env = NULL, *inner = NULL;
    kl_bytes msg, sig;
    kl_rc rc;

    rc = kl_json_parse(body, "revocation message", &env);
    if (rc != KL_OK)
        goto out;
    if (!json_is_object(env)) {
        rc = kl_err_set(KL_EPARSE, "revocation message: not a JSON object");
        goto out;
    }
    rc = get_string(env, "msg", &msg);
    if (rc == KL_OK)
        rc = get_string(env, "signature", &sig);
    if (rc == KL_OK)
        rc = kl_json_parse(msg, "revocation message \"msg\"", &inner);
    if (rc != KL_OK)
        goto out;
    if (!json_is_object(inner)) {
        rc = kl_err_set(KL_EPARSE, "revocation message: \"msg\" does not hold a JSON object");
        goto out;
    }
    rc = kl_buf_append(msg_out, msg.ptr, msg.len);
    if (rc == KL_OK)
        rc = kl_buf_append(sig_out, sig.ptr, sig.len);
out:
    json_decref(inner);
    json_decref(env);
    return rc;
}
