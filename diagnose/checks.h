/* The checks of the issue engine, by family, for engine.c: each reads the facts of a call,
 * a held call and its streams, or a stream, judges them against the engine's thresholds,
 * and emits what it finds.
 *
 * Inside its file every check has the same two halves. A verdict function,
 * `static bool x_verdict(cfg, facts..., struct issue *is, struct x_finding *f)`, decides:
 * false when the facts do not show it; else it fills the issue's kind, severity, time, ids,
 * frames and evidence, and f with the figures the text needs. A wording function,
 * `static void x_words(struct issue *is, const struct x_finding *f)`, writes the summary
 * and diagnosis from f alone. check_x() is the verdict, the words, and issue_emit(). */
#ifndef SIPSCOPE_DIAGNOSE_CHECKS_H
#define SIPSCOPE_DIAGNOSE_CHECKS_H

#include <stdbool.h>
#include <stddef.h>

#include "diagnose/engine.h"
#include "diagnose/issues.h"

/* signaling (check_signaling.c), when a call ends */
void check_final(struct issue_engine *e, const struct call *c);
/* media_later: offer and answer sharing no codec is left to check_codecs_media */
void check_codecs(struct issue_engine *e, const struct call *c, bool media_later);
void check_auth_call(struct issue_engine *e, const struct call *c);
void check_timing(struct issue_engine *e, const struct call *c);
void check_retrans(struct issue_engine *e, const struct call *c);
/* Offer and answer both list codecs and share none (telephone-event and CN aside). */
bool check_codecs_disjoint(const struct call_side *o, const struct call_side *a);
/* A side's payload types as a JSON list. */
void check_pts_json(const struct call_side *s, char *buf, size_t n);
/* An authentication loop's evidence (its verdict's figures) and the diagnosis that words it,
 * for calls and registrations; what: "INVITE", "REGISTER". */
void check_auth_evidence(struct issue *is, const struct auth_track *a);
void check_auth_words(struct issue *is, const struct auth_track *a, const char *what);

/* the path and its DNS (check_path.c), when a call ends */
void check_dns_slow(struct issue_engine *e, const struct call *c);
void check_dns_failure(struct issue_engine *e, const struct call *c);
void check_hops(struct issue_engine *e, const struct call *c);

/* media (check_media.c): a held call and the n streams that are its; end: the input's or
 * the settle's time */
void check_audio(struct issue_engine *e, const struct held_call *c, const struct held_stream *ss,
                 size_t n, ptime_t end);
void check_ringback(struct issue_engine *e, const struct held_call *c,
                    const struct held_stream *ss, size_t n, ptime_t end);
void check_private(struct issue_engine *e, const struct held_call *c,
                   const struct held_stream *ss, size_t n);
void check_after_bye(struct issue_engine *e, const struct held_call *c,
                     const struct held_stream *ss, size_t n);
void check_unfinished(struct issue_engine *e, const struct held_call *c,
                      const struct held_stream *ss, size_t n, ptime_t end, bool media);

/* what the media carried (check_heard.c, issue 24): true when an issue was emitted;
 * until: the answer or the end of early media; to: the end of the answered time */
bool check_heard_ringback(struct issue_engine *e, const struct held_call *c,
                          const struct held_stream *ss, size_t n, ptime_t until);
bool check_heard_one_way(struct issue_engine *e, const struct held_call *c,
                         const struct held_stream *ss, size_t n, int dir, ptime_t to);
bool check_heard_silent_call(struct issue_engine *e, const struct held_call *c,
                             const struct held_stream *ss, size_t n, ptime_t to);
/* an answered call's audio (check_heard.c): false_answer, clipping, audio_level */
void check_heard_answered(struct issue_engine *e, const struct held_call *c,
                          const struct held_stream *ss, size_t n, ptime_t end);
/* fax tones on an audio codec without T.38 (check_heard.c) */
void check_heard_fax(struct issue_engine *e, const struct held_call *c,
                     const struct held_stream *ss, size_t n);

/* media against its SDP (check_media_sdp.c) */
void check_codecs_media(struct issue_engine *e, const struct held_call *c,
                        const struct held_stream *ss, size_t n, bool media);
void check_hold_media(struct issue_engine *e, const struct held_call *c,
                      const struct held_stream *ss, size_t n, ptime_t end);
void check_rtcp_mux(struct issue_engine *e, const struct held_call *c,
                    const struct held_stream *ss, size_t n);
/* the summary and diagnosis of offer and answer sharing no codec (check_media_sdp.c) */
void say_codecs_disjoint(struct issue *is, const char *offer, const char *answer);

/* one stream (check_stream.c), when it ends */
void check_loss(struct issue_engine *e, const struct rtp_stream *s);
void check_jitter(struct issue_engine *e, const struct rtp_stream *s);
void check_mos(struct issue_engine *e, const struct rtp_stream *s);
void check_latency(struct issue_engine *e, const struct rtp_stream *s);
void check_orphan(struct issue_engine *e, const struct rtp_stream *s);

#endif
