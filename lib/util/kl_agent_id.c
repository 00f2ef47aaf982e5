/* kl_agent_id: see kl_agent_id.h. */
#include "util/kl_agent_id.h"

#include <stddef.h>

bool
kl_agent_id_valid(const char *id)
{
    size_t n = 0;

    for (; id[n]; n++) {
        char c = id[n];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return false;
    }
    return n >= 1 && n <= KL_AGENT_ID_MAX;
}
