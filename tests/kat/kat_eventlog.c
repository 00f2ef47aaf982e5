/* Known answers for measured boot (tests/data/eventlog):
 *   - every log with a .expected.json: record count, banks, StartupLocality,
 *     PCRs 0-15 of every bank (spec-conformant replay) and the boot
 *     aggregates; mb_log.b64 decodes to mb_log.bin; -bogus is a parse
 *     error, -empty a log without events;
 *   - `create measured-boot` refstates (kl_mb_refstate_create) equal, byte
 *     for byte, the ones upstream's create_mb_policy wrote for the same logs;
 *   - every case of expected_mb_policy.json (upstream's bootlog_evaluate
 *     outcomes for patched logs and refstates) gives the same events;
 *   - the refstate made here from each log evaluated against that log: the
 *     Secure Boot logs pass; the two logs upstream's example policy rejects
 *     with its own refstate (a StartupLocality record; a dbx of several
 *     signature lists) are rejected the same way.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/hash.h"
#include "json/json.h"
#include "kat_util.h"
#include "mb/eventlog.h"
#include "policy/mb_policy.h"
#include "policy/mb_refstate.h"
#include "util/kl_alloc.h"
#include "util/kl_b64.h"
#include "util/kl_hex.h"

static const char *const logs[] = {
    "binary_bios_measurements",
    "binary_bios_measurements-secureboot",
    "mb_log.bin",
    "uefi_log.bin",
};

static kl_eventlog *
load_log(const char *rel)
{
    kl_eventlog *log = NULL;
    kl_buf b;

    kat_read(rel, &b);
    if (kl_eventlog_parse(&log, kl_buf_bytes(&b)) != KL_OK)
        fail_msg("%s: %s", rel, kl_err_msg());
    kl_buf_free(&b);
    return log;
}

static void
check_bank(const kl_eventlog *log, const char *name, json_t *pcrs, const char *file)
{
    kl_hash_alg alg;
    kl_pcr_set s;
    char hex[2 * KL_HASH_MAX_SIZE + 1];

    assert_true(kl_hash_from_name(KL_BYTES(name, strlen(name)), &alg));
    assert_true(kl_eventlog_has_bank(log, alg));
    assert_int_equal(kl_eventlog_replay(log, alg, &s), KL_OK);
    for (int i = 0; i < 16; i++) {
        char key[8];
        const char *want;

        snprintf(key, sizeof(key), "%d", i);
        want = json_string_value(json_object_get(pcrs, key));
        assert_non_null(want);
        kl_hex_encode(hex, s.value[i], kl_hash_size(alg));
        if (strcmp(hex, want) != 0)
            fail_msg("%s %s PCR %d: %s, expected %s", file, name, i, hex, want);
    }
}

static void
test_kat_eventlog_replay(void **state)
{
    (void)state;
    for (size_t f = 0; f < sizeof(logs) / sizeof(logs[0]); f++) {
        char rel[128];
        json_t *exp, *algs, *alg, *agg;
        kl_eventlog *log;
        kl_buf aggs;
        size_t i, off = 0;

        snprintf(rel, sizeof(rel), "eventlog/%s.expected.json", logs[f]);
        exp = kat_json(rel);
        snprintf(rel, sizeof(rel), "eventlog/%s", logs[f]);
        log = load_log(rel);
        assert_int_equal(kl_eventlog_count(log),
                         json_integer_value(json_object_get(exp, "records_including_specid_header")));
        assert_true(kl_eventlog_crypto_agile(log));
        algs = json_object_get(exp, "algorithms");
        assert_int_equal(kl_eventlog_bank_count(log), json_array_size(algs));
        json_array_foreach(algs, i, alg) {
            const kl_eventlog_bank *b = kl_eventlog_bank_at(log, i);

            assert_true(b->hashable);
            assert_string_equal(kl_hash_name(b->alg), json_string_value(alg));
        }
        if (json_is_null(json_object_get(exp, "startup_locality")))
            assert_int_equal(kl_eventlog_startup_locality(log), -1);
        else
            assert_int_equal(kl_eventlog_startup_locality(log),
                             json_integer_value(json_object_get(exp, "startup_locality")));
        json_array_foreach(algs, i, alg)
            check_bank(log, json_string_value(alg),
                       json_object_get(json_object_get(exp, "pcrs"), json_string_value(alg)), rel);
        /* boot aggregates: per bank in the order sha1, sha256 */
        kl_buf_init(&aggs, 1 << 20);
        assert_int_equal(kl_eventlog_boot_aggregates(log, &aggs), KL_OK);
        for (const char *const *b = (const char *const[]){"sha1", "sha256", NULL}; *b; b++) {
            agg = json_object_get(json_object_get(exp, "boot_aggregate"), *b);
            if (!agg)
                continue;
            for (const char *const *k = (const char *const[]){"pcr0_7", "pcr0_9", NULL}; *k; k++) {
                const char *want = json_string_value(json_object_get(agg, *k));

                assert_true(off < aggs.len);
                assert_string_equal((const char *)aggs.ptr + off, want);
                off += strlen(want) + 1;
            }
        }
        assert_int_equal(off, aggs.len);
        kl_buf_free(&aggs);
        kl_eventlog_free(log);
        json_decref(exp);
    }
}

static void
test_kat_eventlog_negative(void **state)
{
    kl_eventlog *log = NULL;
    kl_pcr_set s;
    kl_buf b, aggs;

    (void)state;
    kat_read("eventlog/binary_bios_measurements-bogus", &b);
    assert_int_equal(kl_eventlog_parse(&log, kl_buf_bytes(&b)), KL_EPARSE);
    assert_null(log);
    assert_non_null(strstr(kl_err_msg(), "record 0 at offset 0"));
    kl_buf_free(&b);

    log = load_log("eventlog/binary_bios_measurements-empty");
    assert_int_equal(kl_eventlog_count(log), 0);
    assert_int_equal(kl_eventlog_bank_count(log), 0);
    assert_int_equal(kl_eventlog_startup_locality(log), -1);
    assert_int_equal(kl_eventlog_replay(log, KL_HASH_SHA256, &s), KL_ENOTFOUND);
    kl_buf_init(&aggs, 1024);
    assert_int_equal(kl_eventlog_boot_aggregates(log, &aggs), KL_OK);
    assert_int_equal(aggs.len, 0);
    kl_buf_free(&aggs);
    kl_eventlog_free(log);
}

static void
test_kat_eventlog_b64(void **state)
{
    kl_buf b64, bin, dec;
    size_t w = 0;

    (void)state;
    kat_read("eventlog/mb_log.b64", &b64);
    kat_read("eventlog/mb_log.bin", &bin);
    for (size_t r = 0; r < b64.len; r++) {
        if (b64.ptr[r] != '\n' && b64.ptr[r] != '\r')
            b64.ptr[w++] = b64.ptr[r];
    }
    b64.len = w;
    kl_buf_init(&dec, 1 << 20);
    assert_int_equal(kl_b64_decode_append(&dec, kl_buf_bytes(&b64), false), KL_OK);
    assert_true(kl_bytes_eq(kl_buf_bytes(&dec), kl_buf_bytes(&bin)));
    kl_buf_free(&b64);
    kl_buf_free(&bin);
    kl_buf_free(&dec);
}

/* The refstate kl_mb_refstate_create makes of a log, as JSON text. */
static void
refstate_of(const char *log_rel, bool without_sb, kl_buf *out)
{
    kl_mb_refstate_opts o = KL_MB_REFSTATE_OPTS_INIT;
    kl_eventlog *log = load_log(log_rel);
    json_t *state = NULL;

    o.without_secureboot = without_sb;
    if (kl_mb_refstate_create(&state, log, &o) != KL_OK)
        fail_msg("%s: %s", log_rel, kl_err_msg());
    kl_buf_init(out, 1 << 24);
    assert_int_equal(kl_json_dump_py(out, state), KL_OK);
    json_decref(state);
    kl_eventlog_free(log);
}

static const struct {
    const char *log, *refstate;
    bool without_sb;
} refstates[] = {
    {"binary_bios_measurements-secureboot", "binary_bios_measurements-secureboot.json", false},
    {"binary_bios_measurements", "binary_bios_measurements-i.json", true},
    {"mb_log.bin", "mb_log.bin-i.json", true},
    {"uefi_log.bin", "uefi_log.bin-i.json", true},
};

static void
test_kat_eventlog_refstates(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(refstates) / sizeof(refstates[0]); i++) {
        char rel[160];
        kl_buf mine, want;

        snprintf(rel, sizeof(rel), "eventlog/%s", refstates[i].log);
        refstate_of(rel, refstates[i].without_sb, &mine);
        snprintf(rel, sizeof(rel), "eventlog/refstate/%s", refstates[i].refstate);
        kat_read(rel, &want);
        if (!kl_bytes_eq(kl_buf_bytes(&mine), kl_buf_bytes(&want)))
            fail_msg("%s differs from what upstream wrote", rel);
        kl_buf_free(&mine);
        kl_buf_free(&want);
    }
}

/* The set/del/append operations of a case on the refstate. */
static void
patch_refstate(json_t *r, json_t *ops)
{
    size_t i, k;
    json_t *op, *key;

    json_array_foreach(ops, i, op) {
        json_t *path = json_object_get(op, "path"), *target = r;
        const char *kind = json_string_value(json_object_get(op, "op"));
        json_t *last = json_array_get(path, json_array_size(path) - 1);
        json_t *value = json_object_get(op, "value");

        json_array_foreach(path, k, key) {
            if (k + 1 == json_array_size(path))
                break;
            target = json_is_string(key) ? json_object_get(target, json_string_value(key))
                                         : json_array_get(target, (size_t)json_integer_value(key));
        }
        assert_non_null(target);
        if (strcmp(kind, "set") == 0 && json_is_string(last))
            assert_int_equal(json_object_set(target, json_string_value(last), value), 0);
        else if (strcmp(kind, "set") == 0)
            assert_int_equal(json_array_set(target, (size_t)json_integer_value(last), value), 0);
        else if (strcmp(kind, "del") == 0)
            assert_int_equal(json_object_del(target, json_string_value(last)), 0);
        else
            assert_int_equal(json_array_append(json_object_get(target, json_string_value(last)),
                                               value),
                             0);
    }
}

static void
sha256_hex(const char *s, size_t n, char out[65])
{
    uint8_t d[32];

    assert_int_equal(kl_hash(KL_HASH_SHA256, s, n, d), KL_OK);
    kl_hex_encode(out, d, 32);
}

/* An event of ours against an expected one (summarised as the data file
 * describes). */
static void
check_event(const char *name, const kl_failure *got, json_t *want)
{
    json_t *wctx = json_object_get(want, "context"), *v;
    const char *key;
    char hex[65];

    if (strcmp(got->event_id, json_string_value(json_object_get(want, "event_id"))) != 0)
        fail_msg("%s: event %s, expected %s", name, got->event_id,
                 json_string_value(json_object_get(want, "event_id")));
    json_object_foreach(wctx, key, v) {
        json_t *mine;
        const char *s;
        size_t n;

        if (strcmp(key, "refstate_sha256") == 0 || strcmp(key, "reason_sha256") == 0) {
            mine = json_object_get(got->context, strcmp(key, "refstate_sha256") ? "reason" : "refstate");
            sha256_hex(json_string_value(mine), json_string_length(mine), hex);
            if (strcmp(hex, json_string_value(v)) != 0) {
                s = json_string_value(mine);
                fail_msg("%s: %s differs; ours starts %.300s", name, key, s);
            }
            continue;
        }
        if (strcmp(key, "reason_head") == 0 || strcmp(key, "reason_tail") == 0) {
            mine = json_object_get(got->context, "reason");
            s = json_string_value(mine);
            n = json_string_length(v);
            assert_true(json_string_length(mine) >= n);
            if (strcmp(key, "reason_tail") == 0)
                s += json_string_length(mine) - n;
            assert_memory_equal(s, json_string_value(v), n);
            continue;
        }
        mine = json_object_get(got->context, key);
        if (!json_equal(mine, v)) {
            char *a = json_dumps(mine, JSON_ENCODE_ANY), *b = json_dumps(v, JSON_ENCODE_ANY);

            fail_msg("%s: context %s is\n  %s\nexpected\n  %s", name, key, a, b);
        }
    }
    /* ours has "refstate" for refstate_sha256 and "reason" for the three
     * reason_* keys */
    assert_int_equal(json_object_size(got->context),
                     json_object_size(wctx) - (json_object_get(wctx, "reason_sha256") ? 2 : 0));
}

static void
run_case(json_t *c)
{
    const char *name = json_string_value(json_object_get(c, "name"));
    const kl_mb_engine *e;
    kl_eventlog *log = NULL;
    kl_verdict v = KL_VERDICT_INIT;
    json_t *patch, *p, *want, *text;
    uint32_t pcrs = 0xffffff;
    kl_buf lb, rb;
    size_t i;

    kat_read(json_string_value(json_object_get(c, "log")), &lb);
    json_array_foreach(json_object_get(c, "log_patch"), i, patch) {
        size_t off = (size_t)json_integer_value(json_array_get(patch, 0));
        const char *hex = json_string_value(json_array_get(patch, 1));

        assert_true(off + strlen(hex) / 2 <= lb.len);
        assert_true(kl_hex_decode(lb.ptr + off, KL_BYTES(hex, strlen(hex))));
    }
    assert_int_equal(kl_eventlog_parse(&log, kl_buf_bytes(&lb)), KL_OK);
    kl_buf_free(&lb);
    kl_buf_init(&rb, 1 << 24);
    if ((text = json_object_get(c, "refstate_text"))) {
        assert_int_equal(kl_buf_append(&rb, json_string_value(text), json_string_length(text)),
                         KL_OK);
    } else {
        json_t *r = kat_json(json_string_value(json_object_get(c, "refstate")));

        patch_refstate(r, json_object_get(c, "refstate_patch"));
        assert_int_equal(kl_json_dump_py(&rb, r), KL_OK);
        json_decref(r);
    }
    if ((p = json_object_get(c, "pcrs"))) {
        pcrs = 0;
        json_array_foreach(p, i, want)
            pcrs |= 1u << json_integer_value(want);
    }
    assert_int_equal(kl_mb_engine_find(json_string_value(json_object_get(c, "policy")), &e), KL_OK);
    if (kl_mb_engine_evaluate(&v, e, kl_buf_bytes(&rb), log, pcrs) != KL_OK)
        fail_msg("%s: %s", name, kl_err_msg());
    want = json_object_get(c, "events");
    if (v.count != json_array_size(want))
        fail_msg("%s: %zu events, expected %zu", name, v.count, json_array_size(want));
    for (i = 0; i < v.count; i++)
        check_event(name, &v.items[i], json_array_get(want, i));
    kl_verdict_free(&v);
    kl_buf_free(&rb);
    kl_eventlog_free(log);
}

static void
test_kat_eventlog_upstream_cases(void **state)
{
    json_t *spec = kat_json("eventlog/expected_mb_policy.json"), *c;
    size_t i;

    (void)state;
    assert_true(json_array_size(json_object_get(spec, "cases")) >= 50);
    json_array_foreach(json_object_get(spec, "cases"), i, c)
        run_case(c);
    json_decref(spec);
}

/* Our own refstate against the log it came from. */
static void
self_check(const char *log_rel, bool without_sb, const char *want_reason)
{
    const kl_mb_engine *e;
    kl_eventlog *log = load_log(log_rel);
    kl_verdict v = KL_VERDICT_INIT;
    kl_buf r;

    refstate_of(log_rel, without_sb, &r);
    assert_int_equal(kl_mb_engine_find("example", &e), KL_OK);
    assert_true(kl_mb_engine_refstate_valid(e, kl_buf_bytes(&r)));
    assert_int_equal(kl_mb_engine_evaluate(&v, e, kl_buf_bytes(&r), log, 0xffffff), KL_OK);
    if (!want_reason) {
        if (v.count != 0)
            fail_msg("%s: %s", log_rel,
                     json_string_value(json_object_get(v.items[0].context, "reason")));
    } else {
        assert_int_equal(v.count, 1);
        assert_string_equal(v.items[0].event_id, "measured_boot.policy_example");
        assert_non_null(strstr(json_string_value(json_object_get(v.items[0].context, "reason")),
                               want_reason));
    }
    kl_verdict_free(&v);
    kl_buf_free(&r);
    kl_eventlog_free(log);
}

static void
test_kat_eventlog_own_refstates(void **state)
{
    (void)state;
    self_check("eventlog/binary_bios_measurements-secureboot", false, NULL);
    self_check("eventlog/mb_log.bin", true, NULL);
    self_check("eventlog/binary_bios_measurements", true,
               "'Event': {'StartupLocality': 3}} test was already run once");
    self_check("eventlog/uefi_log.bin", true,
               "Event VariableData [ is longer (5) than the applicable tests (1),  is longer (5) "
               "than the applicable tests (1)]");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kat_eventlog_replay),
        cmocka_unit_test(test_kat_eventlog_negative),
        cmocka_unit_test(test_kat_eventlog_b64),
        cmocka_unit_test(test_kat_eventlog_refstates),
        cmocka_unit_test(test_kat_eventlog_upstream_cases),
        cmocka_unit_test(test_kat_eventlog_own_refstates),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
