/* Unit tests for the tenant's command line (tenant_args.c, tenant_usage.c):
 * every command and flag spelling parses to the right field, argparse's
 * abbreviations and attached values work, and every refusal reads as
 * upstream's (usage line, "keylime_tenant: error: ...", status 2). The
 * expected texts were produced by upstream's tenant (Python 3.11). */
/* cmocka.h needs the standard headers before it: keep this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tenant_test.h"
/* clang-format on */

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void
parse_ok(tenant_args *a, const char *const *args)
{
    char *err = NULL;

    assert_int_equal(test_parse(a, args, &err), TENANT_ARGS_RUN);
    assert_string_equal(err, "");
    kl_free(err);
}

/* The last line of the error output, which must be exactly msg. */
static void
parse_usage_error(const char *const *args, const char *msg)
{
    tenant_args a;
    char *err = NULL, *last;
    char want[512];

    assert_int_equal(test_parse(&a, args, &err), TENANT_ARGS_USAGE);
    tenant_args_free(&a);
    assert_non_null(err);
    assert_true(strncmp(err, "usage: keylime_tenant [-h] [-c COMMAND]", 39) == 0);
    err[strlen(err) - 1] = 0;
    last = strrchr(err, '\n');
    snprintf(want, sizeof(want), "keylime_tenant: error: %s", msg);
    assert_string_equal(last + 1, want);
    kl_free(err);
}

static void
test_tenant_args_defaults(void **state)
{
    tenant_args a;

    (void)state;
    parse_ok(&a, (const char *const[]){NULL});
    assert_string_equal(a.command, "add");
    assert_true(a.verifier_check);
    assert_false(a.verify);
    assert_false(a.push_model);
    assert_null(a.agent_uuid);
    assert_null(a.tpm_policy);
    assert_int_equal(a.vkeys.n, 0);
    tenant_args_free(&a);
}

static void
test_tenant_args_every_command(void **state)
{
    static const char *const cmds[] = {"add",
                                       "delete",
                                       "update",
                                       "status",
                                       "cvstatus",
                                       "cvlist",
                                       "bulkinfo",
                                       "reactivate",
                                       "regstatus",
                                       "reglist",
                                       "regdelete",
                                       "showruntimepolicy",
                                       "deleteruntimepolicy",
                                       "listruntimepolicy",
                                       "showmbpolicy",
                                       "deletembpolicy",
                                       "listmbpolicy",
                                       "addmbpolicy",
                                       "updatembpolicy",
                                       "showallowlist",
                                       "deleteallowlist"};
    tenant_args a;

    (void)state;
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        parse_ok(&a, ARGS("-c", cmds[i], "-u", "agent-1"));
        assert_string_equal(a.command, cmds[i]);
        assert_string_equal(a.agent_uuid, "agent-1");
        tenant_args_free(&a);
        parse_ok(&a, ARGS("--command", cmds[i]));
        assert_string_equal(a.command, cmds[i]);
        tenant_args_free(&a);
    }
    /* the add-policy commands need a policy (checked below); with one they parse */
    parse_ok(&a, ARGS("-c", "addruntimepolicy", "--runtime-policy", "p.json"));
    assert_string_equal(a.runtime_policy, "p.json");
    tenant_args_free(&a);
    parse_ok(&a, ARGS("-c", "updateruntimepolicy", "--runtime-policy", "p.json"));
    tenant_args_free(&a);
    parse_ok(&a, ARGS("-c", "addallowlist", "--allowlist", "a.txt", "--exclude", "e.txt"));
    assert_string_equal(a.allowlist, "a.txt");
    assert_string_equal(a.ima_exclude, "e.txt");
    tenant_args_free(&a);
}

static void
test_tenant_args_all_flags(void **state)
{
    tenant_args a;

    (void)state;
    parse_ok(&a, ARGS("-t", "10.0.0.1", "-tp", "9002", "-r", "10.0.0.2", "-rp", "8891",
                      "--cv_targethost", "10.0.0.3", "-v", "10.0.0.4", "-vp", "8881", "-vi", "v1",
                      "-nvc", "-u", "id", "--cert", "default", "--include", "incl",
                      "--runtime-policy-name", "rp", "--tpm_policy", "{}", "--mb-policy", "mb.json",
                      "--mb-policy-name", "mbn", "--verify", "--agent-api-version", "2.5",
                      "--runtime-policy-sig-key", "k.pem"));
    assert_string_equal(a.agent_ip, "10.0.0.1");
    assert_string_equal(a.agent_port, "9002");
    assert_string_equal(a.registrar_ip, "10.0.0.2");
    assert_string_equal(a.registrar_port, "8891");
    assert_string_equal(a.cv_agent_ip, "10.0.0.3");
    assert_string_equal(a.verifier_ip, "10.0.0.4");
    assert_string_equal(a.verifier_port, "8881");
    assert_string_equal(a.verifier_id, "v1");
    assert_false(a.verifier_check);
    assert_string_equal(a.ca_dir, "default");
    assert_string_equal(a.incl_dir, "incl");
    assert_string_equal(a.runtime_policy_name, "rp");
    assert_string_equal(a.tpm_policy, "{}");
    assert_string_equal(a.mb_policy, "mb.json");
    assert_string_equal(a.mb_policy_name, "mbn");
    assert_true(a.verify);
    assert_string_equal(a.agent_api_version, "2.5");
    assert_string_equal(a.runtime_policy_sig_key, "k.pem");
    tenant_args_free(&a);
    /* long spellings, -k/-p, -f, the deprecated names */
    parse_ok(&a, ARGS("--targethost", "h", "--targetport", "1", "--registrarhost", "r",
                      "--registrarport", "2", "--cv", "v", "--cvport", "3", "--cvid", "i",
                      "--no-verifier-check", "--uuid", "u", "--key", "k", "--payload", "p",
                      "--file", "f", "--mb_refstate", "old.json", "--allowlist-name", "al",
                      "--push-model", "--supported-version", "2.1"));
    assert_string_equal(a.agent_ip, "h");
    assert_string_equal(a.keyfile, "k");
    assert_string_equal(a.payload, "p");
    assert_string_equal(a.file, "f");
    assert_string_equal(a.mb_policy, "old.json");
    assert_string_equal(a.allowlist_name, "al");
    assert_true(a.push_model);
    /* --supported-version stands in for --agent-api-version */
    assert_string_equal(a.agent_api_version, "2.1");
    tenant_args_free(&a);
}

static void
test_tenant_args_append_and_last_wins(void **state)
{
    tenant_args a;

    (void)state;
    parse_ok(&a, ARGS("--signature-verification-key", "k1", "--sign_verification_key", "k2",
                      "--signature-verification-key-sig", "s1", "--signature-verification-key-url",
                      "u1", "-u", "first", "-u", "second"));
    assert_int_equal(a.vkeys.n, 2);
    assert_string_equal(a.vkeys.items[0], "k1");
    assert_string_equal(a.vkeys.items[1], "k2");
    assert_int_equal(a.vkey_sigs.n, 1);
    assert_int_equal(a.vkey_urls.n, 1);
    assert_string_equal(a.agent_uuid, "second");
    tenant_args_free(&a);
}

static void
test_tenant_args_argparse_forms(void **state)
{
    tenant_args a;

    (void)state;
    /* --opt=value, -xVALUE, -x=VALUE, unique prefixes, negative numbers */
    parse_ok(&a, ARGS("--uuid=abc", "-t5.6.7.8", "-c=cvlist", "--ver", "--incl", "dir",
                      "--runtime-policy-n", "n", "-n", "-tp", "-1", "--uuid="));
    assert_string_equal(a.agent_uuid, "");
    assert_string_equal(a.agent_ip, "5.6.7.8");
    assert_string_equal(a.command, "cvlist");
    assert_true(a.verify);
    assert_string_equal(a.incl_dir, "dir");
    assert_string_equal(a.runtime_policy_name, "n");
    assert_false(a.verifier_check);
    assert_string_equal(a.agent_port, "-1");
    tenant_args_free(&a);
    /* -tpx is -t with the value "px" (argparse's short-option rule) */
    parse_ok(&a, ARGS("-tpx"));
    assert_string_equal(a.agent_ip, "px");
    tenant_args_free(&a);
}

static void
test_tenant_args_usage_errors(void **state)
{
    (void)state;
    parse_usage_error(ARGS("--bogus"), "unrecognized arguments: --bogus");
    parse_usage_error(ARGS("foo", "--bogus", "bar"), "unrecognized arguments: foo --bogus bar");
    parse_usage_error(ARGS("--"), "unrecognized arguments: --");
    parse_usage_error(ARGS("-u"), "argument -u/--uuid: expected one argument");
    parse_usage_error(ARGS("-u", "-x"), "argument -u/--uuid: expected one argument");
    parse_usage_error(ARGS("--signature-verification-key"),
                      "argument --signature-verification-key/--sign_verification_key: expected "
                      "one argument");
    parse_usage_error(ARGS("--verify=1"), "argument --verify: ignored explicit argument '1'");
    parse_usage_error(ARGS("--run", "x"),
                      "ambiguous option: --run could match --runtime-policy, "
                      "--runtime-policy-checksum, --runtime-policy-sig-key, --runtime-policy-url, "
                      "--runtime-policy-name");
    parse_usage_error(ARGS("--mb", "x"),
                      "ambiguous option: --mb could match --mb_refstate, --mb-policy, "
                      "--mb-policy-name");
}

static void
test_tenant_args_option_conflicts(void **state)
{
    (void)state;
    parse_usage_error(ARGS("-c", "addruntimepolicy"),
                      "--allowlist or --runtime_policy is required to add a runtime policy");
    parse_usage_error(ARGS("-c", "addallowlist", "--allowlist", ""),
                      "--allowlist or --runtime_policy is required to add a runtime policy");
    parse_usage_error(ARGS("--exclude", "x"), "--exclude cannot be used without an --allowlist");
    parse_usage_error(ARGS("--allowlist", "a", "--allowlist-url", "b"),
                      "--allowlist and --allowlist-url cannot be specified at the same time");
    parse_usage_error(ARGS("--runtime-policy", "a", "--runtime-policy-url", "b"),
                      "--runtime_policy and --runtime_policy-url cannot be specified at the same "
                      "time");
    parse_usage_error(ARGS("--runtime-policy-url", "b"),
                      "--runtime_policy-url must have --runtime_policy-checksum to verifier "
                      "integrity");
    parse_usage_error(ARGS("--runtime-policy-checksum", "c"),
                      "--runtime_policy-checksum must have either --runtime_policy or "
                      "--runtime_policy-url");
}

static void
test_tenant_args_help(void **state)
{
    const char *const argv0[] = {"-u", "-h", NULL};
    tenant_args a;
    char *err = NULL;

    (void)state;
    /* -u takes "-h"? No: "-h" is an option, so -u misses its value first */
    assert_int_equal(test_parse(&a, argv0, &err), TENANT_ARGS_USAGE);
    tenant_args_free(&a);
    kl_free(err);
    assert_int_equal(test_parse(&a, ARGS("-u", "x", "-h", "--bogus"), &err), TENANT_ARGS_HELP);
    tenant_args_free(&a);
    assert_string_equal(err, "");
    kl_free(err);
}

/* The usage text at 80 columns, as argparse wraps it. */
static void
test_tenant_usage_wrapping(void **state)
{
    FILE *f = tmpfile();
    char *text, *want;
    kl_buf b;

    (void)state;
    setenv("COLUMNS", "80", 1);
    tenant_usage_print(f);
    text = test_slurp(f);
    fclose(f);
    kl_buf_init(&b, 1u << 16);
    assert_int_equal(kl_file_read(test_data("tenant/usage_80.txt"), &b), KL_OK);
    assert_int_equal(kl_buf_terminate(&b), KL_OK);
    want = (char *)b.ptr;
    assert_string_equal(text, want);
    kl_free(text);
    kl_buf_free(&b);
    setenv("COLUMNS", "200", 1);
    assert_int_equal(tenant_usage_width(), 198);
    unsetenv("COLUMNS");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tenant_args_defaults),
        cmocka_unit_test(test_tenant_args_every_command),
        cmocka_unit_test(test_tenant_args_all_flags),
        cmocka_unit_test(test_tenant_args_append_and_last_wins),
        cmocka_unit_test(test_tenant_args_argparse_forms),
        cmocka_unit_test(test_tenant_args_usage_errors),
        cmocka_unit_test(test_tenant_args_option_conflicts),
        cmocka_unit_test(test_tenant_args_help),
        cmocka_unit_test(test_tenant_usage_wrapping),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
