/* dsse: Dead Simple Signing Envelopes around runtime policies.
 *
 *   {"payload": b64(policy), "payloadType": "application/vnd.keylime+json",
 *    "signatures": [{"keyid": "...", "sig": b64(DER ECDSA)}]}
 *
 * Signatures cover PAE = "DSSEv1 <len(type)> <type> <len(payload)> <payload>"
 * (lengths in ASCII decimal) with ECDSA/SHA-256. Upstream's ecdsa backend
 * puts sha256(public key PEM) in keyid; its x509 backend puts the base64 of
 * the signer's PEM certificate there.
 */
#ifndef KL_DSSE_H
#define KL_DSSE_H

#include <stdbool.h>

#include "crypto/pubkey.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"

#define KL_DSSE_KEYLIME_TYPE "application/vnd.keylime+json"

/* *is_envelope: whether text is a JSON object with a non-empty "payload"
 * string (the test upstream uses to tell an envelope from a policy). Text
 * that is not JSON is not an envelope; errors only for ENOMEM. */
KL_MUST_CHECK kl_rc kl_dsse_is_envelope(kl_bytes text, bool *is_envelope);

/* Decodes the payload into out. With key, at least one signature must
 * verify with it; without key, signatures whose keyid is a base64 PEM
 * certificate are checked with that certificate, and *checked says whether
 * any check happened. KL_EVERIFY when no signature verifies. */
KL_MUST_CHECK kl_rc kl_dsse_open(kl_bytes text, const kl_pubkey *key, kl_buf *out, bool *checked);

/* The PAE bytes for a payload. */
KL_MUST_CHECK kl_rc kl_dsse_pae(kl_buf *out, kl_bytes type, kl_bytes payload);

#endif
