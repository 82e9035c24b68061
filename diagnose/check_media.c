/* The checks of a held call's audio against its streams: one-way and no audio, silence
 * during early media, private SDP addresses, media after the BYE, and calls the capture
 * left unfinished. */
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

bool issue_addr_private(const struct ip_addr *a)
{
    const uint8_t *b = a->b;
    if (a->family == 4)
        return b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) ||
               (b[0] == 192 && b[1] == 168) || (b[0] == 100 && (b[1] & 0xc0) == 64) ||
               (b[0] == 169 && b[1] == 254);
    return (b[0] & 0xfe) == 0xfc || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80);
}

/* Media of one direction of a call over a period. */
struct dir_media {
    uint64_t packets, streams;
    ptime_t covered;           /* summed spans of its streams inside the period */
    ptime_t first;             /* first packet inside the period, 0 none */
    uint64_t first_frame, last_frame;
};

static void dir_media(const struct held_call *c, const struct held_stream *ss, size_t n, int dir,
                      ptime_t from, ptime_t to, struct dir_media *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        const struct held_stream *s = &ss[i];
        if (held_dir(c, s) != dir || s->last < from || s->first > to)
            continue;
        out->streams++;
        out->packets += s->packets;
        out->covered += held_overlap(s->first, s->last, from, to);
        ptime_t f = s->first > from ? s->first : from;
        if (!out->first || f < out->first) {
            out->first = f;
            out->first_frame = s->first_frame;
        }
        out->last_frame = s->last_frame;
    }
}

static ptime_t held_time(const struct held_call *c, ptime_t from, ptime_t to)
{
    ptime_t t = 0;
    for (unsigned i = 0; i < c->nholds; i++)
        t += held_overlap(c->holds[i].start, c->holds[i].end ? c->holds[i].end : to, from, to);
    return t;
}

static void side_desc(const struct held_call *c, int side, char *buf, size_t n)
{
    const struct call_side *s = &c->side[side];
    char a[64];
    if (!s->neps) {
        snprintf(buf, n, "none");
        return;
    }
    snprintf(buf, n, "%s:%u", issue_ip(&c->eps[side][0].addr, a, sizeof a), c->eps[side][0].port);
}

void check_audio(struct issue_engine *e, const struct held_call *c,
                 const struct held_stream *ss, size_t n, ptime_t end)
{
    if (!c->answer_time || (!c->side[0].have_sdp && !c->side[1].have_sdp))
        return; /* no audio was negotiated that we saw */
    ptime_t to = c->end_time ? c->end_time : end;
    if (to <= c->answer_time)
        return;
    ptime_t span = to - c->answer_time;
    ptime_t held = held_time(c, c->answer_time, to);
    ptime_t judged = span > held ? span - held : 0;
    if ((double)judged / 1e9 < e->cfg.audio_min_s)
        return;
    uint8_t d0 = c->side[0].have_sdp ? c->side[0].dir : SDP_SENDRECV;
    uint8_t d1 = c->side[1].have_sdp ? c->side[1].dir : SDP_SENDRECV;
    bool want[3] = {false, held_promised(d0, d1), held_promised(d1, d0)};
    struct dir_media m[3];
    dir_media(c, ss, n, 1, c->answer_time, to, &m[1]);
    dir_media(c, ss, n, 2, c->answer_time, to, &m[2]);
    double cov[3] = {0, (double)m[1].covered / (double)judged, (double)m[2].covered / (double)judged};
    struct issue is;
    char caller_sdp[80], callee_sdp[80], a[64];
    side_desc(c, 0, caller_sdp, sizeof caller_sdp);
    side_desc(c, 1, callee_sdp, sizeof callee_sdp);
    if (want[1] && want[2] && !m[1].packets && !m[2].packets) {
        issue_init(&is, ISSUE_NO_AUDIO, SEV_CRITICAL, c->answer_time);
        is.call_seq = c->seq;
        issue_frame(&is, c->first_frame);
        issue_frame(&is, c->answer_frame);
        issue_frame(&is, c->side[0].sdp_frame);
        issue_frame(&is, c->side[1].sdp_frame);
        issue_ev_num(&is, "answered_s", (double)span / 1e9);
        issue_ev_str(&is, "caller_sdp", "%s", caller_sdp);
        issue_ev_str(&is, "callee_sdp", "%s", callee_sdp);
        issue_say(is.summary, sizeof is.summary, "answered for %.1f s, no RTP seen in either direction",
            (double)span / 1e9);
        issue_say(is.diagnosis, sizeof is.diagnosis,
            "The SDP promised audio both ways (caller %s, callee %s) but no RTP to or from those "
            "addresses passed the capture point. Either the media takes another path than the "
            "signaling (check that the capture sees the media network, or an SBC/media relay "
            "that anchors it), or a firewall blocks the RTP port range on both sides, or the "
            "media is encrypted in a way we do not recognise.",
            caller_sdp, callee_sdp);
        issue_emit(e, &is);
        return;
    }
    for (int dir = 1; dir <= 2; dir++) {
        int other = 3 - dir;
        if (!want[dir] || !m[other].packets)
            continue;
        bool none = m[dir].packets == 0;
        bool mostly = !none && cov[dir] < e->cfg.one_way_ratio && cov[other] >= 0.8;
        if (!none && !mostly)
            continue;
        int sender = dir == 1 ? 0 : 1; /* the side that should send this direction */
        const struct call_side *snd = &c->side[sender], *rcv = &c->side[1 - sender];
        const char *who = sender == 0 ? "caller" : "callee";
        const char *whom = sender == 0 ? "callee" : "caller";
        issue_init(&is, ISSUE_ONE_WAY_AUDIO, none ? SEV_CRITICAL : SEV_WARNING, c->answer_time);
        is.call_seq = c->seq;
        issue_frame(&is, c->answer_frame);
        issue_frame(&is, snd->sdp_frame);
        issue_frame(&is, rcv->sdp_frame);
        issue_frame(&is, m[other].first_frame);
        if (!none)
            issue_frame(&is, m[dir].first_frame);
        issue_ev_str(&is, "silent", "%s_to_%s", who, whom);
        issue_ev_num(&is, "answered_s", (double)span / 1e9);
        issue_ev_num(&is, "on_hold_s", (double)held / 1e9);
        issue_ev_num(&is, "packets_silent_direction", (double)m[dir].packets);
        issue_ev_num(&is, "packets_other_direction", (double)m[other].packets);
        issue_ev_num(&is, "silent_coverage_pct", round(cov[dir] * 1000) / 10);
        issue_ev_str(&is, "caller_sdp", "%s", caller_sdp);
        issue_ev_str(&is, "callee_sdp", "%s", callee_sdp);
        const struct call_media_ep *snd_ep = c->eps[sender], *rcv_ep = c->eps[1 - sender];
        bool snd_private = snd->neps && issue_addr_private(&snd_ep[0].addr) &&
                           !issue_addr_private(&snd->sig_addr);
        bool rcv_private = rcv->neps && issue_addr_private(&rcv_ep[0].addr) &&
                           !issue_addr_private(&rcv->sig_addr);
        issue_ev_str(&is, "silent_side_sdp_private", "%s", snd_private ? "yes" : "no");
        if (none)
            issue_say(is.summary, sizeof is.summary,
                "one-way audio: no RTP from the %s, the %s hears nothing (%.1f s answered)", who,
                whom, (double)judged / 1e9);
        else
            issue_say(is.summary, sizeof is.summary,
                "one-way audio: RTP from the %s covered only %.0f %% of the call", who,
                cov[dir] * 100);
        if (snd_private)
            issue_say(is.diagnosis, sizeof is.diagnosis,
                "The %s announced the private address %s while its signaling came from the "
                "public %s: it is behind NAT and nobody fixed its SDP. Its RTP either leaves "
                "from another address/port than announced or is dropped on the way. Check the "
                "NAT/SIP ALG (turn the ALG off, or enable STUN/ICE on the device) and whether "
                "the proxy or SBC should anchor the media (comedia/latching).",
                who, issue_ip(&snd_ep[0].addr, a, sizeof a),
                issue_ip(&snd->sig_addr, (char[64]){0}, 64));
        else if (rcv_private)
            issue_say(is.diagnosis, sizeof is.diagnosis,
                "The %s announced the private address %s while its signaling came from a public "
                "one: the %s's RTP is sent to an address that does not route to it, so it "
                "never reaches the %s. Fix the NAT traversal of the %s (ALG off, STUN/ICE, or "
                "media anchored on an SBC).",
                whom, issue_ip(&rcv_ep[0].addr, a, sizeof a), who, whom, whom);
        else if (none)
            issue_say(is.diagnosis, sizeof is.diagnosis,
                "The %s received RTP (%llu packets) but sent none that passed the capture "
                "point, although its SDP (%s) promised to send. Likely: a firewall blocks its "
                "outbound RTP, it sends to another address than the %s announced (%s), the "
                "device is muted with silence suppression and no comfort noise, or its media "
                "leaves on another path. Check the %s's network and the route to %s.",
                who, (unsigned long long)m[other].packets, sender == 0 ? caller_sdp : callee_sdp,
                whom, sender == 0 ? callee_sdp : caller_sdp, who,
                sender == 0 ? callee_sdp : caller_sdp);
        else
            issue_say(is.diagnosis, sizeof is.diagnosis,
                "RTP from the %s stopped early or came only in short bursts, while the other "
                "direction flowed for most of the call. Likely: the %s's media path changed "
                "mid-call (a re-INVITE to a new address, a NAT binding that timed out), or the "
                "device muted with silence suppression. Check the streams' timelines for when "
                "it stopped.",
                who, who);
        issue_emit(e, &is);
    }
}

static bool leg_saw(const struct held_call *c, uint8_t flag)
{
    for (unsigned i = 1; i <= c->nlegs && i < CALL_MAX_LEGS; i++)
        if (c->leg_prov[i] & flag)
            return true;
    return false;
}

void check_ringback(struct issue_engine *e, const struct held_call *c,
                    const struct held_stream *ss, size_t n, ptime_t end)
{
    if (!c->early_time)
        return;
    ptime_t until = c->answer_time ? c->answer_time : c->end_time ? c->end_time : end;
    if (until <= c->early_time)
        return;
    struct dir_media m;
    dir_media(c, ss, n, 2, c->early_time, until, &m);
    ptime_t silent_until = m.packets ? m.first : until;
    double gap = issue_ms(c->early_time, silent_until);
    if (gap < e->cfg.ringback_silence_ms)
        return;
    struct issue is;
    issue_init(&is, ISSUE_RINGBACK_SILENCE, SEV_WARNING, c->early_time);
    is.call_seq = c->seq;
    issue_frame(&is, c->first_frame);
    issue_frame(&is, c->early_frame);
    issue_frame(&is, c->answer_frame);
    issue_frame(&is, m.first_frame);
    char callee_sdp[80];
    side_desc(c, 1, callee_sdp, sizeof callee_sdp);
    issue_ev_num(&is, "early_status", c->early_status);
    issue_ev_num(&is, "silence_ms", gap);
    issue_ev_num(&is, "early_rtp_packets", (double)m.packets);
    issue_ev_str(&is, "outcome", "%s", c->answer_time ? "answered" : "not answered");
    issue_ev_str(&is, "callee_sdp", "%s", callee_sdp);
    bool rewrite = c->nlegs && leg_saw(c, LEG_SAW_180) && !leg_saw(c, LEG_SAW_18X_SDP);
    issue_ev_str(&is, "b2bua_turned_180_into_183", "%s", rewrite ? "yes" : "no");
    issue_say(is.summary, sizeof is.summary,
        "%d with SDP, then %.1f s with no RTP to the caller%s: the caller heard silence, not "
        "ringback", c->early_status, gap / 1000, m.packets ? " before early media began" : "");
    issue_say(is.diagnosis, sizeof is.diagnosis,
        "A %d with SDP tells the caller's phone to stop its own ringback and play the early "
        "media that the far end will send (RFC 3960); none reached the caller for %.1f s, so "
        "the caller heard dead air and may hang up thinking the call failed.",
        c->early_status, gap / 1000);
    if (rewrite)
        issue_more(is.diagnosis, sizeof is.diagnosis,
             " The far leg of this call only sent 180 Ringing without SDP: the B2BUA in the "
             "middle turned that 180 into a %d with SDP and then sent no ringback tone itself. "
             "Configure it to pass 180 through, or to generate ringback when it sends 183.",
             c->early_status);
    else
        issue_more(is.diagnosis, sizeof is.diagnosis,
             " Check the device that sent the %d (the callee side, %s): it should send 180 "
             "without SDP if it has no tone to play, or actually stream the ringback/announcement; "
             "also check that early RTP is not blocked towards the caller (firewall or NAT "
             "pinhole not yet open before the answer).",
             c->early_status, callee_sdp);
    issue_emit(e, &is);
}

void check_private(struct issue_engine *e, const struct held_call *c,
                   const struct held_stream *ss, size_t n)
{
    for (int side = 0; side < 2; side++) {
        const struct call_side *s = &c->side[side];
        const char *who = side == 0 ? "caller" : "callee";
        const struct call_media_ep *eps = c->eps[side];
        bool priv =
            s->neps && issue_addr_private(&eps[0].addr) && !issue_addr_private(&s->sig_addr);
        /* media this side sent from another address than it announced */
        const struct held_stream *moved = NULL;
        for (size_t i = 0; i < n && s->neps; i++) {
            int d = held_dir(c, &ss[i]);
            if (d == (side == 0 ? 1 : 2) && ss[i].dst_ann && !ss[i].src_ann &&
                !held_ep_match(c, side, &ss[i].src, ss[i].sport)) {
                moved = &ss[i];
                break;
            }
        }
        if (!priv && !moved)
            continue;
        struct issue is;
        issue_init(&is, ISSUE_SDP_PRIVATE_ADDRESS, priv && !moved ? SEV_WARNING : SEV_INFO,
                   s->sdp_time);
        is.call_seq = c->seq;
        issue_frame(&is, s->sdp_frame);
        char a[64], b[64], m[IP_ADDR_PORT_STRLEN];
        issue_ev_str(&is, "side", "%s", who);
        issue_ev_str(&is, "sdp_address", "%s:%u", issue_ip(&eps[0].addr, a, sizeof a), eps[0].port);
        issue_ev_str(&is, "signaling_source", "%s", issue_ip(&s->sig_addr, b, sizeof b));
        if (moved) {
            issue_frame(&is, moved->first_frame);
            issue_ev_str(&is, "media_source", "%s", ip_addr_port_str(&moved->src, moved->sport, m, sizeof m));
        }
        if (priv)
            issue_say(is.summary, sizeof is.summary, "the %s's SDP announces private %s; its signaling "
                "comes from public %s", who, a, b);
        else
            issue_say(is.summary, sizeof is.summary, "the %s's RTP comes from %s, not from the %s:%u "
                "its SDP announced", who, m, a, eps[0].port);
        if (moved)
            issue_say(is.diagnosis, sizeof is.diagnosis,
                "The %s is behind NAT: its media really leaves from %s. Here the far end "
                "answered to that address (symmetric RTP / latching), so audio can work; if "
                "it breaks, it will be one-way towards the %s. Fixing the SDP at the source "
                "(STUN/ICE, an SBC with NAT traversal, no SIP ALG) removes the guesswork.",
                who, m, who);
        else
            issue_say(is.diagnosis, sizeof is.diagnosis,
                "The %s sent its private address %s in SDP from the public address %s: a NAT "
                "is in between and nothing rewrote the SDP. Unless a media relay latches onto "
                "the real source, the far end sends RTP to an unroutable address and the %s "
                "hears nothing. Check for a SIP ALG on the NAT (turn it off), enable STUN/ICE "
                "or NAT traversal on the proxy/SBC.",
                who, a, b, who);
        issue_emit(e, &is);
    }
}

void check_after_bye(struct issue_engine *e, const struct held_call *c,
                     const struct held_stream *ss, size_t n)
{
    if (!c->bye || !c->end_time)
        return;
    const struct held_stream *w = NULL;
    for (size_t i = 0; i < n; i++)
        if (ss[i].last > c->end_time && (!w || ss[i].last > w->last))
            w = &ss[i];
    if (!w || issue_ms(c->end_time, w->last) < e->cfg.rtp_after_bye_ms)
        return;
    double after = issue_ms(c->end_time, w->last);
    struct issue is;
    issue_init(&is, ISSUE_RTP_AFTER_BYE, SEV_WARNING, c->end_time);
    is.call_seq = c->seq;
    is.stream_seq = w->seq;
    issue_frame(&is, c->end_frame);
    issue_frame(&is, w->last_frame);
    char src[IP_ADDR_PORT_STRLEN], dst[IP_ADDR_PORT_STRLEN];
    ip_addr_port_str(&w->src, w->sport, src, sizeof src);
    ip_addr_port_str(&w->dst, w->dport, dst, sizeof dst);
    issue_ev_num(&is, "after_bye_ms", after);
    issue_ev_str(&is, "media_from", "%s", src);
    issue_ev_str(&is, "media_to", "%s", dst);
    issue_say(is.summary, sizeof is.summary, "RTP from %s kept flowing %.1f s after the BYE", src,
        after / 1000);
    issue_say(is.diagnosis, sizeof is.diagnosis,
        "The dialog ended with the BYE in frame %llu, but %s kept sending media to %s. The "
        "sender did not tear its session down: it never got the BYE (check that the BYE and "
        "its 200 OK crossed every hop), or a media server/SBC leg was not released (a leaked "
        "session that keeps ports and licences, and can bill the call longer).",
        (unsigned long long)c->end_frame, src, dst);
    issue_emit(e, &is);
}

void check_unfinished(struct issue_engine *e, const struct held_call *c,
                      const struct held_stream *ss, size_t n, ptime_t end, bool media)
{
    if (c->state != CALL_UNFINISHED)
        return;
    ptime_t last = c->last_time;
    bool had_media = false;
    for (size_t i = 0; i < n; i++) {
        had_media = true;
        if (ss[i].last > last)
            last = ss[i].last;
    }
    double quiet_s = (double)(end - last) / 1e9;
    /* a zombie is a call whose media stopped long before the end with no BYE, or whose
     * session timer ran out; without media to look at, a quiet call may simply be a long
     * one still talking */
    bool cut = !c->session_expired && (quiet_s <= e->cfg.capture_end_s || !media || !had_media);
    struct issue is;
    issue_init(&is, ISSUE_UNFINISHED_CALL, cut ? SEV_INFO : SEV_WARNING, c->answer_time);
    is.call_seq = c->seq;
    issue_frame(&is, c->answer_frame);
    issue_frame(&is, c->last_frame);
    issue_ev_num(&is, "answered_s", (double)(end - c->answer_time) / 1e9);
    issue_ev_num(&is, "quiet_before_end_s", quiet_s);
    issue_ev_str(&is, "session_timer_expired", "%s", c->session_expired ? "yes" : "no");
    if (cut && quiet_s <= e->cfg.capture_end_s) {
        issue_say(is.summary, sizeof is.summary, "still in progress when the capture ended");
        issue_say(is.diagnosis, sizeof is.diagnosis,
            "Signaling or media was active up to %.1f s before the end of the capture: the "
            "capture stopped during the call, nothing is wrong with it. Capture longer to see "
            "how it ends.", quiet_s);
    } else if (cut) {
        issue_say(is.summary, sizeof is.summary, "answered, no BYE before the capture ended");
        issue_say(is.diagnosis, sizeof is.diagnosis,
            "No BYE was seen, and the capture holds no media of this call to tell a call still "
            "in progress from a zombie whose BYE was lost. Capture the media too, or longer, to "
            "see how it ends.");
    } else if (c->session_expired) {
        issue_say(is.summary, sizeof is.summary, "zombie call: the session timer expired without a "
            "refresh or a BYE");
        issue_say(is.diagnosis, sizeof is.diagnosis,
            "The 2xx set a session timer (RFC 4028) and no re-INVITE/UPDATE refreshed it, and "
            "no BYE came: one side lost the call without telling the other (crash, network "
            "loss, a BYE dropped by NAT/firewall). Check the refresher's logs and whether a "
            "BYE was sent on another path.");
    } else {
        issue_say(is.summary, sizeof is.summary, "zombie call: answered, no BYE, silent for %.0f s "
            "before the capture ended", quiet_s);
        issue_say(is.diagnosis, sizeof is.diagnosis,
            "The call was answered and its media stopped %.0f s before the end of the capture, "
            "but no BYE was seen. Either the BYE took a path the capture does not see, or it "
            "was lost (NAT binding expired, firewall) and the call stays up on a server that "
            "may bill it and hold its resources. Check the endpoints' view of the call and "
            "enable session timers (RFC 4028) to clean such calls up.", quiet_s);
    }
    issue_emit(e, &is);
}
