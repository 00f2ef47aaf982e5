/* keylime-policy convert: upstream's keylime_convert_runtime_policy, with
 * its options (see lib/policy/convert.h): a legacy allowlist (-a) or an old
 * runtime policy (-r) becomes a current runtime policy, with an exclude
 * list (-e) and verification keys (-v FILE...) added, written to -o.
 * Exit status: 0 written, 1 failed, 2 bad usage.
 */
#include "policy/convert.h"

#include "cli.h"
#include "util/kl_alloc.h"
#include "util/kl_file.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    kl_convert_opts c;
    const char *output;
    const char **keys;
    bool verbose;
} options;

static void
usage(FILE *f)
{
    fprintf(f, "usage: keylime-policy convert (-a ALLOWLIST | -r RUNTIME_POLICY) -o OUTPUT_FILE\n"
               "           [-e EXCLUDELIST] [-v KEY [KEY ...]]\n\n"
               "Converts a legacy allowlist, or updates an old runtime policy, to the current\n"
               "runtime policy format.\n"
               "  -a, --allowlist FILE          flat (\"<digest> <path>\") or JSON allowlist\n"
               "  -r, --runtime_policy FILE     runtime policy to update (also --runtime-policy)\n"
               "  -e, --excludelist FILE        exclude regexes to add, one per line\n"
               "  -v, --verification_keys FILE...\n"
               "                                keys to add to verification-keys\n"
               "  -o, --output_file FILE        where to write the policy\n");
}

/* -v takes every following argument up to the next option (nargs="+");
 * given again, it replaces the list, as argparse does. */
static void
key_args(int argc, char **argv, options *o)
{
    o->c.n_keys = 0;
    o->keys[o->c.n_keys++] = optarg;
    while (optind < argc && (argv[optind][0] != '-' || argv[optind][1] == '\0'))
        o->keys[o->c.n_keys++] = argv[optind++];
}

static int
parse_args(int argc, char **argv, options *o)
{
    static const struct option longopts[] = {
        {"allowlist", required_argument, NULL, 'a'},
        {"runtime_policy", required_argument, NULL, 'r'},
        {"runtime-policy", required_argument, NULL, 'r'},
        {"excludelist", required_argument, NULL, 'e'},
        {"verification_keys", required_argument, NULL, 'v'},
        {"output_file", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    if (argc < 2) {
        usage(stdout);
        return -1;
    }
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:a:r:e:v:o:h", longopts, NULL)) != -1) {
        if (optarg && !kl_cli_value_ok(optind, argv, optarg))
            return kl_cli_fail(KL_EXIT_USAGE, "argument %s: expected a value", argv[optind - 2]);
        switch (c) {
        case 'a': o->c.allowlist = *optarg ? optarg : NULL; break;
        case 'r': o->c.runtime_policy = *optarg ? optarg : NULL; break;
        case 'e': o->c.excludelist = *optarg ? optarg : NULL; break;
        case 'v': key_args(argc, argv, o); break;
        case 'o': o->output = *optarg ? optarg : NULL; break;
        case 'h': usage(stdout); return -1;
        default: return kl_cli_bad_option(c, argv);
        }
    }
    if (optind < argc)
        return kl_cli_fail(KL_EXIT_USAGE, "unexpected argument '%s'", argv[optind]);
    if (o->c.allowlist && o->c.runtime_policy)
        return kl_cli_fail(KL_EXIT_FAIL, "cannot provide both --allowlist and "
                                         "--runtime_policy");
    if (!o->c.allowlist && !o->c.runtime_policy)
        return kl_cli_fail(KL_EXIT_FAIL, "either --allowlist or --runtime_policy is required");
    if (!o->output)
        return kl_cli_fail(KL_EXIT_FAIL, "an output file path (-o, --output_file) is required "
                                         "to write the new policy");
    return 0;
}

int
kl_cmd_convert(int argc, char **argv)
{
    options o;
    kl_buf out;
    int status;

    memset(&o, 0, sizeof(o));
    kl_buf_init(&out, KL_CLI_INPUT_MAX);
    o.keys = kl_calloc((size_t)argc + 1, sizeof(*o.keys));
    if (!o.keys) {
        status = kl_cli_fail(KL_EXIT_FAIL, "out of memory");
        goto out;
    }
    status = parse_args(argc, argv, &o);
    if (status) {
        status = status < 0 ? KL_EXIT_OK : status;
        goto out;
    }
    o.c.keys = o.keys;
    o.c.note = kl_cli_note;
    o.c.note_payload = &o.verbose;
    if (kl_convert_run(&o.c, &out) != KL_OK) {
        status = kl_cli_fail(KL_EXIT_FAIL, "%s", kl_err_msg());
        goto out;
    }
    if (kl_file_write(o.output, out.ptr, out.len) != KL_OK)
        status = kl_cli_fail(KL_EXIT_FAIL, "cannot write the policy: %s", kl_err_msg());
out:
    kl_free(o.keys);
    kl_buf_free(&out);
    return status;
}
