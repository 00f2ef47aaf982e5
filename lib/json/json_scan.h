/* json_scan: a pull scanner for large JSON documents (RFC 8259, UTF-8).
 *
 * jansson builds a tree and needs over 2 s and 350 MB for a million-digest
 * runtime policy; this scanner walks the text in place, validates it as it
 * goes and hands out strings as views (decoded into a scratch buffer only
 * when they contain escapes). Use it for documents that can be large; use
 * json.h (jansson) for small ones.
 *
 * Usage: after kl_json_scan_object_begin, call kl_json_scan_object_next
 * until it reports no more members; after each key, consume exactly one
 * value (string, int, object, array or skip). Arrays work the same way with
 * kl_json_scan_array_next. Errors carry "line L column C: ...".
 */
#ifndef KL_JSON_SCAN_H
#define KL_JSON_SCAN_H

#include <stdbool.h>
#include <stdint.h>

#include "util/kl_buf.h"
#include "util/kl_err.h"

#define KL_JSON_MAX_DEPTH 256

typedef enum {
    KL_JSON_NONE = 0, /* end of input or a character no value starts with */
    KL_JSON_OBJECT,
    KL_JSON_ARRAY,
    KL_JSON_STRING,
    KL_JSON_NUMBER,
    KL_JSON_TRUE,
    KL_JSON_FALSE,
    KL_JSON_NULL,
} kl_json_type;

typedef struct {
    const uint8_t *base;
    const uint8_t *p;
    const uint8_t *end;
    kl_buf key_scratch; /* decoded keys with escapes */
    kl_buf val_scratch; /* decoded string values with escapes */
    unsigned depth;
    uint8_t first[KL_JSON_MAX_DEPTH]; /* no member read yet in this container */
} kl_json_scan;

/* The scanner borrows text; free releases its scratch buffers. */
void kl_json_scan_init(kl_json_scan *s, kl_bytes text);
void kl_json_scan_free(kl_json_scan *s);
/* Scans the value at span, a part of text found by an earlier scan, so that
 * positions in messages stay relative to the whole text. */
void kl_json_scan_init_at(kl_json_scan *s, kl_bytes text, kl_bytes span);

/* Type of the next value (skips whitespace). */
kl_json_type kl_json_scan_peek(kl_json_scan *s);
/* Human name of a type ("an object", "a string", ...). */
const char *kl_json_type_name(kl_json_type t);

KL_MUST_CHECK kl_rc kl_json_scan_object_begin(kl_json_scan *s);
/* Next member: *more is false once the closing brace was consumed; otherwise
 * key is the member name. The key is valid only until the next key is read
 * *anywhere*, including inside the member's own value: compare it before
 * reading or skipping the value (a use-after-free was found this way). */
KL_MUST_CHECK kl_rc kl_json_scan_object_next(kl_json_scan *s, bool *more, kl_bytes *key);
KL_MUST_CHECK kl_rc kl_json_scan_array_begin(kl_json_scan *s);
/* Next element: *more is false once the closing bracket was consumed. */
KL_MUST_CHECK kl_rc kl_json_scan_array_next(kl_json_scan *s, bool *more);

/* A string value, as UTF-8 bytes (valid until the next string value). */
KL_MUST_CHECK kl_rc kl_json_scan_string(kl_json_scan *s, kl_bytes *out);
/* A number with an integral value (1, 1.0, 1e3) that fits int64.
 * KL_EPARSE for malformed text, KL_EINVAL for a non-integral or huge one. */
KL_MUST_CHECK kl_rc kl_json_scan_int(kl_json_scan *s, int64_t *out);
/* Any value; span (optional) receives its raw text. */
KL_MUST_CHECK kl_rc kl_json_scan_skip(kl_json_scan *s, kl_bytes *span);
/* Only whitespace may remain. */
KL_MUST_CHECK kl_rc kl_json_scan_finish(kl_json_scan *s);

/* "line L column C" of the current position, for messages. */
void kl_json_scan_where(const kl_json_scan *s, char *out, size_t outlen);

#endif
