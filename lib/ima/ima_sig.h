/* ima_sig: the security.ima signature header (struct signature_v2_hdr).
 *
 *   u8 type (3 = EVM_IMA_XATTR_DIGSIG, 5 = EVM_XATTR_PORTABLE_DIGSIG)
 *   u8 version (2) | u8 hash_algo (kernel hash_info id) | u32be keyid
 *   u16be sig_size | signature (sig_size bytes)
 */
#ifndef KL_IMA_SIG_H
#define KL_IMA_SIG_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/hash.h"
#include "util/kl_buf.h"

#define KL_IMA_SIG_HDR_LEN 9

typedef struct {
    uint8_t type;
    uint8_t version;
    uint8_t hash_algo;
    uint32_t keyid;
    kl_bytes sig;
} kl_ima_sig;

/* True when raw has a full header and exactly sig_size signature bytes
 * (the check upstream makes when it reads a line). */
bool kl_ima_sig_parse(kl_bytes raw, kl_ima_sig *out);

/* Maps a kernel hash_algo id to our algorithm; false for ids we (and
 * upstream) cannot verify. */
bool kl_ima_sig_hash_alg(uint8_t hash_algo, kl_hash_alg *out);

#endif
