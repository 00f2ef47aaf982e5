/* unzip: safe extraction of a zip (read by payload/zipread), fd-relative. */
#include "payload/unzip.h"

#include "crypto/cipher.h"
#include "payload/zipread.h"
#include "util/kl_alloc.h"
#include "util/kl_hex.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK 65536

/* Something this call created, to remove again on failure. */
struct made {
    char *path;
    bool dir;
};

struct unzip {
    int root;
    kl_unzip_limits lim;
    size_t total;
    size_t entries;
    size_t files;
    struct made *made;
    size_t nmade;
    size_t capmade;
    uint8_t buf[CHUNK];
};

static kl_rc
remember(struct unzip *z, const char *path, size_t len, bool dir)
{
    struct made *m;
    char *p;

    if (z->nmade == z->capmade) {
        m = kl_reallocarray(z->made, z->capmade ? z->capmade * 2 : 16, sizeof(*m));
        if (!m)
            return kl_err_set(KL_ENOMEM, "out of memory");
        z->made = m;
        z->capmade = z->capmade ? z->capmade * 2 : 16;
    }
    if (!(p = kl_strndup(path, len)))
        return kl_err_set(KL_ENOMEM, "out of memory");
    z->made[z->nmade].path = p;
    z->made[z->nmade].dir = dir;
    z->nmade++;
    return KL_OK;
}

/* Checks an entry name; *len receives its length without trailing slashes
 * and *dir whether it had one. */
static kl_rc
check_name(const char *name, size_t *len, bool *dir)
{
    size_t n = name ? strlen(name) : 0, start = 0;

    if (n == 0)
        return kl_err_set(KL_EPARSE, "zip: entry with an empty or unreadable name");
    if (n > KL_UNZIP_PATH_MAX)
        return kl_err_set(KL_EPARSE, "zip: entry name longer than %d bytes", KL_UNZIP_PATH_MAX);
    if (name[0] == '/')
        return kl_err_set(KL_EPARSE, "zip: absolute entry name '%s'", name);
    if (strchr(name, '\\'))
        return kl_err_set(KL_EPARSE, "zip: entry name with a backslash '%s'", name);
    *dir = name[n - 1] == '/';
    while (n && name[n - 1] == '/')
        n--;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && name[i] != '/')
            continue;
        if (i == start || (i - start == 1 && name[start] == '.') ||
            (i - start == 2 && name[start] == '.' && name[start + 1] == '.'))
            return kl_err_set(KL_EPARSE, "zip: entry name '%s' has an empty, '.' or '..' part",
                              name);
        start = i + 1;
    }
    *len = n;
    return KL_OK;
}

static void
close_dir(const struct unzip *z, int fd)
{
    if (fd >= 0 && fd != z->root)
        close(fd);
}

/* Opens the subdirectory comp of dir without following symlinks, creating
 * it (0700, remembered as path[0..plen)) when create is set. */
static kl_rc
enter(struct unzip *z, int dir, const char *comp, bool create, const char *path, size_t plen,
      int *out)
{
    int fd = openat(dir, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    kl_rc rc;

    if (fd < 0 && errno == ENOENT && create) {
        if (mkdirat(dir, comp, 0700) != 0)
            return kl_err_set(KL_EIO, "zip: cannot create directory '%.*s': %s", (int)plen, path,
                              strerror(errno));
        rc = remember(z, path, plen, true);
        if (rc != KL_OK)
            return rc;
        fd = openat(dir, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0)
        return kl_err_set(KL_EIO, "zip: '%.*s' is not a directory that can be entered: %s",
                          (int)plen, path, strerror(errno));
    *out = fd;
    return KL_OK;
}

/* Walks path (a checked name, copied into the NUL-split buffer comp) down
 * to the directory holding its last component; *leaf points at that
 * component in comp. The caller closes *dirfd with close_dir. */
static kl_rc
open_parent(struct unzip *z, const char *path, size_t len, bool create, char *comp, int *dirfd,
            const char **leaf)
{
    int cur = z->root, next;
    size_t start = 0;
    kl_rc rc;

    memcpy(comp, path, len);
    comp[len] = '\0';
    for (size_t i = 0; i < len; i++) {
        if (comp[i] != '/')
            continue;
        comp[i] = '\0';
        rc = enter(z, cur, comp + start, create, path, i, &next);
        close_dir(z, cur);
        if (rc != KL_OK)
            return rc;
        cur = next;
        start = i + 1;
    }
    *dirfd = cur;
    *leaf = comp + start;
    return KL_OK;
}

static kl_rc
make_dir(struct unzip *z, const char *name, size_t len)
{
    char comp[KL_UNZIP_PATH_MAX + 1];
    const char *leaf;
    int dir, fd;
    kl_rc rc;

    rc = open_parent(z, name, len, true, comp, &dir, &leaf);
    if (rc != KL_OK)
        return rc;
    rc = enter(z, dir, leaf, true, name, len, &fd);
    if (rc == KL_OK)
        close(fd);
    close_dir(z, dir);
    return rc;
}

static kl_rc
write_all(int fd, const uint8_t *p, size_t n, const char *name)
{
    while (n) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return kl_err_set(KL_EIO, "zip: writing '%s': %s", name,
                              w < 0 ? strerror(errno) : "short write");
        p += w;
        n -= (size_t)w;
    }
    return KL_OK;
}

struct sink {
    struct unzip *z;
    int fd;
    const char *name;
    size_t written;
};

/* Writes inflated bytes to the file, counting them against the limits. */
static kl_rc
write_counted(const uint8_t *p, size_t n, void *ctx)
{
    struct sink *k = ctx;
    struct unzip *z = k->z;

    if (n > z->lim.max_entry - k->written)
        return kl_err_set(KL_ETOOBIG, "zip: entry '%s' is larger than %zu bytes", k->name,
                          z->lim.max_entry);
    if (n > z->lim.max_total - z->total)
        return kl_err_set(KL_ETOOBIG, "zip: contents larger than %zu bytes", z->lim.max_total);
    k->written += n;
    z->total += n;
    return write_all(k->fd, p, n, k->name);
}

/* Creates a temporary file (0600) with a random name in dir. */
static kl_rc
temp_open(int dir, char name[32], int *fd)
{
    uint8_t rnd[8];
    kl_rc rc;

    rc = kl_rand_bytes(rnd, sizeof(rnd));
    if (rc != KL_OK)
        return rc;
    memcpy(name, ".kl-unzip-", 10);
    kl_hex_encode(name + 10, rnd, sizeof(rnd));
    *fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (*fd < 0)
        return kl_err_set(KL_EIO, "zip: cannot create a temporary file: %s", strerror(errno));
    return KL_OK;
}

static kl_rc
make_file(struct unzip *z, const kl_zip_entry *e, const char *name, size_t len)
{
    char comp[KL_UNZIP_PATH_MAX + 1], tmp[32];
    const char *leaf;
    bool have_tmp = false;
    int dir, fd = -1;
    kl_rc rc;

    rc = open_parent(z, name, len, true, comp, &dir, &leaf);
    if (rc != KL_OK)
        return rc;
    rc = temp_open(dir, tmp, &fd);
    if (rc != KL_OK)
        goto out;
    have_tmp = true;
    rc = kl_zip_extract(e, z->buf, sizeof(z->buf), write_counted,
                        &(struct sink){.z = z, .fd = fd, .name = name});
    if (close(fd) != 0 && rc == KL_OK)
        rc = kl_err_set(KL_EIO, "zip: writing '%s': %s", name, strerror(errno));
    fd = -1;
    if (rc == KL_OK)
        rc = remember(z, name, len, false);
    if (rc != KL_OK)
        goto out;
    if (renameat(dir, tmp, dir, leaf) != 0) {
        rc = kl_err_set(KL_EIO, "zip: cannot create '%s': %s", name, strerror(errno));
        kl_free(z->made[--z->nmade].path);
        goto out;
    }
    have_tmp = false;
    z->files++;
out:
    if (fd >= 0)
        close(fd);
    if (have_tmp)
        (void)unlinkat(dir, tmp, 0);
    close_dir(z, dir);
    return rc;
}

/* Decides whether e is a directory or a regular file; anything else
 * (symlink, device, fifo, socket in a Unix mode), an encrypted entry or a
 * name with a NUL byte is refused. */
static kl_rc
entry_kind(const kl_zip_entry *e, const char *name, bool slash, bool *dir)
{
    unsigned type = e->made_by_os == 3 ? (e->external_attr >> 16) & S_IFMT : 0;

    if (memchr(e->name.ptr, '\0', e->name.len))
        return kl_err_set(KL_EPARSE, "zip: entry name with a NUL byte '%s'", name);
    if (e->flags & 1)
        return kl_err_set(KL_EPARSE, "zip: entry '%s' is encrypted", name);
    if ((type != 0 && type != S_IFREG && type != S_IFDIR) || (slash && type == S_IFREG))
        return kl_err_set(KL_EPARSE, "zip: entry '%s' is not a regular file or directory", name);
    *dir = slash || type == S_IFDIR || (e->external_attr & 0x10);
    return KL_OK;
}

static kl_rc
extract_entry(struct unzip *z, const kl_zip_entry *e)
{
    char name[KL_UNZIP_PATH_MAX + 1];
    size_t len = 0;
    bool slash = false, dir = false;
    kl_rc rc;

    if (++z->entries > z->lim.max_entries)
        return kl_err_set(KL_ETOOBIG, "zip: more than %zu entries", z->lim.max_entries);
    if (e->name.len > KL_UNZIP_PATH_MAX)
        return kl_err_set(KL_EPARSE, "zip: entry name longer than %d bytes", KL_UNZIP_PATH_MAX);
    memcpy(name, e->name.ptr, e->name.len);
    name[e->name.len] = '\0';
    rc = check_name(name, &len, &slash);
    if (rc == KL_OK)
        rc = entry_kind(e, name, slash, &dir);
    if (rc != KL_OK)
        return rc;
    if (dir)
        return make_dir(z, name, len);
    if (e->usize > z->lim.max_entry || e->usize > z->lim.max_total - z->total)
        return kl_err_set(KL_ETOOBIG, "zip: entry '%s' declares %llu bytes, above the limits", name,
                          (unsigned long long)e->usize);
    return make_file(z, e, name, len);
}

/* Removes what this call made, newest first (best effort). */
static void
undo(struct unzip *z)
{
    char comp[KL_UNZIP_PATH_MAX + 1];
    const char *leaf;
    int dir;

    while (z->nmade) {
        struct made *m = &z->made[--z->nmade];

        if (open_parent(z, m->path, strlen(m->path), false, comp, &dir, &leaf) == KL_OK) {
            (void)unlinkat(dir, leaf, m->dir ? AT_REMOVEDIR : 0);
            close_dir(z, dir);
        }
        kl_free(m->path);
    }
}

static kl_rc
extract_all(struct unzip *z, kl_bytes zip)
{
    kl_zip_reader r;
    kl_zip_entry e;
    bool done = false;
    kl_rc rc;

    rc = kl_zip_open(&r, zip);
    while (rc == KL_OK) {
        rc = kl_zip_next(&r, &e, &done);
        if (rc != KL_OK || done)
            break;
        rc = extract_entry(z, &e);
    }
    return rc;
}

kl_rc
kl_unzip_safe(kl_bytes zip, const char *dest_dir, const kl_unzip_limits *lim, size_t *n_files)
{
    static const kl_unzip_limits defaults = KL_UNZIP_LIMITS_INIT;
    struct unzip *z;
    kl_rc rc;

    *n_files = 0;
    z = kl_calloc(1, sizeof(*z));
    if (!z)
        return kl_err_set(KL_ENOMEM, "out of memory");
    z->lim = lim ? *lim : defaults;
    z->root = open(dest_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (z->root < 0) {
        rc = kl_err_set(errno == ENOENT ? KL_ENOTFOUND : KL_EIO,
                        "zip: cannot open directory %s: %s", dest_dir, strerror(errno));
        goto out;
    }
    rc = extract_all(z, zip);
    if (rc == KL_OK)
        *n_files = z->files;
    else
        undo(z);
    close(z->root);
out:
    while (z->nmade)
        kl_free(z->made[--z->nmade].path);
    kl_free(z->made);
    kl_free(z);
    return rc;
}
