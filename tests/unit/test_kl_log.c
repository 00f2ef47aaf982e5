/* Unit tests for util/kl_log: per-module levels from KEYLIME_LOG and the
 * "LEVEL module func: message" line format on stderr. */
/* cmocka.h needs the standard headers before it: keep this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define KL_LOGMODULE "unittest"
#include "util/kl_log.h"
/* clang-format on */

static void
set_spec(const char *spec)
{
    if (spec)
        assert_int_equal(setenv("KEYLIME_LOG", spec, 1), 0);
    else
        assert_int_equal(unsetenv("KEYLIME_LOG"), 0);
    kl_log_reset();
}

/* The highest enabled level of module, or -1 when even ERR is off. */
static int
level_of(const char *module)
{
    int lvl = -1;

    for (int l = KL_LOG_ERR; l <= KL_LOG_DEBUG; l++)
        if (kl_log_enabled(module, (kl_log_level)l))
            lvl = l;
    /* levels are cumulative: everything below the highest is on */
    for (int l = KL_LOG_ERR; l <= lvl; l++)
        assert_true(kl_log_enabled(module, (kl_log_level)l));
    return lvl;
}

static int
restore_env(void **state)
{
    (void)state;
    set_spec("error");
    return 0;
}

static void
test_kl_log_default_is_warn(void **state)
{
    (void)state;
    set_spec(NULL);
    assert_int_equal(level_of("ima"), KL_LOG_WARN);
    set_spec("");
    assert_int_equal(level_of("ima"), KL_LOG_WARN);
}

static void
test_kl_log_global_levels(void **state)
{
    (void)state;
    set_spec("debug");
    assert_int_equal(level_of("ima"), KL_LOG_DEBUG);
    set_spec("info");
    assert_int_equal(level_of("policy"), KL_LOG_INFO);
    set_spec("error");
    assert_int_equal(level_of("policy"), KL_LOG_ERR);
    set_spec("err");
    assert_int_equal(level_of("policy"), KL_LOG_ERR);
    set_spec("WARN");
    assert_int_equal(level_of("policy"), KL_LOG_WARN);
    set_spec("DeBuG");
    assert_int_equal(level_of("policy"), KL_LOG_DEBUG);
}

static void
test_kl_log_per_module(void **state)
{
    (void)state;
    set_spec("ima=debug,policy=err");
    assert_int_equal(level_of("ima"), KL_LOG_DEBUG);
    assert_int_equal(level_of("policy"), KL_LOG_ERR);
    assert_int_equal(level_of("json"), KL_LOG_WARN);

    set_spec("info,ima=debug");
    assert_int_equal(level_of("ima"), KL_LOG_DEBUG);
    assert_int_equal(level_of("json"), KL_LOG_INFO);

    set_spec("ima=error,debug");
    assert_int_equal(level_of("ima"), KL_LOG_ERR);
    assert_int_equal(level_of("json"), KL_LOG_DEBUG);
}

static void
test_kl_log_module_match_is_exact(void **state)
{
    (void)state;
    set_spec("im=debug,imax=debug,IMA=debug");
    assert_int_equal(level_of("ima"), KL_LOG_WARN);
    set_spec("ima=debug");
    assert_int_equal(level_of("im"), KL_LOG_WARN);
    assert_int_equal(level_of("ima_sig"), KL_LOG_WARN);
}

static void
test_kl_log_bad_level_keeps_default(void **state)
{
    (void)state;
    set_spec("verbose");
    assert_int_equal(level_of("ima"), KL_LOG_WARN);
    set_spec("info,ima=loud");
    assert_int_equal(level_of("ima"), KL_LOG_INFO);
    set_spec("ima=");
    assert_int_equal(level_of("ima"), KL_LOG_WARN);
    set_spec("ima=debug,");
    assert_int_equal(level_of("ima"), KL_LOG_DEBUG);
    set_spec(",,info");
    assert_int_equal(level_of("ima"), KL_LOG_INFO);
}

static void
test_kl_log_reset_rereads(void **state)
{
    (void)state;
    set_spec("debug");
    assert_true(kl_log_enabled("x", KL_LOG_DEBUG));
    /* the environment is cached until kl_log_reset */
    assert_int_equal(setenv("KEYLIME_LOG", "error", 1), 0);
    assert_true(kl_log_enabled("x", KL_LOG_DEBUG));
    kl_log_reset();
    assert_false(kl_log_enabled("x", KL_LOG_DEBUG));
    assert_false(kl_log_enabled("x", KL_LOG_WARN));
    assert_true(kl_log_enabled("x", KL_LOG_ERR));
}

/* Runs fn with stderr going into a file; returns what was written. */
static void
capture_stderr(void (*fn)(void), char *out, size_t outlen)
{
    FILE *tmp = tmpfile();
    int saved;
    size_t n;

    assert_non_null(tmp);
    fflush(stderr);
    saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_int_equal(dup2(fileno(tmp), STDERR_FILENO), STDERR_FILENO);
    fn();
    fflush(stderr);
    assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
    close(saved);
    rewind(tmp);
    n = fread(out, 1, outlen - 1, tmp);
    out[n] = '\0';
    fclose(tmp);
}

static void
write_lines(void)
{
    kl_log_write("ima", KL_LOG_ERR, "parse_line", "line %d: %s", 3, "bad");
    kl_log_write("policy", KL_LOG_WARN, "load", "%s", "w");
    kl_log_write("x", KL_LOG_INFO, "f", "i");
    kl_log_write("x", KL_LOG_DEBUG, "f", "d");
}

static void
test_kl_log_write_format(void **state)
{
    char got[512];

    (void)state;
    capture_stderr(write_lines, got, sizeof(got));
    assert_string_equal(got, "ERROR ima parse_line: line 3: bad\n"
                             "WARN policy load: w\n"
                             "INFO x f: i\n"
                             "DEBUG x f: d\n");
}

static void
macro_lines(void)
{
    LOG_ERR("err %d", 1);
    LOG_WARN("warn %d", 2);
    LOG_INFO("info %d", 3);
    LOG_DEBUG("debug %d", 4);
}

static void
test_kl_log_macros_filter(void **state)
{
    char got[512];

    (void)state;
    set_spec("warn,unittest=info");
    capture_stderr(macro_lines, got, sizeof(got));
    assert_string_equal(got, "ERROR unittest macro_lines: err 1\n"
                             "WARN unittest macro_lines: warn 2\n"
                             "INFO unittest macro_lines: info 3\n");
    set_spec("unittest=error");
    capture_stderr(macro_lines, got, sizeof(got));
    assert_string_equal(got, "ERROR unittest macro_lines: err 1\n");
}

static void
long_line(void)
{
    char big[5000];

    memset(big, 'm', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    kl_log_write("m", KL_LOG_ERR, "f", "%s", big);
}

static void
test_kl_log_write_truncates(void **state)
{
    static char got[8192];
    const char *msg;

    (void)state;
    capture_stderr(long_line, got, sizeof(got));
    assert_memory_equal(got, "ERROR m f: mmm", 14);
    msg = got + strlen("ERROR m f: ");
    /* the message is cut to 2047 bytes; the line still ends in a newline */
    assert_int_equal(strlen(msg), 2047 + 1);
    assert_int_equal(msg[2047], '\n');
    assert_int_equal(msg[2046], 'm');
}

#define T(f) cmocka_unit_test_teardown(f, restore_env)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_kl_log_default_is_warn),
        T(test_kl_log_global_levels),
        T(test_kl_log_per_module),
        T(test_kl_log_module_match_is_exact),
        T(test_kl_log_bad_level_keeps_default),
        T(test_kl_log_reset_rereads),
        T(test_kl_log_write_format),
        T(test_kl_log_macros_filter),
        T(test_kl_log_write_truncates),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
