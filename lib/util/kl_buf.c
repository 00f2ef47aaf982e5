#include "util/kl_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/kl_alloc.h"

bool
kl_bytes_eq(kl_bytes a, kl_bytes b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

bool
kl_bytes_eq_str(kl_bytes a, const char *s)
{
    return kl_bytes_eq(a, KL_BYTES(s, strlen(s)));
}

void
kl_buf_init(kl_buf *b, size_t max)
{
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

kl_rc
kl_buf_reserve(kl_buf *b, size_t extra)
{
    size_t need, cap;
    uint8_t *p;

    /* +1 keeps room for kl_buf_terminate */
    if (__builtin_add_overflow(b->len, extra, &need) || need >= b->max)
        return kl_err_set(KL_ETOOBIG, "data exceeds the %zu-byte limit", b->max);
    if (need + 1 <= b->cap)
        return KL_OK;
    cap = b->cap ? b->cap : 64;
    while (cap < need + 1)
        cap = cap > b->max / 2 ? b->max : cap * 2;
    p = kl_realloc(b->ptr, cap);
    if (!p)
        return kl_err_set(KL_ENOMEM, "out of memory growing a buffer to %zu bytes", cap);
    b->ptr = p;
    b->cap = cap;
    return KL_OK;
}

kl_rc
kl_buf_append(kl_buf *b, const void *p, size_t n)
{
    kl_rc rc = kl_buf_reserve(b, n);

    if (rc != KL_OK)
        return rc;
    if (n)
        memcpy(b->ptr + b->len, p, n);
    b->len += n;
    return KL_OK;
}

kl_rc
kl_buf_append_byte(kl_buf *b, uint8_t c)
{
    return kl_buf_append(b, &c, 1);
}

kl_rc
kl_buf_append_str(kl_buf *b, const char *s)
{
    return kl_buf_append(b, s, strlen(s));
}

kl_rc
kl_buf_append_u32le(kl_buf *b, uint32_t v)
{
    uint8_t le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};

    return kl_buf_append(b, le, sizeof(le));
}

kl_rc
kl_buf_printf(kl_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    kl_rc rc;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return kl_err_set(KL_EINVAL, "bad format string");
    rc = kl_buf_reserve(b, (size_t)n); /* reserve keeps room for the NUL */
    if (rc != KL_OK)
        return rc;
    va_start(ap, fmt);
    vsnprintf((char *)b->ptr + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return KL_OK;
}

kl_rc
kl_buf_terminate(kl_buf *b)
{
    kl_rc rc = kl_buf_reserve(b, 0);

    if (rc != KL_OK)
        return rc;
    b->ptr[b->len] = '\0';
    return KL_OK;
}

uint8_t *
kl_buf_take(kl_buf *b, size_t *len_out)
{
    uint8_t *p = b->ptr;

    if (len_out)
        *len_out = b->len;
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

void
kl_buf_free(kl_buf *b)
{
    if (!b)
        return;
    kl_free(b->ptr);
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
}

void
kl_wipe(void *p, size_t n)
{
    if (p && n)
        explicit_bzero(p, n);
}

void
kl_buf_free_secret(kl_buf *b)
{
    if (!b)
        return;
    kl_wipe(b->ptr, b->cap);
    kl_buf_free(b);
}

bool
kl_ct_equal(const void *a, const void *b, size_t n)
{
    const volatile uint8_t *x = a;
    const volatile uint8_t *y = b;
    uint8_t acc = 0;

    for (size_t i = 0; i < n; i++)
        acc |= x[i] ^ y[i];
    return acc == 0;
}
