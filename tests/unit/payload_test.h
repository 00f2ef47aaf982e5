/* payload_test: helpers shared by the lib/payload unit tests (header
 * only; include after cmocka.h). */
#ifndef KL_PAYLOAD_TEST_H
#define KL_PAYLOAD_TEST_H

#include "util/kl_b64.h"
#include "util/kl_buf.h"
#include "util/kl_file.h"
#include "util/kl_hex.h"

#include "json/json.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads $KL_TEST_DATA/rel into out (initialised here; caller frees). */
static inline void
pt_read(const char *rel, kl_buf *out)
{
    const char *base = getenv("KL_TEST_DATA");
    char path[1024];

    if (!base)
        fail_msg("KL_TEST_DATA is not set");
    snprintf(path, sizeof(path), "%s/%s", base, rel);
    kl_buf_init(out, 1 << 20);
    if (kl_file_read(path, out) != KL_OK)
        fail_msg("%s: %s", rel, kl_err_msg());
}

/* Parses the JSON file rel (caller json_decref's). */
static inline json_t *
pt_json(const char *rel)
{
    json_t *j = NULL;
    kl_buf b;

    pt_read(rel, &b);
    if (kl_json_parse(kl_buf_bytes(&b), rel, &j) != KL_OK)
        fail_msg("%s: %s", rel, kl_err_msg());
    kl_buf_free(&b);
    return j;
}

/* The string at obj[key] or obj[key][sub] (sub may be NULL); borrowed. */
static inline kl_bytes
pt_str(json_t *obj, const char *key, const char *sub)
{
    json_t *v = json_object_get(obj, key);

    if (sub)
        v = json_object_get(v, sub);
    if (!json_is_string(v))
        fail_msg("vector has no string %s.%s", key, sub ? sub : "");
    return KL_BYTES(json_string_value(v), json_string_length(v));
}

/* Decodes base64 (or hex when hex is set) into out (initialised here). */
static inline void
pt_decode(kl_bytes text, bool hex, kl_buf *out)
{
    kl_buf_init(out, 1 << 20);
    if ((hex ? kl_hex_decode_append(out, text) : kl_b64_decode_append(out, text, false)) != KL_OK)
        fail_msg("bad vector encoding: %s", kl_err_msg());
}

#endif
