/* zipread: a bounded reader for zip archives held in memory (PKWARE
 * APPNOTE 6.3), enough for Keylime payloads: entries are listed from the
 * central directory (as the Rust agent's zip crate does) and their data is
 * stored (method 0) or raw deflate (method 8, through zlib), with the
 * CRC-32 and the size checked at the end. Zip64 sizes and offsets are
 * understood. Every offset and length read from the archive is checked
 * against the buffer before use; only zlib allocates (its inflate state).
 *
 * This reader does not judge names or entry types; payload/unzip.h does.
 */
#ifndef KL_ZIPREAD_H
#define KL_ZIPREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/kl_buf.h"
#include "util/kl_err.h"

typedef struct {
    kl_bytes zip;
    size_t next;      /* offset of the next central directory record */
    size_t cd_end;    /* end of the central directory */
    uint64_t left;    /* records still to read */
} kl_zip_reader;

typedef struct {
    kl_bytes name;      /* borrowed from the archive, not NUL-terminated */
    uint16_t flags;     /* general purpose bits; bit 0: encrypted */
    uint16_t method;    /* 0 stored, 8 deflate, others unsupported */
    uint8_t made_by_os; /* 3: Unix, external_attr >> 16 is st_mode */
    uint32_t external_attr;
    uint32_t crc32;
    uint64_t csize;     /* compressed bytes, within the archive */
    uint64_t usize;     /* declared uncompressed size (not trusted) */
    kl_bytes data;      /* the compressed bytes, borrowed */
} kl_zip_entry;

/* Receives inflated bytes; a non-KL_OK answer stops the inflation. */
typedef kl_rc (*kl_zip_sink)(const uint8_t *p, size_t n, void *ctx);

/* Finds the end of central directory record. KL_EPARSE: not a zip, or a
 * central directory outside the buffer. */
KL_MUST_CHECK kl_rc kl_zip_open(kl_zip_reader *r, kl_bytes zip);

/* Reads the next entry into *e, or sets *done. KL_EPARSE for a damaged
 * record or local header. */
KL_MUST_CHECK kl_rc kl_zip_next(kl_zip_reader *r, kl_zip_entry *e, bool *done);

/* Inflates e's data in chunks of buf (buflen bytes) into sink. KL_EPARSE
 * for an unsupported method, damaged data, or a size or CRC-32 that does
 * not match the central directory; or the sink's error. */
KL_MUST_CHECK kl_rc kl_zip_extract(const kl_zip_entry *e, uint8_t *buf, size_t buflen,
                                   kl_zip_sink sink, void *ctx);

#endif
