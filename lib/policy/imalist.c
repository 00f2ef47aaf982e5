#include "policy/imalist.h"

#include "crypto/x509.h"
#include "util/kl_hex.h"

#include <string.h>

#define MAX_PIECES 6

/* A line split on single spaces: up to MAX_PIECES pieces are kept, count
 * is the full number. */
typedef struct {
    kl_bytes piece[MAX_PIECES];
    size_t count;
} pieces;

static void
split_spaces(kl_bytes line, pieces *p)
{
    size_t start = 0;

    p->count = 0;
    for (size_t i = 0; i <= line.len; i++) {
        if (i < line.len && line.ptr[i] != ' ')
            continue;
        if (p->count < MAX_PIECES)
            p->piece[p->count] = KL_BYTES(line.ptr + start, i - start);
        p->count++;
        start = i + 1;
    }
}

/* Walks the lines (readline semantics), checking UTF-8 on the way. */
typedef struct {
    kl_bytes text;
    size_t off, lineno;
} cursor;

static kl_rc
next_line(cursor *c, kl_bytes *line, bool *more)
{
    size_t i = c->off;

    *more = c->off < c->text.len;
    if (!*more)
        return KL_OK;
    c->lineno++;
    while (i < c->text.len && c->text.ptr[i] != '\n' && c->text.ptr[i] != '\r') {
        uint32_t cp;
        size_t n = kl_legacy_utf8_next(c->text.ptr + i, c->text.len - i, &cp);

        if (n == 0)
            return kl_err_set(KL_EPARSE, "IMA measurement list: line %zu: not valid UTF-8",
                              c->lineno);
        i += n;
    }
    *line = KL_BYTES(c->text.ptr + c->off, i - c->off);
    if (i < c->text.len && c->text.ptr[i] == '\r' && i + 1 < c->text.len &&
        c->text.ptr[i + 1] == '\n')
        i++;
    c->off = i < c->text.len ? i + 1 : i;
    return KL_OK;
}

/* The digest in "<alg>:<digest>[:...]": pieces[3].split(":")[1]. */
static kl_rc
digest_of(kl_bytes col, size_t lineno, kl_bytes *out)
{
    const uint8_t *colon = col.len ? memchr(col.ptr, ':', col.len) : NULL;
    const uint8_t *end;

    if (!colon)
        return kl_err_set(KL_EPARSE,
                          "IMA measurement list: line %zu: the digest \"%.*s\" has no "
                          "algorithm prefix",
                          lineno, (int)(col.len > 140 ? 140 : col.len), (const char *)col.ptr);
    end = memchr(colon + 1, ':', (size_t)(col.ptr + col.len - colon - 1));
    if (!end)
        end = col.ptr + col.len;
    *out = KL_BYTES(colon + 1, (size_t)(end - colon - 1));
    return KL_OK;
}

kl_rc
kl_imalist_digests(kl_bytes text, kl_legacy_digest_fn fn, void *payload)
{
    cursor c = {text, 0, 0};
    kl_bytes line, digest;
    pieces p;
    bool more;
    kl_rc rc;

    while ((rc = next_line(&c, &line, &more)) == KL_OK && more) {
        split_spaces(line, &p);
        if (p.count < 5)
            continue;
        if (!kl_bytes_eq_str(p.piece[2], "ima-sig") && !kl_bytes_eq_str(p.piece[2], "ima-ng"))
            continue;
        rc = digest_of(p.piece[3], c.lineno, &digest);
        if (rc == KL_OK)
            rc = fn(digest, p.piece[4], payload);
        if (rc != KL_OK)
            return rc;
    }
    return rc;
}

/* str.strip() of a piece of valid UTF-8. */
static kl_bytes
strip(kl_bytes s)
{
    size_t start = s.len, end = 0;

    for (size_t i = 0; i < s.len;) {
        uint32_t cp = 0;
        size_t n = kl_legacy_utf8_next(s.ptr + i, s.len - i, &cp);

        if (n == 0)
            n = 1;
        if (!kl_legacy_is_space(cp)) {
            if (start == s.len)
                start = i;
            end = i + n;
        }
        i += n;
    }
    return start == s.len ? KL_BYTES(s.ptr, 0) : KL_BYTES(s.ptr + start, end - start);
}

/* binascii.unhexlify(hex) is a DER certificate (upstream's asn1_compliant). */
static kl_rc
holds_certificate(kl_bytes hex, kl_buf *tmp, bool *out)
{
    kl_rc rc;

    *out = false;
    kl_buf_reset(tmp);
    if (hex.len == 0 || hex.len % 2)
        return KL_OK;
    for (size_t i = 0; i < hex.len; i++)
        if (kl_hex_digit(hex.ptr[i]) < 0)
            return KL_OK;
    rc = kl_hex_decode_append(tmp, hex);
    if (rc == KL_OK)
        *out = kl_x509_is_cert_der(kl_buf_bytes(tmp));
    return rc;
}

/* Upstream tests the template with `not in ("ima-buf")`, a substring test
 * on a string; kept so that the same lines are selected. */
static bool
buf_template(kl_bytes t)
{
    static const char name[] = "ima-buf";

    for (size_t i = 0; t.len <= sizeof(name) - 1 && i + t.len <= sizeof(name) - 1; i++)
        if (t.len == 0 || memcmp(name + i, t.ptr, t.len) == 0)
            return true;
    return false;
}

kl_rc
kl_imalist_buffers(kl_bytes text, kl_imalist_buf_fn fn, void *payload)
{
    cursor c = {text, 0, 0};
    kl_bytes line, digest;
    kl_buf tmp;
    pieces p;
    bool more, is_key;
    kl_rc rc;

    kl_buf_init(&tmp, text.len / 2 + 16);
    while ((rc = next_line(&c, &line, &more)) == KL_OK && more) {
        split_spaces(line, &p);
        if (p.count != 6 || !buf_template(p.piece[2]))
            continue;
        rc = digest_of(p.piece[3], c.lineno, &digest);
        if (rc == KL_OK)
            rc = holds_certificate(strip(p.piece[5]), &tmp, &is_key);
        if (rc == KL_OK)
            rc = fn(is_key, p.piece[4], digest, payload);
        if (rc != KL_OK)
            break;
    }
    kl_buf_free(&tmp);
    return rc;
}
