/* RTCP compound packets; see rtcp.h. */
#include "rtcp.h"

#include <string.h>

#include "common/cursor.h"

enum { PT_SR = 200, PT_RR, PT_SDES, PT_BYE, PT_APP, PT_RTPFB, PT_PSFB, PT_XR };
#define SDES_CNAME 1
#define XR_VOIP_METRICS 7 /* RFC 3611 §4.7 */

const char *rtcp_status_name(enum rtcp_status s)
{
    static const char *const names[] = {
#define RTCP_NAME(e, str) str,
        RTCP_REASONS(RTCP_NAME)
#undef RTCP_NAME
    };
    return (unsigned)s < RTCP__COUNT ? names[s] : "rtcp_unknown";
}

/* RFC 3550 §6.4.1: count report blocks of 24 octets each. */
static enum rtcp_status report_blocks(struct cursor *c, unsigned count, uint32_t reporter,
                                      struct rtcp_info *out)
{
    for (unsigned i = 0; i < count; i++) {
        struct rtcp_report r = {.reporter = reporter};
        uint32_t lost;
        if (!cursor_u32be(c, &r.ssrc) || !cursor_u32be(c, &lost) ||
            !cursor_u32be(c, &r.ext_max_seq) || !cursor_u32be(c, &r.jitter) ||
            !cursor_u32be(c, &r.lsr) || !cursor_u32be(c, &r.dlsr))
            return RTCP_BAD_LENGTH;
        r.fraction_lost = (uint8_t)(lost >> 24);
        /* 24-bit two's complement (it goes negative when duplicates outnumber losses) */
        r.cumulative_lost = (int32_t)((lost & 0xffffffu) ^ 0x800000u) - 0x800000;
        if (out->nreports < RTCP_MAX_REPORTS)
            out->reports[out->nreports++] = r;
        else
            out->reports_dropped++;
    }
    return RTCP_OK;
}

/* RFC 3550 §6.5: chunks of an SSRC and items, each chunk ended by a null item and padded
 * to 32 bits. */
static enum rtcp_status sdes(struct cursor *c, unsigned count, struct rtcp_info *out)
{
    for (unsigned i = 0; i < count; i++) {
        uint32_t ssrc;
        size_t start = cursor_left(c);
        if (!cursor_u32be(c, &ssrc))
            return RTCP_BAD_LENGTH;
        for (;;) {
            uint8_t type, len;
            const uint8_t *text;
            if (!cursor_u8(c, &type))
                return RTCP_BAD_LENGTH;
            if (type == 0)
                break;
            if (!cursor_u8(c, &len) || !cursor_bytes(c, len, &text))
                return RTCP_BAD_LENGTH;
            out->sdes_items++;
            if (type == SDES_CNAME && sv_is_null(out->cname)) {
                out->cname = sv_make((const char *)text, len);
                out->cname_ssrc = ssrc;
            }
        }
        size_t used = start - cursor_left(c);
        if (used % 4 && !cursor_skip(c, 4 - used % 4))
            return RTCP_BAD_LENGTH;
    }
    return RTCP_OK;
}

static bool voip_metrics(struct cursor *c, uint32_t reporter, struct rtcp_voip_metrics *m)
{
    uint8_t sig = 127, noise = 127, reserved;
    m->reporter = reporter;
    bool ok = cursor_u32be(c, &m->ssrc) && cursor_u8(c, &m->loss_rate) &&
              cursor_u8(c, &m->discard_rate) && cursor_u8(c, &m->burst_density) &&
              cursor_u8(c, &m->gap_density) && cursor_u16be(c, &m->burst_duration) &&
              cursor_u16be(c, &m->gap_duration) && cursor_u16be(c, &m->round_trip_delay) &&
              cursor_u16be(c, &m->end_system_delay) && cursor_u8(c, &sig) &&
              cursor_u8(c, &noise) && cursor_u8(c, &m->rerl) && cursor_u8(c, &m->gmin) &&
              cursor_u8(c, &m->r_factor) && cursor_u8(c, &m->ext_r_factor) &&
              cursor_u8(c, &m->mos_lq) && cursor_u8(c, &m->mos_cq) &&
              cursor_u8(c, &m->rx_config) && cursor_u8(c, &reserved) &&
              cursor_u16be(c, &m->jb_nominal) && cursor_u16be(c, &m->jb_maximum) &&
              cursor_u16be(c, &m->jb_abs_max);
    m->signal_level = (int8_t)sig;
    m->noise_level = (int8_t)noise;
    return ok;
}

/* RFC 3611 §3: report blocks of BT, type-specific, length (32-bit words after the
 * block header). Only VoIP Metrics is kept; the rest is skipped by its length. */
static enum rtcp_status xr(struct cursor *c, struct rtcp_info *out)
{
    uint32_t reporter;
    if (!cursor_u32be(c, &reporter))
        return RTCP_BAD_LENGTH;
    while (cursor_left(c)) {
        uint8_t bt, specific;
        uint16_t words;
        if (!cursor_u8(c, &bt) || !cursor_u8(c, &specific) || !cursor_u16be(c, &words))
            return RTCP_BAD_LENGTH;
        struct cursor b = *c;
        if (!cursor_skip(c, 4u * words) || !cursor_limit(&b, 4u * words))
            return RTCP_BAD_LENGTH;
        out->xr_blocks++;
        if (bt != XR_VOIP_METRICS)
            continue;
        if (words != 8)
            return RTCP_BAD_LENGTH;
        if (out->nvoip < RTCP_MAX_XR_VOIP) {
            if (!voip_metrics(&b, reporter, &out->voip[out->nvoip]))
                return RTCP_BAD_LENGTH;
            out->nvoip++;
        } else {
            out->voip_dropped++;
        }
    }
    return RTCP_OK;
}

/* One RTCP packet's body (after the 4-octet header), limited to its length. */
static enum rtcp_status one(struct cursor *c, uint8_t pt, unsigned count, struct rtcp_info *out)
{
    uint32_t ssrc;
    switch (pt) {
    case PT_SR:
        if (!cursor_u32be(c, &ssrc) || !cursor_u32be(c, &out->sr_ntp_msw) ||
            !cursor_u32be(c, &out->sr_ntp_lsw) || !cursor_u32be(c, &out->sr_rtp_ts) ||
            !cursor_u32be(c, &out->sr_packets) || !cursor_u32be(c, &out->sr_octets))
            return RTCP_BAD_LENGTH;
        out->has_sr = true;
        out->sr_ssrc = ssrc;
        return report_blocks(c, count, ssrc, out);
    case PT_RR:
        if (!cursor_u32be(c, &ssrc))
            return RTCP_BAD_LENGTH;
        return report_blocks(c, count, ssrc, out);
    case PT_SDES:
        return sdes(c, count, out);
    case PT_BYE:
        for (unsigned i = 0; i < count; i++) {
            if (!cursor_u32be(c, &ssrc))
                return RTCP_BAD_LENGTH;
            if (!out->bye_ssrcs++)
                out->bye_ssrc = ssrc;
        }
        return RTCP_OK;
    case PT_APP:
        if (!cursor_skip(c, 8)) /* SSRC and four-letter name */
            return RTCP_BAD_LENGTH;
        out->app_packets++;
        return RTCP_OK;
    case PT_RTPFB:
    case PT_PSFB:
        out->feedback_packets++;
        return RTCP_OK;
    case PT_XR:
        return xr(c, out);
    default: /* a type we do not know is skipped by its length (RFC 3550 §6.1) */
        return RTCP_OK;
    }
}

enum rtcp_status rtcp_parse(const uint8_t *p, size_t n, struct rtcp_info *out)
{
    memset(out, 0, sizeof *out);
    struct cursor c = cursor_make(p, n);
    while (cursor_left(&c)) {
        uint8_t b0, pt;
        uint16_t words;
        if (!cursor_u8(&c, &b0) || !cursor_u8(&c, &pt) || !cursor_u16be(&c, &words))
            return RTCP_TRUNCATED;
        if (b0 >> 6 != 2)
            return RTCP_BAD_VERSION;
        size_t len = 4u * words; /* the length field counts 32-bit words minus one */
        struct cursor body = c;
        if (!cursor_skip(&c, len) || !cursor_limit(&body, len))
            return RTCP_TRUNCATED;
        if (b0 & 0x20) {
            /* RFC 3550 §6.4.1: only the last packet of a compound is padded; its last
             * octet counts the padding, itself included */
            uint8_t pad;
            if (cursor_left(&c) || !len || !cursor_peek_u8(&body, len - 1, &pad) || !pad ||
                pad > len)
                return RTCP_BAD_PADDING;
            cursor_limit(&body, len - pad);
        }
        enum rtcp_status st = one(&body, pt, b0 & 0x1f, out);
        if (st != RTCP_OK)
            return st;
        out->packets++;
    }
    return out->packets ? RTCP_OK : RTCP_TRUNCATED;
}
