/* excludes: a runtime policy's exclude regexes, compiled once.
 *
 * Upstream joins the patterns as "(p1)|(p2)|..." and applies Python's
 * re.match to each path, i.e. anchored at the start only: "/tmp" excludes
 * "/tmpfoo"; "$" anchors the end. Here the joined pattern is compiled once
 * with PCRE2 (UTF, Unicode properties, invalid UTF-8 subjects tolerated)
 * and JIT, anchored, after translating the Python-only escape \Z (end of
 * string) to PCRE2's \z. A compiled set is immutable and shareable; each
 * thread matches with its own kl_excludes_matcher.
 */
#ifndef KL_EXCLUDES_H
#define KL_EXCLUDES_H

#include <stdbool.h>

#include "util/kl_buf.h"
#include "util/kl_err.h"

typedef struct kl_excludes kl_excludes;
typedef struct kl_excludes_matcher kl_excludes_matcher;

/* Compiles n patterns (UTF-8). An invalid pattern fails with KL_EPARSE
 * naming its index, its text and PCRE2's reason. Caller frees. */
KL_MUST_CHECK kl_rc kl_excludes_compile(kl_excludes **out, const kl_bytes *patterns, size_t n);
void kl_excludes_free(kl_excludes *x);

/* Per-thread match state; caller frees. */
KL_MUST_CHECK kl_rc kl_excludes_matcher_new(const kl_excludes *x, kl_excludes_matcher **out);
void kl_excludes_matcher_free(kl_excludes_matcher *m);

/* Whether the path matches (re.match semantics). */
bool kl_excludes_match(kl_excludes_matcher *m, kl_bytes path);

/* Appends the PCRE2 form of a Python regular expression: the same text,
 * except that Python's \Z (end of string) becomes PCRE2's \z. */
KL_MUST_CHECK kl_rc kl_excludes_translate(kl_buf *out, kl_bytes pattern);

#endif
