/* ima_binary: the binary measurement list (binary_runtime_measurements).
 *
 * Per entry, little endian: u32 pcr | template digest (size of the list's
 * template-hash algorithm: 20 for the default file) | u32 name length |
 * template name | u32 data length | template data; the legacy "ima" template
 * instead has a 20-byte digest and a u32-length name. Keylime itself never
 * reads this format; entries of templates it does not evaluate are reported
 * as unparsable but still carry their template data, so the PCR replay
 * stays exact.
 */
#ifndef KL_IMA_BINARY_H
#define KL_IMA_BINARY_H

#include <stdbool.h>

#include "ima/ima_entry.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"

#define KL_IMA_BINARY_DATA_MAX ((uint32_t)1 << 24)

/* Entries stay valid for this many calls (the evaluator reads ahead). */
#define KL_IMA_BINARY_KEEP 4

typedef struct {
    kl_bytes data;
    size_t off;
    size_t index;
    size_t hash_len;
    kl_buf bufs[KL_IMA_BINARY_KEEP]; /* rebuilt legacy template data */
    kl_buf *cur;                     /* the one of the latest entry */
    size_t next;
} kl_ima_binary;

/* Borrows data; hash_len is the template-digest size of the list. */
void kl_ima_binary_init(kl_ima_binary *p, kl_bytes data, size_t hash_len);
void kl_ima_binary_free(kl_ima_binary *p);

/* The next entry, valid until KL_IMA_BINARY_KEEP more calls have been
 * made; *more is false at the end. KL_EPARSE when the record framing is
 * broken (nothing after it can be trusted). */
KL_MUST_CHECK kl_rc kl_ima_binary_next(kl_ima_binary *p, kl_ima_entry *e, bool *more);

/* Whether text looks like a binary list rather than an ASCII one. */
bool kl_ima_binary_detect(kl_bytes text);

#endif
