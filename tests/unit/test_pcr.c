/* Unit tests for tpm/pcr: TPM algorithm ids, and the tpm2-tools PCR blob
 * (build, parse, the digest over every bank, and every malformation the
 * parser rejects). */
/* cmocka.h needs the standard headers before it: keep this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <tss2/tss2_tpm2_types.h>

#include "tpm/pcr.h"
#include "util/kl_alloc.h"
/* clang-format on */

#define HEAD 136
#define LIST 532
#define SLOT(i) (4 + 8 * (i))                        /* selection slot i */
#define VALUE(l, j) (HEAD + (l)*LIST + 4 + 66 * (j)) /* digest slot j of list l */

static int
reset_alloc(void **state)
{
    (void)state;
    kl_alloc_fail_at(0);
    return 0;
}

static void
fill(kl_pcr_set *s, kl_hash_alg bank, uint32_t mask)
{
    memset(s, 0, sizeof(*s));
    s->bank = bank;
    s->present = mask;
    for (unsigned p = 0; p < KL_PCR_COUNT; p++)
        memset(s->value[p], 0x10 + (int)p, KL_HASH_MAX_SIZE);
}

static void
build(kl_buf *b, kl_hash_alg bank, uint32_t mask)
{
    uint16_t alg = 0;
    kl_pcr_set s;

    fill(&s, bank, mask);
    assert_true(kl_tpm_alg_of_hash(bank, &alg));
    kl_buf_init(b, 1 << 16);
    assert_int_equal(kl_pcrblob_build(b, alg, &s), KL_OK);
}

static void
put16(kl_buf *b, size_t off, uint16_t v)
{
    b->ptr[off] = (uint8_t)v;
    b->ptr[off + 1] = (uint8_t)(v >> 8);
}

static void
put32(kl_buf *b, size_t off, uint32_t v)
{
    put16(b, off, (uint16_t)v);
    put16(b, off + 2, (uint16_t)(v >> 16));
}

static kl_rc
parse(const kl_buf *b, uint16_t alg, kl_pcr_selection *sel, kl_pcr_set *out)
{
    return kl_pcrblob_parse(kl_buf_bytes(b), alg, sel, out);
}

static void
expect_parse_error(const kl_buf *b, const char *needle)
{
    kl_pcr_selection sel;
    kl_pcr_set out;

    assert_int_equal(parse(b, TPM2_ALG_SHA256, &sel, &out), KL_EPARSE);
    if (!strstr(kl_err_msg(), needle))
        fail_msg("error \"%s\" lacks \"%s\"", kl_err_msg(), needle);
    assert_int_equal(out.present, 0);
}

static void
test_pcr_alg_ids(void **state)
{
    kl_hash_alg h;
    uint16_t id;

    (void)state;
    assert_true(kl_tpm_alg_of_hash(KL_HASH_SHA1, &id));
    assert_int_equal(id, 0x0004);
    assert_true(kl_tpm_alg_of_hash(KL_HASH_SHA512, &id));
    assert_int_equal(id, 0x000d);
    assert_false(kl_tpm_alg_of_hash(KL_HASH_SM3_256, &id));
    assert_true(kl_tpm_hash_of_alg(0x000c, &h));
    assert_int_equal(h, KL_HASH_SHA384);
    assert_false(kl_tpm_hash_of_alg(0x0012, &h));
    assert_int_equal(kl_tpm_alg_digest_size(0x0012), 32);
    assert_int_equal(kl_tpm_alg_digest_size(0x0004), 20);
    assert_int_equal(kl_tpm_alg_digest_size(0x0029), 64);
    assert_int_equal(kl_tpm_alg_digest_size(0x0099), 0);
}

/* PROTOCOL 4.1's example: PCRs 10, 15, 16 of sha256, 668 bytes */
static void
test_pcr_build_layout(void **state)
{
    kl_buf b;

    (void)state;
    build(&b, KL_HASH_SHA256, 1u << 10 | 1u << 15 | 1u << 16);
    assert_int_equal(b.len, HEAD + LIST);
    assert_int_equal(b.ptr[0], 1);
    assert_int_equal(b.ptr[4], 0x0b);
    assert_int_equal(b.ptr[6], 3);
    assert_int_equal(b.ptr[7], 0x00);
    assert_int_equal(b.ptr[8], 0x84);
    assert_int_equal(b.ptr[9], 0x01);
    assert_int_equal(b.ptr[132], 1);  /* one TPML_DIGEST */
    assert_int_equal(b.ptr[HEAD], 3); /* holding 3 values */
    assert_int_equal(b.ptr[VALUE(0, 0)], 32);
    assert_int_equal(b.ptr[VALUE(0, 0) + 2], 0x10 + 10);
    assert_int_equal(b.ptr[VALUE(0, 2) + 2], 0x10 + 16);
    assert_int_equal(b.ptr[VALUE(0, 3)], 0);
    kl_buf_free(&b);
}

static void
roundtrip(kl_hash_alg bank, uint32_t mask, size_t lists)
{
    kl_pcr_selection sel;
    kl_pcr_set out, want;
    uint16_t alg = 0;
    kl_buf b;

    (void)kl_tpm_alg_of_hash(bank, &alg);
    build(&b, bank, mask);
    assert_int_equal(b.len, HEAD + lists * LIST);
    assert_int_equal(parse(&b, alg, &sel, &out), KL_OK);
    assert_int_equal(sel.count, 1);
    assert_int_equal(sel.banks[0].tpm_alg, alg);
    assert_int_equal(sel.banks[0].mask, mask);
    assert_int_equal(out.bank, bank);
    assert_int_equal(out.present, mask);
    fill(&want, bank, mask);
    for (unsigned p = 0; p < KL_PCR_COUNT; p++) {
        if (mask >> p & 1)
            assert_memory_equal(out.value[p], want.value[p], kl_hash_size(bank));
    }
    kl_buf_free(&b);
}

static void
test_pcr_roundtrip(void **state)
{
    (void)state;
    roundtrip(KL_HASH_SHA256, 1u << 16, 1);
    roundtrip(KL_HASH_SHA1, 0xff, 1);
    roundtrip(KL_HASH_SHA384, 0x1ff, 2);
    roundtrip(KL_HASH_SHA512, 0xffffff, 3);
    roundtrip(KL_HASH_SHA256, 0, 0);
}

/* another bank than the blob's: no values, not an error */
static void
test_pcr_other_bank(void **state)
{
    kl_pcr_selection sel;
    kl_pcr_set out;
    kl_buf b;

    (void)state;
    build(&b, KL_HASH_SHA256, 1u << 16);
    assert_int_equal(parse(&b, TPM2_ALG_SHA1, &sel, &out), KL_OK);
    assert_int_equal(out.present, 0);
    assert_int_equal(out.bank, KL_HASH_SHA1);
    kl_buf_free(&b);
}

static void
test_pcr_build_mismatch(void **state)
{
    kl_pcr_set s;
    kl_buf b;

    (void)state;
    fill(&s, KL_HASH_SHA256, 1);
    kl_buf_init(&b, 1 << 16);
    assert_int_equal(kl_pcrblob_build(&b, TPM2_ALG_SHA1, &s), KL_EINVAL);
    assert_int_equal(kl_pcrblob_build(&b, 0x0012, &s), KL_EINVAL);
    kl_buf_free(&b);
}

/* A two-bank blob: sha1 PCR 16, then sha256 PCRs 10 and 16, in one list. */
static void
two_banks(kl_buf *b)
{
    kl_pcr_set s;

    build(b, KL_HASH_SHA1, 1u << 16);
    fill(&s, KL_HASH_SHA256, 0);
    b->ptr[0] = 2;
    put16(b, SLOT(1), TPM2_ALG_SHA256);
    b->ptr[SLOT(1) + 2] = 3;
    b->ptr[SLOT(1) + 3] = 0x00;
    b->ptr[SLOT(1) + 4] = 0x04;
    b->ptr[SLOT(1) + 5] = 0x01;
    b->ptr[HEAD] = 3;
    put16(b, VALUE(0, 1), 32);
    memset(b->ptr + VALUE(0, 1) + 2, 0xaa, 32);
    put16(b, VALUE(0, 2), 32);
    memset(b->ptr + VALUE(0, 2) + 2, 0xbb, 32);
}

static void
test_pcr_two_banks_digest(void **state)
{
    uint8_t want[32], got[32], cat[20 + 64];
    kl_pcr_selection sel;
    kl_pcr_set out;
    kl_buf b;

    (void)state;
    two_banks(&b);
    assert_int_equal(kl_pcrblob_parse_digest(kl_buf_bytes(&b), TPM2_ALG_SHA256, &sel, &out,
                                             KL_HASH_SHA256, NULL, got),
                     KL_OK);
    assert_int_equal(sel.count, 2);
    assert_int_equal(sel.banks[1].mask, 1u << 10 | 1u << 16);
    assert_int_equal(out.present, 1u << 10 | 1u << 16);
    assert_int_equal(out.value[10][0], 0xaa);
    assert_int_equal(out.value[16][31], 0xbb);
    /* the digest covers both banks in order */
    memset(cat, 0x10 + 16, 20);
    memset(cat + 20, 0xaa, 32);
    memset(cat + 52, 0xbb, 32);
    assert_int_equal(kl_hash(KL_HASH_SHA256, cat, sizeof(cat), want), KL_OK);
    assert_memory_equal(got, want, 32);
    /* and the sha1 bank's values */
    assert_int_equal(parse(&b, TPM2_ALG_SHA1, &sel, &out), KL_OK);
    assert_int_equal(out.present, 1u << 16);
    kl_buf_free(&b);
}

static void
test_pcr_selection_eq(void **state)
{
    kl_pcr_selection a = {1, {{0x0b, 0x18400}}}, b = a;

    (void)state;
    assert_true(kl_pcr_selection_eq(&a, &b));
    b.banks[0].mask = 0x18000;
    assert_false(kl_pcr_selection_eq(&a, &b));
    b = a;
    b.banks[0].tpm_alg = 0x04;
    assert_false(kl_pcr_selection_eq(&a, &b));
    b = a;
    b.count = 2;
    b.banks[1] = a.banks[0];
    assert_false(kl_pcr_selection_eq(&a, &b));
}

static void
test_pcr_bad_lengths(void **state)
{
    kl_buf b;

    (void)state;
    build(&b, KL_HASH_SHA256, 1u << 16);
    b.len = HEAD - 1;
    expect_parse_error(&b, "shorter");
    b.len = HEAD + LIST - 1;
    expect_parse_error(&b, "digest lists");
    b.len = HEAD + LIST;
    put32(&b, 132, 2);
    expect_parse_error(&b, "digest lists");
    kl_buf_free(&b);
}

static void
test_pcr_bad_selection(void **state)
{
    kl_buf b;

    (void)state;
    build(&b, KL_HASH_SHA256, 1u << 16);
    b.ptr[SLOT(0) + 2] = 2;
    expect_parse_error(&b, "size_of_select must be either 0 or 3 but it is 2");
    b.ptr[SLOT(0) + 2] = 3;
    /* upstream checks every slot, also unused ones */
    b.ptr[SLOT(9) + 2] = 4;
    expect_parse_error(&b, "size_of_select");
    b.ptr[SLOT(9) + 2] = 0;
    put32(&b, 0, 17);
    expect_parse_error(&b, "banks");
    /* the same bank twice */
    put32(&b, 0, 2);
    memcpy(b.ptr + SLOT(1), b.ptr + SLOT(0), 8);
    expect_parse_error(&b, "twice");
    kl_buf_free(&b);
}

static void
test_pcr_bad_values(void **state)
{
    kl_buf b;

    (void)state;
    build(&b, KL_HASH_SHA256, 1u << 10 | 1u << 16);
    put32(&b, HEAD, 9);
    expect_parse_error(&b, "holds 9 values");
    put32(&b, HEAD, 2);
    put16(&b, VALUE(0, 0), 65);
    expect_parse_error(&b, "size 65");
    put16(&b, VALUE(0, 0), 32);
    /* a value past count */
    put16(&b, VALUE(0, 5), 32);
    expect_parse_error(&b, "slot 5");
    put16(&b, VALUE(0, 5), 0);
    /* an empty value within count */
    put16(&b, VALUE(0, 1), 0);
    expect_parse_error(&b, "slot 1");
    put16(&b, VALUE(0, 1), 32);
    /* a sha256 PCR with a sha1-sized value */
    put16(&b, VALUE(0, 1), 20);
    expect_parse_error(&b, "20-byte value");
    put16(&b, VALUE(0, 1), 32);
    /* fewer values than selected PCRs */
    put32(&b, HEAD, 1);
    put16(&b, VALUE(0, 1), 0);
    expect_parse_error(&b, "too short");
    /* more values than selected PCRs */
    put32(&b, HEAD, 3);
    put16(&b, VALUE(0, 1), 32);
    put16(&b, VALUE(0, 2), 32);
    expect_parse_error(&b, "Did not consume all entries");
    kl_buf_free(&b);
}

static void
test_pcr_digest_alloc_failure(void **state)
{
    kl_pcr_selection sel;
    uint8_t d[32];
    kl_pcr_set out;
    kl_buf b;

    (void)state;
    build(&b, KL_HASH_SHA256, 1u << 16);
    for (size_t n = 1; n < 4; n++) {
        kl_rc rc;

        kl_alloc_fail_at(n);
        rc = kl_pcrblob_parse_digest(kl_buf_bytes(&b), TPM2_ALG_SHA256, &sel, &out, KL_HASH_SHA256,
                                     NULL, d);
        kl_alloc_fail_at(0);
        assert_true(rc == KL_OK || rc == KL_ENOMEM);
        if (rc != KL_OK)
            assert_int_equal(out.present, 0);
    }
    kl_buf_free(&b);
}

#define T(f) cmocka_unit_test_teardown(f, reset_alloc)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_pcr_alg_ids),      T(test_pcr_build_layout),         T(test_pcr_roundtrip),
        T(test_pcr_other_bank),   T(test_pcr_build_mismatch),       T(test_pcr_two_banks_digest),
        T(test_pcr_selection_eq), T(test_pcr_bad_lengths),          T(test_pcr_bad_selection),
        T(test_pcr_bad_values),   T(test_pcr_digest_alloc_failure),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
