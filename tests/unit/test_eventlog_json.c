/* Unit tests for mb/eventlog_json.h: the records as upstream's policy
 * engines see them (tpm2_eventlog 5.4 YAML as PyYAML loads it, enriched
 * and unescaped). The whole vector logs are compared with upstream in the
 * known-answer tests; these are the individual rules. */
#include "mb_build.h"

#include "json/json.h"
#include "mb/eventlog_json.h"
#include "util/kl_alloc.h"

static const uint16_t sha256_only[1] = {MBB_SHA256};

/* The JSON text (json.dumps) of record i of a log of the given events. */
static char *
event_text(kl_buf *log, size_t i)
{
    kl_eventlog *l = mbb_parse(log);
    json_t *e = NULL;
    kl_buf t;
    char *s;

    assert_int_equal(kl_eventlog_json_event(l, i, &e), KL_OK);
    kl_buf_init(&t, 1 << 20);
    assert_int_equal(kl_json_dump_py(&t, json_object_get(e, "Event") ? json_object_get(e, "Event")
                                                                      : e),
                     KL_OK);
    s = kl_strndup((const char *)t.ptr, t.len);
    kl_buf_free(&t);
    json_decref(e);
    kl_eventlog_free(l);
    return s;
}

/* The view of one event of this type and data. */
static void
expect_event(uint32_t pcr, uint32_t type, const void *data, size_t len, const char *want)
{
    kl_buf b;
    char *got;

    kl_buf_init(&b, 1 << 16);
    mbb_header(&b, 1, sha256_only);
    mbb_event(&b, 1, sha256_only, pcr, type, data, len);
    got = event_text(&b, 1);
    if (strcmp(got, want) != 0)
        fail_msg("got  %s\nwant %s", got, want);
    kl_free(got);
    kl_buf_free(&b);
}

static void
expect_var(uint32_t type, const char *name, const void *data, size_t len, const char *want)
{
    kl_buf v;

    kl_buf_init(&v, 1 << 16);
    mbb_var(&v, "8be4df61-93ca-11d2-aa0d-00e098032b8c", name, data, len);
    expect_event(7, type, v.ptr, v.len, want);
    kl_buf_free(&v);
}

#define VAR_HEAD(n, len)                                                                          \
    "{\"VariableName\": \"8be4df61-93ca-11d2-aa0d-00e098032b8c\", \"UnicodeNameLength\": " n      \
    ", \"VariableDataLength\": " len ", \"UnicodeName\": "

static void
test_eventlog_json_record(void **state)
{
    kl_buf b;
    char *got;

    (void)state;
    kl_buf_init(&b, 1 << 16);
    mbb_header(&b, 1, sha256_only);
    mbb_event_d(&b, 1, sha256_only, 4, KL_EV_SEPARATOR, "\0\0\0\0", 4,
                (const uint8_t *)"0123456789abcdef0123456789abcdef");
    mbb_event(&b, 1, sha256_only, 5, 0x80000010, "", 0);
    got = event_text(&b, 0);
    assert_string_equal(got, "{\"EventNum\": 0, \"PCRIndex\": 0, \"EventType\": \"EV_NO_ACTION\", "
                             "\"Digest\": \"0000000000000000000000000000000000000000\", "
                             "\"EventSize\": 33, \"SpecID\": [{\"Signature\": \"Spec ID Event03\", "
                             "\"platformClass\": 0, \"specVersionMinor\": 0, \"specVersionMajor\": 2, "
                             "\"specErrata\": 0, \"uintnSize\": 2, \"numberOfAlgorithms\": 1, "
                             "\"Algorithms\": [{\"Algorithm[0]\": null, \"algorithmId\": \"sha256\", "
                             "\"digestSize\": 32}], \"vendorInfoSize\": 0}]}");
    kl_free(got);
    got = event_text(&b, 1);
    assert_string_equal(got, "\"00000000\"");
    kl_free(got);
    /* an empty event has no "Event"; types tpm2-tools 5.4 does not know */
    got = event_text(&b, 2);
    assert_string_equal(got, "{\"EventNum\": 2, \"PCRIndex\": 5, \"EventType\": \"Unknown event "
                             "type\", \"DigestCount\": 1, \"Digests\": [{\"AlgorithmId\": \"sha256\", "
                             "\"Digest\": \"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b"
                             "7852b855\"}], \"EventSize\": 0}");
    kl_free(got);
    kl_buf_free(&b);
}

static void
test_eventlog_json_strings(void **state)
{
    (void)state;
    expect_event(5, KL_EV_EFI_ACTION, "Exit Boot Services Invocation", 29,
                 "\"Exit Boot Services Invocation\"");
    expect_event(0, KL_EV_POST_CODE, "ACPI DATA\0junk", 14, "\"ACPI DATA\"");
    expect_event(0, KL_EV_POST_CODE, "0123456789abcdef", 16,
                 "{\"BlobBase\": 3978425819141910832, \"BlobLength\": 7378413942531504440}");
    expect_event(14, KL_EV_IPL, "MokList\0", 8, "{\"String\": \"MokList\"}");
    expect_event(8, KL_EV_IPL, "grub_cmd: set a='b'\0", 20,
                 "{\"String\": \"grub_cmd: set a='b'\"}");
    /* lines are quoted one by one: the quotes between them stay */
    expect_event(7, KL_EV_IPL, "sbat,1\nshim,2\n", 14, "{\"String\": \"sbat,1\\\"\\n\\\"shim,2\"}");
    /* escapes come back in tpm2_tools_elparser's order */
    expect_event(9, KL_EV_IPL, "(hd0)/\\fedora\\0\0", 16, "{\"String\": \"(hd0)/\\\\\\fedora\\\\\\u0000\"}");
    expect_event(1, KL_EV_PLATFORM_CONFIG_FLAGS, "\x01\x02", 2, "\"0102\"");
    expect_event(0, KL_EV_NO_ACTION, "StartupLocality\0\x03", 17, "{\"StartupLocality\": 3}");
    expect_event(0, KL_EV_NO_ACTION, "StartupLocality\0", 16,
                 "\"537461727475704c6f63616c69747900\"");
}

static void
test_eventlog_json_hex_cap(void **state)
{
    uint8_t big[1100];
    kl_buf b;
    char *got;

    (void)state;
    memset(big, 0xab, sizeof(big));
    kl_buf_init(&b, 1 << 16);
    mbb_header(&b, 1, sha256_only);
    mbb_event(&b, 1, sha256_only, 1, KL_EV_EFI_HANDOFF_TABLES, big, sizeof(big));
    got = event_text(&b, 1);
    assert_int_equal(strlen(got), 2 * 1024 + 2); /* tpm2-tools prints 1024 bytes */
    kl_free(got);
    kl_buf_free(&b);
}

static void
test_eventlog_json_variables(void **state)
{
    static const uint8_t k1[4] = {1, 2, 3, 4};
    const uint8_t *keys[1] = {k1};
    kl_buf d;

    (void)state;
    expect_var(KL_EV_EFI_VARIABLE_DRIVER_CONFIG, "SecureBoot", "\x01", 1,
               VAR_HEAD("10", "1") "\"SecureBoot\", \"VariableData\": {\"Enabled\": \"Yes\"}}");
    expect_var(KL_EV_EFI_VARIABLE_DRIVER_CONFIG, "SecureBoot", "", 0,
               VAR_HEAD("10", "0") "\"SecureBoot\", \"VariableData\": {\"Enabled\": \"No\"}}");
    expect_var(KL_EV_EFI_VARIABLE_AUTHORITY, "MokListTrusted", "\x00", 1,
               VAR_HEAD("14", "1") "\"MokListTrusted\", \"VariableData\": {\"Enabled\": \"No\"}}");
    expect_var(KL_EV_EFI_VARIABLE_DRIVER_CONFIG, "Other", "\x01", 1,
               VAR_HEAD("5", "1") "\"Other\", \"VariableData\": \"01\"}");
    expect_var(KL_EV_EFI_VARIABLE_DRIVER_CONFIG, "Other", "", 0,
               VAR_HEAD("5", "0") "\"Other\"}");
    expect_var(KL_EV_EFI_VARIABLE_BOOT, "BootOrder", "\x01\x00\x1f\x00", 4,
               VAR_HEAD("9", "4") "\"BootOrder\", \"VariableData\": [\"Boot0001\", \"Boot001f\"]}");
    expect_var(KL_EV_EFI_VARIABLE_BOOT, "BootOrder", "", 0,
               VAR_HEAD("9", "0") "\"BootOrder\", \"VariableData\": null}");
    expect_var(KL_EV_EFI_VARIABLE_BOOT, "Boot0001", "\x01\x00\x00\x00\x04\x00R\0H\0\0\0\x7f\xff\x04\x00",
               16,
               VAR_HEAD("8", "16") "\"Boot0001\", \"VariableData\": {\"Enabled\": \"Yes\", "
                                   "\"FilePathListLength\": 4, \"Description\": \"RH\", "
                                   "\"DevicePath\": \"7fff0400\"}}");
    expect_var(KL_EV_EFI_VARIABLE_AUTHORITY, "SbatLevel", "sbat,1,2021030218\n", 18,
               VAR_HEAD("9", "18") "\"SbatLevel\", \"VariableData\": {\"String\": "
                                   "\"sbat,1,2021030218\"}}");
    expect_var(KL_EV_EFI_VARIABLE_AUTHORITY, "db", "0123456789abcdefXY", 18,
               VAR_HEAD("2", "18") "\"db\", \"VariableData\": [{\"SignatureOwner\": "
                                   "\"33323130-3534-3736-3839-616263646566\", \"SignatureData\": "
                                   "\"5859\"}]}");

    kl_buf_init(&d, 4096);
    mbb_siglist(&d, "a5c059a1-94e4-4aa7-87b5-ab155c2bf072", "77fa9abd-0359-4d32-bd60-28f4e78f784b",
                1, keys, 4);
    expect_var(KL_EV_EFI_VARIABLE_DRIVER_CONFIG, "PK", d.ptr, d.len,
               VAR_HEAD("2", "48") "\"PK\", \"VariableData\": [{\"SignatureType\": "
                                   "\"a5c059a1-94e4-4aa7-87b5-ab155c2bf072\", \"SignatureListSize\": "
                                   "48, \"SignatureHeaderSize\": 0, \"SignatureSize\": 20, \"Keys\": "
                                   "[{\"SignatureOwner\": \"77fa9abd-0359-4d32-bd60-28f4e78f784b\", "
                                   "\"SignatureData\": \"01020304\"}]}]}");
    expect_var(KL_EV_EFI_VARIABLE_DRIVER_CONFIG, "dbx", "", 0,
               VAR_HEAD("3", "0") "\"dbx\", \"VariableData\": null}");
    /* vendor_db: the DER certificates after each owner */
    kl_buf_reset(&d);
    mbb_guid(&d, "0223eddb-9079-4388-af77-2d65b1c35d3b");
    mbb_bytes(&d, "\x30\x82\x00\x02\xaa\xbb", 6);
    expect_var(KL_EV_EFI_VARIABLE_AUTHORITY, "vendor_db", d.ptr, d.len,
               VAR_HEAD("9", "22") "\"vendor_db\", \"VariableData\": [{\"SignatureOwner\": "
                                   "\"0223eddb-9079-4388-af77-2d65b1c35d3b\", \"SignatureData\": "
                                   "\"30820002aabb\"}]}");
    d.ptr[17] = 0x81; /* no certificate found: the hex stays */
    expect_var(KL_EV_EFI_VARIABLE_AUTHORITY, "vendor_db", d.ptr, d.len,
               VAR_HEAD("9", "22") "\"vendor_db\", \"VariableData\": "
                                   "\"dbed230279908843af772d65b1c35d3b30810002aabb\"}");
    kl_buf_free(&d);
}

static void
test_eventlog_json_images(void **state)
{
    kl_buf dp, ev;

    (void)state;
    kl_buf_init(&dp, 4096);
    kl_buf_init(&ev, 4096);
    mbb_node(&dp, 4, 7, "\xae\x51\xc1\x8f\x6f\xc9\xc9\x4b\x8c\x33\x10\x79\x92\xc7\x73\x5b", 16);
    /* "\EFI\fx", its UTF-16 NUL and one more zero unit: 18 bytes */
    mbb_node(&dp, 4, 4, "\\\0E\0F\0I\0\\\0f\0x\0\0\0\0", 18);
    mbb_node(&dp, 0x7f, 0xff, NULL, 0);
    mbb_image(&ev, dp.ptr, dp.len);
    expect_event(4, KL_EV_EFI_BOOT_SERVICES_APPLICATION, ev.ptr, ev.len,
                 "{\"ImageLocationInMemory\": 2099400728, \"ImageLengthInMemory\": 959848, "
                 "\"ImageLinkTimeAddress\": 0, \"LengthOfDevicePath\": 46, \"DevicePath\": "
                 "\"FvVol(8fc151ae-c96f-4bc9-8c33-107992c7735b)/File(\\\\EFI\\fx)\"}");
    /* a path libefivar cannot read stays hex */
    kl_buf_reset(&ev);
    mbb_image(&ev, "\x04\x07\x02\x00", 4);
    expect_event(2, KL_EV_EFI_BOOT_SERVICES_DRIVER, ev.ptr, ev.len,
                 "{\"ImageLocationInMemory\": 2099400728, \"ImageLengthInMemory\": 959848, "
                 "\"ImageLinkTimeAddress\": 0, \"LengthOfDevicePath\": 4, \"DevicePath\": "
                 "\"04070200\"}");
    kl_buf_reset(&ev);
    mbb_bytes(&ev, "\x03" "abc", 4);
    mbb_u64(&ev, 1);
    mbb_u64(&ev, UINT64_MAX);
    expect_event(0, KL_EV_EFI_PLATFORM_FIRMWARE_BLOB2, ev.ptr, ev.len,
                 "{\"BlobDescriptionSize\": 3, \"BlobDescription\": \"6162\", \"BlobBase\": 1, "
                 "\"BlobLength\": \"18446744073709551615\"}");
    kl_buf_free(&dp);
    kl_buf_free(&ev);
}

static void
check_unescape(const char *in, size_t len, const char *want, size_t want_len)
{
    char buf[64];
    size_t n;

    memcpy(buf, in, len);
    n = kl_eventlog_json_unescape(buf, len);
    assert_int_equal(n, want_len);
    assert_memory_equal(buf, want, n);
}

static void
test_eventlog_json_unescape(void **state)
{
    (void)state;
    check_unescape("\"MokList\\0\"", 11, "MokList", 7);
    check_unescape("\"", 1, "", 0);
    check_unescape("a\"", 2, "a\"", 2);
    check_unescape("\\t\\e\\'", 6, "\t\x1b'", 3);
    /* the order of the replacements: \\0 becomes a backslash and a NUL */
    check_unescape("x\\\\0y", 5, "x\\\0y", 4);
    check_unescape("\\\\f", 3, "\\\f", 2);
    check_unescape("ab\0", 3, "ab", 2);
    check_unescape("", 0, "", 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eventlog_json_record),
        cmocka_unit_test(test_eventlog_json_strings),
        cmocka_unit_test(test_eventlog_json_hex_cap),
        cmocka_unit_test(test_eventlog_json_variables),
        cmocka_unit_test(test_eventlog_json_images),
        cmocka_unit_test(test_eventlog_json_unescape),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
