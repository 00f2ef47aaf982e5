/* zipread: central directory walk and stored/deflate extraction. */
#include "payload/zipread.h"

#include <string.h>
#include <zlib.h>

#define SIG_EOCD 0x06054b50u
#define SIG_EOCD64 0x06064b50u
#define SIG_LOC64 0x07064b50u
#define SIG_CDR 0x02014b50u
#define SIG_LOCAL 0x04034b50u
#define EOCD_LEN 22u
#define LOC64_LEN 20u
#define EOCD64_LEN 56u
#define CDR_LEN 46u
#define LOCAL_LEN 30u
#define EXTRA_ZIP64 0x0001u

static uint16_t
le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t
le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* True when [off, off + len) lies within a buffer of size n. */
static bool
fits(size_t n, uint64_t off, uint64_t len)
{
    return off <= n && len <= n - off;
}

/* The last end-of-central-directory signature whose comment fits. */
static bool
find_eocd(kl_bytes z, size_t *at)
{
    size_t lo;

    if (z.len < EOCD_LEN)
        return false;
    lo = z.len - EOCD_LEN > 0xffffu ? z.len - EOCD_LEN - 0xffffu : 0;
    for (size_t i = z.len - EOCD_LEN + 1; i-- > lo;) {
        if (le32(z.ptr + i) == SIG_EOCD && le16(z.ptr + i + 20) <= z.len - i - EOCD_LEN) {
            *at = i;
            return true;
        }
    }
    return false;
}

/* Reads the zip64 end record through its locator at loc_at, before the
 * EOCD; the record must lie before the locator. */
static kl_rc
read_eocd64(kl_bytes z, size_t loc_at, uint64_t *count, uint64_t *cd_size, uint64_t *cd_off)
{
    const uint8_t *rec;
    uint64_t off = le64(z.ptr + loc_at + 8);

    if (!fits(loc_at, off, EOCD64_LEN) || le32(z.ptr + off) != SIG_EOCD64)
        return kl_err_set(KL_EPARSE, "zip: damaged zip64 end of central directory");
    rec = z.ptr + off;
    *count = le64(rec + 32);
    *cd_size = le64(rec + 40);
    *cd_off = le64(rec + 48);
    return KL_OK;
}

kl_rc
kl_zip_open(kl_zip_reader *r, kl_bytes zip)
{
    uint64_t count, cd_size, cd_off;
    size_t eocd;
    kl_rc rc;

    memset(r, 0, sizeof(*r));
    if (!find_eocd(zip, &eocd))
        return kl_err_set(KL_EPARSE, "zip: not a zip archive (no end of central directory)");
    count = le16(zip.ptr + eocd + 10);
    cd_size = le32(zip.ptr + eocd + 12);
    cd_off = le32(zip.ptr + eocd + 16);
    if (le16(zip.ptr + eocd + 4) != 0 || le16(zip.ptr + eocd + 6) != 0)
        return kl_err_set(KL_EPARSE, "zip: multi-disk archives are not supported");
    if (eocd >= LOC64_LEN && le32(zip.ptr + eocd - LOC64_LEN) == SIG_LOC64) {
        rc = read_eocd64(zip, eocd - LOC64_LEN, &count, &cd_size, &cd_off);
        if (rc != KL_OK)
            return rc;
        eocd -= LOC64_LEN;
    }
    if (!fits(eocd, cd_off, cd_size) || count > cd_size / CDR_LEN)
        return kl_err_set(KL_EPARSE, "zip: central directory outside the archive (truncated?)");
    r->zip = zip;
    r->next = (size_t)cd_off;
    r->cd_end = (size_t)(cd_off + cd_size);
    r->left = count;
    return KL_OK;
}

/* Replaces saturated sizes and the offset with the zip64 extra field's. */
static kl_rc
apply_zip64(kl_bytes extra, kl_zip_entry *e, uint64_t *local_off)
{
    uint64_t *want[3] = {&e->usize, &e->csize, local_off};
    uint64_t sat[3] = {0xffffffffu, 0xffffffffu, 0xffffffffu};
    size_t i = 0;

    while (i + 4 <= extra.len) {
        uint16_t id = le16(extra.ptr + i), n = le16(extra.ptr + i + 2);
        size_t p = i + 4;

        if (n > extra.len - p)
            return kl_err_set(KL_EPARSE, "zip: damaged extra field");
        for (int k = 0; id == EXTRA_ZIP64 && k < 3; k++) {
            if (*want[k] != sat[k])
                continue;
            if (p + 8 > i + 4 + n)
                return kl_err_set(KL_EPARSE, "zip: damaged zip64 extra field");
            *want[k] = le64(extra.ptr + p);
            p += 8;
        }
        i += 4 + (size_t)n;
    }
    return KL_OK;
}

/* Checks the local header at off against the record; sets e->data. */
static kl_rc
read_local(const kl_zip_reader *r, uint64_t off, kl_zip_entry *e)
{
    const uint8_t *h = r->zip.ptr + off;
    uint64_t start;

    if (!fits(r->zip.len, off, LOCAL_LEN) || le32(h) != SIG_LOCAL)
        return kl_err_set(KL_EPARSE, "zip: damaged local header for '%.*s'", (int)e->name.len,
                          (const char *)e->name.ptr);
    start = off + LOCAL_LEN + le16(h + 26) + le16(h + 28);
    if (le16(h + 26) != e->name.len || !fits(r->zip.len, off + LOCAL_LEN, e->name.len) ||
        memcmp(h + LOCAL_LEN, e->name.ptr, e->name.len) != 0)
        return kl_err_set(KL_EPARSE, "zip: entry names in the directory and header differ ('%.*s')",
                          (int)e->name.len, (const char *)e->name.ptr);
    if (!fits(r->zip.len, start, e->csize))
        return kl_err_set(KL_EPARSE, "zip: data of '%.*s' outside the archive (truncated?)",
                          (int)e->name.len, (const char *)e->name.ptr);
    e->data.ptr = r->zip.ptr + start;
    e->data.len = (size_t)e->csize;
    return KL_OK;
}

kl_rc
kl_zip_next(kl_zip_reader *r, kl_zip_entry *e, bool *done)
{
    const uint8_t *c = r->zip.ptr + r->next;
    uint64_t local_off;
    size_t n, m, k;
    kl_rc rc;

    memset(e, 0, sizeof(*e));
    *done = r->left == 0;
    if (*done)
        return KL_OK;
    if (!fits(r->cd_end, r->next, CDR_LEN) || le32(c) != SIG_CDR)
        return kl_err_set(KL_EPARSE, "zip: damaged central directory");
    n = le16(c + 28);
    m = le16(c + 30);
    k = le16(c + 32);
    if (!fits(r->cd_end, r->next + CDR_LEN, n + m + k))
        return kl_err_set(KL_EPARSE, "zip: damaged central directory record");
    e->made_by_os = c[5];
    e->flags = le16(c + 8);
    e->method = le16(c + 10);
    e->crc32 = le32(c + 16);
    e->csize = le32(c + 20);
    e->usize = le32(c + 24);
    e->external_attr = le32(c + 38);
    local_off = le32(c + 42);
    e->name.ptr = c + CDR_LEN;
    e->name.len = n;
    rc = apply_zip64((kl_bytes){c + CDR_LEN + n, m}, e, &local_off);
    if (rc != KL_OK)
        return rc;
    r->next += CDR_LEN + n + m + k;
    r->left--;
    return read_local(r, local_off, e);
}

/* Hands n bytes to the sink and counts them into the CRC and the total. */
static kl_rc
emit(const uint8_t *p, size_t n, uint32_t *crc, uint64_t *total, kl_zip_sink sink, void *ctx)
{
    kl_rc rc = sink(p, n, ctx);

    if (rc == KL_OK) {
        *crc = (uint32_t)crc32(*crc, p, (uInt)n);
        *total += n;
    }
    return rc;
}

/* Hands the stored bytes to the sink, buflen at a time. */
static kl_rc
copy_stored(const kl_zip_entry *e, size_t buflen, uint32_t *crc, uint64_t *total,
            kl_zip_sink sink, void *ctx)
{
    kl_rc rc = KL_OK;

    for (size_t off = 0; rc == KL_OK && off < e->data.len; off += buflen) {
        size_t n = e->data.len - off < buflen ? e->data.len - off : buflen;

        rc = emit(e->data.ptr + off, n, crc, total, sink, ctx);
    }
    return rc;
}

static kl_rc
inflate_loop(z_stream *s, const kl_zip_entry *e, uint8_t *buf, size_t buflen, uint32_t *crc,
             uint64_t *total, kl_zip_sink sink, void *ctx)
{
    int zr;
    kl_rc rc;

    do {
        s->next_out = buf;
        s->avail_out = (uInt)buflen;
        zr = inflate(s, Z_NO_FLUSH);
        if (zr != Z_OK && zr != Z_STREAM_END)
            return kl_err_set(KL_EPARSE, "zip: damaged deflate data in '%.*s'",
                              (int)e->name.len, (const char *)e->name.ptr);
        rc = buflen > s->avail_out ? emit(buf, buflen - s->avail_out, crc, total, sink, ctx)
                                   : KL_OK;
        if (rc != KL_OK)
            return rc;
    } while (zr != Z_STREAM_END);
    return KL_OK;
}

static kl_rc
copy_deflated(const kl_zip_entry *e, uint8_t *buf, size_t buflen, uint32_t *crc,
              uint64_t *total, kl_zip_sink sink, void *ctx)
{
    z_stream s;
    kl_rc rc;

    if (e->data.len > UINT32_MAX)
        return kl_err_set(KL_EPARSE, "zip: entry '%.*s' is too large", (int)e->name.len,
                          (const char *)e->name.ptr);
    memset(&s, 0, sizeof(s));
    if (inflateInit2(&s, -MAX_WBITS) != Z_OK)
        return kl_err_set(KL_ENOMEM, "zip: cannot start inflating (out of memory)");
    s.next_in = (Bytef *)(uintptr_t)e->data.ptr;
    s.avail_in = (uInt)e->data.len;
    rc = inflate_loop(&s, e, buf, buflen, crc, total, sink, ctx);
    inflateEnd(&s);
    return rc;
}

kl_rc
kl_zip_extract(const kl_zip_entry *e, uint8_t *buf, size_t buflen, kl_zip_sink sink, void *ctx)
{
    uint32_t crc = (uint32_t)crc32(0, NULL, 0);
    uint64_t total = 0;
    kl_rc rc;

    if (buflen == 0 || buflen > UINT32_MAX)
        return kl_err_set(KL_EINVAL, "zip: bad buffer size");
    if (e->method == 0)
        rc = copy_stored(e, buflen, &crc, &total, sink, ctx);
    else if (e->method == 8)
        rc = copy_deflated(e, buf, buflen, &crc, &total, sink, ctx);
    else
        rc = kl_err_set(KL_EPARSE, "zip: entry '%.*s' uses compression method %u (only stored "
                                   "and deflate are supported)",
                        (int)e->name.len, (const char *)e->name.ptr, e->method);
    if (rc == KL_OK && (total != e->usize || crc != e->crc32))
        rc = kl_err_set(KL_EPARSE, "zip: entry '%.*s' is damaged (%s does not match)",
                        (int)e->name.len, (const char *)e->name.ptr,
                        total != e->usize ? "size" : "CRC-32");
    return rc;
}
