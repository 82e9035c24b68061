/* A call as docs/output.md's calls[] entry, and the columns the store files it under.
 *
 * The entry is written when the call ends, before its streams and issues are known: its
 * "streams", "mos_min" and "issues" are null then, and the report fills them in once
 * they are (cli/analyze.c's print_call). Added to the contract: challenges, holds,
 * transfers, session_expired, dtmf (SIP INFO digits), path, hops and dns. */
#ifndef SIPSCOPE_RENDER_CALL_H
#define SIPSCOPE_RENDER_CALL_H

#include <jansson.h>
#include <stdbool.h>

#include "correlate/correlate.h"

json_t *render_call_json(const struct call *c);

/* The call's compact JSON text with the columns the API filters on, taken from the call
 * as the JSON shows them (the same strings, the same numbers), so that nobody parses the
 * text again to find them. */
struct render_call_row {
    uint64_t seq;
    char *json;                          /* owned */
    char *call_id, *from_user, *to_user; /* owned; NULL none */
    char caller[IP_ADDR_PORT_STRLEN], callee[IP_ADDR_PORT_STRLEN];
    const char *state;            /* static */
    int final_status;             /* 0 none */
    double invite_time, end_time; /* epoch seconds; end_time < 0 none */
    bool answered;
};
/* false (row zeroed) when out of memory. */
bool render_call(const struct call *c, struct render_call_row *row);
void render_call_row_free(struct render_call_row *row);

#endif
