/* kl_digest_map: lookups, duplicates, text digests, memory per entry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "policy/digest_map.h"
#include "util/kl_hex.h"

#define H40 "0123456789abcdef0123456789abcdef01234567"
#define H64 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define H128 H64 H64

static void
test_digest_map_lookup(void **state)
{
    kl_digest_map *m = NULL;
    kl_digest_list l;
    uint8_t d[64];
    kl_buf hex;

    (void)state;
    assert_int_equal(kl_digest_map_new(&m), KL_OK);
    assert_int_equal(kl_digest_map_begin(m, KL_BYTES_STR("/a")), KL_OK);
    assert_int_equal(kl_digest_map_add_hex(m, KL_BYTES_STR(H40), NULL), KL_OK);
    assert_int_equal(kl_digest_map_add_hex(m, KL_BYTES_STR(H128), NULL), KL_OK);
    assert_int_equal(kl_digest_map_begin(m, KL_BYTES_STR("/b")), KL_OK);
    assert_int_equal(kl_digest_map_add_hex(m, KL_BYTES_STR(H64), NULL), KL_OK);
    assert_int_equal(kl_digest_map_seal(m), KL_OK);
    assert_int_equal(kl_digest_map_names(m), 2);
    assert_int_equal(kl_digest_map_digests(m), 3);
    assert_true(kl_digest_map_get(m, KL_BYTES_STR("/a"), &l));
    assert_int_equal(l.count, 2);
    assert_true(kl_hex_decode(d, KL_BYTES_STR(H128)));
    assert_true(kl_digest_list_contains(&l, KL_BYTES(d, 64)));
    assert_false(kl_digest_list_contains(&l, KL_BYTES(d, 32)));
    kl_buf_init(&hex, 1024);
    assert_int_equal(kl_digest_list_hex(&l, 1, &hex), KL_OK);
    assert_true(kl_bytes_eq_str(kl_buf_bytes(&hex), H128));
    assert_int_equal(kl_digest_list_hex(&l, 2, &hex), KL_EINVAL);
    assert_false(kl_digest_map_get(m, KL_BYTES_STR("/c"), &l));
    assert_false(kl_digest_map_get(m, KL_BYTES_STR("/a "), &l));
    kl_buf_free(&hex);
    kl_digest_map_free(m);
}

/* As a JSON object read by Python: the last list for a name wins. */
static void
test_digest_map_duplicates(void **state)
{
    kl_digest_map *m = NULL;
    kl_digest_list l;
    kl_buf hex;

    (void)state;
    assert_int_equal(kl_digest_map_new(&m), KL_OK);
    assert_int_equal(kl_digest_map_begin(m, KL_BYTES_STR("/a")), KL_OK);
    assert_int_equal(kl_digest_map_add_hex(m, KL_BYTES_STR(H40), NULL), KL_OK);
    assert_int_equal(kl_digest_map_add_hex(m, KL_BYTES_STR(H40), NULL), KL_OK);
    assert_int_equal(kl_digest_map_begin(m, KL_BYTES_STR("/a")), KL_OK);
    assert_int_equal(kl_digest_map_add_hex(m, KL_BYTES_STR(H64), NULL), KL_OK);
    assert_int_equal(kl_digest_map_seal(m), KL_OK);
    assert_int_equal(kl_digest_map_names(m), 1);
    assert_int_equal(kl_digest_map_digests(m), 1);
    assert_true(kl_digest_map_get(m, KL_BYTES_STR("/a"), &l));
    kl_buf_init(&hex, 1024);
    assert_int_equal(kl_digest_list_hex(&l, 0, &hex), KL_OK);
    assert_true(kl_bytes_eq_str(kl_buf_bytes(&hex), H64));
    kl_buf_free(&hex);
    kl_digest_map_free(m);
}

/* Odd-length or upper-case values are kept as text and never match. */
static void
test_digest_map_text(void **state)
{
    kl_digest_map *m = NULL;
    kl_digest_list l;
    uint8_t d[20];
    kl_buf hex;

    (void)state;
    assert_int_equal(kl_digest_map_new(&m), KL_OK);
    assert_int_equal(kl_digest_map_begin(m, KL_BYTES_STR("/a")), KL_OK);
    assert_int_equal(kl_digest_map_add_hex(m, KL_BYTES_STR(H40 "0"), NULL), KL_OK);
    assert_int_equal(kl_digest_map_add_hex(m, KL_BYTES_STR("0123456789ABCDEF0123456789abcdef01234567"), NULL),
                     KL_OK);
    assert_int_equal(kl_digest_map_add_hex(m, KL_BYTES_STR(""), NULL), KL_EINVAL);
    assert_int_equal(kl_digest_map_seal(m), KL_OK);
    assert_true(kl_digest_map_get(m, KL_BYTES_STR("/a"), &l));
    assert_true(kl_hex_decode(d, KL_BYTES_STR(H40)));
    assert_false(kl_digest_list_contains(&l, KL_BYTES(d, 20)));
    kl_buf_init(&hex, 1024);
    assert_int_equal(kl_digest_list_hex(&l, 0, &hex), KL_OK);
    assert_true(kl_bytes_eq_str(kl_buf_bytes(&hex), H40 "0"));
    kl_buf_free(&hex);
    kl_digest_map_free(m);
}

/* 100,000 names with one sha256 digest each stay near 100 bytes a name. */
static void
test_digest_map_memory(void **state)
{
    kl_digest_map *m = NULL;
    kl_digest_list l;
    char name[64];

    (void)state;
    assert_int_equal(kl_digest_map_new(&m), KL_OK);
    for (int i = 0; i < 100000; i++) {
        snprintf(name, sizeof(name), "/usr/lib/x86_64-linux-gnu/lib%06d.so", i);
        assert_int_equal(kl_digest_map_begin(m, KL_BYTES(name, strlen(name))), KL_OK);
        assert_int_equal(kl_digest_map_add_hex(m, KL_BYTES_STR(H64), NULL), KL_OK);
    }
    assert_int_equal(kl_digest_map_seal(m), KL_OK);
    assert_int_equal(kl_digest_map_names(m), 100000);
    assert_true(kl_digest_map_get(m, KL_BYTES_STR("/usr/lib/x86_64-linux-gnu/lib099999.so"), &l));
    assert_true(kl_digest_map_memory(m) < 100000 * 160);
    kl_digest_map_free(m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_digest_map_lookup),
        cmocka_unit_test(test_digest_map_duplicates),
        cmocka_unit_test(test_digest_map_text),
        cmocka_unit_test(test_digest_map_memory),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
