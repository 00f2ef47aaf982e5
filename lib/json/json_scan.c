#include "json/json_scan.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STRING_SCRATCH_MAX ((size_t)1 << 30)

void
kl_json_scan_init(kl_json_scan *s, kl_bytes text)
{
    memset(s, 0, sizeof(*s));
    s->base = text.ptr;
    s->p = text.ptr;
    s->end = text.len ? text.ptr + text.len : text.ptr; /* NULL + 0 is undefined */
    kl_buf_init(&s->key_scratch, STRING_SCRATCH_MAX);
    kl_buf_init(&s->val_scratch, STRING_SCRATCH_MAX);
}

void
kl_json_scan_init_at(kl_json_scan *s, kl_bytes text, kl_bytes span)
{
    kl_json_scan_init(s, text);
    s->p = span.ptr;
    s->end = span.ptr + span.len;
}

void
kl_json_scan_free(kl_json_scan *s)
{
    kl_buf_free(&s->key_scratch);
    kl_buf_free(&s->val_scratch);
}

void
kl_json_scan_where(const kl_json_scan *s, char *out, size_t outlen)
{
    unsigned line = 1, col = 1;

    for (const uint8_t *q = s->base; q < s->p; q++) {
        if (*q == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    snprintf(out, outlen, "line %u column %u", line, col);
}

static kl_rc
syntax(const kl_json_scan *s, const char *what)
{
    char where[64];

    kl_json_scan_where(s, where, sizeof(where));
    if (s->p >= s->end)
        return kl_err_set(KL_EPARSE, "%s: invalid JSON: %s (the text ends early)", where, what);
    return kl_err_set(KL_EPARSE, "%s: invalid JSON: %s", where, what);
}

static void
skip_ws(kl_json_scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
        s->p++;
}

const char *
kl_json_type_name(kl_json_type t)
{
    switch (t) {
    case KL_JSON_OBJECT:
        return "an object";
    case KL_JSON_ARRAY:
        return "an array";
    case KL_JSON_STRING:
        return "a string";
    case KL_JSON_NUMBER:
        return "a number";
    case KL_JSON_TRUE:
    case KL_JSON_FALSE:
        return "a boolean";
    case KL_JSON_NULL:
        return "null";
    default:
        return "nothing";
    }
}

kl_json_type
kl_json_scan_peek(kl_json_scan *s)
{
    skip_ws(s);
    if (s->p >= s->end)
        return KL_JSON_NONE;
    switch (*s->p) {
    case '{':
        return KL_JSON_OBJECT;
    case '[':
        return KL_JSON_ARRAY;
    case '"':
        return KL_JSON_STRING;
    case 't':
        return KL_JSON_TRUE;
    case 'f':
        return KL_JSON_FALSE;
    case 'n':
        return KL_JSON_NULL;
    default:
        if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
            return KL_JSON_NUMBER;
        return KL_JSON_NONE;
    }
}

/* Length of the valid UTF-8 sequence at p (lead byte >= 0x80), or 0. */
static size_t
utf8_seq(const uint8_t *p, const uint8_t *end)
{
    uint8_t c = p[0];
    size_t n;
    uint32_t cp;

    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

static kl_rc
append_cp(kl_buf *b, uint32_t cp)
{
    uint8_t u[4];
    size_t n;

    if (cp < 0x80) {
        u[0] = (uint8_t)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (uint8_t)(0xc0 | cp >> 6);
        u[1] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        /* lone surrogates are kept as 3-byte sequences, as Python keeps them */
        u[0] = (uint8_t)(0xe0 | cp >> 12);
        u[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
        u[2] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (uint8_t)(0xf0 | cp >> 18);
        u[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
        u[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
        u[3] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 4;
    }
    return kl_buf_append(b, u, n);
}

static int
hex4(const uint8_t *p, const uint8_t *end, uint32_t *out)
{
    uint32_t v = 0;

    if (end - p < 4)
        return 0;
    for (int i = 0; i < 4; i++) {
        int d = (p[i] >= '0' && p[i] <= '9')   ? p[i] - '0'
                : (p[i] >= 'a' && p[i] <= 'f') ? p[i] - 'a' + 10
                : (p[i] >= 'A' && p[i] <= 'F') ? p[i] - 'A' + 10
                                               : -1;
        if (d < 0)
            return 0;
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return 1;
}

/* One escape sequence at s->p (after the backslash), appended to b. */
static kl_rc
unescape(kl_json_scan *s, kl_buf *b)
{
    static const char from[] = "\"\\/bfnrt";
    static const char to[] = "\"\\/\b\f\n\r\t";
    const char *e;
    uint32_t cp, lo;

    if (s->p >= s->end)
        return syntax(s, "unfinished escape sequence");
    e = memchr(from, *s->p, sizeof(from) - 1);
    if (e) {
        s->p++;
        return kl_buf_append_byte(b, (uint8_t)to[e - from]);
    }
    if (*s->p != 'u' || !hex4(s->p + 1, s->end, &cp))
        return syntax(s, "invalid escape sequence in a string");
    s->p += 5;
    if (cp >= 0xd800 && cp <= 0xdbff && s->end - s->p >= 6 && s->p[0] == '\\' &&
        s->p[1] == 'u' && hex4(s->p + 2, s->end, &lo) && lo >= 0xdc00 && lo <= 0xdfff) {
        s->p += 6;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    }
    return append_cp(b, cp);
}

/* Parses the string at s->p; a view of the raw bytes when it has no escapes,
 * else decoded into scratch. */
static kl_rc
scan_string(kl_json_scan *s, kl_buf *scratch, kl_bytes *out)
{
    const uint8_t *start;
    bool copying = false;
    kl_rc rc;

    if (s->p >= s->end || *s->p != '"')
        return syntax(s, "expected a string");
    start = ++s->p;
    for (;;) {
        const uint8_t *run = s->p;

        while (s->p < s->end && *s->p >= 0x20 && *s->p < 0x80 && *s->p != '"' && *s->p != '\\')
            s->p++;
        if (copying && s->p > run && (rc = kl_buf_append(scratch, run, (size_t)(s->p - run))))
            return rc;
        if (s->p >= s->end)
            return syntax(s, "unterminated string");
        if (*s->p == '"') {
            *out = copying ? kl_buf_bytes(scratch) : KL_BYTES(start, (size_t)(s->p - start));
            s->p++;
            return KL_OK;
        }
        if (*s->p < 0x20)
            return syntax(s, "control character in a string (must be escaped)");
        if (*s->p >= 0x80) {
            size_t n = utf8_seq(s->p, s->end);

            if (!n)
                return syntax(s, "invalid UTF-8 in a string");
            if (copying && (rc = kl_buf_append(scratch, s->p, n)))
                return rc;
            s->p += n;
            continue;
        }
        /* backslash */
        if (!copying) {
            kl_buf_reset(scratch);
            rc = kl_buf_append(scratch, start, (size_t)(s->p - start));
            if (rc != KL_OK)
                return rc;
            copying = true;
        }
        s->p++;
        rc = unescape(s, scratch);
        if (rc != KL_OK)
            return rc;
    }
}

kl_rc
kl_json_scan_string(kl_json_scan *s, kl_bytes *out)
{
    skip_ws(s);
    return scan_string(s, &s->val_scratch, out);
}

static kl_rc
scan_number(kl_json_scan *s, kl_bytes *raw, bool *integral_text)
{
    const uint8_t *start = s->p;

    *integral_text = true;
    if (s->p < s->end && *s->p == '-')
        s->p++;
    if (s->p < s->end && *s->p == '0') {
        s->p++;
    } else if (s->p < s->end && *s->p >= '1' && *s->p <= '9') {
        while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
            s->p++;
    } else {
        return syntax(s, "malformed number");
    }
    if (s->p < s->end && *s->p == '.') {
        *integral_text = false;
        s->p++;
        if (s->p >= s->end || *s->p < '0' || *s->p > '9')
            return syntax(s, "malformed number");
        while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
            s->p++;
    }
    if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
        *integral_text = false;
        s->p++;
        if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
            s->p++;
        if (s->p >= s->end || *s->p < '0' || *s->p > '9')
            return syntax(s, "malformed number");
        while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
            s->p++;
    }
    *raw = KL_BYTES(start, (size_t)(s->p - start));
    return KL_OK;
}

kl_rc
kl_json_scan_int(kl_json_scan *s, int64_t *out)
{
    char text[64];
    kl_bytes raw;
    bool integral;
    kl_rc rc;
    double d;

    skip_ws(s);
    rc = scan_number(s, &raw, &integral);
    if (rc != KL_OK)
        return rc;
    if (raw.len >= sizeof(text))
        return kl_err_set(KL_EINVAL, "number %.20s... is too large", (const char *)raw.ptr);
    memcpy(text, raw.ptr, raw.len);
    text[raw.len] = '\0';
    if (integral) {
        char *endp;
        long long v;

        errno = 0;
        v = strtoll(text, &endp, 10);
        if (errno == ERANGE)
            return kl_err_set(KL_EINVAL, "number %s is too large", text);
        *out = v;
        return KL_OK;
    }
    d = strtod(text, NULL);
    if (!isfinite(d) || d != floor(d) || fabs(d) > 9.0e15)
        return kl_err_set(KL_EINVAL, "%s is not an integer", text);
    *out = (int64_t)d;
    return KL_OK;
}

static kl_rc
push(kl_json_scan *s, uint8_t open)
{
    if (s->p >= s->end || *s->p != open)
        return syntax(s, open == '{' ? "expected an object" : "expected an array");
    if (s->depth >= KL_JSON_MAX_DEPTH)
        return syntax(s, "nesting is too deep");
    s->p++;
    s->first[s->depth++] = 1;
    return KL_OK;
}

kl_rc
kl_json_scan_object_begin(kl_json_scan *s)
{
    skip_ws(s);
    return push(s, '{');
}

kl_rc
kl_json_scan_array_begin(kl_json_scan *s)
{
    skip_ws(s);
    return push(s, '[');
}

/* Handles the separator before the next member/element, or the close. */
static kl_rc
next_item(kl_json_scan *s, uint8_t close, bool *more)
{
    uint8_t *first = &s->first[s->depth - 1];

    skip_ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        s->depth--;
        *more = false;
        return KL_OK;
    }
    if (!*first) {
        if (s->p >= s->end || *s->p != ',')
            return syntax(s, close == '}' ? "expected ',' or '}' after an object member"
                                          : "expected ',' or ']' after an array element");
        s->p++;
        skip_ws(s);
        if (s->p < s->end && *s->p == close)
            return syntax(s, "trailing comma");
    }
    *first = 0;
    *more = true;
    return KL_OK;
}

kl_rc
kl_json_scan_object_next(kl_json_scan *s, bool *more, kl_bytes *key)
{
    kl_rc rc;

    if (s->depth == 0)
        return kl_err_set(KL_EINVAL, "json scan: not inside an object");
    rc = next_item(s, '}', more);
    if (rc != KL_OK || !*more)
        return rc;
    if (s->p >= s->end || *s->p != '"')
        return syntax(s, "expected a member name in double quotes");
    rc = scan_string(s, &s->key_scratch, key);
    if (rc != KL_OK)
        return rc;
    skip_ws(s);
    if (s->p >= s->end || *s->p != ':')
        return syntax(s, "expected ':' after a member name");
    s->p++;
    return KL_OK;
}

kl_rc
kl_json_scan_array_next(kl_json_scan *s, bool *more)
{
    if (s->depth == 0)
        return kl_err_set(KL_EINVAL, "json scan: not inside an array");
    return next_item(s, ']', more);
}

static kl_rc
literal(kl_json_scan *s, const char *word)
{
    size_t n = strlen(word);

    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
        return syntax(s, "unexpected character");
    s->p += n;
    return KL_OK;
}

static kl_rc
skip_value(kl_json_scan *s)
{
    kl_bytes tmp;
    bool more, integral;
    kl_rc rc;

    switch (kl_json_scan_peek(s)) {
    case KL_JSON_OBJECT:
        if ((rc = kl_json_scan_object_begin(s)))
            return rc;
        while ((rc = kl_json_scan_object_next(s, &more, &tmp)) == KL_OK && more)
            if ((rc = skip_value(s)))
                return rc;
        return rc;
    case KL_JSON_ARRAY:
        if ((rc = kl_json_scan_array_begin(s)))
            return rc;
        while ((rc = kl_json_scan_array_next(s, &more)) == KL_OK && more)
            if ((rc = skip_value(s)))
                return rc;
        return rc;
    case KL_JSON_STRING:
        return scan_string(s, &s->val_scratch, &tmp);
    case KL_JSON_NUMBER:
        return scan_number(s, &tmp, &integral);
    case KL_JSON_TRUE:
        return literal(s, "true");
    case KL_JSON_FALSE:
        return literal(s, "false");
    case KL_JSON_NULL:
        return literal(s, "null");
    default:
        return syntax(s, "expected a value");
    }
}

kl_rc
kl_json_scan_skip(kl_json_scan *s, kl_bytes *span)
{
    const uint8_t *start;
    kl_rc rc;

    skip_ws(s);
    start = s->p;
    rc = skip_value(s);
    if (rc == KL_OK && span)
        *span = KL_BYTES(start, (size_t)(s->p - start));
    return rc;
}

kl_rc
kl_json_scan_finish(kl_json_scan *s)
{
    skip_ws(s);
    if (s->p != s->end)
        return syntax(s, "extra data after the JSON value");
    return KL_OK;
}
