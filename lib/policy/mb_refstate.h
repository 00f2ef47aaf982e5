/* mb_refstate: the measured-boot reference state for the example policy,
 * derived from an event log as `keylime-policy create measured-boot`
 * (upstream keylime/policy/create_mb_policy.py) derives it:
 *
 *   {"has_secureboot", "scrtm_and_bios": [{"scrtm", "platform_firmware"}],
 *    "pk", "kek", "db", "dbx", "vendor_db", "mokdig", "mokxdig",
 *    "kernels": [{...}]}
 *
 * Digests are the events' sha256 digests as "0x<hex>"; keys are
 * {"SignatureOwner", "SignatureData": "0x<hex>"}; the kernel entry takes
 * the first boot applications (firmware-volume applications left out:
 * shim, grub, and the kernel with Secure Boot), the first initrd/initramfs
 * and (without Secure Boot) vmlinuz file of PCR 9, and the first
 * "kernel_cmdline" of PCR 8, regex-escaped as Python's re.escape does.
 * When the boot applications are not what that expects, upstream writes
 * the refstate without "kernels" (and says so); so does this.
 */
#ifndef KL_MB_REFSTATE_H
#define KL_MB_REFSTATE_H

#include <jansson.h>
#include <stdbool.h>

#include "mb/eventlog.h"
#include "policy/policy_doc.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"

typedef struct {
    bool without_secureboot; /* -i: accept a log without Secure Boot */
    kl_policy_note_fn note;  /* upstream's warnings and information, may be NULL */
    void *payload;
} kl_mb_refstate_opts;

#define KL_MB_REFSTATE_OPTS_INIT {false, NULL, NULL}

/* The refstate of log (caller decrefs). KL_EINVAL, with upstream's
 * message, for a log without events and for a log without Secure Boot
 * unless without_secureboot; KL_EUNSUPPORTED when a boot application the
 * kernel entry needs has no sha256 digest (upstream fails with a Python
 * error there). */
KL_MUST_CHECK kl_rc kl_mb_refstate_create(json_t **out, const kl_eventlog *log,
                                          const kl_mb_refstate_opts *opts);

/* Appends Python's re.escape(text) (3.7 and later). */
KL_MUST_CHECK kl_rc kl_mb_refstate_re_escape(kl_buf *out, kl_bytes text);

#endif
