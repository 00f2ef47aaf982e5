/* x509: small X.509 certificate checks. */
#ifndef KL_X509_H
#define KL_X509_H

#include "util/kl_buf.h"

#include <stdbool.h>

/* Whether der is exactly one DER-encoded X.509 certificate that OpenSSL
 * can parse (upstream asks python-cryptography the same question to tell a
 * measured key certificate from other ima-buf data). */
bool kl_x509_is_cert_der(kl_bytes der);

#endif
