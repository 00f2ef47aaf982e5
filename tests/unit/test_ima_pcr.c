/* kl_ima_pcr: extend and boot_aggregate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "ima/ima_pcr.h"
#include "util/kl_hex.h"

static void
test_ima_pcr_boot_aggregate(void **state)
{
    uint8_t pcrs[10 * 32] = {0}, out[32];
    char hex[65];

    (void)state;
    /* swtpm without firmware: ten zero sha256 PCRs (vector ima/swtpm) */
    assert_int_equal(kl_ima_boot_aggregate(KL_HASH_SHA256, pcrs, 10, out), KL_OK);
    kl_hex_encode(hex, out, 32);
    assert_string_equal(hex, "7b6436b0c98f62380866d9432c2af0ee08ce16a171bda6951aecd95ee1307d61");
}

static void
test_ima_pcr_extend(void **state)
{
    uint8_t pcr[20] = {0}, d[20];
    kl_hasher *h = NULL;
    char hex[41];

    (void)state;
    /* the first line of ima/swtpm: template hash 6bdad7ef... into zero */
    assert_true(kl_hex_decode(d, KL_BYTES_STR("6bdad7efa602f84ca31ffe3f11ff7c476e25dcdd")));
    assert_int_equal(kl_hasher_new(&h), KL_OK);
    assert_int_equal(kl_ima_pcr_extend(h, KL_HASH_SHA1, pcr, d), KL_OK);
    kl_hex_encode(hex, pcr, 20);
    {
        uint8_t cat[40] = {0}, want[20];
        char whex[41];

        memcpy(cat + 20, d, 20);
        assert_int_equal(kl_hash(KL_HASH_SHA1, cat, 40, want), KL_OK);
        kl_hex_encode(whex, want, 20);
        assert_string_equal(hex, whex);
    }
    kl_hasher_free(h);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ima_pcr_boot_aggregate),
        cmocka_unit_test(test_ima_pcr_extend),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
