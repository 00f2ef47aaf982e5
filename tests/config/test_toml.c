/* Unit tests for config/toml: the agent.conf subset, its values, and the
 * refusal (with line numbers) of everything outside it. */
#include "cfg_test.h"
#include "config/toml.h"

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
    return kl_toml_parse(*doc, text, strlen(text), "agent.conf");
}

static const char *
val(const kl_ini *doc, const char *key)
{
    const kl_ini_value *v = kl_ini_get(doc, "agent", key);

    if (!v)
        fail_msg("no agent.%s", key);
    return v->value;
}

static void
test_toml_upstream_agent_conf(void **state)
{
    kl_ini *doc = NULL;
    kl_buf text;

    (void)state;
    cfg_data_read(&text, "keylime-agent.conf");
    assert_int_equal(kl_ini_new(&doc), KL_OK);
    assert_int_equal(kl_toml_parse(doc, (const char *)text.ptr, text.len, "keylime-agent.conf"),
                     KL_OK);
    assert_string_equal(val(doc, "uuid"), "d432fbb3-d2f1-4a97-9ef7-75bd81c00000");
    assert_string_equal(val(doc, "port"), "9002");
    assert_string_equal(val(doc, "enable_agent_mtls"), "true");
    assert_string_equal(val(doc, "registrar_tls_enabled"), "false");
    assert_string_equal(val(doc, "server_key_password"), "");
    assert_string_equal(val(doc, "verifier_tls_ca_cert"), "default"); /* comment after it */
    assert_int_equal(kl_ini_get(doc, "agent", "uuid")->line, 36);
    kl_ini_free(doc);
    kl_buf_free(&text);
    /* the agent.conf upstream's Python templates generate parses too */
    cfg_data_read(&text, "agent-template.conf");
    assert_int_equal(kl_ini_new(&doc), KL_OK);
    assert_int_equal(kl_toml_parse(doc, (const char *)text.ptr, text.len, "a"), KL_OK);
    assert_string_equal(val(doc, "version"), "2.6");
    assert_string_equal(val(doc, "port"), "9002");
    kl_ini_free(doc);
    kl_buf_free(&text);
}

static void
test_toml_strings(void **state)
{
    kl_ini *doc = NULL;

    (void)state;
    assert_int_equal(parse(&doc, "[agent]\n"
                                 "a = \"tab\\there \\\"q\\\" back\\\\slash\"\n"
                                 "b = 'C:\\no\\escapes \"x\"'\n"
                                 "c = \"\\u00e9\\U0001F600\\b\\f\\n\\r\"\n"
                                 "d = \"\"\n"
                                 "e=''# comment\n"),
                     KL_OK);
    assert_string_equal(val(doc, "a"), "tab\there \"q\" back\\slash");
    assert_string_equal(val(doc, "b"), "C:\\no\\escapes \"x\"");
    assert_string_equal(val(doc, "c"), "\xc3\xa9\xf0\x9f\x98\x80\b\f\n\r");
    assert_string_equal(val(doc, "d"), "");
    assert_string_equal(val(doc, "e"), "");
    kl_ini_free(doc);
}

static void
test_toml_scalars(void **state)
{
    kl_ini *doc = NULL;

    (void)state;
    assert_int_equal(parse(&doc, "# top\n\n  [ agent ]  # t\n"
                                 "i = 1_000\nj = -0\nk = +42\nl = 0\nt = true\nf = false\n"
                                 "  key-with_dash = 1\n"),
                     KL_OK);
    assert_string_equal(val(doc, "i"), "1000");
    assert_string_equal(val(doc, "j"), "0");
    assert_string_equal(val(doc, "k"), "42");
    assert_string_equal(val(doc, "l"), "0");
    assert_string_equal(val(doc, "t"), "true");
    assert_string_equal(val(doc, "f"), "false");
    assert_string_equal(val(doc, "key-with_dash"), "1");
    kl_ini_free(doc);
}

static void
test_toml_arrays(void **state)
{
    kl_ini *doc = NULL;
    const kl_ini_value *v;

    (void)state;
    assert_int_equal(parse(&doc, "top = 1\n[agent]\n"
                                 "api = [\"2.1\", '2.2',\n"
                                 "   # a comment line\n"
                                 "   \"2.3\", # after an item\n"
                                 "   5,\n"
                                 "]\n"
                                 "empty = []\n"
                                 "after = 'x'\n"),
                     KL_OK);
    v = kl_ini_get(doc, "agent", "api");
    assert_non_null(v->list);
    assert_int_equal(v->list->n, 4);
    assert_string_equal(v->list->items[0], "2.1");
    assert_string_equal(v->list->items[2], "2.3");
    assert_string_equal(v->list->items[3], "5");
    assert_string_equal(v->value, "['2.1', '2.2', '2.3', '5']");
    assert_int_equal(v->line, 3);
    v = kl_ini_get(doc, "agent", "empty");
    assert_int_equal(v->list->n, 0);
    assert_int_equal(kl_ini_get(doc, "agent", "after")->line, 9);
    assert_string_equal(kl_ini_get(doc, "", "top")->value, "1");
    kl_ini_free(doc);
}

static void
expect_error(const char *text, const char *msg)
{
    kl_ini *doc = NULL;

    assert_int_equal(parse(&doc, text), KL_EPARSE);
    if (!strstr(kl_err_msg(), msg))
        fail_msg("error '%s' lacks '%s'", kl_err_msg(), msg);
    kl_ini_free(doc);
}

static void
test_toml_rejects(void **state)
{
    (void)state;
    expect_error("[agent]\nx = 1.5\n", "agent.conf:2: floats and dates are not supported");
    expect_error("[agent]\nx = 1979-05-27\n", "agent.conf:2: floats and dates");
    expect_error("[agent]\nx = inf\n", "agent.conf:2: floats are not supported");
    expect_error("[agent]\nx = 0x1f\n", "agent.conf:2: hexadecimal, octal and binary");
    expect_error("[agent]\nx = 012\n", "agent.conf:2: not a valid integer");
    expect_error("[agent]\nx = 1__0\n", "agent.conf:2: not a valid integer");
    expect_error("[agent]\nx = 12345678901234567890\n", "agent.conf:2: integer too large");
    expect_error("[agent]\nx = {a = 1}\n", "agent.conf:2: inline tables are not supported");
    expect_error("[agent]\nx = \"\"\"a\"\"\"\n", "agent.conf:2: multi-line strings");
    expect_error("[agent]\nx = '''a'''\n", "agent.conf:2: multi-line strings");
    expect_error("[agent]\na.b = 1\n", "agent.conf:2: dotted key names are not supported");
    expect_error("[agent]\n\"q\" = 1\n", "agent.conf:2: quoted key names are not supported");
    expect_error("[agent.x]\n", "agent.conf:1: dotted table names are not supported");
    expect_error("[[agent]]\n", "agent.conf:1: arrays of tables");
    expect_error("[agent\n", "agent.conf:1: expected ']' after the table name");
    expect_error("[agent] x = 1\n", "agent.conf:1: unexpected text after the table header");
    expect_error("[agent]\nx = [[1]]\n", "agent.conf:2: nested arrays are not supported");
    expect_error("[agent]\nx = [1 2]\n", "agent.conf:2: expected ',' or ']'");
    expect_error("[agent]\nx = [1,\n\n", "agent.conf:2: unterminated array");
    expect_error("[agent]\nx = \"abc\n", "agent.conf:2: unterminated string");
    expect_error("[agent]\nx = 'abc\n", "agent.conf:2: unterminated string");
    expect_error("[agent]\nx = \"a\\qb\"\n", "agent.conf:2: unknown escape");
    expect_error("[agent]\nx = \"\\u12\"\n", "agent.conf:2: \\u/\\U escape needs");
    expect_error("[agent]\nx = \"\\ud800\"\n", "agent.conf:2: \\u escape is not an allowed");
    expect_error("[agent]\nx = \"a\x01\"\n", "agent.conf:2: control character");
    expect_error("[agent]\nx = 1 2\n", "agent.conf:2: unexpected text after the value");
    expect_error("[agent]\nx = \n", "agent.conf:2: expected a value");
    expect_error("[agent]\nx 1\n", "agent.conf:2: expected '=' after the key");
    expect_error("[agent]\nx = truex\n", "agent.conf:2: expected a value");
    expect_error("[agent]\nx = 1\nx = 2\n",
                 "agent.conf:3: option 'x' in section [agent] given twice in this file");
    expect_error("[agent]\n[agent]\n", "agent.conf:2: section [agent] given twice");
    expect_error("\n\n\n= 1\n", "agent.conf:4: key name expected");
}

static void
test_toml_nul_and_merge(void **state)
{
    kl_ini *doc = NULL;

    (void)state;
    assert_int_equal(kl_ini_new(&doc), KL_OK);
    assert_int_equal(kl_toml_parse(doc, "[agent]\nx = 1\0", 14, "n"), KL_EPARSE);
    assert_non_null(strstr(kl_err_msg(), "NUL byte"));
    kl_ini_free(doc);
    /* a later file may set the same key again */
    assert_int_equal(parse(&doc, "[agent]\nx = 1\n"), KL_OK);
    assert_int_equal(kl_toml_parse(doc, "[agent]\nx = [\"a\"]\n", 18, "snippet.conf"), KL_OK);
    assert_string_equal(kl_ini_get(doc, "agent", "x")->file, "snippet.conf");
    assert_non_null(kl_ini_get(doc, "agent", "x")->list);
    assert_int_equal(kl_toml_parse(doc, "[agent]\nx = 'b'\n", 16, "later.conf"), KL_OK);
    assert_null(kl_ini_get(doc, "agent", "x")->list);
    assert_string_equal(kl_ini_get(doc, "agent", "x")->value, "b");
    kl_ini_free(doc);
}

static void
test_toml_alloc_failures(void **state)
{
    const char *text = "[agent]\na = \"x\\u00e9\"\nb = [1, 'two',\n 3]\nc = true\n";

    (void)state;
    for (size_t n = 1; n < 200; n++) {
        kl_ini *doc = NULL;
        kl_rc rc;

        kl_alloc_fail_at(n);
        rc = kl_ini_new(&doc);
        if (rc == KL_OK)
            rc = kl_toml_parse(doc, text, strlen(text), "f");
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
        cmocka_unit_test_teardown(test_toml_upstream_agent_conf, reset_alloc),
        cmocka_unit_test_teardown(test_toml_strings, reset_alloc),
        cmocka_unit_test_teardown(test_toml_scalars, reset_alloc),
        cmocka_unit_test_teardown(test_toml_arrays, reset_alloc),
        cmocka_unit_test_teardown(test_toml_rejects, reset_alloc),
        cmocka_unit_test_teardown(test_toml_nul_and_merge, reset_alloc),
        cmocka_unit_test_teardown(test_toml_alloc_failures, reset_alloc),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
