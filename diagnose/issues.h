/* The issue catalogue (docs/output.md): what went wrong with a call, a stream or a
 * registration, with a severity, the frames and figures that prove it, a one-line summary
 * and a diagnosis that names the likely cause and the next thing to check.
 *
 * Fed with ended calls, streams and registrations in any order. Signaling-only findings
 * are judged when a call ends; a call that was answered or offered early media waits
 * (a compact copy of what the media checks need) until its media is over (issues_tick) or
 * the input ends (issues_finish). Thresholds come from struct issue_config, settable by name. */
#ifndef SIPSCOPE_ISSUES_H
#define SIPSCOPE_ISSUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "correlate/correlate.h"
#include "metrics/stream.h"

#define ISSUE_KINDS(X)                                                                             \
    X(ONE_WAY_AUDIO, "one_way_audio")                                                              \
    X(NO_AUDIO, "no_audio")                                                                        \
    X(RINGBACK_SILENCE, "ringback_silence")                                                        \
    X(SILENT_CALL, "silent_call")                                                                  \
    X(SDP_PRIVATE_ADDRESS, "sdp_private_address")                                                  \
    X(AUTH_LOOP, "auth_loop")                                                                      \
    X(CODEC_MISMATCH, "codec_mismatch")                                                            \
    X(LONG_POST_DIAL_DELAY, "long_post_dial_delay")                                                \
    X(SLOW_SETUP, "slow_setup")                                                                    \
    X(UNFINISHED_CALL, "unfinished_call")                                                          \
    X(RETRANSMISSIONS, "retransmissions")                                                          \
    X(PACKET_LOSS, "packet_loss")                                                                  \
    X(HIGH_JITTER, "high_jitter")                                                                  \
    X(LOW_MOS, "low_mos")                                                                          \
    X(HIGH_LATENCY, "high_latency") /* added: one-way delay from RTCP round trips */              \
    X(SERVER_ERROR, "server_error")                                                                \
    X(GLOBAL_FAILURE, "global_failure")                                                            \
    X(REGISTRATION_FAILURE, "registration_failure")                                                \
    X(RTP_AFTER_BYE, "rtp_after_bye")                                                              \
    X(ORPHAN_MEDIA, "orphan_media")                                                                \
    X(DNS_SLOW, "dns_slow")                                                                        \
    X(DNS_FAILURE, "dns_failure")                                                                  \
    X(SLOW_HOP, "slow_hop")                                                                        \
    X(MEDIA_DURING_HOLD, "media_during_hold") /* added: RTP a hold's SDP silenced */               \
    X(RTCP_NOT_MUXED, "rtcp_not_muxed") /* added: a=rtcp-mux answered, RTCP on other ports */ \
    X(SIP_SCAN, "sip_scan") /* added: a source probing extensions or methods, or a scanner */    \
    X(AUTH_BRUTE_FORCE, "auth_brute_force") /* added: many failed digest attempts */            \
    X(REGISTRATION_HIJACK, "registration_hijack") /* added: a held binding taken over */        \
    X(TOLL_FRAUD_PATTERN, "toll_fraud_pattern") /* added: a burst of costly or parallel calls */ \
    X(FALSE_ANSWER, "false_answer") /* added: ringback from the callee after its 200 OK */      \
    X(CLIPPING, "clipping") /* added: speech clipped at full scale */                           \
    X(AUDIO_LEVEL, "audio_level") /* added: speech too quiet or too loud */                     \
    X(FAX, "fax") /* added: fax tones on an audio codec without T.38 */

enum issue_kind {
#define ISSUE_ENUM(id, name) ISSUE_##id,
    ISSUE_KINDS(ISSUE_ENUM)
#undef ISSUE_ENUM
        ISSUE__COUNT
};
const char *issue_kind_name(enum issue_kind k);

#define ISSUE_SEVERITIES(X) X(INFO, "info") X(WARNING, "warning") X(CRITICAL, "critical")

enum issue_severity {
#define ISSUE_SEV_ENUM(id, name) SEV_##id,
    ISSUE_SEVERITIES(ISSUE_SEV_ENUM)
#undef ISSUE_SEV_ENUM
        SEV__COUNT
};
const char *issue_severity_name(enum issue_severity s);

/* Thresholds. Every field has a name for flags and the config file (issue_config_set). */
struct issue_config {
    double pdd_warn_ms, pdd_crit_ms;       /* long_post_dial_delay */
    double setup_warn_ms, setup_crit_ms;   /* slow_setup (no provisional came) */
    double loss_warn_pct, loss_crit_pct;   /* packet_loss */
    double jitter_warn_ms, jitter_crit_ms; /* high_jitter: mean A.8 jitter */
    double mos_warn, mos_crit;             /* low_mos: below these */
    double latency_warn_ms, latency_crit_ms; /* high_latency: one-way, mouth to ear */
    double auth_loop_challenges;           /* auth_loop: challenges without success */
    double retrans_warn;                   /* retransmissions: copies of one message */
    double audio_min_s;                    /* one_way/no_audio: shorter calls not judged */
    double one_way_ratio;                  /* a direction covering less of the call than
                                            * this, while the other covers most: one-way */
    double ringback_silence_ms;            /* early media offered, no RTP to the caller,
                                            * or RTP carrying neither tone nor speech */
    double one_way_active_pct;             /* one_way_audio: a direction with RTP whose
                                            * answered seconds are speech less than this
                                            * often carries silence (issue 24) ... */
    double speech_active_pct;              /* ... while the other is speech this often */
    double one_way_silent_min_s;           /* ... judged over at least this many seconds */
    double silent_call_s;                  /* silent_call: answered seconds of RTP each way
                                            * with no speech and no tone, at least */
    double false_answer_ms;                /* false_answer: ringback heard this long after
                                            * the 200 OK */
    double false_answer_start_ms;          /* ... beginning at most this long after it */
    double clipping_pct;                   /* clipping: clipped share of speech samples */
    double clipping_runs;                  /* ... in at least this many runs */
    double audio_level_min_s;              /* audio_level: speech-active seconds to judge */
    double audio_quiet_dbov, audio_loud_dbov; /* audio_level: speech level out of these */
    double rtp_after_bye_ms;               /* media this long after the BYE */
    double min_packets;                    /* streams shorter than this are not judged */
    double capture_end_s;                  /* unfinished: activity this close to the end
                                            * of the input means the capture cut the call */
    double dns_slow_warn_ms, dns_slow_crit_ms; /* dns_slow: a look-up for the call */
    double hop_hold_warn_ms, hop_hold_crit_ms; /* slow_hop: a hop held the INVITE */
    double hop_timeout_ms;                 /* slow_hop: 408/503 this long after the INVITE
                                            * was forwarded (a transaction timer fired) */
    double hold_media_s;                   /* media_during_hold: RTP this long in a
                                            * direction the hold's SDP silenced */
    /* the security watch (security.c), over a sliding window on packet time */
    double sec_window_s;                   /* sip_scan, auth_brute_force: the window */
    double scan_targets;                   /* sip_scan: distinct extensions probed in it */
    double scan_methods;                   /* sip_scan: or distinct methods tried in it */
    double scan_fail_ratio;                /* sip_scan: the share of them not answered 2xx */
    double auth_fail;                      /* auth_brute_force: failed digest attempts */
    double auth_networks;                  /* or as many against one account from this many
                                            * networks */
    double hijack_moves;                   /* registration_hijack: a held binding taken by
                                            * another address this often (back and forth) */
    double toll_window_s;                  /* toll_fraud_pattern: the window */
    double toll_calls;                     /* calls to listed prefixes in it */
    double toll_concurrent;                /* or answered calls of one account at once: the
                                            * floor of the learned limit below */
    double conc_factor;                    /* that many times the account's usual
                                            * concurrency (or the floor's, before it is learnt) */
    double conc_learn_s;                   /* history an account needs before its own */
    double conc_learn_calls;               /* usual concurrency is trusted: time, calls */
};

void issue_config_default(struct issue_config *cfg);
/* Sets a threshold by name ("pdd_warn_ms"); false, with *why set, when the name is unknown
 * or the value not a number in range. */
bool issue_config_set(struct issue_config *cfg, const char *name, const char *value,
                      const char **why);
/* The i-th threshold: its name, what it means and its value; false past the last. */
bool issue_config_describe(const struct issue_config *cfg, size_t i, const char **name,
                           const char **help, double *value);

#define ISSUE_MAX_FRAMES 8
#define ISSUE_MAX_EVIDENCE 14

/* One evidence figure: a number (has_num), a text, or (json) a JSON value written as text:
 * a list or an object of figures. */
struct issue_evidence {
    const char *key;         /* a static name */
    bool has_num;
    bool json;
    double num;
    char str[112];
};

struct issue {
    enum issue_kind kind;
    enum issue_severity severity;
    uint64_t call_seq;       /* 0 none */
    uint64_t stream_seq;     /* 0 none */
    const char *registration; /* the AoR (borrowed for the callback), NULL none */
    ptime_t time;
    uint64_t frames[ISSUE_MAX_FRAMES];
    uint8_t nframes;
    char summary[256];
    char diagnosis[1024];
    struct issue_evidence ev[ISSUE_MAX_EVIDENCE];
    uint8_t nev;
};

/* Called once per issue; the issue lives only for the call. */
typedef void (*issue_fn)(void *user, const struct issue *is);

struct issue_engine;
struct issue_engine *issues_new(const struct issue_config *cfg, issue_fn fn, void *user);
void issues_free(struct issue_engine *e);
void issues_call(struct issue_engine *e, const struct call *c);
void issues_stream(struct issue_engine *e, const struct rtp_stream *s);
void issues_registration(struct issue_engine *e, const struct registration *r);
/* Now and then (packet time), with the streams still followed: the held calls whose media
 * is over are judged, and the streams no call can need any more are dropped, so that memory
 * follows the calls in progress, not the length of the capture. A stream that ended over
 * ISSUE_STREAM_KEEP ago counts no more for a call handed in later, at its endpoints. */
#define ISSUE_STREAM_KEEP (300 * PTIME_SEC)
void issues_tick(struct issue_engine *e, ptime_t now, const struct stream_table *t);
/* Called once per call handed in, when every issue of it has been found: its own, its
 * streams' (they have all ended) and its media's. user: the issue callback's. */
typedef void (*issue_judged_fn)(void *user, uint64_t call_seq);
void issues_on_judged(struct issue_engine *e, issue_judged_fn fn);
/* The input ended at `end`: the calls waiting for their media are judged. */
void issues_finish(struct issue_engine *e, ptime_t end);

/* The security watch (security.c): every SIP message, with the correlator's verdict on it
 * (retransmissions are skipped). Scans and password guessing are out-of-dialog requests
 * and their answers; bindings and calls are followed per account. Its issues name no call:
 * an account's carry it as `registration`. */
void issues_sip(struct issue_engine *e, const struct sip_event *ev, const struct msg_verdict *v);
/* A security finding as the watch makes it: its issue follows only when the episode ends
 * (the source or account quiet for a window), with the whole evidence and the episode's
 * start as its time; this says so at once, for --alerts. who: the source's address, or the
 * account ("sip:user@host") when account is true (borrowed for the call). user: the issue
 * callback's. Every security issue emitted had exactly one finding before it. */
struct issue_finding {
    enum issue_kind kind;
    ptime_t found;      /* packet time of the message that crossed the threshold */
    ptime_t issue_time; /* the time its issue will carry */
    const char *who;
    bool account;
};
typedef void (*issue_found_fn)(void *user, const struct issue_finding *f);
void issues_on_found(struct issue_engine *e, issue_found_fn fn);
/* Replaces the list of scanners' User-Agents and the list of toll prefixes with these texts
 * (the format of issue_scanner_agents_default and issue_toll_prefixes_default, shipped as
 * data/scanner-agents.txt and data/toll-prefixes.txt); NULL keeps a list. False, err set
 * with the line, on a mistake. */
bool issues_security_lists(struct issue_engine *e, const char *agents, const char *prefixes,
                           char *err, size_t errlen);
extern const char issue_scanner_agents_default[];
extern const char issue_toll_prefixes_default[];
/* The bytes the watch may use (the memory budget's share), before the first message. */
void issues_security_memory(struct issue_engine *e, size_t bytes);
/* The bytes its tables' entries in use take now, and at their peak. */
void issues_security_usage(const struct issue_engine *e, uint64_t *now, uint64_t *peak);
/* Sources and accounts let go to make room (what they had found was reported first). */
uint64_t issues_security_evicted(const struct issue_engine *e);

/* RFC 1918, RFC 6598 (shared CGN space), link-local, and their IPv6 kin (ULA fc00::/7,
 * fe80::/10): addresses that do not route on the public Internet. */
bool issue_addr_private(const struct ip_addr *a);

#endif
