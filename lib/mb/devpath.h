/* devpath: UEFI device paths (EFI_DEVICE_PATH_PROTOCOL node sequences) as
 * text, the way libefivar's efidp_format_device_path writes them, which is
 * what upstream Keylime shows for image-load events ("PciRoot(0x0)/Pci(0x2,
 * 0x3)/.../File(\EFI\redhat\shimx64.efi)").
 *
 * The walk follows libefivar: it stops at the first End node after the
 * first node, or when the next node does not fit in the limit (the text so
 * far is the result, unless it is empty: then it fails); a node shorter
 * than its 4-byte header fails the whole path.
 */
#ifndef KL_DEVPATH_H
#define KL_DEVPATH_H

#include <stdbool.h>
#include <stdint.h>

#include "util/kl_buf.h"
#include "util/kl_err.h"

/* Appends the text of dp (at most limit bytes of it are walked; limit is
 * LengthOfDevicePath, capped at dp.len). KL_EPARSE where libefivar fails;
 * KL_EUNSUPPORTED for a node this formatter does not write as libefivar
 * does (nodes of the hardware, ACPI HID and ADR, media and common
 * messaging kinds are written; vendor messaging, network address, ACPI
 * extended HID and BIOS boot nodes are not). On error out is unchanged. */
KL_MUST_CHECK kl_rc kl_devpath_format(kl_buf *out, kl_bytes dp, uint64_t limit);

/* Whether the text libefivar gives for dp starts with
 * "FvVol(<guid>)/FvFile(<guid>)", a firmware-volume application (which
 * `keylime-policy create measured-boot` leaves out). */
bool kl_devpath_is_fv_app(kl_bytes dp, uint64_t limit);

#endif
