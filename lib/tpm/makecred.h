/* makecred: the registrar's credential challenge (TPM2_MakeCredential in
 * software) and its agent-side counterparts.
 *
 * The registrar makes a 32-character challenge, encrypts it to the EK
 * bound to the AK's name, and sends the blob in tpm2-tools'
 * tpm2_makecredential file format:
 *
 *   u32be 0xBADCC0DE | u32be 1 | TPM2B_ID_OBJECT | TPM2B_ENCRYPTED_SECRET
 *
 * where the ID object is u16 size || TPM2B integrityHMAC || encIdentity
 * (TPM 2.0 Part 1, 24: seed from RSA-OAEP "IDENTITY" or ECDH + KDFe,
 * KDFa "STORAGE" key for AES-CFB, KDFa "INTEGRITY" key for the HMAC). The
 * agent splits the blob (kl_makecred_parse) for TPM2_ActivateCredential
 * and proves the result with auth_tag = hex HMAC-SHA384(key = the base64
 * text of the challenge, msg = agent id), which is what the registrar
 * stores as `key`.
 */
#ifndef KL_MAKECRED_H
#define KL_MAKECRED_H

#include "crypto/privkey.h"
#include "tpm/tpm_public.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"

#include <stdbool.h>
#include <stdint.h>

#define KL_MAKECRED_MAGIC 0xBADCC0DEu
#define KL_MAKECRED_VERSION 1u
#define KL_MAKECRED_CHALLENGE_LEN 32
#define KL_MAKECRED_AUTH_TAG_LEN 96

/* A registrar challenge: 32 characters from [A-Za-z0-9] (upstream's
 * random_password: chars[byte % 62], chars = upper, digits, lower) and a
 * NUL. */
KL_MUST_CHECK kl_rc kl_makecred_challenge(char out[KL_MAKECRED_CHALLENGE_LEN + 1]);

/* Appends the registrar's stored key for a challenge: its base64 text. */
KL_MUST_CHECK kl_rc kl_makecred_key(kl_buf *out, kl_bytes challenge);

/* Appends auth_tag: 96 lowercase hex digits of HMAC-SHA384 with the key's
 * text (base64 of the challenge) as HMAC key, over agent_id. */
KL_MUST_CHECK kl_rc kl_makecred_auth_tag(kl_buf *out, kl_bytes key_b64, kl_bytes agent_id);

/* The agent side: auth_tag from the secret ActivateCredential returned. */
KL_MUST_CHECK kl_rc kl_makecred_auth_tag_from_secret(kl_buf *out, kl_bytes secret,
                                                     kl_bytes agent_id);

/* The registrar side: *ok when tag is exactly the auth_tag of key_b64 and
 * agent_id (compared in constant time). */
KL_MUST_CHECK kl_rc kl_makecred_check_auth_tag(bool *ok, kl_bytes key_b64, kl_bytes agent_id,
                                               kl_bytes tag);

/* Appends the credential blob that gives `secret` (1 to digest-size-of-
 * the-EK's-nameAlg bytes) to whoever holds ek's private key and an object
 * named `name` (nameAlg || digest, e.g. kl_tpm_public_name of the AK). The
 * EK must be a storage key: RSA or ECC (P-256/384/521), AES-CFB symmetric
 * parameters, nameAlg sha1/256/384/512. KL_EINVAL or KL_EUNSUPPORTED with
 * the reason otherwise. */
KL_MUST_CHECK kl_rc kl_makecred_blob(kl_buf *out, const kl_tpm_public *ek, kl_bytes secret,
                                     kl_bytes name);

/* Test hook for known answers: kl_makecred_blob with the given seed (RSA
 * EKs; its length must be the nameAlg's digest size; RSA-OAEP still
 * randomises the encrypted secret) or ephemeral private scalar (ECC EKs;
 * the blob is then fully reproducible). */
KL_MUST_CHECK kl_rc kl_makecred_blob_fixed(kl_buf *out, const kl_tpm_public *ek, kl_bytes secret,
                                           kl_bytes name, kl_bytes seed, kl_bytes ecc_scalar);

/* The parts of a blob, views into it. */
typedef struct {
    kl_bytes credential; /* TPM2B_ID_OBJECT contents: ActivateCredential's credentialBlob */
    kl_bytes secret;     /* TPM2B_ENCRYPTED_SECRET contents: its secret */
    kl_bytes integrity;  /* the outer HMAC inside credential */
    kl_bytes identity;   /* encIdentity inside credential */
} kl_makecred_parts;

/* Splits a blob: magic, version 1, then the two TPM2B parts with nothing
 * left over; the credential's integrity HMAC must fit in it. KL_EPARSE
 * with the reason. */
KL_MUST_CHECK kl_rc kl_makecred_parse(kl_makecred_parts *out, kl_bytes blob);

/* TPM2_ActivateCredential in software, with the EK's private key: checks
 * the integrity HMAC against `name` and appends the secret. KL_EVERIFY when
 * the blob was not made for this EK and name, KL_EPARSE when it is
 * malformed. Secret: release out with kl_buf_free_secret. */
KL_MUST_CHECK kl_rc kl_makecred_activate(kl_buf *out, kl_bytes blob, const kl_tpm_public *ek,
                                         const kl_privkey *ek_private, kl_bytes name);

#endif
