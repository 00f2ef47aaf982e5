/* kl_buf: borrowed byte views (kl_bytes) and owned, capped buffers (kl_buf).
 *
 * A kl_buf has a hard maximum set at init: it holds at most max - 1 bytes
 * (one byte stays free for a terminator) and appends beyond that fail with
 * KL_ETOOBIG, so a peer cannot grow a buffer without bound. Buffers holding
 * secrets are released with kl_buf_free_secret, which wipes them first.
 */
#ifndef KL_BUF_H
#define KL_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "util/kl_err.h"

/* A borrowed view: valid as long as whatever it points into. */
typedef struct {
    const uint8_t *ptr;
    size_t len;
} kl_bytes;

#define KL_BYTES(p, n) ((kl_bytes){(const uint8_t *)(p), (n)})
#define KL_BYTES_STR(s) ((kl_bytes){(const uint8_t *)(s), sizeof(s) - 1})
/* A view of a NUL-terminated string (not counting the NUL). */
#define KL_BYTES_CSTR(s) ((kl_bytes){(const uint8_t *)(s), strlen(s)})

bool kl_bytes_eq(kl_bytes a, kl_bytes b);
bool kl_bytes_eq_str(kl_bytes a, const char *s);

/* An owned, growable buffer with a hard cap. Zero-initialised is not valid;
 * use kl_buf_init. */
typedef struct {
    uint8_t *ptr;
    size_t len;
    size_t cap;
    size_t max;
} kl_buf;

void kl_buf_init(kl_buf *b, size_t max);
KL_MUST_CHECK kl_rc kl_buf_reserve(kl_buf *b, size_t extra);
KL_MUST_CHECK kl_rc kl_buf_append(kl_buf *b, const void *p, size_t n);
KL_MUST_CHECK kl_rc kl_buf_append_byte(kl_buf *b, uint8_t c);
KL_MUST_CHECK kl_rc kl_buf_append_str(kl_buf *b, const char *s);
KL_MUST_CHECK kl_rc kl_buf_append_u32le(kl_buf *b, uint32_t v);
KL_MUST_CHECK kl_rc kl_buf_printf(kl_buf *b, const char *fmt, ...) KL_PRINTF(2, 3);
/* Make ptr a NUL-terminated string (the NUL is not counted in len). */
KL_MUST_CHECK kl_rc kl_buf_terminate(kl_buf *b);
static inline void
kl_buf_reset(kl_buf *b)
{
    b->len = 0;
}
static inline kl_bytes
kl_buf_bytes(const kl_buf *b)
{
    return KL_BYTES(b->ptr, b->len);
}
/* Moves the memory out (caller frees with kl_free); the buffer is left empty. */
uint8_t *kl_buf_take(kl_buf *b, size_t *len_out);
void kl_buf_free(kl_buf *b);
void kl_buf_free_secret(kl_buf *b);

/* Wipe memory that held a secret (not optimised away). */
void kl_wipe(void *p, size_t n);

/* Constant-time comparison of equal-length byte strings. */
bool kl_ct_equal(const void *a, const void *b, size_t n);

#endif
