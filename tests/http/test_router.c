/* Unit tests for http/router: both dialects' tables, versions, args and
 * the exact error answers (see lib/http/router.c for their sources). */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http/router.h"
#include "router_tables.h"
/* clang-format on */

static char buf[512];
static kl_route_match m;
static const char *status;

static int
match(const kl_router *r, kl_http_method meth, const char *path)
{
    return kl_router_match(r, meth, path, buf, sizeof(buf), &m, &status);
}

static void
test_router_py_versions(void **state)
{
    (void)state;
    /* unscoped */
    assert_int_equal(match(&py, KL_HTTP_GET, "/version"), 0);
    assert_string_equal(m.version, "");
    assert_int_equal(match(&py, KL_HTTP_GET, "/version/"), 0);
    /* /v2/ and every /v2.x/ */
    assert_int_equal(match(&py, KL_HTTP_POST, "/v2/agents/abc"), 5);
    assert_string_equal(m.version, "2");
    for (int i = 0; i <= 6; i++) {
        char p[64];
        snprintf(p, sizeof(p), "/v2.%d/agents/abc", i);
        assert_int_equal(match(&py, KL_HTTP_POST, p), 5);
        assert_int_equal(m.n_args, 1);
        assert_string_equal(m.args[0], "abc");
        snprintf(p, sizeof(p), "2.%d", i);
        assert_string_equal(m.version, p);
    }
    assert_string_equal(m.version, "2.6");
    /* unknown versions, v1, no version: 404 */
    assert_int_equal(match(&py, KL_HTTP_POST, "/v2.9/agents/abc"), -404);
    assert_string_equal(status, "Not Found");
    assert_int_equal(match(&py, KL_HTTP_POST, "/v1.0/agents/abc"), -404);
    assert_int_equal(match(&py, KL_HTTP_POST, "/v1/agents/abc"), -404);
    assert_int_equal(match(&py, KL_HTTP_POST, "/agents/abc"), -404);
    assert_int_equal(match(&py, KL_HTTP_GET, "/v2.6x/agents"), -404);
    /* major-scoped routes: POST /v3/agents/x is not a v3 route */
    assert_int_equal(match(&py, KL_HTTP_POST, "/v3.0/agents/abc"), -405);
    assert_int_equal(match(&py, KL_HTTP_POST, "/v3/agents"), 4);
    assert_int_equal(match(&py, KL_HTTP_GET, "/v3.0/"), 9);
    assert_int_equal(match(&py, KL_HTTP_GET, "/v3"), 9);
    assert_int_equal(match(&py, KL_HTTP_GET, "/v2.6/"), -404);
}

static void
test_router_py_errors(void **state)
{
    (void)state;
    /* 405: path known, method not */
    assert_int_equal(match(&py, KL_HTTP_PATCH, "/v2.6/agents/abc"), -405);
    assert_string_equal(status, "Method Not Allowed");
    assert_int_equal(match(&py, KL_HTTP_POST, "/version"), -405);
    assert_int_equal(match(&py, KL_HTTP_OTHER, "/v2/agents"), -405);
    /* 404 */
    assert_int_equal(match(&py, KL_HTTP_GET, "/v2.6/agents/a/b/c"), -404);
    assert_int_equal(match(&py, KL_HTTP_GET, "/v2.6/agents//activate"), -404);
    assert_int_equal(match(&py, KL_HTTP_GET, "/"), -404);
    assert_int_equal(match(&py, KL_HTTP_GET, ""), -404);
    assert_int_equal(match(&py, KL_HTTP_GET, "no-slash"), -404);
    /* one trailing slash is ignored, not two */
    assert_int_equal(match(&py, KL_HTTP_GET, "/v2/agents/"), 1);
    assert_int_equal(match(&py, KL_HTTP_GET, "/v2/agents//"), -404);
    /* a path longer than the scratch buffer */
    {
        char big[1024];
        memset(big, 'a', sizeof(big) - 1);
        big[0] = '/';
        big[sizeof(big) - 1] = '\0';
        assert_int_equal(match(&py, KL_HTTP_GET, big), -404);
    }
}

static void
test_router_args(void **state)
{
    (void)state;
    assert_int_equal(match(&py, KL_HTTP_PUT, "/v2.1/agents/D432FBB3-D2F1/activate"), 7);
    assert_int_equal(m.n_args, 1);
    assert_string_equal(m.args[0], "D432FBB3-D2F1");
    assert_int_equal(match(&py, KL_HTTP_PUT, "/v2.1/agents/xyz/"), 8);
    assert_string_equal(m.args[0], "xyz");
    /* '*' needs a non-empty token */
    assert_int_equal(match(&py, KL_HTTP_POST, "/v2.1/agents//activate"), -404);
    /* the route's options are not part of the path */
    assert_int_equal(match(&py, KL_HTTP_GET, "/v2/agents action=list_registrations"), -404);
    assert_int_equal(match(&py, KL_HTTP_GET, "/v2/agents/x action=read_registration"), 2);
    assert_string_equal(m.args[0], "x action=read_registration");
}

static void
test_router_agent_versions(void **state)
{
    (void)state;
    assert_int_equal(match(&agent, KL_HTTP_GET, "/version"), 0);
    assert_int_equal(match(&agent, KL_HTTP_GET, "/v2.6/keys/pubkey"), 2);
    assert_string_equal(m.version, "2.6");
    assert_int_equal(match(&agent, KL_HTTP_GET, "/v2.1/quotes/identity"), 6);
    /* no /v2/ alias on the agent */
    assert_int_equal(match(&agent, KL_HTTP_GET, "/v2/keys/pubkey"), -400);
    assert_string_equal(status, "Not Implemented: Use /2.1, /2.2, /2.3, /2.4, /2.5, /2.6 "
                                "or /version interfaces");
    /* unknown X.Y */
    assert_int_equal(match(&agent, KL_HTTP_GET, "/v2.9/keys/pubkey"), -400);
    assert_string_equal(status, "API version not supported: v2.9");
    assert_int_equal(match(&agent, KL_HTTP_POST, "/v1.0/keys/ukey"), -400);
    assert_string_equal(status, "API version not supported: v1.0");
    assert_int_equal(match(&agent, KL_HTTP_DELETE, "/v3.0"), -400);
    assert_string_equal(status, "API version not supported: v3.0");
    /* since=2.2: /agent/info is unknown in 2.1 */
    assert_int_equal(match(&agent, KL_HTTP_GET, "/v2.2/agent/info"), 1);
    assert_int_equal(match(&agent, KL_HTTP_GET, "/v2.1/agent/info"), -400);
    assert_string_equal(status, "Not Implemented: Use /agent, /keys, or /quotes interfaces");
}

static void
test_router_agent_errors(void **state)
{
    (void)state;
    /* known path, other method: actix's 405 */
    assert_int_equal(match(&agent, KL_HTTP_POST, "/v2.6/keys/pubkey"), -405);
    assert_string_equal(status, "Method Not Allowed");
    /* scope defaults */
    assert_int_equal(match(&agent, KL_HTTP_GET, "/v2.6/keys/nope"), -400);
    assert_string_equal(status, "URI not supported, only /pubkey and /verify are supported for "
                                "GET in /keys interface");
    assert_int_equal(match(&agent, KL_HTTP_POST, "/v2.6/keys"), -400);
    assert_string_equal(status, "URI not supported, only /ukey and /vkey are supported for POST "
                                "in /keys interface");
    assert_int_equal(match(&agent, KL_HTTP_DELETE, "/v2.6/keys/ukey"), -405);
    assert_int_equal(match(&agent, KL_HTTP_DELETE, "/v2.6/keys/x"), -405);
    assert_string_equal(status, "Method is not supported in /keys interface");
    assert_int_equal(match(&agent, KL_HTTP_POST, "/v2.6/quotes/x"), -405);
    assert_string_equal(status, "Method is not supported in /quotes/ interface");
    assert_int_equal(match(&agent, KL_HTTP_GET, "/v2.6/notifications"), -405);
    assert_int_equal(match(&agent, KL_HTTP_GET, "/v2.6/agent/other"), -400);
    assert_string_equal(status, "URI not supported, only /info is supported for GET in /agent "
                                "interface");
    /* version scope default */
    assert_int_equal(match(&agent, KL_HTTP_POST, "/v2.6/else"), -400);
    assert_string_equal(status, "Not Implemented: Use /keys or /notifications interfaces");
    assert_int_equal(match(&agent, KL_HTTP_PUT, "/v2.6/"), -405);
    assert_string_equal(status, "Method is not supported");
    /* app default */
    assert_int_equal(match(&agent, KL_HTTP_PUT, "/whatever"), -405);
    assert_string_equal(status, "Method is not supported");
    assert_int_equal(match(&agent, KL_HTTP_POST, "/"), -400);
    assert_int_equal(match(&agent, KL_HTTP_POST, "/version"), -405);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_router_py_versions),
        cmocka_unit_test(test_router_py_errors),
        cmocka_unit_test(test_router_args),
        cmocka_unit_test(test_router_agent_versions),
        cmocka_unit_test(test_router_agent_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
