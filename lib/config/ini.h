/* ini: an ordered store of sections and options, and the INI reader that
 * fills it as Python's RawConfigParser.read() does.
 *
 * One document collects several files: each kl_ini_parse() call reads one
 * file's text and merges it over what earlier calls stored (an option given
 * again replaces the earlier value and its source). Within one file a
 * section header or an option given twice is an error, as in
 * RawConfigParser's default strict mode. toml.c fills the same store.
 *
 * INI rules (RawConfigParser defaults): "[name]" headers (name as written,
 * case kept); "key = value" or "key: value" (split at the first '=' or ':';
 * key stripped and lower-cased, value stripped); full-line comments start
 * with '#' or ';' (after any indentation); no inline comments; lines
 * indented deeper than their option line continue its value, joined with
 * '\n' (blank lines inside a value are kept, trailing ones dropped);
 * [DEFAULT] supplies options to every other section; no interpolation.
 */
#ifndef KL_CONFIG_INI_H
#define KL_CONFIG_INI_H

#include "config/config.h"
#include "util/kl_err.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct kl_ini kl_ini;

/* One stored option. All pointers borrowed from the document. */
typedef struct {
    const char *value;      /* text; for arrays (TOML) a display form */
    const kl_strlist *list; /* TOML arrays: the items; NULL otherwise */
    const char *file;       /* the name given to kl_ini_parse/begin_file */
    unsigned line;          /* 1-based line of the key */
} kl_ini_value;

/* Caps that keep a hostile file from making lookups quadratic. */
#define KL_INI_MAX_OPTIONS 4096
#define KL_INI_MAX_SECTIONS 256

/* Caller frees with kl_ini_free. */
KL_MUST_CHECK kl_rc kl_ini_new(kl_ini **out);
void kl_ini_free(kl_ini *doc);

/* Reads one file's text (len bytes; NUL bytes are rejected) and merges it
 * over the document. name is used in sources and error messages.
 * KL_EPARSE ("name:line: what") on a syntax error or a duplicate within
 * this text; KL_ETOOBIG past the caps. Options stored before the error
 * stay. */
KL_MUST_CHECK kl_rc kl_ini_parse(kl_ini *doc, const char *text, size_t len, const char *name);

/* RawConfigParser.get(): the option of an existing section, else the
 * [DEFAULT] section's; NULL if neither. Valid until the document changes. */
const kl_ini_value *kl_ini_lookup(const kl_ini *doc, const char *section, const char *key);
/* Exact lookup, no [DEFAULT] fallback (TOML). */
const kl_ini_value *kl_ini_get(const kl_ini *doc, const char *section, const char *key);

/* Calls cb for every stored option, in the order first stored. */
typedef void (*kl_ini_walk_cb)(const char *section, const char *key, const kl_ini_value *v,
                               void *payload);
void kl_ini_walk(const kl_ini *doc, kl_ini_walk_cb cb, void *payload);

/* Building blocks for other formats (toml.c). begin_file starts a new
 * file: duplicates are checked against what this file stored. */
KL_MUST_CHECK kl_rc kl_ini_begin_file(kl_ini *doc, const char *name);
/* A section header at line; strict: a second header of the same name in
 * this file is KL_EPARSE. */
KL_MUST_CHECK kl_rc kl_ini_section(kl_ini *doc, const char *section, unsigned line, bool strict);
/* Stores section.key = value (copied) from line of the current file; list
 * (may be NULL) is moved into the store and left empty. KL_EPARSE if this
 * file already set the key. */
KL_MUST_CHECK kl_rc kl_ini_set(kl_ini *doc, const char *section, const char *key, const char *value,
                               kl_strlist *list, unsigned line);

#endif
