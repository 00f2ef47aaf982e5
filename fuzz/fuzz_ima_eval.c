/* fuzz_ima_eval: a whole evaluation (policy/runtime_eval.h, kl_ima_eval)
 * of the input as a measurement list against a small fixed policy with
 * excludes, keyrings and verification keys.
 *
 * The input is evaluated as an ASCII and as a binary list, in the sha1 and
 * sha256 banks, and without a policy. Because random template hashes stop
 * every entry at the hash check, the input is also rewritten with correct
 * template hashes ("fixed") and evaluated again, so entries reach the
 * policy, signature and keyring checks. Checks:
 *   - the final PCR, quoted back, matches;
 *   - the fixed list evaluates to the same events as ASCII and as binary
 *     records (when both formats can express it);
 *   - evaluating a prefix, then the rest with the carried state, matches
 *     the quote of the whole list;
 *   - an allocation failure gives KL_ENOMEM or the same events, and leaks
 *     nothing.
 * The costlier checks run for a share of the inputs, chosen by a hash of
 * the input, so that each input always gets the same ones.
 */
#include "crypto/hash.h"
#include "fuzz_util.h"
#include "ima/ima_ascii.h"
#include "ima/ima_keyring.h"
#include "policy/runtime_eval.h"
#include "policy/runtime_policy.h"
#include "util/kl_hex.h"

#define LOG_ALG KL_HASH_SHA1
#define LOG_SIZE 20

/* Names and digests from tests/data/ima; /usr/bin/dd and /usr/bin/zmore
 * are left out so that their signatures (by the verification keys, from
 * tests/data/ima/inline/keyrings.json) decide. */
static const char policy_json[] =
    "{\"meta\": {\"version\": 1, \"generator\": 1}, \"release\": 0,"
    " \"digests\": {"
    "  \"boot_aggregate\": [\"7b6436b0c98f62380866d9432c2af0ee08ce16a171bda6951aecd95ee1307d61\","
    "                       \"0000000000000000000000000000000000000000\"],"
    "  \"/usr/bin/foo\": [\"5fa3473d182d26c6f26a6cad032ae12092df6e26e12499b4051997b5b723860d\"],"
    "  \"/etc/bar.conf\": [\"a2895430c607ecc97a2618a74876538206bfc44ef2fed1fa18cef695612f24da\"],"
    "  \"/init\": [\"19f13b42c2745066347e76454788c0fe083643f3\"],"
    "  \"/bin/sh\": [\"c90333979f56f38bbd41b81806015b0de502f3cc\","
    "               \"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"]},"
    " \"excludes\": [\"/tmp/.*\", \"/var/log/[^/]*\\\\.log\\\\Z\", \"/lib/modules/\","
    "                \"(?i)/opt/EXCLUDED\"],"
    " \"keyrings\": {\".ima\": "
    "  [\"a7d52aaa18c23d2d9bb2abb4308c0eeee67387a42259f4a6b1a42257065f3d5a\"]},"
    " \"ima\": {\"ignored_keyrings\": [\".builtin_trusted_keys\"], \"log_hash_alg\": \"sha1\","
    "  \"dm_policy\": null},"
    " \"ima-buf\": {\"dm_table_load\": "
    "  [\"0000000000000000000000000000000000000000000000000000000000000000\"]},"
    " \"verification-keys\": \"{\\\"pubkeys\\\": [\\\"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQE"
    "A1cD7bW5tX5qIVgWskS5tzY+XpqWzcW6HFq5npj8dHFIWsAJJCUdoSU631hkyY8HP/RfXDPq/J4IeKvx35EVXj49t1Z1"
    "FTJBgUlEbkKvqm0rY6jo7PnJ6BsDRrauXtiEXVKNXcWXDk8ES+9v9Cz26BJYAr+5Xgm2aEyAbj8GhicxUZfsjDm8eJ7Z"
    "nQKuhF7jejG5dYAYxnBVu99bQJHI5Fsu3dAjGbys9v7ToNbonS+1bJXdHyEE0swhxBOPvvV6vx5CzRNw1Sou3rT19T4j"
    "8wpsFOyYXVcbbRVBAmBE2Qy2UHvojFqaJN/A9lztllyER1S5heGG6CxK3GoR6pkOXAQIDAQAB\\\", \\\"MFYwEAYHK"
    "oZIzj0CAQYFK4EEAAoDQgAEnNH3Y/xOTwRRd8D6hpodRLnVx71qDTLvJHouno7nU7JSzcXWN1PxK+HQEh1V7sMdwBER4"
    "KFKE635JTv6C+BRBg==\\\"], \\\"keyids\\\": [4081397027, 1394556965]}\"}";

static const kl_bytes boot_aggregates[] = {
    KL_BYTES_STR("6bdad7efa602f84ca31ffe3f11ff7c476e25dcdd"),
    KL_BYTES_STR("1111111111111111111111111111111111111111111111111111111111111111"),
};

static kl_runtime_policy *policy;

typedef struct {
    kl_verdict v;
    kl_ima_result res;
    kl_rc rc;
} outcome;

static void
outcome_free(outcome *out)
{
    kl_verdict_free(&out->v);
}

/* One evaluation, with the given learned keyrings or fresh ones. */
static void
evaluate_with(outcome *out, const kl_ima_eval_opts *base, bool binary, kl_hash_alg bank,
              kl_bytes list, const uint8_t *quoted, kl_ima_state *st, kl_ima_keyrings *keep)
{
    kl_ima_eval_opts o = *base;
    kl_ima_keyrings *learned = keep;
    json_t *j;

    out->v = (kl_verdict)KL_VERDICT_INIT;
    o.binary = binary;
    o.bank = bank;
    out->rc = learned ? KL_OK : kl_ima_keyrings_new(&learned);
    o.learned = learned;
    if (out->rc == KL_OK)
        out->rc = kl_ima_eval(&out->v, &out->res, &o, list, quoted, st);
    if (!keep)
        kl_ima_keyrings_free(learned);
    FUZZ_CHECK(out->rc == KL_OK || out->rc == KL_ENOMEM);
    if (out->rc != KL_OK)
        return;
    FUZZ_CHECK(!quoted || out->res.matched || out->v.count > 0);
    FUZZ_CHECK(out->res.entries <= list.len);
    j = kl_verdict_to_json(&out->v);
    FUZZ_CHECK(j && json_array_size(j) == out->v.count);
    json_decref(j);
}

static void
evaluate(outcome *out, const kl_ima_eval_opts *base, bool binary, kl_hash_alg bank, kl_bytes list,
         const uint8_t *quoted, kl_ima_state *st)
{
    evaluate_with(out, base, binary, bank, list, quoted, st, NULL);
}

static bool
same_events(const kl_verdict *a, const kl_verdict *b)
{
    if (a->count != b->count)
        return false;
    for (size_t i = 0; i < a->count; i++)
        if (strcmp(a->items[i].event_id, b->items[i].event_id) != 0)
            return false;
    return true;
}

static void
print_events(const char *what, const kl_verdict *v)
{
    fprintf(stderr, "%s:", what);
    for (size_t i = 0; i < v->count; i++)
        fprintf(stderr, " %s", v->items[i].event_id);
    fprintf(stderr, "\n");
}

/* The final PCR of a list, quoted back, matches. */
static void
check_quote(const kl_ima_eval_opts *o, bool binary, kl_hash_alg bank, kl_bytes list,
            const outcome *first)
{
    outcome q;

    evaluate(&q, o, binary, bank, list, first->res.pcr10, NULL);
    if (q.rc == KL_OK) {
        FUZZ_CHECK(q.res.matched);
        FUZZ_CHECK(memcmp(q.res.pcr10, first->res.pcr10, kl_hash_size(bank)) == 0);
        FUZZ_CHECK(q.res.entries == first->res.entries);
        FUZZ_CHECK(same_events(&q.v, &first->v));
    }
    outcome_free(&q);
}

/* Whether the PCR column is a canonical decimal u32 (so a binary record
 * says the same). */
static bool
canonical_pcr(kl_bytes t, uint32_t *out)
{
    uint64_t v = 0;
    size_t n = t.len;

    if (n == 0 || n > 10 || (t.ptr[0] == '0' && n > 1))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (t.ptr[i] < '0' || t.ptr[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(t.ptr[i] - '0');
    }
    *out = (uint32_t)v;
    return v <= UINT32_MAX;
}

static bool
all_zero(kl_bytes b)
{
    for (size_t i = 0; i < b.len; i++)
        if (b.ptr[i])
            return false;
    return true;
}

/* The input with each parsable line's template hash made correct (kept
 * when it marks a violation), and the same entries as binary records.
 * *comparable: every entry is expressible as a record. */
typedef struct {
    kl_buf ascii, binary;
    size_t lines;
    bool comparable;
} fixed_list;

static kl_rc
fix_entry(fixed_list *f, const kl_ima_entry *e)
{
    uint8_t th[LOG_SIZE];
    const uint8_t *sp1 = memchr(e->raw.ptr, ' ', e->raw.len), *sp2;
    uint32_t pcr = 0;
    kl_rc rc;

    sp2 = memchr(sp1 + 1, ' ', e->raw.len - (size_t)(sp1 + 1 - e->raw.ptr));
    if (e->template_hash.len == LOG_SIZE && all_zero(e->template_hash))
        memset(th, 0, sizeof(th));
    else if ((rc = kl_hash(LOG_ALG, e->template_data.ptr, e->template_data.len, th)) != KL_OK)
        return rc;
    rc = kl_buf_append(&f->ascii, e->raw.ptr, (size_t)(sp1 + 1 - e->raw.ptr));
    if (rc == KL_OK)
        rc = kl_hex_encode_append(&f->ascii, th, sizeof(th));
    if (rc == KL_OK)
        rc = kl_buf_append(&f->ascii, sp2, e->raw.len - (size_t)(sp2 - e->raw.ptr));
    if (rc == KL_OK)
        rc = kl_buf_append_byte(&f->ascii, '\n');
    /* the column itself: pcr_text stops at a NUL */
    if (!canonical_pcr(KL_BYTES(e->raw.ptr, (size_t)(sp1 - e->raw.ptr)), &pcr) ||
        (e->tmpl == KL_IMA_TMPL_IMA ? e->digest.len != 20 : fuzz_has_byte(e->name, 0)))
        f->comparable = false;
    if (rc != KL_OK || !f->comparable)
        return rc;
    rc = kl_buf_append_u32le(&f->binary, pcr);
    if (rc == KL_OK)
        rc = kl_buf_append(&f->binary, th, sizeof(th));
    if (rc == KL_OK)
        rc = kl_buf_append_u32le(&f->binary, (uint32_t)e->template_name.len);
    if (rc == KL_OK)
        rc = kl_buf_append(&f->binary, e->template_name.ptr, e->template_name.len);
    if (rc == KL_OK && e->tmpl == KL_IMA_TMPL_IMA) {
        rc = kl_buf_append(&f->binary, e->digest.ptr, e->digest.len);
        if (rc == KL_OK)
            rc = kl_buf_append_u32le(&f->binary, (uint32_t)e->name.len);
        if (rc == KL_OK)
            rc = kl_buf_append(&f->binary, e->name.ptr, e->name.len);
    } else if (rc == KL_OK) {
        rc = kl_buf_append_u32le(&f->binary, (uint32_t)e->template_data.len);
        if (rc == KL_OK)
            rc = kl_buf_append(&f->binary, e->template_data.ptr, e->template_data.len);
    }
    return rc;
}

static kl_rc
fix_list(fixed_list *f, kl_bytes text)
{
    kl_ima_ascii p;
    kl_ima_entry e;
    size_t next_index = 0;
    bool more;
    kl_rc rc;

    kl_buf_init(&f->ascii, (size_t)1 << 28);
    kl_buf_init(&f->binary, (size_t)1 << 28);
    f->comparable = true;
    f->lines = 0;
    kl_ima_ascii_init(&p, text);
    while ((rc = kl_ima_ascii_next(&p, &e, &more)) == KL_OK && more) {
        /* keep the empty lines: entry indexes count them */
        for (; rc == KL_OK && next_index < e.index; next_index++)
            rc = kl_buf_append_byte(&f->ascii, '\n');
        next_index = e.index + 1;
        f->lines++;
        if (rc != KL_OK)
            break;
        if (e.error) {
            f->comparable = false;
            rc = kl_buf_append(&f->ascii, e.raw.ptr, e.raw.len);
            if (rc == KL_OK)
                rc = kl_buf_append_byte(&f->ascii, '\n');
        } else {
            rc = fix_entry(f, &e);
        }
        if (rc != KL_OK)
            break;
    }
    kl_ima_ascii_free(&p);
    return rc;
}

/* A prefix, then the rest with the carried state, matches the quote of the
 * whole list when the prefix raised nothing. */
static void
check_incremental(const kl_ima_eval_opts *o, kl_bytes list, const outcome *whole, uint32_t h)
{
    const uint8_t *cut = list.len ? memchr(list.ptr + h % list.len, '\n', list.len - h % list.len)
                                  : NULL;
    kl_ima_keyrings *learned = NULL;
    kl_bytes head, tail;
    outcome first, a, b;
    kl_ima_state st;

    if (!cut)
        return;
    head = KL_BYTES(list.ptr, (size_t)(cut + 1 - list.ptr));
    tail = KL_BYTES(cut + 1, list.len - head.len);
    evaluate(&first, o, false, KL_HASH_SHA256, head, NULL, NULL);
    memset(&st, 0, sizeof(st));
    if (first.rc == KL_OK && first.v.count == 0 && kl_ima_keyrings_new(&learned) == KL_OK) {
        /* as the verifier does: the learned keys and the state carry over */
        evaluate_with(&a, o, false, KL_HASH_SHA256, head, first.res.pcr10, &st, learned);
        if (a.rc == KL_OK) {
            FUZZ_CHECK(a.res.matched && a.v.count == 0);
            evaluate_with(&b, o, false, KL_HASH_SHA256, tail, whole->res.pcr10, &st, learned);
            if (b.rc == KL_OK) {
                FUZZ_CHECK(b.res.matched);
                FUZZ_CHECK(memcmp(b.res.pcr10, whole->res.pcr10, 32) == 0);
                if (!same_events(&b.v, &whole->v)) {
                    print_events("whole list", &whole->v);
                    print_events("rest after a clean prefix", &b.v);
                    FUZZ_CHECK(!"incremental evaluation raised other events");
                }
            }
            outcome_free(&b);
        }
        outcome_free(&a);
    }
    kl_ima_keyrings_free(learned);
    outcome_free(&first);
}

static void
check_fixed(const kl_ima_eval_opts *o, kl_bytes text, uint32_t h)
{
    fixed_list f;
    outcome a, b;

    if (fix_list(&f, text) != KL_OK)
        goto out;
    evaluate(&a, o, false, KL_HASH_SHA256, kl_buf_bytes(&f.ascii), NULL, NULL);
    if (a.rc == KL_OK) {
        if (h & 32)
            check_incremental(o, kl_buf_bytes(&f.ascii), &a, h);
        if (h & 2)
            check_quote(o, false, KL_HASH_SHA256, kl_buf_bytes(&f.ascii), &a);
    }
    if (a.rc == KL_OK && f.comparable) {
        evaluate(&b, o, true, KL_HASH_SHA256, kl_buf_bytes(&f.binary), NULL, NULL);
        if (b.rc == KL_OK && !same_events(&a.v, &b.v)) {
            print_events("ascii", &a.v);
            print_events("binary", &b.v);
            FUZZ_CHECK(!"ascii and binary forms of a list evaluate differently");
        }
        if (b.rc == KL_OK) {
            FUZZ_CHECK(memcmp(a.res.pcr10, b.res.pcr10, 32) == 0);
            FUZZ_CHECK(a.res.entries == b.res.entries && b.res.entries == f.lines);
        }
        outcome_free(&b);
    }
    outcome_free(&a);
out:
    kl_buf_free(&f.ascii);
    kl_buf_free(&f.binary);
}

/* One allocation failure during an evaluation. */
static void
alloc_sweep(const kl_ima_eval_opts *o, bool binary, kl_bytes list, const outcome *normal,
            uint32_t h)
{
    outcome x;
    size_t allocs;

    kl_alloc_fail_at(0);
    evaluate(&x, o, binary, KL_HASH_SHA1, list, NULL, NULL);
    allocs = kl_alloc_fail_at(0);
    FUZZ_CHECK(x.rc == KL_OK && same_events(&x.v, &normal->v));
    outcome_free(&x);
    if (!allocs)
        return;
    kl_alloc_fail_at(1 + h % allocs);
    evaluate(&x, o, binary, KL_HASH_SHA1, list, NULL, NULL);
    kl_alloc_fail_at(0);
    FUZZ_CHECK(x.rc == KL_ENOMEM || same_events(&x.v, &normal->v));
    outcome_free(&x);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet_logs();
    if (kl_runtime_policy_load(&policy, KL_BYTES_STR(policy_json), NULL) != KL_OK) {
        fprintf(stderr, "fuzz_ima_eval: the fixed policy does not load: %s\n", kl_err_msg());
        abort();
    }
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kl_ima_eval_opts o = KL_IMA_EVAL_OPTS_INIT, none = KL_IMA_EVAL_OPTS_INIT;
    kl_bytes list = fuzz_input(data, size);
    uint32_t h = fuzz_hash(data, size);
    outcome r[4], n;

    o.policy = policy;
    o.tomtou_events = h & 1;
    if (h & 4) {
        o.boot_aggregates = boot_aggregates;
        o.n_boot_aggregates = sizeof(boot_aggregates) / sizeof(boot_aggregates[0]);
    }
    for (int i = 0; i < 4; i++)
        evaluate(&r[i], &o, i & 1, i & 2 ? KL_HASH_SHA256 : KL_HASH_SHA1, list, NULL, NULL);
    /* the banks differ only in the PCR */
    FUZZ_CHECK(r[0].rc != KL_OK || r[2].rc != KL_OK || same_events(&r[0].v, &r[2].v));
    FUZZ_CHECK(r[1].rc != KL_OK || r[3].rc != KL_OK || same_events(&r[1].v, &r[3].v));
    if (r[h % 4].rc == KL_OK)
        check_quote(&o, h & 1, h & 2 ? KL_HASH_SHA256 : KL_HASH_SHA1, list, &r[h % 4]);
    if (r[(h >> 3) & 1].rc == KL_OK && (h >> 8) % 4 == 0)
        alloc_sweep(&o, (h >> 3) & 1, list, &r[(h >> 3) & 1], h);
    for (int i = 0; i < 4; i++)
        outcome_free(&r[i]);

    if (h & 16) {
        evaluate(&n, &none, false, KL_HASH_SHA1, list, NULL, NULL);
        outcome_free(&n);
    }

    check_fixed(&o, list, h);
    return 0;
}
