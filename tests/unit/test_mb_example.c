/* Unit tests for policy/mb_example.h: the example policy on a built boot
 * log with the refstate kl_mb_refstate_create makes of it, and changes to
 * either. The upstream-checked cases on real logs are in kat_eventlog. */
#include "mb_build.h"

#include "json/json.h"
#include "mb/eventlog_json.h"
#include "policy/mb_example.h"
#include "policy/mb_refstate.h"
#include "util/kl_alloc.h"

/* {"events": [...]} of a built log, and its refstate. */
static void
load(const kl_buf *b, bool without_sb, json_t **log, json_t **refstate)
{
    kl_mb_refstate_opts o = KL_MB_REFSTATE_OPTS_INIT;
    kl_eventlog *l = mbb_parse(b);
    json_t *events = NULL;

    o.without_secureboot = without_sb;
    assert_int_equal(kl_eventlog_json_events(l, &events), KL_OK);
    *log = json_pack("{s:o}", "events", events);
    if (refstate)
        assert_int_equal(kl_mb_refstate_create(refstate, l, &o), KL_OK);
    kl_eventlog_free(l);
}

/* The reason (NULL-terminated copy; "" when the log passes). */
static char *
reason(json_t *refstate, json_t *log)
{
    kl_buf r;
    char *s;

    kl_buf_init(&r, 1 << 24);
    assert_int_equal(kl_mb_example_evaluate(&r, refstate, log), KL_OK);
    s = kl_strndup(r.ptr ? (const char *)r.ptr : "", r.len);
    kl_buf_free(&r);
    return s;
}

static void
expect(json_t *refstate, json_t *log, const char *want)
{
    char *got = reason(refstate, log);

    if (strcmp(got, want) != 0)
        fail_msg("got  %s\nwant %s", got, want);
    kl_free(got);
}

static void
expect_tail(json_t *refstate, json_t *log, const char *tail)
{
    char *got = reason(refstate, log);
    size_t n = strlen(got), t = strlen(tail);

    if (n < t || strcmp(got + n - t, tail) != 0)
        fail_msg("got  %s\nwant ...%s", got, tail);
    kl_free(got);
}

static void
test_mb_example_pass(void **state)
{
    json_t *log, *rs;
    kl_buf b;

    (void)state;
    kl_buf_init(&b, 1 << 16);
    mbb_boot_log(&b, true);
    load(&b, false, &log, &rs);
    expect(rs, log, "");
    json_decref(log);
    json_decref(rs);
    /* without Secure Boot: the vmlinuz digest is checked instead */
    kl_buf_reset(&b);
    mbb_boot_log(&b, false);
    load(&b, true, &log, &rs);
    expect(rs, log, "");
    json_object_set_new(json_array_get(json_object_get(rs, "kernels"), 0), "vmlinuz_plain_sha256",
                        json_string("0x01"));
    expect(rs, log, "[vmlinuz [0] has no digest approved by {'sha256': {'01'}}]");
    json_decref(log);
    json_decref(rs);
    kl_buf_free(&b);
}

static void
test_mb_example_refstate_changes(void **state)
{
    json_t *log, *rs, *k;
    kl_buf b;

    (void)state;
    kl_buf_init(&b, 1 << 16);
    mbb_boot_log(&b, true);
    load(&b, false, &log, &rs);
    k = json_array_get(json_object_get(rs, "kernels"), 0);

    json_object_set_new(k, "kernel_authcode_sha256", json_string("0x44"));
    expect(rs, log, "[bsas [[2] has no digest approved by {'sha256': {'44'}},  is shorter (3) than "
                    "the applicable tests (4)]]");
    json_object_set_new(k, "kernel_authcode_sha256",
                        json_string("0x3333333333333333333333333333333333333333333333333333333333333333"));
    json_object_set_new(k, "kernel_cmdline", json_string("/vmlinuz\\-1\\ rw"));
    expect(rs, log, "[kernel_cmdlines [0] does not match kernel_cmdline: /vmlinuz\\-1\\ rw]");
    json_object_set_new(k, "kernel_cmdline", json_string("/vmlinuz.*"));
    expect(rs, log, "");

    json_object_set_new(rs, "mokdig", json_pack("[{s:s}]", "sha256", "0xab"));
    expect_tail(rs, log, "'Event': {'String': 'MokList'}} [has no digest approved by {'sha256': "
                         "{'ab'}}, Event String is not 'MokListX', Event String is not "
                         "'MokListTrusted']");
    json_object_del(rs, "mokdig");
    expect(rs, log, "policy evaluation failed: refstate lacks mokdig");
    json_object_set_new(rs, "mokdig", json_array());

    json_object_set_new(rs, "dbx", json_pack("[{s:s,s:s}]", "SignatureOwner", MBB_OWNER,
                                             "SignatureData", "0x00"));
    expect_tail(rs, log, "Event VariableData [[0] SignatureType is not "
                         "'2616c4c1-4c50-9240-aca9-41f936934328', [0] Keys lacks ('SignatureOwner', "
                         "'SignatureData') combinations {('" MBB_OWNER "', '00')}]");
    json_object_set_new(rs, "dbx", json_array());
    json_object_set_new(rs, "has_secureboot", json_false());
    json_object_set_new(k, "vmlinuz_plain_sha256", json_string("0x00"));
    expect_tail(rs, log, "'VariableData': {'Enabled': 'Yes'}}} Event VariableData Enabled is not "
                         "'No'");

    /* the missing vendor_db is added as upstream adds it */
    json_object_del(rs, "vendor_db");
    json_object_set_new(rs, "has_secureboot", json_true());
    kl_free(reason(rs, log));
    assert_true(json_is_array(json_object_get(rs, "vendor_db")));
    json_decref(log);
    json_decref(rs);
    kl_buf_free(&b);
}

static void
test_mb_example_log_changes(void **state)
{
    static const uint16_t a[1] = {MBB_SHA256};
    json_t *log, *rs, *log2;
    kl_buf b, b2;

    (void)state;
    kl_buf_init(&b, 1 << 16);
    kl_buf_init(&b2, 1 << 16);
    mbb_boot_log(&b, true);
    load(&b, false, &log, &rs);

    /* a second PK event */
    assert_int_equal(kl_buf_append(&b2, b.ptr, b.len), KL_OK);
    mbb_key_event(&b2, MBB_GLOBAL, "PK", MBB_X509, "pk-cert");
    load(&b2, false, &log2, NULL);
    expect_tail(rs, log2, "Event VariableData test was already run once");
    json_decref(log2);

    /* an event the policy does not expect */
    kl_buf_reset(&b2);
    assert_int_equal(kl_buf_append(&b2, b.ptr, b.len), KL_OK);
    mbb_event(&b2, 1, a, 3, KL_EV_EFI_ACTION, "x", 1);
    load(&b2, false, &log2, NULL);
    expect_tail(rs, log2, "'Event': 'x'} has unexpected ('PCRIndex', 'EventType') combination (3, "
                          "'EV_EFI_ACTION')");
    json_decref(log2);

    /* a bad separator */
    kl_buf_reset(&b2);
    assert_int_equal(kl_buf_append(&b2, b.ptr, b.len), KL_OK);
    mbb_event(&b2, 1, a, 6, KL_EV_SEPARATOR, "\xff\xff\xff\xff", 4);
    load(&b2, false, &log2, NULL);
    expect_tail(rs, log2, "'Event': 'ffffffff'} [Event is not '00000000', Event is not 'FFFFFFFF']");
    json_decref(log2);

    /* no log */
    log2 = json_object();
    expect(rs, log2, "has no 'events' field");
    json_decref(log2);
    json_decref(log);
    json_decref(rs);
    kl_buf_free(&b);
    kl_buf_free(&b2);
}

static void
test_mb_example_refstate_checks(void **state)
{
    json_t *log = json_object(), *rs;

    (void)state;
    rs = json_pack("[i]", 1);
    expect(rs, log, "policy evaluation failed: Expected refstate to be a Python dict but instead "
                    "got this Python value: [1]");
    json_decref(rs);
    rs = json_pack("{s:[{s:s}]}", "kernels", "shim_authcode_sha256", "0x1");
    expect(rs, log, "policy evaluation failed: {'shim_authcode_sha256': '0x1'} lacks fields "
                    "{'grub_authcode_sha256', 'kernel_authcode_sha256', 'initrd_plain_sha256', "
                    "'kernel_cmdline'}");
    json_decref(rs);
    rs = json_pack("{s:[],s:[{s:{s:i},s:[]}]}", "kernels", "scrtm_and_bios", "scrtm", "sha1", 5,
                   "platform_firmware");
    expect(rs, log, "policy evaluation failed: 5 is not 0x followed by some lowercase hex digits");
    json_decref(rs);
    rs = json_pack("{s:[],s:[],s:[],s:{s:i},s:[],s:[],s:[],s:[]}", "kernels", "scrtm_and_bios",
                   "pk", "kek", "x", 1, "db", "dbx", "mokdig", "mokxdig");
    expect(rs, log, "policy evaluation failed: 'x' is a <class 'str'> rather than a <class 'dict'>");
    json_decref(rs);
    json_decref(log);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mb_example_pass),
        cmocka_unit_test(test_mb_example_refstate_changes),
        cmocka_unit_test(test_mb_example_log_changes),
        cmocka_unit_test(test_mb_example_refstate_checks),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
