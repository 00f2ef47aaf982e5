/* uvstore: the agent's store of received bootstrap key shares
 * (PROTOCOL.md section 5.3).
 *
 * U shares arrive by POST /keys/ukey (with an auth_tag and maybe an
 * encrypted payload), V shares by POST /keys/vkey, in any order and
 * possibly several times. After every new share each (U, V) pair is tried:
 * K = U xor V is accepted when HMAC-SHA384(K, uuid) equals that U's
 * auth_tag. Then both lists are cleared (secrets wiped) and K and the U's
 * payload are kept until the next successful combination replaces them.
 * Each list holds at most KL_UVSTORE_MAX entries; adding to a full list
 * drops (and wipes) its oldest entry. Not thread-safe.
 */
#ifndef KL_UVSTORE_H
#define KL_UVSTORE_H

#include "util/kl_buf.h"
#include "util/kl_err.h"

#include <stdbool.h>

#define KL_UVSTORE_MAX 64

typedef struct kl_uvstore kl_uvstore;

/* A store for the agent with this uuid (copied). Caller frees with
 * kl_uvstore_free. KL_EINVAL for a NULL uuid. */
KL_MUST_CHECK kl_rc kl_uvstore_new(kl_uvstore **out, const char *uuid);
/* Wipes every secret and frees; NULL does nothing. */
void kl_uvstore_free(kl_uvstore *s);

/* Adds a decrypted U (16 or 32 bytes) with its auth_tag (96 hex digits,
 * either case) and payload (the base64 ciphertext text as received; empty
 * for none), all copied. KL_EPARSE (nothing stored) for a U of another
 * length, a bad auth_tag, or a payload that is not strict base64.
 * *combined is true when this U completed a pair. */
KL_MUST_CHECK kl_rc kl_uvstore_add_u(kl_uvstore *s, kl_bytes u, kl_bytes auth_tag, kl_bytes payload,
                                     bool *combined);
/* Adds a decrypted V (16 or 32 bytes); as kl_uvstore_add_u. */
KL_MUST_CHECK kl_rc kl_uvstore_add_v(kl_uvstore *s, kl_bytes v, bool *combined);

/* After a combination: K (borrowed until the next successful combination
 * or kl_uvstore_free); before,
 * {NULL, 0}. */
kl_bytes kl_uvstore_key(const kl_uvstore *s);
/* The accepted U's payload text (borrowed as K); {NULL, 0} when it had none. */
kl_bytes kl_uvstore_payload(const kl_uvstore *s);

/* Numbers of stored U and V shares (for tests and status). */
size_t kl_uvstore_count_u(const kl_uvstore *s);
size_t kl_uvstore_count_v(const kl_uvstore *s);

#endif
