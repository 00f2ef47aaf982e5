/* db_migrate: numbered schema steps, recorded per component in
 * kl_schema(component, version). Each pending step runs in its own
 * transaction together with the version update, so a failed step leaves
 * the database at the previous version. A database newer than the steps
 * this binary carries is refused with KL_EUNSUPPORTED.
 */
#include "db/db_int.h"
#include "util/kl_alloc.h"

#include <string.h>

static kl_rc
check_steps(const char *component, const kl_db_migration *steps, size_t n)
{
    if (component == NULL || *component == '\0')
        return kl_err_set(KL_EINVAL, "db: migrations need a component name");
    if (n > 0 && steps == NULL)
        return kl_err_set(KL_EINVAL, "db: %zu migrations announced but none given", n);
    for (size_t i = 0; i < n; i++) {
        if (steps[i].sql == NULL || steps[i].version < 1 ||
            (i > 0 && steps[i].version <= steps[i - 1].version))
            return kl_err_set(KL_EINVAL,
                              "db: %s migration %zu: versions must start at 1 and "
                              "increase, and each step needs SQL",
                              component, i + 1);
    }
    return KL_OK;
}

static kl_rc
current_version(kl_db *db, const char *component, int64_t *out)
{
    kl_db_val p[] = {KL_DB_S(component)};
    kl_db_rows *r = NULL;
    kl_rc rc;

    *out = 0;
    rc = kl_db_query(db, &r, "SELECT version FROM kl_schema WHERE component = ?", p, 1);
    if (rc == KL_OK && kl_db_rows_count(r) > 0 && !kl_db_rows_int(r, 0, 0, out))
        rc = kl_err_set(KL_EPARSE, "db: kl_schema holds a non-integer version for '%s'", component);
    kl_db_rows_free(r);
    return rc;
}

static kl_rc
set_version(kl_db *db, const char *component, int version)
{
    kl_db_val p[] = {KL_DB_I(version), KL_DB_S(component)};
    uint64_t changed = 0;
    kl_rc rc;

    rc = kl_db_exec(db, "UPDATE kl_schema SET version = ? WHERE component = ?", p, 2, &changed);
    if (rc == KL_OK && changed == 0)
        rc = kl_db_exec(db, "INSERT INTO kl_schema (version, component) VALUES (?, ?)", p, 2, NULL);
    return rc;
}

/* True if s[0..n) holds only white space and "--" comments. */
static bool
blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '-' && i + 1 < n && s[i + 1] == '-') {
            while (i < n && s[i] != '\n')
                i++;
        } else if (strchr(" \t\r\n\f\v", s[i]) == NULL) {
            return false;
        }
    }
    return true;
}

/* Runs each ';'-separated statement of sql. */
static kl_rc
run_statements(kl_db *db, const char *sql)
{
    kl_rc rc = KL_OK;

    while (rc == KL_OK && *sql != '\0') {
        size_t n = strcspn(sql, ";");

        if (!blank(sql, n)) {
            char *one = kl_strndup(sql, n);

            if (one == NULL)
                return kl_err_set(KL_ENOMEM, "db: out of memory");
            rc = kl_db_exec(db, one, NULL, 0, NULL);
            kl_free(one);
        }
        sql += n + (sql[n] == ';');
    }
    return rc;
}

static kl_rc
apply_step(kl_db *db, const char *component, const kl_db_migration *step)
{
    int64_t cur = 0;
    kl_rc rc;

    rc = kl_db_begin(db);
    if (rc != KL_OK)
        goto out;
    /* read again under the transaction: another process may have migrated */
    rc = current_version(db, component, &cur);
    if (rc == KL_OK && cur < step->version) {
        rc = run_statements(db, step->sql);
        if (rc == KL_OK)
            rc = set_version(db, component, step->version);
    }
    if (rc == KL_OK)
        rc = kl_db_commit(db);
out:
    if (rc != KL_OK) {
        kl_db_rollback(db);
        rc = kl_err_wrap(rc,
                         "db: %s schema migration to version %d failed (the database "
                         "stays at the previous version): ",
                         component, step->version);
    }
    return rc;
}

kl_rc
kl_db_migrate(kl_db *db, const char *component, const kl_db_migration *steps, size_t n)
{
    int64_t cur = 0;
    int latest;
    kl_rc rc;

    if (db == NULL)
        return kl_err_set(KL_EINVAL, "db: no database handle");
    rc = check_steps(component, steps, n);
    if (rc == KL_OK)
        rc = kl_db_exec(db,
                        "CREATE TABLE IF NOT EXISTS kl_schema (component TEXT PRIMARY KEY, "
                        "version INTEGER NOT NULL)",
                        NULL, 0, NULL);
    if (rc == KL_OK)
        rc = current_version(db, component, &cur);
    if (rc != KL_OK)
        return rc;
    latest = n > 0 ? steps[n - 1].version : 0;
    if (cur > latest)
        return kl_err_set(KL_EUNSUPPORTED,
                          "db: the %s schema in the database is at version %lld, newer than "
                          "this binary knows (%d): run the keylime-c release that upgraded it, "
                          "or restore a backup of the database taken before that upgrade",
                          component, (long long)cur, latest);
    for (size_t i = 0; rc == KL_OK && i < n; i++) {
        if (steps[i].version > cur)
            rc = apply_step(db, component, &steps[i]);
    }
    return rc;
}
