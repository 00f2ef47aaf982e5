#include "policy/dsse_sign.h"

#include "crypto/hash.h"
#include "policy/dsse.h"
#include "policy/runtime_policy.h"
#include "util/kl_b64.h"
#include "util/kl_hex.h"

#include "json/json.h"
#include <jansson.h>

#define SIGN_TEXT_MAX ((size_t)2 << 30)

kl_rc
kl_dsse_sign_keyid_ecdsa(const kl_eckey *key, kl_buf *out)
{
    uint8_t digest[32];
    kl_buf pem;
    kl_rc rc;

    kl_buf_init(&pem, 1 << 16);
    rc = kl_eckey_public_pem(key, &pem);
    if (rc == KL_OK)
        rc = kl_hash(KL_HASH_SHA256, pem.ptr, pem.len, digest);
    if (rc == KL_OK)
        rc = kl_hex_encode_append(out, digest, sizeof(digest));
    kl_buf_free(&pem);
    return rc;
}

kl_rc
kl_dsse_sign_keyid_x509(kl_bytes cert_pem, kl_buf *out)
{
    return kl_b64_encode_append(out, cert_pem.ptr, cert_pem.len);
}

/* A JSON string of base64(p). */
static json_t *
b64_string(kl_bytes p, kl_rc *rc)
{
    kl_buf b;
    json_t *j = NULL;

    kl_buf_init(&b, SIGN_TEXT_MAX);
    *rc = kl_b64_encode_append(&b, p.ptr, p.len);
    if (*rc == KL_OK) {
        j = json_stringn(b.ptr ? (const char *)b.ptr : "", b.len);
        if (!j)
            *rc = kl_err_set(KL_ENOMEM, "out of memory");
    }
    kl_buf_free(&b);
    return j;
}

kl_rc
kl_dsse_sign_envelope(kl_buf *out, kl_bytes type, kl_bytes payload, const kl_eckey *key,
                      kl_bytes keyid)
{
    json_t *env = NULL, *jpayload = NULL, *jsig = NULL;
    kl_buf pae, sig;
    kl_rc rc;

    kl_buf_init(&pae, SIGN_TEXT_MAX);
    kl_buf_init(&sig, 1024);
    rc = kl_dsse_pae(&pae, type, payload);
    if (rc == KL_OK)
        rc = kl_eckey_sign_sha256(key, kl_buf_bytes(&pae), &sig);
    if (rc == KL_OK)
        jpayload = b64_string(payload, &rc);
    if (rc == KL_OK)
        jsig = b64_string(kl_buf_bytes(&sig), &rc);
    if (rc != KL_OK)
        goto out;
    env = json_pack("{s:O,s:s%,s:[{s:s%,s:O}]}", "payload", jpayload, "payloadType",
                    (const char *)type.ptr, type.len, "signatures", "keyid",
                    (const char *)keyid.ptr, keyid.len, "sig", jsig);
    rc = env ? kl_json_dump_py(out, env) : kl_err_set(KL_ENOMEM, "out of memory");
out:
    json_decref(env);
    json_decref(jpayload);
    json_decref(jsig);
    kl_buf_free(&pae);
    kl_buf_free(&sig);
    return rc;
}

kl_rc
kl_dsse_sign_policy_payload(kl_buf *out, kl_bytes policy_text)
{
    kl_runtime_policy *policy = NULL;
    size_t start = out->len;
    json_t *j = NULL;
    bool envelope;
    kl_rc rc;

    rc = kl_dsse_is_envelope(policy_text, &envelope);
    if (rc == KL_OK && envelope)
        return kl_err_set(KL_EPARSE, "it is already a DSSE envelope, not a runtime policy");
    if (rc == KL_OK)
        rc = kl_json_parse(policy_text, "runtime policy", &j);
    if (rc == KL_OK)
        rc = kl_json_dump_py(out, j);
    if (rc == KL_OK)
        rc = kl_runtime_policy_load(&policy, KL_BYTES(out->ptr + start, out->len - start), NULL);
    if (rc != KL_OK)
        out->len = start;
    kl_runtime_policy_free(policy);
    json_decref(j);
    return rc;
}
