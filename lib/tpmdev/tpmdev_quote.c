#include "tpmdev/tpmdev_quote.h"

#include <string.h>
#include <tss2/tss2_mu.h>

#include "tpm/quote.h"
#include "tpmdev/tpmdev_int.h"
#include "tpmdev/tpmdev_pcr.h"

#define KL_LOGMODULE "tpmdev"
#include "util/kl_log.h"

#define QUOTE_BUF_MAX 8192

void
kl_tpmdev_quote_result_init(kl_tpmdev_quote_result *q)
{
    memset(q, 0, sizeof(*q));
    kl_buf_init(&q->attest, QUOTE_BUF_MAX);
    kl_buf_init(&q->sig, QUOTE_BUF_MAX);
    kl_buf_init(&q->pcrblob, QUOTE_BUF_MAX);
}

void
kl_tpmdev_quote_result_free(kl_tpmdev_quote_result *q)
{
    kl_buf_free(&q->attest);
    kl_buf_free(&q->sig);
    kl_buf_free(&q->pcrblob);
}

/* The hash of a quote signature (rsassa, rsapss, ecdsa). */
static kl_rc
sig_hash(const TPMT_SIGNATURE *sig, kl_hash_alg *out)
{
    uint16_t alg;

    switch (sig->sigAlg) {
    case TPM2_ALG_RSASSA: alg = sig->signature.rsassa.hash; break;
    case TPM2_ALG_RSAPSS: alg = sig->signature.rsapss.hash; break;
    case TPM2_ALG_ECDSA: alg = sig->signature.ecdsa.hash; break;
    default: return kl_err_set(KL_EUNSUPPORTED, "quote signature scheme 0x%04x", sig->sigAlg);
    }
    if (!kl_tpm_hash_of_alg(alg, out))
        return kl_err_set(KL_EUNSUPPORTED, "quote signature hash 0x%04x", alg);
    return KL_OK;
}

/* Whether the attest's pcrDigest is the digest of the values read. */
static kl_rc
digest_matches(const TPM2B_ATTEST *quoted, const TPMT_SIGNATURE *sig, const kl_pcr_set *pcrs,
               uint32_t mask, bool *out)
{
    TPMS_ATTEST attest;
    uint8_t d[KL_HASH_MAX_SIZE];
    kl_hasher *h = NULL;
    kl_hash_alg alg;
    size_t off = 0;
    kl_rc rc;

    *out = false;
    memset(&attest, 0, sizeof(attest));
    if (Tss2_MU_TPMS_ATTEST_Unmarshal(quoted->attestationData, quoted->size, &off, &attest) !=
            TSS2_RC_SUCCESS ||
        attest.type != TPM2_ST_ATTEST_QUOTE)
        return kl_err_set(KL_EIO, "Esys_Quote: the TPM returned no quote attestation");
    rc = sig_hash(sig, &alg);
    if (rc == KL_OK)
        rc = kl_hasher_new(&h);
    if (rc == KL_OK)
        rc = kl_hasher_start(h, alg);
    for (unsigned pcr = 0; pcr < KL_PCR_COUNT && rc == KL_OK; pcr++)
        if (mask >> pcr & 1)
            rc = kl_hasher_update(h, pcrs->value[pcr], kl_hash_size(pcrs->bank));
    if (rc == KL_OK)
        rc = kl_hasher_finish(h, d);
    kl_hasher_free(h);
    if (rc == KL_OK)
        *out = attest.attested.quote.pcrDigest.size == kl_hash_size(alg) &&
               memcmp(attest.attested.quote.pcrDigest.buffer, d, kl_hash_size(alg)) == 0;
    return rc;
}

static kl_rc
keep(kl_tpmdev_quote_result *q, const TPM2B_ATTEST *quoted, const TPMT_SIGNATURE *sig, uint16_t alg)
{
    uint8_t buf[sizeof(TPMT_SIGNATURE)];
    size_t off = 0;
    kl_rc rc;

    if (Tss2_MU_TPMT_SIGNATURE_Marshal(sig, buf, sizeof(buf), &off) != TSS2_RC_SUCCESS)
        return kl_err_set(KL_EIO, "Tss2_MU_TPMT_SIGNATURE_Marshal failed");
    rc = kl_buf_append(&q->attest, quoted->attestationData, quoted->size);
    if (rc == KL_OK)
        rc = kl_buf_append(&q->sig, buf, off);
    if (rc == KL_OK)
        rc = kl_pcrblob_build(&q->pcrblob, alg, &q->pcrs);
    return rc;
}

/* One read-then-quote; *done when the two agree. */
static kl_rc
attempt(kl_tpmdev_quote_result *q, kl_tpmdev *t, const kl_tpmdev_key *ak, const TPM2B_DATA *nonce,
        kl_hash_alg bank, uint16_t alg, uint32_t mask, bool *done)
{
    TPMT_SIG_SCHEME scheme = {.scheme = TPM2_ALG_NULL};
    TPML_PCR_SELECTION sel = {.count = 1};
    TPM2B_ATTEST *quoted = NULL;
    TPMT_SIGNATURE *sig = NULL;
    TSS2_RC trc;
    kl_rc rc;

    *done = false;
    rc = kl_tpmdev_pcr_read(&q->pcrs, t, bank, mask);
    if (rc != KL_OK)
        return rc;
    sel.pcrSelections[0].hash = alg;
    sel.pcrSelections[0].sizeofSelect = 3;
    for (unsigned i = 0; i < 3; i++)
        sel.pcrSelections[0].pcrSelect[i] = (uint8_t)(mask >> (8 * i));
    trc = Esys_Quote(t->esys, ak->handle, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, nonce,
                     &scheme, &sel, &quoted, &sig);
    if (trc != TSS2_RC_SUCCESS)
        return kl_tpmdev__fail(trc, "Esys_Quote");
    rc = digest_matches(quoted, sig, &q->pcrs, mask, done);
    if (rc == KL_OK && *done)
        rc = keep(q, quoted, sig, alg);
    Esys_Free(quoted);
    Esys_Free(sig);
    return rc;
}

kl_rc
kl_tpmdev_quote(kl_tpmdev_quote_result *q, kl_tpmdev *t, const kl_tpmdev_key *ak, kl_bytes nonce,
                kl_hash_alg bank, uint32_t mask)
{
    TPM2B_DATA data = {0};
    uint16_t alg;

    kl_buf_reset(&q->attest);
    kl_buf_reset(&q->sig);
    kl_buf_reset(&q->pcrblob);
    q->attempts = 0;
    if (nonce.len > KL_TPMDEV_NONCE_MAX)
        return kl_err_set(KL_EINVAL, "nonce of %zu bytes (at most %d)", nonce.len,
                          KL_TPMDEV_NONCE_MAX);
    if (mask == 0 || mask >> KL_PCR_COUNT)
        return kl_err_set(KL_EINVAL, "PCR mask 0x%x", (unsigned)mask);
    if (!kl_tpm_alg_of_hash(bank, &alg))
        return kl_err_set(KL_EINVAL, "no TPM bank for %s", kl_hash_name(bank));
    data.size = (UINT16)nonce.len;
    if (nonce.len)
        memcpy(data.buffer, nonce.ptr, nonce.len);
    while (q->attempts < KL_TPMDEV_QUOTE_ATTEMPTS) {
        bool done = false;
        kl_rc rc;

        q->attempts++;
        rc = attempt(q, t, ak, &data, bank, alg, mask, &done);
        if (rc != KL_OK || done)
            return rc;
        LOG_INFO("PCRs changed between the read and the quote (attempt %u)", q->attempts);
    }
    return kl_err_set(KL_EIO,
                      "Esys_Quote: PCRs kept changing between the read and the quote "
                      "(%d attempts)",
                      KL_TPMDEV_QUOTE_ATTEMPTS);
}

kl_rc
kl_tpmdev_quote_string(kl_buf *out, const kl_tpmdev_quote_result *q)
{
    return kl_quote_format(out, kl_buf_bytes(&q->attest), kl_buf_bytes(&q->sig),
                           kl_buf_bytes(&q->pcrblob));
}
