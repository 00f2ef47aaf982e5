/* quote: TPM quotes as Keylime carries them, and their verification.
 *
 *   quote = "r" b64(TPMS_ATTEST) ":" b64(TPMT_SIGNATURE) ":" b64(PCR blob)
 *
 * kl_quote_verify does upstream's checkquote (signature over the attest
 * with the AK, extraData == nonce, PCR digest over the blob's values of the
 * quoted bank) and is stricter where upstream is lax: the attest's PCR
 * selection must equal the blob's, and an invalid signature fails the
 * quote. Failures are events, not errors: one irrecoverable
 * "qoute_validation.quote_validation" (upstream's spelling) whose context
 * is {"message": "Quote data validation", "error": <reason>}.
 */
#ifndef KL_QUOTE_H
#define KL_QUOTE_H

#include "crypto/hash.h"
#include "tpm/pcr.h"
#include "tpm/tpm_public.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"
#include "verdict/verdict.h"

#include <stdbool.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

typedef struct {
    uint64_t clock;
    uint32_t reset_count;
    uint32_t restart_count;
    uint8_t safe;
} kl_tpm_clock;

/* The clock upstream assumes before an agent's first quote. */
#define KL_TPM_CLOCK_INITIAL                                                                       \
    {                                                                                              \
        0, 0, 0, 1                                                                                 \
    }

typedef struct kl_quote kl_quote;

/* The longest quote string accepted (the PCR blob of 16 banks of 24 PCRs
 * is 25.7 kB, 34 kB as base64). */
#define KL_QUOTE_MAX (64 * 1024)

/* Decodes the three parts (no checks beyond well-formedness): "r", then
 * three ':'-separated base64 parts, decoded as upstream decodes them
 * (characters outside the alphabet dropped; anything after a third ':'
 * ignored); the attest must be a complete TPMS_ATTEST of type
 * TPM_ST_ATTEST_QUOTE with the TPM_GENERATED magic and nothing left over,
 * the signature a complete TPMT_SIGNATURE (bytes after it are ignored, as
 * upstream ignores them), the PCR blob well formed (see pcr.h), and the
 * text at most KL_QUOTE_MAX bytes. KL_EPARSE with the reason for any of
 * these (feed it to kl_quote_add_failure for upstream's event), KL_ENOMEM.
 * Caller frees. */
KL_MUST_CHECK kl_rc kl_quote_parse(kl_quote **out, kl_bytes text);
void kl_quote_free(kl_quote *q);

/* The clock info in the attest (valid after a successful parse). */
const kl_tpm_clock *kl_quote_clock(const kl_quote *q);

/* The attest's extraData (the nonce the TPM signed), borrowed. Upstream
 * accepts a nonce either as given or base64-decoded (push mode); callers
 * use this to pick the form before kl_quote_verify. */
kl_bytes kl_quote_extra_data(const kl_quote *q);

/* Verifies q as a quote over hash_alg's bank by ak, for nonce (the bytes
 * put in extraData). A selection without hash_alg's bank fails, as
 * upstream's does. On success *pcrs holds the quoted values; on failure
 * the event is added to v and *pcrs is empty. Errors only when the check
 * could not run (ENOMEM). */
KL_MUST_CHECK kl_rc kl_quote_verify(kl_verdict *v, kl_pcr_set *pcrs, const kl_quote *q,
                                    const kl_tpm_public *ak, kl_bytes nonce, kl_hash_alg hash_alg);

/* upstream check_quote_timing: counters never decrease, safe is 1, and the
 * clock strictly increases unless both counters changed (upstream's test
 * is `not (resetdiff and restartdiff)`, so a change of only one counter
 * still requires the clock to advance). A failure adds an irrecoverable
 * qoute_validation.quote_validation event whose context is {"message":
 * "Validation of clockinfo from quote using tpm2-tools", "data": <reason>}. */
KL_MUST_CHECK kl_rc kl_quote_check_clock(kl_verdict *v, const kl_tpm_clock *previous,
                                         const kl_tpm_clock *current);

/* kl_quote_check_clock against *state, then records current in *state the
 * way upstream does: only when the check passed and not both counters
 * changed (then upstream keeps the previous value). */
KL_MUST_CHECK kl_rc kl_quote_advance_clock(kl_verdict *v, kl_tpm_clock *state,
                                           const kl_tpm_clock *current);

/* Adds the irrecoverable quote-validation event {"message": "Quote data
 * validation", "error": error}, e.g. for a quote kl_quote_parse rejected
 * (pass kl_err_msg()), so that it reads as kl_quote_verify's failures do. */
KL_MUST_CHECK kl_rc kl_quote_add_failure(kl_verdict *v, const char *error);

/* The decoded parts (borrowed for q's lifetime): the marshalled
 * TPMS_ATTEST, TPMT_SIGNATURE and PCR blob. */
kl_bytes kl_quote_attest(const kl_quote *q);
kl_bytes kl_quote_signature(const kl_quote *q);
kl_bytes kl_quote_pcrblob(const kl_quote *q);

/* The unmarshalled attest and signature, borrowed. */
const TPMS_ATTEST *kl_quote_tpms_attest(const kl_quote *q);
const TPMT_SIGNATURE *kl_quote_tpmt_signature(const kl_quote *q);

/* The attest's PCR selection and the PCR blob's selection, borrowed. */
const kl_pcr_selection *kl_quote_selection(const kl_quote *q);
const kl_pcr_selection *kl_quote_blob_selection(const kl_quote *q);

/* Appends the quote string of the three marshalled parts (the agent side). */
KL_MUST_CHECK kl_rc kl_quote_format(kl_buf *out, kl_bytes attest, kl_bytes sig, kl_bytes pcrblob);

#endif
