/* fuzz_unzip: zip archives (payload/unzip.h) extracted into a fresh
 * directory, which is removed after each input.
 *
 * Layout per input: <base>/top/dest, extraction into dest with small
 * limits. Checks: nothing appears outside dest (top holds only dest), no
 * symlink, device or other non-regular file is created, a failed
 * extraction leaves dest empty, regular files are mode 0600 and
 * directories 0700, no more files than the limit (and no more on disk
 * than the count returned), and no file descriptor is leaked.
 */
#include "fuzz_util.h"
#include "payload/unzip.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

static char base[256];
static char top[300];
static char dest[320];
static size_t n_seen;
static size_t n_reg;
static size_t n_bad;

static void
remove_base(void)
{
    (void)rmdir(base);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *tmp = getenv("TMPDIR");

    (void)argc;
    (void)argv;
    fuzz_quiet_logs();
    snprintf(base, sizeof(base), "%s/kl-fuzz-unzip-XXXXXX", tmp ? tmp : "/tmp");
    FUZZ_CHECK(mkdtemp(base) != NULL);
    atexit(remove_base);
    snprintf(top, sizeof(top), "%s/top", base);
    snprintf(dest, sizeof(dest), "%s/dest", top);
    return 0;
}

static int
visit(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)path;
    if (ftw->level == 0)
        return 0;
    n_seen++;
    n_reg += S_ISREG(st->st_mode) != 0;
    if (flag == FTW_SL || flag == FTW_SLN || !(S_ISREG(st->st_mode) || S_ISDIR(st->st_mode)) ||
        (st->st_mode & 07777) != (S_ISDIR(st->st_mode) ? 0700 : 0600))
        n_bad++;
    return 0;
}

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Entries directly in dir. */
static size_t
count_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;

    FUZZ_CHECK(d != NULL);
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static int
lowest_fd(void)
{
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

    FUZZ_CHECK(fd >= 0);
    close(fd);
    return fd;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const kl_unzip_limits lim = {1 << 20, 64, 256 << 10};
    int fd_before = lowest_fd();
    size_t n = 0;
    kl_rc rc;

    FUZZ_CHECK(mkdir(top, 0700) == 0 && mkdir(dest, 0700) == 0);
    rc = kl_unzip_safe(fuzz_input(data, size), dest, &lim, &n);
    fuzz_touch_error();
    FUZZ_CHECK(rc == KL_OK || rc == KL_EPARSE || rc == KL_ETOOBIG || rc == KL_EIO);
    FUZZ_CHECK(count_dir(top) == 1);
    n_seen = n_reg = n_bad = 0;
    FUZZ_CHECK(nftw(dest, visit, 16, FTW_PHYS) == 0);
    FUZZ_CHECK(n_bad == 0);
    FUZZ_CHECK(rc == KL_OK || (n == 0 && n_seen == 0));
    /* n counts file entries; a name given twice is one file on disk */
    FUZZ_CHECK(n <= lim.max_entries && n_reg <= n);
    FUZZ_CHECK(nftw(top, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0);
    FUZZ_CHECK(lowest_fd() == fd_before);
    return 0;
}
