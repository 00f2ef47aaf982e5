/* runtime_create: upstream's create_runtime_policy (`keylime-policy create
 * runtime`): a runtime policy built from a base policy, a flat allowlist,
 * an IMA measurement list, a root filesystem and initrds, plus excludes,
 * ignored keyrings, keyring and ima-buf entries and verification keys.
 *
 * Steps, as upstream:
 *   1. the base policy's supported members are merged into an empty policy
 *      (policy_doc.h) and validated;
 *   2. the allowlist ("<digest> <path>" lines, spaces in paths as '_') and
 *      the IMA list's ima-ng/ima-sig entries are read;
 *   3. the file-digest algorithm is chosen (digest_alg.h: --algo > base
 *      policy > allowlist > IMA list, default sha256); a base policy or an
 *      allowlist without any digest counts as an invalid source, as upstream;
 *   4. the rootfs (rootfs.h) and initrds (initrd.h) are hashed with it;
 *   5. digests are merged in the order base, allowlist, IMA list, rootfs,
 *      initrds; exclude-list lines (each checked as a regex) are added;
 *      ignored keyrings are added; with keyrings / ima_buf, the IMA list's
 *      ima-buf entries go to "keyrings" (certificates, unless the keyring
 *      is ignored) or "ima-buf" (other data);
 *   6. verification keys are added (vkeys.h);
 *   7. every list is sorted and de-duplicated, meta.generator becomes 3 and
 *      meta.timestamp is set; the result is validated.
 * File names of inputs are used as given; "-" is standard input.
 */
#ifndef KL_RUNTIME_CREATE_H
#define KL_RUNTIME_CREATE_H

#include "policy/policy_doc.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    const char *base_policy; /* -p, or NULL */
    const char *allowlist;   /* -a, or NULL */
    const char *excludelist; /* -e, or NULL */
    const char *ima_list;    /* -m, or NULL for none */
    const char *rootfs;      /* --rootfs, or NULL */
    const char *ramdisk_dir; /* --ramdisk-dir, or NULL */
    const char *skip_path;   /* -s: comma-separated, or NULL */
    const char *algo;        /* --algo name, or NULL to detect */
    bool keyrings;           /* -k */
    bool ima_buf;            /* -b */
    const char *const *ignored_keyrings;
    size_t n_ignored;
    const char *const *keys; /* --add-ima-signature-verification-key files */
    size_t n_keys;
    bool legacy_allowlist;  /* write the digests as a flat allowlist */
    kl_policy_note_fn note; /* warnings and -v debug messages, may be NULL */
    void *note_payload;
} kl_runtime_create_opts;

#define KL_RUNTIME_CREATE_OPTS_INIT                                                                \
    {                                                                                              \
        0                                                                                          \
    }

/* Appends the policy (json.dumps form, no newline) or, with
 * legacy_allowlist, the flat allowlist to out. Every failure is KL_EINVAL,
 * KL_EIO, KL_EPARSE or KL_ENOMEM with the reason in kl_err_msg(). */
KL_MUST_CHECK kl_rc kl_runtime_create(const kl_runtime_create_opts *o, kl_buf *out);

#endif
