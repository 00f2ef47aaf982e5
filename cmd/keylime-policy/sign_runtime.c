/* keylime-policy sign runtime: wrap a runtime policy in a DSSE envelope
 * signed with an EC key (upstream's options and output; see
 * lib/policy/dsse_sign.h). Without -k a P-256 key is generated and written
 * (mode 0600) to -p or keylime-ecdsa-key.pem. The x509 backend also writes
 * a self-signed certificate to -c.
 * Exit status: 0 signed, 1 failed, 2 bad usage.
 */
#include "cli.h"
#include "crypto/eckey.h"
#include "policy/dsse.h"
#include "policy/dsse_sign.h"
#include "util/kl_file.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_KEY_FILE "keylime-ecdsa-key.pem"
#define CERT_DAYS 30

typedef struct {
    const char *output, *policy, *keyfile, *keypath, *cert;
    bool x509;
} options;

static void
usage(FILE *f)
{
    fprintf(f, "usage: keylime-policy sign runtime -r POLICY [-k KEYFILE | -p KEYPATH]\n"
               "           [-b ecdsa|x509] [-c CERT_OUTFILE] [-o OUTPUT]\n\n"
               "Signs a runtime policy, writing a DSSE envelope.\n"
               "  -r, --runtime-policy FILE  the runtime policy to sign\n"
               "  -k, --keyfile FILE         EC private key (PEM) to sign with\n"
               "  -p, --keypath FILE         where to write a generated key (default\n"
               "                             " DEFAULT_KEY_FILE ") when -k is not given\n"
               "  -b, --backend NAME         ecdsa (key id: sha256 of the public key PEM) or\n"
               "                             x509 (a self-signed certificate is the key id)\n"
               "  -c, --cert-outfile FILE    where the x509 backend writes its certificate\n"
               "  -o, --output FILE          the envelope (default: standard output)\n");
}

static int
parse_args(int argc, char **argv, options *o)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},  {"runtime-policy", required_argument, NULL, 'r'},
        {"keyfile", required_argument, NULL, 'k'}, {"keypath", required_argument, NULL, 'p'},
        {"backend", required_argument, NULL, 'b'}, {"cert-outfile", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    const char *backend = "ecdsa";
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:o:r:k:p:b:c:h", longopts, NULL)) != -1) {
        if (optarg && !kl_cli_value_ok(optind, argv, optarg))
            return kl_cli_fail(KL_EXIT_USAGE, "argument %s: expected a value", argv[optind - 2]);
        switch (c) {
        case 'o': o->output = optarg; break;
        case 'r': o->policy = optarg; break;
        case 'k': o->keyfile = *optarg ? optarg : NULL; break;
        case 'p': o->keypath = *optarg ? optarg : NULL; break;
        case 'b': backend = optarg; break;
        case 'c': o->cert = *optarg ? optarg : NULL; break;
        case 'h': usage(stdout); return -1;
        default: return kl_cli_bad_option(c, argv);
        }
    }
    if (optind < argc)
        return kl_cli_fail(KL_EXIT_USAGE, "unexpected argument '%s'", argv[optind]);
    if (!o->policy)
        return kl_cli_fail(KL_EXIT_USAGE, "the following argument is required: "
                                          "-r/--runtime-policy");
    o->x509 = strcasecmp(backend, "x509") == 0;
    if (!o->x509 && strcasecmp(backend, "ecdsa") != 0)
        return kl_cli_fail(KL_EXIT_USAGE,
                           "argument -b/--backend: invalid choice '%s' (choose "
                           "from ecdsa, x509)",
                           backend);
    return 0;
}

/* Writes a private key readable by its owner only. */
static kl_rc
write_secret(const char *path, const kl_buf *pem)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    size_t off = 0;
    kl_rc rc = KL_OK;

    if (fd < 0)
        return kl_err_set(KL_EIO, "cannot create %s: %s", path, strerror(errno));
    if (fchmod(fd, 0600) != 0)
        rc = kl_err_set(KL_EIO, "chmod %s: %s", path, strerror(errno));
    while (rc == KL_OK && off < pem->len) {
        ssize_t n = write(fd, pem->ptr + off, pem->len - off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = kl_err_set(KL_EIO, "writing %s: %s", path, strerror(errno));
        else
            off += (size_t)n;
    }
    if (close(fd) != 0 && rc == KL_OK)
        rc = kl_err_set(KL_EIO, "closing %s: %s", path, strerror(errno));
    return rc;
}

/* The signing key: loaded from -k, or generated and saved. */
static int
get_key(const options *o, kl_eckey **key)
{
    kl_buf pem;
    kl_rc rc;
    int status = KL_EXIT_FAIL;

    kl_buf_init(&pem, 1 << 20);
    if (o->keyfile) {
        if (kl_cli_read("EC private key", o->keyfile, &pem) != KL_OK)
            goto out;
        rc = kl_eckey_load_pem(key, kl_buf_bytes(&pem));
        if (rc != KL_OK) {
            kl_cli_fail(KL_EXIT_FAIL, "%s: %s", o->keyfile, kl_err_msg());
            goto out;
        }
    } else {
        const char *path = o->keypath ? o->keypath : DEFAULT_KEY_FILE;

        if (kl_eckey_generate(key) != KL_OK || kl_eckey_private_pem(*key, &pem) != KL_OK ||
            write_secret(path, &pem) != KL_OK) {
            kl_cli_fail(KL_EXIT_FAIL, "cannot create the signing key: %s", kl_err_msg());
            goto out;
        }
        fprintf(stderr, "keylime-policy: wrote a new EC private key to %s\n", path);
    }
    status = 0;
out:
    kl_buf_free_secret(&pem);
    return status;
}

/* The key id, writing the x509 backend's certificate on the way. */
static int
get_keyid(const options *o, const kl_eckey *key, kl_buf *keyid)
{
    kl_buf cert;
    kl_rc rc;

    if (!o->x509)
        return kl_dsse_sign_keyid_ecdsa(key, keyid) == KL_OK
                   ? 0
                   : kl_cli_fail(KL_EXIT_FAIL, "%s", kl_err_msg());
    kl_buf_init(&cert, 1 << 20);
    rc = kl_eckey_self_signed_cert(key, "dsse_lib", CERT_DAYS, &cert);
    if (rc == KL_OK)
        rc = kl_file_write(o->cert, cert.ptr, cert.len);
    if (rc == KL_OK)
        rc = kl_dsse_sign_keyid_x509(kl_buf_bytes(&cert), keyid);
    kl_buf_free(&cert);
    return rc == KL_OK ? 0 : kl_cli_fail(KL_EXIT_FAIL, "certificate: %s", kl_err_msg());
}

static int
sign(const options *o, kl_bytes payload, kl_buf *out)
{
    kl_eckey *key = NULL;
    kl_buf keyid;
    int status;

    kl_buf_init(&keyid, 1 << 20);
    status = get_key(o, &key);
    if (status == 0)
        status = get_keyid(o, key, &keyid);
    if (status == 0 && kl_dsse_sign_envelope(out, KL_BYTES_STR(KL_DSSE_KEYLIME_TYPE), payload, key,
                                             kl_buf_bytes(&keyid)) != KL_OK)
        status = kl_cli_fail(KL_EXIT_FAIL, "cannot sign: %s", kl_err_msg());
    kl_eckey_free(key);
    kl_buf_free(&keyid);
    return status;
}

int
kl_cmd_sign_runtime(int argc, char **argv)
{
    options o = {.output = "/dev/stdout"};
    kl_buf text, payload, out;
    bool to_stdout;
    int status;

    kl_buf_init(&text, 1);
    kl_buf_init(&payload, KL_CLI_INPUT_MAX);
    kl_buf_init(&out, KL_CLI_INPUT_MAX);
    status = parse_args(argc, argv, &o);
    if (status) {
        status = status < 0 ? KL_EXIT_OK : status;
        goto out;
    }
    status = KL_EXIT_FAIL;
    if (o.keyfile && o.keypath) {
        kl_cli_fail(status, "only one of -k/--keyfile and -p/--keypath may be given");
        goto out;
    }
    if (o.x509 && !o.cert) {
        kl_cli_fail(status, "the x509 backend needs a certificate output file (-c)");
        goto out;
    }
    if (kl_cli_read("runtime policy", o.policy, &text) != KL_OK)
        goto out;
    if (kl_dsse_sign_policy_payload(&payload, kl_buf_bytes(&text)) != KL_OK) {
        kl_cli_fail(status, "unable to validate the runtime policy '%s': %s", o.policy,
                    kl_err_msg());
        goto out;
    }
    if (sign(&o, kl_buf_bytes(&payload), &out) != 0)
        goto out;
    to_stdout = strcmp(o.output, "/dev/stdout") == 0 || strcmp(o.output, "-") == 0;
    if ((to_stdout && kl_buf_append_byte(&out, '\n') != KL_OK) ||
        kl_file_write(o.output, out.ptr, out.len) != KL_OK) {
        kl_cli_fail(status, "unable to write the signed policy: %s", kl_err_msg());
        goto out;
    }
    status = KL_EXIT_OK;
out:
    kl_buf_free(&text);
    kl_buf_free(&payload);
    kl_buf_free(&out);
    return status;
}
