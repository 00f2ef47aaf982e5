#include "crypto/x509.h"

#include <limits.h>
#include <openssl/err.h>
#include <openssl/x509.h>

bool
kl_x509_is_cert_der(kl_bytes der)
{
    const unsigned char *p = der.ptr;
    X509 *cert;
    bool ok;

    if (der.len == 0 || der.len > LONG_MAX)
        return false;
    cert = d2i_X509(NULL, &p, (long)der.len);
    ok = cert && p == der.ptr + der.len;
    X509_free(cert);
    ERR_clear_error();
    return ok;
}
