/* Unit tests for mb/replay.c (kl_eventlog_replay, kl_eventlog_boot_aggregates):
 * extends per bank, EV_NO_ACTION never extended, StartupLocality and
 * H-CRTM initial values, PCRs present, aggregates and their order. */
#include "mb_build.h"

#include "util/kl_hex.h"

static const uint16_t both[2] = {MBB_SHA1, MBB_SHA256};

/* PCR = H(PCR || H(data)) from a given start. */
static void
extend(kl_hash_alg alg, uint8_t *pcr, const void *data, size_t len)
{
    uint8_t d[64], cat[128];
    size_t n = kl_hash_size(alg);

    assert_int_equal(kl_hash(alg, data, len, d), KL_OK);
    memcpy(cat, pcr, n);
    memcpy(cat + n, d, n);
    assert_int_equal(kl_hash(alg, cat, 2 * n, pcr), KL_OK);
}

static void
test_replay_rules(void **state)
{
    uint8_t want0[32] = {0}, want4[32] = {0};
    kl_eventlog *log;
    kl_pcr_set s;
    kl_buf b;

    (void)state;
    kl_buf_init(&b, 1 << 16);
    mbb_header(&b, 2, both);
    mbb_event(&b, 2, both, 0, KL_EV_NO_ACTION, "StartupLocality\0\x03", 17);
    mbb_event(&b, 2, both, 0, KL_EV_S_CRTM_VERSION, "v1", 2);
    mbb_event(&b, 2, both, 4, KL_EV_SEPARATOR, "\0\0\0\0", 4);
    mbb_event(&b, 2, both, 5, KL_EV_NO_ACTION, "other", 5);
    log = mbb_parse(&b);

    assert_int_equal(kl_eventlog_replay(log, KL_HASH_SHA256, &s), KL_OK);
    assert_int_equal(s.bank, KL_HASH_SHA256);
    want0[31] = 3;
    extend(KL_HASH_SHA256, want0, "v1", 2);
    extend(KL_HASH_SHA256, want4, "\0\0\0\0", 4);
    assert_memory_equal(s.value[0], want0, 32);
    assert_memory_equal(s.value[4], want4, 32);
    /* PCR 5 received only an EV_NO_ACTION: present, still zero */
    assert_int_equal(s.present, 1u << 0 | 1u << 4 | 1u << 5);
    memset(want4, 0, sizeof(want4));
    assert_memory_equal(s.value[5], want4, 32);

    assert_int_equal(kl_eventlog_replay(log, KL_HASH_SHA1, &s), KL_OK);
    memset(want0, 0, sizeof(want0));
    want0[19] = 3;
    extend(KL_HASH_SHA1, want0, "v1", 2);
    assert_memory_equal(s.value[0], want0, 20);

    assert_int_equal(kl_eventlog_replay(log, KL_HASH_SHA384, &s), KL_ENOTFOUND);
    kl_eventlog_free(log);
    kl_buf_free(&b);
}

static void
test_replay_hcrtm(void **state)
{
    uint8_t want[32] = {0};
    kl_eventlog *log;
    kl_pcr_set s;
    kl_buf b;

    (void)state;
    kl_buf_init(&b, 1 << 16);
    mbb_header(&b, 1, both + 1);
    mbb_event(&b, 1, both + 1, 0, KL_EV_EFI_HCRTM_EVENT, "HCRTM", 5);
    log = mbb_parse(&b);
    assert_int_equal(kl_eventlog_replay(log, KL_HASH_SHA256, &s), KL_OK);
    want[31] = 4;
    extend(KL_HASH_SHA256, want, "HCRTM", 5);
    assert_memory_equal(s.value[0], want, 32);
    kl_eventlog_free(log);
    kl_buf_free(&b);
}

/* Aggregate of PCRs 0..n-1 of s, as hex. */
static void
aggregate(const kl_pcr_set *s, unsigned n, char *out)
{
    size_t size = kl_hash_size(s->bank);
    uint8_t cat[10 * 32], d[32];

    for (unsigned i = 0; i < n; i++)
        memcpy(cat + i * size, s->value[i], size);
    assert_int_equal(kl_hash(s->bank, cat, n * size, d), KL_OK);
    kl_hex_encode(out, d, size);
}

static void
test_replay_aggregates(void **state)
{
    char want[65];
    kl_eventlog *log;
    kl_pcr_set s;
    kl_buf b, aggs;
    const char *p;

    (void)state;
    kl_buf_init(&b, 1 << 16);
    mbb_header(&b, 2, both);
    for (uint32_t pcr = 0; pcr < 8; pcr++)
        mbb_event(&b, 2, both, pcr, KL_EV_SEPARATOR, "\0\0\0\0", 4);
    log = mbb_parse(&b);
    kl_buf_init(&aggs, 4096);
    assert_int_equal(kl_eventlog_boot_aggregates(log, &aggs), KL_OK);
    /* only 0-7 in each bank: PCRs 8 and 9 never received an event */
    p = (const char *)aggs.ptr;
    assert_int_equal(kl_eventlog_replay(log, KL_HASH_SHA1, &s), KL_OK);
    aggregate(&s, 8, want);
    assert_string_equal(p, want);
    p += strlen(p) + 1;
    assert_int_equal(kl_eventlog_replay(log, KL_HASH_SHA256, &s), KL_OK);
    aggregate(&s, 8, want);
    assert_string_equal(p, want);
    p += strlen(p) + 1;
    assert_ptr_equal(p, (const char *)aggs.ptr + aggs.len);
    kl_eventlog_free(log);

    /* with 8 and 9: both variants, 0-7 first */
    mbb_event(&b, 2, both, 8, KL_EV_IPL, "x", 1);
    mbb_event(&b, 2, both, 9, KL_EV_IPL, "y", 1);
    log = mbb_parse(&b);
    kl_buf_reset(&aggs);
    assert_int_equal(kl_eventlog_boot_aggregates(log, &aggs), KL_OK);
    assert_int_equal(kl_eventlog_replay(log, KL_HASH_SHA256, &s), KL_OK);
    p = (const char *)aggs.ptr;
    p += strlen(p) + 1;
    p += strlen(p) + 1;
    aggregate(&s, 8, want);
    assert_string_equal(p, want);
    p += strlen(p) + 1;
    aggregate(&s, 10, want);
    assert_string_equal(p, want);
    kl_eventlog_free(log);
    kl_buf_free(&aggs);
    kl_buf_free(&b);
}

static void
test_replay_legacy(void **state)
{
    static const uint8_t digest[20] = {9};
    uint8_t want[20] = {0}, cat[40] = {0};
    kl_eventlog *log;
    kl_pcr_set s;
    kl_buf b;

    (void)state;
    kl_buf_init(&b, 4096);
    for (uint32_t type = KL_EV_NO_ACTION; type <= KL_EV_SEPARATOR; type++) {
        mbb_u32(&b, 2);
        mbb_u32(&b, type);
        mbb_bytes(&b, digest, 20);
        mbb_u32(&b, 0);
    }
    log = mbb_parse(&b);
    assert_int_equal(kl_eventlog_replay(log, KL_HASH_SHA1, &s), KL_OK);
    memcpy(cat + 20, digest, 20);
    assert_int_equal(kl_hash(KL_HASH_SHA1, cat, 40, want), KL_OK);
    assert_memory_equal(s.value[2], want, 20);
    assert_int_equal(s.present, 1u << 2);
    kl_eventlog_free(log);
    kl_buf_free(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_rules),
        cmocka_unit_test(test_replay_hcrtm),
        cmocka_unit_test(test_replay_aggregates),
        cmocka_unit_test(test_replay_legacy),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
