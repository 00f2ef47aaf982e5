/* router_tables: realistic route tables (upstream registrar, Rust agent)
 * shared by tests/http/test_router.c and fuzz/fuzz_router.c. */
#ifndef KL_TEST_ROUTER_TABLES_H
#define KL_TEST_ROUTER_TABLES_H

#include "http/router.h"

static void
noop(kl_http_req *req, const kl_route_match *m, void *payload)
{
    (void)req;
    (void)m;
    (void)payload;
}

/* Upstream registrar (web/registrar_server.py). */
static const kl_route reg_routes[] = {
    {KL_HTTP_GET, "version", false, noop, 0},
    {KL_HTTP_GET, "agents action=list_registrations", true, noop, KL_ROUTE_ADMIN},
    {KL_HTTP_GET, "agents/* action=read_registration", true, noop, KL_ROUTE_ADMIN},
    {KL_HTTP_DELETE, "agents/* action=delete_registration", true, noop, KL_ROUTE_ADMIN},
    {KL_HTTP_POST, "agents", true, noop, 0},
    {KL_HTTP_POST, "agents/* major=2", true, noop, 0},
    {KL_HTTP_POST, "agents/*/activate", true, noop, 0},
    {KL_HTTP_PUT, "agents/*/activate major=2", true, noop, 0},
    {KL_HTTP_PUT, "agents/* major=2", true, noop, 0},
    {KL_HTTP_GET, " major=3", true, noop, 0},
    /* more shapes for the fuzzer */
    {KL_HTTP_GET, "versions", false, noop, 0},
    {KL_HTTP_PUT, "agents/*/reactivate", true, noop, KL_ROUTE_ADMIN},
    {KL_HTTP_GET, "allowlists/*/*/*/*/*", true, noop, 0},
};
static const char *const py_versions[] = {"2.0", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "3.0"};
static const kl_router py = {KL_ROUTER_PY, py_versions, 8, reg_routes,
                             sizeof(reg_routes) / sizeof(reg_routes[0])};

/* Rust agent (keylime-agent/src/api.rs and the *_handler.rs files). */
static const kl_route agent_routes[] = {
    {KL_HTTP_GET, "version", false, noop, 0},
    {KL_HTTP_GET, "agent/info since=2.2", true, noop, 0},
    {KL_HTTP_GET, "keys/pubkey", true, noop, 0},
    {KL_HTTP_GET, "keys/verify", true, noop, 0},
    {KL_HTTP_POST, "keys/ukey", true, noop, 0},
    {KL_HTTP_POST, "keys/vkey", true, noop, 0},
    {KL_HTTP_GET, "quotes/identity", true, noop, 0},
    {KL_HTTP_GET, "quotes/integrity", true, noop, 0},
    {KL_HTTP_POST, "notifications/revocation", true, noop, 0},
};
static const char *const agent_versions[] = {"2.1", "2.2", "2.3", "2.4", "2.5", "2.6"};
static const kl_router agent = {KL_ROUTER_AGENT, agent_versions, 6, agent_routes,
                                sizeof(agent_routes) / sizeof(agent_routes[0])};

#endif
