#include "policy/initrd_files.h"

#include "util/kl_alloc.h"
#include "util/kl_hashfn.h"
#include "util/kl_hex.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ENTRIES ((size_t)4 << 20)
#define MAX_ZERO_FILL ((int64_t)4 << 30)
#define NO_GROUP SIZE_MAX

typedef struct {
    char *name;
    size_t len;
    size_t group; /* index of its data's digest, NO_GROUP: not a regular file */
} rec;

struct kl_initrd_files {
    rec *recs;
    size_t n, cap;
    size_t *slots; /* open addressing: 0 empty, else record index + 1 */
    size_t nslots;
    uint8_t *digests; /* KL_HASH_MAX_SIZE bytes per group */
    size_t ngroups, gcap;
    kl_hasher *h;
    kl_buf name, target;
};

static kl_rc
oom(void)
{
    return kl_err_set(KL_ENOMEM, "out of memory");
}

kl_rc
kl_initrd_files_new(kl_initrd_files **out)
{
    kl_initrd_files *t = kl_calloc(1, sizeof(*t));
    kl_rc rc;

    *out = NULL;
    if (!t)
        return oom();
    kl_buf_init(&t->name, 1 << 20);
    kl_buf_init(&t->target, 1 << 20);
    rc = kl_hasher_new(&t->h);
    if (rc != KL_OK) {
        kl_free(t);
        return rc;
    }
    *out = t;
    return KL_OK;
}

void
kl_initrd_files_free(kl_initrd_files *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        kl_free(t->recs[i].name);
    kl_free(t->recs);
    kl_free(t->slots);
    kl_free(t->digests);
    kl_hasher_free(t->h);
    kl_buf_free(&t->name);
    kl_buf_free(&t->target);
    kl_free(t);
}

static size_t
find(const kl_initrd_files *t, kl_bytes name)
{
    size_t mask = t->nslots - 1, i;

    if (!t->nslots)
        return SIZE_MAX;
    for (i = kl_hashfn(name.ptr, name.len) & mask; t->slots[i]; i = (i + 1) & mask) {
        const rec *r = &t->recs[t->slots[i] - 1];

        if (r->len == name.len && memcmp(r->name, name.ptr, name.len) == 0)
            return t->slots[i] - 1;
    }
    return SIZE_MAX;
}

static void
insert_slot(kl_initrd_files *t, size_t idx)
{
    size_t mask = t->nslots - 1;
    size_t i = kl_hashfn(t->recs[idx].name, t->recs[idx].len) & mask;

    while (t->slots[i])
        i = (i + 1) & mask;
    t->slots[i] = idx + 1;
}

static kl_rc
grow(kl_initrd_files *t)
{
    size_t nslots = t->nslots ? t->nslots * 2 : 1024;
    size_t *slots = kl_calloc(nslots, sizeof(*slots));
    rec *recs;

    if (!slots)
        return oom();
    kl_free(t->slots);
    t->slots = slots;
    t->nslots = nslots;
    for (size_t i = 0; i < t->n; i++)
        insert_slot(t, i);
    recs = kl_reallocarray(t->recs, nslots / 2, sizeof(*recs));
    if (!recs)
        return oom();
    t->recs = recs;
    t->cap = nslots / 2;
    return KL_OK;
}

/* Points name at group (NO_GROUP: name is no longer a file). */
static kl_rc
set(kl_initrd_files *t, kl_bytes name, size_t group)
{
    size_t idx = find(t, name);
    kl_rc rc;

    if (idx != SIZE_MAX) {
        t->recs[idx].group = group;
        return KL_OK;
    }
    if (group == NO_GROUP)
        return KL_OK;
    if (t->n >= MAX_ENTRIES)
        return kl_err_set(KL_ETOOBIG, "more than %zu files in the archive", MAX_ENTRIES);
    if (t->n + 1 > t->cap && (rc = grow(t)) != KL_OK)
        return rc;
    t->recs[t->n].name = kl_strndup((const char *)name.ptr, name.len);
    if (!t->recs[t->n].name)
        return oom();
    t->recs[t->n].len = name.len;
    t->recs[t->n].group = group;
    insert_slot(t, t->n++);
    return KL_OK;
}

static kl_rc
new_group(kl_initrd_files *t, const uint8_t *digest, size_t *g)
{
    if (t->ngroups == t->gcap) {
        size_t cap = t->gcap ? t->gcap * 2 : 256;
        uint8_t *d = kl_reallocarray(t->digests, cap, KL_HASH_MAX_SIZE);

        if (!d)
            return oom();
        t->digests = d;
        t->gcap = cap;
    }
    memcpy(t->digests + t->ngroups * KL_HASH_MAX_SIZE, digest, KL_HASH_MAX_SIZE);
    *g = t->ngroups++;
    return KL_OK;
}

/* "/a/b" from an archive path; *ok is false for "." alone or a ".." part. */
static kl_rc
normalise(const char *path, kl_buf *out, bool *ok)
{
    kl_rc rc = KL_OK;

    *ok = true;
    kl_buf_reset(out);
    while (rc == KL_OK && *path) {
        size_t n = strcspn(path, "/");

        if (n == 2 && path[0] == '.' && path[1] == '.')
            *ok = false;
        else if (n && !(n == 1 && path[0] == '.')) {
            rc = kl_buf_append_byte(out, '/');
            if (rc == KL_OK)
                rc = kl_buf_append(out, path, n);
        }
        path += n;
        path += *path == '/';
    }
    if (out->len == 0)
        *ok = false;
    return rc;
}

static kl_rc
hash_zeros(kl_hasher *h, int64_t n, int64_t *total)
{
    static const uint8_t zeros[4096];
    kl_rc rc = KL_OK;

    if ((*total += n) > MAX_ZERO_FILL)
        return kl_err_set(KL_ETOOBIG, "a sparse file is too large");
    while (rc == KL_OK && n > 0) {
        size_t k = n > (int64_t)sizeof(zeros) ? sizeof(zeros) : (size_t)n;

        rc = kl_hasher_update(h, zeros, k);
        n -= (int64_t)k;
    }
    return rc;
}

/* Digest of the entry's data as it would be written (holes as zeros). */
static kl_rc
hash_data(kl_initrd_files *t, struct archive *a, struct archive_entry *e, kl_hash_alg alg,
          uint8_t *out)
{
    int64_t at = 0, zero_total = 0;
    kl_rc rc = kl_hasher_start(t->h, alg);

    memset(out, 0, KL_HASH_MAX_SIZE);
    while (rc == KL_OK) {
        const void *buf;
        size_t size;
        la_int64_t offset;
        int r = archive_read_data_block(a, &buf, &size, &offset);

        if (r == ARCHIVE_EOF)
            break;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
            return kl_err_set(KL_EPARSE, "%s: %s", archive_entry_pathname(e),
                              archive_error_string(a) ? archive_error_string(a) : "read error");
        if (offset > at)
            rc = hash_zeros(t->h, offset - at, &zero_total);
        at = offset > at ? offset : at;
        if (rc == KL_OK)
            rc = kl_hasher_update(t->h, buf, size);
        at += (int64_t)size;
    }
    if (rc == KL_OK && archive_entry_size_is_set(e) && archive_entry_size(e) > at)
        rc = hash_zeros(t->h, archive_entry_size(e) - at, &zero_total);
    if (rc == KL_OK)
        rc = kl_hasher_finish(t->h, out);
    return rc;
}

/* A hard link: name joins the target's data; data it carries replaces it. */
static kl_rc
link_entry(kl_initrd_files *t, struct archive *a, struct archive_entry *e, kl_hash_alg alg,
           const char *target)
{
    uint8_t digest[KL_HASH_MAX_SIZE];
    size_t ti, group = NO_GROUP;
    bool ok;
    kl_rc rc = normalise(target, &t->target, &ok);

    if (rc != KL_OK || !ok)
        return rc;
    ti = find(t, kl_buf_bytes(&t->target));
    if (ti != SIZE_MAX)
        group = t->recs[ti].group;
    if (archive_entry_size(e) > 0) {
        rc = hash_data(t, a, e, alg, digest);
        if (rc == KL_OK && group != NO_GROUP)
            memcpy(t->digests + group * KL_HASH_MAX_SIZE, digest, KL_HASH_MAX_SIZE);
        else if (rc == KL_OK)
            rc = new_group(t, digest, &group);
    }
    if (rc == KL_OK)
        rc = set(t, kl_buf_bytes(&t->name), group);
    return rc;
}

kl_rc
kl_initrd_files_entry(kl_initrd_files *t, struct archive *a, struct archive_entry *e,
                      kl_hash_alg alg)
{
    const char *path = archive_entry_pathname(e);
    const char *target = archive_entry_hardlink(e);
    uint8_t digest[KL_HASH_MAX_SIZE];
    size_t group;
    bool ok;
    kl_rc rc;

    if (!path)
        return KL_OK;
    rc = normalise(path, &t->name, &ok);
    if (rc != KL_OK || !ok)
        return rc;
    if (target)
        return link_entry(t, a, e, alg, target);
    if (archive_entry_filetype(e) != AE_IFREG)
        return set(t, kl_buf_bytes(&t->name), NO_GROUP);
    rc = hash_data(t, a, e, alg, digest);
    if (rc == KL_OK)
        rc = new_group(t, digest, &group);
    if (rc == KL_OK)
        rc = set(t, kl_buf_bytes(&t->name), group);
    return rc;
}

static int
cmp_rec(const void *a, const void *b)
{
    const rec *x = *(const rec *const *)a, *y = *(const rec *const *)b;
    int c = memcmp(x->name, y->name, x->len < y->len ? x->len : y->len);

    return c ? c : (x->len > y->len) - (x->len < y->len);
}

kl_rc
kl_initrd_files_report(const kl_initrd_files *t, kl_hash_alg alg, kl_initrd_file_fn fn,
                       void *payload)
{
    const rec **live = t->n ? kl_calloc(t->n, sizeof(*live)) : NULL;
    char hex[2 * KL_HASH_MAX_SIZE + 1];
    size_t n = 0, dlen = kl_hash_size(alg);
    kl_buf key;
    kl_rc rc = KL_OK;

    if (t->n && !live)
        return oom();
    for (size_t i = 0; i < t->n; i++)
        if (t->recs[i].group != NO_GROUP)
            live[n++] = &t->recs[i];
    if (n)
        qsort(live, n, sizeof(*live), cmp_rec);
    kl_buf_init(&key, 1 << 20);
    for (size_t i = 0; rc == KL_OK && i < n; i++) {
        kl_buf_reset(&key);
        rc = kl_buf_append(&key, live[i]->name, live[i]->len);
        for (size_t k = 0; k < key.len; k++)
            if (key.ptr[k] == ' ')
                key.ptr[k] = '_';
        kl_hex_encode(hex, t->digests + live[i]->group * KL_HASH_MAX_SIZE, dlen);
        if (rc == KL_OK)
            rc = fn(kl_buf_bytes(&key), KL_BYTES(hex, 2 * dlen), payload);
    }
    kl_buf_free(&key);
    kl_free(live);
    return rc;
}
