/* tenant_payload: the bootstrap key and what travels with it (upstream
 * init_add's -k/-p, -f and --cert/--include handling; PROTOCOL.md 5.1):
 *   -k FILE [-p FILE]  K, U, V from a key file, the payload as given
 *   -f FILE            K, V random, U = K xor V, FILE encrypted under K
 *   --cert DIR         a certificate package for the agent from the CA in
 *                      DIR (+ --include files), encrypted as with -f; the
 *                      RevocationNotifier key goes to the verifier. */
#include "payload/bootstrap.h"
#include "payload/payload_crypt.h"
#include "tenant.h"
#include "tls/ca.h"
#include "util/kl_alloc.h"
#include "util/kl_b64.h"
#include "util/kl_file.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INPUT_MAX ((size_t)256 << 20)

/* One line of the key file, decoded as Python's b64decode(readline()). */
static kl_rc
key_line(kl_bytes *rest, uint8_t *out, size_t *len, const char *path, int n)
{
    const uint8_t *nl = memchr(rest->ptr, '\n', rest->len);
    size_t used = nl ? (size_t)(nl - rest->ptr) + 1 : rest->len;
    kl_buf b;
    kl_rc rc;

    kl_buf_init(&b, 4096);
    rc = kl_b64_decode_lenient_append(&b, KL_BYTES(rest->ptr, used));
    if (rc == KL_OK && b.len > 32)
        rc = KL_EINVAL;
    if (rc == KL_OK) {
        memcpy(out, b.ptr, b.len);
        *len = b.len;
    }
    kl_buf_free_secret(&b);
    rest->ptr += used;
    rest->len -= used;
    if (rc != KL_OK)
        return kl_err_set(KL_EPARSE,
                          "key file %s: line %d is not the base64 of a 16 or 32-byte "
                          "key",
                          path, n);
    return KL_OK;
}

kl_rc
tenant_keyfile_read(tenant *t, const char *path)
{
    kl_buf text;
    kl_bytes rest;
    uint8_t x[32];
    kl_rc rc;

    kl_buf_init(&text, 1u << 20);
    rc = tenant_read_file(path, &text);
    rest = kl_buf_bytes(&text);
    if (rc == KL_OK)
        rc = key_line(&rest, t->k, &t->klen, path, 1);
    if (rc == KL_OK)
        rc = key_line(&rest, t->u, &t->ulen, path, 2);
    if (rc == KL_OK)
        rc = key_line(&rest, t->v, &t->vlen, path, 3);
    kl_buf_free_secret(&text);
    if (rc != KL_OK)
        return rc;
    if (kl_bootstrap_combine(x, KL_BYTES(t->u, t->ulen), KL_BYTES(t->v, t->vlen)) != KL_OK ||
        t->klen != t->ulen || !kl_ct_equal(x, t->k, t->klen)) {
        kl_wipe(x, sizeof(x));
        return kl_err_set(KL_EINVAL,
                          "key file %s must hold three base64 lines K, U, V of 16 or "
                          "32 bytes each with K = U xor V",
                          path);
    }
    kl_wipe(x, sizeof(x));
    return KL_OK;
}

kl_rc
tenant_payload_encrypt(tenant *t, kl_bytes plain)
{
    kl_rc rc = kl_bootstrap_split(t->k, t->u, t->v);

    t->klen = t->ulen = t->vlen = 32;
    kl_buf_reset(&t->payload);
    if (rc == KL_OK)
        rc = kl_payload_encrypt(&t->payload, KL_BYTES(t->k, t->klen), plain);
    t->have_payload = rc == KL_OK;
    return rc;
}

/* -p with -k: the file as given, which upstream sends as UTF-8 text. */
static kl_rc
read_payload(tenant *t, const char *path)
{
    json_t *probe;
    kl_rc rc = tenant_read_file(path, &t->payload);

    if (rc != KL_OK)
        return rc;
    probe = json_stringn(t->payload.len ? (const char *)t->payload.ptr : "", t->payload.len);
    if (!probe)
        return kl_err_set(KL_EINVAL,
                          "payload %s is not UTF-8 text; -p takes the base64 "
                          "ciphertext made with the -k key file's K",
                          path);
    json_decref(probe);
    t->have_payload = true;
    return KL_OK;
}

static kl_rc
encrypt_file(tenant *t, const char *path)
{
    kl_buf plain;
    kl_rc rc;

    kl_buf_init(&plain, INPUT_MAX);
    rc = tenant_read_file(path, &plain);
    if (rc == KL_OK)
        rc = tenant_payload_encrypt(t, kl_buf_bytes(&plain));
    kl_buf_free_secret(&plain);
    return rc;
}

typedef struct {
    kl_ca_pkg_file *files;
    kl_buf *data;
    char **names;
    size_t n;
} include_set;

static void
include_free(include_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        kl_buf_free_secret(&s->data[i]);
        kl_free(s->names[i]);
    }
    kl_free(s->files);
    kl_free(s->data);
    kl_free(s->names);
    memset(s, 0, sizeof(*s));
}

static int
by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The regular files directly in dir (upstream: next(os.walk(dir))[2]),
 * in name order. */
static kl_rc
list_files(const char *dir, include_set *s)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    struct stat st;
    char path[4096];
    kl_rc rc = KL_OK;

    if (!d)
        return kl_err_set(KL_EIO, "--include %s: %s", dir, strerror(errno));
    while (rc == KL_OK && (e = readdir(d)) != NULL) {
        char **grown;

        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (stat(path, &st) != 0 || S_ISDIR(st.st_mode))
            continue;
        grown = kl_realloc(s->names, (s->n + 1) * sizeof(char *));
        if (!grown || !(grown[s->n] = kl_strdup(e->d_name)))
            rc = kl_err_set(KL_ENOMEM, "out of memory");
        if (grown)
            s->names = grown;
        if (rc == KL_OK)
            s->n++;
    }
    closedir(d);
    if (rc == KL_OK && s->n)
        qsort(s->names, s->n, sizeof(char *), by_name);
    return rc;
}

static kl_rc
read_includes(const char *dir, include_set *s)
{
    struct stat st;
    char path[4096];
    kl_rc rc;

    if (stat(dir, &st) != 0) {
        tl_warn("Specified include directory %s does not exist. Skipping...", dir);
        return KL_OK;
    }
    rc = list_files(dir, s);
    if (rc == KL_OK && s->n) {
        s->files = kl_calloc(s->n, sizeof(*s->files));
        s->data = kl_calloc(s->n, sizeof(*s->data));
        if (!s->files || !s->data)
            rc = kl_err_set(KL_ENOMEM, "out of memory");
    }
    for (size_t i = 0; rc == KL_OK && i < s->n; i++) {
        kl_buf_init(&s->data[i], INPUT_MAX);
        snprintf(path, sizeof(path), "%s/%s", dir, s->names[i]);
        rc = tenant_read_file(path, &s->data[i]);
        s->files[i] = (kl_ca_pkg_file){s->names[i], kl_buf_bytes(&s->data[i])};
    }
    return rc;
}

static kl_rc
cert_metadata(tenant *t, const kl_ca_cert_info *info)
{
    json_t *m =
        json_pack("{s:I,s:s}", "cert_serial", (json_int_t)info->serial, "subject", info->subject);

    if (!m)
        return kl_err_set(KL_ENOMEM, "out of memory");
    json_decref(t->metadata);
    t->metadata = m;
    return KL_OK;
}

/* --cert: the package from the CA (created if missing, password from
 * ca.conf), encrypted; the revocation key and metadata for the verifier. */
static kl_rc
cert_package(tenant *t, const char *ca_dir, const char *incl_dir)
{
    char *dir = NULL, *cacert = NULL;
    include_set inc = {0};
    kl_ca_conf conf;
    kl_ca_params params;
    kl_ca_cert_info info;
    kl_buf zip;
    kl_rc rc;

    kl_buf_init(&zip, INPUT_MAX);
    rc = kl_ca_conf_load(&conf, NULL);
    if (rc == KL_OK)
        rc = kl_config_path(&dir, strcmp(ca_dir, "default") ? ca_dir : "ca", kl_config_work_dir(),
                            "ca");
    if (rc == KL_OK)
        rc = kl_config_path(&cacert, "cacert.crt", dir, NULL);
    if (rc == KL_OK && access(cacert, F_OK) != 0)
        tl_warn("CA directory does not exist. Creating...");
    if (rc == KL_OK && incl_dir)
        rc = read_includes(incl_dir, &inc);
    if (rc == KL_OK) {
        kl_ca_params_from_conf(&params, &conf);
        rc = kl_ca_tenant_package(dir, &params, t->agent_uuid, inc.files, inc.n, &zip,
                                  &t->revocation_key, &info);
        if (rc != KL_OK)
            rc = kl_err_wrap(rc, "Error reading the keystore from %s: ", ca_dir);
    }
    if (rc == KL_OK)
        rc = tenant_payload_encrypt(t, kl_buf_bytes(&zip));
    if (rc == KL_OK)
        rc = cert_metadata(t, &info);
    include_free(&inc);
    kl_buf_free_secret(&zip);
    kl_ca_conf_free(&conf);
    kl_free(dir);
    kl_free(cacert);
    return rc;
}

#define ONE_OF                                                                                     \
    "You must specify one of -k, -f, or --cert to specify the key/contents to be "                 \
    "securely delivered to the agent"

static bool
given(const char *s)
{
    return s && s[0];
}

kl_rc
tenant_payload_prepare(tenant *t)
{
    const tenant_args *a = t->args;
    kl_rc rc = KL_OK;

    if (a->verify && !(given(a->file) || given(a->ca_dir) || given(a->keyfile)))
        return kl_err_set(KL_EINVAL, "--verify only works when a payload is provided to the agent "
                                     "via -k, -f, or --cert");
    if ((a->keyfile != NULL) + (a->file != NULL) + (a->ca_dir != NULL) > 1)
        return kl_err_set(KL_EINVAL, ONE_OF);
    if (a->keyfile) {
        rc = tenant_keyfile_read(t, a->keyfile);
        if (rc == KL_OK && a->payload)
            rc = read_payload(t, a->payload);
    } else if (a->file) {
        rc = encrypt_file(t, a->file);
    }
    if (rc == KL_OK && !a->ca_dir && a->incl_dir)
        return kl_err_set(KL_EINVAL, "--include option is only valid when used with --cert");
    if (rc == KL_OK && a->ca_dir)
        rc = cert_package(t, a->ca_dir, a->incl_dir);
    if (rc == KL_OK && t->have_payload && (long long)t->payload.len > t->cfg->max_payload_size)
        return kl_err_set(KL_ETOOBIG, "Payload size %zu exceeds max size %lld", t->payload.len,
                          t->cfg->max_payload_size);
    return rc;
}
