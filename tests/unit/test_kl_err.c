/* Unit tests for util/kl_err: codes, names and the thread-local detail. */
/* cmocka.h needs the standard headers before it: keep this order */
/* clang-format off */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util/kl_err.h"
/* clang-format on */

#define ERR_MAX 1024 /* KL_ERR_MAX in kl_err.c, including the NUL */

static void
test_kl_err_set_returns_rc(void **state)
{
    (void)state;
    assert_int_equal(kl_err_set(KL_EPARSE, "line %d: %s", 7, "bad"), KL_EPARSE);
    assert_string_equal(kl_err_msg(), "line 7: bad");
    assert_int_equal(kl_err_set(KL_OK, "%s", "fine"), KL_OK);
    assert_string_equal(kl_err_msg(), "fine");
}

static void
test_kl_err_clear_gives_placeholder(void **state)
{
    (void)state;
    assert_int_equal(kl_err_set(KL_EIO, "x"), KL_EIO);
    kl_err_clear();
    assert_non_null(kl_err_msg());
    assert_string_equal(kl_err_msg(), "no error detail");
    /* an empty detail also reads as the placeholder */
    assert_int_equal(kl_err_set(KL_EIO, "%s", ""), KL_EIO);
    assert_string_equal(kl_err_msg(), "no error detail");
}

static void
test_kl_err_wrap_prefixes(void **state)
{
    (void)state;
    assert_int_equal(kl_err_set(KL_EPARSE, "unknown template '%s'", "ima-x"), KL_EPARSE);
    assert_int_equal(kl_err_wrap(KL_EPARSE, "%s: line %zu: ", "log", (size_t)3), KL_EPARSE);
    assert_string_equal(kl_err_msg(), "log: line 3: unknown template 'ima-x'");
    assert_int_equal(kl_err_wrap(KL_EIO, "outer: "), KL_EIO);
    assert_string_equal(kl_err_msg(), "outer: log: line 3: unknown template 'ima-x'");
}

static void
test_kl_err_wrap_without_detail(void **state)
{
    (void)state;
    kl_err_clear();
    assert_int_equal(kl_err_wrap(KL_EINVAL, "context: "), KL_EINVAL);
    assert_string_equal(kl_err_msg(), "context: ");
}

static void
test_kl_err_set_truncates(void **state)
{
    char big[3000];

    (void)state;
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(kl_err_set(KL_EPARSE, "%s", big), KL_EPARSE);
    assert_int_equal(strlen(kl_err_msg()), ERR_MAX - 1);
    assert_memory_equal(kl_err_msg(), big, ERR_MAX - 1);
}

static void
test_kl_err_wrap_truncates(void **state)
{
    char inner[900], outer[300], expect[ERR_MAX];

    (void)state;
    memset(inner, 'i', sizeof(inner) - 1);
    inner[sizeof(inner) - 1] = '\0';
    memset(outer, 'o', sizeof(outer) - 1);
    outer[sizeof(outer) - 1] = '\0';
    assert_int_equal(kl_err_set(KL_EPARSE, "%s", inner), KL_EPARSE);
    assert_int_equal(kl_err_wrap(KL_EPARSE, "%s", outer), KL_EPARSE);
    /* the prefix is kept whole, the old detail is cut to fit */
    memcpy(expect, outer, 299);
    memcpy(expect + 299, inner, ERR_MAX - 1 - 299);
    expect[ERR_MAX - 1] = '\0';
    assert_string_equal(kl_err_msg(), expect);

    /* a prefix that fills everything leaves no room for the old detail */
    memset(inner, 'p', sizeof(inner) - 1);
    assert_int_equal(kl_err_set(KL_EPARSE, "old"), KL_EPARSE);
    assert_int_equal(kl_err_wrap(KL_EPARSE, "%s%s", inner, inner), KL_EPARSE);
    assert_int_equal(strlen(kl_err_msg()), ERR_MAX - 1);
    assert_null(strstr(kl_err_msg(), "old"));
}

static void
test_kl_err_rc_str_names(void **state)
{
    (void)state;
    assert_string_equal(kl_rc_str(KL_OK), "ok");
    assert_string_equal(kl_rc_str(KL_ENOMEM), "out of memory");
    assert_string_equal(kl_rc_str(KL_EINVAL), "invalid argument");
    assert_string_equal(kl_rc_str(KL_EPARSE), "parse error");
    assert_string_equal(kl_rc_str(KL_EIO), "I/O error");
    assert_string_equal(kl_rc_str(KL_ECRYPTO), "crypto error");
    assert_string_equal(kl_rc_str(KL_ENOTFOUND), "not found");
    assert_string_equal(kl_rc_str(KL_ETOOBIG), "too big");
    assert_string_equal(kl_rc_str(KL_EUNSUPPORTED), "unsupported");
    assert_string_equal(kl_rc_str(KL_EVERIFY), "verification failed");
    assert_string_equal(kl_rc_str(KL_EEXIST), "already exists");
    assert_string_equal(kl_rc_str(KL_EPERM), "not permitted");
}

static void
test_kl_err_rc_str_unknown(void **state)
{
    (void)state;
    assert_string_equal(kl_rc_str((kl_rc)(KL_EPERM + 1)), "unknown error");
    assert_string_equal(kl_rc_str((kl_rc)1000), "unknown error");
    assert_string_equal(kl_rc_str((kl_rc)-1), "unknown error");
}

static void *
thread_main(void *arg)
{
    char *seen = arg;

    /* a new thread starts without detail, whatever the main thread set */
    snprintf(seen, 64, "%s", kl_err_msg());
    (void)kl_err_set(KL_EIO, "from the thread");
    snprintf(seen + 64, 64, "%s", kl_err_msg());
    return NULL;
}

static void
test_kl_err_thread_local(void **state)
{
    char seen[128] = {0};
    pthread_t t;

    (void)state;
    assert_int_equal(kl_err_set(KL_EPARSE, "main thread detail"), KL_EPARSE);
    assert_int_equal(pthread_create(&t, NULL, thread_main, seen), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_string_equal(seen, "no error detail");
    assert_string_equal(seen + 64, "from the thread");
    assert_string_equal(kl_err_msg(), "main thread detail");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kl_err_set_returns_rc),
        cmocka_unit_test(test_kl_err_clear_gives_placeholder),
        cmocka_unit_test(test_kl_err_wrap_prefixes),
        cmocka_unit_test(test_kl_err_wrap_without_detail),
        cmocka_unit_test(test_kl_err_set_truncates),
        cmocka_unit_test(test_kl_err_wrap_truncates),
        cmocka_unit_test(test_kl_err_rc_str_names),
        cmocka_unit_test(test_kl_err_rc_str_unknown),
        cmocka_unit_test(test_kl_err_thread_local),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
