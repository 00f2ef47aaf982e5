/* Internal to attest/: the parts of one quote check shared between files. */
#ifndef KL_ATTEST_INT_H
#define KL_ATTEST_INT_H

#include "attest/attest.h"

/* The response fields, borrowed from the JSON. */
typedef struct {
    const char *quote;
    kl_bytes pubkey;                /* empty when absent */
    bool have_pubkey;
    kl_bytes ima_list;              /* when have_ima_list */
    bool have_ima_list;
    kl_bytes mb_list;               /* base64, when have_mb_list and non-empty */
    bool have_mb_list;
    kl_hash_alg hash_alg;
} kl_attest_response;

/* upstream check_pcrs: everything after the quote and clock checks. */
KL_MUST_CHECK kl_rc kl_attest_check_pcrs(kl_verdict *v, kl_attest_result *res, kl_attest_state *st,
                                         const kl_attest_inputs *in,
                                         const kl_attest_response *r);

#endif
