/* Unit tests for util/kl_buf: byte views, capped buffers, kl_wipe and
 * kl_ct_equal, with an allocation-failure sweep. */
/* cmocka.h needs the standard headers before it: keep this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/kl_alloc.h"
#include "util/kl_buf.h"
/* clang-format on */

static int
reset_alloc(void **state)
{
    (void)state;
    kl_alloc_fail_at(0);
    return 0;
}

static void
test_kl_buf_bytes_eq(void **state)
{
    (void)state;
    assert_true(kl_bytes_eq(KL_BYTES_STR("abc"), KL_BYTES("abcd", 3)));
    assert_false(kl_bytes_eq(KL_BYTES_STR("abc"), KL_BYTES_STR("abd")));
    assert_false(kl_bytes_eq(KL_BYTES_STR("abc"), KL_BYTES_STR("ab")));
    /* empty views are equal whatever they point to */
    assert_true(kl_bytes_eq(KL_BYTES(NULL, 0), KL_BYTES("x", 0)));
    assert_true(kl_bytes_eq(KL_BYTES("a\0b", 3), KL_BYTES("a\0b", 3)));
    assert_false(kl_bytes_eq(KL_BYTES("a\0b", 3), KL_BYTES("a\0c", 3)));
}

static void
test_kl_buf_bytes_eq_str(void **state)
{
    (void)state;
    assert_true(kl_bytes_eq_str(KL_BYTES_STR("sha256"), "sha256"));
    assert_false(kl_bytes_eq_str(KL_BYTES_STR("sha256"), "sha25"));
    assert_false(kl_bytes_eq_str(KL_BYTES_STR("sha25"), "sha256"));
    assert_true(kl_bytes_eq_str(KL_BYTES(NULL, 0), ""));
    assert_int_equal(KL_BYTES_STR("abc").len, 3);
}

static void
test_kl_buf_init_is_empty(void **state)
{
    kl_buf b;

    (void)state;
    memset(&b, 0xaa, sizeof(b));
    kl_buf_init(&b, 100);
    assert_null(b.ptr);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    assert_int_equal(b.max, 100);
    kl_buf_free(&b);
}

static void
test_kl_buf_append_grows(void **state)
{
    kl_buf b;
    uint8_t big[5000];

    (void)state;
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 7);
    kl_buf_init(&b, 1 << 20);
    assert_int_equal(kl_buf_append(&b, "hello", 5), KL_OK);
    assert_int_equal(kl_buf_append_byte(&b, ' '), KL_OK);
    assert_int_equal(kl_buf_append_str(&b, "world"), KL_OK);
    assert_int_equal(b.len, 11);
    assert_memory_equal(b.ptr, "hello world", 11);
    assert_int_equal(kl_buf_append(&b, big, sizeof(big)), KL_OK);
    assert_int_equal(b.len, 11 + sizeof(big));
    assert_true(b.cap > b.len);
    assert_memory_equal(b.ptr + 11, big, sizeof(big));
    /* appending nothing (even from NULL) changes nothing */
    assert_int_equal(kl_buf_append(&b, NULL, 0), KL_OK);
    assert_int_equal(b.len, 11 + sizeof(big));
    kl_buf_free(&b);
    assert_null(b.ptr);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
}

static void
test_kl_buf_append_u32le(void **state)
{
    kl_buf b;

    (void)state;
    kl_buf_init(&b, 64);
    assert_int_equal(kl_buf_append_u32le(&b, 0x11223344), KL_OK);
    assert_int_equal(kl_buf_append_u32le(&b, 0xfffffffe), KL_OK);
    assert_int_equal(b.len, 8);
    assert_memory_equal(b.ptr, "\x44\x33\x22\x11\xfe\xff\xff\xff", 8);
    kl_buf_free(&b);
}

static void
test_kl_buf_printf_formats(void **state)
{
    kl_buf b;

    (void)state;
    kl_buf_init(&b, 1024);
    assert_int_equal(kl_buf_append_str(&b, "x="), KL_OK);
    assert_int_equal(kl_buf_printf(&b, "%d,%s,%04x,%zu", -5, "str", 0xab, (size_t)77), KL_OK);
    assert_int_equal(b.len, strlen("x=-5,str,00ab,77"));
    assert_memory_equal(b.ptr, "x=-5,str,00ab,77", b.len);
    /* the NUL that vsnprintf writes is not counted */
    assert_int_equal(kl_buf_printf(&b, "%s", ""), KL_OK);
    assert_int_equal(b.len, strlen("x=-5,str,00ab,77"));
    kl_buf_free(&b);
}

static void
test_kl_buf_printf_long(void **state)
{
    char expect[3001];
    kl_buf b;

    (void)state;
    memset(expect, 'z', 3000);
    expect[3000] = '\0';
    kl_buf_init(&b, 1 << 16);
    assert_int_equal(kl_buf_printf(&b, "%s", expect), KL_OK);
    assert_int_equal(b.len, 3000);
    assert_int_equal(kl_buf_terminate(&b), KL_OK);
    assert_string_equal((char *)b.ptr, expect);
    kl_buf_free(&b);
}

static void
test_kl_buf_terminate(void **state)
{
    kl_buf b;

    (void)state;
    kl_buf_init(&b, 16);
    /* an empty buffer can be terminated too: "" */
    assert_int_equal(kl_buf_terminate(&b), KL_OK);
    assert_non_null(b.ptr);
    assert_string_equal((char *)b.ptr, "");
    assert_int_equal(b.len, 0);
    assert_int_equal(kl_buf_append_str(&b, "abc"), KL_OK);
    assert_int_equal(kl_buf_terminate(&b), KL_OK);
    assert_int_equal(b.len, 3);
    assert_string_equal((char *)b.ptr, "abc");
    kl_buf_free(&b);
}

static void
test_kl_buf_reset_keeps_memory(void **state)
{
    kl_buf b;
    uint8_t *p;

    (void)state;
    kl_buf_init(&b, 64);
    assert_int_equal(kl_buf_append_str(&b, "abc"), KL_OK);
    p = b.ptr;
    kl_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_ptr_equal(b.ptr, p);
    assert_int_equal(kl_buf_append_str(&b, "de"), KL_OK);
    assert_memory_equal(kl_buf_bytes(&b).ptr, "de", 2);
    assert_int_equal(kl_buf_bytes(&b).len, 2);
    kl_buf_free(&b);
}

static void
test_kl_buf_take_moves_ownership(void **state)
{
    kl_buf b;
    uint8_t *p;
    size_t len = 0;

    (void)state;
    kl_buf_init(&b, 64);
    assert_int_equal(kl_buf_append_str(&b, "owned"), KL_OK);
    p = kl_buf_take(&b, &len);
    assert_non_null(p);
    assert_int_equal(len, 5);
    assert_memory_equal(p, "owned", 5);
    assert_null(b.ptr);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    assert_int_equal(b.max, 64);
    /* the buffer is reusable after take */
    assert_int_equal(kl_buf_append_str(&b, "again"), KL_OK);
    assert_memory_equal(b.ptr, "again", 5);
    kl_buf_free(&b);
    kl_free(p);

    /* len_out is optional; taking an empty buffer gives NULL */
    kl_buf_init(&b, 64);
    assert_null(kl_buf_take(&b, NULL));
}

static void
test_kl_buf_cap_enforced(void **state)
{
    kl_buf b;

    (void)state;
    /* max counts the room kept for a terminating NUL: max-1 data bytes fit */
    kl_buf_init(&b, 8);
    assert_int_equal(kl_buf_append(&b, "1234567", 7), KL_OK);
    assert_int_equal(kl_buf_append_byte(&b, '8'), KL_ETOOBIG);
    assert_int_equal(b.len, 7);
    assert_memory_equal(b.ptr, "1234567", 7);
    assert_int_equal(kl_buf_terminate(&b), KL_OK);
    assert_string_equal((char *)b.ptr, "1234567");
    kl_buf_free(&b);

    kl_buf_init(&b, 8);
    assert_int_equal(kl_buf_append(&b, "123456789", 9), KL_ETOOBIG);
    assert_int_equal(b.len, 0);
    assert_string_equal(kl_err_msg(), "data exceeds the 8-byte limit");
    kl_buf_free(&b);
}

static void
test_kl_buf_cap_never_exceeds_max(void **state)
{
    kl_buf b;

    (void)state;
    kl_buf_init(&b, 1000);
    for (int i = 0; i < 999; i++)
        assert_int_equal(kl_buf_append_byte(&b, (uint8_t)i), KL_OK);
    assert_int_equal(b.len, 999);
    assert_int_equal(b.cap, 1000);
    assert_int_equal(kl_buf_append_byte(&b, 0), KL_ETOOBIG);
    kl_buf_free(&b);
}

static void
test_kl_buf_reserve_overflow(void **state)
{
    kl_buf b;

    (void)state;
    kl_buf_init(&b, SIZE_MAX);
    assert_int_equal(kl_buf_append_str(&b, "ab"), KL_OK);
    /* len + extra wraps around: must be refused, not allocate a tiny block */
    assert_int_equal(kl_buf_reserve(&b, SIZE_MAX - 1), KL_ETOOBIG);
    assert_int_equal(kl_buf_reserve(&b, SIZE_MAX), KL_ETOOBIG);
    assert_int_equal(b.len, 2);
    kl_buf_free(&b);
}

static void
test_kl_buf_printf_at_limit(void **state)
{
    kl_buf a, b;
    kl_rc rc_append, rc_printf;
    size_t len;

    (void)state;
    /* Regression (kl_buf_printf): it reserved n+1 bytes for the
     * NUL that vsnprintf writes on top of the +1 that kl_buf_reserve already
     * keeps, so printf refuses text that kl_buf_append accepts into the same
     * buffer: with max 4, append "abc" works, printf "%s" "abc" gives
     * KL_ETOOBIG. */
    kl_buf_init(&a, 4);
    kl_buf_init(&b, 4);
    rc_append = kl_buf_append_str(&a, "abc");
    rc_printf = kl_buf_printf(&b, "%s", "abc");
    len = b.len;
    if (rc_printf == KL_OK)
        assert_memory_equal(b.ptr, "abc", 3);
    kl_buf_free(&a);
    kl_buf_free(&b);
    assert_int_equal(rc_append, KL_OK);
    assert_int_equal(rc_printf, KL_OK);
    assert_int_equal(len, 3);
}

static void
test_kl_buf_free_null_and_twice(void **state)
{
    kl_buf b;

    (void)state;
    kl_buf_free(NULL);
    kl_buf_free_secret(NULL);
    kl_buf_init(&b, 64);
    kl_buf_free(&b);
    kl_buf_free(&b);
    assert_int_equal(kl_buf_append_str(&b, "secret"), KL_OK);
    kl_buf_free_secret(&b);
    assert_null(b.ptr);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    kl_buf_free_secret(&b);
}

static void
test_kl_buf_wipe(void **state)
{
    uint8_t secret[32];
    uint8_t zero[32] = {0};

    (void)state;
    memset(secret, 0x5a, sizeof(secret));
    kl_wipe(secret, 16);
    assert_memory_equal(secret, zero, 16);
    for (size_t i = 16; i < sizeof(secret); i++)
        assert_int_equal(secret[i], 0x5a);
    kl_wipe(secret, sizeof(secret));
    assert_memory_equal(secret, zero, sizeof(secret));
    kl_wipe(NULL, 10);
    kl_wipe(secret, 0);
}

static void
test_kl_buf_ct_equal(void **state)
{
    uint8_t a[64], b[64];

    (void)state;
    for (size_t i = 0; i < sizeof(a); i++)
        a[i] = b[i] = (uint8_t)(i * 13 + 1);
    assert_true(kl_ct_equal(a, b, sizeof(a)));
    assert_true(kl_ct_equal(a, b, 0));
    b[0] ^= 1;
    assert_false(kl_ct_equal(a, b, sizeof(a)));
    assert_true(kl_ct_equal(a + 1, b + 1, sizeof(a) - 1));
    b[0] ^= 1;
    b[63] ^= 0x80;
    assert_false(kl_ct_equal(a, b, sizeof(a)));
    assert_true(kl_ct_equal(a, b, 63));
    b[63] ^= 0x80;
    /* every single-bit difference anywhere is seen */
    for (size_t i = 0; i < sizeof(a); i++) {
        for (int bit = 0; bit < 8; bit++) {
            b[i] ^= (uint8_t)(1u << bit);
            assert_false(kl_ct_equal(a, b, sizeof(a)));
            b[i] ^= (uint8_t)(1u << bit);
        }
    }
    assert_true(kl_ct_equal(a, b, sizeof(a)));
}

/* Every allocation failure gives KL_ENOMEM, leaves the content intact and
 * leaks nothing; eventually the whole sequence succeeds. */
static void
test_kl_buf_alloc_failure_sweep(void **state)
{
    size_t n;
    bool done = false;

    (void)state;
    for (n = 1; n < 100 && !done; n++) {
        kl_buf b;
        kl_rc rc;

        kl_buf_init(&b, 1 << 20);
        kl_alloc_fail_at(n);
        rc = kl_buf_append_str(&b, "start");
        for (int i = 0; rc == KL_OK && i < 40; i++)
            rc = kl_buf_printf(&b, "[%03d]", i);
        if (rc == KL_OK)
            rc = kl_buf_terminate(&b);
        kl_alloc_fail_at(0);
        if (rc == KL_OK) {
            assert_int_equal(b.len, 5 + 40 * 5);
            assert_memory_equal(b.ptr, "start[000][001]", 15);
            assert_memory_equal(b.ptr + b.len - 5, "[039]", 5);
            done = true;
        } else {
            assert_int_equal(rc, KL_ENOMEM);
            assert_int_equal(b.len % 5, 0);
            if (b.len)
                assert_memory_equal(b.ptr, "start", 5);
        }
        kl_buf_free(&b);
    }
    assert_true(done);
    assert_true(n > 2);
}

#define T(f) cmocka_unit_test_teardown(f, reset_alloc)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_kl_buf_bytes_eq),
        T(test_kl_buf_bytes_eq_str),
        T(test_kl_buf_init_is_empty),
        T(test_kl_buf_append_grows),
        T(test_kl_buf_append_u32le),
        T(test_kl_buf_printf_formats),
        T(test_kl_buf_printf_long),
        T(test_kl_buf_terminate),
        T(test_kl_buf_reset_keeps_memory),
        T(test_kl_buf_take_moves_ownership),
        T(test_kl_buf_cap_enforced),
        T(test_kl_buf_cap_never_exceeds_max),
        T(test_kl_buf_reserve_overflow),
        T(test_kl_buf_printf_at_limit),
        T(test_kl_buf_free_null_and_twice),
        T(test_kl_buf_wipe),
        T(test_kl_buf_ct_equal),
        T(test_kl_buf_alloc_failure_sweep),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
