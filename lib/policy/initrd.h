/* initrd: digests of the files inside initramfs images, as upstream's
 * `keylime-policy create runtime --ramdisk-dir` computes them, but read as
 * a stream (nothing is extracted to disk).
 *
 * An initrd may start with an uncompressed "early" cpio archive (microcode);
 * like dracut's skipcpio (and upstream's port of it, quirks included) the
 * main archive is taken to start after that archive's TRAILER!!! and the
 * zero padding after it (or at 0 when nothing follows). The main archive is
 * read with libarchive (any compression and format it knows). Each regular
 * file gives "/<path>" (spaces replaced by '_') and its digest; as when the
 * archive is extracted, a later entry of the same name replaces an earlier
 * one, and hard links share their data. Entries whose path has a ".."
 * component are skipped (extracting them would escape the directory).
 */
#ifndef KL_INITRD_H
#define KL_INITRD_H

#include "crypto/hash.h"
#include "policy/policy_doc.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"

#include <stdint.h>

typedef kl_rc (*kl_initrd_file_fn)(kl_bytes name, kl_bytes hexdigest, void *payload);

typedef struct {
    kl_hash_alg alg;
    kl_policy_note_fn note; /* warnings and debug messages, may be NULL */
    void *note_payload;
} kl_initrd_opts;

/* The offset of the main archive in the open file fd (dracut skipcpio).
 * KL_EPARSE when the early archive's header fields are not numbers. */
KL_MUST_CHECK kl_rc kl_initrd_main_offset(int fd, const kl_initrd_opts *o, uint64_t *off);

/* Calls fn for each regular file of the initrd at path, in byte order of
 * the names. KL_EPARSE when libarchive cannot read the archive. */
KL_MUST_CHECK kl_rc kl_initrd_digests(const char *path, const kl_initrd_opts *o,
                                      kl_initrd_file_fn fn, void *payload);

/* kl_initrd_digests for every file in dir whose name starts with "initr"
 * (following symlinks, as upstream's list_initrds), in name order. */
KL_MUST_CHECK kl_rc kl_initrd_dir_digests(const char *dir, const kl_initrd_opts *o,
                                          kl_initrd_file_fn fn, void *payload);

#endif
