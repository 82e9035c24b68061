/* The checks of a held call's audio against its streams: one-way and no audio, silence
 * during early media, private SDP addresses, media after the BYE, and calls the capture
 * left unfinished. Each check is a verdict (whether the call shows it, how bad, the frames
 * and figures that prove it) and the words that explain that verdict. */
#include "checks.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "builder.h"
#include "decode/sdp.h"

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

/* ---- no_audio, one_way_audio ---- */

/* What an answered call's audio shows, direction by direction (1 towards the callee, 2
 * towards the caller), over the time it was answered and not on hold. */
struct audio_facts {
    ptime_t span, held, judged; /* answered, on hold within it, the rest */
    bool want[3];          /* the SDP promised media that way */
    struct dir_media m[3];
    double cov[3];         /* the share of the judged time its streams covered */
    char sdp[2][80];       /* what each side's SDP announced */
};

/* False: the call is not judged (no answer, no SDP seen, too short once holds are out). */
static bool audio_facts(const struct issue_config *cfg, const struct held_call *c,
                        const struct held_stream *ss, size_t n, ptime_t end, struct audio_facts *a)
{
    if (!c->answer_time || (!c->side[0].have_sdp && !c->side[1].have_sdp))
        return false; /* no audio was negotiated that we saw */
    ptime_t to = c->end_time ? c->end_time : end;
    if (to <= c->answer_time)
        return false;
    a->span = to - c->answer_time;
    a->held = held_time(c, c->answer_time, to);
    a->judged = a->span > a->held ? a->span - a->held : 0;
    if ((double)a->judged / 1e9 < cfg->audio_min_s)
        return false;
    uint8_t d0 = c->side[0].have_sdp ? c->side[0].dir : SDP_SENDRECV;
    uint8_t d1 = c->side[1].have_sdp ? c->side[1].dir : SDP_SENDRECV;
    a->want[0] = false;
    a->want[1] = held_promised(d0, d1);
    a->want[2] = held_promised(d1, d0);
    memset(&a->m[0], 0, sizeof a->m[0]);
    dir_media(c, ss, n, 1, c->answer_time, to, &a->m[1]);
    dir_media(c, ss, n, 2, c->answer_time, to, &a->m[2]);
    a->cov[0] = 0;
    a->cov[1] = (double)a->m[1].covered / (double)a->judged;
    a->cov[2] = (double)a->m[2].covered / (double)a->judged;
    side_desc(c, 0, a->sdp[0], sizeof a->sdp[0]);
    side_desc(c, 1, a->sdp[1], sizeof a->sdp[1]);
    return true;
}

/* Audio promised both ways and none seen either way. */
static bool no_audio_verdict(const struct held_call *c, const struct audio_facts *a,
                             struct issue *is)
{
    if (!a->want[1] || !a->want[2] || a->m[1].packets || a->m[2].packets)
        return false;
    issue_init(is, ISSUE_NO_AUDIO, SEV_CRITICAL, c->answer_time);
    is->call_seq = c->seq;
    issue_frame(is, c->first_frame);
    issue_frame(is, c->answer_frame);
    issue_frame(is, c->side[0].sdp_frame);
    issue_frame(is, c->side[1].sdp_frame);
    issue_ev_num(is, "answered_s", (double)a->span / 1e9);
    issue_ev_str(is, "caller_sdp", "%s", a->sdp[0]);
    issue_ev_str(is, "callee_sdp", "%s", a->sdp[1]);
    return true;
}

static void no_audio_words(struct issue *is, const struct audio_facts *a)
{
    issue_say(is->summary, sizeof is->summary, "answered for %.1f s, no RTP seen in either direction",
              (double)a->span / 1e9);
    issue_say(is->diagnosis, sizeof is->diagnosis,
              "The SDP promised audio both ways (caller %s, callee %s) but no RTP to or from "
              "those addresses passed the capture point. Either the media takes another path "
              "than the signaling (check that the capture sees the media network, or an "
              "SBC/media relay that anchors it), or a firewall blocks the RTP port range on both "
              "sides, or the media is encrypted in a way we do not recognise.",
              a->sdp[0], a->sdp[1]);
}

struct one_way_finding {
    int sender;            /* the side that should have sent: 0 caller, 1 callee */
    bool none;             /* nothing came that way; else it covered too little */
    double judged_s, cov;
    unsigned long long other_packets;
    bool snd_private, rcv_private; /* a side's SDP private while its signaling is public */
    char snd_addr[64], snd_sig[64], rcv_addr[64];
};

/* The direction dir (1, 2) silent, or mostly so, while the other flowed. */
static bool one_way_verdict(const struct issue_config *cfg, const struct held_call *c,
                            const struct audio_facts *a, int dir, struct issue *is,
                            struct one_way_finding *f)
{
    int other = 3 - dir;
    if (!a->want[dir] || !a->m[other].packets)
        return false;
    bool none = a->m[dir].packets == 0;
    bool mostly = !none && a->cov[dir] < cfg->one_way_ratio && a->cov[other] >= 0.8;
    if (!none && !mostly)
        return false;
    int sender = dir == 1 ? 0 : 1;
    const struct call_side *snd = &c->side[sender], *rcv = &c->side[1 - sender];
    const char *who = sender == 0 ? "caller" : "callee";
    const char *whom = sender == 0 ? "callee" : "caller";
    issue_init(is, ISSUE_ONE_WAY_AUDIO, none ? SEV_CRITICAL : SEV_WARNING, c->answer_time);
    is->call_seq = c->seq;
    issue_frame(is, c->answer_frame);
    issue_frame(is, snd->sdp_frame);
    issue_frame(is, rcv->sdp_frame);
    issue_frame(is, a->m[other].first_frame);
    if (!none)
        issue_frame(is, a->m[dir].first_frame);
    issue_ev_str(is, "silent", "%s_to_%s", who, whom);
    issue_ev_num(is, "answered_s", (double)a->span / 1e9);
    issue_ev_num(is, "on_hold_s", (double)a->held / 1e9);
    issue_ev_num(is, "packets_silent_direction", (double)a->m[dir].packets);
    issue_ev_num(is, "packets_other_direction", (double)a->m[other].packets);
    issue_ev_num(is, "silent_coverage_pct", round(a->cov[dir] * 1000) / 10);
    issue_ev_str(is, "caller_sdp", "%s", a->sdp[0]);
    issue_ev_str(is, "callee_sdp", "%s", a->sdp[1]);
    const struct call_media_ep *snd_ep = c->eps[sender], *rcv_ep = c->eps[1 - sender];
    f->snd_private = snd->neps && issue_addr_private(&snd_ep[0].addr) &&
                     !issue_addr_private(&snd->sig_addr);
    f->rcv_private = rcv->neps && issue_addr_private(&rcv_ep[0].addr) &&
                     !issue_addr_private(&rcv->sig_addr);
    issue_ev_str(is, "silent_side_sdp_private", "%s", f->snd_private ? "yes" : "no");
    f->sender = sender;
    f->none = none;
    f->judged_s = (double)a->judged / 1e9;
    f->cov = a->cov[dir];
    f->other_packets = a->m[other].packets;
    f->snd_addr[0] = f->snd_sig[0] = f->rcv_addr[0] = 0;
    if (f->snd_private) {
        issue_ip(&snd_ep[0].addr, f->snd_addr, sizeof f->snd_addr);
        issue_ip(&snd->sig_addr, f->snd_sig, sizeof f->snd_sig);
    } else if (f->rcv_private) {
        issue_ip(&rcv_ep[0].addr, f->rcv_addr, sizeof f->rcv_addr);
    }
    return true;
}

static void one_way_words(struct issue *is, const struct one_way_finding *f,
                          const struct audio_facts *a)
{
    const char *who = f->sender == 0 ? "caller" : "callee";
    const char *whom = f->sender == 0 ? "callee" : "caller";
    const char *snd_sdp = a->sdp[f->sender], *rcv_sdp = a->sdp[1 - f->sender];
    if (f->none)
        issue_say(is->summary, sizeof is->summary,
                  "one-way audio: no RTP from the %s, the %s hears nothing (%.1f s answered)", who,
                  whom, f->judged_s);
    else
        issue_say(is->summary, sizeof is->summary,
                  "one-way audio: RTP from the %s covered only %.0f %% of the call", who,
                  f->cov * 100);
    if (f->snd_private)
        issue_say(is->diagnosis, sizeof is->diagnosis,
                  "The %s announced the private address %s while its signaling came from the "
                  "public %s: it is behind NAT and nobody fixed its SDP. Its RTP either leaves "
                  "from another address/port than announced or is dropped on the way. Check the "
                  "NAT/SIP ALG (turn the ALG off, or enable STUN/ICE on the device) and whether "
                  "the proxy or SBC should anchor the media (comedia/latching).",
                  who, f->snd_addr, f->snd_sig);
    else if (f->rcv_private)
        issue_say(is->diagnosis, sizeof is->diagnosis,
                  "The %s announced the private address %s while its signaling came from a "
                  "public one: the %s's RTP is sent to an address that does not route to it, so "
                  "it never reaches the %s. Fix the NAT traversal of the %s (ALG off, STUN/ICE, "
                  "or media anchored on an SBC).",
                  whom, f->rcv_addr, who, whom, whom);
    else if (f->none)
        issue_say(is->diagnosis, sizeof is->diagnosis,
                  "The %s received RTP (%llu packets) but sent none that passed the capture "
                  "point, although its SDP (%s) promised to send. Likely: a firewall blocks its "
                  "outbound RTP, it sends to another address than the %s announced (%s), the "
                  "device is muted with silence suppression and no comfort noise, or its media "
                  "leaves on another path. Check the %s's network and the route to %s.",
                  who, f->other_packets, snd_sdp, whom, rcv_sdp, who, rcv_sdp);
    else
        issue_say(is->diagnosis, sizeof is->diagnosis,
                  "RTP from the %s stopped early or came only in short bursts, while the other "
                  "direction flowed for most of the call. Likely: the %s's media path changed "
                  "mid-call (a re-INVITE to a new address, a NAT binding that timed out), or the "
                  "device muted with silence suppression. Check the streams' timelines for when "
                  "it stopped.",
                  who, who);
}

void check_audio(struct issue_engine *e, const struct held_call *c, const struct held_stream *ss,
                 size_t n, ptime_t end)
{
    struct audio_facts a;
    if (!audio_facts(&e->cfg, c, ss, n, end, &a))
        return;
    struct issue is;
    if (no_audio_verdict(c, &a, &is)) {
        no_audio_words(&is, &a);
        issue_emit(e, &is);
        return;
    }
    /* RTP both ways that carried no sound at all is one finding, not two one-way ones */
    if (a.want[1] && a.want[2] &&
        check_heard_silent_call(e, c, ss, n, c->end_time ? c->end_time : end))
        return;
    for (int dir = 1; dir <= 2; dir++) {
        struct one_way_finding f;
        if (!one_way_verdict(&e->cfg, c, &a, dir, &is, &f)) {
            /* RTP both ways: the payload may still be silence one way (issue 24) */
            if (a.want[1] && a.want[2])
                check_heard_one_way(e, c, ss, n, dir, c->end_time ? c->end_time : end);
            continue;
        }
        one_way_words(&is, &f, &a);
        issue_emit(e, &is);
    }
}

/* ---- ringback_silence: early media offered, none came to the caller ---- */

static bool leg_saw(const struct held_call *c, uint8_t flag)
{
    for (unsigned i = 1; i <= c->nlegs && i < CALL_MAX_LEGS; i++)
        if (c->leg_prov[i] & flag)
            return true;
    return false;
}

struct ringback_finding {
    int early_status;
    double gap_ms;         /* from the 18x with SDP to the first RTP, or to its end */
    bool began;            /* early media came, late */
    bool rewrite;          /* a B2BUA turned a far 180 into a 183 with SDP */
    char callee_sdp[80];
};

static bool ringback_verdict(const struct issue_config *cfg, const struct held_call *c,
                             const struct held_stream *ss, size_t n, ptime_t end,
                             struct issue *is, struct ringback_finding *f)
{
    if (!c->early_time)
        return false;
    ptime_t until = c->answer_time ? c->answer_time : c->end_time ? c->end_time : end;
    if (until <= c->early_time)
        return false;
    struct dir_media m;
    dir_media(c, ss, n, 2, c->early_time, until, &m);
    ptime_t silent_until = m.packets ? m.first : until;
    double gap = issue_ms(c->early_time, silent_until);
    if (gap < cfg->ringback_silence_ms)
        return false;
    issue_init(is, ISSUE_RINGBACK_SILENCE, SEV_WARNING, c->early_time);
    is->call_seq = c->seq;
    issue_frame(is, c->first_frame);
    issue_frame(is, c->early_frame);
    issue_frame(is, c->answer_frame);
    issue_frame(is, m.first_frame);
    side_desc(c, 1, f->callee_sdp, sizeof f->callee_sdp);
    issue_ev_num(is, "early_status", c->early_status);
    issue_ev_num(is, "silence_ms", gap);
    issue_ev_num(is, "early_rtp_packets", (double)m.packets);
    issue_ev_str(is, "outcome", "%s", c->answer_time ? "answered" : "not answered");
    issue_ev_str(is, "callee_sdp", "%s", f->callee_sdp);
    f->rewrite = c->nlegs && leg_saw(c, LEG_SAW_180) && !leg_saw(c, LEG_SAW_18X_SDP);
    issue_ev_str(is, "b2bua_turned_180_into_183", "%s", f->rewrite ? "yes" : "no");
    f->early_status = c->early_status;
    f->gap_ms = gap;
    f->began = m.packets > 0;
    return true;
}

static void ringback_words(struct issue *is, const struct ringback_finding *f)
{
    issue_say(is->summary, sizeof is->summary,
              "%d with SDP, then %.1f s with no RTP to the caller%s: the caller heard silence, "
              "not ringback",
              f->early_status, f->gap_ms / 1000, f->began ? " before early media began" : "");
    issue_say(is->diagnosis, sizeof is->diagnosis,
              "A %d with SDP tells the caller's phone to stop its own ringback and play the early "
              "media that the far end will send (RFC 3960); none reached the caller for %.1f s, "
              "so the caller heard dead air and may hang up thinking the call failed.",
              f->early_status, f->gap_ms / 1000);
    if (f->rewrite)
        issue_more(is->diagnosis, sizeof is->diagnosis,
                   " The far leg of this call only sent 180 Ringing without SDP: the B2BUA in the "
                   "middle turned that 180 into a %d with SDP and then sent no ringback tone "
                   "itself. Configure it to pass 180 through, or to generate ringback when it "
                   "sends 183.",
                   f->early_status);
    else
        issue_more(is->diagnosis, sizeof is->diagnosis,
                   " Check the device that sent the %d (the callee side, %s): it should send 180 "
                   "without SDP if it has no tone to play, or actually stream the "
                   "ringback/announcement; also check that early RTP is not blocked towards the "
                   "caller (firewall or NAT pinhole not yet open before the answer).",
                   f->early_status, f->callee_sdp);
}

void check_ringback(struct issue_engine *e, const struct held_call *c,
                    const struct held_stream *ss, size_t n, ptime_t end)
{
    struct issue is;
    struct ringback_finding f;
    if (!ringback_verdict(&e->cfg, c, ss, n, end, &is, &f)) {
        /* early RTP came in time: what it carried (issue 24) */
        ptime_t until = c->answer_time ? c->answer_time : c->end_time ? c->end_time : end;
        if (c->early_time && until > c->early_time) check_heard_ringback(e, c, ss, n, until);
        return;
    }
    ringback_words(&is, &f);
    issue_emit(e, &is);
}

/* ---- sdp_private_address ---- */

struct private_finding {
    const char *who;       /* "caller", "callee" */
    bool priv;             /* its SDP private while its signaling is public */
    bool moved;            /* its RTP came from another address than it announced */
    char sdp_addr[64], sig_addr[64], media_src[IP_ADDR_PORT_STRLEN];
    unsigned sdp_port;
};

static bool private_verdict(const struct held_call *c, const struct held_stream *ss, size_t n,
                            int side, struct issue *is, struct private_finding *f)
{
    const struct call_side *s = &c->side[side];
    const struct call_media_ep *eps = c->eps[side];
    bool priv = s->neps && issue_addr_private(&eps[0].addr) && !issue_addr_private(&s->sig_addr);
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
        return false;
    issue_init(is, ISSUE_SDP_PRIVATE_ADDRESS, priv && !moved ? SEV_WARNING : SEV_INFO, s->sdp_time);
    is->call_seq = c->seq;
    issue_frame(is, s->sdp_frame);
    f->who = side == 0 ? "caller" : "callee";
    f->priv = priv;
    f->moved = moved != NULL;
    f->sdp_port = eps[0].port;
    issue_ev_str(is, "side", "%s", f->who);
    issue_ev_str(is, "sdp_address", "%s:%u", issue_ip(&eps[0].addr, f->sdp_addr, sizeof f->sdp_addr),
                 eps[0].port);
    issue_ev_str(is, "signaling_source", "%s", issue_ip(&s->sig_addr, f->sig_addr, sizeof f->sig_addr));
    if (moved) {
        issue_frame(is, moved->first_frame);
        issue_ev_str(is, "media_source", "%s",
                     ip_addr_port_str(&moved->src, moved->sport, f->media_src, sizeof f->media_src));
    }
    return true;
}

static void private_words(struct issue *is, const struct private_finding *f)
{
    const char *who = f->who;
    if (f->priv)
        issue_say(is->summary, sizeof is->summary,
                  "the %s's SDP announces private %s; its signaling comes from public %s", who,
                  f->sdp_addr, f->sig_addr);
    else
        issue_say(is->summary, sizeof is->summary,
                  "the %s's RTP comes from %s, not from the %s:%u its SDP announced", who,
                  f->media_src, f->sdp_addr, f->sdp_port);
    if (f->moved)
        issue_say(is->diagnosis, sizeof is->diagnosis,
                  "The %s is behind NAT: its media really leaves from %s. Here the far end "
                  "answered to that address (symmetric RTP / latching), so audio can work; if it "
                  "breaks, it will be one-way towards the %s. Fixing the SDP at the source "
                  "(STUN/ICE, an SBC with NAT traversal, no SIP ALG) removes the guesswork.",
                  who, f->media_src, who);
    else
        issue_say(is->diagnosis, sizeof is->diagnosis,
                  "The %s sent its private address %s in SDP from the public address %s: a NAT "
                  "is in between and nothing rewrote the SDP. Unless a media relay latches onto "
                  "the real source, the far end sends RTP to an unroutable address and the %s "
                  "hears nothing. Check for a SIP ALG on the NAT (turn it off), enable STUN/ICE "
                  "or NAT traversal on the proxy/SBC.",
                  who, f->sdp_addr, f->sig_addr, who);
}

void check_private(struct issue_engine *e, const struct held_call *c,
                   const struct held_stream *ss, size_t n)
{
    for (int side = 0; side < 2; side++) {
        struct issue is;
        struct private_finding f;
        if (!private_verdict(c, ss, n, side, &is, &f))
            continue;
        private_words(&is, &f);
        issue_emit(e, &is);
    }
}

/* ---- rtp_after_bye ---- */

struct after_bye_finding {
    double after_ms;
    unsigned long long bye_frame;
    char src[IP_ADDR_PORT_STRLEN], dst[IP_ADDR_PORT_STRLEN];
};

/* The stream that went on longest after the BYE. */
static bool after_bye_verdict(const struct issue_config *cfg, const struct held_call *c,
                              const struct held_stream *ss, size_t n, struct issue *is,
                              struct after_bye_finding *f)
{
    if (!c->bye || !c->end_time)
        return false;
    const struct held_stream *w = NULL;
    for (size_t i = 0; i < n; i++)
        if (ss[i].last > c->end_time && (!w || ss[i].last > w->last))
            w = &ss[i];
    if (!w || issue_ms(c->end_time, w->last) < cfg->rtp_after_bye_ms)
        return false;
    f->after_ms = issue_ms(c->end_time, w->last);
    issue_init(is, ISSUE_RTP_AFTER_BYE, SEV_WARNING, c->end_time);
    is->call_seq = c->seq;
    is->stream_seq = w->seq;
    issue_frame(is, c->end_frame);
    issue_frame(is, w->last_frame);
    ip_addr_port_str(&w->src, w->sport, f->src, sizeof f->src);
    ip_addr_port_str(&w->dst, w->dport, f->dst, sizeof f->dst);
    issue_ev_num(is, "after_bye_ms", f->after_ms);
    issue_ev_str(is, "media_from", "%s", f->src);
    issue_ev_str(is, "media_to", "%s", f->dst);
    f->bye_frame = c->end_frame;
    return true;
}

static void after_bye_words(struct issue *is, const struct after_bye_finding *f)
{
    issue_say(is->summary, sizeof is->summary, "RTP from %s kept flowing %.1f s after the BYE",
              f->src, f->after_ms / 1000);
    issue_say(is->diagnosis, sizeof is->diagnosis,
              "The dialog ended with the BYE in frame %llu, but %s kept sending media to %s. The "
              "sender did not tear its session down: it never got the BYE (check that the BYE "
              "and its 200 OK crossed every hop), or a media server/SBC leg was not released (a "
              "leaked session that keeps ports and licences, and can bill the call longer).",
              f->bye_frame, f->src, f->dst);
}

void check_after_bye(struct issue_engine *e, const struct held_call *c,
                     const struct held_stream *ss, size_t n)
{
    struct issue is;
    struct after_bye_finding f;
    if (!after_bye_verdict(&e->cfg, c, ss, n, &is, &f))
        return;
    after_bye_words(&is, &f);
    issue_emit(e, &is);
}

/* ---- unfinished_call ---- */

struct unfinished_finding {
    double quiet_s;        /* from its last packet (signaling or media) to the end */
    enum { UNF_CAPTURE_CUT, UNF_NO_MEDIA, UNF_SESSION_EXPIRED, UNF_ZOMBIE } why;
};

static bool unfinished_verdict(const struct issue_config *cfg, const struct held_call *c,
                               const struct held_stream *ss, size_t n, ptime_t end, bool media,
                               struct issue *is, struct unfinished_finding *f)
{
    if (c->state != CALL_UNFINISHED)
        return false;
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
    bool cut = !c->session_expired && (quiet_s <= cfg->capture_end_s || !media || !had_media);
    issue_init(is, ISSUE_UNFINISHED_CALL, cut ? SEV_INFO : SEV_WARNING, c->answer_time);
    is->call_seq = c->seq;
    issue_frame(is, c->answer_frame);
    issue_frame(is, c->last_frame);
    issue_ev_num(is, "answered_s", (double)(end - c->answer_time) / 1e9);
    issue_ev_num(is, "quiet_before_end_s", quiet_s);
    issue_ev_str(is, "session_timer_expired", "%s", c->session_expired ? "yes" : "no");
    f->quiet_s = quiet_s;
    f->why = cut && quiet_s <= cfg->capture_end_s ? UNF_CAPTURE_CUT
             : cut                                 ? UNF_NO_MEDIA
             : c->session_expired                  ? UNF_SESSION_EXPIRED
                                                   : UNF_ZOMBIE;
    return true;
}

static void unfinished_words(struct issue *is, const struct unfinished_finding *f)
{
    switch (f->why) {
    case UNF_CAPTURE_CUT:
        issue_say(is->summary, sizeof is->summary, "still in progress when the capture ended");
        issue_say(is->diagnosis, sizeof is->diagnosis,
                  "Signaling or media was active up to %.1f s before the end of the capture: the "
                  "capture stopped during the call, nothing is wrong with it. Capture longer to "
                  "see how it ends.",
                  f->quiet_s);
        break;
    case UNF_NO_MEDIA:
        issue_say(is->summary, sizeof is->summary, "answered, no BYE before the capture ended");
        issue_say(is->diagnosis, sizeof is->diagnosis,
                  "No BYE was seen, and the capture holds no media of this call to tell a call "
                  "still in progress from a zombie whose BYE was lost. Capture the media too, or "
                  "longer, to see how it ends.");
        break;
    case UNF_SESSION_EXPIRED:
        issue_say(is->summary, sizeof is->summary,
                  "zombie call: the session timer expired without a refresh or a BYE");
        issue_say(is->diagnosis, sizeof is->diagnosis,
                  "The 2xx set a session timer (RFC 4028) and no re-INVITE/UPDATE refreshed it, "
                  "and no BYE came: one side lost the call without telling the other (crash, "
                  "network loss, a BYE dropped by NAT/firewall). Check the refresher's logs and "
                  "whether a BYE was sent on another path.");
        break;
    case UNF_ZOMBIE:
        issue_say(is->summary, sizeof is->summary,
                  "zombie call: answered, no BYE, silent for %.0f s before the capture ended",
                  f->quiet_s);
        issue_say(is->diagnosis, sizeof is->diagnosis,
                  "The call was answered and its media stopped %.0f s before the end of the "
                  "capture, but no BYE was seen. Either the BYE took a path the capture does not "
                  "see, or it was lost (NAT binding expired, firewall) and the call stays up on a "
                  "server that may bill it and hold its resources. Check the endpoints' view of "
                  "the call and enable session timers (RFC 4028) to clean such calls up.",
                  f->quiet_s);
        break;
    }
}

void check_unfinished(struct issue_engine *e, const struct held_call *c,
                      const struct held_stream *ss, size_t n, ptime_t end, bool media)
{
    struct issue is;
    struct unfinished_finding f;
    if (!unfinished_verdict(&e->cfg, c, ss, n, end, media, &is, &f))
        return;
    unfinished_words(&is, &f);
    issue_emit(e, &is);
}
