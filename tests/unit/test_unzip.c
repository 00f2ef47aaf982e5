/* Unit tests for payload/unzip: the vector payload zips extract; hostile
 * zips built here (libarchive's writer, some header fields patched) are
 * refused or stopped at the limits, leave nothing behind, and never touch
 * anything outside the destination: ../ and absolute names, symlink
 * entries and symlinks already in the destination, devices, oversized
 * declared and actual sizes, too many entries, a deflate bomb, duplicate
 * names, damaged archives. */
/* cmocka.h needs the standard headers before it: keep this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "payload/unzip.h"
#include "payload_test.h"
#include "util/kl_alloc.h"
/* clang-format on */

#define ZIP_MAX (8u << 20)

typedef struct {
    const char *name;
    unsigned type; /* AE_IFREG (0 means regular too), AE_IFDIR, AE_IFLNK */
    const char *data;
    size_t size; /* 0: strlen(data) */
    const char *link;
} zent;

typedef struct {
    char top[64];
    char dest[96];
    char outside[96];
    kl_buf zip;
} fixture;

/* Builds a zip of the entries with libarchive's writer options. */
static void
zip_build_opts(kl_buf *out, const zent *e, size_t n, const char *options)
{
    struct archive *a = archive_write_new();
    struct archive_entry *ae;
    size_t used = 0;

    kl_buf_free(out);
    kl_buf_init(out, ZIP_MAX + 1);
    assert_int_equal(kl_buf_reserve(out, ZIP_MAX - 1), KL_OK);
    assert_int_equal(archive_write_set_format_zip(a), ARCHIVE_OK);
    assert_int_equal(archive_write_set_options(a, options), ARCHIVE_OK);
    assert_int_equal(archive_write_open_memory(a, out->ptr, ZIP_MAX - 1, &used), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++) {
        size_t size = e[i].type == AE_IFREG || !e[i].type
                          ? (e[i].size ? e[i].size : strlen(e[i].data ? e[i].data : ""))
                          : 0;

        ae = archive_entry_new();
        archive_entry_set_pathname(ae, e[i].name);
        archive_entry_set_filetype(ae, e[i].type ? e[i].type : AE_IFREG);
        archive_entry_set_perm(ae, 0755);
        archive_entry_set_size(ae, (la_int64_t)size);
        if (e[i].link)
            archive_entry_set_symlink(ae, e[i].link);
        assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
        if (size && e[i].data && e[i].size == 0)
            assert_int_equal(archive_write_data(a, e[i].data, size), (la_ssize_t)size);
        for (size_t done = 0; size && e[i].size && done < size; done += 4096) {
            static const char zeros[4096];
            size_t k = size - done < 4096 ? size - done : 4096;

            assert_int_equal(archive_write_data(a, zeros, k), (la_ssize_t)k);
        }
        archive_entry_free(ae);
    }
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    out->len = used;
}

/* Builds a zip of the entries (deflated when deflate is set). */
static void
zip_build(kl_buf *out, const zent *e, size_t n, bool deflate)
{
    zip_build_opts(out, e, n, deflate ? "zip:compression=deflate" : "zip:compression=store");
}

/* The offset of the nth (0-based) header with signature PK<c><d>. */
static size_t
zip_header(const kl_buf *z, uint8_t c, uint8_t d, size_t nth)
{
    for (size_t i = 0; i + 4 <= z->len; i++) {
        if (z->ptr[i] == 'P' && z->ptr[i + 1] == 'K' && z->ptr[i + 2] == c && z->ptr[i + 3] == d &&
            nth-- == 0)
            return i;
    }
    fail_msg("zip header not found");
    return 0;
}

static void
put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static size_t tree_n;

static int
count_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)path;
    (void)st;
    (void)flag;
    (void)ftw;
    tree_n++;
    return 0;
}

/* Entries below path (path itself not counted). */
static size_t
tree_count(const char *path)
{
    tree_n = 0;
    assert_int_equal(nftw(path, count_entry, 16, FTW_PHYS), 0);
    return tree_n - 1;
}

static void
write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

/* The content of dir/rel (NUL-terminated in out), or false. */
static bool
read_rel(const char *dir, const char *rel, char *out, size_t n)
{
    char path[256];
    ssize_t r;
    int fd;

    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    fd = open(path, O_RDONLY | O_NOFOLLOW);
    if (fd < 0)
        return false;
    r = read(fd, out, n - 1);
    close(fd);
    out[r < 0 ? 0 : r] = '\0';
    return r >= 0;
}

static int
setup(void **state)
{
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    fixture *f = kl_calloc(1, sizeof(*f));
    char path[160];

    assert_non_null(f);
    snprintf(f->top, sizeof(f->top), "%s/kl-unzip-XXXXXX", tmp);
    assert_non_null(mkdtemp(f->top));
    snprintf(f->dest, sizeof(f->dest), "%s/dest", f->top);
    snprintf(f->outside, sizeof(f->outside), "%s/outside", f->top);
    assert_int_equal(mkdir(f->dest, 0700), 0);
    assert_int_equal(mkdir(f->outside, 0700), 0);
    snprintf(path, sizeof(path), "%s/target", f->outside);
    write_file(path, "original");
    kl_buf_init(&f->zip, 16);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;

    assert_int_equal(nftw(f->top, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
    kl_buf_free(&f->zip);
    kl_free(f);
    return 0;
}

/* Nothing outside dest changed: top holds dest and outside, outside holds
 * only target with its original content. */
static void
assert_outside_intact(const fixture *f)
{
    char buf[64];

    assert_int_equal(tree_count(f->top), 2 + tree_count(f->dest) + 1);
    assert_int_equal(tree_count(f->outside), 1);
    assert_true(read_rel(f->outside, "target", buf, sizeof(buf)));
    assert_string_equal(buf, "original");
}

/* Extracting must fail with rc and leave dest as it was (empty). */
static void
expect_fail(fixture *f, const kl_unzip_limits *lim, kl_rc rc)
{
    size_t n = 99;

    assert_int_equal(kl_unzip_safe(kl_buf_bytes(&f->zip), f->dest, lim, &n), rc);
    assert_int_equal(n, 0);
    assert_int_equal(tree_count(f->dest), 0);
    assert_outside_intact(f);
}

static void
assert_mode(const char *dir, const char *rel, mode_t want)
{
    char path[256];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    assert_int_equal(lstat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, want);
}

static void
test_unzip_vector_payloads(void **state)
{
    fixture *f = *state;
    char buf[256];
    size_t n = 0;

    pt_read("payload/payload_plain.zip", &f->zip);
    assert_int_equal(kl_unzip_safe(kl_buf_bytes(&f->zip), f->dest, NULL, &n), KL_OK);
    assert_int_equal(n, 1);
    assert_true(read_rel(f->dest, "autorun.sh", buf, sizeof(buf)));
    assert_string_equal(buf, "#!/bin/sh\necho hello > autorun.out\n");
    assert_mode(f->dest, "autorun.sh", 0600);
    kl_buf_free(&f->zip);
    /* rust-keylime's: replaces the file extracted above */
    pt_read("payload/rust-keylime/payload.zip", &f->zip);
    assert_int_equal(kl_unzip_safe(kl_buf_bytes(&f->zip), f->dest, NULL, &n), KL_OK);
    assert_int_equal(n, 1);
    assert_true(read_rel(f->dest, "autorun.sh", buf, sizeof(buf)));
    assert_non_null(strstr(buf, "#!/bin/sh"));
    assert_int_equal(tree_count(f->dest), 1);
    assert_outside_intact(f);
}

static void
test_unzip_nested_dirs_and_modes(void **state)
{
    fixture *f = *state;
    const zent e[] = {
        {"top/", AE_IFDIR, NULL, 0, NULL},
        {"top/sub/deep/file.txt", 0, "deep", 0, NULL},
        {"top/a.txt", 0, "a", 0, NULL},
    };
    char buf[16];
    size_t n = 0;

    zip_build(&f->zip, e, 3, true);
    assert_int_equal(kl_unzip_safe(kl_buf_bytes(&f->zip), f->dest, NULL, &n), KL_OK);
    assert_int_equal(n, 2);
    assert_true(read_rel(f->dest, "top/sub/deep/file.txt", buf, sizeof(buf)));
    assert_string_equal(buf, "deep");
    assert_mode(f->dest, "top", 0700);
    assert_mode(f->dest, "top/sub/deep", 0700);
    assert_mode(f->dest, "top/a.txt", 0600);
    assert_int_equal(tree_count(f->dest), 5);
}

static void
test_unzip_bad_names(void **state)
{
    fixture *f = *state;
    static const char *names[] = {
        "../evil", "a/../../evil", "a/..", "/tmp/evil", "a\\..\\evil", "./a", "a//b", "a/./b",
    };

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const zent e[] = {{"ok.txt", 0, "fine", 0, NULL}, {names[i], 0, "bad", 0, NULL}};

        zip_build(&f->zip, e, 2, false);
        expect_fail(f, NULL, KL_EPARSE);
    }
}

/* A symlink entry is refused, so a file through it never lands outside */
static void
test_unzip_symlink_entry(void **state)
{
    fixture *f = *state;
    const zent e[] = {
        {"link", AE_IFLNK, NULL, 0, f->outside},
        {"link/target", 0, "pwned", 0, NULL},
    };

    zip_build(&f->zip, e, 2, false);
    expect_fail(f, NULL, KL_EPARSE);
}

/* Symlinks and hardlinks already in dest are not followed or written
 * through: a directory symlink stops the entry, a file symlink or hardlink
 * is replaced by the new file. */
static void
test_unzip_existing_links(void **state)
{
    fixture *f = *state;
    const zent through[] = {{"dlink/target", 0, "pwned", 0, NULL}};
    const zent over[] = {{"flink", 0, "new", 0, NULL}, {"hlink", 0, "new", 0, NULL}};
    char a[256], b[256], buf[16];
    size_t n = 0;

    snprintf(a, sizeof(a), "%s/dlink", f->dest);
    assert_int_equal(symlink(f->outside, a), 0);
    zip_build(&f->zip, through, 1, false);
    assert_int_equal(kl_unzip_safe(kl_buf_bytes(&f->zip), f->dest, NULL, &n), KL_EIO);
    assert_outside_intact(f);
    assert_int_equal(unlink(a), 0);

    snprintf(a, sizeof(a), "%s/flink", f->dest);
    snprintf(b, sizeof(b), "%s/target", f->outside);
    assert_int_equal(symlink(b, a), 0);
    snprintf(a, sizeof(a), "%s/hlink", f->dest);
    assert_int_equal(link(b, a), 0);
    zip_build(&f->zip, over, 2, false);
    assert_int_equal(kl_unzip_safe(kl_buf_bytes(&f->zip), f->dest, NULL, &n), KL_OK);
    assert_int_equal(n, 2);
    assert_true(read_rel(f->dest, "flink", buf, sizeof(buf))); /* O_NOFOLLOW: a file now */
    assert_string_equal(buf, "new");
    assert_true(read_rel(f->dest, "hlink", buf, sizeof(buf)));
    assert_string_equal(buf, "new");
    assert_outside_intact(f);
}

static void
test_unzip_device_entry(void **state)
{
    fixture *f = *state;
    const zent e[] = {{"dev", 0, "x", 0, NULL}};
    size_t cd;

    zip_build(&f->zip, e, 1, false);
    cd = zip_header(&f->zip, 1, 2, 0);
    assert_int_equal(f->zip.ptr[cd + 5], 3); /* made by Unix: mode in the external attributes */
    put_le32(f->zip.ptr + cd + 38, (uint32_t)(S_IFCHR | 0600) << 16);
    expect_fail(f, NULL, KL_EPARSE);
}

static void
test_unzip_limits(void **state)
{
    fixture *f = *state;
    const zent ten[] = {
        {"1", 0, "1", 0, NULL}, {"2", 0, "2", 0, NULL}, {"3", 0, "3", 0, NULL},
        {"4", 0, "4", 0, NULL}, {"5", 0, "5", 0, NULL}, {"6", 0, "6", 0, NULL},
    };
    const zent two[] = {{"a", 0, NULL, 3000, NULL}, {"b", 0, NULL, 3000, NULL}};
    kl_unzip_limits entries = {1 << 20, 5, 1 << 20}, per = {1 << 20, 10, 2000},
                    total = {5000, 10, 4000};
    size_t n = 0;

    zip_build(&f->zip, ten, 6, false);
    expect_fail(f, &entries, KL_ETOOBIG);
    entries.max_entries = 6;
    assert_int_equal(kl_unzip_safe(kl_buf_bytes(&f->zip), f->dest, &entries, &n), KL_OK);
    assert_int_equal(n, 6);
    assert_int_equal(nftw(f->dest, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
    assert_int_equal(mkdir(f->dest, 0700), 0);
    zip_build(&f->zip, two, 2, true);
    expect_fail(f, &per, KL_ETOOBIG);
    expect_fail(f, &total, KL_ETOOBIG);
}

/* A deflate bomb whose headers lie about its size: stopped by counting */
static void
test_unzip_bomb_lying_sizes(void **state)
{
    fixture *f = *state;
    const zent e[] = {{"bomb", 0, NULL, 4u << 20, NULL}};
    kl_unzip_limits lim = {1 << 20, 10, 1 << 20};
    size_t lh = 0, cd;

    zip_build(&f->zip, e, 1, true);
    assert_true(f->zip.len < 64 * 1024); /* ratio above 64 */
    cd = zip_header(&f->zip, 1, 2, 0);
    put_le32(f->zip.ptr + cd + 24, 100);
    lh = zip_header(&f->zip, 3, 4, 0);
    if (f->zip.ptr[lh + 22] || f->zip.ptr[lh + 23])
        put_le32(f->zip.ptr + lh + 22, 100);
    expect_fail(f, &lim, KL_ETOOBIG);
}

/* Sizes above the limits in the headers fail before any data is read */
static void
test_unzip_huge_declared_size(void **state)
{
    fixture *f = *state;
    const zent e[] = {{"big", 0, "tiny", 0, NULL}};
    size_t cd, lh;
    kl_rc rc;
    size_t n = 9;

    zip_build(&f->zip, e, 1, false);
    cd = zip_header(&f->zip, 1, 2, 0);
    put_le32(f->zip.ptr + cd + 24, 0xfffffff0u);
    lh = zip_header(&f->zip, 3, 4, 0);
    put_le32(f->zip.ptr + lh + 22, 0xfffffff0u);
    rc = kl_unzip_safe(kl_buf_bytes(&f->zip), f->dest, NULL, &n);
    assert_true(rc == KL_ETOOBIG || rc == KL_EPARSE);
    assert_int_equal(n, 0);
    assert_int_equal(tree_count(f->dest), 0);
    assert_outside_intact(f);
}

/* Duplicate names: a later file replaces an earlier one; a file over a
 * directory of the same name fails */
static void
test_unzip_duplicates(void **state)
{
    fixture *f = *state;
    const zent twice[] = {{"a", 0, "first", 0, NULL}, {"a", 0, "second", 0, NULL}};
    const zent dir_then_file[] = {{"d/", AE_IFDIR, NULL, 0, NULL}, {"d", 0, "x", 0, NULL}};
    char buf[16], path[256];
    size_t n = 0;

    zip_build(&f->zip, twice, 2, false);
    assert_int_equal(kl_unzip_safe(kl_buf_bytes(&f->zip), f->dest, NULL, &n), KL_OK);
    assert_true(read_rel(f->dest, "a", buf, sizeof(buf)));
    assert_string_equal(buf, "second");
    assert_int_equal(tree_count(f->dest), 1);
    snprintf(path, sizeof(path), "%s/a", f->dest);
    assert_int_equal(unlink(path), 0);
    zip_build(&f->zip, dir_then_file, 2, false);
    expect_fail(f, NULL, KL_EIO);
}

/* An existing file is replaced (new content, mode 0600) */
static void
test_unzip_replaces_existing(void **state)
{
    fixture *f = *state;
    const zent e[] = {{"a", 0, "new", 0, NULL}};
    char path[256], buf[16];
    size_t n = 0;

    snprintf(path, sizeof(path), "%s/a", f->dest);
    write_file(path, "old content");
    assert_int_equal(chmod(path, 0644), 0);
    zip_build(&f->zip, e, 1, true);
    assert_int_equal(kl_unzip_safe(kl_buf_bytes(&f->zip), f->dest, NULL, &n), KL_OK);
    assert_true(read_rel(f->dest, "a", buf, sizeof(buf)));
    assert_string_equal(buf, "new");
    assert_mode(f->dest, "a", 0600);
}

static void
test_unzip_damaged(void **state)
{
    fixture *f = *state;
    const zent e[] = {{"a", 0, "some content that is long enough", 0, NULL}};
    size_t n = 0, cd;
    kl_buf good;

    kl_buf_free(&f->zip);
    kl_buf_init(&f->zip, 1024);
    expect_fail(f, NULL, KL_EPARSE); /* empty */
    assert_int_equal(kl_buf_append_str(&f->zip, "this is not a zip file at all"), KL_OK);
    expect_fail(f, NULL, KL_EPARSE);
    /* truncated */
    pt_read("payload/payload_plain.zip", &good);
    kl_buf_reset(&f->zip);
    assert_int_equal(kl_buf_append(&f->zip, good.ptr, good.len - 30), KL_OK);
    expect_fail(f, NULL, KL_EPARSE);
    kl_buf_free(&good);
    /* data damaged: CRC mismatch */
    zip_build(&f->zip, e, 1, true);
    cd = zip_header(&f->zip, 1, 2, 0);
    f->zip.ptr[cd + 16] ^= 0xff;
    expect_fail(f, NULL, KL_EPARSE);
    assert_int_equal(kl_unzip_safe(kl_buf_bytes(&f->zip), "/nonexistent/dir", NULL, &n),
                     KL_ENOTFOUND);
}

/* Zip64: libarchive's zip64 end records, and Info-ZIP's saturated
 * central-directory size with the real one in the zip64 extra field. */
static void
test_unzip_zip64(void **state)
{
    fixture *f = *state;
    const zent e[] = {{"d/f.txt", 0, "zip64 content", 0, NULL}};
    char buf[32];
    size_t n = 0;

    zip_build_opts(&f->zip, e, 1, "zip:compression=deflate,zip:zip64");
    (void)zip_header(&f->zip, 6, 6, 0); /* the zip64 end of central directory is there */
    assert_int_equal(kl_unzip_safe(kl_buf_bytes(&f->zip), f->dest, NULL, &n), KL_OK);
    assert_int_equal(n, 1);
    assert_true(read_rel(f->dest, "d/f.txt", buf, sizeof(buf)));
    assert_string_equal(buf, "zip64 content");
    kl_buf_free(&f->zip);
    pt_read("payload/zip64_infozip.zip", &f->zip);
    assert_int_equal(f->zip.ptr[zip_header(&f->zip, 1, 2, 0) + 24], 0xff); /* saturated */
    assert_int_equal(kl_unzip_safe(kl_buf_bytes(&f->zip), f->dest, NULL, &n), KL_OK);
    assert_true(read_rel(f->dest, "h.txt", buf, sizeof(buf)));
    assert_string_equal(buf, "hello zip64\n");
}

/* Refused: an unsupported compression method, names that differ between
 * the central directory and the local header, a NUL byte in a name, and
 * the encrypted flag. */
static void
test_unzip_refused_headers(void **state)
{
    fixture *f = *state;
    const zent e[] = {{"ok.txt", 0, "fine", 0, NULL}, {"abc", 0, "data", 0, NULL}};
    size_t cd, lh;

    zip_build(&f->zip, e, 2, true);
    f->zip.ptr[zip_header(&f->zip, 1, 2, 1) + 10] = 12; /* bzip2 */
    expect_fail(f, NULL, KL_EPARSE);
    zip_build(&f->zip, e, 2, true);
    f->zip.ptr[zip_header(&f->zip, 3, 4, 1) + 30] = 'x'; /* local name "xbc" */
    expect_fail(f, NULL, KL_EPARSE);
    zip_build(&f->zip, e, 2, true);
    cd = zip_header(&f->zip, 1, 2, 1);
    lh = zip_header(&f->zip, 3, 4, 1);
    f->zip.ptr[cd + 46 + 1] = 0;
    f->zip.ptr[lh + 30 + 1] = 0;
    expect_fail(f, NULL, KL_EPARSE);
    zip_build(&f->zip, e, 2, true);
    f->zip.ptr[zip_header(&f->zip, 1, 2, 1) + 8] |= 1;
    expect_fail(f, NULL, KL_EPARSE);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_unzip_vector_payloads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unzip_nested_dirs_and_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unzip_bad_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unzip_symlink_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unzip_existing_links, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unzip_device_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unzip_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unzip_bomb_lying_sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unzip_huge_declared_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unzip_duplicates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unzip_replaces_existing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unzip_damaged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unzip_zip64, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unzip_refused_headers, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
