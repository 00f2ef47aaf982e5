/* fuzz_revocation: revocation envelopes (payload/revocation.h).
 *
 * The input is the body an agent receives on /notifications/revocation.
 * It is parsed; when it parses, its signature is checked against the
 * collection's RevocationNotifier certificate (the seed message verifies),
 * and for half the inputs (by hash) the msg is signed here with a fresh
 * key. Checks: a parsed msg is non-empty and starts a JSON object; our own
 * signature verifies and stops verifying when one bit of msg changes;
 * verification of received signatures never errors except KL_EPARSE for
 * malformed base64.
 */
#include "crypto/privkey.h"
#include "fuzz_util.h"
#include "payload/revocation.h"

/* tests/data/payload/RevocationNotifier-cert.crt (generated; see
 * tests/data/README.md) */
static const char cert_pem[] = "-----BEGIN CERTIFICATE-----\n"
                               "MIIDGzCCAgOgAwIBAgIUbnbNFbUDWtITRouZgWbEv5Dl7yAwDQYJKoZIhvcNAQEL\n"
                               "BQAwHTEbMBkGA1UEAwwSUmV2b2NhdGlvbk5vdGlmaWVyMB4XDTI2MTEyMjEwNTc1\n"
                               "NFoXDTM2MTExOTEwNTc1NFowHTEbMBkGA1UEAwwSUmV2b2NhdGlvbk5vdGlmaWVy\n"
                               "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAtNfBH7MMSWwerxGPs1X3\n"
                               "uhFGMspEatOIf6yBF5lqz3ZobkoxATrKiHP6ueCFDvg5QrKjVmZzKygeDq76dLEH\n"
                               "m2tdttzDX3WkdhNSu0HpO9acZkDifFJBK3EBDXkEneWrXl6O6S1h4sgPV0glGEpP\n"
                               "Ev5TnQo2Lh6z4Qe/bWac9JXIuXkDBJPsAI05mLPKi1rRr1qWjetg6wupTtZG2iHv\n"
                               "W9e9sPCprsLpDV4wQ1g4aLmwHgpPIRAFzMwmaRqd3x4HrocRWFjW4ZTDMDhXIrUS\n"
                               "82IaVGgS2yxAmMsOb6CdQGFk3R1pTImAS7apFxpvqI/PWjv93WeycEr5M5VMClEg\n"
                               "swIDAQABo1MwUTAdBgNVHQ4EFgQU1Gxb3ZkVcRse4EecakCEjduipd4wHwYDVR0j\n"
                               "BBgwFoAU1Gxb3ZkVcRse4EecakCEjduipd4wDwYDVR0TAQH/BAUwAwEB/zANBgkq\n"
                               "hkiG9w0BAQsFAAOCAQEAsPA6MMb15WYhub8AlK/joarZqPL7sAGvkPidOnE3Bo1w\n"
                               "yBn/gJ6g3WYDT3CogjEv35ePhhD9EsaUmnDQYtaMPn3ZdOqaMrzXnosXfopD8PH9\n"
                               "B9VHx7S1JCgRQOCc1JFm/LFTQHK7X8Vo8J/QYQukPkhu+DiHu7KzKi0iNUb+NuXY\n"
                               "EJ0CLu74o1/unKLwzwzpNZ2+nynXQ4Ep1XYV2bA84QxQ/vW30atrssddud0qggoj\n"
                               "ZnX2xry1FWq+LxS5ucJ1ij3bbNRN19fR6jZAjJEUpBm2SgaH/ZHx/yne2+vMoGwA\n"
                               "AJBk9qUazjIz0KsBO3VOFtE9/n9t2SQ6o0bO6lbtHA==\n"
                               "-----END CERTIFICATE-----\n";

static kl_buf key_pem, pub_pem;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    kl_privkey *k = NULL;
    kl_pubkey *pub = NULL;

    (void)argc;
    (void)argv;
    fuzz_quiet_logs();
    kl_buf_init(&key_pem, 1 << 16);
    kl_buf_init(&pub_pem, 1 << 16);
    FUZZ_CHECK(kl_privkey_generate_rsa(&k, 2048) == KL_OK);
    FUZZ_CHECK(kl_privkey_pem(k, &key_pem) == KL_OK);
    FUZZ_CHECK(kl_privkey_public(k, &pub) == KL_OK);
    FUZZ_CHECK(kl_pubkey_spki_pem(pub, &pub_pem) == KL_OK);
    kl_pubkey_free(pub);
    kl_privkey_free(k);
    return 0;
}

static void
sign_roundtrip(kl_buf *msg)
{
    kl_buf sig;
    bool ok = false;

    kl_buf_init(&sig, 4096);
    FUZZ_CHECK(kl_revocation_sign(&sig, kl_buf_bytes(&key_pem), kl_buf_bytes(msg)) == KL_OK);
    FUZZ_CHECK(kl_revocation_verify(&ok, kl_buf_bytes(&pub_pem), kl_buf_bytes(msg),
                                    kl_buf_bytes(&sig)) == KL_OK);
    FUZZ_CHECK(ok);
    msg->ptr[fuzz_hash(msg->ptr, msg->len) % msg->len] ^= 0x04;
    FUZZ_CHECK(kl_revocation_verify(&ok, kl_buf_bytes(&pub_pem), kl_buf_bytes(msg),
                                    kl_buf_bytes(&sig)) == KL_OK);
    FUZZ_CHECK(!ok);
    kl_buf_free(&sig);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kl_buf msg, sig;
    bool ok = true;
    kl_rc rc;

    kl_buf_init(&msg, 1 << 20);
    kl_buf_init(&sig, 1 << 20);
    rc = kl_revocation_parse(&msg, &sig, fuzz_input(data, size));
    fuzz_touch_error();
    if (rc != KL_OK) {
        FUZZ_CHECK(msg.len == 0 && sig.len == 0);
        goto out;
    }
    FUZZ_CHECK(msg.len >= 2);
    rc = kl_revocation_verify(&ok, KL_BYTES(cert_pem, sizeof(cert_pem) - 1), kl_buf_bytes(&msg),
                              kl_buf_bytes(&sig));
    FUZZ_CHECK(rc == KL_OK || rc == KL_EPARSE);
    FUZZ_CHECK(rc == KL_OK || !ok);
    if (fuzz_hash(data, size) & 1)
        sign_roundtrip(&msg);
out:
    kl_buf_free(&msg);
    kl_buf_free(&sig);
    return 0;
}
