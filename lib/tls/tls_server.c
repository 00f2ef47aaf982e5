/* tls_server: the OpenSSL context of our HTTPS listeners (PROTOCOL.md 11.4).
 *
 * TLS 1.2 and 1.3 only, Mozilla "intermediate" cipher list for TLS 1.2,
 * no compression, no renegotiation, no session tickets. The client
 * certificate is requested and verified against the configured CA files;
 * the agent requires one, the verifier and registrar accept none (a
 * certificate that is sent must still verify, as Python's CERT_OPTIONAL).
 * SSL_MODE_RELEASE_BUFFERS keeps idle connections small (agent RSS cap).
 */
#include <stdint.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tls/tls.h"

/* Mozilla intermediate (v5.7) for TLS 1.2; TLS 1.3 suites stay OpenSSL's. */
#define TLS12_CIPHERS                                                                              \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                                   \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                                   \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"                                   \
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"

static const unsigned char session_ctx_id[] = "keylime-c";

static int
password_cb(char *buf, int size, int rwflag, void *userdata)
{
    const char *pw = userdata;
    size_t n;

    (void)rwflag;
    if (pw == NULL || size <= 0)
        return 0;
    n = strlen(pw);
    if (n > (size_t)size)
        return -1;
    memcpy(buf, pw, n);
    return (int)n;
}

static kl_rc
ssl_fail(const char *what, const char *file)
{
    unsigned long e = ERR_peek_last_error();
    char detail[256];

    ERR_error_string_n(e, detail, sizeof(detail));
    ERR_clear_error();
    return kl_err_set(KL_ECRYPTO, "tls: %s '%s': %s", what, file ? file : "", detail);
}

static kl_rc
load_identity(SSL_CTX *ctx, const kl_tls_server_opts *o)
{
    kl_rc rc = KL_OK;
    const char *pw = (o->key_password && o->key_password[0]) ? o->key_password : NULL;

    if (o->cert_file == NULL || o->key_file == NULL)
        return kl_err_set(KL_EINVAL, "tls: server certificate and key files are required");
    if (SSL_CTX_use_certificate_chain_file(ctx, o->cert_file) != 1)
        return ssl_fail("cannot load the certificate (chain) from", o->cert_file);
    SSL_CTX_set_default_passwd_cb(ctx, password_cb);
    SSL_CTX_set_default_passwd_cb_userdata(ctx, (void *)(uintptr_t)pw);
    if (SSL_CTX_use_PrivateKey_file(ctx, o->key_file, SSL_FILETYPE_PEM) != 1) {
        if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH)
            rc = ssl_fail("the private key does not match the certificate; key file",
                          o->key_file);
        else
            rc = ssl_fail("cannot load the private key (wrong password?) from", o->key_file);
        goto out;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        rc = ssl_fail("the private key does not match the certificate; key file", o->key_file);
        goto out;
    }
out:
    /* the password is not kept past loading */
    SSL_CTX_set_default_passwd_cb_userdata(ctx, NULL);
    return rc;
}

static kl_rc
load_client_cas(SSL_CTX *ctx, const kl_tls_server_opts *o)
{
    STACK_OF(X509_NAME) *names = sk_X509_NAME_new_null();
    kl_rc rc = KL_OK;
    int mode;

    if (names == NULL)
        return kl_err_set(KL_ENOMEM, "tls: out of memory");
    for (size_t i = 0; i < o->n_client_cas; i++) {
        const char *f = o->client_cas[i];
        if (SSL_CTX_load_verify_locations(ctx, f, NULL) != 1) {
            rc = ssl_fail("cannot load trusted client CAs from", f);
            goto out;
        }
        if (SSL_add_file_cert_subjects_to_stack(names, f) != 1) {
            rc = ssl_fail("no CA certificate in", f);
            goto out;
        }
    }
    if (o->n_client_cas == 0) {
        if (o->client_auth == KL_TLS_CLIENT_REQUIRED) {
            rc = kl_err_set(KL_EINVAL, "tls: client certificates are required but no "
                                       "trusted client CA is configured (trusted_client_ca)");
            goto out;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
        goto out;
    }
    SSL_CTX_set_client_CA_list(ctx, names);
    names = NULL;
    mode = SSL_VERIFY_PEER;
    if (o->client_auth == KL_TLS_CLIENT_REQUIRED)
        mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx, mode, NULL);
out:
    sk_X509_NAME_pop_free(names, X509_NAME_free);
    return rc;
}

kl_rc
kl_tls_server_ctx(SSL_CTX **out, const kl_tls_server_opts *o)
{
    SSL_CTX *ctx = NULL;
    kl_rc rc;

    *out = NULL;
    ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        return ssl_fail("cannot create a server context", NULL);
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1) {
        rc = ssl_fail("cannot set the protocol versions/ciphers", NULL);
        goto out;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_id_context(ctx, session_ctx_id, sizeof(session_ctx_id) - 1);
    rc = load_identity(ctx, o);
    if (rc != KL_OK)
        goto out;
    rc = load_client_cas(ctx, o);
    if (rc != KL_OK)
        goto out;
    *out = ctx;
    ctx = NULL;
out:
    SSL_CTX_free(ctx);
    return rc;
}

X509 *
kl_tls_verified_peer(SSL *ssl)
{
    X509 *peer;

    if (ssl == NULL || !SSL_is_init_finished(ssl))
        return NULL;
    peer = SSL_get0_peer_certificate(ssl);
    if (peer == NULL || SSL_get_verify_result(ssl) != X509_V_OK)
        return NULL;
    return peer;
}
