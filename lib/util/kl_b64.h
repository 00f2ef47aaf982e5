/* kl_b64: standard base64 (RFC 4648 section 4, with padding). */
#ifndef KL_B64_H
#define KL_B64_H

#include <stdbool.h>

#include "util/kl_buf.h"
#include "util/kl_err.h"

/* Appends the padded base64 of p to b (no NUL counted). */
KL_MUST_CHECK kl_rc kl_b64_encode_append(kl_buf *b, const uint8_t *p, size_t n);

/* Strictly decodes padded base64 (the URL-safe alphabet too when url_ok)
 * and appends the bytes to b. KL_EPARSE on any other character or bad padding. */
KL_MUST_CHECK kl_rc kl_b64_decode_append(kl_buf *b, kl_bytes text, bool url_ok);

/* Decodes as Python's base64.b64decode without validation does: characters
 * outside the alphabet (newlines, spaces, ...) are dropped first, then the
 * rest is decoded strictly. Upstream decodes agents' quotes and nonces so. */
KL_MUST_CHECK kl_rc kl_b64_decode_lenient_append(kl_buf *b, kl_bytes text);

/* Appends DER as a PEM block ("-----BEGIN <label>-----", 64-column lines). */
KL_MUST_CHECK kl_rc kl_b64_pem_append(kl_buf *b, const char *label, kl_bytes der);

#endif
