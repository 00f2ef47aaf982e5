/* ver_store: the verifier's tables and its batched writer.
 *
 * verifiermain holds one row per agent, with upstream's column names;
 * policies are referenced by name (ima_policy, mb_policy). The poll loop
 * never waits for the database: a changed agent is marked dirty and every
 * dirty agent is written on the next flush (a timer), all in one
 * transaction. Adding and deleting agents write at once (the API answers
 * only after the row is there or gone), after flushing what is pending so
 * that writes stay in order.
 */
#define KL_LOGMODULE "verifier"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "crypto/hash.h"
#include "util/kl_alloc.h"
#include "util/kl_hex.h"
#include "util/kl_log.h"
#include "verifier.h"

#define FLUSH_MS 200

static const kl_db_migration ver_migrations[] = {
    {1, "CREATE TABLE IF NOT EXISTS allowlists ("
        " name VARCHAR(255) NOT NULL PRIMARY KEY,"
        " checksum VARCHAR(128),"
        " generator INTEGER,"
        " tpm_policy TEXT,"
        " ima_policy TEXT);"
        "CREATE TABLE IF NOT EXISTS mbpolicies ("
        " name VARCHAR(255) NOT NULL PRIMARY KEY,"
        " mb_policy TEXT);"
        "CREATE TABLE IF NOT EXISTS verifiermain ("
        " agent_id VARCHAR(80) NOT NULL PRIMARY KEY,"
        " v VARCHAR(45), ip VARCHAR(255), port INTEGER,"
        " operational_state INTEGER, public_key TEXT, tpm_policy TEXT, meta_data TEXT,"
        " ima_sign_verification_keys TEXT, revocation_key TEXT,"
        " accept_tpm_hash_algs TEXT, accept_tpm_encryption_algs TEXT,"
        " accept_tpm_signing_algs TEXT, hash_alg VARCHAR(10), enc_alg VARCHAR(10),"
        " sign_alg VARCHAR(10), verifier_id VARCHAR(80), verifier_ip VARCHAR(255),"
        " verifier_port INTEGER, severity_level INTEGER, last_event_id VARCHAR(200),"
        " attestation_count INTEGER, last_received_quote INTEGER,"
        " last_successful_attestation INTEGER, tpm_clockinfo TEXT, mtls_cert TEXT,"
        " ak_tpm TEXT, supported_version VARCHAR(20), boottime INTEGER, pcr10 TEXT,"
        " next_ima_ml_entry INTEGER, learned_ima_keyrings TEXT,"
        " ima_policy VARCHAR(255) REFERENCES allowlists(name),"
        " mb_policy VARCHAR(255) REFERENCES mbpolicies(name));"
        "CREATE INDEX IF NOT EXISTS verifiermain_verifier_id ON verifiermain (verifier_id)"},
};

/* The columns a load reads, in this order (see agent_from_row). */
#define AGENT_COLS                                                                                 \
    "agent_id, v, ip, port, tpm_policy, meta_data, ima_sign_verification_keys, revocation_key, "  \
    "accept_tpm_hash_algs, accept_tpm_encryption_algs, accept_tpm_signing_algs, "                 \
    "supported_version, ak_tpm, mtls_cert, verifier_id, verifier_ip, verifier_port, "             \
    "operational_state, public_key, hash_alg, enc_alg, sign_alg, severity_level, "                \
    "last_event_id, attestation_count, last_received_quote, last_successful_attestation, "        \
    "tpm_clockinfo, boottime, pcr10, next_ima_ml_entry, ima_policy, mb_policy"

kl_rc
ver_store_open(ver_ctx *ctx)
{
    kl_db_rows *rows = NULL;
    kl_rc rc = kl_db_open(&ctx->db, ctx->cfg->database_url, ctx->work_dir, "cv_data.sqlite");

    if (rc != KL_OK)
        return rc;
    if (ctx->cfg->auto_migrate_db)
        return kl_db_migrate(ctx->db, "verifier", ver_migrations,
                             sizeof(ver_migrations) / sizeof(ver_migrations[0]));
    rc = kl_db_query(ctx->db, &rows, "SELECT COUNT(*) FROM verifiermain", NULL, 0);
    kl_db_rows_free(rows);
    if (rc != KL_OK)
        return kl_err_wrap(rc, "database has no verifiermain table and auto_migrate_db is off; "
                               "set auto_migrate_db = True once to create it: ");
    return KL_OK;
}

/* ------------------------------------------------------------ reading */

static kl_rc
dup(char **out, const char *v)
{
    *out = NULL;
    if (!v)
        return KL_OK;
    *out = kl_strdup(v);
    return *out ? KL_OK : kl_err_set(KL_ENOMEM, "out of memory");
}

static int64_t
int_or(const kl_db_rows *r, size_t row, size_t col, int64_t dflt)
{
    int64_t v;

    return kl_db_rows_int(r, row, col, &v) ? v : dflt;
}

static void
read_clock(kl_tpm_clock *c, const char *text)
{
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;

    if (json_is_object(j)) {
        c->clock = (uint64_t)json_integer_value(json_object_get(j, "clock"));
        c->reset_count = (uint32_t)json_integer_value(json_object_get(j, "resetCount"));
        c->restart_count = (uint32_t)json_integer_value(json_object_get(j, "restartCount"));
        c->safe = json_is_true(json_object_get(j, "safe")) ? 1 : 0;
    }
    json_decref(j);
}

/* The IMA position: next entry and PCR 10 after the entries before it. */
static void
read_ima(ver_agent *a, const kl_db_rows *r, size_t row)
{
    const char *hex = kl_db_rows_get(r, row, 29);
    size_t n = hex ? strlen(hex) : 0;

    a->st.ima.next_entry = (size_t)int_or(r, row, 30, 0);
    if (a->st.ima.next_entry == 0)
        return;
    /* no usable PCR: start over from entry 0 */
    if (n == 0 || n > 2 * sizeof(a->st.ima.pcr10) ||
        !kl_hex_decode(a->st.ima.pcr10, KL_BYTES(hex, n)))
        a->st.ima.next_entry = 0;
}

static kl_rc
read_strings(ver_agent *a, const kl_db_rows *r, size_t row)
{
    char **cols[] = {&a->id, &a->v, &a->ip, NULL, &a->tpm_policy_text, &a->meta_data,
                     &a->ima_keys_text, &a->revocation_key, &a->accept_text[0],
                     &a->accept_text[1], &a->accept_text[2], &a->supported_version,
                     &a->ak_tpm, &a->mtls_cert, &a->verifier_id, &a->verifier_ip};
    kl_rc rc = KL_OK;

    for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]) && rc == KL_OK; i++)
        if (cols[i])
            rc = dup(cols[i], kl_db_rows_get(r, row, i));
    return rc;
}

static void
read_alg(char *dst, size_t n, const char *v)
{
    snprintf(dst, n, "%s", v ? v : "");
}

static kl_rc
agent_from_row(ver_ctx *ctx, const kl_db_rows *r, size_t row, ver_agent **out)
{
    ver_agent *a = NULL;
    const char *pk;
    kl_rc rc;

    rc = ver_agent_new(ctx, &a);
    if (rc != KL_OK)
        return rc;
    rc = read_strings(a, r, row);
    if (rc != KL_OK)
        goto out;
    a->port = int_or(r, row, 3, 0);
    a->verifier_port = int_or(r, row, 16, 0);
    a->state = (int)int_or(r, row, 17, VER_START);
    pk = kl_db_rows_get(r, row, 18);
    if (pk && pk[0])
        rc = kl_buf_append(&a->pubkey, pk, strlen(pk));
    read_alg(a->hash_alg, sizeof(a->hash_alg), kl_db_rows_get(r, row, 19));
    read_alg(a->enc_alg, sizeof(a->enc_alg), kl_db_rows_get(r, row, 20));
    read_alg(a->sign_alg, sizeof(a->sign_alg), kl_db_rows_get(r, row, 21));
    a->severity = (int)int_or(r, row, 22, -1);
    if (rc == KL_OK)
        rc = dup(&a->last_event_id, kl_db_rows_get(r, row, 23));
    a->st.attestation_count = (uint64_t)int_or(r, row, 24, 0);
    a->last_received_quote = int_or(r, row, 25, 0);
    a->last_successful_attestation = int_or(r, row, 26, 0);
    read_clock(&a->st.clock, kl_db_rows_get(r, row, 27));
    a->st.boottime = int_or(r, row, 28, 0);
    read_ima(a, r, row);
    if (rc == KL_OK && kl_db_rows_get(r, row, 31))
        rc = ver_rtpolicy_find(ctx, kl_db_rows_get(r, row, 31), &a->rt);
    if (rc == KL_OK && kl_db_rows_get(r, row, 32))
        rc = ver_mbpolicy_find(ctx, kl_db_rows_get(r, row, 32), &a->mb);
    if (a->rt)
        a->rt->users++;
    if (a->mb)
        a->mb->users++;
    if (rc == KL_OK)
        rc = ver_agent_decode(a);
out:
    if (rc != KL_OK) {
        ver_agent_free(a);
        a = NULL;
    }
    *out = a;
    return rc;
}

kl_rc
ver_store_load_agents(ver_ctx *ctx)
{
    kl_db_val p[] = {KL_DB_S(ctx->cfg->uuid)};
    kl_db_rows *rows = NULL;
    ver_agent *a = NULL;
    kl_rc rc;

    rc = kl_db_query(ctx->db, &rows, "SELECT " AGENT_COLS " FROM verifiermain WHERE "
                     "verifier_id = ?", p, 1);
    for (size_t i = 0; rc == KL_OK && i < kl_db_rows_count(rows); i++) {
        rc = agent_from_row(ctx, rows, i, &a);
        if (rc != KL_OK) {
            /* one unreadable row must not keep every other agent down */
            LOG_ERR("agent %s: cannot load its stored state, not polling it: %s",
                    kl_db_rows_get(rows, i, 0), kl_err_msg());
            rc = KL_OK;
            continue;
        }
        rc = ver_table_put(&ctx->agents, a);
        if (rc != KL_OK)
            ver_agent_free(a);
    }
    kl_db_rows_free(rows);
    return rc;
}

/* ------------------------------------------------------------ writing */

/* The values the poll loop changes, in the order of UPDATE_SQL. */
#define UPDATE_SQL                                                                                 \
    "UPDATE verifiermain SET operational_state = ?, public_key = ?, hash_alg = ?, enc_alg = ?, "  \
    "sign_alg = ?, severity_level = ?, last_event_id = ?, attestation_count = ?, "                \
    "last_received_quote = ?, last_successful_attestation = ?, tpm_clockinfo = ?, "               \
    "boottime = ?, pcr10 = ?, next_ima_ml_entry = ?, supported_version = ? WHERE agent_id = ?"
#define N_UPDATE 16

typedef struct {
    char clock[160];
    char pcr10[2 * KL_HASH_MAX_SIZE + 1];
} row_scratch;

static void
state_values(const ver_agent *a, kl_db_val *p, row_scratch *s)
{
    kl_hash_alg alg;
    /* Learned keyrings are not stored: an agent that has some starts over
     * from entry 0 after a restart, so that they are learned again. */
    bool keep_ima = a->st.ima.next_entry > 0 && kl_ima_keyrings_count(a->st.learned) == 0 &&
                    kl_hash_from_name(KL_BYTES(a->hash_alg, strlen(a->hash_alg)), &alg);

    snprintf(s->clock, sizeof(s->clock),
             "{\"clock\": %" PRIu64 ", \"resetCount\": %u, \"restartCount\": %u, \"safe\": %s}",
             a->st.clock.clock, a->st.clock.reset_count, a->st.clock.restart_count,
             a->st.clock.safe ? "true" : "false");
    s->pcr10[0] = 0;
    if (keep_ima)
        kl_hex_encode(s->pcr10, a->st.ima.pcr10, kl_hash_size(alg));
    p[0] = KL_DB_I(a->state);
    p[1] = KL_DB_SN((const char *)a->pubkey.ptr ? (const char *)a->pubkey.ptr : "",
                    a->pubkey.len);
    p[2] = KL_DB_S(a->hash_alg);
    p[3] = KL_DB_S(a->enc_alg);
    p[4] = KL_DB_S(a->sign_alg);
    p[5] = a->severity >= 0 ? KL_DB_I(a->severity) : KL_DB_NUL;
    p[6] = KL_DB_S(a->last_event_id);
    p[7] = KL_DB_I((int64_t)a->st.attestation_count);
    p[8] = KL_DB_I(a->last_received_quote);
    p[9] = KL_DB_I(a->last_successful_attestation);
    p[10] = KL_DB_S(s->clock);
    p[11] = KL_DB_I(a->st.boottime);
    p[12] = keep_ima ? KL_DB_S(s->pcr10) : KL_DB_NUL;
    p[13] = KL_DB_I(keep_ima ? (int64_t)a->st.ima.next_entry : 0);
    p[14] = KL_DB_S(a->supported_version);
    p[15] = KL_DB_S(a->id);
}

kl_rc
ver_store_insert_agent(ver_ctx *ctx, ver_agent *a)
{
    kl_db_val p[21];
    kl_rc rc;

    ver_store_flush(ctx);
    p[0] = KL_DB_S(a->id);
    p[1] = KL_DB_S(a->v);
    p[2] = KL_DB_S(a->ip);
    p[3] = KL_DB_I(a->port);
    p[4] = KL_DB_S(a->tpm_policy_text);
    p[5] = KL_DB_S(a->meta_data);
    p[6] = KL_DB_S(a->ima_keys_text);
    p[7] = KL_DB_S(a->revocation_key);
    p[8] = KL_DB_S(a->accept_text[0]);
    p[9] = KL_DB_S(a->accept_text[1]);
    p[10] = KL_DB_S(a->accept_text[2]);
    p[11] = KL_DB_S(a->supported_version);
    p[12] = KL_DB_S(a->ak_tpm);
    p[13] = KL_DB_S(a->mtls_cert);
    p[14] = KL_DB_S(a->verifier_id);
    p[15] = KL_DB_S(a->verifier_ip);
    p[16] = KL_DB_I(a->verifier_port);
    p[17] = KL_DB_I(a->state);
    p[18] = KL_DB_S(a->rt ? a->rt->name : NULL);
    p[19] = KL_DB_S(a->mb ? a->mb->name : NULL);
    p[20] = KL_DB_I(0);
    rc = kl_db_exec(ctx->db,
                    "INSERT INTO verifiermain (agent_id, v, ip, port, tpm_policy, meta_data, "
                    "ima_sign_verification_keys, revocation_key, accept_tpm_hash_algs, "
                    "accept_tpm_encryption_algs, accept_tpm_signing_algs, supported_version, "
                    "ak_tpm, mtls_cert, verifier_id, verifier_ip, verifier_port, "
                    "operational_state, ima_policy, mb_policy, attestation_count) VALUES "
                    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    p, 21, NULL);
    return rc;
}

kl_rc
ver_store_delete_agent(ver_ctx *ctx, const char *id)
{
    kl_db_val p[] = {KL_DB_S(id)};
    kl_rc rc;

    ver_store_flush(ctx);
    rc = kl_db_begin(ctx->db);
    if (rc == KL_OK)
        rc = kl_db_exec(ctx->db, "DELETE FROM verifiermain WHERE agent_id = ?", p, 1, NULL);
    /* upstream drops the policies named after the agent with it, unless
     * another agent still uses them */
    if (rc == KL_OK)
        rc = kl_db_exec(ctx->db, "DELETE FROM allowlists WHERE name = ? AND NOT EXISTS "
                        "(SELECT 1 FROM verifiermain WHERE ima_policy = allowlists.name)",
                        p, 1, NULL);
    if (rc == KL_OK)
        rc = kl_db_exec(ctx->db, "DELETE FROM mbpolicies WHERE name = ? AND NOT EXISTS "
                        "(SELECT 1 FROM verifiermain WHERE mb_policy = mbpolicies.name)",
                        p, 1, NULL);
    if (rc == KL_OK)
        return kl_db_commit(ctx->db);
    kl_db_rollback(ctx->db);
    return rc;
}

static void
on_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    ver_store_flush(arg);
}

static void
arm_flush(ver_ctx *ctx)
{
    struct timeval tv = {0, FLUSH_MS * 1000};

    if (!ctx->flush_timer)
        ctx->flush_timer = evtimer_new(ctx->base, on_flush, ctx);
    if (ctx->flush_timer && !evtimer_pending(ctx->flush_timer, NULL))
        evtimer_add(ctx->flush_timer, &tv);
}

void
ver_store_dirty(ver_ctx *ctx, ver_agent *a)
{
    if (a->dirty)
        return;
    a->dirty = true;
    ctx->n_dirty++;
    arm_flush(ctx);
}

typedef struct {
    ver_ctx *ctx;
    kl_rc rc;
    size_t written;
} flush_state;

static void
flush_one(ver_agent *a, void *arg)
{
    flush_state *f = arg;
    kl_db_val p[N_UPDATE];
    row_scratch s;

    if (!a->dirty || f->rc != KL_OK)
        return;
    state_values(a, p, &s);
    f->rc = kl_db_exec(f->ctx->db, UPDATE_SQL, p, N_UPDATE, NULL);
    f->written++;
}

static void
clear_dirty(ver_agent *a, void *arg)
{
    (void)arg;
    a->dirty = false;
}

void
ver_store_flush(ver_ctx *ctx)
{
    flush_state f = {ctx, KL_OK, 0};

    if (ctx->n_dirty == 0)
        return;
    f.rc = kl_db_begin(ctx->db);
    if (f.rc == KL_OK)
        ver_table_each(&ctx->agents, flush_one, &f);
    if (f.rc == KL_OK)
        f.rc = kl_db_commit(ctx->db);
    else
        kl_db_rollback(ctx->db);
    if (f.rc != KL_OK) {
        /* keep them dirty: the next flush tries again */
        LOG_ERR("database write of %zu agents failed, retrying: %s", ctx->n_dirty,
                kl_err_msg());
        arm_flush(ctx);
        return;
    }
    ver_table_each(&ctx->agents, clear_dirty, NULL);
    ctx->n_dirty = 0;
    LOG_DEBUG("wrote %zu agents", f.written);
}

/* ------------------------------------------------------------ queries */

kl_rc
ver_store_agent_ids(ver_ctx *ctx, const char *verifier_id, json_t **out)
{
    kl_db_val p[] = {KL_DB_S(verifier_id)};
    kl_db_rows *rows = NULL;
    json_t *list = json_array();
    kl_rc rc;

    if (!list)
        return kl_err_set(KL_ENOMEM, "out of memory");
    if (verifier_id)
        rc = kl_db_query(ctx->db, &rows, "SELECT agent_id FROM verifiermain WHERE verifier_id = ?"
                         " ORDER BY agent_id", p, 1);
    else
        rc = kl_db_query(ctx->db, &rows, "SELECT agent_id FROM verifiermain ORDER BY agent_id",
                         NULL, 0);
    for (size_t i = 0; rc == KL_OK && i < kl_db_rows_count(rows); i++)
        if (json_array_append_new(list, json_pack("[s]", kl_db_rows_get(rows, i, 0))))
            rc = kl_err_set(KL_ENOMEM, "out of memory");
    kl_db_rows_free(rows);
    if (rc != KL_OK) {
        json_decref(list);
        list = NULL;
    }
    *out = list;
    return rc;
}

kl_rc
ver_store_count_agent(ver_ctx *ctx, const char *id, bool *exists)
{
    kl_db_val p[] = {KL_DB_S(id)};
    kl_db_rows *rows = NULL;
    kl_rc rc;

    rc = kl_db_query(ctx->db, &rows, "SELECT 1 FROM verifiermain WHERE agent_id = ?", p, 1);
    *exists = rc == KL_OK && kl_db_rows_count(rows) > 0;
    kl_db_rows_free(rows);
    return rc;
}
