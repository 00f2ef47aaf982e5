#include "policy/initrd.h"

#include "policy/initrd_files.h"
#include "util/kl_alloc.h"
#include "util/kl_hex.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CPIO_HEADER_LEN 110
#define CPIO_NAMESIZE_OFF 94
#define CPIO_FILESIZE_OFF 54
#define CPIO_FIELD_LEN 8
#define CPIO_END "TRAILER!!!"
#define CPIO_END_LEN 10
#define SCAN_BUF 2048
#define READ_BUF 65536

/* pread of up to n bytes at pos; the count read (short at the end). */
static kl_rc
read_at(int fd, uint64_t pos, uint8_t *buf, size_t n, size_t *got)
{
    *got = 0;
    while (*got < n) {
        ssize_t r = pread(fd, buf + *got, n - *got, (off_t)(pos + *got));

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return kl_err_set(KL_EIO, "reading the initrd: %s", strerror(errno));
        if (r == 0)
            break;
        *got += (size_t)r;
    }
    return KL_OK;
}

static bool
is_cpio_magic(const uint8_t *b, size_t n)
{
    return n >= 6 && (memcmp(b, "070701", 6) == 0 || memcmp(b, "070702", 6) == 0);
}

/* int("0x" + field, 0) as Python reads it: hex digits, single '_' between
 * them (and right after the prefix), trailing whitespace. */
static kl_rc
hex_field(const uint8_t *b, size_t blen, size_t off, uint64_t *out)
{
    size_t end = off + CPIO_FIELD_LEN < blen ? off + CPIO_FIELD_LEN : blen, i = off;
    bool digit_before = true; /* "0x" counts as the digit before a '_' */
    size_t digits = 0;

    *out = 0;
    while (end > i && (b[end - 1] == ' ' || (b[end - 1] >= '\t' && b[end - 1] <= '\r') ||
                       (b[end - 1] >= 0x1c && b[end - 1] <= 0x1f)))
        end--;
    for (; i < end; i++) {
        int v = kl_hex_digit(b[i]);

        if (b[i] == '_' && digit_before && i + 1 < end && kl_hex_digit(b[i + 1]) >= 0) {
            digit_before = false;
            continue;
        }
        if (v < 0)
            return kl_err_set(KL_EPARSE, "corrupt early cpio archive (bad header field)");
        *out = *out << 4 | (uint64_t)v;
        digit_before = true;
        digits++;
    }
    if (digits == 0)
        return kl_err_set(KL_EPARSE, "corrupt early cpio archive (bad header field)");
    return KL_OK;
}

static uint64_t
align4(uint64_t v)
{
    return (v + 3) & ~(uint64_t)3;
}

/* After the early archive: skip zeros; all zeros to the end means there is
 * no main archive, and the start of the file is used. */
static kl_rc
skip_zeros(int fd, uint64_t size, uint64_t pos, uint64_t previous, uint64_t *off)
{
    uint8_t buf[SCAN_BUF];
    size_t got, i;
    kl_rc rc;

    for (;;) {
        rc = read_at(fd, pos, buf, sizeof(buf), &got);
        if (rc != KL_OK)
            return rc;
        for (i = 0; i < got && buf[i] == 0; i++)
            ;
        if (i < got) {
            *off = pos + i;
            return KL_OK;
        }
        pos += got;
        if (got == 0 || pos >= size) {
            *off = previous;
            return KL_OK;
        }
    }
}

kl_rc
kl_initrd_main_offset(int fd, const kl_initrd_opts *o, uint64_t *off)
{
    uint8_t buf[SCAN_BUF];
    uint64_t pos = 0, cur, previous = 0, namelen, filesize;
    struct stat st;
    bool parsing = false;
    size_t got;
    kl_rc rc;

    *off = 0;
    if (fstat(fd, &st) != 0)
        return kl_err_set(KL_EIO, "initrd: %s", strerror(errno));
    rc = read_at(fd, 0, buf, SCAN_BUF, &got);
    if (rc != KL_OK || !is_cpio_magic(buf, got))
        return rc;
    for (;;) {
        if ((rc = hex_field(buf, got, CPIO_NAMESIZE_OFF, &namelen)) != KL_OK ||
            (rc = hex_field(buf, got, CPIO_FILESIZE_OFF, &filesize)) != KL_OK)
            return rc;
        if (!parsing) {
            previous = pos;
            parsing = true;
        }
        /* upstream compares buffer[110:pos+110+namelen] (a quirk kept) */
        {
            uint64_t s = CPIO_HEADER_LEN, e = pos + CPIO_HEADER_LEN + namelen;
            size_t flen = e > got ? (s < got ? got - s : 0) : (e > s ? (size_t)(e - s) : 0);
            bool trailer = namelen == CPIO_END_LEN + 1 && flen == CPIO_END_LEN &&
                           memcmp(buf + s, CPIO_END, CPIO_END_LEN) == 0;

            pos = align4(align4(pos + CPIO_HEADER_LEN + namelen) + filesize);
            if (trailer) {
                cur = pos;
                break;
            }
        }
        rc = read_at(fd, pos, buf, CPIO_HEADER_LEN + CPIO_END_LEN, &got);
        if (rc != KL_OK)
            return rc;
        cur = pos + got;
        if (!is_cpio_magic(buf, got)) {
            kl_policy_doc_note(o->note, o->note_payload, KL_LOG_WARN,
                               "Corrupt CPIO archive (magic: %.*s)", (int)(got < 6 ? got : 6),
                               (const char *)buf);
            *off = pos;
            return KL_OK;
        }
        if (cur >= (uint64_t)st.st_size)
            break;
    }
    if (cur >= (uint64_t)st.st_size) {
        *off = pos;
        return KL_OK;
    }
    return skip_zeros(fd, (uint64_t)st.st_size, pos, previous, off);
}

typedef struct {
    int fd;
    uint64_t pos;
    uint8_t buf[READ_BUF];
} source;

static la_ssize_t
source_read(struct archive *a, void *ud, const void **out)
{
    source *s = ud;
    ssize_t n;

    do
        n = pread(s->fd, s->buf, sizeof(s->buf), (off_t)s->pos);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        archive_set_error(a, errno, "read error");
        return -1;
    }
    s->pos += (uint64_t)n;
    *out = s->buf;
    return n;
}

/* Streams the main archive of the initrd open on fd into the table. */
static kl_rc
read_archive(int fd, uint64_t off, const kl_initrd_opts *o, kl_initrd_files *t)
{
    struct archive *a = archive_read_new();
    struct archive_entry *e;
    source *src = kl_calloc(1, sizeof(*src));
    kl_rc rc = KL_OK;
    int r;

    if (!a || !src) {
        rc = kl_err_set(KL_ENOMEM, "out of memory");
        goto out;
    }
    src->fd = fd;
    src->pos = off;
    archive_read_support_filter_all(a);
    archive_read_support_format_all(a);
    if (archive_read_open(a, src, NULL, source_read, NULL) != ARCHIVE_OK) {
        rc = kl_err_set(KL_EPARSE, "%s", archive_error_string(a));
        goto out;
    }
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
        rc = kl_initrd_files_entry(t, a, e, o->alg);
        if (rc != KL_OK)
            goto out;
    }
    if (r != ARCHIVE_EOF)
        rc = kl_err_set(KL_EPARSE, "%s",
                        archive_error_string(a) ? archive_error_string(a)
                                                : "cannot read the archive");
out:
    if (a)
        archive_read_free(a);
    kl_free(src);
    return rc;
}

kl_rc
kl_initrd_digests(const char *path, const kl_initrd_opts *o, kl_initrd_file_fn fn, void *payload)
{
    kl_initrd_files *t = NULL;
    uint64_t off = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    kl_rc rc;

    if (fd < 0)
        return kl_err_set(KL_EIO, "cannot open %s: %s", path, strerror(errno));
    rc = kl_initrd_files_new(&t);
    if (rc == KL_OK)
        rc = kl_initrd_main_offset(fd, o, &off);
    if (rc == KL_OK) {
        kl_policy_doc_note(o->note, o->note_payload, KL_LOG_DEBUG,
                           "initrd %s: main archive at offset %llu", path, (unsigned long long)off);
        rc = read_archive(fd, off, o, t);
    }
    if (rc == KL_OK)
        rc = kl_initrd_files_report(t, o->alg, fn, payload);
    if (rc != KL_OK && rc != KL_ENOMEM)
        kl_err_wrap(rc, "initrd %s: ", path);
    kl_initrd_files_free(t);
    close(fd);
    return rc;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

kl_rc
kl_initrd_dir_digests(const char *dir, const kl_initrd_opts *o, kl_initrd_file_fn fn, void *payload)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char **names = NULL;
    size_t n = 0, cap = 0;
    kl_buf path;
    kl_rc rc = KL_OK;

    if (!d)
        return kl_err_set(KL_EIO, "cannot read the ramdisk directory %s: %s", dir, strerror(errno));
    while (rc == KL_OK && (de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, "initr", 5) != 0)
            continue;
        if (n == cap) {
            char **v = kl_reallocarray(names, cap ? cap * 2 : 16, sizeof(*v));

            if (!v) {
                rc = kl_err_set(KL_ENOMEM, "out of memory");
                break;
            }
            names = v;
            cap = cap ? cap * 2 : 16;
        }
        if ((names[n] = kl_strdup(de->d_name)) == NULL)
            rc = kl_err_set(KL_ENOMEM, "out of memory");
        else
            n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof(*names), cmp_str);
    kl_buf_init(&path, 1 << 16);
    for (size_t i = 0; rc == KL_OK && i < n; i++) {
        struct stat st;

        kl_buf_reset(&path);
        rc = kl_buf_printf(&path, "%s/%s", dir, names[i]);
        if (rc == KL_OK && stat((const char *)path.ptr, &st) == 0 && S_ISREG(st.st_mode))
            rc = kl_initrd_digests((const char *)path.ptr, o, fn, payload);
    }
    for (size_t i = 0; i < n; i++)
        kl_free(names[i]);
    kl_free(names);
    kl_buf_free(&path);
    return rc;
}
