/* Unit tests for policy/mb_policy.h: the engine table, refstate validity
 * and upstream's bootlog_evaluate around the engines (empty and false
 * refstates, missing PCRs, the failure event and its context). */
#include "mb_build.h"

#include "json/json.h"
#include "policy/mb_policy.h"

static const kl_mb_engine *
engine(const char *name)
{
    const kl_mb_engine *e = NULL;

    assert_int_equal(kl_mb_engine_find(name, &e), KL_OK);
    assert_string_equal(kl_mb_engine_name(e), name);
    return e;
}

static void
test_mb_policy_engines(void **state)
{
    const kl_mb_engine *e;

    (void)state;
    assert_int_equal(kl_mb_engine_relevant_pcrs(engine("accept-all")), 0);
    assert_int_equal(kl_mb_engine_relevant_pcrs(engine("reject-all")), 0);
    assert_int_equal(kl_mb_engine_relevant_pcrs(engine("example")), 0x43ff);
    assert_int_equal(kl_mb_engine_find("elsewhere", &e), KL_ENOTFOUND);
    assert_null(e);
}

static void
test_mb_policy_valid(void **state)
{
    const kl_mb_engine *e = engine("example");

    (void)state;
    assert_false(kl_mb_engine_refstate_valid(e, KL_BYTES_STR("")));
    assert_false(kl_mb_engine_refstate_valid(e, KL_BYTES_STR("null")));
    assert_false(kl_mb_engine_refstate_valid(e, KL_BYTES_STR("{")));
    assert_true(kl_mb_engine_refstate_valid(e, KL_BYTES_STR("{}")));
    assert_true(kl_mb_engine_refstate_valid(e, KL_BYTES_STR("[]")));
    assert_true(kl_mb_engine_refstate_valid(e, KL_BYTES_STR("0")));
}

/* Evaluates; returns the events as JSON text ("[]" when none). */
static char *
run(const char *name, const char *refstate, uint32_t pcrs, kl_rc want_rc)
{
    static char text[1 << 16];
    kl_verdict v = KL_VERDICT_INIT;
    kl_buf b;
    kl_eventlog *log;
    json_t *j;

    kl_buf_init(&b, 1 << 16);
    mbb_boot_log(&b, true);
    log = mbb_parse(&b);
    kl_buf_reset(&b);
    assert_int_equal(kl_mb_engine_evaluate(&v, engine(name), KL_BYTES(refstate, strlen(refstate)),
                                           log, pcrs),
                     want_rc);
    j = kl_verdict_to_json(&v);
    assert_int_equal(kl_json_dump_py(&b, j), KL_OK);
    assert_true(b.len < sizeof(text));
    memcpy(text, b.ptr, b.len);
    text[b.len] = '\0';
    json_decref(j);
    kl_verdict_free(&v);
    kl_eventlog_free(log);
    kl_buf_free(&b);
    return text;
}

static void
test_mb_policy_evaluate(void **state)
{
    (void)state;
    assert_string_equal(run("accept-all", "{\"a\": 1}", 0, KL_OK), "[]");
    assert_string_equal(run("reject-all", "", 0, KL_OK), "[]");
    assert_string_equal(run("reject-all", "{}", 0, KL_OK), "[]");
    assert_string_equal(run("reject-all", "false", 0, KL_OK), "[]");
    assert_string_equal(run("reject-all", "{\"a\": [1, \"b\"]}", 0, KL_OK),
                        "[{\"event_id\": \"measured_boot.policy_reject-all\", \"context\": "
                        "{\"context\": \"Boot attestation failed\", \"policy\": \"reject-all\", "
                        "\"refstate\": \"{'a': [1, 'b']}\", \"reason\": \"reject all\"}}]");
    /* str(refstate) of a string is its text */
    assert_string_equal(run("reject-all", "\"abc\"", 0, KL_OK),
                        "[{\"event_id\": \"measured_boot.policy_reject-all\", \"context\": "
                        "{\"context\": \"Boot attestation failed\", \"policy\": \"reject-all\", "
                        "\"refstate\": \"abc\", \"reason\": \"reject all\"}}]");
    assert_string_equal(run("example", "{\"a\": 1}", 0xffffff & ~(1u << 8 | 1u << 14), KL_OK),
                        "[{\"event_id\": \"measured_boot.missing_pcrs\", \"context\": "
                        "{\"context\": \"PCRs are missing in quote\", \"data\": [8, 14]}}]");
    assert_string_equal(run("example", "{\"a\": 1}", 0xffffff, KL_OK),
                        "[{\"event_id\": \"measured_boot.policy_example\", \"context\": "
                        "{\"context\": \"Boot attestation failed\", \"policy\": \"example\", "
                        "\"refstate\": \"{'a': 1}\", \"reason\": \"policy evaluation failed: "
                        "refstate['kernels'] is None instead of a list\"}}]");
    assert_string_equal(run("example", "{x", 0xffffff, KL_EPARSE), "[]");
}

static void
test_mb_policy_no_log(void **state)
{
    kl_verdict v = KL_VERDICT_INIT;

    (void)state;
    assert_int_equal(kl_mb_engine_evaluate(&v, engine("example"),
                                           KL_BYTES_STR("{\"kernels\": [], \"scrtm_and_bios\": [], "
                                                        "\"pk\": [], \"kek\": [], \"db\": [], "
                                                        "\"dbx\": [], \"mokdig\": [], "
                                                        "\"mokxdig\": []}"),
                                           NULL, 0xffffff),
                     KL_OK);
    assert_int_equal(v.count, 1);
    assert_string_equal(json_string_value(json_object_get(v.items[0].context, "reason")),
                        "has no 'events' field");
    /* the refstate as upstream's example left it: with vendor_db */
    assert_non_null(strstr(json_string_value(json_object_get(v.items[0].context, "refstate")),
                           "'vendor_db': []"));
    assert_false(v.irrecoverable);
    kl_verdict_free(&v);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mb_policy_engines),
        cmocka_unit_test(test_mb_policy_valid),
        cmocka_unit_test(test_mb_policy_evaluate),
        cmocka_unit_test(test_mb_policy_no_log),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
