/* kl_reader: a bounds-checked cursor over untrusted bytes.
 *
 * Every read either succeeds completely or returns KL_EPARSE and leaves the
 * cursor where it was; nothing reads past the end.
 */
#ifndef KL_READER_H
#define KL_READER_H

#include <stddef.h>
#include <stdint.h>

#include "util/kl_buf.h"
#include "util/kl_err.h"

typedef struct {
    const uint8_t *ptr;
    size_t len;
    size_t off;
} kl_reader;

static inline kl_reader
kl_reader_make(kl_bytes b)
{
    return (kl_reader){b.ptr, b.len, 0};
}

static inline size_t
kl_reader_left(const kl_reader *r)
{
    return r->len - r->off;
}

KL_MUST_CHECK kl_rc kl_reader_u8(kl_reader *r, uint8_t *out);
KL_MUST_CHECK kl_rc kl_reader_u16be(kl_reader *r, uint16_t *out);
KL_MUST_CHECK kl_rc kl_reader_u32be(kl_reader *r, uint32_t *out);
KL_MUST_CHECK kl_rc kl_reader_u16le(kl_reader *r, uint16_t *out);
KL_MUST_CHECK kl_rc kl_reader_u32le(kl_reader *r, uint32_t *out);
KL_MUST_CHECK kl_rc kl_reader_u64le(kl_reader *r, uint64_t *out);
/* A view of the next n bytes (borrowed from the reader's input). */
KL_MUST_CHECK kl_rc kl_reader_bytes(kl_reader *r, size_t n, kl_bytes *out);
/* u32le length followed by that many bytes. */
KL_MUST_CHECK kl_rc kl_reader_lv32le(kl_reader *r, kl_bytes *out);

#endif
