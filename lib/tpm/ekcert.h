/* ekcert: EK certificates, checked as the tenant and registrar do.
 *
 * A trust store is upstream's tpm_cert_store: a directory of *.pem files
 * of TPM vendor CAs (root or intermediate), some starting with a text dump
 * before the PEM block. An EK certificate is valid when it chains to any
 * of them (see kl_x509_store_verify: validity dates and unknown critical
 * extensions are not checked, as upstream does not). Two things pass with
 * a warning (logged, and flagged in the result):
 *   - a certificate that is not strict DER (some Nuvoton EK certificates):
 *     upstream's python-cryptography rejects it, OpenSSL verifies the
 *     signature over the bytes as sent;
 *   - bytes after a DER certificate (NV indices are often padded with
 *     0xff): ignored, as upstream's pyasn1 fallback does;
 *   - a certificate that only passes upstream's one-step rule (a store
 *     certificate named as its issuer whose key verifies its signature)
 *     while the chain check fails, e.g. on a CA without CA:TRUE.
 */
#ifndef KL_EKCERT_H
#define KL_EKCERT_H

#include "crypto/x509.h"
#include "tpm/tpm_public.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct kl_ekcert_store kl_ekcert_store;

/* Loads a store: every certificate of every *.pem file directly in the
 * directory `path` (names in byte order), or of the file `path` itself.
 * Files without a certificate are skipped with a warning (upstream skips
 * what it cannot read as a certificate). KL_EIO when path cannot be read,
 * KL_ENOTFOUND when it holds no certificate at all. Caller frees. */
KL_MUST_CHECK kl_rc kl_ekcert_store_load(kl_ekcert_store **out, const char *path);
void kl_ekcert_store_free(kl_ekcert_store *s);

/* The certificates loaded. */
size_t kl_ekcert_store_count(const kl_ekcert_store *s);

typedef struct {
    bool valid;
    bool nonstrict_der; /* warning: not strict DER (upstream would reject it) */
    bool direct;        /* warning: only upstream's one-step rule accepted it */
    size_t trailing;    /* warning: bytes after the DER certificate, ignored */
    char issuer[256];   /* the store file it chains to */
    char reason[320];   /* why it is not valid */
} kl_ekcert_result;

/* Checks an EK certificate (DER as agents send it, or PEM) against the
 * store, with optional intermediates (DER or PEM each), e.g. the chain
 * from NV indices 0x01c00100... The outcome is data: *res. Errors:
 * KL_EPARSE when cert (or an intermediate) cannot be parsed at all,
 * KL_ENOMEM. */
KL_MUST_CHECK kl_rc kl_ekcert_verify(kl_ekcert_result *res, kl_bytes cert,
                                     const kl_ekcert_store *store, const kl_bytes *intermediates,
                                     size_t n_intermediates);

/* Parses an EK certificate as kl_ekcert_verify does: PEM, or DER with
 * whatever follows it ignored (*trailing receives its length; may be
 * NULL). Caller frees. */
KL_MUST_CHECK kl_rc kl_ekcert_parse(kl_x509 **out, kl_bytes cert, size_t *trailing);

/* The registrar's rule: *same when the certificate's public key is the
 * key of ek_tpm. KL_EPARSE when cert cannot be parsed, KL_EUNSUPPORTED
 * when its key is neither RSA nor EC. */
KL_MUST_CHECK kl_rc kl_ekcert_matches_ek(bool *same, kl_bytes cert, const kl_tpm_public *ek);

#endif
