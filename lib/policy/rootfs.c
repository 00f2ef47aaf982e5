#include "policy/rootfs.h"

#include "util/kl_alloc.h"
#include "util/kl_hex.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mntent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BATCH 4096
#define MAX_THREADS 16

static const char *const base_exclude_dirs[] = {
    "/sys", "/run", "/proc", "/lost+found", "/dev", "/media", "/snap", "/mnt", "/var", "/tmp",
};

typedef struct {
    char **v;
    size_t n, cap;
} strlist;

static kl_rc
strlist_add(strlist *l, const char *s, size_t len)
{
    char *copy;

    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **v = kl_reallocarray(l->v, cap, sizeof(*v));

        if (!v)
            return kl_err_set(KL_ENOMEM, "out of memory");
        l->v = v;
        l->cap = cap;
    }
    copy = kl_strndup(s, len);
    if (!copy)
        return kl_err_set(KL_ENOMEM, "out of memory");
    l->v[l->n++] = copy;
    return KL_OK;
}

static void
strlist_free(strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        kl_free(l->v[i]);
    kl_free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

static bool
strlist_has(const strlist *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], s) == 0)
            return true;
    return false;
}

kl_rc
kl_rootfs_abspath(const char *path, kl_buf *out)
{
    char cwd[PATH_MAX];
    size_t start = out->len;
    kl_rc rc = KL_OK;

    if (path[0] != '/' && !getcwd(cwd, sizeof(cwd)))
        return kl_err_set(KL_EIO, "cannot get the current directory: %s", strerror(errno));
    for (int pass = path[0] == '/' ? 1 : 0; rc == KL_OK && pass < 2; pass++) {
        const char *p = pass == 0 ? cwd : path;

        while (rc == KL_OK && *p) {
            size_t n = strcspn(p, "/");

            if (n == 2 && p[0] == '.' && p[1] == '.') {
                while (out->len > start && out->ptr[out->len - 1] != '/')
                    out->len--;
                if (out->len > start)
                    out->len--; /* the '/' */
            } else if (n && !(n == 1 && p[0] == '.')) {
                rc = kl_buf_append_byte(out, '/');
                if (rc == KL_OK)
                    rc = kl_buf_append(out, p, n);
            }
            p += n;
            p += *p == '/';
        }
    }
    if (rc == KL_OK && out->len == start)
        rc = kl_buf_append_byte(out, '/');
    if (rc == KL_OK)
        rc = kl_buf_terminate(out);
    return rc;
}

/* PurePath(child).is_relative_to(parent), both absolute and normalised. */
static bool
is_under(const char *child, const char *parent)
{
    size_t n = strlen(parent);

    if (strcmp(parent, "/") == 0)
        return true;
    return strncmp(child, parent, n) == 0 && (child[n] == '\0' || child[n] == '/');
}

/* The --skip-path entries under the root, relative to it. *inside is set
 * when the root itself is to be skipped. */
static kl_rc
skip_dirs(const kl_rootfs_opts *o, const char *root, strlist *ex, bool *inside)
{
    const char *p = o->skip ? o->skip : "";
    size_t rootlen = strlen(root);
    kl_buf abs;
    kl_rc rc = KL_OK;

    *inside = false;
    kl_buf_init(&abs, PATH_MAX * 4);
    while (rc == KL_OK && *p) {
        size_t n = strcspn(p, ",");
        char *d = kl_strndup(p, n);

        p += n;
        p += *p == ',';
        kl_buf_reset(&abs);
        rc = d ? (n ? kl_rootfs_abspath(d, &abs) : KL_OK) : kl_err_set(KL_ENOMEM, "out of memory");
        if (rc == KL_OK && n && is_under(root, (const char *)abs.ptr)) {
            kl_policy_doc_note(o->note, o->note_payload, KL_LOG_DEBUG,
                               "The rootfs %s is excluded because it matches or is within %s", root,
                               (const char *)abs.ptr);
            *inside = true;
        } else if (rc == KL_OK && n && !is_under((const char *)abs.ptr, root)) {
            kl_policy_doc_note(o->note, o->note_payload, KL_LOG_WARN,
                               "Ignoring directory '%s' that should be skipped, but it is not "
                               "under '%s'",
                               d, o->root);
        } else if (rc == KL_OK && n) {
            /* upstream drops these when the root is "/"; we keep them */
            const char *rel = (const char *)abs.ptr + (strcmp(root, "/") ? rootlen : 0);

            rc = strlist_add(ex, rel, strlen(rel));
        }
        kl_free(d);
    }
    kl_buf_free(&abs);
    return rc;
}

/* Mount points whose file-system type differs from that of "/" (psutil's
 * view of the mount table), unless a prefix of one is already excluded. */
static kl_rc
mount_dirs(strlist *ex)
{
    FILE *f = setmntent(access("/etc/mtab", R_OK) == 0 ? "/etc/mtab" : "/proc/self/mounts", "r");
    strlist dirs = {0}, types = {0};
    char line[8192], *roottype = NULL;
    struct mntent m;
    size_t nbase = ex->n;
    kl_rc rc = KL_OK;

    if (!f)
        return KL_OK;
    while (rc == KL_OK && getmntent_r(f, &m, line, sizeof(line))) {
        rc = strlist_add(&dirs, m.mnt_dir, strlen(m.mnt_dir));
        if (rc == KL_OK)
            rc = strlist_add(&types, m.mnt_type, strlen(m.mnt_type));
    }
    endmntent(f);
    for (size_t i = 0; rc == KL_OK && i < dirs.n && !roottype; i++)
        if (strcmp(dirs.v[i], "/") == 0)
            roottype = types.v[i];
    for (size_t i = 0; rc == KL_OK && i < dirs.n; i++) {
        bool covered = false;

        if (roottype && strcmp(types.v[i], roottype) == 0)
            continue;
        for (size_t j = 0; j < nbase && !covered; j++)
            covered = strncmp(dirs.v[i], ex->v[j], strlen(ex->v[j])) == 0;
        if (!covered)
            rc = strlist_add(ex, dirs.v[i], strlen(dirs.v[i]));
    }
    strlist_free(&dirs);
    strlist_free(&types);
    return rc;
}

/* Collects the root-owned regular files under root. */
static kl_rc
walk(const kl_rootfs_opts *o, const char *root, const strlist *ex, strlist *files)
{
    bool is_slash = strcmp(root, "/") == 0;
    strlist stack = {0};
    kl_buf path;
    kl_rc rc;

    kl_buf_init(&path, PATH_MAX * 4);
    rc = strlist_add(&stack, root, strlen(root));
    while (rc == KL_OK && stack.n) {
        char *dir = stack.v[--stack.n];
        DIR *d = opendir(dir);
        struct dirent *de;

        if (!d)
            kl_policy_doc_note(o->note, o->note_payload, KL_LOG_WARN,
                               "cannot read directory "
                               "%s: %s",
                               dir, strerror(errno));
        while (rc == KL_OK && d && (de = readdir(d)) != NULL) {
            struct stat st;

            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            kl_buf_reset(&path);
            rc = kl_buf_printf(&path, "%s/%s", strcmp(dir, "/") ? dir : "", de->d_name);
            if (rc != KL_OK || lstat((const char *)path.ptr, &st) != 0 || S_ISLNK(st.st_mode))
                continue;
            if (S_ISREG(st.st_mode) && st.st_uid == 0)
                rc = strlist_add(files, (const char *)path.ptr, path.len);
            else if (S_ISDIR(st.st_mode) &&
                     !strlist_has(ex, (const char *)path.ptr + (is_slash ? 0 : strlen(root))))
                rc = strlist_add(&stack, (const char *)path.ptr, path.len);
        }
        if (d)
            closedir(d);
        kl_free(dir);
    }
    strlist_free(&stack);
    kl_buf_free(&path);
    return rc;
}

typedef struct {
    char *const *paths;
    size_t n;
    kl_hash_alg alg;
    atomic_size_t next;
    uint8_t *digests;
    kl_rc *rcs;
} job;

typedef struct {
    job *j;
    kl_hasher *h; /* made by the main thread: workers do not allocate */
} worker_arg;

/* Digest of one file's contents with h (no allocation). */
static kl_rc
hash_path(kl_hasher *h, kl_hash_alg alg, const char *path, uint8_t *out)
{
    uint8_t chunk[65536];
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    kl_rc rc;

    if (fd < 0)
        return KL_EIO;
    rc = kl_hasher_start(h, alg);
    while (rc == KL_OK) {
        ssize_t n = read(fd, chunk, sizeof(chunk));

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? KL_EIO : kl_hasher_finish(h, out);
            break;
        }
        rc = kl_hasher_update(h, chunk, (size_t)n);
    }
    close(fd);
    return rc;
}

static void *
worker(void *arg)
{
    worker_arg *w = arg;
    job *j = w->j;
    size_t i;

    while ((i = atomic_fetch_add(&j->next, 1)) < j->n)
        j->rcs[i] = hash_path(w->h, j->alg, j->paths[i], j->digests + i * KL_HASH_MAX_SIZE);
    return NULL;
}

/* Hashes one batch with up to MAX_THREADS threads (each with a hasher). */
static void
hash_batch(job *j, kl_hasher *const *hashers, size_t nh)
{
    pthread_t t[MAX_THREADS];
    worker_arg args[MAX_THREADS];
    size_t started = 0;

    for (size_t i = 0; i < nh; i++)
        args[i] = (worker_arg){j, hashers[i]};
    for (size_t i = 1; i < nh && i < j->n; i++)
        if (pthread_create(&t[started], NULL, worker, &args[i]) == 0)
            started++;
    worker(&args[0]);
    for (size_t i = 0; i < started; i++)
        pthread_join(t[i], NULL);
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static kl_rc
report(const kl_rootfs_opts *o, const char *root, const job *j, kl_rootfs_file_fn fn, void *payload)
{
    size_t skip = strcmp(root, "/") ? strlen(root) : 0;
    char hex[2 * KL_HASH_MAX_SIZE + 1];
    kl_buf key;
    kl_rc rc = KL_OK;

    kl_buf_init(&key, PATH_MAX * 4);
    for (size_t i = 0; rc == KL_OK && i < j->n; i++) {
        if (j->rcs[i] == KL_ENOMEM) {
            rc = kl_err_set(KL_ENOMEM, "out of memory");
            break;
        }
        if (j->rcs[i] != KL_OK) {
            kl_policy_doc_note(o->note, o->note_payload, KL_LOG_DEBUG,
                               "Failed to calculate a digest of %s", j->paths[i]);
            continue;
        }
        kl_buf_reset(&key);
        rc = kl_buf_append_str(&key, j->paths[i] + skip);
        for (size_t k = 0; k < key.len; k++)
            if (key.ptr[k] == ' ')
                key.ptr[k] = '_';
        kl_hex_encode(hex, j->digests + i * KL_HASH_MAX_SIZE, kl_hash_size(o->alg));
        if (rc == KL_OK)
            rc = fn(kl_buf_bytes(&key), KL_BYTES(hex, 2 * kl_hash_size(o->alg)), payload);
    }
    kl_buf_free(&key);
    return rc;
}

static kl_rc
hash_all(const kl_rootfs_opts *o, const char *root, strlist *files, kl_rootfs_file_fn fn,
         void *payload)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t nh = cpus < 1 ? 1 : cpus > MAX_THREADS ? MAX_THREADS : (size_t)cpus, made = 0;
    kl_hasher *hashers[MAX_THREADS] = {NULL};
    uint8_t *digests = kl_calloc(BATCH, KL_HASH_MAX_SIZE);
    kl_rc *rcs = kl_calloc(BATCH, sizeof(*rcs));
    kl_rc rc = KL_OK;

    if (!digests || !rcs)
        rc = kl_err_set(KL_ENOMEM, "out of memory");
    while (rc == KL_OK && made < nh && (rc = kl_hasher_new(&hashers[made])) == KL_OK)
        made++;
    if (rc == KL_OK && files->n)
        qsort(files->v, files->n, sizeof(*files->v), cmp_str);
    for (size_t at = 0; rc == KL_OK && at < files->n; at += BATCH) {
        job j = {
            files->v + at, files->n - at < BATCH ? files->n - at : BATCH, o->alg, 0, digests, rcs};

        hash_batch(&j, hashers, made);
        rc = report(o, root, &j, fn, payload);
    }
    for (size_t i = 0; i < made; i++)
        kl_hasher_free(hashers[i]);
    kl_free(digests);
    kl_free(rcs);
    return rc;
}

kl_rc
kl_rootfs_digests(const kl_rootfs_opts *o, kl_rootfs_file_fn fn, void *payload)
{
    strlist ex = {0}, files = {0};
    const char *root;
    struct stat st;
    bool inside = false;
    kl_buf abs;
    kl_rc rc;

    kl_buf_init(&abs, PATH_MAX * 4);
    rc = kl_rootfs_abspath(o->root, &abs);
    root = (const char *)abs.ptr;
    if (rc == KL_OK && (stat(root, &st) != 0 || !S_ISDIR(st.st_mode)))
        rc = kl_err_set(KL_EINVAL, "invalid path, %s is not a directory", root);
    if (rc == KL_OK)
        rc = skip_dirs(o, root, &ex, &inside);
    for (size_t i = 0; rc == KL_OK && !inside && i < sizeof(base_exclude_dirs) / sizeof(char *);
         i++)
        rc = strlist_add(&ex, base_exclude_dirs[i], strlen(base_exclude_dirs[i]));
    if (rc == KL_OK && !inside)
        rc = mount_dirs(&ex);
    if (rc == KL_OK && !inside)
        rc = walk(o, root, &ex, &files);
    if (rc == KL_OK && !inside) {
        kl_policy_doc_note(o->note, o->note_payload, KL_LOG_DEBUG, "obtained %zu paths", files.n);
        rc = hash_all(o, root, &files, fn, payload);
    }
    strlist_free(&ex);
    strlist_free(&files);
    kl_buf_free(&abs);
    return rc;
}
