/* runtime_eval: evaluate an IMA measurement list against a runtime policy.
 *
 * One pass over the list: each entry is parsed, its template hash is
 * recomputed (with the policy's ima.log_hash_alg), PCR 10 is replayed in
 * the quoted bank and the entry is checked as upstream Keylime 7.14 checks
 * it (keylime/ima/ima.py, ast.py), producing the same event ids in the same
 * order:
 *   ima.validation.ima_pcr                    entry PCR is not 10
 *   ima.validation.tomtou                     violation entry, when enabled
 *   ima.validation.ima_hash                   template hash mismatch
 *   ima.validation.ima-ng.not_in_allowlist    name not in the policy
 *   ima.validation.ima-ng.runtime_policy_hash digest not allowed for it
 *   ima.validator.ima-sig.invalid_signature   bad signature, no policy
 *   ima.invalid_key                           ima-buf key of another type
 *   ima.parser.entry                          unparsable line
 *   ima.pcr_mismatch                          no prefix gives the quoted PCR 10
 *   ima.quote_progress                        the quote keeps lagging the log
 * The match rule is upstream's: the first prefix of the list (possibly
 * empty) whose replay equals the quoted PCR 10.
 */
#ifndef KL_RUNTIME_EVAL_H
#define KL_RUNTIME_EVAL_H

#include <stdbool.h>
#include <stddef.h>

#include "crypto/hash.h"
#include "ima/ima_keyring.h"
#include "policy/runtime_policy.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"
#include "verdict/verdict.h"

typedef struct {
    /* The policy; NULL means none at all (upstream's library default; the
     * verifier always has one, the empty policy if nothing else). */
    const kl_runtime_policy *policy;
    /* Keys for ima-sig: the tenant keyring (NULL: the policy's
     * verification-keys), searched before the learned keyrings. */
    const kl_ima_keyrings *tenant;
    /* Keyrings learned from ima-buf key entries; keys that pass are added.
     * NULL means no keyring set at all (library use). */
    kl_ima_keyrings *learned;
    kl_hash_alg bank;          /* the quoted PCR bank */
    bool tomtou_events;        /* upstream ignore_tomtou_errors = True */
    bool binary;               /* binary_runtime_measurements */
    /* Boot aggregates from a measured-boot log, allowed for boot_aggregate
     * in addition to the policy's (hex). */
    const kl_bytes *boot_aggregates;
    size_t n_boot_aggregates;
} kl_ima_eval_opts;

#define KL_IMA_EVAL_OPTS_INIT {NULL, NULL, NULL, KL_HASH_SHA1, false, false, NULL, 0}

/* What the verifier keeps between quotes. */
typedef struct {
    size_t next_entry;                /* first entry of the next list */
    uint8_t pcr10[KL_HASH_MAX_SIZE];  /* PCR 10 after the entries before it */
    bool progress_known;
    size_t prev_match, prev_len;      /* for the quote-progress check */
} kl_ima_state;

typedef struct {
    uint8_t pcr10[KL_HASH_MAX_SIZE]; /* replay over the whole given list */
    bool matched;                    /* a quoted value was given and found */
    size_t match_lines;              /* lines in the matching prefix */
    size_t entries;                  /* entries (non-empty lines) in the list */
} kl_ima_result;

/* Evaluates list: the caller passes the entries from state->next_entry on
 * (what the agent sends for ima_ml_entry), or the whole list when state is
 * NULL. quoted_pcr10 (kl_hash_size(bank) bytes) may be NULL:
 * then no PCR check. On a match the state advances to the matching prefix;
 * after any failure it is reset to entry 0 (the caller should then also
 * drop its learned keyrings). Failures go to v; errors only when the
 * evaluation could not run (ENOMEM, bad arguments). */
KL_MUST_CHECK kl_rc kl_ima_eval(kl_verdict *v, kl_ima_result *res, const kl_ima_eval_opts *o,
                                kl_bytes list, const uint8_t *quoted_pcr10, kl_ima_state *state);

#endif
