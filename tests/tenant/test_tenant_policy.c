/* Unit tests for the tenant's policy handling (tenant_policy.c,
 * tenant_version.c): the tpm_policy text and PCR mask as upstream's
 * readPolicy/process_policy make them, the refusals (PCRs 10/16/>24, PCRs a
 * policy will use), runtime policy files (checksum, DSSE rules, schema),
 * legacy allowlists, measured-boot policies, and version negotiation. */
/* cmocka.h needs the standard headers before it: keep this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "json/json.h"
#include "tenant_test.h"
#include "util/kl_b64.h"
/* clang-format on */

static char *
policy_text(const char *in)
{
    json_t *p = NULL;
    char *s;

    assert_int_equal(tenant_tpm_policy_read(&p, in), KL_OK);
    s = tl_dumps(p);
    json_decref(p);
    return s;
}

static void
expect_policy(const char *in, const char *want)
{
    char *s = policy_text(in);

    assert_string_equal(s, want);
    kl_free(s);
}

static void
expect_refused(const char *in, const char *msg)
{
    json_t *p = NULL;

    assert_int_not_equal(tenant_tpm_policy_read(&p, in), KL_OK);
    assert_null(p);
    if (msg)
        assert_string_equal(kl_err_msg(), msg);
}

static void
test_tenant_tpm_policy_mask(void **state)
{
    (void)state;
    expect_policy(NULL, "{\"mask\": \"0x0\"}");
    expect_policy("{}", "{\"mask\": \"0x0\"}");
    expect_policy("{\"15\": \"ABCD\", \"0\": [\"Ff\", \"aa\"]}",
                  "{\"15\": [\"abcd\"], \"0\": [\"ff\", \"aa\"], \"mask\": \"0x8001\"}");
    /* upstream allows 24 (its check is "> 24") and keeps the key as written */
    expect_policy("{\"24\": [], \"007\": \"x\"}",
                  "{\"24\": [], \"007\": [\"x\"], \"mask\": \"0x1000080\"}");
}

static void
test_tenant_tpm_policy_refusals(void **state)
{
    (void)state;
    expect_refused("{\"16\": \"00\"}",
                   "Invalid allowlist PCR number 16, keylime uses this PCR to bind data.");
    expect_refused("{\"10\": \"00\"}",
                   "Invalid allowlist PCR number 10, this PCR is used for IMA.");
    expect_refused("{\"25\": \"00\"}", "Invalid tpm policy pcr number: 25");
    expect_refused("{\"mask\": \"0x1\"}", "Invalid tpm policy pcr number: mask");
    expect_refused("{\"-1\": \"00\"}", "Invalid tpm policy pcr number: -1");
    expect_refused("{\"1\": 5}", NULL);
    expect_refused("{\"1\": [5]}", NULL);
    expect_refused("[1, 2]", NULL);
    expect_refused("{\"1\": ", NULL);
}

static void
test_tenant_mask_or(void **state)
{
    json_t *p = NULL;

    (void)state;
    assert_int_equal(tenant_tpm_policy_read(&p, "{\"17\": \"aa\"}"), KL_OK);
    assert_int_equal(tenant_mask_or(p, 1u << 10), KL_OK);
    assert_string_equal(json_string_value(json_object_get(p, "mask")), "0x20400");
    assert_int_equal(tenant_mask_or(p, 0xFBFFu), KL_OK);
    assert_string_equal(json_string_value(json_object_get(p, "mask")), "0x2ffff");
    json_decref(p);
}

/* process_policy on a tenant whose arguments are given. */
static kl_rc
process(tenant *t, tenant_config *c, tenant_args *a)
{
    kl_rc rc;

    *c = test_config();
    assert_int_equal(tenant_init(t, c, a), KL_OK);
    rc = tenant_policy_process(t);
    return rc;
}

static void
test_tenant_policy_runtime_file(void **state)
{
    const char *path = test_data("ima/swtpm/runtime_policy.json");
    tenant_args a = {.command = "add", .runtime_policy = path, .runtime_policy_name = "rp"};
    tenant_config c;
    kl_buf file, dec;
    tenant t;

    (void)state;
    kl_buf_init(&file, 1u << 20);
    kl_buf_init(&dec, 1u << 20);
    assert_int_equal(process(&t, &c, &a), KL_OK);
    assert_int_equal(kl_file_read(path, &file), KL_OK);
    assert_int_equal(kl_b64_decode_append(&dec, KL_BYTES_CSTR(t.pol.runtime_policy), false), KL_OK);
    assert_true(kl_bytes_eq(kl_buf_bytes(&dec), kl_buf_bytes(&file)));
    assert_string_equal(t.pol.runtime_policy_key, "");
    assert_string_equal(t.pol.runtime_policy_name, "rp");
    assert_string_equal(json_string_value(json_object_get(t.pol.tpm_policy, "mask")), "0x400");
    assert_null(t.pol.mb_policy);
    tenant_free(&t);
    kl_buf_free(&file);
    kl_buf_free(&dec);
}

static void
expect_process_error(tenant_args *a, const char *msg_part)
{
    tenant_config c;
    tenant t;

    assert_int_not_equal(process(&t, &c, a), KL_OK);
    if (msg_part && !strstr(kl_err_msg(), msg_part))
        fail_msg("'%s' lacks '%s'", kl_err_msg(), msg_part);
    tenant_free(&t);
}

static void
test_tenant_policy_runtime_refusals(void **state)
{
    const char *good = test_data("ima/swtpm/runtime_policy.json");
    const char *signed_ =
        test_data("policy/sign-runtime-policy/runtime-policy.dsse-ecdsa-p521.json");
    const char *key = test_data("policy/sign-runtime-policy/ec-p521-public.pem");
    tenant_args a = {.command = "add"};

    (void)state;
    a.runtime_policy = good;
    a.runtime_policy_checksum = "00";
    expect_process_error(&a, "Checksum of runtime policy does not match! Expected 00, Calculated ");
    a.runtime_policy_checksum = NULL;
    a.runtime_policy = test_file("bad.json", "{\"meta\": ");
    expect_process_error(&a, "failed! Error: Runtime policy is not valid JSON!");
    a.runtime_policy = test_file("schema.json", "{\"meta\": {\"version\": 1}}");
    expect_process_error(&a, "Validation for runtime policy");
    a.runtime_policy = "/nonexistent/p.json";
    expect_process_error(&a, "[Errno 2] No such file or directory: '/nonexistent/p.json'");
    /* a DSSE envelope needs the key; a key needs an envelope */
    a.runtime_policy = signed_;
    expect_process_error(&a,
                         "Runtime policy signature verification required but no key was given!");
    a.runtime_policy = good;
    a.runtime_policy_sig_key = key;
    expect_process_error(&a, "Runtime policy is not signed!");
    /* PCR 10 in tpm_policy */
    a = (tenant_args){.command = "add", .tpm_policy = "{\"10\": \"00\"}"};
    expect_process_error(&a, "this PCR is used for IMA");
    /* a PCR measured boot uses, with an mb policy: upstream logs and exits 1 */
    a = (tenant_args){.command = "add",
                      .tpm_policy = "{\"4\": \"00\"}",
                      .mb_policy = test_data("eventlog/expected_mb_policy.json")};
    expect_process_error(&a, NULL);
    assert_string_equal(kl_err_msg(), TENANT_LOGGED);
}

static void
test_tenant_policy_signed(void **state)
{
    tenant_args a = {
        .command = "add",
        .runtime_policy =
            test_data("policy/sign-runtime-policy/runtime-policy.dsse-ecdsa-p521.json"),
        .runtime_policy_sig_key = test_data("policy/sign-runtime-policy/ec-p521-public.pem")};
    tenant_config c;
    tenant t;

    (void)state;
    assert_int_equal(process(&t, &c, &a), KL_OK);
    assert_true(strlen(t.pol.runtime_policy_key) > 0);
    tenant_free(&t);
    /* the envelope checked with another key */
    a.runtime_policy_sig_key = test_data("policy/allowlist-signing/allowlist-ec-key.pem");
    expect_process_error(&a, "Runtime policy failed DSSE signature verification!");
}

static void
test_tenant_policy_legacy_allowlist(void **state)
{
    const char *digest = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    char line[200];
    tenant_args a = {.command = "add"};
    tenant_config c;
    kl_buf dec;
    tenant t;

    (void)state;
    snprintf(line, sizeof(line), "%s  /usr/bin/true\n", digest);
    a.allowlist = test_file("allow.txt", line);
    a.ima_exclude = test_file("exclude.txt", "# comment\n/tmp/.*\n");
    kl_buf_init(&dec, 1u << 20);
    assert_int_equal(process(&t, &c, &a), KL_OK);
    assert_int_equal(kl_b64_decode_append(&dec, KL_BYTES_CSTR(t.pol.runtime_policy), false), KL_OK);
    assert_int_equal(kl_buf_terminate(&dec), KL_OK);
    assert_non_null(strstr((const char *)dec.ptr, "\"/usr/bin/true\": [\""));
    assert_non_null(strstr((const char *)dec.ptr, "\"excludes\": [\"/tmp/.*\"]"));
    assert_string_equal(json_string_value(json_object_get(t.pol.tpm_policy, "mask")), "0x400");
    kl_buf_free(&dec);
    tenant_free(&t);
}

static void
test_tenant_policy_mb(void **state)
{
    tenant_args a = {.command = "add",
                     .mb_policy = test_data("eventlog/expected_mb_policy.json"),
                     .mb_policy_name = "mb"};
    tenant_config c;
    tenant t;

    (void)state;
    assert_int_equal(process(&t, &c, &a), KL_OK);
    assert_non_null(t.pol.mb_policy);
    assert_true(t.pol.mb_policy[0] == '{');
    assert_string_equal(t.pol.mb_policy_name, "mb");
    assert_string_equal(json_string_value(json_object_get(t.pol.tpm_policy, "mask")), "0xfbff");
    tenant_free(&t);
    /* "default" without mb_refstate in tenant.conf */
    a.mb_policy = "default";
    expect_process_error(&a, "tenant.conf sets no mb_refstate");
    a.mb_policy = test_file("notjson.json", "nope");
    expect_process_error(&a, "cannot load the measured boot policy");
    /* only a name: the PCRs are asked for, no policy is sent */
    a = (tenant_args){.command = "add", .mb_policy_name = "stored"};
    assert_int_equal(process(&t, &c, &a), KL_OK);
    assert_null(t.pol.mb_policy);
    assert_string_equal(json_string_value(json_object_get(t.pol.tpm_policy, "mask")), "0xfbff");
    tenant_free(&t);
}

static void
test_tenant_policy_verification_keys(void **state)
{
    const char *keys[] = {test_data("ima/keys/rsa2048pub.pem")};
    const char *bad[] = {test_file("nokey.pem", "no key here\n")};
    tenant_args a = {.command = "add", .vkeys = {keys, 1}};
    tenant_config c;
    tenant t;

    (void)state;
    assert_int_equal(process(&t, &c, &a), KL_OK);
    assert_non_null(strstr(t.pol.ima_sign_verification_keys, "\"pubkeys\": [\""));
    assert_string_equal(json_string_value(json_object_get(t.pol.tpm_policy, "mask")), "0x400");
    tenant_free(&t);
    a.vkeys = (tenant_strs){bad, 1};
    expect_process_error(&a, "is not a file with a key");
}

static void
pick(const char *remote_json, const char *want)
{
    json_t *r = NULL;
    char v[16];
    bool found;

    assert_int_equal(kl_json_parse(KL_BYTES_CSTR(remote_json), "test", &r), KL_OK);
    tenant_version_pick(v, &found, r);
    json_decref(r);
    if (!want) {
        assert_false(found);
        return;
    }
    assert_true(found);
    assert_string_equal(v, want);
}

static void
test_tenant_version_pick(void **state)
{
    (void)state;
    pick("[\"1.0\", \"2.0\", \"2.1\", \"2.2\", \"2.3\", \"2.4\", \"2.5\", \"2.6\", \"3.0\"]",
         "2.6");
    pick("[\"2.1\", \"2.2\"]", "2.2");
    pick("\"2.3\"", "2.3");
    pick("[\"3.0\"]", NULL);
    pick("[\"2.10\", \"2.7\"]", NULL);
    pick("[]", NULL);
    assert_string_equal(tenant_versions_repr(),
                        "['1.0', '2.0', '2.1', '2.2', '2.3', '2.4', '2.5', '2.6']");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tenant_tpm_policy_mask),
        cmocka_unit_test(test_tenant_tpm_policy_refusals),
        cmocka_unit_test(test_tenant_mask_or),
        cmocka_unit_test(test_tenant_policy_runtime_file),
        cmocka_unit_test(test_tenant_policy_runtime_refusals),
        cmocka_unit_test(test_tenant_policy_signed),
        cmocka_unit_test(test_tenant_policy_legacy_allowlist),
        cmocka_unit_test(test_tenant_policy_mb),
        cmocka_unit_test(test_tenant_policy_verification_keys),
        cmocka_unit_test(test_tenant_version_pick),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
