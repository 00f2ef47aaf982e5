/* http_test_util: certificates made with OpenSSL for the HTTP tests, and
 * small helpers to drive one event loop from a test. */
#ifndef KL_HTTP_TEST_UTIL_H
#define KL_HTTP_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "util/kl_buf.h"

/* Files written into dir (a fresh temp directory):
 *   ca.pem, server.pem + server.key (signed by ca, SAN DNS "nowhere.invalid"
 *   only, so that a host name check would fail), client.pem + client.key
 *   (CN "admin-client", signed by ca), other-ca.pem, other-client.pem +
 *   other-client.key (signed by other-ca), self.pem + self.key (self-signed,
 *   CN "agent-self"). */
typedef struct {
    char dir[64];
    char ca[128], server[128], server_key[128], client[128], client_key[128];
    char other_ca[128], other_client[128], other_client_key[128];
    char self[128], self_key[128];
    char *self_pem; /* contents of self.pem (kl_free) */
} test_certs;

bool test_certs_make(test_certs *c);
void test_certs_remove(test_certs *c);

/* Runs the loop until *flag is true or ms elapsed; returns *flag. */
bool test_pump_until(struct event_base *base, const bool *flag, unsigned ms);

/* Connects to 127.0.0.1:port, writes data (all of it, unless trickle_ms
 * > 0: then one byte every trickle_ms), and collects what comes back into
 * out until the peer closes or ms elapse. Returns true if the peer closed. */
bool test_raw_exchange(struct event_base *base, uint16_t port, const char *data, size_t len,
                       unsigned trickle_ms, kl_buf *out, unsigned ms);

#endif
