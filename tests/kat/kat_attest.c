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

/* ------------------------------------------- the one-shot /verify checks */

typedef struct {
    kl_buf quote, ak_bytes, pem, ima;
    kl_tpm_public *ak;
    kl_attest_inputs in;
    kl_attest_oneshot e;
} oneshot;

static void
oneshot_load(oneshot *o, const char *quote)
{
    memset(o, 0, sizeof(*o));
    kat_read(quote, &o->quote);
    kat_read("tpm/swtpm/ak.pub", &o->ak_bytes);
    kat_read("tpm/swtpm/payload-public.pem", &o->pem);
    kat_read("ima/swtpm/ascii_runtime_measurements", &o->ima);
    assert_int_equal(kl_tpm_public_parse(&o->ak, kl_buf_bytes(&o->ak_bytes)), KL_OK);
    o->in.ak = o->ak;
    o->in.nonce = KL_BYTES_STR("AbCdEfGhIj0123456789");
    o->in.cached_pubkey = kl_buf_bytes(&o->pem);
    o->e.quote = kl_buf_bytes(&o->quote);
    o->e.hash_alg = "sha256";
}

static void
oneshot_free(oneshot *o)
{
    kl_buf_free(&o->quote);
    kl_buf_free(&o->ak_bytes);
    kl_buf_free(&o->pem);
    kl_buf_free(&o->ima);
    kl_tpm_public_free(o->ak);
}

/* The event ids of v, space-separated, for one comparison. */
static void
assert_events(kl_verdict *v, const char *want)
{
    char got[512] = "";

    for (size_t i = 0; i < v->count; i++)
        snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i ? " " : "",
                 v->items[i].event_id);
    assert_string_equal(got, want);
    kl_verdict_free(v);
}

static void
test_identity(void **state)
{
    kl_verdict v = KL_VERDICT_INIT;
    kl_buf other;
    oneshot o;

    (void)state;
    oneshot_load(&o, "tpm/swtpm/idquote.rstring");
    assert_int_equal(kl_attest_identity(&v, &o.in, &o.e), KL_OK);
    assert_events(&v, "");
    /* an integrity quote is an identity too: PCR 10 and 15 are not looked at */
    kl_buf_free(&o.quote);
    kat_read("tpm/swtpm/quote.rstring", &o.quote);
    o.e.quote = kl_buf_bytes(&o.quote);
    assert_int_equal(kl_attest_identity(&v, &o.in, &o.e), KL_OK);
    assert_events(&v, "");
    /* another key than the one in PCR 16 */
    kat_read("ima/keys/rsa2048pub.pem", &other);
    o.in.cached_pubkey = kl_buf_bytes(&other);
    assert_int_equal(kl_attest_identity(&v, &o.in, &o.e), KL_OK);
    assert_events(&v, "pcr_validation.invalid_pcr_16");
    /* no key known: the binding is not checked */
    o.in.cached_pubkey = (kl_bytes){NULL, 0};
    assert_int_equal(kl_attest_identity(&v, &o.in, &o.e), KL_OK);
    assert_events(&v, "");
    o.in.cached_pubkey = kl_buf_bytes(&o.pem);
    o.in.nonce = KL_BYTES_STR("AbCdEfGhIj012345678X");
    assert_int_equal(kl_attest_identity(&v, &o.in, &o.e), KL_OK);
    assert_true(v.irrecoverable);
    assert_events(&v, "qoute_validation.quote_validation");
    kl_buf_free(&other);
    oneshot_free(&o);
}

static void
test_identity_hash_alg(void **state)
{
    kl_verdict v = KL_VERDICT_INIT;
    kl_buf text;
    oneshot o;

    (void)state;
    oneshot_load(&o, "tpm/swtpm/idquote.rstring");
    kl_buf_init(&text, 4096);
    o.e.hash_alg = "md5";
    assert_int_equal(kl_attest_identity(&v, &o.in, &o.e), KL_OK);
    assert_int_equal(v.count, 1);
    assert_int_equal(kl_json_dump_py(&text, v.items[0].context), KL_OK);
    assert_true(kl_bytes_eq(kl_buf_bytes(&text),
                            KL_BYTES_STR("{\"message\": \"TPM Quote is using an unrecognized "
                                         "hash algorithm: md5\", \"data\": \"md5\"}")));
    assert_events(&v, "qoute_validation.invalid_hash_alg");
    o.e.hash_alg = NULL;
    assert_int_equal(kl_attest_identity(&v, &o.in, &o.e), KL_OK);
    assert_true(json_is_null(json_object_get(v.items[0].context, "data")));
    assert_events(&v, "qoute_validation.invalid_hash_alg");
    o.e.hash_alg = "sha1"; /* recognized, but not the quote's bank */
    assert_int_equal(kl_attest_identity(&v, &o.in, &o.e), KL_OK);
    assert_events(&v, "qoute_validation.quote_validation");
    o.e.hash_alg = "sha256";
    o.e.quote = KL_BYTES_STR("rnot:a:quote");
    assert_int_equal(kl_attest_identity(&v, &o.in, &o.e), KL_OK);
    assert_events(&v, "qoute_validation.quote_validation");
    kl_buf_free(&text);
    oneshot_free(&o);
}

static void
evidence_case(oneshot *o, const char *tpm_policy, const char *want)
{
    kl_verdict v = KL_VERDICT_INIT;
    kl_tpm_policy *p = NULL;
    kl_attest_result res;

    assert_int_equal(kl_tpm_policy_parse(&p, KL_BYTES_CSTR(tpm_policy)), KL_OK);
    o->in.tpm_policy = p;
    assert_int_equal(kl_attest_evidence(&v, &res, &o->in, &o->e), KL_OK);
    assert_events(&v, want);
    kl_tpm_policy_free(p);
    o->in.tpm_policy = NULL;
}

static void
test_evidence(void **state)
{
    static const char zero15[] = "{\"15\": [\"0000000000000000000000000000000000000000000000000000"
                                 "000000000000\"]}";
    kl_runtime_policy *policy = NULL;
    kl_buf text;
    oneshot o;

    (void)state;
    oneshot_load(&o, "tpm/swtpm/quote.rstring");
    kat_read("ima/swtpm/runtime_policy.json", &text);
    assert_int_equal(kl_runtime_policy_load(&policy, kl_buf_bytes(&text), NULL), KL_OK);
    o.in.runtime_policy = policy;
    o.in.cached_pubkey = KL_BYTES_STR("not the key"); /* evidence never binds PCR 16 */
    o.e.ima_list = kl_buf_bytes(&o.ima);
    o.e.have_ima_list = true;
    evidence_case(&o, zero15, "");
    evidence_case(&o, "{\"15\": [\"11\"]}", "pcr_validation.invalid_pcr_15");
    /* PCR 16 is a PCR like the others, checked only against tpm_policy */
    evidence_case(&o, "{\"16\": [\"00\"]}", "pcr_validation.invalid_pcr_16");
    evidence_case(&o, "{\"17\": [\"00\"]}", "pcr_validation.missing_pcrs");
    o.e.have_ima_list = false;
    evidence_case(&o, zero15, "pcr_validation.unused_pcr_10");
    o.e.have_ima_list = true;
    o.e.mb_log = KL_BYTES_STR("!!not base64!!");
    evidence_case(&o, zero15, "measured_boot.parser.log.base64decode");
    o.e.mb_log = (kl_bytes){NULL, 0};
    o.in.nonce = KL_BYTES_STR("ZyXwVuTsRq9876543210");
    evidence_case(&o, zero15, "qoute_validation.quote_validation");
    kl_runtime_policy_free(policy);
    kl_buf_free(&text);
    oneshot_free(&o);
}

int
main(void)
{
    const struct CMUnitTest oneshot_tests[] = {
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_identity_hash_alg),
        cmocka_unit_test(test_evidence),
    };
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
    failed += cmocka_run_group_tests_name("kat_attest_oneshot", oneshot_tests, NULL, NULL);
    for (size_t i = 0; i < n; i++)
        kl_free(names[i]);
    kl_free(names);
    kl_free(tests);
    return failed;
}
