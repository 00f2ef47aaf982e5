/* tpm_policy: Keylime's PCR allowlist, as the tenant sends it and the
 * verifier stores it (JSON text):
 *
 *   {"mask": "0x408400", "15": ["<hex>", ...], "22": "<hex>"}
 *
 * "mask" is the PCR selection requested from the agent. Every other key is
 * a PCR number; its value is a list of allowed values (compared as exact
 * strings with the quoted value in lowercase hex) or, as upstream allows,
 * one string (then Python's `in` makes it a substring test).
 */
#ifndef KL_TPM_POLICY_H
#define KL_TPM_POLICY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/kl_buf.h"
#include "util/kl_err.h"

#define KL_TPM_POLICY_MAX_PCR 63

typedef struct kl_tpm_policy kl_tpm_policy;

/* Parses the policy text; "" or "{}" is the empty policy. KL_EPARSE with
 * the key and what is wrong. Caller frees. */
KL_MUST_CHECK kl_rc kl_tpm_policy_parse(kl_tpm_policy **out, kl_bytes text);
void kl_tpm_policy_free(kl_tpm_policy *p);

/* The "mask" value (0 when absent). */
uint32_t kl_tpm_policy_mask(const kl_tpm_policy *p);
/* Bitmask of the PCRs the policy lists (0..63). */
uint64_t kl_tpm_policy_listed(const kl_tpm_policy *p);
/* Whether hex (lowercase, the quoted value) is allowed for pcr. Only
 * meaningful for listed PCRs. */
bool kl_tpm_policy_allows(const kl_tpm_policy *p, unsigned pcr, const char *hex);
/* The allowed value(s) of pcr as given (a list or a string), borrowed; for
 * failure contexts. */
json_t *kl_tpm_policy_values(const kl_tpm_policy *p, unsigned pcr);

#endif
