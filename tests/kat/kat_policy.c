/* Known answers for runtime policies: tests/data/expected/
 * runtime_policy_signatures.json (DSSE envelopes that must verify or not,
 * checksums, content of the upstream test policy). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "kat_util.h"
#include "policy/dsse.h"
#include "policy/runtime_policy.h"
#include "util/kl_alloc.h"
#include "util/kl_hex.h"

static json_t *spec;

/* upstream's test policy has a "sha256:"-prefixed boot_aggregate digest,
 * which its schema (and the verifier) rejects; the checksum and content
 * cases are about reading, so they load without the schema. */
static const kl_runtime_policy_opts lenient = {false, NULL, false};

static kl_pubkey *
load_key(const char *rel)
{
    kl_pubkey *k = NULL;
    kl_buf pem;

    kat_read(rel, &pem);
    assert_int_equal(kl_pubkey_load_pem(&k, kl_buf_bytes(&pem)), KL_OK);
    kl_buf_free(&pem);
    return k;
}

static void
test_kat_policy_dsse(void **state)
{
    size_t i;
    json_t *c;

    (void)state;
    json_array_foreach(json_object_get(spec, "dsse"), i, c) {
        const char *env = json_string_value(json_object_get(c, "envelope"));
        const char *expect = json_string_value(json_object_get(c, "expected"));
        kl_runtime_policy_opts o = KL_RUNTIME_POLICY_OPTS_INIT;
        kl_pubkey *key = load_key(json_string_value(json_object_get(c, "key")));
        kl_runtime_policy *p = NULL;
        kl_buf text, payload;
        bool checked;
        kl_rc rc;

        o.dsse_key = key;
        o.require_signature = true;
        o.schema = false;
        kat_read(env, &text);
        rc = kl_runtime_policy_load(&p, kl_buf_bytes(&text), &o);
        if (strncmp(expect, "valid", 5) == 0) {
            if (rc != KL_OK)
                fail_msg("%s: %s", env, kl_err_msg());
            assert_int_equal(kl_runtime_policy_sig_state(p), KL_POLICY_SIG_VERIFIED);
        } else {
            assert_int_equal(rc, KL_EVERIFY);
            assert_non_null(strstr(kl_err_msg(), "DSSE signature verification"));
        }
        if (json_object_get(c, "payload_equals")) {
            kl_buf want;

            kat_read(json_string_value(json_object_get(c, "payload_equals")), &want);
            kl_buf_init(&payload, 1 << 24);
            assert_int_equal(kl_dsse_open(kl_buf_bytes(&text), key, &payload, &checked), KL_OK);
            assert_true(checked);
            assert_true(kl_bytes_eq(kl_buf_bytes(&payload), kl_buf_bytes(&want)));
            kl_buf_free(&want);
            kl_buf_free(&payload);
        }
        kl_runtime_policy_free(p);
        kl_pubkey_free(key);
        kl_buf_free(&text);
    }
}

/* Without a key an ECDSA envelope loads unchecked (upstream's default);
 * with require_signature it is refused. */
static void
test_kat_policy_dsse_without_key(void **state)
{
    kl_runtime_policy_opts o = KL_RUNTIME_POLICY_OPTS_INIT;
    kl_runtime_policy *p = NULL;
    kl_buf text;

    (void)state;
    o.schema = false;
    kat_read("policy/runtime-policy-test-signed.json", &text);
    assert_int_equal(kl_runtime_policy_load(&p, kl_buf_bytes(&text), &o), KL_OK);
    assert_int_equal(kl_runtime_policy_sig_state(p), KL_POLICY_SIG_UNCHECKED);
    assert_int_equal(kl_digest_map_names(kl_runtime_policy_map(p, KL_POLICY_DIGESTS)), 21);
    kl_runtime_policy_free(p);
    o.require_signature = true;
    assert_int_equal(kl_runtime_policy_load(&p, kl_buf_bytes(&text), &o), KL_EVERIFY);
    assert_null(p);
    kl_buf_free(&text);
}

static void
test_kat_policy_checksums(void **state)
{
    size_t i;
    json_t *c;

    (void)state;
    json_array_foreach(json_object_get(spec, "checksums"), i, c) {
        const char *want = json_string_value(json_object_get(c, "sha256"));
        const char *other = json_string_value(json_object_get(c, "given_checksum"));
        kl_runtime_policy *p = NULL;
        char hex[65];
        kl_buf text;

        kat_read(json_string_value(json_object_get(c, "file")), &text);
        assert_int_equal(kl_runtime_policy_load(&p, kl_buf_bytes(&text), &lenient), KL_OK);
        kl_hex_encode(hex, kl_runtime_policy_checksum(p), 32);
        if (want)
            assert_string_equal(hex, want);
        else
            assert_string_not_equal(hex, other);
        kl_runtime_policy_free(p);
        kl_buf_free(&text);
    }
}

static void
assert_first_digest(const kl_runtime_policy *p, kl_policy_map_id m, const char *name,
                    const char *hex)
{
    kl_digest_list l;
    kl_buf out;

    assert_true(kl_digest_map_get(kl_runtime_policy_map(p, m), KL_BYTES(name, strlen(name)), &l));
    kl_buf_init(&out, 256);
    assert_int_equal(kl_digest_list_hex(&l, 0, &out), KL_OK);
    assert_int_equal(kl_buf_terminate(&out), KL_OK);
    assert_string_equal((char *)out.ptr, hex);
    kl_buf_free(&out);
}

static void
test_kat_policy_content(void **state)
{
    json_t *c = json_object_get(spec, "policy_content");
    kl_runtime_policy *p = NULL;
    kl_buf text;

    (void)state;
    kat_read(json_string_value(json_object_get(c, "file")), &text);
    assert_int_equal(kl_runtime_policy_load(&p, kl_buf_bytes(&text), NULL), KL_EPARSE);
    assert_string_equal(kl_err_msg(), "runtime policy: digests[\"boot_aggregate\"][0] is not a "
                                      "digest (expected 40 to 128 lowercase hex digits)");
    assert_int_equal(kl_runtime_policy_load(&p, kl_buf_bytes(&text), &lenient), KL_OK);
    assert_int_equal(kl_runtime_policy_generator(p),
                     json_integer_value(json_object_get(c, "meta.generator")));
    assert_int_equal(kl_digest_map_names(kl_runtime_policy_map(p, KL_POLICY_DIGESTS)),
                     json_integer_value(json_object_get(c, "digests_entries")));
    assert_first_digest(p, KL_POLICY_DIGESTS, "/boot/grub2/i386-pc/testload.mod",
                        json_string_value(json_object_get(
                            c, "digests[\"/boot/grub2/i386-pc/testload.mod\"][0]")));
    assert_first_digest(p, KL_POLICY_KEYRINGS, ".ima",
                        json_string_value(json_object_get(c, "keyrings[\".ima\"][0]")));
    kl_runtime_policy_free(p);
    kl_buf_free(&text);
}

/* The signing tool's inputs: valid and empty policies load, bogus does not. */
static void
test_kat_policy_signing_inputs(void **state)
{
    const char *const good[] = {"policy/sign-runtime-policy/runtime-policy.json",
                                "policy/sign-runtime-policy/runtime-policy-empty.json"};
    kl_runtime_policy *p = NULL;
    kl_buf text;

    (void)state;
    for (size_t i = 0; i < 2; i++) {
        kat_read(good[i], &text);
        if (kl_runtime_policy_load(&p, kl_buf_bytes(&text), NULL) != KL_OK)
            fail_msg("%s: %s", good[i], kl_err_msg());
        kl_runtime_policy_free(p);
        kl_buf_free(&text);
    }
    kat_read("policy/sign-runtime-policy/runtime-policy-bogus.json", &text);
    assert_int_equal(kl_runtime_policy_load(&p, kl_buf_bytes(&text), NULL), KL_EPARSE);
    assert_non_null(strstr(kl_err_msg(), "invalid JSON"));
    kl_buf_free(&text);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kat_policy_dsse),
        cmocka_unit_test(test_kat_policy_dsse_without_key),
        cmocka_unit_test(test_kat_policy_checksums),
        cmocka_unit_test(test_kat_policy_content),
        cmocka_unit_test(test_kat_policy_signing_inputs),
    };
    int failed;

    spec = kat_json("expected/runtime_policy_signatures.json");
    failed = cmocka_run_group_tests(tests, NULL, NULL);
    json_decref(spec);
    return failed;
}
