/* Unit tests for verdict/verdict: failure events as data, in order, with
 * their JSON form, and an allocation-failure sweep that also fails
 * jansson's allocations (routed through kl_malloc for this test). */
/* cmocka.h needs the standard headers before it: keep this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "json/json.h"
#include "util/kl_alloc.h"
#include "verdict/verdict.h"
/* clang-format on */

static int
reset_alloc(void **state)
{
    (void)state;
    kl_alloc_fail_at(0);
    return 0;
}

/* Python json.dumps of j (caller frees); j is released. */
static char *
dump_new(json_t *j)
{
    kl_buf b;

    assert_non_null(j);
    kl_buf_init(&b, 1 << 24);
    assert_int_equal(kl_json_dump_py(&b, j), KL_OK);
    assert_int_equal(kl_buf_terminate(&b), KL_OK);
    json_decref(j);
    return (char *)kl_buf_take(&b, NULL);
}

static void
assert_verdict_json(const kl_verdict *v, const char *want)
{
    char *got = dump_new(kl_verdict_to_json(v));

    assert_string_equal(got, want);
    kl_free(got);
}

static void
test_verdict_empty(void **state)
{
    kl_verdict v = KL_VERDICT_INIT;

    (void)state;
    assert_false(kl_verdict_failed(&v));
    assert_int_equal(v.count, 0);
    assert_verdict_json(&v, "[]");
    kl_verdict_free(&v);
    kl_verdict_free(NULL);
}

static void
test_verdict_add_with_context(void **state)
{
    kl_verdict v = KL_VERDICT_INIT;
    json_t *ctx = json_pack("{s:s,s:i}", "path", "/usr/bin/foo", "entry", 3);

    (void)state;
    assert_int_equal(kl_verdict_add(&v, "ima.validation.ima-ng.not_in_allowlist", ctx, true),
                     KL_OK);
    assert_true(kl_verdict_failed(&v));
    assert_false(v.irrecoverable);
    assert_int_equal(v.count, 1);
    assert_string_equal(v.items[0].event_id, "ima.validation.ima-ng.not_in_allowlist");
    assert_ptr_equal(v.items[0].context, ctx);
    assert_true(v.items[0].recoverable);
    assert_verdict_json(&v, "[{\"event_id\": \"ima.validation.ima-ng.not_in_allowlist\", "
                            "\"context\": {\"path\": \"/usr/bin/foo\", \"entry\": 3}}]");
    kl_verdict_free(&v);
}

static void
test_verdict_event_id_is_copied(void **state)
{
    kl_verdict v = KL_VERDICT_INIT;
    char id[] = "pcr_validation.invalid_pcr_10";

    (void)state;
    assert_int_equal(kl_verdict_add(&v, id, NULL, true), KL_OK);
    id[0] = 'X';
    assert_string_equal(v.items[0].event_id, "pcr_validation.invalid_pcr_10");
    kl_verdict_free(&v);
}

static void
test_verdict_null_context_is_empty_object(void **state)
{
    kl_verdict v = KL_VERDICT_INIT;

    (void)state;
    assert_int_equal(kl_verdict_add(&v, "qoute_validation.quote_validation", NULL, false), KL_OK);
    assert_true(json_is_object(v.items[0].context));
    assert_int_equal(json_object_size(v.items[0].context), 0);
    assert_true(v.irrecoverable);
    assert_false(v.items[0].recoverable);
    assert_verdict_json(&v, "[{\"event_id\": \"qoute_validation.quote_validation\", "
                            "\"context\": {}}]");
    kl_verdict_free(&v);
}

static void
test_verdict_add_msg(void **state)
{
    kl_verdict v = KL_VERDICT_INIT;

    (void)state;
    assert_int_equal(kl_verdict_add_msg(&v, "ima.validation.ima-ng.not_in_allowlist", true,
                                        "File not found in allowlist: %s", "/usr/bin/foo"),
                     KL_OK);
    assert_int_equal(kl_verdict_add_msg(&v, "ima.validation.ima-sig.invalid_signature", true,
                                        "entry %d: \"%s\"\n", 7, "tab\there"),
                     KL_OK);
    assert_verdict_json(&v, "[{\"event_id\": \"ima.validation.ima-ng.not_in_allowlist\", "
                            "\"context\": {\"message\": \"File not found in allowlist: "
                            "/usr/bin/foo\"}}, "
                            "{\"event_id\": \"ima.validation.ima-sig.invalid_signature\", "
                            "\"context\": {\"message\": \"entry 7: \\\"tab\\there\\\"\\n\"}}]");
    kl_verdict_free(&v);
}

static void
test_verdict_add_msg_not_utf8(void **state)
{
    kl_verdict v = KL_VERDICT_INIT;

    (void)state;
    /* the event is kept; only the bad bytes are replaced */
    assert_int_equal(kl_verdict_add_msg(&v, "ima.parse", false, "path %s", "/bin/\xff\xfex"),
                     KL_OK);
    assert_int_equal(v.count, 1);
    assert_true(v.irrecoverable);
    assert_verdict_json(&v, "[{\"event_id\": \"ima.parse\", \"context\": {\"message\": "
                            "\"path /bin/\\ufffd\\ufffdx\"}}]");
    kl_verdict_free(&v);
}

static void
test_verdict_add_msg_truncated(void **state)
{
    static char big[5000];
    kl_verdict v = KL_VERDICT_INIT;
    const char *msg;

    (void)state;
    /* 4094 'a' then U+00E9: the message is cut at 4095 bytes, inside the
     * two-byte character, whose first byte then becomes U+FFFD */
    memset(big, 'a', 4094);
    memcpy(big + 4094, "\xc3\xa9 tail", 7);
    assert_int_equal(kl_verdict_add_msg(&v, "x.y", true, "%s", big), KL_OK);
    msg = json_string_value(json_object_get(v.items[0].context, "message"));
    assert_non_null(msg);
    assert_int_equal(strlen(msg), 4094 + 3);
    assert_memory_equal(msg, big, 4094);
    assert_string_equal(msg + 4094, "\xef\xbf\xbd");
    kl_verdict_free(&v);
}

static void
test_verdict_order_and_duplicates(void **state)
{
    kl_verdict v = KL_VERDICT_INIT;
    char want[4096];
    size_t w = 0;

    (void)state;
    /* one event per failing entry, in order, duplicates kept; past the
     * first growth step (8) */
    for (int i = 0; i < 100; i++)
        assert_int_equal(
            kl_verdict_add(&v, i % 2 ? "b.dup" : "a.dup", json_pack("{s:i}", "i", i), true), KL_OK);
    assert_int_equal(v.count, 100);
    assert_true(v.cap >= 100);
    assert_false(v.irrecoverable);
    for (int i = 0; i < 100; i++) {
        assert_string_equal(v.items[i].event_id, i % 2 ? "b.dup" : "a.dup");
        assert_int_equal(json_integer_value(json_object_get(v.items[i].context, "i")), i);
    }
    w += (size_t)snprintf(want + w, sizeof(want) - w, "[");
    for (int i = 0; i < 3; i++)
        w += (size_t)snprintf(want + w, sizeof(want) - w,
                              "%s{\"event_id\": \"%s\", \"context\": {\"i\": %d}}", i ? ", " : "",
                              i % 2 ? "b.dup" : "a.dup", i);
    {
        kl_verdict three = KL_VERDICT_INIT;

        for (int i = 0; i < 3; i++)
            assert_int_equal(
                kl_verdict_add(&three, v.items[i].event_id, json_incref(v.items[i].context), true),
                KL_OK);
        snprintf(want + w, sizeof(want) - w, "]");
        assert_verdict_json(&three, want);
        kl_verdict_free(&three);
    }
    kl_verdict_free(&v);
    assert_int_equal(v.count, 0);
    assert_null(v.items);
    assert_false(v.irrecoverable);
    kl_verdict_free(&v);
}

static void
test_verdict_irrecoverable_sticks(void **state)
{
    kl_verdict v = KL_VERDICT_INIT;

    (void)state;
    assert_int_equal(kl_verdict_add(&v, "a", NULL, true), KL_OK);
    assert_false(v.irrecoverable);
    assert_int_equal(kl_verdict_add(&v, "b", NULL, false), KL_OK);
    assert_true(v.irrecoverable);
    assert_int_equal(kl_verdict_add(&v, "c", NULL, true), KL_OK);
    assert_true(v.irrecoverable);
    kl_verdict_free(&v);
}

static void
test_verdict_merge(void **state)
{
    kl_verdict dst = KL_VERDICT_INIT, src = KL_VERDICT_INIT;

    (void)state;
    assert_int_equal(kl_verdict_add(&dst, "first", NULL, true), KL_OK);
    for (int i = 0; i < 9; i++)
        assert_int_equal(kl_verdict_add(&src, "more", json_pack("{s:i}", "n", i), i != 4), KL_OK);
    assert_int_equal(kl_verdict_merge(&dst, &src), KL_OK);
    assert_int_equal(dst.count, 10);
    assert_true(dst.irrecoverable);
    assert_string_equal(dst.items[0].event_id, "first");
    for (int i = 0; i < 9; i++) {
        assert_string_equal(dst.items[1 + i].event_id, "more");
        assert_int_equal(json_integer_value(json_object_get(dst.items[1 + i].context, "n")), i);
        assert_int_equal(dst.items[1 + i].recoverable, i != 4);
    }
    /* src is emptied (the events moved, not copied) */
    assert_int_equal(src.count, 0);
    assert_false(src.irrecoverable);
    assert_false(kl_verdict_failed(&src));
    assert_verdict_json(&src, "[]");
    /* merging an empty verdict changes nothing */
    assert_int_equal(kl_verdict_merge(&dst, &src), KL_OK);
    assert_int_equal(dst.count, 10);
    /* src can be used again */
    assert_int_equal(kl_verdict_add(&src, "again", NULL, true), KL_OK);
    assert_int_equal(src.count, 1);
    kl_verdict_free(&src);
    kl_verdict_free(&dst);
}

static void
test_verdict_to_json_outlives_verdict(void **state)
{
    kl_verdict v = KL_VERDICT_INIT;
    json_t *j;
    char *got;

    (void)state;
    assert_int_equal(kl_verdict_add(&v, "a.b", json_pack("{s:[i,i]}", "pcrs", 0, 10), true), KL_OK);
    j = kl_verdict_to_json(&v);
    kl_verdict_free(&v);
    /* the contexts are referenced by the JSON, not borrowed */
    got = dump_new(j);
    assert_string_equal(got, "[{\"event_id\": \"a.b\", \"context\": {\"pcrs\": [0, 10]}}]");
    kl_free(got);
}

/* Every allocation failure (ours and jansson's) gives KL_ENOMEM or NULL,
 * never a crash or a leak (ASan checks the latter); the verdict stays
 * consistent and the run eventually completes. */
static void
test_verdict_alloc_failure_sweep(void **state)
{
    bool done = false;
    size_t n;

    (void)state;
    for (n = 1; n < 400 && !done; n++) {
        kl_verdict v = KL_VERDICT_INIT, w = KL_VERDICT_INIT;
        json_t *ctx = json_pack("{s:s}", "path", "/etc/bar.conf");
        json_t *j = NULL;
        size_t before;
        kl_rc rc;

        assert_non_null(ctx);
        kl_alloc_fail_at(n);
        /* ctx is owned by the verdict from here on, even on failure */
        rc = kl_verdict_add(&v, "ima.validation.ima-ng.not_in_allowlist", ctx, true);
        if (rc == KL_OK)
            rc = kl_verdict_add_msg(&v, "ima.validation.ima-sig.invalid_signature", false,
                                    "entry %d: %s", 5, "bad \xff");
        for (int i = 0; rc == KL_OK && i < 10; i++)
            rc = kl_verdict_add(&w, "pcr_validation.invalid_pcr_10", NULL, true);
        before = v.count;
        if (rc == KL_OK) {
            rc = kl_verdict_merge(&v, &w);
            if (rc != KL_OK) {
                assert_int_equal(v.count, before);
                assert_int_equal(w.count, 10);
            }
        }
        if (rc == KL_OK && (j = kl_verdict_to_json(&v)) == NULL)
            rc = KL_ENOMEM;
        kl_alloc_fail_at(0);
        if (rc == KL_OK) {
            char *got = dump_new(j);

            assert_int_equal(v.count, 12);
            assert_true(v.irrecoverable);
            assert_memory_equal(got,
                                "[{\"event_id\": \"ima.validation.ima-ng.not_in_allowlist\", "
                                "\"context\": {\"path\": \"/etc/bar.conf\"}}, {\"event_id\": "
                                "\"ima.validation.ima-sig.invalid_signature\", \"context\": "
                                "{\"message\": \"entry 5: bad \\ufffd\"}}, ",
                                200);
            kl_free(got);
            done = true;
        } else {
            assert_int_equal(rc, KL_ENOMEM);
            assert_null(j);
            /* whatever was added is complete */
            for (size_t i = 0; i < v.count; i++) {
                assert_non_null(v.items[i].event_id);
                assert_true(json_is_object(v.items[i].context));
            }
        }
        kl_verdict_free(&v);
        kl_verdict_free(&w);
    }
    assert_true(done);
    assert_true(n > 10);
}

static int
group_setup(void **state)
{
    (void)state;
    /* route jansson through kl_malloc so that the sweep reaches it too */
    json_set_alloc_funcs(kl_malloc, kl_free);
    return 0;
}

#define T(f) cmocka_unit_test_teardown(f, reset_alloc)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_verdict_empty),
        T(test_verdict_add_with_context),
        T(test_verdict_event_id_is_copied),
        T(test_verdict_null_context_is_empty_object),
        T(test_verdict_add_msg),
        T(test_verdict_add_msg_not_utf8),
        T(test_verdict_add_msg_truncated),
        T(test_verdict_order_and_duplicates),
        T(test_verdict_irrecoverable_sticks),
        T(test_verdict_merge),
        T(test_verdict_to_json_outlives_verdict),
        T(test_verdict_alloc_failure_sweep),
    };

    return cmocka_run_group_tests(tests, group_setup, NULL);
}
