#include "ima/ima_binary.h"

#include <stdio.h>
#include <string.h>

#include "ima/ima_template.h"
#include "util/kl_reader.h"

#define TEMPLATE_NAME_MAX 64
#define LEGACY_DIGEST_SIZE 20

void
kl_ima_binary_init(kl_ima_binary *p, kl_bytes data, size_t hash_len)
{
    p->data = data;
    p->off = 0;
    p->index = 0;
    p->hash_len = hash_len;
    p->next = 0;
    for (size_t i = 0; i < KL_IMA_BINARY_KEEP; i++)
        kl_buf_init(&p->bufs[i], 4096);
    p->cur = &p->bufs[0];
}

void
kl_ima_binary_free(kl_ima_binary *p)
{
    for (size_t i = 0; i < KL_IMA_BINARY_KEEP; i++)
        kl_buf_free(&p->bufs[i]);
}

bool
kl_ima_binary_detect(kl_bytes text)
{
    /* ASCII lists start with the PCR number in decimal; binary ones with a
     * little-endian u32 PCR index below 24. */
    return text.len >= 4 && !(text.ptr[0] >= '0' && text.ptr[0] <= '9') && text.ptr[1] == 0 &&
           text.ptr[2] == 0 && text.ptr[3] == 0 && text.ptr[0] < 24;
}

static kl_rc
broken(const kl_ima_binary *p, const char *what)
{
    return kl_err_set(KL_EPARSE, "binary measurement list: entry %zu at offset %zu: %s",
                      p->index, p->off, what);
}

/* Legacy "ima": 20-byte digest, u32 name length, name (no NUL); the hashed
 * template data pads the name to 256 bytes, so it is rebuilt. */
static kl_rc
legacy(kl_ima_binary *p, kl_reader *r, kl_ima_entry *e)
{
    kl_buf *buf;
    kl_rc rc;

    if (kl_reader_bytes(r, LEGACY_DIGEST_SIZE, &e->digest) != KL_OK ||
        kl_reader_lv32le(r, &e->name) != KL_OK)
        return broken(p, "truncated 'ima' template fields");
    e->digest_alg = KL_BYTES_STR("sha1");
    buf = p->cur = &p->bufs[p->next];
    p->next = (p->next + 1) % KL_IMA_BINARY_KEEP;
    kl_buf_reset(buf);
    rc = kl_ima_template_encode(e, buf);
    if (rc == KL_EPARSE) {
        e->error = "name longer than 255 bytes in an 'ima' entry";
        return KL_OK;
    }
    e->template_data = kl_buf_bytes(buf);
    return rc;
}

kl_rc
kl_ima_binary_next(kl_ima_binary *p, kl_ima_entry *e, bool *more)
{
    kl_reader r = {p->data.ptr, p->data.len, p->off};
    uint32_t pcr, name_len, data_len;
    kl_bytes data;
    kl_rc rc;

    if (r.off == r.len) {
        *more = false;
        return KL_OK;
    }
    memset(e, 0, sizeof(*e));
    e->index = p->index;
    if (kl_reader_u32le(&r, &pcr) != KL_OK || kl_reader_bytes(&r, p->hash_len, &e->template_hash) != KL_OK ||
        kl_reader_u32le(&r, &name_len) != KL_OK)
        return broken(p, "truncated entry header");
    if (name_len == 0 || name_len > TEMPLATE_NAME_MAX ||
        kl_reader_bytes(&r, name_len, &e->template_name) != KL_OK)
        return broken(p, "bad template name length");
    e->pcr_is_ima = pcr == KL_IMA_PCR;
    snprintf(e->pcr_text, sizeof(e->pcr_text), "%u", pcr);
    e->tmpl = kl_ima_template_from_name(e->template_name);
    if (e->tmpl == KL_IMA_TMPL_IMA) {
        rc = legacy(p, &r, e);
    } else {
        if (kl_reader_u32le(&r, &data_len) != KL_OK || data_len > KL_IMA_BINARY_DATA_MAX ||
            kl_reader_bytes(&r, data_len, &data) != KL_OK)
            return broken(p, "bad template data length");
        rc = kl_ima_template_decode(e, data);
    }
    if (rc != KL_OK)
        return rc;
    e->raw = KL_BYTES(p->data.ptr + p->off, r.off - p->off);
    p->off = r.off;
    p->index++;
    *more = true;
    return KL_OK;
}
