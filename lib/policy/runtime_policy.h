/* runtime_policy: a Keylime runtime policy (format version 1), loaded,
 * validated and indexed once, then shared read-only.
 *
 *   {"meta": {"version": 1, "generator": 0..3, "timestamp": "..."},
 *    "release": 0, "digests": {path: [hex...]}, "excludes": [regex...],
 *    "keyrings": {name: [hex...]},
 *    "ima": {"ignored_keyrings": [...], "log_hash_alg": "sha1", "dm_policy": null},
 *    "ima-buf": {name: [hex...]}, "verification-keys": "<keyring JSON or empty>"}
 *
 * Validation follows upstream's JSON schema (all eight keys required,
 * digests of 40-128 lowercase hex digits, at least one per name, ...) and
 * every failure names the key and what is wrong. The text may also be a
 * DSSE envelope around such a policy (see dsse.h).
 */
#ifndef KL_RUNTIME_POLICY_H
#define KL_RUNTIME_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/hash.h"
#include "crypto/pubkey.h"
#include "ima/ima_keyring.h"
#include "policy/digest_map.h"
#include "policy/excludes.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"

typedef struct kl_runtime_policy kl_runtime_policy;

typedef enum {
    KL_POLICY_DIGESTS = 0, /* "digests": file paths */
    KL_POLICY_KEYRINGS,    /* "keyrings": keys measured into keyrings (ima-buf) */
    KL_POLICY_IMA_BUF,     /* "ima-buf": other measured buffers */
    KL_POLICY_NMAPS
} kl_policy_map_id;

/* Whether and how a DSSE signature was checked. */
typedef enum {
    KL_POLICY_UNSIGNED = 0,   /* a plain policy */
    KL_POLICY_SIG_VERIFIED,   /* envelope verified with the given key or its x509 keyids */
    KL_POLICY_SIG_UNCHECKED,  /* envelope accepted without a key to check it */
} kl_policy_sig_state;

typedef struct {
    /* Enforce upstream's schema (required keys). Off only to evaluate
     * upstream's own test policies, which omit keys. */
    bool schema;
    /* ECDSA public key for a DSSE envelope; NULL: use x509 keyids when the
     * envelope carries them, else accept it unchecked (upstream's default,
     * require_allow_list_signatures = False). */
    const kl_pubkey *dsse_key;
    /* Refuse an envelope that cannot be checked and a plain policy. */
    bool require_signature;
} kl_runtime_policy_opts;

#define KL_RUNTIME_POLICY_OPTS_INIT {true, NULL, false}

/* Loads a policy from JSON text (or a DSSE envelope). Caller frees with
 * kl_runtime_policy_free. KL_EPARSE for invalid JSON or schema violations,
 * KL_EVERIFY for a bad signature, KL_ETOOBIG past a size cap (a 4 GiB
 * index, a 4 KiB payloadType), KL_ENOMEM. */
KL_MUST_CHECK kl_rc kl_runtime_policy_load(kl_runtime_policy **out, kl_bytes text,
                                           const kl_runtime_policy_opts *opts);
void kl_runtime_policy_free(kl_runtime_policy *p);

/* Upstream's EMPTY_RUNTIME_POLICY (generator 1, sha1, nothing allowed). */
KL_MUST_CHECK kl_rc kl_runtime_policy_empty(kl_runtime_policy **out);

const kl_digest_map *kl_runtime_policy_map(const kl_runtime_policy *p, kl_policy_map_id id);
/* NULL when the policy has no excludes. */
const kl_excludes *kl_runtime_policy_excludes(const kl_runtime_policy *p);
kl_hash_alg kl_runtime_policy_log_hash_alg(const kl_runtime_policy *p);
/* Whether keys measured into this keyring are ignored ("*" ignores all). */
bool kl_runtime_policy_keyring_ignored(const kl_runtime_policy *p, kl_bytes name);
/* The tenant keyring parsed from "verification-keys"; NULL when empty. */
const kl_ima_keyrings *kl_runtime_policy_keys(const kl_runtime_policy *p);
int kl_runtime_policy_generator(const kl_runtime_policy *p);
kl_policy_sig_state kl_runtime_policy_sig_state(const kl_runtime_policy *p);
/* sha256 of the text as given (what the verifier stores as checksum). */
const uint8_t *kl_runtime_policy_checksum(const kl_runtime_policy *p);
/* Bytes of memory the loaded policy holds. */
size_t kl_runtime_policy_memory(const kl_runtime_policy *p);

#endif
