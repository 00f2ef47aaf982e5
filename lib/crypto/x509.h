/* x509: X.509 certificates and trust stores (EK certificates and the
 * vendor CAs of a tpm_cert_store). */
#ifndef KL_X509_H
#define KL_X509_H

#include "crypto/pubkey.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"

#include <stdbool.h>
#include <stddef.h>

/* Whether der is exactly one DER-encoded X.509 certificate that OpenSSL
 * can parse (upstream asks python-cryptography the same question to tell a
 * measured key certificate from other ima-buf data). */
bool kl_x509_is_cert_der(kl_bytes der);

typedef struct kl_x509 kl_x509;

/* Parses one certificate in DER, which must fill der exactly. OpenSSL's
 * parser also takes BER that is not strict DER (some vendor EK
 * certificates); kl_x509_is_strict_der tells. KL_EPARSE. Caller frees. */
KL_MUST_CHECK kl_rc kl_x509_from_der(kl_x509 **out, kl_bytes der);

/* Like kl_x509_from_der, but bytes may follow the certificate (EK
 * certificates read from NV often carry padding); *used receives the
 * certificate's length. */
KL_MUST_CHECK kl_rc kl_x509_from_der_prefix(kl_x509 **out, kl_bytes der, size_t *used);

/* The first PEM certificate in text; text before it is skipped. KL_EPARSE
 * when there is none. Caller frees. */
KL_MUST_CHECK kl_rc kl_x509_from_pem(kl_x509 **out, kl_bytes text);

/* PEM when the data contains "-----BEGIN", else DER. */
KL_MUST_CHECK kl_rc kl_x509_load(kl_x509 **out, kl_bytes data);

void kl_x509_free(kl_x509 *c);

/* Whether the certificate's encoding is strict DER: definite minimal
 * lengths, SET OF members in DER order, no constructed strings, canonical
 * BOOLEANs and minimal INTEGERs. */
bool kl_x509_is_strict_der(const kl_x509 *c);

/* The certificate's encoding as received, borrowed. */
kl_bytes kl_x509_der(const kl_x509 *c);

/* The subject's public key (a new reference; caller frees).
 * KL_EUNSUPPORTED for keys that are neither RSA nor EC. */
KL_MUST_CHECK kl_rc kl_x509_pubkey(const kl_x509 *c, kl_pubkey **out);

/* One-line subject or issuer ("C = ..., O = ..., CN = ...") into buf, for
 * messages; compare names with kl_x509_subject_cn, not with this text. */
void kl_x509_subject(const kl_x509 *c, char *buf, size_t n);
void kl_x509_issuer(const kl_x509 *c, char *buf, size_t n);

/* The subject's commonName (UTF-8) into buf: false when the subject has no
 * CN, more than one, or one that does not fit in n - 1 bytes. */
bool kl_x509_subject_cn(const kl_x509 *c, char *buf, size_t n);

typedef struct kl_x509_store kl_x509_store;

/* An empty store. Caller frees. */
KL_MUST_CHECK kl_rc kl_x509_store_new(kl_x509_store **out);
void kl_x509_store_free(kl_x509_store *s);

/* Adds every PEM certificate in text (text outside the PEM blocks is
 * skipped), remembering `origin` (e.g. the file name) for reports; *added
 * receives the count. KL_EPARSE when a PEM block is damaged. */
KL_MUST_CHECK kl_rc kl_x509_store_add_pem(kl_x509_store *s, kl_bytes text, const char *origin,
                                          size_t *added);

size_t kl_x509_store_count(const kl_x509_store *s);

typedef struct {
    bool ok;
    bool direct;      /* accepted by the one-step rule only (see below) */
    char anchor[256]; /* origin of the store certificate it chains to */
    char detail[256]; /* why it failed, or the chain error when direct */
} kl_x509_check;

/* Verifies cert against the store. Every store certificate is a trust
 * anchor (as in upstream's tpm_cert_store, an intermediate CA in the
 * store is enough), untrusted[0..n) may supply intermediates, and, as
 * upstream, validity periods and unknown critical extensions are not
 * checked. OpenSSL builds and checks the chain (signatures, issuer
 * names, CA constraints); when that fails, upstream's own rule is tried:
 * a store certificate whose subject is cert's issuer and whose key verifies
 * cert's signature, which then passes with direct = true. Errors only when
 * the check could not run. */
KL_MUST_CHECK kl_rc kl_x509_store_verify(const kl_x509_store *s, const kl_x509 *cert,
                                         const kl_x509 *const *untrusted, size_t n,
                                         kl_x509_check *out);

#endif
