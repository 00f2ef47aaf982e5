/* fuzz_allowlist: flat allowlists (policy/legacy.h,
 * kl_legacy_allowlist_parse and the readline variant).
 *
 * The callbacks must receive exactly what an independent model of
 * upstream's reading gives (fuzz_legacy_ref.h): for each line,
 * line.strip().split(None, 1) when it has two parts. Text that is not UTF-8
 * is KL_EPARSE, after callbacks for the lines before the bad one only.
 * Views lie in the input, and a callback's error stops the parse.
 */
#include "fuzz_legacy_ref.h"

#define STOP_RC KL_ENOTFOUND

typedef struct {
    kl_bytes text;
    kl_bytes *got; /* digest, path, digest, path... */
    size_t n, cap;
    size_t stop_at; /* return STOP_RC from this call (1-based); 0: never */
} calls;

static kl_rc
record(calls *c, kl_bytes a, kl_bytes b)
{
    if (c->n + 2 > c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        kl_bytes *g = kl_reallocarray(c->got, cap, sizeof(*g));

        FUZZ_CHECK(g != NULL);
        c->got = g;
        c->cap = cap;
    }
    c->got[c->n++] = a;
    c->got[c->n++] = b;
    return c->stop_at && c->n / 2 == c->stop_at ? STOP_RC : KL_OK;
}

static kl_rc
on_digest(kl_bytes digest, kl_bytes path, void *payload)
{
    calls *c = payload;

    FUZZ_CHECK(c->stop_at == 0 || c->n / 2 < c->stop_at);
    FUZZ_CHECK(digest.len > 0 && path.len > 0);
    FUZZ_CHECK(fuzz_within(digest, c->text.ptr, c->text.len));
    FUZZ_CHECK(fuzz_within(path, c->text.ptr, c->text.len));
    FUZZ_CHECK(digest.ptr + digest.len <= path.ptr);
    return record(c, digest, path);
}

/* The model: the pairs of the valid UTF-8 prefix of text. */
static void
model(kl_bytes text, kl_legacy_eol eol, calls *out, bool *valid)
{
    size_t good = 0, off = 0, n;
    kl_bytes line;
    uint32_t cp;

    while (good < text.len && (n = ref_utf8(text.ptr + good, text.len - good, &cp)) != 0)
        good += n;
    *valid = good == text.len;
    text.len = good;
    while (ref_line(text, &off, eol, &line)) {
        kl_bytes s = ref_strip(line), first, rest;
        size_t tok = ref_run(s, false), gap;

        first = KL_BYTES(s.ptr, tok);
        rest = KL_BYTES(s.ptr + tok, s.len - tok);
        gap = ref_run(rest, true);
        rest = KL_BYTES(rest.ptr + gap, rest.len - gap);
        if (first.len && rest.len)
            (void)record(out, first, rest);
    }
}

static void
check(kl_bytes text, kl_legacy_eol eol, uint32_t h)
{
    calls got = {.text = text}, want = {.text = text}, stop = {.text = text};
    bool valid;
    kl_rc rc;

    model(text, eol, &want, &valid);
    if (eol == KL_LEGACY_SPLITLINES)
        rc = kl_legacy_allowlist_parse(text, on_digest, &got);
    else
        rc = kl_legacy_allowlist_parse_eol(text, eol, on_digest, &got);
    FUZZ_CHECK(rc == (valid ? KL_OK : KL_EPARSE));
    if (rc != KL_OK)
        fuzz_touch_error();
    /* the line holding a bad byte may have been cut into a pair */
    FUZZ_CHECK(got.n == want.n || (!valid && got.n + 2 == want.n));
    for (size_t i = 0; i < got.n; i++)
        FUZZ_CHECK(got.got[i].ptr == want.got[i].ptr && got.got[i].len == want.got[i].len);

    /* a callback error stops the parse */
    if (got.n) {
        stop.stop_at = 1 + h % (got.n / 2);
        rc = kl_legacy_allowlist_parse_eol(text, eol, on_digest, &stop);
        FUZZ_CHECK(rc == STOP_RC && stop.n / 2 == stop.stop_at);
    }
    kl_free(got.got);
    kl_free(want.got);
    kl_free(stop.got);
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
    uint32_t h = fuzz_hash(data, size);

    check(fuzz_input(data, size), KL_LEGACY_SPLITLINES, h);
    check(fuzz_input(data, size), KL_LEGACY_READLINE, h);
    return 0;
}
