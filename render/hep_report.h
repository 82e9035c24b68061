/* What --hep-out's JSON packets say (engine/hep_out.h sends them): Homer's RTCP view and
 * its QoS reports read these shapes. */
#ifndef SIPSCOPE_RENDER_HEP_REPORT_H
#define SIPSCOPE_RENDER_HEP_REPORT_H

#include "decode/rtcp.h"
#include "metrics/stream.h"

/* An RTCP compound packet as Homer's RTCP JSON (payload type 5, the shape heplify,
 * rtpengine and Asterisk send: "type", "ssrc", "sender_information", "report_blocks",
 * "report_blocks_xr"). Compact text, malloc'd; NULL: no memory. */
char *render_hep_report_rtcp(const struct rtcp_info *info);
/* The quality report of a stream that ended (payload type 0x22, the shape of FreeSWITCH's
 * hepipe: "CORRELATION_ID", "JITTER", "PACKET_LOSS", "MOS", ...); corr: its call's Call-ID,
 * NULL unknown. Compact text, malloc'd; NULL: no memory. */
char *render_hep_report_stream(const struct rtp_stream *st, const char *corr);

#endif
