/* kl_severity: labels, first-match fullmatch rules, irrecoverable = max. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "attest/severity.h"

static void
add(kl_verdict *v, const char *id, bool recoverable)
{
    assert_int_equal(kl_verdict_add_msg(v, id, recoverable, "x"), KL_OK);
}

static void
test_severity_default(void **state)
{
    kl_severity *s = NULL;
    kl_verdict v = KL_VERDICT_INIT;

    (void)state;
    assert_int_equal(kl_severity_new(&s, KL_BYTES("", 0), KL_BYTES("", 0)), KL_OK);
    assert_int_equal(kl_severity_max(s), 6);
    assert_string_equal(kl_severity_label(s, 6), "emergency");
    assert_int_equal(kl_severity_assign(s, &v), -1);
    add(&v, "ima.validation.ima-ng.not_in_allowlist", true);
    assert_int_equal(kl_severity_assign(s, &v), 0);
    assert_int_equal(v.items[0].severity, 6);
    kl_verdict_free(&v);
    kl_severity_free(s);
}

static void
test_severity_policy(void **state)
{
    static const char policy[] =
        "[{\"event_id\": \"ima.validation.ima-ng.not_in_allowlist\", \"severity_label\": \"warning\"},"
        " {\"event_id\": \"ima\\\\..*\", \"severity_label\": \"error\"},"
        " {\"event_id\": \"pcr_validation\", \"severity_label\": \"info\"},"
        " {\"event_id\": \"measured_boot.*\", \"severity_label\": \"no-such-label\"}]";
    kl_severity *s = NULL;
    kl_verdict v = KL_VERDICT_INIT;

    (void)state;
    assert_int_equal(kl_severity_new(&s, KL_BYTES("", 0), KL_BYTES(policy, strlen(policy))), KL_OK);
    add(&v, "ima.validation.ima-ng.not_in_allowlist", true); /* warning (2) */
    add(&v, "ima.validation.ima_hash", true);                /* error (3) */
    add(&v, "pcr_validation.invalid_pcr_15", true);          /* no full match: max */
    add(&v, "measured_boot.policy_example", true);           /* unknown label: max */
    add(&v, "ima.validation.ima_pcr", false);                /* irrecoverable: max */
    assert_int_equal(kl_severity_assign(s, &v), 2);           /* the first of the highest */
    assert_int_equal(v.items[0].severity, 2);
    assert_int_equal(v.items[1].severity, 3);
    assert_int_equal(v.items[2].severity, 6);
    assert_int_equal(v.items[3].severity, 6);
    assert_int_equal(v.items[4].severity, 6);
    kl_verdict_free(&v);
    kl_severity_free(s);
}

static void
test_severity_custom_labels(void **state)
{
    kl_severity *s = NULL;
    kl_verdict v = KL_VERDICT_INIT;

    (void)state;
    assert_int_equal(kl_severity_new(&s, KL_BYTES_STR("[\"low\", \"high\"]"),
                                     KL_BYTES_STR("[{\"event_id\": \".*\", \"severity_label\": \"low\"}]")),
                     KL_OK);
    add(&v, "ima.pcr_mismatch", true);
    assert_int_equal(kl_severity_assign(s, &v), 0);
    assert_string_equal(kl_severity_label(s, v.items[0].severity), "low");
    kl_verdict_free(&v);
    kl_severity_free(s);
}

static void
test_severity_errors(void **state)
{
    kl_severity *s = NULL;

    (void)state;
    assert_int_equal(kl_severity_new(&s, KL_BYTES_STR("[]"), KL_BYTES("", 0)), KL_EPARSE);
    assert_int_equal(kl_severity_new(&s, KL_BYTES("", 0),
                                     KL_BYTES_STR("[{\"event_id\": \"(\", \"severity_label\": \"info\"}]")),
                     KL_EPARSE);
    assert_non_null(strstr(kl_err_msg(), "severity_policy[0]: \"(\" is not a valid regex"));
    assert_int_equal(kl_severity_new(&s, KL_BYTES("", 0), KL_BYTES_STR("[{\"event_id\": \".*\"}]")),
                     KL_EPARSE);
    assert_null(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_severity_default),
        cmocka_unit_test(test_severity_policy),
        cmocka_unit_test(test_severity_custom_labels),
        cmocka_unit_test(test_severity_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
