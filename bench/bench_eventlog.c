/* bench_eventlog: what checking a measured boot costs per quote, for the
 * vector event logs, beside the hash floor measured in the same run.
 *
 * For each log (tests/data/eventlog) and its refstate made by `create
 * measured-boot` (tests/data/eventlog/refstate), interleaved so that
 * machine noise hits all of them alike:
 *   floor    the PCR extends alone: H(pcr || digest) for every extended
 *            event in every bank, on digests already in memory;
 *   parse    kl_eventlog_parse of the binary log (every structure decoded
 *            and bounds-checked);
 *   replay   kl_eventlog_replay of every bank plus the boot aggregates;
 *   example  the `example` policy: refstate JSON parsed, the log checked
 *            against it (kl_mb_engine_evaluate);
 *   total    parse + replay + example: the verifier's work for a boot log.
 * Figures are medians of thread CPU time per log (see bench_watch); the
 * ratio is the median of per-run ratios total / floor. Rows starting with
 * '|' are the Markdown summary (bench/run.sh).
 *
 *   bench_eventlog [--runs=N] [--n=N] [--data=DIR]   N logs per measurement
 */
#include <stdio.h>
#include <string.h>

#include "bench_common.h"
#include "mb/eventlog.h"
#include "policy/mb_policy.h"
#include "util/kl_alloc.h"
#include "util/kl_file.h"

#define MAX_RUNS 64
#define FILE_MAX ((size_t)1 << 24)

typedef struct {
    const char *log, *refstate;
} subject_files;

static const subject_files files[] = {
    {"binary_bios_measurements", "binary_bios_measurements-i.json"},
    {"binary_bios_measurements-secureboot", "binary_bios_measurements-secureboot.json"},
    {"uefi_log.bin", "uefi_log.bin-i.json"},
    {"mb_log.bin", "mb_log.bin-i.json"},
};
#define NSUBJECTS (sizeof(files) / sizeof(files[0]))

enum { T_FLOOR, T_PARSE, T_REPLAY, T_EXAMPLE, T_TOTAL, T_COUNT };

typedef struct {
    kl_buf log, refstate;
    kl_eventlog *parsed;
    size_t records, extends;
    double t[T_COUNT][MAX_RUNS]; /* seconds per log */
    double ratio[MAX_RUNS];
} subject;

static const kl_mb_engine *example;
static kl_hasher *hasher;
static volatile uint8_t sink;

static kl_rc
load(subject *s, const char *dir, const subject_files *f)
{
    char path[4096];
    kl_rc rc;

    snprintf(path, sizeof(path), "%s/%s", dir, f->log);
    rc = kl_file_read(path, &s->log);
    if (rc == KL_OK) {
        snprintf(path, sizeof(path), "%s/refstate/%s", dir, f->refstate);
        rc = kl_file_read(path, &s->refstate);
    }
    if (rc == KL_OK)
        rc = kl_eventlog_parse(&s->parsed, kl_buf_bytes(&s->log));
    if (rc != KL_OK)
        return rc;
    s->records = kl_eventlog_count(s->parsed);
    return KL_OK;
}

/* The extends alone, as the TPM did them. */
static kl_rc
floor_once(const kl_eventlog *log, size_t *extends)
{
    uint8_t pcr[KL_PCR_COUNT][KL_HASH_MAX_SIZE];
    kl_rc rc = KL_OK;

    *extends = 0;
    for (size_t b = 0; rc == KL_OK && b < kl_eventlog_bank_count(log); b++) {
        const kl_eventlog_bank *bank = kl_eventlog_bank_at(log, b);
        size_t size = kl_hash_size(bank->alg);

        if (!bank->hashable)
            continue;
        memset(pcr, 0, sizeof(pcr));
        for (size_t i = 1; rc == KL_OK && i < kl_eventlog_count(log); i++) {
            const kl_eventlog_event *e = kl_eventlog_event_at(log, i);
            kl_bytes d;

            if (e->type == KL_EV_NO_ACTION || e->pcr >= KL_PCR_COUNT ||
                !kl_eventlog_event_digest(e, bank->tpm_alg, &d))
                continue;
            rc = kl_hasher_digest2(hasher, bank->alg, pcr[e->pcr], size, d.ptr, d.len,
                                   pcr[e->pcr]);
            (*extends)++;
        }
        sink ^= pcr[0][0];
    }
    return rc;
}

static kl_rc
parse_once(const subject *s)
{
    kl_eventlog *log = NULL;
    kl_rc rc = kl_eventlog_parse(&log, kl_buf_bytes(&s->log));

    kl_eventlog_free(log);
    return rc;
}

static kl_rc
replay_once(const kl_eventlog *log)
{
    kl_buf agg;
    kl_pcr_set pcrs;
    kl_rc rc = KL_OK;

    kl_buf_init(&agg, 1 << 16);
    for (size_t b = 0; rc == KL_OK && b < kl_eventlog_bank_count(log); b++) {
        const kl_eventlog_bank *bank = kl_eventlog_bank_at(log, b);

        if (bank->hashable)
            rc = kl_eventlog_replay(log, bank->alg, &pcrs);
    }
    if (rc == KL_OK)
        rc = kl_eventlog_boot_aggregates(log, &agg);
    sink ^= agg.len ? agg.ptr[0] : 0;
    kl_buf_free(&agg);
    return rc;
}

static kl_rc
example_once(const subject *s, const kl_eventlog *log)
{
    kl_verdict v = KL_VERDICT_INIT;
    kl_rc rc = kl_mb_engine_evaluate(&v, example, kl_buf_bytes(&s->refstate), log,
                                     kl_mb_engine_relevant_pcrs(example));

    sink ^= (uint8_t)v.count;
    kl_verdict_free(&v);
    return rc;
}

static kl_rc
total_once(const subject *s)
{
    kl_eventlog *log = NULL;
    kl_rc rc = kl_eventlog_parse(&log, kl_buf_bytes(&s->log));

    if (rc == KL_OK)
        rc = replay_once(log);
    if (rc == KL_OK)
        rc = example_once(s, log);
    kl_eventlog_free(log);
    return rc;
}

static kl_rc
stage(subject *s, int which, size_t n, double *seconds)
{
    bench_watch w;
    kl_rc rc = KL_OK;

    bench_watch_start(&w);
    for (size_t i = 0; rc == KL_OK && i < n; i++) {
        switch (which) {
        case T_FLOOR: rc = floor_once(s->parsed, &s->extends); break;
        case T_PARSE: rc = parse_once(s); break;
        case T_REPLAY: rc = replay_once(s->parsed); break;
        case T_EXAMPLE: rc = example_once(s, s->parsed); break;
        default: rc = total_once(s); break;
        }
    }
    *seconds = bench_watch_stop(&w) / (double)n;
    return rc;
}

static kl_rc
measure(subject *s, size_t n, size_t runs)
{
    kl_rc rc = KL_OK;

    for (size_t r = 0; rc == KL_OK && r < runs; r++) {
        for (int k = 0; rc == KL_OK && k < T_COUNT; k++)
            rc = stage(s, k, n, &s->t[k][r]);
        s->ratio[r] = s->t[T_TOTAL][r] / s->t[T_FLOOR][r];
    }
    return rc;
}

int
main(int argc, char **argv)
{
    const char *dir = "tests/data/eventlog";
    long runs = 15, n = 200, v;
    subject *subj = kl_calloc(NSUBJECTS, sizeof(*subj));
    kl_rc rc = subj ? KL_OK : KL_ENOMEM;

    for (int i = 1; i < argc; i++) {
        if ((v = bench_arg_long(argv[i], "--runs")) > 0 && v <= MAX_RUNS) {
            runs = v;
        } else if ((v = bench_arg_long(argv[i], "--n")) > 0) {
            n = v;
        } else if (strncmp(argv[i], "--data=", 7) == 0) {
            dir = argv[i] + 7;
        } else {
            fprintf(stderr, "usage: %s [--runs=N (<= %d)] [--n=N] [--data=DIR]\n", argv[0],
                    MAX_RUNS);
            return 2;
        }
    }
    if (rc == KL_OK)
        rc = kl_hasher_new(&hasher);
    if (rc == KL_OK)
        rc = kl_mb_engine_find("example", &example);
    for (size_t i = 0; rc == KL_OK && i < NSUBJECTS; i++) {
        kl_buf_init(&subj[i].log, FILE_MAX);
        kl_buf_init(&subj[i].refstate, FILE_MAX);
        if ((rc = load(&subj[i], dir, &files[i])) != KL_OK)
            fprintf(stderr, "bench_eventlog: %s/%s: %s (run from the source tree or pass "
                            "--data=DIR)\n", dir, files[i].log, kl_err_msg());
    }
    for (size_t i = 0; rc == KL_OK && i < NSUBJECTS; i++) {
        fprintf(stderr, "  %s: %zu records, %ld x %ld\n", files[i].log, subj[i].records, runs, n);
        rc = measure(&subj[i], (size_t)n, (size_t)runs);
    }
    double oncpu = bench_oncpu_share();

    if (rc == KL_OK) {
        printf("\n| Boot log | records | PCR extends | runs | extend floor (us) | parse (us) | "
               "replay, all banks + aggregates (us) | example policy (us) | total (us) | "
               "logs/s | total / floor | on CPU |\n");
        printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    }
    for (size_t i = 0; rc == KL_OK && i < NSUBJECTS; i++) {
        double med[T_COUNT];

        for (int k = 0; k < T_COUNT; k++)
            med[k] = bench_median(subj[i].t[k], (size_t)runs) * 1e6;
        printf("| %s | %zu | %zu | %ld x %ld | %.1f | %.1f | %.1f | %.1f | %.1f | %.0f | "
               "%.1fx | %.0f%% |\n",
               files[i].log, subj[i].records, subj[i].extends, runs, n, med[T_FLOOR],
               med[T_PARSE], med[T_REPLAY], med[T_EXAMPLE], med[T_TOTAL], 1e6 / med[T_TOTAL],
               bench_median(subj[i].ratio, (size_t)runs), 100.0 * oncpu);
    }
    if (rc != KL_OK)
        fprintf(stderr, "bench_eventlog: %s\n", kl_err_msg());
    for (size_t i = 0; subj && i < NSUBJECTS; i++) {
        kl_buf_free(&subj[i].log);
        kl_buf_free(&subj[i].refstate);
        kl_eventlog_free(subj[i].parsed);
    }
    kl_free(subj);
    kl_hasher_free(hasher);
    return rc == KL_OK ? 0 : 1;
}
