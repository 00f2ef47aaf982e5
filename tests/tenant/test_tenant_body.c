/* Unit tests for the body of POST /v{v}/agents/{id} (tenant_body.c): with
 * the inputs of tests/data/tenant/cvadd_body_upstream.json (captured from
 * upstream's Tenant.do_cvadd, see the data README) the body is the same
 * text, byte for byte; and the fields' null/number/text forms. */
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
/* clang-format on */

#define UUID "d432fbb3-d2f1-4a97-9ef7-75bd81c00000"
#define MTLS "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
#define REVKEY "-----BEGIN PRIVATE KEY-----\nX\n-----END PRIVATE KEY-----\n"

static void
set_registrar(tenant *t, const char *mtls)
{
    t->reg.record =
        json_pack("{s:s,s:i,s:s,s:s,s:i,s:s?,s:n}", "aik_tpm", "QUtfVFBN", "regcount", 1, "ek_tpm",
                  "x", "ip", "10.0.0.1", "port", 9002, "mtls_cert", mtls, "ekcert");
    assert_non_null(t->reg.record);
    t->reg.aik_tpm = "QUtfVFBN";
    t->reg.mtls_cert = mtls;
    t->have_reg = true;
}

/* The tenant as the capture script set it up. */
static void
captured_inputs(tenant *t, tenant_config *c, tenant_args *a, const char **keys)
{
    *c = test_config();
    *a = (tenant_args){.command = "add",
                       .agent_uuid = UUID,
                       .tpm_policy = "{\"17\": [\"ABCD00\"], \"22\": \"FF00\"}",
                       .vkeys = {keys, 1},
                       .runtime_policy = test_data("ima/swtpm/runtime_policy.json"),
                       .runtime_policy_name = "rp1",
                       .mb_policy = test_data("eventlog/expected_mb_policy.json"),
                       .mb_policy_name = "mb1"};
    assert_int_equal(tenant_init(t, c, a), KL_OK);
    assert_int_equal(tenant_policy_process(t), KL_OK);
    set_registrar(t, MTLS);
    for (int i = 0; i < 32; i++)
        t->v[i] = (uint8_t)i;
    t->vlen = 32;
    t->cv_agent_ip = kl_strdup("10.0.0.2");
    t->agent_port = kl_strdup("9002");
    t->agent_port_int = true;
    json_decref(t->metadata);
    t->metadata = json_pack("{s:i,s:s}", "cert_serial", 7, "subject", "CN=d432fbb3,O=Keylime");
    assert_int_equal(kl_buf_append_str(&t->revocation_key, REVKEY), KL_OK);
    snprintf(t->agent_api, sizeof(t->agent_api), "2.6");
}

static void
test_tenant_body_matches_upstream(void **state)
{
    const char *keys[] = {test_data("ima/keys/rsa2048pub.pem")};
    tenant_config c;
    tenant_args a;
    json_t *body = NULL;
    kl_buf want;
    char *text;
    tenant t;

    (void)state;
    captured_inputs(&t, &c, &a, keys);
    assert_int_equal(tenant_cvadd_body(&t, &body), KL_OK);
    text = tl_dumps(body);
    kl_buf_init(&want, 1u << 20);
    assert_int_equal(kl_file_read(test_data("tenant/cvadd_body_upstream.json"), &want), KL_OK);
    while (want.len && want.ptr[want.len - 1] == '\n')
        want.len--;
    assert_int_equal(kl_buf_terminate(&want), KL_OK);
    assert_string_equal(text, (const char *)want.ptr);
    kl_free(text);
    json_decref(body);
    kl_buf_free(&want);
    tenant_free(&t);
}

/* Without V, an mTLS certificate or an agent port, those fields are null;
 * ports given on the command line are text, as upstream sends them. */
static void
test_tenant_body_nulls_and_text_ports(void **state)
{
    tenant_config c = test_config();
    tenant_args a = {.command = "add", .agent_uuid = "a1", .verifier_port = "9999"};
    json_t *body = NULL;
    tenant t;

    (void)state;
    assert_int_equal(tenant_init(&t, &c, &a), KL_OK);
    assert_int_equal(tenant_policy_process(&t), KL_OK);
    set_registrar(&t, NULL);
    t.agent_port = kl_strdup("9002");
    assert_int_equal(tenant_cvadd_body(&t, &body), KL_OK);
    assert_true(json_is_null(json_object_get(body, "v")));
    assert_true(json_is_null(json_object_get(body, "mtls_cert")));
    assert_true(json_is_null(json_object_get(body, "cloudagent_ip")));
    assert_true(json_is_null(json_object_get(body, "mb_policy")));
    assert_true(json_is_null(json_object_get(body, "supported_version")));
    assert_string_equal(json_string_value(json_object_get(body, "cloudagent_port")), "9002");
    assert_string_equal(json_string_value(json_object_get(body, "verifier_port")), "9999");
    assert_string_equal(json_string_value(json_object_get(body, "tpm_policy")),
                        "{\"mask\": \"0x0\"}");
    assert_string_equal(json_string_value(json_object_get(body, "metadata")), "{}");
    assert_string_equal(json_string_value(json_object_get(body, "revocation_key")), "");
    assert_string_equal(json_string_value(json_object_get(body, "runtime_policy")), "");
    assert_string_equal(json_string_value(json_object_get(body, "runtime_policy_key")), "");
    assert_string_equal(json_string_value(json_object_get(body, "ima_sign_verification_keys")), "");
    assert_int_equal(json_object_size(body), 20);
    json_decref(body);
    tenant_free(&t);
}

static void
test_tenant_fid_strings(void **state)
{
    tenant_config c = test_config();
    tenant_args a = {.command = "cvstatus", .agent_uuid = "a1", .verifier_id = "v9"};
    tenant t;

    (void)state;
    assert_int_equal(tenant_init(&t, &c, &a), KL_OK);
    tenant_set_fid(&t);
    assert_string_equal(t.fid_agent, "Agent a1");
    assert_string_equal(t.fid_verifier, "Verifier v9 (127.0.0.1:8881)");
    assert_string_equal(t.fid_registrar, "Registrar (127.0.0.1:8891)");
    t.agent_ip = kl_strdup("10.1.1.1");
    tenant_set_fid(&t);
    assert_string_equal(t.fid_agent, "Agent a1 (10.1.1.1:None)");
    tenant_free(&t);
}

static void
test_tenant_retry_time(void **state)
{
    tenant_config c = test_config();
    tenant_args a = {.command = "add"};
    tenant t;

    (void)state;
    assert_int_equal(tenant_init(&t, &c, &a), KL_OK);
    assert_true(tenant_retry_time(&t, 3) == 8.0);
    c.retry_interval = 1;
    assert_true(tenant_retry_time(&t, 3) == 1.0);
    c.retry_interval = 0.5;
    assert_true(tenant_retry_time(&t, 3) == 0.5);
    c.retry_interval = 3;
    c.exponential_backoff = false;
    assert_true(tenant_retry_time(&t, 3) == 3.0);
    tenant_free(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tenant_body_matches_upstream),
        cmocka_unit_test(test_tenant_body_nulls_and_text_ports),
        cmocka_unit_test(test_tenant_fid_strings),
        cmocka_unit_test(test_tenant_retry_time),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
