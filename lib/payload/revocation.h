/* revocation: signed revocation notifications (PROTOCOL.md section 10).
 *
 * The verifier POSTs {"msg": "<JSON text>", "signature": "<base64>"} to
 * agents; signature = RSA-PSS (SHA-256, MGF1-SHA-256, salt as long as the
 * key allows) over the UTF-8 bytes of msg exactly as sent, with the
 * RevocationNotifier key; agents check it with the RevocationNotifier
 * certificate that came in their payload.
 */
#ifndef KL_REVOCATION_H
#define KL_REVOCATION_H

#include "util/kl_buf.h"
#include "util/kl_err.h"

#include <stdbool.h>

/* Verifies the strict base64 RSA-PSS/SHA-256 signature sig_b64 over msg
 * with the key of cert_pem (a PEM certificate, or a PEM public key). Any
 * salt length verifies (upstream signs with the maximum). *ok is false for
 * a bad signature, an empty one or a key that is not RSA; KL_EPARSE for
 * malformed base64 or a PEM without a certificate or key. */
KL_MUST_CHECK kl_rc kl_revocation_verify(bool *ok, kl_bytes cert_pem, kl_bytes msg,
                                         kl_bytes sig_b64);

/* Signs msg with the PEM RSA private key (unencrypted; salt length = the
 * maximum, as Python's PSS.MAX_LENGTH) and appends the base64 signature.
 * KL_EPARSE when key_pem holds no usable private key, KL_EINVAL when it is
 * not RSA. */
KL_MUST_CHECK kl_rc kl_revocation_sign(kl_buf *sig_b64, kl_bytes key_pem, kl_bytes msg);

/* Parses the envelope body {"msg": "<JSON text>", "signature": "<b64>"}:
 * both members must be strings and msg must hold a JSON object. Copies of
 * the msg text (its exact bytes, which are what is signed) and of the
 * signature text are appended to msg_out and sig_out. KL_EPARSE, with the
 * reason, otherwise; KL_ETOOBIG when an output's cap is reached. */
KL_MUST_CHECK kl_rc kl_revocation_parse(kl_buf *msg_out, kl_buf *sig_out, kl_bytes body);

#endif
