/* config_int: internals shared by the files of lib/config. */
#ifndef KL_CONFIG_INT_H
#define KL_CONFIG_INT_H

#include "config/config.h"
#include "config/ini.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest configuration file read (bytes). */
#define KL_CONFIG_MAX_FILE (1024 * 1024)

/* Appends a copy of s[0..n) to l. */
KL_MUST_CHECK kl_rc kl_strlist_push(kl_strlist *l, const char *s, size_t n);

/* Appends code point cp in UTF-8; KL_EINVAL (nothing recorded) for NUL,
 * surrogates and values past U+10FFFF. */
KL_MUST_CHECK kl_rc kl_config_utf8_append(kl_buf *b, uint32_t cp);

/* KEYLIME_<COMPONENT>[_<SECTION>]_<KEY> in upper case into buf (section
 * omitted when NULL or named like the component). False if it does not
 * fit. */
bool kl_config_env_name(char *buf, size_t size, const char *component, const char *section,
                        const char *key);

/* Sets every option of spec in conf from env, doc or the default
 * (config_value.c). */
KL_MUST_CHECK kl_rc kl_config_apply(void *conf, const kl_config_spec *spec, const kl_ini *doc);

#endif
