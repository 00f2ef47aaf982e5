/* payload_crypt: Keylime's encrypted payload format (PROTOCOL.md 5.1).
 *
 * text = base64(iv (16 bytes) || AES-GCM(key, iv, plain, no AAD) || tag
 * (16 bytes)), AES-128-GCM or AES-256-GCM by the key's length, as the
 * tenant's crypto.encrypt writes it and the agent's decrypt_aead reads it.
 */
#ifndef KL_PAYLOAD_CRYPT_H
#define KL_PAYLOAD_CRYPT_H

#include "util/kl_buf.h"
#include "util/kl_err.h"

#include <stdint.h>

#define KL_PAYLOAD_IV 16

/* Decrypts text_b64 (strict, padded base64) with a 16 or 32-byte key and
 * appends the plaintext to out (secret: the caller wipes it, e.g. with
 * kl_buf_free_secret). KL_EVERIFY for a bad tag (wrong key or damaged
 * data), KL_EPARSE for bad base64 or fewer than 32 decoded bytes,
 * KL_EINVAL for another key size, KL_ETOOBIG when out's cap is reached.
 * Nothing is appended on failure. */
KL_MUST_CHECK kl_rc kl_payload_decrypt(kl_buf *out, kl_bytes key, kl_bytes text_b64);

/* Encrypts plain with a fresh random IV and appends the base64 text. */
KL_MUST_CHECK kl_rc kl_payload_encrypt(kl_buf *out_b64, kl_bytes key, kl_bytes plain);

/* As kl_payload_encrypt with the given IV (reproducible; for tests). */
KL_MUST_CHECK kl_rc kl_payload_encrypt_iv(kl_buf *out_b64, kl_bytes key,
                                          const uint8_t iv[KL_PAYLOAD_IV], kl_bytes plain);

#endif
