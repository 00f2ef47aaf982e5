/* Unit tests for json/json_scan: RFC 8259 conformance (accept and reject
 * cases in the style of JSONTestSuite), escapes and surrogates, UTF-8
 * validation, integers, the nesting limit, positioned error messages, and
 * an allocation-failure sweep. */
/* cmocka.h needs the standard headers before it: keep this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "json/json_scan.h"
#include "util/kl_alloc.h"
/* clang-format on */

static int
reset_alloc(void **state)
{
    (void)state;
    kl_alloc_fail_at(0);
    return 0;
}

/* Walks any value with the member API (strings decoded, numbers skipped). */
static kl_rc
walk(kl_json_scan *s)
{
    kl_bytes k, v;
    bool more;
    kl_rc rc;

    switch (kl_json_scan_peek(s)) {
    case KL_JSON_OBJECT:
        if ((rc = kl_json_scan_object_begin(s)) != KL_OK)
            return rc;
        while ((rc = kl_json_scan_object_next(s, &more, &k)) == KL_OK && more)
            if ((rc = walk(s)) != KL_OK)
                return rc;
        return rc;
    case KL_JSON_ARRAY:
        if ((rc = kl_json_scan_array_begin(s)) != KL_OK)
            return rc;
        while ((rc = kl_json_scan_array_next(s, &more)) == KL_OK && more)
            if ((rc = walk(s)) != KL_OK)
                return rc;
        return rc;
    case KL_JSON_STRING: return kl_json_scan_string(s, &v);
    default: return kl_json_scan_skip(s, NULL);
    }
}

/* Validates a whole document in both ways (walk, skip); they must agree. */
static kl_rc
validate(const char *text, size_t n)
{
    kl_json_scan s;
    kl_rc a, b;

    kl_json_scan_init(&s, KL_BYTES(text, n));
    a = walk(&s);
    if (a == KL_OK)
        a = kl_json_scan_finish(&s);
    kl_json_scan_free(&s);
    kl_json_scan_init(&s, KL_BYTES(text, n));
    b = kl_json_scan_skip(&s, NULL);
    if (b == KL_OK)
        b = kl_json_scan_finish(&s);
    kl_json_scan_free(&s);
    if (a != b)
        fail_msg("walk and skip disagree on <%.*s>: %d vs %d", (int)n, text, a, b);
    return a;
}

#define ACCEPT(t) assert_accept(t, sizeof(t) - 1)
#define REJECT(t) assert_reject(t, sizeof(t) - 1)

static void
assert_accept(const char *t, size_t n)
{
    kl_rc rc = validate(t, n);

    if (rc != KL_OK)
        fail_msg("rejected <%.*s>: %s", (int)n, t, kl_err_msg());
}

static void
assert_reject(const char *t, size_t n)
{
    kl_rc rc = validate(t, n);

    if (rc != KL_EPARSE)
        fail_msg("<%.*s>: rc %d, expected KL_EPARSE", (int)n, t, rc);
}

/* The error message for text (which must be rejected). */
static void
assert_error(const char *t, const char *msg)
{
    assert_int_equal(validate(t, strlen(t)), KL_EPARSE);
    assert_string_equal(kl_err_msg(), msg);
}

static void
test_json_scan_accepts_valid(void **state)
{
    (void)state;
    ACCEPT("[]");
    ACCEPT("{}");
    ACCEPT("[[]]");
    ACCEPT("[{}]");
    ACCEPT("{\"a\":{}}");
    ACCEPT(" \t\r\n[ \t\r\n1 \t\r\n, \t\r\n2 \t\r\n] \t\r\n");
    ACCEPT("{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\"}}");
    ACCEPT("{ \"a\" : 1 , \"b\" : 2 }");
    ACCEPT("{\"a\":1,\"a\":2}");
    ACCEPT("{\"\":\"\"}");
    ACCEPT("[\"\"]");
    /* scalars at the top level (RFC 8259, unlike RFC 4627) */
    ACCEPT("\"x\"");
    ACCEPT("0");
    ACCEPT(" true ");
    ACCEPT("false");
    ACCEPT("null");
    /* strings: escapes, raw UTF-8 of every length, DEL is not a control */
    ACCEPT("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]");
    ACCEPT("[\"\\u0000\\u001F\\u00e9\\uFFFF\"]");
    ACCEPT("[\"\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"]");
    ACCEPT("[\"\x7f\"]");
    ACCEPT("[\"\\ud83d\\ude00\"]");
    ACCEPT("[\"\\ud800\"]");
    ACCEPT("[\"\\udc00\\ud800\"]");
    ACCEPT("[\"a\\u0000b\"]");
}

static void
test_json_scan_accepts_numbers(void **state)
{
    (void)state;
    ACCEPT("[0]");
    ACCEPT("[-0]");
    ACCEPT("[123]");
    ACCEPT("[-123]");
    ACCEPT("[1.5]");
    ACCEPT("[-0.0]");
    ACCEPT("[1e3]");
    ACCEPT("[1E3]");
    ACCEPT("[1e+3]");
    ACCEPT("[1e-3]");
    ACCEPT("[0e0]");
    ACCEPT("[1.25E-10]");
    ACCEPT("[123456789012345678901234567890]");
    ACCEPT("[1e99999]");
}

static void
test_json_scan_rejects_structure(void **state)
{
    (void)state;
    REJECT("");
    REJECT(" ");
    REJECT("[");
    REJECT("]");
    REJECT("{");
    REJECT("}");
    REJECT("[1");
    REJECT("[1,");
    REJECT("{\"a\":1");
    REJECT("{\"a\":");
    REJECT("{\"a\"");
    REJECT("[1,]");
    REJECT("[1,,2]");
    REJECT("[,1]");
    REJECT("[,]");
    REJECT("{\"a\":1,}");
    REJECT("{,}");
    REJECT("{\"a\":1,,\"b\":2}");
    REJECT("[1 2]");
    REJECT("[1:2]");
    REJECT("{\"a\" 1}");
    REJECT("{\"a\"::1}");
    REJECT("{\"a\":1 \"b\":2}");
    REJECT("{\"a\",1}");
    REJECT("{'a':1}");
    REJECT("{a:1}");
    REJECT("{1:1}");
    REJECT("{null:1}");
    REJECT("[}");
    REJECT("{]");
    REJECT("{\"a\":1]");
    REJECT("[1}");
    REJECT("[] []");
    REJECT("[]x");
    REJECT("1 2");
    REJECT("{}}");
    REJECT("\xef\xbb\xbf[]"); /* a byte order mark is not JSON whitespace */
    REJECT("[\f]");
    REJECT("[\v1]");
    REJECT("[\xc2\xa0]");
    REJECT("[1]\0");
}

static void
test_json_scan_rejects_literals(void **state)
{
    (void)state;
    REJECT("[tru]");
    REJECT("[True]");
    REJECT("[truex]");
    REJECT("[nul]");
    REJECT("[nulL]");
    REJECT("[fals]");
    REJECT("[NaN]");
    REJECT("[Infinity]");
    REJECT("[-Infinity]");
    REJECT("[undefined]");
    REJECT("t");
    REJECT("nullx");
}

static void
test_json_scan_rejects_numbers(void **state)
{
    (void)state;
    REJECT("[01]");
    REJECT("[-01]");
    REJECT("[00]");
    REJECT("[-]");
    REJECT("[+1]");
    REJECT("[.5]");
    REJECT("[1.]");
    REJECT("[1.e3]");
    REJECT("[1e]");
    REJECT("[1e+]");
    REJECT("[1e-]");
    REJECT("[1E.5]");
    REJECT("[0x10]");
    REJECT("[1_000]");
    REJECT("[- 1]");
    REJECT("[1.5.5]");
    REJECT("[1e5e5]");
    REJECT("[--1]");
    REJECT("-");
    REJECT("1.");
    REJECT("01");
}

static void
test_json_scan_rejects_strings(void **state)
{
    (void)state;
    REJECT("[\"abc]");
    REJECT("[\"abc");
    REJECT("\"");
    REJECT("[\"\\\"]");
    REJECT("['abc']");
    REJECT("[\"\\x41\"]");
    REJECT("[\"\\a\"]");
    REJECT("[\"\\U0041\"]");
    REJECT("[\"\\u004\"]");
    REJECT("[\"\\u004G\"]");
    REJECT("[\"\\u\"]");
    REJECT("[\"\\");
    REJECT("[\"\\u12");
    REJECT("[\"\\'\"]");
    REJECT("[\"\\0\"]");
    /* raw control characters must be escaped */
    REJECT("[\"a\tb\"]");
    REJECT("[\"a\nb\"]");
    REJECT("[\"\x01\"]");
    REJECT("[\"\x1f\"]");
    REJECT("[\"a\0b\"]");
}

static void
test_json_scan_rejects_invalid_utf8(void **state)
{
    (void)state;
    REJECT("[\"\x80\"]"); /* lone continuation byte */
    REJECT("[\"\xbf\"]");
    REJECT("[\"\xc0\xaf\"]"); /* overlong '/' */
    REJECT("[\"\xc1\xbf\"]");
    REJECT("[\"\xe0\x80\xaf\"]"); /* overlong, 3 bytes */
    REJECT("[\"\xe0\x9f\xbf\"]");
    REJECT("[\"\xf0\x80\x80\xaf\"]"); /* overlong, 4 bytes */
    REJECT("[\"\xf0\x8f\xbf\xbf\"]");
    REJECT("[\"\xed\xa0\x80\"]");     /* UTF-8 encoded surrogate U+D800 */
    REJECT("[\"\xed\xbf\xbf\"]");     /* U+DFFF */
    REJECT("[\"\xf4\x90\x80\x80\"]"); /* U+110000 */
    REJECT("[\"\xf5\x80\x80\x80\"]");
    REJECT("[\"\xf8\x88\x80\x80\x80\"]");
    REJECT("[\"\xfe\"]");
    REJECT("[\"\xff\"]");
    REJECT("[\"\xc3\"]"); /* truncated sequences */
    REJECT("[\"\xe2\x82\"]");
    REJECT("[\"\xf0\x9f\x98\"]");
    REJECT("[\"\xc3x\"]"); /* continuation byte missing */
    REJECT("[\"\xe2\x82x\"]");
    REJECT("\"\xe2\x82"); /* truncated at the end of the input */
    /* in keys as well */
    REJECT("{\"\xff\":1}");
    REJECT("{\"\xed\xa0\x80\":1}");
}

static void
test_json_scan_nesting_limit(void **state)
{
    char deep[2 * (KL_JSON_MAX_DEPTH + 1) + 1];
    char obj[8 * (KL_JSON_MAX_DEPTH + 1) + 8];
    size_t n = 0;

    (void)state;
    memset(deep, '[', KL_JSON_MAX_DEPTH);
    memset(deep + KL_JSON_MAX_DEPTH, ']', KL_JSON_MAX_DEPTH);
    assert_int_equal(validate(deep, 2 * KL_JSON_MAX_DEPTH), KL_OK);

    memset(deep, '[', KL_JSON_MAX_DEPTH + 1);
    memset(deep + KL_JSON_MAX_DEPTH + 1, ']', KL_JSON_MAX_DEPTH + 1);
    deep[2 * (KL_JSON_MAX_DEPTH + 1)] = '\0';
    assert_int_equal(validate(deep, 2 * (KL_JSON_MAX_DEPTH + 1)), KL_EPARSE);
    assert_string_equal(kl_err_msg(), "line 1 column 257: invalid JSON: nesting is too deep");

    /* objects count the same way: {"a":{"a":...}} */
    for (int i = 0; i < KL_JSON_MAX_DEPTH + 1; i++) {
        memcpy(obj + n, "{\"a\":", 5);
        n += 5;
    }
    obj[n++] = '1';
    memset(obj + n, '}', KL_JSON_MAX_DEPTH + 1);
    n += KL_JSON_MAX_DEPTH + 1;
    assert_int_equal(validate(obj, n), KL_EPARSE);
    assert_string_equal(kl_err_msg(), "line 1 column 1281: invalid JSON: nesting is too deep");
    /* one level less is fine */
    assert_int_equal(validate(obj + 5, n - 6), KL_OK);
}

/* The first string of a one-element array. */
static kl_bytes
string_of(kl_json_scan *s, const char *text, size_t n)
{
    kl_bytes v = {NULL, 0};
    bool more;

    kl_json_scan_init(s, KL_BYTES(text, n));
    assert_int_equal(kl_json_scan_array_begin(s), KL_OK);
    assert_int_equal(kl_json_scan_array_next(s, &more), KL_OK);
    assert_true(more);
    if (kl_json_scan_string(s, &v) != KL_OK)
        fail_msg("%s: %s", text, kl_err_msg());
    assert_int_equal(kl_json_scan_array_next(s, &more), KL_OK);
    assert_false(more);
    assert_int_equal(kl_json_scan_finish(s), KL_OK);
    return v;
}

#define DECODES(text, want) assert_decodes(text, sizeof(text) - 1, want, sizeof(want) - 1)

static void
assert_decodes(const char *text, size_t n, const char *want, size_t wn)
{
    kl_json_scan s;
    kl_bytes v = string_of(&s, text, n);

    if (v.len != wn || (wn && memcmp(v.ptr, want, wn) != 0))
        fail_msg("%s decoded to %zu bytes, expected %zu", text, v.len, wn);
    kl_json_scan_free(&s);
}

static void
test_json_scan_string_escapes(void **state)
{
    (void)state;
    DECODES("[\"plain\"]", "plain");
    DECODES("[\"\"]", "");
    DECODES("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]", "\"\\/\b\f\n\r\t");
    DECODES("[\"a\\u0041b\"]", "aAb");
    DECODES("[\"\\u00e9\\u00E9\"]", "\xc3\xa9\xc3\xa9");
    DECODES("[\"\\u20AC\"]", "\xe2\x82\xac");
    DECODES("[\"\\u07ff\\u0800\\uffff\"]", "\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf");
    DECODES("[\"x\\u0000y\"]", "x\0y");
    DECODES("[\"\\u002F\"]", "/");
    /* raw UTF-8 passes through unchanged next to escapes */
    DECODES("[\"\xc3\xa9\\n\xf0\x9f\x98\x80\"]", "\xc3\xa9\n\xf0\x9f\x98\x80");
}

static void
test_json_scan_string_surrogates(void **state)
{
    (void)state;
    /* a pair becomes one 4-byte sequence */
    DECODES("[\"\\ud83d\\ude00\"]", "\xf0\x9f\x98\x80");
    DECODES("[\"\\uD83D\\uDE00\"]", "\xf0\x9f\x98\x80");
    DECODES("[\"\\ud800\\udc00\"]", "\xf0\x90\x80\x80");
    DECODES("[\"\\udbff\\udfff\"]", "\xf4\x8f\xbf\xbf");
    /* lone or misordered surrogates are kept as 3-byte forms, as Python
     * keeps them in its str */
    DECODES("[\"\\ud800\"]", "\xed\xa0\x80");
    DECODES("[\"\\udc00\"]", "\xed\xb0\x80");
    DECODES("[\"\\ud800x\"]", "\xed\xa0\x80x");
    DECODES("[\"\\ud800\\u0041\"]", "\xed\xa0\x80"
                                    "A");
    DECODES("[\"\\ud800\\ud800\"]", "\xed\xa0\x80\xed\xa0\x80");
    DECODES("[\"\\ude00\\ud83d\"]", "\xed\xb8\x80\xed\xa0\xbd");
    DECODES("[\"\\ud800\\n\"]", "\xed\xa0\x80\n");
}

static void
test_json_scan_string_view_without_escapes(void **state)
{
    static const char text[] = "[\"no escapes \xc3\xa9\"]";
    kl_json_scan s;
    kl_bytes v = string_of(&s, text, sizeof(text) - 1);

    (void)state;
    /* no escapes: a view straight into the text, no copy */
    assert_ptr_equal(v.ptr, (const uint8_t *)text + 2);
    assert_int_equal(v.len, 13);
    kl_json_scan_free(&s);
}

static void
test_json_scan_key_survives_value(void **state)
{
    static const char text[] = "{\"k\\u0065y\": \"v\\u0061l\", \"k2\": \"\\u0078\"}";
    kl_json_scan s;
    kl_bytes k, v, k2, v2;
    bool more;

    (void)state;
    kl_json_scan_init(&s, KL_BYTES(text, sizeof(text) - 1));
    assert_int_equal(kl_json_scan_object_begin(&s), KL_OK);
    assert_int_equal(kl_json_scan_object_next(&s, &more, &k), KL_OK);
    assert_true(more);
    assert_int_equal(kl_json_scan_string(&s, &v), KL_OK);
    /* key and value are decoded into separate scratch buffers */
    assert_true(kl_bytes_eq_str(k, "key"));
    assert_true(kl_bytes_eq_str(v, "val"));
    assert_int_equal(kl_json_scan_object_next(&s, &more, &k2), KL_OK);
    assert_true(more);
    assert_true(kl_bytes_eq_str(k2, "k2"));
    assert_ptr_equal(k2.ptr, (const uint8_t *)text + 26);
    assert_int_equal(kl_json_scan_string(&s, &v2), KL_OK);
    assert_true(kl_bytes_eq_str(v2, "x"));
    assert_int_equal(kl_json_scan_object_next(&s, &more, &k2), KL_OK);
    assert_false(more);
    assert_int_equal(kl_json_scan_finish(&s), KL_OK);
    kl_json_scan_free(&s);
}

/* kl_json_scan_int on the whole text. */
static kl_rc
scan_int(const char *text, int64_t *out)
{
    kl_json_scan s;
    kl_rc rc;

    kl_json_scan_init(&s, KL_BYTES(text, strlen(text)));
    rc = kl_json_scan_int(&s, out);
    if (rc == KL_OK)
        rc = kl_json_scan_finish(&s);
    kl_json_scan_free(&s);
    return rc;
}

static void
test_json_scan_int_values(void **state)
{
    static const struct {
        const char *text;
        int64_t v;
    } t[] = {
        {"0", 0},
        {"-0", 0},
        {"7", 7},
        {" -42 ", -42},
        {"1.0", 1},
        {"-1.0", -1},
        {"1e3", 1000},
        {"1E3", 1000},
        {"1e+3", 1000},
        {"2.5e1", 25},
        {"100e-2", 1},
        {"0.1e1", 1},
        {"1e0", 1},
        {"0e5", 0},
        {"4081397027", 4081397027LL},
        {"9223372036854775807", INT64_MAX},
        {"-9223372036854775808", INT64_MIN},
        {"9e15", 9000000000000000LL},
        {"-9e15", -9000000000000000LL},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        int64_t v = -12345;

        if (scan_int(t[i].text, &v) != KL_OK)
            fail_msg("%s: %s", t[i].text, kl_err_msg());
        assert_int_equal(v, t[i].v);
    }
}

static void
test_json_scan_int_not_integral(void **state)
{
    static const struct {
        const char *text;
        const char *msg;
    } t[] = {
        {"1.5", "1.5 is not an integer"},
        {"-0.5", "-0.5 is not an integer"},
        {"1e-1", "1e-1 is not an integer"},
        {"1e16", "1e16 is not an integer"},
        {"1e400", "1e400 is not an integer"},
        {"9223372036854775808", "number 9223372036854775808 is too large"},
        {"-9223372036854775809", "number -9223372036854775809 is too large"},
        {"1000000000000000000000000000000000000000000000000000000000000000000",
         "number 10000000000000000000... is too large"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        int64_t v = -12345;

        assert_int_equal(scan_int(t[i].text, &v), KL_EINVAL);
        assert_string_equal(kl_err_msg(), t[i].msg);
        assert_int_equal(v, -12345);
    }
}

static void
test_json_scan_int_malformed(void **state)
{
    static const char *const bad[] = {"", "\"1\"", "-", "+1", ".5", "1.", "1e", "true", "[1]"};

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t v = -12345;

        assert_int_equal(scan_int(bad[i], &v), KL_EPARSE);
        assert_int_equal(v, -12345);
    }
    /* "01" is the number 0 followed by junk */
    {
        int64_t v = -1;

        assert_int_equal(scan_int("01", &v), KL_EPARSE);
        assert_string_equal(kl_err_msg(),
                            "line 1 column 2: invalid JSON: extra data after the JSON value");
    }
}

static void
test_json_scan_error_positions(void **state)
{
    (void)state;
    assert_error("[1,\n  2,\n  ]", "line 3 column 3: invalid JSON: trailing comma");
    assert_error("{\"a\": 1,\n \"b\": 2,\n}", "line 3 column 1: invalid JSON: trailing comma");
    assert_error("[1,", "line 1 column 4: invalid JSON: expected a value (the text ends early)");
    assert_error("[1 2]", "line 1 column 4: invalid JSON: expected ',' or ']' after an array "
                          "element");
    assert_error("{\"a\":1 \"b\":2}", "line 1 column 8: invalid JSON: expected ',' or '}' after "
                                      "an object member");
    assert_error("{\n\"a\" 1}", "line 2 column 5: invalid JSON: expected ':' after a member name");
    assert_error("{a:1}", "line 1 column 2: invalid JSON: expected a member name in double quotes");
    assert_error("[\"abc", "line 1 column 6: invalid JSON: unterminated string (the text ends "
                           "early)");
    assert_error("[\"a\tb\"]", "line 1 column 4: invalid JSON: control character in a string "
                               "(must be escaped)");
    assert_error("[\"a\\qb\"]", "line 1 column 5: invalid JSON: invalid escape sequence in a "
                                "string");
    assert_error("[\"\xff\"]", "line 1 column 3: invalid JSON: invalid UTF-8 in a string");
    assert_error("\n\n   [tru]", "line 3 column 5: invalid JSON: unexpected character");
    assert_error("[1.]", "line 1 column 4: invalid JSON: malformed number");
    assert_error("[] x", "line 1 column 4: invalid JSON: extra data after the JSON value");
    assert_error("", "line 1 column 1: invalid JSON: expected a value (the text ends early)");
    assert_error("[@]", "line 1 column 2: invalid JSON: expected a value");
    assert_error("\r\n[\r\n\"\\", "line 3 column 3: invalid JSON: unfinished escape sequence "
                                  "(the text ends early)");
}

static void
test_json_scan_where(void **state)
{
    static const char text[] = "{\n  \"a\":\n\t[1]\n}";
    kl_json_scan s;
    char where[64];
    bool more;
    kl_bytes k;

    (void)state;
    kl_json_scan_init(&s, KL_BYTES(text, sizeof(text) - 1));
    kl_json_scan_where(&s, where, sizeof(where));
    assert_string_equal(where, "line 1 column 1");
    assert_int_equal(kl_json_scan_object_begin(&s), KL_OK);
    assert_int_equal(kl_json_scan_object_next(&s, &more, &k), KL_OK);
    kl_json_scan_where(&s, where, sizeof(where));
    assert_string_equal(where, "line 2 column 7");
    assert_int_equal(kl_json_scan_peek(&s), KL_JSON_ARRAY);
    kl_json_scan_where(&s, where, sizeof(where));
    assert_string_equal(where, "line 3 column 2");
    kl_json_scan_free(&s);
}

static void
test_json_scan_init_at_positions(void **state)
{
    static const char text[] = "{\n  \"a\": \"x\",\n  \"b\": [1, 2]\n}";
    kl_json_scan s, sub;
    kl_bytes k, span_a, span_b;
    bool more;
    int64_t v;

    (void)state;
    kl_json_scan_init(&s, KL_BYTES(text, sizeof(text) - 1));
    assert_int_equal(kl_json_scan_object_begin(&s), KL_OK);
    assert_int_equal(kl_json_scan_object_next(&s, &more, &k), KL_OK);
    assert_int_equal(kl_json_scan_skip(&s, &span_a), KL_OK);
    assert_int_equal(span_a.len, 3);
    assert_memory_equal(span_a.ptr, "\"x\"", 3);
    assert_int_equal(kl_json_scan_object_next(&s, &more, &k), KL_OK);
    assert_int_equal(kl_json_scan_skip(&s, &span_b), KL_OK);
    assert_int_equal(span_b.len, 6);
    assert_memory_equal(span_b.ptr, "[1, 2]", 6);
    assert_int_equal(kl_json_scan_object_next(&s, &more, &k), KL_OK);
    assert_false(more);
    assert_int_equal(kl_json_scan_finish(&s), KL_OK);
    kl_json_scan_free(&s);

    /* a later pass over span_a reports positions in the whole text */
    kl_json_scan_init_at(&sub, KL_BYTES(text, sizeof(text) - 1), span_a);
    assert_int_equal(kl_json_scan_int(&sub, &v), KL_EPARSE);
    assert_string_equal(kl_err_msg(), "line 2 column 8: invalid JSON: malformed number");
    kl_json_scan_free(&sub);

    /* and ends at the end of the span */
    kl_json_scan_init_at(&sub, KL_BYTES(text, sizeof(text) - 1), span_b);
    assert_int_equal(kl_json_scan_array_begin(&sub), KL_OK);
    assert_int_equal(kl_json_scan_array_next(&sub, &more), KL_OK);
    assert_int_equal(kl_json_scan_int(&sub, &v), KL_OK);
    assert_int_equal(v, 1);
    assert_int_equal(kl_json_scan_array_next(&sub, &more), KL_OK);
    assert_int_equal(kl_json_scan_int(&sub, &v), KL_OK);
    assert_int_equal(v, 2);
    assert_int_equal(kl_json_scan_array_next(&sub, &more), KL_OK);
    assert_false(more);
    assert_int_equal(kl_json_scan_finish(&sub), KL_OK);
    kl_json_scan_free(&sub);
}

static void
test_json_scan_peek_types(void **state)
{
    static const struct {
        const char *text;
        kl_json_type t;
        const char *name;
    } t[] = {
        {" {", KL_JSON_OBJECT, "an object"}, {"[", KL_JSON_ARRAY, "an array"},
        {"\"", KL_JSON_STRING, "a string"},  {"-", KL_JSON_NUMBER, "a number"},
        {"5", KL_JSON_NUMBER, "a number"},   {"t", KL_JSON_TRUE, "a boolean"},
        {"f", KL_JSON_FALSE, "a boolean"},   {"n", KL_JSON_NULL, "null"},
        {"", KL_JSON_NONE, "nothing"},       {"x", KL_JSON_NONE, "nothing"},
        {"\n\t ", KL_JSON_NONE, "nothing"},  {"+", KL_JSON_NONE, "nothing"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        kl_json_scan s;

        kl_json_scan_init(&s, KL_BYTES(t[i].text, strlen(t[i].text)));
        assert_int_equal(kl_json_scan_peek(&s), t[i].t);
        /* peeking consumes nothing but whitespace */
        assert_int_equal(kl_json_scan_peek(&s), t[i].t);
        assert_string_equal(kl_json_type_name(t[i].t), t[i].name);
        kl_json_scan_free(&s);
    }
}

static void
test_json_scan_type_mismatch(void **state)
{
    kl_json_scan s;
    kl_bytes v;
    bool more;

    (void)state;
    kl_json_scan_init(&s, KL_BYTES_STR("[1]"));
    assert_int_equal(kl_json_scan_object_begin(&s), KL_EPARSE);
    assert_string_equal(kl_err_msg(), "line 1 column 1: invalid JSON: expected an object");
    assert_int_equal(kl_json_scan_string(&s, &v), KL_EPARSE);
    assert_string_equal(kl_err_msg(), "line 1 column 1: invalid JSON: expected a string");
    /* not inside a container yet */
    assert_int_equal(kl_json_scan_object_next(&s, &more, &v), KL_EINVAL);
    assert_string_equal(kl_err_msg(), "json scan: not inside an object");
    assert_int_equal(kl_json_scan_array_next(&s, &more), KL_EINVAL);
    assert_string_equal(kl_err_msg(), "json scan: not inside an array");
    assert_int_equal(kl_json_scan_array_begin(&s), KL_OK);
    kl_json_scan_free(&s);

    kl_json_scan_init(&s, KL_BYTES_STR("{}"));
    assert_int_equal(kl_json_scan_array_begin(&s), KL_EPARSE);
    assert_string_equal(kl_err_msg(), "line 1 column 1: invalid JSON: expected an array");
    kl_json_scan_free(&s);
}

static void
test_json_scan_skip_span(void **state)
{
    static const char text[] = "[ {\"a\": [1, {\"b\": null}]} , \"s\\n\" ,-1.5e3 ]";
    kl_json_scan s;
    kl_bytes span;
    bool more;

    (void)state;
    kl_json_scan_init(&s, KL_BYTES(text, sizeof(text) - 1));
    assert_int_equal(kl_json_scan_array_begin(&s), KL_OK);
    assert_int_equal(kl_json_scan_array_next(&s, &more), KL_OK);
    assert_int_equal(kl_json_scan_skip(&s, &span), KL_OK);
    assert_true(kl_bytes_eq_str(span, "{\"a\": [1, {\"b\": null}]}"));
    assert_int_equal(kl_json_scan_array_next(&s, &more), KL_OK);
    assert_int_equal(kl_json_scan_skip(&s, &span), KL_OK);
    assert_true(kl_bytes_eq_str(span, "\"s\\n\""));
    assert_int_equal(kl_json_scan_array_next(&s, &more), KL_OK);
    assert_int_equal(kl_json_scan_skip(&s, &span), KL_OK);
    assert_true(kl_bytes_eq_str(span, "-1.5e3"));
    assert_int_equal(kl_json_scan_array_next(&s, &more), KL_OK);
    assert_false(more);
    assert_int_equal(kl_json_scan_finish(&s), KL_OK);
    kl_json_scan_free(&s);
}

static void
test_json_scan_empty_containers(void **state)
{
    kl_json_scan s;
    kl_bytes k;
    bool more = true;

    (void)state;
    kl_json_scan_init(&s, KL_BYTES_STR(" { } "));
    assert_int_equal(kl_json_scan_object_begin(&s), KL_OK);
    assert_int_equal(kl_json_scan_object_next(&s, &more, &k), KL_OK);
    assert_false(more);
    assert_int_equal(kl_json_scan_finish(&s), KL_OK);
    kl_json_scan_free(&s);
    more = true;
    kl_json_scan_init(&s, KL_BYTES_STR("[\n]"));
    assert_int_equal(kl_json_scan_array_begin(&s), KL_OK);
    assert_int_equal(kl_json_scan_array_next(&s, &more), KL_OK);
    assert_false(more);
    assert_int_equal(kl_json_scan_finish(&s), KL_OK);
    kl_json_scan_free(&s);
}

static void
test_json_scan_free_twice(void **state)
{
    kl_json_scan s;

    (void)state;
    kl_json_scan_init(&s, KL_BYTES_STR("[\"\\n\"]"));
    assert_int_equal(kl_json_scan_skip(&s, NULL), KL_OK);
    kl_json_scan_free(&s);
    kl_json_scan_free(&s);
}

/* Every allocation failure while scanning strings with escapes gives
 * KL_ENOMEM and leaks nothing; in the end the document is accepted. */
static void
test_json_scan_alloc_failure_sweep(void **state)
{
    static const char text[] =
        "{\"k\\u00e9y\": [\"v\\n1\", \"plain\", {\"\\ud83d\\ude00\": \"\\t\\t\\t\\t\\t\\t\\t\\t"
        "\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t"
        "\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t"
        "\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t"
        "\"}], \"n\": 1.0, \"z\": \"\\u0041\"}";
    bool done = false;
    size_t n;

    (void)state;
    for (n = 1; n < 100 && !done; n++) {
        kl_json_scan s;
        kl_rc rc;

        kl_json_scan_init(&s, KL_BYTES(text, sizeof(text) - 1));
        kl_alloc_fail_at(n);
        rc = walk(&s);
        if (rc == KL_OK)
            rc = kl_json_scan_finish(&s);
        kl_alloc_fail_at(0);
        kl_json_scan_free(&s);
        if (rc == KL_OK)
            done = true;
        else
            assert_int_equal(rc, KL_ENOMEM);
    }
    assert_true(done);
    /* at least the key and the value scratch buffers were allocated */
    assert_true(n > 3);
}

#define T(f) cmocka_unit_test_teardown(f, reset_alloc)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_json_scan_accepts_valid),
        T(test_json_scan_accepts_numbers),
        T(test_json_scan_rejects_structure),
        T(test_json_scan_rejects_literals),
        T(test_json_scan_rejects_numbers),
        T(test_json_scan_rejects_strings),
        T(test_json_scan_rejects_invalid_utf8),
        T(test_json_scan_nesting_limit),
        T(test_json_scan_string_escapes),
        T(test_json_scan_string_surrogates),
        T(test_json_scan_string_view_without_escapes),
        T(test_json_scan_key_survives_value),
        T(test_json_scan_int_values),
        T(test_json_scan_int_not_integral),
        T(test_json_scan_int_malformed),
        T(test_json_scan_error_positions),
        T(test_json_scan_where),
        T(test_json_scan_init_at_positions),
        T(test_json_scan_peek_types),
        T(test_json_scan_type_mismatch),
        T(test_json_scan_skip_span),
        T(test_json_scan_empty_containers),
        T(test_json_scan_free_twice),
        T(test_json_scan_alloc_failure_sweep),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
