/* db_sqlite: the SQLite backend. Every statement is prepared and its
 * parameters bound; the database file is created 0600 in a directory that
 * must exist, opened in WAL mode with a 5 s busy timeout and foreign keys
 * on. A locked database (busy timeout exceeded) is KL_ETIMEOUT, a
 * read-only one KL_EPERM, a unique or primary key violation KL_EEXIST.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KL_LOGMODULE "db"
#include "db/db_int.h"
#include "util/kl_alloc.h"
#include "util/kl_log.h"

#define BUSY_TIMEOUT_MS 5000

static kl_rc
map_err(sqlite3 *h, int rc, const char *sql)
{
    const char *msg = sqlite3_errmsg(h);

    if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
        return kl_err_set(KL_EEXIST, "sqlite: %s (in: %.80s)", msg, sql);
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return kl_err_set(KL_ETIMEOUT,
                          "sqlite: database still locked after %d ms: %s "
                          "(in: %.80s)",
                          BUSY_TIMEOUT_MS, msg, sql);
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
        return kl_err_set(KL_EPERM,
                          "sqlite: %s (in: %.80s); check the permissions of the "
                          "database file and its directory",
                          msg, sql);
    case SQLITE_NOMEM: return kl_err_set(KL_ENOMEM, "sqlite: out of memory (in: %.80s)", sql);
    case SQLITE_TOOBIG: return kl_err_set(KL_ETOOBIG, "sqlite: value too large (in: %.80s)", sql);
    default: return kl_err_set(KL_EIO, "sqlite: %s (in: %.80s)", msg, sql);
    }
}

static kl_rc
bind_params(sqlite3 *h, sqlite3_stmt *st, const char *sql, const kl_db_val *p, size_t n)
{
    int want = sqlite3_bind_parameter_count(st);

    if (n > INT_MAX || want != (int)n)
        return kl_err_set(KL_EINVAL,
                          "sqlite: statement has %d placeholders, %zu parameters "
                          "given (in: %.80s)",
                          want, n, sql);
    for (size_t i = 0; i < n; i++) {
        int col = (int)i + 1, rc;

        if (p[i].type == KL_DB_INT)
            rc = sqlite3_bind_int64(st, col, p[i].i);
        else if (p[i].type == KL_DB_TEXT)
            rc = sqlite3_bind_text64(st, col, p[i].s, kl_db_val_len(&p[i]), SQLITE_STATIC,
                                     SQLITE_UTF8);
        else
            rc = sqlite3_bind_null(st, col);
        if (rc != SQLITE_OK)
            return map_err(h, rc, sql);
    }
    return KL_OK;
}

/* Prepares exactly one statement and binds its parameters. */
static kl_rc
prepare(sqlite3 *h, sqlite3_stmt **out, const char *sql, const kl_db_val *p, size_t n)
{
    sqlite3_stmt *st = NULL, *extra = NULL;
    const char *tail = NULL;
    kl_rc rc = KL_OK;
    int src;

    *out = NULL;
    src = sqlite3_prepare_v2(h, sql, -1, &st, &tail);
    if (src != SQLITE_OK) {
        rc = map_err(h, src, sql);
        goto out;
    }
    if (st == NULL) {
        rc = kl_err_set(KL_EINVAL, "sqlite: empty statement");
        goto out;
    }
    if (tail != NULL && *tail != '\0' &&
        (sqlite3_prepare_v2(h, tail, -1, &extra, NULL) != SQLITE_OK || extra != NULL)) {
        rc = kl_err_set(KL_EINVAL, "sqlite: one statement per call (in: %.80s)", sql);
        goto out;
    }
    rc = bind_params(h, st, sql, p, n);
    if (rc != KL_OK)
        goto out;
    *out = st;
    st = NULL;
out:
    sqlite3_finalize(extra);
    sqlite3_finalize(st);
    return rc;
}

static kl_rc
sq_exec(kl_db *db, const char *sql, const kl_db_val *params, size_t n, uint64_t *changed)
{
    sqlite3 *h = db->be;
    sqlite3_stmt *st = NULL;
    int before = sqlite3_total_changes(h);
    int src;
    kl_rc rc;

    rc = prepare(h, &st, sql, params, n);
    if (rc != KL_OK)
        goto out;
    while ((src = sqlite3_step(st)) == SQLITE_ROW)
        ;
    if (src != SQLITE_DONE) {
        rc = map_err(h, src, sql);
        goto out;
    }
    /* sqlite3_changes keeps the count of the last DML statement; a DDL
     * statement or an UPDATE that matched nothing leaves the total alone */
    if (changed != NULL && sqlite3_total_changes(h) != before)
        *changed = (uint64_t)sqlite3_changes(h);
out:
    sqlite3_finalize(st);
    return rc;
}

static kl_rc
sq_query(kl_db *db, kl_db_rows *rows, const char *sql, const kl_db_val *params, size_t n)
{
    sqlite3 *h = db->be;
    sqlite3_stmt *st = NULL;
    int src = SQLITE_DONE, ncols;
    kl_rc rc;

    rc = prepare(h, &st, sql, params, n);
    if (rc != KL_OK)
        goto out;
    ncols = sqlite3_column_count(st);
    kl_db_rows_set_columns(rows, (size_t)ncols);
    while (rc == KL_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
        for (int c = 0; rc == KL_OK && c < ncols; c++) {
            const char *v = NULL;

            if (sqlite3_column_type(st, c) != SQLITE_NULL) {
                v = (const char *)sqlite3_column_text(st, c);
                if (v == NULL)
                    rc = kl_err_set(KL_ENOMEM, "sqlite: out of memory reading a result");
            }
            if (rc == KL_OK)
                rc = kl_db_rows_push(rows, v, (size_t)sqlite3_column_bytes(st, c));
        }
    }
    if (rc == KL_OK && src != SQLITE_DONE)
        rc = map_err(h, src, sql);
out:
    sqlite3_finalize(st);
    return rc;
}

static kl_rc
sq_tx(kl_db *db, kl_db_tx_op op)
{
    /* IMMEDIATE takes the write lock now, so the busy timeout applies here
     * rather than failing at the first write of a deferred transaction */
    static const char *const sql[] = {"BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"};

    return sq_exec(db, sql[op], NULL, 0, NULL);
}

/* The directory must exist; the file is created 0600 if absent. */
static kl_rc
prepare_file(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t dlen = slash == NULL ? 0 : (slash == path ? 1 : (size_t)(slash - path));
    char *dir = kl_strndup(slash == NULL ? "." : path, slash == NULL ? 1 : dlen);
    struct stat st;
    kl_rc rc = KL_OK;
    int fd;

    if (dir == NULL)
        return kl_err_set(KL_ENOMEM, "sqlite: out of memory");
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        rc = kl_err_set(KL_EIO,
                        "sqlite: directory '%s' for database '%s' does not exist; "
                        "create it (mode 0700, owned by the service user) or change "
                        "database_url",
                        dir, path);
        goto out;
    }
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = kl_err_set(KL_EIO, "sqlite: cannot open or create '%s': %s", path, strerror(errno));
        goto out;
    }
    close(fd);
out:
    kl_free(dir);
    return rc;
}

static kl_rc
set_wal(sqlite3 *h, const char *path)
{
    sqlite3_stmt *st = NULL;
    const char *mode;
    kl_rc rc;

    rc = prepare(h, &st, "PRAGMA journal_mode = WAL", NULL, 0);
    if (rc != KL_OK)
        return rc;
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = map_err(h, sqlite3_errcode(h), "PRAGMA journal_mode = WAL");
        goto out;
    }
    mode = (const char *)sqlite3_column_text(st, 0);
    if (mode == NULL || strcmp(mode, "wal") != 0)
        LOG_WARN("sqlite: '%s' stays in journal mode '%s' (no WAL on this file system?)", path,
                 mode != NULL ? mode : "?");
out:
    sqlite3_finalize(st);
    return rc;
}

static kl_rc
sq_open(kl_db *db, const kl_db_url *u)
{
    bool memory = strcmp(u->path, ":memory:") == 0;
    sqlite3 *h = NULL;
    kl_rc rc = KL_OK;
    int src;

    if (!memory)
        rc = prepare_file(u->path);
    if (rc != KL_OK)
        return rc;
    src = sqlite3_open_v2(u->path, &h,
                          SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    db->be = h;
    if (src != SQLITE_OK)
        return kl_err_set(KL_EIO, "sqlite: cannot open '%s': %s", u->path,
                          h != NULL ? sqlite3_errmsg(h) : sqlite3_errstr(src));
    sqlite3_extended_result_codes(h, 1);
    sqlite3_busy_timeout(h, BUSY_TIMEOUT_MS);
    rc = sq_exec(db, "PRAGMA foreign_keys = ON", NULL, 0, NULL);
    if (rc == KL_OK && !memory)
        rc = set_wal(h, u->path);
    if (rc != KL_OK)
        return kl_err_wrap(KL_EIO, "sqlite: cannot set up '%s': ", u->path);
    return KL_OK;
}

static void
sq_close(kl_db *db)
{
    sqlite3_close_v2(db->be);
    db->be = NULL;
}

const kl_db_ops kl_db_sqlite_ops = {
    .engine = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .exec = sq_exec,
    .query = sq_query,
    .tx = sq_tx,
};
