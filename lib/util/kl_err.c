#include "util/kl_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define KL_ERR_MAX 1024

static _Thread_local char err_msg[KL_ERR_MAX];

kl_rc
kl_err_set(kl_rc rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err_msg, sizeof(err_msg), fmt, ap);
    va_end(ap);
    return rc;
}

kl_rc
kl_err_wrap(kl_rc rc, const char *fmt, ...)
{
    char old[KL_ERR_MAX];
    size_t n, m;
    va_list ap;

    memcpy(old, err_msg, sizeof(old));
    va_start(ap, fmt);
    vsnprintf(err_msg, sizeof(err_msg), fmt, ap);
    va_end(ap);
    n = strlen(err_msg);
    m = strnlen(old, sizeof(old) - 1);
    if (m > sizeof(err_msg) - 1 - n)
        m = sizeof(err_msg) - 1 - n;
    memcpy(err_msg + n, old, m);
    err_msg[n + m] = '\0';
    return rc;
}

const char *
kl_err_msg(void)
{
    return err_msg[0] ? err_msg : "no error detail";
}

void
kl_err_clear(void)
{
    err_msg[0] = '\0';
}

const char *
kl_rc_str(kl_rc rc)
{
    static const char *const names[] = {
        [KL_OK] = "ok",
        [KL_ENOMEM] = "out of memory",
        [KL_EINVAL] = "invalid argument",
        [KL_EPARSE] = "parse error",
        [KL_EIO] = "I/O error",
        [KL_ECRYPTO] = "crypto error",
        [KL_ENOTFOUND] = "not found",
        [KL_ETOOBIG] = "too big",
        [KL_EUNSUPPORTED] = "unsupported",
        [KL_EVERIFY] = "verification failed",
        [KL_EEXIST] = "already exists",
        [KL_ETIMEOUT] = "timed out",
        [KL_EPERM] = "not permitted",
    };

    if ((unsigned)rc < sizeof(names) / sizeof(names[0]) && names[rc])
        return names[rc];
    return "unknown error";
}
