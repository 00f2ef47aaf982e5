/* keylime_ca: the command line of the certificate authority tool. */
#ifndef KEYLIME_CA_CMD_H
#define KEYLIME_CA_CMD_H

#include "tls/ca.h"

#include <stdbool.h>
#include <stdint.h>

enum { CA_EXIT_OK = 0, CA_EXIT_FAIL = 1, CA_EXIT_USAGE = 2 };

typedef struct {
    const char *command;
    const char *name;
    const char *dir;
    const char *file; /* import-priv: the CA key (default ca-private.pem) */
    const char *serial;
    bool insecure;
} ca_args;

/* Runs the command (arguments already checked) with the CA parameters of
 * ca.conf; prints one line on success, the error on failure. Returns the
 * exit status. */
int ca_run(const ca_args *a, const kl_ca_params *p);

#endif
