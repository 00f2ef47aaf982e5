/* Unit tests for policy/pyrepr.h: Python's repr() and ascii() of JSON
 * values (expected texts as CPython 3.11 prints them). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "json/json.h"
#include "policy/pyrepr.h"

static void
expect(const char *json, bool ascii, const char *want)
{
    json_t *j = NULL;
    kl_buf b;

    assert_int_equal(kl_json_parse(KL_BYTES(json, strlen(json)), "test", &j), KL_OK);
    kl_buf_init(&b, 4096);
    assert_int_equal(kl_pyrepr(&b, j, ascii), KL_OK);
    assert_int_equal(kl_buf_terminate(&b), KL_OK);
    assert_string_equal((const char *)b.ptr, want);
    kl_buf_free(&b);
    json_decref(j);
}

static void
test_pyrepr_strings(void **state)
{
    (void)state;
    expect("\"abc\"", false, "'abc'");
    expect("\"\"", false, "''");
    expect("\"it's\"", false, "\"it's\"");
    expect("\"it's \\\"x\\\"\"", false, "'it\\'s \"x\"'");
    expect("\"a\\\\b\\n\\t\\r\\u0000\\u001b\\u007f\"", false, "'a\\\\b\\n\\t\\r\\x00\\x1b\\x7f'");
    expect("\"caf\\u00e9 \\u2028 \\u00a0 \\ud83d\\ude00\"", false,
           "'caf\xc3\xa9 \\u2028 \\xa0 \xf0\x9f\x98\x80'");
    expect("\"caf\\u00e9 \\u20ac \\ud83d\\ude00\"", true, "'caf\\xe9 \\u20ac \\U0001f600'");
}

static void
test_pyrepr_values(void **state)
{
    (void)state;
    expect("[1, -2, true, false, null]", false, "[1, -2, True, False, None]");
    expect("{\"b\": [], \"a\": {}, \"c\": [{\"x\": \"y\"}]}", false,
           "{'b': [], 'a': {}, 'c': [{'x': 'y'}]}");
    expect("[1.5, 0.1, 100.0, 1e16, 1e15, 1e-5, 0.0001, 1.5e-7, -0.0, 123.456]", false,
           "[1.5, 0.1, 100.0, 1e+16, 1000000000000000.0, 1e-05, 0.0001, 1.5e-07, -0.0, 123.456]");
}

static void
test_pyrepr_types(void **state)
{
    json_t *j = json_pack("[{}[]sifbn]", "", 1, 0.5, 1);

    (void)state;
    assert_string_equal(kl_pyrepr_type(json_array_get(j, 0)), "dict");
    assert_string_equal(kl_pyrepr_type(json_array_get(j, 1)), "list");
    assert_string_equal(kl_pyrepr_type(json_array_get(j, 2)), "str");
    assert_string_equal(kl_pyrepr_type(json_array_get(j, 3)), "int");
    assert_string_equal(kl_pyrepr_type(json_array_get(j, 4)), "float");
    assert_string_equal(kl_pyrepr_type(json_array_get(j, 5)), "bool");
    assert_string_equal(kl_pyrepr_type(json_array_get(j, 6)), "NoneType");
    assert_false(kl_pyrepr_truthy(json_array_get(j, 0)));
    assert_false(kl_pyrepr_truthy(json_array_get(j, 1)));
    assert_false(kl_pyrepr_truthy(json_array_get(j, 2)));
    assert_true(kl_pyrepr_truthy(json_array_get(j, 3)));
    assert_true(kl_pyrepr_truthy(json_array_get(j, 4)));
    assert_true(kl_pyrepr_truthy(json_array_get(j, 5)));
    assert_false(kl_pyrepr_truthy(json_array_get(j, 6)));
    assert_true(kl_pyrepr_truthy(j));
    json_decref(j);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pyrepr_strings),
        cmocka_unit_test(test_pyrepr_values),
        cmocka_unit_test(test_pyrepr_types),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
