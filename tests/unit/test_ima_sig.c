/* kl_ima_sig: signature_v2_hdr parsing and kernel hash ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "ima/ima_sig.h"

static void
test_ima_sig_parse(void **state)
{
    kl_ima_sig s;

    (void)state;
    assert_true(kl_ima_sig_parse(KL_BYTES_STR("\x03\x02\x04\xf3\x45\x2d\x23\x00\x02\xab\xcd"), &s));
    assert_int_equal(s.type, 3);
    assert_int_equal(s.version, 2);
    assert_int_equal(s.hash_algo, 4);
    assert_int_equal(s.keyid, 0xf3452d23);
    assert_int_equal(s.sig.len, 2);
    assert_true(kl_ima_sig_parse(KL_BYTES_STR("\x03\x02\x04\0\0\0\0\0\0"), &s));
    assert_int_equal(s.sig.len, 0);
    /* size field disagreeing with the data, short header */
    assert_false(kl_ima_sig_parse(KL_BYTES_STR("\x03\x02\x04\0\0\0\0\0\x03\xab"), &s));
    assert_false(kl_ima_sig_parse(KL_BYTES_STR("\x03\x02\x04\0\0\0\0\0\x00\xab"), &s));
    assert_false(kl_ima_sig_parse(KL_BYTES_STR("\x03\x02"), &s));
}

static void
test_ima_sig_hash_alg(void **state)
{
    kl_hash_alg a;

    (void)state;
    assert_true(kl_ima_sig_hash_alg(2, &a) && a == KL_HASH_SHA1);
    assert_true(kl_ima_sig_hash_alg(4, &a) && a == KL_HASH_SHA256);
    assert_true(kl_ima_sig_hash_alg(5, &a) && a == KL_HASH_SHA384);
    assert_true(kl_ima_sig_hash_alg(6, &a) && a == KL_HASH_SHA512);
    assert_true(kl_ima_sig_hash_alg(7, &a) && a == KL_HASH_SHA224);
    assert_true(kl_ima_sig_hash_alg(1, &a) && a == KL_HASH_MD5);
    assert_false(kl_ima_sig_hash_alg(18, &a));
    assert_false(kl_ima_sig_hash_alg(0, &a));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ima_sig_parse),
        cmocka_unit_test(test_ima_sig_hash_alg),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
