/* agent_identity: the agent's TPM identity. Opens the TPM, creates (or
 * opens) the EK and reads its certificate and CA chain, creates the AK or
 * reloads the one cached in agent_data.json (when the algorithms and the
 * EK are unchanged), and settles the agent's UUID. */
#define KL_LOGMODULE "agent"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "crypto/cipher.h"
#include "crypto/hash.h"
#include "json/json.h"
#include "tpm/tpm_public.h"
#include "tpmdev/tpmdev.h"
#include "tpmdev/tpmdev_ak.h"
#include "tpmdev/tpmdev_ek.h"
#include "util/kl_agent_id.h"
#include "util/kl_alloc.h"
#include "util/kl_b64.h"
#include "util/kl_file.h"
#include "util/kl_hex.h"
#include "util/kl_log.h"

static kl_tpmdev_ek_type
ek_type(const char *enc)
{
    return strncmp(enc, "ecc", 3) ? KL_TPMDEV_EK_RSA2048 : KL_TPMDEV_EK_ECC_P256;
}

/* EK certificate and chain from NV, as PEM (what the Rust agent sends). */
static kl_rc
read_ekcert(agent_ctx *a)
{
    kl_buf der, chain;
    size_t off = 0;
    kl_rc rc;

    kl_buf_init(&der, 64 * 1024);
    kl_buf_init(&chain, 256 * 1024);
    rc = kl_tpmdev_ek_cert(&der, a->tpm, ek_type(a->cfg->tpm_encryption_alg));
    if (rc == KL_ENOTFOUND) {
        LOG_INFO("the TPM holds no EK certificate; registering without one");
        rc = KL_OK;
        goto out;
    }
    if (rc == KL_OK)
        rc = kl_b64_pem_append(&a->ekcert_pem, "CERTIFICATE", kl_buf_bytes(&der));
    if (rc == KL_OK)
        rc = kl_tpmdev_ek_chain(&chain, a->tpm);
    /* the chain is DER certificates back to back: split on their lengths */
    while (rc == KL_OK && off + 4 <= chain.len && chain.ptr[off] == 0x30 &&
           chain.ptr[off + 1] == 0x82) {
        size_t len = 4 + ((size_t)chain.ptr[off + 2] << 8 | chain.ptr[off + 3]);

        if (off + len > chain.len)
            break;
        rc = kl_b64_pem_append(&a->ekcert_pem, "CERTIFICATE", KL_BYTES(chain.ptr + off, len));
        off += len;
    }
out:
    kl_buf_free(&der);
    kl_buf_free(&chain);
    return rc;
}

static kl_rc
open_ek(agent_ctx *a)
{
    const char *h = a->cfg->ek_handle;
    const char *tcti = a->cfg->tcti[0] ? a->cfg->tcti : getenv("TCTI");
    kl_rc rc;

    rc = kl_tpmdev_open(&a->tpm, tcti && tcti[0] ? tcti : kl_tpmdev_default_tcti());
    if (rc != KL_OK)
        return kl_err_wrap(rc, "cannot open the TPM (set TCTI or tcti in agent.conf): ");
    if (!h[0] || !strcmp(h, "generate"))
        rc = kl_tpmdev_ek_create(&a->ek, a->tpm, ek_type(a->cfg->tpm_encryption_alg));
    else
        rc = kl_tpmdev_key_persistent(&a->ek, a->tpm, (uint32_t)strtoul(h, NULL, 16));
    if (rc == KL_OK)
        rc = kl_buf_append(&a->ek_pub, kl_tpmdev_key_public(a->ek).ptr,
                           kl_tpmdev_key_public(a->ek).len);
    if (rc == KL_OK)
        rc = read_ekcert(a);
    return rc;
}

/* hex SHA-256 of the EK's TPM2B_PUBLIC: ties the cached AK to this EK. */
static kl_rc
ek_hash(const agent_ctx *a, char out[65])
{
    uint8_t d[32];
    kl_rc rc = kl_hash(KL_HASH_SHA256, a->ek_pub.ptr, a->ek_pub.len, d);

    if (rc == KL_OK)
        kl_hex_encode(out, d, sizeof(d));
    out[64] = '\0';
    return rc;
}

static bool
cached_ak_matches(const agent_ctx *a, json_t *doc, const char *ekh)
{
    const char *keys[] = {"ak_hash_alg", "ak_sign_alg", "ak_enc_alg", "ek_hash"};
    const char *want[] = {a->cfg->tpm_hash_alg, a->cfg->tpm_signing_alg,
                          a->cfg->tpm_encryption_alg, ekh};

    for (size_t i = 0; i < 4; i++) {
        json_t *v = json_object_get(doc, keys[i]);

        if (!json_is_string(v) || strcmp(json_string_value(v), want[i]))
            return false;
    }
    return true;
}

static kl_rc
load_cached_ak(agent_ctx *a, const char *ekh, bool *loaded)
{
    kl_buf text, pub, priv;
    json_t *doc = NULL, *p, *q;
    kl_rc rc;

    *loaded = false;
    kl_buf_init(&text, 64 * 1024);
    kl_buf_init(&pub, 16 * 1024);
    kl_buf_init(&priv, 16 * 1024);
    if (kl_file_read(a->paths->agent_data, &text) != KL_OK ||
        kl_json_parse(kl_buf_bytes(&text), a->paths->agent_data, &doc) != KL_OK ||
        !cached_ak_matches(a, doc, ekh)) {
        rc = KL_OK; /* no usable cache: a new AK is made */
        goto out;
    }
    p = json_object_get(doc, "ak_public");
    q = json_object_get(doc, "ak_private");
    rc = json_is_string(p) && json_is_string(q)
             ? kl_b64_decode_append(&pub, KL_BYTES_CSTR(json_string_value(p)), false)
             : KL_EPARSE;
    if (rc == KL_OK)
        rc = kl_b64_decode_append(&priv, KL_BYTES_CSTR(json_string_value(q)), false);
    if (rc == KL_OK)
        rc = kl_tpmdev_ak_load(&a->ak, a->tpm, a->ek, kl_buf_bytes(&pub), kl_buf_bytes(&priv));
    if (rc == KL_OK)
        rc = kl_buf_append(&a->ak_pub, pub.ptr, pub.len);
    *loaded = rc == KL_OK;
    if (rc != KL_OK) {
        LOG_WARN("the AK cached in %s could not be loaded (%s); creating a new one",
                 a->paths->agent_data, kl_err_msg());
        rc = KL_OK;
    }
out:
    json_decref(doc);
    kl_buf_free(&text);
    kl_buf_free(&pub);
    kl_buf_free_secret(&priv);
    return rc;
}

static kl_rc
save_ak(const agent_ctx *a, kl_bytes pub, kl_bytes priv, const char *ekh)
{
    kl_buf p64, q64, text;
    json_t *doc = NULL;
    kl_rc rc;

    kl_buf_init(&p64, 64 * 1024);
    kl_buf_init(&q64, 64 * 1024);
    kl_buf_init(&text, 256 * 1024);
    rc = kl_b64_encode_append(&p64, pub.ptr, pub.len);
    if (rc == KL_OK)
        rc = kl_b64_encode_append(&q64, priv.ptr, priv.len);
    if (rc == KL_OK) {
        doc = json_pack("{s:s,s:s,s:s,s:s%,s:s%,s:s}", "ak_hash_alg", a->cfg->tpm_hash_alg,
                        "ak_sign_alg", a->cfg->tpm_signing_alg, "ak_enc_alg",
                        a->cfg->tpm_encryption_alg, "ak_public", (const char *)p64.ptr, p64.len,
                        "ak_private", (const char *)q64.ptr, q64.len, "ek_hash", ekh);
        rc = doc ? kl_json_dump_py(&text, doc) : kl_err_set(KL_ENOMEM, "out of memory");
    }
    if (rc == KL_OK)
        rc = kl_file_write(a->paths->agent_data, text.ptr, text.len);
    if (rc != KL_OK)
        LOG_WARN("cannot cache the AK in %s (%s); a new AK will be made at the next start",
                 a->paths->agent_data, kl_err_msg());
    json_decref(doc);
    kl_buf_free(&p64);
    kl_buf_free_secret(&q64);
    kl_buf_free(&text);
    return KL_OK;
}

static kl_rc
open_ak(agent_ctx *a)
{
    kl_tpmdev_ak_opts o = KL_TPMDEV_AK_OPTS_INIT;
    kl_buf pub, priv;
    char ekh[65];
    bool loaded = false;
    kl_rc rc;

    kl_buf_init(&pub, 16 * 1024);
    kl_buf_init(&priv, 16 * 1024);
    rc = kl_tpmdev_ak_opts_set(&o, a->cfg->tpm_encryption_alg, a->cfg->tpm_signing_alg,
                               a->cfg->tpm_hash_alg);
    if (rc == KL_OK)
        rc = ek_hash(a, ekh);
    if (rc == KL_OK)
        rc = load_cached_ak(a, ekh, &loaded);
    if (rc == KL_OK && !loaded) {
        rc = kl_tpmdev_ak_create(&pub, &priv, a->tpm, a->ek, &o);
        if (rc == KL_OK)
            rc = kl_tpmdev_ak_load(&a->ak, a->tpm, a->ek, kl_buf_bytes(&pub), kl_buf_bytes(&priv));
        if (rc == KL_OK)
            rc = kl_buf_append(&a->ak_pub, pub.ptr, pub.len);
        if (rc == KL_OK)
            rc = save_ak(a, kl_buf_bytes(&pub), kl_buf_bytes(&priv), ekh);
        if (rc == KL_OK)
            LOG_INFO("created a new AK (%s, %s, %s)", a->cfg->tpm_encryption_alg,
                     a->cfg->tpm_signing_alg, a->cfg->tpm_hash_alg);
    }
    kl_buf_free(&pub);
    kl_buf_free_secret(&priv);
    return rc;
}

/* uuid = literal | "generate" (random v4) | "hash_ek" (hex SHA-256 of the
 * EK public key's PEM text, as the Rust agent computes it). */
static kl_rc
settle_uuid(agent_ctx *a)
{
    const char *u = a->cfg->uuid;
    kl_tpm_public *ek = NULL;
    uint8_t r[32];
    kl_buf pem;
    kl_rc rc = KL_OK;

    kl_buf_init(&pem, 16 * 1024);
    if (!strcmp(u, "generate")) {
        rc = kl_rand_bytes(r, 16);
        r[6] = (uint8_t)((r[6] & 0x0f) | 0x40);
        r[8] = (uint8_t)((r[8] & 0x3f) | 0x80);
        snprintf(a->uuid, sizeof(a->uuid),
                 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0],
                 r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13],
                 r[14], r[15]);
    } else if (!strcmp(u, "hash_ek")) {
        rc = kl_tpm_public_parse(&ek, kl_buf_bytes(&a->ek_pub));
        if (rc == KL_OK)
            rc = kl_pubkey_spki_pem(kl_tpm_public_key(ek), &pem);
        if (rc == KL_OK)
            rc = kl_hash(KL_HASH_SHA256, pem.ptr, pem.len, r);
        if (rc == KL_OK)
            kl_hex_encode(a->uuid, r, 32);
    } else if (strlen(u) < sizeof(a->uuid)) {
        snprintf(a->uuid, sizeof(a->uuid), "%s", u);
    } else {
        rc = kl_err_set(KL_EINVAL, "agent.conf: uuid is too long (at most %zu characters)",
                        sizeof(a->uuid) - 1);
    }
    if (rc == KL_OK && !a->uuid[0])
        rc = kl_err_set(KL_EINVAL, "agent.conf: uuid is empty; set a UUID, \"generate\" or "
                                   "\"hash_ek\"");
    else if (rc == KL_OK && !kl_agent_id_valid(a->uuid))
        rc = kl_err_set(KL_EINVAL, "agent.conf: uuid '%s' may only hold letters, digits, '-', "
                                   "'_' and '.', at most %d of them (the verifier refuses others)",
                        u, KL_AGENT_ID_MAX);
    kl_tpm_public_free(ek);
    kl_buf_free(&pem);
    return rc;
}

/* rsa2048, ecc256, ... from the AK itself (API 2.5+ names). */
static kl_rc
name_algorithms(agent_ctx *a)
{
    kl_tpm_public *ak = NULL;
    const TPMT_PUBLIC *t;
    kl_rc rc = kl_tpm_public_parse(&ak, kl_buf_bytes(&a->ak_pub));

    if (rc != KL_OK)
        return rc;
    t = kl_tpm_public_tpmt(ak);
    if (t->type == TPM2_ALG_RSA)
        snprintf(a->enc_name, sizeof(a->enc_name), "rsa%u",
                 (unsigned)t->parameters.rsaDetail.keyBits);
    else
        snprintf(a->enc_name, sizeof(a->enc_name), "ecc%s",
                 t->parameters.eccDetail.curveID == TPM2_ECC_NIST_P384   ? "384"
                 : t->parameters.eccDetail.curveID == TPM2_ECC_NIST_P521 ? "521"
                                                                          : "256");
    snprintf(a->sign_name, sizeof(a->sign_name), "%s", a->cfg->tpm_signing_alg);
    kl_hash_from_name(KL_BYTES_CSTR(a->cfg->tpm_hash_alg), &a->hash);
    kl_tpm_public_free(ak);
    return KL_OK;
}

kl_rc
agent_identity_init(agent_ctx *a)
{
    kl_rc rc;

    kl_buf_init(&a->ek_pub, 16 * 1024);
    kl_buf_init(&a->ak_pub, 16 * 1024);
    kl_buf_init(&a->ekcert_pem, 512 * 1024);
    if (a->cfg->enable_iak_idevid)
        LOG_WARN("enable_iak_idevid is not supported; registering with the EK only");
    /* a P-256 EK in its place would register without the TPM's P-384 EK
     * certificate, and verifiers requiring one would refuse the agent */
    if (!strcmp(a->cfg->tpm_encryption_alg, "ecc384"))
        return kl_err_set(KL_EUNSUPPORTED, "agent.conf: tpm_encryption_alg = \"ecc384\" (a P-384 "
                                           "EK) is not supported yet; use \"ecc\" (P-256) or "
                                           "\"rsa\"");
    rc = open_ek(a);
    if (rc == KL_OK)
        rc = open_ak(a);
    if (rc == KL_OK)
        rc = name_algorithms(a);
    if (rc == KL_OK)
        rc = settle_uuid(a);
    return rc;
}

void
agent_identity_free(agent_ctx *a)
{
    kl_tpmdev_key_free(a->ak);
    kl_tpmdev_key_free(a->ek);
    a->ak = a->ek = NULL;
    kl_tpmdev_close(a->tpm);
    a->tpm = NULL;
    kl_buf_free(&a->ek_pub);
    kl_buf_free(&a->ak_pub);
    kl_buf_free(&a->ekcert_pem);
}
