#include "ima/ima_ascii.h"

#include <stdio.h>
#include <string.h>

#include "ima/ima_sig.h"
#include "ima/ima_template.h"
#include "util/kl_hex.h"

#define SHA1_SIZE 20
#define MD5_SIZE 16

void
kl_ima_ascii_init(kl_ima_ascii *p, kl_bytes text)
{
    p->text = text;
    p->off = 0;
    p->index = 0;
    p->next = 0;
    for (size_t i = 0; i < KL_IMA_ASCII_KEEP; i++)
        kl_buf_init(&p->bufs[i], 4 * KL_IMA_LINE_MAX);
    p->cur = &p->bufs[0];
}

void
kl_ima_ascii_free(kl_ima_ascii *p)
{
    for (size_t i = 0; i < KL_IMA_ASCII_KEEP; i++)
        kl_buf_free(&p->bufs[i]);
}

/* Python str.split(" ", maxsplit) semantics: up to max+1 tokens, the last
 * one holding the rest. Returns the number of tokens. */
static size_t
split(kl_bytes s, size_t maxsplit, kl_bytes *tok)
{
    size_t n = 0;
    const uint8_t *p = s.ptr, *end = s.ptr + s.len;

    while (n < maxsplit) {
        const uint8_t *sp = memchr(p, ' ', (size_t)(end - p));

        if (!sp)
            break;
        tok[n++] = KL_BYTES(p, (size_t)(sp - p));
        p = sp + 1;
    }
    tok[n++] = KL_BYTES(p, (size_t)(end - p));
    return n;
}

static bool
is_space(uint8_t c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* bytes.fromhex into the scratch tail (space already reserved): pairs of
 * digits in either case, ASCII whitespace allowed between pairs. */
static bool
fromhex(kl_buf *b, kl_bytes hex, kl_bytes *out)
{
    uint8_t *start = b->ptr + b->len, *o = start;
    const uint8_t *p = hex.ptr, *end = hex.ptr + hex.len;

    while (end - p >= 2) { /* the common case: no whitespace */
        int hi = kl_hex_table[p[0]], lo = kl_hex_table[p[1]];

        if ((hi | lo) < 0)
            break;
        *o++ = (uint8_t)((hi & 15) << 4 | (lo & 15));
        p += 2;
    }
    while (p < end) {
        int hi, lo;

        if (is_space(*p)) {
            p++;
            continue;
        }
        if (end - p < 2)
            return false;
        hi = kl_hex_table[p[0]];
        lo = kl_hex_table[p[1]];
        if ((hi | lo) < 0)
            return false;
        *o++ = (uint8_t)((hi & 15) << 4 | (lo & 15));
        p += 2;
    }
    b->len = (size_t)(o - b->ptr);
    *out = KL_BYTES(start, (size_t)(o - start));
    return true;
}

/* Digest column: "alg:hex" or bare hex (sha1 or md5 by length). */
static const char *
parse_digest(kl_ima_ascii *p, kl_ima_entry *e, kl_bytes tok)
{
    const uint8_t *colon = memchr(tok.ptr, ':', tok.len);
    kl_bytes hex = tok;

    if (colon) {
        if (memchr(colon + 1, ':', (size_t)(tok.ptr + tok.len - colon - 1)))
            return "digest has more than one ':'";
        e->digest_alg = KL_BYTES(tok.ptr, (size_t)(colon - tok.ptr));
        hex = KL_BYTES(colon + 1, (size_t)(tok.ptr + tok.len - colon - 1));
    }
    if (!fromhex(p->cur, hex, &e->digest))
        return "digest is not valid hex";
    if (!colon) {
        if (e->digest.len == SHA1_SIZE)
            e->digest_alg = KL_BYTES_STR("sha1");
        else if (e->digest.len == MD5_SIZE)
            e->digest_alg = KL_BYTES_STR("md5");
        else
            return "digest without algorithm is neither sha1 nor md5 sized";
    }
    return NULL;
}

/* Template-specific columns after the template name. */
static const char *
parse_fields(kl_ima_ascii *p, kl_ima_entry *e, kl_bytes rest)
{
    kl_bytes tok[3];
    size_t want = e->tmpl == KL_IMA_TMPL_IMA || e->tmpl == KL_IMA_TMPL_IMA_NG ? 2 : 3;
    const char *err;

    if (split(rest, want - 1, tok) != want)
        return "wrong number of fields for the template";
    err = parse_digest(p, e, tok[0]);
    if (err)
        return err;
    e->name = tok[1];
    if (e->tmpl == KL_IMA_TMPL_IMA_SIG) {
        size_t mark = p->cur->len;
        kl_ima_sig sig;

        /* upstream drops a signature it cannot parse */
        if (fromhex(p->cur, tok[2], &e->sig) && kl_ima_sig_parse(e->sig, &sig)) {
            e->has_sig = true;
        } else {
            p->cur->len = mark;
            e->sig = KL_BYTES(NULL, 0);
        }
    } else if (e->tmpl == KL_IMA_TMPL_IMA_BUF) {
        if (!fromhex(p->cur, tok[2], &e->buf))
            return "buffer is not valid hex";
    }
    return NULL;
}

static const char *
parse_line(kl_ima_ascii *p, kl_ima_entry *e, kl_bytes line)
{
    kl_bytes tok[4];
    size_t mark, len;

    if (line.len > KL_IMA_LINE_MAX)
        return "line is too long";
    if (split(line, 3, tok) != 4)
        return "fewer than 4 fields";
    e->pcr_is_ima = tok[0].len == 2 && tok[0].ptr[0] == '1' && tok[0].ptr[1] == '0';
    len = tok[0].len < sizeof(e->pcr_text) - 1 ? tok[0].len : sizeof(e->pcr_text) - 1;
    memcpy(e->pcr_text, tok[0].ptr, len);
    e->pcr_text[len] = '\0';
    if (!fromhex(p->cur, tok[1], &e->template_hash))
        return "template hash is not valid hex";
    e->template_name = tok[2];
    e->tmpl = kl_ima_template_from_name(tok[2]);
    if (e->tmpl == KL_IMA_TMPL_UNKNOWN)
        return "unsupported template";
    const char *err = parse_fields(p, e, tok[3]);
    if (err)
        return err;
    mark = p->cur->len;
    if (kl_ima_template_encode(e, p->cur) != KL_OK)
        return "name longer than 255 bytes in an 'ima' entry";
    e->template_data = KL_BYTES(p->cur->ptr + mark, p->cur->len - mark);
    return NULL;
}

kl_rc
kl_ima_ascii_next(kl_ima_ascii *p, kl_ima_entry *e, bool *more)
{
    kl_bytes line;
    kl_rc rc;

    for (;;) {
        size_t left = p->text.len - p->off;
        const uint8_t *start, *nl;

        if (left == 0) {
            *more = false;
            return KL_OK;
        }
        start = p->text.ptr + p->off; /* not before: text.ptr may be NULL when empty */
        nl = memchr(start, '\n', left);
        line = KL_BYTES(start, nl ? (size_t)(nl - start) : left);
        p->off += line.len + (nl ? 1 : 0);
        p->index++;
        if (line.len)
            break;
    }
    memset(e, 0, sizeof(*e));
    e->index = p->index - 1;
    e->raw = line;
    *more = true;
    /* room for every decoded column and the template data without moving;
     * the buffers rotate so that earlier entries stay valid */
    p->cur = &p->bufs[p->next];
    p->next = (p->next + 1) % KL_IMA_ASCII_KEEP;
    kl_buf_reset(p->cur);
    rc = kl_buf_reserve(p->cur, (line.len > KL_IMA_LINE_MAX ? 0 : 2 * line.len) + 1024);
    if (rc != KL_OK)
        return rc;
    e->error = parse_line(p, e, line);
    if (e->error)
        e->template_data = KL_BYTES(NULL, 0);
    return KL_OK;
}
