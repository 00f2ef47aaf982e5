/* Unit tests for mb/efi.h: GUIDs, UTF-16, UEFI_VARIABLE_DATA, signature
 * lists walked as tpm2-tools walks them, image-load events, firmware
 * blobs, GPT, load options and the checks that fail a whole log. */
#include "mb_build.h"

#include "util/kl_alloc.h"

static void
test_efi_guid(void **state)
{
    static const uint8_t g[16] = {0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2, 0x11,
                                  0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c};
    char text[KL_EFI_GUID_TEXT];
    uint8_t back[16];

    (void)state;
    kl_efi_guid_format(g, text);
    assert_string_equal(text, "8be4df61-93ca-11d2-aa0d-00e098032b8c");
    assert_true(kl_efi_guid_parse(KL_BYTES_STR("8BE4DF61-93CA-11d2-aa0d-00e098032b8c"), back));
    assert_memory_equal(back, g, 16);
    assert_false(kl_efi_guid_parse(KL_BYTES_STR("8be4df61-93ca-11d2-aa0d-00e098032b8"), back));
    assert_false(kl_efi_guid_parse(KL_BYTES_STR("8be4df61+93ca-11d2-aa0d-00e098032b8c"), back));
    assert_false(kl_efi_guid_parse(KL_BYTES_STR("8be4df61-93ca-11d2-aa0d-00e098032b8x"), back));
}

static void
check_utf16(const void *in, size_t n, const char *want)
{
    kl_buf b;

    kl_buf_init(&b, 1024);
    assert_int_equal(kl_efi_utf16_append(&b, KL_BYTES(in, n)), KL_OK);
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.ptr, want, b.len);
    kl_buf_free(&b);
}

static void
test_efi_utf16(void **state)
{
    (void)state;
    check_utf16("d\0b\0x\0", 6, "dbx");
    check_utf16("P\0K\0\0\0X\0", 8, "PK");             /* stops at NUL */
    check_utf16("A\0B", 3, "A");                        /* odd byte ignored */
    check_utf16("\xe9\x00", 2, "\xc3\xa9");             /* U+00E9 */
    check_utf16("\x3d\xd8\x00\xde", 4, "\xf0\x9f\x98\x80"); /* surrogate pair */
    check_utf16("\x3d\xd8" "A\0", 4, "\xef\xbf\xbd" "A");  /* lone high surrogate */
    check_utf16("\x00\xdc", 2, "\xef\xbf\xbd");         /* lone low surrogate */
    check_utf16("", 0, "");
}

static void
test_efi_var(void **state)
{
    kl_efi_var v;
    kl_buf b;

    (void)state;
    kl_buf_init(&b, 4096);
    mbb_var(&b, "8be4df61-93ca-11d2-aa0d-00e098032b8c", "SecureBoot", "\x01", 1);
    assert_int_equal(kl_efi_var_decode(kl_buf_bytes(&b), &v), KL_OK);
    assert_int_equal(v.name_len, 10);
    assert_int_equal(v.data_len, 1);
    assert_int_equal(v.data.len, 1);
    assert_int_equal(v.data.ptr[0], 1);
    assert_true(kl_efi_var_name_is(&v, "SecureBoot"));
    assert_false(kl_efi_var_name_is(&v, "SecureBoo"));
    assert_false(kl_efi_var_name_is(&v, "SecureBoot2"));
    /* data shorter than announced: what is there */
    assert_int_equal(kl_efi_var_decode(KL_BYTES(b.ptr, b.len - 1), &v), KL_OK);
    assert_int_equal(v.data.len, 0);
    assert_int_equal(v.data_len, 1);
    /* the name does not fit */
    assert_int_equal(kl_efi_var_decode(KL_BYTES(b.ptr, 40), &v), KL_EPARSE);
    assert_int_equal(kl_efi_var_decode(KL_BYTES(b.ptr, 31), &v), KL_EPARSE);
    kl_buf_reset(&b);
    mbb_var(&b, "8be4df61-93ca-11d2-aa0d-00e098032b8c", "db", NULL, 0);
    b.ptr[16] = 3; /* name of 3 characters, "db" and a NUL would be needed */
    assert_int_equal(kl_efi_var_decode(kl_buf_bytes(&b), &v), KL_EPARSE);
    kl_buf_free(&b);
}

static void
test_efi_siglists(void **state)
{
    static const uint8_t k1[4] = {1, 2, 3, 4}, k2[4] = {5, 6, 7, 8};
    const uint8_t *keys[2] = {k1, k2};
    kl_efi_siglist_iter it;
    kl_efi_siglist l;
    kl_efi_sigdata s;
    char owner[KL_EFI_GUID_TEXT];
    kl_buf b;

    (void)state;
    kl_buf_init(&b, 4096);
    mbb_siglist(&b, "a5c059a1-94e4-4aa7-87b5-ab155c2bf072", "77fa9abd-0359-4d32-bd60-28f4e78f784b",
                2, keys, 4);
    mbb_siglist(&b, "c1c41626-504c-4092-aca9-41f936934328", "77fa9abd-0359-4d32-bd60-28f4e78f784b",
                1, keys, 4);
    kl_efi_siglist_begin(&it, kl_buf_bytes(&b));
    assert_true(kl_efi_siglist_next(&it, &l));
    assert_int_equal(l.count, 2);
    assert_int_equal(l.sig_size, 20);
    kl_efi_siglist_sig(&l, 1, &s);
    kl_efi_guid_format(s.owner, owner);
    assert_string_equal(owner, "77fa9abd-0359-4d32-bd60-28f4e78f784b");
    assert_memory_equal(s.data.ptr, k2, 4);
    assert_true(kl_efi_siglist_next(&it, &l));
    assert_int_equal(l.count, 1);
    assert_false(kl_efi_siglist_next(&it, &l));

    /* an inconsistent list size: shown without keys, and the walk ends */
    b.ptr[16] = 29;
    kl_efi_siglist_begin(&it, kl_buf_bytes(&b));
    assert_true(kl_efi_siglist_next(&it, &l));
    assert_int_equal(l.count, 0);
    assert_false(kl_efi_siglist_next(&it, &l));
    b.ptr[16] = 28 + 40;

    /* signatures cut off by the end: the ones that fit */
    kl_efi_siglist_begin(&it, KL_BYTES(b.ptr, 28 + 30));
    assert_true(kl_efi_siglist_next(&it, &l));
    assert_int_equal(l.count, 1);
    assert_false(kl_efi_siglist_next(&it, &l));

    /* SignatureSize under 16 ends the walk before the list */
    b.ptr[24] = 15;
    kl_efi_siglist_begin(&it, kl_buf_bytes(&b));
    assert_false(kl_efi_siglist_next(&it, &l));
    /* a header that does not fit */
    kl_efi_siglist_begin(&it, KL_BYTES(b.ptr, 27));
    assert_false(kl_efi_siglist_next(&it, &l));
    assert_int_equal(kl_efi_sigdata_decode(KL_BYTES(b.ptr, 15), &s), KL_EPARSE);
    assert_int_equal(kl_efi_sigdata_decode(KL_BYTES(b.ptr, 20), &s), KL_OK);
    assert_int_equal(s.data.len, 4);
    kl_buf_free(&b);
}

static void
test_efi_structs(void **state)
{
    kl_efi_image_load il;
    kl_efi_blob blob;
    kl_efi_blob2 b2;
    kl_efi_load_option lo;
    uint8_t loc;
    kl_buf b;

    (void)state;
    kl_buf_init(&b, 4096);
    mbb_image(&b, "\x7f\xff\x04\x00", 4);
    assert_int_equal(kl_efi_image_load_decode(kl_buf_bytes(&b), &il), KL_OK);
    assert_int_equal(il.location, 0x7d225018);
    assert_int_equal(il.dp_length, 4);
    assert_int_equal(il.dp.len, 4);
    assert_int_equal(kl_efi_image_load_decode(KL_BYTES(b.ptr, 31), &il), KL_EPARSE);

    kl_buf_reset(&b);
    mbb_u64(&b, 0x820000);
    mbb_u64(&b, 0xe0000);
    assert_int_equal(kl_efi_blob_decode(kl_buf_bytes(&b), &blob), KL_OK);
    assert_int_equal(blob.base, 0x820000);
    assert_int_equal(blob.length, 0xe0000);
    assert_int_equal(kl_efi_blob_decode(KL_BYTES(b.ptr, 15), &blob), KL_EPARSE);

    kl_buf_reset(&b);
    mbb_bytes(&b, "\x03" "abc", 4);
    mbb_u64(&b, 1);
    mbb_u64(&b, 2);
    assert_int_equal(kl_efi_blob2_decode(kl_buf_bytes(&b), &b2), KL_OK);
    assert_int_equal(b2.description.len, 3);
    assert_int_equal(b2.blob.length, 2);
    assert_int_equal(kl_efi_blob2_decode(KL_BYTES(b.ptr, 19), &b2), KL_EPARSE);

    kl_buf_reset(&b);
    mbb_u32(&b, 1);
    mbb_u16(&b, 4);
    mbb_utf16(&b, "Fedora");
    mbb_u16(&b, 0);
    mbb_bytes(&b, "\x7f\xff\x04\x00", 4);
    assert_int_equal(kl_efi_load_option_decode(kl_buf_bytes(&b), &lo), KL_OK);
    assert_int_equal(lo.attributes, 1);
    assert_int_equal(lo.file_path_list_length, 4);
    assert_int_equal(lo.description.len, 12);
    assert_int_equal(lo.rest.len, 4);
    /* no terminating NUL: the description takes all */
    assert_int_equal(kl_efi_load_option_decode(KL_BYTES(b.ptr, 14), &lo), KL_OK);
    assert_int_equal(lo.description.len, 8);
    assert_int_equal(lo.rest.len, 0);
    assert_int_equal(kl_efi_load_option_decode(KL_BYTES(b.ptr, 5), &lo), KL_EPARSE);

    assert_true(kl_efi_startup_locality(KL_BYTES("StartupLocality\0\x03", 17), &loc));
    assert_int_equal(loc, 3);
    assert_false(kl_efi_startup_locality(KL_BYTES("StartupLocality\0", 16), &loc));
    assert_false(kl_efi_startup_locality(KL_BYTES("StartupLocalitx\0\x03", 17), &loc));
    kl_buf_free(&b);
}

static void
test_efi_gpt(void **state)
{
    kl_efi_gpt g;
    kl_efi_gpt_entry e;
    kl_buf b;
    char guid[KL_EFI_GUID_TEXT];

    (void)state;
    kl_buf_init(&b, 4096);
    mbb_bytes(&b, "EFI PART", 8);
    for (int i = 8; i < 92; i++)
        mbb_bytes(&b, "\x00", 1);
    b.ptr[8] = 1;
    mbb_u64(&b, 1);
    mbb_guid(&b, "c12a7328-f81f-11d2-ba4b-00a0c93ec93b");
    mbb_guid(&b, "a88ed452-9a52-45c4-91ce-3da7707caaab");
    mbb_u64(&b, 0x800);
    mbb_u64(&b, 0x12c7ff);
    mbb_u64(&b, 0);
    for (int i = 0; i < 72; i++)
        mbb_bytes(&b, "\x00", 1);
    assert_int_equal(kl_efi_gpt_decode(kl_buf_bytes(&b), &g), KL_OK);
    assert_int_equal(g.partitions, 1);
    assert_int_equal(g.revision, 1);
    kl_efi_gpt_entry_at(&g, 0, &e);
    kl_efi_guid_format(e.type_guid, guid);
    assert_string_equal(guid, "c12a7328-f81f-11d2-ba4b-00a0c93ec93b");
    assert_int_equal(e.ending_lba, 0x12c7ff);
    assert_int_equal(kl_efi_gpt_decode(KL_BYTES(b.ptr, b.len - 1), &g), KL_EPARSE);
    assert_int_equal(kl_efi_event_check(KL_EV_EFI_GPT_EVENT, KL_BYTES(b.ptr, b.len - 1)),
                     KL_EPARSE);
    mbb_bytes(&b, "x", 1);
    assert_int_equal(kl_efi_gpt_decode(kl_buf_bytes(&b), &g), KL_EPARSE);
    assert_int_equal(kl_efi_gpt_decode(KL_BYTES(b.ptr, 99), &g), KL_EPARSE);
    kl_buf_free(&b);
}

static kl_rc
check_var(uint32_t type, const char *name, const void *data, size_t len)
{
    kl_buf b;
    kl_rc rc;

    kl_buf_init(&b, 4096);
    mbb_var(&b, "8be4df61-93ca-11d2-aa0d-00e098032b8c", name, data, len);
    rc = kl_efi_event_check(type, kl_buf_bytes(&b));
    kl_buf_free(&b);
    return rc;
}

static void
test_efi_event_check(void **state)
{
    kl_buf b;

    (void)state;
    assert_int_equal(check_var(KL_EV_EFI_VARIABLE_DRIVER_CONFIG, "SecureBoot", "\x01", 1), KL_OK);
    assert_int_equal(check_var(KL_EV_EFI_VARIABLE_DRIVER_CONFIG, "SecureBoot", "\x01\x00", 2),
                     KL_EPARSE);
    assert_non_null(strstr(kl_err_msg(), "SecureBoot value of 2 bytes"));
    assert_int_equal(check_var(KL_EV_EFI_VARIABLE_AUTHORITY, "SecureBoot", "\x01\x00", 2), KL_OK);
    assert_int_equal(check_var(KL_EV_EFI_VARIABLE_AUTHORITY, "MokListTrusted", "ab", 2),
                     KL_EPARSE);
    assert_int_equal(check_var(KL_EV_EFI_VARIABLE_AUTHORITY, "db", "0123456789", 10), KL_EPARSE);
    assert_int_equal(check_var(KL_EV_EFI_VARIABLE_AUTHORITY, "Shim", "0123456789abcdef", 16),
                     KL_OK);
    assert_int_equal(check_var(KL_EV_EFI_VARIABLE_BOOT, "BootOrder", "\x01\x00\x02", 3),
                     KL_EPARSE);
    assert_int_equal(check_var(KL_EV_EFI_VARIABLE_BOOT2, "BootOrder", "\x01\x00\x02", 3),
                     KL_EPARSE);
    assert_int_equal(check_var(KL_EV_EFI_VARIABLE_BOOT, "BootOrder", "\x01\x00", 2), KL_OK);
    /* the data must fit, except for EV_EFI_VARIABLE_BOOT2 */
    kl_buf_init(&b, 4096);
    mbb_var(&b, "8be4df61-93ca-11d2-aa0d-00e098032b8c", "Timeout", "\x05\x00", 2);
    assert_int_equal(kl_efi_event_check(KL_EV_EFI_VARIABLE_BOOT, KL_BYTES(b.ptr, b.len - 1)),
                     KL_EPARSE);
    assert_int_equal(kl_efi_event_check(KL_EV_EFI_VARIABLE_BOOT2, KL_BYTES(b.ptr, b.len - 1)),
                     KL_OK);
    assert_int_equal(kl_efi_event_check(KL_EV_EFI_VARIABLE_BOOT2, KL_BYTES(b.ptr, 0)), KL_OK);
    assert_int_equal(kl_efi_event_check(KL_EV_EFI_VARIABLE_DRIVER_CONFIG, KL_BYTES(b.ptr, 0)),
                     KL_EPARSE);
    assert_int_equal(kl_efi_event_check(KL_EV_EFI_BOOT_SERVICES_APPLICATION, KL_BYTES(b.ptr, 31)),
                     KL_EPARSE);
    assert_int_equal(kl_efi_event_check(KL_EV_EFI_PLATFORM_FIRMWARE_BLOB, KL_BYTES(b.ptr, 15)),
                     KL_EPARSE);
    assert_int_equal(kl_efi_event_check(KL_EV_S_CRTM_CONTENTS, KL_BYTES(b.ptr, 16)), KL_OK);
    assert_int_equal(kl_efi_event_check(KL_EV_IPL, KL_BYTES(b.ptr, 0)), KL_OK);
    kl_buf_free(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_efi_guid),      cmocka_unit_test(test_efi_utf16),
        cmocka_unit_test(test_efi_var),       cmocka_unit_test(test_efi_siglists),
        cmocka_unit_test(test_efi_structs),   cmocka_unit_test(test_efi_gpt),
        cmocka_unit_test(test_efi_event_check),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
