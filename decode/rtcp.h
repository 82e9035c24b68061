/* RTCP (RFC 3550 §6) and RTCP XR (RFC 3611): one compound packet at a time, bounds-checked,
 * into a fixed summary with no allocation. Blocks beyond the summary's room are counted,
 * not kept. The answer is ok, or invalid with a reason that the caller counts. */
#ifndef SIPSCOPE_RTCP_H
#define SIPSCOPE_RTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/sv.h"

#define RTCP_REASONS(X)                                                                        \
    X(RTCP_OK, "ok")                                                                           \
    X(RTCP_TRUNCATED, "rtcp_truncated")       /* a length points past the datagram */         \
    X(RTCP_BAD_VERSION, "rtcp_bad_version")   /* a packet of the compound is not version 2 */ \
    X(RTCP_BAD_LENGTH, "rtcp_bad_length")     /* counts and lengths disagree */               \
    X(RTCP_BAD_PADDING, "rtcp_bad_padding")   /* padding count larger than the packet */

enum rtcp_status {
#define RTCP_ENUM(e, s) e,
    RTCP_REASONS(RTCP_ENUM)
#undef RTCP_ENUM
    RTCP__COUNT
};
const char *rtcp_status_name(enum rtcp_status s);

/* RFC 3550 §6.4.1 report block: what `reporter` received from `ssrc`. */
struct rtcp_report {
    uint32_t reporter, ssrc;
    uint8_t fraction_lost;      /* of 256, since the previous report */
    int32_t cumulative_lost;    /* 24-bit signed */
    uint32_t ext_max_seq, jitter; /* jitter in the stream's timestamp units */
    uint32_t lsr, dlsr;         /* NTP middle 32 bits; delay in 1/65536 s */
};

/* RFC 3611 §4.7 VoIP Metrics block, raw fields decoded to their units. 127 (R, MOS) and 0
 * (JB) mean "unavailable" in the RFC; they are kept as sent and judged by the user. */
struct rtcp_voip_metrics {
    uint32_t reporter, ssrc;
    uint8_t loss_rate, discard_rate;    /* of 256 */
    uint8_t burst_density, gap_density; /* of 256 */
    uint16_t burst_duration, gap_duration, round_trip_delay, end_system_delay; /* ms */
    int8_t signal_level, noise_level;   /* dBm0; 127 unavailable */
    uint8_t rerl, gmin, r_factor, ext_r_factor, mos_lq, mos_cq; /* MOS x10 */
    uint8_t rx_config;
    uint16_t jb_nominal, jb_maximum, jb_abs_max; /* ms */
};

#define RTCP_MAX_REPORTS 16
#define RTCP_MAX_XR_VOIP 4

struct rtcp_info {
    unsigned packets;               /* RTCP packets in the compound */
    bool has_sr;
    uint32_t sr_ssrc;               /* the sender of the SR */
    uint32_t sr_ntp_msw, sr_ntp_lsw, sr_rtp_ts, sr_packets, sr_octets;
    unsigned nreports, reports_dropped;
    struct rtcp_report reports[RTCP_MAX_REPORTS];
    struct sv cname;                /* first SDES CNAME, borrowed from the packet */
    uint32_t cname_ssrc;
    unsigned sdes_items, bye_ssrcs, app_packets, feedback_packets, xr_blocks;
    uint32_t bye_ssrc;              /* the first SSRC that said goodbye */
    unsigned nvoip, voip_dropped;
    struct rtcp_voip_metrics voip[RTCP_MAX_XR_VOIP];
};

enum rtcp_status rtcp_parse(const uint8_t *p, size_t n, struct rtcp_info *out);

#endif
