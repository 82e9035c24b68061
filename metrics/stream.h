/* RTP streams (RFC 3550): one per source, destination and SSRC, with the receiver figures
 * of Appendix A — expected and lost from the extended highest sequence number (A.1, A.3),
 * interarrival jitter (A.8) — and the arrival gaps, duplicates and reordering a monitor
 * reports. One hash lookup and no allocation per packet (a new stream allocates once).
 * Streams are handed on when the input ends, or when evicted at the limit (counted). */
#ifndef SIPSCOPE_STREAM_H
#define SIPSCOPE_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "correlate/correlate.h"
#include "decode/classify.h"
#include "decode/decode.h"
#include "decode/rtp.h"

struct rtp_stream {
    uint64_t seq;               /* 1-based, in order of first packet: the id "stream-N" */
    uint64_t call_seq;          /* 0: no SDP announced it */
    struct ip_addr src, dst;
    uint16_t sport, dport;
    uint32_t ssrc;
    uint8_t pt;
    char codec[16];             /* "" unknown */
    uint32_t clock_rate;        /* 0 unknown: no jitter then */
    ptime_t first_time, last_time;
    uint64_t first_frame;
    uint64_t packets;           /* received, duplicates included */
    uint64_t duplicates, out_of_order, seq_errors;
    int64_t expected, lost;     /* A.3; lost < 0 when duplicates outnumber losses */
    double max_delta_ms;
    double max_jitter_ms, mean_jitter_ms;
    /* A.1 state */
    uint16_t max_seq;
    uint32_t cycles, bad_seq;
    int64_t base_seq;           /* may go below 0 after a restart is re-based */
    uint64_t seen;              /* bitmap of the 64 sequence numbers up to max_seq */
    /* A.8 state */
    double jitter;              /* in timestamp units */
    int64_t last_transit;
    bool have_transit;
    double jitter_sum;
    uint64_t jitter_n;
    bool last_cn;               /* the previous packet was comfort noise (RFC 3389) */
    bool announced;             /* by SDP; else an orphan, reported only if nDPI says RTP */
    bool src_announced, dst_announced; /* which end an SDP announced: a bound stream with
                                        * one end unannounced is media NAT rewrote */
    int8_t verdict;             /* enum class_verdict of its flow, for orphans */
    bool events;                /* telephone-event (RFC 4733): no jitter, see stream.c */
};

typedef void (*stream_done_fn)(void *user, const struct rtp_stream *s);

/* The first packet of a stream not seen yet: announced by SDP (mm filled), a candidate
 * that nDPI should judge, or not media at all. */
enum stream_origin { STREAM_IGNORE, STREAM_ANNOUNCED, STREAM_CANDIDATE };
typedef enum stream_origin (*stream_resolve_fn)(void *ctx, const struct l4_packet *l4,
                                                struct media_match *mm, bool *src_ann,
                                                bool *dst_ann);

struct stream_table;
/* cls: the nDPI classifier for candidates (NULL: candidates are never reported). */
struct stream_table *stream_table_new(size_t max, uint64_t seed, stream_done_fn done, void *user,
                                      struct classifier *cls);
void stream_table_free(struct stream_table *t);
/* One RTP packet. A known stream costs one hash lookup; for an unknown one resolve() says
 * whether it is announced media (and of which call), else the packet is not followed. */
void stream_rtp(struct stream_table *t, const struct l4_packet *l4, const struct rtp_hdr *h,
                stream_resolve_fn resolve, void *ctx);
void stream_finish(struct stream_table *t);
/* RTP packets of the streams reported (announced, or orphans nDPI recognised). */
uint64_t stream_packets(const struct stream_table *t);
uint64_t stream_evicted(const struct stream_table *t);

#define STREAM_MAX_JUDGED 65536 /* UDP flows nDPI is judging or has judged, at once */
#define STREAM_ORPHAN_MAX_SSRCS 8 /* more SSRCs on one unannounced flow: not RTP */
#define STREAM_ORPHAN_MIN_PACKETS 3

#endif
