/* Unit tests for util/kl_b64: RFC 4648 vectors, strict decoding, the
 * URL-safe alphabet, size caps and an allocation-failure sweep. */
/* cmocka.h needs the standard headers before it: keep this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/kl_alloc.h"
#include "util/kl_b64.h"
/* clang-format on */

static int
reset_alloc(void **state)
{
    (void)state;
    kl_alloc_fail_at(0);
    return 0;
}

static const struct {
    const char *plain;
    const char *b64;
} rfc4648[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

static void
test_kl_b64_encode_rfc4648(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
        kl_buf b;

        kl_buf_init(&b, 1024);
        assert_int_equal(
            kl_b64_encode_append(&b, (const uint8_t *)rfc4648[i].plain, strlen(rfc4648[i].plain)),
            KL_OK);
        assert_int_equal(b.len, strlen(rfc4648[i].b64));
        assert_int_equal(kl_buf_terminate(&b), KL_OK);
        assert_string_equal((char *)b.ptr, rfc4648[i].b64);
        kl_buf_free(&b);
    }
}

static void
test_kl_b64_decode_rfc4648(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
        kl_buf b;
        const char *t = rfc4648[i].b64;

        kl_buf_init(&b, 1024);
        assert_int_equal(kl_b64_decode_append(&b, KL_BYTES(t, strlen(t)), false), KL_OK);
        assert_int_equal(b.len, strlen(rfc4648[i].plain));
        if (b.len)
            assert_memory_equal(b.ptr, rfc4648[i].plain, b.len);
        kl_buf_free(&b);
    }
}

static void
test_kl_b64_encode_appends(void **state)
{
    kl_buf b;

    (void)state;
    kl_buf_init(&b, 1024);
    assert_int_equal(kl_buf_append_str(&b, "key="), KL_OK);
    assert_int_equal(kl_b64_encode_append(&b, (const uint8_t *)"\xff\xfe\xfd\x00", 4), KL_OK);
    assert_int_equal(kl_buf_terminate(&b), KL_OK);
    assert_string_equal((char *)b.ptr, "key=//79AA==");
    kl_buf_free(&b);
}

static void
test_kl_b64_decode_appends(void **state)
{
    kl_buf b;

    (void)state;
    kl_buf_init(&b, 1024);
    assert_int_equal(kl_buf_append_byte(&b, 'X'), KL_OK);
    assert_int_equal(kl_b64_decode_append(&b, KL_BYTES_STR("Zm8="), false), KL_OK);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.ptr, "Xfo", 3);
    kl_buf_free(&b);
}

static void
test_kl_b64_roundtrip_all_bytes(void **state)
{
    uint8_t in[256];
    kl_buf e, d;

    (void)state;
    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)i;
    for (size_t n = 0; n <= sizeof(in); n += 1 + n / 8) {
        kl_buf_init(&e, 4096);
        kl_buf_init(&d, 4096);
        assert_int_equal(kl_b64_encode_append(&e, in + (256 - n), n), KL_OK);
        assert_int_equal(e.len, (n + 2) / 3 * 4);
        assert_int_equal(kl_b64_decode_append(&d, kl_buf_bytes(&e), false), KL_OK);
        assert_int_equal(d.len, n);
        if (n)
            assert_memory_equal(d.ptr, in + (256 - n), n);
        kl_buf_free(&e);
        kl_buf_free(&d);
    }
}

static void
test_kl_b64_decode_binary_alphabet(void **state)
{
    kl_buf b;

    (void)state;
    /* "+/" are 62 and 63 in the standard alphabet */
    kl_buf_init(&b, 64);
    assert_int_equal(kl_b64_decode_append(&b, KL_BYTES_STR("+/+/"), false), KL_OK);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.ptr, "\xfb\xff\xbf", 3);
    kl_buf_free(&b);
}

static void
test_kl_b64_decode_url_safe(void **state)
{
    kl_buf b;

    (void)state;
    kl_buf_init(&b, 64);
    assert_int_equal(kl_b64_decode_append(&b, KL_BYTES_STR("-_-_"), false), KL_EPARSE);
    assert_string_equal(kl_err_msg(), "invalid base64 character at offset 0");
    kl_buf_reset(&b);
    assert_int_equal(kl_b64_decode_append(&b, KL_BYTES_STR("-_-_"), true), KL_OK);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.ptr, "\xfb\xff\xbf", 3);
    /* the standard alphabet stays valid in url_ok mode */
    kl_buf_reset(&b);
    assert_int_equal(kl_b64_decode_append(&b, KL_BYTES_STR("+/8="), true), KL_OK);
    assert_int_equal(b.len, 2);
    assert_memory_equal(b.ptr, "\xfb\xff", 2);
    kl_buf_free(&b);
}

static void
test_kl_b64_decode_rejects(void **state)
{
    static const struct {
        const char *text;
        const char *msg;
    } bad[] = {
        {"Zg=", "base64 length 3 is not a multiple of 4"},
        {"Zm9vY", "base64 length 5 is not a multiple of 4"},
        {"Zm9v\n", "base64 length 5 is not a multiple of 4"},
        {"Zm9v Zm8", "invalid base64 character at offset 4"},
        {"Zm!v", "invalid base64 character at offset 2"},
        {"====", "invalid base64 character at offset 0"},
        {"Z===", "invalid base64 character at offset 1"},
        {"Zg==Zg==", "invalid base64 character at offset 2"},
        {"Zm=v", "invalid base64 character at offset 2"},
        {"=Zm9", "invalid base64 character at offset 0"},
        {"Zm9\xc3", "invalid base64 character at offset 3"},
        {"Zm9\0", "invalid base64 character at offset 3"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        kl_buf b;
        size_t len = strlen(bad[i].text);

        if (i == sizeof(bad) / sizeof(bad[0]) - 1)
            len = 4; /* embedded NUL */
        kl_buf_init(&b, 64);
        kl_err_clear();
        assert_int_equal(kl_b64_decode_append(&b, KL_BYTES(bad[i].text, len), false), KL_EPARSE);
        assert_string_equal(kl_err_msg(), bad[i].msg);
        kl_buf_free(&b);
    }
}

static void
test_kl_b64_decode_noncanonical_tail(void **state)
{
    kl_buf b;

    (void)state;
    /* Like Python's base64.b64decode (which upstream uses), unused low bits
     * in the last quantum are ignored: "Zh==" decodes as "Zg==" does. */
    kl_buf_init(&b, 64);
    assert_int_equal(kl_b64_decode_append(&b, KL_BYTES_STR("Zh=="), false), KL_OK);
    assert_int_equal(b.len, 1);
    assert_memory_equal(b.ptr, "f", 1);
    kl_buf_free(&b);
}

static void
test_kl_b64_size_cap(void **state)
{
    kl_buf b;

    (void)state;
    /* 6 bytes encode to 8 characters; 8 fit only when max > 8 */
    kl_buf_init(&b, 8);
    assert_int_equal(kl_b64_encode_append(&b, (const uint8_t *)"foobar", 6), KL_ETOOBIG);
    assert_int_equal(b.len, 0);
    kl_buf_free(&b);
    kl_buf_init(&b, 9);
    assert_int_equal(kl_b64_encode_append(&b, (const uint8_t *)"foobar", 6), KL_OK);
    assert_int_equal(b.len, 8);
    assert_memory_equal(b.ptr, "Zm9vYmFy", 8);
    kl_buf_free(&b);

    kl_buf_init(&b, 3);
    assert_int_equal(kl_b64_decode_append(&b, KL_BYTES_STR("Zm9vYmFy"), false), KL_ETOOBIG);
    assert_int_equal(b.len, 0);
    kl_buf_free(&b);
}

static void
test_kl_b64_alloc_failure_sweep(void **state)
{
    uint8_t in[300];
    bool done = false;

    (void)state;
    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)(i ^ 0x5c);
    for (size_t n = 1; n < 50 && !done; n++) {
        kl_buf e, d;
        kl_rc rc;

        kl_buf_init(&e, 4096);
        kl_buf_init(&d, 4096);
        kl_alloc_fail_at(n);
        rc = kl_b64_encode_append(&e, in, sizeof(in));
        if (rc == KL_OK)
            rc = kl_b64_decode_append(&d, kl_buf_bytes(&e), false);
        kl_alloc_fail_at(0);
        if (rc == KL_OK) {
            assert_int_equal(d.len, sizeof(in));
            assert_memory_equal(d.ptr, in, sizeof(in));
            done = true;
        } else {
            assert_int_equal(rc, KL_ENOMEM);
            assert_int_equal(d.len, 0);
        }
        kl_buf_free(&e);
        kl_buf_free(&d);
    }
    assert_true(done);
}

#define T(f) cmocka_unit_test_teardown(f, reset_alloc)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_kl_b64_encode_rfc4648),           T(test_kl_b64_decode_rfc4648),
        T(test_kl_b64_encode_appends),           T(test_kl_b64_decode_appends),
        T(test_kl_b64_roundtrip_all_bytes),      T(test_kl_b64_decode_binary_alphabet),
        T(test_kl_b64_decode_url_safe),          T(test_kl_b64_decode_rejects),
        T(test_kl_b64_decode_noncanonical_tail), T(test_kl_b64_size_cap),
        T(test_kl_b64_alloc_failure_sweep),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
