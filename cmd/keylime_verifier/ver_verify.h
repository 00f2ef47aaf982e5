/* ver_verify: GET /verify/identity and POST /verify/evidence without the
 * HTTP layer. The route handlers (ver_api_verify_identity and
 * ver_api_verify_evidence, declared in verifier.h) only read the request
 * and send the reply; the tests call these. */
#ifndef KL_VER_VERIFY_H
#define KL_VER_VERIFY_H

#include <jansson.h>

#include "verifier.h"

/* The query of GET /verify/identity (borrowed; NULL: absent). */
typedef struct {
    const char *agent_uuid;
    const char *quote;
    const char *nonce;
    const char *hash_alg;
} ver_identity_query;

/* Checks an identity quote of an agent this verifier holds (upstream's
 * VerifyIdentityHandler.get); fills *r (zeroed by the caller; r->results
 * is owned by r and consumed by ver_reply_send). */
void ver_verify_identity(ver_ctx *ctx, const ver_identity_query *q, ver_reply *r);

/* Checks one-shot evidence, body being the request's JSON object
 * (borrowed), as upstream's VerifyEvidenceHandler.post; fills *r likewise. */
void ver_verify_evidence(ver_ctx *ctx, json_t *body, ver_reply *r);

#endif
