/* fuzz_ima_ascii: the ASCII measurement list parser (ima/ima_ascii.h).
 *
 * The input is a list. Each entry is checked: its views lie in the input or
 * the parser's scratch, its template data re-encodes and decodes to the
 * same fields, and the same entry written as a binary record parses to the
 * same template data. The list is then parsed again with an allocation
 * failure injected, which must give KL_ENOMEM and leak nothing.
 */
#include "fuzz_util.h"
#include "ima/ima_ascii.h"
#include "ima/ima_binary.h"
#include "ima/ima_sig.h"
#include "ima/ima_template.h"

static void
check_views(const kl_ima_entry *e, const uint8_t *data, size_t size, const kl_buf *scratch)
{
    const kl_bytes views[] = {e->raw,  e->template_hash, e->template_name, e->digest_alg,
                              e->name, e->sig,           e->buf,           e->template_data};

    for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++)
        FUZZ_CHECK(fuzz_within2(views[i], data, size, scratch) ||
                   kl_bytes_eq_str(views[i], "sha1") || kl_bytes_eq_str(views[i], "md5"));
    FUZZ_CHECK(fuzz_within(e->raw, data, size));
    FUZZ_CHECK(e->raw.len > 0 && !fuzz_has_byte(e->raw, '\n'));
    FUZZ_CHECK(memchr(e->pcr_text, 0, sizeof(e->pcr_text)) != NULL);
}

/* The template data decodes back into the fields it was built from. */
static void
check_roundtrip(const kl_ima_entry *e)
{
    kl_ima_entry d;
    kl_buf enc;

    kl_buf_init(&enc, (size_t)1 << 24);
    if (kl_ima_template_encode(e, &enc) == KL_OK) /* ENOMEM only */
        FUZZ_CHECK(kl_bytes_eq(kl_buf_bytes(&enc), e->template_data));
    kl_buf_free(&enc);
    if (e->tmpl == KL_IMA_TMPL_IMA || fuzz_has_byte(e->name, 0))
        return;
    memset(&d, 0, sizeof(d));
    d.tmpl = e->tmpl;
    FUZZ_CHECK(kl_ima_template_decode(&d, e->template_data) == KL_OK);
    FUZZ_CHECK(d.error == NULL);
    FUZZ_CHECK(kl_bytes_eq(d.digest_alg, e->digest_alg) && kl_bytes_eq(d.digest, e->digest));
    FUZZ_CHECK(kl_bytes_eq(d.name, e->name));
    if (e->tmpl == KL_IMA_TMPL_IMA_SIG)
        FUZZ_CHECK(kl_bytes_eq(d.sig, e->has_sig ? e->sig : KL_BYTES(NULL, 0)));
    if (e->tmpl == KL_IMA_TMPL_IMA_BUF)
        FUZZ_CHECK(kl_bytes_eq(d.buf, e->buf));
}

/* The entry as a binary record parses to the same template data. */
static void
check_binary(const kl_ima_entry *e)
{
    kl_ima_binary bp;
    kl_ima_entry b;
    kl_buf rec;
    bool more = false;
    kl_rc rc;

    if (e->tmpl == KL_IMA_TMPL_IMA ? e->digest.len != 20 : fuzz_has_byte(e->name, 0))
        return;
    kl_buf_init(&rec, (size_t)1 << 24);
    rc = kl_buf_append_u32le(&rec, e->pcr_is_ima ? 10 : 11);
    if (rc == KL_OK)
        rc = kl_buf_append(&rec, e->template_hash.ptr, e->template_hash.len);
    if (rc == KL_OK)
        rc = kl_buf_append_u32le(&rec, (uint32_t)e->template_name.len);
    if (rc == KL_OK)
        rc = kl_buf_append(&rec, e->template_name.ptr, e->template_name.len);
    if (rc == KL_OK && e->tmpl == KL_IMA_TMPL_IMA) {
        rc = kl_buf_append(&rec, e->digest.ptr, e->digest.len);
        if (rc == KL_OK)
            rc = kl_buf_append_u32le(&rec, (uint32_t)e->name.len);
        if (rc == KL_OK)
            rc = kl_buf_append(&rec, e->name.ptr, e->name.len);
    } else if (rc == KL_OK) {
        rc = kl_buf_append_u32le(&rec, (uint32_t)e->template_data.len);
        if (rc == KL_OK)
            rc = kl_buf_append(&rec, e->template_data.ptr, e->template_data.len);
    }
    if (rc == KL_OK && e->template_data.len <= KL_IMA_BINARY_DATA_MAX) {
        kl_ima_binary_init(&bp, kl_buf_bytes(&rec), e->template_hash.len);
        rc = kl_ima_binary_next(&bp, &b, &more);
        FUZZ_CHECK(rc == KL_OK || rc == KL_ENOMEM);
        if (rc == KL_OK) {
            FUZZ_CHECK(more && b.error == NULL && b.tmpl == e->tmpl);
            FUZZ_CHECK(b.pcr_is_ima == e->pcr_is_ima);
            FUZZ_CHECK(kl_bytes_eq(b.template_hash, e->template_hash));
            FUZZ_CHECK(kl_bytes_eq(b.template_data, e->template_data));
            FUZZ_CHECK(kl_bytes_eq(b.name, e->name) && kl_bytes_eq(b.digest, e->digest));
            FUZZ_CHECK(kl_ima_binary_next(&bp, &b, &more) == KL_OK && !more);
        }
        kl_ima_binary_free(&bp);
    }
    kl_buf_free(&rec);
}

static void
check_entry(const kl_ima_entry *e, const uint8_t *data, size_t size, const kl_ima_ascii *p)
{
    kl_ima_sig sig;

    check_views(e, data, size, p->cur);
    FUZZ_CHECK(e->index + 1 == p->index);
    if (e->error) {
        FUZZ_CHECK(e->template_data.len == 0);
        return;
    }
    FUZZ_CHECK(e->tmpl != KL_IMA_TMPL_UNKNOWN && e->template_data.len > 0);
    /* pcr_text stops at a NUL in the column, so only one direction holds */
    FUZZ_CHECK(!e->pcr_is_ima || strcmp(e->pcr_text, "10") == 0);
    FUZZ_CHECK(!e->has_sig || kl_ima_sig_parse(e->sig, &sig));
    FUZZ_CHECK(e->tmpl != KL_IMA_TMPL_IMA || e->name.len <= KL_IMA_LEGACY_NAME_MAX);
    check_roundtrip(e);
    check_binary(e);
}

/* Parses the whole list; returns the first error. */
static kl_rc
parse_all(const uint8_t *data, size_t size, bool check, size_t *entries)
{
    kl_ima_ascii p;
    kl_ima_entry e;
    size_t last = 0;
    bool more = true;
    kl_rc rc;

    *entries = 0;
    kl_ima_ascii_init(&p, fuzz_input(data, size));
    while ((rc = kl_ima_ascii_next(&p, &e, &more)) == KL_OK && more) {
        if (check) {
            FUZZ_CHECK(*entries == 0 || e.index > last);
            check_entry(&e, data, size, &p);
        }
        last = e.index;
        (*entries)++;
    }
    FUZZ_CHECK(rc != KL_OK || p.off == size);
    kl_ima_ascii_free(&p);
    return rc;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet_logs();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t entries, again, allocs;
    kl_rc rc;

    kl_alloc_fail_at(0);
    rc = parse_all(data, size, true, &entries);
    FUZZ_CHECK(rc == KL_OK);
    FUZZ_CHECK(entries <= size / 2 + 1);
    /* the allocation-failure sweep, one point per input */
    kl_alloc_fail_at(0);
    rc = parse_all(data, size, false, &again);
    allocs = kl_alloc_fail_at(0);
    FUZZ_CHECK(rc == KL_OK && again == entries);
    if (allocs) {
        kl_alloc_fail_at(1 + fuzz_hash(data, size) % allocs);
        rc = parse_all(data, size, false, &again);
        kl_alloc_fail_at(0);
        FUZZ_CHECK(rc == KL_ENOMEM);
    }
    return 0;
}
