/* Unit tests for mb/devpath.h: device paths as libefivar writes them (the
 * expected texts were checked against libefivar 37's
 * efidp_format_device_path), the limit and the failures. */
#include "mb_build.h"

#include "mb/devpath.h"
#include "util/kl_hex.h"

/* The text of a hex device path, or NULL when formatting fails. */
static char *
fmt(const char *hex, uint64_t limit, kl_rc *rc)
{
    static char text[1024];
    uint8_t dp[512];
    size_t n = strlen(hex) / 2;
    kl_buf b;

    assert_true(kl_hex_decode(dp, KL_BYTES(hex, 2 * n)));
    kl_buf_init(&b, 4096);
    *rc = kl_devpath_format(&b, KL_BYTES(dp, n), limit == UINT64_MAX ? n : limit);
    if (*rc != KL_OK) {
        assert_int_equal(b.len, 0);
        kl_buf_free(&b);
        return NULL;
    }
    assert_true(b.len < sizeof(text));
    memcpy(text, b.ptr ? (const char *)b.ptr : "", b.len);
    text[b.len] = '\0';
    kl_buf_free(&b);
    return text;
}

static void
expect(const char *hex, uint64_t limit, const char *want)
{
    kl_rc rc;
    char *got = fmt(hex, limit, &rc);

    if (!got)
        fail_msg("%s: %s", hex, kl_err_msg());
    assert_string_equal(got, want);
}

/* From binary_bios_measurements-secureboot, record 29 (shim). */
#define SHIM_DP                                                                                    \
    "02010c00d041030a0000000001010600030201010600000004012a0001000000000800000000000000c01200000" \
    "0000052d48ea8529ac44591ce3da7707caaab0202040434005c004500460049005c0072006500640068006100740" \
    "05c007300680069006d007800360034002e0065006600690000007fff0400"
#define FV_DP                                                                                      \
    "04071400ae51c18f6fc9c94b8c33107992c7735b" "0406140026ca1a82ea299349839f597fc021708d" "7fff0400"

static void
test_devpath_real(void **state)
{
    (void)state;
    expect(SHIM_DP, UINT64_MAX,
           "PciRoot(0x0)/Pci(0x2,0x3)/Pci(0x0,0x0)/HD(1,GPT,a88ed452-9a52-45c4-91ce-3da7707caaab,"
           "0x800,0x12c000)/File(\\EFI\\redhat\\shimx64.efi)");
    expect(FV_DP, UINT64_MAX,
           "FvVol(8fc151ae-c96f-4bc9-8c33-107992c7735b)/FvFile(821aca26-29ea-4993-839f-597fc021708d)");
    expect("02010c00d041030a00000000010106000002" "7fff0400", UINT64_MAX,
           "PciRoot(0x0)/Pci(0x2,0x0)");
    expect("04081800000000000060010000000000ff53030000000000" "7fff0400", UINT64_MAX,
           "Offset(0x16000,0x353ff)");
    expect("03171000010000000025" "38b221d13750" "7fff0400", UINT64_MAX,
           "NVMe(0x1,00-25-38-B2-21-D1-37-50)");
}

static void
test_devpath_nodes(void **state)
{
    (void)state;
    expect("030b2500" "525400123456" "0000000000000000000000000000000000000000000000000000" "01",
           UINT64_MAX, "MAC(525400123456,1)");
    expect("03120a000100ffff0000", UINT64_MAX, "Sata(1,65535,0)");
    expect("0318" "0c00" "687474703a2f2f78", UINT64_MAX, "Uri(http://x)");
    expect("0305060002" "01", UINT64_MAX, "USB(2,1)");
    expect("02010c00d041080a05000000", UINT64_MAX, "PcieRoot(0x5)");
    expect("02010c0078563412" "01000000", UINT64_MAX, "Acpi(0x12345678,0x1)");
    expect("0203" "0c00" "0100000002000000", UINT64_MAX, "AcpiAdr(0x1,0x2)");
    expect("01ff0600abcd", UINT64_MAX, "HardwarePath(255,abcd)");
    expect("03400600abcd", UINT64_MAX, "Msg(64,abcd)");
    expect("04200800abcdef01", UINT64_MAX, "MediaPath(32,abcd)");
    expect("06030600abcd", UINT64_MAX, "Path(6,3,abcd)");
    expect("04021800" "01000000" "0000000000000000" "0000000000000000", UINT64_MAX,
           "CDROM(1,0x0,0x0)");
    expect("7f010400", UINT64_MAX, ",");
}

static void
test_devpath_walk(void **state)
{
    kl_rc rc;

    (void)state;
    /* the limit stops the walk; what was written is the text */
    expect(FV_DP, 20, "FvVol(8fc151ae-c96f-4bc9-8c33-107992c7735b)");
    expect(FV_DP, 39, "FvVol(8fc151ae-c96f-4bc9-8c33-107992c7735b)");
    expect(FV_DP, 0, "");
    expect("", UINT64_MAX, "");
    /* ... unless nothing was written */
    assert_null(fmt(FV_DP, 19, &rc));
    assert_int_equal(rc, KL_EPARSE);
    assert_null(fmt(FV_DP, 3, &rc));
    /* an End node first: nothing, and the rest of the limit decides */
    expect("7fff0400", UINT64_MAX, "");
    expect("7fff0400" "7fff0400", UINT64_MAX, "");
    assert_null(fmt("7fff0400aa", UINT64_MAX, &rc));
    /* End stops the walk after the first node */
    expect("04071400ae51c18f6fc9c94b8c33107992c7735b" "7fff0400" "01ff0600abcd", UINT64_MAX,
           "FvVol(8fc151ae-c96f-4bc9-8c33-107992c7735b)");
    /* a node shorter than its header fails */
    assert_null(fmt("04071400ae51c18f6fc9c94b8c33107992c7735b" "01010200", UINT64_MAX, &rc));
    assert_int_equal(rc, KL_EPARSE);
    /* a node written differently by libefivar is left to the caller */
    assert_null(fmt("030c1b00" "000000000000000000000000000000000000000000000000", UINT64_MAX,
                    &rc));
    assert_int_equal(rc, KL_EUNSUPPORTED);
}

static bool
fv(const char *hex, uint64_t limit)
{
    uint8_t dp[512];
    size_t n = strlen(hex) / 2;

    assert_true(kl_hex_decode(dp, KL_BYTES(hex, 2 * n)));
    return kl_devpath_is_fv_app(KL_BYTES(dp, n), limit == UINT64_MAX ? n : limit);
}

static void
test_devpath_fv_app(void **state)
{
    (void)state;
    assert_true(fv(FV_DP, UINT64_MAX));
    assert_false(fv(SHIM_DP, UINT64_MAX));
    assert_false(fv(FV_DP, 20));
    assert_true(fv(FV_DP, 40));
    /* FvFile first, or FvVol alone */
    assert_false(fv("0406140026ca1a82ea299349839f597fc021708d" "04071400ae51c18f6fc9c94b8c33107992c7"
                    "735b",
                    UINT64_MAX));
    assert_false(fv("04071400ae51c18f6fc9c94b8c33107992c7735b" "7fff0400", UINT64_MAX));
    /* nodes this formatter keeps in hex after them do not matter */
    assert_true(fv(FV_DP "030c1b00" "000000000000000000000000000000000000000000000000",
                   UINT64_MAX));
    /* a broken node after them does: libefivar fails the whole path */
    assert_false(fv("04071400ae51c18f6fc9c94b8c33107992c7735b"
                    "0406140026ca1a82ea299349839f597fc021708d" "01010200",
                    UINT64_MAX));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_devpath_real),
        cmocka_unit_test(test_devpath_nodes),
        cmocka_unit_test(test_devpath_walk),
        cmocka_unit_test(test_devpath_fv_app),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
