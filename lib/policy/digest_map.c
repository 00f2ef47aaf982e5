#include "policy/digest_map.h"

#include <string.h>

#include "util/kl_alloc.h"
#include "util/kl_hashfn.h"
#include "util/kl_hex.h"

/* A digest record is one header byte then the bytes; the header holds the
 * length, with TEXT_FLAG set for a digest kept as (odd-length) hex text. */
#define TEXT_FLAG 0x80
#define MAX_BINARY 64  /* sha512 */
#define MAX_TEXT 127
#define ARENA_MAX ((size_t)UINT32_MAX)

typedef struct {
    uint32_t off;     /* name bytes, then the digest records */
    uint32_t name_len;
    uint32_t count;
    uint32_t hash;
} entry;

struct kl_digest_map {
    kl_buf arena;
    entry *entries;
    size_t nentries, cap;
    uint32_t *slots; /* entry index + 1; 0 = empty */
    size_t nslots;
    size_t live;
    size_t ndigests;
};

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
    kl_free(m->entries);
    kl_free(m->slots);
    kl_free(m);
}

kl_rc
kl_digest_map_begin(kl_digest_map *m, kl_bytes name)
{
    entry *e;
    kl_rc rc;

    if (m->nentries == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 256;
        entry *n = kl_reallocarray(m->entries, cap, sizeof(*n));

        if (!n)
            return kl_err_set(KL_ENOMEM, "out of memory indexing a policy");
        m->entries = n;
        m->cap = cap;
    }
    if (name.len > UINT32_MAX)
        return kl_err_set(KL_ETOOBIG, "name too long");
    e = &m->entries[m->nentries];
    e->off = (uint32_t)m->arena.len;
    e->name_len = (uint32_t)name.len;
    e->count = 0;
    e->hash = (uint32_t)kl_hashfn(name.ptr, name.len);
    rc = kl_buf_append(&m->arena, name.ptr, name.len);
    if (rc == KL_ETOOBIG)
        return kl_err_set(rc, "policy holds more than 4 GiB of names and digests");
    if (rc == KL_OK)
        m->nentries++;
    return rc;
}

static bool
is_lower_hex(kl_bytes h)
{
    for (size_t i = 0; i < h.len; i++)
        if (!((h.ptr[i] >= '0' && h.ptr[i] <= '9') || (h.ptr[i] >= 'a' && h.ptr[i] <= 'f')))
            return false;
    return true;
}

kl_rc
kl_digest_map_add_hex(kl_digest_map *m, kl_bytes hex)
{
    uint8_t rec[1 + 128];
    size_t n;
    kl_rc rc;

    if (m->nentries == 0 || hex.len == 0 || hex.len > 2 * MAX_BINARY)
        return kl_err_set(KL_EINVAL, "digest_map: bad digest or no current name");
    if (hex.len % 2 == 0 && is_lower_hex(hex) && kl_hex_decode(rec + 1, hex)) {
        n = hex.len / 2;
        rec[0] = (uint8_t)n;
    } else if (hex.len > MAX_TEXT) {
        return kl_err_set(KL_EINVAL, "digest_map: a non-hex digest longer than %d", MAX_TEXT);
    } else {
        n = hex.len;
        memcpy(rec + 1, hex.ptr, n);
        rec[0] = (uint8_t)(n | TEXT_FLAG);
    }
    rc = kl_buf_append(&m->arena, rec, n + 1);
    if (rc == KL_ETOOBIG)
        return kl_err_set(rc, "policy holds more than 4 GiB of names and digests");
    if (rc == KL_OK)
        m->entries[m->nentries - 1].count++;
    return rc;
}

static bool
name_eq(const kl_digest_map *m, const entry *e, kl_bytes name, uint32_t hash)
{
    return e->hash == hash && e->name_len == name.len &&
           memcmp(m->arena.ptr + e->off, name.ptr, name.len) == 0;
}

kl_rc
kl_digest_map_seal(kl_digest_map *m)
{
    size_t nslots = 16;

    while (nslots < m->nentries * 2)
        nslots *= 2;
    m->slots = kl_calloc(nslots, sizeof(*m->slots));
    if (!m->slots)
        return kl_err_set(KL_ENOMEM, "out of memory indexing a policy");
    m->nslots = nslots;
    for (size_t i = 0; i < m->nentries; i++) {
        entry *e = &m->entries[i];
        kl_bytes name = KL_BYTES(m->arena.ptr + e->off, e->name_len);
        size_t s = e->hash & (nslots - 1);

        while (m->slots[s] && !name_eq(m, &m->entries[m->slots[s] - 1], name, e->hash))
            s = (s + 1) & (nslots - 1);
        if (m->slots[s])
            m->ndigests -= m->entries[m->slots[s] - 1].count;
        else
            m->live++;
        m->slots[s] = (uint32_t)i + 1;
        m->ndigests += e->count;
    }
    return KL_OK;
}

bool
kl_digest_map_get(const kl_digest_map *m, kl_bytes name, kl_digest_list *out)
{
    uint32_t hash;
    size_t s;

    if (!m || !m->nslots)
        return false;
    hash = (uint32_t)kl_hashfn(name.ptr, name.len);
    for (s = hash & (m->nslots - 1); m->slots[s]; s = (s + 1) & (m->nslots - 1)) {
        const entry *e = &m->entries[m->slots[s] - 1];

        if (name_eq(m, e, name, hash)) {
            out->rec = m->arena.ptr + e->off + e->name_len;
            out->count = e->count;
            return true;
        }
    }
    return false;
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
    return sizeof(*m) + m->arena.cap + m->cap * sizeof(entry) + m->nslots * sizeof(uint32_t);
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

    for (uint32_t k = 0; k < i && k < l->count; k++)
        r += 1 + (r[0] & ~TEXT_FLAG);
    if (i >= l->count)
        return kl_err_set(KL_EINVAL, "digest index out of range");
    if (r[0] & TEXT_FLAG)
        return kl_buf_append(out, r + 1, r[0] & ~TEXT_FLAG);
    return kl_hex_encode_append(out, r + 1, r[0]);
}
