/* cfg_test: helpers shared by the config tests (header only): test data
 * paths, temporary etc/usr_etc trees, and a text dump of an ini document
 * in the format of tests/data/config/<file>.expected (made with Python's
 * RawConfigParser: "section\tkey\tvalue", with \\, \n and \t escaped). */
#ifndef KL_CFG_TEST_H
#define KL_CFG_TEST_H

/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <ftw.h>

#include <cmocka.h>
/* clang-format on */

#include "config/config.h"
#include "config/ini.h"
#include "util/kl_alloc.h"
#include "util/kl_buf.h"
#include "util/kl_file.h"

static inline void
cfg_data_path(char *out, size_t n, const char *name)
{
    const char *base = getenv("KL_TEST_DATA");

    if (!base)
        fail_msg("KL_TEST_DATA is not set");
    snprintf(out, n, "%s/config/%s", base, name);
}

/* Reads a test data file into b (initialised here; caller frees). */
static inline void
cfg_data_read(kl_buf *b, const char *name)
{
    char path[1024];

    cfg_data_path(path, sizeof(path), name);
    kl_buf_init(b, 1 << 20);
    assert_int_equal(kl_file_read(path, b), KL_OK);
    assert_int_equal(kl_buf_terminate(b), KL_OK);
}

/* Writes text to root/rel, creating the directories on the way. */
static inline void
cfg_put(const char *root, const char *rel, const char *text)
{
    char path[1024];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        mkdir(path, 0755);
        *p = '/';
    }
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static int
cfg_rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static inline void
cfg_rmtree(const char *dir)
{
    nftw(dir, cfg_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static inline void
cfg_esc(kl_buf *b, const char *s)
{
    for (; *s; s++) {
        const char *e = *s == '\\' ? "\\\\" : *s == '\n' ? "\\n" : *s == '\t' ? "\\t" : NULL;

        assert_int_equal(e ? kl_buf_append_str(b, e) : kl_buf_append_byte(b, (uint8_t)*s), KL_OK);
    }
}

static void
cfg_dump_cb(const char *section, const char *key, const kl_ini_value *v, void *payload)
{
    kl_buf *b = payload;

    cfg_esc(b, section);
    assert_int_equal(kl_buf_append_byte(b, '\t'), KL_OK);
    cfg_esc(b, key);
    assert_int_equal(kl_buf_append_byte(b, '\t'), KL_OK);
    cfg_esc(b, v->value);
    assert_int_equal(kl_buf_append_byte(b, '\n'), KL_OK);
}

/* The document as "section\tkey\tvalue" lines (NUL-terminated; caller
 * frees b). */
static inline void
cfg_dump_doc(kl_buf *b, const kl_ini *doc)
{
    kl_buf_init(b, 1 << 20);
    kl_ini_walk(doc, cfg_dump_cb, b);
    assert_int_equal(kl_buf_terminate(b), KL_OK);
}

#endif
