/* keylime_ima_emulator: extends PCR 10 of a software TPM with the entries of
 * an ASCII IMA measurement list, as kernel IMA would, so that Keylime can
 * attest a machine (or a CI container) without kernel IMA.
 *
 * Options of rust-keylime's keylime-ima-emulator (--hash_algs, --ima_hash_alg,
 * --ima_log, the TCTI environment variable, the software-TPM check) plus
 * ours: --tcti, --once, --interval, and the measure / run commands.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emulator.h"
#include "tpmdev/tpmdev_pcr.h"
#include "util/kl_alloc.h"

typedef enum { CMD_FOLLOW = 0, CMD_MEASURE, CMD_RUN } command;

typedef struct {
    command cmd;
    const char *log;
    const char *tcti;
    uint32_t banks; /* requested banks (1u << kl_hash_alg); 0: all active */
    kl_hash_alg ima_alg;
    long interval_ms;
    bool once;
    bool force;
    emu_measure_opts m;
    bool quiet;
    int first_arg; /* files (measure) or the program (run) in argv */
} options;

enum { OPT_INTERVAL = 256, OPT_ONCE, OPT_FILE_ALG, OPT_TEMPLATE, OPT_ALWAYS, OPT_FORCE };

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void
usage(FILE *f)
{
    fprintf(f, "usage: keylime_ima_emulator [OPTIONS]                      follow the list\n"
               "       keylime_ima_emulator [OPTIONS] measure FILE...      measure files\n"
               "       keylime_ima_emulator [OPTIONS] run PROGRAM [ARG...] measure, then run\n\n"
               "Extends PCR 10 of a software TPM with each entry of an ASCII IMA measurement\n"
               "list, in every bank, as kernel IMA does: H_bank(template data), or FF..FF for a\n"
               "violation (all-zero template hash). On start it replays the list and finds\n"
               "how much of it PCR 10 already holds, so it resumes after a restart (of itself\n"
               "or of the TPM); it refuses to run when PCR 10 is not the replay of any prefix\n"
               "of the list.\n"
               "'measure' appends an ima-ng entry for each FILE (real path, file digest,\n"
               "template hash), as the kernel measures an executed file, and extends PCR 10\n"
               "(into an empty list it first writes the kernel's boot_aggregate entry);\n"
               "'run' measures PROGRAM (found in PATH) and the interpreter of its #! line,\n"
               "then executes it with its arguments.\n\n"
               "  -f, --ima_log FILE       the list (default " EMU_DEFAULT_LOG ")\n"
               "  -a, --hash_algs ALG      PCR bank(s) to extend: sha1, sha256, sha384, sha512;\n"
               "                           repeat or separate with commas (default: every\n"
               "                           active bank)\n"
               "  -i, --ima_hash_alg ALG   algorithm of the template-hash column (default sha1)\n"
               "  -T, --tcti TCTI          TPM to use (default: $TCTI, else device:/dev/tpmrm0),\n"
               "                           e.g. swtpm:path=/run/swtpm.sock\n"
               "      --once               bring PCR 10 up to date with the list, then exit\n"
               "      --interval MS        how often the list is checked (default 200)\n"
               "      --file-hash-alg ALG  measure/run: file digest algorithm (default sha256)\n"
               "      --template NAME      measure/run: ima-ng (default) or ima-sig (with the\n"
               "                           security.ima signature of the file, if any)\n"
               "      --always             measure/run: also files measured before and unchanged\n"
               "      --force              use a TPM that is not a software TPM\n"
               "  -q, --quiet              no line per extended entry\n"
               "  -v, --verbose            say what measure/run did\n"
               "  -h, --help               this text\n"
               "Options may also follow the command word. Exit status: 0 done, 1 failure\n"
               "(including PCR 10 disagreeing with the list), 2 bad usage; 'run' exits with\n"
               "the program's status, or 127 when it cannot be run.\n");
}

static int fail(int status, const char *fmt, ...) KL_PRINTF(2, 3);

static int
fail(int status, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "keylime_ima_emulator: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    return status;
}

static bool
parse_hash(const char *s, kl_hash_alg *out)
{
    return kl_hash_from_name(KL_BYTES(s, strlen(s)), out) &&
           (*out <= KL_HASH_SHA512 || *out == KL_HASH_SM3_256);
}

static int
parse_banks(const char *s, uint32_t *banks)
{
    while (*s) {
        size_t len = strcspn(s, ",");
        char name[16];
        kl_hash_alg h;

        if (len == 0 || len >= sizeof(name))
            return fail(EMU_EXIT_USAGE, "bad --hash_algs value '%s'", s);
        memcpy(name, s, len);
        name[len] = '\0';
        if (!parse_hash(name, &h))
            return fail(EMU_EXIT_USAGE, "unsupported PCR bank '%s'", name);
        *banks |= 1u << h;
        s += len + (s[len] == ',');
    }
    return 0;
}

/* One option; returns -1 to go on, or an exit status. */
static int
take_option(options *o, int c, const char *arg)
{
    char *end = NULL;

    switch (c) {
    case 'f': o->log = arg; break;
    case 'T': o->tcti = arg; break;
    case 'a': {
        int st = parse_banks(arg, &o->banks);
        return st ? st : -1;
    }
    case 'i':
        if (!parse_hash(arg, &o->ima_alg))
            return fail(EMU_EXIT_USAGE, "unsupported --ima_hash_alg '%s'", arg);
        break;
    case OPT_INTERVAL:
        errno = 0;
        o->interval_ms = strtol(arg, &end, 10);
        if (errno || !*arg || *end || o->interval_ms < 1 || o->interval_ms > 3600000)
            return fail(EMU_EXIT_USAGE, "bad --interval '%s' (milliseconds)", arg);
        break;
    case OPT_ONCE: o->once = true; break;
    case OPT_FILE_ALG:
        if (!parse_hash(arg, &o->m.file_alg))
            return fail(EMU_EXIT_USAGE, "unsupported --file-hash-alg '%s'", arg);
        break;
    case OPT_TEMPLATE:
        if (strcmp(arg, "ima-ng") != 0 && strcmp(arg, "ima-sig") != 0)
            return fail(EMU_EXIT_USAGE, "unsupported --template '%s' (ima-ng, ima-sig)", arg);
        o->m.ima_sig = strcmp(arg, "ima-sig") == 0;
        break;
    case OPT_ALWAYS: o->m.always = true; break;
    case OPT_FORCE: o->force = true; break;
    case 'q': o->quiet = true; break;
    case 'v': o->m.verbose = true; break;
    case 'h': usage(stdout); return EMU_EXIT_OK;
    default: usage(stderr); return EMU_EXIT_USAGE;
    }
    return -1;
}

static int
parse_pass(options *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"ima_log", required_argument, NULL, 'f'},
        {"ima-log", required_argument, NULL, 'f'},
        {"hash_algs", required_argument, NULL, 'a'},
        {"hash-algs", required_argument, NULL, 'a'},
        {"ima_hash_alg", required_argument, NULL, 'i'},
        {"ima-hash-alg", required_argument, NULL, 'i'},
        {"tcti", required_argument, NULL, 'T'},
        {"interval", required_argument, NULL, OPT_INTERVAL},
        {"once", no_argument, NULL, OPT_ONCE},
        {"file-hash-alg", required_argument, NULL, OPT_FILE_ALG},
        {"template", required_argument, NULL, OPT_TEMPLATE},
        {"always", no_argument, NULL, OPT_ALWAYS},
        {"force", no_argument, NULL, OPT_FORCE},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    while ((c = getopt_long(argc, argv, "+f:a:i:T:qvh", longopts, NULL)) != -1) {
        int st = take_option(o, c, optarg);

        if (st >= 0)
            return st;
    }
    return -1;
}

static int
parse_args(int argc, char **argv, options *o)
{
    int st;

    memset(o, 0, sizeof(*o));
    o->log = EMU_DEFAULT_LOG;
    o->ima_alg = KL_HASH_SHA1;
    o->interval_ms = 200;
    o->m.file_alg = KL_HASH_SHA256;
    st = parse_pass(o, argc, argv);
    if (st >= 0)
        return st;
    if (optind < argc) {
        int base = optind;

        if (strcmp(argv[base], "measure") == 0)
            o->cmd = CMD_MEASURE;
        else if (strcmp(argv[base], "run") == 0)
            o->cmd = CMD_RUN;
        else if (strcmp(argv[base], "follow") != 0)
            return fail(EMU_EXIT_USAGE, "unknown command '%s' (measure, run)", argv[base]);
        optind = 0; /* options may follow the command word */
        st = parse_pass(o, argc - base, argv + base);
        if (st >= 0)
            return st;
        o->first_arg = base + optind;
    } else {
        o->first_arg = argc;
    }
    if (o->cmd == CMD_FOLLOW && o->first_arg < argc)
        return fail(EMU_EXIT_USAGE, "unexpected argument '%s'", argv[o->first_arg]);
    if (o->cmd != CMD_FOLLOW && o->first_arg >= argc)
        return fail(EMU_EXIT_USAGE, "%s needs a file", o->cmd == CMD_RUN ? "run" : "measure");
    return -1;
}

/* The banks to extend: the requested ones, which must be active, or all
 * active banks. */
static kl_rc
choose_banks(emu *e, uint32_t requested)
{
    uint32_t active = 0;
    kl_rc rc = kl_tpmdev_pcr_banks(e->tpm, &active);

    if (rc != KL_OK)
        return rc;
    for (int h = 0; h < KL_HASH_COUNT; h++) {
        if (requested && !(requested >> h & 1))
            continue;
        if (!(active >> h & 1)) {
            if (requested)
                return kl_err_set(KL_EUNSUPPORTED, "PCR bank %s is not active on this TPM",
                                  kl_hash_name((kl_hash_alg)h));
            continue;
        }
        e->banks[e->nbanks++] = (kl_hash_alg)h;
    }
    if (e->nbanks == 0)
        return kl_err_set(KL_EUNSUPPORTED, "the TPM has no active PCR bank this tool knows");
    return KL_OK;
}

static kl_rc
setup(emu *e, const options *o)
{
    const char *tcti = o->tcti ? o->tcti : kl_tpmdev_default_tcti();
    bool sw = false;
    kl_rc rc;

    memset(e, 0, sizeof(*e));
    e->log_path = o->log;
    e->ima_alg = o->ima_alg;
    /* follow reports on stdout; measure and run keep stdout for the program */
    if (o->cmd == CMD_FOLLOW)
        e->msg = o->quiet ? NULL : stdout;
    else
        e->msg = o->m.verbose ? stderr : NULL;
    e->stop = &stop_requested;
    rc = kl_hasher_new(&e->h);
    if (rc == KL_OK)
        rc = kl_tpmdev_open(&e->tpm, tcti);
    if (rc == KL_OK)
        rc = kl_tpmdev_is_software(e->tpm, &sw);
    if (rc == KL_OK && !sw && !o->force)
        rc = kl_err_set(KL_EINVAL, "this is not a software TPM; the emulator extends PCR 10 "
                                   "only of an emulator (--force to override)");
    if (rc == KL_OK)
        rc = choose_banks(e, o->banks);
    return rc;
}

static void
teardown(emu *e)
{
    kl_tpmdev_close(e->tpm);
    e->tpm = NULL;
    kl_hasher_free(e->h);
    e->h = NULL;
}

static int
run_program(emu *e, const options *o, char **argv)
{
    char *path = NULL, *interp = NULL;
    char *files[2];
    size_t n = 0;
    kl_rc rc = emu_resolve_program(argv[o->first_arg], &path, &interp);

    if (rc != KL_OK) {
        teardown(e);
        return fail(127, "%s", kl_err_msg());
    }
    files[n++] = path;
    if (*interp)
        files[n++] = interp; /* the kernel measures the script, then its interpreter */
    rc = emu_measure(e, &o->m, files, n);
    teardown(e);
    kl_free(interp);
    if (rc != KL_OK) {
        kl_free(path);
        return fail(EMU_EXIT_FAIL, "%s", kl_err_msg());
    }
    fflush(NULL);
    execv(path, argv + o->first_arg);
    fprintf(stderr, "keylime_ima_emulator: cannot run %s: %s\n", path, strerror(errno));
    kl_free(path);
    return 127;
}

int
main(int argc, char **argv)
{
    struct sigaction sa;
    options o;
    emu e;
    int st = parse_args(argc, argv, &o);
    kl_rc rc;

    if (st >= 0)
        return st;
    rc = setup(&e, &o);
    if (rc != KL_OK) {
        teardown(&e);
        return fail(EMU_EXIT_FAIL, "%s", kl_err_msg());
    }
    if (o.cmd == CMD_RUN)
        return run_program(&e, &o, argv);
    if (o.cmd == CMD_MEASURE) {
        rc = emu_measure(&e, &o.m, argv + o.first_arg, (size_t)(argc - o.first_arg));
    } else {
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal; /* no SA_RESTART: the sleep ends at once */
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        rc = emu_follow(&e, o.tcti ? o.tcti : kl_tpmdev_default_tcti(), o.interval_ms, o.once);
    }
    teardown(&e);
    if (rc != KL_OK)
        return fail(EMU_EXIT_FAIL, "%s", kl_err_msg());
    return EMU_EXIT_OK;
}
