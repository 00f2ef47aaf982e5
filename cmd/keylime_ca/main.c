/* keylime_ca: manages Keylime's certificate authority, with upstream's
 * options (-c init|create|pkg|revoke|import-priv, -n, -d, -i, -f, -s). */
#include "keylime_ca.h"
#include "util/kl_alloc.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void
usage(FILE *f)
{
    fprintf(f, "usage: keylime_ca -c COMMAND [-n NAME] [-d DIR] [-i] [-f FILE] [-s SERIAL]\n\n"
               "Manages the CA that issues Keylime's certificates (the tenant's --cert\n"
               "payloads, tls_dir = generate). Settings come from ca.conf [ca]; the CA key\n"
               "is encrypted with its 'password' unless that is 'default' or empty\n"
               "(KEYLIME_CA_PASSWORD overrides it).\n\n"
               "  -c, --command CMD   init         create a new CA (replaces an existing one)\n"
               "                      create       issue a certificate for NAME\n"
               "                      pkg          write NAME-pkg.zip (cert, keys, CA cert, CRL)\n"
               "                      revoke       revoke NAME (or the serial given by -s)\n"
               "                      import-priv  make FILE the CA key; -s: last serial used\n"
               "                      listen       not supported\n"
               "  -n, --name NAME     the certificate's common name (and file name)\n"
               "  -d, --dir DIR       the CA directory (default <work dir>/ca)\n"
               "  -i, --insecure      accepted for compatibility: keys are packaged as stored\n"
               "  -f, --file FILE     import-priv: the CA private key (default ca-private.pem)\n"
               "  -s, --serial N      import-priv: last serial used; revoke: serial to revoke\n"
               "  -h, --help          this text\n"
               "Exit status: 0 done, 1 failure, 2 bad usage.\n");
}

static int usage_error(const char *fmt, ...) KL_PRINTF(1, 2);

static int
usage_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "keylime_ca: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see keylime_ca --help)\n");
    return CA_EXIT_USAGE;
}

/* Returns -1 when the arguments are complete, else an exit status. */
static int
parse(ca_args *a, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"command", required_argument, NULL, 'c'}, {"name", required_argument, NULL, 'n'},
        {"dir", required_argument, NULL, 'd'},     {"insecure", no_argument, NULL, 'i'},
        {"file", required_argument, NULL, 'f'},    {"serial", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:n:d:if:s:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': a->command = optarg; break;
        case 'n': a->name = optarg; break;
        case 'd': a->dir = optarg; break;
        case 'i': a->insecure = true; break;
        case 'f': a->file = optarg; break;
        case 's': a->serial = optarg; break;
        case 'h': usage(stdout); return CA_EXIT_OK;
        case ':': return usage_error("option %s needs a value", argv[optind - 1]);
        default: return usage_error("unknown option %s", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    return -1;
}

static int
check(const ca_args *a)
{
    static const char *const cmds[] = {"init", "create", "pkg", "revoke", "import-priv", "listen"};
    bool known = false;

    if (!a->command)
        return usage_error("the command is required: -c init|create|pkg|revoke|import-priv");
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        known = known || strcmp(a->command, cmds[i]) == 0;
    if (!known)
        return usage_error("invalid command '%s'", a->command);
    if (strcmp(a->command, "listen") == 0)
        return usage_error("'listen' is not supported: serve DIR/cacrl.der with a web server");
    if ((!strcmp(a->command, "create") || !strcmp(a->command, "pkg")) && !a->name)
        return usage_error("%s needs a certificate name: -n NAME", a->command);
    if (!strcmp(a->command, "revoke") && !a->name == !a->serial)
        return usage_error("revoke needs either a name (-n) or a serial (-s)");
    if (!strcmp(a->command, "import-priv") && !a->serial)
        return usage_error("import-priv needs the last serial number the CA has used: -s N");
    return -1;
}

int
main(int argc, char **argv)
{
    ca_args a = {0};
    kl_ca_conf conf;
    kl_ca_params p;
    int st = parse(&a, argc, argv);

    if (st < 0)
        st = check(&a);
    if (st >= 0)
        return st;
    if (kl_ca_conf_load(&conf, NULL) != KL_OK) {
        fprintf(stderr, "keylime_ca: %s\n", kl_err_msg());
        kl_ca_conf_free(&conf);
        return CA_EXIT_FAIL;
    }
    kl_ca_params_from_conf(&p, &conf);
    st = ca_run(&a, &p);
    kl_ca_conf_free(&conf);
    return st;
}
