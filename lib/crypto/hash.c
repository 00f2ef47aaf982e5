#include "crypto/hash.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "crypto/crypto_int.h"
#include "util/kl_alloc.h"

struct kl_hasher {
    EVP_MD_CTX *ctx;
};

static const struct {
    const char *name;
    const char *ossl;
    size_t size;
} algs[KL_HASH_COUNT] = {
    [KL_HASH_SHA1] = {"sha1", "SHA1", 20},
    [KL_HASH_SHA256] = {"sha256", "SHA256", 32},
    [KL_HASH_SHA384] = {"sha384", "SHA384", 48},
    [KL_HASH_SHA512] = {"sha512", "SHA512", 64},
    [KL_HASH_SM3_256] = {"sm3_256", "SM3", 32},
    [KL_HASH_SHA224] = {"sha224", "SHA224", 28},
    [KL_HASH_MD5] = {"md5", "MD5", 16},
};

static EVP_MD *mds[KL_HASH_COUNT];
static pthread_once_t mds_once = PTHREAD_ONCE_INIT;

static void
fetch_mds(void)
{
    for (int i = 0; i < KL_HASH_COUNT; i++) {
        mds[i] = EVP_MD_fetch(NULL, algs[i].ossl, NULL);
        ERR_clear_error();
    }
}

const EVP_MD *
kl_hash_md(kl_hash_alg alg)
{
    if ((unsigned)alg >= KL_HASH_COUNT)
        return NULL;
    pthread_once(&mds_once, fetch_mds);
    return mds[alg];
}

kl_rc
kl_crypto_err(const char *what)
{
    char detail[256] = "no detail from OpenSSL";
    unsigned long e = ERR_peek_last_error();

    if (e)
        ERR_error_string_n(e, detail, sizeof(detail));
    ERR_clear_error();
    return kl_err_set(KL_ECRYPTO, "%s: %s", what, detail);
}

int
kl_crypto_no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

size_t
kl_hash_size(kl_hash_alg alg)
{
    return (unsigned)alg < KL_HASH_COUNT ? algs[alg].size : 0;
}

const char *
kl_hash_name(kl_hash_alg alg)
{
    return (unsigned)alg < KL_HASH_COUNT ? algs[alg].name : "unknown";
}

bool
kl_hash_from_name(kl_bytes name, kl_hash_alg *out)
{
    for (int i = 0; i < KL_HASH_COUNT; i++) {
        if (kl_bytes_eq_str(name, algs[i].name)) {
            *out = (kl_hash_alg)i;
            return true;
        }
    }
    return false;
}

bool
kl_hash_from_size(size_t size, kl_hash_alg *out)
{
    for (int i = KL_HASH_SHA1; i <= KL_HASH_SHA512; i++) {
        if (algs[i].size == size) {
            *out = (kl_hash_alg)i;
            return true;
        }
    }
    return false;
}

kl_rc
kl_hasher_new(kl_hasher **out)
{
    kl_hasher *h = kl_calloc(1, sizeof(*h));

    *out = NULL;
    if (!h)
        return kl_err_set(KL_ENOMEM, "out of memory");
    h->ctx = EVP_MD_CTX_new();
    if (!h->ctx) {
        kl_free(h);
        return kl_err_set(KL_ENOMEM, "out of memory");
    }
    *out = h;
    return KL_OK;
}

void
kl_hasher_free(kl_hasher *h)
{
    if (!h)
        return;
    EVP_MD_CTX_free(h->ctx);
    kl_free(h);
}

kl_rc
kl_hasher_start(kl_hasher *h, kl_hash_alg alg)
{
    const EVP_MD *md = kl_hash_md(alg);

    if (!md)
        return kl_err_set(KL_EUNSUPPORTED, "hash algorithm %s is not available in OpenSSL",
                          kl_hash_name(alg));
    if (!EVP_DigestInit_ex2(h->ctx, md, NULL))
        return kl_crypto_err("digest init");
    return KL_OK;
}

kl_rc
kl_hasher_update(kl_hasher *h, const void *p, size_t n)
{
    if (!EVP_DigestUpdate(h->ctx, p, n))
        return kl_crypto_err("digest update");
    return KL_OK;
}

kl_rc
kl_hasher_finish(kl_hasher *h, uint8_t *out)
{
    if (!EVP_DigestFinal_ex(h->ctx, out, NULL))
        return kl_crypto_err("digest final");
    return KL_OK;
}

kl_rc
kl_hasher_digest2(kl_hasher *h, kl_hash_alg alg, const void *a, size_t an, const void *b,
                  size_t bn, uint8_t *out)
{
    kl_rc rc = kl_hasher_start(h, alg);

    if (rc == KL_OK)
        rc = kl_hasher_update(h, a, an);
    if (rc == KL_OK && bn)
        rc = kl_hasher_update(h, b, bn);
    if (rc == KL_OK)
        rc = kl_hasher_finish(h, out);
    return rc;
}

kl_rc
kl_hasher_digest(kl_hasher *h, kl_hash_alg alg, const void *p, size_t n, uint8_t *out)
{
    return kl_hasher_digest2(h, alg, p, n, NULL, 0, out);
}

kl_rc
kl_hash(kl_hash_alg alg, const void *p, size_t n, uint8_t *out)
{
    kl_hasher *h = NULL;
    kl_rc rc = kl_hasher_new(&h);

    if (rc == KL_OK)
        rc = kl_hasher_digest(h, alg, p, n, out);
    kl_hasher_free(h);
    return rc;
}

kl_rc
kl_hash_file(kl_hash_alg alg, const char *path, uint8_t *out)
{
    uint8_t chunk[65536];
    kl_hasher *h = NULL;
    int fd = -1;
    kl_rc rc;

    rc = kl_hasher_new(&h);
    if (rc != KL_OK)
        goto out;
    rc = kl_hasher_start(h, alg);
    if (rc != KL_OK)
        goto out;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        rc = kl_err_set(KL_EIO, "cannot open %s: %s", path, strerror(errno));
        goto out;
    }
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = kl_err_set(KL_EIO, "reading %s: %s", path, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        rc = kl_hasher_update(h, chunk, (size_t)n);
        if (rc != KL_OK)
            goto out;
    }
    rc = kl_hasher_finish(h, out);
out:
    if (fd >= 0)
        close(fd);
    kl_hasher_free(h);
    return rc;
}
