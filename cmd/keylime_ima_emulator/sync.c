/* keylime_ima_emulator: the replay of the list into PCR 10. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "emulator.h"
#include "ima/ima_ascii.h"
#include "ima/ima_pcr.h"
#include "tpmdev/tpmdev_pcr.h"
#include "util/kl_hex.h"

#define KL_LOGMODULE "ima_emulator"
#include "util/kl_log.h"

kl_rc
emu_open_locked(emu *e, bool create, int *fd_out)
{
    int fd = open(e->log_path, (create ? O_RDWR | O_APPEND | O_CREAT : O_RDONLY) | O_CLOEXEC, 0644);

    *fd_out = -1;
    if (fd < 0 && errno == ENOENT && !create)
        return kl_err_set(KL_ENOTFOUND, "%s does not exist", e->log_path);
    if (fd < 0)
        return kl_err_set(KL_EIO, "cannot open %s: %s", e->log_path, strerror(errno));
    /* securityfs and some file systems have no locks: then run unlocked */
    while (flock(fd, LOCK_EX) < 0) {
        if (errno == EINTR)
            continue;
        if (errno != EINVAL && errno != ENOLCK && errno != EOPNOTSUPP) {
            kl_rc rc = kl_err_set(KL_EIO, "cannot lock %s: %s", e->log_path, strerror(errno));

            close(fd);
            return rc;
        }
        break;
    }
    *fd_out = fd;
    return KL_OK;
}

void
emu_close_locked(int fd)
{
    if (fd >= 0)
        close(fd); /* releases the lock */
}

/* Reads the list from e->offset to its end into b, complete lines only.
 * *truncated when the list is now shorter than what was replayed. */
static kl_rc
read_tail(emu *e, int fd, kl_buf *b, bool *truncated)
{
    size_t skip = 0;

    *truncated = false;
    kl_buf_reset(b);
    if (lseek(fd, e->offset, SEEK_SET) != e->offset) {
        if (lseek(fd, 0, SEEK_SET) != 0)
            return kl_err_set(KL_EIO, "%s: cannot seek: %s", e->log_path, strerror(errno));
        skip = (size_t)e->offset; /* seeking is not exact here: read from the start */
    }
    for (;;) {
        ssize_t n;
        kl_rc rc = kl_buf_reserve(b, 65536);

        if (rc != KL_OK)
            return kl_err_wrap(rc, "%s: ", e->log_path);
        n = read(fd, b->ptr + b->len, 65536);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return kl_err_set(KL_EIO, "%s: %s", e->log_path, strerror(errno));
        if (n == 0)
            break;
        b->len += (size_t)n;
    }
    if (b->len < skip || (skip == 0 && e->offset > 0 && lseek(fd, 0, SEEK_END) < e->offset)) {
        *truncated = true;
        return KL_OK;
    }
    memmove(b->ptr, b->ptr + skip, b->len - skip);
    b->len -= skip;
    while (b->len > 0 && b->ptr[b->len - 1] != '\n')
        b->len--; /* a line still being written waits for its newline */
    return KL_OK;
}

static void
reset_cache(emu *e)
{
    e->known = false;
    e->offset = 0;
    e->entries = 0;
    e->lines = 0;
    memset(e->pcr, 0, sizeof(e->pcr));
}

static kl_rc
read_pcr10(emu *e, uint8_t cur[][KL_HASH_MAX_SIZE])
{
    for (size_t i = 0; i < e->nbanks; i++) {
        kl_pcr_set s;
        kl_rc rc = kl_tpmdev_pcr_read(&s, e->tpm, e->banks[i], 1u << KL_IMA_PCR);

        if (rc != KL_OK)
            return rc;
        memcpy(cur[i], s.value[KL_IMA_PCR], kl_hash_size(e->banks[i]));
    }
    return KL_OK;
}

static bool
same_pcrs(const emu *e, const uint8_t cur[][KL_HASH_MAX_SIZE])
{
    for (size_t i = 0; i < e->nbanks; i++)
        if (memcmp(e->pcr[i], cur[i], kl_hash_size(e->banks[i])) != 0)
            return false;
    return true;
}

static bool
all_zero(kl_bytes b)
{
    for (size_t i = 0; i < b.len; i++)
        if (b.ptr[i])
            return false;
    return true;
}

/* What each bank is extended with for an entry: H_bank(template data), or
 * all 0xFF for a violation (an all-zero template hash), as the kernel. */
static kl_rc
entry_digests(emu *e, const kl_ima_entry *en, size_t line, kl_tpmdev_digest *d)
{
    size_t isz = kl_hash_size(e->ima_alg);
    uint8_t th[KL_HASH_MAX_SIZE];
    kl_rc rc;

    if (en->template_hash.len == isz && all_zero(en->template_hash)) {
        for (size_t i = 0; i < e->nbanks; i++) {
            d[i].bank = e->banks[i];
            memset(d[i].digest, 0xff, sizeof(d[i].digest));
        }
        return KL_OK;
    }
    for (size_t i = 0; i < e->nbanks; i++) {
        d[i].bank = e->banks[i];
        rc = kl_hasher_digest(e->h, e->banks[i], en->template_data.ptr, en->template_data.len,
                              d[i].digest);
        if (rc != KL_OK)
            return rc;
    }
    rc = kl_hasher_digest(e->h, e->ima_alg, en->template_data.ptr, en->template_data.len, th);
    if (rc != KL_OK)
        return rc;
    if (en->template_hash.len != isz || memcmp(th, en->template_hash.ptr, isz) != 0)
        fprintf(stderr,
                "keylime_ima_emulator: warning: %s line %zu: the template hash is not the %s of "
                "the entry's data (the verifier reports ima.validation.ima_hash); extending "
                "with the data's hash as the verifier replays it\n",
                e->log_path, line, kl_hash_name(e->ima_alg));
    return KL_OK;
}

static void
announce(const emu *e, const kl_ima_entry *en, size_t entry)
{
    if (!e->msg)
        return;
    fprintf(e->msg, "extending PCR 10 with entry %zu: %.*s\n", entry, (int)en->name.len,
            (const char *)en->name.ptr);
    fflush(e->msg);
}

/* One entry (at line, counted from 1 in the whole list): extends the
 * replay, and the TPM once the replay has caught up with it. */
static kl_rc
step(emu *e, const kl_ima_entry *en, size_t line, const uint8_t cur[][KL_HASH_MAX_SIZE],
     bool from_start, bool *matched)
{
    kl_tpmdev_digest d[KL_HASH_COUNT];
    kl_rc rc;

    if (en->error) {
        fprintf(stderr,
                "keylime_ima_emulator: warning: %s line %zu: %s; not extended (the verifier "
                "does not replay it either)\n",
                e->log_path, line, en->error);
        return KL_OK;
    }
    if (!en->pcr_is_ima)
        fprintf(stderr,
                "keylime_ima_emulator: warning: %s line %zu: PCR column is '%s'; "
                "extending PCR 10 anyway, as the verifier replays it\n",
                e->log_path, line, en->pcr_text);
    rc = entry_digests(e, en, line, d);
    if (rc == KL_OK && *matched) {
        rc = kl_tpmdev_pcr_extend(e->tpm, KL_IMA_PCR, d, e->nbanks);
        if (rc == KL_OK)
            announce(e, en, e->entries);
    }
    for (size_t i = 0; i < e->nbanks && rc == KL_OK; i++)
        rc = kl_ima_pcr_extend(e->h, e->banks[i], e->pcr[i], d[i].digest);
    if (rc == KL_OK && !*matched && same_pcrs(e, cur)) {
        *matched = true;
        if (from_start && e->msg) /* a restart, not another process's measure */
            fprintf(e->msg, "PCR 10 holds the first %zu entries of %s; resuming after %.*s\n",
                    e->entries + 1, e->log_path, (int)en->name.len, (const char *)en->name.ptr);
    }
    return rc;
}

/* One pass over the new lines from the cache's state. */
static kl_rc
replay(emu *e, kl_bytes text, const uint8_t cur[][KL_HASH_MAX_SIZE], bool *matched)
{
    off_t base = e->offset;
    size_t base_lines = e->lines;
    bool from_start = base == 0;
    kl_ima_ascii p;
    kl_rc rc = KL_OK;

    *matched = same_pcrs(e, cur);
    kl_ima_ascii_init(&p, text);
    while (!*e->stop) {
        kl_ima_entry en;
        bool more = false;

        rc = kl_ima_ascii_next(&p, &en, &more);
        if (rc != KL_OK || !more)
            break;
        rc = step(e, &en, base_lines + en.index + 1, cur, from_start, matched);
        if (rc != KL_OK)
            break;
        e->offset = base + (off_t)p.off;
        e->lines = base_lines + p.index;
        e->entries++;
    }
    if (rc == KL_OK && !*e->stop) { /* trailing empty lines */
        e->offset = base + (off_t)text.len;
        e->lines = base_lines + p.index;
    }
    kl_ima_ascii_free(&p);
    return rc;
}

static kl_rc
mismatch(const emu *e, const uint8_t cur[][KL_HASH_MAX_SIZE])
{
    char hex[2 * KL_HASH_MAX_SIZE + 1];

    kl_hex_encode(hex, cur[0], kl_hash_size(e->banks[0]));
    return kl_err_set(KL_EVERIFY,
                      "PCR 10 disagrees with %s: its %s bank holds %s, which no prefix of the "
                      "list's %zu entries replays to. The TPM holds measurements the list does "
                      "not have: give the list this TPM was extended from, or restart the TPM "
                      "with a fresh state",
                      e->log_path, kl_hash_name(e->banks[0]), hex, e->entries);
}

kl_rc
emu_sync(emu *e, int fd)
{
    uint8_t cur[KL_HASH_COUNT][KL_HASH_MAX_SIZE];
    kl_buf text;
    kl_rc rc = KL_OK;

    kl_buf_init(&text, EMU_LIST_MAX);
    for (int pass = 0; pass < 3; pass++) {
        bool truncated = false, matched = false, from_start;

        if (!e->known)
            reset_cache(e);
        from_start = e->offset == 0;
        rc = read_tail(e, fd, &text, &truncated);
        if (rc != KL_OK)
            break;
        if (truncated) {
            LOG_INFO("%s is shorter than before: replaying it from the start", e->log_path);
            e->known = false;
            continue;
        }
        rc = read_pcr10(e, cur);
        if (rc == KL_OK)
            rc = replay(e, kl_buf_bytes(&text), cur, &matched);
        if (rc != KL_OK || matched) {
            e->known = rc == KL_OK;
            break;
        }
        e->known = false; /* stopped while searching, or no prefix matched */
        if (*e->stop)
            break;
        if (from_start) {
            rc = mismatch(e, cur);
            break;
        }
    }
    kl_buf_free(&text);
    if (rc != KL_OK)
        e->known = false;
    return rc;
}
