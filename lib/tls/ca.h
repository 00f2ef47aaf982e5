/* ca: Keylime's small certificate authority (what keylime_ca manages and
 * what the tenant's --cert option and tls_dir = generate use).
 *
 * A CA directory holds (all written atomically; keys 0600, the directory
 * 0700 when we create it):
 *   cacert.crt         the CA certificate (PEM, serial 1, self-signed)
 *   ca-private.pem     its key (PKCS#8 PEM; encrypted with the ca.conf
 *                      password unless that is "default" or empty)
 *   ca-public.pem      its public key
 *   ca-serial          the last serial number issued (decimal)
 *   ca-revoked         the revoked serial numbers (decimal, one a line)
 *   cacrl.der, cacrl.pem  the CRL of those serials
 *   <name>-cert.crt, <name>-private.pem, <name>-public.pem  issued names
 * The layout differs from upstream's (which keeps the keys in an encrypted
 * private.yml); the certificates and CRL files are the same.
 */
#ifndef KL_CA_H
#define KL_CA_H

#include "config/config.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The ca.conf [ca] options (PROTOCOL.md 11.2), as loaded by kl_ca_conf_load. */
typedef struct {
    kl_config_meta meta;
    char *password;
    char *cert_country;
    char *cert_ca_name;
    char *cert_state;
    char *cert_locality;
    char *cert_organization;
    char *cert_org_unit;
    long long cert_ca_lifetime; /* days */
    long long cert_lifetime;    /* days */
    long long cert_bits;        /* RSA key size */
    char *cert_crl_dist;        /* CRL distribution point URI, "" for none */
} kl_ca_conf;

/* The option table of ca.conf (for kl_config_dump and friends). */
extern const kl_config_spec kl_ca_conf_spec;

/* Loads ca.conf (paths NULL: /etc/keylime, /usr/etc/keylime). Free with
 * kl_ca_conf_free (also after a failure). */
KL_MUST_CHECK kl_rc kl_ca_conf_load(kl_ca_conf *out, const kl_config_paths *paths);
void kl_ca_conf_free(kl_ca_conf *c);

/* What a CA is made with; all strings borrowed. */
typedef struct {
    const char *password; /* CA key password; NULL, "" or "default": unencrypted */
    const char *country, *ca_name, *state, *locality, *organization, *org_unit;
    unsigned ca_days, cert_days, bits;
    const char *crl_dist; /* NULL or "": no CRL distribution point */
} kl_ca_params;

/* The ca.conf defaults. */
void kl_ca_params_default(kl_ca_params *p);
/* Borrows the strings of a loaded ca.conf. */
void kl_ca_params_from_conf(kl_ca_params *p, const kl_ca_conf *c);

typedef struct kl_ca kl_ca;

/* Creates a new CA in dir (made 0700 if missing). replace = false: fails
 * with KL_EEXIST when dir already has a cacert.crt; replace = true: first
 * removes the old CA's files (*.pem, *.crt, *.der, *.zip and the ca-*
 * state), as upstream's `keylime_ca -c init` does. */
KL_MUST_CHECK kl_rc kl_ca_init(const char *dir, const kl_ca_params *p, bool replace);

/* Opens an existing CA (its key decrypted with p->password: a wrong
 * password is KL_EPERM, a missing CA KL_ENOTFOUND). p is copied; its
 * strings must outlive the kl_ca. Caller frees with kl_ca_free. */
KL_MUST_CHECK kl_rc kl_ca_open(kl_ca **out, const char *dir, const kl_ca_params *p);
void kl_ca_free(kl_ca *ca);

typedef enum {
    KL_CA_USE_ANY = 0, /* no extendedKeyUsage (upstream's certificates) */
    KL_CA_USE_SERVER,  /* serverAuth + clientAuth */
    KL_CA_USE_CLIENT,  /* clientAuth */
} kl_ca_usage;

typedef struct {
    const char *const *sans; /* DNS names or IP addresses; none: DNS:<name> */
    size_t n_sans;
    const char *key_password; /* encrypt <name>-private.pem with it, or NULL */
    kl_ca_usage usage;
} kl_ca_issue_opts;

#define KL_CA_SUBJECT_MAX 1024

/* What the tenant puts in the payload metadata. */
typedef struct {
    uint64_t serial;
    char subject[KL_CA_SUBJECT_MAX]; /* RFC 4514, as Python's rfc4514_string() */
} kl_ca_cert_info;

/* Issues a certificate for name (CN = name, the rest of the subject from
 * the params; RSA key of p->bits; valid cert_days) with the next serial,
 * and writes <name>-cert.crt, <name>-private.pem (0600), <name>-public.pem.
 * name must be a plain file name part (no '/', not starting with '.').
 * info may be NULL. */
KL_MUST_CHECK kl_rc kl_ca_issue(kl_ca *ca, const char *name, const kl_ca_issue_opts *o,
                                kl_ca_cert_info *info);

/* Serial and subject of <name>-cert.crt; KL_ENOTFOUND when not issued. */
KL_MUST_CHECK kl_rc kl_ca_cert_info_get(const kl_ca *ca, const char *name, kl_ca_cert_info *info);

/* Adds a serial to the revoked list (once) and rewrites cacrl.der and
 * cacrl.pem. Revoking the CA's own serial (1) or one never issued is
 * KL_EINVAL. kl_ca_revoke_name revokes the serial of <name>-cert.crt. */
KL_MUST_CHECK kl_rc kl_ca_revoke_serial(kl_ca *ca, uint64_t serial);
KL_MUST_CHECK kl_rc kl_ca_revoke_name(kl_ca *ca, const char *name, uint64_t *serial_out);

/* A file to add to a package (borrowed). */
typedef struct {
    const char *name; /* entry name (a base name) */
    kl_bytes data;
} kl_ca_pkg_file;

typedef struct {
    bool revocation_notifier;    /* add RevocationNotifier-cert.crt, issuing it if missing */
    const kl_ca_pkg_file *extra; /* more files (the tenant's --include) */
    size_t n_extra;
} kl_ca_pkg_opts;

/* Builds the certificate package of name as a ZIP (stored, not deflated),
 * appended to zip: <name>-public.pem, <name>-cert.crt, <name>-private.pem
 * (the file as stored), cacert.crt, cacrl.der, cacrl.pem, then
 * RevocationNotifier-cert.crt and the extra files when asked. If
 * revocation_key is not NULL and the notifier is added, the notifier's
 * private key PEM is appended to it (secret: kl_buf_free_secret).
 * The zip holds a private key: release it with kl_buf_free_secret. */
KL_MUST_CHECK kl_rc kl_ca_package(kl_ca *ca, const char *name, const kl_ca_pkg_opts *o, kl_buf *zip,
                                  kl_buf *revocation_key, kl_ca_cert_info *info);

/* The tenant's --cert: opens the CA in dir (creating it if it has no
 * cacert.crt), issues a certificate for uuid if it has none and returns
 * the package with the RevocationNotifier certificate, its key and the
 * metadata (see kl_ca_package). */
KL_MUST_CHECK kl_rc kl_ca_tenant_package(const char *dir, const kl_ca_params *p, const char *uuid,
                                         const kl_ca_pkg_file *extra, size_t n_extra, kl_buf *zip,
                                         kl_buf *revocation_key, kl_ca_cert_info *info);

/* Upstream's import-priv: makes the (unencrypted PEM) key in key_file the
 * CA's key (stored as ca-private.pem, encrypted with p->password) and sets
 * the last serial to last_serial + 1, as upstream does. The key must match
 * cacert.crt. */
KL_MUST_CHECK kl_rc kl_ca_import_key(const char *dir, const kl_ca_params *p, const char *key_file,
                                     uint64_t last_serial);

/* The directory the CA is in (borrowed). */
const char *kl_ca_dir(const kl_ca *ca);

#endif
