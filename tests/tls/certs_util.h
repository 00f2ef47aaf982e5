/* certs_util: helpers shared by the tests of lib/tls certificate code. */
#ifndef KL_TEST_CERTS_UTIL_H
#define KL_TEST_CERTS_UTIL_H

#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>

/* A fresh temporary directory (path written to dir, PATH_MAX bytes). */
void certs_tmpdir(char *dir);
/* rm -rf dir. */
void certs_rmtree(const char *dir);
/* "<dir>/<name>" into a static buffer (valid until the next call). */
const char *certs_path(const char *dir, const char *name);
/* Mode bits of a file, or -1. */
int certs_mode(const char *path);
/* Loads a PEM certificate (asserts it is there). */
X509 *certs_load(const char *path);
/* Whether leaf verifies against the CA certificate in ca_file
 * (X509_verify_cert, default purpose checks off). */
bool certs_chains(const char *ca_file, X509 *leaf);
/* Whether the certificate's subjectAltName holds DNS:name or IP:name. */
bool certs_has_san(X509 *x, const char *name);
/* The certificate in a PEM buffer (asserts there is one). */
X509 *certs_parse(const void *pem, size_t len);
/* Writes text to path (asserts it worked). */
void certs_write(const char *path, const char *text);
/* Whole file as a NUL-terminated string (caller frees with kl_free). */
char *certs_slurp(const char *path, size_t *len);

#endif
