/* certs_util: see certs_util.h. */
#include "certs_util.h"

/* cmocka.h needs the standard headers before it: keep this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <ftw.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "util/kl_alloc.h"
#include "util/kl_buf.h"
#include "util/kl_file.h"
/* clang-format on */

void
certs_tmpdir(char *dir)
{
    const char *t = getenv("TMPDIR");

    snprintf(dir, PATH_MAX, "%s/kltls.XXXXXX", t && *t ? t : "/tmp");
    assert_non_null(mkdtemp(dir));
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void
certs_rmtree(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *
certs_path(const char *dir, const char *name)
{
    static char buf[PATH_MAX];

    snprintf(buf, sizeof(buf), "%s/%s", dir, name);
    return buf;
}

int
certs_mode(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

X509 *
certs_parse(const void *pem, size_t len)
{
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;

    BIO_free(b);
    assert_non_null(x);
    return x;
}

void
certs_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

X509 *
certs_load(const char *path)
{
    FILE *f = fopen(path, "r");
    X509 *x;

    assert_non_null(f);
    x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(x);
    return x;
}

bool
certs_chains(const char *ca_file, X509 *leaf)
{
    X509_STORE *st = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    bool ok = st && ctx && X509_STORE_load_file(st, ca_file) &&
              X509_STORE_CTX_init(ctx, st, leaf, NULL) && X509_verify_cert(ctx) == 1;

    X509_STORE_CTX_free(ctx);
    X509_STORE_free(st);
    return ok;
}

static bool
san_matches(const GENERAL_NAME *g, const char *name)
{
    unsigned char ip[16];
    int iplen = inet_pton(AF_INET, name, ip) == 1 ? 4 : inet_pton(AF_INET6, name, ip) == 1 ? 16 : 0;

    if (g->type == GEN_DNS && !iplen)
        return (size_t)ASN1_STRING_length(g->d.dNSName) == strlen(name) &&
               memcmp(ASN1_STRING_get0_data(g->d.dNSName), name, strlen(name)) == 0;
    if (g->type == GEN_IPADD && iplen)
        return ASN1_STRING_length(g->d.iPAddress) == iplen &&
               memcmp(ASN1_STRING_get0_data(g->d.iPAddress), ip, (size_t)iplen) == 0;
    return false;
}

bool
certs_has_san(X509 *x, const char *name)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    bool found = false;

    for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++)
        found = found || san_matches(sk_GENERAL_NAME_value(gens, i), name);
    GENERAL_NAMES_free(gens);
    return found;
}

char *
certs_slurp(const char *path, size_t *len)
{
    kl_buf b;

    kl_buf_init(&b, 1u << 24);
    assert_int_equal(kl_file_read(path, &b), KL_OK);
    assert_int_equal(kl_buf_terminate(&b), KL_OK);
    if (len)
        *len = b.len;
    return (char *)kl_buf_take(&b, NULL);
}
