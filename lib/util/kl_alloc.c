#include "util/kl_alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static size_t alloc_count;
static size_t alloc_fail_at;

static int
should_fail(void)
{
    alloc_count++;
    return alloc_fail_at != 0 && alloc_count >= alloc_fail_at;
}

size_t
kl_alloc_fail_at(size_t nth)
{
    size_t made = alloc_count;

    alloc_count = 0;
    alloc_fail_at = nth;
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
