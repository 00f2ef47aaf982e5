/* keylime_ima_emulator: following the list. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "emulator.h"

/* Ticks between syncs when the list does not change (a TPM reset check). */
#define EMU_RECHECK_TICKS 5

static void
sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL); /* a signal ends it early */
}

static bool
changed(const struct stat *a, const struct stat *b)
{
    return !S_ISREG(a->st_mode) || a->st_size != b->st_size || a->st_ino != b->st_ino ||
           a->st_mtim.tv_sec != b->st_mtim.tv_sec || a->st_mtim.tv_nsec != b->st_mtim.tv_nsec;
}

/* One sync under the list's lock, connecting to the TPM first if needed. */
static kl_rc
sync_once(emu *e, const char *tcti)
{
    int fd = -1;
    kl_rc rc = KL_OK;

    if (!e->tpm)
        rc = kl_tpmdev_open(&e->tpm, tcti);
    if (rc == KL_OK)
        rc = emu_open_locked(e, false, &fd);
    if (rc == KL_OK)
        rc = emu_sync(e, fd);
    emu_close_locked(fd);
    return rc;
}

/* Whether the list needs a sync now; KL_ENOTFOUND while it does not exist. */
static kl_rc
due(emu *e, struct stat *st, const struct stat *last, unsigned tick, bool force, bool *out)
{
    if (stat(e->log_path, st) == 0) {
        *out = force || changed(st, last) || tick % EMU_RECHECK_TICKS == 0;
        return KL_OK;
    }
    *out = false;
    if (errno == ENOENT)
        return kl_err_set(KL_ENOTFOUND, "%s does not exist", e->log_path);
    return kl_err_set(KL_EIO, "%s: %s", e->log_path, strerror(errno));
}

kl_rc
emu_follow(emu *e, const char *tcti, long interval_ms, bool once)
{
    struct stat last, st;
    bool force = true, failing = false, waiting = false;
    unsigned tick = 0;
    kl_rc rc = KL_OK;

    memset(&last, 0, sizeof(last));
    if (e->msg && !once) {
        fprintf(e->msg, "Monitoring %s\n", e->log_path);
        fflush(e->msg);
    }
    while (!*e->stop) {
        bool now = false;

        rc = due(e, &st, &last, ++tick, force, &now);
        if (rc == KL_ENOTFOUND && !once) {
            if (!waiting)
                fprintf(stderr, "keylime_ima_emulator: waiting for %s to appear\n", e->log_path);
            waiting = true;
            rc = KL_OK;
        } else if (rc == KL_OK && now) {
            rc = sync_once(e, tcti);
            last = st;
            waiting = false;
        }
        if (once || rc == KL_EVERIFY || (rc != KL_OK && rc != KL_EIO))
            break;
        if (rc == KL_EIO) { /* the TPM restarting, say: reconnect and retry */
            if (!failing)
                fprintf(stderr, "keylime_ima_emulator: %s; retrying\n", kl_err_msg());
            failing = force = true;
            kl_tpmdev_close(e->tpm);
            e->tpm = NULL;
            rc = KL_OK;
        } else if (now) {
            if (failing)
                fprintf(stderr, "keylime_ima_emulator: working again\n");
            failing = force = false;
        }
        sleep_ms(interval_ms);
    }
    if (rc == KL_OK && e->msg && !once) {
        fprintf(e->msg, "Shutting down keylime IMA emulator\n");
        fflush(e->msg);
    }
    return rc;
}
