/* keylime_verifier: internal interfaces shared by the verifier's files.
 *
 * main.c           arguments, start-up, event loop, signals
 * ver_config.c     verifier.conf option table, TLS files, severity set-up
 * ver_store.c      the tables (verifiermain, allowlists, mbpolicies) and
 *                  the batched writer (dirty agents flushed in one
 *                  transaction on a short timer, off the polling path)
 * ver_policy.c     named runtime and measured-boot policies, parsed once
 *                  and shared by checksum
 * ver_agent.c      one agent in memory: from the tenant's POST body, from
 *                  a database row, to the status object
 * ver_poll.c       the poll loop: quotes, V delivery, retries, states
 * ver_notify.c     revocation notifications (agent and webhook channels)
 * ver_api.c        routes; /agents handlers; /version
 * ver_api_policy.c /allowlists and /mbpolicies handlers
 * ver_verify.c     /verify/identity and /verify/evidence
 *
 * Everything runs on one event loop thread. Agents live in memory (a hash
 * table by id); the database is the durable copy, written in batches.
 */
#ifndef KL_VERIFIER_H
#define KL_VERIFIER_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>
#include <jansson.h>

#include "attest/attest.h"
#include "attest/severity.h"
#include "config/config.h"
#include "db/db.h"
#include "http/http_client.h"
#include "http/router.h"
#include "policy/mb_policy.h"
#include "policy/runtime_policy.h"
#include "util/kl_buf.h"

/* Operational states (PROTOCOL.md 6.1); the numbers are on the wire. */
enum {
    VER_REGISTERED = 0,
    VER_START = 1,
    VER_SAVED = 2,
    VER_GET_QUOTE = 3,
    VER_GET_QUOTE_RETRY = 4,
    VER_PROVIDE_V = 5,
    VER_PROVIDE_V_RETRY = 6,
    VER_FAILED = 7,
    VER_TERMINATED = 8,
    VER_INVALID_QUOTE = 9,
    VER_TENANT_FAILED = 10,
};

/* ---------------------------------------------------------------- config */

typedef struct {
    kl_config_meta meta;
    char *uuid;
    char *ip;
    long long port;
    bool enable_agent_mtls;
    char *tls_dir;
    char *server_key;
    char *server_key_password;
    char *server_cert;
    kl_strlist cert_subject_alternative_names;
    char *trusted_client_ca;
    char *client_key;
    char *client_key_password;
    char *client_cert;
    char *trusted_server_ca;
    char *authorization_provider;
    char *database_url;
    bool auto_migrate_db;
    bool exponential_backoff;
    double retry_interval;
    long long max_retries;
    double quote_interval;
    long long max_upload_size;
    double request_timeout;
    char *measured_boot_policy_name;
    kl_strlist measured_boot_imports;
    char *measured_boot_evaluate;
    char *severity_labels;
    char *severity_policy;
    bool ignore_tomtou_errors;
    bool require_allow_list_signatures;
    char *mode;
    char *durable_attestation_import;
    kl_strlist enabled_revocation_notifications;
    char *webhook_url;
} ver_config;

extern const kl_config_spec ver_config_spec;

/* TLS files after resolving tls_dir and "default" (owned strings). */
typedef struct {
    char *dir;
    char *server_cert, *server_key;
    char **client_cas; /* trusted_client_ca: one or more PEM files */
    size_t n_client_cas;
    char *client_cert, *client_key; /* presented to agents and webhooks */
    char *server_ca;                /* trusted_server_ca for the webhook, or NULL (all) */
} ver_tls_paths;

KL_MUST_CHECK kl_rc ver_tls_resolve(ver_tls_paths *out, const ver_config *c, const char *work);
void ver_tls_paths_free(ver_tls_paths *p);
/* Checks option values the loader cannot (mode, channels, engine). */
KL_MUST_CHECK kl_rc ver_config_check(const ver_config *c);

/* -------------------------------------------------------------- policies */

/* A named runtime policy (allowlists row). The parsed policy is loaded the
 * first time an agent needs it and shared by every name with the same
 * checksum. */
typedef struct ver_rtpolicy {
    char *name;
    char checksum[65];
    int64_t generator; /* -1: NULL */
    struct ver_parsed *parsed; /* NULL until needed (shared, see ver_policy.c) */
    unsigned users;            /* agents referencing it */
    struct ver_rtpolicy *next;
} ver_rtpolicy;

/* A named measured-boot policy (mbpolicies row); text NULL = none. */
typedef struct ver_mbpolicy {
    char *name;
    char *text;
    unsigned users;
    struct ver_mbpolicy *next;
} ver_mbpolicy;

typedef struct ver_policies ver_policies;

/* ---------------------------------------------------------------- agents */

typedef struct ver_ctx ver_ctx;

typedef struct ver_agent {
    char *id;
    /* what the tenant sent (persisted) */
    char *v; /* b64 or NULL */
    char *ip;
    int64_t port;
    char *tpm_policy_text;
    kl_tpm_policy *tpm_policy;
    char *mask; /* the "mask" string sent to the agent */
    char *meta_data;
    char *ima_keys_text; /* ima_sign_verification_keys */
    kl_ima_keyrings *tenant_keys; /* NULL: the policy's verification-keys */
    char *revocation_key;
    char *accept_text[3];       /* JSON lists as stored */
    char **accept[3];           /* hash, enc, sign; NULL-terminated */
    char *supported_version;
    char *ak_tpm;
    kl_tpm_public *ak;
    char *mtls_cert; /* PEM, "disabled" or NULL */
    char *verifier_id, *verifier_ip;
    int64_t verifier_port;
    ver_rtpolicy *rt;
    ver_mbpolicy *mb;
    /* attestation state (persisted) */
    int state;
    int severity; /* -1: none */
    char *last_event_id;
    kl_attest_state st;
    char hash_alg[16], enc_alg[16], sign_alg[16];
    int64_t last_received_quote, last_successful_attestation;
    kl_buf pubkey;
    /* run time only */
    kl_buf enc_v; /* b64 of V encrypted to pubkey, cached */
    bool provide_v;
    int retries;
    char nonce[21];
    struct event *timer;
    int action; /* what the timer does (ver_poll.c) */
    kl_http_call *call;
    bool dirty;
    bool gone; /* deleted while a callback may still hold it */
    ver_ctx *ctx;
    struct ver_agent *next; /* hash chain */
} ver_agent;

typedef struct {
    ver_agent **buckets;
    size_t n_buckets, count;
} ver_table;

ver_agent *ver_table_get(const ver_table *t, const char *id);
KL_MUST_CHECK kl_rc ver_table_put(ver_table *t, ver_agent *a);
void ver_table_remove(ver_table *t, ver_agent *a);
/* Calls fn for every agent (fn must not add or remove agents). */
void ver_table_each(const ver_table *t, void (*fn)(ver_agent *a, void *arg), void *arg);

/* ----------------------------------------------------------- the daemon */

struct ver_ctx {
    const ver_config *cfg;
    const char *work_dir;
    kl_db *db;
    struct event_base *base;
    kl_http_client *http;
    kl_tls_client_opts agent_tls; /* client cert; ca_pem set per agent */
    kl_tls_client_opts hook_tls;
    kl_severity *severity;
    const kl_mb_engine *mb_engine;
    ver_table agents;
    ver_policies *policies;
    struct event *flush_timer;
    size_t n_dirty;
    struct ver_note *notes; /* notifications in flight (ver_notify.c) */
    bool stopping;
    /* counters (logs, benchmarks) */
    uint64_t quotes_ok, quotes_failed;
};

/* What a handler answers; status points at a static string or into buf. */
typedef struct {
    int code;
    const char *status;
    char buf[512];
    json_t *results; /* owned; NULL = {} */
    bool empty_body; /* 204 */
} ver_reply;

void ver_reply_set(ver_reply *r, int code, const char *fmt, ...) KL_PRINTF(3, 4);

/* --- ver_agent.c --- */
/* An empty agent (state START, no severity). */
KL_MUST_CHECK kl_rc ver_agent_new(ver_ctx *ctx, ver_agent **out);
/* Builds an agent from the tenant's POST body (validated as upstream
 * does); *r is set for refusals (400/404/409), with *out NULL. */
void ver_agent_from_post(ver_ctx *ctx, const char *id, json_t *body, ver_agent **out,
                         ver_reply *r);
void ver_agent_free(ver_agent *a);
/* The status object of GET /agents/{id}. */
json_t *ver_agent_status(const ver_ctx *ctx, const ver_agent *a);
/* Decodes ak, tpm_policy, keyrings, accept lists from the stored texts. */
KL_MUST_CHECK kl_rc ver_agent_decode(ver_agent *a);

/* --- ver_store.c --- */
KL_MUST_CHECK kl_rc ver_store_open(ver_ctx *ctx);
/* Loads every agent of this verifier id (and the policies they use). */
KL_MUST_CHECK kl_rc ver_store_load_agents(ver_ctx *ctx);
KL_MUST_CHECK kl_rc ver_store_insert_agent(ver_ctx *ctx, ver_agent *a);
/* Deletes the row and the agent-named policies (upstream's rule). */
KL_MUST_CHECK kl_rc ver_store_delete_agent(ver_ctx *ctx, const char *id);
/* Marks the agent for the next batched write. */
void ver_store_dirty(ver_ctx *ctx, ver_agent *a);
/* Writes every dirty agent now, in one transaction. */
void ver_store_flush(ver_ctx *ctx);
/* Agent ids (all, or those of one verifier id) as [["id"], ...]. */
KL_MUST_CHECK kl_rc ver_store_agent_ids(ver_ctx *ctx, const char *verifier_id, json_t **out);
KL_MUST_CHECK kl_rc ver_store_count_agent(ver_ctx *ctx, const char *id, bool *exists);

/* --- ver_policy.c --- */
KL_MUST_CHECK kl_rc ver_policies_new(ver_policies **out);
void ver_policies_free(ver_policies *p);
/* Finds a named policy (loading its row when not in memory); NULL when
 * there is none. */
KL_MUST_CHECK kl_rc ver_rtpolicy_find(ver_ctx *ctx, const char *name, ver_rtpolicy **out);
KL_MUST_CHECK kl_rc ver_mbpolicy_find(ver_ctx *ctx, const char *name, ver_mbpolicy **out);
/* Validates a runtime policy text as upstream's POST does (JSON, schema,
 * signature with the b64 key, require_allow_list_signatures); *r set on a
 * refusal. Fills the checksum and generator for storing. */
bool ver_rtpolicy_validate(ver_ctx *ctx, kl_bytes text, const char *key_b64, char checksum[65],
                           int64_t *generator, ver_reply *r);
/* Inserts (update false) or replaces a named runtime policy. */
KL_MUST_CHECK kl_rc ver_rtpolicy_store(ver_ctx *ctx, const char *name, kl_bytes text,
                                       const char *tpm_policy, const char checksum[65],
                                       int64_t generator, bool update, ver_rtpolicy **out);
KL_MUST_CHECK kl_rc ver_mbpolicy_store(ver_ctx *ctx, const char *name, const char *text,
                                       bool update, ver_mbpolicy **out);
/* The parsed policy (parsed and cached on first use). */
KL_MUST_CHECK kl_rc ver_rtpolicy_parsed(ver_ctx *ctx, ver_rtpolicy *p,
                                        const kl_runtime_policy **out);
/* Deletes a named policy row (not in use) and forgets it. */
KL_MUST_CHECK kl_rc ver_rtpolicy_delete(ver_ctx *ctx, ver_rtpolicy *p);
KL_MUST_CHECK kl_rc ver_mbpolicy_delete(ver_ctx *ctx, ver_mbpolicy *p);
void ver_rtpolicy_release(ver_ctx *ctx, ver_rtpolicy *p);
void ver_mbpolicy_release(ver_ctx *ctx, ver_mbpolicy *p);
/* The id of an agent (of any verifier id) whose column (ima_policy or
 * mb_policy) names the policy, or NULL. Caller frees *agent_id. */
KL_MUST_CHECK kl_rc ver_policy_user(ver_ctx *ctx, const char *column, const char *name,
                                    char **agent_id);

/* --- ver_poll.c --- */
/* Starts (or restarts) polling from START: first quote now. */
void ver_poll_start(ver_ctx *ctx, ver_agent *a);
/* Stops polling (timer and request in flight). */
void ver_poll_stop(ver_ctx *ctx, ver_agent *a);
/* A quote with nothing in flight and no timer running? */
bool ver_poll_busy(const ver_agent *a);
/* Random 20 alphanumeric characters (upstream's random_password(20)). */
KL_MUST_CHECK kl_rc ver_nonce(char out[21]);

/* --- ver_notify.c --- */
/* Sends a revocation ("revocation" or "comm_error") for agent a on the
 * enabled channels; event NULL for none. */
void ver_notify(ver_ctx *ctx, ver_agent *a, const char *type, const kl_failure *event);
/* Drops the notifications still in flight (shutdown). */
void ver_notify_free_all(ver_ctx *ctx);
/* The signed envelope {"msg": ..., "signature": ...} (tests). */
KL_MUST_CHECK kl_rc ver_notify_message(kl_buf *out, const ver_agent *a, const char *type,
                                       const kl_failure *event, const char *labels_name);

/* --- ver_api.c, ver_api_policy.c, ver_verify.c --- */
extern const kl_router ver_router;
void ver_api_version(kl_http_req *req, const kl_route_match *m, void *payload);
void ver_api_allowlists(kl_http_req *req, const kl_route_match *m, void *payload);
void ver_api_mbpolicies(kl_http_req *req, const kl_route_match *m, void *payload);
void ver_api_verify_identity(kl_http_req *req, const kl_route_match *m, void *payload);
void ver_api_verify_evidence(kl_http_req *req, const kl_route_match *m, void *payload);
/* Sends a ver_reply (consumes r->results). */
void ver_reply_send(kl_http_req *req, ver_reply *r);
/* Parses a JSON object body; *r set (400) when it is not one. */
json_t *ver_body_object(kl_http_req *req, ver_reply *r);

#endif
