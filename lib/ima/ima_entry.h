/* ima_entry: one IMA measurement, as the parsers hand it out.
 *
 * All views borrow from the parser (its input or its scratch space) and are
 * valid until the parser's next call.
 */
#ifndef KL_IMA_ENTRY_H
#define KL_IMA_ENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/kl_buf.h"

/* The templates Keylime evaluates; every other one is reported as
 * ima.parser.entry, as upstream does. */
typedef enum {
    KL_IMA_TMPL_UNKNOWN = 0,
    KL_IMA_TMPL_IMA,     /* d|n (legacy, fixed-size name) */
    KL_IMA_TMPL_IMA_NG,  /* d-ng|n-ng */
    KL_IMA_TMPL_IMA_SIG, /* d-ng|n-ng|sig */
    KL_IMA_TMPL_IMA_BUF, /* d-ng|n-ng|buf */
} kl_ima_template;

#define KL_IMA_PCR 10

typedef struct {
    size_t index;          /* 0-based position in the given list */
    kl_bytes raw;          /* the whole line or record, for messages */
    /* Set when the entry could not be understood; the fields below are then
     * unset, except template_data when the record still delimits it (binary
     * lists), so that PCR replay stays correct. Borrowed static text. */
    const char *error;
    bool pcr_is_ima;       /* the PCR column is "10" (ASCII) or 10 (binary) */
    char pcr_text[16];     /* as found, for messages (truncated if long) */
    kl_bytes template_hash; /* the template-hash column / record digest */
    kl_bytes template_name;
    kl_ima_template tmpl;
    kl_bytes digest_alg;   /* e.g. "sha256"; "sha1"/"md5" inferred for bare digests */
    kl_bytes digest;       /* file digest (d / d-ng) */
    kl_bytes name;         /* path or buffer name, without the NUL */
    bool has_sig;          /* ima-sig with a well-formed signature header */
    kl_bytes sig;          /* raw security.ima signature */
    kl_bytes buf;          /* ima-buf buffer */
    kl_bytes template_data; /* the bytes the template hash covers */
} kl_ima_entry;

#endif
