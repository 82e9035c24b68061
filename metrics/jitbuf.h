/* A stream's simulated jitter buffers (struct stream_jb in stream.h), for stream.c alone:
 * one packet through them, and the E-model scores of what they played. Nothing here
 * allocates; jb_packet runs for every packet of a stream's own clock. */
#ifndef SIPSCOPE_JITBUF_H
#define SIPSCOPE_JITBUF_H

#include <stdbool.h>
#include <stdint.h>

#include "metrics/stream.h"

/* One packet through the three buffers: rel is its transit relative to the stream's first
 * packet (timestamp units); gap the sequence numbers missing before it (in order); late: it
 * arrives after packets sent later; spurt: a talkspurt or a jump starts; timed: a packet of
 * the stream's own payload type (others fill their slot without a playout test). Counts the
 * current second's played and lost slots in s. */
void jb_packet(struct rtp_stream *s, int64_t rel, uint32_t gap, bool late, bool spurt,
               ptime_t now, bool timed);
/* The end of the stream: each buffer's loss, burst ratio, wait, R and MOS into s->jbs. */
void jb_score(struct rtp_stream *s);
/* How long buffer b held the packets it played, on average (ms). */
double jb_wait_ms(const struct rtp_stream *s, const struct stream_jb *b);
/* R (G.107) of s's codec at a loss (%), burst ratio and buffer wait (ms); s->emodel set. */
double jb_r(const struct rtp_stream *s, double ppl_pct, double burst_r, double wait_ms);

#endif
