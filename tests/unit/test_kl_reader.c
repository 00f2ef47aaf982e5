/* Unit tests for util/kl_reader: the bounds-checked cursor. Every read
 * either succeeds completely or fails with KL_EPARSE, leaving the cursor
 * and the output untouched. */
/* cmocka.h needs the standard headers before it: keep this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/kl_reader.h"
/* clang-format on */

static const uint8_t data[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                               0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0xff};

static void
test_kl_reader_make_and_left(void **state)
{
    kl_reader r = kl_reader_make(KL_BYTES(data, sizeof(data)));

    (void)state;
    assert_ptr_equal(r.ptr, data);
    assert_int_equal(r.len, 16);
    assert_int_equal(r.off, 0);
    assert_int_equal(kl_reader_left(&r), 16);
}

static void
test_kl_reader_big_endian(void **state)
{
    kl_reader r = kl_reader_make(KL_BYTES(data, sizeof(data)));
    uint8_t u8 = 0;
    uint16_t u16 = 0;
    uint32_t u32 = 0;

    (void)state;
    assert_int_equal(kl_reader_u8(&r, &u8), KL_OK);
    assert_int_equal(u8, 0x01);
    assert_int_equal(kl_reader_u16be(&r, &u16), KL_OK);
    assert_int_equal(u16, 0x0203);
    assert_int_equal(kl_reader_u32be(&r, &u32), KL_OK);
    assert_int_equal(u32, 0x04050607);
    assert_int_equal(r.off, 7);
    assert_int_equal(kl_reader_left(&r), 9);
    r.off = 12;
    assert_int_equal(kl_reader_u32be(&r, &u32), KL_OK);
    assert_int_equal(u32, 0x0d0e0fff);
    assert_int_equal(kl_reader_left(&r), 0);
}

static void
test_kl_reader_little_endian(void **state)
{
    kl_reader r = kl_reader_make(KL_BYTES(data, sizeof(data)));
    uint16_t u16 = 0;
    uint32_t u32 = 0;
    uint64_t u64 = 0;

    (void)state;
    assert_int_equal(kl_reader_u16le(&r, &u16), KL_OK);
    assert_int_equal(u16, 0x0201);
    assert_int_equal(kl_reader_u32le(&r, &u32), KL_OK);
    assert_int_equal(u32, 0x06050403);
    assert_int_equal(kl_reader_u64le(&r, &u64), KL_OK);
    assert_int_equal(u64, 0x0e0d0c0b0a090807ULL);
    assert_int_equal(r.off, 14);
    r.off = 8;
    assert_int_equal(kl_reader_u64le(&r, &u64), KL_OK);
    /* the top byte is 0xff: no sign extension, no truncation */
    assert_int_equal(u64, 0xff0f0e0d0c0b0a09ULL);
}

static void
test_kl_reader_short_reads_leave_state(void **state)
{
    kl_reader r = kl_reader_make(KL_BYTES(data, 3));
    uint8_t u8 = 0xee;
    uint16_t u16 = 0xeeee;
    uint32_t u32 = 0xeeeeeeee;
    uint64_t u64 = 0xeeeeeeeeeeeeeeeeULL;
    kl_bytes v = KL_BYTES("x", 1);

    (void)state;
    r.off = 1;
    assert_int_equal(kl_reader_u32be(&r, &u32), KL_EPARSE);
    assert_string_equal(kl_err_msg(), "truncated data: need 4 bytes at offset 1, 2 left");
    assert_int_equal(kl_reader_u32le(&r, &u32), KL_EPARSE);
    assert_int_equal(kl_reader_u64le(&r, &u64), KL_EPARSE);
    assert_string_equal(kl_err_msg(), "truncated data: need 8 bytes at offset 1, 2 left");
    assert_int_equal(kl_reader_bytes(&r, 3, &v), KL_EPARSE);
    assert_int_equal(u32, 0xeeeeeeee);
    assert_int_equal(u64, 0xeeeeeeeeeeeeeeeeULL);
    assert_ptr_equal(v.ptr, "x");
    assert_int_equal(v.len, 1);
    assert_int_equal(r.off, 1);
    assert_int_equal(kl_reader_u16be(&r, &u16), KL_OK);
    assert_int_equal(u16, 0x0203);
    assert_int_equal(kl_reader_u8(&r, &u8), KL_EPARSE);
    assert_string_equal(kl_err_msg(), "truncated data: need 1 bytes at offset 3, 0 left");
    assert_int_equal(kl_reader_u16le(&r, &u16), KL_EPARSE);
    assert_int_equal(u8, 0xee);
    assert_int_equal(u16, 0x0203);
    assert_int_equal(r.off, 3);
}

static void
test_kl_reader_bytes_view(void **state)
{
    kl_reader r = kl_reader_make(KL_BYTES(data, sizeof(data)));
    kl_bytes v;

    (void)state;
    assert_int_equal(kl_reader_bytes(&r, 5, &v), KL_OK);
    /* a view into the input, not a copy */
    assert_ptr_equal(v.ptr, data);
    assert_int_equal(v.len, 5);
    assert_int_equal(kl_reader_bytes(&r, 0, &v), KL_OK);
    assert_ptr_equal(v.ptr, data + 5);
    assert_int_equal(v.len, 0);
    assert_int_equal(kl_reader_bytes(&r, 11, &v), KL_OK);
    assert_ptr_equal(v.ptr, data + 5);
    assert_int_equal(v.len, 11);
    assert_int_equal(kl_reader_bytes(&r, 0, &v), KL_OK);
    assert_int_equal(v.len, 0);
    assert_int_equal(kl_reader_bytes(&r, 1, &v), KL_EPARSE);
    /* a huge n must not wrap around */
    r.off = 1;
    assert_int_equal(kl_reader_bytes(&r, SIZE_MAX, &v), KL_EPARSE);
    assert_int_equal(r.off, 1);
}

static void
test_kl_reader_empty_input(void **state)
{
    kl_reader r = kl_reader_make(KL_BYTES(NULL, 0));
    uint8_t u8;
    kl_bytes v;

    (void)state;
    assert_int_equal(kl_reader_left(&r), 0);
    assert_int_equal(kl_reader_u8(&r, &u8), KL_EPARSE);
    assert_int_equal(kl_reader_bytes(&r, 0, &v), KL_OK);
    assert_int_equal(v.len, 0);
}

static void
test_kl_reader_lv32le(void **state)
{
    static const uint8_t lv[] = {3, 0, 0, 0, 'a', 'b', 'c', 0, 0, 0, 0, 2, 0, 0, 0, 'x'};
    kl_reader r = kl_reader_make(KL_BYTES(lv, sizeof(lv)));
    kl_bytes v;

    (void)state;
    assert_int_equal(kl_reader_lv32le(&r, &v), KL_OK);
    assert_int_equal(v.len, 3);
    assert_ptr_equal(v.ptr, lv + 4);
    assert_int_equal(r.off, 7);
    assert_int_equal(kl_reader_lv32le(&r, &v), KL_OK);
    assert_int_equal(v.len, 0);
    assert_int_equal(r.off, 11);
    /* length 2 but only 1 byte left: the length is not consumed either */
    v = KL_BYTES("keep", 4);
    assert_int_equal(kl_reader_lv32le(&r, &v), KL_EPARSE);
    assert_string_equal(kl_err_msg(), "truncated data: need 2 bytes at offset 15, 1 left");
    assert_int_equal(r.off, 11);
    assert_int_equal(v.len, 4);
}

static void
test_kl_reader_lv32le_huge_length(void **state)
{
    static const uint8_t lv[] = {0xff, 0xff, 0xff, 0xff, 'a'};
    static const uint8_t shortlen[] = {1, 0};
    kl_reader r = kl_reader_make(KL_BYTES(lv, sizeof(lv)));
    kl_bytes v;

    (void)state;
    assert_int_equal(kl_reader_lv32le(&r, &v), KL_EPARSE);
    assert_int_equal(r.off, 0);
    r = kl_reader_make(KL_BYTES(shortlen, sizeof(shortlen)));
    assert_int_equal(kl_reader_lv32le(&r, &v), KL_EPARSE);
    assert_int_equal(r.off, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kl_reader_make_and_left),
        cmocka_unit_test(test_kl_reader_big_endian),
        cmocka_unit_test(test_kl_reader_little_endian),
        cmocka_unit_test(test_kl_reader_short_reads_leave_state),
        cmocka_unit_test(test_kl_reader_bytes_view),
        cmocka_unit_test(test_kl_reader_empty_input),
        cmocka_unit_test(test_kl_reader_lv32le),
        cmocka_unit_test(test_kl_reader_lv32le_huge_length),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
