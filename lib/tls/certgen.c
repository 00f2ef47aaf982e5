/* certgen: certificate building blocks for lib/tls (see certgen.h). */
#include "tls/certgen.h"

#include "crypto/crypto_int.h"
#include "util/kl_alloc.h"
#include "util/kl_file.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PEM_MAX (1u << 20)

kl_rc
kl_certgen_key_rsa(EVP_PKEY **out, unsigned bits)
{
    if (bits < 2048 || bits > 16384)
        return kl_err_set(KL_EINVAL, "RSA key size %u is not in 2048..16384 (cert_bits)", bits);
    *out = EVP_RSA_gen(bits);
    return *out ? KL_OK : kl_crypto_err("generating an RSA key");
}

kl_rc
kl_certgen_key_ec(EVP_PKEY **out)
{
    *out = EVP_EC_gen("P-256");
    return *out ? KL_OK : kl_crypto_err("generating an EC P-256 key");
}

static kl_rc
add_entry(X509_NAME *n, int nid, const char *value)
{
    if (!value || !*value)
        return KL_OK;
    if (!X509_NAME_add_entry_by_NID(n, nid, MBSTRING_UTF8, (const unsigned char *)value, -1, -1, 0))
        return kl_crypto_err("certificate subject");
    return KL_OK;
}

kl_rc
kl_certgen_name(X509_NAME **out, const kl_ca_params *p, const char *cn)
{
    X509_NAME *n = X509_NAME_new();
    kl_rc rc = KL_OK;

    if (!n)
        return kl_err_set(KL_ENOMEM, "out of memory");
    if (p && p->country && strlen(p->country) != 2) {
        rc = kl_err_set(KL_EINVAL, "cert_country '%s' is not a two-letter code", p->country);
        goto out;
    }
    if (p)
        rc = add_entry(n, NID_countryName, p->country);
    if (rc == KL_OK)
        rc = add_entry(n, NID_commonName, cn);
    if (rc == KL_OK && p)
        rc = add_entry(n, NID_stateOrProvinceName, p->state);
    if (rc == KL_OK && p)
        rc = add_entry(n, NID_localityName, p->locality);
    if (rc == KL_OK && p)
        rc = add_entry(n, NID_organizationName, p->organization);
    if (rc == KL_OK && p)
        rc = add_entry(n, NID_organizationalUnitName, p->org_unit);
out:
    if (rc != KL_OK)
        X509_NAME_free(n);
    else
        *out = n;
    return rc;
}

kl_rc
kl_certgen_new(X509 **out, EVP_PKEY *key, uint64_t serial, unsigned days, const X509_NAME *subject,
               const X509_NAME *issuer)
{
    X509 *x = X509_new();
    bool ok = x != NULL;

    ok = ok && X509_set_version(x, X509_VERSION_3);
    ok = ok && ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), serial);
    ok = ok && X509_gmtime_adj(X509_getm_notBefore(x), 0);
    ok = ok && X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, NULL);
    ok = ok && X509_set_subject_name(x, subject);
    ok = ok && X509_set_issuer_name(x, issuer);
    ok = ok && X509_set_pubkey(x, key);
    if (!ok) {
        X509_free(x);
        return kl_crypto_err("building a certificate");
    }
    *out = x;
    return KL_OK;
}

kl_rc
kl_certgen_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    bool ok;

    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext)
        return kl_crypto_err("certificate extension");
    ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? KL_OK : kl_crypto_err("certificate extension");
}

/* One SAN entry: IP when it parses as an address, else DNS. */
static GENERAL_NAME *
san_entry(const char *s)
{
    unsigned char ip[16];
    int len = 0;
    GENERAL_NAME *g = GENERAL_NAME_new();

    if (!g)
        return NULL;
    if (inet_pton(AF_INET, s, ip) == 1)
        len = 4;
    else if (inet_pton(AF_INET6, s, ip) == 1)
        len = 16;
    if (len) {
        ASN1_OCTET_STRING *o = ASN1_OCTET_STRING_new();
        if (!o || !ASN1_OCTET_STRING_set(o, ip, len)) {
            ASN1_OCTET_STRING_free(o);
            GENERAL_NAME_free(g);
            return NULL;
        }
        GENERAL_NAME_set0_value(g, GEN_IPADD, o);
    } else {
        ASN1_IA5STRING *d = ASN1_IA5STRING_new();
        if (!d || !ASN1_STRING_set(d, s, -1)) {
            ASN1_IA5STRING_free(d);
            GENERAL_NAME_free(g);
            return NULL;
        }
        GENERAL_NAME_set0_value(g, GEN_DNS, d);
    }
    return g;
}

static bool
seen_before(const char *const *names, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (strcmp(names[j], names[i]) == 0)
            return true;
    return false;
}

kl_rc
kl_certgen_sans(X509 *x, const char *const *names, size_t n)
{
    GENERAL_NAMES *gens = GENERAL_NAMES_new();
    kl_rc rc = KL_OK;

    if (!gens)
        return kl_err_set(KL_ENOMEM, "out of memory");
    for (size_t i = 0; i < n && rc == KL_OK; i++) {
        GENERAL_NAME *g;

        if (!names[i] || !*names[i]) {
            rc = kl_err_set(KL_EINVAL, "empty subject alternative name");
            break;
        }
        if (seen_before(names, i))
            continue;
        g = san_entry(names[i]);
        if (!g || !sk_GENERAL_NAME_push(gens, g)) {
            GENERAL_NAME_free(g);
            rc = kl_crypto_err("subject alternative name");
        }
    }
    if (rc == KL_OK && !X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT))
        rc = kl_crypto_err("subject alternative name");
    GENERAL_NAMES_free(gens);
    return rc;
}

kl_rc
kl_certgen_sign(X509 *x, EVP_PKEY *key)
{
    return X509_sign(x, key, EVP_sha256()) > 0 ? KL_OK : kl_crypto_err("signing a certificate");
}

/* Moves what a memory BIO holds to out. */
static kl_rc
bio_drain(BIO *b, kl_buf *out)
{
    char *p = NULL;
    long n = BIO_get_mem_data(b, &p);

    return n > 0 ? kl_buf_append(out, p, (size_t)n) : kl_err_set(KL_ECRYPTO, "empty PEM output");
}

kl_rc
kl_certgen_key_pem(kl_buf *out, EVP_PKEY *key, const char *password)
{
    BIO *b = BIO_new(BIO_s_mem());
    bool enc = password && *password;
    kl_rc rc;
    int ok;

    if (!b)
        return kl_err_set(KL_ENOMEM, "out of memory");
    ok = PEM_write_bio_PKCS8PrivateKey(b, key, enc ? EVP_aes_256_cbc() : NULL, NULL, 0, NULL,
                                       enc ? (void *)(uintptr_t)password : NULL);
    rc = ok ? bio_drain(b, out) : kl_crypto_err("writing a private key");
    BIO_free_all(b); /* a memory BIO: OpenSSL clears its buffer on free */
    return rc;
}

/* The PEM of a certificate (x) or else of a public key. */
static kl_rc
public_pem(kl_buf *out, EVP_PKEY *key, X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    kl_rc rc;
    int ok;

    if (!b)
        return kl_err_set(KL_ENOMEM, "out of memory");
    ok = x ? PEM_write_bio_X509(b, x) : PEM_write_bio_PUBKEY(b, key);
    rc = ok ? bio_drain(b, out)
            : kl_crypto_err(x ? "writing a certificate" : "writing a public key");
    BIO_free(b);
    return rc;
}

kl_rc
kl_certgen_pub_pem(kl_buf *out, EVP_PKEY *key)
{
    return public_pem(out, key, NULL);
}

kl_rc
kl_certgen_cert_pem(kl_buf *out, X509 *x)
{
    return public_pem(out, NULL, x);
}

/* The file in b (NUL-terminated) and a memory BIO over it. */
static kl_rc
read_pem(const char *path, kl_buf *b, BIO **bio)
{
    kl_rc rc;

    kl_buf_init(b, PEM_MAX);
    *bio = NULL;
    if (access(path, F_OK) != 0 && errno == ENOENT)
        return kl_err_set(KL_ENOTFOUND, "%s does not exist", path);
    rc = kl_file_read(path, b);
    if (rc == KL_OK)
        rc = kl_buf_terminate(b);
    if (rc == KL_OK && (*bio = BIO_new_mem_buf(b->ptr, (int)b->len)) == NULL)
        rc = kl_err_set(KL_ENOMEM, "out of memory");
    return rc;
}

kl_rc
kl_certgen_load_cert(X509 **out, const char *path)
{
    kl_buf b;
    BIO *bio;
    kl_rc rc = read_pem(path, &b, &bio);

    if (rc == KL_OK && !(*out = PEM_read_bio_X509(bio, NULL, kl_crypto_no_passphrase, NULL)))
        rc = kl_err_set(KL_EPARSE, "%s: no PEM certificate in it", path);
    ERR_clear_error();
    BIO_free(bio);
    kl_buf_free(&b);
    return rc;
}

/* Hands the password to OpenSSL; never prompts. */
static int
give_password(char *buf, int size, int rwflag, void *u)
{
    size_t len = u ? strlen(u) : 0;

    (void)rwflag;
    if (!u || len == 0 || len > (size_t)size)
        return -1;
    memcpy(buf, u, len);
    return (int)len;
}

kl_rc
kl_certgen_load_key(EVP_PKEY **out, const char *path, const char *password)
{
    kl_buf b;
    BIO *bio;
    kl_rc rc = read_pem(path, &b, &bio);

    if (rc == KL_OK)
        *out = PEM_read_bio_PrivateKey(bio, NULL, give_password, (void *)(uintptr_t)password);
    if (rc == KL_OK && !*out && strstr((const char *)b.ptr, "ENCRYPTED"))
        rc = kl_err_set(KL_EPERM, "%s: %s", path,
                        password && *password ? "wrong password for this key"
                                              : "the key is encrypted and no password is set");
    else if (rc == KL_OK && !*out)
        rc = kl_err_set(KL_EPARSE, "%s: no PEM private key in it", path);
    ERR_clear_error();
    BIO_free(bio);
    kl_buf_free_secret(&b);
    return rc;
}

kl_rc
kl_certgen_write(const char *path, kl_bytes data, bool secret)
{
    return kl_file_write_mode(path, data.ptr, data.len, secret ? 0600 : 0644);
}

kl_rc
kl_certgen_path(char **out, const char *dir, const char *name, const char *suffix)
{
    size_t n = strlen(dir) + strlen(name) + strlen(suffix) + 2;
    char *p = kl_malloc(n);

    if (!p)
        return kl_err_set(KL_ENOMEM, "out of memory");
    snprintf(p, n, "%s/%s%s", dir, name, suffix);
    *out = p;
    return KL_OK;
}

kl_rc
kl_certgen_mkdir(const char *dir)
{
    struct stat st;

    if (mkdir(dir, 0700) == 0)
        return KL_OK;
    if (errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
        return KL_OK;
    if (errno == EEXIST)
        return kl_err_set(KL_EIO, "%s exists and is not a directory", dir);
    return kl_err_set(KL_EIO, "cannot create directory %s: %s", dir, strerror(errno));
}

kl_rc
kl_certgen_subject(const X509 *x, char *buf, size_t n)
{
    /* RFC 2253 order and escaping, UTF-8 kept as is (as Python does). */
    unsigned long flags = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;
    BIO *b = BIO_new(BIO_s_mem());
    char *p = NULL;
    long len;

    if (!b)
        return kl_err_set(KL_ENOMEM, "out of memory");
    if (X509_NAME_print_ex(b, X509_get_subject_name(x), 0, flags) < 0) {
        BIO_free(b);
        return kl_crypto_err("printing a subject");
    }
    len = BIO_get_mem_data(b, &p);
    if (len < 0 || (size_t)len >= n) {
        BIO_free(b);
        return kl_err_set(KL_ETOOBIG, "certificate subject longer than %zu bytes", n - 1);
    }
    memcpy(buf, p, (size_t)len);
    buf[len] = '\0';
    BIO_free(b);
    return KL_OK;
}

kl_rc
kl_certgen_serial(const X509 *x, uint64_t *out)
{
    if (!ASN1_INTEGER_get_uint64(out, X509_get0_serialNumber(x))) {
        ERR_clear_error();
        return kl_err_set(KL_EUNSUPPORTED, "certificate serial number is not a 64-bit integer");
    }
    return KL_OK;
}
