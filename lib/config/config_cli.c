/* config_cli: the daemons' shared command line (see config.h). */
#include "config/config.h"

#include <signal.h>
#include <string.h>

int
kl_config_cli(int argc, char **argv, const char *prog, void (*usage)(FILE *f), void *conf,
              const kl_config_spec *spec)
{
    bool check = argc == 2 && !strcmp(argv[1], "--check-config");

    if (argc > 2 ||
        (argc == 2 && !check && strcmp(argv[1], "--help") && strcmp(argv[1], "-h"))) {
        fprintf(stderr, "%s: unknown argument '%s'\n", prog, argv[1]);
        usage(stderr);
        return 2;
    }
    if (argc == 2 && !check) {
        usage(stdout);
        return 0;
    }
    signal(SIGPIPE, SIG_IGN);
    if (kl_config_load(conf, spec, NULL) != KL_OK) {
        fprintf(stderr, "%s: %s\n", prog, kl_err_msg());
        kl_config_free(conf, spec);
        return 1;
    }
    if (!check)
        return -1;
    kl_config_dump(conf, spec, stdout);
    kl_config_free(conf, spec);
    return 0;
}
