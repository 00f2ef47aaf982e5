#include "policy/legacy.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A cursor over the lines of a text. */
typedef struct {
    kl_bytes text;
    size_t off;
    size_t lineno; /* 1-based number of the line last returned */
    kl_legacy_eol eol;
} lines;

/* One line, stripped, and its first token and the rest (for split(None, 1)). */
typedef struct {
    kl_bytes stripped;
    kl_bytes first;
    kl_bytes rest; /* empty when the line has a single part */
} split_line;

size_t
kl_legacy_utf8_next(const uint8_t *p, size_t left, uint32_t *cp)
{
    uint8_t lo = 0x80, hi = 0xbf;
    size_t n;
    uint32_t v;

    if (left == 0)
        return 0;
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        n = 2;
        v = p[0] & 0x1f;
    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        n = 3;
        v = p[0] & 0x0f;
        if (p[0] == 0xe0)
            lo = 0xa0; /* no overlongs */
        else if (p[0] == 0xed)
            hi = 0x9f; /* no surrogates */
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        n = 4;
        v = p[0] & 0x07;
        if (p[0] == 0xf0)
            lo = 0x90;
        else if (p[0] == 0xf4)
            hi = 0x8f; /* nothing above U+10FFFF */
    } else {
        return 0;
    }
    if (left < n || p[1] < lo || p[1] > hi)
        return 0;
    v = v << 6 | (p[1] & 0x3f);
    for (size_t i = 2; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (p[i] & 0x3f);
    }
    *cp = v;
    return n;
}

bool
kl_legacy_is_space(uint32_t cp)
{
    return (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20) || cp == 0x85 || cp == 0xa0 ||
           cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 ||
           cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

static bool
is_eol(uint32_t cp, kl_legacy_eol eol)
{
    if (cp == '\n' || cp == '\r')
        return true;
    if (eol == KL_LEGACY_READLINE)
        return false;
    return cp == 0x0b || cp == 0x0c || (cp >= 0x1c && cp <= 0x1e) || cp == 0x85 || cp == 0x2028 ||
           cp == 0x2029;
}

/* The next line without its terminator; *more is false at the end of the
 * text. KL_EPARSE when the line is not UTF-8. */
static kl_rc
next_line(lines *l, kl_bytes *line, bool *more)
{
    const uint8_t *p = l->text.ptr;
    size_t start = l->off, i = l->off;

    *more = l->off < l->text.len;
    if (!*more)
        return KL_OK;
    l->lineno++;
    while (i < l->text.len) {
        uint32_t cp;
        size_t n = kl_legacy_utf8_next(p + i, l->text.len - i, &cp);

        if (n == 0)
            return kl_err_set(KL_EPARSE, "line %zu: not valid UTF-8 (byte 0x%02x)", l->lineno,
                              p[i]);
        if (is_eol(cp, l->eol)) {
            *line = KL_BYTES(p + start, i - start);
            i += n;
            if (cp == '\r' && i < l->text.len && p[i] == '\n')
                i++;
            l->off = i;
            return KL_OK;
        }
        i += n;
    }
    *line = KL_BYTES(p + start, i - start);
    l->off = i;
    return KL_OK;
}

/* line.strip() and line.split(None, 1) in one pass over valid UTF-8. */
static void
split(kl_bytes line, split_line *out)
{
    size_t start = SIZE_MAX, end = 0, tok_end = SIZE_MAX, rest = SIZE_MAX;

    for (size_t i = 0; i < line.len;) {
        uint32_t cp = 0;
        size_t n = kl_legacy_utf8_next(line.ptr + i, line.len - i, &cp);

        if (n == 0) /* cannot happen: next_line checked the line */
            n = 1;
        if (!kl_legacy_is_space(cp)) {
            if (start == SIZE_MAX)
                start = i;
            end = i + n;
            if (tok_end != SIZE_MAX && rest == SIZE_MAX)
                rest = i;
        } else if (start != SIZE_MAX && tok_end == SIZE_MAX) {
            tok_end = i;
        }
        i += n;
    }
    out->stripped = out->first = out->rest = KL_BYTES(line.ptr, 0);
    if (start == SIZE_MAX)
        return;
    out->stripped = KL_BYTES(line.ptr + start, end - start);
    if (tok_end == SIZE_MAX || rest == SIZE_MAX) {
        out->first = out->stripped;
        return;
    }
    out->first = KL_BYTES(line.ptr + start, tok_end - start);
    out->rest = KL_BYTES(line.ptr + rest, end - rest);
}

kl_rc
kl_legacy_allowlist_parse_eol(kl_bytes text, kl_legacy_eol eol, kl_legacy_digest_fn fn,
                              void *payload)
{
    lines l = {text, 0, 0, eol};
    kl_bytes line;
    split_line s;
    bool more;
    kl_rc rc;

    while ((rc = next_line(&l, &line, &more)) == KL_OK && more) {
        split(line, &s);
        if (s.rest.len == 0)
            continue; /* blank, or a single part */
        rc = fn(s.first, s.rest, payload);
        if (rc != KL_OK)
            return rc;
    }
    return rc;
}

kl_rc
kl_legacy_allowlist_parse(kl_bytes text, kl_legacy_digest_fn fn, void *payload)
{
    return kl_legacy_allowlist_parse_eol(text, KL_LEGACY_SPLITLINES, fn, payload);
}

static kl_rc
stripped_lines(kl_bytes text, kl_legacy_eol eol, bool comments, kl_legacy_line_fn fn, void *payload)
{
    lines l = {text, 0, 0, eol};
    kl_bytes line;
    split_line s;
    bool more;
    kl_rc rc;

    while ((rc = next_line(&l, &line, &more)) == KL_OK && more) {
        split(line, &s);
        if (s.stripped.len == 0 || (comments && s.stripped.ptr[0] == '#'))
            continue;
        rc = fn(s.stripped, payload);
        if (rc != KL_OK)
            return rc;
    }
    return rc;
}

kl_rc
kl_legacy_excludes_parse(kl_bytes text, kl_legacy_line_fn fn, void *payload)
{
    return stripped_lines(text, KL_LEGACY_READLINE, true, fn, payload);
}

kl_rc
kl_legacy_lines_parse(kl_bytes text, kl_legacy_eol eol, kl_legacy_line_fn fn, void *payload)
{
    return stripped_lines(text, eol, false, fn, payload);
}
