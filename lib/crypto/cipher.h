/* cipher: symmetric encryption for TPM credential wrapping, and random
 * bytes.
 *
 * AES in CFB mode with a 128-bit feedback (TPM_ALG_CFB), as the TPM uses it
 * for the encIdentity of a credential: no padding, output length = input
 * length.
 */
#ifndef KL_CIPHER_H
#define KL_CIPHER_H

#include "util/kl_buf.h"
#include "util/kl_err.h"

#include <stddef.h>
#include <stdint.h>

#define KL_AES_BLOCK 16

/* AES-CFB128 with a 16, 24 or 32-byte key (AES-128/192/256) and a 16-byte
 * IV; writes in.len bytes to out (which may be in.ptr). KL_EINVAL for
 * another key size. */
KL_MUST_CHECK kl_rc kl_aes_cfb_encrypt(kl_bytes key, const uint8_t iv[KL_AES_BLOCK], kl_bytes in,
                                       uint8_t *out);
KL_MUST_CHECK kl_rc kl_aes_cfb_decrypt(kl_bytes key, const uint8_t iv[KL_AES_BLOCK], kl_bytes in,
                                       uint8_t *out);

/* AES-GCM with a 16 or 32-byte key (AES-128/256-GCM), an IV of 1 to 64
 * bytes (Keylime's payloads use 16) and optional additional data. Encrypt
 * writes in.len bytes to out and the 16-byte tag to tag; decrypt checks
 * tag and writes in.len bytes to out (which may be in.ptr), KL_EVERIFY
 * when the tag does not match (out is then wiped). KL_EINVAL for another
 * key or IV size. */
#define KL_AES_GCM_TAG 16
KL_MUST_CHECK kl_rc kl_aes_gcm_encrypt(kl_bytes key, kl_bytes iv, kl_bytes aad, kl_bytes in,
                                       uint8_t *out, uint8_t tag[KL_AES_GCM_TAG]);
KL_MUST_CHECK kl_rc kl_aes_gcm_decrypt(kl_bytes key, kl_bytes iv, kl_bytes aad, kl_bytes in,
                                       const uint8_t tag[KL_AES_GCM_TAG], uint8_t *out);

/* n bytes from OpenSSL's CSPRNG. */
KL_MUST_CHECK kl_rc kl_rand_bytes(uint8_t *out, size_t n);

#endif
