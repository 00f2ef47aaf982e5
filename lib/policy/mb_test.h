/* mb_test: tests of JSON data that either pass or give a reason, the
 * building blocks upstream Keylime's measured-boot policies are made of
 * (keylime/mba/elchecking/tests.py), with the same semantics and the same
 * reason texts.
 *
 * Tests live in a kl_mb_test_set, which owns them; a test may be used in
 * several places (upstream shares OnceTest objects between keys). A set is
 * meant for one evaluation: once-tests keep their state. Constructors
 * return NULL after a failure (allocation, bad regular expression), which
 * kl_mb_test_set_status then reports, so that a policy can be built first
 * and checked once.
 */
#ifndef KL_MB_TEST_H
#define KL_MB_TEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/kl_buf.h"
#include "util/kl_err.h"

typedef struct kl_mb_test kl_mb_test;
typedef struct kl_mb_test_set kl_mb_test_set;

KL_MUST_CHECK kl_rc kl_mb_test_set_new(kl_mb_test_set **out);
void kl_mb_test_set_free(kl_mb_test_set *s);
/* KL_OK, or the first constructor failure (detail in kl_err_msg when it
 * happened; the message is kept and also returned here). */
KL_MUST_CHECK kl_rc kl_mb_test_set_status(const kl_mb_test_set *s);
const char *kl_mb_test_set_error(const kl_mb_test_set *s);

/* Runs t on subject: appends the reason to reason when it fails (nothing
 * when it passes). Errors only for allocation failures. */
KL_MUST_CHECK kl_rc kl_mb_test_why_not(kl_mb_test_set *s, kl_mb_test *t, json_t *subject,
                                       kl_buf *reason);

/* Every value passes / none does (reason why). */
kl_mb_test *kl_mb_test_accept(kl_mb_test_set *s);
kl_mb_test *kl_mb_test_reject(kl_mb_test_set *s, const char *why);
/* Conjunction (first failure) and disjunction ("[r1, r2]" when all fail). */
kl_mb_test *kl_mb_test_and(kl_mb_test_set *s, size_t n, kl_mb_test *const *tests);
kl_mb_test *kl_mb_test_or(kl_mb_test_set *s, size_t n, kl_mb_test *const *tests);
/* The test on field name of a dict ("name reason" when show_name). */
kl_mb_test *kl_mb_test_field(kl_mb_test_set *s, const char *name, kl_mb_test *t, bool show_name);
/* The test on every member of a list ("[i] reason", or the member's
 * ascii() and the reason when show_elt). */
kl_mb_test *kl_mb_test_iterate(kl_mb_test_set *s, kl_mb_test *t, bool show_elt);
/* One test per member of a list of exactly n members. */
kl_mb_test *kl_mb_test_tuple(kl_mb_test_set *s, size_t n, kl_mb_test *const *tests);
/* A test per tuple of values of the given keys of a dict. */
kl_mb_test *kl_mb_test_dispatcher(kl_mb_test_set *s, size_t nkeys, const char *const *key_names);
/* Adds the test for key_vals (an array of nkeys values; the reference is
 * taken). Returns d, or NULL after a failure. */
kl_mb_test *kl_mb_test_dispatch_set(kl_mb_test_set *s, kl_mb_test *d, json_t *key_vals,
                                    kl_mb_test *t);
/* String equality; full match of a Python regular expression. */
kl_mb_test *kl_mb_test_streq(kl_mb_test_set *s, const char *expected);
kl_mb_test *kl_mb_test_regexp(kl_mb_test_set *s, kl_bytes pattern, bool dotall);
/* A dict whose "Digests" has one of the good digests: good is a list of
 * {alg: hex} dicts (DigestsTest); DigestTest is a list of one. */
kl_mb_test *kl_mb_test_digests(kl_mb_test_set *s, const json_t *good);
/* Passes t the first time only. */
kl_mb_test *kl_mb_test_once(kl_mb_test_set *s, kl_mb_test *t);
/* An event whose Event.VariableName is var_name, whose Event.UnicodeName
 * fully matches name_regex and whose Event.VariableData passes data. */
kl_mb_test *kl_mb_test_variable(kl_mb_test_set *s, const char *var_name, const char *name_regex,
                                kl_mb_test *data);
/* A list of dicts with exactly these fields containing every dict of reqs
 * (SupersetOfDicts). */
kl_mb_test *kl_mb_test_superset(kl_mb_test_set *s, const json_t *reqs, size_t nfields,
                                const char *const *fields);

/* Deferred tests (DelayToFields): "delayed" tests stash their subject in a
 * per-evaluation list per field; the initializer empties the lists; the
 * delay test itself runs fields_test on {field: list}. */
kl_mb_test *kl_mb_test_delay(kl_mb_test_set *s, kl_mb_test *fields_test, size_t n,
                             const char *const *field_names);
kl_mb_test *kl_mb_test_delay_init(kl_mb_test_set *s, kl_mb_test *delay);
kl_mb_test *kl_mb_test_delayed(kl_mb_test_set *s, kl_mb_test *delay, const char *field);

/* Compositions upstream names. sigs are {"SignatureOwner", "SignatureData"}
 * dicts. */
kl_mb_test *kl_mb_test_sig_member(kl_mb_test_set *s, const json_t *sigs);
kl_mb_test *kl_mb_test_key_subset(kl_mb_test_set *s, size_t ntypes, const char *const *sig_types,
                                  const json_t *sigs);
kl_mb_test *kl_mb_test_key_superset(kl_mb_test_set *s, const char *sig_type, const json_t *sigs);
/* A dispatcher on Event.(VariableName, UnicodeName) whose tests apply to
 * Event.VariableData. */
kl_mb_test *kl_mb_test_var_dispatch(kl_mb_test_set *s);
kl_mb_test *kl_mb_test_var_dispatch_set(kl_mb_test_set *s, kl_mb_test *vd, const char *var_name,
                                        const char *unicode_name, kl_mb_test *t);
/* Valid EV_SEPARATOR events; EV_EFI_ACTION strings the spec allows on a
 * PCR (with digests in sha1, sha256, sha384, sha512 and sm3_256). */
kl_mb_test *kl_mb_test_ev_separator(kl_mb_test_set *s);
kl_mb_test *kl_mb_test_ev_efi_action(kl_mb_test_set *s, int pcr);

#endif
