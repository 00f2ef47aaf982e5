/* digest_alg: which file-digest algorithm a generated runtime policy uses.
 *
 * Upstream's generator guesses the algorithm of each input and insists
 * that they agree, in this priority order: --algo, base policy, allowlist,
 * IMA measurement list. Policies and allowlists carry bare hex digests, so
 * their algorithm is guessed from the length, and a 64-digit digest could
 * be sha256 or sm3_256 ("ambiguous"); the IMA list names the algorithm of
 * its boot_aggregate line. An ambiguous source is resolved by a later
 * sha256 or sm3_256 source. Unlike upstream, an ambiguous source after an
 * explicit sha256 or sm3_256 choice (e.g. --algo sha256 with a sha256 base
 * policy) is accepted instead of aborting.
 */
#ifndef KL_DIGEST_ALG_H
#define KL_DIGEST_ALG_H

#include "crypto/hash.h"
#include "policy/policy_doc.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"

#include <stddef.h>

typedef enum {
    KL_DIGEST_ALG_UNSET = 0, /* the source was not given */
    KL_DIGEST_ALG_INVALID,   /* no algorithm could be identified */
    KL_DIGEST_ALG_AMBIGUOUS, /* sha256 or sm3_256 */
    KL_DIGEST_ALG_KNOWN,
} kl_digest_alg_kind;

typedef struct {
    kl_digest_alg_kind kind;
    kl_hash_alg alg; /* when KNOWN: sha1, sha256, sha384, sha512 or sm3_256 */
} kl_digest_alg;

typedef struct {
    kl_digest_alg alg;
    const char *source; /* "--algo option", "base policy", ... */
} kl_digest_alg_source;

/* Upstream's name: "sha1".."sm3_256", "sha256_or_sm3_256", "invalid", "". */
const char *kl_digest_alg_name(kl_digest_alg a);

/* The algorithm a hex digest's length (in characters) suggests. With
 * ambiguous, 64 digits give AMBIGUOUS, else sha256. */
kl_digest_alg kl_digest_alg_from_hex(kl_bytes hex, bool ambiguous);

/* The algorithm of the boot_aggregate entry on the first line of an ASCII
 * IMA list (ima, ima-ng or ima-sig template); INVALID when the first line
 * is not such an entry or names no known algorithm of the right length. */
kl_digest_alg kl_digest_alg_from_ima_list(kl_bytes text);

/* Applies the priority and agreement rules to n sources (in priority
 * order). *out is UNSET when no source was given; *from is the index of the
 * source it came from. Emits upstream's debug messages through note.
 * KL_EINVAL with every disagreement in the message when the sources do not
 * agree or one is INVALID. */
KL_MUST_CHECK kl_rc kl_digest_alg_choose(const kl_digest_alg_source *src, size_t n,
                                         kl_digest_alg *out, kl_policy_note_fn note, void *payload);

#endif
