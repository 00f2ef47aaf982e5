#include "policy/dsse.h"

#include <string.h>

#include "json/json.h"
#include "json/json_scan.h"
#include "util/kl_alloc.h"
#include "util/kl_b64.h"
#include "util/kl_hex.h"

#define DSSE_PAYLOAD_MAX ((size_t)1 << 31)

typedef struct {
    kl_bytes payload;
    kl_bytes type;
    kl_bytes signatures; /* raw JSON text of the array */
    bool has_type, has_sigs;
} envelope;

/* Reads the top-level members; payload and type point into text when
 * unescaped, else into copies held by the scanner (kept until free). */
static kl_rc
read_envelope(kl_bytes text, envelope *env, kl_json_scan *s, kl_buf *payload, kl_buf *type)
{
    kl_bytes key, v;
    bool more;
    kl_rc rc;

    memset(env, 0, sizeof(*env));
    kl_json_scan_init(s, text);
    rc = kl_json_scan_object_begin(s);
    while (rc == KL_OK && (rc = kl_json_scan_object_next(s, &more, &key)) == KL_OK && more) {
        bool is_payload = kl_bytes_eq_str(key, "payload");
        bool is_type = kl_bytes_eq_str(key, "payloadType");

        if ((is_payload || is_type) && kl_json_scan_peek(s) != KL_JSON_STRING)
            return kl_err_set(KL_EPARSE, "DSSE envelope: \"%s\" must be a string",
                              is_payload ? "payload" : "payloadType");
        if (is_payload || is_type) {
            kl_buf *dst = is_payload ? payload : type;

            rc = kl_json_scan_string(s, &v);
            kl_buf_reset(dst);
            if (rc == KL_OK)
                rc = kl_buf_append(dst, v.ptr, v.len);
            if (is_payload)
                env->payload = kl_buf_bytes(dst);
            else
                env->type = kl_buf_bytes(dst);
            env->has_type |= is_type;
        } else if (kl_bytes_eq_str(key, "signatures")) {
            rc = kl_json_scan_skip(s, &env->signatures);
            env->has_sigs = true;
        } else {
            rc = kl_json_scan_skip(s, NULL);
        }
    }
    if (rc == KL_OK)
        rc = kl_json_scan_finish(s);
    if (rc == KL_OK && (!env->has_type || !env->has_sigs))
        rc = kl_err_set(KL_EPARSE, "DSSE envelope: \"%s\" is missing",
                        env->has_type ? "signatures" : "payloadType");
    return rc;
}

kl_rc
kl_dsse_is_envelope(kl_bytes text, bool *is_envelope)
{
    kl_json_scan s;
    kl_bytes key, v;
    bool more, found = false;
    kl_rc rc;

    kl_json_scan_init(&s, text);
    rc = kl_json_scan_object_begin(&s);
    while (rc == KL_OK && (rc = kl_json_scan_object_next(&s, &more, &key)) == KL_OK && more) {
        if (kl_bytes_eq_str(key, "payload")) {
            /* Python truthiness of the value; the last duplicate wins */
            found = false;
            if (kl_json_scan_peek(&s) == KL_JSON_STRING) {
                rc = kl_json_scan_string(&s, &v);
                found = rc == KL_OK && v.len > 0;
                continue;
            }
        }
        rc = kl_json_scan_skip(&s, &v);
    }
    kl_json_scan_free(&s);
    *is_envelope = rc == KL_OK && found;
    return rc == KL_ENOMEM ? rc : KL_OK;
}

/* upstream dsse.b64dec: hex first, then base64, then URL-safe base64 */
static kl_rc
b64dec(kl_bytes in, kl_buf *out)
{
    kl_rc rc = KL_EPARSE;

    kl_buf_reset(out);
    if (in.len && in.len % 2 == 0 &&
        ((rc = kl_hex_decode_append(out, in)) == KL_OK || rc == KL_ENOMEM))
        return rc;
    kl_buf_reset(out);
    if ((rc = kl_b64_decode_append(out, in, false)) == KL_OK || rc == KL_ENOMEM)
        return rc;
    kl_buf_reset(out);
    rc = kl_b64_decode_append(out, in, true);
    if (rc != KL_OK && rc != KL_ENOMEM)
        return kl_err_set(KL_EPARSE, "DSSE envelope: a value is neither hex nor base64");
    return rc;
}

kl_rc
kl_dsse_pae(kl_buf *out, kl_bytes type, kl_bytes payload)
{
    kl_rc rc = kl_buf_printf(out, "DSSEv1 %zu ", type.len);

    if (rc == KL_OK)
        rc = kl_buf_append(out, type.ptr, type.len);
    if (rc == KL_OK)
        rc = kl_buf_printf(out, " %zu ", payload.len);
    if (rc == KL_OK)
        rc = kl_buf_append(out, payload.ptr, payload.len);
    return rc;
}

/* The x509 backend's verifier: keyid = base64 of a PEM certificate.
 * KL_ENOMEM is the only error; *out is NULL for any other keyid. */
static kl_rc
keyid_cert(json_t *sig, kl_pubkey **out)
{
    json_t *kid = json_object_get(sig, "keyid");
    kl_pubkey *k = NULL;
    kl_buf pem;
    kl_rc rc;

    *out = NULL;
    if (!json_is_string(kid))
        return KL_OK;
    kl_buf_init(&pem, 1 << 20);
    rc = kl_b64_decode_append(&pem, KL_BYTES(json_string_value(kid), json_string_length(kid)),
                              false);
    if (rc == KL_OK && pem.len > 27 && memcmp(pem.ptr, "-----BEGIN CERTIFICATE-----", 27) == 0)
        rc = kl_pubkey_load_pem(&k, kl_buf_bytes(&pem));
    kl_buf_free(&pem);
    *out = k;
    return rc == KL_ENOMEM ? rc : KL_OK;
}

/* The certificates named by the signatures' keyids (x509 backend). */
static kl_rc
cert_verifiers(json_t *sigs, kl_pubkey **list, size_t *n, size_t max)
{
    size_t i;
    json_t *sig;

    *n = 0;
    json_array_foreach(sigs, i, sig) {
        kl_pubkey *k;

        if (keyid_cert(sig, &k) != KL_OK)
            return KL_ENOMEM;
        if (k && *n < max)
            list[(*n)++] = k;
        else
            kl_pubkey_free(k);
    }
    return KL_OK;
}

static kl_rc
check_signatures(json_t *sigs, kl_bytes pae, const kl_pubkey *const *keys, size_t nkeys,
                 bool *ok)
{
    kl_buf raw;
    size_t i;
    json_t *sig;
    kl_rc rc = KL_OK;

    *ok = false;
    kl_buf_init(&raw, 1 << 16);
    json_array_foreach(sigs, i, sig) {
        json_t *b64 = json_object_get(sig, "sig");

        if (!json_is_string(b64)) {
            rc = kl_err_set(KL_EPARSE, "DSSE envelope: signatures[%zu].sig is not a string", i);
            break;
        }
        rc = b64dec(KL_BYTES(json_string_value(b64), json_string_length(b64)), &raw);
        if (rc == KL_ENOMEM)
            break;
        if (rc != KL_OK) {
            rc = KL_OK;
            continue;
        }
        for (size_t k = 0; k < nkeys && !*ok; k++) {
            rc = kl_pubkey_verify_ecdsa_sha256(keys[k], pae, kl_buf_bytes(&raw), ok);
            if (rc != KL_OK)
                break;
        }
        if (*ok || rc != KL_OK)
            break;
    }
    kl_buf_free(&raw);
    return rc;
}

kl_rc
kl_dsse_open(kl_bytes text, const kl_pubkey *key, kl_buf *out, bool *checked)
{
    kl_pubkey *certs[16];
    size_t ncerts = 0;
    kl_json_scan s;
    envelope env;
    kl_buf payload_text, type, pae;
    json_t *sigs = NULL;
    bool ok = false;
    kl_rc rc;

    *checked = false;
    kl_buf_init(&payload_text, DSSE_PAYLOAD_MAX);
    kl_buf_init(&type, 4096);
    kl_buf_init(&pae, DSSE_PAYLOAD_MAX);
    rc = read_envelope(text, &env, &s, &payload_text, &type);
    if (rc == KL_OK)
        rc = kl_json_parse(env.signatures, "DSSE signatures", &sigs);
    if (rc == KL_OK && !json_is_array(sigs))
        rc = kl_err_set(KL_EPARSE, "DSSE envelope: \"signatures\" must be a list");
    if (rc == KL_OK)
        rc = b64dec(env.payload, out);
    if (rc == KL_OK && !key)
        rc = cert_verifiers(sigs, certs, &ncerts, sizeof(certs) / sizeof(certs[0]));
    if (rc != KL_OK || (!key && ncerts == 0))
        goto out;
    rc = kl_dsse_pae(&pae, env.type, kl_buf_bytes(out));
    if (rc == KL_OK && key)
        rc = check_signatures(sigs, kl_buf_bytes(&pae), &key, 1, &ok);
    else if (rc == KL_OK)
        rc = check_signatures(sigs, kl_buf_bytes(&pae), (const kl_pubkey *const *)certs, ncerts,
                              &ok);
    if (rc == KL_OK && !ok)
        rc = kl_err_set(KL_EVERIFY, "runtime policy failed DSSE signature verification: no "
                                    "signature in the envelope verifies with %s",
                        key ? "the given key" : "the certificates it names");
    *checked = true;
out:
    for (size_t i = 0; i < ncerts; i++)
        kl_pubkey_free(certs[i]);
    json_decref(sigs);
    kl_json_scan_free(&s);
    kl_buf_free(&payload_text);
    kl_buf_free(&type);
    kl_buf_free(&pae);
    return rc;
}
