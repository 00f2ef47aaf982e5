/* kl_log: levelled logging to stderr.
 *
 * Each .c file defines KL_LOGMODULE before including this header. The level
 * is set per module at run time with KEYLIME_LOG ("warn", or
 * "ima=debug,policy=info"); the default is "warn". Lines look like
 * "WARN ima func: message". Never log secrets.
 */
#ifndef KL_LOG_H
#define KL_LOG_H

#include <stdbool.h>

#include "util/kl_err.h"

typedef enum { KL_LOG_ERR = 0, KL_LOG_WARN, KL_LOG_INFO, KL_LOG_DEBUG } kl_log_level;

bool kl_log_enabled(const char *module, kl_log_level level);
void kl_log_write(const char *module, kl_log_level level, const char *func, const char *fmt, ...)
    KL_PRINTF(4, 5);
/* Re-read KEYLIME_LOG (tests). */
void kl_log_reset(void);

#ifndef KL_LOGMODULE
#define KL_LOGMODULE "keylime"
#endif

#define KL_LOG_(lvl, ...)                                                                          \
    do {                                                                                           \
        if (kl_log_enabled(KL_LOGMODULE, lvl))                                                     \
            kl_log_write(KL_LOGMODULE, lvl, __func__, __VA_ARGS__);                                \
    } while (0)
#define LOG_ERR(...) KL_LOG_(KL_LOG_ERR, __VA_ARGS__)
#define LOG_WARN(...) KL_LOG_(KL_LOG_WARN, __VA_ARGS__)
#define LOG_INFO(...) KL_LOG_(KL_LOG_INFO, __VA_ARGS__)
#define LOG_DEBUG(...) KL_LOG_(KL_LOG_DEBUG, __VA_ARGS__)

#endif
