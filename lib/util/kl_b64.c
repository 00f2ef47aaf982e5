#include "util/kl_b64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

kl_rc
kl_b64_encode_append(kl_buf *b, const uint8_t *p, size_t n)
{
    size_t out_len = (n + 2) / 3 * 4;
    kl_rc rc = kl_buf_reserve(b, out_len);
    char *o;

    if (rc != KL_OK)
        return rc;
    o = (char *)b->ptr + b->len;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        size_t left = n - i;

        if (left > 1)
            v |= (uint32_t)p[i + 1] << 8;
        if (left > 2)
            v |= p[i + 2];
        *o++ = alphabet[v >> 18 & 63];
        *o++ = alphabet[v >> 12 & 63];
        *o++ = left > 1 ? alphabet[v >> 6 & 63] : '=';
        *o++ = left > 2 ? alphabet[v & 63] : '=';
    }
    b->len += out_len;
    return KL_OK;
}

static int
b64_value(uint8_t c, bool url_ok)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || (url_ok && c == '-'))
        return 62;
    if (c == '/' || (url_ok && c == '_'))
        return 63;
    return -1;
}

kl_rc
kl_b64_decode_append(kl_buf *b, kl_bytes t, bool url_ok)
{
    size_t pad = 0, start = b->len;
    kl_rc rc;

    if (t.len % 4)
        return kl_err_set(KL_EPARSE, "base64 length %zu is not a multiple of 4", t.len);
    if (t.len && t.ptr[t.len - 1] == '=')
        pad = t.len > 1 && t.ptr[t.len - 2] == '=' ? 2 : 1;
    rc = kl_buf_reserve(b, t.len / 4 * 3);
    if (rc != KL_OK)
        return rc;
    for (size_t i = 0; i < t.len; i += 4) {
        uint32_t v = 0;
        size_t last = i + 4 == t.len;

        for (size_t j = 0; j < 4; j++) {
            int d;

            if (last && j >= 4 - pad) {
                d = 0;
            } else if ((d = b64_value(t.ptr[i + j], url_ok)) < 0) {
                b->len = start; /* nothing appended on failure */
                return kl_err_set(KL_EPARSE, "invalid base64 character at offset %zu", i + j);
            }
            v = v << 6 | (uint32_t)d;
        }
        b->ptr[b->len++] = (uint8_t)(v >> 16);
        if (!last || pad < 2)
            b->ptr[b->len++] = (uint8_t)(v >> 8);
        if (!last || pad < 1)
            b->ptr[b->len++] = (uint8_t)v;
    }
    return KL_OK;
}

kl_rc
kl_b64_decode_lenient_append(kl_buf *b, kl_bytes text)
{
    kl_buf clean;
    size_t n = 0;
    kl_rc rc;

    /* one allocation, then a plain copy loop (this runs on every quote) */
    kl_buf_init(&clean, text.len + 1);
    rc = kl_buf_reserve(&clean, text.len);
    for (size_t i = 0; rc == KL_OK && i < text.len; i++) {
        uint8_t c = text.ptr[i];

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '+' || c == '/' || c == '=')
            clean.ptr[n++] = c;
    }
    clean.len = n;
    if (rc == KL_OK)
        rc = kl_b64_decode_append(b, kl_buf_bytes(&clean), false);
    kl_buf_free(&clean);
    return rc;
}

kl_rc
kl_b64_pem_append(kl_buf *b, const char *label, kl_bytes der)
{
    kl_buf text;
    kl_rc rc;

    kl_buf_init(&text, (der.len + 2) / 3 * 4 + 4);
    rc = kl_b64_encode_append(&text, der.ptr, der.len);
    if (rc == KL_OK)
        rc = kl_buf_printf(b, "-----BEGIN %s-----\n", label);
    for (size_t i = 0; rc == KL_OK && i < text.len; i += 64) {
        size_t k = text.len - i < 64 ? text.len - i : 64;

        rc = kl_buf_append(b, text.ptr + i, k);
        if (rc == KL_OK)
            rc = kl_buf_append_byte(b, '\n');
    }
    if (rc == KL_OK)
        rc = kl_buf_printf(b, "-----END %s-----\n", label);
    kl_buf_free(&text);
    return rc;
}
