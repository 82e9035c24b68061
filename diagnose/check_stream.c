/* The checks of one stream, judged when it ends: packet loss, jitter, MOS, one-way delay,
 * and media no SDP announced. Each check is a verdict (whether the stream shows it, how
 * bad, and the figures that prove it) and the words that explain that verdict. */
#include "checks.h"

#include <math.h>
#include <stdio.h>

#include "builder.h"
#include "metrics/emodel.h"

/* What the words of every stream finding name: the stream's two ends. */
struct stream_ends {
    char src[IP_ADDR_PORT_STRLEN], dst[IP_ADDR_PORT_STRLEN];
};

static void stream_header(struct issue *is, const struct rtp_stream *s, struct stream_ends *w)
{
    is->call_seq = s->call_seq;
    is->stream_seq = s->seq;
    issue_frame(is, s->first_frame);
    ip_addr_port_str(&s->src, s->sport, w->src, sizeof w->src);
    ip_addr_port_str(&s->dst, s->dport, w->dst, sizeof w->dst);
    issue_ev_str(is, "src", "%s", w->src);
    issue_ev_str(is, "dst", "%s", w->dst);
    issue_ev_str(is, "ssrc", "0x%08x", s->ssrc);
    issue_ev_str(is, "codec", "%s", s->codec[0] ? s->codec : "");
    issue_ev_num(is, "packets", (double)s->packets);
}

/* ---- packet_loss ---- */

struct loss_finding {
    struct stream_ends w;
    double pct, ptime_ms;
    long long lost, expected, reported_lost;
    unsigned long long longest_burst;
    bool rtcp;             /* the receiver reported its loss */
};

/* RFC 3550 A.3: the fraction lost is lost over expected. */
static bool loss_verdict(const struct issue_config *cfg, const struct rtp_stream *s,
                         struct issue *is, struct loss_finding *f)
{
    double pct = s->expected > 0 ? 100.0 * (double)s->lost / (double)s->expected : 0;
    if (pct <= cfg->loss_warn_pct)
        return false;
    issue_init(is, ISSUE_PACKET_LOSS, issue_band(pct, cfg->loss_warn_pct, cfg->loss_crit_pct),
               s->first_time);
    stream_header(is, s, &f->w);
    issue_ev_num(is, "lost", (double)s->lost);
    issue_ev_num(is, "expected", (double)s->expected);
    issue_ev_num(is, "lost_pct", round(pct * 1000) / 1000);
    issue_ev_num(is, "loss_bursts", (double)s->loss_bursts);
    issue_ev_num(is, "longest_loss_burst", (double)s->longest_burst);
    f->pct = pct;
    f->ptime_ms = stream_ptime_ms(s);
    f->lost = s->lost;
    f->expected = s->expected;
    f->longest_burst = s->longest_burst;
    f->rtcp = s->rtcp.receiver_reports > 0;
    f->reported_lost = s->rtcp.reported_lost;
    return true;
}

static void loss_words(struct issue *is, const struct loss_finding *f)
{
    issue_say(is->summary, sizeof is->summary, "%.2f %% of RTP lost from %s to %s (%lld of %lld)",
              f->pct, f->w.src, f->w.dst, f->lost, f->expected);
    issue_say(is->diagnosis, sizeof is->diagnosis,
              "Packets went missing between the sender %s and the capture point. ", f->w.src);
    if (f->longest_burst >= 5)
        issue_more(is->diagnosis, sizeof is->diagnosis,
                   "They were lost in bursts (longest %llu packets, %.0f ms of audio gone at "
                   "once): congestion on a link, a Wi-Fi or radio drop-out, or a route change. "
                   "Check interface drops and queueing (QoS/DSCP marking for voice) on that path.",
                   f->longest_burst, (double)f->longest_burst * f->ptime_ms);
    else
        issue_more(is->diagnosis, sizeof is->diagnosis,
                   "They were lost one or two at a time, scattered: a link with errors (duplex "
                   "mismatch, bad cable, Wi-Fi) or a policer dropping above a rate. Check "
                   "interface error counters and policing on that path.");
    if (f->rtcp)
        issue_more(is->diagnosis, sizeof is->diagnosis,
                   " The receiver's RTCP reports %lld packets lost in all: %s.", f->reported_lost,
                   f->reported_lost > f->lost ? "more than we saw, so the path after the "
                                                "capture point loses too"
                                              : "no more than we saw");
}

void check_loss(struct issue_engine *e, const struct rtp_stream *s)
{
    struct issue is;
    struct loss_finding f;
    if (!loss_verdict(&e->cfg, s, &is, &f))
        return;
    loss_words(&is, &f);
    issue_emit(e, &is);
}

/* ---- high_jitter ---- */

struct jitter_finding {
    struct stream_ends w;
    double mean_ms, max_ms;
    unsigned long long discarded; /* by the adaptive buffer */
    bool peak;             /* a low mean, but seconds past the critical level */
};

static bool jitter_verdict(const struct issue_config *cfg, const struct rtp_stream *s,
                           struct issue *is, struct jitter_finding *f)
{
    if (!s->clock_rate || s->events)
        return false;
    enum issue_severity sev = issue_band(s->mean_jitter_ms, cfg->jitter_warn_ms, cfg->jitter_crit_ms);
    /* a low mean can hide bad stretches: count the seconds past the critical level. One
     * spike (a pause in the media, a clock jump) decays within a second or two of A.8's
     * 1/16 smoothing and is not a jitter problem; several seconds of it are. */
    uint32_t bad = 0;
    for (uint32_t i = 0; i < s->nsec; i++)
        bad += s->timeline[i].jitter_cms > cfg->jitter_crit_ms * 100;
    bool peak = sev == SEV_INFO && bad >= 3 && bad * 20 >= s->nsec;
    if (sev == SEV_INFO && !peak)
        return false;
    issue_init(is, ISSUE_HIGH_JITTER, peak ? SEV_WARNING : sev, s->first_time);
    stream_header(is, s, &f->w);
    issue_ev_num(is, "mean_jitter_ms", round(s->mean_jitter_ms * 1000) / 1000);
    issue_ev_num(is, "max_jitter_ms", round(s->max_jitter_ms * 1000) / 1000);
    issue_ev_num(is, "max_delta_ms", round(s->max_delta_ms * 1000) / 1000);
    issue_ev_num(is, "seconds_above_critical", bad);
    issue_ev_num(is, "adaptive_buffer_discarded", (double)s->jb[JB_ADAPTIVE].discarded);
    f->mean_ms = s->mean_jitter_ms;
    f->max_ms = s->max_jitter_ms;
    f->discarded = s->jb[JB_ADAPTIVE].discarded;
    f->peak = peak;
    return true;
}

static void jitter_words(struct issue *is, const struct jitter_finding *f)
{
    issue_say(is->summary, sizeof is->summary, "jitter %s %.1f ms (max %.1f ms) from %s to %s",
              f->peak ? "peaked; mean" : "mean", f->mean_ms, f->max_ms, f->w.src, f->w.dst);
    issue_say(is->diagnosis, sizeof is->diagnosis,
              "Packets from %s arrived unevenly (RFC 3550 interarrival jitter). A jitter buffer "
              "absorbs this only by adding delay, or discards late packets (here %llu by an "
              "adaptive buffer). Usual causes: congested links without voice priority (check "
              "DSCP EF marking and queueing), Wi-Fi, a busy host or VM sending the RTP, or a "
              "transcoder under load. Check the path from %s%s.",
              f->w.src, f->discarded, f->w.src,
              f->peak ? "; the peaks suggest bursts of congestion rather than a steady problem"
                      : "");
}

void check_jitter(struct issue_engine *e, const struct rtp_stream *s)
{
    struct issue is;
    struct jitter_finding f;
    if (!jitter_verdict(&e->cfg, s, &is, &f))
        return;
    jitter_words(&is, &f);
    issue_emit(e, &is);
}

/* ---- low_mos ---- */

struct mos_finding {
    struct stream_ends w;
    double mos, r, ceiling, delay_ms, lost_pct, burst_ratio, ie;
    char codec[16];
    enum { MOS_CODEC, MOS_DELAY, MOS_LOSS } cause;
};

static bool mos_verdict(const struct issue_config *cfg, const struct rtp_stream *s,
                        struct issue *is, struct mos_finding *f)
{
    if (s->mos < 0 || s->mos >= cfg->mos_warn || !s->emodel)
        return false;
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
                              : s->mos < cfg->mos_crit ? SEV_CRITICAL : SEV_WARNING;
    issue_init(is, ISSUE_LOW_MOS, sev, s->first_time);
    stream_header(is, s, &f->w);
    issue_ev_num(is, "mos", round(s->mos * 100) / 100);
    issue_ev_num(is, "r_factor", round(s->r_factor * 100) / 100);
    issue_ev_num(is, "codec_best_mos", round(ceiling * 100) / 100);
    issue_ev_num(is, "buffer_lost_pct", round(b->lost_pct * 1000) / 1000);
    issue_ev_num(is, "burst_ratio", round(b->burst_ratio * 1000) / 1000);
    issue_ev_num(is, "delay_ms", round(delay * 10) / 10);
    f->mos = s->mos;
    f->r = s->r_factor;
    f->ceiling = ceiling;
    f->delay_ms = delay;
    f->lost_pct = b->lost_pct;
    f->burst_ratio = b->burst_ratio;
    f->ie = s->emodel->ie;
    snprintf(f->codec, sizeof f->codec, "%s", s->codec);
    f->cause = codec_bound ? MOS_CODEC
               : delay > cfg->latency_warn_ms && b->lost_pct < cfg->loss_warn_pct ? MOS_DELAY
                                                                                  : MOS_LOSS;
    return true;
}

static void mos_words(struct issue *is, const struct mos_finding *f)
{
    issue_say(is->summary, sizeof is->summary, "MOS %.2f (R %.1f) from %s to %s", f->mos, f->r,
              f->w.src, f->w.dst);
    if (f->cause == MOS_CODEC)
        issue_say(is->diagnosis, sizeof is->diagnosis,
                  "The codec %s itself caps the E-model score near %.2f (G.113 equipment "
                  "impairment %.0f); the network added little. Use a better codec (G.711, "
                  "G.722, Opus) if this quality is not enough.",
                  f->codec, f->ceiling, f->ie);
    else if (f->cause == MOS_DELAY)
        issue_say(is->diagnosis, sizeof is->diagnosis,
                  "The E-model (ITU-T G.107) scores this stream %.2f, against %.2f that %s could "
                  "reach, and little was lost (%.2f %%): the delay is to blame, about %.0f ms "
                  "mouth to ear. See this stream's high_latency finding.",
                  f->mos, f->ceiling, f->codec, f->lost_pct, f->delay_ms);
    else
        issue_say(is->diagnosis, sizeof is->diagnosis,
                  "The E-model (ITU-T G.107) scores this stream %.2f, against %.2f that %s could "
                  "reach: %.2f %% of the audio was lost or came too late for a jitter buffer "
                  "(burst ratio %.2f), with %.0f ms mouth-to-ear delay. See this stream's "
                  "packet_loss and high_jitter findings for where it went wrong.",
                  f->mos, f->ceiling, f->codec, f->lost_pct, f->burst_ratio, f->delay_ms);
}

void check_mos(struct issue_engine *e, const struct rtp_stream *s)
{
    struct issue is;
    struct mos_finding f;
    if (!mos_verdict(&e->cfg, s, &is, &f))
        return;
    mos_words(&is, &f);
    issue_emit(e, &is);
}

/* ---- high_latency ---- */

struct latency_finding {
    struct stream_ends w;
    double one_way_ms, rtt_ms;
};

static bool latency_verdict(const struct issue_config *cfg, const struct rtp_stream *s,
                            struct issue *is, struct latency_finding *f)
{
    if (!s->rtcp.rtt_n || !s->clock_rate)
        return false;
    double d = stream_delay_ms(s);
    if (d <= cfg->latency_warn_ms)
        return false;
    issue_init(is, ISSUE_HIGH_LATENCY, issue_band(d, cfg->latency_warn_ms, cfg->latency_crit_ms),
               s->first_time);
    stream_header(is, s, &f->w);
    issue_ev_num(is, "one_way_ms", round(d * 10) / 10);
    issue_ev_num(is, "rtt_ms", round(s->rtcp.rtt_ms * 1000) / 1000);
    issue_ev_num(is, "buffer_ms", round(s->jbs[JB_ADAPTIVE].mean_delay_ms * 10) / 10);
    f->one_way_ms = d;
    f->rtt_ms = s->rtcp.rtt_ms;
    return true;
}

static void latency_words(struct issue *is, const struct latency_finding *f)
{
    issue_say(is->summary, sizeof is->summary, "about %.0f ms mouth-to-ear delay from %s to %s",
              f->one_way_ms, f->w.src, f->w.dst);
    issue_say(is->diagnosis, sizeof is->diagnosis,
              "Half the RTCP round trip (%.0f ms), the packet time, the codec's look-ahead and "
              "the jitter buffer add up to %.0f ms one way; past 150 ms (ITU-T G.114) people "
              "talk over each other. Check the route length (satellite, transcontinental "
              "hairpin through a far SBC) and oversized jitter buffers.",
              f->rtt_ms / 2, f->one_way_ms);
}

void check_latency(struct issue_engine *e, const struct rtp_stream *s)
{
    struct issue is;
    struct latency_finding f;
    if (!latency_verdict(&e->cfg, s, &is, &f))
        return;
    latency_words(&is, &f);
    issue_emit(e, &is);
}

/* ---- orphan_media: every unannounced stream the table reported (nDPI said RTP) ---- */

static void orphan_verdict(const struct rtp_stream *s, struct issue *is, struct stream_ends *w)
{
    issue_init(is, ISSUE_ORPHAN_MEDIA, SEV_INFO, s->first_time);
    stream_header(is, s, w);
    issue_frame(is, s->last_frame);
    issue_ev_num(is, "duration_s", (double)(s->last_time - s->first_time) / 1e9);
}

static void orphan_words(struct issue *is, const struct stream_ends *w)
{
    issue_say(is->summary, sizeof is->summary, "RTP from %s to %s that no SDP announced", w->src,
              w->dst);
    issue_say(is->diagnosis, sizeof is->diagnosis,
              "No SDP seen in this capture named these addresses and ports. The signaling went "
              "another way (another interface, SIP over TLS, a port we do not decode), began "
              "before the capture did, or a NAT/SBC rewrote the media addresses. Capture the "
              "signaling of %s and %s, or check for calls whose SDP names nearby ports.",
              w->src, w->dst);
}

void check_orphan(struct issue_engine *e, const struct rtp_stream *s)
{
    struct issue is;
    struct stream_ends w;
    orphan_verdict(s, &is, &w);
    orphan_words(&is, &w);
    issue_emit(e, &is);
}
