/* ima_ascii: the ASCII measurement list (ascii_runtime_measurements).
 *
 * Lines are split exactly as upstream Keylime splits them (on single
 * spaces, with the same maximum field counts), so that a line upstream
 * cannot parse is reported here too, and the template data recomputed from
 * a line is byte-identical to upstream's, quirks included:
 *   - hex columns accept upper case and whitespace between byte pairs
 *     (Python's bytes.fromhex);
 *   - an ima-sig signature that is not hex or whose header is inconsistent
 *     is treated as absent (and the entry then fails its template hash);
 *   - an unparsable line contributes nothing to the PCR replay.
 */
#ifndef KL_IMA_ASCII_H
#define KL_IMA_ASCII_H

#include <stdbool.h>

#include "ima/ima_entry.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"

/* Longest line accepted; longer lines are reported as unparsable. */
#define KL_IMA_LINE_MAX ((size_t)1 << 20)

/* Entries stay valid for this many calls (the evaluator reads ahead). */
#define KL_IMA_ASCII_KEEP 4

typedef struct {
    kl_bytes text;
    size_t off;
    size_t index; /* lines consumed so far */
    kl_buf bufs[KL_IMA_ASCII_KEEP];
    kl_buf *cur;
    size_t next;
} kl_ima_ascii;

/* Borrows text; kl_ima_ascii_free releases the scratch space. */
void kl_ima_ascii_init(kl_ima_ascii *p, kl_bytes text);
void kl_ima_ascii_free(kl_ima_ascii *p);

/* The next non-empty line; its views stay valid until KL_IMA_ASCII_KEEP
 * more calls have been made. *more is false at the end. e->index is the
 * line's 0-based position counting empty lines too (as upstream counts
 * when it records where the quoted PCR was matched). A line that cannot be
 * parsed comes back with e->error set and no template data. Errors only
 * for ENOMEM. */
KL_MUST_CHECK kl_rc kl_ima_ascii_next(kl_ima_ascii *p, kl_ima_entry *e, bool *more);

#endif
