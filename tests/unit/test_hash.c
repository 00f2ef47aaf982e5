/* Unit tests for crypto/hash: names, sizes, known-answer digests for every
 * algorithm, incremental and two-part hashing, files. */
/* cmocka.h needs the standard headers before it: keep this order */
/* clang-format off */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "crypto/hash.h"
#include "util/kl_alloc.h"
#include "util/kl_hex.h"
/* clang-format on */

static int
reset_alloc(void **state)
{
    (void)state;
    kl_alloc_fail_at(0);
    return 0;
}

/* Digests of "abc" (FIPS 180-4 / GB/T 32905 / RFC 1321 examples). */
static const char *const abc[KL_HASH_COUNT] = {
    [KL_HASH_SHA1] = "a9993e364706816aba3e25717850c26c9cd0d89d",
    [KL_HASH_SHA256] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    [KL_HASH_SHA384] = "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
                       "8086072ba1e7cc2358baeca134c825a7",
    [KL_HASH_SHA512] = "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                       "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
    [KL_HASH_SM3_256] = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0",
    [KL_HASH_SHA224] = "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7",
    [KL_HASH_MD5] = "900150983cd24fb0d6963f7d28e17f72",
};

static void
hex_of(char *out, const uint8_t *d, kl_hash_alg alg)
{
    kl_hex_encode(out, d, kl_hash_size(alg));
}

static void
test_hash_names_and_sizes(void **state)
{
    static const struct {
        kl_hash_alg alg;
        const char *name;
        size_t size;
    } t[] = {
        {KL_HASH_SHA1, "sha1", 20},       {KL_HASH_SHA256, "sha256", 32},
        {KL_HASH_SHA384, "sha384", 48},   {KL_HASH_SHA512, "sha512", 64},
        {KL_HASH_SM3_256, "sm3_256", 32}, {KL_HASH_SHA224, "sha224", 28},
        {KL_HASH_MD5, "md5", 16},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        kl_hash_alg got = KL_HASH_COUNT;

        assert_string_equal(kl_hash_name(t[i].alg), t[i].name);
        assert_int_equal(kl_hash_size(t[i].alg), t[i].size);
        assert_true(kl_hash_size(t[i].alg) <= KL_HASH_MAX_SIZE);
        assert_true(kl_hash_from_name(KL_BYTES(t[i].name, strlen(t[i].name)), &got));
        assert_int_equal(got, t[i].alg);
    }
    assert_int_equal(kl_hash_size(KL_HASH_COUNT), 0);
    assert_string_equal(kl_hash_name(KL_HASH_COUNT), "unknown");
    assert_string_equal(kl_hash_name((kl_hash_alg)-1), "unknown");
}

static void
test_hash_from_name_rejects(void **state)
{
    static const char *const bad[] = {"", "SHA256", "sha-256", "sha256 ", "sm3", "sha", "sha2560"};
    kl_hash_alg got = KL_HASH_MD5;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(kl_hash_from_name(KL_BYTES(bad[i], strlen(bad[i])), &got));
    assert_int_equal(got, KL_HASH_MD5);
    /* a view that is a prefix of a longer buffer */
    assert_true(kl_hash_from_name(KL_BYTES("sha1:abcd", 4), &got));
    assert_int_equal(got, KL_HASH_SHA1);
}

static void
test_hash_from_size(void **state)
{
    kl_hash_alg got = KL_HASH_MD5;

    (void)state;
    assert_true(kl_hash_from_size(20, &got));
    assert_int_equal(got, KL_HASH_SHA1);
    /* 32 bytes is sha256 (sm3_256 is never guessed from a size) */
    assert_true(kl_hash_from_size(32, &got));
    assert_int_equal(got, KL_HASH_SHA256);
    assert_true(kl_hash_from_size(48, &got));
    assert_int_equal(got, KL_HASH_SHA384);
    assert_true(kl_hash_from_size(64, &got));
    assert_int_equal(got, KL_HASH_SHA512);
    got = KL_HASH_MD5;
    assert_false(kl_hash_from_size(16, &got));
    assert_false(kl_hash_from_size(28, &got));
    assert_false(kl_hash_from_size(0, &got));
    assert_false(kl_hash_from_size(31, &got));
    assert_int_equal(got, KL_HASH_MD5);
}

static void
test_hash_known_answers(void **state)
{
    (void)state;
    for (int a = 0; a < KL_HASH_COUNT; a++) {
        uint8_t d[KL_HASH_MAX_SIZE];
        char hex[2 * KL_HASH_MAX_SIZE + 1];

        assert_int_equal(kl_hash((kl_hash_alg)a, "abc", 3, d), KL_OK);
        hex_of(hex, d, (kl_hash_alg)a);
        assert_string_equal(hex, abc[a]);
    }
}

static void
test_hash_empty_input(void **state)
{
    uint8_t d[KL_HASH_MAX_SIZE];
    char hex[2 * KL_HASH_MAX_SIZE + 1];

    (void)state;
    assert_int_equal(kl_hash(KL_HASH_SHA256, NULL, 0, d), KL_OK);
    hex_of(hex, d, KL_HASH_SHA256);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_int_equal(kl_hash(KL_HASH_SHA1, "", 0, d), KL_OK);
    hex_of(hex, d, KL_HASH_SHA1);
    assert_string_equal(hex, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

static void
test_hash_unknown_alg(void **state)
{
    uint8_t d[KL_HASH_MAX_SIZE];
    kl_hasher *h = NULL;

    (void)state;
    assert_int_equal(kl_hash(KL_HASH_COUNT, "abc", 3, d), KL_EUNSUPPORTED);
    assert_string_equal(kl_err_msg(), "hash algorithm unknown is not available in OpenSSL");
    assert_int_equal(kl_hasher_new(&h), KL_OK);
    assert_int_equal(kl_hasher_start(h, (kl_hash_alg)99), KL_EUNSUPPORTED);
    /* the hasher is still usable afterwards */
    assert_int_equal(kl_hasher_digest(h, KL_HASH_MD5, "abc", 3, d), KL_OK);
    assert_memory_equal(d, "\x90\x01\x50\x98\x3c\xd2\x4f\xb0", 8);
    kl_hasher_free(h);
}

static void
test_hash_hasher_reuse(void **state)
{
    kl_hasher *h = NULL;

    (void)state;
    assert_int_equal(kl_hasher_new(&h), KL_OK);
    assert_non_null(h);
    /* one context, every algorithm, twice over */
    for (int round = 0; round < 2; round++) {
        for (int a = KL_HASH_COUNT - 1; a >= 0; a--) {
            uint8_t d[KL_HASH_MAX_SIZE];
            char hex[2 * KL_HASH_MAX_SIZE + 1];

            assert_int_equal(kl_hasher_digest(h, (kl_hash_alg)a, "abc", 3, d), KL_OK);
            hex_of(hex, d, (kl_hash_alg)a);
            assert_string_equal(hex, abc[a]);
        }
    }
    kl_hasher_free(h);
    kl_hasher_free(NULL);
}

static void
test_hash_incremental(void **state)
{
    const char *msg = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    uint8_t d[KL_HASH_MAX_SIZE];
    char hex[2 * KL_HASH_MAX_SIZE + 1];
    kl_hasher *h = NULL;

    (void)state;
    assert_int_equal(kl_hasher_new(&h), KL_OK);
    assert_int_equal(kl_hasher_start(h, KL_HASH_SHA256), KL_OK);
    for (size_t i = 0; i < strlen(msg); i += 5)
        assert_int_equal(kl_hasher_update(h, msg + i, strlen(msg) - i < 5 ? strlen(msg) - i : 5),
                         KL_OK);
    assert_int_equal(kl_hasher_update(h, NULL, 0), KL_OK);
    assert_int_equal(kl_hasher_finish(h, d), KL_OK);
    hex_of(hex, d, KL_HASH_SHA256);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    kl_hasher_free(h);
}

static void
test_hash_digest2_is_concatenation(void **state)
{
    uint8_t zero[32] = {0}, m[32], d[KL_HASH_MAX_SIZE], e[KL_HASH_MAX_SIZE];
    uint8_t cat[64];
    char hex[2 * KL_HASH_MAX_SIZE + 1];
    kl_hasher *h = NULL;

    (void)state;
    assert_int_equal(kl_hasher_new(&h), KL_OK);
    /* a PCR extend of an all-zero PCR with sha256("abc") */
    assert_true(kl_hex_decode(m, KL_BYTES(abc[KL_HASH_SHA256], 64)));
    assert_int_equal(kl_hasher_digest2(h, KL_HASH_SHA256, zero, 32, m, 32, d), KL_OK);
    memcpy(cat, zero, 32);
    memcpy(cat + 32, m, 32);
    assert_int_equal(kl_hash(KL_HASH_SHA256, cat, 64, e), KL_OK);
    assert_memory_equal(d, e, 32);
    hex_of(hex, d, KL_HASH_SHA256);
    assert_string_equal(hex, "589f9ffed4c477966bfb8d41f37895b08c69047df8f911d6f3b57fbe08faee8d");
    /* the second part may be empty */
    assert_int_equal(kl_hasher_digest2(h, KL_HASH_SHA1, "ab", 2, "c", 0, d), KL_OK);
    assert_int_equal(kl_hash(KL_HASH_SHA1, "ab", 2, e), KL_OK);
    assert_memory_equal(d, e, 20);
    assert_int_equal(kl_hasher_digest2(h, KL_HASH_SHA1, "ab", 2, "c", 1, d), KL_OK);
    hex_of(hex, d, KL_HASH_SHA1);
    assert_string_equal(hex, abc[KL_HASH_SHA1]);
    kl_hasher_free(h);
}

static void
test_hash_file(void **state)
{
    char path[] = "/tmp/kl_hash_test.XXXXXX";
    uint8_t *big = kl_malloc(200000);
    uint8_t d[KL_HASH_MAX_SIZE], e[KL_HASH_MAX_SIZE];
    int fd;

    (void)state;
    assert_non_null(big);
    for (size_t i = 0; i < 200000; i++)
        big[i] = (uint8_t)(i * 131 + 7);
    fd = mkstemp(path);
    assert_true(fd >= 0);
    /* longer than one 64 KiB read chunk */
    assert_int_equal(write(fd, big, 200000), 200000);
    close(fd);
    assert_int_equal(kl_hash_file(KL_HASH_SHA384, path, d), KL_OK);
    assert_int_equal(kl_hash(KL_HASH_SHA384, big, 200000, e), KL_OK);
    assert_memory_equal(d, e, 48);

    fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "abc", 3), 3);
    close(fd);
    assert_int_equal(kl_hash_file(KL_HASH_SHA1, path, d), KL_OK);
    assert_true(kl_hex_decode(e, KL_BYTES(abc[KL_HASH_SHA1], 40)));
    assert_memory_equal(d, e, 20);
    unlink(path);
    kl_free(big);
}

static void
test_hash_file_errors(void **state)
{
    char dir[] = "/tmp/kl_hash_dir.XXXXXX";
    char target[64], link_path[64], expect[200];
    uint8_t d[KL_HASH_MAX_SIZE];
    int fd;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(target, sizeof(target), "%s/t", dir);
    snprintf(link_path, sizeof(link_path), "%s/l", dir);
    assert_int_equal(kl_hash_file(KL_HASH_SHA256, target, d), KL_EIO);
    snprintf(expect, sizeof(expect), "cannot open %s: No such file or directory", target);
    assert_string_equal(kl_err_msg(), expect);

    fd = open(target, O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    close(fd);
    /* symbolic links are not followed */
    assert_int_equal(symlink(target, link_path), 0);
    assert_int_equal(kl_hash_file(KL_HASH_SHA256, link_path, d), KL_EIO);
    assert_int_equal(kl_hash_file(KL_HASH_SHA256, target, d), KL_OK);
    assert_memory_equal(d, "\xe3\xb0\xc4\x42\x98\xfc\x1c\x14", 8);
    /* a directory opens but cannot be read */
    assert_int_equal(kl_hash_file(KL_HASH_SHA256, dir, d), KL_EIO);
    snprintf(expect, sizeof(expect), "reading %s: Is a directory", dir);
    assert_string_equal(kl_err_msg(), expect);
    /* an unknown algorithm fails before the file is opened */
    assert_int_equal(kl_hash_file(KL_HASH_COUNT, target, d), KL_EUNSUPPORTED);
    unlink(link_path);
    unlink(target);
    rmdir(dir);
}

static void
test_hash_enomem(void **state)
{
    uint8_t d[KL_HASH_MAX_SIZE];
    kl_hasher *h = (kl_hasher *)1;

    (void)state;
    kl_alloc_fail_at(1);
    assert_int_equal(kl_hasher_new(&h), KL_ENOMEM);
    assert_null(h);
    assert_int_equal(kl_hash(KL_HASH_SHA256, "abc", 3, d), KL_ENOMEM);
    assert_int_equal(kl_hash_file(KL_HASH_SHA256, "/dev/null", d), KL_ENOMEM);
    kl_alloc_fail_at(0);
    assert_int_equal(kl_hash_file(KL_HASH_SHA256, "/dev/null", d), KL_OK);
    assert_memory_equal(d, "\xe3\xb0\xc4\x42\x98\xfc\x1c\x14", 8);
}

#define T(f) cmocka_unit_test_teardown(f, reset_alloc)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_hash_names_and_sizes),
        T(test_hash_from_name_rejects),
        T(test_hash_from_size),
        T(test_hash_known_answers),
        T(test_hash_empty_input),
        T(test_hash_unknown_alg),
        T(test_hash_hasher_reuse),
        T(test_hash_incremental),
        T(test_hash_digest2_is_concatenation),
        T(test_hash_file),
        T(test_hash_file_errors),
        T(test_hash_enomem),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
