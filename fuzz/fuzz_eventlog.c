/* fuzz_eventlog: UEFI event logs (mb/eventlog.h) and everything built on
 * them: the replay of every bank, the boot aggregates, the records as the
 * policy engines see them (mb/eventlog_json.h), the example policy
 * against a fixed refstate and against the refstate created from the
 * input itself (policy/mb_refstate.h), accept-all and reject-all.
 *
 * Checks: only KL_OK or KL_EPARSE from the parser, and an empty input is
 * the only log without records; records are in order, inside the input,
 * and name PCRs 0-23; every bank the log declares replays (a bank it does
 * not is KL_ENOTFOUND) and marks only PCRs its records name; aggregates
 * are hex; a prefix of the log parses to fewer records or fails; the
 * engines never fail to evaluate (allocation aside), reject-all always
 * rejects a non-empty refstate and accept-all never does; the created
 * refstate is valid JSON the example policy can evaluate; an allocation
 * failure gives KL_ENOMEM or the same outcome, and leaks nothing.
 */
#include <jansson.h>

#include "fuzz_util.h"
#include "json/json.h"
#include "mb/eventlog.h"
#include "mb/eventlog_json.h"
#include "policy/mb_policy.h"
#include "policy/mb_refstate.h"

/* mb_log.bin's refstate (tests/data/eventlog/refstate) with short keys. */
static const char refstate[] =
    "{\"has_secureboot\": true, \"scrtm_and_bios\": [{\"scrtm\": {\"sha256\": "
    "\"0x96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7\"}, "
    "\"platform_firmware\": [{\"sha256\": "
    "\"0x1f077bd8f1d9e09bd6c0b8f711705f55231b64ee53a74c59a170aba2f3aafc32\"}, {\"sha256\": "
    "\"0x39c8074b6d9578fc9d7bde56b46cdf037c6b96e9dbd79b05087b5c8eb6040ac3\"}]}], "
    "\"pk\": [{\"SignatureOwner\": \"a0baa8a3-041d-48a8-bc87-c36d121b5e3d\", \"SignatureData\": "
    "\"0x308203a0\"}], "
    "\"kek\": [{\"SignatureOwner\": \"a0baa8a3-041d-48a8-bc87-c36d121b5e3d\", \"SignatureData\": "
    "\"0x308203a0\"}], "
    "\"db\": [{\"SignatureOwner\": \"77fa9abd-0359-4d32-bd60-28f4e78f784b\", \"SignatureData\": "
    "\"0x308205d7\"}], "
    "\"dbx\": [{\"SignatureOwner\": \"a0baa8a3-041d-48a8-bc87-c36d121b5e3d\", \"SignatureData\": "
    "\"0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}], "
    "\"mokdig\": [{\"sha256\": \"0x97914ece726a70db02f8d344541dfea0b74ace699e1cbe8bd3f16c8818fcedd7\"}], "
    "\"mokxdig\": [{\"sha256\": "
    "\"0x8d8a3aae50d5d25838c95c034aadce7b548c9a952eb7925e366eda537c59c3b0\"}], "
    "\"kernels\": [{\"kernel_authcode_sha256\": "
    "\"0xc6ffd33076d66d41be67125c7614c3c9ff56b4107194cc2d3a0491dfa069445b\", "
    "\"shim_authcode_sha256\": \"0xcb994b400590b66cbf55fc663555caf0d4f1ce267464d0452c2361e05ee1cd50\", "
    "\"grub_authcode_sha256\": \"0x8a4af74576143e8ddfcfd46646b2734f32dc57cea4feaadd00f245625c3933a2\", "
    "\"initrd_plain_sha256\": \"0x39e12a9b2a5fb2ed8ff21cae5f6303ce9c58af16450bbb3575f08de2bb5bb8f2\", "
    "\"kernel_cmdline\": \"\\\\(hd0,gpt2\\\\)/vmlinuz\\\\-5\\\\.14.*\"}]}";

static void
check_records(const kl_eventlog *log, kl_bytes input)
{
    size_t n = kl_eventlog_count(log), prev = 0;

    FUZZ_CHECK((n == 0) == (input.len == 0));
    for (size_t i = 0; i < n; i++) {
        const kl_eventlog_event *e = kl_eventlog_event_at(log, i);

        FUZZ_CHECK(e->num == i);
        FUZZ_CHECK(e->pcr < 24);
        FUZZ_CHECK(i == 0 || e->offset > prev);
        FUZZ_CHECK(e->offset < input.len && e->data.len <= input.len - e->offset);
        FUZZ_CHECK(e->ndigests <= kl_eventlog_bank_count(log));
        prev = e->offset;
    }
}

static void
check_replay(const kl_eventlog *log)
{
    static const kl_hash_alg algs[] = {KL_HASH_SHA1, KL_HASH_SHA256, KL_HASH_SHA384,
                                       KL_HASH_SHA512, KL_HASH_SM3_256};
    uint32_t named = 0;
    kl_pcr_set s;
    kl_buf aggs;

    for (size_t i = 0; i < kl_eventlog_count(log); i++)
        named |= 1u << kl_eventlog_event_at(log, i)->pcr;
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        kl_rc rc = kl_eventlog_replay(log, algs[i], &s);

        if (!kl_eventlog_has_bank(log, algs[i])) {
            FUZZ_CHECK(rc == KL_ENOTFOUND);
            continue;
        }
        FUZZ_CHECK(rc == KL_OK || (rc == KL_ECRYPTO && algs[i] == KL_HASH_SM3_256));
        FUZZ_CHECK((s.present & ~named) == 0);
    }
    kl_buf_init(&aggs, 1 << 16);
    FUZZ_CHECK(kl_eventlog_boot_aggregates(log, &aggs) == KL_OK);
    for (size_t i = 0; i < aggs.len; i++)
        FUZZ_CHECK(aggs.ptr[i] == 0 || (aggs.ptr[i] >= '0' && aggs.ptr[i] <= '9') ||
                   (aggs.ptr[i] >= 'a' && aggs.ptr[i] <= 'f'));
    FUZZ_CHECK(aggs.len == 0 || aggs.ptr[aggs.len - 1] == 0);
    kl_buf_free(&aggs);
}

/* Evaluates one engine; appends its events as JSON to out. */
static kl_rc
evaluate(const char *engine, kl_bytes rs, const kl_eventlog *log, kl_buf *out)
{
    const kl_mb_engine *e;
    kl_verdict v = KL_VERDICT_INIT;
    json_t *j;
    kl_rc rc;

    FUZZ_CHECK(kl_mb_engine_find(engine, &e) == KL_OK);
    rc = kl_mb_engine_evaluate(&v, e, rs, log, 0xffffff);
    if (rc == KL_OK) {
        j = kl_verdict_to_json(&v);
        rc = j ? kl_json_dump_py(out, j) : KL_ENOMEM;
        json_decref(j);
        if (strcmp(engine, "reject-all") == 0)
            FUZZ_CHECK(v.count == 1);
        if (strcmp(engine, "accept-all") == 0)
            FUZZ_CHECK(v.count == 0);
    }
    kl_verdict_free(&v);
    return rc;
}

/* Everything after parsing; the outcomes go to out. */
static kl_rc
pipeline(const kl_eventlog *log, kl_buf *out)
{
    kl_mb_refstate_opts o = KL_MB_REFSTATE_OPTS_INIT;
    json_t *events = NULL, *own = NULL;
    kl_buf text;
    kl_rc rc;

    rc = kl_eventlog_json_events(log, &events);
    json_decref(events);
    if (rc == KL_OK)
        rc = evaluate("example", KL_BYTES_STR(refstate), log, out);
    if (rc == KL_OK)
        rc = evaluate("reject-all", KL_BYTES_STR(refstate), log, out);
    if (rc == KL_OK)
        rc = evaluate("accept-all", KL_BYTES_STR(refstate), log, out);
    if (rc != KL_OK)
        return rc;
    o.without_secureboot = true;
    rc = kl_mb_refstate_create(&own, log, &o);
    if (rc == KL_EINVAL || rc == KL_EUNSUPPORTED)
        return kl_buf_printf(out, "refstate: %d", (int)rc);
    if (rc != KL_OK)
        return rc;
    kl_buf_init(&text, 1 << 26);
    rc = kl_json_dump_py(&text, own);
    if (rc == KL_OK)
        rc = evaluate("example", kl_buf_bytes(&text), log, out);
    kl_buf_free(&text);
    json_decref(own);
    return rc;
}

/* One allocation failure in parse + pipeline: KL_ENOMEM or the same. */
static void
alloc_sweep(kl_bytes input, const kl_buf *normal)
{
    kl_eventlog *log = NULL;
    size_t allocs;
    kl_buf out;
    kl_rc rc;

    kl_buf_init(&out, 1 << 26);
    kl_alloc_fail_at(0);
    rc = kl_eventlog_parse(&log, input);
    if (rc == KL_OK)
        rc = pipeline(log, &out);
    allocs = kl_alloc_fail_at(0);
    kl_eventlog_free(log);
    FUZZ_CHECK(rc == KL_OK && kl_bytes_eq(kl_buf_bytes(&out), kl_buf_bytes(normal)));
    if (allocs) {
        log = NULL;
        kl_buf_reset(&out);
        kl_alloc_fail_at(1 + fuzz_hash(input.ptr, input.len) % allocs);
        rc = kl_eventlog_parse(&log, input);
        if (rc == KL_OK)
            rc = pipeline(log, &out);
        kl_alloc_fail_at(0);
        FUZZ_CHECK(rc == KL_ENOMEM ||
                   (rc == KL_OK && kl_bytes_eq(kl_buf_bytes(&out), kl_buf_bytes(normal))));
        kl_eventlog_free(log);
    }
    kl_buf_free(&out);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet_logs();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kl_bytes input = fuzz_input(data, size);
    kl_eventlog *log = NULL, *prefix = NULL;
    kl_buf out;
    kl_rc rc = kl_eventlog_parse(&log, input);

    fuzz_touch_error();
    FUZZ_CHECK(rc == KL_OK || rc == KL_EPARSE);
    if (rc != KL_OK)
        return 0;
    check_records(log, input);
    check_replay(log);
    if (size > 1) {
        size_t cut = fuzz_hash(data, size) % size;

        if (kl_eventlog_parse(&prefix, KL_BYTES(data, cut)) == KL_OK)
            FUZZ_CHECK(kl_eventlog_count(prefix) <= kl_eventlog_count(log));
        kl_eventlog_free(prefix);
    }
    kl_buf_init(&out, 1 << 26);
    FUZZ_CHECK(pipeline(log, &out) == KL_OK);
    kl_eventlog_free(log);
    alloc_sweep(input, &out);
    kl_buf_free(&out);
    return 0;
}
