/* fuzz_runtime_policy: runtime policy loading (policy/runtime_policy.h),
 * with the JSON scanner, DSSE envelopes (policy/dsse.h), excludes and the
 * verification-keys keyring behind it.
 *
 * The input is a policy or an envelope. It is loaded with the schema, again
 * with the same options, without the schema and with a DSSE key and a
 * signature required. Checks: a policy that loads gives the same answers
 * every time (and without the schema, which only relaxes); its checksum is
 * the text's sha256; what it holds equals what jansson reads from the same
 * text (digest lists, ignored keyrings, excludes, log_hash_alg,
 * generator); and an allocation failure injected at one point gives
 * KL_ENOMEM (or the same result) and leaks nothing.
 */
#include <jansson.h>

#include "crypto/hash.h"
#include "crypto/pubkey.h"
#include "fuzz_util.h"
#include "json/json.h"
#include "policy/dsse.h"
#include "policy/runtime_policy.h"

#define MAX_PROBES 256

/* tests/data/policy/runtime-policy-pubkey.pub, which signed
 * runtime-policy-test-signed.json */
static const char dsse_pem[] = "-----BEGIN PUBLIC KEY-----\n"
                               "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEXIgsNuIpHj5ogMLDd+u/lxsAyKjv\n"
                               "toXL1efXBUQ/MbCHlqnhUnn4I31sp6zBFrSYQJ1Bzz5OHLf1UqsOgy0Cpw==\n"
                               "-----END PUBLIC KEY-----\n";

static kl_pubkey *dsse_key;

/* Names to ask a loaded policy about. */
typedef struct {
    kl_bytes v[MAX_PROBES];
    size_t n;
} probes;

static void
probe_add(probes *p, kl_bytes v)
{
    if (p->n < MAX_PROBES)
        p->v[p->n++] = v;
}

static void
probes_from(probes *p, json_t *doc)
{
    static const char *const maps[] = {"digests", "keyrings", "ima-buf"};
    static const char *const fixed[] = {"boot_aggregate", "/usr/bin/dd", ".ima", "*", "",
                                        "/tmp/x", "\x01no such name"};
    json_t *v, *ign;
    const char *key;
    size_t i;

    for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        probe_add(p, KL_BYTES(fixed[i], strlen(fixed[i])));
    for (i = 0; doc && i < sizeof(maps) / sizeof(maps[0]); i++)
        json_object_foreach(json_object_get(doc, maps[i]), key, v)
            probe_add(p, KL_BYTES(key, strlen(key)));
    ign = json_object_get(json_object_get(doc, "ima"), "ignored_keyrings");
    json_array_foreach(ign, i, v) if (json_is_string(v))
        probe_add(p, KL_BYTES(json_string_value(v), json_string_length(v)));
    json_array_foreach(json_object_get(doc, "excludes"), i, v) if (json_is_string(v))
        probe_add(p, KL_BYTES(json_string_value(v), json_string_length(v)));
}

static bool
lists_equal(const kl_digest_list *a, const kl_digest_list *b)
{
    kl_buf ha, hb;
    bool same = a->count == b->count;

    kl_buf_init(&ha, 1 << 12);
    kl_buf_init(&hb, 1 << 12);
    for (uint32_t i = 0; same && i < a->count; i++) {
        kl_buf_reset(&ha);
        kl_buf_reset(&hb);
        FUZZ_CHECK(kl_digest_list_hex(a, i, &ha) == KL_OK);
        FUZZ_CHECK(kl_digest_list_hex(b, i, &hb) == KL_OK);
        same = kl_bytes_eq(kl_buf_bytes(&ha), kl_buf_bytes(&hb));
    }
    kl_buf_free(&ha);
    kl_buf_free(&hb);
    return same;
}

static bool
excluded(const kl_runtime_policy *p, kl_bytes name)
{
    kl_excludes_matcher *m;
    bool hit;

    FUZZ_CHECK(kl_excludes_matcher_new(kl_runtime_policy_excludes(p), &m) == KL_OK);
    hit = kl_excludes_match(m, name);
    kl_excludes_matcher_free(m);
    return hit;
}

static void
same_keys(const kl_ima_keyrings *a, const kl_ima_keyrings *b)
{
    kl_buf da, db;

    FUZZ_CHECK(!a == !b);
    if (!a)
        return;
    kl_buf_init(&da, 1 << 24);
    kl_buf_init(&db, 1 << 24);
    FUZZ_CHECK(kl_ima_keyrings_dump(a, KL_IMA_TENANT_KEYRING, &da) == KL_OK);
    FUZZ_CHECK(kl_ima_keyrings_dump(b, KL_IMA_TENANT_KEYRING, &db) == KL_OK);
    FUZZ_CHECK(kl_bytes_eq(kl_buf_bytes(&da), kl_buf_bytes(&db)));
    kl_buf_free(&da);
    kl_buf_free(&db);
}

/* Two loads of the same policy give the same answers. */
static void
same_policy(const kl_runtime_policy *a, const kl_runtime_policy *b, const probes *pr)
{
    FUZZ_CHECK(kl_runtime_policy_generator(a) == kl_runtime_policy_generator(b));
    FUZZ_CHECK(kl_runtime_policy_log_hash_alg(a) == kl_runtime_policy_log_hash_alg(b));
    FUZZ_CHECK(memcmp(kl_runtime_policy_checksum(a), kl_runtime_policy_checksum(b), 32) == 0);
    FUZZ_CHECK(!kl_runtime_policy_excludes(a) == !kl_runtime_policy_excludes(b));
    same_keys(kl_runtime_policy_keys(a), kl_runtime_policy_keys(b));
    for (int id = 0; id < KL_POLICY_NMAPS; id++) {
        const kl_digest_map *ma = kl_runtime_policy_map(a, (kl_policy_map_id)id);
        const kl_digest_map *mb = kl_runtime_policy_map(b, (kl_policy_map_id)id);

        FUZZ_CHECK(kl_digest_map_names(ma) == kl_digest_map_names(mb));
        FUZZ_CHECK(kl_digest_map_digests(ma) == kl_digest_map_digests(mb));
        for (size_t i = 0; i < pr->n; i++) {
            kl_digest_list la, lb;
            bool fa = kl_digest_map_get(ma, pr->v[i], &la);
            bool fb = kl_digest_map_get(mb, pr->v[i], &lb);

            FUZZ_CHECK(fa == fb);
            FUZZ_CHECK(!fa || lists_equal(&la, &lb));
        }
    }
    for (size_t i = 0; i < pr->n; i++) {
        FUZZ_CHECK(kl_runtime_policy_keyring_ignored(a, pr->v[i]) ==
                   kl_runtime_policy_keyring_ignored(b, pr->v[i]));
        FUZZ_CHECK(excluded(a, pr->v[i]) == excluded(b, pr->v[i]));
    }
}

/* A digest map holds exactly the lists of a JSON object of lists. */
static void
map_matches(const kl_digest_map *m, json_t *obj)
{
    const char *key;
    json_t *list, *d;
    kl_buf hex;
    size_t i;

    if (!json_is_object(obj)) {
        FUZZ_CHECK(kl_digest_map_names(m) == 0);
        return;
    }
    kl_buf_init(&hex, 1 << 12);
    FUZZ_CHECK(kl_digest_map_names(m) == json_object_size(obj));
    json_object_foreach(obj, key, list) {
        kl_digest_list l;

        FUZZ_CHECK(kl_digest_map_get(m, KL_BYTES(key, strlen(key)), &l));
        FUZZ_CHECK(l.count == json_array_size(list));
        json_array_foreach(list, i, d) {
            kl_buf_reset(&hex);
            FUZZ_CHECK(kl_digest_list_hex(&l, (uint32_t)i, &hex) == KL_OK);
            FUZZ_CHECK(kl_bytes_eq(kl_buf_bytes(&hex),
                                   KL_BYTES(json_string_value(d), json_string_length(d))));
        }
    }
    kl_buf_free(&hex);
}

/* The excludes answer like the patterns jansson reads, compiled alone. */
static void
excludes_match(const kl_runtime_policy *p, json_t *list, const probes *pr)
{
    kl_bytes pats[64];
    kl_excludes *x = NULL;
    kl_excludes_matcher *m = NULL;
    size_t n = json_array_size(list), i;
    json_t *v;

    FUZZ_CHECK(!kl_runtime_policy_excludes(p) == (n == 0));
    if (n == 0 || n > sizeof(pats) / sizeof(pats[0]))
        return;
    json_array_foreach(list, i, v)
        pats[i] = KL_BYTES(json_string_value(v), json_string_length(v));
    FUZZ_CHECK(kl_excludes_compile(&x, pats, n) == KL_OK);
    FUZZ_CHECK(kl_excludes_matcher_new(x, &m) == KL_OK);
    for (i = 0; i < pr->n; i++)
        FUZZ_CHECK(kl_excludes_match(m, pr->v[i]) == excluded(p, pr->v[i]));
    kl_excludes_matcher_free(m);
    kl_excludes_free(x);
}

/* What a policy that loaded holds equals what jansson reads. */
static void
check_against_jansson(const kl_runtime_policy *p, json_t *doc, const probes *pr)
{
    json_t *ima = json_object_get(doc, "ima"), *v;
    kl_hash_alg alg = KL_HASH_SHA1;
    size_t i;

    map_matches(kl_runtime_policy_map(p, KL_POLICY_DIGESTS), json_object_get(doc, "digests"));
    map_matches(kl_runtime_policy_map(p, KL_POLICY_KEYRINGS), json_object_get(doc, "keyrings"));
    map_matches(kl_runtime_policy_map(p, KL_POLICY_IMA_BUF), json_object_get(doc, "ima-buf"));
    json_array_foreach(json_object_get(ima, "ignored_keyrings"), i, v)
        FUZZ_CHECK(kl_runtime_policy_keyring_ignored(
            p, KL_BYTES(json_string_value(v), json_string_length(v))));
    v = json_object_get(ima, "log_hash_alg");
    if (v)
        FUZZ_CHECK(kl_hash_from_name(KL_BYTES(json_string_value(v), json_string_length(v)), &alg));
    FUZZ_CHECK(kl_runtime_policy_log_hash_alg(p) == alg);
    v = json_object_get(json_object_get(doc, "meta"), "generator");
    FUZZ_CHECK(kl_runtime_policy_generator(p) == (v ? (int)json_number_value(v) : 0));
    excludes_match(p, json_object_get(doc, "excludes"), pr);
}

static bool
is_envelope(kl_bytes text)
{
    bool env = false;

    return kl_dsse_is_envelope(text, &env) == KL_OK && env;
}

/* The policy text inside the input (the payload of an envelope). */
static json_t *
policy_doc(kl_bytes text)
{
    kl_buf payload;
    json_t *doc = NULL;
    bool checked;

    kl_buf_init(&payload, (size_t)1 << 30);
    if (is_envelope(text)) {
        if (kl_dsse_open(text, NULL, &payload, &checked) != KL_OK) {
            kl_buf_free(&payload);
            return NULL;
        }
        text = kl_buf_bytes(&payload);
    }
    if (kl_json_parse(text, "fuzz", &doc) != KL_OK)
        doc = NULL;
    kl_buf_free(&payload);
    return doc;
}

static void
check_loaded(const kl_runtime_policy *p, kl_bytes text)
{
    uint8_t sum[32];

    FUZZ_CHECK(kl_hash(KL_HASH_SHA256, text.ptr, text.len, sum) == KL_OK);
    FUZZ_CHECK(memcmp(sum, kl_runtime_policy_checksum(p), sizeof(sum)) == 0);
    FUZZ_CHECK(kl_runtime_policy_memory(p) > 0);
    if (!is_envelope(text))
        FUZZ_CHECK(kl_runtime_policy_sig_state(p) == KL_POLICY_UNSIGNED);
}

/* What a load may return. KL_ETOOBIG is not in the header's list but
 * comes from size caps (a DSSE payloadType over 4 KiB). */
static bool
expected_rc(kl_rc rc)
{
    return rc == KL_OK || rc == KL_EPARSE || rc == KL_EVERIFY || rc == KL_ETOOBIG;
}

/* One allocation failure while loading. */
static void
alloc_sweep(kl_bytes text, const kl_runtime_policy_opts *o, kl_rc normal,
            const kl_runtime_policy *ref, const probes *pr)
{
    kl_runtime_policy *p = NULL;
    size_t allocs;
    kl_rc rc;

    kl_alloc_fail_at(0);
    rc = kl_runtime_policy_load(&p, text, o);
    allocs = kl_alloc_fail_at(0);
    FUZZ_CHECK(rc == normal);
    kl_runtime_policy_free(p);
    if (!allocs)
        return;
    kl_alloc_fail_at(1 + fuzz_hash(text.ptr, text.len) % allocs);
    rc = kl_runtime_policy_load(&p, text, o);
    kl_alloc_fail_at(0);
    if (rc != KL_ENOMEM && rc != normal)
        fprintf(stderr, "load gave '%s' normally, '%s' with an allocation failure: %s\n",
                kl_rc_str(normal), kl_rc_str(rc), kl_err_msg());
    FUZZ_CHECK(rc == KL_ENOMEM || rc == normal);
    if (rc == KL_OK)
        same_policy(p, ref, pr);
    kl_runtime_policy_free(p);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet_logs();
    if (kl_pubkey_load_pem(&dsse_key, KL_BYTES_STR(dsse_pem)) != KL_OK)
        abort();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kl_runtime_policy_opts strict = KL_RUNTIME_POLICY_OPTS_INIT, loose = strict, keyed = strict;
    kl_runtime_policy *p = NULL, *again = NULL, *lp = NULL, *kp = NULL;
    kl_bytes text = fuzz_input(data, size);
    probes pr = {.n = 0};
    json_t *doc = NULL;
    kl_rc rc, rc2, lrc, krc;

    loose.schema = false;
    keyed.dsse_key = dsse_key;
    keyed.require_signature = true;

    rc = kl_runtime_policy_load(&p, text, &strict);
    FUZZ_CHECK(expected_rc(rc));
    FUZZ_CHECK((rc == KL_OK) == (p != NULL));
    fuzz_touch_error();
    rc2 = kl_runtime_policy_load(&again, text, &strict);
    FUZZ_CHECK(rc2 == rc);
    lrc = kl_runtime_policy_load(&lp, text, &loose);
    FUZZ_CHECK(expected_rc(lrc));
    FUZZ_CHECK(rc != KL_OK || lrc == KL_OK);
    krc = kl_runtime_policy_load(&kp, text, &keyed);
    FUZZ_CHECK(expected_rc(krc));
    if (krc == KL_OK)
        FUZZ_CHECK(kl_runtime_policy_sig_state(kp) == KL_POLICY_SIG_VERIFIED);

    if (rc == KL_OK || lrc == KL_OK || krc == KL_OK) {
        doc = policy_doc(text);
        probes_from(&pr, doc);
    }
    if (rc == KL_OK) {
        check_loaded(p, text);
        same_policy(p, again, &pr);
        same_policy(p, lp, &pr);
        FUZZ_CHECK(kl_runtime_policy_memory(p) == kl_runtime_policy_memory(again));
        if (doc)
            check_against_jansson(p, doc, &pr);
    }
    if (lrc == KL_OK)
        check_loaded(lp, text);
    if (krc == KL_OK) {
        check_loaded(kp, text);
        if (rc == KL_OK)
            same_policy(p, kp, &pr);
    }
    alloc_sweep(text, (fuzz_hash(data, size) & 1) ? &loose : &strict,
                (fuzz_hash(data, size) & 1) ? lrc : rc, (fuzz_hash(data, size) & 1) ? lp : p, &pr);

    json_decref(doc);
    kl_runtime_policy_free(p);
    kl_runtime_policy_free(again);
    kl_runtime_policy_free(lp);
    kl_runtime_policy_free(kp);
    return 0;
}
