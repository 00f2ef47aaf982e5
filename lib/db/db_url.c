/* db_url: database_url as upstream writes it (SQLAlchemy URLs), turned into
 * a SQLite file path or a list of libpq connection keywords.
 *
 *   "" / "sqlite"               <work_dir>/<default_name>
 *   "sqlite:////abs/file"        /abs/file
 *   "sqlite:///rel/file"         <work_dir>/rel/file
 *   "sqlite://", "sqlite:///:memory:"   an in-memory database (tests)
 *   "postgresql[+driver]://[user[:password]@][host|[v6]][:port][/db][?k=v&...]"
 *
 * User and password are percent-decoded, query keys and values too (with
 * '+' as space, as Python's parse_qsl). Query options are passed to libpq as
 * keywords of the same name (host=/socket/dir, sslmode=..., ...) and win
 * over the authority part. libpq gets the keywords one by one, never a
 * conninfo string assembled here.
 */
#include "db/db_int.h"
#include "util/kl_alloc.h"
#include "util/kl_hex.h"

#include <string.h>

#define URL_MAX 4096

/* Percent-decodes s[0..n) into a new string; plus_space turns '+' into ' '. */
static kl_rc
pct_decode(char **out, const char *s, size_t n, bool plus_space, const char *what)
{
    char *d = kl_malloc(n + 1);
    size_t j = 0;

    *out = NULL;
    if (d == NULL)
        return kl_err_set(KL_ENOMEM, "db: out of memory");
    for (size_t i = 0; i < n; i++) {
        int hi, lo;

        if (s[i] == '+' && plus_space) {
            d[j++] = ' ';
            continue;
        }
        if (s[i] != '%') {
            d[j++] = s[i];
            continue;
        }
        hi = i + 2 < n ? kl_hex_digit((uint8_t)s[i + 1]) : -1;
        lo = hi >= 0 ? kl_hex_digit((uint8_t)s[i + 2]) : -1;
        if (lo < 0 || (hi == 0 && lo == 0)) {
            kl_wipe(d, n + 1);
            kl_free(d);
            return kl_err_set(KL_EPARSE,
                              "db: bad percent escape in the %s of database_url "
                              "(write special characters as %%XX)",
                              what);
        }
        d[j++] = (char)(hi * 16 + lo);
        i += 2;
    }
    d[j] = '\0';
    *out = d;
    return KL_OK;
}

/* Sets keyword key to the decoded raw[0..n), replacing an earlier value. */
static kl_rc
set_opt(kl_db_url *u, const char *key, size_t keylen, const char *raw, size_t n, bool plus)
{
    char *k = NULL, *v = NULL;
    kl_rc rc;

    rc = pct_decode(&k, key, keylen, plus, "option names");
    if (rc == KL_OK && *k == '\0')
        rc = kl_err_set(KL_EPARSE, "db: empty option name in database_url");
    if (rc == KL_OK)
        rc = pct_decode(&v, raw, n, plus, strcmp(k, "password") == 0 ? "password" : "options");
    if (rc != KL_OK)
        goto out;
    for (size_t i = 0; i < u->nopts; i++) {
        if (strcmp(u->keys[i], k) == 0) {
            kl_wipe(u->vals[i], strlen(u->vals[i]));
            kl_free(u->vals[i]);
            u->vals[i] = v;
            v = NULL;
            goto out;
        }
    }
    if (u->nopts == KL_DB_URL_MAX_OPTS) {
        rc = kl_err_set(KL_EPARSE, "db: more than %d options in database_url", KL_DB_URL_MAX_OPTS);
        goto out;
    }
    u->keys[u->nopts] = k;
    u->vals[u->nopts++] = v;
    k = v = NULL;
out:
    if (v != NULL)
        kl_wipe(v, strlen(v));
    kl_free(k);
    kl_free(v);
    return rc;
}

static kl_rc
join_path(kl_db_url *u, const char *dir, const char *name)
{
    kl_buf b;
    kl_rc rc;

    if (dir == NULL || *dir == '\0' || name == NULL || *name == '\0')
        return kl_err_set(KL_EINVAL, "db: a relative SQLite path needs the work directory");
    kl_buf_init(&b, URL_MAX * 2);
    rc = kl_buf_printf(&b, "%s/%s", dir, name);
    if (rc == KL_OK)
        rc = kl_buf_terminate(&b);
    if (rc == KL_OK)
        u->path = (char *)kl_buf_take(&b, NULL);
    kl_buf_free(&b);
    return rc;
}

/* s points just after "sqlite:". */
static kl_rc
parse_sqlite(kl_db_url *u, const char *s, const char *work_dir)
{
    u->engine = KL_DB_ENGINE_SQLITE;
    if (strncmp(s, "//", 2) != 0)
        return kl_err_set(KL_EPARSE, "db: SQLite URLs look like sqlite:////abs/file or "
                                     "sqlite:///relative/file");
    s += 2;
    if (*s == '\0' || strcmp(s, "/:memory:") == 0) {
        u->path = kl_strdup(":memory:");
        return u->path != NULL ? KL_OK : kl_err_set(KL_ENOMEM, "db: out of memory");
    }
    if (*s != '/')
        return kl_err_set(KL_EPARSE, "db: SQLite URLs take no host; use sqlite:////abs/file");
    s++;
    if (strchr(s, '?') != NULL)
        return kl_err_set(KL_EUNSUPPORTED, "db: SQLite URL options (?...) are not supported");
    if (*s == '\0')
        return kl_err_set(KL_EPARSE, "db: the SQLite URL names no file");
    if (*s == '/') {
        u->path = kl_strdup(s);
        return u->path != NULL ? KL_OK : kl_err_set(KL_ENOMEM, "db: out of memory");
    }
    return join_path(u, work_dir, s);
}

static kl_rc
parse_port(const char *p, size_t n)
{
    unsigned long v = 0;

    if (n == 0 || n > 5)
        goto bad;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            goto bad;
        v = v * 10 + (unsigned long)(p[i] - '0');
    }
    if (v >= 1 && v <= 65535)
        return KL_OK;
bad:
    return kl_err_set(KL_EPARSE, "db: bad port '%.*s' in database_url (1-65535)", (int)n, p);
}

/* userinfo "user[:password]"; display gets "user[:***]@". */
static kl_rc
parse_userinfo(kl_db_url *u, const char *s, size_t n, kl_buf *disp)
{
    const char *colon = memchr(s, ':', n);
    size_t ulen = colon != NULL ? (size_t)(colon - s) : n;
    kl_rc rc = KL_OK;

    if (ulen > 0)
        rc = set_opt(u, "user", 4, s, ulen, false);
    if (rc == KL_OK && colon != NULL)
        rc = set_opt(u, "password", 8, colon + 1, n - ulen - 1, false);
    if (rc == KL_OK)
        rc = kl_buf_printf(disp, "%.*s%s@", (int)ulen, s, colon != NULL ? ":***" : "");
    return rc;
}

/* host[:port] or [v6][:port]; both may be empty (unix socket default). */
static kl_rc
parse_hostport(kl_db_url *u, const char *s, size_t n)
{
    const char *port = NULL, *hend = s + n;
    const char *h = s;
    kl_rc rc = KL_OK;

    if (n > 0 && *s == '[') {
        const char *rb = memchr(s, ']', n);

        if (rb == NULL || (rb + 1 < s + n && rb[1] != ':'))
            return kl_err_set(KL_EPARSE, "db: bad IPv6 host in database_url");
        h = s + 1;
        hend = rb;
        port = rb + 1 < s + n ? rb + 2 : NULL;
    } else {
        const char *colon = memchr(s, ':', n);

        if (colon != NULL) {
            hend = colon;
            port = colon + 1;
        }
    }
    if (hend > h)
        rc = set_opt(u, "host", 4, h, (size_t)(hend - h), false);
    if (rc == KL_OK && port != NULL) {
        rc = parse_port(port, (size_t)(s + n - port));
        if (rc == KL_OK)
            rc = set_opt(u, "port", 4, port, (size_t)(s + n - port), false);
    }
    return rc;
}

/* "k=v&k2=v2"; display gets the same with password values hidden. */
static kl_rc
parse_query(kl_db_url *u, const char *q, kl_buf *disp)
{
    kl_rc rc = KL_OK;
    char sep = '?';

    while (rc == KL_OK && *q != '\0') {
        size_t n = strcspn(q, "&");
        const char *eq = memchr(q, '=', n);

        if (n > 0 && eq == NULL)
            return kl_err_set(KL_EPARSE, "db: database_url option '%.*s' has no '=value'", (int)n,
                              q);
        if (n > 0) {
            size_t klen = (size_t)(eq - q);
            bool secret = klen == 8 && strncmp(q, "password", 8) == 0;

            rc = set_opt(u, q, klen, eq + 1, n - klen - 1, true);
            if (rc == KL_OK)
                rc = kl_buf_printf(disp, "%c%.*s", sep, (int)(secret ? klen + 1 : n), q);
            if (rc == KL_OK && secret)
                rc = kl_buf_append_str(disp, "***");
            sep = '&';
        }
        q += n + (q[n] == '&');
    }
    return rc;
}

/* s points just after "://". */
static kl_rc
parse_pg(kl_db_url *u, const char *s, kl_buf *disp)
{
    size_t pre = strcspn(s, "?");
    size_t auth = strcspn(s, "/?");
    const char *at = NULL;
    kl_rc rc = KL_OK;

    u->engine = KL_DB_ENGINE_PG;
    for (const char *p = s; p < s + auth; p++)
        if (*p == '@')
            at = p;
    if (at != NULL)
        rc = parse_userinfo(u, s, (size_t)(at - s), disp);
    if (rc != KL_OK)
        return rc;
    at = at != NULL ? at + 1 : s;
    rc = parse_hostport(u, at, (size_t)(s + auth - at));
    if (rc == KL_OK)
        rc = kl_buf_append(disp, at, pre - (size_t)(at - s));
    if (rc == KL_OK && auth + 1 < pre)
        rc = set_opt(u, "dbname", 6, s + auth + 1, pre - auth - 1, false);
    if (rc == KL_OK && s[pre] == '?')
        rc = parse_query(u, s + pre + 1, disp);
    if (rc == KL_OK && kl_db_url_get(u, "client_encoding") == NULL)
        rc = set_opt(u, "client_encoding", 15, "UTF8", 4, false);
    if (rc == KL_OK && kl_db_url_get(u, "connect_timeout") == NULL)
        rc = set_opt(u, "connect_timeout", 15, "10", 2, false);
    return rc;
}

static kl_rc
parse_any(kl_db_url *u, const char *url, const char *work_dir, const char *default_name,
          kl_buf *disp)
{
    const char *sep;
    size_t slen;

    if (url == NULL || *url == '\0' || strcmp(url, "sqlite") == 0) {
        u->engine = KL_DB_ENGINE_SQLITE;
        return join_path(u, work_dir, default_name);
    }
    if (strlen(url) > URL_MAX)
        return kl_err_set(KL_ETOOBIG, "db: database_url is longer than %d bytes", URL_MAX);
    if (strncmp(url, "sqlite:", 7) == 0)
        return parse_sqlite(u, url + 7, work_dir);
    sep = strstr(url, "://");
    if (sep == NULL)
        return kl_err_set(KL_EPARSE, "db: database_url is neither 'sqlite' nor a URL "
                                     "(sqlite:////path, postgresql://user:pw@host/db)");
    slen = (size_t)(sep - url);
    if ((slen == 10 || (slen > 11 && url[10] == '+')) && strncmp(url, "postgresql", 10) == 0) {
        kl_rc rc = kl_buf_append_str(disp, "postgresql://");

        return rc != KL_OK ? rc : parse_pg(u, sep + 3, disp);
    }
    if (slen == 8 && strncmp(url, "postgres", 8) == 0)
        return kl_err_set(KL_EPARSE, "db: write postgresql://, not postgres:// "
                                     "(as SQLAlchemy requires)");
    return kl_err_set(KL_EUNSUPPORTED,
                      "db: database engine '%.*s' is not supported; "
                      "use sqlite or postgresql",
                      (int)slen, url);
}

kl_rc
kl_db_url_parse(kl_db_url *out, const char *url, const char *work_dir, const char *default_name)
{
    kl_buf disp;
    kl_rc rc;

    memset(out, 0, sizeof(*out));
    kl_buf_init(&disp, URL_MAX * 2);
    rc = parse_any(out, url, work_dir, default_name, &disp);
    if (rc == KL_OK && out->engine == KL_DB_ENGINE_SQLITE)
        rc = kl_buf_printf(&disp, "sqlite:%s", out->path);
    if (rc == KL_OK)
        rc = kl_buf_terminate(&disp);
    if (rc == KL_OK)
        out->display = (char *)kl_buf_take(&disp, NULL);
    kl_buf_free(&disp);
    if (rc != KL_OK)
        kl_db_url_free(out);
    return rc;
}

const char *
kl_db_url_get(const kl_db_url *u, const char *key)
{
    for (size_t i = 0; i < u->nopts; i++)
        if (strcmp(u->keys[i], key) == 0)
            return u->vals[i];
    return NULL;
}

void
kl_db_url_free(kl_db_url *u)
{
    if (u == NULL)
        return;
    for (size_t i = 0; i < u->nopts; i++) {
        if (strcmp(u->keys[i], "password") == 0)
            kl_wipe(u->vals[i], strlen(u->vals[i]));
        kl_free(u->keys[i]);
        kl_free(u->vals[i]);
    }
    kl_free(u->path);
    kl_free(u->display);
    memset(u, 0, sizeof(*u));
}
