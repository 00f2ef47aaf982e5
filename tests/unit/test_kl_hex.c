/* Unit tests for util/kl_hex: lowercase encoding, strict decoding. */
/* cmocka.h needs the standard headers before it: keep this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/kl_alloc.h"
#include "util/kl_hex.h"
/* clang-format on */

static int
reset_alloc(void **state)
{
    (void)state;
    kl_alloc_fail_at(0);
    return 0;
}

static void
test_kl_hex_encode(void **state)
{
    char out[16];

    (void)state;
    memset(out, 'X', sizeof(out));
    kl_hex_encode(out, (const uint8_t *)"\x00\x01\x7f\x80\xab\xff", 6);
    assert_string_equal(out, "00017f80abff");
    memset(out, 'X', sizeof(out));
    kl_hex_encode(out, NULL, 0);
    assert_string_equal(out, "");
}

static void
test_kl_hex_digit_all_bytes(void **state)
{
    (void)state;
    for (int c = 0; c < 256; c++) {
        int want = -1;

        if (c >= '0' && c <= '9')
            want = c - '0';
        else if (c >= 'a' && c <= 'f')
            want = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            want = c - 'A' + 10;
        assert_int_equal(kl_hex_digit((uint8_t)c), want);
    }
}

static void
test_kl_hex_decode_mixed_case(void **state)
{
    uint8_t out[4];

    (void)state;
    assert_true(kl_hex_decode(out, KL_BYTES_STR("DEADbeef")));
    assert_memory_equal(out, "\xde\xad\xbe\xef", 4);
    assert_true(kl_hex_decode(out, KL_BYTES_STR("00fF")));
    assert_memory_equal(out, "\x00\xff", 2);
    assert_true(kl_hex_decode(out, KL_BYTES(NULL, 0)));
}

static void
test_kl_hex_decode_rejects(void **state)
{
    static const char *const bad[] = {"0", "abc", "0g", "g0", " 00", "00 ", "0x00", "-1", "0:1"};
    uint8_t out[8];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(kl_hex_decode(out, KL_BYTES(bad[i], strlen(bad[i]))));
    assert_false(kl_hex_decode(out, KL_BYTES("0\0", 2)));
}

static void
test_kl_hex_roundtrip(void **state)
{
    uint8_t in[256], back[256];
    char text[513];

    (void)state;
    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)(255 - i);
    kl_hex_encode(text, in, sizeof(in));
    assert_int_equal(strlen(text), 512);
    assert_true(kl_hex_decode(back, KL_BYTES(text, 512)));
    assert_memory_equal(back, in, sizeof(in));
    assert_memory_equal(text, "fffefdfc", 8);
    assert_string_equal(text + 504, "03020100");
}

static void
test_kl_hex_decode_append(void **state)
{
    kl_buf b;

    (void)state;
    kl_buf_init(&b, 64);
    assert_int_equal(kl_buf_append_byte(&b, 'X'), KL_OK);
    assert_int_equal(kl_hex_decode_append(&b, KL_BYTES_STR("414243")), KL_OK);
    assert_int_equal(b.len, 4);
    assert_memory_equal(b.ptr, "XABC", 4);
    /* bad hex: KL_EPARSE and the length is unchanged */
    assert_int_equal(kl_hex_decode_append(&b, KL_BYTES_STR("41z2")), KL_EPARSE);
    assert_string_equal(kl_err_msg(), "not valid hex");
    assert_int_equal(b.len, 4);
    assert_int_equal(kl_hex_decode_append(&b, KL_BYTES_STR("414")), KL_EPARSE);
    assert_int_equal(b.len, 4);
    kl_buf_free(&b);
}

static void
test_kl_hex_encode_append(void **state)
{
    kl_buf b;

    (void)state;
    kl_buf_init(&b, 64);
    assert_int_equal(kl_buf_append_str(&b, "sha1:"), KL_OK);
    assert_int_equal(kl_hex_encode_append(&b, (const uint8_t *)"\x01\x23\xef", 3), KL_OK);
    assert_int_equal(b.len, 11);
    assert_memory_equal(b.ptr, "sha1:0123ef", 11);
    /* the NUL written by kl_hex_encode is not counted but is there */
    assert_int_equal(b.ptr[11], '\0');
    kl_buf_free(&b);
}

static void
test_kl_hex_append_cap_and_enomem(void **state)
{
    kl_buf b;

    (void)state;
    kl_buf_init(&b, 4);
    assert_int_equal(kl_hex_encode_append(&b, (const uint8_t *)"\x01\x02", 2), KL_ETOOBIG);
    assert_int_equal(b.len, 0);
    kl_buf_free(&b);

    kl_buf_init(&b, 64);
    kl_alloc_fail_at(1);
    assert_int_equal(kl_hex_encode_append(&b, (const uint8_t *)"\x01", 1), KL_ENOMEM);
    assert_int_equal(kl_hex_decode_append(&b, KL_BYTES_STR("01")), KL_ENOMEM);
    kl_alloc_fail_at(0);
    assert_int_equal(b.len, 0);
    kl_buf_free(&b);
}

#define T(f) cmocka_unit_test_teardown(f, reset_alloc)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_kl_hex_encode),
        T(test_kl_hex_digit_all_bytes),
        T(test_kl_hex_decode_mixed_case),
        T(test_kl_hex_decode_rejects),
        T(test_kl_hex_roundtrip),
        T(test_kl_hex_decode_append),
        T(test_kl_hex_encode_append),
        T(test_kl_hex_append_cap_and_enomem),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
