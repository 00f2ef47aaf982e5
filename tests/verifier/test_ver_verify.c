/* Unit tests for GET /verify/identity and POST /verify/evidence without a
 * socket: the swtpm quotes of tests/data (identity quote over PCR 16, the
 * integrity quote over PCRs 10, 15, 16 with its IMA list and runtime
 * policy, both for nonce AbCdEfGhIj0123456789), then tampered requests
 * (nonce, AK, key, base64, missing parameters, wrong JSON types) and the
 * answers upstream's handlers give, compared as the JSON text sent. */
/* cmocka.h needs the standard headers before it: keep this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json/json.h"
#include "util/kl_alloc.h"
#include "util/kl_b64.h"
#include "util/kl_file.h"
#include "ver_verify.h"
/* clang-format on */

#define AGENT "d432fbb3-d2f1-4a97-9ef7-75bd81c00000"
#define OTHER "d432fbb3-d2f1-4a97-9ef7-75bd81c00001"
#define NONCE "AbCdEfGhIj0123456789"
#define PCR15_ZERO "0000000000000000000000000000000000000000000000000000000000000000"

typedef struct {
    ver_config cfg;
    ver_ctx ctx;
    kl_buf idquote, quote, ima, policy, ak;
    char *ak_b64;
    ver_reply r;
} fixture;

static void
read_data(const char *rel, kl_buf *out)
{
    char path[1024];

    snprintf(path, sizeof(path), "%s/%s", getenv("KL_TEST_DATA"), rel);
    kl_buf_init(out, 1 << 20);
    assert_int_equal(kl_file_read(path, out), KL_OK);
    assert_int_equal(kl_buf_terminate(out), KL_OK);
}

/* An agent in memory with an AK file and (pem non-NULL) a known key. */
static void
add_agent(fixture *f, const char *id, const char *ak, const char *pem)
{
    ver_agent *a = NULL;
    kl_buf b;

    assert_int_equal(ver_agent_new(&f->ctx, &a), KL_OK);
    a->id = kl_strdup(id);
    read_data(ak, &b);
    assert_int_equal(kl_tpm_public_parse(&a->ak, kl_buf_bytes(&b)), KL_OK);
    kl_buf_free(&b);
    if (pem) {
        read_data(pem, &b);
        assert_int_equal(kl_buf_append(&a->pubkey, b.ptr, b.len), KL_OK);
        kl_buf_free(&b);
    }
    assert_int_equal(ver_table_put(&f->ctx.agents, a), KL_OK);
}

static int
setup(void **state)
{
    fixture *f = kl_calloc(1, sizeof(*f));
    kl_buf b64;

    assert_non_null(f);
    f->cfg.measured_boot_evaluate = "once";
    f->ctx.cfg = &f->cfg;
    assert_int_equal(kl_mb_engine_find("accept-all", &f->ctx.mb_engine), KL_OK);
    read_data("tpm/swtpm/idquote.rstring", &f->idquote);
    read_data("tpm/swtpm/quote.rstring", &f->quote);
    read_data("ima/swtpm/ascii_runtime_measurements", &f->ima);
    read_data("ima/swtpm/runtime_policy.json", &f->policy);
    read_data("tpm/swtpm/ak.pub", &f->ak);
    kl_buf_init(&b64, 1 << 16);
    assert_int_equal(kl_b64_encode_append(&b64, f->ak.ptr, f->ak.len), KL_OK);
    assert_int_equal(kl_buf_terminate(&b64), KL_OK);
    f->ak_b64 = (char *)kl_buf_take(&b64, NULL);
    add_agent(f, AGENT, "tpm/swtpm/ak.pub", "tpm/swtpm/payload-public.pem");
    add_agent(f, OTHER, "tpm/keylime-c/ak_rsa.pub", "ima/keys/rsa2048pub.pem");
    *state = f;
    return 0;
}

static void
drop(ver_agent *a, void *arg)
{
    (void)arg;
    ver_agent_free(a);
}

static int
teardown(void **state)
{
    fixture *f = *state;

    ver_table_each(&f->ctx.agents, drop, NULL);
    kl_free(f->ctx.agents.buckets);
    kl_buf_free(&f->idquote);
    kl_buf_free(&f->quote);
    kl_buf_free(&f->ima);
    kl_buf_free(&f->policy);
    kl_buf_free(&f->ak);
    kl_free(f->ak_b64);
    kl_free(f);
    return 0;
}

/* The results as Python's json.dumps writes them (caller frees). */
static char *
results_text(ver_reply *r)
{
    kl_buf b;

    kl_buf_init(&b, 1 << 20);
    if (r->results)
        assert_int_equal(kl_json_dump_py(&b, r->results), KL_OK);
    else
        assert_int_equal(kl_buf_append(&b, "{}", 2), KL_OK);
    assert_int_equal(kl_buf_terminate(&b), KL_OK);
    return (char *)kl_buf_take(&b, NULL);
}

/* Checks code, status and (want non-NULL) the results text; frees them. */
static void
expect(fixture *f, int code, const char *status, const char *want)
{
    char *got = results_text(&f->r);

    assert_int_equal(f->r.code, code);
    assert_string_equal(f->r.status, status);
    if (want)
        assert_string_equal(got, want);
    kl_free(got);
    json_decref(f->r.results);
    memset(&f->r, 0, sizeof(f->r));
}

/* ------------------------------------------------------------ identity */

static void
identity(fixture *f, const char *id, const char *quote, const char *nonce, const char *alg)
{
    ver_identity_query q = {id, quote, nonce, alg};

    memset(&f->r, 0, sizeof(f->r));
    ver_verify_identity(&f->ctx, &q, &f->r);
}

static void
test_identity_valid(void **state)
{
    fixture *f = *state;

    identity(f, AGENT, (char *)f->idquote.ptr, NONCE, "sha256");
    expect(f, 200, "Success", "{\"valid\": 1}");
    /* the integrity quote binds the same key */
    identity(f, AGENT, (char *)f->quote.ptr, NONCE, "sha256");
    expect(f, 200, "Success", "{\"valid\": 1}");
}

static void
test_identity_missing(void **state)
{
    fixture *f = *state;
    const char *q = (char *)f->idquote.ptr;

    identity(f, NULL, q, NONCE, "sha256");
    expect(f, 400, "missing query parameter 'agent_uuid'", "{}");
    identity(f, AGENT, "", NONCE, "sha256");
    expect(f, 400, "missing query parameter 'quote'", "{}");
    identity(f, AGENT, q, NULL, NULL);
    expect(f, 400, "missing query parameter 'nonce'", "{}");
    identity(f, AGENT, q, NONCE, "");
    expect(f, 400, "missing query parameter 'hash_alg'", "{}");
    identity(f, "d432fbb3-d2f1-4a97-9ef7-75bd81c0ffff", q, NONCE, "sha256");
    expect(f, 404, "agent id not found", "{}");
}

static void
test_identity_invalid(void **state)
{
    static const char quote_failed[] = "{\"valid\": 0, \"reason\": \"{\\\"message\\\": \\\"Quote "
                                       "data validation\\\", \\\"error\\\": ";
    fixture *f = *state;
    const char *q = (char *)f->idquote.ptr;
    char *got;

    identity(f, AGENT, q, "AbCdEfGhIj012345678X", "sha256");
    got = results_text(&f->r);
    assert_int_equal(strncmp(got, quote_failed, strlen(quote_failed)), 0);
    kl_free(got);
    expect(f, 200, "Success", NULL);
    /* another agent: another AK (and key) */
    identity(f, OTHER, q, NONCE, "sha256");
    got = results_text(&f->r);
    assert_int_equal(strncmp(got, quote_failed, strlen(quote_failed)), 0);
    kl_free(got);
    expect(f, 200, "Success", NULL);
    identity(f, AGENT, "r!!!:AAAA:", NONCE, "sha256");
    got = results_text(&f->r);
    assert_int_equal(strncmp(got, quote_failed, strlen(quote_failed)), 0);
    kl_free(got);
    expect(f, 200, "Success", NULL);
    identity(f, AGENT, q, NONCE, "md5");
    expect(f, 200, "Success",
           "{\"valid\": 0, \"reason\": \"{\\\"message\\\": \\\"TPM Quote is using an "
           "unrecognized hash algorithm: md5\\\", \\\"data\\\": \\\"md5\\\"}\"}");
}

static void
test_identity_wrong_key(void **state)
{
    static const char pcr16[] = "{\"valid\": 0, \"reason\": \"{\\\"got\\\": \\\"";
    fixture *f = *state;
    ver_agent *a = ver_table_get(&f->ctx.agents, AGENT);
    char *got;

    kl_buf_reset(&a->pubkey);
    assert_int_equal(kl_buf_append(&a->pubkey, "-----BEGIN PUBLIC KEY-----\n", 27), KL_OK);
    identity(f, AGENT, (char *)f->idquote.ptr, NONCE, "sha256");
    got = results_text(&f->r);
    assert_int_equal(strncmp(got, pcr16, sizeof(pcr16) - 1), 0);
    assert_non_null(strstr(got, "\\\", \\\"expected\\\": \\\""));
    kl_free(got);
    expect(f, 200, "Success", NULL);
}

/* ------------------------------------------------------------ evidence */

static json_t *
evidence_body(fixture *f)
{
    return json_pack("{s:s,s:{s:s,s:s,s:s,s:s,s:s,s:{s:[s]},s:s,s:s}}", "type", "tpm", "data",
                     "quote", (char *)f->quote.ptr, "nonce", NONCE, "hash_alg", "sha256", "tpm_ek",
                     "unused", "tpm_ak", f->ak_b64, "tpm_policy", "15", PCR15_ZERO,
                     "runtime_policy", (char *)f->policy.ptr, "ima_measurement_list",
                     (char *)f->ima.ptr);
}

static json_t *
data_of(json_t *body)
{
    return json_object_get(body, "data");
}

/* Runs the evidence check on body (consumed). */
static void
evidence(fixture *f, json_t *body)
{
    assert_non_null(body);
    memset(&f->r, 0, sizeof(f->r));
    ver_verify_evidence(&f->ctx, body, &f->r);
    json_decref(body);
}

/* The single failure's type, then the reply freed. */
static void
expect_failure(fixture *f, int code, const char *type)
{
    json_t *failures = json_object_get(f->r.results, "failures");

    assert_true(json_is_false(json_object_get(f->r.results, "valid")));
    assert_int_equal(json_object_size(json_object_get(f->r.results, "claims")), 0);
    assert_int_equal(json_array_size(failures), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(failures, 0), "type")),
                        type);
    expect(f, code, code == 200 ? "Success" : "Bad Request", NULL);
}

static void
test_evidence_valid(void **state)
{
    fixture *f = *state;
    json_t *body = evidence_body(f), *copy = json_deep_copy(data_of(body));

    evidence(f, body);
    assert_int_equal(f->r.code, 200);
    assert_true(json_is_true(json_object_get(f->r.results, "valid")));
    assert_true(json_equal(json_object_get(f->r.results, "claims"), copy));
    assert_int_equal(json_array_size(json_object_get(f->r.results, "failures")), 0);
    expect(f, 200, "Success", NULL);
    json_decref(copy);
    /* tpm_policy as JSON text; runtime_policy alone */
    body = evidence_body(f);
    json_object_set_new(data_of(body), "tpm_policy", json_string("{\"15\": [\"" PCR15_ZERO "\"]}"));
    evidence(f, body);
    assert_true(json_is_true(json_object_get(f->r.results, "valid")));
    expect(f, 200, "Success", NULL);
    body = evidence_body(f);
    json_object_del(data_of(body), "tpm_policy");
    evidence(f, body);
    assert_true(json_is_true(json_object_get(f->r.results, "valid")));
    expect(f, 200, "Success", NULL);
}

static void
test_evidence_failures(void **state)
{
    fixture *f = *state;
    json_t *body = evidence_body(f), *first;
    const char *message;

    json_object_set_new(data_of(body), "tpm_policy", json_pack("{s:[s]}", "15", "11"));
    evidence(f, body);
    expect(f, 200, "Success",
           "{\"valid\": false, \"claims\": {}, \"failures\": [{\"type\": "
           "\"pcr_validation.invalid_pcr_15\", \"context\": {\"context\": \"PCR value is not in "
           "allowlist\", \"got\": \"" PCR15_ZERO "\", \"expected\": [\"11\"]}}]}");
    body = evidence_body(f);
    json_object_set_new(data_of(body), "nonce", json_string("ZyXwVuTsRq9876543210"));
    evidence(f, body);
    expect_failure(f, 200, "qoute_validation.quote_validation");
    body = evidence_body(f);
    json_object_set_new(data_of(body), "hash_alg", json_string("sha3"));
    evidence(f, body);
    expect_failure(f, 200, "qoute_validation.invalid_hash_alg");
    body = evidence_body(f);
    json_object_set_new(data_of(body), "tpm_ak", json_string("AAAA"));
    evidence(f, body);
    first = json_array_get(json_object_get(f->r.results, "failures"), 0);
    message = json_string_value(json_object_get(json_object_get(first, "context"), "message"));
    assert_non_null(message);
    assert_int_equal(strncmp(message, "Quote validation failed: tpm_ak: ", 33), 0);
    expect_failure(f, 200, "qoute_validation.invalid_quote");
    body = evidence_body(f);
    json_object_set_new(data_of(body), "tpm_policy", json_string("{not json"));
    evidence(f, body);
    expect_failure(f, 200, "qoute_validation.invalid_quote");
    body = evidence_body(f);
    json_object_set_new(data_of(body), "ima_measurement_list", json_null());
    evidence(f, body);
    expect_failure(f, 200, "pcr_validation.unused_pcr_10");
    body = evidence_body(f);
    json_object_set_new(data_of(body), "mb_log", json_string("!!not base64!!"));
    evidence(f, body);
    expect_failure(f, 200, "measured_boot.parser.log.base64decode");
}

static void
test_evidence_missing(void **state)
{
    static const char *const required[] = {"quote", "nonce", "hash_alg", "tpm_ek", "tpm_ak"};
    fixture *f = *state;
    char want[256];
    json_t *body;

    for (size_t i = 0; i < 5; i++) {
        body = evidence_body(f);
        if (i % 2)
            json_object_set_new(data_of(body), required[i], json_string(""));
        else
            json_object_del(data_of(body), required[i]);
        json_object_del(data_of(body), "tpm_ak"); /* only the first is named */
        evidence(f, body);
        snprintf(want, sizeof(want),
                 "{\"valid\": false, \"claims\": {}, \"failures\": [{\"type\": "
                 "\"default.missing_param\", \"context\": {\"message\": \"missing parameter "
                 "\\\"%s\\\"\"}}]}",
                 required[i]);
        expect(f, 400, "Bad Request", want);
    }
    body = evidence_body(f);
    json_object_set_new(data_of(body), "tpm_policy", json_object());
    json_object_set_new(data_of(body), "runtime_policy", json_string(""));
    json_object_set_new(data_of(body), "mb_policy", json_null());
    evidence(f, body);
    expect(f, 400, "Bad Request",
           "{\"valid\": false, \"claims\": {}, \"failures\": [{\"type\": "
           "\"default.missing_policy\", \"context\": {\"message\": \"at least one policy "
           "(tpm_policy, runtime_policy, or mb_policy) must be provided\"}}]}");
}

static void
test_evidence_refusals(void **state)
{
    fixture *f = *state;
    json_t *body;

    evidence(f, json_pack("{s:{}}", "data"));
    expect(f, 400, "missing parameter 'type'", "{}");
    evidence(f, json_pack("{s:s,s:s}", "type", "tpm", "data", ""));
    expect(f, 400, "missing parameter 'data'", "{}");
    evidence(f, json_pack("{s:s,s:{s:s}}", "type", "tee", "data", "nonce", "x"));
    expect(f, 400, "tee evidence (SEV-SNP) is not supported by this verifier", "{}");
    evidence(f, json_pack("{s:s,s:{}}", "type", "sgx", "data"));
    expect(f, 400, "invalid evidence type", "{}");
    evidence(f, json_pack("{s:i,s:{}}", "type", 7, "data"));
    expect(f, 400, "invalid evidence type", "{}");
    evidence(f, json_pack("{s:s,s:[]}", "type", "tpm", "data"));
    expect(f, 400, "invalid parameter 'data': expected a JSON object", "{}");
    body = evidence_body(f);
    json_object_set_new(data_of(body), "quote", json_integer(5));
    evidence(f, body);
    expect(f, 400, "invalid parameter 'quote': expected a string", "{}");
    body = evidence_body(f);
    json_object_set_new(data_of(body), "nonce", json_stringn("Ab\0cd", 5));
    evidence(f, body);
    expect(f, 400, "invalid parameter 'nonce': expected a string", "{}");
    body = evidence_body(f);
    json_object_set_new(data_of(body), "tpm_policy", json_pack("[i]", 15));
    evidence(f, body);
    expect(f, 400, "invalid parameter 'tpm_policy': expected a string or an object", "{}");
    body = evidence_body(f);
    json_object_set_new(data_of(body), "ima_measurement_list", json_true());
    evidence(f, body);
    expect(f, 400, "invalid parameter 'ima_measurement_list': expected a string", "{}");
    body = evidence_body(f);
    json_object_set_new(data_of(body), "runtime_policy", json_string("{not json"));
    evidence(f, body);
    assert_int_equal(strncmp(f->r.status, "invalid runtime_policy: ", 24), 0);
    expect(f, 400, f->r.status, "{}");
}

/* --------------------------------------------------------------- routes */

static void
test_routes(void **state)
{
    const char *status = NULL;
    kl_route_match m;
    char buf[256];
    int i;

    (void)state;
    i = kl_router_match(&ver_router, KL_HTTP_GET, "/v2.2/verify/identity", buf, sizeof(buf), &m,
                        &status);
    assert_true(i >= 0);
    assert_ptr_equal(ver_router.routes[i].fn, ver_api_verify_identity);
    assert_int_equal(ver_router.routes[i].flags, 0);
    i = kl_router_match(&ver_router, KL_HTTP_POST, "/v2.6/verify/evidence", buf, sizeof(buf), &m,
                        &status);
    assert_true(i >= 0);
    assert_ptr_equal(ver_router.routes[i].fn, ver_api_verify_evidence);
    assert_int_equal(ver_router.routes[i].flags, 0);
    assert_int_equal(kl_router_match(&ver_router, KL_HTTP_GET, "/v2.6/verify/evidence", buf,
                                     sizeof(buf), &m, &status),
                     -405);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_identity_valid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identity_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identity_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identity_wrong_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_evidence_valid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_evidence_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_evidence_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_evidence_refusals, setup, teardown),
        cmocka_unit_test(test_routes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
