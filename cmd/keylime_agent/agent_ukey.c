/* agent_ukey: POST keys/ukey, POST keys/vkey, GET keys/verify (PROTOCOL.md
 * section 5). U (from the tenant, with the auth_tag and the payload) and V
 * (from the verifier, after a good quote) arrive encrypted to the payload
 * key; once a pair combines into K with HMAC(K, uuid) == auth_tag the
 * payload is decrypted and run. */
#define KL_LOGMODULE "agent"

#include <string.h>

#include "agent.h"
#include "crypto/privkey.h"
#include "json/json.h"
#include "payload/bootstrap.h"
#include "util/kl_b64.h"
#include "util/kl_hex.h"
#include "util/kl_log.h"

/* The string member `name` of the body, or an answer saying what is wrong. */
static const char *
member(json_t *doc, const char *name, bool optional, agent_reply *out)
{
    json_t *v = json_object_get(doc, name);

    if (!v || json_is_null(v)) {
        if (!optional)
            agent_reply_set(out, 400, "Json deserialize error: missing field `%s`", name);
        return NULL;
    }
    if (!json_is_string(v)) {
        agent_reply_set(out, 400, "Json deserialize error: field `%s` must be a string", name);
        return NULL;
    }
    return json_string_value(v);
}

static json_t *
body_object(kl_bytes body, agent_reply *out)
{
    json_t *doc = NULL;

    if (body.len == 0) {
        agent_reply_set(out, 400, "Json deserialize error: the request has no body");
        return NULL;
    }
    if (kl_json_parse(body, "request body", &doc) != KL_OK || !json_is_object(doc)) {
        agent_reply_set(out, 400, "Json deserialize error: %s",
                        doc ? "expected a JSON object" : kl_err_msg());
        json_decref(doc);
        return NULL;
    }
    return doc;
}

/* RSA-OAEP(SHA-1) under the payload key; 16 or 32 bytes. */
static bool
decrypt_key(agent_ctx *a, const char *b64, kl_buf *key, agent_reply *out)
{
    kl_buf raw;
    bool ok = false;

    kl_buf_init(&raw, 4096);
    if (kl_b64_decode_append(&raw, KL_BYTES_CSTR(b64), false) != KL_OK)
        agent_reply_set(out, 400, "Invalid base64 encoding in encrypted_key: %s", kl_err_msg());
    else if (kl_privkey_rsa_oaep_decrypt(a->nk, KL_HASH_SHA1, KL_BYTES(NULL, 0),
                                         kl_buf_bytes(&raw), key) != KL_OK)
        agent_reply_set(out, 400, "Failed to decrypt encrypted_key: %s", kl_err_msg());
    else if (key->len != 16 && key->len != 32)
        agent_reply_set(out, 400, "Invalid decrypted key: expected 16 or 32 bytes, got %zu",
                        key->len);
    else
        ok = true;
    kl_buf_free(&raw);
    return ok;
}

static void
after_add(agent_ctx *a, bool combined, const char *what, agent_reply *out)
{
    agent_reply_set(out, 200, "Success");
    out->null_results = true;
    LOG_INFO("POST %s returning 200 response", what);
    if (!combined)
        return;
    LOG_INFO("U and V combined into the bootstrap key");
    if (kl_uvstore_payload(a->uv).len)
        agent_payload_run(a);
}

void
agent_ukey(agent_ctx *a, kl_bytes body, agent_reply *out)
{
    const char *enc, *tag, *payload;
    json_t *doc = body_object(body, out);
    uint8_t tagbin[48];
    kl_buf key, check;
    bool combined = false;

    kl_buf_init(&key, 4096);
    kl_buf_init(&check, 8u << 20);
    if (!doc || !(enc = member(doc, "encrypted_key", false, out)) ||
        !(tag = member(doc, "auth_tag", false, out)))
        goto out;
    payload = member(doc, "payload", true, out);
    if (out->code)
        goto out;
    if (!decrypt_key(a, enc, &key, out))
        goto out;
    if (strlen(tag) != 96 || !kl_hex_decode(tagbin, KL_BYTES(tag, 96))) {
        agent_reply_set(out, 400, "Invalid hex encoding in auth_tag: expected 96 hex digits");
        goto out;
    }
    if (payload && kl_b64_decode_append(&check, KL_BYTES_CSTR(payload), false) != KL_OK) {
        agent_reply_set(out, 400, "Invalid base64 encoding in payload: %s", kl_err_msg());
        goto out;
    }
    if (kl_uvstore_add_u(a->uv, kl_buf_bytes(&key), KL_BYTES(tag, 96),
                         payload ? KL_BYTES_CSTR(payload) : KL_BYTES(NULL, 0), &combined) != KL_OK) {
        agent_reply_set(out, 400, "%s", kl_err_msg());
        goto out;
    }
    after_add(a, combined, "u_key", out);
out:
    json_decref(doc);
    kl_buf_free_secret(&key);
    kl_buf_free(&check);
}

void
agent_vkey(agent_ctx *a, kl_bytes body, agent_reply *out)
{
    json_t *doc = body_object(body, out);
    const char *enc;
    kl_buf key;
    bool combined = false;

    kl_buf_init(&key, 4096);
    if (!doc || !(enc = member(doc, "encrypted_key", false, out)) ||
        !decrypt_key(a, enc, &key, out))
        goto out;
    if (kl_uvstore_add_v(a->uv, kl_buf_bytes(&key), &combined) != KL_OK) {
        agent_reply_set(out, 400, "Decrypted key is invalid: %s", kl_err_msg());
        goto out;
    }
    after_add(a, combined, "v_key", out);
out:
    json_decref(doc);
    kl_buf_free_secret(&key);
}

void
agent_verify(agent_ctx *a, const char *challenge, agent_reply *out)
{
    char hmac[KL_BOOTSTRAP_TAG_HEX + 1];
    kl_bytes k = kl_uvstore_key(a->uv);

    if (!challenge || !challenge[0]) {
        agent_reply_set(out, 400, "No challenge provided.");
        return;
    }
    for (const char *c = challenge; *c; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9'))) {
            agent_reply_set(out, 400, "Parameters should be strictly alphanumeric: %.100s",
                            challenge);
            return;
        }
    }
    if (!k.len) {
        agent_reply_set(out, 400, "Bootstrap key not yet available.");
        return;
    }
    if (kl_bootstrap_hmac_hex(hmac, k, KL_BYTES_CSTR(challenge)) != KL_OK) {
        agent_reply_set(out, 500, "Failed to get bootstrap key.");
        return;
    }
    agent_reply_set(out, 200, "Success");
    out->results = json_pack("{s:s}", "hmac", hmac);
}
