/* Reading back the two JSON reports a HEP agent sends, in the shapes hep_report.h writes
 * (Homer's: our --hep-out, heplify, rtpengine, FreeSWITCH's hepipe). The text is untrusted:
 * every field is type- and range-checked, and a report that does not hold together is
 * refused whole (false), never half-read. Nothing is kept: the outputs are plain values. */
#ifndef SIPSCOPE_RENDER_HEP_READ_H
#define SIPSCOPE_RENDER_HEP_READ_H

#include <stdbool.h>
#include <stddef.h>

#include "decode/rtcp.h"
#include "metrics/stream.h"

/* Homer's RTCP JSON (payload type 5: "type", "ssrc", "sender_information",
 * "report_blocks", "report_blocks_xr") into *out, as rtcp_parse would have read the
 * packet it came from (the raw fields: jitter in timestamp units, loss of 256). */
bool render_hep_read_rtcp(const char *text, size_t n, struct rtcp_info *out);

/* A stream quality report (payload type 0x22: "TOTAL_PK", "PACKET_LOSS", "JITTER", "MOS",
 * ...) into the figures of *st (identity, counts, jitter, MOS; st->mos and st->r_factor
 * -1 when not given, st->clock_rate 0 and st->events when no jitter is given). Only the
 * fields it sets are touched; the caller zeroes *st first. TOTAL_PK is required. */
bool render_hep_read_stream(const char *text, size_t n, struct rtp_stream *st);

#endif
