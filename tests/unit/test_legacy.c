/* Unit tests for policy/legacy: flat allowlists and exclude lists read as
 * upstream (Python) reads them: line ends, strip(), split(None, 1),
 * Unicode whitespace, UTF-8 checking, comments, callback errors. */
/* cmocka.h needs the standard headers before it: keep this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "policy/legacy.h"
/* clang-format on */

#define MAX_CALLS 16

/* What the callbacks saw, as "a|b" strings (or single lines). */
typedef struct {
    char got[MAX_CALLS][128];
    size_t n;
    size_t fail_at; /* return KL_ENOTFOUND from this call (1-based); 0: never */
} calls;

static kl_rc
on_pair(kl_bytes digest, kl_bytes path, void *payload)
{
    calls *c = payload;

    assert_true(c->n < MAX_CALLS);
    snprintf(c->got[c->n], sizeof(c->got[0]), "%.*s|%.*s", (int)digest.len,
             (const char *)digest.ptr, (int)path.len, (const char *)path.ptr);
    c->n++;
    return c->fail_at == c->n ? KL_ENOTFOUND : KL_OK;
}

static kl_rc
on_line(kl_bytes line, void *payload)
{
    calls *c = payload;

    assert_true(c->n < MAX_CALLS);
    snprintf(c->got[c->n], sizeof(c->got[0]), "%.*s", (int)line.len, (const char *)line.ptr);
    c->n++;
    return c->fail_at == c->n ? KL_ENOTFOUND : KL_OK;
}

static kl_bytes
text(const char *s)
{
    return KL_BYTES(s, strlen(s));
}

static void
test_legacy_allowlist_basic(void **state)
{
    calls c = {0};

    (void)state;
    assert_int_equal(kl_legacy_allowlist_parse(text("aaaa  /usr/bin/a\n"
                                                    "\tbbbb /usr/bin/with  two spaces  \n"
                                                    "\n"
                                                    "   \n"
                                                    "lonely\n"
                                                    "cccc /last"),
                                               on_pair, &c),
                     KL_OK);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.got[0], "aaaa|/usr/bin/a");
    /* only the ends are stripped; inner whitespace stays in the path */
    assert_string_equal(c.got[1], "bbbb|/usr/bin/with  two spaces");
    assert_string_equal(c.got[2], "cccc|/last");
}

static void
test_legacy_allowlist_empty(void **state)
{
    calls c = {0};

    (void)state;
    assert_int_equal(kl_legacy_allowlist_parse(KL_BYTES(NULL, 0), on_pair, &c), KL_OK);
    assert_int_equal(kl_legacy_allowlist_parse(text("\n\n \r\n"), on_pair, &c), KL_OK);
    assert_int_equal(c.n, 0);
}

static void
test_legacy_allowlist_line_ends(void **state)
{
    calls c = {0};

    (void)state;
    /* \r\n and a lone \r end lines in both modes */
    assert_int_equal(kl_legacy_allowlist_parse_eol(text("a1 /x\r\na2 /y\ra3 /z"),
                                                   KL_LEGACY_READLINE, on_pair, &c),
                     KL_OK);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.got[1], "a2|/y");
    assert_string_equal(c.got[2], "a3|/z");

    /* \v ends a line for splitlines() but is whitespace for readline() */
    memset(&c, 0, sizeof(c));
    assert_int_equal(kl_legacy_allowlist_parse(text("d1 /a\vd2 /b"), on_pair, &c), KL_OK);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.got[0], "d1|/a");
    assert_string_equal(c.got[1], "d2|/b");
    memset(&c, 0, sizeof(c));
    assert_int_equal(
        kl_legacy_allowlist_parse_eol(text("d1 /a\vd2 /b"), KL_LEGACY_READLINE, on_pair, &c),
        KL_OK);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.got[0], "d1|/a\vd2 /b");

    /* U+2028 (LINE SEPARATOR) likewise */
    memset(&c, 0, sizeof(c));
    assert_int_equal(kl_legacy_allowlist_parse(text("d1 /a\xe2\x80\xa8"
                                                    "d2 /b"),
                                               on_pair, &c),
                     KL_OK);
    assert_int_equal(c.n, 2);
}

static void
test_legacy_allowlist_unicode_space(void **state)
{
    calls c = {0};

    (void)state;
    /* NO-BREAK SPACE separates, IDEOGRAPHIC SPACE is stripped; a
     * ZERO WIDTH SPACE (U+200B) is not whitespace for Python */
    assert_int_equal(kl_legacy_allowlist_parse(text("\xe3\x80\x80"
                                                    "d1\xc2\xa0/caf\xc3\xa9\xe3\x80\x80\n"
                                                    "d2\xe2\x80\x8b/no-split\n"),
                                               on_pair, &c),
                     KL_OK);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.got[0], "d1|/caf\xc3\xa9");
}

static kl_rc
on_nul_pair(kl_bytes digest, kl_bytes path, void *payload)
{
    size_t *n = payload;

    assert_true(kl_bytes_eq_str(digest, "d1"));
    assert_int_equal(path.len, 4);
    assert_memory_equal(path.ptr, "/a\0b", 4);
    (*n)++;
    return KL_OK;
}

static void
test_legacy_allowlist_nul_kept(void **state)
{
    static const char t[] = "d1 /a\0b\n";
    size_t n = 0;

    (void)state;
    assert_int_equal(kl_legacy_allowlist_parse(KL_BYTES(t, sizeof(t) - 1), on_nul_pair, &n), KL_OK);
    assert_int_equal(n, 1);
}

static void
test_legacy_allowlist_bad_utf8(void **state)
{
    static const char *const bad[] = {
        "\xff",             /* never valid */
        "\xc0\x80",         /* overlong NUL */
        "\xed\xa0\x80",     /* a surrogate */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "\xe2\x82",         /* cut short */
    };
    char buf[64];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        calls c = {0};

        snprintf(buf, sizeof(buf), "d1 /ok\nd2 /bad%s\nd3 /after\n", bad[i]);
        assert_int_equal(kl_legacy_allowlist_parse(text(buf), on_pair, &c), KL_EPARSE);
        /* the lines before the bad one were delivered, no others */
        assert_int_equal(c.n, 1);
        assert_non_null(strstr(kl_err_msg(), "line 2"));
        assert_non_null(strstr(kl_err_msg(), "UTF-8"));
    }
}

static void
test_legacy_allowlist_callback_error(void **state)
{
    calls c = {.fail_at = 2};

    (void)state;
    assert_int_equal(kl_legacy_allowlist_parse(text("a /1\nb /2\nc /3\n"), on_pair, &c),
                     KL_ENOTFOUND);
    assert_int_equal(c.n, 2);
}

static void
test_legacy_excludes(void **state)
{
    calls c = {0};

    (void)state;
    assert_int_equal(kl_legacy_excludes_parse(text("# a comment\n"
                                                   "  /tmp/.*  \r\n"
                                                   "\n"
                                                   "   # indented comment\n"
                                                   "/var/log/a#b\n"
                                                   "\t\n"
                                                   "^/boot/(efi|grub2)/"),
                                              on_line, &c),
                     KL_OK);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.got[0], "/tmp/.*");
    assert_string_equal(c.got[1], "/var/log/a#b");
    assert_string_equal(c.got[2], "^/boot/(efi|grub2)/");
}

static void
test_legacy_excludes_readline_ends(void **state)
{
    calls c = {0};

    (void)state;
    /* an exclude list is read line by line: \f is whitespace inside a line */
    assert_int_equal(kl_legacy_excludes_parse(text("/a\f/b\r/c"), on_line, &c), KL_OK);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.got[0], "/a\f/b");
    assert_string_equal(c.got[1], "/c");
}

static void
test_legacy_lines_keep_comments(void **state)
{
    calls c = {0};

    (void)state;
    assert_int_equal(
        kl_legacy_lines_parse(text("# kept\n\n x \n"), KL_LEGACY_READLINE, on_line, &c), KL_OK);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.got[0], "# kept");
    assert_string_equal(c.got[1], "x");
}

static void
test_legacy_excludes_errors(void **state)
{
    calls c = {.fail_at = 1};

    (void)state;
    assert_int_equal(kl_legacy_excludes_parse(text("/a\n/b\n"), on_line, &c), KL_ENOTFOUND);
    assert_int_equal(c.n, 1);
    memset(&c, 0, sizeof(c));
    assert_int_equal(kl_legacy_excludes_parse(text("/a\n/\x80\n"), on_line, &c), KL_EPARSE);
    assert_int_equal(c.n, 1);
}

static void
test_legacy_space_and_utf8(void **state)
{
    static const uint32_t space[] = {0x09,   0x0d,   0x1c,   0x1f,   0x20,   0x85,   0xa0,  0x1680,
                                     0x2000, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000};
    static const uint32_t not_space[] = {0x00, 0x08, 0x0e, 0x1b, 0x21, 0x84, 0x200b, 0xfeff};
    uint32_t cp = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(space) / sizeof(space[0]); i++)
        assert_true(kl_legacy_is_space(space[i]));
    for (size_t i = 0; i < sizeof(not_space) / sizeof(not_space[0]); i++)
        assert_false(kl_legacy_is_space(not_space[i]));
    assert_int_equal(kl_legacy_utf8_next((const uint8_t *)"\xf0\x9f\x98\x80", 4, &cp), 4);
    assert_int_equal(cp, 0x1f600);
    assert_int_equal(kl_legacy_utf8_next((const uint8_t *)"\xf0\x9f\x98", 3, &cp), 0);
    assert_int_equal(kl_legacy_utf8_next((const uint8_t *)"\xe0\x80\x80", 3, &cp), 0);
    assert_int_equal(kl_legacy_utf8_next((const uint8_t *)"\xed\x9f\xbf", 3, &cp), 3);
    assert_int_equal(cp, 0xd7ff);
    assert_int_equal(kl_legacy_utf8_next((const uint8_t *)"", 0, &cp), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_legacy_allowlist_basic),
        cmocka_unit_test(test_legacy_allowlist_empty),
        cmocka_unit_test(test_legacy_allowlist_line_ends),
        cmocka_unit_test(test_legacy_allowlist_unicode_space),
        cmocka_unit_test(test_legacy_allowlist_nul_kept),
        cmocka_unit_test(test_legacy_allowlist_bad_utf8),
        cmocka_unit_test(test_legacy_allowlist_callback_error),
        cmocka_unit_test(test_legacy_excludes),
        cmocka_unit_test(test_legacy_excludes_readline_ends),
        cmocka_unit_test(test_legacy_lines_keep_comments),
        cmocka_unit_test(test_legacy_excludes_errors),
        cmocka_unit_test(test_legacy_space_and_utf8),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
