/* Tests for lib/db. The same cases run against SQLite (a temp dir) and,
 * when KL_TEST_PG_URL is set (see with_postgres.sh), PostgreSQL; URL
 * parsing, placeholder rewriting and SQLite file handling run once.
 *
 * Usage: test_db [sqlite|postgresql|all]   (default: all; "all" runs the
 * PostgreSQL group only when KL_TEST_PG_URL is set and non-empty,
 * "postgresql" fails without it). */
/* cmocka.h needs the standard headers before it: keep this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "db/db.h"
#include "db/db_int.h"
#include "util/kl_alloc.h"
/* clang-format on */

typedef struct {
    char url[4200];
    char dir[256];
    bool pg;
    kl_db *db;
} fixture;

static fixture fx;

#define OK(expr) assert_int_equal((expr), KL_OK)

static const char *const drop_sql[] = {
    "DROP TABLE IF EXISTS child", "DROP TABLE IF EXISTS parent",    "DROP TABLE IF EXISTS t",
    "DROP TABLE IF EXISTS q",     "DROP TABLE IF EXISTS m_b",       "DROP TABLE IF EXISTS m_a",
    "DROP TABLE IF EXISTS m_c",   "DROP TABLE IF EXISTS kl_schema",
};

static void
remove_sqlite_files(void)
{
    static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
    char p[600];

    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof(p), "%s/test.sqlite%s", fx.dir, sfx[i]);
        unlink(p);
    }
}

static int
setup(void **state)
{
    (void)state;
    kl_alloc_fail_at(0);
    if (!fx.pg)
        remove_sqlite_files();
    if (kl_db_open(&fx.db, fx.url, fx.dir, "test.sqlite") != KL_OK) {
        fprintf(stderr, "open %s: %s\n", fx.pg ? "postgresql" : fx.url, kl_err_msg());
        return -1;
    }
    for (size_t i = 0; i < sizeof(drop_sql) / sizeof(drop_sql[0]); i++)
        if (kl_db_exec(fx.db, drop_sql[i], NULL, 0, NULL) != KL_OK)
            return -1;
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    kl_db_close(fx.db);
    fx.db = NULL;
    return 0;
}

static int
group_sqlite(void **state)
{
    (void)state;
    snprintf(fx.dir, sizeof(fx.dir), "%s/kl-db-test.XXXXXX",
             getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(fx.dir) == NULL)
        return -1;
    snprintf(fx.url, sizeof(fx.url), "sqlite:///%s/test.sqlite", fx.dir);
    fx.pg = false;
    return 0;
}

static int
group_sqlite_done(void **state)
{
    (void)state;
    remove_sqlite_files();
    return rmdir(fx.dir) == 0 ? 0 : -1;
}

static int
group_pg(void **state)
{
    (void)state;
    snprintf(fx.url, sizeof(fx.url), "%s", getenv("KL_TEST_PG_URL"));
    fx.dir[0] = '\0';
    fx.pg = true;
    return 0;
}

static void
exec_ok(const char *sql)
{
    if (kl_db_exec(fx.db, sql, NULL, 0, NULL) != KL_OK)
        fail_msg("%s: %s", sql, kl_err_msg());
}

static int64_t
count_rows(const char *table_sql)
{
    kl_db_rows *r = NULL;
    int64_t n = -1;

    OK(kl_db_query(fx.db, &r, table_sql, NULL, 0));
    assert_true(kl_db_rows_int(r, 0, 0, &n));
    kl_db_rows_free(r);
    return n;
}

#define T_CREATE                                                                                   \
    "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE, n INTEGER, "                        \
    "big BIGINT, note TEXT)"

static void
test_db_exec_query_params(void **state)
{
    const char *quoted = "O'Reilly \"dq\" ; -- not a comment ? \\ end";
    kl_db_val p[5] = {KL_DB_I(1), KL_DB_S("one"), KL_DB_I(-5), KL_DB_I(INT64_MAX), KL_DB_S(quoted)};
    kl_db_rows *r = NULL;
    uint64_t changed = 99;
    int64_t v = 0;

    (void)state;
    exec_ok(T_CREATE);
    OK(kl_db_exec(fx.db, "INSERT INTO t (id, name, n, big, note) VALUES (?, ?, ?, ?, ?)", p, 5,
                  &changed));
    assert_int_equal(changed, 1);
    p[0] = KL_DB_I(2), p[1] = KL_DB_S("two"), p[2] = KL_DB_NUL, p[3] = KL_DB_I(INT64_MIN);
    p[4] = KL_DB_S(NULL);
    OK(kl_db_exec(fx.db, "INSERT INTO t (id, name, n, big, note) VALUES (?, ?, ?, ?, ?)", p, 5,
                  NULL));
    p[0] = KL_DB_I(3), p[1] = KL_DB_SN("threefold", 5), p[2] = KL_DB_I(7);
    OK(kl_db_exec(fx.db, "INSERT INTO t (id, name, n) VALUES (?, ?, ?)", p, 3, NULL));

    OK(kl_db_query(fx.db, &r, "SELECT id, name, n, big, note FROM t ORDER BY id", NULL, 0));
    assert_int_equal(kl_db_rows_count(r), 3);
    assert_int_equal(kl_db_rows_columns(r), 5);
    assert_string_equal(kl_db_rows_get(r, 0, 1), "one");
    assert_string_equal(kl_db_rows_get(r, 0, 4), quoted);
    assert_true(kl_db_rows_int(r, 0, 2, &v) && v == -5);
    assert_true(kl_db_rows_int(r, 0, 3, &v) && v == INT64_MAX);
    assert_true(kl_db_rows_int(r, 1, 3, &v) && v == INT64_MIN);
    assert_null(kl_db_rows_get(r, 1, 2));
    assert_false(kl_db_rows_int(r, 1, 2, &v));
    assert_null(kl_db_rows_get(r, 1, 4));
    assert_string_equal(kl_db_rows_get(r, 2, 1), "three");
    assert_false(kl_db_rows_int(r, 2, 1, &v)); /* text is not an integer */
    assert_null(kl_db_rows_get(r, 3, 0));      /* out of range */
    assert_null(kl_db_rows_get(r, 0, 5));
    kl_db_rows_free(r);

    p[0] = KL_DB_I(0);
    OK(kl_db_exec(fx.db, "UPDATE t SET n = n + 1 WHERE n >= ?", p, 1, &changed));
    assert_int_equal(changed, 1); /* NULL >= 0 is not true */
    OK(kl_db_exec(fx.db, "UPDATE t SET n = 1 WHERE n IS NULL OR n < ?", p, 1, &changed));
    assert_int_equal(changed, 2);
    /* a statement that is not DML reports no stale count */
    OK(kl_db_exec(fx.db, "CREATE TABLE q (x TEXT)", NULL, 0, &changed));
    assert_int_equal(changed, 0);
    p[0] = KL_DB_I(99);
    OK(kl_db_exec(fx.db, "DELETE FROM t WHERE id = ?", p, 1, &changed));
    assert_int_equal(changed, 0);
    assert_int_equal(count_rows("SELECT COUNT(*) FROM t WHERE note IS NULL"), 2);
    /* a query with no rows */
    p[0] = KL_DB_S("nobody");
    OK(kl_db_query(fx.db, &r, "SELECT id FROM t WHERE name = ?", p, 1));
    assert_int_equal(kl_db_rows_count(r), 0);
    assert_int_equal(kl_db_rows_columns(r), 1);
    kl_db_rows_free(r);
}

static void
test_db_literal_question_mark(void **state)
{
    kl_db_val p[2] = {KL_DB_I(7), KL_DB_S("x?")};
    kl_db_rows *r = NULL;

    (void)state;
    exec_ok(T_CREATE);
    OK(kl_db_exec(fx.db, "INSERT INTO t (id, name, n, note) VALUES (1, 'what?', ?, 'it''s ?')", p,
                  1, NULL));
    /* the literal's '?' is no placeholder: one parameter too many fails */
    assert_int_equal(kl_db_exec(fx.db, "INSERT INTO t (id, name) VALUES (2, '?')", p, 1, NULL),
                     KL_EINVAL);
    OK(kl_db_query(fx.db, &r,
                   "SELECT note FROM t -- why? \n WHERE name = 'what?' AND n = ? /* ? */", p, 1));
    assert_int_equal(kl_db_rows_count(r), 1);
    assert_string_equal(kl_db_rows_get(r, 0, 0), "it's ?");
    kl_db_rows_free(r);

    exec_ok("CREATE TABLE q (\"odd?col\" TEXT)");
    OK(kl_db_exec(fx.db, "INSERT INTO q (\"odd?col\") VALUES (?)", &p[1], 1, NULL));
    OK(kl_db_query(fx.db, &r, "SELECT \"odd?col\" FROM q WHERE \"odd?col\" = ?", &p[1], 1));
    assert_int_equal(kl_db_rows_count(r), 1);
    assert_string_equal(kl_db_rows_get(r, 0, 0), "x?");
    kl_db_rows_free(r);
}

static void
test_db_unicode(void **state)
{
    const char *u = "Gr\xc3\xbc\xc3\x9f"
                    "e, \xe4\xb8\x96\xe7\x95\x8c \xe2\x9c\x93 "
                    "\xf0\x9f\x8e\x89 'q'";
    kl_db_val p[2] = {KL_DB_I(1), KL_DB_S(u)};
    kl_db_rows *r = NULL;

    (void)state;
    exec_ok(T_CREATE);
    OK(kl_db_exec(fx.db, "INSERT INTO t (id, note) VALUES (?, ?)", p, 2, NULL));
    OK(kl_db_query(fx.db, &r, "SELECT note FROM t WHERE note = ?", &p[1], 1));
    assert_int_equal(kl_db_rows_count(r), 1);
    assert_string_equal(kl_db_rows_get(r, 0, 0), u);
    kl_db_rows_free(r);
}

static void
test_db_large_text(void **state)
{
    size_t n = 1024 * 1024;
    char *big = kl_malloc(n + 1);
    kl_db_val p[2] = {KL_DB_I(1), KL_DB_NUL};
    kl_db_rows *r = NULL;

    (void)state;
    assert_non_null(big);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)('a' + i % 26);
    big[n - 1] = '\'';
    big[n] = '\0';
    p[1] = KL_DB_S(big);
    exec_ok(T_CREATE);
    OK(kl_db_exec(fx.db, "INSERT INTO t (id, note) VALUES (?, ?)", p, 2, NULL));
    OK(kl_db_query(fx.db, &r, "SELECT note, LENGTH(note) FROM t WHERE id = ?", p, 1));
    assert_int_equal(strlen(kl_db_rows_get(r, 0, 0)), n);
    assert_memory_equal(kl_db_rows_get(r, 0, 0), big, n);
    assert_string_equal(kl_db_rows_get(r, 0, 1), "1048576");
    kl_db_rows_free(r);
    kl_free(big);
}

static void
test_db_unique_violation(void **state)
{
    kl_db_val p[2] = {KL_DB_I(1), KL_DB_S("dup")};

    (void)state;
    exec_ok(T_CREATE);
    OK(kl_db_exec(fx.db, "INSERT INTO t (id, name) VALUES (?, ?)", p, 2, NULL));
    /* same primary key */
    assert_int_equal(kl_db_exec(fx.db, "INSERT INTO t (id, name) VALUES (?, ?)", p, 2, NULL),
                     KL_EEXIST);
    /* same UNIQUE column, other key */
    p[0] = KL_DB_I(2);
    assert_int_equal(kl_db_exec(fx.db, "INSERT INTO t (id, name) VALUES (?, ?)", p, 2, NULL),
                     KL_EEXIST);
    /* the handle is still usable */
    assert_int_equal(count_rows("SELECT COUNT(*) FROM t"), 1);
}

static void
test_db_foreign_key(void **state)
{
    kl_db_val p[1] = {KL_DB_I(42)};

    (void)state;
    exec_ok("CREATE TABLE parent (id INTEGER PRIMARY KEY)");
    exec_ok("CREATE TABLE child (id INTEGER PRIMARY KEY, pid INTEGER REFERENCES parent(id))");
    /* a foreign-key violation is an error, and not "already exists" */
    assert_int_equal(kl_db_exec(fx.db, "INSERT INTO child (id, pid) VALUES (1, ?)", p, 1, NULL),
                     KL_EIO);
    assert_int_equal(count_rows("SELECT COUNT(*) FROM child"), 0);
}

static void
test_db_transactions(void **state)
{
    kl_db_val p[2] = {KL_DB_I(1), KL_DB_S("a")};

    (void)state;
    exec_ok(T_CREATE);
    OK(kl_db_begin(fx.db));
    assert_int_equal(kl_db_begin(fx.db), KL_EINVAL); /* no nesting */
    OK(kl_db_exec(fx.db, "INSERT INTO t (id, name) VALUES (?, ?)", p, 2, NULL));
    kl_db_rollback(fx.db);
    assert_int_equal(count_rows("SELECT COUNT(*) FROM t"), 0);

    OK(kl_db_begin(fx.db));
    OK(kl_db_exec(fx.db, "INSERT INTO t (id, name) VALUES (?, ?)", p, 2, NULL));
    OK(kl_db_commit(fx.db));
    assert_int_equal(count_rows("SELECT COUNT(*) FROM t"), 1);
    assert_int_equal(kl_db_commit(fx.db), KL_EINVAL); /* nothing open */
    kl_db_rollback(fx.db);                            /* harmless */

    /* a failed statement inside a transaction, then rollback */
    OK(kl_db_begin(fx.db));
    p[0] = KL_DB_I(2), p[1] = KL_DB_S("b");
    OK(kl_db_exec(fx.db, "INSERT INTO t (id, name) VALUES (?, ?)", p, 2, NULL));
    p[0] = KL_DB_I(3), p[1] = KL_DB_S("a");
    assert_int_equal(kl_db_exec(fx.db, "INSERT INTO t (id, name) VALUES (?, ?)", p, 2, NULL),
                     KL_EEXIST);
    kl_db_rollback(fx.db);
    assert_int_equal(count_rows("SELECT COUNT(*) FROM t"), 1);
    /* and the handle takes new transactions */
    OK(kl_db_begin(fx.db));
    OK(kl_db_commit(fx.db));
}

static void
test_db_bad_statements(void **state)
{
    kl_db_val p[2] = {KL_DB_I(1), KL_DB_S("x")};
    kl_db_val bad = {KL_DB_TEXT, 0, NULL, 0};
    kl_db_rows *r = (kl_db_rows *)&fx; /* must be reset to NULL on failure */

    (void)state;
    exec_ok(T_CREATE);
    assert_int_equal(kl_db_exec(fx.db, "INSERT INTO t (id) VALUES (?)", p, 2, NULL), KL_EINVAL);
    assert_int_equal(kl_db_exec(fx.db, "INSERT INTO t (id, name) VALUES (?, ?)", p, 1, NULL),
                     KL_EINVAL);
    assert_int_equal(kl_db_exec(fx.db, "INSERT INTO t (id) VALUES (?)", NULL, 1, NULL), KL_EINVAL);
    assert_int_equal(kl_db_exec(fx.db, "INSERT INTO t (name) VALUES (?)", &bad, 1, NULL),
                     KL_EINVAL);
    assert_int_equal(kl_db_exec(fx.db, NULL, NULL, 0, NULL), KL_EINVAL);
    assert_int_equal(kl_db_exec(NULL, "SELECT 1", NULL, 0, NULL), KL_EINVAL);
    assert_int_equal(kl_db_exec(fx.db, "SELEC 1", NULL, 0, NULL), KL_EIO);
    assert_int_equal(kl_db_query(fx.db, &r, "SELECT nosuchcol FROM t", NULL, 0), KL_EIO);
    assert_null(r);
    assert_int_equal(kl_db_exec(fx.db, "SELECT 1; SELECT 2", NULL, 0, NULL) != KL_OK, 1);
    assert_int_equal(kl_db_exec(fx.db, "SELECT 'unterminated", NULL, 0, NULL) != KL_OK, 1);
    /* explicit length inside the string keeps only that prefix */
    p[1] = KL_DB_SN("abc\0def", 3);
    OK(kl_db_exec(fx.db, "INSERT INTO t (id, name) VALUES (?, ?)", p, 2, NULL));
    assert_int_equal(count_rows("SELECT COUNT(*) FROM t WHERE name = 'abc'"), 1);
    assert_string_equal(kl_db_engine(fx.db), fx.pg ? "postgresql" : "sqlite");
}

static const kl_db_migration steps3[] = {
    {1, "CREATE TABLE m_a (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n"
        "CREATE TABLE m_b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES m_a(id));"},
    {2, "-- add a column and a seed row\n"
        "ALTER TABLE m_a ADD COLUMN note TEXT;\n"
        "INSERT INTO m_a (id, name, note) VALUES (1, 'seed', 'v2');\n"},
    {5, "CREATE TABLE m_c (id INTEGER PRIMARY KEY)"},
};

static int64_t
schema_version(const char *component)
{
    kl_db_val p[1] = {KL_DB_S(component)};
    kl_db_rows *r = NULL;
    int64_t v = -1;

    OK(kl_db_query(fx.db, &r, "SELECT version FROM kl_schema WHERE component = ?", p, 1));
    if (kl_db_rows_count(r) == 0)
        v = 0;
    else
        assert_true(kl_db_rows_int(r, 0, 0, &v));
    kl_db_rows_free(r);
    return v;
}

static void
test_db_migrate(void **state)
{
    (void)state;
    OK(kl_db_migrate(fx.db, "verifier", steps3, 2));
    assert_int_equal(schema_version("verifier"), 2);
    assert_int_equal(count_rows("SELECT COUNT(*) FROM m_a WHERE note = 'v2'"), 1);
    /* re-run: nothing applied twice (the seed insert would collide) */
    OK(kl_db_migrate(fx.db, "verifier", steps3, 2));
    assert_int_equal(schema_version("verifier"), 2);
    assert_int_equal(count_rows("SELECT COUNT(*) FROM m_a"), 1);
    /* a newer binary adds a step; versions need not be contiguous */
    OK(kl_db_migrate(fx.db, "verifier", steps3, 3));
    assert_int_equal(schema_version("verifier"), 5);
    assert_int_equal(count_rows("SELECT COUNT(*) FROM m_c"), 0);
    /* components are independent */
    OK(kl_db_migrate(fx.db, "registrar", steps3 + 2, 0));
    assert_int_equal(schema_version("registrar"), 0);
    /* the older binary is refused, and told what to do */
    assert_int_equal(kl_db_migrate(fx.db, "verifier", steps3, 2), KL_EUNSUPPORTED);
    assert_non_null(strstr(kl_err_msg(), "newer than this binary"));
    assert_non_null(strstr(kl_err_msg(), "restore a backup"));
    assert_int_equal(schema_version("verifier"), 5);
}

static void
test_db_migrate_failed_step(void **state)
{
    static const kl_db_migration bad[] = {
        {1, "CREATE TABLE m_a (id INTEGER PRIMARY KEY)"},
        {2, "CREATE TABLE m_c (id INTEGER); INSERT INTO nosuchtable VALUES (1)"},
    };
    static const kl_db_migration unordered[] = {{2, "SELECT 1"}, {2, "SELECT 1"}};
    static const kl_db_migration zero[] = {{0, "SELECT 1"}};
    kl_db_rows *r = NULL;

    (void)state;
    assert_int_equal(kl_db_migrate(fx.db, "verifier", bad, 2), KL_EIO);
    assert_non_null(strstr(kl_err_msg(), "version 2"));
    assert_int_equal(schema_version("verifier"), 1);
    /* the step's first statement was rolled back with it */
    assert_int_equal(kl_db_query(fx.db, &r, "SELECT COUNT(*) FROM m_c", NULL, 0), KL_EIO);
    assert_int_equal(kl_db_migrate(fx.db, "verifier", unordered, 2), KL_EINVAL);
    assert_int_equal(kl_db_migrate(fx.db, "verifier", zero, 1), KL_EINVAL);
    assert_int_equal(kl_db_migrate(fx.db, "", bad, 1), KL_EINVAL);
    assert_int_equal(kl_db_migrate(fx.db, "verifier", NULL, 1), KL_EINVAL);
    /* fixing the step lets it through */
    OK(kl_db_migrate(fx.db, "verifier", steps3 + 2, 1));
    assert_int_equal(schema_version("verifier"), 5);
}

/* ---- SQLite only ---- */

static void
test_db_sqlite_file(void **state)
{
    char path[600];
    struct stat st;
    kl_db_rows *r = NULL;

    (void)state;
    exec_ok(T_CREATE);
    exec_ok("INSERT INTO t (id) VALUES (1)");
    snprintf(path, sizeof(path), "%s/test.sqlite", fx.dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    snprintf(path, sizeof(path), "%s/test.sqlite-wal", fx.dir);
    assert_int_equal(stat(path, &st), 0); /* WAL mode, same permissions */
    assert_int_equal(st.st_mode & 0777, 0600);
    OK(kl_db_query(fx.db, &r, "PRAGMA journal_mode", NULL, 0));
    assert_string_equal(kl_db_rows_get(r, 0, 0), "wal");
    kl_db_rows_free(r);
    OK(kl_db_query(fx.db, &r, "PRAGMA busy_timeout", NULL, 0));
    assert_string_equal(kl_db_rows_get(r, 0, 0), "5000");
    kl_db_rows_free(r);
    OK(kl_db_query(fx.db, &r, "PRAGMA foreign_keys", NULL, 0));
    assert_string_equal(kl_db_rows_get(r, 0, 0), "1");
    kl_db_rows_free(r);
}

static void
test_db_sqlite_paths(void **state)
{
    char url[600], path[600];
    kl_db *db = NULL;

    (void)state;
    /* "sqlite" keyword: <work_dir>/<default_name> */
    OK(kl_db_open(&db, "sqlite", fx.dir, "reg_data.sqlite"));
    kl_db_close(db);
    snprintf(path, sizeof(path), "%s/reg_data.sqlite", fx.dir);
    assert_int_equal(access(path, F_OK), 0);
    unlink(path);
    /* relative path: under the work dir */
    OK(kl_db_open(&db, "sqlite:///rel.sqlite", fx.dir, "unused"));
    kl_db_close(db);
    snprintf(path, sizeof(path), "%s/rel.sqlite", fx.dir);
    assert_int_equal(access(path, F_OK), 0);
    unlink(path);
    /* a missing directory is an error that names it */
    snprintf(url, sizeof(url), "sqlite:///%s/nodir/x.sqlite", fx.dir);
    assert_int_equal(kl_db_open(&db, url, NULL, NULL), KL_EIO);
    assert_null(db);
    assert_non_null(strstr(kl_err_msg(), "nodir' for database"));
    assert_non_null(strstr(kl_err_msg(), "does not exist"));
    /* in memory */
    OK(kl_db_open(&db, "sqlite://", NULL, NULL));
    assert_int_equal(kl_db_exec(db, "CREATE TABLE x (a INTEGER)", NULL, 0, NULL), KL_OK);
    kl_db_close(db);
}

typedef struct {
    const char *url;
    const char *key[6];
    const char *val[6];
} url_case;

static void
test_db_url_parse(void **state)
{
    static const url_case good[] = {
        {"sqlite", {"path"}, {"/w/reg.sqlite"}},
        {"", {"path"}, {"/w/reg.sqlite"}},
        {NULL, {"path"}, {"/w/reg.sqlite"}},
        {"sqlite:////var/lib/keylime/cv.sqlite", {"path"}, {"/var/lib/keylime/cv.sqlite"}},
        {"sqlite:///sub/x.db", {"path"}, {"/w/sub/x.db"}},
        {"sqlite:///:memory:", {"path"}, {":memory:"}},
        {"postgresql://us%40er:p%3Aw%2F%25@db.example:5433/keylime?sslmode=verify-full&"
         "application_name=kl+test%21",
         {"user", "password", "host", "port", "dbname", "application_name"},
         {"us@er", "p:w/%", "db.example", "5433", "keylime", "kl test!"}},
        {"postgresql+psycopg2://kl@/keylime?host=/run/postgresql",
         {"user", "password", "host", "dbname", "client_encoding", "connect_timeout"},
         {"kl", NULL, "/run/postgresql", "keylime", "UTF8", "10"}},
        {"postgresql://[::1]:5432/db", {"host", "port", "dbname"}, {"::1", "5432", "db"}},
        {"postgresql://h/db?password=sec&connect_timeout=3&host=other",
         {"password", "connect_timeout", "host"},
         {"sec", "3", "other"}},
        {"postgresql://h", {"host", "dbname", "user"}, {"h", NULL, NULL}},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        kl_db_url u;

        if (kl_db_url_parse(&u, good[i].url, "/w", "reg.sqlite") != KL_OK)
            fail_msg("%s: %s", good[i].url, kl_err_msg());
        for (size_t k = 0; k < 6 && good[i].key[k] != NULL; k++) {
            const char *got =
                strcmp(good[i].key[k], "path") == 0 ? u.path : kl_db_url_get(&u, good[i].key[k]);

            if (good[i].val[k] == NULL)
                assert_null(got);
            else
                assert_string_equal(got, good[i].val[k]);
        }
        assert_int_equal(u.engine, u.path != NULL ? KL_DB_ENGINE_SQLITE : KL_DB_ENGINE_PG);
        assert_null(strstr(u.display, "p:w"));
        assert_null(strstr(u.display, "%3A"));
        assert_null(strstr(u.display, "sec"));
        kl_db_url_free(&u);
    }
}

static void
test_db_url_bad(void **state)
{
    static const struct {
        const char *url;
        const char *work_dir;
        kl_rc rc;
    } bad[] = {
        {"mysql+pymysql://u:p@h/db", "/w", KL_EUNSUPPORTED},
        {"postgres://h/db", "/w", KL_EPARSE},
        {"postgresql://h:0/db", "/w", KL_EPARSE},
        {"postgresql://h:65536/db", "/w", KL_EPARSE},
        {"postgresql://h:5x/db", "/w", KL_EPARSE},
        {"postgresql://h:/db", "/w", KL_EPARSE},
        {"postgresql://u:secretpw%zz@h/db", "/w", KL_EPARSE},
        {"postgresql://u:secretpw%2@h/db", "/w", KL_EPARSE},
        {"postgresql://u:secretpw%00@h/db", "/w", KL_EPARSE},
        {"postgresql://h/db?sslmode", "/w", KL_EPARSE},
        {"postgresql://h/db?=x", "/w", KL_EPARSE},
        {"postgresql://[::1/db", "/w", KL_EPARSE},
        {"postgresql://[::1]x/db", "/w", KL_EPARSE},
        {"sqlite:/x.db", "/w", KL_EPARSE},
        {"sqlite://host/x.db", "/w", KL_EPARSE},
        {"sqlite:///", "/w", KL_EPARSE},
        {"sqlite:////x.db?mode=ro", "/w", KL_EUNSUPPORTED},
        {"justtext", "/w", KL_EPARSE},
        {"sqlite", NULL, KL_EINVAL},
        {"sqlite:///rel.db", NULL, KL_EINVAL},
    };
    char many[600] = "postgresql://h/db?";
    char *huge = kl_malloc(5001);
    kl_db_url u;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        kl_rc rc = kl_db_url_parse(&u, bad[i].url, bad[i].work_dir, "x.sqlite");

        if (rc != bad[i].rc)
            fail_msg("%s: got %d (%s), want %d", bad[i].url, rc, kl_err_msg(), bad[i].rc);
        assert_null(strstr(kl_err_msg(), "secretpw"));
        assert_null(u.display);
    }
    for (int i = 0; i < 40; i++)
        strncat(many, "a=b&", sizeof(many) - strlen(many) - 1);
    assert_int_equal(kl_db_url_parse(&u, many, NULL, NULL), KL_OK); /* same key, replaced */
    kl_db_url_free(&u);
    many[18] = '\0';
    for (int i = 0; i < 40; i++) {
        size_t len = strlen(many);

        snprintf(many + len, sizeof(many) - len, "k%d=v&", i);
    }
    assert_int_equal(kl_db_url_parse(&u, many, NULL, NULL), KL_EPARSE);
    assert_non_null(huge);
    memcpy(huge, "postgresql://", 13);
    memset(huge + 13, 'h', 5000 - 13);
    huge[5000] = '\0';
    assert_int_equal(kl_db_url_parse(&u, huge, NULL, NULL), KL_ETOOBIG);
    kl_free(huge);
}

static void
test_db_url_alloc_failures(void **state)
{
    const char *url = "postgresql://us%40er:pw@h:5432/db?sslmode=require&host=/s";

    (void)state;
    for (size_t nth = 1; nth < 64; nth++) {
        kl_db_url u;
        kl_rc rc;

        kl_alloc_fail_at(nth);
        rc = kl_db_url_parse(&u, url, NULL, NULL);
        kl_alloc_fail_at(0);
        if (rc == KL_OK) {
            kl_db_url_free(&u);
            return;
        }
        assert_int_equal(rc, KL_ENOMEM);
    }
    fail_msg("allocation sweep did not finish");
}

static void
test_db_pg_rewrite(void **state)
{
    static const struct {
        const char *in, *out;
        size_t n;
    } cases[] = {
        {"SELECT ?", "SELECT $1", 1},
        {"INSERT INTO t VALUES (?, '?', \"?\", ?)", "INSERT INTO t VALUES ($1, '?', \"?\", $2)", 2},
        {"SELECT 'it''s ?', ? -- ?\n, ? /* ? */", "SELECT 'it''s ?', $1 -- ?\n, $2 /* ? */", 2},
        {"SELECT 1 - 1, 2 / 2", "SELECT 1 - 1, 2 / 2", 0},
    };
    kl_buf b;
    size_t n = 0;

    (void)state;
    kl_buf_init(&b, 4096);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        OK(kl_db_pg_rewrite(&b, cases[i].in, &n));
        assert_string_equal((const char *)b.ptr, cases[i].out);
        assert_int_equal(n, cases[i].n);
    }
    assert_int_equal(kl_db_pg_rewrite(&b, "SELECT 'open", &n), KL_EPARSE);
    assert_int_equal(kl_db_pg_rewrite(&b, "SELECT \"open", &n), KL_EPARSE);
    assert_int_equal(kl_db_pg_rewrite(&b, "SELECT 1 /* open", &n), KL_EPARSE);
    kl_buf_free(&b);
}

static void
test_db_pg_unreachable(void **state)
{
    kl_db *db = NULL;

    (void)state;
    /* port 1 on loopback refuses at once; the message hides the password */
    assert_int_equal(
        kl_db_open(&db, "postgresql://u:s3cr3tpw@127.0.0.1:1/db?connect_timeout=2", NULL, NULL),
        KL_EIO);
    assert_null(db);
    assert_null(strstr(kl_err_msg(), "s3cr3tpw"));
    assert_non_null(strstr(kl_err_msg(), "u:***@127.0.0.1:1/db"));
}

/* ---- PostgreSQL only ---- */

static void
test_db_pg_bad_password(void **state)
{
    char url[600];
    kl_db *db = NULL;

    (void)state;
    snprintf(url, sizeof(url), "postgresql://%s:wr0ngpw@%s:%s/%s", getenv("KL_TEST_PG_USER"),
             getenv("KL_TEST_PG_HOST"), getenv("KL_TEST_PG_PORT"), getenv("KL_TEST_PG_DB"));
    assert_int_equal(kl_db_open(&db, url, NULL, NULL), KL_EIO);
    assert_null(strstr(kl_err_msg(), "wr0ngpw"));
    assert_non_null(strstr(kl_err_msg(), "password authentication failed"));
}

static void
test_db_pg_socket(void **state)
{
    const char *url = getenv("KL_TEST_PG_SOCKET_URL");
    kl_db *db = NULL;
    kl_db_rows *r = NULL;

    (void)state;
    if (url == NULL)
        skip();
    OK(kl_db_open(&db, url, NULL, NULL));
    OK(kl_db_query(db, &r, "SELECT current_user", NULL, 0));
    assert_string_equal(kl_db_rows_get(r, 0, 0), getenv("KL_TEST_PG_USER"));
    kl_db_rows_free(r);
    kl_db_close(db);
}

static void
kill_backend(kl_db *victim)
{
    kl_db *other = NULL;
    kl_db_rows *r = NULL;
    kl_db_val p[1];

    OK(kl_db_query(victim, &r, "SELECT pg_backend_pid()", NULL, 0));
    p[0] = KL_DB_S(kl_db_rows_get(r, 0, 0));
    OK(kl_db_open(&other, fx.url, NULL, NULL));
    OK(kl_db_exec(other, "SELECT pg_terminate_backend(CAST(? AS INTEGER))", p, 1, NULL));
    kl_db_rows_free(r);
    kl_db_close(other);
    usleep(100 * 1000);
}

static void
test_db_pg_reconnect(void **state)
{
    (void)state;
    exec_ok(T_CREATE);
    /* outside a transaction: one reconnect, and the statement runs */
    kill_backend(fx.db);
    assert_int_equal(count_rows("SELECT COUNT(*) FROM t"), 0);
    /* inside one: the transaction is gone, which the caller must learn */
    OK(kl_db_begin(fx.db));
    exec_ok("INSERT INTO t (id) VALUES (1)");
    kill_backend(fx.db);
    assert_int_equal(kl_db_exec(fx.db, "INSERT INTO t (id) VALUES (2)", NULL, 0, NULL), KL_EIO);
    kl_db_rollback(fx.db);
    assert_int_equal(count_rows("SELECT COUNT(*) FROM t"), 0);
}

#define BOTH(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(int argc, char **argv)
{
    const struct CMUnitTest common[] = {
        BOTH(test_db_exec_query_params), BOTH(test_db_literal_question_mark),
        BOTH(test_db_unicode),           BOTH(test_db_large_text),
        BOTH(test_db_unique_violation),  BOTH(test_db_foreign_key),
        BOTH(test_db_transactions),      BOTH(test_db_bad_statements),
        BOTH(test_db_migrate),           BOTH(test_db_migrate_failed_step),
    };
    const struct CMUnitTest sqlite_only[] = {
        BOTH(test_db_sqlite_file),
        BOTH(test_db_sqlite_paths),
        cmocka_unit_test(test_db_url_parse),
        cmocka_unit_test(test_db_url_bad),
        cmocka_unit_test(test_db_url_alloc_failures),
        cmocka_unit_test(test_db_pg_rewrite),
        cmocka_unit_test(test_db_pg_unreachable),
    };
    const struct CMUnitTest pg_only[] = {
        cmocka_unit_test(test_db_pg_bad_password),
        cmocka_unit_test(test_db_pg_socket),
        BOTH(test_db_pg_reconnect),
    };
    const char *which = argc > 1 ? argv[1] : "all";
    const char *pg = getenv("KL_TEST_PG_URL");
    bool want_sqlite = strcmp(which, "postgresql") != 0;
    bool want_pg = strcmp(which, "sqlite") != 0 && pg != NULL && *pg != '\0';
    int failed = 0;

    if (strcmp(which, "postgresql") == 0 && !want_pg) {
        fprintf(stderr, "test_db postgresql: KL_TEST_PG_URL is not set; run it through "
                        "tests/db/with_postgres.sh\n");
        return 1;
    }
    if (want_sqlite) {
        failed += cmocka_run_group_tests_name("db_sqlite", common, group_sqlite, group_sqlite_done);
        failed += cmocka_run_group_tests_name("db_sqlite_only", sqlite_only, group_sqlite,
                                              group_sqlite_done);
    }
    if (want_pg) {
        failed += cmocka_run_group_tests_name("db_postgresql", common, group_pg, NULL);
        failed += cmocka_run_group_tests_name("db_postgresql_only", pg_only, group_pg, NULL);
    }
    return failed == 0 ? 0 : 1;
}
