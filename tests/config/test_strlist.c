/* Unit tests for the config string lists: Python list literals as
 * upstream's getlist (ast.literal_eval) reads them, and word splitting. */
#include "cfg_test.h"

static int
reset_alloc(void **state)
{
    (void)state;
    kl_alloc_fail_at(0);
    return 0;
}

static void
expect_list(const char *text, size_t n, const char *const *items)
{
    kl_strlist l;

    if (kl_strlist_parse_py(&l, text) != KL_OK)
        fail_msg("'%s': %s", text, kl_err_msg());
    assert_int_equal(l.n, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(l.items[i], items[i]);
    kl_strlist_free(&l);
    assert_null(l.items);
    assert_int_equal(l.n, 0);
}

static void
test_strlist_py_valid(void **state)
{
    static const char *const agent[] = {"agent"};
    static const char *const three[] = {"sha512", "sha384", "sha256"};
    static const char *const esc[] = {"a'b",    "c\"d", "t\tn\nb\\", "\xc3\xa9\xe2\x82\xac",
                                      "A\x01z", "\\d",  "xy"};
    static const char *const sp[] = {" a ", ""};

    (void)state;
    expect_list("[]", 0, NULL);
    expect_list("  [ ]  ", 0, NULL);
    expect_list("['agent']", 1, agent);
    expect_list("[\"agent\",]", 1, agent);
    expect_list("['sha512', 'sha384', 'sha256']", 3, three);
    expect_list("[\n 'sha512', # best\n \"sha384\",\n 'sha256'\n]", 3, three);
    expect_list("['a\\'b', \"c\\\"d\", 't\\tn\\nb\\\\', '\\xe9\\u20ac', 'A\\001z', '\\d',"
                " 'x' \"y\"]",
                7, esc);
    expect_list("[' a ', '']", 2, sp);
    expect_list("['ag\\\nent']", 1, agent);
}

static void
expect_bad(const char *text, const char *msg)
{
    kl_strlist l = {(char **)1, 99};

    assert_int_equal(kl_strlist_parse_py(&l, text), KL_EPARSE);
    if (!strstr(kl_err_msg(), msg))
        fail_msg("'%s': error '%s' lacks '%s'", text, kl_err_msg(), msg);
    assert_null(l.items);
    assert_int_equal(l.n, 0);
}

static void
test_strlist_py_invalid(void **state)
{
    (void)state;
    expect_bad("", "position 1: expected '['");
    expect_bad("agent", "position 1: expected '['");
    expect_bad("('a', 'b')", "position 1: expected '['");
    expect_bad("[", "position 2: expected a quoted string or ']'");
    expect_bad("['a'", "position 5: expected ',' or ']'");
    expect_bad("['a' 'b'", "position 9: expected ',' or ']'");
    expect_bad("[1, 2]", "position 2: expected a quoted string");
    expect_bad("[agent]", "position 2: expected a quoted string");
    expect_bad("['a',, 'b']", "position 6: expected a quoted string");
    expect_bad("['a'] x", "position 7: unexpected text after ']'");
    expect_bad("['a']]", "position 6: unexpected text after ']'");
    expect_bad("['abc]", "unterminated string");
    expect_bad("['a\nb']", "unterminated string");
    expect_bad("['''a''']", "triple-quoted strings are not supported");
    expect_bad("[b'a']", "position 2: expected a quoted string");
    expect_bad("['\\x4']", "truncated \\x, \\u or \\U escape");
    expect_bad("['\\ud800']", "not a valid Unicode scalar value");
    expect_bad("['\\U00110000']", "not a valid Unicode scalar value");
    expect_bad("['\\0']", "NUL characters are not allowed");
    expect_bad("['\\N{DASH}']", "\\N{...} escapes are not supported");
    expect_bad("[['a']]", "position 2: expected a quoted string");
    expect_bad("{'a'}", "position 1");
}

static void
test_strlist_split_and_has(void **state)
{
    kl_strlist l;

    (void)state;
    assert_int_equal(kl_strlist_split(&l, " a,b ,, c\td\n"), KL_OK);
    assert_int_equal(l.n, 4);
    assert_string_equal(l.items[0], "a");
    assert_string_equal(l.items[3], "d");
    assert_true(kl_strlist_has(&l, "c"));
    assert_false(kl_strlist_has(&l, "e"));
    assert_false(kl_strlist_has(&l, NULL));
    assert_false(kl_strlist_has(NULL, "a"));
    kl_strlist_free(&l);
    assert_int_equal(kl_strlist_split(&l, " , "), KL_OK);
    assert_int_equal(l.n, 0);
    kl_strlist_free(&l);
    assert_int_equal(kl_strlist_split(&l, NULL), KL_OK);
    assert_int_equal(l.n, 0);
    kl_strlist_free(&l);
    kl_strlist_free(NULL);
}

static void
test_strlist_alloc_failures(void **state)
{
    (void)state;
    for (size_t n = 1; n < 100; n++) {
        kl_strlist a, b;
        kl_rc ra, rb;

        kl_alloc_fail_at(n);
        ra = kl_strlist_parse_py(&a, "['x', 'y\\u20ac', 'z']");
        kl_alloc_fail_at(n);
        rb = kl_strlist_split(&b, "p q r");
        kl_alloc_fail_at(0);
        kl_strlist_free(&a);
        kl_strlist_free(&b);
        assert_true(ra == KL_OK || ra == KL_ENOMEM);
        assert_true(rb == KL_OK || rb == KL_ENOMEM);
        if (ra == KL_OK && rb == KL_OK)
            return;
    }
    fail_msg("never succeeded");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_strlist_py_valid, reset_alloc),
        cmocka_unit_test_teardown(test_strlist_py_invalid, reset_alloc),
        cmocka_unit_test_teardown(test_strlist_split_and_has, reset_alloc),
        cmocka_unit_test_teardown(test_strlist_alloc_failures, reset_alloc),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
