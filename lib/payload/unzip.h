/* unzip: extracting an untrusted zip (the agent's decrypted payload) into
 * a directory, safely.
 *
 * Only regular files and directories are extracted; every path is taken
 * relative to the destination and walked component by component with
 * openat/mkdirat and O_NOFOLLOW, so neither names in the zip nor symlinks
 * already in the destination can lead outside it. Refused (KL_EPARSE, the
 * whole extraction fails): empty or absolute names, names with a
 * backslash, an empty, "." or ".." component, or more than
 * KL_UNZIP_PATH_MAX bytes; symlink, hardlink, device, fifo and socket
 * entries; encrypted or damaged entries. Files are created 0600 and
 * directories 0700 (modes in the zip are ignored). A file is written to a
 * temporary name in its directory and renamed over the target, so an
 * existing file of that name (also a symlink or a hardlink to a file
 * elsewhere) is replaced, never written through; a later entry of the same
 * name replaces an earlier one. Sizes are counted as bytes are inflated,
 * not trusted from headers (a larger declared size fails early too).
 * Entries are found through the central directory, as the Rust agent's
 * zip crate does: a zip without one (e.g. truncated) is KL_EPARSE.
 */
#ifndef KL_UNZIP_H
#define KL_UNZIP_H

#include "util/kl_buf.h"
#include "util/kl_err.h"

#include <stddef.h>

#define KL_UNZIP_PATH_MAX 1024

typedef struct {
    size_t max_total;   /* bytes of all files together */
    size_t max_entries; /* entries (files and directories) */
    size_t max_entry;   /* bytes of one file */
} kl_unzip_limits;

/* 16 MiB in total and per file, 1024 entries. */
#define KL_UNZIP_LIMITS_INIT                                                                       \
    {                                                                                              \
        16u << 20, 1024, 16u << 20                                                                 \
    }

/* Extracts the zip held in `zip` into the existing directory dest_dir
 * (lim NULL: KL_UNZIP_LIMITS_INIT). *n_files receives the number of
 * regular-file entries extracted (a name given twice counts twice).
 * Errors: KL_ETOOBIG when a limit is exceeded, KL_EPARSE for a damaged
 * zip or a refused entry (see above), KL_EIO for file system errors
 * (KL_ENOTFOUND when dest_dir cannot be opened).
 * On any failure every file and directory this call created is removed
 * again and *n_files is 0; but a file that an entry replaced stays replaced
 * (its old content is gone), so extract into a fresh directory. */
KL_MUST_CHECK kl_rc kl_unzip_safe(kl_bytes zip, const char *dest_dir, const kl_unzip_limits *lim,
                                  size_t *n_files);

#endif
