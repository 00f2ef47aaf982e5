/* kl_err: return codes and the thread-local error detail.
 *
 * Every function that can fail returns kl_rc. The place where a failure
 * originates records a human-readable detail once with kl_err_set(); callers
 * pass the code upward without logging, and the boundary (main, an HTTP
 * handler) prints kl_err_msg() once.
 */
#ifndef KL_ERR_H
#define KL_ERR_H

#define KL_MUST_CHECK __attribute__((warn_unused_result))
#define KL_PRINTF(a, b) __attribute__((format(printf, a, b)))

typedef enum {
    KL_OK = 0,
    KL_ENOMEM,     /* allocation failed */
    KL_EINVAL,     /* bad argument or bad usage */
    KL_EPARSE,     /* malformed input */
    KL_EIO,        /* file or socket error */
    KL_ECRYPTO,    /* OpenSSL failure */
    KL_ENOTFOUND,  /* no such item */
    KL_ETOOBIG,    /* input exceeds a size cap */
    KL_EUNSUPPORTED, /* well-formed but not supported */
    KL_EVERIFY,    /* a signature or checksum did not verify */
    KL_EEXIST,     /* already exists (unique key, file) */
    KL_ETIMEOUT,   /* a peer or operation took too long */
    KL_EPERM,      /* not allowed (authorization, privileges) */
} kl_rc;

/* Record the detail of a failure; returns rc so that callers can write
 * `return kl_err_set(KL_EPARSE, "...")`. */
kl_rc kl_err_set(kl_rc rc, const char *fmt, ...) KL_PRINTF(2, 3);

/* Prefix the current detail with more context ("file x: " + detail). */
kl_rc kl_err_wrap(kl_rc rc, const char *fmt, ...) KL_PRINTF(2, 3);

/* The detail of the last failure on this thread; never NULL. Borrowed. */
const char *kl_err_msg(void);

void kl_err_clear(void);

/* Short name of a code ("parse error"). */
const char *kl_rc_str(kl_rc rc);

#endif
