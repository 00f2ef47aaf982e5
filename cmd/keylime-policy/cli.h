/* keylime-policy: subcommands and the helpers they share. */
#ifndef KL_POLICY_CLI_H
#define KL_POLICY_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/hash.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"
#include "util/kl_log.h"

/* Exit statuses: as upstream's tool (argparse exits 2 on bad usage, the
 * tool 1 on failure); check: 0 valid, 1 not valid, 2 bad usage or input. */
enum { KL_EXIT_OK = 0, KL_EXIT_FAIL = 1, KL_EXIT_USAGE = 2 };

/* Input files can be large policies and logs, but not unbounded. */
#define KL_CLI_INPUT_MAX ((size_t)4 << 30)

/* Each subcommand: argv[0] is the subcommand name; returns an exit status. */
int kl_cmd_check_runtime(int argc, char **argv);
int kl_cmd_check_evidence(int argc, char **argv);
int kl_cmd_create_runtime(int argc, char **argv);
int kl_cmd_create_measured_boot(int argc, char **argv);
int kl_cmd_sign_runtime(int argc, char **argv);
int kl_cmd_convert(int argc, char **argv);

/* Prints a library note (kl_policy_note_fn) to stderr: errors and warnings
 * as "keylime-policy: warning: ...", information as "keylime-policy: ...",
 * debug messages only when *(bool *)payload (-v) is true. */
void kl_cli_note(kl_log_level level, const char *msg, void *payload);

/* Whether an option's value is acceptable as argparse would see it: a
 * value given as the separate argument argv[optind_now - 1] must not look
 * like an option ("-x"). */
bool kl_cli_value_ok(int optind_now, char **argv, const char *value);

/* Prints "keylime-policy: <message>" and a hint to stderr; returns status. */
int kl_cli_fail(int status, const char *fmt, ...) KL_PRINTF(2, 3);

/* For getopt_long's answers ':' (a value missing) and '?' (an unknown
 * option): says which option, returns KL_EXIT_USAGE. */
int kl_cli_bad_option(int c, char **argv);

/* Reads a whole file (capped); prints the reason on failure. */
KL_MUST_CHECK kl_rc kl_cli_read(const char *what, const char *path, kl_buf *out);

/* Parses hex of exactly n bytes. */
bool kl_cli_hex(const char *s, uint8_t *out, size_t n);

#endif
