/* db internals: the backend vtable, the parsed database URL and the result
 * builder shared by db.c, db_url.c, db_sqlite.c, db_pg.c and db_migrate.c.
 *
 * A backend fills a kl_db_ops table; db.c owns the kl_db handle, the
 * transaction flag and argument checks, and dispatches every call through
 * the table. Backend state lives behind db->be. Nothing here includes the
 * engines' headers, so this header compiles on its own.
 */
#ifndef KL_DB_INT_H
#define KL_DB_INT_H

#include "db/db.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Most key=value connection options a PostgreSQL URL may carry. */
#define KL_DB_URL_MAX_OPTS 32

typedef enum { KL_DB_ENGINE_SQLITE = 1, KL_DB_ENGINE_PG } kl_db_engine_kind;

/* A parsed database_url. For SQLite only path is set (a file path, or
 * ":memory:"). For PostgreSQL keys/vals are libpq connection keywords
 * (host, port, dbname, user, password, then the query options in order),
 * ready for PQconnectdbParams; display is the URL without its password, for
 * messages. All strings owned; free with kl_db_url_free. */
typedef struct {
    kl_db_engine_kind engine;
    char *path;
    char *keys[KL_DB_URL_MAX_OPTS + 1]; /* NULL-terminated */
    char *vals[KL_DB_URL_MAX_OPTS + 1];
    size_t nopts;
    char *display;
} kl_db_url;

/* Parses url (see db.h for the accepted forms). work_dir and default_name
 * resolve "sqlite" and relative SQLite paths; work_dir may be NULL only for
 * absolute paths and PostgreSQL. KL_EPARSE for malformed URLs,
 * KL_EUNSUPPORTED for other engines, KL_EINVAL for missing arguments. */
KL_MUST_CHECK kl_rc kl_db_url_parse(kl_db_url *out, const char *url, const char *work_dir,
                                    const char *default_name);
/* The value of libpq keyword key, or NULL. Borrowed from u. */
const char *kl_db_url_get(const kl_db_url *u, const char *key);
/* Frees what kl_db_url_parse allocated (wiping the password); NULL-safe. */
void kl_db_url_free(kl_db_url *u);

typedef enum { KL_DB_TX_BEGIN, KL_DB_TX_COMMIT, KL_DB_TX_ROLLBACK } kl_db_tx_op;

typedef struct {
    const char *engine; /* "sqlite", "postgresql" */
    /* Connects and sets db->be. Errors recorded with kl_err_set. */
    kl_rc (*open)(kl_db *db, const kl_db_url *url);
    /* Releases db->be; NULL-safe on a half-opened handle. */
    void (*close)(kl_db *db);
    kl_rc (*exec)(kl_db *db, const char *sql, const kl_db_val *params, size_t n, uint64_t *changed);
    kl_rc (*query)(kl_db *db, kl_db_rows *rows, const char *sql, const kl_db_val *params, size_t n);
    kl_rc (*tx)(kl_db *db, kl_db_tx_op op);
} kl_db_ops;

struct kl_db {
    const kl_db_ops *ops;
    void *be;   /* backend state */
    bool in_tx; /* between a successful begin and commit/rollback */
};

extern const kl_db_ops kl_db_sqlite_ops;
extern const kl_db_ops kl_db_pg_ops;

/* Result builder: an empty result with ncols columns; cells are appended
 * row by row, left to right. s == NULL appends SQL NULL. */
KL_MUST_CHECK kl_rc kl_db_rows_new(kl_db_rows **out, size_t ncols);
KL_MUST_CHECK kl_rc kl_db_rows_push(kl_db_rows *r, const char *s, size_t len);
/* Sets the column count while the result is still empty (backends learn it
 * after running the statement). */
void kl_db_rows_set_columns(kl_db_rows *r, size_t ncols);

/* Length of a parameter's text (resolving (size_t)-1 to strlen). */
size_t kl_db_val_len(const kl_db_val *v);

/* PostgreSQL placeholder rewriting: copies sql into out (reset first) with
 * each '?' outside '...' literals, "..." identifiers and comments replaced
 * by $1, $2, ...; *count gets the number of placeholders. */
KL_MUST_CHECK kl_rc kl_db_pg_rewrite(kl_buf *out, const char *sql, size_t *count);

#endif
