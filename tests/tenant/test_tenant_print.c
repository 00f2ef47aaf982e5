/* Unit tests for the tenant's output (tenant_print.c) and its helper for
 * ek_check_script (tenant_run_script): upstream's log line layout,
 * json.dumps and Python repr of answers, state names, Python's float text,
 * log_http_response, and a script run with argv (no shell) and env. */
/* cmocka.h needs the standard headers before it: keep this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "json/json.h"
#include "tenant_test.h"
/* clang-format on */

/* Runs fn with stdout captured; returns what it printed (kl_free). */
static char *
capture(void (*fn)(void))
{
    FILE *f = tmpfile();
    int saved = dup(1);
    char *text;

    fflush(stdout);
    assert_true(dup2(fileno(f), 1) >= 0);
    fn();
    fflush(stdout);
    assert_true(dup2(saved, 1) >= 0);
    close(saved);
    text = test_slurp(f);
    fclose(f);
    return text;
}

static void
log_two(void)
{
    tl_info("Agent %s deleted from the CV", "a1");
    tl_log("registrar_client", TL_CRITICAL, "x");
    tl_log("tenant", TL_DEBUG, "never shown");
}

static void
test_tenant_log_layout(void **state)
{
    char *out = capture(log_two);
    char *second;

    (void)state;
    /* "YYYY-mm-dd HH:MM:SS.mmm - keylime.tenant - INFO - ..." */
    assert_int_equal(strlen(out) > 24, 1);
    assert_true(out[4] == '-' && out[7] == '-' && out[10] == ' ' && out[13] == ':' &&
                out[19] == '.' && out[23] == ' ');
    assert_int_equal(
        strncmp(out + 23, " - keylime.tenant - INFO - Agent a1 deleted from the CV\n", 56), 0);
    second = strchr(out, '\n') + 1;
    assert_string_equal(second + 23, " - keylime.registrar_client - CRITICAL - x\n");
    kl_free(out);
}

static void
test_tenant_dumps_and_repr(void **state)
{
    json_t *j = NULL;
    char *d, *r;

    (void)state;
    assert_int_equal(kl_json_parse(KL_BYTES_CSTR("{\"code\": 404, \"status\": \"agent id not "
                                                 "found\", \"results\": {\"a\": [true, null, "
                                                 "1.5, \"it's\"]}}"),
                                   "t", &j),
                     KL_OK);
    d = tl_dumps(j);
    r = tl_repr(j);
    assert_string_equal(d, "{\"code\": 404, \"status\": \"agent id not found\", \"results\": "
                           "{\"a\": [true, null, 1.5, \"it's\"]}}");
    assert_string_equal(r, "{'code': 404, 'status': 'agent id not found', 'results': {'a': "
                           "[True, None, 1.5, \"it's\"]}}");
    kl_free(d);
    kl_free(r);
    json_decref(j);
    d = tl_dumps(NULL);
    r = tl_repr(NULL);
    assert_string_equal(d, "null");
    assert_string_equal(r, "None");
    kl_free(d);
    kl_free(r);
}

static void
test_tenant_state_names(void **state)
{
    (void)state;
    assert_string_equal(tl_state_name(0), "Registered");
    assert_string_equal(tl_state_name(3), "Get Quote");
    assert_string_equal(tl_state_name(9), "Invalid Quote");
    assert_string_equal(tl_state_name(10), "Tenant Quote Failed");
    assert_null(tl_state_name(11));
    assert_null(tl_state_name(-1));
}

static void
test_tenant_float_text(void **state)
{
    char b[32];

    (void)state;
    tl_float(b, sizeof(b), 2.0);
    assert_string_equal(b, "2.0");
    tl_float(b, sizeof(b), 0.5);
    assert_string_equal(b, "0.5");
    tl_float(b, sizeof(b), 16.0);
    assert_string_equal(b, "16.0");
}

static json_t *http_body;

static void
http_lines(void)
{
    tl_http_response("tenant", TL_ERROR, http_body);
}

static void
test_tenant_http_response_line(void **state)
{
    char *out;

    (void)state;
    http_body = json_pack("{s:i,s:s,s:{}}", "code", 400, "status",
                          "Bootstrap key not yet "
                          "available.",
                          "results");
    out = capture(http_lines);
    assert_non_null(strstr(out, " - keylime.tenant - ERROR - Response code 400: Bootstrap key "
                                "not yet available.\n"));
    kl_free(out);
    json_decref(http_body);
    http_body = json_pack("{s:i}", "code", 400);
    out = capture(http_lines);
    assert_non_null(strstr(out, "ERROR - Error: unexpected or malformed http response payload"));
    kl_free(out);
    json_decref(http_body);
}

static void
test_tenant_run_script(void **state)
{
    const char *script = test_file("ekcheck.sh", "#!/bin/sh\necho \"uuid=$AGENT_UUID cwd=$(pwd)\"\n"
                                                 "echo oops >&2\n[ \"$EK_CERT\" = ok ]\n");
    char *env_ok[] = {"AGENT_UUID=a1", "EK_CERT=ok", "PATH=/usr/bin:/bin", NULL};
    char *env_bad[] = {"AGENT_UUID=a2", "EK_CERT=", "PATH=/usr/bin:/bin", NULL};
    kl_buf out;
    bool ok = false;

    (void)state;
    assert_int_equal(chmod(script, 0700), 0);
    kl_buf_init(&out, 4096);
    assert_int_equal(tenant_run_script(script, env_ok, "/", &out, &ok), KL_OK);
    assert_true(ok);
    assert_string_equal((const char *)out.ptr, "uuid=a1 cwd=/\noops\n");
    kl_buf_reset(&out);
    assert_int_equal(tenant_run_script(script, env_bad, "/", &out, &ok), KL_OK);
    assert_false(ok);
    kl_buf_reset(&out);
    assert_int_equal(tenant_run_script("/nonexistent/script", env_ok, "/", &out, &ok), KL_OK);
    assert_false(ok);
    kl_buf_free(&out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tenant_log_layout),
        cmocka_unit_test(test_tenant_dumps_and_repr),
        cmocka_unit_test(test_tenant_state_names),
        cmocka_unit_test(test_tenant_float_text),
        cmocka_unit_test(test_tenant_http_response_line),
        cmocka_unit_test(test_tenant_run_script),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
