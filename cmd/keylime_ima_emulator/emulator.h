/* keylime_ima_emulator: keeps PCR 10 of a (software) TPM equal to the
 * replay of an ASCII IMA measurement list, as the kernel would have left it.
 *
 * The state below is a cache of what is known to be in PCR 10: the part of
 * the list replayed so far and the PCR values it gives. Every sync reads
 * PCR 10 again and finds which prefix of the new entries the TPM already
 * holds, so a restart, or a `measure` from another process, never extends
 * an entry twice. Syncs and appends happen under an exclusive flock on the
 * list, so two emulators cannot interleave.
 */
#ifndef KL_IMA_EMULATOR_H
#define KL_IMA_EMULATOR_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "crypto/hash.h"
#include "tpmdev/tpmdev.h"
#include "util/kl_err.h"

/* Exit statuses: 0 ok, 1 failure (TPM, list, PCR 10 disagreement), 2 usage. */
enum { EMU_EXIT_OK = 0, EMU_EXIT_FAIL = 1, EMU_EXIT_USAGE = 2 };

#define EMU_DEFAULT_LOG "/sys/kernel/security/ima/ascii_runtime_measurements"

/* The list the kernel keeps can grow large, but not without bound. */
#define EMU_LIST_MAX ((size_t)1 << 30)

typedef struct {
    kl_tpmdev *tpm;
    const char *log_path;
    size_t nbanks;
    kl_hash_alg banks[KL_HASH_COUNT]; /* the PCR banks extended */
    kl_hash_alg ima_alg;              /* algorithm of the template-hash column */
    FILE *msg;                        /* a line per extended entry, or NULL */
    volatile sig_atomic_t *stop;      /* set by SIGTERM / SIGINT */
    kl_hasher *h;
    /* the cache */
    bool known;
    off_t offset;                                 /* bytes of the list replayed */
    size_t entries;                               /* entries (non-empty lines) replayed */
    size_t lines;                                 /* lines replayed, empty ones included */
    uint8_t pcr[KL_HASH_COUNT][KL_HASH_MAX_SIZE]; /* PCR 10 per banks[i] after them */
} emu;

/* Brings PCR 10 up to date with the complete lines of the list open on fd
 * (a partial last line waits for its newline). KL_EVERIFY when PCR 10 is
 * not the replay of any prefix of the list, with the explanation in
 * kl_err_msg(). Stops early (KL_OK) when *stop is set. */
KL_MUST_CHECK kl_rc emu_sync(emu *e, int fd);

/* Opens the list (creating it when create is true; a missing list is
 * KL_ENOTFOUND otherwise) and takes the exclusive lock. *fd_out = -1 when
 * the list does not exist and create is false. */
KL_MUST_CHECK kl_rc emu_open_locked(emu *e, bool create, int *fd_out);
void emu_close_locked(int fd);

/* Syncs at the start and whenever the list changes (checked every
 * interval_ms), and about once a second in any case, so that a TPM reset
 * (PCR 10 back to zero) is repaired by replaying the list. Until SIGTERM or
 * SIGINT (*e->stop), or after one sync when once is true. While following,
 * an I/O failure (the TPM or the list unreachable) is reported once and
 * retried, reconnecting to tcti; a PCR 10 disagreement ends it
 * (KL_EVERIFY). */
KL_MUST_CHECK kl_rc emu_follow(emu *e, const char *tcti, long interval_ms, bool once);

typedef struct {
    kl_hash_alg file_alg; /* digest of the measured files (d-ng) */
    bool ima_sig;         /* ima-sig instead of ima-ng (signature from security.ima) */
    bool always;          /* also when the last entry for the path has this digest */
    bool verbose;
} emu_measure_opts;

/* Appends one entry per file, as the kernel measures a file it executes
 * (the real path, spaces as '_', the file's digest), and extends PCR 10.
 * A file whose last entry in the list has the same digest is not measured
 * again (the kernel measures an unchanged file once), unless o->always.
 * Into an empty list it first writes what the kernel writes first: the
 * boot_aggregate entry (PCRs 0-7, and 8-9 for banks other than sha1). */
KL_MUST_CHECK kl_rc emu_measure(emu *e, const emu_measure_opts *o, char *const *files, size_t n);

/* For `run`: the file execv will run for argv0 (PATH searched when it has
 * no '/'), and the interpreter of a "#!" script (empty when there is
 * none). Both are malloc'ed (kl_free). */
KL_MUST_CHECK kl_rc emu_resolve_program(const char *argv0, char **path_out, char **interp_out);

#endif
