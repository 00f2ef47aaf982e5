/* toml: the TOML subset of agent.conf (see toml.h). */
#include "config/toml.h"

#include "config/config_int.h"
#include "util/kl_alloc.h"
#include "util/kl_buf.h"
#include "util/kl_hex.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define TOML_MAX_STRING 65536

typedef struct {
    kl_ini *doc;
    const char *name;
    const char *s; /* the text; NUL-free, p <= end */
    const char *p, *end;
    unsigned line;
    char table[128]; /* current table ("" at the top) */
    kl_buf str;      /* scratch for a decoded string or scalar */
} toml_state;

static kl_rc
terr(const toml_state *st, const char *what)
{
    return kl_err_set(KL_EPARSE, "%s:%u: %s", st->name, st->line, what);
}

static int
peek(const toml_state *st, size_t k)
{
    return st->p + k < st->end ? (unsigned char)st->p[k] : -1;
}

static bool
is_bare(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

static void
skip_ws(toml_state *st)
{
    while (st->p < st->end && (*st->p == ' ' || *st->p == '\t'))
        st->p++;
}

/* Whitespace, then an optional comment, then the end of the line (eaten). */
static kl_rc
end_of_line(toml_state *st, const char *after)
{
    char msg[96];

    skip_ws(st);
    if (peek(st, 0) == '#')
        while (st->p < st->end && *st->p != '\n')
            st->p++;
    if (peek(st, 0) == '\r' && peek(st, 1) == '\n')
        st->p++;
    if (st->p == st->end)
        return KL_OK;
    if (*st->p == '\n') {
        st->p++;
        st->line++;
        return KL_OK;
    }
    snprintf(msg, sizeof(msg), "unexpected text after %s", after);
    return terr(st, msg);
}

/* Whitespace, newlines and comments inside an array. */
static void
skip_array_space(toml_state *st)
{
    for (;;) {
        skip_ws(st);
        if (peek(st, 0) == '#') {
            while (st->p < st->end && *st->p != '\n')
                st->p++;
        } else if (peek(st, 0) == '\r' && peek(st, 1) == '\n') {
            st->p++;
        } else if (peek(st, 0) == '\n') {
            st->p++;
            st->line++;
        } else {
            return;
        }
    }
}

static kl_rc
bare_name(toml_state *st, char *out, size_t cap, const char *what)
{
    size_t n = 0;
    char msg[96];

    while (is_bare(peek(st, n)))
        n++;
    if (n == 0 || n >= cap) {
        int c = peek(st, 0);

        if (n == 0 && (c == '"' || c == '\''))
            snprintf(msg, sizeof(msg), "quoted %s names are not supported", what);
        else
            snprintf(msg, sizeof(msg), n ? "%s name too long" : "%s name expected", what);
        return terr(st, msg);
    }
    memcpy(out, st->p, n);
    out[n] = '\0';
    st->p += n;
    if (peek(st, 0) == '.') {
        snprintf(msg, sizeof(msg), "dotted %s names are not supported", what);
        return terr(st, msg);
    }
    return KL_OK;
}

static kl_rc
table_header(toml_state *st)
{
    kl_rc rc;

    st->p++;
    if (peek(st, 0) == '[')
        return terr(st, "arrays of tables ([[...]]) are not supported");
    skip_ws(st);
    rc = bare_name(st, st->table, sizeof(st->table), "table");
    if (rc != KL_OK)
        return rc;
    skip_ws(st);
    if (peek(st, 0) != ']')
        return terr(st, "expected ']' after the table name");
    st->p++;
    rc = kl_ini_section(st->doc, st->table, st->line, true);
    return rc == KL_OK ? end_of_line(st, "the table header") : rc;
}

static kl_rc
put_cp(toml_state *st, uint32_t cp)
{
    kl_rc rc = kl_config_utf8_append(&st->str, cp);

    return rc == KL_EINVAL ? terr(st, "\\u escape is not an allowed Unicode scalar value") : rc;
}

/* After a backslash in a basic string. */
static kl_rc
escape(toml_state *st)
{
    static const char from[] = "btnfr\"\\", to[] = "\b\t\n\f\r\"\\";
    int c = peek(st, 0);
    const char *m = c > 0 ? strchr(from, c) : NULL;
    uint32_t cp = 0;
    int nd;

    if (m) {
        st->p++;
        return kl_buf_append_byte(&st->str, (uint8_t)to[m - from]);
    }
    if (c != 'u' && c != 'U')
        return terr(st, "unknown escape in a basic string");
    nd = c == 'u' ? 4 : 8;
    for (int k = 1; k <= nd; k++) {
        int h = peek(st, (size_t)k), v = h < 0 ? -1 : kl_hex_digit((uint8_t)h);

        if (v < 0)
            return terr(st, "\\u/\\U escape needs 4/8 hex digits");
        cp = cp * 16 + (uint32_t)v;
    }
    st->p += nd + 1;
    return put_cp(st, cp);
}

/* A basic or literal string into st->str (NUL-terminated). */
static kl_rc
string(toml_state *st)
{
    char q = *st->p;
    kl_rc rc = KL_OK;

    if (peek(st, 1) == q && peek(st, 2) == q)
        return terr(st, "multi-line strings are not supported");
    st->p++;
    kl_buf_reset(&st->str);
    while (rc == KL_OK) {
        int c = peek(st, 0);

        if (c < 0 || c == '\n' || c == '\r')
            return terr(st, "unterminated string");
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return terr(st, "control character in a string");
        st->p++;
        if (c == q)
            return kl_buf_terminate(&st->str);
        if (c == '\\' && q == '"')
            rc = escape(st);
        else
            rc = kl_buf_append_byte(&st->str, (uint8_t)c);
    }
    return rc == KL_ETOOBIG ? terr(st, "string too long") : rc;
}

/* A decimal integer into st->str as canonical text. */
static kl_rc
integer(toml_state *st)
{
    char digits[32];
    size_t n = 0, k = 0;
    bool neg = false;

    if (peek(st, 0) == '+' || peek(st, 0) == '-')
        neg = peek(st, k++) == '-';
    if (peek(st, k) == '0' &&
        (peek(st, k + 1) == 'x' || peek(st, k + 1) == 'o' || peek(st, k + 1) == 'b'))
        return terr(st, "hexadecimal, octal and binary integers are not supported");
    while (is_bare(peek(st, k)) || peek(st, k) == '.' || peek(st, k) == '+') {
        int c = peek(st, k);

        if (c == '_' && n && peek(st, k + 1) >= '0' && peek(st, k + 1) <= '9') {
            k++;
            continue;
        }
        if (c < '0' || c > '9' || n + 1 >= sizeof(digits))
            return terr(st, c == '.' || c == 'e' || c == 'E' || c == ':' || c == '-'
                                ? "floats and dates are not supported"
                                : "not a valid integer");
        digits[n++] = (char)c;
        k++;
    }
    if (n == 0 || (n > 1 && digits[0] == '0') || n > 19)
        return terr(st, n > 19 ? "integer too large" : "not a valid integer");
    digits[n] = '\0';
    st->p += k;
    kl_buf_reset(&st->str);
    return kl_buf_printf(&st->str, "%s%s", neg && strcmp(digits, "0") ? "-" : "", digits);
}

/* A scalar (string, integer, boolean) into st->str. */
static kl_rc
scalar(toml_state *st)
{
    int c = peek(st, 0);

    if (c == '"' || c == '\'')
        return string(st);
    if (c == '+' || c == '-' || (c >= '0' && c <= '9'))
        return integer(st);
    for (int b = 0; b < 2; b++) {
        const char *w = b ? "false" : "true";
        size_t n = strlen(w);

        if ((size_t)(st->end - st->p) >= n && memcmp(st->p, w, n) == 0 && !is_bare(peek(st, n))) {
            st->p += n;
            kl_buf_reset(&st->str);
            return kl_buf_append_str(&st->str, w);
        }
    }
    if (c == '{')
        return terr(st, "inline tables are not supported");
    if (c == '[')
        return terr(st, "nested arrays are not supported");
    return terr(st, c == 'i' || c == 'n' ? "floats are not supported" : "expected a value");
}

/* An array; the items go to *list and a display form to st->str. */
static kl_rc
array(toml_state *st, kl_strlist *list)
{
    unsigned start = st->line;
    kl_buf disp;
    kl_rc rc = KL_OK;

    kl_buf_init(&disp, TOML_MAX_STRING);
    st->p++;
    skip_array_space(st);
    rc = kl_buf_append_byte(&disp, '[');
    while (rc == KL_OK && peek(st, 0) != ']') {
        if (peek(st, 0) < 0) {
            st->line = start;
            rc = terr(st, "unterminated array");
            break;
        }
        rc = scalar(st);
        if (rc == KL_OK)
            rc = kl_strlist_push(list, (const char *)st->str.ptr, st->str.len);
        if (rc == KL_OK)
            rc = kl_buf_printf(&disp, "%s'%s'", list->n > 1 ? ", " : "", list->items[list->n - 1]);
        if (rc != KL_OK)
            break;
        skip_array_space(st);
        if (peek(st, 0) == ',') {
            st->p++;
            skip_array_space(st);
        } else if (peek(st, 0) != ']') {
            rc = terr(st, "expected ',' or ']'");
        }
    }
    if (rc == KL_OK) {
        st->p++;
        kl_buf_reset(&st->str);
        rc = kl_buf_append(&st->str, disp.ptr, disp.len);
        if (rc == KL_OK)
            rc = kl_buf_append_str(&st->str, "]");
    }
    kl_buf_free(&disp);
    return rc == KL_ETOOBIG ? terr(st, "array too long") : rc;
}

static kl_rc
key_value(toml_state *st)
{
    char key[128];
    unsigned line = st->line;
    kl_strlist list = {0};
    bool is_array;
    kl_rc rc = bare_name(st, key, sizeof(key), "key");

    if (rc != KL_OK)
        return rc;
    skip_ws(st);
    if (peek(st, 0) != '=')
        return terr(st, "expected '=' after the key");
    st->p++;
    skip_ws(st);
    is_array = peek(st, 0) == '[';
    rc = is_array ? array(st, &list) : scalar(st);
    if (rc == KL_OK)
        rc = kl_buf_terminate(&st->str);
    if (rc == KL_OK)
        rc = kl_ini_set(st->doc, st->table, key, (const char *)st->str.ptr, is_array ? &list : NULL,
                        line);
    kl_strlist_free(&list);
    return rc == KL_OK ? end_of_line(st, "the value") : rc;
}

static kl_rc
toml_line(toml_state *st)
{
    skip_ws(st);
    if (st->p == st->end)
        return KL_OK;
    if (peek(st, 0) == '[')
        return table_header(st);
    if (peek(st, 0) == '#' || peek(st, 0) == '\n' || peek(st, 0) == '\r')
        return end_of_line(st, "a comment");
    return key_value(st);
}

kl_rc
kl_toml_parse(kl_ini *doc, const char *text, size_t len, const char *name)
{
    toml_state st = {.doc = doc,
                     .name = name ? name : "(text)",
                     .s = text,
                     .p = text,
                     .end = text + len,
                     .line = 1};
    kl_rc rc = kl_ini_begin_file(doc, st.name);

    if (rc != KL_OK)
        return rc;
    if (len && memchr(text, '\0', len))
        return kl_err_set(KL_EPARSE, "%s: contains a NUL byte; not a text file", st.name);
    kl_buf_init(&st.str, TOML_MAX_STRING);
    while (rc == KL_OK && st.p < st.end)
        rc = toml_line(&st);
    kl_buf_free(&st.str);
    return rc;
}
