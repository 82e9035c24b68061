/* Prometheus metrics: what the analysis counts, published to the web server as
 * one block (docs/design.md: the server reads SQLite and an atomically published
 * stats block, nothing else of the analysis), rendered at /metrics in the text
 * exposition format (version 0.0.4) with Prometheus's naming conventions: a sipscope_
 * prefix, base units (seconds), _total on counters. */
#ifndef SIPSCOPE_WEB_METRICS_H
#define SIPSCOPE_WEB_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "correlate/correlate.h"
#include "decode/decode.h"
#include "diagnose/issues.h"

#define WEB_PDD_BUCKETS 10
#define WEB_MOS_BUCKETS 9
#define WEB_REG_STATES 5

struct web_metrics {
    bool live;                       /* a live capture (drops mean something) */
    uint64_t packets, bytes;
    uint64_t dropped_kernel, dropped_ring;
    uint64_t duplicates;
    uint64_t sip_messages, rtp_packets, rtcp_packets;
    uint64_t decode_errors[DR__COUNT];
    uint64_t tls_flows, tls_records;
    /* SRTP/SRTCP by what the SDES keys made of them (decode/srtp.h), and the endpoints keyed */
    uint64_t srtp_decrypted, srtp_auth_failures, srtp_keyless, srtp_replays, srtp_keys;
    uint64_t evicted_calls, evicted_transactions, evicted_registrations, evicted_media,
        evicted_dns, evicted_streams, evicted_fragments, evicted_tcp, evicted_orphans,
        evicted_flows;
    uint64_t active_calls, active_streams;
    /* HEP agents' RTCP and quality reports: read, attached to a call, kept as orphans,
     * unreadable */
    uint64_t hep_received, hep_attached, hep_orphaned, hep_bad;
    uint64_t table_bytes[MEM__COUNT];        /* each table's memory now (common/membudget.h) */
    uint64_t calls[CALL__STATES];            /* ended calls by state */
    uint64_t registrations[WEB_REG_STATES];  /* by state */
    uint64_t issues[ISSUE__COUNT];           /* by kind */
    double asr, ner;                         /* 0..1; < 0 undefined */
    /* histograms: counts per bucket (cumulative is made when rendered), sum, count */
    uint64_t pdd[WEB_PDD_BUCKETS + 1];       /* PDD in seconds, last: +Inf */
    double pdd_sum;
    uint64_t mos[WEB_MOS_BUCKETS + 1];       /* streams' MOS */
    double mos_sum;
    uint64_t store_dropped, store_failed;
};

extern const double web_pdd_bounds[WEB_PDD_BUCKETS]; /* seconds */
extern const double web_mos_bounds[WEB_MOS_BUCKETS];

/* Adds one observation to a histogram of n bounds (n + 1 counts). */
void web_observe(uint64_t *counts, const double *bounds, int n, double *sum, double v);

/* The exposition of m (NULL: sipscope_up alone) to out; then the database's row counts
 * from store_stats()'s JSON. */
void web_metrics_render(FILE *out, const struct web_metrics *m);
void web_metrics_render_store(FILE *out, const char *stats_json);

#endif
