/* config: Keylime's configuration files, read through one option table per
 * component.
 *
 * Python components (registrar, verifier, tenant, ca) use INI files read as
 * Python's RawConfigParser does; the agent uses the TOML subset of the Rust
 * agent's agent.conf. Where the text comes from, in order (later wins):
 *
 *   INI:  the first of <etc>/<c>.conf, <usr_etc>/<c>.conf that exists; then
 *         every regular file in <usr_etc>/<c>.conf.d/ and <etc>/<c>.conf.d/,
 *         each directory sorted by name. KEYLIME_<C>_CONFIG names one file
 *         that replaces all of these (if it is a file).
 *   TOML: KEYLIME_AGENT_CONFIG if set, else the first of <etc>/agent.conf,
 *         <usr_etc>/agent.conf; then <usr_etc>/agent.conf.d/ and
 *         <etc>/agent.conf.d/ snippets (*.conf, sorted by name).
 *   env:  KEYLIME_<COMPONENT>[_<SECTION>]_<OPTION> (upper case; _<SECTION>
 *         omitted when the section is named like the component), e.g.
 *         KEYLIME_REGISTRAR_PORT, KEYLIME_VERIFIER_REVOCATIONS_ZMQ_PORT,
 *         KEYLIME_AGENT_UUID. Values are stripped of '"' and ' ' at both
 *         ends as upstream does.
 *   default: the table's default when nothing above sets the option.
 *
 * Values are converted and validated against the table (type, range,
 * choices); the first bad value fails the load with a message naming the
 * file (or environment variable), section, option and what is allowed.
 * The result is written into a caller-defined struct through offsetof(),
 * once; after loading the struct is read-only.
 */
#ifndef KL_CONFIG_H
#define KL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/kl_err.h"

typedef enum {
    KL_OPT_STR = 0, /* char *  (owned; "" when empty) */
    KL_OPT_INT,     /* long long, within [min, max] */
    KL_OPT_BOOL,    /* bool: 1/yes/true/on, 0/no/false/off (any case) */
    KL_OPT_FLOAT,   /* double, within [min, max] */
    KL_OPT_LIST,    /* kl_strlist: a Python list literal ['a', "b"] in INI
                       files; a TOML array or a comma/space separated string
                       in agent.conf; "" or [] is empty */
    KL_OPT_CHOICE,  /* char * restricted to the '|'-separated `choices` */
} kl_opt_type;

/* Option flags. */
#define KL_OPT_SECRET 0x1u   /* never printed by kl_config_dump */
#define KL_OPT_REQUIRED 0x2u /* must be set and non-empty */

typedef struct {
    char **items; /* owned strings */
    size_t n;
} kl_strlist;

typedef struct {
    const char *section; /* "registrar", "revocations", "agent", ... */
    const char *key;     /* lower case */
    kl_opt_type type;
    const char *def;     /* default, written as in the file ("8890", "['agent']") */
    long long min, max;  /* KL_OPT_INT / KL_OPT_FLOAT; min == max == 0: no range */
    const char *choices; /* KL_OPT_CHOICE: "a|b|c" */
    size_t offset;       /* offsetof(<component struct>, field) */
    unsigned flags;
} kl_opt;

/* Every component struct starts with this member (named `meta`): the
 * loader keeps where each option's value came from in it. */
typedef struct {
    char **sources; /* one per option, owned */
} kl_config_meta;

typedef struct {
    const char *component; /* "registrar", "verifier", "tenant", "ca", "agent" */
    bool toml;             /* agent.conf */
    const kl_opt *opts;
    size_t n_opts;
} kl_config_spec;

/* Where to look; NULL members mean the defaults "/etc/keylime" and
 * "/usr/etc/keylime". Tests point both at temporary directories. */
typedef struct {
    const char *etc;
    const char *usr_etc;
} kl_config_paths;

/* Loads the component's configuration into *conf (a struct whose first
 * member is a kl_config_meta, laid out as spec->opts describe; zero it
 * first). On failure nothing needs freeing
 * beyond kl_config_free, and kl_err_msg() says which option is wrong and
 * what is allowed. The files read are logged at INFO. */
KL_MUST_CHECK kl_rc kl_config_load(void *conf, const kl_config_spec *spec,
                                   const kl_config_paths *paths);

/* Frees the strings and lists kl_config_load stored in *conf. */
void kl_config_free(void *conf, const kl_config_spec *spec);

/* Writes every option as "section.key = value" (secrets as "<hidden>"),
 * with the source of its value (file:line, environment, default) — what
 * `--check-config` prints. */
void kl_config_dump(const void *conf, const kl_config_spec *spec, FILE *f);

/* The daemons' command line: no argument (run), --check-config (print the
 * configuration as kl_config_dump does, exit 0), --help or -h (usage on
 * stdout, exit 0); anything else prints usage on stderr (exit 2). Ignores
 * SIGPIPE and loads the configuration into *conf (zeroed by the caller);
 * a load failure prints "prog: what is wrong" (exit 1). Returns -1 when
 * the daemon should go on with *conf loaded, else the exit status (then
 * *conf holds nothing to free). */
int kl_config_cli(int argc, char **argv, const char *prog, void (*usage)(FILE *f), void *conf,
                  const kl_config_spec *spec);

/* Which file, variable or default a loaded option came from (borrowed,
 * valid until kl_config_free); NULL for an unknown key. */
const char *kl_config_source(const void *conf, const kl_config_spec *spec, const char *section,
                             const char *key);

/* Parses a Python list literal of strings (what getlist accepts in
 * practice): [] / ['a', "b", ] with \-escapes in the quotes. Caller frees
 * with kl_strlist_free. KL_EPARSE with the position on anything else. */
KL_MUST_CHECK kl_rc kl_strlist_parse_py(kl_strlist *out, const char *text);
/* Splits on commas and/or whitespace, dropping empty items. */
KL_MUST_CHECK kl_rc kl_strlist_split(kl_strlist *out, const char *text);
bool kl_strlist_has(const kl_strlist *l, const char *s);
void kl_strlist_free(kl_strlist *l);

/* Path helpers shared by the components: "default" (or empty) means
 * <dir>/<fallback>; a relative path is taken relative to dir; an absolute
 * path is kept. Caller frees with kl_free. */
KL_MUST_CHECK kl_rc kl_config_path(char **out, const char *value, const char *dir,
                                   const char *fallback);

/* The work directory: $KEYLIME_DIR, else /var/lib/keylime. Borrowed. */
const char *kl_config_work_dir(void);

#endif
