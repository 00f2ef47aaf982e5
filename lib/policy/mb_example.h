/* mb_example: upstream Keylime's "example" measured-boot policy
 * (keylime/mba/elchecking/example.py) on the refstate that
 * `keylime-policy create measured-boot` writes.
 *
 * The refstate is checked as upstream checks it, with the same messages,
 * and made into a test (policy/mb_test.h) that dispatches every event on
 * (PCRIndex, EventType) and, after the last one, compares the deferred
 * events (S-CRTM and firmware blobs, the boot applications, initrd,
 * vmlinuz, kernel command line) with the refstate. See the .c file for
 * the list of checks.
 */
#ifndef KL_MB_EXAMPLE_H
#define KL_MB_EXAMPLE_H

#include <jansson.h>
#include <stdint.h>

#include "util/kl_buf.h"
#include "util/kl_err.h"

/* PCRs 0-9 and 14. */
#define KL_MB_EXAMPLE_PCRS (0x3ffu | 1u << 14)

/* Evaluates log (the events as eventlog_json.h gives them, in an object
 * {"events": [...]}, or {} when there is no log) against refstate (which
 * gains "vendor_db": [] when it lacks one, as upstream's does). Appends
 * the reason for rejection to reason, nothing when the log passes; a
 * refstate upstream would raise on gives "policy evaluation failed: " and
 * the message. Errors only for allocation failures. */
KL_MUST_CHECK kl_rc kl_mb_example_evaluate(kl_buf *reason, json_t *refstate, json_t *log);

#endif
