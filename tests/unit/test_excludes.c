/* kl_excludes: Python re.match semantics over the joined alternation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "policy/excludes.h"

static bool
match(const char *const *pats, size_t n, const char *path)
{
    kl_bytes b[8];
    kl_excludes *x = NULL;
    kl_excludes_matcher *m = NULL;
    bool r;

    for (size_t i = 0; i < n; i++)
        b[i] = KL_BYTES(pats[i], strlen(pats[i]));
    assert_int_equal(kl_excludes_compile(&x, b, n), KL_OK);
    assert_int_equal(kl_excludes_matcher_new(x, &m), KL_OK);
    r = kl_excludes_match(m, KL_BYTES(path, strlen(path)));
    kl_excludes_matcher_free(m);
    kl_excludes_free(x);
    return r;
}

static void
test_excludes_prefix_semantics(void **state)
{
    const char *const p1[] = {"/tmp"};
    const char *const p2[] = {"/etc/.*\\.conf$", "/var/log/"};
    const char *const p3[] = {".*/cache\\Z"};

    (void)state;
    assert_true(match(p1, 1, "/tmp"));
    assert_true(match(p1, 1, "/tmpfoo"));      /* start-anchored only */
    assert_false(match(p1, 1, "/var/tmp"));
    assert_true(match(p2, 2, "/etc/a.conf"));
    assert_false(match(p2, 2, "/etc/a.conf.bak"));
    assert_true(match(p2, 2, "/var/log/x"));
    assert_true(match(p3, 1, "/var/cache"));  /* Python's \Z */
    assert_false(match(p3, 1, "/var/cache/x"));
    assert_false(match(NULL, 0, "/anything"));
}

static void
test_excludes_unicode(void **state)
{
    const char *const p[] = {"/opt/\\w+$"};

    (void)state;
    assert_true(match(p, 1, "/opt/caf\xc3\xa9"));     /* \w is Unicode-aware, as in Python */
    assert_false(match(p, 1, "/opt/caf\xc3"));        /* invalid UTF-8: no match, no crash */
}

static void
test_excludes_invalid(void **state)
{
    kl_bytes b[2] = {KL_BYTES_STR("/ok"), KL_BYTES_STR("/bad(")};
    kl_excludes *x = NULL;

    (void)state;
    assert_int_equal(kl_excludes_compile(&x, b, 2), KL_EPARSE);
    assert_null(x);
    assert_non_null(strstr(kl_err_msg(), "excludes[1] \"/bad(\" is not a valid regular expression"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_excludes_prefix_semantics),
        cmocka_unit_test(test_excludes_unicode),
        cmocka_unit_test(test_excludes_invalid),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
