/* The issue engine's insides, for the files of diagnose/ alone: the compact copies it holds
 * of a call (answered, or offered early media) and of a stream until the call's media is
 * judged, the engine itself, and the questions the media checks ask of a held call. */
#ifndef SIPSCOPE_DIAGNOSE_ENGINE_H
#define SIPSCOPE_DIAGNOSE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diagnose/issues.h"

/* A stretch of a stream with packets, gaps under HELD_RUN_GAP_S inside it: where a stream
 * paused (a hold) and where it did not, to within a second of its timeline. */
struct held_run {
    ptime_t from, to;
    uint64_t packets;
};
#define HELD_RUNS 6        /* kept per stream; past them the closest runs merge */
#define HELD_RUN_GAP_S 2   /* seconds without a packet that end a run */

/* What a stream's payload carried (issue 24), for the checks that listen: per second of
 * its timeline, heard and speech-active bits for its first HELD_AUDIO_SECONDS (past them,
 * counts), the level of its first HELD_AUDIO_LEVELS seconds, and the first tones heard. */
#define HELD_AUDIO_SECONDS 512
#define HELD_AUDIO_LEVELS  64
#define HELD_AUDIO_TONES   2
#define HELD_ACTIVE_MS     100 /* a second with this much speech-active audio is speech */
struct held_tone {
    uint8_t kind; /* enum audio_tone_kind */
    char region[8];
    uint16_t cycles; /* on-segments heard while its cadence held */
    ptime_t from, to;
};
struct held_audio {
    bool on;       /* the payload was decoded */
    uint16_t nsec; /* seconds in the bits */
    uint64_t heard[HELD_AUDIO_SECONDS / 64], active[HELD_AUDIO_SECONDS / 64];
    uint32_t heard_after, active_after;  /* seconds past HELD_AUDIO_SECONDS */
    int8_t level[HELD_AUDIO_LEVELS];     /* dBov, -128: none heard */
    float level_dbov, speech_level_dbov; /* the whole stream's; -99 none */
    float active_s;                      /* the whole stream's speech-active seconds */
    uint32_t clipped, clip_runs;         /* the whole stream's clipped samples, their runs */
    uint8_t ntones;
    struct held_tone tones[HELD_AUDIO_TONES];
};

/* What the media checks need of a stream of a call. */
struct held_stream {
    uint64_t call_seq, seq;
    struct ip_addr src, dst;
    uint16_t sport, dport;
    ptime_t first, last;
    uint64_t first_frame, last_frame, packets;
    bool src_ann, dst_ann;
    uint8_t nruns;
    struct held_run runs[HELD_RUNS];
    uint64_t pt_seen[2];       /* payload types it carried (struct rtp_stream's) */
    /* its RTCP: on its RTP ports, and apart from them (the first of those) */
    uint64_t rtcp_muxed, rtcp_apart, rtcp_apart_frame;
    ptime_t rtcp_apart_last;
    struct ip_addr rtcp_src, rtcp_dst;
    uint16_t rtcp_sport, rtcp_dport;
    struct held_audio audio;
};

/* What the media checks need of a call (answered, or offered early media). */
struct held_call {
    uint64_t seq;
    enum call_state state;
    ptime_t invite_time, answer_time, end_time, early_time, last_time;
    uint64_t first_frame, answer_frame, end_frame, early_frame, last_frame;
    int early_status;
    uint8_t nlegs;
    uint8_t leg_prov[CALL_MAX_LEGS];
    bool session_expired, bye;
    struct ip_addr caller_ip, callee_ip;
    uint16_t caller_port, callee_port;
    struct call_side side[2];  /* its codecs and eps NULL: the call's go with the call ... */
    struct call_media_ep eps[2][CALL_MAX_MEDIA_EPS]; /* ... so its eps are copied here */
    char codecs[2][64];        /* ... so copied, cut, for codec_mismatch's text */
    struct call_hold holds[CALL_MAX_HOLDS];
    uint8_t nholds;
    bool codec_disjoint;       /* offer and answer share no codec: the media decides how bad */
};

struct issue_engine {
    struct issue_config cfg;
    issue_fn fn;
    void *user;
    struct held_call *calls; /* owned */
    size_t ncalls, capcalls;
    struct held_stream *streams; /* owned */
    size_t nstreams, capstreams;
    uint64_t streams_seen;   /* every stream handed in, orphans too: 0, a capture of SIP only */
    bool announced_live;     /* a tick saw an announced stream still going (handed in later) */
    issue_judged_fn judged;  /* NULL: not asked */
    issue_found_fn found;    /* NULL: not asked */
    uint64_t *quiet;         /* owned: calls without media checks, waiting for their streams */
    size_t nquiet, capquiet;
    /* calls done with (handed in and not held, or judged): a bit per call number after
     * done_base, which moves up past the run of done calls at the start (owned) */
    uint64_t *done;
    size_t done_words;
    uint64_t done_base;
    bool done_started;
    struct sec_watch *sec; /* owned: the security watch (security.h) */
};

/* Hands a finished issue to the engine's callback, its frames sorted. */
void issue_emit(struct issue_engine *e, struct issue *is);
/* Whether an address and port is one the SDP of a side (0 caller, 1 callee) named. */
bool held_ep_match(const struct held_call *c, int side, const struct ip_addr *a, uint16_t port);
/* Which way a stream of the call flows: 1 towards the callee, 2 towards the caller, 0 not
 * known. */
int held_dir(const struct held_call *c, const struct held_stream *s);
/* How long [a0, a1] and [b0, b1] overlap (0 if they do not). */
ptime_t held_overlap(ptime_t a0, ptime_t a1, ptime_t b0, ptime_t b1);
/* Whether SDP directions promise media from the sender to the receiver (RFC 3264 §6.1). */
bool held_promised(uint8_t sender_dir, uint8_t receiver_dir);

#endif
