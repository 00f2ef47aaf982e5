/* hash: the hash algorithms Keylime uses, fetched from OpenSSL once.
 *
 * kl_hasher wraps one reusable digest context, so hot loops (IMA replay)
 * hash without allocating. A kl_hasher is not thread-safe; use one per
 * thread.
 */
#ifndef KL_HASH_H
#define KL_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/kl_buf.h"
#include "util/kl_err.h"

typedef enum {
    KL_HASH_SHA1 = 0,
    KL_HASH_SHA256,
    KL_HASH_SHA384,
    KL_HASH_SHA512,
    KL_HASH_SM3_256,
    KL_HASH_SHA224,
    KL_HASH_MD5,
    KL_HASH_COUNT
} kl_hash_alg;

#define KL_HASH_MAX_SIZE 64

/* Digest size in bytes. */
size_t kl_hash_size(kl_hash_alg alg);
/* Keylime's name: "sha1", "sha256", "sha384", "sha512", "sm3_256", "sha224", "md5". */
const char *kl_hash_name(kl_hash_alg alg);
/* Parses a Keylime name; false when unknown. */
bool kl_hash_from_name(kl_bytes name, kl_hash_alg *out);
/* The algorithm whose digest has this many bytes among sha1/256/384/512. */
bool kl_hash_from_size(size_t size, kl_hash_alg *out);

typedef struct kl_hasher kl_hasher;

/* Caller frees with kl_hasher_free. */
KL_MUST_CHECK kl_rc kl_hasher_new(kl_hasher **out);
void kl_hasher_free(kl_hasher *h);

/* out receives kl_hash_size(alg) bytes. */
KL_MUST_CHECK kl_rc kl_hasher_digest(kl_hasher *h, kl_hash_alg alg, const void *p, size_t n,
                                     uint8_t *out);
/* Digest of a || b (a PCR extend). */
KL_MUST_CHECK kl_rc kl_hasher_digest2(kl_hasher *h, kl_hash_alg alg, const void *a, size_t an,
                                      const void *b, size_t bn, uint8_t *out);
KL_MUST_CHECK kl_rc kl_hasher_start(kl_hasher *h, kl_hash_alg alg);
KL_MUST_CHECK kl_rc kl_hasher_update(kl_hasher *h, const void *p, size_t n);
KL_MUST_CHECK kl_rc kl_hasher_finish(kl_hasher *h, uint8_t *out);

/* One-shot convenience (allocates a context). */
KL_MUST_CHECK kl_rc kl_hash(kl_hash_alg alg, const void *p, size_t n, uint8_t *out);

/* Digest of a file's contents, read in chunks. */
KL_MUST_CHECK kl_rc kl_hash_file(kl_hash_alg alg, const char *path, uint8_t *out);

#endif
