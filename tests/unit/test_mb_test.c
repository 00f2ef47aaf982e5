/* Unit tests for policy/mb_test.h: each test kind on JSON subjects, with
 * the reason texts upstream's tests.py gives (checked with CPython). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "json/json.h"
#include "policy/mb_test.h"

static kl_mb_test_set *S;

static int
setup(void **state)
{
    (void)state;
    return kl_mb_test_set_new(&S) == KL_OK ? 0 : -1;
}

static int
teardown(void **state)
{
    (void)state;
    kl_mb_test_set_free(S);
    S = NULL;
    return 0;
}

/* Runs t on the JSON text; the reason must be want ("" for a pass). */
static void
expect(kl_mb_test *t, const char *json, const char *want)
{
    json_t *j = NULL;
    kl_buf r;

    assert_int_equal(kl_mb_test_set_status(S), KL_OK);
    assert_int_equal(kl_json_parse(KL_BYTES(json, strlen(json)), "subject", &j), KL_OK);
    kl_buf_init(&r, 1 << 20);
    assert_int_equal(kl_mb_test_why_not(S, t, j, &r), KL_OK);
    assert_int_equal(kl_buf_terminate(&r), KL_OK);
    assert_string_equal(r.len ? (const char *)r.ptr : "", want);
    kl_buf_free(&r);
    json_decref(j);
}

static kl_mb_test *
two(kl_mb_test *(*f)(kl_mb_test_set *, size_t, kl_mb_test *const *), kl_mb_test *a,
    kl_mb_test *b)
{
    kl_mb_test *v[2] = {a, b};

    return f(S, 2, v);
}

static void
test_mb_test_logic(void **state)
{
    kl_mb_test *yes = kl_mb_test_streq(S, "yes"), *no = kl_mb_test_reject(S, "no way");

    (void)state;
    expect(kl_mb_test_accept(S), "5", "");
    expect(no, "5", "no way");
    expect(two(kl_mb_test_and, yes, no), "\"yes\"", "no way");
    expect(two(kl_mb_test_and, yes, no), "\"nope\"", "is not 'yes'");
    expect(two(kl_mb_test_or, yes, no), "\"yes\"", "");
    expect(two(kl_mb_test_or, yes, no), "\"x\"", "[is not 'yes', no way]");
    expect(kl_mb_test_or(S, 0, NULL), "1", "does not pass empty disjunction");
    expect(yes, "1", "is not a str");
}

static void
test_mb_test_structure(void **state)
{
    kl_mb_test *yes = kl_mb_test_streq(S, "yes");
    kl_mb_test *f = kl_mb_test_field(S, "a", yes, true);
    kl_mb_test *quiet = kl_mb_test_field(S, "a", yes, false);
    kl_mb_test *tup[2] = {yes, kl_mb_test_accept(S)};

    (void)state;
    expect(f, "{\"a\": \"yes\"}", "");
    expect(f, "{\"a\": \"no\"}", "a is not 'yes'");
    expect(quiet, "{\"a\": \"no\"}", "is not 'yes'");
    expect(f, "{\"b\": 1}", "has no 'a' field");
    expect(f, "[]", "is not a dict");
    expect(kl_mb_test_iterate(S, yes, false), "[\"yes\", \"no\"]", "[1] is not 'yes'");
    expect(kl_mb_test_iterate(S, f, true), "[{\"a\": \"yes\"}, {\"a\": \"caf\\u00e9\"}]",
           "{'a': 'caf\\xe9'} a is not 'yes'");
    expect(kl_mb_test_iterate(S, yes, false), "{}", "is not a list");
    expect(kl_mb_test_tuple(S, 2, tup), "[\"yes\", 3]", "");
    expect(kl_mb_test_tuple(S, 2, tup), "[\"no\", 3]", "[0] is not 'yes'");
    expect(kl_mb_test_tuple(S, 2, tup), "[\"yes\"]", " is shorter (1) than the applicable tests (2)");
    expect(kl_mb_test_tuple(S, 2, tup), "[1, 2, 3]", " is longer (3) than the applicable tests (2)");
}

static void
test_mb_test_dispatch(void **state)
{
    static const char *const keys[] = {"PCRIndex", "EventType"};
    kl_mb_test *d = kl_mb_test_dispatcher(S, 2, keys);

    (void)state;
    assert_non_null(kl_mb_test_dispatch_set(S, d, json_pack("[is]", 4, "EV_IPL"),
                                            kl_mb_test_reject(S, "four")));
    assert_non_null(kl_mb_test_dispatch_set(S, d, json_pack("[is]", 5, "EV_IPL"),
                                            kl_mb_test_accept(S)));
    expect(d, "{\"PCRIndex\": 5, \"EventType\": \"EV_IPL\"}", "");
    expect(d, "{\"PCRIndex\": 4, \"EventType\": \"EV_IPL\"}", "four");
    expect(d, "{\"PCRIndex\": 3, \"EventType\": \"EV_X\"}",
           "has unexpected ('PCRIndex', 'EventType') combination (3, 'EV_X')");
    expect(d, "{\"PCRIndex\": 3}", "has no EventType");
    expect(d, "7", "is not a dict");
}

static void
test_mb_test_values(void **state)
{
    json_t *good = json_pack("[{s:s},{s:s,s:s}]", "sha256", "aa", "sha256", "bb", "sha1", "cc");
    kl_mb_test *dig = kl_mb_test_digests(S, good);
    kl_mb_test *re = kl_mb_test_regexp(S, KL_BYTES_STR("grub_cmd: .*"), false);
    kl_mb_test *re_all = kl_mb_test_regexp(S, KL_BYTES_STR("grub_cmd: .*"), true);
    kl_mb_test *once = kl_mb_test_once(S, kl_mb_test_accept(S));

    (void)state;
    json_decref(good);
    expect(dig, "{\"Digests\": [{\"AlgorithmId\": \"sha256\", \"Digest\": \"bb\"}]}", "");
    expect(dig, "{\"Digests\": [{\"AlgorithmId\": \"sha384\", \"Digest\": \"bb\"}]}",
           "has no digest approved by {'sha256': {'aa', 'bb'}, 'sha1': {'cc'}}");
    expect(dig, "{\"Digests\": [5]}", "Digests[0] is 5, not a dict");
    expect(dig, "{\"Digests\": [{\"Digest\": \"bb\"}]}", "digest 0 has no AlgorithmId");
    expect(dig, "{}", "has no Digests");
    expect(re, "\"grub_cmd: ls\"", "");
    expect(re, "\"xgrub_cmd: ls\"", "does not match grub_cmd: .*");
    expect(re, "\"grub_cmd: a\\nb\"", "does not match grub_cmd: .*");
    expect(re_all, "\"grub_cmd: a\\nb\"", "");
    expect(once, "1", "");
    expect(once, "1", "test was already run once");
}

static void
test_mb_test_variables(void **state)
{
    kl_mb_test *v = kl_mb_test_variable(S, "g", "BootOrder|Boot[0-9a-fA-F]+", kl_mb_test_accept(S));
    kl_mb_test *vd = kl_mb_test_var_dispatch(S);

    (void)state;
    expect(v, "{\"Event\": {\"VariableName\": \"g\", \"UnicodeName\": \"Boot000A\", "
              "\"VariableData\": 1}}",
           "");
    expect(v, "{\"Event\": {\"VariableName\": \"h\"}}", "Event.VariableName is h rather than g");
    expect(v, "{\"Event\": {\"VariableName\": \"g\", \"UnicodeName\": \"BootNext\", "
              "\"VariableData\": 1}}",
           "Event.UnicodeName, BootNext, does not match BootOrder|Boot[0-9a-fA-F]+");
    expect(v, "{\"Event\": {\"VariableName\": \"g\", \"UnicodeName\": \"Boot0001\"}}",
           "Event has no VariableData field");
    assert_non_null(kl_mb_test_var_dispatch_set(S, vd, "g", "SecureBoot",
                                                kl_mb_test_field(S, "Enabled",
                                                                 kl_mb_test_streq(S, "Yes"), true)));
    expect(vd, "{\"Event\": {\"VariableName\": \"g\", \"UnicodeName\": \"SecureBoot\", "
               "\"VariableData\": {\"Enabled\": \"No\"}}}",
           "Event VariableData Enabled is not 'Yes'");
    expect(vd, "{\"Event\": {\"VariableName\": \"g\", \"UnicodeName\": \"PK\"}}",
           "Event has unexpected ('VariableName', 'UnicodeName') combination ('g', 'PK')");
}

static void
test_mb_test_keys(void **state)
{
    static const char *const types[2] = {"x509", "sha256"};
    json_t *sigs = json_pack("[{s:s,s:s}]", "SignatureOwner", "o", "SignatureData", "d");
    kl_mb_test *sub = kl_mb_test_key_subset(S, 1, types, sigs);
    kl_mb_test *multi = kl_mb_test_key_subset(S, 2, types, sigs);
    kl_mb_test *sup = kl_mb_test_key_superset(S, "sha256", sigs);

    (void)state;
    json_decref(sigs);
    expect(sub, "[{\"SignatureType\": \"x509\", \"Keys\": [{\"SignatureOwner\": \"o\", "
                "\"SignatureData\": \"d\"}]}]",
           "");
    expect(sub, "[{\"SignatureType\": \"x509\", \"Keys\": [{\"SignatureOwner\": \"o\", "
                "\"SignatureData\": \"e\"}]}]",
           "[0] Keys [0] [SignatureData is not 'd']");
    expect(multi, "[{\"SignatureType\": \"sha256\", \"Keys\": []}, {\"SignatureType\": \"md5\"}]",
           "[1] [SignatureType is not 'x509', SignatureType is not 'sha256']");
    expect(sup, "[{\"SignatureType\": \"sha256\", \"Keys\": [{\"SignatureOwner\": \"o\", "
                "\"SignatureData\": \"d\"}, {\"SignatureOwner\": \"p\", \"SignatureData\": \"q\"}]}]",
           "");
    expect(sup, "[{\"SignatureType\": \"sha256\", \"Keys\": [{\"SignatureOwner\": \"p\", "
                "\"SignatureData\": \"q\"}]}]",
           "[0] Keys lacks ('SignatureOwner', 'SignatureData') combinations {('o', 'd')}");
    expect(sup, "[{\"SignatureType\": \"sha256\", \"Keys\": [{\"SignatureOwner\": \"p\"}]}]",
           "[0] Keys member {'SignatureOwner': 'p'} does not have the right set of field names "
           "('SignatureOwner', 'SignatureData')");
    expect(sup, "[{\"SignatureType\": \"sha256\", \"Keys\": [\"p\"]}]",
           "[0] Keys member p is not a dict");
    expect(sup, "[{\"SignatureType\": \"sha256\", \"Keys\": null}]", "[0] Keys is not a list");
    expect(sup, "[{}, {}]", " is longer (2) than the applicable tests (1)");
}

static void
test_mb_test_events(void **state)
{
    (void)state;
    expect(kl_mb_test_ev_separator(S),
           "{\"Event\": \"00000000\", \"Digests\": [{\"AlgorithmId\": \"sha256\", \"Digest\": "
           "\"df3f619804a92fdb4057192dc43dd748ea778adc52bc498ce80524c014b81119\"}]}",
           "");
    expect(kl_mb_test_ev_separator(S), "{\"Event\": \"ffffffff\"}",
           "[Event is not '00000000', Event is not 'FFFFFFFF']");
    expect(kl_mb_test_ev_efi_action(S, 5),
           "{\"Event\": \"Exit Boot Services Invocation\", \"Digests\": [{\"AlgorithmId\": "
           "\"sha256\", \"Digest\": "
           "\"d8043d6b7b85ad358eb3b6ae6a873ab7ef23a26352c5dc4faa5aeedacf5eb41b\"}]}",
           "");
    expect(kl_mb_test_ev_efi_action(S, 7), "{}",
           "No EV_EFI_ACTION event for 7 is expected in the spec");
}

static void
test_mb_test_delay(void **state)
{
    static const char *const fields[] = {"seen"};
    kl_mb_test *check = kl_mb_test_field(
        S, "seen", kl_mb_test_tuple(S, 1, (kl_mb_test *[]){kl_mb_test_streq(S, "b")}), true);
    kl_mb_test *delay = kl_mb_test_delay(S, check, 1, fields);
    kl_mb_test *d = kl_mb_test_delayed(S, delay, "seen");
    kl_mb_test *steps[3] = {kl_mb_test_delay_init(S, delay), kl_mb_test_iterate(S, d, false),
                            delay};
    kl_mb_test *all = kl_mb_test_and(S, 3, steps);

    (void)state;
    expect(all, "[\"b\"]", "");
    expect(all, "[\"a\"]", "seen [0] is not 'b'");
    expect(all, "[]", "seen  is shorter (0) than the applicable tests (1)");
}

static void
test_mb_test_bad_regexp(void **state)
{
    (void)state;
    assert_null(kl_mb_test_regexp(S, KL_BYTES_STR("(abc"), false));
    assert_int_equal(kl_mb_test_set_status(S), KL_EINVAL);
    assert_non_null(strstr(kl_mb_test_set_error(S), "at position"));
    /* every later constructor fails too */
    assert_null(kl_mb_test_accept(S));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mb_test_logic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mb_test_structure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mb_test_dispatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mb_test_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mb_test_variables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mb_test_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mb_test_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mb_test_delay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mb_test_bad_regexp, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
