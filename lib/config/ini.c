/* ini: ordered section/option store and the RawConfigParser-compatible
 * reader (see ini.h). */
#include "config/ini.h"

#include "config/config_int.h"
#include "util/kl_alloc.h"
#include "util/kl_buf.h"

#include <ctype.h>
#include <string.h>

typedef struct {
    kl_ini_value v; /* v.value == value, v.list == &list when is_array */
    char *key;
    char *value;
    kl_strlist list;
    unsigned gen; /* the file that last set it */
} entry;

typedef struct {
    char *name;
    unsigned hdr_gen; /* the file whose header was last seen */
    unsigned hdr_line;
    entry **e;
    size_t n, cap;
} section;

struct kl_ini {
    section **s;
    size_t n, cap;
    char **files;
    size_t n_files; /* the current file is files[n_files - 1]; gen = n_files */
    size_t n_opts;
};

kl_rc
kl_ini_new(kl_ini **out)
{
    *out = kl_calloc(1, sizeof(**out));
    return *out ? KL_OK : kl_err_set(KL_ENOMEM, "config: out of memory");
}

static void
entry_free(entry *e)
{
    if (!e)
        return;
    kl_free(e->key);
    /* values may be passwords */
    if (e->value)
        kl_wipe(e->value, strlen(e->value));
    kl_free(e->value);
    kl_strlist_free(&e->list);
    kl_free(e);
}

void
kl_ini_free(kl_ini *doc)
{
    if (!doc)
        return;
    for (size_t i = 0; i < doc->n; i++) {
        for (size_t j = 0; j < doc->s[i]->n; j++)
            entry_free(doc->s[i]->e[j]);
        kl_free(doc->s[i]->e);
        kl_free(doc->s[i]->name);
        kl_free(doc->s[i]);
    }
    for (size_t i = 0; i < doc->n_files; i++)
        kl_free(doc->files[i]);
    kl_free(doc->files);
    kl_free(doc->s);
    kl_free(doc);
}

static kl_rc
oom(void)
{
    return kl_err_set(KL_ENOMEM, "config: out of memory");
}

/* Grows an array of n pointers at p so that one more fits; returns the
 * (maybe moved) array, or NULL when out of memory (p is then untouched). */
static void *
grow(void *p, size_t n, size_t *cap)
{
    size_t c = *cap ? *cap * 2 : 8;

    if (n < *cap)
        return p;
    p = kl_reallocarray(p, c, sizeof(void *));
    if (p)
        *cap = c;
    return p;
}

static const char *
cur_file(const kl_ini *doc)
{
    return doc->n_files ? doc->files[doc->n_files - 1] : "(text)";
}

kl_rc
kl_ini_begin_file(kl_ini *doc, const char *name)
{
    char **files = kl_reallocarray(doc->files, doc->n_files + 1, sizeof(*files));

    if (!files)
        return oom();
    doc->files = files;
    files[doc->n_files] = kl_strdup(name ? name : "(text)");
    if (!files[doc->n_files])
        return oom();
    doc->n_files++;
    return KL_OK;
}

static section *
find_section(const kl_ini *doc, const char *name)
{
    for (size_t i = 0; i < doc->n; i++)
        if (strcmp(doc->s[i]->name, name) == 0)
            return doc->s[i];
    return NULL;
}

static entry *
find_entry(const section *s, const char *key)
{
    for (size_t i = 0; s && i < s->n; i++)
        if (strcmp(s->e[i]->key, key) == 0)
            return s->e[i];
    return NULL;
}

static kl_rc
get_section(kl_ini *doc, const char *name, unsigned line, section **out)
{
    section *s = find_section(doc, name), **sects;

    if (s) {
        *out = s;
        return KL_OK;
    }
    if (doc->n >= KL_INI_MAX_SECTIONS)
        return kl_err_set(KL_ETOOBIG, "%s:%u: more than %d sections", cur_file(doc), line,
                          KL_INI_MAX_SECTIONS);
    sects = grow(doc->s, doc->n, &doc->cap);
    if (!sects)
        return oom();
    doc->s = sects;
    s = kl_calloc(1, sizeof(*s));
    if (!s || !(s->name = kl_strdup(name))) {
        kl_free(s);
        return oom();
    }
    doc->s[doc->n++] = s;
    *out = s;
    return KL_OK;
}

kl_rc
kl_ini_section(kl_ini *doc, const char *name, unsigned line, bool strict)
{
    unsigned gen = (unsigned)doc->n_files;
    section *s = NULL;
    kl_rc rc = get_section(doc, name, line, &s);

    if (rc != KL_OK)
        return rc;
    if (strict && s->hdr_gen == gen)
        return kl_err_set(KL_EPARSE,
                          "%s:%u: section [%s] given twice in this file (first at "
                          "line %u)",
                          cur_file(doc), line, name, s->hdr_line);
    s->hdr_gen = gen;
    s->hdr_line = line;
    return KL_OK;
}

/* Replaces e's value (and list) with copies from a new source. */
static kl_rc
entry_assign(kl_ini *doc, entry *e, const char *value, kl_strlist *list, unsigned line)
{
    char *v = kl_strdup(value);

    if (!v)
        return oom();
    kl_free(e->value);
    kl_strlist_free(&e->list);
    e->value = v;
    e->v.value = v;
    e->v.list = NULL;
    if (list) {
        e->list = *list;
        memset(list, 0, sizeof(*list));
        e->v.list = &e->list;
    }
    e->v.file = cur_file(doc);
    e->v.line = line;
    e->gen = (unsigned)doc->n_files;
    return KL_OK;
}

static kl_rc
store_set(kl_ini *doc, section *s, const char *key, const char *value, kl_strlist *list,
          unsigned line, entry **out)
{
    entry *e = find_entry(s, key);

    if (e && e->gen == doc->n_files)
        return kl_err_set(KL_EPARSE,
                          "%s:%u: option '%s' in section [%s] given twice in this "
                          "file (first at line %u)",
                          cur_file(doc), line, key, s->name, e->v.line);
    if (!e) {
        if (doc->n_opts >= KL_INI_MAX_OPTIONS)
            return kl_err_set(KL_ETOOBIG, "%s:%u: more than %d options", cur_file(doc), line,
                              KL_INI_MAX_OPTIONS);
        entry **es = grow(s->e, s->n, &s->cap);

        if (!es)
            return oom();
        s->e = es;
        e = kl_calloc(1, sizeof(*e));
        if (!e || !(e->key = kl_strdup(key))) {
            kl_free(e);
            return oom();
        }
        s->e[s->n++] = e;
        doc->n_opts++;
    }
    *out = e;
    return entry_assign(doc, e, value, list, line);
}

kl_rc
kl_ini_set(kl_ini *doc, const char *sect, const char *key, const char *value, kl_strlist *list,
           unsigned line)
{
    section *s = NULL;
    entry *e = NULL;
    kl_rc rc = get_section(doc, sect, line, &s);

    if (rc != KL_OK)
        return rc;
    return store_set(doc, s, key, value, list, line, &e);
}

const kl_ini_value *
kl_ini_get(const kl_ini *doc, const char *sect, const char *key)
{
    entry *e = find_entry(find_section(doc, sect), key);

    return e ? &e->v : NULL;
}

const kl_ini_value *
kl_ini_lookup(const kl_ini *doc, const char *sect, const char *key)
{
    const section *s = find_section(doc, sect);
    entry *e;

    if (!s && strcmp(sect, "DEFAULT") != 0)
        return NULL;
    e = find_entry(s, key);
    if (!e)
        e = find_entry(find_section(doc, "DEFAULT"), key);
    return e ? &e->v : NULL;
}

void
kl_ini_walk(const kl_ini *doc, kl_ini_walk_cb cb, void *payload)
{
    for (size_t i = 0; i < doc->n; i++)
        for (size_t j = 0; j < doc->s[i]->n; j++)
            cb(doc->s[i]->name, doc->s[i]->e[j]->key, &doc->s[i]->e[j]->v, payload);
}

/* --- the INI reader --- */

typedef struct {
    kl_ini *doc;
    section *sect; /* NULL before the first header */
    entry *opt;    /* the option continuation lines extend */
    size_t indent; /* indentation of the last option or header line */
    size_t blanks; /* blank lines seen inside the current value */
    unsigned line;
} ini_state;

static bool
is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

/* Appends blanks + 1 newlines and s[0..n) to the option's value. */
static kl_rc
continue_value(ini_state *st, const char *s, size_t n)
{
    entry *e = st->opt;
    size_t old = strlen(e->value), nl = st->blanks + 1;
    char *v = kl_realloc(e->value, old + nl + n + 1);

    if (!v)
        return oom();
    memset(v + old, '\n', nl);
    memcpy(v + old + nl, s, n);
    v[old + nl + n] = '\0';
    e->value = v;
    e->v.value = v;
    st->blanks = 0;
    return KL_OK;
}

static kl_rc
header_line(ini_state *st, const char *s, size_t n, size_t close)
{
    char *name = kl_strndup(s + 1, close - 1);
    kl_rc rc;

    (void)n;
    if (!name)
        return oom();
    /* RawConfigParser does not check [DEFAULT] for repeats */
    rc = kl_ini_section(st->doc, name, st->line, strcmp(name, "DEFAULT") != 0);
    if (rc == KL_OK)
        st->sect = find_section(st->doc, name);
    kl_free(name);
    st->opt = NULL;
    return rc;
}

static kl_rc
option_line(ini_state *st, const char *s, size_t n)
{
    const char *d = s, *ks, *ke, *vs, *ve;
    char *key = NULL, *val = NULL;
    kl_rc rc;

    while (d < s + n && *d != '=' && *d != ':')
        d++;
    if (d == s + n)
        return kl_err_set(KL_EPARSE,
                          "%s:%u: expected 'option = value', '[section]' or a "
                          "comment",
                          cur_file(st->doc), st->line);
    for (ks = s, ke = d; ke > ks && is_ws(ke[-1]); ke--)
        ;
    if (ke == ks)
        return kl_err_set(KL_EPARSE, "%s:%u: option name missing before '%c'", cur_file(st->doc),
                          st->line, *d);
    for (vs = d + 1, ve = s + n; vs < ve && is_ws(*vs); vs++)
        ;
    key = kl_strndup(ks, (size_t)(ke - ks));
    val = kl_strndup(vs, (size_t)(ve - vs));
    if (!key || !val) {
        rc = oom();
        goto out;
    }
    for (char *p = key; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    rc = store_set(st->doc, st->sect, key, val, NULL, st->line, &st->opt);
out:
    kl_free(key);
    kl_free(val);
    return rc;
}

/* One physical line (without its terminator). */
static kl_rc
ini_line(ini_state *st, const char *l, size_t len)
{
    const char *s = l, *e = l + len;
    size_t indent;

    while (s < e && is_ws(*s))
        s++;
    while (e > s && is_ws(e[-1]))
        e--;
    if (s == e) {
        if (st->opt)
            st->blanks++;
        return KL_OK;
    }
    if (*s == '#' || *s == ';')
        return KL_OK;
    indent = (size_t)(s - l);
    if (st->opt && indent > st->indent)
        return continue_value(st, s, (size_t)(e - s));
    st->indent = indent;
    st->blanks = 0;
    if (*s == '[') {
        const char *close = e - 1;

        while (close > s && *close != ']')
            close--;
        if (close - s >= 2)
            return header_line(st, s, (size_t)(e - s), (size_t)(close - s));
    }
    if (!st->sect)
        return kl_err_set(KL_EPARSE, "%s:%u: option before any '[section]' header",
                          cur_file(st->doc), st->line);
    return option_line(st, s, (size_t)(e - s));
}

kl_rc
kl_ini_parse(kl_ini *doc, const char *text, size_t len, const char *name)
{
    ini_state st = {.doc = doc};
    size_t i = 0;
    kl_rc rc = kl_ini_begin_file(doc, name);

    if (rc != KL_OK)
        return rc;
    if (len && memchr(text, '\0', len))
        return kl_err_set(KL_EPARSE, "%s: contains a NUL byte; not a text file", cur_file(doc));
    while (i < len && rc == KL_OK) {
        size_t j = i;

        while (j < len && text[j] != '\n' && text[j] != '\r')
            j++;
        st.line++;
        rc = ini_line(&st, text + i, j - i);
        if (j + 1 < len && text[j] == '\r' && text[j + 1] == '\n')
            j++;
        i = j + 1;
    }
    return rc;
}
