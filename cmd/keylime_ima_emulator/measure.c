/* keylime_ima_emulator measure / run: append entries the way the kernel
 * measures a file it executes (policy rule "measure func=BPRM_CHECK"). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "emulator.h"
#include "ima/ima_ascii.h"
#include "ima/ima_sig.h"
#include "ima/ima_template.h"
#include "tpmdev/tpmdev_pcr.h"
#include "util/kl_alloc.h"
#include "util/kl_file.h"
#include "util/kl_hex.h"

#define XATTR_MAX 1024

typedef struct {
    char path[PATH_MAX]; /* the name logged: real path, spaces as '_' */
    uint8_t digest[KL_HASH_MAX_SIZE];
    uint8_t sig[XATTR_MAX];
    size_t sig_len; /* 0: no signature */
} measured_file;

/* The real path and the digest of a file, as the kernel logs them. */
static kl_rc
describe(measured_file *m, const emu_measure_opts *o, const char *file)
{
    struct stat st;
    ssize_t n;
    kl_rc rc;

    if (!realpath(file, m->path))
        return kl_err_set(KL_EIO, "%s: %s", file, strerror(errno));
    if (stat(m->path, &st) < 0 || !S_ISREG(st.st_mode))
        return kl_err_set(KL_EINVAL, "%s is not a regular file", file);
    if (strchr(m->path, '\n'))
        return kl_err_set(KL_EINVAL, "%s: a newline in the path cannot be logged", file);
    rc = kl_hash_file(o->file_alg, m->path, m->digest);
    if (rc != KL_OK)
        return rc;
    m->sig_len = 0;
    if (o->ima_sig) {
        /* only a signature goes in the sig field, not a plain digest xattr */
        kl_ima_sig sig;

        n = getxattr(m->path, "security.ima", m->sig, sizeof(m->sig));
        if (n > 0 && kl_ima_sig_parse(KL_BYTES(m->sig, (size_t)n), &sig) &&
            (sig.type == 3 || sig.type == 5))
            m->sig_len = (size_t)n;
    }
    for (char *p = m->path; *p; p++)
        if (*p == ' ')
            *p = '_';
    return KL_OK;
}

/* Whether the list's last entry for the same name has the same digest (the
 * kernel does not measure an unchanged file twice). */
static kl_rc
measured_before(emu *e, const emu_measure_opts *o, const measured_file *m, bool *out)
{
    size_t dsize = kl_hash_size(o->file_alg);
    kl_bytes name = KL_BYTES(m->path, strlen(m->path));
    kl_ima_ascii p;
    kl_buf list;
    kl_rc rc;

    *out = false;
    kl_buf_init(&list, EMU_LIST_MAX);
    rc = kl_file_read(e->log_path, &list);
    kl_ima_ascii_init(&p, kl_buf_bytes(&list));
    while (rc == KL_OK) {
        kl_ima_entry en;
        bool more = false;

        rc = kl_ima_ascii_next(&p, &en, &more);
        if (rc != KL_OK || !more)
            break;
        if (en.error || !kl_bytes_eq(en.name, name))
            continue;
        *out = kl_bytes_eq_str(en.digest_alg, kl_hash_name(o->file_alg)) &&
               en.digest.len == dsize && memcmp(en.digest.ptr, m->digest, dsize) == 0;
    }
    kl_ima_ascii_free(&p);
    kl_buf_free(&list);
    return rc;
}

/* "10 <template hash> <template> <alg>:<digest> <name>[ <sig>]\n" */
static kl_rc
format_line(emu *e, const emu_measure_opts *o, const measured_file *m, kl_buf *line)
{
    const char *alg = kl_hash_name(o->file_alg);
    size_t dsize = kl_hash_size(o->file_alg);
    uint8_t th[KL_HASH_MAX_SIZE];
    kl_ima_entry en;
    kl_buf data;
    kl_rc rc;

    memset(&en, 0, sizeof(en));
    en.tmpl = o->ima_sig ? KL_IMA_TMPL_IMA_SIG : KL_IMA_TMPL_IMA_NG;
    en.digest_alg = KL_BYTES(alg, strlen(alg));
    en.digest = KL_BYTES(m->digest, dsize);
    en.name = KL_BYTES(m->path, strlen(m->path));
    en.has_sig = m->sig_len > 0;
    en.sig = KL_BYTES(m->sig, m->sig_len);
    kl_buf_init(&data, 4 * (PATH_MAX + XATTR_MAX));
    rc = kl_ima_template_encode(&en, &data);
    if (rc == KL_OK)
        rc = kl_hasher_digest(e->h, e->ima_alg, data.ptr, data.len, th);
    kl_buf_free(&data);
    if (rc == KL_OK)
        rc = kl_buf_append_str(line, "10 ");
    if (rc == KL_OK)
        rc = kl_hex_encode_append(line, th, kl_hash_size(e->ima_alg));
    if (rc == KL_OK)
        rc = kl_buf_printf(line, " %s %s:", o->ima_sig ? "ima-sig" : "ima-ng", alg);
    if (rc == KL_OK)
        rc = kl_hex_encode_append(line, m->digest, dsize);
    if (rc == KL_OK)
        rc = kl_buf_printf(line, " %s", m->path);
    if (rc == KL_OK && o->ima_sig) {
        rc = kl_buf_append_byte(line, ' ');
        if (rc == KL_OK)
            rc = kl_hex_encode_append(line, m->sig, m->sig_len);
    }
    return rc == KL_OK ? kl_buf_append_byte(line, '\n') : rc;
}

static kl_rc
write_all(int fd, const char *path, kl_bytes b)
{
    while (b.len > 0) {
        ssize_t n = write(fd, b.ptr, b.len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return kl_err_set(KL_EIO, "cannot append to %s: %s", path, strerror(errno));
        b.ptr += n;
        b.len -= (size_t)n;
    }
    return KL_OK;
}

static kl_rc
measure_one(emu *e, const emu_measure_opts *o, int fd, const char *file)
{
    measured_file *m = kl_calloc(1, sizeof(*m));
    bool before = false;
    kl_buf line;
    kl_rc rc;

    if (!m)
        return kl_err_set(KL_ENOMEM, "out of memory");
    kl_buf_init(&line, 4 * (PATH_MAX + XATTR_MAX));
    rc = describe(m, o, file);
    if (rc == KL_OK && !o->always)
        rc = measured_before(e, o, m, &before);
    if (rc == KL_OK && before) {
        if (o->verbose)
            fprintf(stderr, "keylime_ima_emulator: %s is unchanged since it was measured\n",
                    m->path);
    } else if (rc == KL_OK) {
        rc = format_line(e, o, m, &line);
        if (rc == KL_OK)
            rc = write_all(fd, e->log_path, kl_buf_bytes(&line));
        if (rc == KL_OK && o->verbose)
            fprintf(stderr, "keylime_ima_emulator: measured %s\n", m->path);
    }
    kl_buf_free(&line);
    kl_free(m);
    return rc;
}

/* The kernel's first entry: "boot_aggregate", the hash of PCRs 0-7 (and,
 * for banks other than sha1, 8-9) of the bank of the file digests. */
static kl_rc
boot_aggregate(emu *e, const emu_measure_opts *o, int fd)
{
    measured_file *m = kl_calloc(1, sizeof(*m));
    unsigned last = o->file_alg == KL_HASH_SHA1 ? 7 : 9;
    size_t size = kl_hash_size(o->file_alg);
    kl_pcr_set pcrs;
    kl_buf line;
    kl_rc rc;

    if (!m)
        return kl_err_set(KL_ENOMEM, "out of memory");
    kl_buf_init(&line, 4 * (PATH_MAX + XATTR_MAX));
    snprintf(m->path, sizeof(m->path), "boot_aggregate");
    rc = kl_tpmdev_pcr_read(&pcrs, e->tpm, o->file_alg, (2u << last) - 1);
    if (rc == KL_OK)
        rc = kl_hasher_start(e->h, o->file_alg);
    for (unsigned i = 0; rc == KL_OK && i <= last; i++)
        rc = kl_hasher_update(e->h, pcrs.value[i], size);
    if (rc == KL_OK)
        rc = kl_hasher_finish(e->h, m->digest);
    if (rc == KL_OK)
        rc = format_line(e, o, m, &line);
    if (rc == KL_OK)
        rc = write_all(fd, e->log_path, kl_buf_bytes(&line));
    if (rc == KL_OK && o->verbose)
        fprintf(stderr, "keylime_ima_emulator: the list was empty: boot_aggregate first\n");
    kl_buf_free(&line);
    kl_free(m);
    return rc;
}

kl_rc
emu_measure(emu *e, const emu_measure_opts *o, char *const *files, size_t n)
{
    int fd = -1;
    kl_rc rc = emu_open_locked(e, true, &fd);

    /* first bring PCR 10 up to date, so a disagreement is found before
     * anything is appended; then append and extend the new entries */
    if (rc == KL_OK)
        rc = emu_sync(e, fd);
    if (rc == KL_OK && e->lines == 0 && lseek(fd, 0, SEEK_END) == 0)
        rc = boot_aggregate(e, o, fd);
    for (size_t i = 0; i < n && rc == KL_OK; i++)
        rc = measure_one(e, o, fd, files[i]);
    if (rc == KL_OK)
        rc = emu_sync(e, fd);
    emu_close_locked(fd);
    return rc;
}

static bool
executable(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* The program execvp would run for name. */
static kl_rc
search_path(const char *name, char **out)
{
    const char *path = getenv("PATH");
    kl_buf b;

    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    kl_buf_init(&b, PATH_MAX + 1);
    for (const char *p = path; *p;) {
        const char *colon = strchr(p, ':');
        size_t len = colon ? (size_t)(colon - p) : strlen(p);

        kl_buf_reset(&b);
        /* an empty element means the current directory */
        if (kl_buf_printf(&b, "%.*s/%s", len ? (int)len : 1, len ? p : ".", name) == KL_OK &&
            kl_buf_terminate(&b) == KL_OK && executable((const char *)b.ptr)) {
            *out = (char *)kl_buf_take(&b, NULL);
            return *out ? KL_OK : kl_err_set(KL_ENOMEM, "out of memory");
        }
        p += len + (colon ? 1 : 0);
        if (!colon)
            break;
    }
    kl_buf_free(&b);
    return kl_err_set(KL_ENOTFOUND, "%s: command not found", name);
}

/* The interpreter named on a "#!" first line, or "". */
static kl_rc
interpreter(const char *path, char **out)
{
    char head[256];
    size_t len = 0, start;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return kl_err_set(KL_EIO, "cannot open %s: %s", path, strerror(errno));
    n = read(fd, head, sizeof(head) - 1);
    close(fd);
    if (n >= 2 && head[0] == '#' && head[1] == '!') {
        head[n] = '\0';
        start = 2 + strspn(head + 2, " \t");
        len = strcspn(head + start, " \t\r\n");
        *out = kl_strndup(head + start, len);
    } else {
        *out = kl_strdup("");
    }
    return *out ? KL_OK : kl_err_set(KL_ENOMEM, "out of memory");
}

kl_rc
emu_resolve_program(const char *argv0, char **path_out, char **interp_out)
{
    kl_rc rc;

    *path_out = *interp_out = NULL;
    if (strchr(argv0, '/')) {
        if (!executable(argv0))
            return kl_err_set(KL_EINVAL, "%s is not an executable file", argv0);
        *path_out = kl_strdup(argv0);
        if (!*path_out)
            return kl_err_set(KL_ENOMEM, "out of memory");
    } else {
        rc = search_path(argv0, path_out);
        if (rc != KL_OK)
            return rc;
    }
    rc = interpreter(*path_out, interp_out);
    if (rc != KL_OK) {
        kl_free(*path_out);
        *path_out = NULL;
    }
    return rc;
}
