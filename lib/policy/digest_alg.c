#include "policy/digest_alg.h"

#include <stdio.h>
#include <string.h>

/* Upstream's algorithms.Hash, in its order (the length guess takes the
 * first match). */
static const kl_hash_alg known[] = {KL_HASH_SHA1, KL_HASH_SHA256, KL_HASH_SHA384, KL_HASH_SHA512,
                                    KL_HASH_SM3_256};
#define NKNOWN (sizeof(known) / sizeof(known[0]))

static const kl_digest_alg invalid = {KL_DIGEST_ALG_INVALID, KL_HASH_SHA1};

const char *
kl_digest_alg_name(kl_digest_alg a)
{
    switch (a.kind) {
    case KL_DIGEST_ALG_UNSET: return "";
    case KL_DIGEST_ALG_INVALID: return "invalid";
    case KL_DIGEST_ALG_AMBIGUOUS: return "sha256_or_sm3_256";
    default: return kl_hash_name(a.alg);
    }
}

/* len() of a Python string holding UTF-8 text. */
static size_t
chars(kl_bytes s)
{
    size_t n = 0;

    for (size_t i = 0; i < s.len; i++)
        n += (s.ptr[i] & 0xc0) != 0x80;
    return n;
}

kl_digest_alg
kl_digest_alg_from_hex(kl_bytes hex, bool ambiguous)
{
    size_t len = chars(hex);

    for (size_t i = 0; i < NKNOWN; i++) {
        if (len != 2 * kl_hash_size(known[i]))
            continue;
        if (ambiguous && known[i] == KL_HASH_SHA256)
            return (kl_digest_alg){KL_DIGEST_ALG_AMBIGUOUS, KL_HASH_SHA256};
        return (kl_digest_alg){KL_DIGEST_ALG_KNOWN, known[i]};
    }
    return invalid;
}

/* The n-th piece of line.split(" "), or false. */
static bool
piece(kl_bytes line, size_t n, kl_bytes *out)
{
    size_t start = 0, k = 0;

    for (size_t i = 0; i <= line.len; i++) {
        if (i < line.len && line.ptr[i] != ' ')
            continue;
        if (k++ == n) {
            *out = KL_BYTES(line.ptr + start, i - start);
            return true;
        }
        start = i + 1;
    }
    return false;
}

kl_digest_alg
kl_digest_alg_from_ima_list(kl_bytes text)
{
    kl_bytes line = text, tmpl, col, path, csum;
    const uint8_t *colon, *colon2 = NULL;
    kl_hash_alg alg;

    for (size_t i = 0; i < text.len; i++) {
        if (text.ptr[i] == '\n' || text.ptr[i] == '\r') {
            line.len = i;
            break;
        }
    }
    if (!piece(line, 4, &path) || !piece(line, 2, &tmpl) || !piece(line, 3, &col))
        return invalid;
    if (!kl_bytes_eq_str(tmpl, "ima-sig") && !kl_bytes_eq_str(tmpl, "ima-ng") &&
        !kl_bytes_eq_str(tmpl, "ima"))
        return invalid;
    if (!kl_bytes_eq_str(path, "boot_aggregate"))
        return invalid;
    colon = col.len ? memchr(col.ptr, ':', col.len) : NULL;
    if (colon)
        colon2 = memchr(colon + 1, ':', (size_t)(col.ptr + col.len - colon - 1));
    if (colon && !colon2) {
        /* "<alg>:<hex>": a known name and a digest of its length */
        csum = KL_BYTES(colon + 1, (size_t)(col.ptr + col.len - colon - 1));
        if (!kl_hash_from_name(KL_BYTES(col.ptr, (size_t)(colon - col.ptr)), &alg) ||
            alg > KL_HASH_SM3_256 || chars(csum) != 2 * kl_hash_size(alg))
            return invalid;
        return (kl_digest_alg){KL_DIGEST_ALG_KNOWN, alg};
    }
    /* the old "ima" template: guess from the length of the first part */
    csum = KL_BYTES(col.ptr, colon ? (size_t)(colon - col.ptr) : col.len);
    return kl_digest_alg_from_hex(csum, false);
}

static bool
same(kl_digest_alg a, kl_digest_alg b)
{
    return a.kind == b.kind && (a.kind != KL_DIGEST_ALG_KNOWN || a.alg == b.alg);
}

static bool
is_256(kl_digest_alg a)
{
    return a.kind == KL_DIGEST_ALG_KNOWN && (a.alg == KL_HASH_SHA256 || a.alg == KL_HASH_SM3_256);
}

static void
problem(kl_buf *why, const char *fmt, const char *a, const char *b)
{
    if (why->len && kl_buf_append_str(why, "; ") != KL_OK)
        return;
    if (kl_buf_printf(why, fmt, a, b) != KL_OK)
        return; /* the message is only cut short */
}

kl_rc
kl_digest_alg_choose(const kl_digest_alg_source *src, size_t n, kl_digest_alg *out,
                     kl_policy_note_fn note, void *payload)
{
    kl_digest_alg algo = {KL_DIGEST_ALG_UNSET, KL_HASH_SHA1};
    bool abort = false;
    kl_buf why;
    kl_rc rc = KL_OK;

    kl_buf_init(&why, 4096);
    for (size_t i = 0; i < n; i++) {
        kl_digest_alg a = src[i].alg;

        if (a.kind == KL_DIGEST_ALG_INVALID) {
            problem(&why, "Invalid digest algorithm found in the %s%s", src[i].source, "");
            abort = true;
            continue;
        }
        if (a.kind == KL_DIGEST_ALG_UNSET)
            continue;
        if (algo.kind == KL_DIGEST_ALG_UNSET) {
            algo = a;
            if (a.kind == KL_DIGEST_ALG_KNOWN && !abort)
                kl_policy_doc_note(note, payload, KL_LOG_DEBUG,
                                   "Using digest algorithm '%s' obtained from the %s",
                                   kl_digest_alg_name(a), src[i].source);
            continue;
        }
        if (same(a, algo))
            continue;
        if (algo.kind == KL_DIGEST_ALG_AMBIGUOUS && is_256(a)) {
            algo = a;
            kl_policy_doc_note(note, payload, KL_LOG_DEBUG,
                               "Using digest algorithm '%s' obtained from the %s",
                               kl_digest_alg_name(a), src[i].source);
            continue;
        }
        if (a.kind == KL_DIGEST_ALG_AMBIGUOUS && is_256(algo))
            continue; /* upstream aborts here; the digests do agree */
        problem(&why,
                "The digest algorithm in the %s does not match the previously set '%s' "
                "algorithm",
                src[i].source, kl_digest_alg_name(algo));
        abort = true;
    }
    if (abort)
        rc = kl_err_set(KL_EINVAL, "%.*s", (int)why.len, why.ptr ? (const char *)why.ptr : "");
    kl_buf_free(&why);
    *out = abort ? invalid : algo;
    return rc;
}
