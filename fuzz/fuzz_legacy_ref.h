/* fuzz_legacy_ref: an independent, simple model of how upstream (Python)
 * reads the legacy text formats, for fuzz_allowlist and fuzz_excludelist:
 * decode the whole text as UTF-8, split it into lines, strip each line and
 * split it once on whitespace. Slow and obvious on purpose.
 */
#ifndef KL_FUZZ_LEGACY_REF_H
#define KL_FUZZ_LEGACY_REF_H

#include "fuzz_util.h"
#include "policy/legacy.h"

/* Strict UTF-8 (as Python's decoder): length of the sequence at p, or 0. */
static inline size_t
ref_utf8(const uint8_t *p, size_t left, uint32_t *cp)
{
    uint32_t v, min;
    size_t n;

    if (left == 0)
        return 0;
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    if ((p[0] & 0xe0) == 0xc0) {
        n = 2;
        v = p[0] & 0x1fu;
        min = 0x80;
    } else if ((p[0] & 0xf0) == 0xe0) {
        n = 3;
        v = p[0] & 0x0fu;
        min = 0x800;
    } else if ((p[0] & 0xf8) == 0xf0) {
        n = 4;
        v = p[0] & 0x07u;
        min = 0x10000;
    } else {
        return 0;
    }
    if (left < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (p[i] & 0x3fu);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return n;
}

/* Python's str.isspace. */
static inline bool
ref_space(uint32_t c)
{
    static const uint32_t set[] = {0x09,   0x0a,   0x0b,   0x0c,   0x0d,   0x1c,   0x1d,   0x1e,
                                   0x1f,   0x20,   0x85,   0xa0,   0x1680, 0x2000, 0x2001, 0x2002,
                                   0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a,
                                   0x2028, 0x2029, 0x202f, 0x205f, 0x3000};

    for (size_t i = 0; i < sizeof(set) / sizeof(set[0]); i++)
        if (set[i] == c)
            return true;
    return false;
}

/* Line ends of str.splitlines() or of a text-mode readline(). */
static inline bool
ref_eol(uint32_t c, kl_legacy_eol eol)
{
    static const uint32_t more[] = {0x0b, 0x0c, 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029};

    if (c == '\n' || c == '\r')
        return true;
    for (size_t i = 0; eol == KL_LEGACY_SPLITLINES && i < sizeof(more) / sizeof(more[0]); i++)
        if (more[i] == c)
            return true;
    return false;
}

/* Whether the whole text is UTF-8 (Python decodes it before anything). */
static inline bool
ref_valid(kl_bytes t)
{
    uint32_t c = 0;

    for (size_t i = 0, n; i < t.len; i += n)
        if ((n = ref_utf8(t.ptr + i, t.len - i, &c)) == 0)
            return false;
    return true;
}

/* One line of t from *off (t is valid UTF-8); false at the end. */
static inline bool
ref_line(kl_bytes t, size_t *off, kl_legacy_eol eol, kl_bytes *line)
{
    size_t i = *off, n;
    uint32_t c = 0;

    if (i >= t.len)
        return false;
    for (; i < t.len; i += n) {
        n = ref_utf8(t.ptr + i, t.len - i, &c);
        FUZZ_CHECK(n > 0);
        if (ref_eol(c, eol))
            break;
    }
    *line = KL_BYTES(t.ptr + *off, i - *off);
    if (i < t.len) {
        i += n;
        if (c == '\r' && i < t.len && t.ptr[i] == '\n')
            i++;
    }
    *off = i;
    return true;
}

/* Length of the whitespace (space == true) or non-whitespace run at s. */
static inline size_t
ref_run(kl_bytes s, bool space)
{
    size_t i = 0, n;
    uint32_t c = 0;

    for (; i < s.len; i += n) {
        n = ref_utf8(s.ptr + i, s.len - i, &c);
        FUZZ_CHECK(n > 0); /* callers pass valid UTF-8 */
        if (ref_space(c) != space)
            break;
    }
    return i;
}

/* line.strip() */
static inline kl_bytes
ref_strip(kl_bytes s)
{
    size_t lead = ref_run(s, true), last = lead, i, n;
    uint32_t c = 0;

    for (i = lead; i < s.len; i += n) {
        n = ref_utf8(s.ptr + i, s.len - i, &c);
        FUZZ_CHECK(n > 0);
        if (!ref_space(c))
            last = i + n;
    }
    return KL_BYTES(s.ptr + lead, last - lead);
}

#endif
