/* keylime_registrar: internal interfaces shared by the registrar's files.
 *
 * main.c           arguments, start-up, event loop, signals
 * reg_config.c     registrar.conf option table and TLS file resolution
 * reg_store.c      the registrarmain table (one row per agent)
 * reg_register.c   POST agents/{id}: validation and the credential challenge
 * reg_api.c        routes, activation, listing, reading, deleting, /version
 *
 * Handlers compute a reg_reply (status code, status text, results) from
 * plain inputs, so tests and fuzz targets drive them without a socket;
 * reg_api.c turns requests into those calls and replies into HTTP.
 */
#ifndef KL_REGISTRAR_H
#define KL_REGISTRAR_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "config/config.h"
#include "db/db.h"
#include "http/router.h"
#include "util/kl_buf.h"

typedef struct {
    kl_config_meta meta;
    char *ip;
    long long port;
    long long tls_port;
    char *tls_dir;
    char *server_key;
    char *server_key_password;
    char *server_cert;
    kl_strlist cert_subject_alternative_names;
    char *trusted_client_ca;
    char *database_url;
    bool auto_migrate_db;
    long long max_upload_size;
    char *tpm_identity;
    char *malformed_cert_action;
    char *authorization_provider;
} reg_config;

extern const kl_config_spec reg_config_spec;

/* TLS files after resolving tls_dir / "default" (owned strings). */
typedef struct {
    char *dir;
    char *cert;
    char *key;
    char **client_cas; /* trusted_client_ca: one or more PEM files */
    size_t n_client_cas;
} reg_tls_paths;

KL_MUST_CHECK kl_rc reg_tls_resolve(reg_tls_paths *out, const reg_config *c, const char *work_dir);
void reg_tls_paths_free(reg_tls_paths *p);

/* What a handler answers. status points at a static string or into buf. */
typedef struct {
    int code;
    const char *status;
    char buf[512];
    json_t *results; /* owned; NULL = {} */
} reg_reply;

void reg_reply_set(reg_reply *r, int code, const char *fmt, ...) KL_PRINTF(3, 4);

typedef struct {
    const reg_config *cfg;
    kl_db *db;
} reg_ctx;

/* --- store --- */
typedef struct {
    char *agent_id;
    char *key;       /* b64 of the challenge */
    char *aik_tpm;   /* b64 TPM2B_PUBLIC */
    char *ek_tpm;    /* b64 TPM2B_PUBLIC or NULL */
    char *ekcert;    /* b64 DER or NULL */
    char *mtls_cert; /* PEM, "disabled" or NULL */
    char *ip;        /* or NULL */
    int64_t port;    /* -1: NULL */
    bool active;
    int64_t regcount;
} reg_record;

void reg_record_free(reg_record *r);
KL_MUST_CHECK kl_rc reg_store_migrate(kl_db *db);
/* *found false (and *r zeroed) when there is no such agent. */
KL_MUST_CHECK kl_rc reg_store_get(kl_db *db, const char *agent_id, reg_record *r, bool *found);
/* Inserts (exists false) or replaces (exists true) the whole record.
 * KL_EEXIST when an insert meets a concurrent one. */
KL_MUST_CHECK kl_rc reg_store_put(kl_db *db, const reg_record *r, bool exists);
KL_MUST_CHECK kl_rc reg_store_set_active(kl_db *db, const char *agent_id);
KL_MUST_CHECK kl_rc reg_store_delete(kl_db *db, const char *agent_id, bool *found);
/* A JSON array of every agent id, in id order (new reference). */
KL_MUST_CHECK kl_rc reg_store_ids(kl_db *db, json_t **out);

/* --- handlers --- */
/* POST /v2/agents/{id} (agent_id from the path) or /v2/agents (from the
 * body: agent_id NULL). */
void reg_register(reg_ctx *ctx, const char *agent_id, kl_bytes body, reg_reply *out);
void reg_activate(reg_ctx *ctx, const char *agent_id, kl_bytes body, reg_reply *out);
void reg_show(reg_ctx *ctx, const char *agent_id, reg_reply *out);
void reg_list(reg_ctx *ctx, reg_reply *out);
void reg_delete(reg_ctx *ctx, const char *agent_id, reg_reply *out);
void reg_version(reg_reply *out);

/* The registrar's route table (PY dialect, versions 2.0..2.6). */
extern const kl_router reg_router;

#endif
