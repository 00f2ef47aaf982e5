/* kl_runtime_policy: upstream's schema, with a precise message per rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "policy/runtime_policy.h"

#define D40 "0123456789abcdef0123456789abcdef01234567"

/* A valid policy with one member's value replaced (or the member dropped
 * when value is NULL). */
static kl_rc
load_with(const char *member, const char *value, kl_runtime_policy **out)
{
    static const char *const names[] = {"meta", "release", "digests", "excludes",
                                        "keyrings", "ima", "ima-buf", "verification-keys"};
    static const char *const values[] = {
        "{\"version\": 1, \"generator\": 3, \"timestamp\": \"now\"}",
        "0",
        "{\"/usr/bin/a\": [\"" D40 "\"]}",
        "[\"/tmp/.*\"]",
        "{}",
        "{\"ignored_keyrings\": [], \"log_hash_alg\": \"sha256\", \"dm_policy\": null}",
        "{}",
        "\"\""};
    const char *sep = "";
    kl_buf t;
    kl_rc rc;

    kl_buf_init(&t, 1 << 16);
    assert_int_equal(kl_buf_append_byte(&t, '{'), KL_OK);
    for (size_t i = 0; i < 8; i++) {
        const char *v = strcmp(names[i], member) == 0 ? value : values[i];

        if (!v)
            continue;
        assert_int_equal(kl_buf_printf(&t, "%s\"%s\": %s", sep, names[i], v), KL_OK);
        sep = ", ";
    }
    assert_int_equal(kl_buf_append_byte(&t, '}'), KL_OK);
    rc = kl_runtime_policy_load(out, kl_buf_bytes(&t), NULL);
    kl_buf_free(&t);
    return rc;
}

static void
assert_rejects(const char *member, const char *value, const char *message)
{
    kl_runtime_policy *p = NULL;

    if (load_with(member, value, &p) != KL_EPARSE)
        fail_msg("%s = %s was accepted", member, value ? value : "(missing)");
    assert_null(p);
    assert_string_equal(kl_err_msg(), message);
}

static void
test_runtime_policy_valid(void **state)
{
    kl_runtime_policy *p = NULL;
    kl_digest_list l;

    (void)state;
    assert_int_equal(load_with("", NULL, &p), KL_OK);
    assert_int_equal(kl_runtime_policy_generator(p), 3);
    assert_int_equal(kl_runtime_policy_log_hash_alg(p), KL_HASH_SHA256);
    assert_int_equal(kl_runtime_policy_sig_state(p), KL_POLICY_UNSIGNED);
    assert_non_null(kl_runtime_policy_excludes(p));
    assert_null(kl_runtime_policy_keys(p));
    assert_true(kl_digest_map_get(kl_runtime_policy_map(p, KL_POLICY_DIGESTS),
                                  KL_BYTES_STR("/usr/bin/a"), &l));
    assert_true(kl_runtime_policy_memory(p) > 0);
    kl_runtime_policy_free(p);
    /* integral floats are integers to jsonschema */
    assert_int_equal(load_with("release", "1.0", &p), KL_OK);
    kl_runtime_policy_free(p);
    assert_int_equal(kl_runtime_policy_empty(&p), KL_OK);
    assert_int_equal(kl_runtime_policy_generator(p), 1);
    assert_int_equal(kl_runtime_policy_log_hash_alg(p), KL_HASH_SHA1);
    kl_runtime_policy_free(p);
}

static void
test_runtime_policy_required(void **state)
{
    static const char *const names[] = {"meta", "release", "digests", "excludes",
                                        "keyrings", "ima", "ima-buf", "verification-keys"};
    char msg[128];

    (void)state;
    for (size_t i = 0; i < 8; i++) {
        snprintf(msg, sizeof(msg), "runtime policy: required key \"%s\" is missing", names[i]);
        assert_rejects(names[i], NULL, msg);
    }
    assert_rejects("meta", "{\"generator\": 1}", "runtime policy: meta.version is missing");
    assert_rejects("meta", "{\"version\": 1}", "runtime policy: meta.generator is missing");
    assert_rejects("ima", "{\"log_hash_alg\": \"sha1\", \"dm_policy\": null}",
                   "runtime policy: ima.ignored_keyrings is missing");
    assert_rejects("ima", "{\"ignored_keyrings\": [], \"dm_policy\": null}",
                   "runtime policy: ima.log_hash_alg is missing");
    assert_rejects("ima", "{\"ignored_keyrings\": [], \"log_hash_alg\": \"sha1\"}",
                   "runtime policy: ima.dm_policy is missing");
}

static void
test_runtime_policy_types(void **state)
{
    (void)state;
    assert_rejects("release", "\"0\"",
                   "runtime policy: release must be an integer, found a string (line 1 column 73)");
    assert_rejects("release", "true",
                   "runtime policy: release must be an integer, found a boolean (line 1 column 73)");
    assert_rejects("release", "-1",
                   "runtime policy: release is -1, must be between 0 and 9223372036854775807");
    assert_rejects("release", "1.5", "runtime policy: release: 1.5 is not an integer");
    assert_rejects("meta", "{\"version\": 1, \"generator\": 4}",
                   "runtime policy: meta.generator is 4, must be between 0 and 3");
    assert_rejects("meta", "{\"version\": 1, \"generator\": 1, \"timestamp\": 5}",
                   "runtime policy: meta.timestamp must be a string, found a number (line 1 "
                   "column 54)");
    assert_rejects("digests", "[]",
                   "runtime policy: digests must be an object, found an array (line 1 column 87)");
    assert_rejects("digests", "{\"/a\": \"" D40 "\"}",
                   "runtime policy: digests[\"/a\"] must be a list of digests, found a string "
                   "(line 1 column 94)");
    assert_rejects("keyrings", "{\".ima\": []}",
                   "runtime policy: keyrings[\".ima\"] is an empty list (at least one digest is "
                   "required)");
    assert_rejects("ima-buf", "{\"x\": [\"0123456789ABCDEF0123456789abcdef01234567\"]}",
                   "runtime policy: ima-buf[\"x\"][0] is not a digest (expected 40 to 128 "
                   "lowercase hex digits)");
    assert_rejects("digests", "{\"/a\": [\"" D40 "\", \"abc\"]}",
                   "runtime policy: digests[\"/a\"][1] is not a digest (expected 40 to 128 "
                   "lowercase hex digits)");
    assert_rejects("excludes", "[\"(\"]",
                   "runtime policy: excludes[0] \"(\" is not a valid regular expression: missing "
                   "closing parenthesis (at offset 1)");
    assert_rejects("excludes", "[1]",
                   "runtime policy: excludes[0] must be a string, found a number (line 1 column "
                   "162)");
    assert_rejects("ima", "{\"ignored_keyrings\": [], \"log_hash_alg\": \"md5\", \"dm_policy\": null}",
                   "runtime policy: ima.log_hash_alg is \"md5\", expected one of sha1, sha256, "
                   "sha384, sha512");
    assert_rejects("ima", "{\"ignored_keyrings\": [], \"log_hash_alg\": \"sha1\", \"dm_policy\": {}}",
                   "runtime policy: ima.dm_policy must be null (device-mapper policies are not "
                   "supported, as upstream), found an object (line 1 column 259)");
    assert_rejects("verification-keys", "\"{}\"",
                   "runtime policy: verification-keys: IMA keyring: \"keyids\" is missing or not "
                   "a list");
    assert_rejects("verification-keys", "[]",
                   "runtime policy: verification-keys must be a string, found an array (line 1 "
                   "column 304)");
}

static void
test_runtime_policy_syntax(void **state)
{
    kl_runtime_policy *p = NULL;

    (void)state;
    assert_int_equal(kl_runtime_policy_load(&p, KL_BYTES_STR("{\n  \"meta\": ,\n}"), NULL),
                     KL_EPARSE);
    assert_string_equal(kl_err_msg(), "runtime policy: line 2 column 11: invalid JSON: expected a "
                                      "value");
    assert_int_equal(kl_runtime_policy_load(&p, KL_BYTES_STR("[1]"), NULL), KL_EPARSE);
    assert_string_equal(kl_err_msg(), "runtime policy: the document must be a JSON object, found "
                                      "an array (line 1 column 1)");
    assert_int_equal(kl_runtime_policy_load(&p, KL_BYTES_STR("{} x"), NULL), KL_EPARSE);
    assert_string_equal(kl_err_msg(), "runtime policy: line 1 column 4: invalid JSON: extra data "
                                      "after the JSON value");
}

/* Duplicate members: the last one wins, as in Python. */
static void
test_runtime_policy_duplicates(void **state)
{
    kl_runtime_policy *p = NULL;
    kl_digest_list l;

    (void)state;
    /* a duplicate before the real member loses to it */
    assert_int_equal(load_with("release", "0, \"digests\": {\"/b\": [\"" D40 "\"]}", &p), KL_OK);
    assert_true(kl_digest_map_get(kl_runtime_policy_map(p, KL_POLICY_DIGESTS),
                                  KL_BYTES_STR("/usr/bin/a"), &l));
    assert_false(kl_digest_map_get(kl_runtime_policy_map(p, KL_POLICY_DIGESTS),
                                   KL_BYTES_STR("/b"), &l));
    kl_runtime_policy_free(p);
    /* a duplicate after it wins */
    assert_int_equal(load_with("ima-buf", "{}, \"digests\": {\"/b\": [\"" D40 "\"]}", &p), KL_OK);
    assert_false(kl_digest_map_get(kl_runtime_policy_map(p, KL_POLICY_DIGESTS),
                                   KL_BYTES_STR("/usr/bin/a"), &l));
    assert_true(kl_digest_map_get(kl_runtime_policy_map(p, KL_POLICY_DIGESTS),
                                  KL_BYTES_STR("/b"), &l));
    kl_runtime_policy_free(p);
}

static void
test_runtime_policy_ignored_keyrings(void **state)
{
    kl_runtime_policy *p = NULL;

    (void)state;
    assert_int_equal(load_with("ima",
                               "{\"ignored_keyrings\": [\".ima\", \".evm\"], \"log_hash_alg\": "
                               "\"sha1\", \"dm_policy\": null}",
                               &p),
                     KL_OK);
    assert_true(kl_runtime_policy_keyring_ignored(p, KL_BYTES_STR(".evm")));
    assert_false(kl_runtime_policy_keyring_ignored(p, KL_BYTES_STR(".builtin_trusted_keys")));
    kl_runtime_policy_free(p);
    assert_int_equal(load_with("ima",
                               "{\"ignored_keyrings\": [\"*\"], \"log_hash_alg\": \"sha1\", "
                               "\"dm_policy\": null}",
                               &p),
                     KL_OK);
    assert_true(kl_runtime_policy_keyring_ignored(p, KL_BYTES_STR(".builtin_trusted_keys")));
    kl_runtime_policy_free(p);
}

/* Without the schema (upstream's own test inputs), missing keys default. */
static void
test_runtime_policy_lenient(void **state)
{
    kl_runtime_policy_opts o = KL_RUNTIME_POLICY_OPTS_INIT;
    kl_runtime_policy *p = NULL;

    (void)state;
    o.schema = false;
    assert_int_equal(kl_runtime_policy_load(&p, KL_BYTES_STR("{\"digests\": {\"/a\": [\"sha1:x\"]}}"),
                                            &o),
                     KL_OK);
    assert_int_equal(kl_runtime_policy_log_hash_alg(p), KL_HASH_SHA1);
    assert_null(kl_runtime_policy_excludes(p));
    kl_runtime_policy_free(p);
}

static void
test_runtime_policy_require_signature(void **state)
{
    kl_runtime_policy_opts o = KL_RUNTIME_POLICY_OPTS_INIT;
    kl_runtime_policy *p = NULL;

    (void)state;
    o.require_signature = true;
    assert_int_equal(kl_runtime_policy_load(&p, KL_BYTES_STR("{}"), &o), KL_EVERIFY);
    assert_string_equal(kl_err_msg(), "runtime policy is not signed, but a signature is required");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runtime_policy_valid),
        cmocka_unit_test(test_runtime_policy_required),
        cmocka_unit_test(test_runtime_policy_types),
        cmocka_unit_test(test_runtime_policy_syntax),
        cmocka_unit_test(test_runtime_policy_duplicates),
        cmocka_unit_test(test_runtime_policy_ignored_keyrings),
        cmocka_unit_test(test_runtime_policy_lenient),
        cmocka_unit_test(test_runtime_policy_require_signature),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
