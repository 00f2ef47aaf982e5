/* severity: severity labels for failure events, as verifier.conf's
 * severity_labels and severity_policy configure them.
 *
 * Labels run from lowest to highest (default info, notice, warning, error,
 * critical, alert, emergency). The policy is a list of {"event_id": regex,
 * "severity_label": label}; the first rule whose regex matches the whole
 * event id wins (Python re.fullmatch), no match gives the highest label, and
 * an irrecoverable event always gets the highest label. The default policy
 * makes every event "emergency", so the first failure stops attestation.
 */
#ifndef KL_SEVERITY_H
#define KL_SEVERITY_H

#include "util/kl_buf.h"
#include "util/kl_err.h"
#include "verdict/verdict.h"

typedef struct kl_severity kl_severity;

/* labels_json: a JSON list of label names, or empty for the default.
 * policy_json: a JSON list of rules, or empty for the default. KL_EPARSE
 * names the bad rule. Caller frees. */
KL_MUST_CHECK kl_rc kl_severity_new(kl_severity **out, kl_bytes labels_json, kl_bytes policy_json);
void kl_severity_free(kl_severity *s);

/* Sets each failure's severity; returns the index of the first failure
 * with the highest severity, or -1 when there is none. */
int kl_severity_assign(const kl_severity *s, kl_verdict *v);

/* The label of a level (borrowed). */
const char *kl_severity_label(const kl_severity *s, int level);
int kl_severity_max(const kl_severity *s);

#endif
