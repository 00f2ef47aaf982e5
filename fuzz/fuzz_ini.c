/* fuzz_ini: the RawConfigParser-compatible reader (config/ini.h) and the
 * Python list literal parser (kl_strlist_parse_py).
 *
 * The input is read as one file, then read again as a second file over
 * the first. Checks: the second read succeeds exactly when the first did
 * (no false duplicates across files) and leaves the same values with the
 * second file as their source; keys are lower case without '=' or ':';
 * values have no surrounding blanks (but may start with the newline of
 * an empty first line); every walked option is found again
 * by kl_ini_get; the input as a list literal parses or fails cleanly; with
 * an injected allocation failure the result is KL_ENOMEM or what the
 * input deserves, and nothing leaks.
 */
#include "config/config.h"
#include "config/ini.h"
#include "fuzz_util.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet_logs();
    return 0;
}

typedef struct {
    const kl_ini *doc;
    const char *file;
    size_t n;
} walk_ctx;

static bool
blank(char c)
{
    return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r' || c == '\n';
}

static void
check_option(const char *section, const char *key, const kl_ini_value *v, void *payload)
{
    walk_ctx *w = payload;
    size_t n = strlen(v->value);

    w->n++;
    FUZZ_CHECK(key[0] && !strpbrk(key, "=:"));
    for (const char *k = key; *k; k++)
        FUZZ_CHECK(!(*k >= 'A' && *k <= 'Z'));
    /* an empty first line makes the value start with '\n' */
    FUZZ_CHECK(n == 0 || ((v->value[0] == '\n' || !blank(v->value[0])) && !blank(v->value[n - 1])));
    FUZZ_CHECK(!strchr(v->value, '\r'));
    FUZZ_CHECK(kl_ini_get(w->doc, section, key) == v);
    FUZZ_CHECK(v->list == NULL && v->line >= 1);
    if (w->file)
        FUZZ_CHECK(strcmp(v->file, w->file) == 0);
}

static void
check_list(const char *text)
{
    kl_strlist l;
    kl_rc rc = kl_strlist_parse_py(&l, text);

    FUZZ_CHECK(rc == KL_OK || rc == KL_EPARSE);
    fuzz_touch_error();
    for (size_t i = 0; rc == KL_OK && i < l.n; i++)
        FUZZ_CHECK(strlen(l.items[i]) < 65536);
    kl_strlist_free(&l);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    kl_ini *doc = NULL;
    walk_ctx w = {0};
    kl_rc rc, rc2;
    char *copy;
    uint32_t h = fuzz_hash(data, size);

    FUZZ_CHECK(kl_ini_new(&doc) == KL_OK);
    rc = kl_ini_parse(doc, text, size, "a.conf");
    FUZZ_CHECK(rc == KL_OK || rc == KL_EPARSE || rc == KL_ETOOBIG);
    fuzz_touch_error();
    if (rc == KL_OK) {
        rc2 = kl_ini_parse(doc, text, size, "b.conf");
        FUZZ_CHECK(rc2 == KL_OK);
        w.doc = doc;
        w.file = "b.conf";
        kl_ini_walk(doc, check_option, &w);
    }
    kl_ini_free(doc);
    copy = kl_strndup(text, size);
    FUZZ_CHECK(copy != NULL);
    check_list(copy);
    kl_free(copy);
    if ((h & 7) == 0) {
        doc = NULL;
        kl_alloc_fail_at((h >> 3) % 64 + 1);
        rc2 = kl_ini_new(&doc);
        if (rc2 == KL_OK)
            rc2 = kl_ini_parse(doc, text, size, "c.conf");
        kl_alloc_fail_at(0);
        FUZZ_CHECK(rc2 == rc || rc2 == KL_ENOMEM);
        kl_ini_free(doc);
    }
    return 0;
}
