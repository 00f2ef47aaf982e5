#include "util/kl_alloc.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Test hook state; atomic because threads allocate (rootfs hashing). */
static atomic_size_t alloc_count;
static atomic_size_t alloc_fail_at;

static int
should_fail(void)
{
    size_t nth = atomic_load_explicit(&alloc_fail_at, memory_order_relaxed);
    size_t n = atomic_fetch_add_explicit(&alloc_count, 1, memory_order_relaxed) + 1;

    return nth != 0 && n >= nth;
}

size_t
kl_alloc_fail_at(size_t nth)
{
    size_t made = atomic_exchange(&alloc_count, 0);

    atomic_store(&alloc_fail_at, nth);
    return made;
}

void *
kl_malloc(size_t n)
{
    if (should_fail())
        return NULL;
    return malloc(n ? n : 1);
}

void *
kl_calloc(size_t count, size_t size)
{
    if (should_fail())
        return NULL;
    return calloc(count ? count : 1, size ? size : 1);
}

void *
kl_realloc(void *p, size_t n)
{
    if (should_fail())
        return NULL;
    return realloc(p, n ? n : 1);
}

void *
kl_reallocarray(void *p, size_t count, size_t size)
{
    size_t n;

    if (__builtin_mul_overflow(count, size, &n))
        return NULL;
    return kl_realloc(p, n);
}

void
kl_free(void *p)
{
    free(p);
}

void *
kl_memdup(const void *p, size_t n)
{
    void *q = kl_malloc(n);

    if (q && n)
        memcpy(q, p, n);
    return q;
}

char *
kl_strndup(const char *s, size_t n)
{
    char *q = kl_malloc(n + 1);

    if (!q)
        return NULL;
    memcpy(q, s, n);
    q[n] = '\0';
    return q;
}

char *
kl_strdup(const char *s)
{
    return kl_strndup(s, strlen(s));
}
