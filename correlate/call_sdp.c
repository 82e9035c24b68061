/* What a call's SDP says (RFC 3264 offer/answer, RFC 4566): each side's first audio media
 * (address, payload types, codecs, direction, RTCP), and the holds that in-dialog offers
 * and their answers begin and end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "call_int.h"

/* Codec names of the first audio stream of an SDP, comma-separated. */
static void sdp_codecs(const struct sdp *s, char *out, size_t cap);

/* *dst (the pool's, or owned) becomes those names (cut at 63 bytes, as the arrays were),
 * NULL when none: a string of the pool (codecs_keep), not 64 bytes in the call for each of
 * three lists. */
void call_set_codecs(struct correlator *c, char **dst, const struct sdp *s)
{
    char buf[64];
    sdp_codecs(s, buf, sizeof buf);
    call_codecs_drop(c, *dst);
    *dst = call_codecs_keep(c, buf);
}

static void sdp_codecs(const struct sdp *s, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (unsigned i = 0; i < s->nmedia; i++) {
        const struct sdp_media *md = &s->media[i];
        if (!sv_eq_cstr(md->media, "audio") || md->port == 0)
            continue;
        for (unsigned k = 0; k < md->nfmt; k++) {
            const struct sdp_format *f = &md->fmt[k];
            char name[24];
            if (f->encoding.p)
                snprintf(name, sizeof name, "%.*s", (int)(f->encoding.n < 20 ? f->encoding.n : 20),
                         f->encoding.p);
            else
                snprintf(name, sizeof name, "%u", f->pt);
            int w = snprintf(out + o, cap - o, "%s%s", o ? "," : "", name);
            if (w < 0 || (size_t)w >= cap - o)
                break;
            o += (size_t)w;
        }
        break;
    }
}

/* An encoding name, which compares without case (RFC 4855 §3). */
static bool name_is(struct sv v, const char *name)
{
    size_t n = strlen(name);
    return v.p && v.n == n && strncasecmp(v.p, name, n) == 0;
}

/* What a side's SDP said: its first one sets direction, codecs and frame (holds and
 * resumes are tracked apart); every one adds the address:port it announced. */
void call_record_side(struct correlator *c, struct call_int *ci, int side, const struct sdp *s,
                      const struct sip_event *ev)
{
    struct call *p = &ci->pub;
    if (side && !p->callee_side && !(p->callee_side = calloc(1, sizeof *p->callee_side)))
        return;
    struct call_side *cs = side ? p->callee_side : &p->caller_side;
    for (unsigned i = 0; s && i < s->nmedia; i++)
        if (sv_eq_cstr(s->media[i].media, "image") && s->media[i].port)
            cs->fax = true;
    for (unsigned i = 0; s && i < s->nmedia; i++) {
        const struct sdp_media *md = &s->media[i];
        if (!sv_eq_cstr(md->media, "audio") || md->port == 0)
            continue;
        if (!cs->have_sdp) {
            cs->have_sdp = true;
            cs->dir = (uint8_t)md->dir;
            cs->sdp_frame = ev->l4->pkt->frame;
            cs->sdp_time = ev->l4->pkt->ts;
            cs->sig_addr = ev->l4->src;
            call_set_codecs(c, &cs->codecs, s);
            for (unsigned k = 0; k < md->nfmt && cs->npts < CALL_SIDE_MAX_PTS; k++) {
                const struct sdp_format *f = &md->fmt[k];
                bool events = name_is(f->encoding, "telephone-event") || name_is(f->encoding, "CN");
                if (!events && f->pt != 13) /* RFC 4733 events, RFC 3389 comfort noise */
                    cs->pts_audio |= (uint16_t)(1u << cs->npts);
                cs->pts[cs->npts++] = f->pt;
            }
            cs->rtcp_mux = md->rtcp_mux;
            cs->rtcp_port = md->rtcp_port;
        }
        struct call_media_ep ep;
        memset(&ep, 0, sizeof ep);
        if (!media_addr_parse(md->addr, md->family, &ep.addr))
            return;
        ep.port = md->port;
        for (unsigned k = 0; k < cs->neps; k++)
            if (cs->eps[k].port == ep.port && !memcmp(&cs->eps[k].addr, &ep.addr, sizeof ep.addr))
                return;
        if (cs->neps == CALL_MAX_MEDIA_EPS)
            return;
        /* the caller's first in the call's block; more, and the callee's, apart */
        struct call_media_ep *own = side ? NULL : &ci->caller_ep;
        struct call_media_ep *v = !cs->neps && own ? own
                                  : cs->eps == own ? malloc((cs->neps + 1u) * sizeof *v)
                                                   : realloc(cs->eps, (cs->neps + 1u) * sizeof *v);
        if (!v)
            return;
        if (cs->neps && cs->eps == own)
            memcpy(v, own, sizeof *v);
        cs->eps = v;
        cs->eps[cs->neps++] = ep;
        return;
    }
}

/* The direction an SDP gives its first audio stream, c=0.0.0.0 read as what it meant (RFC
 * 3264 §8.4: RFC 2543's way of saying "send me nothing": sendrecv becomes sendonly, recvonly
 * inactive); -1 none. */
static int audio_dir(const struct sdp *s)
{
    for (unsigned i = 0; s && i < s->nmedia; i++) {
        const struct sdp_media *md = &s->media[i];
        if (!sv_eq_cstr(md->media, "audio") || md->port == 0)
            continue;
        if (!sv_eq_cstr(md->addr, "0.0.0.0"))
            return (int)md->dir;
        return md->dir == SDP_SENDRECV ? SDP_SENDONLY
               : md->dir == SDP_RECVONLY ? SDP_INACTIVE
                                         : (int)md->dir;
    }
    return -1;
}

/* An in-dialog offer (re-INVITE, UPDATE): does it hold the media (RFC 3264 §8.4: sendonly
 * or inactive; RFC 2543: c=0.0.0.0) or resume it? -1 no SDP, 1 hold, 0 resume. */
static int offer_holds(const struct sdp *s)
{
    int d = audio_dir(s);
    return d < 0 ? -1 : d == SDP_SENDONLY || d == SDP_INACTIVE;
}

/* The next hold of a call: its list is allocated with the first (an unanswered
 * INVITE pays for none). NULL when full or out of memory: that hold goes untracked. */
static struct call_hold *new_hold(struct call *p)
{
    if (p->nholds >= CALL_MAX_HOLDS ||
        (!p->holds && !(p->holds = malloc(CALL_MAX_HOLDS * sizeof *p->holds))))
        return NULL;
    return &p->holds[p->nholds++];
}

void call_track_hold(struct call_int *ci, const struct sip_event *ev, const struct sdp *sdp,
                     enum call_party by, ptime_t now)
{
    struct call *p = &ci->pub;
    int h = offer_holds(sdp);
    struct call_hold *last = p->nholds ? &p->holds[p->nholds - 1] : NULL;
    bool on_hold = last && !last->end;
    struct call_more *x = sdp ? call_more(ci) : ci->more; /* none: no offer awaits */
    if (x) {
        x->reoffer = sdp ? (uint8_t)(1 + audio_dir(sdp)) : 0;
        x->reoffer_by = (uint8_t)by;
    }
    struct call_hold *k;
    if (h == 1 && !on_hold && (k = new_hold(p))) {
        /* RFC 3264 §6.1: the most the other side may answer */
        uint8_t d = (uint8_t)audio_dir(sdp), o = d == SDP_SENDONLY ? SDP_RECVONLY : SDP_INACTIVE;
        *k = (struct call_hold){.start = now, .by = by, .frame = ev->l4->pkt->frame};
        k->dir[by == PARTY_CALLER ? 0 : 1] = d;
        k->dir[by == PARTY_CALLER ? 1 : 0] = o;
    } else if (h == 0 && on_hold) {
        last->end = now;
    }
}

/* A 2xx to an in-dialog offer: its answer narrows the hold that offer began (sendonly
 * answered inactive), or begins one itself (RFC 3264 §6.1 lets a sendrecv offer be
 * answered sendonly or inactive). */
void call_track_hold_answer(struct call_int *ci, const struct sip_event *ev, const struct sdp *sdp)
{
    struct call *p = &ci->pub;
    int d = audio_dir(sdp);
    struct call_more *x = ci->more;
    if (!x || !x->reoffer || d < 0)
        return;
    int offered = x->reoffer - 1;
    int answerer = x->reoffer_by == PARTY_CALLER ? 1 : 0; /* index of the answering side */
    x->reoffer = 0;
    struct call_hold *last = p->nholds ? &p->holds[p->nholds - 1] : NULL;
    ptime_t now = ev->l4->pkt->ts;
    if (last && !last->end && !last->answered) {
        last->dir[answerer] = (uint8_t)d;
        last->answered = now;
        last->answer_frame = ev->l4->pkt->frame;
        return;
    }
    struct call_hold *k;
    if ((d != SDP_SENDONLY && d != SDP_INACTIVE) || (last && !last->end) || !(k = new_hold(p)))
        return;
    *k = (struct call_hold){.start = now, .by = answerer ? PARTY_CALLEE : PARTY_CALLER,
                            .answered = now, .frame = ev->l4->pkt->frame,
                            .answer_frame = ev->l4->pkt->frame};
    k->dir[answerer] = (uint8_t)d;
    k->dir[1 - answerer] = offered >= 0 ? (uint8_t)offered : SDP_SENDRECV;
}
