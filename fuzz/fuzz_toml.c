/* fuzz_toml: the agent.conf TOML subset reader (config/toml.h).
 *
 * Checks: the result is KL_OK, KL_EPARSE or KL_ETOOBIG with a bounded
 * message; a text that parsed parses again as a later file (a new file may
 * repeat every key) with the later file as source; every stored option is
 * found again by kl_ini_get, names are bare keys, arrays carry their items
 * and scalars none; with an injected allocation failure the result is
 * KL_ENOMEM or the same as without, and nothing leaks.
 */
#include "config/config.h"
#include "config/ini.h"
#include "config/toml.h"
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
    size_t n;
} walk_ctx;

static bool
bare(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-'))
            return false;
    return true;
}

static void
check_option(const char *section, const char *key, const kl_ini_value *v, void *payload)
{
    walk_ctx *w = payload;

    w->n++;
    FUZZ_CHECK(bare(key));
    FUZZ_CHECK(section[0] == '\0' || bare(section));
    FUZZ_CHECK(kl_ini_get(w->doc, section, key) == v);
    FUZZ_CHECK(strcmp(v->file, "later.conf") == 0);
    if (v->list) {
        FUZZ_CHECK(v->value[0] == '[');
        for (size_t i = 0; i < v->list->n; i++)
            FUZZ_CHECK(v->list->items[i] != NULL);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    kl_ini *doc = NULL;
    walk_ctx w = {0};
    uint32_t h = fuzz_hash(data, size);
    kl_rc rc, rc2;

    FUZZ_CHECK(kl_ini_new(&doc) == KL_OK);
    rc = kl_toml_parse(doc, text, size, "agent.conf");
    FUZZ_CHECK(rc == KL_OK || rc == KL_EPARSE || rc == KL_ETOOBIG);
    fuzz_touch_error();
    if (rc == KL_OK) {
        FUZZ_CHECK(kl_toml_parse(doc, text, size, "later.conf") == KL_OK);
        w.doc = doc;
        kl_ini_walk(doc, check_option, &w);
    }
    kl_ini_free(doc);
    if ((h & 7) == 0) {
        doc = NULL;
        kl_alloc_fail_at((h >> 3) % 64 + 1);
        rc2 = kl_ini_new(&doc);
        if (rc2 == KL_OK)
            rc2 = kl_toml_parse(doc, text, size, "agent.conf");
        kl_alloc_fail_at(0);
        FUZZ_CHECK(rc2 == rc || rc2 == KL_ENOMEM);
        kl_ini_free(doc);
    }
    return 0;
}
