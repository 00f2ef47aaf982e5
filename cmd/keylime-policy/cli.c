#include "cli.h"

#include <stdarg.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "util/kl_file.h"
#include "util/kl_hex.h"

int
kl_cli_fail(int status, const char *fmt, ...)
{
    va_list ap;

    fputs("keylime-policy: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return status;
}

kl_rc
kl_cli_read(const char *what, const char *path, kl_buf *out)
{
    kl_rc rc;

    kl_buf_init(out, KL_CLI_INPUT_MAX);
    rc = kl_file_read(path, out);
    if (rc != KL_OK)
        kl_cli_fail(KL_EXIT_USAGE, "cannot read the %s: %s", what, kl_err_msg());
    return rc;
}

bool
kl_cli_hex(const char *s, uint8_t *out, size_t n)
{
    return strlen(s) == 2 * n && kl_hex_decode(out, KL_BYTES(s, 2 * n));
}

int
kl_cli_bad_option(int c, char **argv)
{
    if (c == ':')
        return kl_cli_fail(KL_EXIT_USAGE, "option %s needs a value", argv[optind - 1]);
    return kl_cli_fail(KL_EXIT_USAGE, "unknown option %s (see --help)", argv[optind - 1]);
}
