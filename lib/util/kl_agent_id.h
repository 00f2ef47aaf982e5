/* kl_agent_id: the rule for agent identifiers that every Keylime component
 * applies (the verifier refuses others): 1 to 80 characters, each a
 * letter, a digit, '-', '_' or '.'. UUIDs and hash_ek's 64 hex digits
 * fit. */
#ifndef KL_AGENT_ID_H
#define KL_AGENT_ID_H

#include <stdbool.h>

#define KL_AGENT_ID_MAX 80

/* True when id (NUL-terminated) follows the rule. */
bool kl_agent_id_valid(const char *id);

#endif
