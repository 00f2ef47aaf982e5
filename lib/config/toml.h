/* toml: the TOML subset of the Rust agent's agent.conf, read into an
 * ini document (config/ini.h) so the loader treats both formats alike.
 *
 * Accepted: "[table]" headers with a bare name; bare keys (A-Za-z0-9_-);
 * values that are basic strings "..." (escapes \b \t \n \f \r \" \\
 * \uXXXX \UXXXXXXXX), literal strings '...', decimal integers (sign and
 * '_' between digits allowed), true / false, and arrays of strings and
 * integers, which may span lines and hold comments and a trailing comma;
 * '#' comments. Stored values: strings decoded, integers in canonical
 * decimal, booleans "true"/"false", arrays as a list (integers as decimal
 * text). Keys outside any table go to section "".
 *
 * Everything else (floats, dates, inline tables, multi-line strings,
 * dotted or quoted keys, [[arrays of tables]], nested arrays) is rejected
 * with KL_EPARSE "name:line: what". Duplicate keys or tables within one
 * text are errors, as TOML requires; a later file overrides an earlier.
 */
#ifndef KL_CONFIG_TOML_H
#define KL_CONFIG_TOML_H

#include "config/ini.h"
#include "util/kl_err.h"

#include <stddef.h>

/* Parses text (len bytes) as one file named name and merges it over doc. */
KL_MUST_CHECK kl_rc kl_toml_parse(kl_ini *doc, const char *text, size_t len, const char *name);

#endif
