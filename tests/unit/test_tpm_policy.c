/* kl_tpm_policy: Keylime's PCR allowlist. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "attest/tpm_policy.h"

#define H1 "1111111111111111111111111111111111111111111111111111111111111111"
#define H2 "2222222222222222222222222222222222222222222222222222222222222222"

static kl_tpm_policy *
parse(const char *text)
{
    kl_tpm_policy *p = NULL;

    if (kl_tpm_policy_parse(&p, KL_BYTES(text, strlen(text))) != KL_OK)
        fail_msg("%s: %s", text, kl_err_msg());
    return p;
}

static void
test_tpm_policy_lists(void **state)
{
    kl_tpm_policy *p = parse("{\"mask\": \"0x408400\", \"15\": [\"" H1 "\", \"" H2 "\"], "
                             "\" 22 \": [\"" H2 "\"]}");

    (void)state;
    assert_int_equal(kl_tpm_policy_mask(p), 0x408400);
    assert_int_equal(kl_tpm_policy_listed(p), (1u << 15) | (1u << 22));
    assert_true(kl_tpm_policy_allows(p, 15, H1));
    assert_true(kl_tpm_policy_allows(p, 15, H2));
    assert_false(kl_tpm_policy_allows(p, 22, H1));
    assert_false(kl_tpm_policy_allows(p, 16, H1));
    assert_int_equal(json_array_size(kl_tpm_policy_values(p, 15)), 2);
    kl_tpm_policy_free(p);
}

/* A single string is Python's `in` on a string: a substring test. */
static void
test_tpm_policy_string_value(void **state)
{
    kl_tpm_policy *p = parse("{\"15\": \"" H1 H2 "\"}");

    (void)state;
    assert_true(kl_tpm_policy_allows(p, 15, H2));
    assert_false(kl_tpm_policy_allows(p, 15, "33"));
    kl_tpm_policy_free(p);
}

static void
test_tpm_policy_empty(void **state)
{
    kl_tpm_policy *p = parse("");

    (void)state;
    assert_int_equal(kl_tpm_policy_listed(p), 0);
    assert_int_equal(kl_tpm_policy_mask(p), 0);
    kl_tpm_policy_free(p);
    p = parse("{}");
    assert_int_equal(kl_tpm_policy_listed(p), 0);
    kl_tpm_policy_free(p);
    assert_int_equal(kl_tpm_policy_listed(NULL), 0);
}

/* a mask stored as a number (REST clients may) is taken as it is */
static void
test_tpm_policy_integer_mask(void **state)
{
    kl_tpm_policy *p = parse("{\"mask\": 33792}");

    (void)state;
    assert_int_equal(kl_tpm_policy_mask(p), 0x8400);
    kl_tpm_policy_free(p);
}

static void
test_tpm_policy_errors(void **state)
{
    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"[1]", "tpm_policy: must be a JSON object like {\"mask\": \"0x400\", \"15\": [\"<hex>\"]}"},
        {"{\"mask\": -5}", "tpm_policy: \"mask\" must be a string like \"0x408400\""},
        {"{\"mask\": true}", "tpm_policy: \"mask\" must be a string like \"0x408400\""},
        {"{\"mask\": \"0xzz\"}", "tpm_policy: \"mask\" \"0xzz\" is not a hex PCR mask"},
        {"{\"pcr15\": []}", "tpm_policy: key \"pcr15\" is not a PCR number (0-63)"},
        {"{\"64\": []}", "tpm_policy: key \"64\" is not a PCR number (0-63)"},
        {"{\"15\": 5}", "tpm_policy: PCR 15 must be a list of allowed values (hex strings)"},
    };
    kl_tpm_policy *p = NULL;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(kl_tpm_policy_parse(&p, KL_BYTES(bad[i].text, strlen(bad[i].text))),
                         KL_EPARSE);
        assert_null(p);
        assert_string_equal(kl_err_msg(), bad[i].msg);
    }
    assert_int_equal(kl_tpm_policy_parse(&p, KL_BYTES_STR("{")), KL_EPARSE);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tpm_policy_lists),
        cmocka_unit_test(test_tpm_policy_string_value),
        cmocka_unit_test(test_tpm_policy_empty),
        cmocka_unit_test(test_tpm_policy_integer_mask),
        cmocka_unit_test(test_tpm_policy_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
