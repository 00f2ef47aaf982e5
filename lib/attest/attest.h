/* attest: the heart of the verifier, as a pure function.
 *
 *   agent state + quote response + policies -> verdict + new state
 *
 * kl_attest_quote takes the `results` object an agent returns from
 * GET /v2.x/quotes/integrity or /quotes/identity and checks it the way
 * upstream Keylime 7.14's verifier does (cloud_verifier_common
 * process_quote_response, then tpm_main check_quote and check_pcrs):
 * accepted algorithms, the quote itself (signature, nonce, PCR digest),
 * the TPM clock, PCR 16 bound to the agent's public key, the IMA list
 * against the runtime policy (PCR 10), the boot log against the quoted
 * measured-boot PCRs and the measured-boot policy, and the tpm_policy
 * allowlist. Failures are events in the verdict, in upstream's order and
 * with its ids; an error means the evaluation could not run. The verifier
 * daemon only schedules, moves bytes and persists; `keylime-policy check
 * evidence` and the tests call the same function.
 */
#ifndef KL_ATTEST_H
#define KL_ATTEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "attest/tpm_policy.h"
#include "ima/ima_keyring.h"
#include "policy/mb_policy.h"
#include "policy/runtime_eval.h"
#include "policy/runtime_policy.h"
#include "tpm/quote.h"
#include "tpm/tpm_public.h"
#include "verdict/verdict.h"

/* What the verifier keeps per agent between quotes. */
typedef struct {
    kl_tpm_clock clock;         /* the last accepted quote's clock */
    kl_ima_state ima;           /* next IMA entry, PCR 10 so far, quote progress */
    kl_ima_keyrings *learned;   /* keys learned from ima-buf entries (owned) */
    uint64_t attestation_count; /* successful quotes so far */
    int64_t boottime;
} kl_attest_state;

/* The state before an agent's first quote. Free with kl_attest_state_free. */
KL_MUST_CHECK kl_rc kl_attest_state_init(kl_attest_state *st);
void kl_attest_state_free(kl_attest_state *st);

typedef struct {
    const kl_tpm_public *ak;                 /* the AK the registrar holds */
    kl_bytes nonce;                          /* what the verifier asked to be quoted */
    const kl_tpm_policy *tpm_policy;         /* NULL: {} */
    const kl_runtime_policy *runtime_policy; /* NULL: upstream's empty policy */
    const kl_ima_keyrings *tenant_keys;      /* NULL: the policy's verification-keys */
    bool have_mb_policy;                     /* a measured-boot policy is set */
    kl_bytes mb_refstate;                    /* its text (JSON) */
    const kl_mb_engine *mb_engine;           /* NULL: accept-all */
    bool mb_evaluate_always;                 /* measured_boot_evaluate = always */
    bool tomtou_events;                      /* ignore_tomtou_errors = True */
    /* accept_tpm_*_algs, NULL-terminated; NULL: upstream's tenant defaults
     * (sha512 sha384 sha256 / ecc rsa / ecschnorr rsassa) */
    const char *const *accept_hash;
    const char *const *accept_enc;
    const char *const *accept_sign;
    kl_bytes cached_pubkey; /* the agent's key from an earlier quote, or empty */
} kl_attest_inputs;

typedef struct {
    kl_pcr_set pcrs;        /* the quoted PCR values (empty when the quote failed) */
    kl_bytes pubkey;        /* the key the response carried (borrowed), or empty */
    kl_ima_result ima;      /* the IMA replay, when PCR 10 was quoted */
    bool ima_checked;
} kl_attest_result;

/* Checks one quote response (the `results` object). The state advances on
 * success (count, clock, IMA position); IMA failures reset the IMA part. */
KL_MUST_CHECK kl_rc kl_attest_quote(kl_verdict *v, kl_attest_result *res, kl_attest_state *st,
                                    const kl_attest_inputs *in, json_t *results);

/* One-shot checks for the verifier's /verify routes (upstream
 * cloud_verifier_common process_verify_identity_quote and
 * process_verify_attestation): no agent state, no clock check, no accept
 * lists. What the request carries besides the AK, nonce and policies
 * (borrowed, untrusted): */
typedef struct {
    kl_bytes quote;       /* "r<attest>:<sig>:<pcrs>" */
    const char *hash_alg; /* the bank, as named by the caller (NULL: none) */
    kl_bytes ima_list;    /* evidence: the IMA list, when have_ima_list */
    bool have_ima_list;   /* false: upstream's None (PCR 10 quoted: unused_pcr_10) */
    kl_bytes mb_log;      /* evidence: base64 boot log; empty: none */
} kl_attest_oneshot;

/* Identity: a hash_alg upstream does not recognize is the event
 * qoute_validation.invalid_hash_alg; then the quote (signature by in->ak,
 * nonce in->nonce, PCR digest) and, when in->cached_pubkey is not empty,
 * PCR 16 bound to it. Nothing else of in is used. Errors: ENOMEM. */
KL_MUST_CHECK kl_rc kl_attest_identity(kl_verdict *v, const kl_attest_inputs *in,
                                       const kl_attest_oneshot *e);

/* Evidence: the hash_alg and quote checks as above, then upstream's
 * check_pcrs with in's policies (tpm_policy, runtime policy, measured boot)
 * on e's IMA list and boot log, from IMA entry 0, without the PCR 16
 * binding. As upstream passes no attestation count, a measured-boot policy
 * is evaluated only when in->mb_evaluate_always. *res as kl_attest_quote's.
 * Errors: ENOMEM. */
KL_MUST_CHECK kl_rc kl_attest_evidence(kl_verdict *v, kl_attest_result *res,
                                       const kl_attest_inputs *in, const kl_attest_oneshot *e);

#endif
