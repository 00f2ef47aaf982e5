/* tls: OpenSSL contexts for our HTTPS servers, the TLS settings our
 * clients use, and the certificate directory Keylime keeps (tls_dir).
 *
 * Keylime's TLS rules (PROTOCOL.md section 11.4): TLS 1.2 or 1.3 only;
 * servers ask for a client certificate and check it against the
 * configured CAs; hostnames are never checked (peers are identified by
 * certificates from Keylime's own CA, or by the agent's self-signed
 * certificate from the registrar).
 */
#ifndef KL_TLS_H
#define KL_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

#include "util/kl_err.h"

typedef enum {
    KL_TLS_CLIENT_OPTIONAL = 0, /* verifier/registrar: ask, verify if sent, allow none */
    KL_TLS_CLIENT_REQUIRED,     /* agent: handshake fails without a valid client cert */
} kl_tls_client_auth;

typedef struct {
    const char *cert_file;        /* PEM; may hold the chain after the leaf */
    const char *key_file;         /* PEM private key */
    const char *key_password;     /* NULL or "" when the key is not encrypted */
    const char *const *client_cas; /* PEM files of trusted client CAs */
    size_t n_client_cas;
    kl_tls_client_auth client_auth;
} kl_tls_server_opts;

/* A server context (TLS 1.2+, Mozilla intermediate ciphers, no
 * compression, no renegotiation, session tickets off). Fails with a
 * message naming the file that could not be read or the key that does not
 * match the certificate. Caller frees with SSL_CTX_free. */
KL_MUST_CHECK kl_rc kl_tls_server_ctx(SSL_CTX **out, const kl_tls_server_opts *o);

/* After the handshake: the peer's certificate if it sent one that
 * verified against the configured CAs (NULL otherwise). Borrowed from ssl. */
X509 *kl_tls_verified_peer(SSL *ssl);

/* The files a client presents and trusts (borrowed strings). */
typedef struct {
    const char *cert_file;    /* client certificate, or NULL */
    const char *key_file;     /* its key, or NULL */
    const char *key_password; /* NULL or "" */
    const char *ca_file;      /* trusted server CAs (PEM file), or NULL */
    const char *ca_pem;       /* more trusted certificates in memory (PEM), or NULL;
                                 the agent's self-signed mtls_cert from the registrar */
    bool verify_peer;         /* false only for trusted_server_ca = all */
} kl_tls_client_opts;

/* Upstream's tls_dir = generate: makes sure <dir> holds a CA and
 * certificates signed by it, creating whatever is missing:
 *   cacert.crt, ca-private.pem                       the CA (cert_ca_name, ca.conf subject)
 *   server-cert.crt, server-private.pem              serverAuth+clientAuth, SANs:
 *       localhost, 127.0.0.1, ::1, the host name, bind_ip (if not 0.0.0.0/::),
 *       and extra_sans (DNS names or IP addresses)
 *   client-cert.crt, client-private.pem              clientAuth, CN "client"
 * Existing files are kept (a restart must not change the CA under running
 * agents). Keys are written 0600; the directory is created 0700. */
typedef struct {
    const char *bind_ip;
    const char *const *extra_sans;
    size_t n_extra_sans;
    const char *key_password; /* encrypt the private keys with it, or NULL */
} kl_tls_generate_opts;

KL_MUST_CHECK kl_rc kl_tls_generate_dir(const char *dir, const kl_tls_generate_opts *o);

/* A self-signed certificate (the agent's mTLS identity): CN = cn, SAN IP
 * = ip (DNS when ip is not an address), valid `days` days. The PEM of the
 * key (PKCS#8, wipe with kl_buf_free_secret) and of the certificate are
 * appended to the buffers. EC P-256 key. */
#include "util/kl_buf.h"
KL_MUST_CHECK kl_rc kl_tls_self_signed(kl_buf *key_pem, kl_buf *cert_pem, const char *cn,
                                       const char *ip, unsigned days);

#endif
