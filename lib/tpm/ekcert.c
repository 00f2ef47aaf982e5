#define KL_LOGMODULE "tpm"
#include "tpm/ekcert.h"

#include "util/kl_alloc.h"
#include "util/kl_file.h"
#include "util/kl_log.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CERT_FILE_MAX ((size_t)4 << 20)

struct kl_ekcert_store {
    kl_x509_store *x509;
};

static kl_rc
add_file(kl_ekcert_store *s, const char *path)
{
    size_t added = 0;
    kl_buf text;
    kl_rc rc;

    kl_buf_init(&text, CERT_FILE_MAX);
    rc = kl_file_read(path, &text);
    if (rc == KL_OK)
        rc = kl_x509_store_add_pem(s->x509, kl_buf_bytes(&text), path, &added);
    if (rc == KL_EPARSE || rc == KL_EIO || rc == KL_ETOOBIG) {
        LOG_WARN("ignoring certificate file %s: %s", path, kl_err_msg());
        rc = KL_OK;
    } else if (rc == KL_OK && added == 0) {
        LOG_WARN("ignoring certificate file %s: no PEM certificate in it", path);
    }
    kl_buf_free(&text);
    return rc;
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
is_pem_name(const char *n)
{
    size_t len = strlen(n);

    return len > 4 && strcmp(n + len - 4, ".pem") == 0;
}

/* The *.pem names in dir, sorted (caller frees each and the array). */
static kl_rc
list_pem(const char *dir, char ***names, size_t *n)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    kl_rc rc = KL_OK;

    *names = NULL;
    *n = 0;
    if (!d)
        return kl_err_set(KL_EIO, "cannot open %s: %s", dir, strerror(errno));
    while (rc == KL_OK && (de = readdir(d)) != NULL) {
        char **grown;

        if (!is_pem_name(de->d_name))
            continue;
        grown = kl_reallocarray(*names, *n + 1, sizeof(**names));
        if (!grown) {
            rc = kl_err_set(KL_ENOMEM, "out of memory");
            break;
        }
        *names = grown;
        if (!((*names)[*n] = kl_strdup(de->d_name)))
            rc = kl_err_set(KL_ENOMEM, "out of memory");
        else
            (*n)++;
    }
    closedir(d);
    if (*n)
        qsort(*names, *n, sizeof(**names), cmp_names);
    return rc;
}

static kl_rc
add_dir(kl_ekcert_store *s, const char *dir)
{
    char **names = NULL;
    size_t n = 0;
    kl_rc rc = list_pem(dir, &names, &n);

    for (size_t i = 0; i < n; i++) {
        if (rc == KL_OK) {
            kl_buf path;

            kl_buf_init(&path, 8192);
            rc = kl_buf_printf(&path, "%s/%s", dir, names[i]);
            if (rc == KL_OK)
                rc = add_file(s, (const char *)path.ptr);
            kl_buf_free(&path);
        }
        kl_free(names[i]);
    }
    kl_free(names);
    return rc;
}

kl_rc
kl_ekcert_store_load(kl_ekcert_store **out, const char *path)
{
    kl_ekcert_store *s = kl_calloc(1, sizeof(*s));
    struct stat st;
    kl_rc rc;

    *out = NULL;
    if (!s)
        return kl_err_set(KL_ENOMEM, "out of memory");
    rc = kl_x509_store_new(&s->x509);
    if (rc == KL_OK && stat(path, &st) != 0)
        rc = kl_err_set(KL_EIO, "cannot read the certificate store %s: %s", path, strerror(errno));
    if (rc == KL_OK)
        rc = S_ISDIR(st.st_mode) ? add_dir(s, path) : add_file(s, path);
    if (rc == KL_OK && kl_x509_store_count(s->x509) == 0)
        rc = kl_err_set(KL_ENOTFOUND, "no certificate in the store %s", path);
    if (rc != KL_OK) {
        kl_ekcert_store_free(s);
        return rc;
    }
    *out = s;
    return KL_OK;
}

void
kl_ekcert_store_free(kl_ekcert_store *s)
{
    if (!s)
        return;
    kl_x509_store_free(s->x509);
    kl_free(s);
}

size_t
kl_ekcert_store_count(const kl_ekcert_store *s)
{
    return kl_x509_store_count(s->x509);
}

kl_rc
kl_ekcert_parse(kl_x509 **out, kl_bytes cert, size_t *trailing)
{
    size_t used = 0;
    kl_rc rc;

    if (trailing)
        *trailing = 0;
    if (cert.len && memmem(cert.ptr, cert.len, "-----BEGIN", 10))
        return kl_x509_from_pem(out, cert);
    rc = kl_x509_from_der_prefix(out, cert, &used);
    if (rc == KL_OK && trailing)
        *trailing = cert.len - used;
    return rc;
}

static void
judge(kl_ekcert_result *res, const kl_x509 *cert, const kl_x509_check *chk)
{
    char subject[256];

    res->valid = chk->ok;
    res->direct = chk->direct;
    res->nonstrict_der = !kl_x509_is_strict_der(cert);
    snprintf(res->issuer, sizeof(res->issuer), "%s", chk->anchor);
    kl_x509_subject(cert, subject, sizeof(subject));
    if (!subject[0]) { /* EK certificates often have an empty subject */
        char issuer[200];

        kl_x509_issuer(cert, issuer, sizeof(issuer));
        snprintf(subject, sizeof(subject), "issued by %s", issuer);
    }
    if (!chk->ok) {
        snprintf(res->reason, sizeof(res->reason), "No Root CA matched EK Certificate (%s)",
                 chk->detail);
        return;
    }
    if (res->trailing)
        LOG_WARN("EK certificate %s: ignoring %zu bytes after it", subject, res->trailing);
    if (res->nonstrict_der)
        LOG_WARN("EK certificate %s is not strict DER; accepted as its signature verifies "
                 "over the bytes sent (python-cryptography would reject it)",
                 subject);
    if (res->direct)
        LOG_WARN("EK certificate %s accepted by a direct signature check against %s; the "
                 "chain check failed: %s",
                 subject, chk->anchor, chk->detail);
}

kl_rc
kl_ekcert_verify(kl_ekcert_result *res, kl_bytes cert, const kl_ekcert_store *store,
                 const kl_bytes *intermediates, size_t n_intermediates)
{
    kl_x509 **inter = NULL, *c = NULL;
    kl_x509_check chk;
    size_t got = 0;
    kl_rc rc;

    memset(res, 0, sizeof(*res));
    rc = kl_ekcert_parse(&c, cert, &res->trailing);
    if (rc != KL_OK) {
        rc = kl_err_wrap(rc, "EK certificate: ");
        goto out;
    }
    if (n_intermediates && !(inter = kl_calloc(n_intermediates, sizeof(*inter)))) {
        rc = kl_err_set(KL_ENOMEM, "out of memory");
        goto out;
    }
    for (; got < n_intermediates; got++) {
        rc = kl_ekcert_parse(&inter[got], intermediates[got], NULL);
        if (rc != KL_OK) {
            rc = kl_err_wrap(rc, "EK certificate chain, certificate %zu: ", got + 1);
            goto out;
        }
    }
    rc = kl_x509_store_verify(store->x509, c, (const kl_x509 *const *)inter, got, &chk);
    if (rc == KL_OK)
        judge(res, c, &chk);
out:
    for (size_t i = 0; i < got; i++)
        kl_x509_free(inter[i]);
    kl_free(inter);
    kl_x509_free(c);
    return rc;
}

kl_rc
kl_ekcert_matches_ek(bool *same, kl_bytes cert, const kl_tpm_public *ek)
{
    kl_pubkey *key = NULL;
    kl_x509 *c = NULL;
    kl_rc rc;

    *same = false;
    rc = kl_ekcert_parse(&c, cert, NULL);
    if (rc == KL_OK)
        rc = kl_x509_pubkey(c, &key);
    if (rc == KL_OK)
        *same = kl_pubkey_eq(key, kl_tpm_public_key(ek));
    kl_pubkey_free(key);
    kl_x509_free(c);
    return rc;
}
