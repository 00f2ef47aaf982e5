#include "util/kl_hex.h"

static const char hexdigits[] = "0123456789abcdef";

#define X -1
/* A-F carry KL_HEX_UPPER so that lowercase-only checks are one test */
const int8_t kl_hex_table[256] = {
     X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
     X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
     X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
     0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  X,  X,  X,  X,  X,  X,
     X, 26, 27, 28, 29, 30, 31,  X,  X,  X,  X,  X,  X,  X,  X,  X,
     X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
     X, 10, 11, 12, 13, 14, 15,  X,  X,  X,  X,  X,  X,  X,  X,  X,
     X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
     X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
     X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
     X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
     X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
     X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
     X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
     X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
     X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
};
#undef X

void
kl_hex_encode(char *out, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hexdigits[p[i] >> 4];
        out[2 * i + 1] = hexdigits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

bool
kl_hex_decode(uint8_t *out, kl_bytes hex)
{
    if (hex.len % 2)
        return false;
    for (size_t i = 0; i < hex.len / 2; i++) {
        int hi = kl_hex_table[hex.ptr[2 * i]];
        int lo = kl_hex_table[hex.ptr[2 * i + 1]];

        if ((hi | lo) < 0)
            return false;
        out[i] = (uint8_t)((hi & 15) << 4 | (lo & 15));
    }
    return true;
}

kl_rc
kl_hex_decode_append(kl_buf *b, kl_bytes hex)
{
    kl_rc rc = kl_buf_reserve(b, hex.len / 2);

    if (rc != KL_OK)
        return rc;
    if (!kl_hex_decode(b->ptr + b->len, hex))
        return kl_err_set(KL_EPARSE, "not valid hex");
    b->len += hex.len / 2;
    return KL_OK;
}

kl_rc
kl_hex_encode_append(kl_buf *b, const uint8_t *p, size_t n)
{
    kl_rc rc = kl_buf_reserve(b, 2 * n + 1);

    if (rc != KL_OK)
        return rc;
    kl_hex_encode((char *)b->ptr + b->len, p, n);
    b->len += 2 * n;
    return KL_OK;
}
