/* imalist: what the policy generator takes from an ASCII IMA measurement
 * list, read the way upstream's create_runtime_policy reads it (lines split
 * on single spaces, not the attestation parser's rules):
 *
 *   digests   every ima-ng and ima-sig line: path (5th column) and the
 *             digest after the "<alg>:" prefix (4th column)
 *   buffers   every ima-buf line (exactly six columns): the buffer name and
 *             digest, and whether the buffer is a DER X.509 certificate
 *             (a key measured into a keyring) or other data
 *
 * The text must be UTF-8 (KL_EPARSE otherwise, naming the line); lines end
 * at "\n", "\r\n" or "\r". A selected line whose digest column has no ':'
 * is KL_EPARSE (upstream fails on it too). Views borrow from text.
 */
#ifndef KL_IMALIST_H
#define KL_IMALIST_H

#include "policy/legacy.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"

#include <stdbool.h>

typedef kl_rc (*kl_imalist_buf_fn)(bool is_key, kl_bytes name, kl_bytes digest, void *payload);

/* Calls fn(digest, path) for each ima-ng / ima-sig line. */
KL_MUST_CHECK kl_rc kl_imalist_digests(kl_bytes text, kl_legacy_digest_fn fn, void *payload);

/* Calls fn for each ima-buf line. */
KL_MUST_CHECK kl_rc kl_imalist_buffers(kl_bytes text, kl_imalist_buf_fn fn, void *payload);

#endif
