/* bench_common: what the benchmarks share.
 *
 * A deterministic generator of file paths shaped like the ones in real IMA
 * logs and runtime policies, a monotonic clock, medians, and the process's
 * resident memory (current and peak) for memory figures.
 */
#ifndef KL_BENCH_COMMON_H
#define KL_BENCH_COMMON_H

#include "util/kl_buf.h"
#include "util/kl_err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* splitmix64: small, fast and the same on every machine. */
typedef struct {
    uint64_t s;
} bench_rng;

void bench_rng_seed(bench_rng *r, uint64_t seed);
uint64_t bench_rng_next(bench_rng *r);
/* Uniform in [0, n). */
uint32_t bench_rng_below(bench_rng *r, uint32_t n);
void bench_rng_bytes(bench_rng *r, uint8_t *out, size_t n);

/* Appends the path of file number i (0-based; every i gives a distinct
 * path). Paths mix the directories a real measurement list or distribution
 * policy has (shared libraries, binaries, kernel modules, Python and Perl
 * modules, systemd units, configuration); their mean length is about 46
 * bytes, as in real logs (40-60). rng picks the shape. */
KL_MUST_CHECK kl_rc bench_path(kl_buf *out, bench_rng *rng, size_t i);

/* The order 0..n-1 shuffled deterministically (Fisher-Yates). Caller frees
 * with kl_free. NULL on ENOMEM. */
size_t *bench_shuffled(size_t n, uint64_t seed);

/* Seconds on the monotonic clock. */
double bench_now(void);

/* A stopwatch. Figures use the thread's CPU time (user and system): on a
 * shared machine the time the scheduler gives to other work is then not
 * counted, though cache and memory contention still are. */
typedef struct {
    double cpu, wall;
} bench_watch;

void bench_watch_start(bench_watch *w);
/* CPU seconds since start; also adds CPU and wall time to the totals that
 * bench_oncpu_share reports. */
double bench_watch_stop(const bench_watch *w);
/* CPU time / wall time over the stopwatches stopped since the last call
 * (1.0: the benchmark had a core to itself); resets the totals. */
double bench_oncpu_share(void);

/* Median of n values (sorts v in place). */
double bench_median(double *v, size_t n);

/* Resident set size in bytes now, and the peak since the last
 * bench_peak_reset (or since start when resetting is not possible). */
size_t bench_rss(void);
size_t bench_rss_peak(void);
/* Resets the peak counter; false when the kernel does not allow it. */
bool bench_peak_reset(void);
/* Returns freed heap memory to the system so that RSS deltas measure what
 * is held, not what the allocator keeps around. */
void bench_trim(void);

/* "1.23 M" style figures for progress lines. */
const char *bench_si(char *buf, size_t len, double v);
/* "1,234,567" (rounded to an integer) for tables. */
const char *bench_grouped(char *buf, size_t len, double v);

/* Parses "--name=N" style arguments: value of argv[i] when it starts with
 * name and '=', else -1. */
long bench_arg_long(const char *arg, const char *name);

#endif
