/* strlist: string lists and the two list syntaxes of the config files
 * (Python list literals for the INI files, separated words for agent.conf). */
#include "config/config.h"
#include "config/config_int.h"
#include "util/kl_alloc.h"
#include "util/kl_buf.h"
#include "util/kl_hex.h"

#include <stdint.h>
#include <string.h>

/* Longest list item accepted. */
#define STRLIST_MAX_ITEM 65536

kl_rc
kl_strlist_push(kl_strlist *l, const char *s, size_t n)
{
    char **items = kl_reallocarray(l->items, l->n + 1, sizeof(*items));

    if (!items)
        return kl_err_set(KL_ENOMEM, "config: out of memory");
    l->items = items;
    items[l->n] = kl_strndup(s, n);
    if (!items[l->n])
        return kl_err_set(KL_ENOMEM, "config: out of memory");
    l->n++;
    return KL_OK;
}

void
kl_strlist_free(kl_strlist *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        kl_free(l->items[i]);
    kl_free(l->items);
    l->items = NULL;
    l->n = 0;
}

bool
kl_strlist_has(const kl_strlist *l, const char *s)
{
    for (size_t i = 0; l && s && i < l->n; i++)
        if (strcmp(l->items[i], s) == 0)
            return true;
    return false;
}

static bool
is_sep(char c)
{
    return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

kl_rc
kl_strlist_split(kl_strlist *out, const char *text)
{
    const char *p = text ? text : "";
    kl_rc rc = KL_OK;

    memset(out, 0, sizeof(*out));
    while (*p && rc == KL_OK) {
        size_t n = 0;

        while (*p && is_sep(*p))
            p++;
        while (p[n] && !is_sep(p[n]))
            n++;
        if (n)
            rc = kl_strlist_push(out, p, n);
        p += n;
    }
    if (rc != KL_OK)
        kl_strlist_free(out);
    return rc;
}

/* --- Python list literals --- */

typedef struct {
    const char *s;
    size_t i;
    kl_buf item;
} py_state;

static kl_rc
py_err(const py_state *st, const char *what)
{
    return kl_err_set(KL_EPARSE, "not a Python list of strings: position %zu: %s", st->i + 1, what);
}

/* Skips whitespace (newlines included: continuation lines) and comments. */
static void
py_skip(py_state *st)
{
    for (;;) {
        char c = st->s[st->i];

        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            st->i++;
        } else if (c == '#') {
            while (st->s[st->i] && st->s[st->i] != '\n')
                st->i++;
        } else {
            return;
        }
    }
}

kl_rc
kl_config_utf8_append(kl_buf *b, uint32_t cp)
{
    uint8_t u[4];
    size_t n = 0;

    if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return KL_EINVAL;
    if (cp < 0x80) {
        u[n++] = (uint8_t)cp;
    } else if (cp < 0x800) {
        u[n++] = (uint8_t)(0xc0 | (cp >> 6));
    } else if (cp < 0x10000) {
        u[n++] = (uint8_t)(0xe0 | (cp >> 12));
        u[n++] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
    } else {
        u[n++] = (uint8_t)(0xf0 | (cp >> 18));
        u[n++] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
        u[n++] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
    }
    if (cp >= 0x80)
        u[n++] = (uint8_t)(0x80 | (cp & 0x3f));
    return kl_buf_append(b, u, n);
}

static kl_rc
put_utf8(py_state *st, uint32_t cp)
{
    kl_rc rc = kl_config_utf8_append(&st->item, cp);

    if (rc == KL_EINVAL)
        return py_err(st, cp == 0 ? "NUL characters are not allowed"
                                  : "escape is not a valid Unicode scalar value");
    return rc;
}

/* \x, \u, \U: exactly ndig hex digits after st->i. */
static kl_rc
py_hex_escape(py_state *st, int ndig)
{
    uint32_t cp = 0;

    for (int k = 0; k < ndig; k++) {
        int v = kl_hex_digit((uint8_t)st->s[st->i + (size_t)k]);

        if (v < 0)
            return py_err(st, "truncated \\x, \\u or \\U escape");
        cp = cp * 16 + (uint32_t)v;
    }
    st->i += (size_t)ndig;
    return put_utf8(st, cp);
}

static kl_rc
py_octal_escape(py_state *st)
{
    uint32_t cp = 0;

    for (int k = 0; k < 3 && st->s[st->i] >= '0' && st->s[st->i] <= '7'; k++)
        cp = cp * 8 + (uint32_t)(st->s[st->i++] - '0');
    return put_utf8(st, cp);
}

/* st->i is just past the backslash. */
static kl_rc
py_escape(py_state *st)
{
    static const char from[] = "\n\\'\"abfnrtv", to[] = "\0\\'\"\a\b\f\n\r\t\v";
    char c = st->s[st->i];
    const char *m = c ? strchr(from, c) : NULL;

    if (m) {
        st->i++;
        if (c == '\n') /* backslash-newline: both dropped */
            return KL_OK;
        return kl_buf_append_byte(&st->item, (uint8_t)to[m - from]);
    }
    if (c >= '0' && c <= '7')
        return py_octal_escape(st);
    if (c == 'x' || c == 'u' || c == 'U') {
        st->i++;
        return py_hex_escape(st, c == 'x' ? 2 : c == 'u' ? 4 : 8);
    }
    if (c == 'N')
        return py_err(st, "\\N{...} escapes are not supported");
    /* Python keeps unknown escapes as written */
    return kl_buf_append_byte(&st->item, '\\');
}

/* One quoted string, appended to st->item. */
static kl_rc
py_string(py_state *st)
{
    char q = st->s[st->i];
    kl_rc rc = KL_OK;

    if (st->s[st->i + 1] == q && st->s[st->i + 2] == q)
        return py_err(st, "triple-quoted strings are not supported");
    st->i++;
    while (rc == KL_OK) {
        char c = st->s[st->i];

        if (c == '\0' || c == '\n' || c == '\r')
            return py_err(st, "unterminated string");
        st->i++;
        if (c == q)
            return KL_OK;
        if (c == '\\')
            rc = py_escape(st);
        else
            rc = kl_buf_append_byte(&st->item, (uint8_t)c);
    }
    return rc == KL_ETOOBIG ? py_err(st, "list item too long") : rc;
}

/* One item: a string, or adjacent strings that Python concatenates. */
static kl_rc
py_item(py_state *st, kl_strlist *out)
{
    kl_rc rc = KL_OK;

    kl_buf_reset(&st->item);
    do {
        rc = py_string(st);
        if (rc == KL_OK)
            py_skip(st);
    } while (rc == KL_OK && (st->s[st->i] == '\'' || st->s[st->i] == '"'));
    if (rc == KL_OK)
        rc = kl_strlist_push(out, st->item.len ? (const char *)st->item.ptr : "", st->item.len);
    return rc;
}

static kl_rc
py_list(py_state *st, kl_strlist *out)
{
    kl_rc rc = KL_OK;

    py_skip(st);
    if (st->s[st->i] != '[')
        return py_err(st, "expected '['");
    st->i++;
    for (;;) {
        py_skip(st);
        if (st->s[st->i] == ']')
            break;
        if (st->s[st->i] != '\'' && st->s[st->i] != '"')
            return py_err(st, "expected a quoted string or ']'");
        rc = py_item(st, out);
        if (rc != KL_OK)
            return rc;
        if (st->s[st->i] == ',')
            st->i++;
        else if (st->s[st->i] != ']')
            return py_err(st, "expected ',' or ']'");
    }
    st->i++;
    py_skip(st);
    return st->s[st->i] ? py_err(st, "unexpected text after ']'") : KL_OK;
}

kl_rc
kl_strlist_parse_py(kl_strlist *out, const char *text)
{
    py_state st = {.s = text ? text : ""};
    kl_rc rc;

    memset(out, 0, sizeof(*out));
    kl_buf_init(&st.item, STRLIST_MAX_ITEM);
    rc = py_list(&st, out);
    kl_buf_free(&st.item);
    if (rc != KL_OK)
        kl_strlist_free(out);
    return rc;
}
