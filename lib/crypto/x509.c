#include "crypto/x509.h"

#include "crypto/crypto_int.h"
#include "util/kl_alloc.h"

#include <limits.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <stdio.h>
#include <string.h>

#define DER_MAX_DEPTH 32

struct kl_x509 {
    X509 *x;
    kl_buf der; /* the encoding as received */
};

typedef struct {
    X509 *x;
    char *origin;
} anchor;

struct kl_x509_store {
    anchor *items;
    size_t count, cap;
};

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

static kl_rc
wrap(kl_x509 **out, X509 *x, kl_bytes der)
{
    kl_x509 *c = kl_calloc(1, sizeof(*c));
    kl_rc rc;

    if (!c) {
        X509_free(x);
        return kl_err_set(KL_ENOMEM, "out of memory");
    }
    c->x = x;
    kl_buf_init(&c->der, (size_t)1 << 24);
    rc = kl_buf_append(&c->der, der.ptr, der.len);
    if (rc != KL_OK) {
        kl_x509_free(c);
        return rc;
    }
    *out = c;
    return KL_OK;
}

kl_rc
kl_x509_from_der_prefix(kl_x509 **out, kl_bytes der, size_t *used)
{
    const unsigned char *p = der.ptr;
    X509 *x;

    *out = NULL;
    *used = 0;
    if (der.len == 0 || der.len > INT_MAX)
        return kl_err_set(KL_EPARSE, "certificate of %zu bytes", der.len);
    x = d2i_X509(NULL, &p, (long)der.len);
    ERR_clear_error();
    if (!x)
        return kl_err_set(KL_EPARSE, "not a DER X.509 certificate");
    *used = (size_t)(p - der.ptr);
    return wrap(out, x, KL_BYTES(der.ptr, *used));
}

kl_rc
kl_x509_from_der(kl_x509 **out, kl_bytes der)
{
    size_t used;
    kl_rc rc = kl_x509_from_der_prefix(out, der, &used);

    if (rc == KL_OK && used != der.len) {
        kl_x509_free(*out);
        *out = NULL;
        return kl_err_set(KL_EPARSE, "%zu bytes after the DER certificate", der.len - used);
    }
    return rc;
}

/* The next PEM certificate from bio, NULL at the end; *damaged when a
 * block could not be decoded. */
static X509 *
next_pem(BIO *bio, bool *damaged)
{
    X509 *x = PEM_read_bio_X509(bio, NULL, kl_crypto_no_passphrase, NULL);
    unsigned long e = ERR_peek_last_error();

    *damaged =
        !x && e && !(ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE);
    ERR_clear_error();
    return x;
}

kl_rc
kl_x509_from_pem(kl_x509 **out, kl_bytes text)
{
    unsigned char *der = NULL;
    char *name = NULL;
    long len = 0;
    BIO *bio;
    kl_rc rc;

    *out = NULL;
    if (text.len > INT_MAX)
        return kl_err_set(KL_ETOOBIG, "PEM data too large");
    bio = BIO_new_mem_buf(text.ptr, (int)text.len);
    if (!bio)
        return kl_err_set(KL_ENOMEM, "out of memory");
    /* the block's bytes exactly as sent, so that DER strictness is judged
     * on them and not on a re-encoding */
    if (!PEM_bytes_read_bio(&der, &len, &name, PEM_STRING_X509, bio, kl_crypto_no_passphrase,
                            NULL)) {
        BIO_free(bio);
        ERR_clear_error();
        return kl_err_set(KL_EPARSE, "no PEM certificate");
    }
    BIO_free(bio);
    rc = kl_x509_from_der(out, KL_BYTES(der, (size_t)len));
    OPENSSL_free(der);
    OPENSSL_free(name);
    return rc;
}

kl_rc
kl_x509_load(kl_x509 **out, kl_bytes data)
{
    if (data.len && memmem(data.ptr, data.len, "-----BEGIN", 10))
        return kl_x509_from_pem(out, data);
    return kl_x509_from_der(out, data);
}

void
kl_x509_free(kl_x509 *c)
{
    if (!c)
        return;
    X509_free(c->x);
    kl_buf_free(&c->der);
    kl_free(c);
}

kl_bytes
kl_x509_der(const kl_x509 *c)
{
    return kl_buf_bytes(&c->der);
}

kl_rc
kl_x509_pubkey(const kl_x509 *c, kl_pubkey **out)
{
    EVP_PKEY *pkey = X509_get_pubkey(c->x);

    *out = NULL;
    if (!pkey) {
        ERR_clear_error();
        return kl_err_set(KL_EUNSUPPORTED, "the certificate's public key cannot be read");
    }
    return kl_pubkey_wrap(out, pkey);
}

static void
name_text(const X509_NAME *name, char *buf, size_t n)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data;
    long len;

    if (n == 0)
        return;
    buf[0] = 0;
    if (!bio)
        return;
    if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        len = BIO_get_mem_data(bio, &data);
        snprintf(buf, n, "%.*s", (int)(len < 0 ? 0 : len), data);
    }
    BIO_free(bio);
    ERR_clear_error();
}

void
kl_x509_subject(const kl_x509 *c, char *buf, size_t n)
{
    name_text(X509_get_subject_name(c->x), buf, n);
}

void
kl_x509_issuer(const kl_x509 *c, char *buf, size_t n)
{
    name_text(X509_get_issuer_name(c->x), buf, n);
}

bool
kl_x509_subject_cn(const kl_x509 *c, char *buf, size_t n)
{
    const X509_NAME *name = X509_get_subject_name(c->x);
    int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    unsigned char *utf8 = NULL;
    int len;
    bool ok;

    if (n == 0)
        return false;
    buf[0] = 0;
    if (i < 0 || X509_NAME_get_index_by_NID(name, NID_commonName, i) >= 0)
        return false;
    len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
    ok = len >= 0 && (size_t)len < n && !memchr(utf8, 0, (size_t)len);
    if (ok) {
        memcpy(buf, utf8, (size_t)len);
        buf[len] = 0;
    }
    OPENSSL_free(utf8);
    ERR_clear_error();
    return ok;
}

/* --- strict DER --- */

typedef struct {
    uint8_t tag; /* first identifier octet */
    const uint8_t *content;
    size_t len;
    size_t total; /* identifier + length + content */
} tlv;

/* Reads one TLV from p[0..n); false when it is not DER (or not BER). */
static bool
read_tlv(const uint8_t *p, size_t n, tlv *t)
{
    size_t off = 1, len = 0;

    if (n < 2)
        return false;
    t->tag = p[0];
    if ((p[0] & 0x1f) == 0x1f) { /* high tag number: base-128, minimal */
        if (p[off] == 0x80)
            return false;
        while (off < n && (p[off] & 0x80))
            off++;
        if (++off >= n)
            return false;
    }
    if (p[off] < 0x80) {
        len = p[off++];
    } else {
        size_t k = p[off++] & 0x7f;

        /* 0x80 (indefinite), leading zeros, or a long form for < 128 */
        if (k == 0 || k > sizeof(size_t) || off + k > n || p[off] == 0)
            return false;
        for (size_t i = 0; i < k; i++)
            len = len << 8 | p[off++];
        if (len < 0x80)
            return false;
    }
    if (len > n - off)
        return false;
    t->content = p + off;
    t->len = len;
    t->total = off + len;
    return true;
}

static int
cmp_encoding(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);

    return c ? c : (an > bn) - (an < bn);
}

static bool strict_der(const uint8_t *p, size_t n, int depth);

/* The content of a constructed TLV: children in a row, a SET's in DER order. */
static bool
strict_children(const tlv *t, int depth)
{
    const uint8_t *prev = NULL, *p = t->content;
    size_t prev_len = 0, left = t->len;

    while (left) {
        tlv c;

        if (!read_tlv(p, left, &c) || !strict_der(p, c.total, depth + 1))
            return false;
        if (t->tag == 0x31 && prev && cmp_encoding(prev, prev_len, p, c.total) > 0)
            return false;
        prev = p;
        prev_len = c.total;
        p += c.total;
        left -= c.total;
    }
    return true;
}

static bool
strict_der(const uint8_t *p, size_t n, int depth)
{
    tlv t;

    if (depth > DER_MAX_DEPTH || !read_tlv(p, n, &t) || t.total != n)
        return false;
    if (t.tag == 0x01) /* BOOLEAN */
        return t.len == 1 && (t.content[0] == 0 || t.content[0] == 0xff);
    if (t.tag == 0x02) /* INTEGER: minimal two's complement */
        return t.len > 0 && !(t.len > 1 && ((t.content[0] == 0 && !(t.content[1] & 0x80)) ||
                                            (t.content[0] == 0xff && (t.content[1] & 0x80))));
    if (!(t.tag & 0x20))
        return true;
    /* universal string types are primitive in DER */
    if ((t.tag & 0xc0) == 0 && (t.tag & 0x1f) != 0x10 && (t.tag & 0x1f) != 0x11)
        return false;
    return strict_children(&t, depth);
}

bool
kl_x509_is_strict_der(const kl_x509 *c)
{
    return c->der.len && strict_der(c->der.ptr, c->der.len, 0);
}

/* --- stores --- */

kl_rc
kl_x509_store_new(kl_x509_store **out)
{
    *out = kl_calloc(1, sizeof(**out));
    return *out ? KL_OK : kl_err_set(KL_ENOMEM, "out of memory");
}

void
kl_x509_store_free(kl_x509_store *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->count; i++) {
        X509_free(s->items[i].x);
        kl_free(s->items[i].origin);
    }
    kl_free(s->items);
    kl_free(s);
}

size_t
kl_x509_store_count(const kl_x509_store *s)
{
    return s->count;
}

static kl_rc
store_add(kl_x509_store *s, X509 *x, const char *origin)
{
    if (s->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        anchor *items = kl_reallocarray(s->items, cap, sizeof(*items));

        if (!items) {
            X509_free(x);
            return kl_err_set(KL_ENOMEM, "out of memory");
        }
        s->items = items;
        s->cap = cap;
    }
    s->items[s->count].origin = kl_strdup(origin ? origin : "");
    if (!s->items[s->count].origin) {
        X509_free(x);
        return kl_err_set(KL_ENOMEM, "out of memory");
    }
    s->items[s->count++].x = x;
    return KL_OK;
}

kl_rc
kl_x509_store_add_pem(kl_x509_store *s, kl_bytes text, const char *origin, size_t *added)
{
    bool damaged = false;
    kl_rc rc = KL_OK;
    BIO *bio;
    X509 *x;

    *added = 0;
    if (text.len > INT_MAX)
        return kl_err_set(KL_ETOOBIG, "PEM data too large");
    bio = BIO_new_mem_buf(text.ptr, (int)text.len);
    if (!bio)
        return kl_err_set(KL_ENOMEM, "out of memory");
    while (rc == KL_OK && (x = next_pem(bio, &damaged)) != NULL) {
        rc = store_add(s, x, origin);
        if (rc == KL_OK)
            (*added)++;
    }
    BIO_free(bio);
    if (rc == KL_OK && damaged)
        rc = kl_err_set(KL_EPARSE, "%s: damaged PEM certificate after %zu good ones",
                        origin ? origin : "PEM data", *added);
    return rc;
}

static void
set_anchor(kl_x509_check *out, const kl_x509_store *s, X509 *x)
{
    for (size_t i = 0; i < s->count; i++) {
        if (X509_cmp(s->items[i].x, x) == 0) {
            snprintf(out->anchor, sizeof(out->anchor), "%s", s->items[i].origin);
            return;
        }
    }
}

/* OpenSSL's chain verification with every store certificate trusted. */
static kl_rc
verify_chain(const kl_x509_store *s, const kl_x509 *cert, const kl_x509 *const *untrusted, size_t n,
             kl_x509_check *out)
{
    X509_STORE *st = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    STACK_OF(X509) *chain = sk_X509_new_null();
    kl_rc rc = KL_OK;
    int r;

    if (!st || !ctx || !chain) {
        rc = kl_err_set(KL_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < s->count; i++) {
        if (!X509_STORE_add_cert(st, s->items[i].x))
            ERR_clear_error(); /* a duplicate */
    }
    for (size_t i = 0; i < n; i++) {
        if (!sk_X509_push(chain, untrusted[i]->x)) {
            rc = kl_err_set(KL_ENOMEM, "out of memory");
            goto out;
        }
    }
    X509_STORE_set_flags(st, X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_NO_CHECK_TIME |
                                 X509_V_FLAG_IGNORE_CRITICAL);
    if (!X509_STORE_CTX_init(ctx, st, cert->x, chain)) {
        rc = kl_crypto_err("setting up certificate verification");
        goto out;
    }
    r = X509_verify_cert(ctx);
    if (r == 1) {
        STACK_OF(X509) *built = X509_STORE_CTX_get0_chain(ctx);

        out->ok = true;
        set_anchor(out, s, sk_X509_value(built, sk_X509_num(built) - 1));
    } else {
        snprintf(out->detail, sizeof(out->detail), "%s",
                 X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
    }
out:
    ERR_clear_error();
    sk_X509_free(chain);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(st);
    return rc;
}

/* upstream's verify_cert: a store certificate whose subject is the
 * certificate's issuer and whose key verifies its signature. */
static void
verify_direct(const kl_x509_store *s, const kl_x509 *cert, kl_x509_check *out)
{
    const X509_NAME *issuer = X509_get_issuer_name(cert->x);

    for (size_t i = 0; i < s->count && !out->ok; i++) {
        EVP_PKEY *key;

        if (X509_NAME_cmp(issuer, X509_get_subject_name(s->items[i].x)) != 0)
            continue;
        key = X509_get0_pubkey(s->items[i].x);
        if (key && X509_verify(cert->x, key) == 1) {
            out->ok = out->direct = true;
            snprintf(out->anchor, sizeof(out->anchor), "%s", s->items[i].origin);
        }
    }
    ERR_clear_error();
}

kl_rc
kl_x509_store_verify(const kl_x509_store *s, const kl_x509 *cert, const kl_x509 *const *untrusted,
                     size_t n, kl_x509_check *out)
{
    kl_rc rc;

    memset(out, 0, sizeof(*out));
    rc = verify_chain(s, cert, untrusted, n, out);
    if (rc == KL_OK && !out->ok)
        verify_direct(s, cert, out);
    return rc;
}
