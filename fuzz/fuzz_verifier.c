/* fuzz_verifier: the verifier's handlers of untrusted input
 * (cmd/keylime_verifier) without the HTTP layer. The low two bits of the
 * first byte pick what the rest is:
 *   0  the tenant's POST /agents/{id} body (ver_agent_from_post), on a new
 *      in-memory SQLite context each time, so inputs do not see each other
 *   1  a POST /verify/evidence body (ver_verify_evidence)
 *   2  a GET /verify/identity query: agent_uuid, quote, nonce and hash_alg
 *      separated by '\n' (a missing field is an absent parameter)
 *   3  the same without agent_uuid: the query is for the agent added at
 *      start-up from a fixed valid body (the AK of tests/data/evidence,
 *      the key of tests/data/tpm/swtpm as its cached public key)
 * Bodies are read as ver_body_object does. Checks: no crash or leak; the
 * answer is one of 200, 201, 400, 401, 404, 409, 500 and never 500 (no
 * allocation or database failure here); a POST refused leaves no agent
 * row; an agent created means code 200 afterwards and exactly one agent
 * (in memory and in the database); identity answers {"valid": 0 or 1}.
 */
#include <string.h>

#include "fuzz_tpm_common.h"
#include "json/json.h"
#include "ver_verify.h"

#define AGENT_ID "d432fbb3-d2f1-4a97-9ef7-75bd81c00000"
#define POST_ID "d432fbb3-d2f1-4a97-9ef7-75bd81c00001"

/* tests/data/evidence/ak.b64 (= tests/data/tpm/swtpm/ak.pub) */
static const char ak_b64[] =
    "ARgAAQALAAUAcgAAABAAFAALCAAAAAAAAQDbm0LB1knTGIi/4/32vSPxVJzk/u+Rn6EM3NtnCMQ9XQyJJYOxbbxtqTiCM"
    "2dOqIKj/9AUzkQZy2VcIwHoYYq4uORrdNx0zsGK4NeL3WjJs/i4qlmt0JXW459MApDxvknwIpI8xd4F0JQk1OAriseGww9"
    "YFIexsB+9YlL5aJXsTwHuPAQLnSKl35+D1O9gT66k3SLlKOT7/QHnVnlZVCrPd7+/gdb/Weguku1tTFRDYrUURgeglHM6N"
    "znUu3LzrLCD+0x1FR0sTZ2acpkKHrcMwg76Hc1Y4wXM7qQP4LAp49AxkFkc54HhXk0hcfWR/A2wi/"
    "OwfW/8xvLzQa8x3giN";

/* tests/data/tpm/swtpm/payload-public.pem (bound to PCR 16 of its quotes) */
static const char pubkey_pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAt0Rs80ekjjo5Y90D9nlM\n"
    "1GsuX03Ml0JSlVEMAKYV8ZgJMgpGQWILL6+VPDJsBUX+W/Cz2zJMo4qEUci4AL8N\n"
    "GkUh5Z/n9kgvvPegOd1YnG8MIr++eK3K4MgsFleQzwQbWqUKvbGmmBRfB9iXmDVL\n"
    "FcyDZXrzmzIK7Ki5hEAHbowsx2zv4thUwCZST884iXweRO0ZH81ZR6KDeLiu691Q\n"
    "fHog/poVvnNt7GqXA/TQGbw5ByCdAlNS33/A17Ecn12W9JF/vzD2z4Qkm/5ogM6s\n"
    "tGOcfvk8eNaM/GhCDqvOUbO1FUs7anwL57t445GK3x3/GHRIOupri1uv+jkndZKQ\n"
    "OwIDAQAB\n"
    "-----END PUBLIC KEY-----\n";

static ver_config cfg;
static ver_ctx id_ctx; /* holds AGENT_ID; also answers /verify/evidence */

static void
base_config(void)
{
    static char *agent_only[] = {"agent"};

    cfg.uuid = "default";
    cfg.ip = "127.0.0.1";
    cfg.port = 8881;
    cfg.mode = "pull";
    cfg.durable_attestation_import = "";
    cfg.measured_boot_policy_name = "accept-all";
    cfg.measured_boot_evaluate = "once";
    cfg.webhook_url = "";
    cfg.enabled_revocation_notifications.items = agent_only;
    cfg.enabled_revocation_notifications.n = 1;
    cfg.enable_agent_mtls = true;
    cfg.max_upload_size = 1 << 20;
    cfg.quote_interval = 2;
    cfg.database_url = "sqlite://";
    cfg.auto_migrate_db = true;
}

static void
ctx_open(ver_ctx *ctx)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->cfg = &cfg;
    ctx->work_dir = "/nonexistent";
    FUZZ_CHECK(kl_mb_engine_find("accept-all", &ctx->mb_engine) == KL_OK);
    FUZZ_CHECK(ver_policies_new(&ctx->policies) == KL_OK);
    FUZZ_CHECK(ver_store_open(ctx) == KL_OK);
}

static void
drop(ver_agent *a, void *arg)
{
    (void)arg;
    ver_agent_free(a);
}

static void
ctx_close(ver_ctx *ctx)
{
    ver_table_each(&ctx->agents, drop, NULL);
    kl_free(ctx->agents.buckets);
    ver_policies_free(ctx->policies);
    kl_db_close(ctx->db);
    memset(ctx, 0, sizeof(*ctx));
}

static void
cleanup(void)
{
    ctx_close(&id_ctx);
}

static void
check_code(const ver_reply *r)
{
    static const int codes[] = {200, 201, 400, 401, 404, 409, 500};
    bool known = false;

    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        known |= r->code == codes[i];
    FUZZ_CHECK(known && r->status != NULL);
    FUZZ_CHECK(r->code != 500); /* no allocation or database failure here */
}

/* A JSON object, else *r is a 400 (ver_body_object's checks, which needs
 * a kl_http_req). */
static json_t *
body_object(kl_bytes body, ver_reply *r)
{
    json_t *j = NULL;

    if (body.len && kl_json_parse(body, "request body", &j) == KL_OK && json_is_object(j))
        return j;
    json_decref(j);
    ver_reply_set(r, 400, "Exception error: the body must be a JSON object");
    return NULL;
}

static json_t *
valid_body(void)
{
    return json_pack("{s:n, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:[sss], s:[ss], s:[ss], s:s, "
                     "s:s, s:s, s:n, s:s, s:s, s:s}",
                     "v", "cloudagent_ip", "127.0.0.1", "cloudagent_port", 9002, "tpm_policy",
                     "{\"mask\": \"0x400\"}", "runtime_policy", "", "runtime_policy_key", "",
                     "metadata", "{}", "ima_sign_verification_keys", "", "accept_tpm_hash_algs",
                     "sha512", "sha384", "sha256", "accept_tpm_encryption_algs", "ecc", "rsa",
                     "accept_tpm_signing_algs", "ecschnorr", "rsassa", "ak_tpm", ak_b64,
                     "mtls_cert", "-----BEGIN CERTIFICATE-----\n", "revocation_key", "",
                     "mb_policy", "mb_policy_name", "", "supported_version", "2.6",
                     "runtime_policy_name", "");
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    ver_reply r = {0};
    ver_agent *a = NULL;
    json_t *b = valid_body();

    (void)argc;
    (void)argv;
    fuzz_tpm_quiet();
    base_config();
    ctx_open(&id_ctx);
    FUZZ_CHECK(b != NULL);
    ver_agent_from_post(&id_ctx, AGENT_ID, b, &a, &r);
    json_decref(b);
    FUZZ_CHECK(a != NULL && r.code == 0);
    FUZZ_CHECK(kl_buf_append(&a->pubkey, pubkey_pem, sizeof(pubkey_pem) - 1) == KL_OK);
    FUZZ_CHECK(ver_table_put(&id_ctx.agents, a) == KL_OK);
    atexit(cleanup);
    return 0;
}

static size_t
agent_rows(ver_ctx *ctx, const char *id)
{
    bool exists = false;

    FUZZ_CHECK(ver_store_count_agent(ctx, id, &exists) == KL_OK);
    return exists;
}

static void
run_post(kl_bytes body)
{
    ver_reply r = {0};
    ver_agent *a = NULL;
    ver_ctx ctx;
    json_t *j;

    ctx_open(&ctx);
    j = body_object(body, &r);
    if (j) {
        ver_agent_from_post(&ctx, POST_ID, j, &a, &r);
        json_decref(j);
    }
    if (a) {
        FUZZ_CHECK(r.code == 0 && a->ak && a->rt && a->mb && !strcmp(a->id, POST_ID));
        FUZZ_CHECK(ver_table_put(&ctx.agents, a) == KL_OK);
        ver_reply_set(&r, 200, "Success");
        FUZZ_CHECK(ctx.agents.count == 1 && ver_table_get(&ctx.agents, POST_ID) == a);
        FUZZ_CHECK(agent_rows(&ctx, POST_ID) == 1);
    } else {
        FUZZ_CHECK(r.code != 200 && agent_rows(&ctx, POST_ID) == 0);
        FUZZ_CHECK(ctx.agents.count == 0);
    }
    check_code(&r);
    json_decref(r.results);
    ctx_close(&ctx);
}

static void
run_evidence(kl_bytes body)
{
    ver_reply r = {0};
    json_t *j = body_object(body, &r);

    if (j) {
        ver_verify_evidence(&id_ctx, j, &r);
        json_decref(j);
    }
    check_code(&r);
    if (r.code == 200)
        FUZZ_CHECK(json_is_boolean(json_object_get(r.results, "valid")) &&
                   json_is_array(json_object_get(r.results, "failures")));
    json_decref(r.results);
}

/* Splits text (a NUL-terminated copy) at '\n' into at most n fields. */
static void
split_fields(char *text, const char **fields, size_t n)
{
    for (size_t i = 0; i < n && text; i++) {
        char *nl = strchr(text, '\n');

        fields[i] = text;
        if (nl)
            *nl++ = 0;
        text = nl;
    }
}

static void
run_identity(kl_bytes query, bool fixed_agent)
{
    const char *f[4] = {NULL, NULL, NULL, NULL};
    ver_identity_query q;
    ver_reply r = {0};
    char *text = kl_calloc(1, query.len + 1);

    FUZZ_CHECK(text != NULL);
    if (query.len)
        memcpy(text, query.ptr, query.len);
    if (fixed_agent) {
        f[0] = AGENT_ID;
        split_fields(text, f + 1, 3);
    } else {
        split_fields(text, f, 4);
    }
    q = (ver_identity_query){f[0], f[1], f[2], f[3]};
    ver_verify_identity(&id_ctx, &q, &r);
    check_code(&r);
    if (r.code == 200) {
        json_int_t valid = json_integer_value(json_object_get(r.results, "valid"));

        FUZZ_CHECK(valid == 0 || valid == 1);
        FUZZ_CHECK(valid == 1 || json_is_string(json_object_get(r.results, "reason")));
    }
    json_decref(r.results);
    kl_free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kl_bytes rest = fuzz_input(data + (size > 0), size ? size - 1 : 0);

    switch (size ? data[0] & 3 : 0) {
    case 0:
        run_post(rest);
        break;
    case 1:
        run_evidence(rest);
        break;
    default:
        run_identity(rest, (data[0] & 3) == 3);
        break;
    }
    /* the identity agent is untouched */
    FUZZ_CHECK(id_ctx.agents.count == 1 && ver_table_get(&id_ctx.agents, AGENT_ID) != NULL);
    return 0;
}
