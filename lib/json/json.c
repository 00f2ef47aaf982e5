#include "json/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Exponent text of %e output ("+16", "-07"). */
static int
exponent_of(const char *s)
{
    return (int)strtol(s, NULL, 10);
}

/* Policies given to the authoring tools can be large; network input is
 * capped before it gets here. */
#define JSON_SMALL_MAX ((size_t)1 << 30)

kl_rc
kl_json_parse(kl_bytes text, const char *what, json_t **out)
{
    json_error_t err;

    *out = NULL;
    if (text.len > JSON_SMALL_MAX)
        return kl_err_set(KL_ETOOBIG, "%s: larger than %zu bytes", what, JSON_SMALL_MAX);
    *out = json_loadb((const char *)text.ptr, text.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    if (!*out)
        return kl_err_set(KL_EPARSE, "%s: line %d column %d: invalid JSON: %s", what, err.line,
                          err.column, err.text);
    return KL_OK;
}

/* Decodes one code point; lone surrogates (3-byte form) are accepted,
 * anything else invalid yields U+FFFD and consumes one byte. */
static uint32_t
next_cp(const uint8_t **pp, const uint8_t *end)
{
    const uint8_t *p = *pp;
    uint32_t cp;
    size_t n, i;

    if (p[0] < 0x80) {
        *pp = p + 1;
        return p[0];
    }
    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        n = 2;
        cp = p[0] & 0x1f;
    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        n = 3;
        cp = p[0] & 0x0f;
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        n = 4;
        cp = p[0] & 0x07;
    } else {
        *pp = p + 1;
        return 0xfffd;
    }
    if ((size_t)(end - p) < n) {
        *pp = p + 1;
        return 0xfffd;
    }
    for (i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            *pp = p + 1;
            return 0xfffd;
        }
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff))) {
        *pp = p + 1;
        return 0xfffd;
    }
    *pp = p + n;
    return cp;
}

kl_rc
kl_json_write_string(kl_buf *b, kl_bytes s)
{
    const uint8_t *p = s.ptr, *end = s.ptr + s.len;
    kl_rc rc = kl_buf_append_byte(b, '"');

    while (rc == KL_OK && p < end) {
        const uint8_t *run = p;
        uint32_t cp;

        while (p < end && *p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\')
            p++;
        if (p > run && (rc = kl_buf_append(b, run, (size_t)(p - run))) != KL_OK)
            break;
        if (p >= end)
            break;
        cp = next_cp(&p, end);
        switch (cp) {
        case '"':
            rc = kl_buf_append_str(b, "\\\"");
            break;
        case '\\':
            rc = kl_buf_append_str(b, "\\\\");
            break;
        case '\n':
            rc = kl_buf_append_str(b, "\\n");
            break;
        case '\r':
            rc = kl_buf_append_str(b, "\\r");
            break;
        case '\t':
            rc = kl_buf_append_str(b, "\\t");
            break;
        case '\b':
            rc = kl_buf_append_str(b, "\\b");
            break;
        case '\f':
            rc = kl_buf_append_str(b, "\\f");
            break;
        default:
            if (cp < 0x10000) {
                rc = kl_buf_printf(b, "\\u%04x", cp);
            } else {
                cp -= 0x10000;
                rc = kl_buf_printf(b, "\\u%04x\\u%04x", 0xd800 | (cp >> 10), 0xdc00 | (cp & 0x3ff));
            }
        }
    }
    if (rc == KL_OK)
        rc = kl_buf_append_byte(b, '"');
    return rc;
}

static kl_rc
dump_object(kl_buf *b, json_t *j)
{
    const char *key;
    json_t *val;
    const char *sep = "";
    kl_rc rc = kl_buf_append_byte(b, '{');

    json_object_foreach(j, key, val) {
        if (rc == KL_OK)
            rc = kl_buf_append_str(b, sep);
        if (rc == KL_OK)
            rc = kl_json_write_string(b, KL_BYTES(key, strlen(key)));
        if (rc == KL_OK)
            rc = kl_buf_append_str(b, ": ");
        if (rc == KL_OK)
            rc = kl_json_dump_py(b, val);
        sep = ", ";
    }
    if (rc == KL_OK)
        rc = kl_buf_append_byte(b, '}');
    return rc;
}

static kl_rc
dump_array(kl_buf *b, json_t *j)
{
    kl_rc rc = kl_buf_append_byte(b, '[');

    for (size_t i = 0; rc == KL_OK && i < json_array_size(j); i++) {
        if (i)
            rc = kl_buf_append_str(b, ", ");
        if (rc == KL_OK)
            rc = kl_json_dump_py(b, json_array_get(j, i));
    }
    if (rc == KL_OK)
        rc = kl_buf_append_byte(b, ']');
    return rc;
}

/* Python's repr(float): the shortest digits that read back to the same
 * value, in fixed notation for decimal exponents -4..15 (with ".0" when
 * integral), else d.ddde+XX; json.dumps writes NaN and Infinity bare. */
static kl_rc
write_real(kl_buf *b, double v)
{
    static const char zeros[] = "0000000000000000";
    char e[40], digits[20];
    int exp, nd = 0, p;
    const char *q;

    if (isnan(v))
        return kl_buf_append_str(b, "NaN");
    if (isinf(v))
        return kl_buf_append_str(b, v < 0 ? "-Infinity" : "Infinity");
    for (p = 1; p <= 17; p++) {
        snprintf(e, sizeof(e), "%.*e", p - 1, v);
        if (strtod(e, NULL) == v)
            break;
    }
    for (q = e; *q && *q != 'e'; q++)
        if (*q >= '0' && *q <= '9')
            digits[nd++] = *q;
    exp = exponent_of(q + 1);
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    if (signbit(v) && kl_buf_append_byte(b, '-') != KL_OK)
        return kl_err_set(KL_ENOMEM, "out of memory");
    if (exp < -4 || exp >= 16)
        return kl_buf_printf(b, "%c%s%.*se%c%02d", digits[0], nd > 1 ? "." : "", nd - 1,
                             digits + 1, exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    if (exp < 0)
        return kl_buf_printf(b, "0.%.*s%.*s", -exp - 1, zeros, nd, digits);
    if (nd <= exp + 1)
        return kl_buf_printf(b, "%.*s%.*s.0", nd, digits, exp + 1 - nd, zeros);
    return kl_buf_printf(b, "%.*s.%.*s", exp + 1, digits, nd - exp - 1, digits + exp + 1);
}

kl_rc
kl_json_dump_py(kl_buf *b, json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return dump_object(b, j);
    case JSON_ARRAY:
        return dump_array(b, j);
    case JSON_STRING:
        return kl_json_write_string(b, KL_BYTES(json_string_value(j), json_string_length(j)));
    case JSON_INTEGER:
        return kl_buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
    case JSON_REAL:
        return write_real(b, json_real_value(j));
    case JSON_TRUE:
        return kl_buf_append_str(b, "true");
    case JSON_FALSE:
        return kl_buf_append_str(b, "false");
    default:
        return kl_buf_append_str(b, "null");
    }
}

json_t *
kl_json_string_lossy(kl_bytes s)
{
    kl_buf tmp;
    const uint8_t *p = s.ptr, *end = s.ptr + s.len;
    json_t *j = NULL;

    /* valid UTF-8 (jansson checks it) needs no replacement */
    if ((j = json_stringn(s.len ? (const char *)s.ptr : "", s.len)) != NULL)
        return j;
    kl_buf_init(&tmp, s.len * 3 + 16);
    while (p < end) {
        const uint8_t *start = p;
        uint32_t cp = next_cp(&p, end);

        if (cp == 0xfffd && !(p - start == 3 && start[0] == 0xef)) {
            if (kl_buf_append(&tmp, "\xef\xbf\xbd", 3) != KL_OK)
                goto out;
        } else if (cp >= 0xd800 && cp <= 0xdfff) {
            if (kl_buf_append(&tmp, "\xef\xbf\xbd", 3) != KL_OK)
                goto out;
        } else if (kl_buf_append(&tmp, start, (size_t)(p - start)) != KL_OK) {
            goto out;
        }
    }
    j = json_stringn(tmp.ptr ? (const char *)tmp.ptr : "", tmp.len);
out:
    kl_buf_free(&tmp);
    return j;
}
