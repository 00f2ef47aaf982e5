/* fuzz_agent: the agent's handlers that take untrusted input without a TPM
 * (cmd/keylime_agent): keys/ukey, keys/vkey, notifications/revocation
 * bodies, and the nonce, mask and challenge query checks. The first byte
 * picks the handler. Payload scripts are off (payload_script = "") so a
 * combined key only decrypts and unpacks into a temporary directory.
 * Checks: answers are 200 or 400 (never 500), a 200 ukey/vkey has null
 * results, a mask that parses selects only PCRs 0-23.
 */
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "fuzz_util.h"
#include "tls/tls.h"
#include "util/kl_file.h"

static agent_config cfg;
static agent_paths paths;
static agent_ctx a;
static char dir[] = "/tmp/kl-fuzz-agent.XXXXXX";

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void
cleanup(void)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    kl_uvstore_free(a.uv);
    kl_privkey_free(a.nk);
}

static char *
sub(const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = kl_malloc(n);

    FUZZ_CHECK(p != NULL);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    kl_buf key, cert;

    (void)argc;
    (void)argv;
    setenv("KEYLIME_LOG", "error", 1);
    kl_log_reset();
    FUZZ_CHECK(mkdtemp(dir) != NULL);
    cfg.enable_agent_mtls = true;
    cfg.payload_script = (char *)"";
    cfg.enc_keyname = (char *)"derived_tci_key";
    cfg.dec_payload_file = (char *)"decrypted_payload";
    cfg.extract_payload_zip = true;
    cfg.revocation_actions_dir = dir;
    paths.dir = dir;
    paths.secure = sub("secure");
    paths.unzipped = sub("secure/unzipped");
    paths.revocation_cert = sub("rev.crt");
    FUZZ_CHECK(mkdir(paths.secure, 0700) == 0);
    kl_buf_init(&key, 64 * 1024);
    kl_buf_init(&cert, 64 * 1024);
    FUZZ_CHECK(kl_tls_self_signed(&key, &cert, "RevocationNotifier", "127.0.0.1", 2) == KL_OK);
    FUZZ_CHECK(kl_file_write(paths.revocation_cert, cert.ptr, cert.len) == KL_OK);
    kl_buf_free_secret(&key);
    kl_buf_free(&cert);
    a.cfg = &cfg;
    a.paths = &paths;
    FUZZ_CHECK(kl_privkey_generate_rsa(&a.nk, 2048) == KL_OK);
    FUZZ_CHECK(kl_uvstore_new(&a.uv, "fuzz-agent") == KL_OK);
    atexit(cleanup);
    return 0;
}

static void
strings(const uint8_t *data, size_t size)
{
    char *s = kl_strndup((const char *)data, size), *nl;
    agent_reply r;
    uint32_t mask = 0;

    FUZZ_CHECK(s != NULL);
    nl = strchr(s, '\n');
    if (nl)
        *nl = '\0';
    agent_reply_init(&r);
    (void)agent_nonce_ok(s, &r);
    if (agent_mask_parse(s, &mask, &r))
        FUZZ_CHECK(mask < (1u << 24));
    agent_verify(&a, nl ? nl + 1 : s, &r);
    FUZZ_CHECK(r.code == 200 || r.code == 400);
    agent_reply_free(&r);
    kl_free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kl_bytes body = KL_BYTES(data + (size > 0), size ? size - 1 : 0);
    agent_reply r;

    if (size == 0)
        return 0;
    agent_reply_init(&r);
    switch (data[0] % 4) {
    case 0:
        agent_ukey(&a, body, &r);
        break;
    case 1:
        agent_vkey(&a, body, &r);
        break;
    case 2:
        agent_revocation(&a, body, &r);
        break;
    default:
        strings(body.ptr, body.len);
        agent_reply_free(&r);
        return 0;
    }
    FUZZ_CHECK(r.code == 200 || r.code == 400);
    if (r.code == 200 && data[0] % 4 < 2)
        FUZZ_CHECK(r.null_results);
    agent_reply_free(&r);
    return 0;
}
