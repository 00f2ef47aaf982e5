/* dsse_sign: DSSE envelopes around runtime policies, as upstream's
 * `keylime-policy sign runtime` writes them.
 *
 *   {"payload": b64(json.dumps(policy)), "payloadType":
 *    "application/vnd.keylime+json", "signatures": [{"keyid": K, "sig": b64(S)}]}
 *
 * S is the DER ECDSA/SHA-256 signature over the PAE (see dsse.h). The key
 * id K is sha256 hex of the public-key PEM (ecdsa backend) or the base64 of
 * the signer's PEM certificate (x509 backend). Verification is dsse.h's.
 */
#ifndef KL_DSSE_SIGN_H
#define KL_DSSE_SIGN_H

#include "crypto/eckey.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"

/* Appends the ecdsa backend's key id of key. */
KL_MUST_CHECK kl_rc kl_dsse_sign_keyid_ecdsa(const kl_eckey *key, kl_buf *out);

/* Appends the x509 backend's key id of a PEM certificate. */
KL_MUST_CHECK kl_rc kl_dsse_sign_keyid_x509(kl_bytes cert_pem, kl_buf *out);

/* Appends the envelope (json.dumps layout) signing payload. */
KL_MUST_CHECK kl_rc kl_dsse_sign_envelope(kl_buf *out, kl_bytes type, kl_bytes payload,
                                          const kl_eckey *key, kl_bytes keyid);

/* The payload upstream signs for a runtime policy given as JSON text: the
 * text must be a plain policy (not an envelope) that kl_runtime_policy_load
 * accepts; the payload is json.dumps of the parsed document. Appends it to
 * out; KL_EPARSE with the reason for an invalid policy. */
KL_MUST_CHECK kl_rc kl_dsse_sign_policy_payload(kl_buf *out, kl_bytes policy_text);

#endif
