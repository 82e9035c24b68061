/* A stored call as a pcap (docs/design.md: store/ holds "per-call pcap export"):
 * `sipscope export` and the API's /pcap route both call this. The call's SIP frames and
 * its spooled media are merged in time order and written as a pcap file with nanosecond
 * stamps, in the link type of the first frame (frames of another are left out and
 * counted). */
#ifndef SIPSCOPE_STORE_EXPORT_H
#define SIPSCOPE_STORE_EXPORT_H

#include <stdio.h>

#include "query.h"

struct store_export_result {
    uint64_t sip, media;   /* frames written */
    uint64_t skipped;      /* of another link type */
    uint64_t damaged;      /* media chunks cut short */
};

/* Writes call call_seq to out (a file, or a memory stream for HTTP). STORE_Q_NOT_FOUND
 * when there is no such call; STORE_Q_ERROR on a database error, a write error or no
 * memory (store_error says which). */
enum store_qstatus store_export_pcap(struct store *s, uint64_t call_seq, FILE *out,
                                     struct store_export_result *r);

#endif
