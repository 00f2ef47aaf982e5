#include "util/kl_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const level_names[] = {"ERROR", "WARN", "INFO", "DEBUG"};
static int env_read;
static char env_spec[256];

static kl_log_level
parse_level(const char *s, size_t n, kl_log_level dflt)
{
    for (int i = 0; i <= KL_LOG_DEBUG; i++)
        if (strlen(level_names[i]) == n && strncasecmp(s, level_names[i], n) == 0)
            return (kl_log_level)i;
    if (n == 3 && strncasecmp(s, "err", 3) == 0)
        return KL_LOG_ERR;
    return dflt;
}

/* Level for module from a spec like "warn,ima=debug". */
static kl_log_level
level_for(const char *module)
{
    kl_log_level lvl = KL_LOG_WARN;
    size_t mlen = strlen(module);
    const char *p = env_spec;

    while (*p) {
        const char *end = strchr(p, ',');
        const char *eq;
        size_t n = end ? (size_t)(end - p) : strlen(p);

        eq = memchr(p, '=', n);
        if (!eq)
            lvl = parse_level(p, n, lvl);
        else if ((size_t)(eq - p) == mlen && strncmp(p, module, mlen) == 0)
            return parse_level(eq + 1, n - (size_t)(eq - p) - 1, lvl);
        p += n + (end ? 1 : 0);
    }
    return lvl;
}

void
kl_log_reset(void)
{
    const char *e = getenv("KEYLIME_LOG");

    snprintf(env_spec, sizeof(env_spec), "%s", e ? e : "");
    env_read = 1;
}

bool
kl_log_enabled(const char *module, kl_log_level level)
{
    if (!env_read)
        kl_log_reset();
    return level <= level_for(module);
}

void
kl_log_write(const char *module, kl_log_level level, const char *func, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s %s %s: %s\n", level_names[level], module, func, msg);
}
