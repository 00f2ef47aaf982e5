#include "tpm/makecred.h"

#include "crypto/cipher.h"
#include "crypto/kdf.h"
#include "tpm/pcr.h"
#include "util/kl_b64.h"
#include "util/kl_hex.h"
#include "util/kl_reader.h"

#include <string.h>

#define LABEL_IDENTITY "IDENTITY"
#define MAX_SECRET 512 /* TPM2B_ENCRYPTED_SECRET, RSA up to 4096 bits */

/* What the EK's public area says about wrapping a credential for it. */
typedef struct {
    kl_hash_alg hash; /* nameAlg: seed size, KDFs, HMAC */
    size_t hlen;
    size_t sym_bytes; /* AES key size */
    bool ecc;
    uint8_t ek_x[66]; /* ECC: the EK's x, padded to the field size */
    size_t coord;
} wrap_params;

static kl_rc
wrap_params_of(wrap_params *w, const kl_tpm_public *ek)
{
    const TPMT_PUBLIC *pub = kl_tpm_public_tpmt(ek);
    const TPMT_SYM_DEF_OBJECT *sym = &pub->parameters.asymDetail.symmetric;
    uint8_t y[66];
    kl_ec_curve c;

    memset(w, 0, sizeof(*w));
    if (!kl_tpm_hash_of_alg(pub->nameAlg, &w->hash))
        return kl_err_set(KL_EUNSUPPORTED, "EK nameAlg 0x%04x is not sha1/256/384/512",
                          pub->nameAlg);
    w->hlen = kl_hash_size(w->hash);
    if (sym->algorithm != TPM2_ALG_AES || sym->mode.aes != TPM2_ALG_CFB ||
        (sym->keyBits.aes != 128 && sym->keyBits.aes != 192 && sym->keyBits.aes != 256))
        return kl_err_set(KL_EUNSUPPORTED,
                          "EK symmetric parameters (alg 0x%04x, %u bits, mode 0x%04x) are not "
                          "AES-CFB: not a storage key",
                          sym->algorithm, sym->keyBits.aes, sym->mode.aes);
    w->sym_bytes = sym->keyBits.aes / 8u;
    w->ecc = pub->type == TPM2_ALG_ECC;
    if (w->ecc) {
        kl_rc rc = kl_pubkey_ec_params(kl_tpm_public_key(ek), &c, w->ek_x, y);

        if (rc != KL_OK)
            return rc;
        w->coord = kl_ec_curve_size(c);
    }
    return KL_OK;
}

/* encIdentity and its outer HMAC, from the seed (TPM 2.0 Part 1, 24.4 and
 * 24.5: ProduceOuterWrap). identity receives 2 + secret.len bytes. */
static kl_rc
outer_wrap(const wrap_params *w, kl_bytes seed, kl_bytes name, kl_bytes secret, uint8_t *identity,
           uint8_t *hmac)
{
    static const uint8_t iv[KL_AES_BLOCK];
    uint8_t key[32], hkey[KL_HASH_MAX_SIZE], plain[2 + KL_HASH_MAX_SIZE];
    kl_bytes none = KL_BYTES(NULL, 0);
    kl_rc rc;

    plain[0] = (uint8_t)(secret.len >> 8);
    plain[1] = (uint8_t)secret.len;
    memcpy(plain + 2, secret.ptr, secret.len);
    rc = kl_kdfa(w->hash, seed, "STORAGE", name, none, w->sym_bytes * 8, key);
    if (rc == KL_OK)
        rc = kl_aes_cfb_encrypt(KL_BYTES(key, w->sym_bytes), iv, KL_BYTES(plain, 2 + secret.len),
                                identity);
    if (rc == KL_OK)
        rc = kl_kdfa(w->hash, seed, "INTEGRITY", none, none, w->hlen * 8, hkey);
    if (rc == KL_OK)
        rc = kl_hmac2(w->hash, KL_BYTES(hkey, w->hlen), KL_BYTES(identity, 2 + secret.len), name,
                      hmac);
    kl_wipe(key, sizeof(key));
    kl_wipe(hkey, sizeof(hkey));
    kl_wipe(plain, sizeof(plain));
    return rc;
}

/* The seed and encrypted secret: RSA-OAEP of a random seed, or ECDH with
 * an ephemeral key and KDFe (TPM 2.0 Part 1, B.10.3 and C.6.4). */
static kl_rc
make_seed(const wrap_params *w, const kl_tpm_public *ek, kl_bytes fixed_seed, kl_bytes scalar,
          uint8_t *seed, kl_buf *enc_secret)
{
    const kl_pubkey *key = kl_tpm_public_key(ek);
    uint8_t z[66], qx[66], qy[66], size[2];
    kl_rc rc;

    if (!w->ecc) {
        if (fixed_seed.len && fixed_seed.len != w->hlen)
            return kl_err_set(KL_EINVAL, "seed must have %zu bytes", w->hlen);
        if (fixed_seed.len)
            memcpy(seed, fixed_seed.ptr, w->hlen);
        else if ((rc = kl_rand_bytes(seed, w->hlen)) != KL_OK)
            return rc;
        return kl_pubkey_rsa_oaep_encrypt(key, w->hash, KL_BYTES_STR(LABEL_IDENTITY "\0"),
                                          KL_BYTES(seed, w->hlen), enc_secret);
    }
    rc = kl_pubkey_ecdh_ephemeral(key, scalar, z, qx, qy);
    if (rc == KL_OK)
        rc = kl_kdfe(w->hash, KL_BYTES(z, w->coord), LABEL_IDENTITY, KL_BYTES(qx, w->coord),
                     KL_BYTES(w->ek_x, w->coord), w->hlen * 8, seed);
    kl_wipe(z, sizeof(z));
    /* TPMS_ECC_POINT: two TPM2B coordinates of the field size */
    size[0] = (uint8_t)(w->coord >> 8);
    size[1] = (uint8_t)w->coord;
    if (rc == KL_OK)
        rc = kl_buf_append(enc_secret, size, 2);
    if (rc == KL_OK)
        rc = kl_buf_append(enc_secret, qx, w->coord);
    if (rc == KL_OK)
        rc = kl_buf_append(enc_secret, size, 2);
    if (rc == KL_OK)
        rc = kl_buf_append(enc_secret, qy, w->coord);
    return rc;
}

static kl_rc
append_u16(kl_buf *b, size_t v)
{
    uint8_t be[2] = {(uint8_t)(v >> 8), (uint8_t)v};

    return kl_buf_append(b, be, 2);
}

static kl_rc
append_u32(kl_buf *b, uint32_t v)
{
    uint8_t be[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};

    return kl_buf_append(b, be, 4);
}

kl_rc
kl_makecred_blob_fixed(kl_buf *out, const kl_tpm_public *ek, kl_bytes secret, kl_bytes name,
                       kl_bytes fixed_seed, kl_bytes scalar)
{
    uint8_t seed[KL_HASH_MAX_SIZE], identity[2 + KL_HASH_MAX_SIZE], hmac[KL_HASH_MAX_SIZE];
    wrap_params w;
    kl_buf enc;
    kl_rc rc = wrap_params_of(&w, ek);

    if (rc != KL_OK)
        return rc;
    if (secret.len == 0 || secret.len > w.hlen)
        return kl_err_set(KL_EINVAL, "a credential holds 1 to %zu bytes, not %zu", w.hlen,
                          secret.len);
    if (name.len < 2 || name.len > 2 + KL_HASH_MAX_SIZE)
        return kl_err_set(KL_EINVAL, "object name of %zu bytes", name.len);
    kl_buf_init(&enc, MAX_SECRET + 1);
    rc = make_seed(&w, ek, fixed_seed, scalar, seed, &enc);
    if (rc == KL_OK)
        rc = outer_wrap(&w, KL_BYTES(seed, w.hlen), name, secret, identity, hmac);
    if (rc == KL_OK)
        rc = append_u32(out, KL_MAKECRED_MAGIC);
    if (rc == KL_OK)
        rc = append_u32(out, KL_MAKECRED_VERSION);
    if (rc == KL_OK)
        rc = append_u16(out, 2 + w.hlen + 2 + secret.len);
    if (rc == KL_OK)
        rc = append_u16(out, w.hlen);
    if (rc == KL_OK)
        rc = kl_buf_append(out, hmac, w.hlen);
    if (rc == KL_OK)
        rc = kl_buf_append(out, identity, 2 + secret.len);
    if (rc == KL_OK)
        rc = append_u16(out, enc.len);
    if (rc == KL_OK)
        rc = kl_buf_append(out, enc.ptr, enc.len);
    kl_wipe(seed, sizeof(seed));
    kl_buf_free(&enc);
    return rc;
}

kl_rc
kl_makecred_blob(kl_buf *out, const kl_tpm_public *ek, kl_bytes secret, kl_bytes name)
{
    return kl_makecred_blob_fixed(out, ek, secret, name, KL_BYTES(NULL, 0), KL_BYTES(NULL, 0));
}

kl_rc
kl_makecred_parse(kl_makecred_parts *out, kl_bytes blob)
{
    kl_reader r = kl_reader_make(blob), c;
    uint32_t magic, version;
    uint16_t size;
    kl_rc rc;

    memset(out, 0, sizeof(*out));
    if ((rc = kl_reader_u32be(&r, &magic)) != KL_OK ||
        (rc = kl_reader_u32be(&r, &version)) != KL_OK)
        return kl_err_wrap(rc, "credential blob: ");
    if (magic != KL_MAKECRED_MAGIC)
        return kl_err_set(KL_EPARSE, "credential blob: bad magic 0x%08x (want 0x%08x)", magic,
                          KL_MAKECRED_MAGIC);
    if (version != KL_MAKECRED_VERSION)
        return kl_err_set(KL_EPARSE, "credential blob: version %u (want 1)", version);
    if ((rc = kl_reader_u16be(&r, &size)) != KL_OK ||
        (rc = kl_reader_bytes(&r, size, &out->credential)) != KL_OK ||
        (rc = kl_reader_u16be(&r, &size)) != KL_OK ||
        (rc = kl_reader_bytes(&r, size, &out->secret)) != KL_OK)
        return kl_err_wrap(rc, "credential blob: ");
    if (kl_reader_left(&r))
        return kl_err_set(KL_EPARSE, "credential blob: %zu trailing bytes", kl_reader_left(&r));
    c = kl_reader_make(out->credential);
    if (kl_reader_u16be(&c, &size) != KL_OK || kl_reader_bytes(&c, size, &out->integrity) != KL_OK)
        return kl_err_set(KL_EPARSE,
                          "credential blob: the integrity HMAC does not fit in the "
                          "%zu-byte credential",
                          out->credential.len);
    out->identity = KL_BYTES(c.ptr + c.off, kl_reader_left(&c));
    return KL_OK;
}

/* The seed, from the encrypted secret with the EK's private key. */
static kl_rc
recover_seed(const wrap_params *w, kl_bytes enc, const kl_privkey *priv, uint8_t *seed)
{
    kl_reader r = kl_reader_make(enc);
    kl_bytes x, y;
    uint16_t xs, ys;
    uint8_t z[66];
    kl_buf plain;
    kl_rc rc;

    if (!w->ecc) {
        kl_buf_init(&plain, MAX_SECRET + 1);
        rc = kl_privkey_rsa_oaep_decrypt(priv, w->hash, KL_BYTES_STR(LABEL_IDENTITY "\0"), enc,
                                         &plain);
        if (rc == KL_OK && plain.len != w->hlen)
            rc = kl_err_set(KL_EVERIFY, "the seed has %zu bytes, not %zu", plain.len, w->hlen);
        if (rc == KL_OK)
            memcpy(seed, plain.ptr, w->hlen);
        kl_buf_free_secret(&plain);
        return rc;
    }
    if (kl_reader_u16be(&r, &xs) != KL_OK || kl_reader_bytes(&r, xs, &x) != KL_OK ||
        kl_reader_u16be(&r, &ys) != KL_OK || kl_reader_bytes(&r, ys, &y) != KL_OK ||
        kl_reader_left(&r))
        return kl_err_set(KL_EPARSE, "the encrypted secret is not a TPMS_ECC_POINT");
    rc = kl_privkey_ecdh(priv, x, y, z);
    if (rc == KL_EINVAL)
        return kl_err_set(KL_EVERIFY, "the ephemeral point is not on the EK's curve");
    if (rc == KL_OK)
        rc = kl_kdfe(w->hash, KL_BYTES(z, w->coord), LABEL_IDENTITY, x, KL_BYTES(w->ek_x, w->coord),
                     w->hlen * 8, seed);
    kl_wipe(z, sizeof(z));
    return rc;
}

/* Checks the outer HMAC and decrypts encIdentity into out. */
static kl_rc
unwrap(const wrap_params *w, const kl_makecred_parts *p, kl_bytes seed, kl_bytes name, kl_buf *out)
{
    static const uint8_t iv[KL_AES_BLOCK];
    uint8_t key[32], hkey[KL_HASH_MAX_SIZE], hmac[KL_HASH_MAX_SIZE], plain[2 + KL_HASH_MAX_SIZE];
    kl_bytes none = KL_BYTES(NULL, 0);
    size_t n = p->identity.len;
    kl_rc rc;

    if (p->integrity.len != w->hlen || n < 2 || n > sizeof(plain))
        return kl_err_set(KL_EVERIFY, "credential sizes do not fit the EK's nameAlg");
    rc = kl_kdfa(w->hash, seed, "INTEGRITY", none, none, w->hlen * 8, hkey);
    if (rc == KL_OK)
        rc = kl_hmac2(w->hash, KL_BYTES(hkey, w->hlen), p->identity, name, hmac);
    if (rc == KL_OK && !kl_ct_equal(hmac, p->integrity.ptr, w->hlen))
        rc = kl_err_set(KL_EVERIFY, "credential integrity check failed (other EK or name)");
    if (rc == KL_OK)
        rc = kl_kdfa(w->hash, seed, "STORAGE", name, none, w->sym_bytes * 8, key);
    if (rc == KL_OK)
        rc = kl_aes_cfb_decrypt(KL_BYTES(key, w->sym_bytes), iv, p->identity, plain);
    if (rc == KL_OK && ((size_t)plain[0] << 8 | plain[1]) != n - 2)
        rc = kl_err_set(KL_EVERIFY, "the decrypted credential's size does not match");
    if (rc == KL_OK)
        rc = kl_buf_append(out, plain + 2, n - 2);
    kl_wipe(key, sizeof(key));
    kl_wipe(hkey, sizeof(hkey));
    kl_wipe(plain, sizeof(plain));
    return rc;
}

kl_rc
kl_makecred_activate(kl_buf *out, kl_bytes blob, const kl_tpm_public *ek,
                     const kl_privkey *ek_private, kl_bytes name)
{
    uint8_t seed[KL_HASH_MAX_SIZE];
    kl_makecred_parts p;
    wrap_params w;
    kl_rc rc;

    if ((rc = wrap_params_of(&w, ek)) != KL_OK || (rc = kl_makecred_parse(&p, blob)) != KL_OK)
        return rc;
    rc = recover_seed(&w, p.secret, ek_private, seed);
    if (rc == KL_OK)
        rc = unwrap(&w, &p, KL_BYTES(seed, w.hlen), name, out);
    kl_wipe(seed, sizeof(seed));
    return rc;
}

kl_rc
kl_makecred_challenge(char out[KL_MAKECRED_CHALLENGE_LEN + 1])
{
    static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz";
    uint8_t rnd[KL_MAKECRED_CHALLENGE_LEN];
    kl_rc rc = kl_rand_bytes(rnd, sizeof(rnd));

    if (rc != KL_OK)
        return rc;
    for (size_t i = 0; i < sizeof(rnd); i++)
        out[i] = chars[rnd[i] % (sizeof(chars) - 1)];
    out[KL_MAKECRED_CHALLENGE_LEN] = 0;
    kl_wipe(rnd, sizeof(rnd));
    return KL_OK;
}

kl_rc
kl_makecred_key(kl_buf *out, kl_bytes challenge)
{
    return kl_b64_encode_append(out, challenge.ptr, challenge.len);
}

static kl_rc
tag_bytes(uint8_t *mac, kl_bytes key_b64, kl_bytes agent_id)
{
    return kl_hmac(KL_HASH_SHA384, key_b64, agent_id, mac);
}

kl_rc
kl_makecred_auth_tag(kl_buf *out, kl_bytes key_b64, kl_bytes agent_id)
{
    uint8_t mac[48];
    kl_rc rc = tag_bytes(mac, key_b64, agent_id);

    if (rc == KL_OK)
        rc = kl_hex_encode_append(out, mac, sizeof(mac));
    return rc;
}

kl_rc
kl_makecred_auth_tag_from_secret(kl_buf *out, kl_bytes secret, kl_bytes agent_id)
{
    kl_buf key;
    kl_rc rc;

    kl_buf_init(&key, 4096);
    rc = kl_makecred_key(&key, secret);
    if (rc == KL_OK)
        rc = kl_makecred_auth_tag(out, kl_buf_bytes(&key), agent_id);
    kl_buf_free_secret(&key);
    return rc;
}

kl_rc
kl_makecred_check_auth_tag(bool *ok, kl_bytes key_b64, kl_bytes agent_id, kl_bytes tag)
{
    char want[KL_MAKECRED_AUTH_TAG_LEN + 1];
    uint8_t mac[48];
    kl_rc rc;

    *ok = false;
    rc = tag_bytes(mac, key_b64, agent_id);
    if (rc != KL_OK)
        return rc;
    kl_hex_encode(want, mac, sizeof(mac));
    *ok = tag.len == KL_MAKECRED_AUTH_TAG_LEN && kl_ct_equal(want, tag.ptr, tag.len);
    return KL_OK;
}
