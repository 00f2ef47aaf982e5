/* Internal to attest/: the parts of one quote check shared between files. */
#ifndef KL_ATTEST_INT_H
#define KL_ATTEST_INT_H

#include "attest/attest.h"

/* The response fields, borrowed from the JSON. */
typedef struct {
    const char *quote;
    kl_bytes pubkey;                /* empty when absent */
    bool have_pubkey;
    kl_bytes ima_list;              /* when have_ima_list */
    bool have_ima_list;
    kl_bytes mb_list;               /* base64, when have_mb_list and non-empty */
    bool have_mb_list;
    kl_hash_alg hash_alg;
} kl_attest_response;

/* Parses and verifies a quote text: signature by ak, extraData = nonce (as
 * given or base64-decoded), PCR digest over hash_alg's bank. Failures are
 * the irrecoverable qoute_validation.quote_validation event; *pcrs gets the
 * quoted values. *out is the parsed quote (caller frees) when it parsed,
 * else NULL. Errors: ENOMEM. */
KL_MUST_CHECK kl_rc kl_attest_verify_quote(kl_verdict *v, kl_pcr_set *pcrs, kl_quote **out,
                                           const kl_tpm_public *ak, kl_bytes nonce,
                                           kl_bytes quote, kl_hash_alg hash_alg);

/* PCR 16 = H(0..0 || H(pubkey)) in alg's bank (recoverable events
 * pcr_validation.missing_pcr_16 / invalid_pcr_16). */
KL_MUST_CHECK kl_rc kl_attest_check_data_pcr(kl_verdict *v, const kl_pcr_set *pcrs,
                                             kl_hash_alg alg, kl_bytes pubkey);

/* upstream check_pcrs: everything after the quote and clock checks. */
KL_MUST_CHECK kl_rc kl_attest_check_pcrs(kl_verdict *v, kl_attest_result *res, kl_attest_state *st,
                                         const kl_attest_inputs *in,
                                         const kl_attest_response *r);

#endif
