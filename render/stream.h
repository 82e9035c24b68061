/* An RTP stream as docs/output.md's streams[] entry, with what was added to it: which
 * ends SDP announced, the loss pattern, the G.113 row that scored it, the three simulated
 * jitter buffers, RTCP's reports (RFC 3550, XR RFC 3611 §4.7) and RFC 4733 digits. */
#ifndef SIPSCOPE_RENDER_STREAM_H
#define SIPSCOPE_RENDER_STREAM_H

#include <jansson.h>
#include <stdbool.h>

#include "metrics/stream.h"

/* timeline: with "timeline", the per-second figures (--timelines). */
json_t *render_stream_json(const struct rtp_stream *st, bool timeline);
/* Per-second figures, as parallel arrays (compact for charts); the store keeps them apart. */
json_t *render_timeline_json(const struct rtp_stream *st);

#endif
