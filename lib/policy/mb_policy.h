/* mb_policy: measured-boot policy engines and their reference states.
 *
 * An engine is chosen by name, as verifier.conf's measured_boot_policy_name
 * does: "accept-all", "reject-all" or "example" (upstream's, driven by a
 * refstate made by `keylime-policy create measured-boot`). Engines are
 * static and stateless; a refstate is JSON text.
 */
#ifndef KL_MB_POLICY_H
#define KL_MB_POLICY_H

#include <stdint.h>

#include "mb/eventlog.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"
#include "verdict/verdict.h"

typedef struct kl_mb_engine kl_mb_engine;

/* The engine of that name; KL_ENOTFOUND for an unknown one. */
KL_MUST_CHECK kl_rc kl_mb_engine_find(const char *name, const kl_mb_engine **out);
const char *kl_mb_engine_name(const kl_mb_engine *e);

/* PCRs the engine looks at (upstream get_relevant_pcrs); 0 means no
 * restriction (accept-all, reject-all). */
uint32_t kl_mb_engine_relevant_pcrs(const kl_mb_engine *e);

/* upstream policy_is_valid: whether refstate is acceptable to the engine. */
bool kl_mb_engine_refstate_valid(const kl_mb_engine *e, kl_bytes refstate);

/* Evaluates the log against the refstate; pcrs_in_quote is the bitmask of
 * PCRs the quote covered. log may be NULL when the agent sent no boot log
 * (upstream then evaluates an empty log). Failures are added to v as upstream's events:
 * measured_boot.missing_pcrs and measured_boot.policy_<name> (context
 * {"reason": ...}). Errors only when evaluation could not run. */
KL_MUST_CHECK kl_rc kl_mb_engine_evaluate(kl_verdict *v, const kl_mb_engine *e, kl_bytes refstate,
                                          const kl_eventlog *log, uint32_t pcrs_in_quote);

#endif
