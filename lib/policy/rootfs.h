/* rootfs: digests of the files of a root filesystem, chosen as upstream's
 * `keylime-policy create runtime --rootfs` chooses them.
 *
 * Every regular file under the root that is owned by uid 0 is hashed;
 * symbolic links are never followed or hashed. Directories are skipped
 * when their path relative to the root (with a leading '/'; absolute when
 * the root is "/") is one of:
 *   - upstream's BASE_EXCLUDE_DIRS: /sys /run /proc /lost+found /dev /media
 *     /snap /mnt /var /tmp;
 *   - the --skip-path directories that lie under the root (given relative
 *     to the current directory or absolute; when the root itself lies in
 *     one, nothing is hashed);
 *   - the mount points of this system (/proc/self/mounts) whose file-system
 *     type differs from that of "/", unless already covered by the entries
 *     above (matched by string prefix, as upstream does).
 * A file's name in the policy is its path relative to the root with a
 * leading '/', spaces replaced by '_' (as IMA writes them). Files that
 * cannot be read are skipped, as upstream skips them. Files are hashed in
 * parallel and reported in byte order of their paths.
 */
#ifndef KL_ROOTFS_H
#define KL_ROOTFS_H

#include "crypto/hash.h"
#include "policy/policy_doc.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"

typedef kl_rc (*kl_rootfs_file_fn)(kl_bytes name, kl_bytes hexdigest, void *payload);

typedef struct {
    const char *root; /* the directory to hash */
    const char *skip; /* comma-separated directories to skip, or NULL */
    kl_hash_alg alg;
    kl_policy_note_fn note; /* warnings and debug messages, may be NULL */
    void *note_payload;
} kl_rootfs_opts;

/* Calls fn for each file. KL_EINVAL when the root is not a directory;
 * a callback error stops the walk. */
KL_MUST_CHECK kl_rc kl_rootfs_digests(const kl_rootfs_opts *o, kl_rootfs_file_fn fn, void *payload);

/* os.path.abspath: path made absolute against the current directory and
 * normalised lexically ("." and ".." resolved, no symlinks followed).
 * Appends to out (NUL-terminated). */
KL_MUST_CHECK kl_rc kl_rootfs_abspath(const char *path, kl_buf *out);

#endif
