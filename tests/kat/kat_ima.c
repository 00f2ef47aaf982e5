/* Known answers for IMA evaluation: every tests/data/expected/ima_*.json and
 * inline_*.json case (event ids and PCR 10 obtained by running upstream
 * Keylime's ima.process_measurement_list on the same files) is run through
 * kl_ima_eval with the same policy, keyring set, bank, quoted PCR and prior
 * state, and must give the same event ids, in order, and the same PCR 10. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/pubkey.h"
#include "kat_util.h"
#include "policy/runtime_eval.h"
#include "util/kl_alloc.h"
#include "util/kl_hex.h"

typedef struct {
    json_t *c;                /* the case */
    kl_runtime_policy *policy;
    kl_ima_keyrings *tenant;
    kl_ima_keyrings *learned;
    kl_ima_eval_opts o;
} kcase;

static kl_runtime_policy *
load_policy(const char *rel)
{
    kl_runtime_policy_opts po = KL_RUNTIME_POLICY_OPTS_INIT;
    kl_runtime_policy *p = NULL;
    kl_buf text;

    /* upstream's own test policies omit schema keys; its evaluator does not
     * validate them, so neither do we here */
    po.schema = false;
    kat_read(rel, &text);
    if (kl_runtime_policy_load(&p, kl_buf_bytes(&text), &po) != KL_OK)
        fail_msg("%s: %s", rel, kl_err_msg());
    kl_buf_free(&text);
    return p;
}

/* ima_keyrings: null = no keyring set; "empty keyring set"; or a list of
 * key files forming the tenant keyring (an empty list = empty keyring). */
static void
load_keyrings(kcase *k)
{
    json_t *kr = json_object_get(k->c, "ima_keyrings");
    size_t i;
    json_t *f;

    if (json_is_null(kr) || !kr)
        return;
    assert_int_equal(kl_ima_keyrings_new(&k->learned), KL_OK);
    if (json_is_string(kr)) {
        assert_string_equal(json_string_value(kr), "empty keyring set");
        return;
    }
    assert_true(json_is_array(kr));
    assert_int_equal(kl_ima_keyrings_new(&k->tenant), KL_OK);
    assert_int_equal(kl_ima_keyrings_set_tenant(k->tenant, KL_BYTES_STR(
                         "{\"pubkeys\": [], \"keyids\": []}")), KL_OK);
    json_array_foreach(kr, i, f) {
        kl_pubkey *key = NULL;
        kl_buf pem;

        kat_read(json_string_value(f), &pem);
        assert_int_equal(kl_pubkey_load_any(&key, kl_buf_bytes(&pem), NULL, NULL), KL_OK);
        assert_int_equal(kl_ima_keyrings_add(k->tenant, KL_BYTES_STR(KL_IMA_TENANT_KEYRING), key,
                                             false, 0), KL_OK);
        kl_pubkey_free(key);
        kl_buf_free(&pem);
    }
}

static void
setup_case(kcase *k, const char *file)
{
    char rel[256];
    json_t *pol;

    memset(k, 0, sizeof(*k));
    snprintf(rel, sizeof(rel), "expected/%s", file);
    k->c = kat_json(rel);
    pol = json_object_get(k->c, "policy");
    if (json_is_string(pol))
        k->policy = load_policy(json_string_value(pol));
    load_keyrings(k);
    k->o = (kl_ima_eval_opts)KL_IMA_EVAL_OPTS_INIT;
    k->o.policy = k->policy;
    k->o.tenant = k->tenant;
    k->o.learned = k->learned;
    assert_true(kl_hash_from_name(KL_BYTES(json_string_value(json_object_get(k->c, "bank")),
                                           strlen(json_string_value(json_object_get(k->c, "bank")))),
                                  &k->o.bank));
}

static void
free_case(kcase *k)
{
    json_decref(k->c);
    kl_runtime_policy_free(k->policy);
    kl_ima_keyrings_free(k->tenant);
    kl_ima_keyrings_free(k->learned);
}

static void
hex_field(json_t *c, const char *key, uint8_t *out, size_t n)
{
    const char *h = json_string_value(json_object_get(c, key));

    assert_non_null(h);
    assert_int_equal(strlen(h), 2 * n);
    assert_true(kl_hex_decode(out, KL_BYTES(h, 2 * n)));
}

static void
assert_events(const kl_verdict *v, json_t *want, const char *file)
{
    size_t i;
    json_t *id;

    if (json_array_size(want) != v->count) {
        for (size_t k = 0; k < v->count; k++)
            print_message("%s: got %s\n", file, v->items[k].event_id);
        fail_msg("%s: %zu events, expected %zu", file, v->count, json_array_size(want));
    }
    json_array_foreach(want, i, id) assert_string_equal(v->items[i].event_id, json_string_value(id));
}

static void
assert_pcr(const uint8_t *pcr, size_t n, const char *want)
{
    char hex[2 * KL_HASH_MAX_SIZE + 1];

    kl_hex_encode(hex, pcr, n);
    assert_string_equal(hex, want);
}

static void
run_case(void **state)
{
    const char *file = *state;
    uint8_t quoted[KL_HASH_MAX_SIZE];
    kl_verdict v = KL_VERDICT_INIT;
    kl_ima_state st = {0};
    kl_ima_result res;
    kl_buf log;
    kcase k;
    size_t n;

    setup_case(&k, file);
    n = kl_hash_size(k.o.bank);
    if (json_is_string(json_object_get(k.c, "quoted_pcr10")))
        hex_field(k.c, "quoted_pcr10", quoted, n);
    if (json_is_string(json_object_get(k.c, "start_pcr10"))) {
        hex_field(k.c, "start_pcr10", st.pcr10, n);
        st.next_entry = (size_t)json_integer_value(
            json_object_get(json_object_get(k.c, "incremental_after"), "next_ima_ml_entry"));
    }
    kat_read(json_string_value(json_object_get(k.c, "log")), &log);
    assert_int_equal(kl_ima_eval(&v, &res, &k.o, kl_buf_bytes(&log),
                                 json_is_string(json_object_get(k.c, "quoted_pcr10")) ? quoted
                                                                                        : NULL,
                                 &st),
                     KL_OK);
    assert_events(&v, json_object_get(k.c, "expected_event_ids"), file);
    assert_pcr(res.pcr10, n, json_string_value(json_object_get(k.c, "expected_pcr10")));
    if (json_object_get(k.c, "expected_next_ima_ml_entry"))
        assert_int_equal(st.next_entry,
                         json_integer_value(json_object_get(k.c, "expected_next_ima_ml_entry")));
    kl_verdict_free(&v);
    kl_buf_free(&log);
    free_case(&k);
}

/* inline_iterative_sha1: the lines one at a time, each quoted right after
 * it, then an empty list; every step passes and returns the quoted value. */
static void
run_iterative(void **state)
{
    const char *file = *state;
    uint8_t quoted[KL_HASH_MAX_SIZE];
    kl_ima_state st = {0};
    json_t *per;
    kl_buf log;
    kcase k;
    size_t i, off = 0;
    json_t *want;

    setup_case(&k, file);
    per = json_object_get(k.c, "expected_pcr10_per_entry");
    kat_read(json_string_value(json_object_get(k.c, "log")), &log);
    json_array_foreach(per, i, want) {
        const uint8_t *nl = memchr(log.ptr + off, '\n', log.len - off);
        size_t len = nl ? (size_t)(nl - (log.ptr + off)) + 1 : log.len - off;
        kl_verdict v = KL_VERDICT_INIT;
        kl_ima_result res;

        assert_true(kl_hex_decode(quoted, KL_BYTES(json_string_value(want), 40)));
        assert_int_equal(kl_ima_eval(&v, &res, &k.o, KL_BYTES(log.ptr + off, len), quoted, &st),
                         KL_OK);
        assert_int_equal(v.count, 0);
        assert_int_equal(st.next_entry, i + 1);
        assert_pcr(st.pcr10, 20, json_string_value(want));
        off += len;
    }
    {
        kl_verdict v = KL_VERDICT_INIT;
        kl_ima_result res;

        assert_int_equal(kl_ima_eval(&v, &res, &k.o, KL_BYTES("", 0), quoted, &st), KL_OK);
        assert_int_equal(v.count, 0);
        assert_true(res.matched);
        assert_pcr(res.pcr10, 20, json_string_value(json_object_get(k.c, "expected_pcr10")));
    }
    kl_buf_free(&log);
    free_case(&k);
}

int
main(void)
{
    char **ima, **inl;
    size_t nima = kat_list("expected", "ima_", ".json", &ima);
    size_t ninl = kat_list("expected", "inline_", ".json", &inl);
    struct CMUnitTest *tests = kl_calloc(nima + ninl, sizeof(*tests));
    int failed;

    for (size_t i = 0; i < nima + ninl; i++) {
        char *f = i < nima ? ima[i] : inl[i - nima];

        tests[i].name = f;
        tests[i].test_func = strstr(f, "iterative") ? run_iterative : run_case;
        tests[i].initial_state = f;
    }
    if (nima + ninl < 36)
        fail_msg("expected at least 36 IMA cases in tests/data/expected, found %zu", nima + ninl);
    failed = _cmocka_run_group_tests("kat_ima", tests, nima + ninl, NULL, NULL);
    for (size_t i = 0; i < nima; i++)
        kl_free(ima[i]);
    for (size_t i = 0; i < ninl; i++)
        kl_free(inl[i]);
    kl_free(ima);
    kl_free(inl);
    kl_free(tests);
    return failed;
}
