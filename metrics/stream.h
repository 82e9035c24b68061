/* RTP streams (RFC 3550): one per source, destination and SSRC, with the receiver figures
 * of Appendix A — expected and lost from the extended highest sequence number (A.1, A.3),
 * interarrival jitter (A.8) — and the arrival gaps, duplicates and reordering a monitor
 * reports. One hash lookup and no allocation per packet (a new stream allocates once).
 * Streams are handed on when the input ends, or when evicted at the limit (counted). */
#ifndef SIPSCOPE_STREAM_H
#define SIPSCOPE_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "audio/audio.h"
#include "correlate/correlate.h"
#include "decode/classify.h"
#include "decode/decode.h"
#include "decode/rtcp.h"
#include "decode/rtp.h"
#include "metrics/emodel.h"

/* A simulated jitter buffer (the packets it would have played, the time they waited) and
 * the E-model figures for what it played. */
enum stream_jb_kind { JB_FIXED_50, JB_FIXED_200, JB_ADAPTIVE, JB__COUNT };
struct stream_jb {
    int64_t playout;            /* relative transit by which a packet must arrive, ts units */
    double d_hat, v_hat;        /* adaptive: delay and variation estimates, ts units */
    ptime_t replanned;          /* adaptive: when the playout delay was last set */
    uint64_t played, discarded, runs;
    uint64_t timed_played;      /* played packets of the stream's own clock */
    double wait_sum;            /* ts units, over those */
    bool in_run;                /* the last slot was lost or discarded */
    bool spike;                 /* adaptive: in a delay spike (jitbuf.h, Ramjee's algorithm 4) */
    int64_t n1, n2;             /* adaptive: the last two packets' transit, ts units */
    double spike_var;           /* adaptive, in a spike: how much the transit still moves */
};

/* What a buffer's play gives at the end of the stream (kept apart from the buffers, which
 * every packet updates). */
struct stream_jb_score {
    double lost_pct, burst_ratio, mean_delay_ms, r_factor, mos; /* r_factor < 0: none */
};

/* RTCP that reported on a stream, or came from its sender (RFC 3550 §6.4). */
struct stream_rtcp {
    uint64_t packets;           /* compound packets that spoke of this stream */
    uint64_t sender_reports, receiver_reports; /* SRs from its source; blocks about it */
    int32_t reported_lost;      /* the last report's cumulative loss */
    double reported_jitter_ms;  /* the highest jitter a report gave */
    double max_fraction_lost_pct;
    double rtt_ms, max_rtt_ms;  /* mean and max over reports with LSR/DLSR */
    uint64_t rtt_n;
    uint32_t sr_mid[2];         /* the source's last SRs: NTP middle 32 bits ... */
    ptime_t sr_time[2];         /* ... and when the capture saw them */
    bool have_xr;
    struct rtcp_voip_metrics xr; /* the last RFC 3611 VoIP Metrics block about it */
    /* the ports its RTCP came on: the RTP ports themselves (multiplexed, RFC 5761), or
     * others (RTP + 1, or a=rtcp); the first of the others kept, to show */
    uint64_t muxed, apart;
    struct ip_addr apart_src, apart_dst;
    uint16_t apart_sport, apart_dport;
    uint64_t apart_frame;
    ptime_t apart_last;         /* the last of them */
};

struct stream_dtmf {
    ptime_t time;               /* the event's first packet */
    uint64_t frame;
    uint32_t ts;                /* its RTP timestamp: one per event (RFC 4733 §2.5.1.2) */
    uint16_t duration;          /* the longest duration sent, timestamp units */
    char digit;
    bool ended;
};

/* One second of a stream (from its first packet), kept compactly for charts. */
struct stream_second {
    uint16_t packets;
    uint16_t lost;              /* missing on the wire or discarded by the adaptive buffer */
    uint16_t jitter_cms;        /* highest A.8 jitter in the second, 1/100 ms (capped) */
    uint16_t mos_c;             /* MOS x100 of the second; 0: none */
    /* what was heard (issue 24): the second's level in dBov x100 over every sample
     * decoded, 0 when no audio was heard in it (a true 0 dBov is kept as -1), and its
     * speech-active milliseconds */
    int16_t level_cdb;
    uint16_t active_ms;
};

/* Who measured a stream that the analysis did not see itself: a HEP agent's RTCP (type 5)
 * or quality report (0x22), filed by engine/hep_in.h. */
struct stream_reporter {
    uint32_t agent_id;          /* HEP capture agent id */
    char node[64];              /* HEP node name (chunk 19), node_len bytes; copied */
    char correlation[128];      /* the correlation id (Call-ID) named, corr_len bytes; copied */
    uint8_t node_len, corr_len; /* 0: none (longer ones are cut) */
    bool qos, rtcp;             /* which reports came: a quality report, RTCP */
    bool clock_assumed;         /* RTCP alone: its jitter read at 8 kHz (RFC 3551's audio) */
};

struct rtp_stream {
    /* Hot: read or written by every packet, kept together at the front, next to the
     * lookup key, so that a packet touches few cache lines of a stream's state among
     * thousands. The rest, after jb[], is identity and end-of-stream figures. */
    ptime_t last_time;
    uint64_t last_frame;
    uint64_t packets;           /* received, duplicates included */
    double max_delta_ms;
    /* A.1 state */
    uint64_t seen;              /* bitmap of the 64 sequence numbers up to max_seq */
    int64_t base_seq;           /* may go below 0 after a restart is re-based */
    uint32_t cycles, bad_seq;
    uint16_t max_seq;
    uint8_t pt;
    uint8_t te_pt;              /* telephone-event payload type in this stream, 0xff none */
    bool last_cn;               /* the previous packet was comfort noise (RFC 3389) */
    bool announced;             /* by SDP; else an orphan, reported only if nDPI says RTP */
    bool events;                /* telephone-event (RFC 4733): no jitter, see stream.c */
    bool have_transit;
    int8_t verdict;             /* enum class_verdict of its flow, for orphans */
    bool timeline_truncated;
    uint32_t clock_rate;        /* 0 unknown: no jitter then */
    uint32_t ptime_ts;          /* packet interval, timestamp units (smallest step seen) */
    uint32_t last_rtp_ts;
    uint64_t markers;
    uint64_t loss_bursts, longest_burst; /* runs of sequence numbers missing on arrival */
    /* A.8 state */
    double jitter;              /* in timestamp units */
    double jitter_sum, max_jitter_ms;
    double last_transit;
    double rel_transit;         /* A.8 transit relative to the first timed packet */
    uint64_t jitter_n;
    uint64_t timed;             /* packets that fed the jitter and the buffers */
    ptime_t sec_end;            /* when the current second ends */
    /* the current second, kept here while it runs and written to the timeline when it
     * closes: the timeline is memory of its own, one more cache miss per packet */
    struct stream_second sec_cur;
    uint32_t nsec;
    uint32_t sec_played, sec_lost; /* the current second, adaptive buffer */
    const struct emodel_codec *emodel; /* the G.113 row scoring it; NULL: no MOS */
    const struct emodel_base *ebase;   /* borrowed from its table */
    struct stream_jb jb[JB__COUNT];

    /* identity */
    uint64_t seq;               /* 1-based, in order of first packet: the id "stream-N" */
    uint64_t call_seq;          /* 0: no SDP announced it */
    struct ip_addr src, dst;
    uint16_t sport, dport;
    uint32_t ssrc;
    char codec[16];             /* "" unknown */
    ptime_t first_time;
    uint64_t first_frame;
    bool src_announced, dst_announced; /* which end an SDP announced: a bound stream with
                                        * one end unannounced is media NAT rewrote */
    uint32_t te_rate;
    uint64_t pt_seen[2];        /* every payload type it carried, a bit each (0-127) */
    uint64_t duplicates, out_of_order, seq_errors;
    /* SRTP (decode/srtp.h): packets opened with SDES keys; packets no key opened (then
     * only the clear header was measured: the payload is ciphertext); of those, packets a
     * key failed to authenticate */
    uint64_t srtp_decrypted, srtp_encrypted, srtp_auth_failures;
    /* at the end */
    int64_t expected, lost;     /* A.3; lost < 0 when duplicates outnumber losses */
    double mean_jitter_ms;
    struct stream_jb_score jbs[JB__COUNT];
    double r_factor, mos;       /* the adaptive buffer's; < 0 none */
    struct stream_rtcp rtcp;
    struct stream_dtmf *dtmf;   /* owned, NULL until an event arrives */
    uint16_t ndtmf, dtmf_cap;
    uint32_t dtmf_dropped;
    struct stream_second *timeline; /* owned */
    uint32_t sec_cap;
    const struct stream_reporter *reported; /* borrowed; NULL: measured here, from RTP */
    /* what was heard (issue 24): the decoder and detectors while the stream runs (owned,
     * allocated with its first packet, NULL when audio is off or its codec is not one
     * audio/ decodes: audio_unavailable then says why), and at the end their figures (the
     * summary's pointers are into `audio`: valid while the stream is handed on) */
    struct audio_state *audio;
    const char *audio_unavailable;       /* static text; NULL with audio, or with audio off */
    enum audio_codec audio_codec;        /* the codec of payload type `pt` */
    const struct audio_plan *audio_plan; /* borrowed from the table: what det[].tone names */
    bool audio_done;                     /* audio_sum is filled */
    bool audio_detect;                   /* tones and in-band DTMF still listened for ... */
    uint8_t audio_detect_s;              /* ... in the stream's first this many seconds */
    bool audio_sampled;                  /* a library codec: decoded in sampled seconds */
    uint32_t audio_lib_bytes;            /* what its codec library and DTMF receiver hold */
    struct audio_summary audio_sum;
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
/* Streams are numbered after n (a database's last stream). */
void stream_table_first_seq(struct stream_table *t, uint64_t n);
/* The next stream number, for a stream that was reported rather than followed (HEP), so
 * that ids never collide with the table's. */
uint64_t stream_table_take_seq(struct stream_table *t);
/* One RTP packet. A known stream costs one hash lookup; for an unknown one resolve() says
 * whether it is announced media (and of which call), else the packet is not followed.
 * Returns the stream it was counted in, NULL when it is not followed. */
const struct rtp_stream *stream_rtp(struct stream_table *t, const struct l4_packet *l4,
                                    const struct rtp_hdr *h, stream_resolve_fn resolve, void *ctx);
/* The same, also telling a mirror port's copy with no table of its own: a packet
 * that repeats its stream's last counted one (IP ID, sequence number, timestamp) within
 * `window` sets *copy and is not counted. NULL without *copy: not followed, and not known
 * to be a copy. hint: the packet's stream_key_hash() when a thread ahead worked it out,
 * else 0; a wrong one (the frame held something else) costs one lookup more, never a
 * wrong stream, since the key is compared. */
const struct rtp_stream *stream_rtp_copy(struct stream_table *t, const struct l4_packet *l4,
                                         const struct rtp_hdr *h, stream_resolve_fn resolve,
                                         void *ctx, ptime_t window, bool *copy, uint64_t hint);
/* The hash stream_rtp() looks a packet's stream up by, from the table's seed (the one given
 * to stream_table_new) alone: a thread ahead of the analysis may work it out,
 * and give it as stream_rtp_copy's hint. */
uint64_t stream_key_hash(uint64_t seed, const struct ip_addr *src, uint16_t sport,
                         const struct ip_addr *dst, uint16_t dport, uint32_t ssrc);
/* One RTCP compound packet: attached to the streams it reports on (matched by SSRC and
 * addresses). Returns how many streams it spoke of. */
unsigned stream_rtcp(struct stream_table *t, const struct l4_packet *l4,
                     const struct rtcp_info *info);
/* Live capture: streams with no packet for `idle` (packet time) end now, as they would
 * at the end of a file. */
void stream_tick(struct stream_table *t, ptime_t now, ptime_t idle);
/* Offline: streams idle for `idle` (packet time) whose call has ended are handed on, so that
 * memory follows the calls in progress, not the length of the capture. A stream of a call
 * still going stays, however long it is silent (hold), as does media of no call. */
typedef bool (*stream_call_ended_fn)(void *ctx, uint64_t call_seq);
void stream_tick_ended(struct stream_table *t, ptime_t now, ptime_t idle, stream_call_ended_fn ended,
                       void *ctx);
void stream_finish(struct stream_table *t);
/* Calls fn on every stream followed now (in no set order); fn must not change the table. */
void stream_each(const struct stream_table *t, void (*fn)(void *user, const struct rtp_stream *s),
                 void *user);
/* The packet interval in ms (the smallest timestamp step seen; 20 when unknown). */
double stream_ptime_ms(const struct rtp_stream *s);
/* Mouth-to-ear delay the E-model used (Ta, ms): half the RTCP round trip (0 unknown),
 * one packet, the codec's look-ahead and the adaptive buffer's mean wait. */
double stream_delay_ms(const struct rtp_stream *s);
/* RTP packets of the streams reported (announced, or orphans nDPI recognised). */
uint64_t stream_packets(const struct stream_table *t);
uint64_t stream_evicted(const struct stream_table *t);
/* unannounced streams ended early at STREAM_MAX_ORPHANS, and flows nDPI was judging or had
 * judged forgotten at STREAM_MAX_JUDGED */
uint64_t stream_orphans_evicted(const struct stream_table *t);
uint64_t stream_flows_evicted(const struct stream_table *t);
size_t stream_active(const struct stream_table *t); /* streams followed now */
/* What a followed stream costs (the memory budget's streams share is divided by
 * it), and what the table holds now: streams, its hash tables, flows judged. */
size_t stream_entry_bytes(void);
size_t stream_table_bytes(const struct stream_table *t);

#define STREAM_MAX_JUDGED 65536 /* UDP flows nDPI is judging or has judged, at once */
#define STREAM_MAX_ORPHANS 16384 /* unannounced streams followed at once (each ~1 KB) */
#define STREAM_ORPHAN_MAX_SSRCS 8 /* more SSRCs on one unannounced flow: not RTP */
#define STREAM_ORPHAN_MIN_PACKETS 3
#define STREAM_MAX_DTMF 256       /* events kept per stream; more are counted */
#define STREAM_MAX_SECONDS 86400  /* timeline kept per stream; longer is marked truncated */
#define STREAM_TE_DEFAULT_PT 101  /* telephone-event without SDP: Wireshark's default too */

/* What is heard in the payload (issue 24): on by default with the default tone plan.
 * plan: a compiled plan to copy (NULL: audio_plan_default's); on false: no stream decodes
 * its payload (`--no-audio`). Tone and in-band DTMF detection run in each stream's first
 * STREAM_AUDIO_DETECT_S seconds only (early media), or STREAM_AUDIO_DETECT_ANSWERED_S for
 * a stream that began after its call's answer (media_match.answered);
 * level, activity and clipping run for the whole stream. */
void stream_table_audio(struct stream_table *t, const struct audio_plan *plan, bool on);
#define STREAM_AUDIO_DETECT_S 12
/* A stream that began after its call's answer: tones (a false answer's ringback, fax CNG
 * or CED, a SIT) in its first seconds only, which hold one CNG cycle (0.5 s on, 3 s off) */
#define STREAM_AUDIO_DETECT_ANSWERED_S 4
/* ... unless a tone of the plan was heard in them: then until this second. A cadence is
 * matched on one whole cycle from an on-segment's start, so a tone that starts anywhere in
 * its cycle is known after at most two cycles less its last pause's tolerance: NA ringback
 * (2 s on, 4 s off) by 6 + 2 + 3.2 = 11.2 s, EU (1/4) by 9.2 s, UK double ring (3 s) by
 * 6 s, CNG (0.5/3) by 6.5 s. Speech rarely holds a plan tone for 40 ms, so a talking
 * stream still stops at STREAM_AUDIO_DETECT_ANSWERED_S. */
#define STREAM_AUDIO_DETECT_TONE_S 12
/* Past those seconds a codec other than G.711 is decoded one second in this many (a
 * library's decoder costs 20 to 50 times a G.711 packet's whole analysis: bcg729's G.729
 * synthesis is ~10 us a packet); a library-codec stream that began after its call's answer
 * listens for no tone, and so is decoded only in its sampled seconds */
#define STREAM_AUDIO_SAMPLE_EVERY 30

/* Whether a stream carried payload type pt (0-127). */
static inline bool stream_carried(const struct rtp_stream *s, uint8_t pt)
{
    return pt < 128 && (s->pt_seen[pt >> 6] >> (pt & 63) & 1);
}

#endif
