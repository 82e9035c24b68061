/* RTCP attached to the streams it reports on (RFC 3550 §6.4: SR from a stream's source,
 * report blocks and RFC 3611 XR VoIP Metrics from its receiver), the round trip from
 * LSR/DLSR, and the ports the RTCP came on; see stream_rtcp() in stream.h. */
#include "stream.h"

#include "common/hash.h"
#include "stream_int.h"

/* The stream an RTCP report speaks of: the exact RTP ports (RTCP's minus one, or the same
 * on a muxed port), else the latest stream of that SSRC between the two hosts. */
static struct stream_int *rtcp_stream(struct stream_table *t, uint32_t ssrc,
                                      const struct ip_addr *src, uint16_t sport,
                                      const struct ip_addr *dst, uint16_t dport)
{
    struct stream_key k;
    for (int mux = 0; mux < 2; mux++) {
        uint16_t d = mux ? 0 : 1;
        if (sport < d || dport < d)
            continue;
        stream_key_make(&k, src, (uint16_t)(sport - d), dst, (uint16_t)(dport - d), ssrc);
        struct stream_int *si = htab_find(t->ht, hash_bytes(&k, sizeof k, t->seed), &k);
        if (si)
            return si;
    }
    struct ssrc_key sk;
    ssrc_key_make(&sk, ssrc, src, dst);
    return htab_find(t->by_ssrc, hash_bytes(&sk, sizeof sk, t->seed), &sk);
}

static uint32_t ntp_middle(uint32_t msw, uint32_t lsw) { return (msw << 16) | (lsw >> 16); }

/* One compound packet spoke of s: on s's own RTP ports, either way (multiplexed, RFC 5761
 * §4), or apart from them (RTP + 1 or a=rtcp: RFC 3550 §11, RFC 3605). What SDP asked
 * for is the issue engine's to compare. */
static void rtcp_ports(struct rtp_stream *s, const struct l4_packet *l4)
{
    struct stream_rtcp *r = &s->rtcp;
    r->packets++;
    if ((l4->sport == s->sport && l4->dport == s->dport) ||
        (l4->sport == s->dport && l4->dport == s->sport)) {
        r->muxed++;
        return;
    }
    r->apart_last = l4->pkt->ts;
    if (!r->apart++) {
        r->apart_src = l4->src;
        r->apart_dst = l4->dst;
        r->apart_sport = l4->sport;
        r->apart_dport = l4->dport;
        r->apart_frame = l4->pkt->frame;
    }
}

unsigned stream_rtcp(struct stream_table *t, const struct l4_packet *l4,
                     const struct rtcp_info *info)
{
    ptime_t now = l4->pkt->ts;
    struct stream_int *touched[1 + RTCP_MAX_REPORTS + RTCP_MAX_XR_VOIP];
    unsigned nt = 0;
    /* an SR comes from the source of a stream: kept for the RTT of later reports */
    if (info->has_sr) {
        struct stream_int *si = rtcp_stream(t, info->sr_ssrc, &l4->src, l4->sport, &l4->dst, l4->dport);
        if (si) {
            struct stream_rtcp *r = &si->pub.rtcp;
            r->sender_reports++;
            r->sr_mid[1] = r->sr_mid[0];
            r->sr_time[1] = r->sr_time[0];
            r->sr_mid[0] = ntp_middle(info->sr_ntp_msw, info->sr_ntp_lsw);
            r->sr_time[0] = now;
            touched[nt++] = si;
        }
    }
    /* a report block comes from the receiver of the stream it names */
    for (unsigned i = 0; i < info->nreports; i++) {
        const struct rtcp_report *rb = &info->reports[i];
        struct stream_int *si = rtcp_stream(t, rb->ssrc, &l4->dst, l4->dport, &l4->src, l4->sport);
        if (!si)
            continue;
        struct rtp_stream *s = &si->pub;
        struct stream_rtcp *r = &s->rtcp;
        r->receiver_reports++;
        r->reported_lost = rb->cumulative_lost;
        double frac = rb->fraction_lost * 100.0 / 256.0;
        if (frac > r->max_fraction_lost_pct)
            r->max_fraction_lost_pct = frac;
        if (s->clock_rate) {
            double j = rb->jitter * 1000.0 / s->clock_rate;
            if (j > r->reported_jitter_ms)
                r->reported_jitter_ms = j;
        }
        /* RFC 3550 §6.4.1: round trip = arrival of the RR - LSR - DLSR; the capture point
         * saw the SR and the RR, so this is the round trip between it and the receiver */
        for (int k = 0; rb->lsr && k < 2; k++) {
            if (r->sr_mid[k] != rb->lsr || !r->sr_time[k])
                continue;
            double rtt = (double)(now - r->sr_time[k]) / 1e6 - rb->dlsr * 1000.0 / 65536.0;
            if (rtt >= 0) {
                r->rtt_ms += (rtt - r->rtt_ms) / (double)++r->rtt_n; /* running mean */
                if (rtt > r->max_rtt_ms)
                    r->max_rtt_ms = rtt;
            }
            break;
        }
        touched[nt++] = si;
    }
    for (unsigned i = 0; i < info->nvoip; i++) {
        const struct rtcp_voip_metrics *m = &info->voip[i];
        struct stream_int *si = rtcp_stream(t, m->ssrc, &l4->dst, l4->dport, &l4->src, l4->sport);
        if (!si)
            continue;
        si->pub.rtcp.have_xr = true;
        si->pub.rtcp.xr = *m;
        touched[nt++] = si;
    }
    unsigned streams = 0;
    for (unsigned i = 0; i < nt; i++) {
        bool seen = false;
        for (unsigned j = 0; j < i; j++)
            seen |= touched[j] == touched[i];
        if (!seen) {
            rtcp_ports(&touched[i]->pub, l4);
            streams++;
        }
    }
    return streams;
}

