/* reg_store: the registrarmain table, named and shaped as upstream's
 * (agent_id primary key; keys as base64 text, certificates as text). */
#include <string.h>

#include "registrar.h"
#include "util/kl_alloc.h"

static const kl_db_migration reg_migrations[] = {
    {1, "CREATE TABLE IF NOT EXISTS registrarmain ("
        " agent_id VARCHAR(80) NOT NULL PRIMARY KEY,"
        " key VARCHAR(45),"
        " aik_tpm TEXT,"
        " ek_tpm TEXT,"
        " ekcert TEXT,"
        " iak_tpm TEXT,"
        " iak_cert TEXT,"
        " idevid_tpm TEXT,"
        " idevid_cert TEXT,"
        " mtls_cert TEXT,"
        " ip VARCHAR(255),"
        " port INTEGER,"
        " active INTEGER NOT NULL DEFAULT 0,"
        " regcount INTEGER NOT NULL DEFAULT 0,"
        " virtual INTEGER NOT NULL DEFAULT 0,"
        " provider_keys TEXT)"},
};

kl_rc
reg_store_migrate(kl_db *db)
{
    return kl_db_migrate(db, "registrar", reg_migrations,
                         sizeof(reg_migrations) / sizeof(reg_migrations[0]));
}

void
reg_record_free(reg_record *r)
{
    kl_free(r->agent_id);
    kl_free(r->key);
    kl_free(r->aik_tpm);
    kl_free(r->ek_tpm);
    kl_free(r->ekcert);
    kl_free(r->mtls_cert);
    kl_free(r->ip);
    memset(r, 0, sizeof(*r));
}

static kl_rc
dup_col(char **out, const kl_db_rows *rows, size_t col)
{
    const char *v = kl_db_rows_get(rows, 0, col);

    *out = NULL;
    if (!v)
        return KL_OK;
    *out = kl_strdup(v);
    return *out ? KL_OK : kl_err_set(KL_ENOMEM, "out of memory");
}

static kl_rc
record_from_row(reg_record *r, const kl_db_rows *rows)
{
    char **cols[] = {&r->agent_id, &r->key, &r->aik_tpm, &r->ek_tpm,
                     &r->ekcert, &r->mtls_cert, &r->ip};
    int64_t v;
    kl_rc rc = KL_OK;

    for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]) && rc == KL_OK; i++)
        rc = dup_col(cols[i], rows, i);
    r->port = kl_db_rows_int(rows, 0, 7, &v) ? v : -1;
    r->active = kl_db_rows_int(rows, 0, 8, &v) && v != 0;
    r->regcount = kl_db_rows_int(rows, 0, 9, &v) ? v : 0;
    return rc;
}

kl_rc
reg_store_get(kl_db *db, const char *agent_id, reg_record *r, bool *found)
{
    kl_db_val p[] = {KL_DB_S(agent_id)};
    kl_db_rows *rows = NULL;
    kl_rc rc;

    memset(r, 0, sizeof(*r));
    *found = false;
    rc = kl_db_query(db, &rows,
                     "SELECT agent_id, key, aik_tpm, ek_tpm, ekcert, mtls_cert, ip, port,"
                     " active, regcount FROM registrarmain WHERE agent_id = ?",
                     p, 1);
    if (rc != KL_OK)
        return rc;
    if (kl_db_rows_count(rows) == 1) {
        *found = true;
        rc = record_from_row(r, rows);
        if (rc != KL_OK)
            reg_record_free(r);
    }
    kl_db_rows_free(rows);
    return rc;
}

kl_rc
reg_store_put(kl_db *db, const reg_record *r, bool exists)
{
    kl_db_val p[] = {
        KL_DB_S(r->key),    KL_DB_S(r->aik_tpm),  KL_DB_S(r->ek_tpm),
        KL_DB_S(r->ekcert), KL_DB_S(r->mtls_cert), KL_DB_S(r->ip),
        r->port >= 0 ? KL_DB_I(r->port) : KL_DB_NUL,
        KL_DB_I(r->active ? 1 : 0), KL_DB_I(r->regcount), KL_DB_S(r->agent_id),
    };

    if (exists)
        return kl_db_exec(db,
                          "UPDATE registrarmain SET key = ?, aik_tpm = ?, ek_tpm = ?, ekcert = ?,"
                          " mtls_cert = ?, ip = ?, port = ?, active = ?, regcount = ?"
                          " WHERE agent_id = ?",
                          p, sizeof(p) / sizeof(p[0]), NULL);
    return kl_db_exec(db,
                      "INSERT INTO registrarmain (key, aik_tpm, ek_tpm, ekcert, mtls_cert, ip,"
                      " port, active, regcount, agent_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      p, sizeof(p) / sizeof(p[0]), NULL);
}

kl_rc
reg_store_set_active(kl_db *db, const char *agent_id)
{
    kl_db_val p[] = {KL_DB_S(agent_id)};

    return kl_db_exec(db, "UPDATE registrarmain SET active = 1 WHERE agent_id = ?", p, 1, NULL);
}

kl_rc
reg_store_delete(kl_db *db, const char *agent_id, bool *found)
{
    kl_db_val p[] = {KL_DB_S(agent_id)};
    uint64_t n = 0;
    kl_rc rc;

    rc = kl_db_exec(db, "DELETE FROM registrarmain WHERE agent_id = ?", p, 1, &n);
    *found = n > 0;
    return rc;
}

kl_rc
reg_store_ids(kl_db *db, json_t **out)
{
    kl_db_rows *rows = NULL;
    json_t *ids = NULL;
    kl_rc rc;

    *out = NULL;
    rc = kl_db_query(db, &rows, "SELECT agent_id FROM registrarmain ORDER BY agent_id", NULL, 0);
    if (rc != KL_OK)
        return rc;
    ids = json_array();
    for (size_t i = 0; ids && i < kl_db_rows_count(rows); i++) {
        const char *id = kl_db_rows_get(rows, i, 0);

        if (id && json_array_append_new(ids, json_string(id)) != 0) {
            json_decref(ids);
            ids = NULL;
        }
    }
    kl_db_rows_free(rows);
    if (!ids)
        return kl_err_set(KL_ENOMEM, "out of memory");
    *out = ids;
    return KL_OK;
}
