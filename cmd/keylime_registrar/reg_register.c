/* reg_register: POST /v2[.x]/agents/{id} — an agent presents its EK, EK
 * certificate and AK; the registrar checks them, keeps them and answers
 * with a credential blob only the TPM holding both keys can open
 * (PROTOCOL.md section 3.3).
 *
 * Upstream's rules kept: binary fields are base64 or hex; certificates PEM
 * or base64 DER; ek_tpm must carry the EK certificate's key; once stored,
 * ek_tpm, ekcert and aik_tpm may not change (403, delete first); every
 * registration resets `active` and counts in `regcount`.
 * Stricter than upstream (logged when refused): the AK must be a
 * restricted signing key (anything else could sign forged quotes), agent
 * ids must be what the verifier accepts, IAK/IDevID identities are not
 * supported.
 */
#define KL_LOGMODULE "registrar"

#include <string.h>

#include "crypto/x509.h"
#include "json/json.h"
#include "registrar.h"
#include "tpm/ekcert.h"
#include "tpm/makecred.h"
#include "tpm/tpm_public.h"
#include "util/kl_agent_id.h"
#include "util/kl_alloc.h"
#include "util/kl_b64.h"
#include "util/kl_hex.h"
#include "util/kl_log.h"

#define INVALID_DATA "Could not register agent with invalid data"
#define MAX_FIELD (64u * 1024u)

typedef struct {
    bool has_ek, has_ekcert, has_aik, has_mtls, has_ip, has_port;
    kl_buf ek, aik, ekcert; /* raw bytes; len 0 = null */
    char *mtls;             /* PEM or "disabled"; NULL = null */
    char *ip;
    int64_t port;
    bool ekcert_nonstrict, mtls_nonstrict;
    char why[256]; /* the first reason the data is invalid */
} reg_input;

static void
input_init(reg_input *in)
{
    memset(in, 0, sizeof(*in));
    kl_buf_init(&in->ek, MAX_FIELD);
    kl_buf_init(&in->aik, MAX_FIELD);
    kl_buf_init(&in->ekcert, MAX_FIELD);
    in->port = -1;
}

static void
input_free(reg_input *in)
{
    kl_buf_free(&in->ek);
    kl_buf_free(&in->aik);
    kl_buf_free(&in->ekcert);
    kl_free(in->mtls);
    kl_free(in->ip);
}

static bool
invalid(reg_input *in, const char *field, const char *msg)
{
    if (!in->why[0])
        snprintf(in->why, sizeof(in->why), "%s %s", field, msg);
    return false;
}

/* Binary fields: base64 (strict), else hex with an optional 0x. */
static bool
cast_binary(reg_input *in, const char *field, json_t *v, kl_buf *out)
{
    const char *s;
    size_t n;

    if (json_is_null(v))
        return true;
    if (!json_is_string(v))
        return invalid(in, field, "must be valid binary");
    s = json_string_value(v);
    n = json_string_length(v);
    if (n == 0)
        return true;
    if (kl_b64_decode_append(out, KL_BYTES(s, n), false) == KL_OK)
        return true;
    kl_buf_reset(out);
    if (n >= 2 && s[0] == '0' && s[1] == 'x') {
        s += 2;
        n -= 2;
    }
    if (n % 2 == 0 && n / 2 <= MAX_FIELD && kl_buf_reserve(out, n / 2) == KL_OK &&
        kl_hex_decode(out->ptr, KL_BYTES(s, n))) {
        out->len = n / 2;
        return true;
    }
    kl_buf_reset(out);
    return invalid(in, field, "must be valid binary");
}

/* Certificates: PEM (the first certificate of a chain) or base64 DER. The
 * DER of the certificate is appended to der. */
static bool
cast_cert(reg_input *in, const char *field, const char *s, size_t n, kl_buf *der,
          bool *nonstrict)
{
    kl_x509 *c = NULL;
    kl_buf raw;
    kl_rc rc;

    kl_buf_init(&raw, MAX_FIELD);
    if (n >= 27 && !strncmp(s, "-----BEGIN CERTIFICATE-----", 27))
        rc = kl_x509_from_pem(&c, KL_BYTES(s, n));
    else if ((rc = kl_b64_decode_append(&raw, KL_BYTES(s, n), false)) == KL_OK)
        rc = kl_ekcert_parse(&c, kl_buf_bytes(&raw), NULL);
    kl_buf_free(&raw);
    if (rc == KL_OK)
        rc = kl_buf_append(der, kl_x509_der(c).ptr, kl_x509_der(c).len);
    if (rc == KL_OK)
        *nonstrict = !kl_x509_is_strict_der(c);
    kl_x509_free(c);
    if (rc != KL_OK)
        return invalid(in, field,
                       "must be a valid X.509 certificate in PEM format or otherwise encoded "
                       "using Base64");
    return true;
}

/* PEM text of DER; caller frees. */
static kl_rc
der_to_pem(char **out, kl_bytes der)
{
    kl_buf pem;
    kl_rc rc;

    *out = NULL;
    kl_buf_init(&pem, 4 * MAX_FIELD);
    rc = kl_b64_pem_append(&pem, "CERTIFICATE", der);
    if (rc == KL_OK)
        rc = kl_buf_terminate(&pem);
    if (rc == KL_OK)
        *out = (char *)kl_buf_take(&pem, NULL);
    kl_buf_free(&pem);
    return rc;
}

static bool
cast_mtls(reg_input *in, json_t *v)
{
    kl_buf der;
    bool ok;

    if (json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0))
        return true;
    if (!json_is_string(v))
        return invalid(in, "mtls_cert", "must be a certificate or \"disabled\"");
    if (!strcmp(json_string_value(v), "disabled")) {
        in->mtls = kl_strdup("disabled");
        return in->mtls ? true : invalid(in, "mtls_cert", "could not be stored");
    }
    kl_buf_init(&der, MAX_FIELD);
    ok = cast_cert(in, "mtls_cert", json_string_value(v), json_string_length(v), &der,
                   &in->mtls_nonstrict);
    if (ok && der_to_pem(&in->mtls, kl_buf_bytes(&der)) != KL_OK)
        ok = invalid(in, "mtls_cert", "could not be stored");
    kl_buf_free(&der);
    return ok;
}

static bool
cast_port(reg_input *in, json_t *v)
{
    long long p;
    char *end;

    if (json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0))
        return true;
    if (json_is_integer(v)) {
        p = json_integer_value(v);
    } else if (json_is_string(v)) {
        p = strtoll(json_string_value(v), &end, 10);
        if (end == json_string_value(v) || *end)
            return invalid(in, "port", "must be an integer");
    } else {
        return invalid(in, "port", "must be an integer");
    }
    if (p < 1 || p > 65535)
        return invalid(in, "port", "must be between 1 and 65535");
    in->port = p;
    return true;
}

static bool
cast_ip(reg_input *in, json_t *v)
{
    const char *s;

    if (json_is_null(v))
        return true;
    if (!json_is_string(v))
        return invalid(in, "ip", "must be a string");
    s = json_string_value(v);
    if (json_string_length(v) > 253 || strlen(s) != json_string_length(v))
        return invalid(in, "ip", "must be a host name or address of at most 253 characters");
    if (!s[0])
        return true;
    in->ip = kl_strdup(s);
    return in->ip ? true : invalid(in, "ip", "could not be stored");
}

static bool
parse_input(reg_input *in, json_t *doc)
{
    json_t *v;
    bool ok = true;

    if ((v = json_object_get(doc, "ek_tpm")) && (in->has_ek = true))
        ok = cast_binary(in, "ek_tpm", v, &in->ek) && ok;
    if ((v = json_object_get(doc, "aik_tpm")) && (in->has_aik = true))
        ok = cast_binary(in, "aik_tpm", v, &in->aik) && ok;
    if ((v = json_object_get(doc, "ekcert")) && (in->has_ekcert = true) && !json_is_null(v)) {
        if (!json_is_string(v))
            ok = invalid(in, "ekcert", "must be a certificate");
        else if (json_string_length(v))
            ok = cast_cert(in, "ekcert", json_string_value(v), json_string_length(v),
                           &in->ekcert, &in->ekcert_nonstrict) && ok;
    }
    if ((v = json_object_get(doc, "mtls_cert")) && (in->has_mtls = true))
        ok = cast_mtls(in, v) && ok;
    if ((v = json_object_get(doc, "ip")) && (in->has_ip = true))
        ok = cast_ip(in, v) && ok;
    if ((v = json_object_get(doc, "port")) && (in->has_port = true))
        ok = cast_port(in, v) && ok;
    for (const char *const *f = (const char *const[]){"iak_tpm", "idevid_tpm", "iak_cert",
                                                       "idevid_cert", NULL};
         *f; f++) {
        v = json_object_get(doc, *f);
        if (v && !json_is_null(v) && !(json_is_string(v) && json_string_length(v) == 0))
            ok = invalid(in, *f, "is not supported: this registrar accepts EK-based identities "
                                 "only (set enable_iak_idevid = false on the agent)");
    }
    return ok;
}

/* The stored value of a binary field, decoded (empty when NULL). */
static bool
stored_differs(const char *stored_b64, const kl_buf *now)
{
    kl_buf old;
    bool differs;

    if (!stored_b64 || !stored_b64[0])
        return false; /* setting a field never set before is allowed */
    if (now->len == 0)
        return true; /* removing it is not */
    kl_buf_init(&old, 4 * MAX_FIELD);
    differs = kl_b64_decode_append(&old, KL_BYTES_CSTR(stored_b64), false) != KL_OK ||
              !kl_bytes_eq(kl_buf_bytes(&old), kl_buf_bytes(now));
    kl_buf_free(&old);
    return differs;
}

/* Upstream's _check_tpm_identity_immutable: names the fields that change. */
static bool
identity_changed(const reg_record *old, const reg_input *in, char *fields, size_t n)
{
    fields[0] = '\0';
    if (in->has_ek && stored_differs(old->ek_tpm, &in->ek))
        snprintf(fields + strlen(fields), n - strlen(fields), "%sek_tpm", fields[0] ? ", " : "");
    if (in->has_ekcert && stored_differs(old->ekcert, &in->ekcert))
        snprintf(fields + strlen(fields), n - strlen(fields), "%sekcert", fields[0] ? ", " : "");
    if (in->has_aik && stored_differs(old->aik_tpm, &in->aik))
        snprintf(fields + strlen(fields), n - strlen(fields), "%saik_tpm", fields[0] ? ", " : "");
    return fields[0] != '\0';
}

/* Appends a stored base64 value (nothing when NULL); false if corrupt. */
static bool
decode_stored(kl_buf *out, const char *b64)
{
    return !b64 || kl_b64_decode_append(out, KL_BYTES_CSTR(b64), false) == KL_OK;
}

/* Keys: EK present and of a supported type, matching the certificate; AK a
 * restricted signing key. */
static bool
check_keys(reg_input *in, const reg_record *old, const reg_config *cfg, kl_tpm_public **ek,
           kl_tpm_public **ak, kl_buf *ekcert)
{
    const TPMT_PUBLIC *t;
    bool same = false;

    if (in->ek.len == 0 && old && !decode_stored(&in->ek, old->ek_tpm))
        return invalid(in, "ek_tpm", "stored for this agent is corrupt; delete the agent");
    if (in->aik.len == 0 && old && !in->has_aik && !decode_stored(&in->aik, old->aik_tpm))
        return invalid(in, "aik_tpm", "stored for this agent is corrupt; delete the agent");
    if (in->ek.len == 0)
        return invalid(in, "ek_tpm", "is required (this registrar supports EK identities only)");
    if (in->aik.len == 0)
        return invalid(in, "aik_tpm", "is required");
    if (kl_tpm_public_parse(ek, kl_buf_bytes(&in->ek)) != KL_OK)
        return invalid(in, "ek_tpm", "must be a valid TPM2B_PUBLIC structure");
    if (kl_tpm_public_parse(ak, kl_buf_bytes(&in->aik)) != KL_OK)
        return invalid(in, "aik_tpm", "must be a valid TPM2B_PUBLIC structure");
    t = kl_tpm_public_tpmt(*ak);
    if (!(t->objectAttributes & TPMA_OBJECT_SIGN_ENCRYPT) ||
        !(t->objectAttributes & TPMA_OBJECT_RESTRICTED) ||
        (t->objectAttributes & TPMA_OBJECT_DECRYPT))
        return invalid(in, "aik_tpm", "must be a restricted signing key");
    if (in->ekcert.len == 0 && old && !in->has_ekcert && !decode_stored(&in->ekcert, old->ekcert))
        return invalid(in, "ekcert", "stored for this agent is corrupt; delete the agent");
    if (in->ekcert.len) {
        if (kl_ekcert_matches_ek(&same, kl_buf_bytes(&in->ekcert), *ek) != KL_OK || !same)
            return invalid(in, "ek_tpm", "must contain the same public key found in ekcert");
        if (kl_buf_append(ekcert, in->ekcert.ptr, in->ekcert.len) != KL_OK)
            return invalid(in, "ekcert", "could not be stored");
    }
    if ((in->ekcert_nonstrict || in->mtls_nonstrict) && strcmp(cfg->malformed_cert_action, "ignore")) {
        if (!strcmp(cfg->malformed_cert_action, "reject"))
            return invalid(in, in->ekcert_nonstrict ? "ekcert" : "mtls_cert",
                           "is not strict ASN.1 DER (malformed_cert_action = reject)");
        LOG_WARN("certificate(s) of agent may not conform to strict ASN.1 DER; accepted "
                 "(malformed_cert_action = warn)");
    }
    return true;
}

/* Copies the request's fields over the stored record (fields absent from
 * the request keep their stored values). */
static kl_rc
merge_record(reg_record *rec, const reg_input *in, const kl_buf *ekcert, const char *key)
{
    kl_buf b;
    kl_rc rc = KL_OK;

    kl_buf_init(&b, 8 * MAX_FIELD);
    kl_free(rec->key);
    rec->key = kl_strdup(key);
    if (in->has_ek || !rec->ek_tpm) {
        rc = kl_b64_encode_append(&b, in->ek.ptr, in->ek.len);
        if (rc == KL_OK && (rc = kl_buf_terminate(&b)) == KL_OK) {
            kl_free(rec->ek_tpm);
            rec->ek_tpm = (char *)kl_buf_take(&b, NULL);
        }
    }
    if (rc == KL_OK && in->has_aik) {
        kl_buf_init(&b, 8 * MAX_FIELD);
        rc = kl_b64_encode_append(&b, in->aik.ptr, in->aik.len);
        if (rc == KL_OK && (rc = kl_buf_terminate(&b)) == KL_OK) {
            kl_free(rec->aik_tpm);
            rec->aik_tpm = (char *)kl_buf_take(&b, NULL);
        }
    }
    if (rc == KL_OK && in->has_ekcert) {
        kl_free(rec->ekcert);
        rec->ekcert = NULL;
        if (ekcert->len) {
            kl_buf_init(&b, 8 * MAX_FIELD);
            rc = kl_b64_encode_append(&b, ekcert->ptr, ekcert->len);
            if (rc == KL_OK && (rc = kl_buf_terminate(&b)) == KL_OK)
                rec->ekcert = (char *)kl_buf_take(&b, NULL);
        }
    }
    if (rc == KL_OK && in->has_mtls) {
        kl_free(rec->mtls_cert);
        rec->mtls_cert = in->mtls ? kl_strdup(in->mtls) : NULL;
    }
    if (rc == KL_OK && in->has_ip) {
        kl_free(rec->ip);
        rec->ip = in->ip ? kl_strdup(in->ip) : NULL;
    }
    if (in->has_port)
        rec->port = in->port;
    kl_buf_free(&b);
    if (rc == KL_OK && (!rec->key || !rec->ek_tpm || !rec->aik_tpm))
        rc = kl_err_set(KL_ENOMEM, "out of memory");
    return rc;
}

/* The challenge: 32 random alphanumerics, stored as base64 text; the blob
 * is MakeCredential(EK, challenge, AK name), base64. */
static kl_rc
make_challenge(kl_buf *blob_b64, char **key_out, const kl_tpm_public *ek,
               const kl_tpm_public *ak)
{
    char challenge[KL_MAKECRED_CHALLENGE_LEN + 1];
    kl_buf key, blob;
    kl_rc rc;

    *key_out = NULL;
    kl_buf_init(&key, 128);
    kl_buf_init(&blob, 8 * MAX_FIELD);
    rc = kl_makecred_challenge(challenge);
    if (rc == KL_OK)
        rc = kl_makecred_key(&key, KL_BYTES(challenge, KL_MAKECRED_CHALLENGE_LEN));
    if (rc == KL_OK)
        rc = kl_makecred_blob(&blob, ek, KL_BYTES(challenge, KL_MAKECRED_CHALLENGE_LEN),
                              kl_tpm_public_name(ak));
    if (rc == KL_OK)
        rc = kl_b64_encode_append(blob_b64, blob.ptr, blob.len);
    if (rc == KL_OK)
        rc = kl_buf_terminate(blob_b64);
    if (rc == KL_OK && (rc = kl_buf_terminate(&key)) == KL_OK)
        *key_out = (char *)kl_buf_take(&key, NULL);
    kl_wipe(challenge, sizeof(challenge));
    kl_buf_free_secret(&key);
    kl_buf_free(&blob);
    return rc;
}

static const char *
body_agent_id(json_t *doc)
{
    json_t *v = json_object_get(doc, "agent_id");

    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Identity, validation, challenge, then the stored record. */
static void
register_checked(reg_ctx *ctx, const char *agent_id, json_t *doc, reg_reply *out)
{
    kl_tpm_public *ek = NULL, *ak = NULL;
    reg_record rec;
    reg_input in;
    kl_buf ekcert, blob;
    char fields[64], *key = NULL;
    bool exists = false;
    kl_rc rc;

    input_init(&in);
    kl_buf_init(&ekcert, MAX_FIELD);
    kl_buf_init(&blob, 16 * MAX_FIELD);
    rc = reg_store_get(ctx->db, agent_id, &rec, &exists);
    if (rc != KL_OK) {
        reg_reply_set(out, 500, "Internal Server Error");
        LOG_ERR("registering agent '%s': %s", agent_id, kl_err_msg());
        goto out;
    }
    /* invalid fields are reported after the identity check, as upstream
     * checks identity first */
    (void)parse_input(&in, doc);
    if (exists && identity_changed(&rec, &in, fields, sizeof(fields))) {
        LOG_WARN("SECURITY: refused re-registration of agent '%s' with a different TPM identity "
                 "(changed: %s); delete the agent from the registrar first if the TPM was "
                 "replaced", agent_id, fields);
        reg_reply_set(out, 403, "Agent re-registration with different TPM identity is forbidden "
                                "for security reasons");
        goto out;
    }
    if (in.why[0] || !check_keys(&in, exists ? &rec : NULL, ctx->cfg, &ek, &ak, &ekcert)) {
        LOG_WARN("agent '%s' sent invalid registration data: %s", agent_id, in.why);
        reg_reply_set(out, 400, INVALID_DATA);
        goto out;
    }
    if (!rec.agent_id)
        rec.agent_id = kl_strdup(agent_id);
    if (!rec.agent_id || make_challenge(&blob, &key, ek, ak) != KL_OK ||
        merge_record(&rec, &in, &ekcert, key) != KL_OK) {
        LOG_ERR("registering agent '%s': %s", agent_id, kl_err_msg());
        reg_reply_set(out, 400, INVALID_DATA);
        goto out;
    }
    rec.active = false;
    rec.regcount++;
    rc = reg_store_put(ctx->db, &rec, exists);
    if (rc == KL_EEXIST) {
        reg_reply_set(out, 403, "Agent with UUID '%s' cannot be registered. This UUID is already "
                                "in use or a concurrent registration is in progress.", agent_id);
        goto out;
    }
    if (rc != KL_OK) {
        LOG_ERR("storing agent '%s': %s", agent_id, kl_err_msg());
        reg_reply_set(out, 500, "Internal Server Error");
        goto out;
    }
    LOG_INFO("agent '%s' registered (registration %lld); challenge sent", agent_id,
             (long long)rec.regcount);
    reg_reply_set(out, 200, "Success");
    out->results = json_pack("{s:s}", "blob", (const char *)blob.ptr);
out:
    if (key)
        kl_wipe(key, strlen(key));
    kl_free(key);
    kl_tpm_public_free(ek);
    kl_tpm_public_free(ak);
    reg_record_free(&rec);
    input_free(&in);
    kl_buf_free(&ekcert);
    kl_buf_free(&blob);
}

void
reg_register(reg_ctx *ctx, const char *agent_id, kl_bytes body, reg_reply *out)
{
    json_t *doc = NULL;

    if (body.len && kl_json_parse(body, "request body", &doc) != KL_OK) {
        reg_reply_set(out, 400, "Malformed Request Parameter");
        return;
    }
    if (!json_is_object(doc)) { /* upstream ignores a body that is not an object */
        json_decref(doc);
        doc = json_object();
    }
    if (!agent_id)
        agent_id = body_agent_id(doc);
    if (!agent_id) {
        reg_reply_set(out, 400, "Bad Request");
    } else if (!kl_agent_id_valid(agent_id)) {
        LOG_WARN("refused registration: agent id is not 1-80 characters of [A-Za-z0-9_.-]");
        reg_reply_set(out, 400, INVALID_DATA);
    } else {
        register_checked(ctx, agent_id, doc, out);
    }
    json_decref(doc);
}
