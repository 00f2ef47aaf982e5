/* kl_ima_keyrings: keyring JSON, key ids, signature checks with the keys
 * of upstream's IMA signature tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ima/ima_ascii.h"
#include "ima/ima_keyring.h"
#include "util/kl_file.h"

static void
read_data(const char *rel, kl_buf *out)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/%s", getenv("KL_TEST_DATA"), rel);
    kl_buf_init(out, 1 << 20);
    assert_int_equal(kl_file_read(path, out), KL_OK);
}

/* keyrings.json parses and serialises back to the identical text. */
static void
test_ima_keyring_round_trip(void **state)
{
    kl_ima_keyrings *kr = NULL;
    kl_buf text, out;

    (void)state;
    read_data("ima/inline/keyrings.json", &text);
    assert_int_equal(kl_ima_keyrings_new(&kr), KL_OK);
    assert_int_equal(kl_ima_keyrings_set_tenant(kr, kl_buf_bytes(&text)), KL_OK);
    assert_non_null(kl_ima_keyrings_find(kr, 4081397027u));
    assert_non_null(kl_ima_keyrings_find(kr, 1394556965u));
    assert_null(kl_ima_keyrings_find(kr, 1));
    kl_buf_init(&out, 1 << 20);
    assert_int_equal(kl_ima_keyrings_dump(kr, KL_IMA_TENANT_KEYRING, &out), KL_OK);
    assert_true(kl_bytes_eq(kl_buf_bytes(&out), kl_buf_bytes(&text)));
    assert_int_equal(kl_ima_keyrings_dump(kr, ".ima", &out), KL_ENOTFOUND);
    /* an empty text removes the tenant keyring */
    assert_int_equal(kl_ima_keyrings_set_tenant(kr, KL_BYTES("", 0)), KL_OK);
    assert_null(kl_ima_keyrings_find(kr, 4081397027u));
    kl_ima_keyrings_free(kr);
    kl_buf_free(&text);
    kl_buf_free(&out);
}

static void
test_ima_keyring_schema(void **state)
{
    kl_ima_keyrings *kr = NULL;
    kl_buf text;

    (void)state;
    read_data("ima/inline/keyrings_bad_missing_keyids.json", &text);
    assert_int_equal(kl_ima_keyring_check(kl_buf_bytes(&text)), KL_EPARSE);
    assert_string_equal(kl_err_msg(), "IMA keyring: \"keyids\" is missing or not a list");
    assert_int_equal(kl_ima_keyring_check(KL_BYTES_STR("[1]")), KL_EPARSE);
    assert_int_equal(kl_ima_keyring_check(KL_BYTES_STR("{\"keyids\": [\"1\"], \"pubkeys\": []}")),
                     KL_EPARSE);
    assert_string_equal(kl_err_msg(), "IMA keyring: keyids[0] is not an integer");
    assert_int_equal(kl_ima_keyring_check(KL_BYTES_STR(
                         "{\"keyids\": [], \"pubkeys\": [], \"meta\": {\"version\": 0}}")),
                     KL_EPARSE);
    /* double-encoded, as stored in upstream's database */
    assert_int_equal(kl_ima_keyring_check(KL_BYTES_STR("\"{\\\"keyids\\\": [], \\\"pubkeys\\\": []}\"")),
                     KL_OK);
    /* not base64: refused; not a key: skipped */
    assert_int_equal(kl_ima_keyrings_new(&kr), KL_OK);
    assert_int_equal(kl_ima_keyrings_set_tenant(kr, KL_BYTES_STR(
                         "{\"keyids\": [], \"pubkeys\": [\"!!!!\"]}")), KL_EPARSE);
    assert_int_equal(kl_ima_keyrings_set_tenant(kr, KL_BYTES_STR(
                         "{\"keyids\": [7], \"pubkeys\": [\"AAAA\"]}")), KL_OK);
    assert_null(kl_ima_keyrings_find(kr, 7));
    kl_ima_keyrings_free(kr);
    kl_buf_free(&text);
}

/* The signed lines of upstream's tests: dd is RSA, zmore is ECDSA. */
static void
test_ima_keyring_verify(void **state)
{
    kl_ima_keyrings *kr = NULL;
    kl_ima_ascii p;
    kl_ima_entry e;
    kl_buf text, keys;
    bool more, ok;

    (void)state;
    read_data("ima/inline/keyrings.json", &keys);
    read_data("ima/inline/ima_sig_signed.txt", &text);
    assert_int_equal(kl_ima_keyrings_new(&kr), KL_OK);
    assert_int_equal(kl_ima_keyrings_set_tenant(kr, kl_buf_bytes(&keys)), KL_OK);
    kl_ima_ascii_init(&p, kl_buf_bytes(&text));
    for (int i = 0; i < 2; i++) {
        assert_int_equal(kl_ima_ascii_next(&p, &e, &more), KL_OK);
        assert_true(more && e.has_sig);
        assert_int_equal(kl_ima_keyrings_verify(kr, e.sig, e.digest, e.digest_alg, &ok), KL_OK);
        assert_true(ok);
        /* wrong digest algorithm name, other digest */
        assert_int_equal(kl_ima_keyrings_verify(kr, e.sig, e.digest, KL_BYTES_STR("sha1"), &ok),
                         KL_OK);
        assert_false(ok);
        assert_int_equal(kl_ima_keyrings_verify(kr, e.sig, KL_BYTES(e.sig.ptr, 32), e.digest_alg,
                                                &ok),
                         KL_OK);
        assert_false(ok);
    }
    kl_ima_ascii_free(&p);
    kl_ima_keyrings_free(kr);
    kl_buf_free(&keys);
    kl_buf_free(&text);
}

/* Adding a key id again replaces the key; key ids default to the IMA id. */
static void
test_ima_keyring_add(void **state)
{
    kl_ima_keyrings *kr = NULL;
    kl_pubkey *rsa = NULL, *ec = NULL;
    kl_buf pem;

    (void)state;
    read_data("ima/keys/rsa2048pub.pem", &pem);
    assert_int_equal(kl_pubkey_load_any(&rsa, kl_buf_bytes(&pem), NULL, NULL), KL_OK);
    kl_buf_free(&pem);
    read_data("ima/keys/secp256k1.pem", &pem);
    assert_int_equal(kl_pubkey_load_any(&ec, kl_buf_bytes(&pem), NULL, NULL), KL_OK);
    kl_buf_free(&pem);
    assert_int_equal(kl_ima_keyrings_new(&kr), KL_OK);
    assert_int_equal(kl_ima_keyrings_add(kr, KL_BYTES_STR(".ima"), rsa, false, 0), KL_OK);
    assert_ptr_equal(kl_ima_keyrings_find(kr, 0xf3452d23), rsa);
    assert_int_equal(kl_ima_keyrings_add(kr, KL_BYTES_STR(".ima"), ec, true, 0xf3452d23), KL_OK);
    assert_ptr_equal(kl_ima_keyrings_find(kr, 0xf3452d23), ec);
    assert_int_equal(kl_ima_keyrings_add(kr, KL_BYTES_STR(".evm"), ec, false, 0), KL_OK);
    assert_ptr_equal(kl_ima_keyrings_find(kr, 0x531f4025), ec);
    kl_pubkey_free(rsa);
    kl_pubkey_free(ec);
    kl_ima_keyrings_free(kr);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ima_keyring_round_trip),
        cmocka_unit_test(test_ima_keyring_schema),
        cmocka_unit_test(test_ima_keyring_verify),
        cmocka_unit_test(test_ima_keyring_add),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
