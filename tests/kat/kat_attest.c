/* Known answers for the attestation of one quote: every
 * tests/data/expected/quote*.json case (event ids obtained by running
 * upstream Keylime's Tpm.check_quote on the same quote, nonce, AK, data
 * key, tpm_policy, IMA list and runtime policy) through kl_attest_quote,
 * as the verifier would receive it from the agent. One case differs on
 * purpose: quote_bad_signature, where upstream reports missing_pcr_16
 * because of a bug; an invalid signature must fail the quote. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "attest/attest.h"
#include "json/json.h"
#include "kat_util.h"
#include "util/kl_alloc.h"

/* The agent's response: quote, algorithms, key and IMA list. */
static json_t *
response(json_t *c, json_int_t entry)
{
    json_t *logs = json_object_get(c, "ima_measurement_list");
    kl_buf quote, pem, ima, f;
    json_t *r;
    size_t i;
    json_t *l;

    kat_read(json_string_value(json_object_get(c, "quote")), &quote);
    kat_read(json_string_value(json_object_get(c, "data_pubkey_pem")), &pem);
    kl_buf_init(&ima, 1 << 20);
    assert_int_equal(kl_buf_terminate(&quote), KL_OK);
    assert_int_equal(kl_buf_terminate(&pem), KL_OK);
    if (json_is_string(logs)) {
        kat_read(json_string_value(logs), &f);
        assert_int_equal(kl_buf_append(&ima, f.ptr, f.len), KL_OK);
        kl_buf_free(&f);
    }
    json_array_foreach(logs, i, l) {
        kat_read(json_string_value(l), &f);
        assert_int_equal(kl_buf_append(&ima, f.ptr, f.len), KL_OK);
        kl_buf_free(&f);
    }
    r = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I}", "quote", (char *)quote.ptr, "hash_alg",
                  json_string_value(json_object_get(c, "hash_alg")), "enc_alg", "rsa", "sign_alg",
                  "rsassa", "pubkey", (char *)pem.ptr, "ima_measurement_list_entry", entry);
    assert_non_null(r);
    if (logs && !json_is_null(logs))
        json_object_set_new(r, "ima_measurement_list", json_stringn((char *)ima.ptr, ima.len));
    kl_buf_free(&quote);
    kl_buf_free(&pem);
    kl_buf_free(&ima);
    return r;
}

typedef struct {
    kl_tpm_public *ak;
    kl_tpm_policy *tpm_policy;
    kl_runtime_policy *policy;
    kl_attest_inputs in;
    char nonce[128];
} setup;

static void
prepare(setup *s, json_t *c, json_t *tpm_policy)
{
    kl_buf ak, text;
    json_t *pol = json_object_get(c, "runtime_policy");

    memset(s, 0, sizeof(*s));
    kat_read(json_string_value(json_object_get(c, "ak_tpm2b_public")), &ak);
    if (kl_tpm_public_parse(&s->ak, kl_buf_bytes(&ak)) != KL_OK)
        fail_msg("ak: %s", kl_err_msg());
    kl_buf_free(&ak);
    kl_buf_init(&text, 1 << 16);
    assert_int_equal(kl_json_dump_py(&text, tpm_policy), KL_OK);
    assert_int_equal(kl_tpm_policy_parse(&s->tpm_policy, kl_buf_bytes(&text)), KL_OK);
    kl_buf_free(&text);
    if (json_is_string(pol)) {
        kat_read(json_string_value(pol), &text);
        assert_int_equal(kl_runtime_policy_load(&s->policy, kl_buf_bytes(&text), NULL), KL_OK);
        kl_buf_free(&text);
    }
    snprintf(s->nonce, sizeof(s->nonce), "%s", json_string_value(json_object_get(c, "nonce")));
    s->in.ak = s->ak;
    s->in.nonce = KL_BYTES(s->nonce, strlen(s->nonce));
    s->in.tpm_policy = s->tpm_policy;
    s->in.runtime_policy = s->policy;
}

static void
release(setup *s)
{
    kl_tpm_public_free(s->ak);
    kl_tpm_policy_free(s->tpm_policy);
    kl_runtime_policy_free(s->policy);
}

static void
attest(json_t *c, json_t *tpm_policy, json_int_t entry, kl_attest_state *st, kl_verdict *v)
{
    kl_attest_result res;
    json_t *r = response(c, entry);
    setup s;

    prepare(&s, c, tpm_policy);
    assert_int_equal(kl_attest_quote(v, &res, st, &s.in, r), KL_OK);
    json_decref(r);
    release(&s);
}

static void
run_case(void **state)
{
    const char *file = *state;
    char rel[256];
    json_t *c, *prev, *want, *id;
    kl_verdict v = KL_VERDICT_INIT;
    kl_attest_state st;
    json_int_t entry = 0;
    size_t i;

    snprintf(rel, sizeof(rel), "expected/%s", file);
    c = kat_json(rel);
    assert_int_equal(kl_attest_state_init(&st), KL_OK);
    prev = json_object_get(c, "after_previous_attestation");
    if (prev) {
        json_t *p = json_pack("{s:O,s:O,s:O,s:O,s:s,s:O,s:O}", "quote", json_object_get(prev, "quote"),
                              "nonce", json_object_get(prev, "nonce"), "ak_tpm2b_public",
                              json_object_get(c, "ak_tpm2b_public"), "data_pubkey_pem",
                              json_object_get(prev, "data"), "hash_alg", "sha256",
                              "ima_measurement_list", json_object_get(prev, "ima_measurement_list"),
                              "runtime_policy", json_object_get(c, "runtime_policy"));

        attest(p, json_object_get(prev, "tpm_policy"), 0, &st, &v);
        assert_int_equal(v.count, 0);
        entry = (json_int_t)st.ima.next_entry;
        json_decref(p);
    }
    attest(c, json_object_get(c, "tpm_policy"), entry, &st, &v);
    want = json_object_get(c, "expected_event_ids");
    if (strcmp(file, "quote_bad_signature.json") == 0)
        want = json_pack("[s]", "qoute_validation.quote_validation");
    else
        json_incref(want);
    if (v.count != json_array_size(want)) {
        for (size_t k = 0; k < v.count; k++)
            print_message("%s: got %s\n", file, v.items[k].event_id);
        fail_msg("%s: %zu events, expected %zu", file, v.count, json_array_size(want));
    }
    json_array_foreach(want, i, id) assert_string_equal(v.items[i].event_id, json_string_value(id));
    if (json_object_get(c, "expected_next_ima_ml_entry"))
        assert_int_equal(st.ima.next_entry,
                         json_integer_value(json_object_get(c, "expected_next_ima_ml_entry")));
    json_decref(want);
    kl_verdict_free(&v);
    kl_attest_state_free(&st);
    json_decref(c);
}

int
main(void)
{
    char **names;
    size_t n = kat_list("expected", "quote", ".json", &names);
    struct CMUnitTest *tests = kl_calloc(n, sizeof(*tests));
    int failed;

    if (n < 12)
        fail_msg("expected 12 quote cases in tests/data/expected, found %zu", n);
    for (size_t i = 0; i < n; i++) {
        tests[i].name = names[i];
        tests[i].test_func = run_case;
        tests[i].initial_state = names[i];
    }
    failed = _cmocka_run_group_tests("kat_attest", tests, n, NULL, NULL);
    for (size_t i = 0; i < n; i++)
        kl_free(names[i]);
    kl_free(names);
    kl_free(tests);
    return failed;
}
