#include "policy/pyrepr.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decodes one UTF-8 code point at *pp (U+FFFD for an invalid byte). */
static uint32_t
next_cp(const uint8_t **pp, const uint8_t *end)
{
    const uint8_t *p = *pp;
    uint32_t cp;
    size_t n;

    if (p[0] < 0x80) {
        *pp = p + 1;
        return p[0];
    }
    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        n = 2;
    else if (p[0] >= 0xe0 && p[0] <= 0xef)
        n = 3;
    else if (p[0] >= 0xf0 && p[0] <= 0xf4)
        n = 4;
    else
        n = 0;
    if (n == 0 || (size_t)(end - p) < n) {
        *pp = p + 1;
        return 0xfffd;
    }
    cp = p[0] & (0x7f >> n);
    for (size_t i = 1; i < n; i++) {
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

/* Python's str.isprintable(), approximated for non-ASCII code points. */
static bool
printable(uint32_t c)
{
    if (c < 0x20 || (c >= 0x7f && c <= 0xa0) || c == 0xad)
        return false;
    if (c == 0x1680 || (c >= 0x2000 && c <= 0x200f) || (c >= 0x2028 && c <= 0x202f) ||
        (c >= 0x205f && c <= 0x206f) || c == 0x3000 || c == 0xfeff || (c >= 0xfff9 && c <= 0xfffb))
        return false;
    if ((c >= 0xd800 && c <= 0xf8ff) || (c >= 0xfdd0 && c <= 0xfdef) || (c & 0xfffe) == 0xfffe)
        return false;
    return c < 0xf0000;
}

static kl_rc
put_cp(kl_buf *out, uint32_t c)
{
    uint8_t b[4];
    size_t n = 0;

    if (c < 0x80) {
        b[n++] = (uint8_t)c;
    } else if (c < 0x800) {
        b[n++] = (uint8_t)(0xc0 | c >> 6);
        b[n++] = (uint8_t)(0x80 | (c & 0x3f));
    } else if (c < 0x10000) {
        b[n++] = (uint8_t)(0xe0 | c >> 12);
        b[n++] = (uint8_t)(0x80 | (c >> 6 & 0x3f));
        b[n++] = (uint8_t)(0x80 | (c & 0x3f));
    } else {
        b[n++] = (uint8_t)(0xf0 | c >> 18);
        b[n++] = (uint8_t)(0x80 | (c >> 12 & 0x3f));
        b[n++] = (uint8_t)(0x80 | (c >> 6 & 0x3f));
        b[n++] = (uint8_t)(0x80 | (c & 0x3f));
    }
    return kl_buf_append(out, b, n);
}

static kl_rc
put_escaped(kl_buf *out, uint32_t c, char quote, bool ascii)
{
    if (c == (uint32_t)quote || c == '\\')
        return kl_buf_printf(out, "\\%c", (char)c);
    if (c == '\t')
        return kl_buf_append_str(out, "\\t");
    if (c == '\n')
        return kl_buf_append_str(out, "\\n");
    if (c == '\r')
        return kl_buf_append_str(out, "\\r");
    if (c < 0x20 || c == 0x7f)
        return kl_buf_printf(out, "\\x%02x", (unsigned)c);
    if (c < 0x7f || (!ascii && printable(c)))
        return put_cp(out, c);
    if (c <= 0xff)
        return kl_buf_printf(out, "\\x%02x", (unsigned)c);
    if (c <= 0xffff)
        return kl_buf_printf(out, "\\u%04x", (unsigned)c);
    return kl_buf_printf(out, "\\U%08x", (unsigned)c);
}

kl_rc
kl_pyrepr_str(kl_buf *out, kl_bytes s, bool ascii)
{
    const uint8_t *p = s.ptr, *end = s.ptr + s.len;
    bool single, dbl;
    char quote;
    kl_rc rc;

    if (s.len == 0)
        return kl_buf_append_str(out, "''");
    single = memchr(s.ptr, '\'', s.len) != NULL;
    dbl = memchr(s.ptr, '"', s.len) != NULL;
    quote = single && !dbl ? '"' : '\'';
    rc = kl_buf_append_byte(out, (uint8_t)quote);

    while (rc == KL_OK && p < end)
        rc = put_escaped(out, next_cp(&p, end), quote, ascii);
    return rc == KL_OK ? kl_buf_append_byte(out, (uint8_t)quote) : rc;
}

kl_rc
kl_pyrepr_float(kl_buf *out, double v)
{
    char text[40], digits[40];
    int prec, exp10;
    char *e;

    if (isnan(v))
        return kl_buf_append_str(out, "nan");
    if (isinf(v))
        return kl_buf_append_str(out, v < 0 ? "-inf" : "inf");
    /* the shortest %e text that reads back */
    for (prec = 0; prec < 17; prec++) {
        snprintf(text, sizeof(text), "%.*e", prec, v);
        if (strtod(text, NULL) == v)
            break;
    }
    e = strchr(text, 'e');
    exp10 = (int)strtol(e + 1, NULL, 10);
    *e = '\0';
    if (exp10 < -4 || exp10 >= 16) {
        /* mantissa without a trailing ".0", exponent with at least 2 digits */
        return kl_buf_printf(out, "%se%c%02d", text, exp10 < 0 ? '-' : '+', abs(exp10));
    }
    snprintf(digits, sizeof(digits), "%.*f", prec - exp10 > 0 ? prec - exp10 : 0, v);
    return kl_buf_printf(out, "%s%s", digits, strchr(digits, '.') ? "" : ".0");
}

const char *
kl_pyrepr_type(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT: return "dict";
    case JSON_ARRAY: return "list";
    case JSON_STRING: return "str";
    case JSON_INTEGER: return "int";
    case JSON_REAL: return "float";
    case JSON_TRUE:
    case JSON_FALSE: return "bool";
    default: return "NoneType";
    }
}

bool
kl_pyrepr_truthy(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT: return json_object_size(j) > 0;
    case JSON_ARRAY: return json_array_size(j) > 0;
    case JSON_STRING: return json_string_length(j) > 0;
    case JSON_INTEGER: return json_integer_value(j) != 0;
    case JSON_REAL: return json_real_value(j) != 0.0;
    case JSON_TRUE: return true;
    default: return false;
    }
}

kl_rc
kl_pyrepr(kl_buf *out, const json_t *j, bool ascii)
{
    const char *key;
    json_t *v;
    size_t i;
    kl_rc rc = KL_OK;

    switch (json_typeof(j)) {
    case JSON_STRING:
        return kl_pyrepr_str(out, KL_BYTES(json_string_value(j), json_string_length(j)), ascii);
    case JSON_INTEGER:
        return kl_buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
    case JSON_REAL:
        return kl_pyrepr_float(out, json_real_value(j));
    case JSON_TRUE:
        return kl_buf_append_str(out, "True");
    case JSON_FALSE:
        return kl_buf_append_str(out, "False");
    case JSON_NULL:
        return kl_buf_append_str(out, "None");
    case JSON_ARRAY:
        rc = kl_buf_append_byte(out, '[');
        json_array_foreach(j, i, v) {
            if (rc == KL_OK && i > 0)
                rc = kl_buf_append_str(out, ", ");
            if (rc == KL_OK)
                rc = kl_pyrepr(out, v, ascii);
        }
        return rc == KL_OK ? kl_buf_append_byte(out, ']') : rc;
    case JSON_OBJECT:
        i = 0;
        rc = kl_buf_append_byte(out, '{');
        json_object_foreach((json_t *)(uintptr_t)j, key, v) {
            if (rc == KL_OK && i++ > 0)
                rc = kl_buf_append_str(out, ", ");
            if (rc == KL_OK)
                rc = kl_pyrepr_str(out, KL_BYTES(key, strlen(key)), ascii);
            if (rc == KL_OK)
                rc = kl_buf_append_str(out, ": ");
            if (rc == KL_OK)
                rc = kl_pyrepr(out, v, ascii);
        }
        return rc == KL_OK ? kl_buf_append_byte(out, '}') : rc;
    }
    return KL_EINVAL;
}
