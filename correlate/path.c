/* A call's path: each copy of its initial INVITE seen on the wire is a segment,
 * and each segment is tied to the one it forwards, so that the time every hop held the
 * request, and the time its downstream took to answer, can be read off.
 *
 * RFC 3261 §16.6: a proxy puts its own Via on top and keeps the rest, so a copy whose
 * second Via carries the branch of an earlier copy's top Via forwards that copy. A B2BUA
 * (or a proxy that hides the Via stack) starts a new stack: then the latest earlier copy
 * sent to the host this one comes from is taken, within 64*T1; failing that (an SBC with
 * an inside and an outside address), the latest copy from another host that was still
 * waiting for its final answer. Responses come back on the segment whose top-Via branch they carry (§17.1.3). */
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "correlate_int.h"

/* A hop forwards within its INVITE transaction's life (64*T1, RFC 3261 Timer B/C): a
 * copy later than that is not one of its forwards. */
#define FORWARD_MAX (64 * (PTIME_SEC / 2))

/* The branch of one via-parm (item of a Via list), hashed; 0 when it has none. */
static uint64_t via_branch(struct sv item, uint64_t seed)
{
    struct sip_via via;
    bool found;
    if (!sip_via_parse(item, &via))
        return 0;
    struct sv b = sip_param(via.params, "branch", &found);
    return b.n ? hash_bytes(b.p, b.n, seed) | 1 : 0;
}

/* The top Via's branch, the second's, and how many there are (up to 255). */
static void via_stack(const struct sip_msg *m, uint64_t seed, uint64_t *top, uint64_t *second,
                      uint8_t *n)
{
    *top = *second = 0;
    *n = 0;
    for (const struct sip_header *h = sip_hdr(m, SIP_H_VIA); h; h = sip_hdr_next(m, h)) {
        struct sv rest = h->value, item;
        while (sip_list_next(&rest, &item)) {
            if (*n == 0)
                *top = via_branch(item, seed);
            else if (*n == 1)
                *second = via_branch(item, seed);
            if (*n < 255)
                (*n)++;
        }
    }
}

/* A URI's host as DNS would be asked for it, hashed; 0 for an address or no host. */
static uint64_t uri_host_hash(struct sv uri, uint64_t seed)
{
    struct sip_uri u;
    if (!sip_uri_parse(uri, &u) || !u.host.n)
        return 0;
    bool address = true; /* dotted digits, or IPv6 (a colon) */
    for (size_t i = 0; i < u.host.n && address; i++) {
        char ch = u.host.p[i];
        address = (ch >= '0' && ch <= '9') || ch == '.' || ch == ':';
    }
    if (address || memchr(u.host.p, ':', u.host.n))
        return 0;
    return dns_name_hash(u.host.p, u.host.n, seed);
}

static uint64_t route_host_hash(const struct sip_msg *m, uint64_t seed)
{
    const struct sip_header *h = sip_hdr(m, SIP_H_ROUTE);
    struct sv rest, item;
    struct sip_nameaddr na;
    if (!h)
        return 0;
    rest = h->value;
    if (!sip_list_next(&rest, &item) || !sip_nameaddr_parse(item, &na))
        return 0;
    return uri_host_hash(na.uri, seed);
}

static void find_parent(struct call *p, struct call_seg *s)
{
    s->parent = -1;
    s->match = SEG_FIRST;
    int self = (int)(s - p->segs);
    /* the same request (its top Via unchanged) between other addresses: it crossed a NAT,
     * an ALG or an element that does not add a Via, or a second tap saw it */
    for (int i = self - 1; i >= 0; i--)
        if (s->branch && p->segs[i].branch == s->branch && p->segs[i].cseq == s->cseq) {
            s->parent = (int8_t)i;
            s->match = SEG_BY_BRANCH;
            return;
        }
    if (s->via2)
        for (int i = self - 1; i >= 0; i--)
            if (p->segs[i].branch == s->via2) {
                s->parent = (int8_t)i;
                s->match = SEG_BY_VIA;
                return;
            }
    /* no Via kept: the latest copy that came to the host this one leaves from */
    for (int i = self - 1; i >= 0; i--) {
        const struct call_seg *q = &p->segs[i];
        if (ip_addr_eq(&q->dst, &s->src) && s->time - q->time <= FORWARD_MAX) {
            s->parent = (int8_t)i;
            s->match = SEG_BY_ADDRESS;
            return;
        }
    }
    /* an SBC whose outside address is not its inside one (seen on one mirror, both sides
     * carry the call): the latest copy from another sender still waiting for its final
     * answer when this one left. Weaker: said so by the match kind. */
    for (int i = self - 1; i >= 0; i--) {
        const struct call_seg *q = &p->segs[i];
        if (!ip_addr_eq(&q->src, &s->src) && !ip_addr_eq(&q->dst, &s->dst) &&
            (!q->final_time || q->final_time > s->time) &&
            s->time - q->time <= FORWARD_MAX) {
            s->parent = (int8_t)i;
            s->match = SEG_BY_ORDER;
            return;
        }
    }
}

void path_first(const struct call *p, const struct path_more *f, struct call_seg *s)
{
    memset(s, 0, sizeof *s);
    s->src = p->caller_ip;
    s->dst = p->callee_ip;
    s->sport = p->caller_port;
    s->dport = p->callee_port;
    s->cseq = f->cseq;
    s->parent = -1; /* the first copy forwards none (find_parent) */
    s->match = SEG_FIRST;
    s->nvia = f->nvia;
    s->branch = f->branch;
    s->via2 = f->via2;
    s->names[0] = f->names[0];
    s->names[1] = f->names[1];
    s->time = p->invite_time;
    s->frame = p->first_frame;
    s->copies = f->copies;
}

bool path_expand(struct call *p, struct path_more *f)
{
    if (!f->held)
        return true;
    struct call_seg *v = malloc(sizeof *v);
    if (!v)
        return false;
    path_first(p, f, v);
    p->segs = v;
    p->nsegs = p->segs_cap = 1;
    f->held = false;
    return true;
}

/* The call's first INVITE, the whole path so far: held, not a segment of its own. */
static bool hold_first(struct call *p, struct path_more *f, const struct sip_event *ev, uint8_t leg,
                       uint32_t cseq, uint64_t top, uint64_t second, uint8_t nvia, uint64_t seed)
{
    const struct l4_packet *l4 = ev->l4;
    if (p->nsegs || f->held || leg || l4->pkt->frame != p->first_frame ||
        l4->pkt->ts != p->invite_time || l4->sport != p->caller_port ||
        l4->dport != p->callee_port || !ip_addr_eq(&l4->src, &p->caller_ip) ||
        !ip_addr_eq(&l4->dst, &p->callee_ip))
        return false;
    f->branch = top;
    f->via2 = second;
    f->cseq = cseq;
    f->copies = 0;
    f->nvia = nvia;
    f->held = true;
    f->names[0] = uri_host_hash(ev->msg->uri, seed);
    f->names[1] = route_host_hash(ev->msg, seed);
    return true;
}

void path_request(struct call *p, struct path_more *f, const struct sip_event *ev, uint8_t leg,
                  uint32_t cseq, bool retrans, uint64_t seed)
{
    const struct sip_msg *m = ev->msg;
    const struct l4_packet *l4 = ev->l4;
    uint64_t top, second;
    uint8_t nvia;
    via_stack(m, seed, &top, &second, &nvia);
    if (f->held) { /* what the loops below would find in the first segment */
        if (f->branch == top && f->cseq == cseq &&
            (retrans ||
             (top && ip_addr_eq(&p->caller_ip, &l4->src) && ip_addr_eq(&p->callee_ip, &l4->dst)))) {
            f->copies += retrans;
            return;
        }
        if (retrans)
            return;
        if (!path_expand(p, f)) {
            f->dropped++;
            return;
        }
    }
    if (retrans) {
        for (unsigned i = 0; i < p->nsegs; i++)
            if (p->segs[i].branch == top && p->segs[i].cseq == cseq) {
                p->segs[i].copies++;
                return;
            }
        return;
    }
    for (unsigned i = 0; i < p->nsegs; i++) /* the same copy again (over TCP, say) */
        if (top && p->segs[i].branch == top && p->segs[i].cseq == cseq &&
            ip_addr_eq(&p->segs[i].src, &l4->src) && ip_addr_eq(&p->segs[i].dst, &l4->dst))
            return;
    if (p->nsegs >= CALL_MAX_SEGS) {
        f->dropped++;
        return;
    }
    if (hold_first(p, f, ev, leg, cseq, top, second, nvia, seed))
        return;
    if (p->nsegs == p->segs_cap) {
        /* one to start: most calls are seen on one hop (a flood's INVITE always is) */
        uint8_t cap = p->segs_cap ? (uint8_t)(p->segs_cap * 2) : 1;
        if (cap > CALL_MAX_SEGS)
            cap = CALL_MAX_SEGS;
        struct call_seg *v = realloc(p->segs, cap * sizeof *v);
        if (!v) {
            f->dropped++;
            return;
        }
        p->segs = v;
        p->segs_cap = cap;
    }
    struct call_seg *s = &p->segs[p->nsegs++];
    memset(s, 0, sizeof *s);
    s->src = l4->src;
    s->dst = l4->dst;
    s->sport = l4->sport;
    s->dport = l4->dport;
    s->cseq = cseq;
    s->leg = leg;
    s->nvia = nvia;
    s->branch = top;
    s->via2 = second;
    s->names[0] = uri_host_hash(m->uri, seed);
    s->names[1] = route_host_hash(m, seed);
    s->time = l4->pkt->ts;
    s->frame = l4->pkt->frame;
    find_parent(p, s);
}

void path_response(struct call *p, struct path_more *f, const struct sip_event *ev, uint32_t cseq,
                   uint64_t seed)
{
    uint64_t top, second;
    uint8_t nvia;
    via_stack(ev->msg, seed, &top, &second, &nvia);
    if (!top)
        return;
    /* an answer on the held first segment: the call is answered, and pays for its path */
    if (f->held && (f->branch != top || f->cseq != cseq || !path_expand(p, f)))
        return;
    /* the segment it answers: by branch, and by address where one branch crossed several
     * (a NAT): the response goes back from where that copy went */
    struct call_seg *s = NULL;
    for (unsigned i = 0; i < p->nsegs; i++) {
        struct call_seg *q = &p->segs[i];
        if (q->branch != top || q->cseq != cseq)
            continue;
        if (!s)
            s = q;
        if (ip_addr_eq(&q->dst, &ev->l4->src) && ip_addr_eq(&q->src, &ev->l4->dst)) {
            s = q;
            break;
        }
    }
    if (s) {
        ptime_t now = ev->l4->pkt->ts;
        uint64_t frame = ev->l4->pkt->frame;
        int code = ev->msg->status;
        if (code == 100 && !s->trying_time) {
            s->trying_time = now;
            s->trying_frame = frame;
        } else if (code > 100 && code < 200 && !s->prov_time) {
            s->prov_time = now;
            s->prov_frame = frame;
            s->prov_status = (int16_t)code;
        } else if (code >= 200 && !s->final_time) {
            s->final_time = now;
            s->final_frame = frame;
            s->final_status = (int16_t)code;
        }
    }
}
