/* legacy: the pre-runtime-policy text formats, parsed as upstream reads them.
 *
 *   flat allowlist   one "<digest> <path>" per line (sha256sum output style);
 *                    each line is stripped and split once on whitespace
 *                    (Python's line.strip().split(None, 1)); lines that do
 *                    not split into two parts are skipped
 *   exclude list     one regex per line, stripped; blank lines and lines
 *                    starting with '#' are skipped
 *
 * "Whitespace" is Python's str.isspace set (ASCII and Unicode spaces). The
 * text must be UTF-8, as Python decodes it; anything else is KL_EPARSE
 * naming the line. Lines end as in Python's str.splitlines() (allowlists
 * read by the converter and the tenant) or as in a text-mode readline()
 * ("\n", "\r\n" or "\r": exclude lists, and allowlists read by the policy
 * generator). The parsers do not allocate, read each byte a bounded number
 * of times and are safe on arbitrary input. Views passed to callbacks borrow
 * from text. A callback that returns an error stops the parse with it.
 */
#ifndef KL_LEGACY_H
#define KL_LEGACY_H

#include "util/kl_buf.h"
#include "util/kl_err.h"

typedef kl_rc (*kl_legacy_digest_fn)(kl_bytes digest, kl_bytes path, void *payload);
typedef kl_rc (*kl_legacy_line_fn)(kl_bytes line, void *payload);

/* Where lines end. */
typedef enum {
    KL_LEGACY_SPLITLINES = 0, /* str.splitlines(): also \v \f \x1c-\x1e U+0085 U+2028 U+2029 */
    KL_LEGACY_READLINE,       /* text-mode readline(): \n, \r\n, \r */
} kl_legacy_eol;

/* A flat allowlist, split as str.splitlines() does. */
KL_MUST_CHECK kl_rc kl_legacy_allowlist_parse(kl_bytes text, kl_legacy_digest_fn fn, void *payload);

/* The same with a choice of line ends. */
KL_MUST_CHECK kl_rc kl_legacy_allowlist_parse_eol(kl_bytes text, kl_legacy_eol eol,
                                                  kl_legacy_digest_fn fn, void *payload);

/* An exclude list (readline line ends, '#' comments skipped). */
KL_MUST_CHECK kl_rc kl_legacy_excludes_parse(kl_bytes text, kl_legacy_line_fn fn, void *payload);

/* Every non-blank line, stripped (no comment handling: the policy generator
 * keeps '#' lines as patterns, as upstream's does). */
KL_MUST_CHECK kl_rc kl_legacy_lines_parse(kl_bytes text, kl_legacy_eol eol, kl_legacy_line_fn fn,
                                          void *payload);

/* Python's str.isspace for one code point. */
bool kl_legacy_is_space(uint32_t cp);

/* Decodes one strict UTF-8 sequence at p (no surrogates, overlongs or
 * code points above U+10FFFF): its length, or 0 when p does not start one. */
size_t kl_legacy_utf8_next(const uint8_t *p, size_t left, uint32_t *cp);

#endif
