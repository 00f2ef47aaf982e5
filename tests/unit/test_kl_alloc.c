/* Unit tests for util/kl_alloc: the allocator wrappers and the
 * allocation-failure hook that the other suites use for their sweeps. */
/* cmocka.h needs the standard headers before it: keep this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/kl_alloc.h"
/* clang-format on */

static int
reset_alloc(void **state)
{
    (void)state;
    kl_alloc_fail_at(0);
    return 0;
}

static void
test_kl_alloc_malloc_zero_is_not_null(void **state)
{
    void *p = kl_malloc(0);
    void *q = kl_calloc(0, 0);
    void *r = kl_realloc(NULL, 0);

    (void)state;
    assert_non_null(p);
    assert_non_null(q);
    assert_non_null(r);
    kl_free(p);
    kl_free(q);
    kl_free(r);
}

static void
test_kl_alloc_calloc_zeroes(void **state)
{
    uint8_t *p = kl_calloc(100, 3);

    (void)state;
    assert_non_null(p);
    for (size_t i = 0; i < 300; i++)
        assert_int_equal(p[i], 0);
    kl_free(p);
}

static void
test_kl_alloc_realloc_keeps_content(void **state)
{
    uint8_t *p = kl_malloc(4);
    uint8_t *q;

    (void)state;
    assert_non_null(p);
    memcpy(p, "abcd", 4);
    q = kl_realloc(p, 4096);
    assert_non_null(q);
    assert_memory_equal(q, "abcd", 4);
    kl_free(q);
}

static void
test_kl_alloc_reallocarray_overflow(void **state)
{
    uint8_t *p = kl_malloc(8);
    uint8_t *q;

    (void)state;
    assert_non_null(p);
    memcpy(p, "12345678", 8);
    /* count * size overflows: NULL, and the old block is untouched */
    assert_null(kl_reallocarray(p, SIZE_MAX / 2 + 2, 2));
    assert_memory_equal(p, "12345678", 8);
    q = kl_reallocarray(p, 4, 4);
    assert_non_null(q);
    assert_memory_equal(q, "12345678", 8);
    kl_free(q);
}

static void
test_kl_alloc_free_null(void **state)
{
    (void)state;
    kl_free(NULL);
}

static void
test_kl_alloc_strdup_copies(void **state)
{
    const char src[] = "keylime";
    char *d = kl_strdup(src);

    (void)state;
    assert_non_null(d);
    assert_ptr_not_equal(d, src);
    assert_string_equal(d, "keylime");
    kl_free(d);

    d = kl_strdup("");
    assert_non_null(d);
    assert_string_equal(d, "");
    kl_free(d);
}

static void
test_kl_alloc_strndup_truncates(void **state)
{
    char *d = kl_strndup("keylime", 3);

    (void)state;
    assert_non_null(d);
    assert_string_equal(d, "key");
    kl_free(d);

    /* bytes after an embedded NUL are copied too (n is a length, not a bound) */
    d = kl_strndup("a\0b", 3);
    assert_non_null(d);
    assert_memory_equal(d, "a\0b\0", 4);
    kl_free(d);
}

static void
test_kl_alloc_memdup_copies(void **state)
{
    const uint8_t src[5] = {0, 1, 2, 0xfe, 0xff};
    uint8_t *d = kl_memdup(src, sizeof(src));
    void *z = kl_memdup(src, 0);

    (void)state;
    assert_non_null(d);
    assert_memory_equal(d, src, sizeof(src));
    assert_non_null(z);
    kl_free(d);
    kl_free(z);
}

static void
test_kl_alloc_fail_at_counts_allocations(void **state)
{
    void *a, *b, *c;

    (void)state;
    kl_alloc_fail_at(0);
    a = kl_malloc(1);
    b = kl_calloc(1, 1);
    c = kl_realloc(NULL, 1);
    /* three allocations since the last call */
    assert_int_equal(kl_alloc_fail_at(0), 3);
    assert_int_equal(kl_alloc_fail_at(0), 0);
    kl_free(a);
    kl_free(b);
    kl_free(c);
}

static void
test_kl_alloc_fail_at_nth_and_after(void **state)
{
    void *a, *b, *c;

    (void)state;
    kl_alloc_fail_at(2);
    a = kl_malloc(16);
    b = kl_malloc(16);
    c = kl_calloc(1, 16);
    assert_non_null(a);
    assert_null(b);
    assert_null(c);
    assert_null(kl_realloc(a, 32));
    assert_null(kl_strdup("x"));
    assert_null(kl_memdup("x", 1));
    assert_null(kl_reallocarray(NULL, 2, 2));
    /* 7 attempts, failed or not */
    assert_int_equal(kl_alloc_fail_at(0), 7);
    b = kl_malloc(16);
    assert_non_null(b);
    kl_free(a);
    kl_free(b);
}

static void
test_kl_alloc_fail_at_first(void **state)
{
    (void)state;
    kl_alloc_fail_at(1);
    assert_null(kl_malloc(1));
    assert_null(kl_strndup("abc", 2));
    kl_alloc_fail_at(0);
}

#define T(f) cmocka_unit_test_teardown(f, reset_alloc)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_kl_alloc_malloc_zero_is_not_null),
        T(test_kl_alloc_calloc_zeroes),
        T(test_kl_alloc_realloc_keeps_content),
        T(test_kl_alloc_reallocarray_overflow),
        T(test_kl_alloc_free_null),
        T(test_kl_alloc_strdup_copies),
        T(test_kl_alloc_strndup_truncates),
        T(test_kl_alloc_memdup_copies),
        T(test_kl_alloc_fail_at_counts_allocations),
        T(test_kl_alloc_fail_at_nth_and_after),
        T(test_kl_alloc_fail_at_first),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
