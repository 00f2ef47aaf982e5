/* Helpers shared by the known-answer tests: paths under tests/data
 * (KL_TEST_DATA) and loading files. Failures abort the current test. */
#ifndef KAT_UTIL_H
#define KAT_UTIL_H

#include <jansson.h>
#include <stddef.h>

#include "util/kl_buf.h"

/* KL_TEST_DATA "/" rel; caller frees with kl_free. */
char *kat_path(const char *rel);
/* Reads tests/data/<rel> into out (initialised here; caller frees). */
void kat_read(const char *rel, kl_buf *out);
/* Parses tests/data/<rel> as JSON; caller decrefs. */
json_t *kat_json(const char *rel);
/* Names of files in tests/data/<dir> that start with prefix and end in
 * suffix, sorted; returns the count, *names owned by the caller (kl_free
 * each and the array). */
size_t kat_list(const char *dir, const char *prefix, const char *suffix, char ***names);

#endif
