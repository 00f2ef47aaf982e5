/* kl_ima_template: the field table, encoding and decoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "ima/ima_template.h"

static void
test_ima_template_names(void **state)
{
    (void)state;
    assert_int_equal(kl_ima_template_from_name(KL_BYTES_STR("ima")), KL_IMA_TMPL_IMA);
    assert_int_equal(kl_ima_template_from_name(KL_BYTES_STR("ima-ng")), KL_IMA_TMPL_IMA_NG);
    assert_int_equal(kl_ima_template_from_name(KL_BYTES_STR("ima-sig")), KL_IMA_TMPL_IMA_SIG);
    assert_int_equal(kl_ima_template_from_name(KL_BYTES_STR("ima-buf")), KL_IMA_TMPL_IMA_BUF);
    assert_int_equal(kl_ima_template_from_name(KL_BYTES_STR("ima-modsig")), KL_IMA_TMPL_UNKNOWN);
    assert_int_equal(kl_ima_template_from_name(KL_BYTES_STR("ima-n")), KL_IMA_TMPL_UNKNOWN);
}

static void
test_ima_template_round_trip(void **state)
{
    kl_ima_entry e, d;
    kl_buf out;

    (void)state;
    memset(&e, 0, sizeof(e));
    e.tmpl = KL_IMA_TMPL_IMA_SIG;
    e.digest_alg = KL_BYTES_STR("sha256");
    e.digest = KL_BYTES_STR("0123456789abcdef0123456789abcdef");
    e.name = KL_BYTES_STR("/usr/bin/x");
    e.sig = KL_BYTES_STR("\x03\x02\x04\0\0\0\0\0\0");
    e.has_sig = true;
    kl_buf_init(&out, 4096);
    assert_int_equal(kl_ima_template_encode(&e, &out), KL_OK);
    assert_int_equal(out.len, 4 + 8 + 32 + 4 + 11 + 4 + 9);
    memset(&d, 0, sizeof(d));
    d.tmpl = KL_IMA_TMPL_IMA_SIG;
    assert_int_equal(kl_ima_template_decode(&d, kl_buf_bytes(&out)), KL_OK);
    assert_null(d.error);
    assert_true(kl_bytes_eq(d.digest_alg, e.digest_alg));
    assert_true(kl_bytes_eq(d.digest, e.digest));
    assert_true(kl_bytes_eq(d.name, e.name));
    assert_true(kl_bytes_eq(d.sig, e.sig));
    /* an extra byte, a missing NUL, a missing colon */
    assert_int_equal(kl_buf_append_byte(&out, 0), KL_OK);
    assert_int_equal(kl_ima_template_decode(&d, kl_buf_bytes(&out)), KL_OK);
    assert_string_equal(d.error, "extra bytes after the template fields");
    out.ptr[4 + 8 + 32 + 4 + 10] = 'x';
    d.error = NULL;
    assert_int_equal(kl_ima_template_decode(&d, KL_BYTES(out.ptr, out.len - 1)), KL_OK);
    assert_string_equal(d.error, "malformed template data field");
    out.ptr[4 + 6] = '-';
    d.error = NULL;
    assert_int_equal(kl_ima_template_decode(&d, kl_buf_bytes(&out)), KL_OK);
    assert_string_equal(d.error, "malformed template data field");
    kl_buf_free(&out);
}

static void
test_ima_template_unsupported(void **state)
{
    kl_ima_entry e;
    kl_buf out;

    (void)state;
    memset(&e, 0, sizeof(e));
    kl_buf_init(&out, 64);
    assert_int_equal(kl_ima_template_encode(&e, &out), KL_EPARSE);
    assert_int_equal(kl_ima_template_decode(&e, KL_BYTES_STR("abcd")), KL_OK);
    assert_string_equal(e.error, "unsupported template");
    kl_buf_free(&out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ima_template_names),
        cmocka_unit_test(test_ima_template_round_trip),
        cmocka_unit_test(test_ima_template_unsupported),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
