/* kl_file: whole-file reads with a size cap, and safe writes. */
#ifndef KL_FILE_H
#define KL_FILE_H

#include "util/kl_buf.h"
#include "util/kl_err.h"

/* Reads the whole file into b (which is reset first; its max is the cap).
 * "-" reads standard input. Errors name the path. */
KL_MUST_CHECK kl_rc kl_file_read(const char *path, kl_buf *b);

/* Writes data to path through a temporary file and rename, so readers never
 * see a half-written file; "-" or "/dev/stdout" writes standard output. */
KL_MUST_CHECK kl_rc kl_file_write(const char *path, const void *data, size_t len);
/* The same with the file's permission bits (0600 for keys); the file is
 * created 0600 by mkstemp, so it is never readable by others meanwhile. */
KL_MUST_CHECK kl_rc kl_file_write_mode(const char *path, const void *data, size_t len,
                                       unsigned mode);

#endif
