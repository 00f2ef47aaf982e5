#include "util/kl_reader.h"

static kl_rc
short_read(const kl_reader *r, size_t want)
{
    return kl_err_set(KL_EPARSE, "truncated data: need %zu bytes at offset %zu, %zu left", want,
                      r->off, kl_reader_left(r));
}

kl_rc
kl_reader_bytes(kl_reader *r, size_t n, kl_bytes *out)
{
    if (kl_reader_left(r) < n)
        return short_read(r, n);
    *out = KL_BYTES(r->ptr + r->off, n);
    r->off += n;
    return KL_OK;
}

kl_rc
kl_reader_u8(kl_reader *r, uint8_t *out)
{
    if (kl_reader_left(r) < 1)
        return short_read(r, 1);
    *out = r->ptr[r->off++];
    return KL_OK;
}

kl_rc
kl_reader_u16be(kl_reader *r, uint16_t *out)
{
    kl_bytes b;
    kl_rc rc = kl_reader_bytes(r, 2, &b);

    if (rc == KL_OK)
        *out = (uint16_t)(b.ptr[0] << 8 | b.ptr[1]);
    return rc;
}

kl_rc
kl_reader_u32be(kl_reader *r, uint32_t *out)
{
    kl_bytes b;
    kl_rc rc = kl_reader_bytes(r, 4, &b);

    if (rc == KL_OK)
        *out = (uint32_t)b.ptr[0] << 24 | (uint32_t)b.ptr[1] << 16 | (uint32_t)b.ptr[2] << 8 |
               b.ptr[3];
    return rc;
}

kl_rc
kl_reader_u16le(kl_reader *r, uint16_t *out)
{
    kl_bytes b;
    kl_rc rc = kl_reader_bytes(r, 2, &b);

    if (rc == KL_OK)
        *out = (uint16_t)(b.ptr[1] << 8 | b.ptr[0]);
    return rc;
}

kl_rc
kl_reader_u32le(kl_reader *r, uint32_t *out)
{
    kl_bytes b;
    kl_rc rc = kl_reader_bytes(r, 4, &b);

    if (rc == KL_OK)
        *out = (uint32_t)b.ptr[3] << 24 | (uint32_t)b.ptr[2] << 16 | (uint32_t)b.ptr[1] << 8 |
               b.ptr[0];
    return rc;
}

kl_rc
kl_reader_u64le(kl_reader *r, uint64_t *out)
{
    kl_bytes b;
    kl_rc rc = kl_reader_bytes(r, 8, &b);

    if (rc != KL_OK)
        return rc;
    *out = 0;
    for (int i = 7; i >= 0; i--)
        *out = *out << 8 | b.ptr[i];
    return KL_OK;
}

kl_rc
kl_reader_lv32le(kl_reader *r, kl_bytes *out)
{
    size_t start = r->off;
    uint32_t n;
    kl_rc rc = kl_reader_u32le(r, &n);

    if (rc != KL_OK)
        return rc;
    rc = kl_reader_bytes(r, n, out);
    if (rc != KL_OK)
        r->off = start;
    return rc;
}
