/* json: small JSON documents through jansson, and output that matches
 * Python's json.dumps byte for byte (", " and ": " separators, non-ASCII
 * escaped as lowercase \uXXXX), which is what upstream Keylime writes.
 *
 * Large documents (runtime policies) are read with json_scan.h instead.
 */
#ifndef KL_JSON_H
#define KL_JSON_H

#include <jansson.h>

#include "util/kl_buf.h"
#include "util/kl_err.h"

/* Parses text (at most 1 GiB) into *out (caller frees with json_decref).
 * Errors read "<what>: line L column C: <reason>". Duplicate keys keep the
 * last value, as Python does. */
KL_MUST_CHECK kl_rc kl_json_parse(kl_bytes text, const char *what, json_t **out);

/* Appends Python json.dumps(j) to b. Reals are written with %.17g. */
KL_MUST_CHECK kl_rc kl_json_dump_py(kl_buf *b, json_t *j);

/* Appends a JSON string literal of UTF-8 s, escaped as Python does. */
KL_MUST_CHECK kl_rc kl_json_write_string(kl_buf *b, kl_bytes s);

/* A new JSON string from bytes that may not be UTF-8 (invalid bytes become
 * U+FFFD), for messages that quote untrusted input. NULL on ENOMEM. */
json_t *kl_json_string_lossy(kl_bytes s);

#endif
