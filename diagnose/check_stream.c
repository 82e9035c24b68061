/* The checks of one stream, judged when it ends: packet loss, jitter, MOS, one-way delay,
 * and media no SDP announced. */
#include "checks.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "decode/dns.h"
#include "decode/sdp.h"

#include "builder.h"
#include "checks.h"
#include "engine.h"

static void stream_header(struct issue *is, const struct rtp_stream *s, char *src, char *dst)
{
    is->call_seq = s->call_seq;
    is->stream_seq = s->seq;
    issue_frame(is, s->first_frame);
    ip_addr_port_str(&s->src, s->sport, src, IP_ADDR_PORT_STRLEN);
    ip_addr_port_str(&s->dst, s->dport, dst, IP_ADDR_PORT_STRLEN);
    issue_ev_str(is, "src", "%s", src);
    issue_ev_str(is, "dst", "%s", dst);
    issue_ev_str(is, "ssrc", "0x%08x", s->ssrc);
    issue_ev_str(is, "codec", "%s", s->codec[0] ? s->codec : "");
    issue_ev_num(is, "packets", (double)s->packets);
}

void check_loss(struct issue_engine *e, const struct rtp_stream *s)
{
    double pct = s->expected > 0 ? 100.0 * (double)s->lost / (double)s->expected : 0;
    if (pct <= e->cfg.loss_warn_pct)
        return;
    struct issue is;
    char src[IP_ADDR_PORT_STRLEN], dst[IP_ADDR_PORT_STRLEN];
    issue_init(&is, ISSUE_PACKET_LOSS, issue_band(pct, e->cfg.loss_warn_pct, e->cfg.loss_crit_pct),
               s->first_time);
    stream_header(&is, s, src, dst);
    issue_ev_num(&is, "lost", (double)s->lost);
    issue_ev_num(&is, "expected", (double)s->expected);
    issue_ev_num(&is, "lost_pct", round(pct * 1000) / 1000);
    issue_ev_num(&is, "loss_bursts", (double)s->loss_bursts);
    issue_ev_num(&is, "longest_loss_burst", (double)s->longest_burst);
    double ptime_ms = stream_ptime_ms(s);
    issue_say(is.summary, sizeof is.summary, "%.2f %% of RTP lost from %s to %s (%lld of %lld)", pct,
        src, dst, (long long)s->lost, (long long)s->expected);
    issue_say(is.diagnosis, sizeof is.diagnosis,
        "Packets went missing between the sender %s and the capture point. ", src);
    if (s->longest_burst >= 5)
        issue_more(is.diagnosis, sizeof is.diagnosis,
             "They were lost in bursts (longest %llu packets, %.0f ms of audio gone at once): "
             "congestion on a link, a Wi-Fi or radio drop-out, or a route change. Check "
             "interface drops and queueing (QoS/DSCP marking for voice) on that path.",
             (unsigned long long)s->longest_burst, (double)s->longest_burst * ptime_ms);
    else
        issue_more(is.diagnosis, sizeof is.diagnosis,
             "They were lost one or two at a time, scattered: a link with errors (duplex "
             "mismatch, bad cable, Wi-Fi) or a policer dropping above a rate. Check interface "
             "error counters and policing on that path.");
    if (s->rtcp.receiver_reports)
        issue_more(is.diagnosis, sizeof is.diagnosis,
             " The receiver's RTCP reports %d packets lost in all: %s.", s->rtcp.reported_lost,
             s->rtcp.reported_lost > s->lost ? "more than we saw, so the path after the "
                                               "capture point loses too"
                                             : "no more than we saw");
    issue_emit(e, &is);
}

void check_jitter(struct issue_engine *e, const struct rtp_stream *s)
{
    if (!s->clock_rate || s->events)
        return;
    enum issue_severity sev = issue_band(s->mean_jitter_ms, e->cfg.jitter_warn_ms, e->cfg.jitter_crit_ms);
    /* a low mean can hide bad stretches: count the seconds past the critical level. One
     * spike (a pause in the media, a clock jump) decays within a second or two of A.8's
     * 1/16 smoothing and is not a jitter problem; several seconds of it are. */
    uint32_t bad = 0;
    for (uint32_t i = 0; i < s->nsec; i++)
        bad += s->timeline[i].jitter_cms > e->cfg.jitter_crit_ms * 100;
    bool peak = sev == SEV_INFO && bad >= 3 && bad * 20 >= s->nsec;
    if (sev == SEV_INFO && !peak)
        return;
    struct issue is;
    char src[IP_ADDR_PORT_STRLEN], dst[IP_ADDR_PORT_STRLEN];
    issue_init(&is, ISSUE_HIGH_JITTER, peak ? SEV_WARNING : sev, s->first_time);
    stream_header(&is, s, src, dst);
    issue_ev_num(&is, "mean_jitter_ms", round(s->mean_jitter_ms * 1000) / 1000);
    issue_ev_num(&is, "max_jitter_ms", round(s->max_jitter_ms * 1000) / 1000);
    issue_ev_num(&is, "max_delta_ms", round(s->max_delta_ms * 1000) / 1000);
    issue_ev_num(&is, "seconds_above_critical", bad);
    issue_ev_num(&is, "adaptive_buffer_discarded", (double)s->jb[JB_ADAPTIVE].discarded);
    issue_say(is.summary, sizeof is.summary, "jitter %s %.1f ms (max %.1f ms) from %s to %s",
        peak ? "peaked; mean" : "mean", s->mean_jitter_ms, s->max_jitter_ms, src, dst);
    issue_say(is.diagnosis, sizeof is.diagnosis,
        "Packets from %s arrived unevenly (RFC 3550 interarrival jitter). A jitter buffer "
        "absorbs this only by adding delay, or discards late packets (here %llu by an adaptive "
        "buffer). Usual causes: congested links without voice priority (check DSCP EF "
        "marking and queueing), Wi-Fi, a busy host or VM sending the RTP, or a transcoder "
        "under load. Check the path from %s%s.",
        src, (unsigned long long)s->jb[JB_ADAPTIVE].discarded, src,
        peak ? "; the peaks suggest bursts of congestion rather than a steady problem" : "");
    issue_emit(e, &is);
}

void check_mos(struct issue_engine *e, const struct rtp_stream *s)
{
    if (s->mos < 0 || s->mos >= e->cfg.mos_warn || !s->emodel)
        return;
    const struct stream_jb_score *b = &s->jbs[JB_ADAPTIVE];
    /* the best the codec can do: no loss, and no delay beyond its own packet and look-ahead */
    struct emodel_params p;
    emodel_defaults(&p);
    p.ie = s->emodel->ie;
    p.bpl = s->emodel->bpl;
    p.ta = p.t = stream_ptime_ms(s) + s->emodel->lookahead_ms;
    p.tr = 2 * p.ta;
    double ceiling = emodel_mos(emodel_r(&p));
    double delay = stream_delay_ms(s);
    bool codec_bound = s->mos >= ceiling - 0.1;
    enum issue_severity sev = codec_bound ? SEV_INFO
                              : s->mos < e->cfg.mos_crit ? SEV_CRITICAL : SEV_WARNING;
    struct issue is;
    char src[IP_ADDR_PORT_STRLEN], dst[IP_ADDR_PORT_STRLEN];
    issue_init(&is, ISSUE_LOW_MOS, sev, s->first_time);
    stream_header(&is, s, src, dst);
    issue_ev_num(&is, "mos", round(s->mos * 100) / 100);
    issue_ev_num(&is, "r_factor", round(s->r_factor * 100) / 100);
    issue_ev_num(&is, "codec_best_mos", round(ceiling * 100) / 100);
    issue_ev_num(&is, "buffer_lost_pct", round(b->lost_pct * 1000) / 1000);
    issue_ev_num(&is, "burst_ratio", round(b->burst_ratio * 1000) / 1000);
    issue_ev_num(&is, "delay_ms", round(delay * 10) / 10);
    issue_say(is.summary, sizeof is.summary, "MOS %.2f (R %.1f) from %s to %s", s->mos, s->r_factor,
        src, dst);
    if (codec_bound)
        issue_say(is.diagnosis, sizeof is.diagnosis,
            "The codec %s itself caps the E-model score near %.2f (G.113 equipment impairment "
            "%.0f); the network added little. Use a better codec (G.711, G.722, Opus) if this "
            "quality is not enough.", s->codec, ceiling, s->emodel->ie);
    else if (delay > e->cfg.latency_warn_ms && b->lost_pct < e->cfg.loss_warn_pct)
        issue_say(is.diagnosis, sizeof is.diagnosis,
            "The E-model (ITU-T G.107) scores this stream %.2f, against %.2f that %s could "
            "reach, and little was lost (%.2f %%): the delay is to blame, about %.0f ms mouth "
            "to ear. See this stream's high_latency finding.",
            s->mos, ceiling, s->codec, b->lost_pct, delay);
    else
        issue_say(is.diagnosis, sizeof is.diagnosis,
            "The E-model (ITU-T G.107) scores this stream %.2f, against %.2f that %s could "
            "reach: %.2f %% of the audio was lost or came too late for a jitter buffer "
            "(burst ratio %.2f), with %.0f ms mouth-to-ear delay. See this stream's "
            "packet_loss and high_jitter findings for where it went wrong.",
            s->mos, ceiling, s->codec, b->lost_pct, b->burst_ratio, delay);
    issue_emit(e, &is);
}

void check_latency(struct issue_engine *e, const struct rtp_stream *s)
{
    if (!s->rtcp.rtt_n || !s->clock_rate)
        return;
    double d = stream_delay_ms(s);
    if (d <= e->cfg.latency_warn_ms)
        return;
    struct issue is;
    char src[IP_ADDR_PORT_STRLEN], dst[IP_ADDR_PORT_STRLEN];
    issue_init(&is, ISSUE_HIGH_LATENCY, issue_band(d, e->cfg.latency_warn_ms, e->cfg.latency_crit_ms),
               s->first_time);
    stream_header(&is, s, src, dst);
    issue_ev_num(&is, "one_way_ms", round(d * 10) / 10);
    issue_ev_num(&is, "rtt_ms", round(s->rtcp.rtt_ms * 1000) / 1000);
    issue_ev_num(&is, "buffer_ms", round(s->jbs[JB_ADAPTIVE].mean_delay_ms * 10) / 10);
    issue_say(is.summary, sizeof is.summary, "about %.0f ms mouth-to-ear delay from %s to %s", d, src, dst);
    issue_say(is.diagnosis, sizeof is.diagnosis,
        "Half the RTCP round trip (%.0f ms), the packet time, the codec's look-ahead and the "
        "jitter buffer add up to %.0f ms one way; past 150 ms (ITU-T G.114) people talk over "
        "each other. Check the route length (satellite, transcontinental hairpin through a "
        "far SBC) and oversized jitter buffers.", s->rtcp.rtt_ms / 2, d);
    issue_emit(e, &is);
}

void check_orphan(struct issue_engine *e, const struct rtp_stream *s)
{
    struct issue is;
    char src[IP_ADDR_PORT_STRLEN], dst[IP_ADDR_PORT_STRLEN];
    issue_init(&is, ISSUE_ORPHAN_MEDIA, SEV_INFO, s->first_time);
    stream_header(&is, s, src, dst);
    issue_frame(&is, s->last_frame);
    issue_ev_num(&is, "duration_s", (double)(s->last_time - s->first_time) / 1e9);
    issue_say(is.summary, sizeof is.summary, "RTP from %s to %s that no SDP announced", src, dst);
    issue_say(is.diagnosis, sizeof is.diagnosis,
        "No SDP seen in this capture named these addresses and ports. The signaling went "
        "another way (another interface, SIP over TLS, a port we do not decode), began before "
        "the capture did, or a NAT/SBC rewrote the media addresses. Capture the signaling of "
        "%s and %s, or check for calls whose SDP names nearby ports.", src, dst);
    issue_emit(e, &is);
}
