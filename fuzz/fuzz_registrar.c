/* fuzz_registrar: the registrar's JSON handlers (cmd/keylime_registrar)
 * on a SQLite database in a temporary directory. The first byte picks the
 * handler: registration (with the id from the path or from the body),
 * activation, then a read and a delete of the same agent. Checks: every
 * answer is a status the registrar documents, a 200 registration carries
 * a blob, and an activation only succeeds for a registered agent.
 */
#include <stdlib.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "registrar.h"

static reg_config cfg;
static reg_ctx ctx;
static char dir[] = "/tmp/kl-fuzz-registrar.XXXXXX";

static void
cleanup(void)
{
    char path[128];

    kl_db_close(ctx.db);
    for (const char *const *s = (const char *const[]){"", "-wal", "-shm", NULL}; *s; s++) {
        snprintf(path, sizeof(path), "%s/fuzz.sqlite%s", dir, *s);
        unlink(path);
    }
    rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setenv("KEYLIME_LOG", "error", 1);
    kl_log_reset();
    FUZZ_CHECK(mkdtemp(dir) != NULL);
    cfg.malformed_cert_action = (char *)"warn";
    cfg.tpm_identity = (char *)"default";
    FUZZ_CHECK(kl_db_open(&ctx.db, "sqlite", dir, "fuzz.sqlite") == KL_OK);
    FUZZ_CHECK(reg_store_migrate(ctx.db) == KL_OK);
    ctx.cfg = &cfg;
    atexit(cleanup);
    return 0;
}

static void
check_code(const reg_reply *r)
{
    FUZZ_CHECK(r->code == 200 || r->code == 400 || r->code == 403 || r->code == 404 ||
               r->code == 500);
    FUZZ_CHECK(r->code != 500); /* the database never fails here */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kl_bytes body = KL_BYTES(data + (size > 0), size ? size - 1 : 0);
    reg_reply r = {0};
    uint8_t mode = size ? data[0] : 0;

    if (mode % 3 == 2) {
        reg_activate(&ctx, "fuzz", body, &r);
    } else {
        reg_register(&ctx, mode % 3 ? NULL : "fuzz", body, &r);
        if (r.code == 200)
            FUZZ_CHECK(json_is_string(json_object_get(r.results, "blob")));
    }
    check_code(&r);
    json_decref(r.results);
    memset(&r, 0, sizeof(r));
    reg_show(&ctx, "fuzz", &r);
    check_code(&r);
    json_decref(r.results);
    memset(&r, 0, sizeof(r));
    if (mode & 0x80) {
        reg_delete(&ctx, "fuzz", &r);
        check_code(&r);
        json_decref(r.results);
    }
    return 0;
}
