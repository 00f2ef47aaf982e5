/* Unit tests for config/ini: the RawConfigParser-compatible reader and
 * the ordered store. Real upstream files and a hand-written tricky file
 * are compared with what Python's RawConfigParser read from them (the
 * .expected files); the error cases are the ones RawConfigParser refuses. */
#include "cfg_test.h"

static int
reset_alloc(void **state)
{
    (void)state;
    kl_alloc_fail_at(0);
    return 0;
}

static kl_rc
parse(kl_ini **doc, const char *text)
{
    assert_int_equal(kl_ini_new(doc), KL_OK);
    return kl_ini_parse(*doc, text, strlen(text), "t.conf");
}

static void
check_same_as_python(const char *name)
{
    char exp_name[256];
    kl_buf text, expected, got;
    kl_ini *doc = NULL;

    cfg_data_read(&text, name);
    snprintf(exp_name, sizeof(exp_name), "%s.expected", name);
    cfg_data_read(&expected, exp_name);
    assert_int_equal(kl_ini_new(&doc), KL_OK);
    assert_int_equal(kl_ini_parse(doc, (const char *)text.ptr, text.len, name), KL_OK);
    cfg_dump_doc(&got, doc);
    assert_string_equal((const char *)got.ptr, (const char *)expected.ptr);
    kl_buf_free(&got);
    kl_buf_free(&expected);
    kl_buf_free(&text);
    kl_ini_free(doc);
}

static void
test_ini_upstream_files_as_python(void **state)
{
    static const char *const files[] = {"registrar.conf",    "verifier.conf", "tenant.conf",
                                        "ca.conf",           "logging.conf",  "test-verifier.conf",
                                        "keylime-agent.conf"};

    (void)state;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        check_same_as_python(files[i]);
}

static void
test_ini_tricky_as_python(void **state)
{
    (void)state;
    check_same_as_python("tricky.ini");
}

static void
test_ini_values_and_sources(void **state)
{
    kl_ini *doc = NULL;
    const kl_ini_value *v;

    (void)state;
    assert_int_equal(parse(&doc, "[a]\n\n# c\nKey = 1\n  more\n"), KL_OK);
    v = kl_ini_get(doc, "a", "key");
    assert_non_null(v);
    assert_string_equal(v->value, "1\nmore");
    assert_string_equal(v->file, "t.conf");
    assert_int_equal(v->line, 4);
    assert_null(v->list);
    assert_null(kl_ini_get(doc, "a", "Key")); /* keys are lower-cased */
    assert_null(kl_ini_get(doc, "A", "key")); /* section names are not */
    kl_ini_free(doc);
}

static void
test_ini_default_section(void **state)
{
    kl_ini *doc = NULL;

    (void)state;
    assert_int_equal(parse(&doc, "[DEFAULT]\nx = d\ny = d\n[s]\nx = s\n"), KL_OK);
    assert_string_equal(kl_ini_lookup(doc, "s", "x")->value, "s");
    assert_string_equal(kl_ini_lookup(doc, "s", "y")->value, "d");
    /* RawConfigParser: no such section, no value, even from DEFAULT */
    assert_null(kl_ini_lookup(doc, "missing", "y"));
    assert_string_equal(kl_ini_lookup(doc, "DEFAULT", "y")->value, "d");
    assert_null(kl_ini_get(doc, "s", "y"));
    assert_null(kl_ini_lookup(doc, "s", "z"));
    kl_ini_free(doc);
}

static void
test_ini_merge_later_wins(void **state)
{
    kl_ini *doc = NULL;
    const char *b = "[s]\nb = 2\nc = 3\n[t]\nz = 1\n";
    kl_buf got;

    (void)state;
    assert_int_equal(parse(&doc, "[s]\na = 1\nb = 1\n"), KL_OK);
    assert_int_equal(kl_ini_parse(doc, b, strlen(b), "u.conf"), KL_OK);
    assert_string_equal(kl_ini_get(doc, "s", "a")->file, "t.conf");
    assert_string_equal(kl_ini_get(doc, "s", "b")->value, "2");
    assert_string_equal(kl_ini_get(doc, "s", "b")->file, "u.conf");
    assert_int_equal(kl_ini_get(doc, "s", "b")->line, 2);
    cfg_dump_doc(&got, doc);
    /* order of first appearance is kept */
    assert_string_equal((const char *)got.ptr, "s\ta\t1\ns\tb\t2\ns\tc\t3\nt\tz\t1\n");
    kl_buf_free(&got);
    kl_ini_free(doc);
}

static void
test_ini_crlf_and_cr(void **state)
{
    kl_ini *doc = NULL;

    (void)state;
    assert_int_equal(parse(&doc, "[s]\r\na = 1\r\n  2\r\rb = x\r"), KL_OK);
    assert_string_equal(kl_ini_get(doc, "s", "a")->value, "1\n2");
    assert_string_equal(kl_ini_get(doc, "s", "b")->value, "x");
    assert_int_equal(kl_ini_get(doc, "s", "b")->line, 5);
    kl_ini_free(doc);
}

static void
expect_error(const char *text, kl_rc want, const char *msg)
{
    kl_ini *doc = NULL;

    assert_int_equal(parse(&doc, text), want);
    if (!strstr(kl_err_msg(), msg))
        fail_msg("error '%s' lacks '%s'", kl_err_msg(), msg);
    kl_ini_free(doc);
}

static void
test_ini_errors(void **state)
{
    (void)state;
    expect_error("a = 1\n", KL_EPARSE, "t.conf:1: option before any '[section]' header");
    expect_error("# c\n\n[s]\nno delimiter\n", KL_EPARSE,
                 "t.conf:4: expected 'option = value', '[section]' or a comment");
    expect_error("[s]\n = 1\n", KL_EPARSE, "t.conf:2: option name missing before '='");
    expect_error("[]\n", KL_EPARSE, "t.conf:1: option before any");
    expect_error("[s]\na = 1\n[s]\n", KL_EPARSE,
                 "t.conf:3: section [s] given twice in this file (first at line 1)");
    expect_error("[s]\na = 1\nb = 2\nA = 3\n", KL_EPARSE,
                 "t.conf:4: option 'a' in section [s] given twice in this file (first at line 2)");
    expect_error("[s]\na = 1\0\n", KL_OK, ""); /* strlen stops at the NUL */
}

static void
test_ini_nul_byte(void **state)
{
    kl_ini *doc = NULL;

    (void)state;
    assert_int_equal(kl_ini_new(&doc), KL_OK);
    assert_int_equal(kl_ini_parse(doc, "[s]\na = 1\0\n", 11, "n.conf"), KL_EPARSE);
    assert_non_null(strstr(kl_err_msg(), "n.conf: contains a NUL byte"));
    kl_ini_free(doc);
}

static void
test_ini_default_repeat_allowed(void **state)
{
    kl_ini *doc = NULL;

    (void)state;
    /* RawConfigParser does not count [DEFAULT] headers */
    assert_int_equal(parse(&doc, "[DEFAULT]\na = 1\n[DEFAULT]\nb = 2\n"), KL_OK);
    assert_string_equal(kl_ini_get(doc, "DEFAULT", "b")->value, "2");
    kl_ini_free(doc);
}

static void
test_ini_caps(void **state)
{
    kl_ini *doc = NULL;
    kl_buf b;

    (void)state;
    kl_buf_init(&b, 1 << 20);
    assert_int_equal(kl_buf_append_str(&b, "[s]\n"), KL_OK);
    for (int i = 0; i <= KL_INI_MAX_OPTIONS; i++)
        assert_int_equal(kl_buf_printf(&b, "k%d = v\n", i), KL_OK);
    assert_int_equal(kl_ini_new(&doc), KL_OK);
    assert_int_equal(kl_ini_parse(doc, (const char *)b.ptr, b.len, "big"), KL_ETOOBIG);
    assert_non_null(strstr(kl_err_msg(), "more than 4096 options"));
    kl_ini_free(doc);
    kl_buf_free(&b);
}

static void
test_ini_alloc_failures(void **state)
{
    const char *text = "[DEFAULT]\nd = 1\n[s]\na = 1\n  2\n\n  3\nb: x\n[t]\nc = y\n";

    (void)state;
    for (size_t n = 1; n < 200; n++) {
        kl_ini *doc = NULL;
        kl_rc rc;

        kl_alloc_fail_at(n);
        rc = kl_ini_new(&doc);
        if (rc == KL_OK)
            rc = kl_ini_parse(doc, text, strlen(text), "f");
        kl_alloc_fail_at(0);
        kl_ini_free(doc);
        if (rc == KL_OK)
            return;
        assert_int_equal(rc, KL_ENOMEM);
    }
    fail_msg("never succeeded");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_ini_upstream_files_as_python, reset_alloc),
        cmocka_unit_test_teardown(test_ini_tricky_as_python, reset_alloc),
        cmocka_unit_test_teardown(test_ini_values_and_sources, reset_alloc),
        cmocka_unit_test_teardown(test_ini_default_section, reset_alloc),
        cmocka_unit_test_teardown(test_ini_merge_later_wins, reset_alloc),
        cmocka_unit_test_teardown(test_ini_crlf_and_cr, reset_alloc),
        cmocka_unit_test_teardown(test_ini_errors, reset_alloc),
        cmocka_unit_test_teardown(test_ini_nul_byte, reset_alloc),
        cmocka_unit_test_teardown(test_ini_default_repeat_allowed, reset_alloc),
        cmocka_unit_test_teardown(test_ini_caps, reset_alloc),
        cmocka_unit_test_teardown(test_ini_alloc_failures, reset_alloc),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
