/* router: Keylime's versioned REST paths, two dialects.
 *
 * KL_ROUTER_PY (registrar, verifier; upstream Python servers): a route is
 * served under /v<major>/ and under /v<major>.<minor>/ for every listed
 * version of that major ("2.0".."2.6"); any other version, /v1..., and
 * unknown paths are 404 (upstream's answers, PROTOCOL.md section 1.3). A
 * method not declared for an existing path is 405.
 * KL_ROUTER_AGENT (agent; Rust pull agent): only /v<X.Y>/ for the exact
 * enabled versions; another /v<M>.<m>/ is 400 "API version not supported:
 * v<M>.<m>"; anything else 400 or 405 with the Rust agent's "Not
 * Implemented: Use /v2.1, ... or /version interfaces" status.
 * Unscoped routes (GET /version) are declared with version_scoped = false.
 *
 * Patterns are '/'-separated tokens after the version prefix; '*' matches
 * exactly one non-empty token, which the handler reads from
 * kl_route_match.args. A trailing '/' in the request is ignored
 * ("/v2/agents/" == "/v2/agents").
 * Routes flagged KL_ROUTE_ADMIN need a verified client certificate
 * (kl_http_req_peer_cert): a request over plain HTTP is refused 400 "Bad
 * Request" (upstream registrar), over TLS without a certificate 403, as
 * upstream's simple authorization provider answers.
 * Bodies (router.c cites the upstream code): PY 400/404/405 have an empty
 * body, as upstream's DefaultController; the 403 is upstream's JSON:API
 * {"errors": [{"status": "403", "title": "Forbidden", "detail": "Action
 * <action> requires admin authentication (mTLS certificate)"}]}; the
 * agent's texts come in the envelope, its bare 405 (known path, other
 * method; actix) with an empty body. Note the Rust text really is "Not
 * Implemented: Use /2.1, /2.2 or /version interfaces" (no 'v').
 */
#ifndef KL_ROUTER_H
#define KL_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "http/http_server.h"

#define KL_ROUTE_MAX_ARGS 4

#define KL_ROUTE_ADMIN 0x1u /* verified client certificate required */

typedef enum { KL_ROUTER_PY = 0, KL_ROUTER_AGENT } kl_router_style;

typedef struct {
    char version[8];                    /* "2.6", "2" (PY major-only), "" unscoped */
    const char *args[KL_ROUTE_MAX_ARGS]; /* the tokens matched by '*', borrowed */
    size_t n_args;
} kl_route_match;

typedef void (*kl_route_fn)(kl_http_req *req, const kl_route_match *m, void *payload);

typedef struct {
    kl_http_method method;
    /* e.g. "agents/{*}/activate" written with a bare star; no leading slash.
     * Options may follow after a space, as key=value words:
     *   action=<name>  upstream's authorization action, named in the 403
     *                  answer of a KL_ROUTE_ADMIN route ("list_registrations")
     *   since=<X.Y>    served only from this API version on ("2.2")
     *   major=<N>      PY: only under /vN/ and /vN.x/ (default: every major)
     * e.g. "agents/{*} action=read_registration major=2". */
    const char *pattern;
    bool version_scoped; /* false: served at /<pattern> without a version */
    kl_route_fn fn;
    unsigned flags;
} kl_route;

typedef struct {
    kl_router_style style;
    const char *const *versions; /* enabled API versions, oldest first ("2.1", ...) */
    size_t n_versions;
    const kl_route *routes;
    size_t n_routes;
} kl_router;

/* Finds the route for req and calls it with payload, or answers the
 * dialect's 400/403/404/405 itself. Usable directly as the body of a
 * kl_http_handler. */
void kl_router_dispatch(const kl_router *r, kl_http_req *req, void *payload);

/* The pure part, for tests and fuzzing: which route (index into routes)
 * serves method+path, filling *m (args point into the scratch buffer
 * `buf` of `buflen` bytes). Returns the route index, or -(HTTP status)
 * with *status_out set to the answer's status text (static). */
int kl_router_match(const kl_router *r, kl_http_method method, const char *path, char *buf,
                    size_t buflen, kl_route_match *m, const char **status_out);

#endif
