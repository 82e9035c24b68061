/* The analysis run that every subcommand shares: inputs through capture/, decode/ and
 * correlate/, with the caller's handlers for messages, ended calls and registrations. */
#ifndef SIPSCOPE_PIPELINE_H
#define SIPSCOPE_PIPELINE_H

#include <signal.h>
#include <stdbool.h>

#include "capture/capture.h"
#include "correlate/correlate.h"
#include "decode/decode.h"
#include "decode/rtcp.h"
#include "hep_in.h"
#include "metrics/stream.h"

struct pipeline_result;

#define PIPELINE_SETTLE (10 * PTIME_SEC)

struct pipeline_handlers {
    void (*sip)(void *user, const struct sip_event *ev, const struct msg_verdict *v);
    call_done_fn call;
    reg_done_fn reg;
    stream_done_fn stream;
    /* a frame of RTP or RTCP that belongs to call call_seq (RTP: of a stream SDP tied to
     * it; RTCP: on a port its SDP announced); NULL: not asked, and not looked up */
    void (*media)(void *user, uint64_t call_seq, const struct packet *pkt);
    /* every RTCP compound packet that was counted (an SDP announced its port, or it spoke
     * of a stream we follow), as parsed; call_seq: the call that announced its port, 0
     * unknown. NULL: not asked */
    void (*rtcp)(void *user, uint64_t call_seq, const struct l4_packet *l4,
                 const struct rtcp_info *info);
    /* live capture only: about once a second, after calls and streams whose time is up
     * were handed on (now: packet time, or the clock while nothing arrives), with the
     * figures so far */
    void (*tick)(void *user, ptime_t now, const struct pipeline_result *sofar);
    /* every PIPELINE_SETTLE of packet time, live or not, after what was over was handed
     * on, and live also at the first timer run after a call or stream was handed on (what
     * waited on it is judged then, not 10 s later): the streams still followed, for
     * judgements that wait on media. NULL: not asked */
    void (*settle)(void *user, ptime_t now, const struct stream_table *streams);
    ptime_t stream_idle; /* a stream ends after this long without packets (offline: a
                          * stream of an ended call); 0: 10 s */
    /* live, at each tick: calls in progress whose last message came since the previous
     * tick, as they stand (NULL: not asked) */
    call_done_fn call_progress;
    /* files: the capture's counts (bytes read of the total) about every 64 Ki packets, for
     * a front-end that shows progress its own way (the terminal UI). NULL: not asked */
    void (*progress)(void *user, const struct capture_stats *cs);
    /* live: the interfaces (or the HEP socket) are open; false stops before capturing */
    bool (*opened)(void *user);
    void *user;
    /* the run stops when *stop becomes non-zero (what was read so far is still handed on
     * and reported, result.interrupted set). NULL: on SIGINT or SIGTERM, caught from the
     * start of the run through common/stop.h (live: before the interfaces open). */
    const volatile sig_atomic_t *stop;
    uint64_t first_stream_seq; /* streams are numbered after it (a database's last) */
    bool keep_duplicates;      /* analyse exact copies too (decode_config.dedup_window 0) */
    /* the memory budget (--max-memory-mb) for the tables pipeline_run makes (decoder,
     * streams); the correlator's come with its config. NULL: their defaults */
    const struct mem_budget *budget;
    /* issue 24: the tone plan (NULL: the default) and whether payloads are decoded */
    const struct audio_plan *tone_plan;
    bool no_audio;
    /* NSS key log files for TLS (decode_config.tls_keylogs); borrowed */
    const char *const *tls_keylogs;
    size_t n_tls_keylogs;
};

struct pipeline_result {
    struct capture_stats cs;
    struct decode_stats ds;
    struct correlate_stats ks;
    uint64_t rtp_packets, rtcp_packets, streams_evicted;
    uint64_t orphans_evicted, flows_evicted; /* stream_orphans_evicted, stream_flows_evicted */
    uint64_t rtcp_errors[RTCP__COUNT];       /* malformed RTCP on announced ports, by reason */
    bool interrupted; /* stopped (SIGINT/SIGTERM, or *stop): what was read so far */
    uint64_t active_calls, active_streams; /* followed at the time (live ticks) */
    struct mem_usage mem; /* the tables' bytes at the last sample, and their peaks */
    /* the limits in force (entries), from the budget or given */
    uint64_t max_calls, max_transactions, max_media, max_registrations, max_streams;
    struct hep_in_counts hep_reports; /* RTCP and quality reports HEP agents sent */
    uint64_t max_hep_reports;         /* RTCP-reported streams waiting at once */
};

/* Runs the whole analysis. Returns 0, or 1 when an input cannot be opened or memory runs
 * out (err says why). progress: show the progress line on stderr. */
int pipeline_run(char **files, int nfiles, const struct correlate_config *kcfg,
                 const struct pipeline_handlers *h, bool progress, struct pipeline_result *out,
                 char *err, size_t errlen);

/* The same on live interfaces (or a HEP socket), until stopped. */
int pipeline_run_live(const char *const *ifaces, size_t n, const struct live_config *lcfg,
                      const struct correlate_config *kcfg, const struct pipeline_handlers *h,
                      struct pipeline_result *out, char *err, size_t errlen);

#endif
