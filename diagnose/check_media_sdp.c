/* The checks where a held call's media confirms or contradicts its SDP: payload types the
 * answer did not list, media in a direction a hold silenced, RTCP apart from an rtcp-mux
 * answer. The verdict follows the media; the evidence shows both (docs/design.md). Each
 * check is a verdict (the frames and figures) and the words that explain it. */
#include "checks.h"

#include <stdio.h>
#include <string.h>

#include "builder.h"
#include "decode/sdp.h"

/* Which side's SDP was the offer: the caller's, unless the callee's came first (a late
 * offer: an INVITE without SDP, the offer in the 200, the answer in the ACK). */
static int offer_side(const struct held_call *c)
{
    const struct call_side *s = c->side;
    return s[0].have_sdp && s[1].have_sdp && s[1].sdp_time < s[0].sdp_time;
}

static const char *dir_name(int dir)
{
    return dir == 1 ? "caller_to_callee" : "callee_to_caller";
}

/* The payload types a side's SDP listed: whether pt is one, and whether it names a voice
 * codec (not telephone-event, RFC 4733, nor comfort noise, RFC 3389). */
static bool side_has_pt(const struct call_side *s, uint8_t pt, bool *audio)
{
    for (unsigned i = 0; s->have_sdp && i < s->npts; i++)
        if (s->pts[i] == pt) {
            *audio = s->pts_audio >> i & 1;
            return true;
        }
    return false;
}

/* Payload types a direction's RTP carried, as a JSON list (the first 8: RTP with more is
 * not a call's audio). buf: 40 bytes at least. */
static void seen_json(const uint64_t seen[2], char *buf, size_t n)
{
    snprintf(buf, n, "[");
    unsigned listed = 0;
    for (unsigned pt = 0; pt < 128 && listed < 8; pt++)
        if (seen[pt >> 6] >> (pt & 63) & 1)
            issue_more(buf, n, "%s%u", listed++ ? "," : "", pt);
    issue_more(buf, n, "]");
}

/* ---- codec_mismatch, with the media to say how bad ---- */

struct codecs_media_finding {
    bool flowed;           /* both ways, in the offer's types, with one of its audio codecs */
    bool media;            /* the capture held RTP to judge by */
    int offer_by;          /* 0 caller, 1 callee */
    const char *offer, *answer; /* the codec lists, borrowed from the held call */
    char rtp[2][64];       /* the payload types each direction carried, JSON */
    char offer_pts[112];   /* the offer's payload types, JSON */
};

/* The words of an answer that shares no codec with its offer (RFC 3264 §6.1 forbids it),
 * whether the call was rejected for it (check_signaling.c) or its media is judged here. */
void say_codecs_disjoint(struct issue *is, const char *offer, const char *answer)
{
    issue_say(is->summary, sizeof is->summary, "offer [%s] and answer [%s] share no codec", offer,
              answer);
    issue_say(is->diagnosis, sizeof is->diagnosis,
              "The answer names only codecs the offer did not list, which RFC 3264 forbids: the "
              "answerer (or an SBC rewriting SDP) is misconfigured, and the two sides will not "
              "decode each other's audio. Check the codec policy of the answering device and of "
              "any SBC/B2BUA that rewrites SDP.");
}

/* Offer and answer share no codec (RFC 3264 §6.1 forbids the answer that), and the RTP
 * says what came of it. When both directions flowed, each only in payload types the offer
 * listed, with one of its audio codecs among them, the media proves the two ends decoded
 * each other in the offer's codec: the answer's SDP is wrong, the call was not. Anything
 * else (no RTP, one direction, a type the offer did not list) is the mismatch it looks. */
static bool codecs_media_verdict(const struct held_call *c, const struct held_stream *ss,
                                 size_t n, bool media, struct issue *is,
                                 struct codecs_media_finding *f)
{
    if (!c->codec_disjoint)
        return false;
    int off = offer_side(c);
    const struct call_side *o = &c->side[off], *a = &c->side[1 - off];
    uint64_t seen[3][2] = {{0}};
    for (size_t i = 0; i < n; i++) {
        int d = held_dir(c, &ss[i]);
        if (d) {
            seen[d][0] |= ss[i].pt_seen[0];
            seen[d][1] |= ss[i].pt_seen[1];
        }
    }
    bool flowed = media;
    for (int d = 1; d <= 2 && flowed; d++) {
        bool any = false, audio_pt = false;
        for (unsigned pt = 0; pt < 128 && flowed; pt++) {
            if (!(seen[d][pt >> 6] >> (pt & 63) & 1))
                continue;
            bool audio = false;
            any = true;
            flowed = side_has_pt(o, (uint8_t)pt, &audio);
            audio_pt |= audio;
        }
        flowed = flowed && any && audio_pt;
    }
    char pts[112];
    seen_json(seen[1], f->rtp[0], sizeof f->rtp[0]);
    seen_json(seen[2], f->rtp[1], sizeof f->rtp[1]);
    issue_init(is, ISSUE_CODEC_MISMATCH, flowed ? SEV_WARNING : SEV_CRITICAL,
               a->sdp_time ? a->sdp_time : c->invite_time);
    is->call_seq = c->seq;
    issue_frame(is, c->first_frame);
    issue_frame(is, o->sdp_frame);
    issue_frame(is, a->sdp_frame);
    issue_ev_str(is, "caller_codecs", "%s", c->codecs[0]);
    issue_ev_str(is, "callee_codecs", "%s", c->codecs[1]);
    check_pts_json(o, f->offer_pts, sizeof f->offer_pts);
    issue_ev_json(is, "offer_payload_types", "%s", f->offer_pts);
    check_pts_json(a, pts, sizeof pts);
    issue_ev_json(is, "answer_payload_types", "%s", pts);
    issue_ev_str(is, "offer_by", "%s", off ? "callee" : "caller");
    if (media)
        issue_ev_json(is, "rtp_payload_types", "{\"caller_to_callee\":%s,\"callee_to_caller\":%s}",
                      f->rtp[0], f->rtp[1]);
    issue_ev_str(is, "media_confirms_offer", "%s", flowed ? "yes" : "no");
    if (flowed)
        for (size_t i = 0; i < n; i++)
            if (held_dir(c, &ss[i])) {
                issue_frame(is, ss[i].first_frame);
                break;
            }
    f->flowed = flowed;
    f->media = media;
    f->offer_by = off;
    f->offer = c->codecs[off];
    f->answer = c->codecs[1 - off];
    return true;
}

static void codecs_media_words(struct issue *is, const struct codecs_media_finding *f)
{
    if (f->flowed) {
        issue_say(is->summary, sizeof is->summary,
                  "answer [%s] names no codec of the offer [%s], yet RTP flowed both ways in the "
                  "offer's payload types (%s from the caller, %s from the callee)",
                  f->answer, f->offer, f->rtp[0], f->rtp[1]);
        issue_say(is->diagnosis, sizeof is->diagnosis,
                  "The answer's SDP is wrong: it lists only codecs the offer did not (RFC 3264 "
                  "§6.1 forbids that), but the media flowed in the offer's codec in both "
                  "directions, so the two ends did decode each other and the audio of this call "
                  "worked. The %s (or an SBC/B2BUA rewriting its SDP) answers with a canned or "
                  "misconfigured codec list that does not describe what it sends; test tools "
                  "answering a fixed SDP do this. Fix the answer's codec list: an endpoint or SBC "
                  "that trusts the SDP (transcoding, recording, lawful intercept, a stricter "
                  "peer) would decode this call wrongly.",
                  f->offer_by ? "caller" : "callee");
        return;
    }
    say_codecs_disjoint(is, f->offer, f->answer);
    if (f->media)
        issue_more(is->diagnosis, sizeof is->diagnosis,
                   " The RTP seen does not prove otherwise: payload types %s from the caller, %s "
                   "from the callee, against the offer's %s.",
                   f->rtp[0], f->rtp[1], f->offer_pts);
}

void check_codecs_media(struct issue_engine *e, const struct held_call *c,
                        const struct held_stream *ss, size_t n, bool media)
{
    struct issue is;
    struct codecs_media_finding f;
    if (!codecs_media_verdict(c, ss, n, media, &is, &f))
        return;
    codecs_media_words(&is, &f);
    issue_emit(e, &is);
}

/* ---- media_during_hold ---- */

/* The RTP of a direction of the call inside [from, to]: seconds it covered and packets in
 * them (spread evenly over a run, so to within a second's worth). */
struct dir_flow {
    double packets;
    ptime_t covered;
    uint64_t frame;            /* the first packet of a stream that flowed in it */
};

static void dir_flow(const struct held_call *c, const struct held_stream *ss, size_t n, int dir,
                     ptime_t from, ptime_t to, struct dir_flow *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        const struct held_stream *s = &ss[i];
        if (held_dir(c, s) != dir || s->last < from || s->first > to)
            continue;
        for (unsigned r = 0; r < s->nruns; r++) {
            const struct held_run *u = &s->runs[r];
            ptime_t o = held_overlap(u->from, u->to, from, to);
            if (!o)
                continue;
            out->covered += o;
            out->packets += (double)u->packets * (double)o / (double)(u->to - u->from);
            if (!out->frame)
                out->frame = s->first_frame;
        }
    }
}

#define HOLD_SETTLE (1 * PTIME_SEC) /* after the answer, for the media to stop */

static const char *party(enum call_party p)
{
    return p == PARTY_CALLER ? "caller" : "callee";
}

struct hold_finding {
    enum call_party by;    /* who put the call on hold */
    const char *hdir, *odir; /* the SDP directions of the holder and the other side */
    bool inactive;         /* a side said inactive */
    unsigned long long frame; /* the hold's offer */
    bool answered;         /* the hold's answer was seen */
    double secs;           /* the hold's length */
    bool may[3], against[3]; /* by direction (1 caller to callee, 2 back): allowed, contradicted */
    struct dir_flow flow[3];
};

/* RTP during a hold that the hold's SDP ruled out (RFC 3264 §8.4): the held party sending
 * to a holder that said sendonly (it answered recvonly), or anybody sending when a side
 * said inactive. Music on hold from a holder that said sendonly is what sendonly is for. */
static bool hold_verdict(const struct issue_config *cfg, const struct held_call *c,
                         const struct held_stream *ss, size_t n, ptime_t end, unsigned i,
                         struct issue *is, struct hold_finding *f)
{
    const struct call_hold *h = &c->holds[i];
    ptime_t to = h->end ? h->end : c->end_time ? c->end_time : end;
    ptime_t from = (h->answered ? h->answered : h->start) + HOLD_SETTLE;
    if (to <= from || (double)(to - from) / 1e9 < cfg->hold_media_s)
        return false;
    /* caller to callee (1) and back (2), as RFC 3264 §6.1 reads the two directions */
    f->may[0] = f->against[0] = false;
    f->may[1] = held_promised(h->dir[0], h->dir[1]);
    f->may[2] = held_promised(h->dir[1], h->dir[0]);
    for (int d = 1; d <= 2; d++) {
        dir_flow(c, ss, n, d, from, to, &f->flow[d]);
        f->against[d] = !f->may[d] && (double)f->flow[d].covered / 1e9 >= cfg->hold_media_s;
    }
    if (!f->against[1] && !f->against[2])
        return false;
    f->by = h->by;
    f->hdir = sdp_direction_name(h->dir[h->by == PARTY_CALLER ? 0 : 1]);
    f->odir = sdp_direction_name(h->dir[h->by == PARTY_CALLER ? 1 : 0]);
    f->inactive = h->dir[0] == SDP_INACTIVE || h->dir[1] == SDP_INACTIVE;
    f->frame = h->frame;
    f->answered = h->answered != 0;
    f->secs = (double)(to - h->start) / 1e9;
    issue_init(is, ISSUE_MEDIA_DURING_HOLD, SEV_WARNING, h->start);
    is->call_seq = c->seq;
    issue_frame(is, h->frame);
    issue_frame(is, h->answer_frame);
    for (int d = 1; d <= 2; d++)
        if (f->against[d])
            issue_frame(is, f->flow[d].frame);
    issue_ev_str(is, "held_by", "%s", party(h->by));
    issue_ev_str(is, "caller_direction", "%s", sdp_direction_name(h->dir[0]));
    issue_ev_str(is, "callee_direction", "%s", sdp_direction_name(h->dir[1]));
    issue_ev_str(is, "answer_seen", "%s", h->answered ? "yes" : "no");
    issue_ev_num(is, "hold_start", ptime_to_epoch_s(h->start));
    issue_ev_num(is, "hold_end", ptime_to_epoch_s(to));
    issue_ev_num(is, "judged_from", ptime_to_epoch_s(from));
    for (int d = 1; d <= 2; d++)
        issue_ev_json(is, d == 1 ? "caller_to_callee" : "callee_to_caller",
                      "{\"packets\":%.0f,\"seconds\":%.1f,\"allowed\":%s}", f->flow[d].packets,
                      (double)f->flow[d].covered / 1e9, f->may[d] ? "true" : "false");
    issue_ev_str(is, "contradicted", "%s",
                 f->against[1] && f->against[2] ? "both" : dir_name(f->against[1] ? 1 : 2));
    return true;
}

static void hold_words(struct issue *is, const struct hold_finding *f)
{
    int holder = f->by == PARTY_CALLER ? 1 : 2; /* the direction the holder sends in */
    int held = 3 - holder;
    const char *who = party(f->by), *other = party(f->by == PARTY_CALLER ? PARTY_CALLEE
                                                                         : PARTY_CALLER);
    int d = f->against[held] ? held : holder; /* the direction named, when one */
    if (f->against[1] && f->against[2])
        issue_say(is->summary, sizeof is->summary,
                  "on hold (%s %s, %s %s) for %.1f s, yet RTP flowed both ways during it", who,
                  f->hdir, other, f->odir, f->secs);
    else
        issue_say(is->summary, sizeof is->summary,
                  "on hold (%s %s, %s %s) for %.1f s, yet the %s sent RTP for %.1f s of it "
                  "(about %.0f packets)",
                  who, f->hdir, other, f->odir, f->secs, d == held ? other : who,
                  (double)f->flow[d].covered / 1e9, f->flow[d].packets);
    issue_say(is->diagnosis, sizeof is->diagnosis,
              "The %s put the call on hold (frame %llu: %s) and the media went on against its "
              "SDP (RFC 3264 §8.4).",
              who, f->frame, f->hdir);
    if (f->against[held])
        issue_more(is->diagnosis, sizeof is->diagnosis,
                   " The %s%s kept sending: its phone ignores the direction attribute, or a "
                   "B2BUA/SBC on the way answered the re-INVITE on its behalf and the phone "
                   "behind it never learnt of the hold (that SDP is not what the phone does). The "
                   "%s may still hear the %s, who thinks the call is on hold. Check whether a PBX "
                   "or SBC handles hold itself without passing it on, and the %s's firmware.",
                   other, f->answered ? " answered the hold, yet" : "", who, other, other);
    if (f->against[holder])
        issue_more(is->diagnosis, sizeof is->diagnosis,
                   " The %s itself kept sending although the SDP said %s: the %s may hear the "
                   "%s's microphone while on hold (a privacy leak), or its music on hold is sent "
                   "under a direction that forbids it (music on hold needs sendonly).",
                   who, f->inactive ? "inactive" : f->hdir, other, who);
    else if (f->may[holder])
        issue_more(is->diagnosis, sizeof is->diagnosis,
                   " RTP from the %s during the hold is music on hold, which %s allows.", who,
                   f->hdir);
}

void check_hold_media(struct issue_engine *e, const struct held_call *c,
                      const struct held_stream *ss, size_t n, ptime_t end)
{
    for (unsigned i = 0; i < c->nholds; i++) {
        struct issue is;
        struct hold_finding f;
        if (!hold_verdict(&e->cfg, c, ss, n, end, i, &is, &f))
            continue;
        hold_words(&is, &f);
        issue_emit(e, &is);
    }
}

/* ---- rtcp_not_muxed ---- */

static void ep_str(const struct ip_addr *a, uint16_t port, char *buf)
{
    ip_addr_port_str(a, port, buf, IP_ADDR_PORT_STRLEN);
}

/* Which side sent RTCP from src:sport: the one whose SDP put its RTP (or a=rtcp) there or
 * one port below; -1 neither (NAT). */
static int rtcp_sender(const struct held_call *c, const struct ip_addr *src, uint16_t sport)
{
    for (int side = 0; side < 2; side++)
        for (unsigned q = 0; q < c->side[side].neps; q++) {
            const struct call_media_ep *ep = &c->eps[side][q];
            if (ip_addr_eq(&ep->addr, src) &&
                (ep->port == sport || ep->port + 1 == sport || c->side[side].rtcp_port == sport))
                return side;
        }
    return -1;
}

struct mux_finding {
    char rtcp_src[IP_ADDR_PORT_STRLEN], rtcp_dst[IP_ADDR_PORT_STRLEN];
    char rtp_src[IP_ADDR_PORT_STRLEN], rtp_dst[IP_ADDR_PORT_STRLEN];
    bool sent[3];          /* RTCP apart came from the caller, the callee, an address neither named */
    unsigned long long apart, muxed; /* RTCP packets on other ports, on the RTP ports */
    bool offer_mux;        /* the offer had a=rtcp-mux too */
    int offer_by;          /* 0 caller, 1 callee */
};

/* An answer with a=rtcp-mux (RFC 5761 §5.1.1) commits both ends to RTCP on the RTP ports;
 * RTCP seen on other ports (RTP + 1, or a=rtcp) after it says an end did not multiplex.
 * Before the answer the offerer may not know yet (§5.1.3): RTCP apart then is fine. */
static bool mux_verdict(const struct held_call *c, const struct held_stream *ss, size_t n,
                        struct issue *is, struct mux_finding *f)
{
    int off = offer_side(c);
    const struct call_side *o = &c->side[off], *a = &c->side[1 - off];
    if (!a->have_sdp || !a->rtcp_mux)
        return false;
    uint64_t muxed = 0, apart = 0;
    const struct held_stream *w = NULL;
    bool *sent = f->sent;
    sent[0] = sent[1] = sent[2] = false;
    for (size_t i = 0; i < n; i++) {
        muxed += ss[i].rtcp_muxed;
        apart += ss[i].rtcp_apart;
        if (!ss[i].rtcp_apart || ss[i].rtcp_apart_last <= a->sdp_time)
            continue;
        int by = rtcp_sender(c, &ss[i].rtcp_src, ss[i].rtcp_sport);
        sent[by < 0 ? 2 : by] = true;
        if (!w || ss[i].rtcp_apart_frame < w->rtcp_apart_frame)
            w = &ss[i];
    }
    if (!w)
        return false;
    ep_str(&w->rtcp_src, w->rtcp_sport, f->rtcp_src);
    ep_str(&w->rtcp_dst, w->rtcp_dport, f->rtcp_dst);
    ep_str(&w->src, w->sport, f->rtp_src);
    ep_str(&w->dst, w->dport, f->rtp_dst);
    issue_init(is, ISSUE_RTCP_NOT_MUXED, SEV_WARNING, a->sdp_time);
    is->call_seq = c->seq;
    is->stream_seq = w->seq;
    issue_frame(is, o->sdp_frame);
    issue_frame(is, a->sdp_frame);
    issue_frame(is, w->rtcp_apart_frame);
    issue_ev_str(is, "offer_rtcp_mux", "%s", o->rtcp_mux ? "yes" : "no");
    issue_ev_str(is, "answer_rtcp_mux", "%s", "yes");
    issue_ev_str(is, "rtp", "%s -> %s", f->rtp_src, f->rtp_dst);
    issue_ev_str(is, "rtcp", "%s -> %s", f->rtcp_src, f->rtcp_dst);
    issue_ev_str(is, "rtcp_sent_by", "%s",
                 sent[0] && sent[1] ? "both"
                 : sent[0]          ? "caller"
                 : sent[1]          ? "callee"
                                    : "unknown");
    issue_ev_num(is, "rtcp_packets_apart", (double)apart);
    issue_ev_num(is, "rtcp_packets_muxed", (double)muxed);
    f->apart = apart;
    f->muxed = muxed;
    f->offer_mux = o->rtcp_mux;
    f->offer_by = off;
    return true;
}

static void mux_words(struct issue *is, const struct mux_finding *f)
{
    const bool *sent = f->sent;
    const char *who = sent[0] && sent[1] ? "the caller and the callee"
                      : sent[0]          ? "the caller"
                      : sent[1]          ? "the callee"
                                         : "an end (behind NAT: not the announced address)";
    issue_say(is->summary, sizeof is->summary,
              "the answer said a=rtcp-mux, yet RTCP went %s -> %s, not over the RTP ports (%s -> "
              "%s)",
              f->rtcp_src, f->rtcp_dst, f->rtp_src, f->rtp_dst);
    issue_say(is->diagnosis, sizeof is->diagnosis,
              "With a=rtcp-mux in the answer both ends agreed to send RTCP on their RTP ports "
              "(RFC 5761), and stop listening on the others; %s sent %llu RTCP packet%s on "
              "separate ports all the same (%llu on the RTP ports): %s not multiplex. The far end "
              "may drop those reports, and a NAT or firewall that opened only the RTP ports does, "
              "so loss, jitter and round-trip feedback are lost, and an end that watches RTCP to "
              "tell media is alive may hang up.",
              who, f->apart, f->apart == 1 ? "" : "s", f->muxed,
              sent[0] && sent[1] ? "they did" : "it did");
    if (!f->offer_mux)
        issue_more(is->diagnosis, sizeof is->diagnosis,
                   " The offer did not offer a=rtcp-mux, so the answer must not have it (RFC 5761 "
                   "§5.1.1): the %s's SDP is wrong, not its media.",
                   f->offer_by ? "caller" : "callee");
    else
        issue_more(is->diagnosis, sizeof is->diagnosis,
                   " Check that the device supports RTCP multiplexing before it offers or accepts "
                   "a=rtcp-mux, and whether an SBC added or kept the attribute in SDP it rewrote "
                   "without muxing the media it relays.");
}

void check_rtcp_mux(struct issue_engine *e, const struct held_call *c,
                    const struct held_stream *ss, size_t n)
{
    struct issue is;
    struct mux_finding f;
    if (!mux_verdict(c, ss, n, &is, &f))
        return;
    mux_words(&is, &f);
    issue_emit(e, &is);
}
