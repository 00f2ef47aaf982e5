/* eventlog_json: the records as upstream Keylime's measured-boot policy
 * engines and refstate generator see them: tpm2_eventlog 5.4's
 * `--eventlog-version=2` YAML as PyYAML loads it, enriched by
 * tpm_bootlog_enrich (device paths as text, vendor_db certificates) and
 * unescaped as tpm2_tools_elparser does (outer quotes and one trailing NUL
 * dropped, backslash escapes replaced in its order, which also turns
 * "\f" in "\EFI\fedora" into a form feed).
 *
 * A record is an object {"EventNum", "PCRIndex", "EventType", "DigestCount",
 * "Digests": [{"AlgorithmId", "Digest"}], "EventSize", "Event"} ("Event"
 * absent for empty events); the Spec ID header is {"EventNum", "PCRIndex",
 * "EventType", "Digest", "EventSize", "SpecID"}. Known differences, all for
 * data no firmware writes: unsigned 64-bit values above 2^63-1 become
 * decimal strings; bytes that are not UTF-8 become U+FFFD (PyYAML would
 * refuse the document); YAML implicit typing of plain scalars (a variable
 * named "true") is not applied; device path nodes devpath.h does not write
 * stay hex, as do malformed UEFI_PLATFORM_FIRMWARE_BLOB2 and EFI_LOAD_OPTION
 * data (tpm2-tools reads past them); old SHA-1 logs get EventNum too.
 */
#ifndef KL_EVENTLOG_JSON_H
#define KL_EVENTLOG_JSON_H

#include <jansson.h>

#include "mb/eventlog.h"
#include "util/kl_err.h"

/* Record i as an object; caller decrefs. */
KL_MUST_CHECK kl_rc kl_eventlog_json_event(const kl_eventlog *log, size_t i, json_t **out);

/* All records as an array; caller decrefs. */
KL_MUST_CHECK kl_rc kl_eventlog_json_events(const kl_eventlog *log, json_t **out);

/* The unescaping tpm2_tools_elparser applies to every string, in place
 * on UTF-8 bytes; returns the new length. */
size_t kl_eventlog_json_unescape(char *s, size_t len);

#endif
