/* keylime-policy: create, sign, convert and check Keylime policies.
 *
 * Same subcommand and option names as upstream's keylime-policy where they
 * exist; "check runtime" (ours) evaluates an IMA log offline.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
    const char *action;
    const char *kind; /* NULL: the action takes no kind */
    int (*run)(int argc, char **argv);
    const char *help;
} commands[] = {
    {"create", "runtime", kl_cmd_create_runtime, "create a runtime policy"},
    {"create", "measured-boot", kl_cmd_create_measured_boot, "create a measured boot refstate"},
    {"sign", "runtime", kl_cmd_sign_runtime, "sign a runtime policy (DSSE)"},
    {"convert", NULL, kl_cmd_convert, "convert a legacy allowlist or old policy"},
    {"check", "runtime", kl_cmd_check_runtime, "check an IMA log against a runtime policy"},
    {"check", "evidence", kl_cmd_check_evidence, "check a quote response as the verifier would"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
usage(FILE *f)
{
    fprintf(f, "usage: keylime-policy <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-7s %-14s %s\n", commands[i].action, commands[i].kind ? commands[i].kind : "",
                commands[i].help);
    fprintf(f, "\n'keylime-policy <command> --help' shows the options of a command.\n");
}

int
main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? KL_EXIT_USAGE : KL_EXIT_OK;
    }
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(argv[1], commands[i].action) != 0)
            continue;
        if (!commands[i].kind)
            return commands[i].run(argc - 1, argv + 1);
        if (argc > 2 && strcmp(argv[2], commands[i].kind) == 0)
            return commands[i].run(argc - 2, argv + 2);
    }
    fprintf(stderr, "keylime-policy: unknown command '%s%s%s'\n", argv[1], argc > 2 ? " " : "",
            argc > 2 ? argv[2] : "");
    usage(stderr);
    return KL_EXIT_USAGE;
}
