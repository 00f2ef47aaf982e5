/* Unit tests for json/json: parsing through jansson with positioned
 * errors, and kl_json_dump_py, which must match Python's json.dumps byte
 * for byte. Every expected string below was produced by CPython 3's
 * json.dumps on the same value. */
/* cmocka.h needs the standard headers before it: keep this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "json/json.h"
#include "util/kl_alloc.h"
/* clang-format on */

static int
reset_alloc(void **state)
{
    (void)state;
    kl_alloc_fail_at(0);
    return 0;
}

/* kl_json_dump_py(j) as a NUL-terminated string (caller frees). */
static char *
dump(json_t *j)
{
    kl_buf b;

    kl_buf_init(&b, 1 << 20);
    assert_int_equal(kl_json_dump_py(&b, j), KL_OK);
    assert_int_equal(kl_buf_terminate(&b), KL_OK);
    return (char *)kl_buf_take(&b, NULL);
}

/* Compares got with want after freeing got (no leak when it fails). */
static void
assert_dumped(char *got, const char *want)
{
    static char copy[8192];

    snprintf(copy, sizeof(copy), "%s", got);
    kl_free(got);
    assert_string_equal(copy, want);
}

/* Parses text, dumps it the Python way and compares with want. */
static void
assert_roundtrip(const char *text, const char *want)
{
    json_t *j = NULL;
    char *got;

    if (kl_json_parse(KL_BYTES(text, strlen(text)), "test", &j) != KL_OK)
        fail_msg("%s: %s", text, kl_err_msg());
    got = dump(j);
    json_decref(j);
    assert_dumped(got, want);
}

/* kl_json_write_string of n bytes at s, compared with want. */
static void
assert_string_out(const char *s, size_t n, const char *want)
{
    kl_buf b;

    kl_buf_init(&b, 4096);
    assert_int_equal(kl_json_write_string(&b, KL_BYTES(s, n)), KL_OK);
    assert_int_equal(kl_buf_terminate(&b), KL_OK);
    assert_string_equal((char *)b.ptr, want);
    assert_int_equal(b.len, strlen(want));
    kl_buf_free(&b);
}

static void
test_json_parse_ok(void **state)
{
    json_t *j = NULL;

    (void)state;
    assert_int_equal(kl_json_parse(KL_BYTES_STR("{\"a\": [1, \"x\"]}"), "doc", &j), KL_OK);
    assert_true(json_is_object(j));
    assert_int_equal(json_integer_value(json_array_get(json_object_get(j, "a"), 0)), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "a"), 1)), "x");
    json_decref(j);
    /* any value at the top, like Python */
    assert_int_equal(kl_json_parse(KL_BYTES_STR(" 42 "), "doc", &j), KL_OK);
    assert_int_equal(json_integer_value(j), 42);
    json_decref(j);
    assert_int_equal(kl_json_parse(KL_BYTES_STR("null"), "doc", &j), KL_OK);
    assert_true(json_is_null(j));
    json_decref(j);
}

static void
test_json_parse_nul_in_string(void **state)
{
    json_t *j = NULL;

    (void)state;
    assert_int_equal(kl_json_parse(KL_BYTES_STR("\"a\\u0000b\""), "doc", &j), KL_OK);
    assert_int_equal(json_string_length(j), 3);
    assert_memory_equal(json_string_value(j), "a\0b", 3);
    json_decref(j);
}

static void
test_json_parse_duplicate_keys_keep_last(void **state)
{
    (void)state;
    /* Python: the first position, the last value */
    assert_roundtrip("{\"a\": 1, \"b\": 2, \"a\": 3}", "{\"a\": 3, \"b\": 2}");
}

static void
test_json_parse_errors_have_position(void **state)
{
    static const struct {
        const char *text;
        const char *msg;
    } bad[] = {
        {"{\n  \"a\": 1,\n}", "policy.json: line 3 column 1: invalid JSON: string or '}' expected "
                              "near '}'"},
        {"[1, 2", "policy.json: line 1 column 5: invalid JSON: ']' expected near end of file"},
        {"", "policy.json: line 1 column 0: invalid JSON: unexpected token near end of file"},
        {"{\"a\" 1}", "policy.json: line 1 column 6: invalid JSON: ':' expected near '1'"},
        {"[1] x", "policy.json: line 1 column 5: invalid JSON: end of file expected near 'x'"},
        {"[\"a\xffz\"]",
         "policy.json: line 1 column 3: invalid JSON: unable to decode byte 0xff near '\"a'"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *j = (json_t *)1;

        assert_int_equal(
            kl_json_parse(KL_BYTES(bad[i].text, strlen(bad[i].text)), "policy.json", &j),
            KL_EPARSE);
        assert_null(j);
        assert_string_equal(kl_err_msg(), bad[i].msg);
    }
}

static void
test_json_parse_too_big(void **state)
{
    static const char one = '1';
    json_t *j = (json_t *)1;

    (void)state;
    /* refused on the length alone; the bytes are never read */
    assert_int_equal(kl_json_parse(KL_BYTES(&one, ((size_t)1 << 30) + 1), "big", &j), KL_ETOOBIG);
    assert_null(j);
    assert_string_equal(kl_err_msg(), "big: larger than 1073741824 bytes");
}

static void
test_json_dump_py_separators_and_order(void **state)
{
    (void)state;
    assert_roundtrip("{\"b\":[1,-2,true,false,null],\"a\":{\"x\":\"y\"},\"e\":[],\"o\":{},"
                     "\"n\":[[],{},[[1]]]}",
                     "{\"b\": [1, -2, true, false, null], \"a\": {\"x\": \"y\"}, \"e\": [], "
                     "\"o\": {}, \"n\": [[], {}, [[1]]]}");
    assert_roundtrip("[]", "[]");
    assert_roundtrip("{}", "{}");
    assert_roundtrip("\"\"", "\"\"");
    assert_roundtrip("  [ 1 ,\n 2 ]  ", "[1, 2]");
}

static void
test_json_dump_py_integers(void **state)
{
    (void)state;
    assert_roundtrip("[0, -0, 4081397027, 1394556965, 9223372036854775807, "
                     "-9223372036854775808]",
                     "[0, 0, 4081397027, 1394556965, 9223372036854775807, "
                     "-9223372036854775808]");
}

static void
test_json_dump_py_reals(void **state)
{
    json_t *a;
    char *got;

    (void)state;
    /* Regression: reals were written with "%.17g"; Python writes
     * repr(float), the shortest text that reads back to the same double,
     * always with a '.' or an exponent. json.dumps gives "1.0", "0.1",
     * "-0.0", "1.5e-07", "123456789.0", "1e+16", "3.141592653589793"; the
     * old code gave "1", "0.10000000000000001",
     * "-0", "1.4999999999999999e-07", "123456789", "10000000000000000",
     * "3.1415926535897931". Any real that is re-serialised differs from
     * upstream's bytes (and from hashes over them). */
    a = json_pack("[f,f,f,f,f,f,f,f,f,f]", 1.0, 0.1, 2.5, -0.0, 1e100, 1.5e-7, 123456789.0, 1e16,
                  3.141592653589793, 1.7976931348623157e308);
    assert_non_null(a);
    got = dump(a);
    json_decref(a);
    assert_dumped(got, "[1.0, 0.1, 2.5, -0.0, 1e+100, 1.5e-07, 123456789.0, 1e+16, "
                       "3.141592653589793, 1.7976931348623157e+308]");
}

static void
test_json_dump_py_reals_parsed(void **state)
{
    (void)state;
    /* Regression (as test_json_dump_py_reals): Python's json.loads gives
     * floats for "1.0" and "1e3", and json.dumps writes them back as "1.0"
     * and "1000.0"; they used to come out as "1" and "1000". */
    assert_roundtrip("[1.0, 1e3, 0.5]", "[1.0, 1000.0, 0.5]");
}

static void
test_json_dump_py_ensure_ascii(void **state)
{
    static const char s[] = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\x7f\x01\x1f\"\\\n\r\t\b\f/ ~";
    json_t *j = json_stringn(s, sizeof(s) - 1);
    char *got;

    (void)state;
    assert_non_null(j);
    got = dump(j);
    assert_string_equal(got, "\"\\u00e9\\u20ac\\ud83d\\ude00\\u007f\\u0001\\u001f\\\"\\\\\\n"
                             "\\r\\t\\b\\f/ ~\"");
    kl_free(got);
    json_decref(j);
}

static void
test_json_dump_py_nul_and_boundaries(void **state)
{
    (void)state;
    /* U+0000, U+0080, U+07FF, U+0800, U+FFFF, U+10FFFF */
    assert_string_out("a\0b", 3, "\"a\\u0000b\"");
    assert_string_out("\xc2\x80", 2, "\"\\u0080\"");
    assert_string_out("\xdf\xbf\xe0\xa0\x80", 5, "\"\\u07ff\\u0800\"");
    assert_string_out("\xef\xbf\xbf", 3, "\"\\uffff\"");
    assert_string_out("\xf4\x8f\xbf\xbf", 4, "\"\\udbff\\udfff\"");
    assert_string_out("", 0, "\"\"");
    /* every printable ASCII character except '"' and '\' is kept as is */
    {
        char ascii[96], want[200];
        size_t n = 0, w = 0;

        want[w++] = '"';
        for (int c = 0x20; c < 0x7f; c++) {
            ascii[n++] = (char)c;
            if (c == '"' || c == '\\')
                want[w++] = '\\';
            want[w++] = (char)c;
        }
        want[w++] = '"';
        want[w] = '\0';
        assert_string_out(ascii, n, want);
    }
}

static void
test_json_dump_py_all_controls(void **state)
{
    static const char *const want[32] = {
        "\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005", "\\u0006", "\\u0007",
        "\\b",     "\\t",     "\\n",     "\\u000b", "\\f",     "\\r",     "\\u000e", "\\u000f",
        "\\u0010", "\\u0011", "\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017",
        "\\u0018", "\\u0019", "\\u001a", "\\u001b", "\\u001c", "\\u001d", "\\u001e", "\\u001f",
    };

    (void)state;
    for (int c = 0; c < 32; c++) {
        char in = (char)c, exp[16];

        exp[0] = '"';
        memcpy(exp + 1, want[c], strlen(want[c]));
        exp[1 + strlen(want[c])] = '"';
        exp[2 + strlen(want[c])] = '\0';
        assert_string_out(&in, 1, exp);
    }
}

static void
test_json_dump_py_lone_surrogates(void **state)
{
    (void)state;
    /* Python strings can hold lone surrogates (json.loads("\"\\ud800\"")),
     * and json.dumps writes them back as \ud800; their 3-byte encodings
     * (as json_scan produces) give the same here */
    assert_string_out("\xed\xa0\x80", 3, "\"\\ud800\"");
    assert_string_out("\xed\xbf\xbf\xed\xa0\x80", 6, "\"\\udfff\\ud800\"");
}

static void
test_json_dump_py_invalid_utf8(void **state)
{
    (void)state;
    /* bytes that are not UTF-8 become U+FFFD, one per byte */
    assert_string_out("a\xff", 2, "\"a\\ufffd\"");
    assert_string_out("\x80", 1, "\"\\ufffd\"");
    assert_string_out("\xc0\x80", 2, "\"\\ufffd\\ufffd\"");
    assert_string_out("\xe0\x80\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"");
    assert_string_out("\xe2\x82", 2, "\"\\ufffd\\ufffd\"");
    assert_string_out("\xf4\x90\x80\x80", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
    assert_string_out("\xf5\x80", 2, "\"\\ufffd\\ufffd\"");
    assert_string_out("\xe2\x82x", 3, "\"\\ufffd\\ufffdx\"");
}

static void
test_json_dump_py_keys_escaped(void **state)
{
    (void)state;
    assert_roundtrip("{\"k\\u00e9y\\n\": 1, \"\": \"\"}", "{\"k\\u00e9y\\n\": 1, \"\": \"\"}");
    assert_roundtrip("{\"\\/\": \"\\/\"}", "{\"/\": \"/\"}");
}

static void
test_json_dump_py_keyring(void **state)
{
    /* the shape of an IMA keyring as upstream serialises it */
    (void)state;
    assert_roundtrip("{\"meta\":{\"version\":1},\"hash_alg\":\"sha256\",\"pubkeys\":[\"AAAA\","
                     "\"BBBB\"],\"keyids\":[4081397027,1394556965]}",
                     "{\"meta\": {\"version\": 1}, \"hash_alg\": \"sha256\", \"pubkeys\": "
                     "[\"AAAA\", \"BBBB\"], \"keyids\": [4081397027, 1394556965]}");
}

static void
test_json_dump_py_appends(void **state)
{
    json_t *j = json_pack("{s:i}", "x", 1);
    kl_buf b;

    (void)state;
    kl_buf_init(&b, 64);
    assert_int_equal(kl_buf_append_str(&b, "data="), KL_OK);
    assert_int_equal(kl_json_dump_py(&b, j), KL_OK);
    assert_int_equal(b.len, strlen("data={\"x\": 1}"));
    assert_memory_equal(b.ptr, "data={\"x\": 1}", b.len);
    kl_buf_free(&b);
    json_decref(j);
}

static void
test_json_dump_py_cap(void **state)
{
    json_t *j = json_pack("[s,s]", "0123456789", "0123456789");
    kl_buf b;

    (void)state;
    kl_buf_init(&b, 16);
    assert_int_equal(kl_json_dump_py(&b, j), KL_ETOOBIG);
    kl_buf_free(&b);
    json_decref(j);
}

static void
test_json_dump_py_alloc_failure_sweep(void **state)
{
    json_t *j = NULL;
    bool done = false;

    (void)state;
    assert_int_equal(kl_json_parse(KL_BYTES_STR("{\"a\": [1, 2, {\"b\": \"\\u00e9\\n\"}], "
                                                "\"c\": \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                                "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}"),
                                   "doc", &j),
                     KL_OK);
    for (size_t n = 1; n < 50 && !done; n++) {
        kl_buf b;
        kl_rc rc;

        kl_buf_init(&b, 1 << 20);
        kl_alloc_fail_at(n);
        rc = kl_json_dump_py(&b, j);
        kl_alloc_fail_at(0);
        if (rc == KL_OK) {
            assert_int_equal(kl_buf_terminate(&b), KL_OK);
            assert_memory_equal(b.ptr, "{\"a\": [1, 2, {\"b\": \"\\u00e9\\n\"}], \"c\": \"xx", 41);
            done = true;
        } else {
            assert_int_equal(rc, KL_ENOMEM);
        }
        kl_buf_free(&b);
    }
    assert_true(done);
    json_decref(j);
}

static void
test_json_string_lossy(void **state)
{
    static const struct {
        const char *in;
        size_t n;
        const char *out;
        size_t m;
    } t[] = {
        {"plain", 5, "plain", 5},
        {"a\xff"
         "b",
         3,
         "a\xef\xbf\xbd"
         "b",
         5},
        {"\xc3\xa9\xe2\x82\xac", 5, "\xc3\xa9\xe2\x82\xac", 5},
        /* a real U+FFFD is kept, a lone surrogate is replaced */
        {"\xef\xbf\xbd", 3, "\xef\xbf\xbd", 3},
        {"\xed\xa0\x80", 3, "\xef\xbf\xbd", 3},
        {"\xe2\x82", 2, "\xef\xbf\xbd\xef\xbf\xbd", 6},
        {"\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80", 4},
        {"a\0b", 3, "a\0b", 3},
        {"", 0, "", 0},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        json_t *j = kl_json_string_lossy(KL_BYTES(t[i].in, t[i].n));

        assert_non_null(j);
        assert_true(json_is_string(j));
        assert_int_equal(json_string_length(j), t[i].m);
        assert_memory_equal(json_string_value(j), t[i].out, t[i].m);
        json_decref(j);
    }
}

static void
test_json_string_lossy_enomem(void **state)
{
    (void)state;
    /* valid UTF-8 goes straight to jansson; a replacement needs a buffer */
    kl_alloc_fail_at(1);
    assert_null(kl_json_string_lossy(KL_BYTES_STR("a\xff")));
    kl_alloc_fail_at(0);
}

#define T(f) cmocka_unit_test_teardown(f, reset_alloc)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_json_parse_ok),
        T(test_json_parse_nul_in_string),
        T(test_json_parse_duplicate_keys_keep_last),
        T(test_json_parse_errors_have_position),
        T(test_json_parse_too_big),
        T(test_json_dump_py_separators_and_order),
        T(test_json_dump_py_integers),
        T(test_json_dump_py_reals),
        T(test_json_dump_py_reals_parsed),
        T(test_json_dump_py_ensure_ascii),
        T(test_json_dump_py_nul_and_boundaries),
        T(test_json_dump_py_all_controls),
        T(test_json_dump_py_lone_surrogates),
        T(test_json_dump_py_invalid_utf8),
        T(test_json_dump_py_keys_escaped),
        T(test_json_dump_py_keyring),
        T(test_json_dump_py_appends),
        T(test_json_dump_py_cap),
        T(test_json_dump_py_alloc_failure_sweep),
        T(test_json_string_lossy),
        T(test_json_string_lossy_enomem),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
