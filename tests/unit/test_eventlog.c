/* Unit tests for mb/eventlog.h (the parser): records, banks and digests
 * of built logs, the Spec ID header, old SHA-1 logs, StartupLocality, and
 * the reasons malformed logs are refused with. */
#include "mb_build.h"

#include "util/kl_alloc.h"

static const uint16_t both[2] = {MBB_SHA1, MBB_SHA256};
static const uint16_t sha256_only[1] = {MBB_SHA256};

static void
test_eventlog_records(void **state)
{
    const kl_eventlog_event *e;
    kl_eventlog *log;
    kl_bytes d;
    kl_buf b;

    (void)state;
    kl_buf_init(&b, 1 << 16);
    mbb_header(&b, 2, both);
    mbb_event(&b, 2, both, 0, KL_EV_NO_ACTION, "StartupLocality\0\x03", 17);
    mbb_event(&b, 2, both, 4, KL_EV_SEPARATOR, "\0\0\0\0", 4);
    mbb_event(&b, 2, both, 8, KL_EV_IPL, "grub_cmd: ls\0", 13);
    log = mbb_parse(&b);
    assert_int_equal(kl_eventlog_count(log), 4);
    assert_true(kl_eventlog_crypto_agile(log));
    assert_int_equal(kl_eventlog_bank_count(log), 2);
    assert_int_equal(kl_eventlog_bank_at(log, 1)->tpm_alg, MBB_SHA256);
    assert_int_equal(kl_eventlog_bank_at(log, 1)->size, 32);
    assert_true(kl_eventlog_bank_at(log, 0)->hashable);
    assert_true(kl_eventlog_has_bank(log, KL_HASH_SHA1));
    assert_false(kl_eventlog_has_bank(log, KL_HASH_SHA384));
    assert_int_equal(kl_eventlog_spec_id(log)->version_major, 2);
    assert_int_equal(kl_eventlog_spec_id(log)->uintn_size, 2);
    assert_int_equal(kl_eventlog_startup_locality(log), 3);

    e = kl_eventlog_event_at(log, 0);
    assert_int_equal(e->type, KL_EV_NO_ACTION);
    assert_int_equal(e->offset, 0);
    assert_int_equal(e->ndigests, 1);
    e = kl_eventlog_event_at(log, 3);
    assert_int_equal(e->num, 3);
    assert_int_equal(e->pcr, 8);
    assert_int_equal(e->type, KL_EV_IPL);
    assert_int_equal(e->data.len, 13);
    assert_memory_equal(e->data.ptr, "grub_cmd: ls", 12);
    assert_true(kl_eventlog_event_digest(e, MBB_SHA256, &d));
    assert_int_equal(d.len, 32);
    assert_false(kl_eventlog_event_digest(e, 0x000c, &d));
    assert_true(e->offset > kl_eventlog_event_at(log, 2)->offset);
    /* the log copied its input */
    memset(b.ptr, 0xee, b.len);
    assert_memory_equal(kl_eventlog_event_at(log, 3)->data.ptr, "grub_cmd: ls", 12);
    kl_eventlog_free(log);
    kl_buf_free(&b);
}

static void
test_eventlog_names(void **state)
{
    kl_hash_alg alg;
    uint16_t id;

    (void)state;
    assert_string_equal(kl_eventlog_type_name(KL_EV_EFI_VARIABLE_AUTHORITY),
                        "EV_EFI_VARIABLE_AUTHORITY");
    assert_string_equal(kl_eventlog_type_name(KL_EV_S_CRTM_VERSION), "EV_S_CRTM_VERSION");
    assert_null(kl_eventlog_type_name(0x1234));
    assert_true(kl_eventlog_alg_from_tpm(0x000c, &alg));
    assert_int_equal(alg, KL_HASH_SHA384);
    assert_false(kl_eventlog_alg_from_tpm(0x0027, &alg));
    assert_true(kl_eventlog_alg_to_tpm(KL_HASH_SM3_256, &id));
    assert_int_equal(id, 0x0012);
    assert_false(kl_eventlog_alg_to_tpm(KL_HASH_MD5, &id));
}

static void
test_eventlog_empty(void **state)
{
    kl_eventlog *log = NULL;

    (void)state;
    assert_int_equal(kl_eventlog_parse(&log, KL_BYTES("", 0)), KL_OK);
    assert_int_equal(kl_eventlog_count(log), 0);
    assert_int_equal(kl_eventlog_bank_count(log), 0);
    assert_false(kl_eventlog_crypto_agile(log));
    assert_null(kl_eventlog_spec_id(log));
    kl_eventlog_free(log);
    kl_eventlog_free(NULL);
}

static void
test_eventlog_legacy(void **state)
{
    static const uint8_t digest[20] = {1, 2, 3};
    kl_eventlog *log;
    kl_buf b;

    (void)state;
    kl_buf_init(&b, 4096);
    for (int i = 0; i < 2; i++) {
        mbb_u32(&b, (uint32_t)i);
        mbb_u32(&b, KL_EV_SEPARATOR);
        mbb_bytes(&b, digest, 20);
        mbb_u32(&b, 4);
        mbb_bytes(&b, "\0\0\0\0", 4);
    }
    log = mbb_parse(&b);
    assert_false(kl_eventlog_crypto_agile(log));
    assert_int_equal(kl_eventlog_count(log), 2);
    assert_int_equal(kl_eventlog_bank_count(log), 1);
    assert_true(kl_eventlog_has_bank(log, KL_HASH_SHA1));
    assert_int_equal(kl_eventlog_event_at(log, 1)->pcr, 1);
    assert_memory_equal(kl_eventlog_event_at(log, 1)->digests[0].value.ptr, digest, 20);
    kl_eventlog_free(log);
    kl_buf_free(&b);
}

/* Parses b, which must fail with a reason containing want. */
static void
refused(const kl_buf *b, const char *want)
{
    kl_eventlog *log = NULL;

    assert_int_equal(kl_eventlog_parse(&log, kl_buf_bytes(b)), KL_EPARSE);
    assert_null(log);
    if (!strstr(kl_err_msg(), want))
        fail_msg("'%s' lacks '%s'", kl_err_msg(), want);
}

static void
test_eventlog_refused(void **state)
{
    static const uint16_t dup[2] = {MBB_SHA256, MBB_SHA256};
    static const uint16_t sha384[1] = {0x000c};
    kl_buf b;
    size_t hdr;

    (void)state;
    kl_buf_init(&b, 1 << 16);
    mbb_header(&b, 1, sha256_only);
    hdr = b.len;
    mbb_event(&b, 1, sha256_only, 24, KL_EV_IPL, "x", 1);
    refused(&b, "record 1 at offset 65: PCR index 24 is out of range");

    b.len = hdr;
    mbb_event(&b, 1, sha256_only, 8, KL_EV_IPL, "x", 1);
    b.len--;
    refused(&b, "record 1 at offset 65: log ends inside the event data (1 bytes needed, 0 left)");

    b.len = hdr;
    mbb_event(&b, 1, sha256_only, 8, KL_EV_IPL, "x", 1);
    b.ptr[hdr + 12] = 0x04; /* a sha1 digest the header does not declare */
    refused(&b, "digest of algorithm 0x0004, which the Spec ID event does not declare");

    b.len = hdr;
    mbb_event(&b, 1, sha256_only, 8, KL_EV_IPL, "x", 1);
    b.ptr[hdr + 8] = 2; /* two digests */
    refused(&b, "2 digests, but the log has 1 banks");

    b.len = hdr;
    mbb_event(&b, 1, sha256_only, 7, KL_EV_EFI_VARIABLE_DRIVER_CONFIG, "short", 5);
    refused(&b, "record 1 at offset 65: UEFI_VARIABLE_DATA needs 32 bytes, the event has 5");

    b.len = hdr;
    mbb_event(&b, 1, sha256_only, 4, KL_EV_EFI_BOOT_SERVICES_APPLICATION, "", 0);
    refused(&b, "UEFI_IMAGE_LOAD_EVENT needs 32 bytes, the event has 0");

    b.len = hdr;
    mbb_bytes(&b, "\0\0", 2);
    refused(&b, "record 1 at offset 65: log ends inside the record header");

    kl_buf_reset(&b);
    mbb_header(&b, 2, dup);
    refused(&b, "record 0 at offset 0: Spec ID event lists algorithm 0x000b twice");

    kl_buf_reset(&b);
    mbb_header(&b, 1, sha384);
    b.ptr[32 + 30] = 32; /* a 32-byte sha384 */
    refused(&b, "gives algorithm 0x000c a digest size of 32");

    kl_buf_reset(&b);
    mbb_header(&b, 0, NULL);
    refused(&b, "Spec ID event declares 0 algorithms");

    kl_buf_reset(&b);
    mbb_header(&b, 1, sha256_only);
    b.ptr[28] += 1; /* one more byte of event data */
    mbb_bytes(&b, "\0", 1);
    refused(&b, "Spec ID event has 1 bytes after its vendor info");

    kl_buf_reset(&b);
    mbb_header(&b, 1, sha256_only);
    b.ptr[0] = 1;
    refused(&b, "Spec ID header must be on PCR 0 with a zero digest");

    kl_buf_reset(&b);
    mbb_bytes(&b, "not an event log at all, just text", 34);
    refused(&b, "record 0 at offset 0: log ends inside the event data");
    kl_buf_free(&b);
}

static void
test_eventlog_alloc_failure(void **state)
{
    kl_buf b;

    (void)state;
    kl_buf_init(&b, 1 << 16);
    mbb_header(&b, 2, both);
    for (int i = 0; i < 100; i++)
        mbb_event(&b, 2, both, 8, KL_EV_IPL, "grub_cmd: x", 11);
    for (size_t n = 1; n < 6; n++) {
        kl_eventlog *log = NULL;
        kl_rc rc;

        kl_alloc_fail_at(n);
        rc = kl_eventlog_parse(&log, kl_buf_bytes(&b));
        kl_alloc_fail_at(0);
        assert_true(rc == KL_ENOMEM || rc == KL_OK);
        kl_eventlog_free(log);
    }
    kl_buf_free(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eventlog_records),  cmocka_unit_test(test_eventlog_names),
        cmocka_unit_test(test_eventlog_empty),    cmocka_unit_test(test_eventlog_legacy),
        cmocka_unit_test(test_eventlog_refused),  cmocka_unit_test(test_eventlog_alloc_failure),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
