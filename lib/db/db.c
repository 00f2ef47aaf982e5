/* db: the public API. Checks arguments, keeps the transaction flag and
 * dispatches to the backend chosen by the URL (db_sqlite.c, db_pg.c).
 * Results are a flat array of owned cells, built by the backends through
 * kl_db_rows_new/kl_db_rows_push. */
#include "db/db.h"

#include "db/db_int.h"
#include "util/kl_alloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct kl_db_rows {
    size_t ncols;
    size_t ncells;
    size_t cap;
    char **cells; /* row-major; NULL for SQL NULL */
};

kl_rc
kl_db_open(kl_db **out, const char *url, const char *work_dir, const char *default_name)
{
    kl_db_url u;
    kl_db *db = NULL;
    kl_rc rc;

    memset(&u, 0, sizeof(u));
    if (out == NULL) {
        rc = kl_err_set(KL_EINVAL, "db: no output handle");
        goto out;
    }
    *out = NULL;
    rc = kl_db_url_parse(&u, url, work_dir, default_name);
    if (rc != KL_OK)
        goto out;
    db = kl_calloc(1, sizeof(*db));
    if (db == NULL) {
        rc = kl_err_set(KL_ENOMEM, "db: out of memory");
        goto out;
    }
    db->ops = u.engine == KL_DB_ENGINE_PG ? &kl_db_pg_ops : &kl_db_sqlite_ops;
    rc = db->ops->open(db, &u);
    if (rc != KL_OK)
        goto out;
    *out = db;
    db = NULL;
out:
    kl_db_close(db);
    kl_db_url_free(&u);
    return rc;
}

void
kl_db_close(kl_db *db)
{
    if (db == NULL)
        return;
    if (db->ops != NULL)
        db->ops->close(db);
    kl_free(db);
}

const char *
kl_db_engine(const kl_db *db)
{
    return db != NULL ? db->ops->engine : "none";
}

static kl_rc
check_call(const kl_db *db, const char *sql, const kl_db_val *params, size_t n)
{
    if (db == NULL || sql == NULL)
        return kl_err_set(KL_EINVAL, "db: no database handle or no SQL");
    if (n > 0 && params == NULL)
        return kl_err_set(KL_EINVAL, "db: %zu parameters announced but none given", n);
    for (size_t i = 0; i < n; i++) {
        if (params[i].type == KL_DB_TEXT && params[i].s == NULL)
            return kl_err_set(KL_EINVAL, "db: text parameter %zu is NULL (use KL_DB_NUL)", i + 1);
        if (params[i].type != KL_DB_NULL && params[i].type != KL_DB_INT &&
            params[i].type != KL_DB_TEXT)
            return kl_err_set(KL_EINVAL, "db: parameter %zu has an unknown type", i + 1);
    }
    return KL_OK;
}

kl_rc
kl_db_exec(kl_db *db, const char *sql, const kl_db_val *params, size_t n, uint64_t *changed)
{
    kl_rc rc;

    if (changed != NULL)
        *changed = 0;
    rc = check_call(db, sql, params, n);
    if (rc != KL_OK)
        return rc;
    return db->ops->exec(db, sql, params, n, changed);
}

kl_rc
kl_db_query(kl_db *db, kl_db_rows **out, const char *sql, const kl_db_val *params, size_t n)
{
    kl_db_rows *rows = NULL;
    kl_rc rc;

    if (out == NULL)
        return kl_err_set(KL_EINVAL, "db: no output for the query result");
    *out = NULL;
    rc = check_call(db, sql, params, n);
    if (rc != KL_OK)
        goto out;
    rc = kl_db_rows_new(&rows, 0);
    if (rc != KL_OK)
        goto out;
    rc = db->ops->query(db, rows, sql, params, n);
    if (rc != KL_OK)
        goto out;
    *out = rows;
    rows = NULL;
out:
    kl_db_rows_free(rows);
    return rc;
}

kl_rc
kl_db_begin(kl_db *db)
{
    kl_rc rc;

    if (db == NULL)
        return kl_err_set(KL_EINVAL, "db: no database handle");
    if (db->in_tx)
        return kl_err_set(KL_EINVAL, "db: a transaction is already open (they do not nest)");
    rc = db->ops->tx(db, KL_DB_TX_BEGIN);
    if (rc == KL_OK)
        db->in_tx = true;
    return rc;
}

kl_rc
kl_db_commit(kl_db *db)
{
    kl_rc rc;

    if (db == NULL)
        return kl_err_set(KL_EINVAL, "db: no database handle");
    if (!db->in_tx)
        return kl_err_set(KL_EINVAL, "db: commit without an open transaction");
    rc = db->ops->tx(db, KL_DB_TX_COMMIT);
    if (rc != KL_OK) /* leave no half-open transaction behind */
        (void)db->ops->tx(db, KL_DB_TX_ROLLBACK);
    db->in_tx = false;
    return rc;
}

void
kl_db_rollback(kl_db *db)
{
    if (db == NULL || !db->in_tx)
        return;
    (void)db->ops->tx(db, KL_DB_TX_ROLLBACK);
    db->in_tx = false;
}

kl_rc
kl_db_rows_new(kl_db_rows **out, size_t ncols)
{
    *out = kl_calloc(1, sizeof(**out));
    if (*out == NULL)
        return kl_err_set(KL_ENOMEM, "db: out of memory");
    (*out)->ncols = ncols;
    return KL_OK;
}

void
kl_db_rows_set_columns(kl_db_rows *r, size_t ncols)
{
    if (r->ncells == 0)
        r->ncols = ncols;
}

static kl_rc
rows_grow(kl_db_rows *r)
{
    size_t cap = r->cap == 0 ? 16 : r->cap * 2;
    char **cells;

    if (cap < r->cap)
        return kl_err_set(KL_ETOOBIG, "db: result too large");
    cells = kl_reallocarray(r->cells, cap, sizeof(*cells));
    if (cells == NULL)
        return kl_err_set(KL_ENOMEM, "db: out of memory for a query result");
    r->cells = cells;
    r->cap = cap;
    return KL_OK;
}

kl_rc
kl_db_rows_push(kl_db_rows *r, const char *s, size_t len)
{
    char *copy = NULL;
    kl_rc rc;

    if (r->ncells == r->cap) {
        rc = rows_grow(r);
        if (rc != KL_OK)
            return rc;
    }
    if (s != NULL) {
        copy = kl_strndup(s, len);
        if (copy == NULL)
            return kl_err_set(KL_ENOMEM, "db: out of memory for a %zu-byte value", len);
    }
    r->cells[r->ncells++] = copy;
    return KL_OK;
}

size_t
kl_db_rows_columns(const kl_db_rows *r)
{
    return r != NULL ? r->ncols : 0;
}

size_t
kl_db_rows_count(const kl_db_rows *r)
{
    if (r == NULL || r->ncols == 0)
        return 0;
    return r->ncells / r->ncols;
}

const char *
kl_db_rows_get(const kl_db_rows *r, size_t row, size_t col)
{
    if (r == NULL || col >= r->ncols || row >= kl_db_rows_count(r))
        return NULL;
    return r->cells[row * r->ncols + col];
}

bool
kl_db_rows_int(const kl_db_rows *r, size_t row, size_t col, int64_t *out)
{
    const char *s = kl_db_rows_get(r, row, col);
    char *end = NULL;
    long long v;

    if (s == NULL || *s == '\0')
        return false;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0')
        return false;
    if (out != NULL)
        *out = (int64_t)v;
    return true;
}

void
kl_db_rows_free(kl_db_rows *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->ncells; i++)
        kl_free(r->cells[i]);
    kl_free(r->cells);
    kl_free(r);
}

size_t
kl_db_val_len(const kl_db_val *v)
{
    return v->len == (size_t)-1 ? strlen(v->s) : v->len;
}
