/* mb_replay: makes a software TPM's PCRs agree with a UEFI event log, as
 * firmware would have extended them (tests only).
 *
 *   mb_replay TCTI LOG
 *
 * Every record but EV_NO_ACTION is extended into its PCR, each of the
 * TPM's active banks that the log has a digest for in one TPM2_PCR_Extend.
 * Then, for every bank extended, the PCRs the log touches are read back and
 * compared with lib/mb's replay of the log. Prints "extended N events" and
 * exits 0 when they agree; 1 on any failure. A log with a StartupLocality
 * record other than 0 is refused: PCR 0 cannot start from another value on
 * a TPM that is already running.
 */
#include "mb/eventlog.h"
#include "tpmdev/tpmdev.h"
#include "tpmdev/tpmdev_pcr.h"
#include "util/kl_file.h"

#include <stdio.h>
#include <string.h>

static int
die(const char *what)
{
    fprintf(stderr, "mb_replay: %s: %s\n", what, kl_err_msg());
    return 1;
}

/* The digests of one record for the TPM's active banks; *n may be 0. */
static void
record_digests(const kl_eventlog_event *ev, uint32_t banks, kl_tpmdev_digest *out, size_t *n)
{
    *n = 0;
    for (int alg = 0; alg < KL_HASH_COUNT; alg++) {
        uint16_t tpm_alg;
        kl_bytes d;

        if (!(banks >> alg & 1) || !kl_eventlog_alg_to_tpm((kl_hash_alg)alg, &tpm_alg) ||
            !kl_eventlog_event_digest(ev, tpm_alg, &d) || d.len != kl_hash_size(alg))
            continue;
        out[*n].bank = (kl_hash_alg)alg;
        memcpy(out[*n].digest, d.ptr, d.len);
        (*n)++;
    }
}

static kl_rc
extend_all(kl_tpmdev *t, const kl_eventlog *log, uint32_t banks, size_t *count)
{
    kl_tpmdev_digest d[KL_HASH_COUNT];
    kl_rc rc = KL_OK;
    size_t n;

    *count = 0;
    for (size_t i = 0; i < kl_eventlog_count(log) && rc == KL_OK; i++) {
        const kl_eventlog_event *ev = kl_eventlog_event_at(log, i);

        if (ev->type == KL_EV_NO_ACTION)
            continue;
        record_digests(ev, banks, d, &n);
        if (n == 0)
            continue;
        rc = kl_tpmdev_pcr_extend(t, ev->pcr, d, n);
        *count += rc == KL_OK;
    }
    return rc;
}

/* Compares the TPM's PCRs with the log's replay in each bank both have. */
static int
compare(kl_tpmdev *t, const kl_eventlog *log, uint32_t banks)
{
    kl_pcr_set want, got;

    for (int alg = 0; alg < KL_HASH_COUNT; alg++) {
        if (!(banks >> alg & 1) || !kl_eventlog_has_bank(log, (kl_hash_alg)alg))
            continue;
        if (kl_eventlog_replay(log, (kl_hash_alg)alg, &want) != KL_OK)
            return die("replay");
        if (kl_tpmdev_pcr_read(&got, t, (kl_hash_alg)alg, want.present) != KL_OK)
            return die("PCR read");
        for (unsigned p = 0; p < KL_PCR_COUNT; p++) {
            if (kl_pcr_set_has(&want, p) &&
                memcmp(want.value[p], got.value[p], kl_hash_size(alg)) != 0) {
                fprintf(stderr, "mb_replay: %s PCR %u differs from the log's replay\n",
                        kl_hash_name(alg), p);
                return 1;
            }
        }
    }
    return 0;
}

int
main(int argc, char **argv)
{
    kl_eventlog *log = NULL;
    kl_tpmdev *t = NULL;
    kl_buf data;
    uint32_t banks = 0;
    size_t count = 0;
    int status = 1;

    kl_buf_init(&data, (size_t)1 << 26);
    if (argc != 3) {
        fprintf(stderr, "usage: mb_replay TCTI LOG\n");
        return 2;
    }
    if (kl_file_read(argv[2], &data) != KL_OK ||
        kl_eventlog_parse(&log, kl_buf_bytes(&data)) != KL_OK)
        status = die(argv[2]);
    else if (kl_eventlog_startup_locality(log) > 0)
        fprintf(stderr, "mb_replay: the log starts at locality %d; only 0 can be replayed\n",
                kl_eventlog_startup_locality(log));
    else if (kl_tpmdev_open(&t, argv[1]) != KL_OK || kl_tpmdev_pcr_banks(t, &banks) != KL_OK)
        status = die(argv[1]);
    else if (extend_all(t, log, banks, &count) != KL_OK)
        status = die("PCR extend");
    else if ((status = compare(t, log, banks)) == 0)
        printf("extended %zu events\n", count);
    kl_tpmdev_close(t);
    kl_eventlog_free(log);
    kl_buf_free(&data);
    return status;
}
