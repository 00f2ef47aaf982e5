/* eventlog_int: the parsed log, shared by eventlog.c and replay.c. */
#ifndef KL_EVENTLOG_INT_H
#define KL_EVENTLOG_INT_H

#include "mb/eventlog.h"

struct kl_eventlog {
    uint8_t *buf; /* copy of the input; every view points into it */
    size_t len;
    kl_eventlog_event *events;
    size_t count;
    kl_eventlog_digest *digests;
    size_t ndigests;
    kl_eventlog_bank banks[KL_EVENTLOG_MAX_BANKS];
    size_t nbanks;
    bool agile;
    kl_eventlog_specid specid;
    int locality; /* -1: no StartupLocality record */
};

#endif
