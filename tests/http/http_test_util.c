/* http_test_util: see the header. */
#include "http_test_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "util/kl_alloc.h"
#include "util/kl_file.h"

static bool
add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    bool ok;

    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL)
        return false;
    ok = X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

/* A certificate for key, signed by issuer/ikey (self-signed when NULL). */
static X509 *
make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey, bool ca, const char *san)
{
    X509 *c = X509_new();
    static long serial = 1;
    X509_NAME *name;

    if (c == NULL)
        return NULL;
    X509_set_version(c, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(c), serial++);
    X509_gmtime_adj(X509_getm_notBefore(c), -3600);
    X509_gmtime_adj(X509_getm_notAfter(c), 86400);
    X509_set_pubkey(c, key);
    name = X509_get_subject_name(c);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : name);
    if (!add_ext(c, issuer ? issuer : c, NID_basic_constraints,
                 ca ? "critical,CA:TRUE" : "CA:FALSE") ||
        (san != NULL && !add_ext(c, issuer ? issuer : c, NID_subject_alt_name, san)) ||
        X509_sign(c, ikey ? ikey : key, EVP_sha256()) == 0) {
        X509_free(c);
        return NULL;
    }
    return c;
}

static bool
write_pem(const char *path, X509 *cert, EVP_PKEY *key)
{
    FILE *f = fopen(path, "w");
    bool ok;

    if (f == NULL)
        return false;
    ok = cert ? PEM_write_X509(f, cert) == 1
              : PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1;
    fclose(f);
    return ok;
}

/* Makes a key and a certificate and writes both. */
static bool
issue(const char *cert_path, const char *key_path, const char *cn, X509 *issuer, EVP_PKEY *ikey,
      bool ca, const char *san, X509 **cert_out, EVP_PKEY **key_out)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *cert = key ? make_cert(key, cn, issuer, ikey, ca, san) : NULL;
    bool ok = cert != NULL && write_pem(cert_path, cert, NULL) && write_pem(key_path, NULL, key);

    if (ok && cert_out != NULL) {
        *cert_out = cert;
        cert = NULL;
    }
    if (ok && key_out != NULL) {
        *key_out = key;
        key = NULL;
    }
    X509_free(cert);
    EVP_PKEY_free(key);
    return ok;
}

#define PATH(field, name) snprintf(c->field, sizeof(c->field), "%s/" name, c->dir)

bool
test_certs_make(test_certs *c)
{
    X509 *ca = NULL, *oca = NULL;
    EVP_PKEY *cakey = NULL, *ocakey = NULL;
    char cakeyp[128], ocakeyp[128];
    kl_buf b;
    bool ok;

    memset(c, 0, sizeof(*c));
    snprintf(c->dir, sizeof(c->dir), "/tmp/kl-http-test-XXXXXX");
    if (mkdtemp(c->dir) == NULL)
        return false;
    PATH(ca, "ca.pem"), PATH(server, "server.pem"), PATH(server_key, "server.key");
    PATH(client, "client.pem"), PATH(client_key, "client.key");
    PATH(other_ca, "other-ca.pem"), PATH(other_client, "other-client.pem");
    PATH(other_client_key, "other-client.key"), PATH(self, "self.pem");
    PATH(self_key, "self.key");
    snprintf(cakeyp, sizeof(cakeyp), "%s/ca.key", c->dir);
    snprintf(ocakeyp, sizeof(ocakeyp), "%s/other-ca.key", c->dir);
    ok = issue(c->ca, cakeyp, "test CA", NULL, NULL, true, NULL, &ca, &cakey) &&
         issue(c->other_ca, ocakeyp, "other CA", NULL, NULL, true, NULL, &oca, &ocakey) &&
         issue(c->server, c->server_key, "server", ca, cakey, false, "DNS:nowhere.invalid", NULL,
               NULL) &&
         issue(c->client, c->client_key, "admin-client", ca, cakey, false, NULL, NULL, NULL) &&
         issue(c->other_client, c->other_client_key, "intruder", oca, ocakey, false, NULL, NULL,
               NULL) &&
         issue(c->self, c->self_key, "agent-self", NULL, NULL, false, "DNS:agent.invalid", NULL,
               NULL);
    X509_free(ca);
    X509_free(oca);
    EVP_PKEY_free(cakey);
    EVP_PKEY_free(ocakey);
    kl_buf_init(&b, 1 << 16);
    if (ok && kl_file_read(c->self, &b) == KL_OK && kl_buf_terminate(&b) == KL_OK)
        c->self_pem = (char *)kl_buf_take(&b, NULL);
    else
        ok = false;
    kl_buf_free(&b);
    return ok;
}

void
test_certs_remove(test_certs *c)
{
    static const char *const names[] = {
        "ca.pem",           "ca.key",           "server.pem",       "server.key",
        "client.pem",       "client.key",       "other-ca.pem",     "other-ca.key",
        "other-client.pem", "other-client.key", "self.pem",         "self.key",
    };
    char p[160];

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", c->dir, names[i]);
        unlink(p);
    }
    rmdir(c->dir);
    kl_free(c->self_pem);
    c->self_pem = NULL;
}

static void
expire_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    *(bool *)arg = true;
}

bool
test_pump_until(struct event_base *base, const bool *flag, unsigned ms)
{
    bool expired = false;
    struct event *t = evtimer_new(base, expire_cb, &expired);
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

    evtimer_add(t, &tv);
    while (!*flag && !expired)
        event_base_loop(base, EVLOOP_ONCE);
    event_free(t);
    return *flag;
}

typedef struct {
    bool closed;
    int fd;
    kl_buf *out;
    const char *data;
    size_t len, sent;
    struct event *trickle;
} raw_state;

static void
raw_read_cb(evutil_socket_t fd, short what, void *arg)
{
    raw_state *st = arg;
    char buf[4096];
    ssize_t n;

    (void)what;
    n = recv(fd, buf, sizeof(buf), 0);
    if (n > 0) {
        if (kl_buf_append(st->out, buf, (size_t)n) != KL_OK)
            st->closed = true;
    } else if (n == 0 || (n < 0 && errno != EAGAIN)) {
        st->closed = true;
    }
}

static void
raw_trickle_cb(evutil_socket_t fd, short what, void *arg)
{
    raw_state *st = arg;

    (void)fd;
    (void)what;
    if (st->sent < st->len && send(st->fd, st->data + st->sent, 1, MSG_NOSIGNAL) == 1)
        st->sent++;
}

bool
test_raw_exchange(struct event_base *base, uint16_t port, const char *data, size_t len,
                  unsigned trickle_ms, kl_buf *out, unsigned ms)
{
    struct sockaddr_in sin = {0};
    raw_state st = {false, -1, out, data, len, 0, NULL};
    struct event *rd;
    struct timeval tv = {trickle_ms / 1000, (trickle_ms % 1000) * 1000};

    st.fd = socket(AF_INET, SOCK_STREAM, 0);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (st.fd < 0 || connect(st.fd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
        return false;
    fcntl(st.fd, F_SETFL, O_NONBLOCK);
    if (trickle_ms == 0) {
        while (st.sent < len) {
            ssize_t n = send(st.fd, data + st.sent, len - st.sent, MSG_NOSIGNAL);
            if (n <= 0)
                break;
            st.sent += (size_t)n;
        }
    } else {
        st.trickle = event_new(base, -1, EV_PERSIST, raw_trickle_cb, &st);
        evtimer_add(st.trickle, &tv);
    }
    rd = event_new(base, st.fd, EV_READ | EV_PERSIST, raw_read_cb, &st);
    event_add(rd, NULL);
    test_pump_until(base, &st.closed, ms);
    event_free(rd);
    if (st.trickle != NULL)
        event_free(st.trickle);
    close(st.fd);
    return st.closed;
}
