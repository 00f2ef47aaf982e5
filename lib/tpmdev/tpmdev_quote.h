/* tpmdev_quote: TPM2_Quote as the Keylime agent takes it.
 *
 * The PCRs are read, then quoted; the quote's pcrDigest is compared with
 * the digest (with the signing scheme's hash) of the values read, and the
 * pair is taken again, up to KL_TPMDEV_QUOTE_ATTEMPTS times, when a PCR
 * changed in between (an IMA extend racing the quote), as rust-keylime
 * does. The result is what the agent sends (PROTOCOL.md 4.1): the
 * marshalled TPMS_ATTEST, TPMT_SIGNATURE and the tpm2-tools PCR blob.
 */
#ifndef KL_TPMDEV_QUOTE_H
#define KL_TPMDEV_QUOTE_H

#include <stdint.h>

#include "crypto/hash.h"
#include "tpm/pcr.h"
#include "tpmdev/tpmdev.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"

#define KL_TPMDEV_QUOTE_ATTEMPTS 5
#define KL_TPMDEV_NONCE_MAX 64

typedef struct {
    kl_buf attest;     /* marshalled TPMS_ATTEST (no TPM2B size) */
    kl_buf sig;        /* marshalled TPMT_SIGNATURE */
    kl_buf pcrblob;    /* tpm2-tools PCR blob of the quoted bank */
    kl_pcr_set pcrs;   /* the quoted values */
    unsigned attempts; /* quotes taken (1 unless PCRs changed meanwhile) */
} kl_tpmdev_quote_result;

void kl_tpmdev_quote_result_init(kl_tpmdev_quote_result *q);
void kl_tpmdev_quote_result_free(kl_tpmdev_quote_result *q);

/* Quotes the PCRs of mask in bank with ak (its own scheme), with nonce
 * (at most 64 bytes) as qualifyingData. q must be initialised; its
 * buffers are reset first. KL_EIO naming the TPM command, or "PCRs kept
 * changing" after KL_TPMDEV_QUOTE_ATTEMPTS tries. */
KL_MUST_CHECK kl_rc kl_tpmdev_quote(kl_tpmdev_quote_result *q, kl_tpmdev *t,
                                    const kl_tpmdev_key *ak, kl_bytes nonce, kl_hash_alg bank,
                                    uint32_t mask);

/* Appends the quote string "r<attest>:<sig>:<pcrblob>" (kl_quote_format). */
KL_MUST_CHECK kl_rc kl_tpmdev_quote_string(kl_buf *out, const kl_tpmdev_quote_result *q);

#endif
