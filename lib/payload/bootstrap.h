/* bootstrap: Keylime's bootstrap key K and its two shares U and V
 * (PROTOCOL.md section 5).
 *
 * The tenant draws K and V, sends U = K xor V to the agent (with an
 * auth_tag = HMAC-SHA384(K, agent uuid)) and V through the verifier; the
 * agent recombines K and checks the tag. /keys/verify answers a challenge
 * with HMAC-SHA384(K, challenge). All HMACs are lowercase hex.
 */
#ifndef KL_BOOTSTRAP_H
#define KL_BOOTSTRAP_H

#include "util/kl_buf.h"
#include "util/kl_err.h"

#include <stdbool.h>
#include <stdint.h>

/* Hex length of an HMAC-SHA384 (48 bytes). */
#define KL_BOOTSTRAP_TAG_HEX 96
/* Largest key: AES-256. */
#define KL_BOOTSTRAP_KEY_MAX 32

/* K = U xor V; lengths must match and be 16 or 32 (KL_EINVAL otherwise).
 * k_out receives u.len bytes (secret: the caller wipes it). */
KL_MUST_CHECK kl_rc kl_bootstrap_combine(uint8_t *k_out, kl_bytes u, kl_bytes v);

/* hex(HMAC-SHA384(key, msg)), lowercase and NUL-terminated: the auth_tag
 * (msg = agent uuid) and the /keys/verify answer (msg = challenge). */
KL_MUST_CHECK kl_rc kl_bootstrap_hmac_hex(char out[KL_BOOTSTRAP_TAG_HEX + 1], kl_bytes key,
                                          kl_bytes msg);

/* Decodes a received auth_tag as the Rust agent does: hex in either case,
 * exactly 48 bytes once decoded; KL_EPARSE otherwise. */
KL_MUST_CHECK kl_rc kl_bootstrap_tag_decode(uint8_t out[KL_BOOTSTRAP_TAG_HEX / 2],
                                            kl_bytes tag_hex);

/* *ok = whether tag_hex (decoded as kl_bootstrap_tag_decode does) equals
 * HMAC-SHA384(k, uuid), compared in constant time. KL_EPARSE for a tag
 * that is not 96 hex digits; *ok is false on any error. */
KL_MUST_CHECK kl_rc kl_bootstrap_check_tag(bool *ok, kl_bytes k, kl_bytes uuid, kl_bytes tag_hex);

/* Tenant side: K and V are 32 random bytes, U = K xor V (all secret). */
KL_MUST_CHECK kl_rc kl_bootstrap_split(uint8_t k[32], uint8_t u[32], uint8_t v[32]);

#endif
