/* tpm_build: software TPM objects for the TPM tests and benchmarks
 * (header only; every helper returns kl_rc).
 *
 * Templates for EKs (TCG "low range") and AKs (tpm2_createak's
 * attributes), TPM2B_PUBLIC of a software key, and quotes: a real
 * TPMS_ATTEST over given PCR values, signed the way TPM2_Quote signs (the
 * digest of the attest with the AK's scheme), with the tpm2-tools PCR blob
 * and the r-string. Each part stays available so tests can tamper with it.
 */
#ifndef KL_TESTS_TPM_BUILD_H
#define KL_TESTS_TPM_BUILD_H

#include "crypto/privkey.h"
#include "tpm/pcr.h"
#include "tpm/quote.h"
#include "tpm/tpm_public.h"

#include <string.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_tpm2_types.h>

/* tpm2_createak's fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|
 * restricted|sign */
#define TB_AK_ATTRS 0x00050072u
/* the TCG default EK's fixedTPM|fixedParent|sensitiveDataOrigin|
 * adminWithPolicy|restricted|decrypt */
#define TB_EK_ATTRS 0x000300b2u

static inline void
tb_ak_template(TPMT_PUBLIC *t, bool ecc, kl_hash_alg h, TPM2_ALG_ID scheme)
{
    uint16_t hid = TPM2_ALG_SHA256;

    (void)kl_tpm_alg_of_hash(h, &hid);
    memset(t, 0, sizeof(*t));
    t->type = ecc ? TPM2_ALG_ECC : TPM2_ALG_RSA;
    t->nameAlg = TPM2_ALG_SHA256;
    t->objectAttributes = TB_AK_ATTRS;
    if (ecc) {
        t->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
        t->parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
        t->parameters.eccDetail.scheme.details.ecdsa.hashAlg = hid;
        t->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
    } else {
        t->parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
        t->parameters.rsaDetail.scheme.scheme = scheme;
        t->parameters.rsaDetail.scheme.details.rsassa.hashAlg = hid;
    }
}

static inline void
tb_ek_template(TPMT_PUBLIC *t, bool ecc)
{
    static const uint8_t policy[32] = {0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8,
                                       0x1a, 0x90, 0xcc, 0x8d, 0x46, 0xa5, 0xd7, 0x24,
                                       0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52, 0x0b, 0x64,
                                       0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa};
    TPMT_SYM_DEF_OBJECT *sym;

    memset(t, 0, sizeof(*t));
    t->type = ecc ? TPM2_ALG_ECC : TPM2_ALG_RSA;
    t->nameAlg = TPM2_ALG_SHA256;
    t->objectAttributes = TB_EK_ATTRS;
    t->authPolicy.size = sizeof(policy);
    memcpy(t->authPolicy.buffer, policy, sizeof(policy));
    sym = &t->parameters.asymDetail.symmetric;
    sym->algorithm = TPM2_ALG_AES;
    sym->keyBits.aes = 128;
    sym->mode.aes = TPM2_ALG_CFB;
    t->parameters.asymDetail.scheme.scheme = TPM2_ALG_NULL;
    if (ecc)
        t->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
}

/* The TPM2B_PUBLIC of k under tmpl, parsed. */
static inline kl_rc
tb_public(kl_tpm_public **out, const kl_privkey *k, const TPMT_PUBLIC *tmpl)
{
    kl_pubkey *pub = NULL;
    kl_buf b;
    kl_rc rc;

    kl_buf_init(&b, 4096);
    rc = kl_privkey_public(k, &pub);
    if (rc == KL_OK)
        rc = kl_tpm_public_marshal(&b, tmpl, pub);
    if (rc == KL_OK)
        rc = kl_tpm_public_parse(out, kl_buf_bytes(&b));
    kl_pubkey_free(pub);
    kl_buf_free(&b);
    return rc;
}

typedef struct {
    kl_hash_alg hash;     /* signature hash and PCR bank */
    kl_sig_scheme scheme; /* RSASSA, RSAPSS or ECDSA */
    kl_bytes nonce;       /* extraData */
    kl_tpm_clock clock;
    kl_pcr_set pcrs; /* the quoted values (bank = hash) */
} tb_quote_spec;

typedef struct {
    kl_buf attest, sig, blob, text;
} tb_quote;

static inline void
tb_quote_init(tb_quote *q)
{
    kl_buf_init(&q->attest, 1 << 16);
    kl_buf_init(&q->sig, 1 << 16);
    kl_buf_init(&q->blob, 1 << 16);
    kl_buf_init(&q->text, 1 << 18);
}

static inline void
tb_quote_free(tb_quote *q)
{
    kl_buf_free(&q->attest);
    kl_buf_free(&q->sig);
    kl_buf_free(&q->blob);
    kl_buf_free(&q->text);
}

/* The TPMS_ATTEST of a quote of spec's values. */
static inline kl_rc
tb_attest(kl_buf *out, const tb_quote_spec *s)
{
    uint8_t buf[sizeof(TPMS_ATTEST)], digest[KL_HASH_MAX_SIZE];
    TPMS_ATTEST a;
    TPMS_PCR_SELECTION *sel;
    size_t off = 0;
    uint16_t bank = 0;
    kl_hasher *h = NULL;
    kl_rc rc;

    memset(&a, 0, sizeof(a));
    if (!kl_tpm_alg_of_hash(s->hash, &bank))
        return kl_err_set(KL_EINVAL, "no TPM id for %s", kl_hash_name(s->hash));
    a.magic = TPM2_GENERATED_VALUE;
    a.type = TPM2_ST_ATTEST_QUOTE;
    a.qualifiedSigner.size = 34;
    a.qualifiedSigner.name[1] = 0x0b;
    memset(a.qualifiedSigner.name + 2, 0xab, 32);
    a.extraData.size = (UINT16)s->nonce.len;
    memcpy(a.extraData.buffer, s->nonce.ptr, s->nonce.len);
    a.clockInfo.clock = s->clock.clock;
    a.clockInfo.resetCount = s->clock.reset_count;
    a.clockInfo.restartCount = s->clock.restart_count;
    a.clockInfo.safe = s->clock.safe;
    a.firmwareVersion = 0x2019102300163636ull;
    a.attested.quote.pcrSelect.count = 1;
    sel = &a.attested.quote.pcrSelect.pcrSelections[0];
    sel->hash = bank;
    sel->sizeofSelect = 3;
    sel->pcrSelect[0] = (uint8_t)s->pcrs.present;
    sel->pcrSelect[1] = (uint8_t)(s->pcrs.present >> 8);
    sel->pcrSelect[2] = (uint8_t)(s->pcrs.present >> 16);
    rc = kl_hasher_new(&h);
    if (rc == KL_OK)
        rc = kl_hasher_start(h, s->hash);
    for (unsigned p = 0; rc == KL_OK && p < KL_PCR_COUNT; p++) {
        if (kl_pcr_set_has(&s->pcrs, p))
            rc = kl_hasher_update(h, s->pcrs.value[p], kl_hash_size(s->hash));
    }
    if (rc == KL_OK)
        rc = kl_hasher_finish(h, digest);
    kl_hasher_free(h);
    if (rc != KL_OK)
        return rc;
    a.attested.quote.pcrDigest.size = (UINT16)kl_hash_size(s->hash);
    memcpy(a.attested.quote.pcrDigest.buffer, digest, kl_hash_size(s->hash));
    if (Tss2_MU_TPMS_ATTEST_Marshal(&a, buf, sizeof(buf), &off) != TSS2_RC_SUCCESS)
        return kl_err_set(KL_EINVAL, "cannot marshal the attest");
    return kl_buf_append(out, buf, off);
}

/* The TPMT_SIGNATURE of attest by ak. */
static inline kl_rc
tb_sign(kl_buf *out, const kl_privkey *ak, kl_sig_scheme scheme, kl_hash_alg hash, kl_bytes attest)
{
    uint8_t digest[KL_HASH_MAX_SIZE], buf[sizeof(TPMT_SIGNATURE)];
    TPMT_SIGNATURE sig;
    uint16_t hid = 0;
    size_t off = 0;
    kl_buf raw;
    kl_rc rc;

    memset(&sig, 0, sizeof(sig));
    (void)kl_tpm_alg_of_hash(hash, &hid);
    kl_buf_init(&raw, 4096);
    rc = kl_hash(hash, attest.ptr, attest.len, digest);
    if (rc == KL_OK)
        rc = kl_privkey_sign_digest(ak, scheme, hash, KL_BYTES(digest, kl_hash_size(hash)), &raw);
    if (rc != KL_OK) {
        kl_buf_free(&raw);
        return rc;
    }
    if (scheme == KL_SIG_ECDSA) {
        size_t half = raw.len / 2;

        sig.sigAlg = TPM2_ALG_ECDSA;
        sig.signature.ecdsa.hash = hid;
        sig.signature.ecdsa.signatureR.size = (UINT16)half;
        memcpy(sig.signature.ecdsa.signatureR.buffer, raw.ptr, half);
        sig.signature.ecdsa.signatureS.size = (UINT16)half;
        memcpy(sig.signature.ecdsa.signatureS.buffer, raw.ptr + half, half);
    } else {
        sig.sigAlg = scheme == KL_SIG_RSAPSS ? TPM2_ALG_RSAPSS : TPM2_ALG_RSASSA;
        sig.signature.rsassa.hash = hid;
        sig.signature.rsassa.sig.size = (UINT16)raw.len;
        memcpy(sig.signature.rsassa.sig.buffer, raw.ptr, raw.len);
    }
    kl_buf_free(&raw);
    if (Tss2_MU_TPMT_SIGNATURE_Marshal(&sig, buf, sizeof(buf), &off) != TSS2_RC_SUCCESS)
        return kl_err_set(KL_EINVAL, "cannot marshal the signature");
    return kl_buf_append(out, buf, off);
}

/* Re-makes q->text from the three parts (after tampering with them). */
static inline kl_rc
tb_quote_text(tb_quote *q)
{
    kl_buf_reset(&q->text);
    return kl_quote_format(&q->text, kl_buf_bytes(&q->attest), kl_buf_bytes(&q->sig),
                           kl_buf_bytes(&q->blob));
}

/* A whole quote (q initialised by the caller). */
static inline kl_rc
tb_quote_make(tb_quote *q, const kl_privkey *ak, const tb_quote_spec *s)
{
    uint16_t bank = 0;
    kl_rc rc;

    (void)kl_tpm_alg_of_hash(s->hash, &bank);
    kl_buf_reset(&q->attest);
    kl_buf_reset(&q->sig);
    kl_buf_reset(&q->blob);
    rc = tb_attest(&q->attest, s);
    if (rc == KL_OK)
        rc = tb_sign(&q->sig, ak, s->scheme, s->hash, kl_buf_bytes(&q->attest));
    if (rc == KL_OK)
        rc = kl_pcrblob_build(&q->blob, bank, &s->pcrs);
    if (rc == KL_OK)
        rc = tb_quote_text(q);
    return rc;
}

/* PCR values pcr -> a byte pattern, for the PCRs in mask. */
static inline void
tb_pcrs(kl_pcr_set *s, kl_hash_alg bank, uint32_t mask)
{
    memset(s, 0, sizeof(*s));
    s->bank = bank;
    s->present = mask;
    for (unsigned p = 0; p < KL_PCR_COUNT; p++)
        memset(s->value[p], (mask >> p & 1) ? 0x40 + (int)p : 0, KL_HASH_MAX_SIZE);
}

#endif
