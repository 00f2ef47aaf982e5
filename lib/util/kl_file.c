#include "util/kl_file.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/kl_alloc.h"

static kl_rc
too_big(const char *path, const kl_buf *b)
{
    return kl_err_set(KL_ETOOBIG, "%s: larger than the %zu-byte limit", path, b->max - 1);
}

static kl_rc
read_fd(int fd, const char *path, kl_buf *b)
{
    for (;;) {
        size_t want = 65536;
        ssize_t n;
        kl_rc rc;

        if (b->len + 1 >= b->max) {
            uint8_t probe;

            /* full: fine only if nothing is left */
            while ((n = read(fd, &probe, 1)) < 0 && errno == EINTR)
                ;
            if (n < 0)
                return kl_err_set(KL_EIO, "%s: %s", path, strerror(errno));
            return n == 0 ? KL_OK : too_big(path, b);
        }
        if (want > b->max - b->len - 1)
            want = b->max - b->len - 1;
        rc = kl_buf_reserve(b, want);
        if (rc != KL_OK)
            return rc;
        n = read(fd, b->ptr + b->len, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return kl_err_set(KL_EIO, "%s: %s", path, strerror(errno));
        if (n == 0)
            return KL_OK;
        b->len += (size_t)n;
    }
}

kl_rc
kl_file_read(const char *path, kl_buf *b)
{
    struct stat st;
    int fd;
    kl_rc rc;

    kl_buf_reset(b);
    if (strcmp(path, "-") == 0)
        return read_fd(STDIN_FILENO, "standard input", b);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return kl_err_set(KL_EIO, "cannot open %s: %s", path, strerror(errno));
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        return kl_err_set(KL_EIO, "%s is a directory, expected a file", path);
    }
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size >= b->max) {
        close(fd);
        return kl_err_set(KL_ETOOBIG, "%s: %lld bytes is larger than the %zu-byte limit", path,
                          (long long)st.st_size, b->max - 1);
    }
    rc = read_fd(fd, path, b);
    close(fd);
    return rc;
}

static kl_rc
write_all(int fd, const char *path, const uint8_t *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return kl_err_set(KL_EIO, "writing %s: %s", path, strerror(errno));
        p += n;
        len -= (size_t)n;
    }
    return KL_OK;
}

kl_rc
kl_file_write(const char *path, const void *data, size_t len)
{
    return kl_file_write_mode(path, data, len, 0644);
}

kl_rc
kl_file_write_mode(const char *path, const void *data, size_t len, unsigned mode)
{
    size_t plen = strlen(path);
    char *tmp = NULL;
    bool created = false;
    int fd;
    kl_rc rc;

    if (strcmp(path, "-") == 0 || strcmp(path, "/dev/stdout") == 0)
        return write_all(STDOUT_FILENO, "standard output", data, len);
    tmp = kl_malloc(plen + 16);
    if (!tmp)
        return kl_err_set(KL_ENOMEM, "out of memory");
    snprintf(tmp, plen + 16, "%s.tmpXXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0) {
        rc = kl_err_set(KL_EIO, "cannot create a file next to %s: %s", path, strerror(errno));
        goto out;
    }
    created = true;
    rc = write_all(fd, path, data, len);
    if (rc == KL_OK && fchmod(fd, (mode_t)mode) != 0)
        rc = kl_err_set(KL_EIO, "chmod %s: %s", tmp, strerror(errno));
    if (rc == KL_OK && fsync(fd) != 0)
        rc = kl_err_set(KL_EIO, "fsync %s: %s", tmp, strerror(errno));
    if (close(fd) != 0 && rc == KL_OK)
        rc = kl_err_set(KL_EIO, "close %s: %s", tmp, strerror(errno));
    if (rc == KL_OK && rename(tmp, path) != 0)
        rc = kl_err_set(KL_EIO, "cannot write %s: %s", path, strerror(errno));
out:
    if (rc != KL_OK && created)
        unlink(tmp);
    kl_free(tmp);
    return rc;
}
