/* HEP out: what the analysis sees is sent on as HEPv3 (the format Homer,
 * Kamailio and heplify speak) to a collector over UDP, with the original addresses, transport
 * and time, a capture agent id and, when given, an auth key:
 * - every SIP message, as captured (payload type 1);
 * - every RTCP compound packet, as the JSON that Homer's RTCP view reads (payload type 5, the
 *   shape heplify, rtpengine and Asterisk send: "type", "ssrc", "sender_information",
 *   "report_blocks", and "report_blocks_xr" for an RFC 3611 VoIP Metrics block);
 * - a quality report for every RTP stream when it ends, as JSON (payload type 0x22, the
 *   shape Homer's QoS reports take from FreeSWITCH's hepipe and rtpagent: "CORRELATION_ID",
 *   "JITTER", "PACKET_LOSS", "MOS", "DELTA", ...).
 * RTCP and reports carry the call's Call-ID as the correlation id (chunk 17), which is how
 * Homer ties them to the call's SIP; every packet carries the host's name as node name
 * (chunk 19, as heplify sends it). */
#ifndef SIPSCOPE_HEP_OUT_H
#define SIPSCOPE_HEP_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/decode.h"
#include "decode/rtcp.h"
#include "metrics/stream.h"

struct hep_out;

/* to: "HOST:PORT" or "[v6]:PORT" (an address). live: Call-IDs are remembered for the
 * newest calls only. NULL with err set when it cannot. */
struct hep_out *hep_out_open(const char *to, uint32_t capture_id, const char *auth_key, bool live,
                             char *err, size_t errlen);
/* Sends one SIP message; a send that fails is counted (hep_out_close reports). call_seq:
 * the call the correlator put it in (0 none), remembered with its Call-ID so that the
 * call's RTCP and streams can name it. */
void hep_out_sip(struct hep_out *h, const struct sip_event *ev, uint64_t call_seq);
/* One RTCP compound packet that was parsed into info (of call call_seq, 0 unknown).
 * Packets with nothing to report (SDES or BYE alone) are not sent. */
void hep_out_rtcp(struct hep_out *h, const struct l4_packet *l4, const struct rtcp_info *info,
                  uint64_t call_seq);
/* The quality report of a stream that ended. */
void hep_out_stream(struct hep_out *h, const struct rtp_stream *st);

enum hep_out_kind { HEP_OUT_SIP, HEP_OUT_RTCP, HEP_OUT_REPORT, HEP_OUT__COUNT };
struct hep_out_counts {
    uint64_t sent[HEP_OUT__COUNT], failed[HEP_OUT__COUNT];
};
/* Closes; *counts (may be NULL) gets what was sent and what could not be. */
void hep_out_close(struct hep_out *h, struct hep_out_counts *counts);

#endif
