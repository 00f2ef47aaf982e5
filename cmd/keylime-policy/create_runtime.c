/* keylime-policy create runtime: build a runtime policy from a base
 * policy, allowlist, IMA measurement list, root filesystem and initrds
 * (upstream's options and behaviour; see lib/policy/runtime_create.h).
 * Exit status: 0 written, 1 failed, 2 bad usage.
 */
#include "cli.h"
#include "policy/runtime_create.h"
#include "util/kl_alloc.h"
#include "util/kl_file.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#define IMA_LIST_DEFAULT "/sys/kernel/security/ima/ascii_runtime_measurements"
#define IMA_LIST_NONE "/dev/null"

typedef struct {
    kl_runtime_create_opts c;
    const char *output;
    const char **ignored, **keys;
    bool verbose;
} options;

static void
usage(FILE *f)
{
    fprintf(f, "usage: keylime-policy create runtime [-o OUT] [-p BASE] [-a ALLOWLIST]\n"
               "           [-e EXCLUDELIST] [-m [IMA_LIST]] [-k] [-b] [--ignored-keyrings NAME]\n"
               "           [--add-ima-signature-verification-key FILE] [--show-legacy-allowlist]\n"
               "           [--algo ALG] [--ramdisk-dir DIR] [--rootfs DIR] [-s DIR,...] [-v]\n\n"
               "Creates a runtime policy (JSON) from the given sources.\n"
               "  -o, --output FILE          where to write it (default: standard output)\n"
               "  -p, --base-policy FILE     merge new data into this runtime policy\n"
               "  -a, --allowlist FILE       digests from a flat allowlist (\"<digest> <path>\")\n"
               "  -e, --excludelist FILE     exclude regexes, one per line\n"
               "  -m, --ima-measurement-list [FILE]\n"
               "                             digests (and with -k/-b, buffers) from an IMA\n"
               "                             list; without FILE, " IMA_LIST_DEFAULT "\n"
               "  -k, --keyrings             keyrings entries from the list's key buffers\n"
               "  -b, --ima-buf              ima-buf entries from the list's other buffers\n"
               "  --ignored-keyrings NAME    ignore this keyring (repeatable)\n"
               "  --add-ima-signature-verification-key FILE\n"
               "                             add this key (certificate, public or private\n"
               "                             key, DER or PEM) to verification-keys (repeatable)\n"
               "  --show-legacy-allowlist    write the digests as a flat allowlist instead\n"
               "  --algo ALG                 file digest algorithm: sha1, sha256, sha384, sha512,\n"
               "                             sm3_256 (default: from the inputs, else sha256)\n"
               "  --ramdisk-dir DIR          hash the files of every initr* image in DIR\n"
               "  --rootfs DIR               hash every root-owned file under DIR\n"
               "  -s, --skip-path DIR,...    directories not to hash under --rootfs\n"
               "  -v, --verbose              print debug messages\n");
}

/* argparse treats "" as not given. */
static const char *
given(const char *s)
{
    return s && *s ? s : NULL;
}

/* -m's optional value may also be the next argument (argparse nargs="?"). */
static const char *
ima_list_arg(int argc, char **argv)
{
    const char *v = optarg;

    if (!v && optind < argc && (argv[optind][0] != '-' || argv[optind][1] == '\0'))
        v = argv[optind++];
    if (!v)
        return IMA_LIST_DEFAULT;
    return strcmp(v, IMA_LIST_NONE) == 0 ? NULL : v;
}

static int
check_algo(const char *a)
{
    static const char *const algos[] = {"sha1", "sha256", "sha384", "sha512", "sm3_256"};

    for (size_t i = 0; i < sizeof(algos) / sizeof(algos[0]); i++)
        if (strcmp(a, algos[i]) == 0)
            return 0;
    return kl_cli_fail(KL_EXIT_USAGE,
                       "argument --algo: invalid choice '%s' (choose from sha1, "
                       "sha256, sha384, sha512, sm3_256)",
                       a);
}

static int
parse_args(int argc, char **argv, options *o)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"base-policy", required_argument, NULL, 'p'},
        {"keyrings", no_argument, NULL, 'k'},
        {"ima-buf", no_argument, NULL, 'b'},
        {"allowlist", required_argument, NULL, 'a'},
        {"excludelist", required_argument, NULL, 'e'},
        {"ima-measurement-list", optional_argument, NULL, 'm'},
        {"ignored-keyrings", required_argument, NULL, 'I'},
        {"add-ima-signature-verification-key", required_argument, NULL, 'K'},
        {"show-legacy-allowlist", no_argument, NULL, 'L'},
        {"algo", required_argument, NULL, 'A'},
        {"ramdisk-dir", required_argument, NULL, 'R'},
        {"rootfs", required_argument, NULL, 'F'},
        {"skip-path", required_argument, NULL, 's'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:o:p:kba:e:m::s:vh", longopts, NULL)) != -1) {
        if (optarg && !kl_cli_value_ok(optind, argv, optarg))
            return kl_cli_fail(KL_EXIT_USAGE, "argument %s: expected a value", argv[optind - 2]);
        switch (c) {
        case 'o': o->output = optarg; break;
        case 'p': o->c.base_policy = given(optarg); break;
        case 'k': o->c.keyrings = true; break;
        case 'b': o->c.ima_buf = true; break;
        case 'a': o->c.allowlist = given(optarg); break;
        case 'e': o->c.excludelist = given(optarg); break;
        case 'm': o->c.ima_list = ima_list_arg(argc, argv); break;
        case 'I': o->ignored[o->c.n_ignored++] = optarg; break;
        case 'K': o->keys[o->c.n_keys++] = optarg; break;
        case 'L': o->c.legacy_allowlist = true; break;
        case 'A':
            if (check_algo(optarg))
                return KL_EXIT_USAGE;
            o->c.algo = optarg;
            break;
        case 'R': o->c.ramdisk_dir = given(optarg); break;
        case 'F': o->c.rootfs = given(optarg); break;
        case 's': o->c.skip_path = given(optarg); break;
        case 'v': o->verbose = true; break;
        case 'h': usage(stdout); return -1;
        default: return kl_cli_bad_option(c, argv);
        }
    }
    if (optind < argc)
        return kl_cli_fail(KL_EXIT_USAGE, "unexpected argument '%s'", argv[optind]);
    return 0;
}

int
kl_cmd_create_runtime(int argc, char **argv)
{
    options o;
    kl_buf out;
    int status;

    memset(&o, 0, sizeof(o));
    o.output = "/dev/stdout";
    kl_buf_init(&out, KL_CLI_INPUT_MAX);
    o.ignored = kl_calloc((size_t)argc + 1, sizeof(*o.ignored));
    o.keys = kl_calloc((size_t)argc + 1, sizeof(*o.keys));
    if (!o.ignored || !o.keys) {
        status = kl_cli_fail(KL_EXIT_FAIL, "out of memory");
        goto out;
    }
    status = parse_args(argc, argv, &o);
    if (status) {
        status = status < 0 ? KL_EXIT_OK : status;
        goto out;
    }
    o.c.ignored_keyrings = o.ignored;
    o.c.keys = o.keys;
    o.c.note = kl_cli_note;
    o.c.note_payload = &o.verbose;
    if (kl_runtime_create(&o.c, &out) != KL_OK) {
        status = kl_cli_fail(KL_EXIT_FAIL, "%s", kl_err_msg());
        goto out;
    }
    if (kl_file_write(o.output, out.ptr ? out.ptr : (const uint8_t *)"", out.len) != KL_OK)
        status = kl_cli_fail(KL_EXIT_FAIL, "cannot write the policy: %s", kl_err_msg());
out:
    kl_free(o.ignored);
    kl_free(o.keys);
    kl_buf_free(&out);
    return status;
}
