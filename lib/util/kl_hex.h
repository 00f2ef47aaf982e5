/* kl_hex: lowercase hex encoding and strict decoding. */
#ifndef KL_HEX_H
#define KL_HEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/kl_buf.h"
#include "util/kl_err.h"

/* Writes 2*n lowercase hex digits and a NUL to out (size >= 2*n+1). */
void kl_hex_encode(char *out, const uint8_t *p, size_t n);

/* Digit values: 0-15 for [0-9a-fA-F], KL_HEX_UPPER added for A-F, -1 for
 * anything else. */
extern const int8_t kl_hex_table[256];
#define KL_HEX_UPPER 16

/* Value of one hex digit (either case), or -1. */
static inline int
kl_hex_digit(uint8_t c)
{
    int v = kl_hex_table[c];

    return v < 0 ? -1 : v & 15;
}

/* Decodes an even-length hex string (either case, no separators) into out,
 * which must hold hex.len/2 bytes. Returns false on odd length or a bad digit. */
bool kl_hex_decode(uint8_t *out, kl_bytes hex);

/* Decodes and appends to b. KL_EPARSE on bad hex. */
KL_MUST_CHECK kl_rc kl_hex_decode_append(kl_buf *b, kl_bytes hex);

/* Appends the hex of p to b. */
KL_MUST_CHECK kl_rc kl_hex_encode_append(kl_buf *b, const uint8_t *p, size_t n);

#endif
