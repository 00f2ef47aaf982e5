/* pyrepr: Python's repr() and ascii() of JSON values, as upstream Keylime
 * puts them into failure reasons (f"{value!r}", f"{value!a}", str(dict)).
 *
 * Objects keep their key order (json.loads does); strings use the quote
 * Python picks and its escapes; reals use the shortest text that reads
 * back. In repr mode non-ASCII characters are kept unless Python deems
 * them unprintable; that judgement is approximated (C0/C1 controls,
 * separators other than the space, format characters, surrogates, private
 * use and noncharacters are escaped).
 */
#ifndef KL_PYREPR_H
#define KL_PYREPR_H

#include <jansson.h>
#include <stdbool.h>

#include "util/kl_buf.h"
#include "util/kl_err.h"

/* Appends repr(value) (ascii(value) when ascii is true). */
KL_MUST_CHECK kl_rc kl_pyrepr(kl_buf *out, const json_t *value, bool ascii);

/* Appends repr() of the UTF-8 text s (invalid bytes count as U+FFFD). */
KL_MUST_CHECK kl_rc kl_pyrepr_str(kl_buf *out, kl_bytes s, bool ascii);

/* Appends Python's repr of the float v ("1.5", "1e+16", "inf"). */
KL_MUST_CHECK kl_rc kl_pyrepr_float(kl_buf *out, double v);

/* The Python type name of the value json.loads gives ("dict", "list",
 * "str", "int", "float", "bool", "NoneType"). */
const char *kl_pyrepr_type(const json_t *value);

/* Python truthiness: false for null, false, 0, 0.0, "", [] and {}. */
bool kl_pyrepr_truthy(const json_t *value);

#endif
