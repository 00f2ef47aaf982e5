/* router: Keylime's versioned paths and the exact error answers of the
 * two upstream servers we stand in for.
 *
 * KL_ROUTER_PY (Python keylime/web/base):
 *  - server.py _make_versioned_routes: a route in version_scope(N) is
 *    registered under /vN and under /vX.Y for every X.Y of api_version
 *    VERSIONS whose major is N. Other prefixes match nothing.
 *  - route.py split_path: one leading and one trailing "/" are dropped;
 *    a ":param" segment captures one non-empty segment.
 *  - action_handler.py prepare(): no route for method+path -> "not_found"
 *    unless some route has that path -> "method_not_allowed"; a route that
 *    is not allow_insecure reached over http -> "https_required".
 *    default_controller.py answers these send_response(404, "Not Found"),
 *    (405, "Method Not Allowed") and (400, "Bad Request") with NO body.
 *  - action_handler.py _check_authorization(): a denied request gets 403
 *    with the JSON:API body {"errors": [{"status": "403", "title":
 *    "Forbidden", "detail": reason}]}; authorization/providers/simple.py
 *    gives the reason "Action <action> requires admin authentication (mTLS
 *    certificate)" for admin actions without a client certificate, and
 *    action_handler.py "Could not determine required permissions for this
 *    operation" when a route has no action.
 * KL_ROUTER_AGENT (rust-keylime keylime-agent/src):
 *  - main.rs: one scope /vX.Y per enabled version, GET /version, then the
 *    resource /v{major:\d+}.{minor:\d+}{tail}* answered by
 *    errors_handler.rs version_not_supported: 400 "API version not
 *    supported: v<M>.<m>"; anything else app_default: GET/POST 400 "Not
 *    Implemented: Use /2.1, /2.2 or /version interfaces" (sic: the list is
 *    "/" + each enabled version, without a 'v'), other methods 405 "Method
 *    is not supported".
 *  - api.rs api_default (inside a version scope, no sub-scope matched):
 *    GET 400 "Not Implemented: Use /agent, /keys, or /quotes interfaces",
 *    POST 400 "Not Implemented: Use /keys or /notifications interfaces",
 *    else 405 "Method is not supported".
 *  - keys_handler.rs, quotes_handler.rs, notifications_handler.rs,
 *    agent_handler.rs *_default: per-scope 400/405 texts (table below).
 *  - actix Resource: a known path with another method is 405 with no body.
 *  All agent answers with a text use JsonWrapper::error, i.e. the envelope
 *  {"code", "status", "results": {}}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/router.h"
#include "json/json.h"
#include "util/kl_buf.h"

#define MAX_TOKENS 32

/* The outcome of matching, with whether the answer has a body. */
typedef struct {
    int code;
    const char *status;
    bool envelope; /* agent texts: Keylime envelope; otherwise an empty body */
} route_err;

typedef struct {
    char *tok[MAX_TOKENS];
    size_t n;
} tokens;

/* Rust agent per-scope defaults (see the top of the file). */
static const struct {
    const char *scope;
    const char *get, *post, *other;
} agent_scopes[] = {
    {"keys", "URI not supported, only /pubkey and /verify are supported for GET in /keys interface",
     "URI not supported, only /ukey and /vkey are supported for POST in /keys interface",
     "Method is not supported in /keys interface"},
    {"quotes",
     "URI not supported, only /identity and /integrity are supported for GET in /quotes/ "
     "interface",
     NULL, "Method is not supported in /quotes/ interface"},
    {"notifications", NULL,
     "URI not supported, only /revocation is supported for POST in /notifications/ interface",
     "Method is not supported in /notifications/ interface"},
    {"agent", "URI not supported, only /info is supported for GET in /agent interface", NULL,
     "Method is not supported in /agent interface"},
};

/* Splits path (after its leading '/') in place; empty segments are kept. */
static bool
tokenize(char *path, tokens *t)
{
    char *p = path + 1, *slash;
    size_t len = strlen(path);

    t->n = 0;
    if (len > 1 && path[len - 1] == '/')
        path[len - 1] = '\0';
    if (*p == '\0')
        return true;
    for (;;) {
        if (t->n == MAX_TOKENS)
            return false;
        t->tok[t->n++] = p;
        slash = strchr(p, '/');
        if (slash == NULL)
            return true;
        *slash = '\0';
        p = slash + 1;
    }
}

/* Matches the '/'-separated pattern against toks; collects '*' tokens. */
static bool
pattern_match(const char *pat, char *const *toks, size_t n, kl_route_match *m)
{
    size_t i = 0, plen;

    m->n_args = 0;
    while (*pat != '\0' && *pat != ' ') {
        plen = strcspn(pat, "/ ");
        if (i == n || toks[i][0] == '\0')
            return false;
        if (plen == 1 && pat[0] == '*') {
            if (m->n_args < KL_ROUTE_MAX_ARGS)
                m->args[m->n_args++] = toks[i];
        } else if (strlen(toks[i]) != plen || memcmp(toks[i], pat, plen) != 0) {
            return false;
        }
        i++;
        pat += plen;
        if (*pat == '/')
            pat++;
    }
    return i == n;
}

/* The value of option `key` of a route pattern (see router.h) into out;
 * false if absent. */
static bool
pattern_opt(const char *pat, const char *key, char *out, size_t outlen)
{
    size_t klen = strlen(key);
    const char *p = strchr(pat, ' ');

    while (p != NULL) {
        size_t vlen;
        p += strspn(p, " ");
        vlen = strcspn(p, " ");
        if (vlen > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
            vlen -= klen + 1;
            if (vlen >= outlen)
                return false;
            memcpy(out, p + klen + 1, vlen);
            out[vlen] = '\0';
            return true;
        }
        p = strchr(p, ' ');
    }
    return false;
}

/* "2.6" -> 2, 6. False if s is not <digits>.<digits>. */
static bool
parse_version(const char *s, unsigned long *maj, unsigned long *min)
{
    char *end;

    if (*s < '0' || *s > '9')
        return false;
    *maj = strtoul(s, &end, 10);
    if (*end != '.' || end[1] < '0' || end[1] > '9')
        return false;
    *min = strtoul(end + 1, &end, 10);
    return *end == '\0';
}

static bool
version_at_least(const char *v, const char *min)
{
    unsigned long a, b, c, d;

    if (!parse_version(v, &a, &b) || !parse_version(min, &c, &d))
        return false;
    return a > c || (a == c && b >= d);
}

/* Is the first path token (without its 'v') a prefix under which route rt
 * is served? Sets m->version. */
static bool
version_ok(const kl_router *r, const kl_route *rt, const char *v, kl_route_match *m)
{
    unsigned long maj, min, only_major = 0;
    bool major_only = strchr(v, '.') == NULL;
    char opt[16], since[16];
    bool has_since = pattern_opt(rt->pattern, "since", since, sizeof(since));

    if (strlen(v) >= sizeof(m->version))
        return false;
    if (pattern_opt(rt->pattern, "major", opt, sizeof(opt)))
        only_major = strtoul(opt, NULL, 10);
    for (size_t i = 0; i < r->n_versions; i++) {
        const char *have = r->versions[i];
        if (!parse_version(have, &maj, &min) || (only_major != 0 && maj != only_major))
            continue;
        if (major_only && r->style == KL_ROUTER_PY) {
            char buf[24];
            snprintf(buf, sizeof(buf), "%lu", maj);
            if (strcmp(buf, v) != 0)
                continue;
        } else if (strcmp(have, v) != 0 || (has_since && !version_at_least(v, since))) {
            continue;
        }
        snprintf(m->version, sizeof(m->version), "%s", v);
        return true;
    }
    return false;
}

/* Does route rt serve this path? */
static bool
route_path_match(const kl_router *r, const kl_route *rt, const tokens *t, kl_route_match *m)
{
    m->version[0] = '\0';
    if (!rt->version_scoped)
        return pattern_match(rt->pattern, t->tok, t->n, m);
    if (t->n == 0 || t->tok[0][0] != 'v' || !version_ok(r, rt, t->tok[0] + 1, m))
        return false;
    return pattern_match(rt->pattern, t->tok + 1, t->n - 1, m);
}

/* Is s the first token of a scoped route served at version v? */
static bool
agent_scope_exists(const kl_router *r, const char *v, const char *s)
{
    size_t n = strlen(s);

    for (size_t i = 0; i < r->n_routes; i++) {
        const kl_route *rt = &r->routes[i];
        char since[16];
        if (!rt->version_scoped || strncmp(rt->pattern, s, n) != 0 ||
            (rt->pattern[n] != '/' && rt->pattern[n] != '\0' && rt->pattern[n] != ' '))
            continue;
        if (!pattern_opt(rt->pattern, "since", since, sizeof(since)) ||
            version_at_least(v, since))
            return true;
    }
    return false;
}

static bool
agent_version_enabled(const kl_router *r, const char *v)
{
    for (size_t i = 0; i < r->n_versions; i++) {
        if (strcmp(r->versions[i], v) == 0)
            return true;
    }
    return false;
}

static route_err
agent_text(kl_http_method method, const char *get, const char *post, const char *other)
{
    if (method == KL_HTTP_GET && get != NULL)
        return (route_err){400, get, true};
    if (method == KL_HTTP_POST && post != NULL)
        return (route_err){400, post, true};
    return (route_err){405, other, true};
}

/* "Not Implemented: Use /2.1, /2.2 or /version interfaces", built
 * per distinct version list into a static buffer (routers are static). */
static const char *
agent_app_default_text(const kl_router *r)
{
    static char text[512];
    size_t off;

    off = (size_t)snprintf(text, sizeof(text), "Not Implemented: Use ");
    for (size_t i = 0; i < r->n_versions && off < sizeof(text); i++)
        off += (size_t)snprintf(text + off, sizeof(text) - off, "%s/%s", i ? ", " : "",
                                r->versions[i]);
    if (off < sizeof(text))
        snprintf(text + off, sizeof(text) - off, " or /version interfaces");
    return text;
}

static route_err
agent_error(const kl_router *r, kl_http_method method, const tokens *t)
{
    static char unsupported[64];
    unsigned long maj, min;
    const char *v = t->n > 0 && t->tok[0][0] == 'v' ? t->tok[0] + 1 : NULL;
    char *end;

    if (v != NULL && agent_version_enabled(r, v)) {
        for (size_t i = 0; t->n > 1 && i < sizeof(agent_scopes) / sizeof(agent_scopes[0]); i++) {
            if (strcmp(t->tok[1], agent_scopes[i].scope) == 0 &&
                agent_scope_exists(r, v, agent_scopes[i].scope))
                return agent_text(method, agent_scopes[i].get, agent_scopes[i].post,
                                  agent_scopes[i].other);
        }
        return agent_text(method, "Not Implemented: Use /agent, /keys, or /quotes interfaces",
                          "Not Implemented: Use /keys or /notifications interfaces",
                          "Method is not supported");
    }
    /* /v{major:\d+}.{minor:\d+}{tail}* */
    if (v != NULL && *v >= '0' && *v <= '9') {
        maj = strtoul(v, &end, 10);
        if (*end == '.' && end[1] >= '0' && end[1] <= '9' && end - v < 10) {
            min = strtoul(end + 1, &end, 10);
            snprintf(unsupported, sizeof(unsupported), "API version not supported: v%lu.%lu",
                     maj, min);
            return (route_err){400, unsupported, true};
        }
    }
    return agent_text(method, agent_app_default_text(r), agent_app_default_text(r),
                      "Method is not supported");
}

static int
match_full(const kl_router *r, kl_http_method method, const char *path, char *buf, size_t buflen,
           kl_route_match *m, route_err *err)
{
    tokens t;
    bool path_known = false, deep;
    kl_route_match scratch;

    memset(m, 0, sizeof(*m));
    if (path == NULL || path[0] != '/' || strlen(path) >= buflen) {
        *err = (route_err){r->style == KL_ROUTER_PY ? 404 : 400,
                           r->style == KL_ROUTER_PY ? "Not Found" : "Bad Request", false};
        return -err->code;
    }
    memcpy(buf, path, strlen(path) + 1);
    /* a path deeper than MAX_TOKENS matches no route */
    deep = !tokenize(buf, &t);
    for (size_t i = 0; !deep && i < r->n_routes; i++) {
        const kl_route *rt = &r->routes[i];
        if (!route_path_match(r, rt, &t, &scratch))
            continue;
        path_known = true;
        if (rt->method == method) {
            *m = scratch;
            return (int)i;
        }
    }
    if (path_known)
        *err = (route_err){405, "Method Not Allowed", false};
    else if (r->style == KL_ROUTER_PY)
        *err = (route_err){404, "Not Found", false};
    else
        *err = agent_error(r, method, &t);
    return -err->code;
}

int
kl_router_match(const kl_router *r, kl_http_method method, const char *path, char *buf,
                size_t buflen, kl_route_match *m, const char **status_out)
{
    route_err err = {0, NULL, false};
    int rc = match_full(r, method, path, buf, buflen, m, &err);

    if (status_out != NULL)
        *status_out = rc >= 0 ? "Success" : err.status;
    return rc;
}

/* 403 as upstream's authorization layer writes it (JSON:API errors). */
static void
reply_forbidden(kl_http_req *req, const kl_route *rt)
{
    kl_buf b, detail;
    char action[64];
    kl_rc rc;

    kl_buf_init(&b, 1024);
    kl_buf_init(&detail, 512);
    if (pattern_opt(rt->pattern, "action", action, sizeof(action)))
        rc = kl_buf_printf(&detail, "Action %s requires admin authentication (mTLS certificate)",
                           action);
    else
        rc = kl_buf_append_str(&detail,
                               "Could not determine required permissions for this operation");
    if (rc == KL_OK)
        rc = kl_buf_append_str(&b, "{\"errors\": [{\"status\": \"403\", \"title\": "
                                   "\"Forbidden\", \"detail\": ");
    if (rc == KL_OK)
        rc = kl_json_write_string(&b, kl_buf_bytes(&detail));
    if (rc == KL_OK)
        rc = kl_buf_append_str(&b, "}]}");
    if (rc != KL_OK)
        kl_buf_reset(&b);
    kl_http_reply(req, 403, "application/json", kl_buf_bytes(&b));
    kl_buf_free(&b);
    kl_buf_free(&detail);
}

void
kl_router_dispatch(const kl_router *r, kl_http_req *req, void *payload)
{
    char buf[2048];
    kl_route_match m;
    route_err err = {0, NULL, false};
    int i = match_full(r, kl_http_req_method(req), kl_http_req_path(req), buf, sizeof(buf), &m,
                       &err);
    const kl_route *rt;

    if (i < 0) {
        if (err.envelope)
            kl_http_reply_json(req, err.code, err.status, NULL);
        else
            kl_http_reply(req, err.code, NULL, KL_BYTES(NULL, 0));
        return;
    }
    rt = &r->routes[i];
    if (rt->flags & KL_ROUTE_ADMIN) {
        if (!kl_http_req_is_tls(req)) {
            /* default_controller.py https_required */
            kl_http_reply(req, 400, NULL, KL_BYTES(NULL, 0));
            return;
        }
        if (kl_http_req_peer_cert(req) == NULL) {
            reply_forbidden(req, rt);
            return;
        }
    }
    rt->fn(req, &m, payload);
}
