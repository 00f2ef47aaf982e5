/* kl_ima_eval: every event id the IMA engine can emit, the PCR replay and
 * match rule, incremental state, binary lists and keyring learning. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ima/ima_binary.h"
#include "ima/ima_pcr.h"
#include "ima_build.h"
#include "json/json.h"
#include "policy/runtime_eval.h"
#include "util/kl_alloc.h"
#include "util/kl_file.h"
#include "util/kl_hex.h"

#define FOO "/usr/bin/foo"
#define BAR "/etc/bar.conf"

/* Ed25519 public key of RFC 8032 test 1, as DER SubjectPublicKeyInfo. */
#define ED25519_SPKI                                                                               \
    "302a300506032b6570032100d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"

static kl_runtime_policy *
policy(const char *digests, const char *extra)
{
    kl_runtime_policy *p = NULL;
    kl_buf t;

    kl_buf_init(&t, 1 << 20);
    assert_int_equal(kl_buf_printf(&t,
                                   "{\"meta\": {\"version\": 1, \"generator\": 3}, \"release\": 0, "
                                   "\"digests\": {%s}, \"excludes\": [], \"keyrings\": {}, "
                                   "\"ima\": {\"ignored_keyrings\": [], \"log_hash_alg\": "
                                   "\"sha1\", \"dm_policy\": null}, \"ima-buf\": {}, "
                                   "\"verification-keys\": \"\"%s}",
                                   digests, extra ? extra : ""),
                     KL_OK);
    if (kl_runtime_policy_load(&p, kl_buf_bytes(&t), NULL) != KL_OK)
        fail_msg("%s", kl_err_msg());
    kl_buf_free(&t);
    return p;
}

static const char *
foo_digest(void)
{
    return ima_build_sha256("foo");
}

static ima_line
ng(const char *name, const char *digest)
{
    return (ima_line){NULL, "ima-ng", "sha256", digest, name, NULL, KL_HASH_SHA1, 0};
}

/* Runs an evaluation; returns the verdict (caller frees). */
static kl_verdict
run(const kl_ima_eval_opts *o, const kl_buf *log, const uint8_t *quoted, kl_ima_state *st,
    kl_ima_result *res)
{
    kl_verdict v = KL_VERDICT_INIT;

    assert_int_equal(kl_ima_eval(&v, res, o, kl_buf_bytes(log), quoted, st), KL_OK);
    return v;
}

static void
assert_ids(const kl_verdict *v, const char *const *ids, size_t n)
{
    if (v->count != n) {
        for (size_t i = 0; i < v->count; i++)
            print_message("got %s\n", v->items[i].event_id);
        fail_msg("%zu events, expected %zu", v->count, n);
    }
    for (size_t i = 0; i < n; i++)
        assert_string_equal(v->items[i].event_id, ids[i]);
}

static const char *
ctx_str(const kl_verdict *v, size_t i, const char *key)
{
    const char *s = json_string_value(json_object_get(v->items[i].context, key));

    assert_non_null(s);
    return s;
}

static void
test_runtime_eval_pass_and_match(void **state)
{
    kl_ima_eval_opts o = KL_IMA_EVAL_OPTS_INIT;
    uint8_t pcr[32] = {0};
    kl_runtime_policy *p;
    ima_line a, b;
    kl_ima_result res;
    kl_verdict v;
    kl_buf log;
    char d[512];

    (void)state;
    snprintf(d, sizeof(d), "\"" FOO "\": [\"%s\"], \"" BAR "\": [\"%s\"]", foo_digest(),
             ima_build_sha256("bar"));
    p = policy(d, NULL);
    a = ng(FOO, foo_digest());
    b = ng(BAR, ima_build_sha256("bar"));
    kl_buf_init(&log, 1 << 20);
    ima_build_line(&log, &a);
    ima_build_line(&log, &b);
    ima_build_extend(pcr, KL_HASH_SHA256, &a);
    ima_build_extend(pcr, KL_HASH_SHA256, &b);
    o.policy = p;
    o.bank = KL_HASH_SHA256;
    v = run(&o, &log, pcr, NULL, &res);
    assert_int_equal(v.count, 0);
    assert_true(res.matched);
    assert_int_equal(res.match_lines, 2);
    assert_int_equal(res.entries, 2);
    assert_memory_equal(res.pcr10, pcr, 32);
    kl_verdict_free(&v);
    kl_buf_free(&log);
    kl_runtime_policy_free(p);
}

/* Lines: wrong PCR, violation (tomtou when enabled), template hash
 * mismatch, unknown path, wrong digest, unparsable. */
static void
test_runtime_eval_entry_events(void **state)
{
    static const char *const want[] = {
        "ima.validation.ima_pcr",                    "ima.validation.tomtou",
        "ima.validation.ima_hash",                   "ima.validation.ima-ng.not_in_allowlist",
        "ima.validation.ima-ng.runtime_policy_hash", "ima.parser.entry",
    };
    char d[256];
    kl_runtime_policy *p;
    kl_ima_eval_opts o = KL_IMA_EVAL_OPTS_INIT;
    ima_line l[5];
    kl_ima_result res;
    kl_verdict v;
    kl_buf log;

    (void)state;
    snprintf(d, sizeof(d), "\"" FOO "\": [\"%s\", \"%s\"]", ima_build_sha256("a"),
             ima_build_sha256("b"));
    p = policy(d, NULL);
    l[0] = ng(FOO, ima_build_sha256("a"));
    l[0].pcr = "11";
    l[1] = ng("/tmp/x", ima_build_sha256("x"));
    l[1].mutate = MUT_ZERO_HASH;
    l[2] = ng("/tmp/y", ima_build_sha256("y"));
    l[2].mutate = MUT_BAD_HASH;
    l[3] = ng("/root/evil.sh", ima_build_sha256("evil"));
    l[4] = ng(FOO, foo_digest());
    kl_buf_init(&log, 1 << 20);
    for (int i = 0; i < 5; i++)
        ima_build_line(&log, &l[i]);
    assert_int_equal(kl_buf_append_str(&log, "10 not an entry\n"), KL_OK);
    o.policy = p;
    o.tomtou_events = true;
    v = run(&o, &log, NULL, NULL, &res);
    assert_ids(&v, want, 6);
    assert_string_equal(ctx_str(&v, 0, "got"), "11");
    assert_string_equal(ctx_str(&v, 0, "expected"), "10");
    assert_string_equal(ctx_str(&v, 1, "message"), "hash validation was skipped");
    assert_string_equal(ctx_str(&v, 2, "message"),
                        "IMA template hash does not match the calculated hash.");
    assert_string_equal(ctx_str(&v, 3, "message"), "File not found in allowlist: /root/evil.sh");
    assert_string_equal(ctx_str(&v, 4, "got"), foo_digest());
    assert_int_equal(json_array_size(json_object_get(v.items[4].context, "expected")), 2);
    assert_string_equal(ctx_str(&v, 5, "message"),
                        "Line was not parsable into a valid IMA entry: 10 not an entry");
    assert_int_equal(res.entries, 6);
    kl_verdict_free(&v);
    /* violations are accepted silently by default */
    o.tomtou_events = false;
    v = run(&o, &log, NULL, NULL, &res);
    assert_int_equal(v.count, 5);
    kl_verdict_free(&v);
    kl_buf_free(&log);
    kl_runtime_policy_free(p);
}

/* Violations extend FF..FF; unparsable lines are not replayed. */
static void
test_runtime_eval_replay_rules(void **state)
{
    uint8_t pcr[32] = {0};
    kl_ima_eval_opts o = KL_IMA_EVAL_OPTS_INIT;
    ima_line a = ng(FOO, foo_digest()), z = ng("/x", foo_digest());
    kl_ima_result res;
    kl_verdict v;
    kl_buf log;

    (void)state;
    z.mutate = MUT_ZERO_HASH;
    kl_buf_init(&log, 1 << 20);
    ima_build_line(&log, &a);
    assert_int_equal(kl_buf_append_str(&log, "\ngarbage\n\n"), KL_OK);
    ima_build_line(&log, &z);
    ima_build_extend(pcr, KL_HASH_SHA256, &a);
    ima_build_extend(pcr, KL_HASH_SHA256, &z);
    o.bank = KL_HASH_SHA256;
    v = run(&o, &log, pcr, NULL, &res);
    assert_int_equal(v.count, 1); /* the garbage line */
    assert_memory_equal(res.pcr10, pcr, 32);
    /* upstream counts physical lines (empty ones too) up to the match */
    assert_int_equal(res.match_lines, 5);
    assert_int_equal(res.entries, 3);
    kl_verdict_free(&v);
    kl_buf_free(&log);
}

static void
test_runtime_eval_pcr_mismatch(void **state)
{
    uint8_t quoted[20];
    kl_ima_eval_opts o = KL_IMA_EVAL_OPTS_INIT;
    ima_line a = ng(FOO, foo_digest());
    static const char *const want[] = {"ima.pcr_mismatch"};
    kl_ima_result res;
    kl_verdict v;
    kl_buf log;

    (void)state;
    memset(quoted, 0xab, sizeof(quoted));
    kl_buf_init(&log, 1 << 20);
    ima_build_line(&log, &a);
    v = run(&o, &log, quoted, NULL, &res);
    assert_ids(&v, want, 1);
    assert_string_equal(ctx_str(&v, 0, "message"),
                        "IMA measurement list does not match TPM PCR "
                        "abababababababababababababababababababab");
    assert_false(res.matched);
    kl_verdict_free(&v);
    kl_buf_free(&log);
}

/* A quote that matched before the first line (PCR unchanged) is a match at
 * line 0; the state only moves on a match inside the list. */
static void
test_runtime_eval_incremental_state(void **state)
{
    kl_ima_eval_opts o = KL_IMA_EVAL_OPTS_INIT;
    ima_line a = ng(FOO, foo_digest()), b = ng(BAR, foo_digest());
    kl_ima_state st = {0};
    uint8_t pcr_a[20] = {0}, pcr_b[20];
    kl_ima_result res;
    kl_verdict v;
    kl_buf log;

    (void)state;
    ima_build_extend(pcr_a, KL_HASH_SHA1, &a);
    memcpy(pcr_b, pcr_a, 20);
    ima_build_extend(pcr_b, KL_HASH_SHA1, &b);
    kl_buf_init(&log, 1 << 20);
    ima_build_line(&log, &a);
    ima_build_line(&log, &b);
    /* the quote lags the log by one entry */
    v = run(&o, &log, pcr_a, &st, &res);
    assert_int_equal(v.count, 0);
    assert_int_equal(st.next_entry, 1);
    assert_memory_equal(st.pcr10, pcr_a, 20);
    assert_memory_equal(res.pcr10, pcr_b, 20);
    kl_verdict_free(&v);
    /* the agent resends from entry 1; the quote caught up */
    kl_buf_reset(&log);
    ima_build_line(&log, &b);
    v = run(&o, &log, pcr_b, &st, &res);
    assert_int_equal(v.count, 0);
    assert_int_equal(st.next_entry, 2);
    kl_verdict_free(&v);
    /* nothing new: matched at line 0, state unchanged */
    kl_buf_reset(&log);
    v = run(&o, &log, pcr_b, &st, &res);
    assert_int_equal(v.count, 0);
    assert_true(res.matched);
    assert_int_equal(res.match_lines, 0);
    assert_int_equal(st.next_entry, 2);
    kl_verdict_free(&v);
    /* a failure resets the state to the start */
    v = run(&o, &log, pcr_a, &st, &res);
    assert_int_equal(v.count, 1);
    assert_int_equal(st.next_entry, 0);
    assert_false(st.progress_known);
    kl_verdict_free(&v);
    kl_buf_free(&log);
}

/* upstream check_quote_progress: the quote lagged before and did not catch
 * up with the previous lag. */
static void
test_runtime_eval_quote_progress(void **state)
{
    static const char *const want[] = {"ima.quote_progress"};
    kl_ima_eval_opts o = KL_IMA_EVAL_OPTS_INIT;
    ima_line a = ng(FOO, foo_digest()), b = ng(BAR, foo_digest()), c = ng("/c", foo_digest());
    kl_ima_state st = {0};
    uint8_t pcr[20] = {0};
    kl_ima_result res;
    kl_verdict v;
    kl_buf log;

    (void)state;
    ima_build_extend(pcr, KL_HASH_SHA1, &a);
    kl_buf_init(&log, 1 << 20);
    ima_build_line(&log, &a);
    ima_build_line(&log, &b);
    ima_build_line(&log, &c);
    st.progress_known = true;
    st.prev_len = 5;
    st.prev_match = 2; /* lagged by 3 last time */
    v = run(&o, &log, pcr, &st, &res);
    assert_ids(&v, want, 1);
    assert_string_equal(ctx_str(&v, 0, "message"),
                        "PCR quote did not make progress to catch up with log");
    assert_int_equal(st.next_entry, 0); /* reset */
    kl_verdict_free(&v);
    kl_buf_free(&log);
}

/* ima-sig with a keyring set but no policy and no valid signature. */
static void
test_runtime_eval_invalid_signature(void **state)
{
    static const char *const want[] = {"ima.validator.ima-sig.invalid_signature"};
    kl_ima_eval_opts o = KL_IMA_EVAL_OPTS_INIT;
    ima_line s = {NULL, "ima-sig", "sha256", foo_digest(), FOO, "", KL_HASH_SHA1, 0};
    kl_ima_keyrings *learned = NULL;
    kl_ima_result res;
    kl_verdict v;
    kl_buf log;

    (void)state;
    assert_int_equal(kl_ima_keyrings_new(&learned), KL_OK);
    kl_buf_init(&log, 1 << 20);
    ima_build_line(&log, &s);
    v = run(&o, &log, NULL, NULL, &res); /* no keyring set: accepted */
    assert_int_equal(v.count, 0);
    kl_verdict_free(&v);
    o.learned = learned;
    v = run(&o, &log, NULL, NULL, &res);
    assert_ids(&v, want, 1);
    assert_string_equal(ctx_str(&v, 0, "message"),
                        "signature for file " FOO " could not be validated");
    kl_verdict_free(&v);
    kl_ima_keyrings_free(learned);
    kl_buf_free(&log);
}

static void
test_runtime_eval_invalid_key(void **state)
{
    static const char *const want[] = {"ima.invalid_key"};
    kl_ima_eval_opts o = KL_IMA_EVAL_OPTS_INIT;
    ima_line k = {NULL, "ima-buf", "sha256", foo_digest(), ".ima", ED25519_SPKI, KL_HASH_SHA1, 0};
    kl_ima_result res;
    kl_verdict v;
    kl_buf log;

    (void)state;
    kl_buf_init(&log, 1 << 20);
    ima_build_line(&log, &k);
    v = run(&o, &log, NULL, NULL, &res);
    assert_ids(&v, want, 1);
    assert_non_null(strstr(ctx_str(&v, 0, "message"),
                           "key from .ima does not have a supported key: unsupported key type"));
    kl_verdict_free(&v);
    kl_buf_free(&log);
}

/* Excludes use re.match (prefix) semantics and beat missing entries. */
static void
test_runtime_eval_excludes(void **state)
{
    static const char *const want[] = {"ima.validation.ima-ng.not_in_allowlist"};
    kl_runtime_policy *p = policy("", ", \"excludes\": [\"/tmp\", \"/var/log/.*\\\\.log$\"]");
    kl_ima_eval_opts o = KL_IMA_EVAL_OPTS_INIT;
    ima_line l[3] = {ng("/tmpfoo/x", foo_digest()), ng("/var/log/a.log", foo_digest()),
                     ng("/var/log/a.log.1", foo_digest())};
    kl_ima_result res;
    kl_verdict v;
    kl_buf log;

    (void)state;
    kl_buf_init(&log, 1 << 20);
    for (int i = 0; i < 3; i++)
        ima_build_line(&log, &l[i]);
    o.policy = p;
    v = run(&o, &log, NULL, NULL, &res);
    assert_ids(&v, want, 1);
    assert_string_equal(ctx_str(&v, 0, "message"), "File not found in allowlist: /var/log/a.log.1");
    kl_verdict_free(&v);
    kl_buf_free(&log);
    kl_runtime_policy_free(p);
}

/* Measured-boot aggregates are allowed for boot_aggregate too. */
static void
test_runtime_eval_boot_aggregates(void **state)
{
    static const char *const want[] = {"ima.validation.ima-ng.runtime_policy_hash"};
    char hex[65];
    kl_runtime_policy *p = policy("", NULL);
    kl_ima_eval_opts o = KL_IMA_EVAL_OPTS_INIT;
    ima_line ba = ng("boot_aggregate", foo_digest());
    kl_bytes extra;
    kl_ima_result res;
    kl_verdict v;
    kl_buf log;

    (void)state;
    snprintf(hex, sizeof(hex), "%s", foo_digest());
    extra = KL_BYTES(hex, 64);
    kl_buf_init(&log, 1 << 20);
    ima_build_line(&log, &ba);
    o.policy = p;
    o.boot_aggregates = &extra;
    o.n_boot_aggregates = 1;
    v = run(&o, &log, NULL, NULL, &res);
    assert_int_equal(v.count, 0);
    kl_verdict_free(&v);
    hex[0] = hex[0] == '0' ? '1' : '0';
    v = run(&o, &log, NULL, NULL, &res);
    assert_ids(&v, want, 1);
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(v.items[0].context, "expected"), 0)),
                        hex);
    kl_verdict_free(&v);
    kl_buf_free(&log);
    kl_runtime_policy_free(p);
}

/* A key measured into .ima is learned when the policy lists it, and then
 * found by its certificate's key id; ignored keyrings learn nothing. */
static void
test_runtime_eval_keyring_learning(void **state)
{
    static const char *const want[] = {"ima.validation.ima-ng.not_in_allowlist"};
    const char *keys = ", \"keyrings\": {\".ima\": "
                       "[\"a7d52aaa18c23d2d9bb2abb4308c0eeee67387a42259f4a6b1a42257065f3d5a\"]}";
    kl_runtime_policy *p = policy("", keys);
    kl_runtime_policy *ign = policy("", ", \"ima\": {\"ignored_keyrings\": [\"*\"], "
                                        "\"log_hash_alg\": \"sha1\", \"dm_policy\": null}");
    kl_ima_eval_opts o = KL_IMA_EVAL_OPTS_INIT;
    kl_ima_keyrings *learned = NULL;
    const char *path = getenv("KL_TEST_DATA");
    char file[512];
    kl_ima_result res;
    kl_verdict v;
    kl_buf log;

    (void)state;
    snprintf(file, sizeof(file), "%s/ima/inline/ima_buf_keyring.txt", path);
    kl_buf_init(&log, 1 << 20);
    assert_int_equal(kl_file_read(file, &log), KL_OK);
    assert_int_equal(kl_ima_keyrings_new(&learned), KL_OK);
    o.learned = learned;
    o.policy = ign;
    v = run(&o, &log, NULL, NULL, &res);
    assert_int_equal(v.count, 0);
    assert_null(kl_ima_keyrings_find(learned, 0x2cb6058c));
    kl_verdict_free(&v);
    o.policy = p;
    v = run(&o, &log, NULL, NULL, &res);
    assert_int_equal(v.count, 0);
    /* the certificate's subject key identifier ends in 2c b6 05 8c */
    assert_non_null(kl_ima_keyrings_find(learned, 0x2cb6058c));
    kl_verdict_free(&v);
    kl_runtime_policy_free(p);
    p = policy("", NULL); /* keyrings not listed: fails, nothing learned */
    kl_ima_keyrings_free(learned);
    assert_int_equal(kl_ima_keyrings_new(&learned), KL_OK);
    o.learned = learned;
    o.policy = p;
    v = run(&o, &log, NULL, NULL, &res);
    assert_ids(&v, want, 1);
    assert_null(kl_ima_keyrings_find(learned, 0x2cb6058c));
    kl_verdict_free(&v);
    kl_ima_keyrings_free(learned);
    kl_runtime_policy_free(p);
    kl_runtime_policy_free(ign);
    kl_buf_free(&log);
}

/* The same entries as a binary list give the same PCR and events. */
static void
test_runtime_eval_binary_list(void **state)
{
    kl_ima_eval_opts o = KL_IMA_EVAL_OPTS_INIT;
    ima_line l[4] = {ng(FOO, foo_digest()), ng(BAR, foo_digest()),
                     {NULL, "ima", NULL, "0123456789abcdef0123456789abcdef01234567", "/legacy",
                      NULL, KL_HASH_SHA1, 0},
                     {NULL, "ima-sig", "sha256", foo_digest(), "/s", "", KL_HASH_SHA1, 0}};
    kl_ima_result ra, rb;
    kl_verdict va, vb;
    kl_buf ascii, bin;

    (void)state;
    l[1].mutate = MUT_ZERO_HASH;
    kl_buf_init(&ascii, 1 << 20);
    kl_buf_init(&bin, 1 << 20);
    for (int i = 0; i < 4; i++) {
        ima_build_line(&ascii, &l[i]);
        ima_build_record(&bin, &l[i]);
    }
    assert_true(kl_ima_binary_detect(kl_buf_bytes(&bin)));
    assert_false(kl_ima_binary_detect(kl_buf_bytes(&ascii)));
    o.bank = KL_HASH_SHA384;
    va = run(&o, &ascii, NULL, NULL, &ra);
    o.binary = true;
    vb = run(&o, &bin, NULL, NULL, &rb);
    assert_int_equal(va.count, 0);
    assert_int_equal(vb.count, 0);
    assert_int_equal(rb.entries, 4);
    assert_memory_equal(ra.pcr10, rb.pcr10, 48);
    kl_verdict_free(&va);
    kl_verdict_free(&vb);
    /* a broken record: reported once, nothing after it is read */
    bin.len -= 3;
    vb = run(&o, &bin, NULL, NULL, &rb);
    assert_int_equal(vb.count, 1);
    assert_string_equal(vb.items[0].event_id, "ima.parser.entry");
    assert_int_equal(rb.entries, 3);
    kl_verdict_free(&vb);
    kl_buf_free(&ascii);
    kl_buf_free(&bin);
}

/* Binary records of templates Keylime does not evaluate are reported but
 * still replayed, so the PCR stays exact. */
static void
test_runtime_eval_binary_unknown_template(void **state)
{
    uint8_t data[] = {1, 0, 0, 0, 'x'};
    uint8_t th[20], d[20], pcr[20] = {0}, cat[40];
    kl_ima_eval_opts o = KL_IMA_EVAL_OPTS_INIT;
    kl_ima_result res;
    kl_verdict v;
    kl_buf bin;

    (void)state;
    kl_buf_init(&bin, 1024);
    assert_int_equal(kl_hash(KL_HASH_SHA1, data, sizeof(data), th), KL_OK);
    assert_int_equal(kl_buf_append_u32le(&bin, 10), KL_OK);
    assert_int_equal(kl_buf_append(&bin, th, 20), KL_OK);
    assert_int_equal(kl_buf_append_u32le(&bin, 8), KL_OK);
    assert_int_equal(kl_buf_append_str(&bin, "ima-ngv2"), KL_OK);
    assert_int_equal(kl_buf_append_u32le(&bin, sizeof(data)), KL_OK);
    assert_int_equal(kl_buf_append(&bin, data, sizeof(data)), KL_OK);
    o.binary = true;
    memcpy(d, th, 20);
    memcpy(cat, pcr, 20);
    memcpy(cat + 20, d, 20);
    assert_int_equal(kl_hash(KL_HASH_SHA1, cat, 40, pcr), KL_OK);
    v = run(&o, &bin, pcr, NULL, &res);
    assert_int_equal(v.count, 1);
    assert_string_equal(v.items[0].event_id, "ima.parser.entry");
    assert_true(res.matched);
    kl_verdict_free(&v);
    kl_buf_free(&bin);
}

/* log_hash_alg sha256: the column is a sha256 template hash. */
static void
test_runtime_eval_log_hash_alg(void **state)
{
    kl_runtime_policy *p = policy("", ", \"ima\": {\"ignored_keyrings\": [], \"log_hash_alg\": "
                                      "\"sha256\", \"dm_policy\": null}, \"excludes\": [\".*\"]");
    kl_ima_eval_opts o = KL_IMA_EVAL_OPTS_INIT;
    ima_line a = ng(FOO, foo_digest()), z = ng(BAR, foo_digest());
    kl_ima_result res;
    kl_verdict v;
    kl_buf log;

    (void)state;
    a.th_alg = z.th_alg = KL_HASH_SHA256;
    z.mutate = MUT_ZERO_HASH;
    kl_buf_init(&log, 1 << 20);
    ima_build_line(&log, &a);
    ima_build_line(&log, &z);
    o.policy = p;
    v = run(&o, &log, NULL, NULL, &res);
    assert_int_equal(v.count, 0);
    kl_verdict_free(&v);
    kl_runtime_policy_free(p);
    /* with the default sha1, the same column is a mismatch */
    p = policy("", ", \"excludes\": [\".*\"]");
    o.policy = p;
    v = run(&o, &log, NULL, NULL, &res);
    assert_int_equal(v.count, 2);
    assert_string_equal(v.items[0].event_id, "ima.validation.ima_hash");
    kl_verdict_free(&v);
    kl_runtime_policy_free(p);
    kl_buf_free(&log);
}

static void
test_runtime_eval_bad_bank(void **state)
{
    kl_ima_eval_opts o = KL_IMA_EVAL_OPTS_INIT;
    kl_verdict v = KL_VERDICT_INIT;
    kl_ima_result res;

    (void)state;
    o.bank = KL_HASH_MD5;
    assert_int_equal(kl_ima_eval(&v, &res, &o, KL_BYTES("", 0), NULL, NULL), KL_EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runtime_eval_pass_and_match),
        cmocka_unit_test(test_runtime_eval_entry_events),
        cmocka_unit_test(test_runtime_eval_replay_rules),
        cmocka_unit_test(test_runtime_eval_pcr_mismatch),
        cmocka_unit_test(test_runtime_eval_incremental_state),
        cmocka_unit_test(test_runtime_eval_quote_progress),
        cmocka_unit_test(test_runtime_eval_invalid_signature),
        cmocka_unit_test(test_runtime_eval_invalid_key),
        cmocka_unit_test(test_runtime_eval_excludes),
        cmocka_unit_test(test_runtime_eval_boot_aggregates),
        cmocka_unit_test(test_runtime_eval_keyring_learning),
        cmocka_unit_test(test_runtime_eval_binary_list),
        cmocka_unit_test(test_runtime_eval_binary_unknown_template),
        cmocka_unit_test(test_runtime_eval_log_hash_alg),
        cmocka_unit_test(test_runtime_eval_bad_bank),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
