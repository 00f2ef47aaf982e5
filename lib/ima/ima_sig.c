#include "ima/ima_sig.h"

#include "util/kl_reader.h"

bool
kl_ima_sig_parse(kl_bytes raw, kl_ima_sig *out)
{
    kl_reader r = kl_reader_make(raw);
    uint16_t size;

    if (kl_reader_u8(&r, &out->type) != KL_OK || kl_reader_u8(&r, &out->version) != KL_OK ||
        kl_reader_u8(&r, &out->hash_algo) != KL_OK || kl_reader_u32be(&r, &out->keyid) != KL_OK ||
        kl_reader_u16be(&r, &size) != KL_OK)
        return false;
    if (kl_reader_left(&r) != size)
        return false;
    return kl_reader_bytes(&r, size, &out->sig) == KL_OK;
}

bool
kl_ima_sig_hash_alg(uint8_t hash_algo, kl_hash_alg *out)
{
    switch (hash_algo) {
    case 1:
        *out = KL_HASH_MD5;
        return true;
    case 2:
        *out = KL_HASH_SHA1;
        return true;
    case 4:
        *out = KL_HASH_SHA256;
        return true;
    case 5:
        *out = KL_HASH_SHA384;
        return true;
    case 6:
        *out = KL_HASH_SHA512;
        return true;
    case 7:
        *out = KL_HASH_SHA224;
        return true;
    default: /* streebog (18, 19) and others: not verifiable, as upstream */
        return false;
    }
}
