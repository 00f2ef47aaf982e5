/* fuzz_excludelist: exclude lists (policy/legacy.h,
 * kl_legacy_excludes_parse, and kl_legacy_lines_parse with both kinds of
 * line ends).
 *
 * The callbacks must receive exactly what an independent model of
 * upstream's reading gives (fuzz_legacy_ref.h): every stripped non-blank
 * line, without '#' comments for exclude lists. Text that is not UTF-8 is
 * KL_EPARSE after the lines before the bad one. A callback's error stops
 * the parse. The lines of an exclude list are then compiled as the
 * excludes of a policy would be (never matched: patterns from the input
 * could backtrack for long).
 */
#include "fuzz_legacy_ref.h"
#include "policy/excludes.h"

#define STOP_RC KL_ENOTFOUND
#define MAX_COMPILE 32

typedef struct {
    kl_bytes text;
    kl_bytes *got;
    size_t n, cap;
    size_t stop_at; /* return STOP_RC from this call (1-based); 0: never */
} calls;

static kl_rc
record(calls *c, kl_bytes line)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        kl_bytes *g = kl_reallocarray(c->got, cap, sizeof(*g));

        FUZZ_CHECK(g != NULL);
        c->got = g;
        c->cap = cap;
    }
    c->got[c->n++] = line;
    return c->stop_at && c->n == c->stop_at ? STOP_RC : KL_OK;
}

static kl_rc
on_line(kl_bytes line, void *payload)
{
    calls *c = payload;

    FUZZ_CHECK(c->stop_at == 0 || c->n < c->stop_at);
    FUZZ_CHECK(line.len > 0 && fuzz_within(line, c->text.ptr, c->text.len));
    return record(c, line);
}

static void
model(kl_bytes text, kl_legacy_eol eol, bool comments, calls *out, bool *valid)
{
    size_t good = 0, off = 0, n;
    kl_bytes line;
    uint32_t cp;

    while (good < text.len && (n = ref_utf8(text.ptr + good, text.len - good, &cp)) != 0)
        good += n;
    *valid = good == text.len;
    text.len = good;
    while (ref_line(text, &off, eol, &line)) {
        kl_bytes s = ref_strip(line);

        if (s.len && !(comments && s.ptr[0] == '#'))
            (void)record(out, s);
    }
}

static kl_rc
parse(kl_bytes text, kl_legacy_eol eol, bool comments, calls *c)
{
    if (comments)
        return kl_legacy_excludes_parse(text, on_line, c);
    return kl_legacy_lines_parse(text, eol, on_line, c);
}

/* The lines as policy excludes: compile errors only for bad patterns. */
static void
compile(const calls *c)
{
    kl_excludes *x = NULL;
    kl_excludes_matcher *m = NULL;
    kl_rc rc;

    if (c->n == 0 || c->n > MAX_COMPILE)
        return;
    rc = kl_excludes_compile(&x, c->got, c->n);
    FUZZ_CHECK(rc == KL_OK || rc == KL_EPARSE);
    FUZZ_CHECK((rc == KL_OK) == (x != NULL));
    if (rc != KL_OK) {
        fuzz_touch_error();
        return;
    }
    FUZZ_CHECK(kl_excludes_matcher_new(x, &m) == KL_OK);
    kl_excludes_matcher_free(m);
    kl_excludes_free(x);
}

static void
check(kl_bytes text, kl_legacy_eol eol, bool comments, uint32_t h)
{
    calls got = {.text = text}, want = {.text = text}, stop = {.text = text};
    bool valid;
    kl_rc rc, src;

    model(text, eol, comments, &want, &valid);
    rc = parse(text, eol, comments, &got);
    FUZZ_CHECK(rc == (valid ? KL_OK : KL_EPARSE));
    if (rc != KL_OK)
        fuzz_touch_error();
    /* the line holding a bad byte may have been cut into a line */
    FUZZ_CHECK(got.n == want.n || (!valid && got.n + 1 == want.n));
    for (size_t i = 0; i < got.n; i++)
        FUZZ_CHECK(got.got[i].ptr == want.got[i].ptr && got.got[i].len == want.got[i].len);
    if (got.n) {
        stop.stop_at = 1 + h % got.n;
        src = parse(text, eol, comments, &stop);
        FUZZ_CHECK(src == STOP_RC && stop.n == stop.stop_at);
    }
    if (comments && rc == KL_OK)
        compile(&got);
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
    kl_bytes text = fuzz_input(data, size);
    uint32_t h = fuzz_hash(data, size);

    check(text, KL_LEGACY_READLINE, true, h);
    check(text, KL_LEGACY_READLINE, false, h);
    check(text, KL_LEGACY_SPLITLINES, false, h);
    return 0;
}
