/* bench_policy_load: loading a big runtime policy, against reading its
 * text and against jansson, measured in the same run.
 *
 * Two generated policies (in memory, deterministic, one line as
 * keylime-policy writes them): 1,000,000 paths with one sha256 digest each,
 * and 500,000 paths with two. For each, interleaved, median of the runs:
 *   read      a plain byte loop counting '"' over the text (the I/O floor)
 *   memchr    memchr from quote to quote, counting them
 *   jansson   json_loadb of the text (a tree; what a naive loader pays)
 *   load      kl_runtime_policy_load (scan, validate, index)
 * (times are the thread's CPU time, see bench_watch).
 * Memory, from the first load (before jansson has touched the heap):
 * kl_runtime_policy_memory, the RSS growth while the policy is held (after
 * returning freed memory to the system) and the peak RSS growth during the
 * load, each in bytes per digest. jansson's tree is measured the same way.
 * Each policy is measured in a child process of its own, so that the
 * allocator state one leaves (glibc raises its mmap threshold after big
 * frees) does not change the other's memory figures.
 * Rows starting with '|' are the Markdown summary (bench/run.sh).
 *
 *   bench_policy_load [--digests=N] [--runs=N]
 */
#include "bench_common.h"
#include "policy/runtime_policy.h"
#include "util/kl_alloc.h"
#include "util/kl_hex.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SHA256_LEN 32
#define BIG ((size_t)1 << 40)
#define MAX_RUNS 32
#define LOAD_TARGET_S 2.0
#define BYTES_TARGET 200.0

typedef struct {
    size_t paths, per_path, digests;
    size_t runs;
    double text_mb;
    double read_s, memchr_s, jansson_s, load_s;
    double held, rss, peak; /* bytes per digest, kl_runtime_policy_load */
    double j_rss, j_peak;   /* bytes per digest, jansson */
    double oncpu;           /* CPU time / wall time of the timed parts */
} load_result;

static kl_rc
gen_policy(kl_buf *p, size_t paths, size_t per_path)
{
    uint8_t dig[SHA256_LEN];
    kl_buf name;
    bench_rng rng;
    kl_rc rc;

    kl_buf_init(&name, 4096);
    bench_rng_seed(&rng, 0x9011c7 + paths * per_path);
    rc = kl_buf_append_str(p, "{\"meta\": {\"version\": 1, \"generator\": 1, \"timestamp\": "
                              "\"2024-05-02 10:11:12.131415\"}, \"release\": 0, \"digests\": {");
    for (size_t i = 0; rc == KL_OK && i < paths; i++) {
        kl_buf_reset(&name);
        rc = bench_path(&name, &rng, i);
        if (rc == KL_OK)
            rc = kl_buf_append_str(p, i ? ", \"" : "\"");
        if (rc == KL_OK)
            rc = kl_buf_append(p, name.ptr, name.len);
        if (rc == KL_OK)
            rc = kl_buf_append_str(p, "\": [");
        for (size_t k = 0; rc == KL_OK && k < per_path; k++) {
            bench_rng_bytes(&rng, dig, sizeof(dig));
            rc = kl_buf_append_str(p, k ? ", \"" : "\"");
            if (rc == KL_OK)
                rc = kl_hex_encode_append(p, dig, sizeof(dig));
            if (rc == KL_OK)
                rc = kl_buf_append_byte(p, '"');
        }
        if (rc == KL_OK)
            rc = kl_buf_append_byte(p, ']');
    }
    if (rc == KL_OK)
        rc = kl_buf_append_str(p, "}, \"excludes\": [], \"keyrings\": {}, \"ima\": "
                                  "{\"ignored_keyrings\": [], \"log_hash_alg\": \"sha1\", "
                                  "\"dm_policy\": null}, \"ima-buf\": {}, "
                                  "\"verification-keys\": \"\"}");
    kl_buf_free(&name);
    return rc;
}

/* Keeps a result alive so that the compiler cannot drop the loop. */
static volatile size_t sink;

static double
time_read(kl_bytes t)
{
    size_t quotes = 0;
    bench_watch w;

    bench_watch_start(&w);
    for (size_t i = 0; i < t.len; i++)
        quotes += t.ptr[i] == '"';
    sink = quotes;
    return bench_watch_stop(&w);
}

static double
time_memchr(kl_bytes t)
{
    const uint8_t *p = t.ptr, *end = t.ptr + t.len;
    size_t quotes = 0;
    bench_watch w;

    bench_watch_start(&w);
    while (p < end && (p = memchr(p, '"', (size_t)(end - p))) != NULL) {
        quotes++;
        p++;
    }
    sink = quotes;
    return bench_watch_stop(&w);
}

static kl_rc
check_loaded(const kl_runtime_policy *p, const load_result *r)
{
    const kl_digest_map *m = kl_runtime_policy_map(p, KL_POLICY_DIGESTS);

    if (kl_digest_map_names(m) != r->paths || kl_digest_map_digests(m) != r->digests)
        return kl_err_set(KL_EINVAL, "loaded %zu names and %zu digests, expected %zu and %zu",
                          kl_digest_map_names(m), kl_digest_map_digests(m), r->paths, r->digests);
    return KL_OK;
}

/* One timed kl_runtime_policy_load; with mem, also the memory figures. */
static kl_rc
time_load(kl_bytes t, load_result *r, bool mem, double *secs)
{
    kl_runtime_policy *p = NULL;
    size_t rss0 = 0, peak_ok = 0;
    double nd = (double)r->digests;
    bench_watch w;
    kl_rc rc;

    if (mem) {
        bench_trim();
        rss0 = bench_rss();
        peak_ok = bench_peak_reset();
    }
    bench_watch_start(&w);
    rc = kl_runtime_policy_load(&p, t, NULL);
    *secs = bench_watch_stop(&w);
    if (rc == KL_OK)
        rc = check_loaded(p, r);
    if (rc == KL_OK && mem) {
        r->peak = peak_ok ? ((double)bench_rss_peak() - (double)rss0) / nd : -1;
        bench_trim();
        r->rss = ((double)bench_rss() - (double)rss0) / nd;
        r->held = (double)kl_runtime_policy_memory(p) / nd;
    }
    kl_runtime_policy_free(p);
    return rc;
}

static kl_rc
time_jansson(kl_bytes t, load_result *r, bool mem, double *secs)
{
    size_t rss0 = 0, peak_ok = 0;
    json_error_t err;
    json_t *j;
    double nd = (double)r->digests;
    bench_watch w;

    if (mem) {
        bench_trim();
        rss0 = bench_rss();
        peak_ok = bench_peak_reset();
    }
    bench_watch_start(&w);
    j = json_loadb((const char *)t.ptr, t.len, 0, &err);
    *secs = bench_watch_stop(&w);
    if (!j)
        return kl_err_set(KL_EPARSE, "jansson: %s", err.text);
    if (mem) {
        r->j_peak = peak_ok ? ((double)bench_rss_peak() - (double)rss0) / nd : -1;
        bench_trim();
        r->j_rss = ((double)bench_rss() - (double)rss0) / nd;
    }
    json_decref(j);
    return KL_OK;
}

static kl_rc
bench_variant(size_t paths, size_t per_path, size_t runs, load_result *r)
{
    double t_read[MAX_RUNS], t_mem[MAX_RUNS], t_j[MAX_RUNS], t_load[MAX_RUNS];
    kl_buf text;
    kl_bytes t;
    kl_rc rc;

    memset(r, 0, sizeof(*r));
    r->paths = paths;
    r->per_path = per_path;
    r->digests = paths * per_path;
    r->runs = runs;
    printf("policy: generating %zu paths x %zu digests...\n", paths, per_path);
    fflush(stdout);
    kl_buf_init(&text, BIG);
    rc = gen_policy(&text, paths, per_path);
    t = kl_buf_bytes(&text);
    r->text_mb = (double)t.len / 1e6;
    if (rc == KL_OK)
        printf("policy: %.1f MB of JSON\n", r->text_mb);
    bench_oncpu_share();
    for (size_t i = 0; rc == KL_OK && i < runs; i++) {
        t_read[i] = time_read(t);
        t_mem[i] = time_memchr(t);
        rc = time_load(t, r, i == 0, &t_load[i]);
        if (rc == KL_OK)
            rc = time_jansson(t, r, i == 0, &t_j[i]);
        if (rc != KL_OK)
            break;
        printf("  run %zu: read %.3f s  memchr %.3f s  jansson %.3f s  load %.3f s\n", i + 1,
               t_read[i], t_mem[i], t_j[i], t_load[i]);
        fflush(stdout);
    }
    if (rc == KL_OK) {
        r->read_s = bench_median(t_read, runs);
        r->memchr_s = bench_median(t_mem, runs);
        r->jansson_s = bench_median(t_j, runs);
        r->load_s = bench_median(t_load, runs);
        r->oncpu = bench_oncpu_share();
        printf("policy %zu x %zu, median of %zu: read %.3f s (%.1f GB/s), memchr %.3f s, "
               "jansson %.3f s, load %.3f s (%.0f MB/s, %.1f x read, %.2f x jansson); held "
               "%.1f B/digest, RSS growth %.1f B/digest, peak %.1f B/digest (jansson: RSS "
               "%.1f, peak %.1f); targets <= %.0f s: %s, <= %.0f B/digest: %s; on CPU %.0f%%\n",
               paths, per_path, runs, r->read_s, r->text_mb / 1e3 / r->read_s, r->memchr_s,
               r->jansson_s, r->load_s, r->text_mb / r->load_s, r->load_s / r->read_s,
               r->load_s / r->jansson_s, r->held, r->rss, r->peak, r->j_rss, r->j_peak,
               LOAD_TARGET_S, r->load_s <= LOAD_TARGET_S ? "met" : "NOT MET", BYTES_TARGET,
               r->held <= BYTES_TARGET ? "met" : "NOT MET", 100 * r->oncpu);
    }
    kl_buf_free(&text);
    return rc;
}

/* bench_variant in a child process; the result comes back through a pipe. */
static kl_rc
bench_isolated(size_t paths, size_t per_path, size_t runs, load_result *r)
{
    size_t got = 0;
    int fds[2], status = 0;
    pid_t pid;

    fflush(stdout);
    if (pipe(fds) != 0)
        return kl_err_set(KL_EIO, "pipe: %s", strerror(errno));
    pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return kl_err_set(KL_EIO, "fork: %s", strerror(errno));
    }
    if (pid == 0) {
        kl_rc rc;

        close(fds[0]);
        rc = bench_variant(paths, per_path, runs, r);
        if (rc != KL_OK)
            fprintf(stderr, "bench_policy_load: %s: %s\n", kl_rc_str(rc), kl_err_msg());
        else if (write(fds[1], r, sizeof(*r)) != (ssize_t)sizeof(*r))
            rc = KL_EIO;
        fflush(stdout);
        _exit(rc == KL_OK ? 0 : 1);
    }
    close(fds[1]);
    while (got < sizeof(*r)) {
        ssize_t n = read(fds[0], (char *)r + got, sizeof(*r) - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fds[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (got != sizeof(*r) || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return kl_err_set(KL_EIO, "the measurement of %zu x %zu failed", paths, per_path);
    return KL_OK;
}

static void
print_rows(const load_result *r, size_t n)
{
    char a[32], b[32];

    printf("\n| Runtime policy (sha256) | JSON | runs | read loop | memchr '\"' | jansson "
           "json_loadb | kl_runtime_policy_load (target <= 2 s) | held, B/digest (target <= "
           "200) | RSS growth, B/digest | peak RSS growth during load, B/digest | jansson RSS, "
           "B/digest | on CPU |\n");
    printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < n; i++)
        printf("| %s paths x %zu = %s digests | %.0f MB | %zu | %.3f s | %.3f s | %.3f s | "
               "%.3f s%s | %.0f%s | %.0f | %.0f | %.0f | %.0f%% |\n",
               bench_grouped(a, sizeof(a), (double)r[i].paths), r[i].per_path,
               bench_grouped(b, sizeof(b), (double)r[i].digests), r[i].text_mb, r[i].runs,
               r[i].read_s, r[i].memchr_s, r[i].jansson_s, r[i].load_s,
               r[i].load_s <= LOAD_TARGET_S ? "" : " (not met)", r[i].held,
               r[i].held <= BYTES_TARGET ? "" : " (not met)", r[i].rss, r[i].peak, r[i].j_rss,
               100 * r[i].oncpu);
}

int
main(int argc, char **argv)
{
    long digests = 1000000, runs = 3, v;
    load_result res[2];
    kl_rc rc;

    for (int i = 1; i < argc; i++) {
        if ((v = bench_arg_long(argv[i], "--digests")) >= 2)
            digests = v;
        else if ((v = bench_arg_long(argv[i], "--runs")) >= 1 && v <= MAX_RUNS)
            runs = v;
        else {
            fprintf(stderr, "usage: %s [--digests=N] [--runs=N (1..%d)]\n", argv[0], MAX_RUNS);
            return 2;
        }
    }
    rc = bench_isolated((size_t)digests, 1, (size_t)runs, &res[0]);
    if (rc == KL_OK)
        rc = bench_isolated((size_t)digests / 2, 2, (size_t)runs, &res[1]);
    if (rc != KL_OK) {
        fprintf(stderr, "bench_policy_load: %s: %s\n", kl_rc_str(rc), kl_err_msg());
        return 1;
    }
    print_rows(res, 2);
    return 0;
}
