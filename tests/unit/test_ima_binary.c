/* kl_ima_binary: record framing, legacy "ima" records, detection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "ima/ima_binary.h"
#include "ima_build.h"

static ima_line
line(const char *tmpl, const char *name)
{
    return (ima_line){NULL, tmpl, strcmp(tmpl, "ima") ? "sha256" : NULL,
                      strcmp(tmpl, "ima") ? ima_build_sha256(name)
                                          : "00112233445566778899aabbccddeeff00112233",
                      name, strcmp(tmpl, "ima-buf") == 0 ? "0102" : NULL, KL_HASH_SHA1, 0};
}

static void
test_ima_binary_round_trip(void **state)
{
    const char *const tmpls[] = {"ima-ng", "ima", "ima-sig", "ima-buf"};
    kl_ima_binary p;
    kl_ima_entry e;
    kl_buf bin;
    bool more;

    (void)state;
    kl_buf_init(&bin, 1 << 20);
    for (int i = 0; i < 4; i++) {
        ima_line l = line(tmpls[i], "/usr/bin/x");

        l.pcr = i == 3 ? "11" : NULL;
        ima_build_record(&bin, &l);
    }
    kl_ima_binary_init(&p, kl_buf_bytes(&bin), 20);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(kl_ima_binary_next(&p, &e, &more), KL_OK);
        assert_true(more);
        assert_null(e.error);
        assert_int_equal(e.index, i);
        assert_true(kl_bytes_eq_str(e.template_name, tmpls[i]));
        assert_true(kl_bytes_eq_str(e.name, "/usr/bin/x"));
        assert_int_equal(e.pcr_is_ima, i != 3);
    }
    assert_string_equal(e.pcr_text, "11");
    assert_true(kl_bytes_eq_str(e.buf, "\x01\x02"));
    assert_int_equal(kl_ima_binary_next(&p, &e, &more), KL_OK);
    assert_false(more);
    kl_ima_binary_free(&p);
    kl_buf_free(&bin);
}

static void
test_ima_binary_legacy_padding(void **state)
{
    ima_line l = line("ima", "/init");
    kl_ima_binary p;
    kl_ima_entry e;
    kl_buf bin;
    bool more;

    (void)state;
    kl_buf_init(&bin, 1 << 20);
    ima_build_record(&bin, &l);
    kl_ima_binary_init(&p, kl_buf_bytes(&bin), 20);
    assert_int_equal(kl_ima_binary_next(&p, &e, &more), KL_OK);
    assert_int_equal(e.template_data.len, 276);
    assert_true(kl_bytes_eq_str(e.digest_alg, "sha1"));
    kl_ima_binary_free(&p);
    kl_buf_free(&bin);
}

/* Every truncation point of a record is a framing error, never a read
 * past the end. */
static void
test_ima_binary_truncation(void **state)
{
    ima_line l = line("ima-ng", "/a");
    kl_ima_binary p;
    kl_ima_entry e;
    kl_buf bin;
    bool more;

    (void)state;
    kl_buf_init(&bin, 1 << 20);
    ima_build_record(&bin, &l);
    for (size_t n = 1; n < bin.len; n++) {
        kl_ima_binary_init(&p, KL_BYTES(bin.ptr, n), 20);
        assert_int_equal(kl_ima_binary_next(&p, &e, &more), KL_EPARSE);
        kl_ima_binary_free(&p);
    }
    kl_buf_free(&bin);
}

static void
test_ima_binary_bad_lengths(void **state)
{
    /* template name length 0, then one of 2^32-1 */
    static const uint8_t zero_name[] = {10, 0, 0, 0, [4 ... 23] = 0, 0, 0, 0, 0};
    static const uint8_t huge_data[] = {10, 0, 0, 0, [4 ... 23] = 0, 6, 0, 0, 0,
                                        'i', 'm', 'a', '-', 'n', 'g', 0xff, 0xff, 0xff, 0xff};
    kl_ima_binary p;
    kl_ima_entry e;
    bool more;

    (void)state;
    kl_ima_binary_init(&p, KL_BYTES(zero_name, sizeof(zero_name)), 20);
    assert_int_equal(kl_ima_binary_next(&p, &e, &more), KL_EPARSE);
    kl_ima_binary_free(&p);
    kl_ima_binary_init(&p, KL_BYTES(huge_data, sizeof(huge_data)), 20);
    assert_int_equal(kl_ima_binary_next(&p, &e, &more), KL_EPARSE);
    kl_ima_binary_free(&p);
}

static void
test_ima_binary_detect(void **state)
{
    (void)state;
    assert_true(kl_ima_binary_detect(KL_BYTES("\x0a\0\0\0", 4)));
    assert_false(kl_ima_binary_detect(KL_BYTES("10 ab", 5)));
    assert_false(kl_ima_binary_detect(KL_BYTES("", 0)));
    assert_false(kl_ima_binary_detect(KL_BYTES("\x0a\0\0\x01", 4)));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ima_binary_round_trip),
        cmocka_unit_test(test_ima_binary_legacy_padding),
        cmocka_unit_test(test_ima_binary_truncation),
        cmocka_unit_test(test_ima_binary_bad_lengths),
        cmocka_unit_test(test_ima_binary_detect),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
