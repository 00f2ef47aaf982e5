#include "policy/digest_map.h"

#include <string.h>

#include "util/kl_alloc.h"
#include "util/kl_hashfn.h"
#include "util/kl_hex.h"

/* A record: u32 name length, u32 digest count, the name, then the digests,
 * each one header byte and the bytes. The header holds the length, with
 * TEXT_FLAG set for a digest kept as text. Record offsets are stored + 1 so
 * that 0 marks an empty slot. */
#define TEXT_FLAG 0x80
#define MAX_BINARY 64 /* sha512 */
#define MAX_TEXT 127
#define REC_HDR 8
#define ARENA_MAX ((size_t)UINT32_MAX)

typedef struct {
    uint32_t tag; /* high half of the name's hash */
    uint32_t off1;
} slot;

struct kl_digest_map {
    kl_buf arena;
    size_t cur;      /* offset of the record being filled */
    size_t nrecords;
    slot *slots;
    size_t nslots;   /* a power of two */
    size_t live;
    size_t ndigests;
};

static uint32_t
rd32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return v;
}

kl_rc
kl_digest_map_new(kl_digest_map **out)
{
    kl_digest_map *m = kl_calloc(1, sizeof(*m));

    *out = m;
    if (!m)
        return kl_err_set(KL_ENOMEM, "out of memory");
    kl_buf_init(&m->arena, ARENA_MAX);
    return KL_OK;
}

void
kl_digest_map_free(kl_digest_map *m)
{
    if (!m)
        return;
    kl_buf_free(&m->arena);
    kl_free(m->slots);
    kl_free(m);
}

static kl_rc
arena_append(kl_digest_map *m, const void *p, size_t n)
{
    kl_rc rc = kl_buf_append(&m->arena, p, n);

    if (rc == KL_ETOOBIG)
        return kl_err_set(rc, "policy holds more than 4 GiB of names and digests");
    return rc;
}

kl_rc
kl_digest_map_begin(kl_digest_map *m, kl_bytes name)
{
    uint32_t hdr[2] = {(uint32_t)name.len, 0};
    size_t at = m->arena.len;
    kl_rc rc;

    if (name.len > UINT32_MAX)
        return kl_err_set(KL_ETOOBIG, "name too long");
    rc = arena_append(m, hdr, sizeof(hdr));
    if (rc == KL_OK)
        rc = arena_append(m, name.ptr, name.len);
    if (rc != KL_OK)
        return rc;
    m->cur = at;
    m->nrecords++;
    return KL_OK;
}

/* One pass: checks that every character is a lowercase hex digit and
 * decodes pairs into out (valid only when the length is even). */
static bool
lower_hex_decode(uint8_t *out, kl_bytes hex)
{
    int bad = 0;
    size_t i;

    for (i = 0; i + 1 < hex.len; i += 2) {
        int hi = kl_hex_table[hex.ptr[i]], lo = kl_hex_table[hex.ptr[i + 1]];

        bad |= (hi | lo) & ~15; /* negative, or KL_HEX_UPPER */
        out[i / 2] = (uint8_t)((hi & 15) << 4 | (lo & 15)); /* hi < 0: shift is undefined */
    }
    if (i < hex.len)
        bad |= kl_hex_table[hex.ptr[i]] & ~15;
    return bad == 0;
}

kl_rc
kl_digest_map_add_hex(kl_digest_map *m, kl_bytes hex, bool *lower_hex)
{
    uint8_t rec[1 + 2 * MAX_BINARY];
    bool is_hex;
    uint32_t count;
    size_t n;
    kl_rc rc;

    if (m->nrecords == 0 || hex.len == 0 || hex.len > 2 * MAX_BINARY)
        return kl_err_set(KL_EINVAL, "digest_map: bad digest or no current name");
    is_hex = lower_hex_decode(rec + 1, hex);
    if (lower_hex)
        *lower_hex = is_hex;
    if (is_hex && hex.len % 2 == 0) {
        n = hex.len / 2;
        rec[0] = (uint8_t)n;
    } else if (hex.len > MAX_TEXT) {
        return kl_err_set(KL_EINVAL, "digest_map: a non-hex digest longer than %d", MAX_TEXT);
    } else {
        n = hex.len;
        memcpy(rec + 1, hex.ptr, n);
        rec[0] = (uint8_t)(n | TEXT_FLAG);
    }
    rc = arena_append(m, rec, n + 1);
    if (rc != KL_OK)
        return rc;
    count = rd32(m->arena.ptr + m->cur + 4) + 1;
    memcpy(m->arena.ptr + m->cur + 4, &count, 4);
    return KL_OK;
}

uint64_t
kl_digest_map_hash(kl_bytes name)
{
    return kl_hashfn(name.ptr, name.len);
}

static bool
record_is(const kl_digest_map *m, uint32_t off1, kl_bytes name)
{
    const uint8_t *r = m->arena.ptr + off1 - 1;

    return rd32(r) == name.len && memcmp(r + REC_HDR, name.ptr, name.len) == 0;
}

/* Walks the records in order; returns the size of the one at off. */
static size_t
record_size(const uint8_t *r)
{
    size_t n = REC_HDR + rd32(r);
    uint32_t count = rd32(r + 4);

    for (uint32_t i = 0; i < count; i++)
        n += 1 + (r[n] & ~TEXT_FLAG);
    return n;
}

kl_rc
kl_digest_map_seal(kl_digest_map *m)
{
    size_t nslots = 16, off = 0;
    uint8_t *fit;

    while (nslots < m->nrecords * 2)
        nslots *= 2;
    m->slots = kl_calloc(nslots, sizeof(*m->slots));
    if (!m->slots)
        return kl_err_set(KL_ENOMEM, "out of memory indexing a policy");
    m->nslots = nslots;
    for (size_t i = 0; i < m->nrecords; i++) {
        const uint8_t *r = m->arena.ptr + off;
        kl_bytes name = KL_BYTES(r + REC_HDR, rd32(r));
        uint64_t h = kl_hashfn(name.ptr, name.len);
        size_t s = h & (nslots - 1);

        while (m->slots[s].off1 &&
               !(m->slots[s].tag == (uint32_t)(h >> 32) && record_is(m, m->slots[s].off1, name)))
            s = (s + 1) & (nslots - 1);
        if (m->slots[s].off1)
            m->ndigests -= rd32(m->arena.ptr + m->slots[s].off1 - 1 + 4);
        else
            m->live++;
        m->slots[s].tag = (uint32_t)(h >> 32);
        m->slots[s].off1 = (uint32_t)off + 1;
        m->ndigests += rd32(r + 4);
        off += record_size(r);
    }
    /* give back what the arena's doubling left unused */
    if (m->arena.len && (fit = kl_realloc(m->arena.ptr, m->arena.len + 1)) != NULL) {
        m->arena.ptr = fit;
        m->arena.cap = m->arena.len + 1;
    }
    return KL_OK;
}

bool
kl_digest_map_get_hashed(const kl_digest_map *m, kl_bytes name, uint64_t hash,
                         kl_digest_list *out)
{
    uint32_t tag = (uint32_t)(hash >> 32);

    if (!m || !m->nslots)
        return false;
    for (size_t s = hash & (m->nslots - 1); m->slots[s].off1; s = (s + 1) & (m->nslots - 1)) {
        if (m->slots[s].tag == tag && record_is(m, m->slots[s].off1, name)) {
            const uint8_t *r = m->arena.ptr + m->slots[s].off1 - 1;

            out->rec = r + REC_HDR + name.len;
            out->count = rd32(r + 4);
            return true;
        }
    }
    return false;
}

bool
kl_digest_map_get(const kl_digest_map *m, kl_bytes name, kl_digest_list *out)
{
    return kl_digest_map_get_hashed(m, name, kl_hashfn(name.ptr, name.len), out);
}

void
kl_digest_map_prefetch_slot(const kl_digest_map *m, uint64_t hash)
{
    if (m && m->nslots)
        __builtin_prefetch(&m->slots[hash & (m->nslots - 1)]);
}

void
kl_digest_map_prefetch_record(const kl_digest_map *m, uint64_t hash)
{
    const slot *s;

    if (!m || !m->nslots)
        return;
    s = &m->slots[hash & (m->nslots - 1)];
    if (s->off1) {
        /* header, name and digests usually span two cache lines */
        __builtin_prefetch(m->arena.ptr + s->off1 - 1);
        __builtin_prefetch(m->arena.ptr + s->off1 - 1 + 64);
    }
}

size_t
kl_digest_map_names(const kl_digest_map *m)
{
    return m ? m->live : 0;
}

size_t
kl_digest_map_digests(const kl_digest_map *m)
{
    return m ? m->ndigests : 0;
}

size_t
kl_digest_map_memory(const kl_digest_map *m)
{
    if (!m)
        return 0;
    return sizeof(*m) + m->arena.cap + m->nslots * sizeof(slot);
}

bool
kl_digest_list_contains(const kl_digest_list *l, kl_bytes digest)
{
    const uint8_t *r = l->rec;

    for (uint32_t i = 0; i < l->count; i++) {
        size_t n = r[0] & ~TEXT_FLAG;

        if (!(r[0] & TEXT_FLAG) && n == digest.len && memcmp(r + 1, digest.ptr, n) == 0)
            return true;
        r += 1 + n;
    }
    return false;
}

kl_rc
kl_digest_list_hex(const kl_digest_list *l, uint32_t i, kl_buf *out)
{
    const uint8_t *r = l->rec;

    if (i >= l->count)
        return kl_err_set(KL_EINVAL, "digest index out of range");
    for (uint32_t k = 0; k < i; k++)
        r += 1 + (r[0] & ~TEXT_FLAG);
    if (r[0] & TEXT_FLAG)
        return kl_buf_append(out, r + 1, r[0] & ~TEXT_FLAG);
    return kl_hex_encode_append(out, r + 1, r[0]);
}
