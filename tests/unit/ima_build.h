/* Test support: builds IMA list lines and binary records with correct
 * template hashes, so tests can state entries by their fields. */
#ifndef KL_TEST_IMA_BUILD_H
#define KL_TEST_IMA_BUILD_H

#include "crypto/hash.h"
#include "ima/ima_entry.h"
#include "util/kl_buf.h"

typedef struct {
    const char *pcr;       /* NULL: "10" */
    const char *tmpl;      /* "ima-ng" ... */
    const char *alg;       /* digest algorithm; NULL: bare digest */
    const char *digest;    /* hex */
    const char *name;
    const char *extra;     /* hex of sig/buf, or NULL */
    kl_hash_alg th_alg;    /* template-hash column algorithm */
    int mutate;            /* 0, or MUT_* */
} ima_line;

enum { MUT_NONE = 0, MUT_ZERO_HASH, MUT_BAD_HASH };

/* Appends "<line>\n" to out. */
void ima_build_line(kl_buf *out, const ima_line *l);
/* Appends the binary record of the same entry to out. */
void ima_build_record(kl_buf *out, const ima_line *l);
/* PCR after extending start (bank size) with H_bank(template data) of l. */
void ima_build_extend(uint8_t *pcr, kl_hash_alg bank, const ima_line *l);
/* Hex of the SHA-256 of a string (a convenient fake file digest). */
const char *ima_build_sha256(const char *s);

#endif
