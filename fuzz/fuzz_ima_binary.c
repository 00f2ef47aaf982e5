/* fuzz_ima_binary: the binary measurement list parser (ima/ima_binary.h).
 *
 * The input is a list, parsed once for each template-digest size (sha1,
 * sha256, sha384, sha512). Records must tile the input, views must lie in
 * the input or the scratch, template data must re-encode to itself, and an
 * entry written as an ASCII line must parse to the same template data.
 */
#include "fuzz_util.h"
#include "ima/ima_ascii.h"
#include "ima/ima_binary.h"
#include "ima/ima_sig.h"
#include "ima/ima_template.h"
#include "util/kl_hex.h"

static const size_t hash_lens[] = {20, 32, 48, 64};

static void
check_views(const kl_ima_entry *e, const uint8_t *data, size_t size, const kl_buf *scratch)
{
    const kl_bytes views[] = {e->raw,  e->template_hash, e->template_name, e->digest,
                              e->name, e->sig,           e->buf,           e->template_data};

    for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++)
        FUZZ_CHECK(fuzz_within2(views[i], data, size, scratch));
    FUZZ_CHECK(fuzz_within(e->digest_alg, data, size) || kl_bytes_eq_str(e->digest_alg, "sha1"));
    FUZZ_CHECK(fuzz_within(e->raw, data, size) && fuzz_within(e->template_hash, data, size));
    FUZZ_CHECK(memchr(e->pcr_text, 0, sizeof(e->pcr_text)) != NULL);
}

static bool
line_safe(kl_bytes v, bool space_ok)
{
    return !fuzz_has_byte(v, '\n') && (space_ok || !fuzz_has_byte(v, ' '));
}

static kl_rc
append_hex(kl_buf *b, kl_bytes v)
{
    return kl_hex_encode_append(b, v.ptr, v.len);
}

/* The entry as an ASCII line parses to the same template data, when the
 * line can say the same thing (ASCII has no escaping). */
static void
check_ascii(const kl_ima_entry *e)
{
    bool ng = e->tmpl == KL_IMA_TMPL_IMA_NG;
    kl_ima_ascii ap;
    kl_ima_entry a;
    kl_ima_sig sig;
    kl_buf line;
    bool more = false;
    kl_rc rc;

    if (e->tmpl == KL_IMA_TMPL_IMA || !line_safe(e->name, ng) ||
        !line_safe(e->digest_alg, false) || fuzz_has_byte(e->digest_alg, ':') ||
        (e->tmpl == KL_IMA_TMPL_IMA_SIG && e->sig.len && !kl_ima_sig_parse(e->sig, &sig)))
        return;
    kl_buf_init(&line, (size_t)1 << 26);
    rc = kl_buf_printf(&line, "%s ", e->pcr_is_ima ? "10" : "11");
    if (rc == KL_OK)
        rc = append_hex(&line, e->template_hash);
    if (rc == KL_OK)
        rc = kl_buf_append_byte(&line, ' ');
    if (rc == KL_OK)
        rc = kl_buf_append(&line, e->template_name.ptr, e->template_name.len);
    if (rc == KL_OK)
        rc = kl_buf_append_byte(&line, ' ');
    if (rc == KL_OK)
        rc = kl_buf_append(&line, e->digest_alg.ptr, e->digest_alg.len);
    if (rc == KL_OK)
        rc = kl_buf_append_byte(&line, ':');
    if (rc == KL_OK)
        rc = append_hex(&line, e->digest);
    if (rc == KL_OK)
        rc = kl_buf_append_byte(&line, ' ');
    if (rc == KL_OK)
        rc = kl_buf_append(&line, e->name.ptr, e->name.len);
    if (rc == KL_OK && !ng) {
        rc = kl_buf_append_byte(&line, ' ');
        if (rc == KL_OK)
            rc = append_hex(&line, e->tmpl == KL_IMA_TMPL_IMA_SIG ? e->sig : e->buf);
    }
    if (rc == KL_OK && line.len <= KL_IMA_LINE_MAX) {
        kl_ima_ascii_init(&ap, kl_buf_bytes(&line));
        rc = kl_ima_ascii_next(&ap, &a, &more);
        FUZZ_CHECK(rc == KL_OK || rc == KL_ENOMEM);
        if (rc == KL_OK) {
            FUZZ_CHECK(more && a.error == NULL && a.tmpl == e->tmpl);
            FUZZ_CHECK(a.pcr_is_ima == e->pcr_is_ima);
            FUZZ_CHECK(kl_bytes_eq(a.template_hash, e->template_hash));
            FUZZ_CHECK(kl_bytes_eq(a.template_data, e->template_data));
        }
        kl_ima_ascii_free(&ap);
    }
    kl_buf_free(&line);
}

static void
check_entry(const kl_ima_entry *e, const uint8_t *data, size_t size, const kl_ima_binary *p,
            size_t hash_len)
{
    kl_ima_sig sig;
    kl_buf enc;

    check_views(e, data, size, p->cur);
    FUZZ_CHECK(e->template_hash.len == hash_len);
    FUZZ_CHECK(e->pcr_is_ima == (strcmp(e->pcr_text, "10") == 0));
    FUZZ_CHECK(e->template_name.len > 0);
    if (e->tmpl != KL_IMA_TMPL_IMA)
        FUZZ_CHECK(e->template_data.ptr && fuzz_within(e->template_data, data, size));
    if (e->error)
        return;
    FUZZ_CHECK(e->tmpl != KL_IMA_TMPL_UNKNOWN);
    FUZZ_CHECK(e->has_sig == (e->tmpl == KL_IMA_TMPL_IMA_SIG && kl_ima_sig_parse(e->sig, &sig)));
    /* a malformed signature is dropped when encoding (upstream's quirk) */
    kl_buf_init(&enc, (size_t)1 << 26);
    if (kl_ima_template_encode(e, &enc) == KL_OK && (e->has_sig || e->sig.len == 0))
        FUZZ_CHECK(kl_bytes_eq(kl_buf_bytes(&enc), e->template_data));
    kl_buf_free(&enc);
    check_ascii(e);
}

static void
parse_all(const uint8_t *data, size_t size, size_t hash_len)
{
    kl_ima_binary p;
    kl_ima_entry e;
    size_t off = 0, n = 0;
    bool more = true;
    kl_rc rc;

    kl_ima_binary_init(&p, fuzz_input(data, size), hash_len);
    while ((rc = kl_ima_binary_next(&p, &e, &more)) == KL_OK && more) {
        /* records tile the input */
        FUZZ_CHECK(e.index == n && e.raw.ptr == data + off && e.raw.len > 0);
        off += e.raw.len;
        n++;
        FUZZ_CHECK(p.off == off && p.index == n);
        check_entry(&e, data, size, &p, hash_len);
    }
    FUZZ_CHECK(rc == KL_OK || rc == KL_EPARSE);
    if (rc == KL_OK)
        FUZZ_CHECK(off == size);
    else
        fuzz_touch_error();
    kl_ima_binary_free(&p);
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
    (void)kl_ima_binary_detect(fuzz_input(data, size));
    for (size_t i = 0; i < sizeof(hash_lens) / sizeof(hash_lens[0]); i++)
        parse_all(data, size, hash_lens[i]);
    return 0;
}
