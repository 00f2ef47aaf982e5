/* Unit tests for policy/mb_refstate.h: the refstate of built logs with
 * and without Secure Boot, firmware-volume applications left out, the
 * refusals and messages, and re.escape. Byte-for-byte equality with
 * upstream on the vector logs is a known-answer test (kat_eventlog). */
#include "mb_build.h"

#include "json/json.h"
#include "policy/mb_refstate.h"
#include "util/kl_alloc.h"

static char notes[2048];

static void
collect(kl_log_level level, const char *msg, void *payload)
{
    size_t n = strlen(notes);

    (void)payload;
    snprintf(notes + n, sizeof(notes) - n, "%d:%s|", (int)level, msg);
}

/* The refstate of a log as JSON text, or NULL (rc in *rc). */
static char *
create(const kl_buf *log_bytes, bool without_sb, kl_rc *rc)
{
    kl_mb_refstate_opts o = KL_MB_REFSTATE_OPTS_INIT;
    kl_eventlog *log = mbb_parse(log_bytes);
    json_t *state = NULL;
    char *text = NULL;
    kl_buf b;

    notes[0] = '\0';
    o.without_secureboot = without_sb;
    o.note = collect;
    *rc = kl_mb_refstate_create(&state, log, &o);
    if (*rc == KL_OK) {
        kl_buf_init(&b, 1 << 20);
        assert_int_equal(kl_json_dump_py(&b, state), KL_OK);
        text = kl_strndup((const char *)b.ptr, b.len);
        kl_buf_free(&b);
    }
    json_decref(state);
    kl_eventlog_free(log);
    return text;
}

#define HEX32(x) "0x" x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x

static void
test_mb_refstate_secureboot(void **state)
{
    kl_rc rc;
    kl_buf b;
    char *text;

    (void)state;
    kl_buf_init(&b, 1 << 16);
    mbb_boot_log(&b, true);
    mbb_app(&b, 0x99, true); /* from a firmware volume: left out */
    text = create(&b, false, &rc);
    assert_int_equal(rc, KL_OK);
    assert_string_equal(
        text,
        "{\"has_secureboot\": true, \"scrtm_and_bios\": [{\"scrtm\": {\"sha256\": "
        "\"0x32fae43132e9a0beea80f0f4f987c87536a974a4a07f91840c532b27dcf2b3bb\"}, "
        "\"platform_firmware\": [{\"sha256\": "
        "\"0x4cbbd8ca5215b8d161aec181a74b694f4e24b001d5b081dc0030ed797a8973e0\"}]}], \"pk\": "
        "[{\"SignatureOwner\": \"77fa9abd-0359-4d32-bd60-28f4e78f784b\", \"SignatureData\": "
        "\"0x706b2d63657274\"}], \"kek\": [{\"SignatureOwner\": "
        "\"77fa9abd-0359-4d32-bd60-28f4e78f784b\", \"SignatureData\": \"0x6b656b2d63657274\"}], "
        "\"db\": [{\"SignatureOwner\": \"77fa9abd-0359-4d32-bd60-28f4e78f784b\", "
        "\"SignatureData\": \"0x64622d63657274\"}], \"dbx\": [{\"SignatureOwner\": "
        "\"77fa9abd-0359-4d32-bd60-28f4e78f784b\", \"SignatureData\": "
        "\"0x6462782d656e7472792d30313233343536373839616263646566303132333435\"}], "
        "\"vendor_db\": [], \"mokdig\": [{\"sha256\": "
        "\"0x65753f523a7f54974e3e9d41c1295fe6d9a795cc985db5809336a52176fba00a\"}], \"mokxdig\": "
        "[], \"kernels\": [{\"kernel_authcode_sha256\": \"" HEX32("33") "\", "
        "\"shim_authcode_sha256\": \"" HEX32("11") "\", \"grub_authcode_sha256\": \"" HEX32("22")
        "\", \"initrd_plain_sha256\": "
        "\"0xe19f9e9067d8901a2de8df74ec4347d1943ed198dd96e16ccb1849b12b7780de\", \"kernel_cmdline\": "
        "\"/vmlinuz\\\\-1\\\\ ro\\\\ quiet\"}]}");
    kl_free(text);
    kl_buf_free(&b);
}

static void
test_mb_refstate_without_secureboot(void **state)
{
    kl_rc rc;
    kl_buf b;
    char *text;

    (void)state;
    kl_buf_init(&b, 1 << 16);
    mbb_boot_log(&b, false);
    assert_null(create(&b, false, &rc));
    assert_int_equal(rc, KL_EINVAL);
    assert_string_equal(kl_err_msg(),
                        "Provided eventlog has SecureBoot disabled, but -i flag was not set");
    text = create(&b, true, &rc);
    assert_int_equal(rc, KL_OK);
    assert_non_null(strstr(text, "\"has_secureboot\": false"));
    assert_non_null(strstr(text, "\"kernels\": [{\"shim_authcode_sha256\": \"" HEX32("11")));
    assert_non_null(strstr(text, "\"vmlinuz_plain_sha256\": "
                                 "\"0x29e25f2b2617a392837dab5dfdd2e11f361176627dd9bad9d468af9333044009\""));
    assert_null(strstr(text, "kernel_authcode_sha256"));
    assert_string_equal(notes, "2:Adding plain sha256 digest of vmlinuz for GRUB to reference "
                               "state, because SecureBoot is disabled|");
    kl_free(text);
    /* -i with Secure Boot on: a warning, and the flag is ignored */
    kl_buf_reset(&b);
    mbb_boot_log(&b, true);
    text = create(&b, true, &rc);
    assert_non_null(strstr(text, "\"has_secureboot\": true"));
    assert_string_equal(notes, "1:-i/--without-secureboot was set to create a reference state "
                               "without SecureBoot, but the provided eventlog has SecureBoot "
                               "enabled. Ignoring this flag|");
    kl_free(text);
    kl_buf_free(&b);
}

static void
test_mb_refstate_odd_logs(void **state)
{
    static const uint16_t a[1] = {MBB_SHA256};
    kl_rc rc;
    kl_buf b;
    char *text;

    (void)state;
    /* no SecureBoot variable: assumed off */
    kl_buf_init(&b, 1 << 16);
    mbb_header(&b, 1, a);
    mbb_app(&b, 0x11, false);
    mbb_app(&b, 0x22, false);
    mbb_app(&b, 0x33, false);
    text = create(&b, true, &rc);
    assert_int_equal(rc, KL_OK);
    /* three applications without Secure Boot: no kernels, and an error */
    assert_null(strstr(text, "kernels"));
    assert_non_null(strstr(text, "\"scrtm_and_bios\": [{\"platform_firmware\": []}]"));
    assert_string_equal(notes, "1:SecureBoot state could not be determined; assuming disabled|"
                               "0:Expected 2 different UEFI applications to be booted (Shim, "
                               "Grub); got: 3|");
    kl_free(text);

    /* only the header: events, but nothing in them */
    kl_buf_reset(&b);
    mbb_header(&b, 1, a);
    text = create(&b, true, &rc);
    assert_int_equal(rc, KL_OK);
    kl_free(text);

    /* no events at all */
    kl_buf_reset(&b);
    assert_null(create(&b, true, &rc));
    assert_int_equal(rc, KL_EINVAL);
    assert_string_equal(kl_err_msg(), "No events found on binary boot measurements log");

    /* a sha1-only log: the applications have no sha256 digest */
    kl_buf_reset(&b);
    mbb_header(&b, 1, (const uint16_t[]){MBB_SHA1});
    mbb_event(&b, 1, (const uint16_t[]){MBB_SHA1}, 4, KL_EV_EFI_BOOT_SERVICES_APPLICATION,
              "0123456789abcdef0123456789abcdef", 32);
    mbb_event(&b, 1, (const uint16_t[]){MBB_SHA1}, 4, KL_EV_EFI_BOOT_SERVICES_APPLICATION,
              "0123456789abcdef0123456789abcdef", 32);
    assert_null(create(&b, true, &rc));
    assert_int_equal(rc, KL_EUNSUPPORTED);
    kl_buf_free(&b);
}

static void
check_escape(const char *in, const char *want)
{
    kl_buf b;

    kl_buf_init(&b, 1024);
    assert_int_equal(kl_mb_refstate_re_escape(&b, KL_BYTES(in, strlen(in))), KL_OK);
    assert_int_equal(kl_buf_terminate(&b), KL_OK);
    assert_string_equal(b.len ? (const char *)b.ptr : "", want);
    kl_buf_free(&b);
}

static void
test_mb_refstate_re_escape(void **state)
{
    (void)state;
    check_escape("(hd0,gpt2)/vmlinuz-5.14 root=UUID=f0e4 ro",
                 "\\(hd0,gpt2\\)/vmlinuz\\-5\\.14\\ root=UUID=f0e4\\ ro");
    check_escape("a*b+c?d|e^f$g[h]i{j}k&l~m#n\t\\", "a\\*b\\+c\\?d\\|e\\^f\\$g\\[h\\]i\\{j\\}k\\&"
                                                   "l\\~m\\#n\\\t\\\\");
    check_escape("_:/=,@%!\"'", "_:/=,@%!\"'");
    check_escape("", "");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mb_refstate_secureboot),
        cmocka_unit_test(test_mb_refstate_without_secureboot),
        cmocka_unit_test(test_mb_refstate_odd_logs),
        cmocka_unit_test(test_mb_refstate_re_escape),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
