#include "policy/runtime_create.h"

#include "policy/digest_alg.h"
#include "policy/excludes.h"
#include "policy/imalist.h"
#include "policy/initrd.h"
#include "policy/legacy.h"
#include "policy/rootfs.h"
#include "policy/vkeys.h"
#include "util/kl_file.h"

#include <string.h>
#include <sys/stat.h>

#define INPUT_MAX ((size_t)2 << 30)
#define OUTPUT_MAX ((size_t)4 << 30)

enum { SRC_ALGO, SRC_BASE, SRC_ALLOWLIST, SRC_IMA, SRC_COUNT };

typedef struct {
    const kl_runtime_create_opts *o;
    kl_policy_doc *doc;
    kl_buf ima;     /* the IMA list's text, when given */
    kl_buf scratch; /* a path with spaces replaced */
    kl_digest_alg_source src[SRC_COUNT];
    kl_hash_alg alg;
    bool first_seen; /* the allowlist's first digest was seen */
} state;

static kl_rc
read_input(const char *what, const char *path, kl_buf *b)
{
    kl_rc rc = kl_file_read(path, b);

    return rc == KL_OK ? rc : kl_err_wrap(rc, "cannot read the %s: ", what);
}

static kl_rc
add_digest(kl_bytes digest, kl_bytes path, void *payload)
{
    state *s = payload;

    return kl_policy_doc_add(s->doc, KL_POLICY_DIGESTS, path, digest);
}

/* An allowlist line: IMA writes spaces in names as '_', so do the same. */
static kl_rc
add_allowlist_line(kl_bytes digest, kl_bytes path, void *payload)
{
    state *s = payload;
    kl_rc rc;

    if (!s->first_seen) {
        s->first_seen = true;
        s->src[SRC_ALLOWLIST].alg = kl_digest_alg_from_hex(digest, true);
    }
    kl_buf_reset(&s->scratch);
    rc = kl_buf_append(&s->scratch, path.ptr, path.len);
    for (size_t i = 0; i < s->scratch.len; i++)
        if (s->scratch.ptr[i] == ' ')
            s->scratch.ptr[i] = '_';
    return rc == KL_OK ? add_digest(digest, kl_buf_bytes(&s->scratch), s) : rc;
}

static kl_rc
read_base(state *s)
{
    kl_bytes first;
    kl_buf text;
    kl_rc rc;

    kl_buf_init(&text, INPUT_MAX);
    rc = read_input("base policy", s->o->base_policy, &text);
    if (rc == KL_OK)
        rc = kl_policy_doc_merge_base(s->doc, kl_buf_bytes(&text));
    if (rc == KL_OK)
        s->src[SRC_BASE].alg = kl_policy_doc_first_digest(s->doc, KL_POLICY_DIGESTS, &first)
                                   ? kl_digest_alg_from_hex(first, true)
                                   : (kl_digest_alg){KL_DIGEST_ALG_INVALID, KL_HASH_SHA1};
    kl_buf_free(&text);
    return rc;
}

static kl_rc
read_allowlist(state *s, kl_buf *text)
{
    kl_rc rc = read_input("allowlist", s->o->allowlist, text);

    s->src[SRC_ALLOWLIST].alg = (kl_digest_alg){KL_DIGEST_ALG_INVALID, KL_HASH_SHA1};
    if (rc == KL_OK)
        rc = kl_legacy_allowlist_parse_eol(kl_buf_bytes(text), KL_LEGACY_READLINE,
                                           add_allowlist_line, s);
    return rc == KL_OK || rc == KL_ENOMEM ? rc : kl_err_wrap(rc, "allowlist %s: ", s->o->allowlist);
}

static kl_rc
read_ima_list(state *s)
{
    const char *path = s->o->ima_list;
    struct stat st;
    kl_rc rc;

    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return kl_err_set(KL_EIO, "the IMA measurement list file '%s' does not seem to exist",
                          path);
    rc = read_input("IMA measurement list", path, &s->ima);
    if (rc != KL_OK)
        return rc;
    s->src[SRC_IMA].alg = kl_digest_alg_from_ima_list(kl_buf_bytes(&s->ima));
    return kl_imalist_digests(kl_buf_bytes(&s->ima), add_digest, s);
}

static kl_rc
choose_alg(state *s)
{
    kl_digest_alg a;
    kl_rc rc;

    if (s->o->algo) {
        kl_hash_alg h;

        if (!kl_hash_from_name(KL_BYTES(s->o->algo, strlen(s->o->algo)), &h) || h > KL_HASH_SM3_256)
            return kl_err_set(KL_EINVAL, "unknown digest algorithm '%s'", s->o->algo);
        s->src[SRC_ALGO].alg = (kl_digest_alg){KL_DIGEST_ALG_KNOWN, h};
    }
    rc = kl_digest_alg_choose(s->src, SRC_COUNT, &a, s->o->note, s->o->note_payload);
    if (rc != KL_OK)
        return kl_err_wrap(rc, "aborting: ");
    if (a.kind == KL_DIGEST_ALG_UNSET) {
        kl_policy_doc_note(s->o->note, s->o->note_payload, KL_LOG_DEBUG,
                           "Using default digest algorithm sha256");
        a = (kl_digest_alg){KL_DIGEST_ALG_KNOWN, KL_HASH_SHA256};
    }
    if (a.kind == KL_DIGEST_ALG_AMBIGUOUS && (s->o->rootfs || s->o->ramdisk_dir))
        return kl_err_set(KL_EINVAL, "the digests given are sha256 or sm3_256, which cannot be "
                                     "told apart; choose one with --algo to hash files");
    s->alg = a.alg;
    return KL_OK;
}

static kl_rc
add_file(kl_bytes name, kl_bytes hexdigest, void *payload)
{
    return add_digest(hexdigest, name, payload);
}

static kl_rc
hash_files(state *s)
{
    kl_rc rc = KL_OK;

    if (s->o->rootfs) {
        kl_rootfs_opts ro = {s->o->rootfs, s->o->skip_path, s->alg, s->o->note, s->o->note_payload};

        rc = kl_rootfs_digests(&ro, add_file, s);
    }
    if (rc == KL_OK && s->o->ramdisk_dir) {
        kl_initrd_opts io = {s->alg, s->o->note, s->o->note_payload};

        rc = kl_initrd_dir_digests(s->o->ramdisk_dir, &io, add_file, s);
    }
    return rc;
}

static kl_rc
add_exclude(kl_bytes line, void *payload)
{
    state *s = payload;
    kl_excludes *x = NULL;
    kl_rc rc = kl_excludes_compile(&x, &line, 1);

    kl_excludes_free(x);
    if (rc == KL_EPARSE)
        return kl_err_wrap(rc, "bad IMA exclude list rule '%.*s': ", (int)line.len,
                           (const char *)line.ptr);
    return rc == KL_OK ? kl_policy_doc_add_exclude(s->doc, line) : rc;
}

static kl_rc
read_excludes(state *s)
{
    kl_buf text;
    kl_rc rc;

    kl_buf_init(&text, INPUT_MAX);
    rc = read_input("exclude list", s->o->excludelist, &text);
    if (rc == KL_OK)
        rc = kl_legacy_lines_parse(kl_buf_bytes(&text), KL_LEGACY_READLINE, add_exclude, s);
    if (rc != KL_OK && rc != KL_ENOMEM && strncmp(kl_err_msg(), "bad IMA", 7) != 0)
        kl_err_wrap(rc, "exclude list %s: ", s->o->excludelist);
    kl_buf_free(&text);
    return rc;
}

static kl_rc
add_buffer(bool is_key, kl_bytes name, kl_bytes digest, void *payload)
{
    state *s = payload;

    if (is_key) {
        if (!s->o->keyrings || kl_policy_doc_keyring_ignored(s->doc, name))
            return KL_OK;
        return kl_policy_doc_add(s->doc, KL_POLICY_KEYRINGS, name, digest);
    }
    return s->o->ima_buf ? kl_policy_doc_add(s->doc, KL_POLICY_IMA_BUF, name, digest) : KL_OK;
}

static kl_rc
add_keys(state *s)
{
    kl_buf text;
    bool changed;
    kl_rc rc;

    kl_buf_init(&text, INPUT_MAX);
    rc = kl_vkeys_add(kl_policy_doc_vkeys(s->doc), s->o->keys, s->o->n_keys, &text, &changed,
                      s->o->note, s->o->note_payload);
    if (rc == KL_OK && changed)
        rc = kl_policy_doc_set_vkeys(s->doc, kl_buf_bytes(&text));
    kl_buf_free(&text);
    return rc;
}

static kl_rc
inputs(state *s, kl_buf *allowlist)
{
    const kl_runtime_create_opts *o = s->o;
    kl_rc rc = KL_OK;

    s->src[SRC_ALGO].source = "--algo option";
    s->src[SRC_BASE].source = "base policy";
    s->src[SRC_ALLOWLIST].source = "allowlist";
    s->src[SRC_IMA].source = "IMA measurement list";
    if (o->base_policy)
        rc = read_base(s);
    if (rc == KL_OK && o->algo && !o->rootfs && !o->ramdisk_dir)
        kl_policy_doc_note(o->note, o->note_payload, KL_LOG_WARN,
                           "You need to specify at least one of --ramdisk-dir or --rootfs to "
                           "use a custom digest algorithm");
    if (rc == KL_OK && o->allowlist)
        rc = read_allowlist(s, allowlist);
    if (rc == KL_OK && o->ima_list)
        rc = read_ima_list(s);
    if (rc == KL_OK)
        rc = choose_alg(s);
    if (rc == KL_OK)
        rc = hash_files(s);
    if (rc == KL_OK && o->excludelist)
        rc = read_excludes(s);
    for (size_t i = 0; rc == KL_OK && i < o->n_ignored; i++)
        rc = kl_policy_doc_add_ignored_keyring(
            s->doc, KL_BYTES(o->ignored_keyrings[i], strlen(o->ignored_keyrings[i])));
    if (rc == KL_OK && (o->keyrings || o->ima_buf) && o->ima_list)
        rc = kl_imalist_buffers(kl_buf_bytes(&s->ima), add_buffer, s);
    if (rc == KL_OK && o->n_keys)
        rc = add_keys(s);
    return rc;
}

kl_rc
kl_runtime_create(const kl_runtime_create_opts *o, kl_buf *out)
{
    state s;
    kl_buf allowlist, policy;
    kl_rc rc;

    memset(&s, 0, sizeof(s));
    s.o = o;
    kl_buf_init(&s.ima, INPUT_MAX);
    kl_buf_init(&s.scratch, INPUT_MAX);
    kl_buf_init(&allowlist, INPUT_MAX);
    kl_buf_init(&policy, OUTPUT_MAX);
    rc = kl_policy_doc_new(&s.doc);
    if (rc == KL_OK)
        rc = inputs(&s, &allowlist);
    if (rc == KL_OK)
        rc = kl_policy_doc_finish(s.doc, KL_POLICY_GEN_LEGACY);
    if (rc == KL_OK) {
        rc = kl_policy_doc_dump(s.doc, &policy);
        if (rc == KL_EPARSE)
            kl_err_wrap(rc, "the resulting policy is not valid: ");
    }
    if (rc == KL_OK)
        rc = o->legacy_allowlist ? kl_policy_doc_dump_legacy(s.doc, out)
                                 : kl_buf_append(out, policy.ptr, policy.len);
    kl_policy_doc_free(s.doc);
    kl_buf_free(&s.ima);
    kl_buf_free(&s.scratch);
    kl_buf_free(&allowlist);
    kl_buf_free(&policy);
    return rc;
}
