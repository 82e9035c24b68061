/* HEP in, media quality: what HEP agents measured on media the collector never sees — RTCP
 * (payload type 5, Homer's JSON or the raw compound packet) and stream quality reports
 * (0x22, the keys our --hep-out sends) — filed as streams of the call that the HEP
 * correlation id (chunk 17) names by its Call-ID, each saying who reported it
 * (rtp_stream.reported). A report naming no call the collector follows is kept all the
 * same, as a stream of no call: an orphan report.
 *
 * A stream is keyed by its agent, correlation id and SSRC. A quality report is a stream's
 * last word (sent when it ended): it is handed on at once, with the RTCP that came for it.
 * RTCP alone waits in a bounded table (the memory budget's hep_reports share) until no
 * report came for `idle`, or the input ends; when the table is full a report is handed on
 * as a stream by itself (counted in evicted). A waiting stream is one allocation; a report
 * that updates one allocates nothing. */
#ifndef SIPSCOPE_HEP_IN_H
#define SIPSCOPE_HEP_IN_H

#include <stddef.h>
#include <stdint.h>

#include "common/sv.h"
#include "decode/hep.h"
#include "metrics/stream.h"

struct hep_in;

struct hep_in_counts {
    uint64_t received; /* reports read: RTCP and quality reports */
    uint64_t attached; /* of which named a call the collector follows */
    uint64_t orphaned; /* of which named none (kept as streams of no call) */
    uint64_t bad;      /* reports that could not be read (counted, dropped) */
    uint64_t evicted;  /* RTCP handed on alone because the table was full */
};

/* The call a correlation id names (0 none). */
typedef uint64_t (*hep_in_call_fn)(void *ctx, struct sv call_id);

/* max: RTCP-reported streams waiting at once. Streams are numbered by seqs (so that their
 * ids never collide with those measured here) and handed to done(user, stream); the
 * stream and its reporter are valid during the call only. */
struct hep_in *hep_in_new(size_t max, uint64_t seed, struct stream_table *seqs, stream_done_fn done,
                          void *user, hep_in_call_fn call_of, void *ctx);
void hep_in_free(struct hep_in *h);
/* One HEP packet of payload type 5 or 0x22; t: its time (the agent's, or the arrival's). */
void hep_in_report(struct hep_in *h, const struct hep_msg *m, ptime_t t);
/* Streams whose last report is `idle` old (packet time) are handed on. */
void hep_in_tick(struct hep_in *h, ptime_t now, ptime_t idle);
/* Input ended: every waiting stream is handed on. */
void hep_in_finish(struct hep_in *h);
void hep_in_get_counts(const struct hep_in *h, struct hep_in_counts *out);
size_t hep_in_entry_bytes(void);
size_t hep_in_bytes(const struct hep_in *h);

#endif
