/* keylime_agent: internal interfaces shared by the agent's files.
 *
 * main.c             arguments, start-up order, event loop, signals
 * agent_config.c     agent.conf (TOML) option table and derived paths
 * agent_identity.c   TPM: EK, AK (cached in agent_data.json), UUID
 * agent_keys.c       payload (NK) RSA key, mTLS key + self-signed cert
 * agent_register.c   registration and activation at the registrar
 * agent_api.c        REST routes, /version, agent/info, keys/pubkey
 * agent_quotes.c     quotes/identity, quotes/integrity, IMA list reading
 * agent_ukey.c       keys/ukey, keys/vkey, keys/verify
 * agent_payload.c    secure directory, payload decryption, unzip, autorun
 * agent_revocation.c notifications/revocation and revocation actions
 * agent_exec.c       running scripts (argv only) with their output logged
 * agent_privs.c      dropping root to run_as
 *
 * Handlers compute an agent_reply from plain inputs so that tests and fuzz
 * targets can drive them without sockets or a TPM where possible.
 */
#ifndef KL_AGENT_H
#define KL_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>
#include <jansson.h>

#include "config/config.h"
#include "crypto/hash.h"
#include "crypto/privkey.h"
#include "http/router.h"
#include "payload/uvstore.h"
#include "util/kl_buf.h"

typedef struct {
    kl_config_meta meta;
    char *version;
    char *api_versions;
    char *uuid;
    char *ip;
    long long port;
    char *contact_ip;
    long long contact_port;
    char *registrar_ip;
    long long registrar_port;
    bool enable_agent_mtls;
    char *keylime_dir;
    char *server_key;
    char *server_key_password;
    char *server_cert;
    char *payload_key;
    char *payload_key_password;
    kl_strlist trusted_client_ca;
    char *enc_keyname;
    char *dec_payload_file;
    char *secure_size;
    bool extract_payload_zip;
    char *revocation_actions_dir;
    char *revocation_cert;
    kl_strlist revocation_actions;
    char *payload_script;
    bool enable_insecure_payload;
    bool allow_payload_revocation_actions;
    char *tpm_hash_alg;
    char *tpm_encryption_alg;
    char *tpm_signing_alg;
    char *ek_handle;
    bool enable_iak_idevid;
    char *run_as;
    char *agent_data_path;
    char *ima_ml_path;
    char *measuredboot_ml_path;
    char *tcti; /* ours: TCTI string; "" = $TCTI, else device:/dev/tpmrm0 */
} agent_config;

extern const kl_config_spec agent_config_spec;

/* Paths after "default" and keylime_dir are applied (owned). */
typedef struct {
    char *dir;          /* keylime_dir ($KEYLIME_DIR wins) */
    char *server_key, *server_cert, *payload_key;
    char **client_cas;
    size_t n_client_cas;
    char *secure;       /* <dir>/secure */
    char *unzipped;     /* <dir>/secure/unzipped */
    char *revocation_cert;
    char *agent_data;
    char *ima_ml, *mb_ml;
} agent_paths;

KL_MUST_CHECK kl_rc agent_paths_resolve(agent_paths *p, const agent_config *c);
void agent_paths_free(agent_paths *p);
/* The enabled API versions ("2.1".."2.6" filtered by api_versions), oldest
 * first; KL_EINVAL when none remains. */
KL_MUST_CHECK kl_rc agent_api_versions(kl_strlist *out, const char *setting);

struct kl_tpmdev;
struct kl_tpmdev_key;

/* Everything the running agent holds. */
typedef struct {
    const agent_config *cfg;
    const agent_paths *paths;
    struct event_base *base;
    char uuid[96];
    kl_strlist versions;         /* enabled API versions */
    /* TPM */
    struct kl_tpmdev *tpm;
    struct kl_tpmdev_key *ek, *ak;
    kl_buf ek_pub, ak_pub;       /* TPM2B_PUBLIC */
    kl_buf ekcert_pem;           /* EK cert (+ chain) as PEM, empty if none */
    kl_hash_alg hash;            /* tpm_hash_alg */
    char enc_name[16];           /* rsa2048, ecc256, ... */
    char sign_name[16];          /* rsassa, ecdsa, ... */
    /* keys */
    kl_privkey *nk;              /* payload key */
    kl_buf nk_pem;               /* its public PEM, exactly as sent and bound to PCR 16 */
    uint8_t pcr16[64];           /* expected PCR 16 after binding */
    kl_buf mtls_cert_pem;
    /* bootstrap key and payload */
    kl_uvstore *uv;
    bool payload_ran;
    kl_buf mb_b64;               /* the boot log, base64, read once (it does not change) */
    /* IMA reading position cache: entry index -> byte offset */
    uint64_t ima_entry_cache, ima_offset_cache;
} agent_ctx;

typedef struct {
    int code;
    const char *status;
    char buf[384];
    json_t *results; /* owned; NULL = {} */
    kl_buf raw;      /* if raw.len: results as serialised JSON instead */
    bool null_results;
} agent_reply;

void agent_reply_init(agent_reply *r);
void agent_reply_free(agent_reply *r);
void agent_reply_set(agent_reply *r, int code, const char *fmt, ...) KL_PRINTF(3, 4);

/* --- identity, keys, registration --- */
KL_MUST_CHECK kl_rc agent_identity_init(agent_ctx *a);
void agent_identity_free(agent_ctx *a);
KL_MUST_CHECK kl_rc agent_keys_init(agent_ctx *a);
void agent_keys_free(agent_ctx *a);
KL_MUST_CHECK kl_rc agent_register(agent_ctx *a);

/* --- handlers --- */
typedef struct {
    const char *nonce, *mask, *partial, *ima_ml_entry; /* query values or NULL */
    const char *version;                               /* API version of the request */
} agent_quote_args;

void agent_quote_identity(agent_ctx *a, const agent_quote_args *q, agent_reply *out);
void agent_quote_integrity(agent_ctx *a, const agent_quote_args *q, agent_reply *out);
/* Query validation shared by both quotes (pure; fuzzed). */
bool agent_nonce_ok(const char *nonce, agent_reply *out);
bool agent_mask_parse(const char *mask, uint32_t *out, agent_reply *out_reply);
/* IMA: the text from entry `entry` (upstream's out-of-range rule) appended
 * to out; *used gets the entry actually used. */
KL_MUST_CHECK kl_rc agent_ima_read(agent_ctx *a, uint64_t entry, kl_buf *out, uint64_t *used);

void agent_ukey(agent_ctx *a, kl_bytes body, agent_reply *out);
void agent_vkey(agent_ctx *a, kl_bytes body, agent_reply *out);
void agent_verify(agent_ctx *a, const char *challenge, agent_reply *out);
void agent_revocation(agent_ctx *a, kl_bytes body, agent_reply *out);

/* --- payload, actions --- */
/* Decrypts and unpacks the payload of the accepted U, runs its script. */
void agent_payload_run(agent_ctx *a);
/* Prepares <dir>/secure (tmpfs when root, else a 0700 directory). */
KL_MUST_CHECK kl_rc agent_secure_dir(agent_ctx *a);
/* Runs argv[0] with argv, cwd dir, output logged line by line, waits at
 * most timeout_s; *status gets the exit status (-1: did not run/killed). */
KL_MUST_CHECK kl_rc agent_exec(const char *const *argv, const char *dir, unsigned timeout_s,
                               int *status);

/* --- privileges --- */
/* When root and run_as is set: gives `owned_dir` (the secure directory) to
 * that user, then switches to it for good. */
KL_MUST_CHECK kl_rc agent_drop_privileges(const char *run_as, const char *owned_dir);

extern const kl_router agent_router_template; /* versions filled in at start-up */

#endif
