/* db: one small storage interface with SQLite and PostgreSQL behind it.
 *
 * SQL is written once, with '?' placeholders, in the dialect both engines
 * share (TEXT, INTEGER/BIGINT, no engine-specific functions); the
 * PostgreSQL backend renumbers '?' to $1.. outside quoted text. Parameters
 * are always bound, never formatted into the SQL. Results come back as
 * text (NULL stays NULL), which is what the daemons store.
 *
 * URLs, as upstream's database_url:
 *   "sqlite" (or "")        -> <work_dir>/<default_name> (reg_data.sqlite,
 *                              cv_data.sqlite)
 *   "sqlite:////abs/path"   -> that file; "sqlite:///rel" is relative to the
 *                              work dir, as SQLAlchemy reads it
 *   "postgresql://user:pw@host:port/db?opts" (also "postgresql+psycopg2://"
 *                              and host=/path/to/socket/dir query options)
 * SQLite is opened in WAL mode with a busy timeout of 5 s and foreign keys
 * on. A kl_db is used from one thread at a time.
 */
#ifndef KL_DB_H
#define KL_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/kl_err.h"

typedef struct kl_db kl_db;
typedef struct kl_db_rows kl_db_rows;

typedef enum { KL_DB_NULL = 0, KL_DB_INT, KL_DB_TEXT } kl_db_type;

/* One bound parameter. TEXT is borrowed for the duration of the call;
 * len may be (size_t)-1 for a NUL-terminated string. */
typedef struct {
    kl_db_type type;
    int64_t i;
    const char *s;
    size_t len;
} kl_db_val;

#define KL_DB_I(v) ((kl_db_val){KL_DB_INT, (v), NULL, 0})
#define KL_DB_S(v) ((kl_db_val){(v) ? KL_DB_TEXT : KL_DB_NULL, 0, (v), (size_t)-1})
#define KL_DB_SN(v, n) ((kl_db_val){KL_DB_TEXT, 0, (v), (n)})
#define KL_DB_NUL ((kl_db_val){KL_DB_NULL, 0, NULL, 0})

/* Opens the database; KL_EIO with the engine's message (and, for
 * PostgreSQL, the URL without its password) when it cannot. default_name
 * is the SQLite file name used for "sqlite". A bad URL is KL_EPARSE, an
 * engine other than sqlite/postgresql KL_EUNSUPPORTED, "sqlite" or a
 * relative path without work_dir KL_EINVAL. The SQLite file's directory
 * must exist (KL_EIO naming it otherwise); a new file is created 0600.
 * "sqlite://" is an in-memory database. Caller frees with kl_db_close. */
KL_MUST_CHECK kl_rc kl_db_open(kl_db **out, const char *url, const char *work_dir,
                               const char *default_name);
void kl_db_close(kl_db *db);

/* "sqlite" or "postgresql". */
const char *kl_db_engine(const kl_db *db);

/* Runs one statement that returns no rows. *changed (may be NULL) gets the
 * number of rows inserted/updated/deleted. A unique-key violation is
 * KL_EEXIST (so callers can answer 409/403); other failures KL_EIO, except:
 * KL_EINVAL for bad usage (placeholder count != n, more than one statement,
 * TEXT with s == NULL), KL_ETIMEOUT when the database stays locked (SQLite
 * busy timeout; PostgreSQL 57014/55P03), KL_EPERM for a read-only file or
 * PostgreSQL 42501. PostgreSQL: a lost connection is re-opened once and,
 * outside a transaction, the statement is run again; inside one the call
 * fails with KL_EIO (the transaction is gone). After any failure inside a
 * transaction the caller must kl_db_rollback (PostgreSQL aborts the whole
 * transaction; SQLite only the statement). */
KL_MUST_CHECK kl_rc kl_db_exec(kl_db *db, const char *sql, const kl_db_val *params, size_t n,
                               uint64_t *changed);

/* Runs a query; the caller frees *out with kl_db_rows_free. */
KL_MUST_CHECK kl_rc kl_db_query(kl_db *db, kl_db_rows **out, const char *sql,
                                const kl_db_val *params, size_t n);
size_t kl_db_rows_count(const kl_db_rows *r);
size_t kl_db_rows_columns(const kl_db_rows *r);
/* The value at (row, col) as text, or NULL for SQL NULL. Borrowed from r. */
const char *kl_db_rows_get(const kl_db_rows *r, size_t row, size_t col);
/* Integer value; false if NULL or not an integer. */
bool kl_db_rows_int(const kl_db_rows *r, size_t row, size_t col, int64_t *out);
void kl_db_rows_free(kl_db_rows *r);

/* Transactions (not nested: a second begin is KL_EINVAL). SQLite takes the
 * write lock at begin (BEGIN IMMEDIATE). When kl_db_commit fails the
 * transaction has been rolled back and is closed. kl_db_rollback never
 * fails and does nothing outside a transaction. */
KL_MUST_CHECK kl_rc kl_db_begin(kl_db *db);
KL_MUST_CHECK kl_rc kl_db_commit(kl_db *db);
void kl_db_rollback(kl_db *db);

/* Schema migrations: numbered steps applied in order, each in its own
 * transaction, recorded in table kl_schema(component, version). A database
 * already at a higher version than the list knows is refused (an older
 * binary must not write a newer schema): KL_EUNSUPPORTED, with a message
 * telling the operator what to do. A failed step is rolled back and the
 * version stays at the step before; KL_EINVAL for versions that are not
 * >= 1 and strictly increasing. Each step's SQL may hold several
 * statements separated by ';' (no ';' inside literals or comments). */
typedef struct {
    int version;     /* 1, 2, ... strictly increasing */
    const char *sql; /* executed as is; no parameters */
} kl_db_migration;

KL_MUST_CHECK kl_rc kl_db_migrate(kl_db *db, const char *component,
                                  const kl_db_migration *steps, size_t n);

#endif
