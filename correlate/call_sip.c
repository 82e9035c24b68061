/* What each SIP message does to its call (RFC 3261): found by Call-ID (or as a B2BUA's
 * other leg: X-CID, RFC 7989 Session-ID), created by an initial INVITE, moved by responses
 * and requests through its states, with its retransmissions, transfers (RFC 3515) and
 * digits sent in INFO; see call.c for the table and call_sdp.c for the SDP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call_int.h"

static struct sv header_tag(const struct sip_msg *m, enum sip_hdr_id id)
{
    struct sip_nameaddr na;
    bool found;
    const struct sip_header *h = sip_hdr(m, id);
    if (!h || !sip_nameaddr_parse(h->value, &na))
        return SV_NULL;
    return sip_param(na.params, "tag", &found);
}

/* Who sent a request inside the dialog: the caller's requests carry its From tag. */
static enum call_party sender(const struct call *p, const struct sip_msg *m)
{
    struct sv ft = header_tag(m, SIP_H_FROM);
    return ft.p && p->from_tag && strlen(p->from_tag) == ft.n && !memcmp(p->from_tag, ft.p, ft.n)
               ? PARTY_CALLER
               : PARTY_CALLEE;
}

/* A message sent again: one entry per hop and message, its copies counted. */
static void record_retrans(struct call *p, const struct sip_event *ev, const struct msg_verdict *v)
{
    const struct sip_msg *m = ev->msg;
    const struct l4_packet *l4 = ev->l4;
    char what[24];
    const struct sip_header *ch = sip_hdr(m, SIP_H_CSEQ);
    uint32_t num;
    struct sv meth = SV_NULL;
    if (ch)
        sip_cseq_parse(ch->value, &num, &meth);
    if (m->is_request)
        snprintf(what, sizeof what, "%.*s", (int)(m->method.n < 20 ? m->method.n : 20), m->method.p);
    else
        snprintf(what, sizeof what, "%d %.*s", m->status, (int)(meth.n < 16 ? meth.n : 16),
                 meth.p ? meth.p : "");
    /* a copy within a few milliseconds is no timer's doing (T1 is 500 ms; even tuned
     * stacks wait tens of ms): a mirror port showing the same packet twice */
    const ptime_t min_gap = PTIME_SEC / 50;
    for (unsigned i = 0; i < p->nretrans; i++) {
        struct call_retrans *r = &p->retrans[i];
        if (r->first_frame == v->original_frame && r->sport == l4->sport &&
            r->dport == l4->dport) {
            if (l4->pkt->ts - r->last_time < min_gap)
                return;
            r->copies++;
            r->last_time = l4->pkt->ts;
            r->last_frame = l4->pkt->frame;
            return;
        }
    }
    if (l4->pkt->ts - v->original_time < min_gap)
        return;
    if (p->nretrans == CALL_MAX_RETRANS ||
        (!p->retrans && !(p->retrans = malloc(CALL_MAX_RETRANS * sizeof *p->retrans)))) {
        p->retrans_dropped++;
        return;
    }
    struct call_retrans *r = &p->retrans[p->nretrans++];
    memset(r, 0, sizeof *r);
    r->src = l4->src;
    r->dst = l4->dst;
    r->sport = l4->sport;
    r->dport = l4->dport;
    memcpy(r->what, what, sizeof what);
    r->copies = 1;
    r->first_time = v->original_time;
    r->first_frame = v->original_frame;
    r->last_time = l4->pkt->ts;
    r->last_frame = l4->pkt->frame;
}

static void on_response(struct correlator *c, struct call_int *ci, const struct sip_event *ev,
                        struct sv cseq_method, const struct sdp *sdp)
{
    const struct sip_msg *m = ev->msg;
    struct call *p = &ci->pub;
    ptime_t now = ev->l4->pkt->ts;
    int code = m->status;

    /* RFC 4028: a 2xx to INVITE or UPDATE refreshes the session (and may set its interval) */
    if (code >= 200 && code < 300 &&
        (sv_eq_cstr(cseq_method, "INVITE") || sv_eq_cstr(cseq_method, "UPDATE"))) {
        const struct sip_header *se = sip_hdr(m, SIP_H_SESSION_EXPIRES);
        uint64_t secs;
        bool set = false;
        if (se) {
            struct sv v = se->value;
            const char *semi = memchr(v.p, ';', v.n);
            if (semi)
                v.n = (size_t)(semi - v.p);
            set = sip_uint_parse(v, UINT32_MAX, &secs);
        }
        /* the refresh matters only once an interval was given */
        struct call_more *x = set ? call_more(ci) : ci->more;
        if (x) {
            if (set)
                x->session_expires = (uint32_t)secs;
            x->refreshed_at = now;
        }
    }
    if (sv_eq_cstr(cseq_method, "REFER") && p->ntransfers && code >= 200 &&
        !p->transfers[p->ntransfers - 1].accepted) {
        p->transfers[p->ntransfers - 1].accepted = code;
        return;
    }
    if (sdp) /* the responder: the other side from the request's sender (its From) */
        call_record_side(c, ci, sender(p, m) == PARTY_CALLER ? 1 : 0, sdp, ev);
    if (sdp && code >= 200 && code < 300 && p->answer_time &&
        (sv_eq_cstr(cseq_method, "INVITE") || sv_eq_cstr(cseq_method, "UPDATE")))
        call_track_hold_answer(ci, ev, sdp);
    if (!sv_eq_cstr(cseq_method, "INVITE"))
        return;
    /* after the answer, INVITE responses belong to re-INVITEs: not the call's fate */
    if (p->state >= CALL_ANSWERED && p->state != CALL_REJECTED)
        return;
    if (p->state == CALL_REJECTED && !(p->final_status == 401 || p->final_status == 407))
        return;
    if (code < 200) {
        if (code == 100)
            return;
        /* post-dial delay is the caller's (RFC 6076 §4.1): where one mirror sees several
         * hops, the 18x on the caller's own segment counts, not the first one downstream */
        bool callers = false;
        for (unsigned k = 0; k < p->nsegs && !callers; k++) /* the first try, or a retry */
            callers = p->segs[k].parent < 0 && p->segs[k].prov_frame == ev->l4->pkt->frame &&
                      ip_addr_eq(&p->segs[k].src, &p->segs[0].src);
        if (!p->ringing_time || (callers && !ci->ringing_callers)) {
            p->ringing_time = now;
            p->ringing_frame = ev->l4->pkt->frame;
            ci->ringing_callers = callers;
        }
        if (sdp && !p->early_time) {
            p->early_time = now;
            p->early_frame = ev->l4->pkt->frame;
            p->early_status = code;
        }
        if (sdp && p->state < CALL_EARLY_MEDIA)
            p->state = CALL_EARLY_MEDIA;
        else if (p->state == CALL_TRYING)
            p->state = CALL_RINGING;
        return;
    }
    p->final_status = code;
    p->final_frame = ev->l4->pkt->frame;
    /* setup is over: the look-ups it needed are all seen (on its path: its held first
     * segment, if an answer on it did not expand it, is expanded for them) */
    if (code != 401 && code != 407 && path_expand(p, &ci->path))
        lookup_tie(c->dns, p, now);
    /* only a challenge starts a run to track (a 403 or 2xx without one changes nothing) */
    if (p->auth || ((code == 401 || code == 407) && (p->auth = calloc(1, sizeof *p->auth))))
        auth_track_response(p->auth, m, ev->l4->pkt->frame, now);
    free(p->reason);
    p->reason = sv_strdup(m->reason);
    if (code < 300) {
        p->state = CALL_ANSWERED;
        if (!p->answer_time) {
            p->answer_time = now;
            p->answer_frame = ev->l4->pkt->frame;
        }
        struct sv tag = header_tag(m, SIP_H_TO);
        if (tag.p && tag.n) {
            free(p->to_tag);
            p->to_tag = sv_strdup(tag);
        }
        if (sdp)
            call_set_codecs(c, &p->codecs, sdp);
        call_revive(c, ci);
        return;
    }
    if (code == 401 || code == 407)
        p->challenges++;
    p->state = (code == 486 || code == 600)            ? CALL_BUSY
               : code == 487                          ? CALL_CANCELLED
               : (code >= 500 && code < 600) || code == 408 ? CALL_FAILED
                                                       : CALL_REJECTED;
    if (!p->end_time || code == 401 || code == 407)
        p->end_time = ci->cancel_seen ? ci->more->cancel_time : now;
    if (ci->cancel_seen && p->ended_by == PARTY_NONE)
        p->ended_by = PARTY_CALLER;
    call_end(c, ci, now, code == 401 || code == 407);
}

/* A NOTIFY for a REFER carries a sipfrag: "SIP/2.0 200 OK". */
static void track_notify(struct call *p, const struct sip_msg *m)
{
    if (!p->ntransfers || m->body.n < 12 || memcmp(m->body.p, "SIP/2.0 ", 8) != 0)
        return;
    const char *d = m->body.p + 8;
    if (d[0] >= '1' && d[0] <= '6' && d[1] >= '0' && d[1] <= '9' && d[2] >= '0' && d[2] <= '9')
        p->transfers[p->ntransfers - 1].result = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
}

/* DTMF sent as SIP INFO: kept on the call (RTP events are kept on their stream). */
static void track_info_dtmf(struct call_int *ci, const struct sip_event *ev)
{
    struct call *p = &ci->pub;
    char digit;
    int64_t dur;
    struct call_more *x;
    if (!sip_body_dtmf(ev->msg, &digit, &dur) || !(x = call_more(ci)))
        return;
    if (p->ndtmf == x->dtmf_cap) {
        uint16_t cap = x->dtmf_cap ? (uint16_t)(x->dtmf_cap * 2) : 8;
        struct call_dtmf *d;
        if (x->dtmf_cap >= CALL_MAX_DTMF || !(d = realloc(p->dtmf, cap * sizeof *d))) {
            x->dtmf_dropped++;
            return;
        }
        p->dtmf = d;
        x->dtmf_cap = cap;
    }
    p->dtmf[p->ndtmf++] = (struct call_dtmf){.time = ev->l4->pkt->ts, .frame = ev->l4->pkt->frame,
                                             .duration_ms = (int32_t)dur, .digit = digit,
                                             .by = (uint8_t)sender(p, ev->msg)};
}

static void on_request(struct correlator *c, struct call_int *ci, const struct sip_event *ev,
                       bool retrans, const struct sdp *sdp)
{
    const struct sip_msg *m = ev->msg;
    struct call *p = &ci->pub;
    ptime_t now = ev->l4->pkt->ts;

    if (retrans)
        return;
    if (sdp) /* an offer (INVITE, UPDATE) or a late answer (ACK) */
        call_record_side(c, ci, sender(p, m) == PARTY_CALLER ? 0 : 1, sdp, ev);
    if (sv_eq_cstr(m->method, "INVITE")) {
        struct sv to_tag = header_tag(m, SIP_H_TO);
        if (!to_tag.p || !to_tag.n) {
            /* a run starts at a challenge; before one, only credentials say anything */
            if (p->auth || ((sip_hdr(m, SIP_H_AUTHORIZATION) ||
                             sip_hdr(m, SIP_H_PROXY_AUTHORIZATION)) &&
                            (p->auth = calloc(1, sizeof *p->auth))))
                auth_track_request(p->auth, m);
            /* a new initial INVITE on the call: after a 401/407, the one with credentials */
            if (p->state == CALL_REJECTED && (p->final_status == 401 || p->final_status == 407)) {
                p->attempt_time = now;
                p->state = CALL_TRYING;
                p->final_status = 0;
                p->end_time = 0;
                call_revive(c, ci);
            }
            if (!p->codecs && sdp)
                call_set_codecs(c, &p->codecs, sdp);
        } else if (p->answer_time) {
            call_track_hold(ci, ev, sdp, sender(p, m), now); /* a re-INVITE */
        }
        return;
    }
    if (sv_eq_cstr(m->method, "UPDATE") && p->answer_time) {
        call_track_hold(ci, ev, sdp, sender(p, m), now);
        return;
    }
    if (sv_eq_cstr(m->method, "REFER") && p->ntransfers < CALL_MAX_TRANSFERS &&
        (p->transfers ||
         (p->transfers = calloc(CALL_MAX_TRANSFERS, sizeof *p->transfers)))) {
        const struct sip_header *rt = sip_hdr(m, SIP_H_REFER_TO);
        struct sip_nameaddr na;
        struct call_transfer *tr = &p->transfers[p->ntransfers++];
        tr->time = now;
        tr->by = sender(p, m);
        tr->refer_to = rt && sip_nameaddr_parse(rt->value, &na) ? sv_strdup(na.uri) : NULL;
        return;
    }
    if (sv_eq_cstr(m->method, "NOTIFY")) {
        track_notify(p, m);
        return;
    }
    if (sv_eq_cstr(m->method, "INFO")) {
        track_info_dtmf(ci, ev);
        return;
    }
    if (sv_eq_cstr(m->method, "CANCEL")) {
        struct call_more *x;
        if (p->state < CALL_ANSWERED && !ci->cancel_seen && (x = call_more(ci))) {
            ci->cancel_seen = true;
            x->cancel_time = now;
            p->end_frame = ev->l4->pkt->frame;
        }
        return;
    }
    if (sv_eq_cstr(m->method, "BYE") && p->state <= CALL_ANSWERED &&
        p->state != CALL_COMPLETED) {
        p->ended_by = sender(p, m);
        if (p->state == CALL_ANSWERED) {
            p->state = CALL_COMPLETED;
            p->end_time = now;
            p->end_frame = ev->l4->pkt->frame;
            call_end(c, ci, now, false);
        }
    }
}

/* The local UUID of a Session-ID header (RFC 7989 §4: 32 hex digits; all zeros means
 * unknown). False when there is none. */
static bool session_uuid(const struct sip_msg *m, char out[33])
{
    const struct sip_header *h = sip_hdr(m, SIP_H_SESSION_ID);
    if (!h || h->value.n < 32)
        return false;
    bool zero = true;
    for (int i = 0; i < 32; i++) {
        char ch = h->value.p[i];
        bool hex = (ch >= '0' && ch <= '9') || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f');
        if (!hex)
            return false;
        out[i] = (char)(ch | 0x20);
        zero &= ch == '0';
    }
    out[32] = '\0';
    return !zero && (h->value.n == 32 || h->value.p[32] == ';' || h->value.p[32] == ' ');
}

/* A B2BUA's outgoing INVITE that names its incoming leg (X-CID, X-Call-ID): the call of
 * that leg, or NULL. */
static struct call_int *named_call(struct correlator *c, const struct sip_msg *m)
{
    static const char *const names[] = {"X-CID", "X-Call-ID", "X-Orig-Call-ID"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const struct sip_header *h = sip_hdr_by_name(m, sv_cstr(names[i]));
        if (!h || !h->value.n)
            continue;
        uint64_t hh = hash_bytes(h->value.p, h->value.n, c->cfg.hash_seed);
        struct call_int *ci = ctab_find(c->calls, hh, &h->value);
        if (!ci) {
            struct leg_ref *l = htab_find(c->legs, hh, &h->value);
            ci = l ? l->call : NULL;
        }
        if (ci)
            return ci;
    }
    char uuid[33];
    if (session_uuid(m, uuid)) {
        struct session_ref *sr = htab_find(c->sessions, hash_bytes(uuid, 32, c->cfg.hash_seed), uuid);
        if (sr)
            return sr->call;
    }
    return NULL;
}

static struct leg_ref *join_leg(struct correlator *c, struct call_int *ci, const struct sip_msg *m,
                                struct sv cid, uint64_t h)
{
    struct call *p = &ci->pub;
    if (p->nlegs + 1 >= CALL_MAX_LEGS ||
        (!p->legs && !(p->legs = calloc(CALL_MAX_LEGS, sizeof *p->legs))))
        return NULL;
    struct leg_ref *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    struct call_leg *g = &p->legs[p->nlegs + 1];
    g->call_id = sv_strdup(cid);
    struct sv ft = header_tag(m, SIP_H_FROM);
    g->from_tag = ft.p && ft.n ? sv_strdup(ft) : NULL;
    l->call = ci;
    l->idx = (uint8_t)(p->nlegs + 1);
    l->hash = h;
    if (!g->call_id || !htab_insert(c->legs, h, l)) {
        free(g->call_id);
        free(g->from_tag);
        memset(g, 0, sizeof *g);
        free(l);
        return NULL;
    }
    p->nlegs++;
    return l;
}

/* The call a message belongs to: by its Call-ID, or a leg's; an initial INVITE that names
 * a call (X-CID, Session-ID) joins it as a leg (*leg), else starts a call of its own. NULL
 * when it belongs to none (or no memory). */
static struct call_int *call_of(struct correlator *c, const struct sip_event *ev, struct sv cid,
                                struct leg_ref **leg)
{
    const struct sip_msg *m = ev->msg;
    uint64_t h = hash_bytes(cid.p, cid.n, c->cfg.hash_seed);
    struct call_int *ci = ctab_find(c->calls, h, &cid);
    if (!ci && (*leg = htab_find(c->legs, h, &cid)))
        ci = (*leg)->call;
    if (ci)
        return ci;
    struct sv to_tag = header_tag(m, SIP_H_TO);
    bool initial_invite = m->is_request && sv_eq_cstr(m->method, "INVITE") &&
                          !(to_tag.p && to_tag.n);
    struct call_int *named = initial_invite ? named_call(c, m) : NULL;
    if (named && (*leg = join_leg(c, named, m, cid, h)))
        return named;
    if (!initial_invite || !(ci = call_new(c, ev, cid, h)))
        return NULL;
    char uuid[33]; /* a new call: remember its Session-ID for the legs to come */
    struct session_ref *sr;
    if (session_uuid(m, uuid) && call_more(ci) && (sr = calloc(1, sizeof *sr))) {
        memcpy(sr->uuid, uuid, sizeof uuid);
        sr->hash = hash_bytes(uuid, 32, c->cfg.hash_seed);
        sr->call = ci;
        if (htab_find(c->sessions, sr->hash, uuid) || !htab_insert(c->sessions, sr->hash, sr))
            free(sr);
        else
            ci->more->session = sr;
    }
    return ci;
}

void correlate_sip(struct correlator *c, const struct sip_event *ev, struct msg_verdict *v)
{
    const struct sip_msg *m = ev->msg;
    ptime_t now = ev->l4->pkt->ts;
    v->call_seq = 0;
    v->reg_seq = 0;
    v->retransmission = false;

    call_sweep(c, now);
    v->original_time = 0;
    v->original_frame = 0;
    v->retransmission = txn_observe(c->txns, ev, now, c->cfg.timer_b, &c->st.transactions,
                                    &c->st.evicted_transactions, &v->original_time,
                                    &v->original_frame);
    if (v->retransmission)
        c->st.retransmissions++;

    if (now > c->last_time)
        c->last_time = now;
    const struct sip_header *cidh = sip_hdr(m, SIP_H_CALL_ID);
    const struct sip_header *cseqh = sip_hdr(m, SIP_H_CSEQ);
    uint32_t cseq;
    struct sv cmethod;
    /* a Call-ID is a word (RFC 3261 §25.1): one with a NUL byte would be cut short where
     * it is kept as a C string, and found no more under its full length */
    if (!cidh || !cseqh || !sip_cseq_parse(cseqh->value, &cseq, &cmethod) ||
        memchr(cidh->value.p, '\0', cidh->value.n)) {
        c->st.out_of_dialog++;
        return;
    }
    if (sv_eq_cstr(cmethod, "REGISTER")) {
        v->reg_seq = reg_observe(c->regs, ev, v->retransmission, &c->st.registrations,
                                 &c->st.evicted_registrations);
        if (!v->reg_seq)
            c->st.out_of_dialog++;
        return;
    }
    struct leg_ref *leg = NULL;
    struct call_int *ci = call_of(c, ev, cidh->value, &leg);
    if (!ci) {
        c->st.out_of_dialog++;
        return;
    }
    struct call *p = &ci->pub;
    p->messages++;
    p->retransmissions += v->retransmission;
    if (v->retransmission)
        record_retrans(p, ev, v);
    p->last_frame = ev->l4->pkt->frame;
    p->last_time = now;
    if (call_list_of(c, ci) == &c->probation && !m->is_request)
        call_move(c, ci, &c->active); /* something answered: a real call, out of probation */
    else if (call_list_of(c, ci) == &c->active)
        dlist_touch(&c->active, &ci->node); /* ended calls keep their place: due by end time */
    v->call_seq = p->seq;
    if (sv_eq_cstr(cmethod, "INVITE")) { /* the path of the initial INVITE, hop by hop */
        struct sv tt = header_tag(m, SIP_H_TO);
        if (!m->is_request)
            path_response(p, &ci->path, ev, cseq, c->cfg.hash_seed);
        else if (sv_eq_cstr(m->method, "INVITE") && !(tt.p && tt.n))
            path_request(p, &ci->path, ev, leg ? leg->idx : 0, cseq, v->retransmission,
                         c->cfg.hash_seed);
    }
    /* the message's SDP, parsed once for everything below */
    struct sv body;
    enum decode_reason why = DR__COUNT;
    const struct sdp *sdp = m->body.n && sip_body_sdp(m, &body, &why) &&
                                    sdp_parse(body.p, body.n, &c->sdp)
                                ? &c->sdp
                                : NULL;
    if (!v->retransmission) { /* what was wrong in the body counts once, with decode's */
        if (sdp && sdp->malformed)
            why = sdp->error;
        if (why < DR__COUNT)
            c->st.errors[why]++;
    }
    if (sdp && !v->retransmission && !call_handed(ci)) /* offers and answers: where media goes */
        media_from_sdp(c->media, sdp, p->seq, &ci->media, &c->st.evicted_media);
    if (leg) { /* another leg: recorded and counted; the first leg tells the call's story */
        struct sv tt = header_tag(m, SIP_H_TO);
        struct call_leg *g = &p->legs[leg->idx];
        if (!m->is_request && m->status >= 200 && m->status < 300 &&
            sv_eq_cstr(cmethod, "INVITE") && tt.p && tt.n && !g->to_tag)
            g->to_tag = sv_strdup(tt);
        if (!m->is_request && m->status > 100 && m->status < 200 && sv_eq_cstr(cmethod, "INVITE"))
            g->provisionals |= m->status == 180 && !sdp ? LEG_SAW_180
                                             : sdp                    ? LEG_SAW_18X_SDP
                                                                      : 0;
        return;
    }
    if (m->is_request)
        on_request(c, ci, ev, v->retransmission, sdp);
    else if (!v->retransmission)
        on_response(c, ci, ev, cmethod, sdp);
}

void correlate_dns(struct correlator *c, const struct l4_packet *l4, const struct dns_msg *m)
{
    lookup_observe(c->dns, l4, m, &c->st);
}
