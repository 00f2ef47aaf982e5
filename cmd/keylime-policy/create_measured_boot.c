/* keylime-policy create measured-boot: the reference state of the example
 * measured-boot policy, from a binary UEFI event log (upstream's options
 * and output: json.dump, no trailing newline; see lib/policy/mb_refstate.h).
 * A log without Secure Boot is refused unless -i is given.
 * Exit status: 0 written, 1 failed, 2 bad usage.
 */
#include "cli.h"
#include "json/json.h"
#include "mb/eventlog.h"
#include "policy/mb_refstate.h"
#include "util/kl_file.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const char *eventlog, *output;
    bool without_secureboot;
} options;

static void
usage(FILE *f)
{
    fprintf(f, "usage: keylime-policy create measured-boot -e EVENTLOG_FILE [-i] [-o OUTPUT]\n\n"
               "Creates a measured boot reference state policy (for the 'example' policy).\n"
               "  -e, --eventlog-file FILE   binary UEFI event log (normally\n"
               "                             /sys/kernel/security/tpm0/binary_bios_measurements)\n"
               "  -i, --without-secureboot   create it for a log without Secure Boot (only\n"
               "                             measured boot)\n"
               "  -o, --output FILE          where to write it, '-' for standard output "
               "(default)\n");
}

static int
parse_args(int argc, char **argv, options *o)
{
    static const struct option longopts[] = {
        {"eventlog-file", required_argument, NULL, 'e'},
        {"without-secureboot", no_argument, NULL, 'i'},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:e:io:h", longopts, NULL)) != -1) {
        if (optarg && !kl_cli_value_ok(optind, argv, optarg))
            return kl_cli_fail(KL_EXIT_USAGE, "argument %s: expected a value", argv[optind - 2]);
        switch (c) {
        case 'e': o->eventlog = optarg; break;
        case 'i': o->without_secureboot = true; break;
        case 'o': o->output = optarg; break;
        case 'h': usage(stdout); return -1;
        default: return kl_cli_bad_option(c, argv);
        }
    }
    if (optind < argc)
        return kl_cli_fail(KL_EXIT_USAGE, "unexpected argument '%s'", argv[optind]);
    if (!o->eventlog)
        return kl_cli_fail(KL_EXIT_USAGE, "the following arguments are required: "
                                          "-e/--eventlog-file");
    return 0;
}

int
kl_cmd_create_measured_boot(int argc, char **argv)
{
    options o = {NULL, "-", false};
    kl_mb_refstate_opts ro = KL_MB_REFSTATE_OPTS_INIT;
    kl_eventlog *log = NULL;
    json_t *state = NULL;
    kl_buf in, out;
    bool verbose = false;
    int status;

    kl_buf_init(&in, 1);
    kl_buf_init(&out, KL_CLI_INPUT_MAX);
    status = parse_args(argc, argv, &o);
    if (status) {
        status = status < 0 ? KL_EXIT_OK : status;
        goto out;
    }
    status = KL_EXIT_FAIL;
    if (kl_cli_read("event log", o.eventlog, &in) != KL_OK)
        goto out;
    if (kl_eventlog_parse(&log, kl_buf_bytes(&in)) != KL_OK) {
        kl_cli_fail(KL_EXIT_FAIL, "Parsing of binary boot measurements (%s) failed with: %s",
                    o.eventlog, kl_err_msg());
        goto out;
    }
    ro.without_secureboot = o.without_secureboot;
    ro.note = kl_cli_note;
    ro.payload = &verbose;
    if (kl_mb_refstate_create(&state, log, &ro) != KL_OK) {
        kl_cli_fail(KL_EXIT_FAIL, "%s", kl_err_msg());
        goto out;
    }
    if (kl_json_dump_py(&out, state) != KL_OK ||
        kl_file_write(o.output, out.ptr ? out.ptr : (const uint8_t *)"", out.len) != KL_OK) {
        kl_cli_fail(KL_EXIT_FAIL, "cannot write the reference state: %s", kl_err_msg());
        goto out;
    }
    status = KL_EXIT_OK;
out:
    json_decref(state);
    kl_eventlog_free(log);
    kl_buf_free(&in);
    kl_buf_free(&out);
    return status;
}
