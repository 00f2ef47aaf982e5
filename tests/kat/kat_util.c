#include "kat_util.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json/json.h"
#include "util/kl_alloc.h"
#include "util/kl_file.h"

char *
kat_path(const char *rel)
{
    const char *base = getenv("KL_TEST_DATA");
    size_t n;
    char *p;

    if (!base)
        fail_msg("KL_TEST_DATA is not set (run the tests with meson test)");
    n = strlen(base) + strlen(rel) + 2;
    p = kl_malloc(n);
    assert_non_null(p);
    snprintf(p, n, "%s/%s", base, rel);
    return p;
}

void
kat_read(const char *rel, kl_buf *out)
{
    char *path = kat_path(rel);
    kl_rc rc;

    kl_buf_init(out, (size_t)1 << 30);
    rc = kl_file_read(path, out);
    if (rc != KL_OK)
        fail_msg("%s: %s", path, kl_err_msg());
    kl_free(path);
}

json_t *
kat_json(const char *rel)
{
    json_t *j = NULL;
    kl_buf text;

    kat_read(rel, &text);
    if (kl_json_parse(kl_buf_bytes(&text), rel, &j) != KL_OK)
        fail_msg("%s", kl_err_msg());
    kl_buf_free(&text);
    return j;
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t
kat_list(const char *dir, const char *prefix, const char *suffix, char ***names)
{
    char *path = kat_path(dir);
    DIR *d = opendir(path);
    struct dirent *de;
    size_t n = 0;

    *names = NULL;
    assert_non_null(d);
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name), sl = strlen(suffix);

        if (strncmp(de->d_name, prefix, strlen(prefix)) != 0 || len < sl ||
            strcmp(de->d_name + len - sl, suffix) != 0)
            continue;
        *names = kl_reallocarray(*names, n + 1, sizeof(**names));
        assert_non_null(*names);
        (*names)[n++] = kl_strdup(de->d_name);
    }
    closedir(d);
    kl_free(path);
    qsort(*names, n, sizeof(**names), cmp_names);
    return n;
}
