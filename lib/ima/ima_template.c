#include "ima/ima_template.h"

#include <string.h>

#include "ima/ima_sig.h"
#include "util/kl_reader.h"

typedef enum { F_D, F_N, F_D_NG, F_N_NG, F_SIG, F_BUF } field_id;

static const struct {
    const char *name;
    kl_ima_template tmpl;
    field_id fields[3];
    size_t nfields;
} templates[] = {
    {"ima", KL_IMA_TMPL_IMA, {F_D, F_N}, 2},
    {"ima-ng", KL_IMA_TMPL_IMA_NG, {F_D_NG, F_N_NG}, 2},
    {"ima-sig", KL_IMA_TMPL_IMA_SIG, {F_D_NG, F_N_NG, F_SIG}, 3},
    {"ima-buf", KL_IMA_TMPL_IMA_BUF, {F_D_NG, F_N_NG, F_BUF}, 3},
};

#define NTEMPLATES (sizeof(templates) / sizeof(templates[0]))

kl_ima_template
kl_ima_template_from_name(kl_bytes name)
{
    for (size_t i = 0; i < NTEMPLATES; i++)
        if (kl_bytes_eq_str(name, templates[i].name))
            return templates[i].tmpl;
    return KL_IMA_TMPL_UNKNOWN;
}

static size_t
template_index(kl_ima_template t)
{
    for (size_t i = 0; i < NTEMPLATES; i++)
        if (templates[i].tmpl == t)
            return i;
    return NTEMPLATES;
}

static kl_rc
lv(kl_buf *out, kl_bytes data)
{
    kl_rc rc = kl_buf_append_u32le(out, (uint32_t)data.len);

    return rc == KL_OK ? kl_buf_append(out, data.ptr, data.len) : rc;
}

static kl_rc
encode_field(const kl_ima_entry *e, field_id f, kl_buf *out)
{
    static const uint8_t zeros[KL_IMA_LEGACY_NAME_MAX + 1];
    kl_rc rc;

    switch (f) {
    case F_D:
        return kl_buf_append(out, e->digest.ptr, e->digest.len);
    case F_N:
        if (e->name.len > KL_IMA_LEGACY_NAME_MAX)
            return kl_err_set(KL_EPARSE, "name longer than %d bytes in an 'ima' entry",
                              KL_IMA_LEGACY_NAME_MAX);
        rc = kl_buf_append(out, e->name.ptr, e->name.len);
        return rc == KL_OK ? kl_buf_append(out, zeros, sizeof(zeros) - e->name.len) : rc;
    case F_D_NG:
        rc = kl_buf_append_u32le(out, (uint32_t)(e->digest_alg.len + 2 + e->digest.len));
        if (rc == KL_OK)
            rc = kl_buf_append(out, e->digest_alg.ptr, e->digest_alg.len);
        if (rc == KL_OK)
            rc = kl_buf_append(out, ":", 2); /* ':' and NUL */
        return rc == KL_OK ? kl_buf_append(out, e->digest.ptr, e->digest.len) : rc;
    case F_N_NG:
        rc = kl_buf_append_u32le(out, (uint32_t)e->name.len + 1);
        if (rc == KL_OK)
            rc = kl_buf_append(out, e->name.ptr, e->name.len);
        return rc == KL_OK ? kl_buf_append_byte(out, 0) : rc;
    case F_SIG:
        return lv(out, e->has_sig ? e->sig : KL_BYTES(NULL, 0));
    case F_BUF:
        return lv(out, e->buf);
    }
    return KL_OK;
}

kl_rc
kl_ima_template_encode(const kl_ima_entry *e, kl_buf *out)
{
    size_t t = template_index(e->tmpl);
    kl_rc rc = KL_OK;

    if (t == NTEMPLATES)
        return kl_err_set(KL_EPARSE, "no encoding for this template");
    for (size_t i = 0; rc == KL_OK && i < templates[t].nfields; i++)
        rc = encode_field(e, templates[t].fields[i], out);
    return rc;
}

/* "<alg>:" NUL digest */
static bool
decode_dng(kl_ima_entry *e, kl_bytes f)
{
    const uint8_t *colon = memchr(f.ptr, ':', f.len);
    size_t alg_len;

    if (!colon || (size_t)(colon - f.ptr) + 2 > f.len || colon[1] != 0)
        return false;
    alg_len = (size_t)(colon - f.ptr);
    e->digest_alg = KL_BYTES(f.ptr, alg_len);
    e->digest = KL_BYTES(f.ptr + alg_len + 2, f.len - alg_len - 2);
    return true;
}

static bool
decode_nng(kl_ima_entry *e, kl_bytes f)
{
    if (f.len == 0 || f.ptr[f.len - 1] != 0 || memchr(f.ptr, 0, f.len - 1))
        return false;
    e->name = KL_BYTES(f.ptr, f.len - 1);
    return true;
}

kl_rc
kl_ima_template_decode(kl_ima_entry *e, kl_bytes data)
{
    size_t t = template_index(e->tmpl);
    kl_reader r = kl_reader_make(data);
    kl_ima_sig sig;
    kl_bytes f;

    e->template_data = data;
    if (t == NTEMPLATES || e->tmpl == KL_IMA_TMPL_IMA) {
        e->error = "unsupported template";
        return KL_OK;
    }
    for (size_t i = 0; i < templates[t].nfields; i++) {
        bool ok = true;

        if (kl_reader_lv32le(&r, &f) != KL_OK) {
            e->error = "template data field is truncated";
            return KL_OK;
        }
        switch (templates[t].fields[i]) {
        case F_D_NG:
            ok = decode_dng(e, f);
            break;
        case F_N_NG:
            ok = decode_nng(e, f);
            break;
        case F_SIG:
            e->sig = f;
            e->has_sig = kl_ima_sig_parse(f, &sig);
            break;
        case F_BUF:
            e->buf = f;
            break;
        default:
            break;
        }
        if (!ok) {
            e->error = "malformed template data field";
            return KL_OK;
        }
    }
    if (kl_reader_left(&r) != 0)
        e->error = "extra bytes after the template fields";
    return KL_OK;
}
