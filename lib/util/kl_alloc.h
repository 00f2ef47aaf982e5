/* kl_alloc: the only allocator entry points of the project.
 *
 * Library code returns KL_ENOMEM when these return NULL. Tests can make the
 * Nth allocation fail (kl_alloc_fail_at) to sweep error paths.
 */
#ifndef KL_ALLOC_H
#define KL_ALLOC_H

#include <stddef.h>

void *kl_malloc(size_t n);
void *kl_calloc(size_t count, size_t size);
void *kl_realloc(void *p, size_t n);
/* realloc of count*size with overflow check; NULL on overflow. */
void *kl_reallocarray(void *p, size_t count, size_t size);
void kl_free(void *p);

/* Copies; the caller frees with kl_free. */
char *kl_strdup(const char *s);
char *kl_strndup(const char *s, size_t n);
void *kl_memdup(const void *p, size_t n);

/* Test hook: the nth allocation from now (1-based) and all after it fail;
 * 0 disables. Returns the number of allocations made since the last call. */
size_t kl_alloc_fail_at(size_t nth);

#endif
