/* tenant_print: the lines upstream's tenant prints on standard output.
 *
 * Upstream logs through Python's logging with the logging.conf Keylime
 * installs: "%(asctime)s.%(msecs)03d - %(name)s - %(levelname)s -
 * %(message)s" (date "%Y-%m-%d %H:%M:%S", local time) on sys.stdout, level
 * INFO. JSON goes through json.dumps (", " and ": " separators) and
 * print(dict) writes Python's repr. */
#include "policy/pyrepr.h"
#include "tenant.h"
#include "util/kl_alloc.h"
#include "util/kl_file.h"

#include "json/json.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static const char *const level_names[] = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"};

void
tl_log(const char *logger, tl_level level, const char *fmt, ...)
{
    struct timeval tv;
    struct tm tm;
    char date[32];
    va_list ap;

    if (level == TL_DEBUG)
        return;
    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    if (strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm) == 0)
        date[0] = 0;
    printf("%s.%03ld - keylime.%s - %s - ", date, (long)(tv.tv_usec / 1000), logger,
           level_names[level]);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

static char *
take_text(kl_buf *b, kl_rc rc)
{
    if (rc == KL_OK)
        rc = kl_buf_terminate(b);
    if (rc != KL_OK) {
        kl_buf_free(b);
        return NULL;
    }
    return (char *)kl_buf_take(b, NULL);
}

char *
tl_dumps(const json_t *j)
{
    kl_buf b;

    kl_buf_init(&b, (size_t)1 << 30);
    if (!j)
        return take_text(&b, kl_buf_append_str(&b, "null"));
    /* kl_json_dump_py does not change the value; its parameter is not const */
    return take_text(&b, kl_json_dump_py(&b, (json_t *)(uintptr_t)j));
}

char *
tl_repr(const json_t *j)
{
    kl_buf b;

    kl_buf_init(&b, (size_t)1 << 30);
    if (!j)
        return take_text(&b, kl_buf_append_str(&b, "None"));
    return take_text(&b, kl_pyrepr(&b, j, false));
}

void
tl_print_repr(const json_t *j)
{
    char *s = tl_repr(j);

    printf("%s\n", s ? s : "{}");
    fflush(stdout);
    kl_free(s);
}

void
tl_float(char *out, size_t n, double v)
{
    kl_buf b;

    kl_buf_init(&b, 64);
    if (kl_pyrepr_float(&b, v) == KL_OK && kl_buf_terminate(&b) == KL_OK)
        snprintf(out, n, "%s", (const char *)b.ptr);
    else
        snprintf(out, n, "%g", v);
    kl_buf_free(&b);
}

static const char *const state_names[] = {
    "Registered",
    "Start",
    "Saved",
    "Get Quote",
    "Get Quote (retry)",
    "Provide V",
    "Provide V (retry)",
    "Failed",
    "Terminated",
    "Invalid Quote",
    "Tenant Quote Failed",
};

const char *
tl_state_name(json_int_t state)
{
    if (state < 0 || state >= (json_int_t)(sizeof(state_names) / sizeof(state_names[0])))
        return NULL;
    return state_names[state];
}

void
tl_http_response(const char *logger, tl_level level, const json_t *body)
{
    const json_t *code = json_object_get(body, "code");
    const json_t *status = json_object_get(body, "status");
    char *c, *s;

    if (!json_is_object(body) || !json_object_get(body, "results") || !code || !status) {
        tl_log(logger, TL_ERROR, "Error: unexpected or malformed http response payload");
        return;
    }
    c = json_is_string(code) ? kl_strdup(json_string_value(code)) : tl_dumps(code);
    s = json_is_string(status) ? kl_strdup(json_string_value(status)) : tl_dumps(status);
    tl_log(logger, level, "Response code %s: %s", c ? c : "", s ? s : "");
    kl_free(c);
    kl_free(s);
}

kl_rc
tenant_read_file(const char *path, kl_buf *b)
{
    FILE *f = fopen(path, "rb");

    if (!f)
        return kl_err_set(KL_EIO, "[Errno %d] %s: '%s'", errno, strerror(errno), path);
    fclose(f);
    return kl_file_read(path, b);
}
