/* convert: upstream's keylime_convert_runtime_policy (`keylime-policy
 * convert`): legacy allowlists to runtime policies, and old runtime
 * policies to the current format, adding excludes and verification keys.
 *
 *   allowlist       JSON ({"hashes": {...}, "keyrings", "ima", ...}: hashes
 *                   become digests, other members are taken when present)
 *                   or flat ("<digest> <path>" lines; "%keyring:<name>"
 *                   paths go to keyrings); meta.generator 3, a timestamp
 *   runtime policy  any JSON object; meta.version below 1 is migrated to a
 *                   new policy (generator 2), members taken when present
 *   exclude list    lines ('#' comments skipped) appended to "excludes"
 *   keys            added to "verification-keys" (vkeys.h)
 * As upstream, lists are neither sorted nor de-duplicated and the result is
 * not required to be a valid policy: when kl_runtime_policy_load rejects
 * it, a warning note says why and the document is still produced.
 */
#ifndef KL_CONVERT_H
#define KL_CONVERT_H

#include "policy/policy_doc.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"

#include <stddef.h>

typedef struct {
    const char *allowlist;      /* -a, or NULL */
    const char *runtime_policy; /* -r, or NULL (exactly one of the two) */
    const char *excludelist;    /* -e, or NULL */
    const char *const *keys;    /* -v files */
    size_t n_keys;
    kl_policy_note_fn note; /* upstream's informational messages */
    void *note_payload;
} kl_convert_opts;

#define KL_CONVERT_OPTS_INIT                                                                       \
    {                                                                                              \
        0                                                                                          \
    }

/* Appends json.dumps of the converted policy (no newline) to out.
 * KL_EINVAL for bad options, KL_EIO for unreadable files, KL_EPARSE for
 * inputs upstream cannot convert (the reason in kl_err_msg()). */
KL_MUST_CHECK kl_rc kl_convert_run(const kl_convert_opts *o, kl_buf *out);

#endif
