/* Unit tests for the verifier without a socket: configuration checks, the
 * revocation message against the vector, nonces, POST /agents validation
 * (upstream's answers), the status object, and policies shared by
 * checksum. The database is SQLite in memory. */
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
#include "payload/revocation.h"
#include "util/kl_alloc.h"
#include "util/kl_file.h"
#include "verifier.h"
/* clang-format on */

static char *
data_file(const char *rel)
{
    static char path[1024];
    kl_buf b;

    snprintf(path, sizeof(path), "%s/%s", getenv("KL_TEST_DATA"), rel);
    kl_buf_init(&b, 1 << 20);
    assert_int_equal(kl_file_read(path, &b), KL_OK);
    assert_int_equal(kl_buf_terminate(&b), KL_OK);
    return (char *)kl_buf_take(&b, NULL);
}

/* ------------------------------------------------------------- config */

static void
base_config(ver_config *c)
{
    static char *agent_only[] = {"agent"};

    memset(c, 0, sizeof(*c));
    c->uuid = "default";
    c->ip = "127.0.0.1";
    c->port = 8881;
    c->mode = "pull";
    c->durable_attestation_import = "";
    c->measured_boot_policy_name = "accept-all";
    c->measured_boot_evaluate = "once";
    c->webhook_url = "";
    c->enabled_revocation_notifications.items = agent_only;
    c->enabled_revocation_notifications.n = 1;
    c->enable_agent_mtls = true;
    c->max_upload_size = 1 << 20;
    c->quote_interval = 2;
    c->database_url = "sqlite://";
    c->auto_migrate_db = true;
}

static void
test_config_check(void **state)
{
    static char *zmq[] = {"agent", "zeromq"}, *hook[] = {"webhook"}, *odd[] = {"email"};
    ver_config c;

    (void)state;
    base_config(&c);
    assert_int_equal(ver_config_check(&c), KL_OK);
    c.mode = "push";
    assert_int_equal(ver_config_check(&c), KL_EUNSUPPORTED);
    assert_non_null(strstr(kl_err_msg(), "pull"));
    base_config(&c);
    c.measured_boot_policy_name = "mine";
    assert_int_equal(ver_config_check(&c), KL_EINVAL);
    base_config(&c);
    c.enabled_revocation_notifications.items = zmq;
    c.enabled_revocation_notifications.n = 2;
    assert_int_equal(ver_config_check(&c), KL_EUNSUPPORTED);
    assert_non_null(strstr(kl_err_msg(), "zeromq"));
    c.enabled_revocation_notifications.items = odd;
    c.enabled_revocation_notifications.n = 1;
    assert_int_equal(ver_config_check(&c), KL_EINVAL);
    c.enabled_revocation_notifications.items = hook;
    assert_int_equal(ver_config_check(&c), KL_EINVAL);
    assert_non_null(strstr(kl_err_msg(), "webhook_url"));
    c.webhook_url = "https://hooks.example/keylime";
    assert_int_equal(ver_config_check(&c), KL_OK);
}

static void
test_tls_resolve(void **state)
{
    ver_config c;
    ver_tls_paths p;

    (void)state;
    base_config(&c);
    c.tls_dir = "generate";
    c.server_cert = c.server_key = c.client_cert = c.client_key = "default";
    c.trusted_server_ca = "default";
    c.trusted_client_ca = "default";
    assert_int_equal(ver_tls_resolve(&p, &c, "/var/lib/keylime"), KL_OK);
    assert_string_equal(p.dir, "/var/lib/keylime/cv_ca");
    assert_string_equal(p.client_cert, "/var/lib/keylime/cv_ca/client-cert.crt");
    assert_string_equal(p.client_cas[0], "/var/lib/keylime/cv_ca/cacert.crt");
    ver_tls_paths_free(&p);
    c.trusted_client_ca = "all";
    assert_int_equal(ver_tls_resolve(&p, &c, "/var/lib/keylime"), KL_EINVAL);
    ver_tls_paths_free(&p);
}

/* ------------------------------------------------ revocation message */

static void
test_notify_message(void **state)
{
    char *vec = data_file("payload/revocation_message.json");
    char *key = data_file("payload/revocation-private.pem");
    char *cert = data_file("payload/RevocationNotifier-cert.crt");
    json_t *want = json_loads(vec, 0, NULL), *got = NULL, *wm, *gm;
    kl_failure ev = {"ima.validation.ima-ng.not_in_allowlist",
                     json_pack("{s:s}", "message", "File not found in allowlist: /root/evil.sh"),
                     true, 6};
    ver_agent a;
    kl_buf out;
    bool ok = false;

    (void)state;
    memset(&a, 0, sizeof(a));
    wm = json_loads(json_string_value(json_object_get(want, "msg")), 0, NULL);
    a.id = kl_strdup(json_string_value(json_object_get(wm, "agent_id")));
    a.ip = "127.0.0.1";
    a.port = 9002;
    a.tpm_policy_text = kl_strdup(json_string_value(json_object_get(wm, "tpm_policy")));
    a.meta_data = "{}";
    a.revocation_key = key;
    kl_buf_init(&out, 1 << 20);
    assert_int_equal(ver_notify_message(&out, &a, "revocation", &ev, "emergency"), KL_OK);
    assert_int_equal(kl_json_parse(kl_buf_bytes(&out), "message", &got), KL_OK);
    /* the signature covers the msg text as sent */
    assert_int_equal(
        kl_revocation_verify(&ok, KL_BYTES_CSTR(cert),
                             KL_BYTES_CSTR(json_string_value(json_object_get(got, "msg"))),
                             KL_BYTES_CSTR(json_string_value(json_object_get(got, "signature")))),
        KL_OK);
    assert_true(ok);
    /* the same text as upstream's, but for the time */
    gm = json_loads(json_string_value(json_object_get(got, "msg")), 0, NULL);
    assert_non_null(gm);
    json_object_set_new(gm, "event_time", json_string("Sun Nov 22 10:56:00 2026"));
    {
        kl_buf g, w;

        kl_buf_init(&g, 1 << 16);
        kl_buf_init(&w, 1 << 16);
        assert_int_equal(kl_json_dump_py(&g, gm), KL_OK);
        assert_int_equal(kl_json_dump_py(&w, wm), KL_OK);
        assert_true(kl_bytes_eq(kl_buf_bytes(&g), kl_buf_bytes(&w)));
        assert_true(kl_bytes_eq(kl_buf_bytes(&w),
                                KL_BYTES_CSTR(json_string_value(json_object_get(want, "msg")))));
        kl_buf_free(&g);
        kl_buf_free(&w);
    }
    json_decref(ev.context);
    kl_free(a.id);
    kl_free(a.tpm_policy_text);
    json_decref(want);
    json_decref(wm);
    json_decref(got);
    json_decref(gm);
    kl_buf_free(&out);
    kl_free(vec);
    kl_free(key);
    kl_free(cert);
}

static void
test_nonce(void **state)
{
    char a[21], b[21];

    (void)state;
    assert_int_equal(ver_nonce(a), KL_OK);
    assert_int_equal(ver_nonce(b), KL_OK);
    assert_int_equal(strlen(a), 20);
    for (int i = 0; i < 20; i++)
        assert_true((a[i] >= 'a' && a[i] <= 'z') || (a[i] >= 'A' && a[i] <= 'Z') ||
                    (a[i] >= '0' && a[i] <= '9'));
    assert_string_not_equal(a, b);
}

/* ------------------------------------------------------- POST /agents */

typedef struct {
    ver_config cfg;
    ver_ctx ctx;
    char *ak;
} fixture;

static int
setup(void **state)
{
    fixture *f = kl_calloc(1, sizeof(*f));
    size_t n;

    assert_non_null(f);
    base_config(&f->cfg);
    f->ctx.cfg = &f->cfg;
    f->ctx.work_dir = "/nonexistent";
    assert_int_equal(ver_policies_new(&f->ctx.policies), KL_OK);
    assert_int_equal(ver_store_open(&f->ctx), KL_OK);
    f->ak = data_file("evidence/ak.b64");
    n = strlen(f->ak);
    while (n && (f->ak[n - 1] == '\n' || f->ak[n - 1] == ' '))
        f->ak[--n] = 0;
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
    ver_policies_free(f->ctx.policies);
    kl_db_close(f->ctx.db);
    kl_free(f->ak);
    kl_free(f);
    return 0;
}

/* A body as upstream's tenant sends it. */
static json_t *
tenant_body(const fixture *f)
{
    return json_pack("{s:n, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[sss], s:[ss], s:[ss], s:s, "
                     "s:s, s:s, s:n, s:s, s:s, s:s}",
                     "v", "cloudagent_ip", "127.0.0.1", "cloudagent_port", "9002", "tpm_policy",
                     "{\"mask\": \"0x400\"}", "runtime_policy", "", "runtime_policy_key", "",
                     "metadata", "{}", "ima_sign_verification_keys", "", "accept_tpm_hash_algs",
                     "sha512", "sha384", "sha256", "accept_tpm_encryption_algs", "ecc", "rsa",
                     "accept_tpm_signing_algs", "ecschnorr", "rsassa", "ak_tpm", f->ak,
                     "mtls_cert", "-----BEGIN CERTIFICATE-----\n", "revocation_key", "",
                     "mb_policy", "mb_policy_name", "", "supported_version", "2.6",
                     "runtime_policy_name", "");
}

static int
post(fixture *f, const char *id, json_t *body, ver_reply *r)
{
    ver_agent *a = NULL;

    memset(r, 0, sizeof(*r));
    ver_agent_from_post(&f->ctx, id, body, &a, r);
    json_decref(body);
    if (a) {
        assert_int_equal(ver_table_put(&f->ctx.agents, a), KL_OK);
        return 200;
    }
    json_decref(r->results);
    return r->code;
}

static void
test_post_refusals(void **state)
{
    fixture *f = *state;
    const char *id = "d432fbb3-d2f1-4a97-9ef7-75bd81c00000";
    ver_reply r;
    json_t *b;

    b = tenant_body(f);
    json_object_del(b, "tpm_policy");
    assert_int_equal(post(f, id, b, &r), 400);
    assert_string_equal(r.status, "Exception error: 'tpm_policy'");
    b = tenant_body(f);
    json_object_set_new(b, "mtls_cert", json_string("disabled"));
    assert_int_equal(post(f, id, b, &r), 400);
    assert_string_equal(r.status, "mTLS certificate for agent is required!");
    b = tenant_body(f);
    json_object_set_new(b, "ak_tpm", json_string("AAAA"));
    assert_int_equal(post(f, id, b, &r), 400);
    assert_non_null(strstr(r.status, "ak_tpm"));
    b = tenant_body(f);
    json_object_set_new(b, "tpm_policy", json_string("{not json"));
    assert_int_equal(post(f, id, b, &r), 400);
    b = tenant_body(f);
    json_object_set_new(b, "v", json_string("c2hvcnQ="));
    assert_int_equal(post(f, id, b, &r), 400);
    b = tenant_body(f);
    json_object_set_new(b, "runtime_policy_name", json_string("nosuch"));
    assert_int_equal(post(f, id, b, &r), 404);
    assert_string_equal(r.status, "Could not find IMA policy with name nosuch!");
    b = tenant_body(f);
    json_object_set_new(b, "mb_policy_name", json_string("nosuch"));
    assert_int_equal(post(f, id, b, &r), 404);
    b = tenant_body(f);
    json_object_set_new(b, "runtime_policy", json_string("e30K!!"));
    assert_int_equal(post(f, id, b, &r), 400);
    b = tenant_body(f);
    json_object_set_new(b, "cloudagent_port", json_string("port"));
    assert_int_equal(post(f, id, b, &r), 400);
    b = tenant_body(f);
    json_object_set_new(b, "accept_tpm_hash_algs", json_string("sha256"));
    assert_int_equal(post(f, id, b, &r), 400);
    assert_int_equal(f->ctx.agents.count, 0);
}

static void
test_post_add_and_status(void **state)
{
    fixture *f = *state;
    const char *id = "d432fbb3-d2f1-4a97-9ef7-75bd81c00000";
    ver_agent *a;
    ver_reply r;
    json_t *st;

    assert_int_equal(post(f, id, tenant_body(f), &r), 200);
    a = ver_table_get(&f->ctx.agents, id);
    assert_non_null(a);
    assert_string_equal(a->mask, "0x400");
    assert_string_equal(a->rt->name, id); /* the empty policy, under the agent's id */
    assert_int_equal(a->rt->generator, 1);
    assert_string_equal(a->mb->name, id);
    assert_null(a->mb->text);
    assert_int_equal(post(f, id, tenant_body(f), &r), 409);
    assert_non_null(strstr(r.status, "already exists"));
    st = ver_agent_status(&f->ctx, a);
    assert_int_equal(json_integer_value(json_object_get(st, "operational_state")), VER_START);
    assert_int_equal(json_integer_value(json_object_get(st, "port")), 9002);
    assert_int_equal(json_integer_value(json_object_get(st, "has_runtime_policy")), 0);
    assert_int_equal(json_integer_value(json_object_get(st, "has_mb_refstate")), 0);
    assert_string_equal(json_string_value(json_object_get(st, "attestation_status")), "PENDING");
    assert_string_equal(json_string_value(json_object_get(st, "attestation_period")), "2s");
    assert_string_equal(json_string_value(json_object_get(st, "maximum_attestation_interval")),
                        "10s");
    assert_true(json_is_null(json_object_get(st, "severity_level")));
    assert_int_equal(json_array_size(json_object_get(st, "accept_tpm_hash_algs")), 3);
    assert_int_equal(json_object_size(st), 25);
    json_decref(st);
}

/* Two names with the same text share one parse; an update replaces it. */
static void
test_policy_sharing(void **state)
{
    static const char text[] =
        "{\"meta\": {\"version\": 1, \"generator\": 3}, \"release\": 0, \"digests\": "
        "{\"/bin/true\": [\"" "0000000000000000000000000000000000000000000000000000000000000000"
        "\"]}, \"excludes\": [], \"keyrings\": {}, \"ima\": {\"ignored_keyrings\": [], "
        "\"log_hash_alg\": \"sha1\", \"dm_policy\": null}, \"ima-buf\": {}, "
        "\"verification-keys\": \"\"}";
    fixture *f = *state;
    const kl_runtime_policy *p1, *p2, *p3;
    ver_rtpolicy *a, *b;
    ver_reply r = {0};
    char sum[65];
    int64_t gen;

    assert_true(ver_rtpolicy_validate(&f->ctx, KL_BYTES_STR(text), "", sum, &gen, &r));
    assert_int_equal(gen, 3);
    assert_int_equal(ver_rtpolicy_store(&f->ctx, "one", KL_BYTES_STR(text), NULL, sum, gen, false,
                                        &a), KL_OK);
    assert_int_equal(ver_rtpolicy_store(&f->ctx, "two", KL_BYTES_STR(text), NULL, sum, gen, false,
                                        &b), KL_OK);
    assert_int_equal(ver_rtpolicy_store(&f->ctx, "one", KL_BYTES_STR(text), NULL, sum, gen, false,
                                        NULL), KL_EEXIST);
    a->users++;
    b->users++;
    assert_int_equal(ver_rtpolicy_parsed(&f->ctx, a, &p1), KL_OK);
    assert_int_equal(ver_rtpolicy_parsed(&f->ctx, b, &p2), KL_OK);
    assert_ptr_equal(p1, p2);
    assert_int_equal(ver_rtpolicy_store(&f->ctx, "two", KL_BYTES_CSTR("{}"), NULL,
                                        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b"
                                        "7852b855", 0, true, NULL), KL_OK);
    assert_int_equal(ver_rtpolicy_parsed(&f->ctx, b, &p3), KL_OK);
    assert_ptr_not_equal(p3, p1); /* "two" now holds the empty policy */
    assert_false(ver_rtpolicy_validate(&f->ctx, KL_BYTES_CSTR("{\"meta\": 1"), "", sum, &gen,
                                       &r));
    assert_int_equal(r.code, 400);
    assert_string_equal(r.status, "Runtime policy is not valid JSON!");
    ver_rtpolicy_release(&f->ctx, a);
    ver_rtpolicy_release(&f->ctx, b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_check),
        cmocka_unit_test(test_tls_resolve),
        cmocka_unit_test(test_notify_message),
        cmocka_unit_test(test_nonce),
        cmocka_unit_test_setup_teardown(test_post_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_post_add_and_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_sharing, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
