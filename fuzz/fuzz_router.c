/* fuzz_router: method + path into kl_router_match, both dialects, with the
 * registrar's and the Rust agent's route tables (http/router.h).
 *
 * The first byte chooses the method; the rest is the path. Checks: a match
 * names a route of the table with the same method, its arguments are
 * non-empty strings inside the scratch buffer and the version is one the
 * router serves; a miss is one of the dialect's statuses with a text.
 */
#include "fuzz_util.h"
#include "../tests/http/router_tables.h"
#include "http/router.h"

static void
check(const kl_router *r, kl_http_method meth, const char *path)
{
    char buf[256];
    kl_route_match m;
    const char *status = NULL;
    int i = kl_router_match(r, meth, path, buf, sizeof(buf), &m, &status);

    FUZZ_CHECK(status != NULL);
    if (i >= 0) {
        FUZZ_CHECK((size_t)i < r->n_routes);
        FUZZ_CHECK(r->routes[i].method == meth);
        FUZZ_CHECK(m.n_args <= KL_ROUTE_MAX_ARGS);
        for (size_t a = 0; a < m.n_args; a++) {
            FUZZ_CHECK(m.args[a] >= buf && m.args[a] < buf + sizeof(buf));
            FUZZ_CHECK(m.args[a][0] != '\0');
        }
        FUZZ_CHECK(r->routes[i].version_scoped == (m.version[0] != '\0'));
        return;
    }
    if (r->style == KL_ROUTER_PY)
        FUZZ_CHECK(i == -404 || i == -405);
    else
        FUZZ_CHECK(i == -400 || i == -405);
    FUZZ_CHECK(status[0] != '\0');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *path;
    kl_http_method meth;

    if (size == 0)
        return 0;
    meth = (kl_http_method)(data[0] % (KL_HTTP_OTHER + 1));
    path = kl_strndup((const char *)data + 1, size - 1);
    if (path == NULL)
        return 0;
    check(&py, meth, path);
    check(&agent, meth, path);
    kl_free(path);
    return 0;
}
