/* initrd_files: the regular files an archive would leave behind when
 * extracted, tracked while the archive is streamed (used by initrd.c).
 *
 * Each entry's path is normalised to "/a/b" ("." and empty components
 * dropped; entries with ".." are skipped). A regular entry gets the digest
 * of its data and replaces any earlier entry of that name; a hard-link
 * entry shares the data of its target (and, when it carries data itself,
 * as cpio's newc format puts it on the last link, gives that data to every
 * name of the link group); any other entry type removes the name.
 */
#ifndef KL_INITRD_FILES_H
#define KL_INITRD_FILES_H

#include "crypto/hash.h"
#include "policy/initrd.h"
#include "util/kl_err.h"

struct archive;
struct archive_entry;

typedef struct kl_initrd_files kl_initrd_files;

/* Caller frees with kl_initrd_files_free. */
KL_MUST_CHECK kl_rc kl_initrd_files_new(kl_initrd_files **out);
void kl_initrd_files_free(kl_initrd_files *t);

/* Records the entry just read by archive_read_next_header, reading its
 * data when it is a file. KL_EPARSE when the data cannot be read,
 * KL_ETOOBIG past 4 million entries. */
KL_MUST_CHECK kl_rc kl_initrd_files_entry(kl_initrd_files *t, struct archive *a,
                                          struct archive_entry *e, kl_hash_alg alg);

/* Calls fn(name with spaces as '_', hex digest) for each file, in byte
 * order of the names. */
KL_MUST_CHECK kl_rc kl_initrd_files_report(const kl_initrd_files *t, kl_hash_alg alg,
                                           kl_initrd_file_fn fn, void *payload);

#endif
