/* standalone_driver: runs a libFuzzer target without libFuzzer.
 *
 * Every file named on the command line, and every file below every
 * directory named there (recursively, in name order), is read into a
 * buffer of exactly its size and passed to LLVMFuzzerTestOneInput once, so
 * the corpora replay as ordinary tests with any compiler (libgit2's
 * standalone_driver.c, strongSwan's libFuzzerLocal.c). Exits 1 when a path
 * cannot be read, 2 on usage errors.
 */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/kl_alloc.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"
#include "util/kl_file.h"

#define INPUT_MAX ((size_t)64 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static size_t runs;

static int
run_file(const char *path)
{
    kl_buf b;
    uint8_t *copy;
    kl_rc rc;

    kl_buf_init(&b, INPUT_MAX);
    rc = kl_file_read(path, &b);
    if (rc != KL_OK) {
        fprintf(stderr, "standalone_driver: %s\n", kl_err_msg());
        kl_buf_free(&b);
        return 1;
    }
    /* an exactly sized copy, so that sanitizers see reads past the end */
    copy = kl_memdup(b.ptr, b.len);
    if (!copy) {
        fprintf(stderr, "standalone_driver: %s: out of memory\n", path);
        kl_buf_free(&b);
        return 1;
    }
    (void)LLVMFuzzerTestOneInput(copy, b.len);
    kl_free(copy);
    kl_buf_free(&b);
    runs++;
    return 0;
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_path(const char *path);

/* The entries of a directory in name order. */
static int
run_dir(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *de;
    char **names = NULL;
    size_t n = 0;
    int status = 0;

    if (!d) {
        fprintf(stderr, "standalone_driver: cannot open %s: %s\n", path, strerror(errno));
        return 1;
    }
    while ((de = readdir(d)) != NULL) {
        char **grown;

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        grown = kl_reallocarray(names, n + 1, sizeof(*names));
        if (!grown || !(grown[n] = kl_strdup(de->d_name))) {
            names = grown ? grown : names;
            status = 1;
            fprintf(stderr, "standalone_driver: %s: out of memory\n", path);
            break;
        }
        names = grown;
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof(*names), cmp_names);
    for (size_t i = 0; i < n; i++) {
        kl_buf full;

        kl_buf_init(&full, 1 << 16);
        if (kl_buf_printf(&full, "%s/%s", path, names[i]) != KL_OK) {
            fprintf(stderr, "standalone_driver: %s/%s: %s\n", path, names[i], kl_err_msg());
            status = 1;
        } else {
            status |= run_path((const char *)full.ptr);
        }
        kl_buf_free(&full);
        kl_free(names[i]);
    }
    kl_free(names);
    return status;
}

static int
run_path(const char *path)
{
    struct stat st;

    if (stat(path, &st) != 0) {
        fprintf(stderr, "standalone_driver: cannot read %s: %s\n", path, strerror(errno));
        return 1;
    }
    return S_ISDIR(st.st_mode) ? run_dir(path) : run_file(path);
}

int
main(int argc, char **argv)
{
    int status = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    if (LLVMFuzzerInitialize)
        (void)LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++)
        status |= run_path(argv[i]);
    printf("standalone_driver: ran %zu inputs%s\n", runs, status ? ", some could not be read" : "");
    return status ? 1 : 0;
}
