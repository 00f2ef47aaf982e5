/* bench_ima: throughput of the IMA engine (kl_ima_eval) against the hashing
 * it cannot avoid, measured in the same run.
 *
 * For each size, an ima-ng ASCII measurement list is generated in memory
 * (boot_aggregate, then distinct paths with sha256 file digests and correct
 * sha1 template hashes) with a runtime policy that allows every entry
 * (log_hash_alg sha1; its paths in another order than the log's). Then,
 * interleaved so that machine noise hits all of them alike:
 *   floor    exactly the three hashes per entry the engine must do, over
 *            precomputed template data: sha1(td) for the template hash,
 *            sha256(td) for the bank, sha256(PCR || digest) for the extend;
 *   eval     kl_ima_eval on the text with the policy, sha256 bank and the
 *            final PCR 10 quoted (the whole list is replayed and matched);
 *   nopol    the same without a policy (parsing + hashing, no lookups).
 * Figures are medians of thread CPU time (see bench_watch); the ratio
 * eval/floor is the median of the per-run ratios. Rows starting with '|'
 * are the Markdown summary (bench/run.sh).
 *
 *   bench_ima [--small=N] [--large=N] [--runs-small=N] [--runs-large=N]
 *   bench_ima --profile=N [--runs-large=R]   only kl_ima_eval, R times on N
 *                                            entries (for perf record)
 */
#include "bench_common.h"
#include "crypto/hash.h"
#include "ima/ima_template.h"
#include "policy/runtime_eval.h"
#include "policy/runtime_policy.h"
#include "util/kl_alloc.h"
#include "util/kl_hex.h"

#include <stdio.h>
#include <string.h>

#define SHA1_LEN 20
#define SHA256_LEN 32
#define BIG ((size_t)1 << 40)
#define MAX_RUNS 64

/* One generated list and its policy. */
typedef struct {
    size_t n;                  /* entries, boot_aggregate included */
    kl_buf names;              /* paths, back to back */
    size_t *name_off;          /* n + 1 offsets into names */
    uint8_t *digests;          /* n sha256 file digests */
    kl_buf tdata;              /* template data of every entry, back to back */
    size_t *td_off;            /* n + 1 offsets into tdata */
    kl_buf log;                /* ascii_runtime_measurements */
    kl_buf policy;             /* runtime policy JSON */
    uint8_t pcr10[SHA256_LEN]; /* sha256 PCR 10 after the whole list */
} corpus;

static kl_bytes
name_of(const corpus *c, size_t i)
{
    return KL_BYTES(c->names.ptr + c->name_off[i], c->name_off[i + 1] - c->name_off[i]);
}

static void
corpus_free(corpus *c)
{
    kl_buf_free(&c->names);
    kl_buf_free(&c->tdata);
    kl_buf_free(&c->log);
    kl_buf_free(&c->policy);
    kl_free(c->name_off);
    kl_free(c->td_off);
    kl_free(c->digests);
}

static kl_rc
gen_names(corpus *c, bench_rng *rng)
{
    kl_rc rc = kl_buf_append_str(&c->names, "boot_aggregate");

    c->name_off[0] = 0;
    c->name_off[1] = c->names.len;
    for (size_t i = 1; rc == KL_OK && i < c->n; i++) {
        rc = bench_path(&c->names, rng, i);
        c->name_off[i + 1] = c->names.len;
    }
    return rc;
}

/* "10 <sha1(td)> ima-ng sha256:<digest> <name>\n", and the PCR replay. */
static kl_rc
gen_line(corpus *c, kl_hasher *h, size_t i)
{
    const uint8_t *dig = c->digests + i * SHA256_LEN;
    uint8_t th[SHA1_LEN], bank[SHA256_LEN];
    kl_bytes name = name_of(c, i);
    kl_ima_entry e;
    kl_rc rc;

    memset(&e, 0, sizeof(e));
    e.tmpl = KL_IMA_TMPL_IMA_NG;
    e.digest_alg = KL_BYTES_STR("sha256");
    e.digest = KL_BYTES(dig, SHA256_LEN);
    e.name = name;
    c->td_off[i] = c->tdata.len;
    rc = kl_ima_template_encode(&e, &c->tdata);
    c->td_off[i + 1] = c->tdata.len;
    if (rc == KL_OK)
        rc = kl_hasher_digest(h, KL_HASH_SHA1, c->tdata.ptr + c->td_off[i],
                              c->td_off[i + 1] - c->td_off[i], th);
    if (rc == KL_OK)
        rc = kl_hasher_digest(h, KL_HASH_SHA256, c->tdata.ptr + c->td_off[i],
                              c->td_off[i + 1] - c->td_off[i], bank);
    if (rc == KL_OK)
        rc = kl_hasher_digest2(h, KL_HASH_SHA256, c->pcr10, SHA256_LEN, bank, SHA256_LEN, c->pcr10);
    if (rc == KL_OK)
        rc = kl_buf_append_str(&c->log, "10 ");
    if (rc == KL_OK)
        rc = kl_hex_encode_append(&c->log, th, SHA1_LEN);
    if (rc == KL_OK)
        rc = kl_buf_append_str(&c->log, " ima-ng sha256:");
    if (rc == KL_OK)
        rc = kl_hex_encode_append(&c->log, dig, SHA256_LEN);
    if (rc == KL_OK)
        rc = kl_buf_append_byte(&c->log, ' ');
    if (rc == KL_OK)
        rc = kl_buf_append(&c->log, name.ptr, name.len);
    return rc == KL_OK ? kl_buf_append_byte(&c->log, '\n') : rc;
}

/* The policy as keylime-policy writes it (one line, ", " and ": "), with
 * the paths in another order than the log's, as a policy built from a
 * file-system walk or packages would have them. */
static kl_rc
gen_policy(corpus *c)
{
    size_t *order = bench_shuffled(c->n, 0x5eed);
    kl_buf *p = &c->policy;
    kl_rc rc;

    if (!order)
        return kl_err_set(KL_ENOMEM, "out of memory");
    rc = kl_buf_append_str(p, "{\"meta\": {\"version\": 1, \"generator\": 1, \"timestamp\": "
                              "\"2024-05-02 10:11:12.131415\"}, \"release\": 0, \"digests\": {");
    for (size_t k = 0; rc == KL_OK && k < c->n; k++) {
        size_t i = order[k];
        kl_bytes name = name_of(c, i);

        rc = kl_buf_append_str(p, k ? ", \"" : "\"");
        if (rc == KL_OK)
            rc = kl_buf_append(p, name.ptr, name.len);
        if (rc == KL_OK)
            rc = kl_buf_append_str(p, "\": [\"");
        if (rc == KL_OK)
            rc = kl_hex_encode_append(p, c->digests + i * SHA256_LEN, SHA256_LEN);
        if (rc == KL_OK)
            rc = kl_buf_append_str(p, "\"]");
    }
    if (rc == KL_OK)
        rc = kl_buf_append_str(p, "}, \"excludes\": [], \"keyrings\": {}, \"ima\": "
                                  "{\"ignored_keyrings\": [], \"log_hash_alg\": \"sha1\", "
                                  "\"dm_policy\": null}, \"ima-buf\": {}, "
                                  "\"verification-keys\": \"\"}");
    kl_free(order);
    return rc;
}

static kl_rc
corpus_make(corpus *c, size_t n)
{
    kl_hasher *h = NULL;
    bench_rng rng;
    kl_rc rc;

    memset(c, 0, sizeof(*c));
    c->n = n;
    kl_buf_init(&c->names, BIG);
    kl_buf_init(&c->tdata, BIG);
    kl_buf_init(&c->log, BIG);
    kl_buf_init(&c->policy, BIG);
    c->name_off = kl_calloc(n + 1, sizeof(size_t));
    c->td_off = kl_calloc(n + 1, sizeof(size_t));
    c->digests = kl_calloc(n, SHA256_LEN);
    if (!c->name_off || !c->td_off || !c->digests)
        return kl_err_set(KL_ENOMEM, "out of memory");
    bench_rng_seed(&rng, 0x1a2b3c4d + n);
    bench_rng_bytes(&rng, c->digests, n * SHA256_LEN);
    rc = gen_names(c, &rng);
    if (rc == KL_OK)
        rc = kl_hasher_new(&h);
    for (size_t i = 0; rc == KL_OK && i < n; i++)
        rc = gen_line(c, h, i);
    if (rc == KL_OK)
        rc = gen_policy(c);
    kl_hasher_free(h);
    return rc;
}

/* The hash-only floor: sha1(td), sha256(td), sha256(PCR || digest). */
static kl_rc
run_floor(const corpus *c, kl_hasher *h, double *secs)
{
    uint8_t pcr[SHA256_LEN] = {0}, th[SHA1_LEN], bank[SHA256_LEN];
    kl_rc rc = KL_OK;
    bench_watch w;

    bench_watch_start(&w);
    for (size_t i = 0; rc == KL_OK && i < c->n; i++) {
        const uint8_t *td = c->tdata.ptr + c->td_off[i];
        size_t len = c->td_off[i + 1] - c->td_off[i];

        rc = kl_hasher_digest(h, KL_HASH_SHA1, td, len, th);
        if (rc == KL_OK)
            rc = kl_hasher_digest(h, KL_HASH_SHA256, td, len, bank);
        if (rc == KL_OK)
            rc = kl_hasher_digest2(h, KL_HASH_SHA256, pcr, SHA256_LEN, bank, SHA256_LEN, pcr);
    }
    *secs = bench_watch_stop(&w);
    if (rc == KL_OK && memcmp(pcr, c->pcr10, SHA256_LEN) != 0)
        rc = kl_err_set(KL_EINVAL, "floor: the replay does not give the generated PCR 10");
    return rc;
}

/* The same hashes with one kl_hasher per algorithm: how much of the floor
 * is the context switching between sha1 and sha256 (OpenSSL 3.0 frees and
 * allocates the provider context when a context changes algorithm). */
static kl_rc
run_floor_per_alg(const corpus *c, kl_hasher *h1, kl_hasher *h256, double *secs)
{
    uint8_t pcr[SHA256_LEN] = {0}, th[SHA1_LEN], bank[SHA256_LEN];
    kl_rc rc = KL_OK;
    bench_watch w;

    bench_watch_start(&w);
    for (size_t i = 0; rc == KL_OK && i < c->n; i++) {
        const uint8_t *td = c->tdata.ptr + c->td_off[i];
        size_t len = c->td_off[i + 1] - c->td_off[i];

        rc = kl_hasher_digest(h1, KL_HASH_SHA1, td, len, th);
        if (rc == KL_OK)
            rc = kl_hasher_digest(h256, KL_HASH_SHA256, td, len, bank);
        if (rc == KL_OK)
            rc = kl_hasher_digest2(h256, KL_HASH_SHA256, pcr, SHA256_LEN, bank, SHA256_LEN, pcr);
    }
    *secs = bench_watch_stop(&w);
    if (rc == KL_OK && memcmp(pcr, c->pcr10, SHA256_LEN) != 0)
        rc = kl_err_set(KL_EINVAL, "floor: the replay does not give the generated PCR 10");
    return rc;
}

/* kl_ima_eval over the whole list; checks that it passed and matched. */
static kl_rc
run_eval(const corpus *c, const kl_runtime_policy *p, double *secs)
{
    kl_ima_eval_opts o = KL_IMA_EVAL_OPTS_INIT;
    kl_verdict v = KL_VERDICT_INIT;
    kl_ima_result res;
    bench_watch w;
    kl_rc rc;

    o.policy = p;
    o.bank = KL_HASH_SHA256;
    bench_watch_start(&w);
    rc = kl_ima_eval(&v, &res, &o, kl_buf_bytes(&c->log), c->pcr10, NULL);
    *secs = bench_watch_stop(&w);
    if (rc == KL_OK && (v.count || !res.matched || res.match_lines != c->n || res.entries != c->n))
        rc = kl_err_set(KL_EINVAL, "eval: %zu failures (first %s), matched %d after %zu of %zu",
                        v.count, v.count ? v.items[0].event_id : "-", res.matched, res.match_lines,
                        c->n);
    kl_verdict_free(&v);
    return rc;
}

typedef struct {
    size_t n;
    double floor_rate, eval_rate, nopol_rate, ratio, floor2_rate;
    double log_mb, mean_path, load_s, oncpu;
    size_t runs;
} ima_result;

static double
rate(size_t n, double secs)
{
    return secs > 0 ? (double)n / secs : 0;
}

static kl_rc
bench_size(size_t n, size_t runs, ima_result *r)
{
    double t_floor[MAX_RUNS], t_eval[MAX_RUNS], t_nopol[MAX_RUNS], t_floor2[MAX_RUNS];
    double ratio[MAX_RUNS], s;
    kl_runtime_policy *p = NULL;
    kl_hasher *h = NULL, *h1 = NULL, *h256 = NULL;
    char a[32], b[32], d[32], f[32];
    corpus c;
    kl_rc rc;

    memset(r, 0, sizeof(*r));
    printf("ima: generating %zu entries...\n", n);
    fflush(stdout);
    rc = corpus_make(&c, n);
    if (rc == KL_OK)
        rc = kl_hasher_new(&h);
    if (rc == KL_OK)
        rc = kl_hasher_new(&h1);
    if (rc == KL_OK)
        rc = kl_hasher_new(&h256);
    if (rc == KL_OK) {
        bench_watch w;

        bench_watch_start(&w);
        rc = kl_runtime_policy_load(&p, kl_buf_bytes(&c.policy), NULL);
        r->load_s = bench_watch_stop(&w);
    }
    r->n = n;
    r->runs = runs;
    r->log_mb = (double)c.log.len / 1e6;
    r->mean_path = (double)(c.names.len - c.name_off[1]) / (double)(n - 1);
    printf("ima: log %.1f MB (%.1f bytes/line), mean path %.1f bytes, template data %.1f bytes, "
           "policy %.1f MB loaded in %.3f s\n",
           r->log_mb, (double)c.log.len / (double)n, r->mean_path, (double)c.tdata.len / (double)n,
           (double)c.policy.len / 1e6, r->load_s);
    /* warm-up (page faults, OpenSSL's lazy set-up), not timed */
    if (rc == KL_OK)
        rc = run_floor(&c, h, &s);
    if (rc == KL_OK)
        rc = run_eval(&c, p, &s);
    bench_oncpu_share();
    for (size_t i = 0; rc == KL_OK && i < runs; i++) {
        rc = run_floor(&c, h, &t_floor[i]);
        if (rc == KL_OK)
            rc = run_eval(&c, p, &t_eval[i]);
        if (rc == KL_OK)
            rc = run_eval(&c, NULL, &t_nopol[i]);
        if (rc == KL_OK)
            rc = run_floor_per_alg(&c, h1, h256, &t_floor2[i]);
        if (rc != KL_OK)
            break;
        ratio[i] = t_floor[i] / t_eval[i];
        printf("  run %zu: floor %s/s  eval %s/s  no policy %s/s  eval/floor %.2f  "
               "(floor, a hasher per algorithm: %s/s)\n",
               i + 1, bench_si(a, sizeof(a), rate(n, t_floor[i])),
               bench_si(b, sizeof(b), rate(n, t_eval[i])),
               bench_si(d, sizeof(d), rate(n, t_nopol[i])), ratio[i],
               bench_si(f, sizeof(f), rate(n, t_floor2[i])));
        fflush(stdout);
    }
    if (rc == KL_OK) {
        r->floor_rate = rate(n, bench_median(t_floor, runs));
        r->eval_rate = rate(n, bench_median(t_eval, runs));
        r->nopol_rate = rate(n, bench_median(t_nopol, runs));
        r->ratio = bench_median(ratio, runs);
        r->floor2_rate = rate(n, bench_median(t_floor2, runs));
        r->oncpu = bench_oncpu_share();
        printf("ima %zu entries, median of %zu: floor %.0f entries/s (%.0f ns/entry), eval %.0f "
               "entries/s (%.0f ns/entry), no policy %.0f entries/s, eval/floor %.2f (ratio of "
               "medians %.2f), target >= 0.50: %s\n",
               n, runs, r->floor_rate, 1e9 / r->floor_rate, r->eval_rate, 1e9 / r->eval_rate,
               r->nopol_rate, r->ratio, r->eval_rate / r->floor_rate,
               r->ratio >= 0.5 ? "met" : "NOT MET");
        printf("ima %zu entries: floor with one kl_hasher per algorithm %.0f entries/s (%.0f "
               "ns/entry); on CPU %.0f%% of the wall time\n",
               n, r->floor2_rate, 1e9 / r->floor2_rate, 100 * r->oncpu);
    }
    kl_runtime_policy_free(p);
    kl_hasher_free(h);
    kl_hasher_free(h1);
    kl_hasher_free(h256);
    corpus_free(&c);
    return rc;
}

/* Only the evaluation, for profilers: generation is the rest of the
 * profile and easy to filter out (everything under kl_ima_eval). */
static kl_rc
profile_eval(size_t n, size_t runs)
{
    kl_runtime_policy *p = NULL;
    corpus c;
    double s;
    kl_rc rc;

    rc = corpus_make(&c, n);
    if (rc == KL_OK)
        rc = kl_runtime_policy_load(&p, kl_buf_bytes(&c.policy), NULL);
    for (size_t i = 0; rc == KL_OK && i < runs; i++) {
        rc = run_eval(&c, p, &s);
        if (rc == KL_OK)
            printf("profile: eval of %zu entries: %.3f s, %.0f entries/s\n", n, s, rate(n, s));
    }
    kl_runtime_policy_free(p);
    corpus_free(&c);
    return rc;
}

static void
print_rows(const ima_result *r, size_t n)
{
    char a[32], f[32], e[32], np[32];

    if (n == 0)
        return;
    printf("\n| IMA list (ima-ng, sha256 bank) | runs | hash floor (entries/s) | kl_ima_eval "
           "(entries/s) | eval / floor (target >= 0.50) | eval, no policy (entries/s) | on "
           "CPU |\n");
    printf("|---|---:|---:|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < n; i++)
        printf("| %s entries | %zu | %s | %s | %.2f%s | %s | %.0f%% |\n",
               bench_grouped(a, sizeof(a), (double)r[i].n), r[i].runs,
               bench_grouped(f, sizeof(f), r[i].floor_rate),
               bench_grouped(e, sizeof(e), r[i].eval_rate), r[i].ratio,
               r[i].ratio >= 0.5 ? "" : " (not met)",
               bench_grouped(np, sizeof(np), r[i].nopol_rate), 100 * r[i].oncpu);
}

int
main(int argc, char **argv)
{
    long small = 10000, large = 1000000, runs_small = 11, runs_large = 3, profile = 0, v;
    ima_result res[2];
    size_t nres = 0;
    kl_rc rc = KL_OK;

    for (int i = 1; i < argc; i++) {
        if ((v = bench_arg_long(argv[i], "--small")) >= 0)
            small = v;
        else if ((v = bench_arg_long(argv[i], "--large")) >= 0)
            large = v;
        else if ((v = bench_arg_long(argv[i], "--runs-small")) >= 1)
            runs_small = v;
        else if ((v = bench_arg_long(argv[i], "--runs-large")) >= 1)
            runs_large = v;
        else if ((v = bench_arg_long(argv[i], "--profile")) >= 2)
            profile = v;
        else {
            fprintf(stderr,
                    "usage: %s [--small=N] [--large=N] [--runs-small=N] [--runs-large=N]\n"
                    "       (N=0 skips a size)\n"
                    "       %s --profile=N [--runs-large=R]\n",
                    argv[0], argv[0]);
            return 2;
        }
    }
    if (runs_small > MAX_RUNS || runs_large > MAX_RUNS) {
        fprintf(stderr, "at most %d runs\n", MAX_RUNS);
        return 2;
    }
    if (profile)
        small = large = 0;
    if (profile)
        rc = profile_eval((size_t)profile, (size_t)runs_large);
    if (small > 1)
        rc = bench_size((size_t)small, (size_t)runs_small, &res[nres++]);
    if (rc == KL_OK && large > 1)
        rc = bench_size((size_t)large, (size_t)runs_large, &res[nres++]);
    if (rc != KL_OK) {
        fprintf(stderr, "bench_ima: %s: %s\n", kl_rc_str(rc), kl_err_msg());
        return 1;
    }
    print_rows(res, nres);
    return 0;
}
