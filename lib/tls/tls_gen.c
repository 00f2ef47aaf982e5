/* tls_gen: tls_dir = generate and the agent's self-signed certificate
 * (see tls.h). */
#define KL_LOGMODULE "tls"
#include "crypto/crypto_int.h"
#include "tls/ca.h"
#include "tls/certgen.h"
#include "tls/tls.h"
#include "util/kl_alloc.h"
#include "util/kl_log.h"

#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <unistd.h>

#define MAX_SANS 64

static bool
have_pair(const char *dir, const char *name)
{
    char *key = NULL, *cert = NULL;
    bool yes = kl_certgen_path(&key, dir, name, "-private.pem") == KL_OK &&
               kl_certgen_path(&cert, dir, name, "-cert.crt") == KL_OK && access(key, F_OK) == 0 &&
               access(cert, F_OK) == 0;

    kl_free(key);
    kl_free(cert);
    return yes;
}

static bool
unspecified(const char *ip)
{
    return !ip || !*ip || strcmp(ip, "0.0.0.0") == 0 || strcmp(ip, "::") == 0;
}

/* The server's SANs; host holds the host name they may point into. */
static kl_rc
server_sans(const char **sans, size_t *n, char *host, size_t host_len,
            const kl_tls_generate_opts *o)
{
    size_t k = 0;

    sans[k++] = "localhost";
    sans[k++] = "127.0.0.1";
    sans[k++] = "::1";
    if (gethostname(host, host_len) == 0 && host[0]) {
        host[host_len - 1] = '\0';
        sans[k++] = host;
    }
    if (!unspecified(o->bind_ip))
        sans[k++] = o->bind_ip;
    if (o->n_extra_sans > MAX_SANS - k)
        return kl_err_set(KL_EINVAL, "too many subject alternative names (at most %d)",
                          MAX_SANS - 5);
    for (size_t i = 0; i < o->n_extra_sans; i++)
        sans[k++] = o->extra_sans[i];
    *n = k;
    return KL_OK;
}

/* Issues name from the CA in dir, opening it on first use. */
static kl_rc
issue(kl_ca **ca, const char *dir, const kl_ca_params *p, const char *name,
      const kl_ca_issue_opts *io)
{
    kl_rc rc = *ca ? KL_OK : kl_ca_open(ca, dir, p);

    if (rc == KL_OK)
        rc = kl_ca_issue(*ca, name, io, NULL);
    if (rc == KL_OK)
        LOG_INFO("generated %s/%s-cert.crt", dir, name);
    return rc;
}

static kl_rc
generate(const char *dir, const kl_ca_params *p, const kl_tls_generate_opts *o)
{
    const char *sans[MAX_SANS];
    char host[256];
    kl_ca_issue_opts io = {.key_password = o->key_password};
    kl_ca *ca = NULL;
    char *cacert = NULL;
    kl_rc rc = kl_certgen_mkdir(dir);

    if (rc == KL_OK)
        rc = kl_certgen_path(&cacert, dir, "cacert", ".crt");
    if (rc == KL_OK && access(cacert, F_OK) != 0) {
        LOG_INFO("generating a new CA in %s", dir);
        rc = kl_ca_init(dir, p, false);
    }
    if (rc == KL_OK && !have_pair(dir, "server")) {
        io.usage = KL_CA_USE_SERVER;
        rc = server_sans(sans, &io.n_sans, host, sizeof(host), o);
        io.sans = sans;
        if (rc == KL_OK)
            rc = issue(&ca, dir, p, "server", &io);
    }
    if (rc == KL_OK && !have_pair(dir, "client")) {
        io = (kl_ca_issue_opts){.key_password = o->key_password, .usage = KL_CA_USE_CLIENT};
        rc = issue(&ca, dir, p, "client", &io);
    }
    kl_ca_free(ca);
    kl_free(cacert);
    return rc;
}

kl_rc
kl_tls_generate_dir(const char *dir, const kl_tls_generate_opts *o)
{
    static const kl_tls_generate_opts none = {0};
    kl_ca_conf conf;
    kl_ca_params p;
    kl_rc rc = kl_ca_conf_load(&conf, NULL);

    if (rc == KL_OK) {
        kl_ca_params_from_conf(&p, &conf);
        rc = generate(dir, &p, o ? o : &none);
    }
    if (rc != KL_OK)
        rc = kl_err_wrap(rc, "tls_dir %s: ", dir);
    kl_ca_conf_free(&conf);
    return rc;
}

static kl_rc
self_signed_cert(X509 **out, EVP_PKEY *key, const char *cn, const char *ip, unsigned days)
{
    const char *sans[] = {ip, "localhost", "127.0.0.1", "::1"};
    X509_NAME *name = NULL;
    uint64_t serial = 0;
    kl_rc rc = KL_OK;

    if (RAND_bytes((unsigned char *)&serial, sizeof(serial)) != 1)
        rc = kl_crypto_err("random serial");
    serial = (serial >> 1) | 1; /* positive, never 0 */
    if (rc == KL_OK)
        rc = kl_certgen_name(&name, NULL, cn);
    if (rc == KL_OK)
        rc = kl_certgen_new(out, key, serial, days, name, name);
    if (rc == KL_OK)
        rc = kl_certgen_ext(*out, *out, NID_subject_key_identifier, "hash");
    if (rc == KL_OK)
        rc = kl_certgen_sans(*out, sans, sizeof(sans) / sizeof(sans[0]));
    if (rc == KL_OK)
        rc = kl_certgen_sign(*out, key);
    X509_NAME_free(name);
    return rc;
}

kl_rc
kl_tls_self_signed(kl_buf *key_pem, kl_buf *cert_pem, const char *cn, const char *ip, unsigned days)
{
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    kl_rc rc = KL_OK;

    if (!cn || !*cn || !ip || !*ip || days == 0)
        return kl_err_set(KL_EINVAL, "self-signed certificate: empty name, address or lifetime");
    rc = kl_certgen_key_ec(&key);
    if (rc == KL_OK)
        rc = self_signed_cert(&cert, key, cn, ip, days);
    if (rc == KL_OK)
        rc = kl_certgen_key_pem(key_pem, key, NULL);
    if (rc == KL_OK)
        rc = kl_certgen_cert_pem(cert_pem, cert);
    X509_free(cert);
    EVP_PKEY_free(key);
    return rc;
}
