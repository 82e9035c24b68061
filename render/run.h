/* A run's blocks of the document: "capture" (what was read, decoded, dropped, evicted,
 * and the tables' memory and limits under --max-memory-mb) and "stats" (the SIP KPIs of
 * RFC 6076 with ASR, NER, ACD and PDD; statuses and retransmissions added). The store
 * keeps both per run. */
#ifndef SIPSCOPE_RENDER_RUN_H
#define SIPSCOPE_RENDER_RUN_H

#include <jansson.h>

#include "capture/capture.h"
#include "common/membudget.h"
#include "correlate/correlate.h"
#include "decode/decode.h"
#include "decode/rtcp.h"
#include "metrics/kpi.h"

/* What a run saw, borrowed from whoever ran it. */
struct render_run {
    const char *const *files; /* the inputs (a live capture: its interfaces) */
    int nfiles;
    const struct capture_stats *cs;
    const struct decode_stats *ds;
    const struct correlate_stats *ks;
    uint64_t rtp_packets, rtcp_packets;
    const uint64_t *rtcp_errors; /* RTCP__COUNT, by reason */
    uint64_t streams_evicted, orphans_evicted, flows_evicted;
    const struct mem_usage *mem; /* each table's peak bytes */
    uint64_t max_calls, max_transactions, max_media, max_registrations, max_streams;
    uint64_t report_dropped[4]; /* the report's calls, streams, registrations, issues left out */
    /* RTCP and quality reports HEP agents sent (engine/hep_in.h): read, naming a call
     * followed, naming none (kept as streams of no call), unreadable; RTCP handed on alone
     * at the table's limit, which is max_hep_reports streams */
    uint64_t hep_received, hep_attached, hep_orphaned, hep_bad, hep_evicted, max_hep_reports;
    uint64_t security_evicted;  /* sources and accounts the security watch let go when full */
};

json_t *render_capture_json(const struct render_run *run);
json_t *render_stats_json(const struct kpi *k);

#endif
