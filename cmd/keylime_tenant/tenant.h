/* keylime_tenant: internal interfaces shared by the tenant's files.
 *
 * The tenant is upstream's keylime_tenant (keylime/tenant.py) in C: the
 * same command line, the same requests to the registrar, the verifier and
 * the agent, and the same lines on standard output, so that scripts that
 * drive upstream's tenant keep working.
 *
 * main.c              start-up: arguments, tenant.conf, TLS, dispatch
 * tenant_args.c       the command line, parsed as Python's argparse does
 * tenant_usage.c      argparse's usage and help texts
 * tenant_config.c     tenant.conf option table; the TLS files
 * tenant_print.c      upstream's log lines, json.dumps and print() output
 * tenant_http.c       one request to the registrar, verifier or agent
 * tenant_version.c    API version negotiation
 * tenant_registrar.c  registrar data, regstatus, reglist, regdelete
 * tenant_verifier.c   the agent on the verifier: add, status, list, delete...
 * tenant_body.c       the body of POST /agents/{id}
 * tenant_agent.c      identity quote, U key, key derivation check
 * tenant_ek.c         EK certificate and ek_check_script
 * tenant_payload.c    K/U/V and the payload (-k/-p, -f, --cert)
 * tenant_policy.c     tpm_policy, runtime and measured-boot policies
 * tenant_policycmd.c  the runtime/mb policy commands
 * tenant_cmd.c        the command table, add and update
 *
 * Errors: a failure that upstream reports as a UserError (or another
 * exception) is a kl_rc with its message in kl_err_msg(); main prints it
 * as upstream's "ERROR - <message>" line and exits 1.
 */
#ifndef KL_TENANT_H
#define KL_TENANT_H

#include "config/config.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit statuses, as upstream's: argparse exits 2 on bad usage; the tenant
 * exits 1 on any failure. */
enum { TENANT_EXIT_OK = 0, TENANT_EXIT_FAIL = 1, TENANT_EXIT_USAGE = 2 };

#define TENANT_DEFAULT_UUID "d432fbb3-d2f1-4a97-9ef7-75bd81c00000"
#define TENANT_API_CURRENT "2.6"
/* The error detail of a failure already logged (upstream logs and exits 1
 * without another line, e.g. enforce_pcrs); main prints nothing more. */
#define TENANT_LOGGED "(already logged)"

/* ---- tenant.conf ---------------------------------------------------- */
typedef struct {
    kl_config_meta meta;
    char *verifier_ip;
    char *verifier_port; /* text: upstream sends it as given */
    char *registrar_ip;
    char *registrar_port;
    char *tls_dir;
    bool enable_agent_mtls;
    char *client_key;
    char *client_key_password;
    char *client_cert;
    char *trusted_server_ca;
    char *tpm_cert_store;
    long long max_payload_size;
    kl_strlist accept_tpm_hash_algs;
    kl_strlist accept_tpm_encryption_algs;
    kl_strlist accept_tpm_signing_algs;
    bool exponential_backoff;
    double retry_interval;
    long long max_retries;
    double request_timeout;
    bool require_ek_cert;
    char *ek_check_script;
    char *mb_refstate;
} tenant_config;

extern const kl_config_spec tenant_config_spec;

/* The client side of TLS as upstream's get_tls_options("tenant") makes it. */
typedef struct {
    char *cert;     /* client certificate path, NULL when not configured */
    char *key;      /* its key */
    char *password; /* NULL when empty */
    char **cas;     /* trusted_server_ca files */
    size_t n_cas;
    bool verify;   /* false for trusted_server_ca = all */
    bool enabled;  /* both the certificate and the key exist ("TLS is enabled.") */
    kl_buf ca_pem; /* the CA files' text */
} tenant_tls;

/* Resolves the files (logging upstream's lines about them) and reads the
 * CAs. Free with tenant_tls_free. */
KL_MUST_CHECK kl_rc tenant_tls_setup(tenant_tls *out, const tenant_config *c);
void tenant_tls_free(tenant_tls *t);

/* ---- the command line ----------------------------------------------- */
typedef struct {
    const char **items; /* borrowed from argv */
    size_t n;
} tenant_strs;

typedef struct {
    const char *command;
    bool push_model;
    const char *agent_ip, *agent_port, *registrar_ip, *registrar_port, *cv_agent_ip;
    const char *verifier_ip, *verifier_port, *verifier_id;
    bool verifier_check;
    const char *agent_uuid, *file, *ca_dir, *keyfile, *payload, *incl_dir;
    const char *allowlist, *runtime_policy;
    tenant_strs vkeys, vkey_sigs, vkey_sig_keys, vkey_urls, vkey_sig_urls, vkey_sig_url_keys;
    const char *mb_policy, *allowlist_url, *ima_exclude, *runtime_policy_checksum;
    const char *runtime_policy_sig_key, *runtime_policy_url, *tpm_policy;
    bool verify;
    const char *allowlist_name, *runtime_policy_name, *mb_policy_name;
    const char *agent_api_version, *supported_version;
} tenant_args;

/* What parsing decided. */
typedef enum {
    TENANT_ARGS_RUN = 0, /* go on with *out */
    TENANT_ARGS_HELP,    /* -h: the help was printed on stdout */
    TENANT_ARGS_USAGE,   /* the usage and "error: ..." were printed on err */
} tenant_args_result;

/* Parses argv as upstream's argparse parser does (abbreviated long
 * options, -xVALUE, --opt=value, "expected one argument", ambiguous
 * prefixes, "unrecognized arguments"), then upstream's get_opts_error
 * checks. Free with tenant_args_free. */
tenant_args_result tenant_args_parse(tenant_args *out, int argc, char **argv, FILE *help,
                                     FILE *err);
void tenant_args_free(tenant_args *a);

/* One option of the table, for the usage and help texts. */
typedef enum { TA_STORE = 0, TA_TRUE, TA_FALSE, TA_APPEND, TA_HELP } tenant_opt_kind;

typedef struct {
    const char *strings[3]; /* spellings, NULL-terminated; the first is used in usage */
    const char *metavar;    /* dest in upper case (argparse's default) */
    tenant_opt_kind kind;
    size_t offset; /* into tenant_args */
    const char *help;
} tenant_opt;

extern const tenant_opt tenant_opts[];
extern const size_t tenant_n_opts;

/* argparse's "usage: ..." (wrapped to the terminal width) and help. */
void tenant_usage_print(FILE *f);
void tenant_help_print(FILE *f);
/* The formatter's width: $COLUMNS, else the terminal's, else 80; minus 2. */
int tenant_usage_width(void);

/* ---- output --------------------------------------------------------- */
typedef enum { TL_DEBUG = 0, TL_INFO, TL_WARNING, TL_ERROR, TL_CRITICAL } tl_level;

/* "<date> - keylime.<logger> - <LEVEL> - <message>" on stdout, as
 * upstream's logging.conf prints it (DEBUG lines are dropped). */
void tl_log(const char *logger, tl_level level, const char *fmt, ...) KL_PRINTF(3, 4);
#define tl_info(...) tl_log("tenant", TL_INFO, __VA_ARGS__)
#define tl_warn(...) tl_log("tenant", TL_WARNING, __VA_ARGS__)
#define tl_error(...) tl_log("tenant", TL_ERROR, __VA_ARGS__)

/* Python's json.dumps(j) / str(j) (repr) as a new string; "null" / "None"
 * for NULL. Caller frees with kl_free. NULL only on ENOMEM. */
char *tl_dumps(const json_t *j);
char *tl_repr(const json_t *j);
/* print(j): repr and a newline on stdout. */
void tl_print_repr(const json_t *j);
/* str(float) of Python ("2.0", "0.5"). */
void tl_float(char *out, size_t n, double v);
/* upstream's state names ("Get Quote"); NULL for an unknown state. */
const char *tl_state_name(json_int_t state);
/* upstream keylime_logging.log_http_response: "Response code X: status"
 * at level, or an error line when body lacks results/code/status. */
void tl_http_response(const char *logger, tl_level level, const json_t *body);

/* ---- the tenant ------------------------------------------------------ */
/* The registrar's record of the agent (registrar_client.getData). */
typedef struct {
    json_t *record; /* {aik_tpm, regcount, ek_tpm, ip, port, mtls_cert, ekcert} in that order */
    const char *aik_tpm, *ek_tpm;
    const char *ekcert;    /* NULL for null */
    const char *mtls_cert; /* NULL for null */
    long long regcount;
} tenant_regdata;

/* What process_policy produces (upstream cli/policies.py). */
typedef struct {
    json_t *tpm_policy;               /* {"<pcr>": [...], ..., "mask": "0x..."} */
    char *mb_policy;                  /* JSON text, NULL for None */
    char *mb_policy_name;             /* "" when not given */
    char *runtime_policy_name;        /* "" */
    char *ima_sign_verification_keys; /* keyring JSON text or "" */
    char *runtime_policy;             /* b64 of the policy bytes, or "" */
    char *runtime_policy_key;         /* b64 of the key file, or "" */
} tenant_policy;

void tenant_policy_free(tenant_policy *p);

typedef struct tenant {
    const tenant_config *cfg;
    const tenant_args *args;
    tenant_tls tls;
    const char *agent_uuid;
    char *verifier_ip, *verifier_port, *verifier_id;
    char *registrar_ip, *registrar_port;
    char *agent_ip, *agent_port; /* NULL for None */
    bool agent_port_int;         /* the port came from the registrar as a number */
    bool verifier_port_int;      /* the port came from the verifier as a number */
    char *cv_agent_ip;
    bool agent_mtls; /* enable_agent_mtls, off when the registrar says "disabled" */
    char verifier_api[16], registrar_api[16], agent_api[16]; /* "" until negotiated */
    tenant_regdata reg;
    bool have_reg;
    tenant_policy pol;
    json_t *metadata;      /* {} or {"cert_serial", "subject"} */
    kl_buf revocation_key; /* PEM or empty (secret) */
    uint8_t k[32], u[32], v[32];
    size_t klen, ulen, vlen; /* 0: none */
    kl_buf payload;          /* the b64 ciphertext (text sent to the agent) */
    bool have_payload;
    char auth_tag[97];
    char nonce[21];
    char fid_agent[512], fid_verifier[512], fid_registrar[512];
} tenant;

/* Sets up *t for a run (copies of the config's addresses; nothing
 * contacted). Free with tenant_free. */
KL_MUST_CHECK kl_rc tenant_init(tenant *t, const tenant_config *cfg, const tenant_args *args);
void tenant_free(tenant *t);
/* upstream set_full_id_str: "Agent <id> (<ip>:<port>)", "Verifier <id>
 * (<ip>:<port>)", "Registrar (<ip>:<port>)". */
void tenant_set_fid(tenant *t);
/* The retry delay upstream's retry_time gives for try n. */
double tenant_retry_time(const tenant *t, unsigned n);
void tenant_sleep(double seconds);

/* A whole file; one that cannot be opened fails as Python's open() does:
 * "[Errno 2] No such file or directory: 'path'". */
KL_MUST_CHECK kl_rc tenant_read_file(const char *path, kl_buf *b);

/* ---- HTTP ------------------------------------------------------------ */
typedef enum { TP_VERIFIER = 0, TP_REGISTRAR, TP_AGENT } tenant_peer;

typedef struct {
    int status;   /* HTTP status */
    kl_buf body;  /* the body as received */
    json_t *json; /* the body parsed, NULL when it is not JSON */
} tenant_resp;

void tenant_resp_free(tenant_resp *r);
/* One request; path starts with '/'. KL_OK when an answer arrived (any
 * status); KL_EIO / KL_ETIMEOUT with the reason otherwise (upstream's
 * requests raises then). The agent is reached over mTLS when t->agent_mtls
 * and the registrar gave a certificate (trusted in memory), else over
 * plain HTTP. body.len == 0 sends no body (POST/PUT send an empty one). */
KL_MUST_CHECK kl_rc tenant_http(tenant *t, tenant_peer peer, const char *method, const char *path,
                                kl_bytes body, tenant_resp *out);
/* upstream _jsonify_response(raise_except=True): KL_EPARSE "Unable to
 * convert response to JSON format" when the body is not JSON. */
KL_MUST_CHECK kl_rc tenant_resp_json(const tenant_resp *r);
/* Whether the agent is reached over mTLS. */
bool tenant_agent_tls(const tenant *t);

/* ---- versions ---------------------------------------------------------- */
/* The highest version in both lists below 3.0 (packaging.version order);
 * *found false when none. remote: a JSON array of strings, or a string. */
void tenant_version_pick(char out[16], bool *found, const json_t *remote);
/* Python's repr of the tenant's versions: ['1.0', '2.0', ..., '2.6']. */
const char *tenant_versions_repr(void);
KL_MUST_CHECK kl_rc tenant_verifier_version(tenant *t);
KL_MUST_CHECK kl_rc tenant_registrar_version(tenant *t);
/* init_add's part: the agent's version (--agent-api-version, "1.0" without
 * an mtls_cert, GET /version on the agent, else 2.6). */
KL_MUST_CHECK kl_rc tenant_agent_version(tenant *t);

/* ---- registrar ------------------------------------------------------- */
/* registrar_client.getData: *found false (with upstream's log lines) when
 * the registrar has no usable record. */
KL_MUST_CHECK kl_rc tenant_reg_get(tenant *t, bool *found);
KL_MUST_CHECK kl_rc tenant_cmd_regstatus(tenant *t);
KL_MUST_CHECK kl_rc tenant_cmd_reglist(tenant *t);
KL_MUST_CHECK kl_rc tenant_cmd_regdelete(tenant *t);
void tenant_regdata_free(tenant_regdata *r);

/* ---- verifier --------------------------------------------------------- */
/* do_cvstatus: *code is the answer's "code"; *out (may be NULL) receives
 * the response with results re-keyed by the agent id. not_found_fail: a
 * 404 is an error. */
KL_MUST_CHECK kl_rc tenant_cvstatus(tenant *t, bool not_found_fail, json_int_t *code, json_t **out);
KL_MUST_CHECK kl_rc tenant_cvadd(tenant *t);
KL_MUST_CHECK kl_rc tenant_cvdelete(tenant *t, bool verifier_check);
KL_MUST_CHECK kl_rc tenant_cvstop(tenant *t);
KL_MUST_CHECK kl_rc tenant_cmd_cvlist(tenant *t);
KL_MUST_CHECK kl_rc tenant_cmd_bulkinfo(tenant *t);
KL_MUST_CHECK kl_rc tenant_cmd_reactivate(tenant *t, bool verifier_check);
KL_MUST_CHECK kl_rc tenant_cmd_status(tenant *t);
/* A request about the agent to the verifier: negotiates the version, then
 * METHOD /v{v}/agents/{id}{suffix}. */
KL_MUST_CHECK kl_rc tenant_agent_request(tenant *t, const char *method, const char *suffix,
                                         kl_bytes body, tenant_resp *out);
/* Takes verifier_ip, verifier_port and verifier_id from the verifier's
 * status object of the agent (reactivate, delete). */
KL_MUST_CHECK kl_rc tenant_take_verifier(tenant *t, const json_t *agent);
/* The body of POST /agents/{id} (upstream do_cvadd's dict, in its order).
 * New reference in *out. */
KL_MUST_CHECK kl_rc tenant_cvadd_body(const tenant *t, json_t **out);

/* ---- agent ------------------------------------------------------------ */
/* do_quote: the identity quote, its checks, then the U key (if any). */
KL_MUST_CHECK kl_rc tenant_quote(tenant *t);
/* do_verify: GET keys/verify until the HMAC matches (PUT stop on failure). */
KL_MUST_CHECK kl_rc tenant_verify(tenant *t);
/* upstream check_ek + ek_check_script, after a good quote. *ok false when
 * the EK does not pass (with upstream's warnings). */
KL_MUST_CHECK kl_rc tenant_ek_check(tenant *t, bool *ok);
/* Runs the script with argv {path} and env; *ok when it exits 0; its
 * output (stdout and stderr) is appended to out. */
KL_MUST_CHECK kl_rc tenant_run_script(const char *path, char *const *envp, const char *cwd,
                                      kl_buf *out, bool *ok);

/* ---- payload ---------------------------------------------------------- */
/* init_add's -k/-p, -f and --cert handling and the max_payload_size
 * check. Fills t->k/u/v, payload, metadata, revocation_key. */
KL_MUST_CHECK kl_rc tenant_payload_prepare(tenant *t);
/* -k: three base64 lines K, U, V. */
KL_MUST_CHECK kl_rc tenant_keyfile_read(tenant *t, const char *path);
/* K, V random, U = K xor V, payload = encryption of plain under K. */
KL_MUST_CHECK kl_rc tenant_payload_encrypt(tenant *t, kl_bytes plain);

/* ---- policies --------------------------------------------------------- */
/* upstream tpm_util.readPolicy: parses --tpm_policy text ("{}" when NULL)
 * into {"<pcr>": [lowercase...], ..., "mask": "0x.."}. */
KL_MUST_CHECK kl_rc tenant_tpm_policy_read(json_t **out, const char *text);
/* mask |= bits (hex text rewritten as Python's hex()). */
KL_MUST_CHECK kl_rc tenant_mask_or(json_t *tpm_policy, uint32_t bits);
/* upstream process_policy(args). */
KL_MUST_CHECK kl_rc tenant_policy_process(tenant *t);
KL_MUST_CHECK kl_rc tenant_cmd_policy(tenant *t, const char *command);
bool tenant_is_policy_command(const char *command);

/* ---- commands ---------------------------------------------------------- */
/* Runs args->command (after the start-up checks of main). */
KL_MUST_CHECK kl_rc tenant_run(tenant *t);
/* init_add: registrar data, versions, policies, payload. */
KL_MUST_CHECK kl_rc tenant_init_add(tenant *t);

#endif
