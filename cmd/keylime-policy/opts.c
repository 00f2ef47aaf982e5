/* keylime-policy: helpers shared by the policy-authoring subcommands. */
#include "cli.h"

#include <stdbool.h>
#include <stdio.h>

void
kl_cli_note(kl_log_level level, const char *msg, void *payload)
{
    const bool *verbose = payload;

    switch (level) {
    case KL_LOG_ERR: fprintf(stderr, "keylime-policy: error: %s\n", msg); break;
    case KL_LOG_WARN: fprintf(stderr, "keylime-policy: warning: %s\n", msg); break;
    case KL_LOG_INFO: fprintf(stderr, "keylime-policy: %s\n", msg); break;
    default:
        if (verbose && *verbose)
            fprintf(stderr, "keylime-policy: debug: %s\n", msg);
    }
}

bool
kl_cli_value_ok(int optind_now, char **argv, const char *value)
{
    /* argparse takes an argument that starts with '-' for an option */
    return !(value == argv[optind_now - 1] && value[0] == '-' && value[1] != '\0');
}
