/* bench_quote: quote verifications per second against raw OpenSSL
 * signature checks of the same signatures, measured in the same run.
 *
 * For an RSA-2048 AK (RSASSA/SHA-256) and an ECC P-256 AK (ECDSA/SHA-256),
 * a real TPMS_ATTEST over sha256 PCRs 10, 15 and 16 is signed in software
 * (as TPM2_Quote signs it) into a quote string; the AK is parsed once
 * (kl_tpm_public, as the verifier caches it). Then, interleaved so that
 * machine noise hits all of them alike:
 *   raw      EVP_PKEY_verify of the same prehashed digest and signature
 *            with the same key, a context set up per verification
 *            (EVP_PKEY_CTX_new, verify_init, the padding and digest);
 *   raw-ctx  the same with one context made once and reused: OpenSSL's
 *            floor for this key and signature;
 *   verify   kl_quote_verify on a quote parsed once (signature over
 *            H(attest), scheme and hash, nonce, selection, PCR digest);
 *   full     kl_quote_parse of the string, then kl_quote_verify: what the
 *            verifier does per quote.
 * Figures are medians of thread CPU time (see bench_watch); ratios are
 * medians of per-run ratios. Rows starting with '|' are the Markdown
 * summary (bench/run.sh).
 *
 *   bench_quote [--runs=N] [--n=N]   N verifications per measurement
 */
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#include "../tests/tpm_build.h"
#include "bench_common.h"
#include "util/kl_alloc.h"

#define MAX_RUNS 64
#define NONCE "AbCdEfGhIj0123456789"

typedef struct {
    const char *label;
    kl_privkey *key;
    kl_tpm_public *ak;
    tb_quote q;
    kl_quote *parsed;
    EVP_PKEY *pkey;     /* the AK for the raw checks */
    uint8_t digest[32]; /* sha256 of the attest */
    uint8_t sig[512];   /* the signature as OpenSSL takes it (DER for ECDSA) */
    size_t sig_len;
    bool ecc;
} subject;

/* The signature of the quote in OpenSSL's form. */
static kl_rc
raw_signature(subject *s)
{
    const TPMT_SIGNATURE *t = kl_quote_tpmt_signature(s->parsed);
    unsigned char *p = s->sig;
    ECDSA_SIG *es;
    int len;

    if (!s->ecc) {
        s->sig_len = t->signature.rsassa.sig.size;
        memcpy(s->sig, t->signature.rsassa.sig.buffer, s->sig_len);
        return KL_OK;
    }
    es = ECDSA_SIG_new();
    if (!es || !ECDSA_SIG_set0(es,
                               BN_bin2bn(t->signature.ecdsa.signatureR.buffer,
                                         t->signature.ecdsa.signatureR.size, NULL),
                               BN_bin2bn(t->signature.ecdsa.signatureS.buffer,
                                         t->signature.ecdsa.signatureS.size, NULL)) ||
        (len = i2d_ECDSA_SIG(es, &p)) <= 0) {
        ECDSA_SIG_free(es);
        return kl_err_set(KL_ECRYPTO, "encoding the ECDSA signature");
    }
    s->sig_len = (size_t)len;
    ECDSA_SIG_free(es);
    return KL_OK;
}

static kl_rc
subject_make(subject *s, const char *label, bool ecc)
{
    tb_quote_spec spec;
    TPMT_PUBLIC t;
    kl_buf der;
    const unsigned char *p;
    kl_rc rc;

    memset(s, 0, sizeof(*s));
    s->label = label;
    s->ecc = ecc;
    tb_quote_init(&s->q);
    rc = ecc ? kl_privkey_generate_ec(&s->key, KL_EC_P256)
             : kl_privkey_generate_rsa(&s->key, 2048);
    tb_ak_template(&t, ecc, KL_HASH_SHA256, ecc ? TPM2_ALG_ECDSA : TPM2_ALG_RSASSA);
    if (rc == KL_OK)
        rc = tb_public(&s->ak, s->key, &t);
    memset(&spec, 0, sizeof(spec));
    spec.hash = KL_HASH_SHA256;
    spec.scheme = ecc ? KL_SIG_ECDSA : KL_SIG_RSASSA;
    spec.nonce = KL_BYTES_STR(NONCE);
    spec.clock = (kl_tpm_clock){30480, 2, 0, 1};
    tb_pcrs(&spec.pcrs, KL_HASH_SHA256, 1u << 10 | 1u << 15 | 1u << 16);
    if (rc == KL_OK)
        rc = tb_quote_make(&s->q, s->key, &spec);
    if (rc == KL_OK)
        rc = kl_quote_parse(&s->parsed, kl_buf_bytes(&s->q.text));
    if (rc == KL_OK)
        rc = kl_hash(KL_HASH_SHA256, s->q.attest.ptr, s->q.attest.len, s->digest);
    if (rc == KL_OK)
        rc = raw_signature(s);
    kl_buf_init(&der, 1 << 16);
    if (rc == KL_OK)
        rc = kl_pubkey_spki_der(kl_tpm_public_key(s->ak), &der);
    p = der.ptr;
    if (rc == KL_OK && !(s->pkey = d2i_PUBKEY(NULL, &p, (long)der.len)))
        rc = kl_err_set(KL_ECRYPTO, "decoding the AK");
    kl_buf_free(&der);
    return rc;
}

static void
subject_free(subject *s)
{
    kl_privkey_free(s->key);
    kl_tpm_public_free(s->ak);
    kl_quote_free(s->parsed);
    tb_quote_free(&s->q);
    EVP_PKEY_free(s->pkey);
}

static bool
ctx_setup(EVP_PKEY_CTX *ctx, bool ecc)
{
    return EVP_PKEY_verify_init(ctx) > 0 && EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) > 0 &&
           (ecc || EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0);
}

static kl_rc
run_raw(subject *s, size_t n, bool reuse, double *secs)
{
    EVP_PKEY_CTX *shared = NULL;
    bench_watch w;
    size_t ok = 0;

    bench_watch_start(&w);
    if (reuse) {
        shared = EVP_PKEY_CTX_new(s->pkey, NULL);
        if (!shared || !ctx_setup(shared, s->ecc))
            return kl_err_set(KL_ECRYPTO, "raw context");
    }
    for (size_t i = 0; i < n; i++) {
        EVP_PKEY_CTX *ctx = shared ? shared : EVP_PKEY_CTX_new(s->pkey, NULL);

        if (!ctx || (!shared && !ctx_setup(ctx, s->ecc)))
            return kl_err_set(KL_ECRYPTO, "raw context");
        ok += EVP_PKEY_verify(ctx, s->sig, s->sig_len, s->digest, 32) == 1;
        if (!shared)
            EVP_PKEY_CTX_free(ctx);
    }
    EVP_PKEY_CTX_free(shared);
    *secs = bench_watch_stop(&w);
    return ok == n ? KL_OK : kl_err_set(KL_ECRYPTO, "raw verification failed");
}

static kl_rc
run_ours(subject *s, size_t n, bool full, double *secs)
{
    bench_watch w;
    size_t ok = 0;
    kl_rc rc = KL_OK;

    bench_watch_start(&w);
    for (size_t i = 0; rc == KL_OK && i < n; i++) {
        kl_verdict v = KL_VERDICT_INIT;
        kl_quote *q = s->parsed;
        kl_pcr_set pcrs;

        if (full)
            rc = kl_quote_parse(&q, kl_buf_bytes(&s->q.text));
        if (rc == KL_OK)
            rc = kl_quote_verify(&v, &pcrs, q, s->ak, KL_BYTES_STR(NONCE), KL_HASH_SHA256);
        ok += rc == KL_OK && v.count == 0;
        kl_verdict_free(&v);
        if (full)
            kl_quote_free(q);
    }
    *secs = bench_watch_stop(&w);
    if (rc == KL_OK && ok != n)
        rc = kl_err_set(KL_EVERIFY, "the quote did not verify");
    return rc;
}

typedef struct {
    double raw, raw_ctx, verify, full; /* verifications/s, medians */
    double r_verify, r_full, r_verify_ctx, r_full_ctx; /* medians of per-run ratios */
    double oncpu;
    size_t runs, n;
} result;

static double
rate(size_t n, double s)
{
    return s > 0 ? (double)n / s : 0;
}

static kl_rc
measure(subject *s, size_t n, size_t runs, result *r)
{
    double t[4][MAX_RUNS], ratio[4][MAX_RUNS];
    kl_rc rc;

    /* warm-up, not timed */
    rc = run_raw(s, n / 10 + 1, false, &t[0][0]);
    if (rc == KL_OK)
        rc = run_ours(s, n / 10 + 1, true, &t[0][0]);
    bench_oncpu_share();
    for (size_t i = 0; rc == KL_OK && i < runs; i++) {
        rc = run_raw(s, n, false, &t[0][i]);
        if (rc == KL_OK)
            rc = run_ours(s, n, false, &t[2][i]);
        if (rc == KL_OK)
            rc = run_raw(s, n, true, &t[1][i]);
        if (rc == KL_OK)
            rc = run_ours(s, n, true, &t[3][i]);
        if (rc != KL_OK)
            break;
        ratio[0][i] = t[0][i] / t[2][i];
        ratio[1][i] = t[0][i] / t[3][i];
        ratio[2][i] = t[1][i] / t[2][i];
        ratio[3][i] = t[1][i] / t[3][i];
        printf("  %s run %zu: raw %.0f/s  raw-ctx %.0f/s  verify %.0f/s  full %.0f/s\n",
               s->label, i, rate(n, t[0][i]), rate(n, t[1][i]), rate(n, t[2][i]),
               rate(n, t[3][i]));
    }
    if (rc != KL_OK)
        return rc;
    r->runs = runs;
    r->n = n;
    r->raw = rate(n, bench_median(t[0], runs));
    r->raw_ctx = rate(n, bench_median(t[1], runs));
    r->verify = rate(n, bench_median(t[2], runs));
    r->full = rate(n, bench_median(t[3], runs));
    r->r_verify = bench_median(ratio[0], runs);
    r->r_full = bench_median(ratio[1], runs);
    r->r_verify_ctx = bench_median(ratio[2], runs);
    r->r_full_ctx = bench_median(ratio[3], runs);
    r->oncpu = bench_oncpu_share();
    return KL_OK;
}

int
main(int argc, char **argv)
{
    long runs = 7, n = 2000, v;
    subject subj[2];
    result res[2];
    kl_rc rc = KL_OK;
    size_t made = 0;

    for (int i = 1; i < argc; i++) {
        if ((v = bench_arg_long(argv[i], "--runs")) > 0 && v <= MAX_RUNS) {
            runs = v;
        } else if ((v = bench_arg_long(argv[i], "--n")) > 0) {
            n = v;
        } else {
            fprintf(stderr, "usage: %s [--runs=N (<= %d)] [--n=N]\n", argv[0], MAX_RUNS);
            return 2;
        }
    }
    rc = subject_make(&subj[0], "RSA-2048", false);
    if (rc == KL_OK && ++made)
        rc = subject_make(&subj[1], "ECC P-256", true);
    if (rc == KL_OK)
        made++;
    for (size_t i = 0; rc == KL_OK && i < 2; i++) {
        printf("quote: %s AK, quote string %zu bytes, %ld x %ld verifications\n", subj[i].label,
               subj[i].q.text.len, runs, n);
        rc = measure(&subj[i], (size_t)n, (size_t)runs, &res[i]);
    }
    if (rc != KL_OK) {
        fprintf(stderr, "bench_quote: %s: %s\n", kl_rc_str(rc), kl_err_msg());
        for (size_t i = 0; i < made; i++)
            subject_free(&subj[i]);
        return 1;
    }
    printf("\n| Quote (sha256, PCRs 10, 15, 16) | runs | raw OpenSSL verify (/s) | raw, context "
           "reused (/s) | kl_quote_verify (/s) | parse + verify (/s) | verify / raw | "
           "parse + verify / raw | verify / raw reused | on CPU |\n");
    printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < 2; i++) {
        const result *r = &res[i];
        char a[32], b[32], c[32], d[32];

        printf("| %s AK | %zu x %zu | %s | %s | %s | %s | %.0f%% | %.0f%% | %.0f%% | %.0f%% |\n",
               subj[i].label, r->runs, r->n, bench_grouped(a, sizeof(a), r->raw),
               bench_grouped(b, sizeof(b), r->raw_ctx), bench_grouped(c, sizeof(c), r->verify),
               bench_grouped(d, sizeof(d), r->full), 100 * r->r_verify, 100 * r->r_full,
               100 * r->r_verify_ctx, 100 * r->oncpu);
    }
    for (size_t i = 0; i < 2; i++) {
        printf("quote %s: parse + verify at %.0f%% of raw OpenSSL verification (target >= 80%%): "
               "%s\n",
               subj[i].label, 100 * res[i].r_full, res[i].r_full >= 0.8 ? "met" : "NOT met");
        subject_free(&subj[i]);
    }
    return 0;
}
