/* ima_template: template names and the template-data encoding.
 *
 * The encoding is a table: each template is an ordered list of fields, and
 * each field knows how to write its bytes (the bytes the kernel hashes):
 *   ima:      d (20 raw bytes) | n (name, NUL, zero padding to 256 bytes)
 *   ima-ng:   d-ng | n-ng               (each: u32le length, then data)
 *   ima-sig:  d-ng | n-ng | sig
 *   ima-buf:  d-ng | n-ng | buf
 * d-ng is "<alg>:" NUL <digest>, for sha1 too; n-ng is the name and a NUL.
 */
#ifndef KL_IMA_TEMPLATE_H
#define KL_IMA_TEMPLATE_H

#include "ima/ima_entry.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"

/* Maximum name length of the legacy "ima" template. */
#define KL_IMA_LEGACY_NAME_MAX 255

kl_ima_template kl_ima_template_from_name(kl_bytes name);

/* Appends the template data of e (tmpl, digest_alg, digest, name, sig, buf)
 * to out. KL_EPARSE when e cannot be encoded (legacy name too long). */
KL_MUST_CHECK kl_rc kl_ima_template_encode(const kl_ima_entry *e, kl_buf *out);

/* Splits binary template data into e's fields (the inverse of encode for the
 * length-prefixed templates). Sets e->error and returns KL_OK when the data
 * is malformed. */
KL_MUST_CHECK kl_rc kl_ima_template_decode(kl_ima_entry *e, kl_bytes data);

#endif
