/* db_pg: the PostgreSQL backend (libpq). Statements go through
 * PQexecParams with text parameters after '?' is renumbered to $1..; the
 * server infers each parameter's type from its use, as SQLite's dynamic
 * typing would accept it. SQLSTATE 23505 (unique violation) is KL_EEXIST,
 * 42501 KL_EPERM, 57014/55P03 KL_ETIMEOUT, anything else KL_EIO.
 *
 * When the connection is found lost, the backend reconnects once
 * (PQreset) and, outside a transaction, runs the statement again; inside a
 * transaction the transaction is gone, so the call fails with KL_EIO.
 * Messages name the server by its URL without the password.
 */
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KL_LOGMODULE "db"
#include "db/db_int.h"
#include "util/kl_alloc.h"
#include "util/kl_log.h"

#define SQL_MAX (16u * 1024 * 1024)

typedef struct {
    PGconn *conn;
    char *display; /* the URL without its password */
} pg_be;

static size_t
skip_quoted(const char *s, size_t i)
{
    const char *end = strchr(s + i + 1, s[i]);

    return end != NULL ? (size_t)(end - s) + 1 : 0;
}

/* Length of the comment starting at s[i] ("--" to end of line, or block
 * comment), 0 if none starts there, SIZE_MAX if it never ends. */
static size_t
comment_len(const char *s, size_t i)
{
    const char *end;

    if (s[i] == '-' && s[i + 1] == '-')
        return strcspn(s + i, "\n");
    if (s[i] != '/' || s[i + 1] != '*')
        return 0;
    end = strstr(s + i + 2, "*/");
    return end != NULL ? (size_t)(end - (s + i)) + 2 : SIZE_MAX;
}

kl_rc
kl_db_pg_rewrite(kl_buf *out, const char *sql, size_t *count)
{
    size_t i = 0, n = 0;
    kl_rc rc = KL_OK;

    kl_buf_reset(out);
    while (rc == KL_OK && sql[i] != '\0') {
        size_t span = 1;

        if (sql[i] == '\'' || sql[i] == '"') {
            size_t end = skip_quoted(sql, i);

            if (end == 0)
                return kl_err_set(KL_EPARSE, "postgresql: unterminated %s in SQL: %.80s",
                                  sql[i] == '"' ? "identifier" : "string literal", sql);
            span = end - i;
        } else if ((span = comment_len(sql, i)) == SIZE_MAX) {
            return kl_err_set(KL_EPARSE, "postgresql: unterminated comment in SQL: %.80s", sql);
        } else if (span == 0) {
            span = 1;
        }
        if (sql[i] == '?') {
            rc = kl_buf_printf(out, "$%zu", ++n);
        } else {
            rc = kl_buf_append(out, sql + i, span);
        }
        i += span;
    }
    if (rc == KL_OK)
        rc = kl_buf_terminate(out);
    *count = n;
    return rc;
}

static void
quiet_notices(void *arg, const char *msg)
{
    (void)arg;
    LOG_DEBUG("postgresql: %s", msg);
}

static kl_rc
map_result(const pg_be *be, const PGresult *res, const char *sql)
{
    const char *state, *msg;

    if (res == NULL)
        return kl_err_set(KL_EIO, "postgresql: %s: %s", be->display, PQerrorMessage(be->conn));
    if (PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK)
        return KL_OK;
    state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    if (msg == NULL)
        msg = PQresultErrorMessage(res);
    if (state == NULL)
        state = "";
    if (strcmp(state, "23505") == 0)
        return kl_err_set(KL_EEXIST, "postgresql: %s (in: %.80s)", msg, sql);
    if (strcmp(state, "42501") == 0)
        return kl_err_set(KL_EPERM, "postgresql: %s (in: %.80s)", msg, sql);
    if (strcmp(state, "57014") == 0 || strcmp(state, "55P03") == 0)
        return kl_err_set(KL_ETIMEOUT, "postgresql: %s (in: %.80s)", msg, sql);
    return kl_err_set(KL_EIO, "postgresql: %s [SQLSTATE %s] (in: %.80s)", msg, state, sql);
}

static kl_rc
reconnect(pg_be *be)
{
    LOG_WARN("postgresql: connection to %s lost, reconnecting", be->display);
    PQreset(be->conn);
    if (PQstatus(be->conn) != CONNECTION_OK)
        return kl_err_set(KL_EIO,
                          "postgresql: connection to %s lost and reconnecting "
                          "failed: %s",
                          be->display, PQerrorMessage(be->conn));
    return KL_OK;
}

/* Runs the rewritten statement; on success *out holds the result. */
static kl_rc
run_params(kl_db *db, PGresult **out, const char *sql, const char *const *vals, size_t n)
{
    pg_be *be = db->be;
    PGresult *res = NULL;
    kl_rc rc = KL_OK;

    *out = NULL;
    if (PQstatus(be->conn) != CONNECTION_OK)
        rc = reconnect(be);
    if (rc == KL_OK)
        res = PQexecParams(be->conn, sql, (int)n, NULL, vals, NULL, NULL, 0);
    if (rc == KL_OK && PQstatus(be->conn) != CONNECTION_OK) {
        PQclear(res);
        res = NULL;
        if (db->in_tx) {
            rc = kl_err_set(KL_EIO,
                            "postgresql: connection to %s lost inside a transaction "
                            "(it was rolled back)",
                            be->display);
            goto out;
        }
        rc = reconnect(be);
        if (rc == KL_OK)
            res = PQexecParams(be->conn, sql, (int)n, NULL, vals, NULL, NULL, 0);
        if (rc == KL_OK && PQstatus(be->conn) != CONNECTION_OK)
            rc = kl_err_set(KL_EIO,
                            "postgresql: connection to %s lost again after "
                            "reconnecting",
                            be->display);
    }
    if (rc == KL_OK)
        rc = map_result(be, res, sql);
    if (rc == KL_OK) {
        *out = res;
        res = NULL;
    }
out:
    PQclear(res);
    return rc;
}

/* Text form of each parameter; owned[i] holds what had to be allocated. */
static kl_rc
param_text(const kl_db_val *p, const char **val, char **owned)
{
    size_t len;

    if (p->type == KL_DB_NULL)
        return KL_OK;
    if (p->type == KL_DB_INT) {
        *owned = kl_malloc(24);
        if (*owned == NULL)
            return kl_err_set(KL_ENOMEM, "postgresql: out of memory");
        snprintf(*owned, 24, "%" PRId64, p->i);
        *val = *owned;
        return KL_OK;
    }
    if (p->len == (size_t)-1) {
        *val = p->s;
        return KL_OK;
    }
    len = p->len;
    if (memchr(p->s, '\0', len) != NULL)
        return kl_err_set(KL_EINVAL, "postgresql: text parameter holds a NUL byte");
    *owned = kl_strndup(p->s, len);
    if (*owned == NULL)
        return kl_err_set(KL_ENOMEM, "postgresql: out of memory for a %zu-byte value", len);
    *val = *owned;
    return KL_OK;
}

static kl_rc
run(kl_db *db, PGresult **out, const char *sql, const kl_db_val *p, size_t n)
{
    const char **vals = kl_calloc(n + 1, sizeof(*vals));
    char **owned = kl_calloc(n + 1, sizeof(*owned));
    size_t count = 0;
    kl_buf q;
    kl_rc rc;

    *out = NULL;
    kl_buf_init(&q, SQL_MAX);
    if (vals == NULL || owned == NULL) {
        rc = kl_err_set(KL_ENOMEM, "postgresql: out of memory");
        goto out;
    }
    rc = kl_db_pg_rewrite(&q, sql, &count);
    if (rc == KL_OK && count != n)
        rc = kl_err_set(KL_EINVAL,
                        "postgresql: statement has %zu placeholders, %zu "
                        "parameters given (in: %.80s)",
                        count, n, sql);
    for (size_t i = 0; rc == KL_OK && i < n; i++)
        rc = param_text(&p[i], &vals[i], &owned[i]);
    if (rc == KL_OK)
        rc = run_params(db, out, (const char *)q.ptr, vals, n);
out:
    for (size_t i = 0; owned != NULL && i < n; i++)
        kl_free(owned[i]);
    kl_free(owned);
    kl_free(vals);
    kl_buf_free(&q);
    return rc;
}

static kl_rc
pg_exec(kl_db *db, const char *sql, const kl_db_val *params, size_t n, uint64_t *changed)
{
    PGresult *res = NULL;
    kl_rc rc = run(db, &res, sql, params, n);

    if (rc == KL_OK && changed != NULL)
        *changed = strtoull(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return rc;
}

static kl_rc
pg_query(kl_db *db, kl_db_rows *rows, const char *sql, const kl_db_val *params, size_t n)
{
    PGresult *res = NULL;
    int nrows, ncols;
    kl_rc rc;

    rc = run(db, &res, sql, params, n);
    if (rc != KL_OK)
        goto out;
    nrows = PQntuples(res);
    ncols = PQnfields(res);
    kl_db_rows_set_columns(rows, (size_t)ncols);
    for (int r = 0; rc == KL_OK && r < nrows; r++) {
        for (int c = 0; rc == KL_OK && c < ncols; c++) {
            const char *v = PQgetisnull(res, r, c) ? NULL : PQgetvalue(res, r, c);

            rc = kl_db_rows_push(rows, v, (size_t)PQgetlength(res, r, c));
        }
    }
out:
    PQclear(res);
    return rc;
}

static kl_rc
pg_tx(kl_db *db, kl_db_tx_op op)
{
    static const char *const sql[] = {"BEGIN", "COMMIT", "ROLLBACK"};
    PGresult *res = NULL;
    kl_rc rc = run(db, &res, sql[op], NULL, 0);

    /* COMMIT of a transaction in which a statement failed answers ROLLBACK */
    if (rc == KL_OK && op == KL_DB_TX_COMMIT && strcmp(PQcmdStatus(res), "COMMIT") != 0)
        rc = kl_err_set(KL_EIO, "postgresql: the transaction was rolled back because a "
                                "statement in it failed");
    PQclear(res);
    return rc;
}

static kl_rc
pg_open(kl_db *db, const kl_db_url *u)
{
    pg_be *be = kl_calloc(1, sizeof(*be));
    const char *pw = kl_db_url_get(u, "password");
    const char *msg;

    db->be = be;
    if (be == NULL)
        return kl_err_set(KL_ENOMEM, "postgresql: out of memory");
    be->display = kl_strdup(u->display);
    if (be->display == NULL)
        return kl_err_set(KL_ENOMEM, "postgresql: out of memory");
    be->conn = PQconnectdbParams((const char *const *)u->keys, (const char *const *)u->vals, 0);
    if (be->conn == NULL)
        return kl_err_set(KL_ENOMEM, "postgresql: out of memory connecting to %s", u->display);
    if (PQstatus(be->conn) == CONNECTION_OK) {
        PQsetNoticeProcessor(be->conn, quiet_notices, NULL);
        return KL_OK;
    }
    msg = PQerrorMessage(be->conn);
    if (pw != NULL && *pw != '\0' && strstr(msg, pw) != NULL) /* never echo it */
        msg = "(server message withheld: it quoted the password)";
    return kl_err_set(KL_EIO, "postgresql: cannot connect to %s: %.*s", u->display,
                      (int)strcspn(msg, "\n"), msg);
}

static void
pg_close(kl_db *db)
{
    pg_be *be = db->be;

    if (be == NULL)
        return;
    PQfinish(be->conn);
    kl_free(be->display);
    kl_free(be);
    db->be = NULL;
}

const kl_db_ops kl_db_pg_ops = {
    .engine = "postgresql",
    .open = pg_open,
    .close = pg_close,
    .exec = pg_exec,
    .query = pg_query,
    .tx = pg_tx,
};
