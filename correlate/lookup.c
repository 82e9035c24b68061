/* DNS look-ups beside SIP: each question a host asks, with its retries and its
 * answer, on packet time; and the look-ups that resolved a call's INVITE, found when the
 * call's setup is over.
 *
 * The last LOOKUP_RING look-ups are kept in a ring, the newest overwriting the oldest, and
 * chained per hash bucket of the asking host, newest first. An entry is live while the
 * ring slot still holds its sequence number; since the ring overwrites in order, a walk
 * down a chain stops at the first dead entry: everything after it is older still. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "correlate_int.h"
#include "decode/dns.h"

#define LOOKUP_RING 8192
#define LOOKUP_BUCKETS 4096
#define LOOKUP_WALK 256                 /* entries looked at per question: a bound on cost */
#define LOOKUP_RETRY_WINDOW (30 * PTIME_SEC) /* the same question again within it: a retry */
#define LOOKUP_TIE_BEFORE (10 * PTIME_SEC)   /* look-ups ended this long before an INVITE */
#define LOOKUP_TIE_AFTER (64 * (PTIME_SEC / 2)) /* ... begun this long after one came (64*T1) */
#define LOOKUP_MAX_TARGETS 4

struct lookup {
    uint64_t seq;              /* 1-based; 0: never used */
    uint64_t prev;             /* the previous entry of its bucket (seq), 0 none */
    struct ip_addr client, server;
    uint16_t qtype;
    uint8_t tries;
    int16_t rcode;             /* -1 no answer yet */
    uint16_t answers;
    ptime_t first_query, last_query, answer_time;
    uint64_t first_frame, answer_frame;
    uint64_t name;             /* dns_name_hash of the question */
    uint64_t base;             /* ... without its leading _service._proto labels */
    uint64_t targets[LOOKUP_MAX_TARGETS]; /* names its answers point at (SRV, CNAME, NAPTR) */
    uint8_t ntargets;
    char qname[96];
    char answer[80];
};

struct lookup_table {
    struct lookup *ring;       /* owned, nring */
    size_t nring;
    uint64_t next;             /* the next seq */
    uint64_t head[LOOKUP_BUCKETS];
    uint64_t seed;
};

uint64_t dns_name_hash(const char *p, size_t n, uint64_t seed)
{
    char buf[256];
    while (n && p[n - 1] == '.') /* the root's dot: "example.com." is "example.com" */
        n--;
    if (n > sizeof buf)
        n = sizeof buf;
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] | 0x20 : p[i]);
    return n ? hash_bytes(buf, n, seed) | 1 : 0;
}

/* The name without its leading underscore labels (RFC 2782: _sip._udp.example.com is
 * asked for example.com), hashed. */
static uint64_t base_hash(const char *q, uint64_t seed)
{
    while (*q == '_') {
        const char *dot = strchr(q, '.');
        if (!dot)
            break;
        q = dot + 1;
    }
    return dns_name_hash(q, strlen(q), seed);
}

struct lookup_table *lookup_table_new(uint64_t seed)
{
    return lookup_table_new_sized(seed, LOOKUP_RING);
}

struct lookup_table *lookup_table_new_sized(uint64_t seed, size_t ring)
{
    struct lookup_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->nring = ring ? ring : LOOKUP_RING;
    t->ring = calloc(t->nring, sizeof *t->ring);
    if (!t->ring) {
        free(t);
        return NULL;
    }
    t->next = 1;
    t->seed = seed;
    return t;
}

size_t lookup_table_bytes(const struct lookup_table *t)
{
    return sizeof *t + t->nring * sizeof *t->ring;
}

size_t lookup_entry_bytes(void)
{
    return sizeof(struct lookup);
}

void lookup_table_free(struct lookup_table *t)
{
    if (!t)
        return;
    free(t->ring);
    free(t);
}

static size_t bucket(const struct lookup_table *t, const struct ip_addr *a)
{
    return hash_bytes(a, sizeof *a, t->seed) % LOOKUP_BUCKETS;
}

static struct lookup *live(const struct lookup_table *t, uint64_t seq)
{
    struct lookup *l = seq ? &t->ring[seq % t->nring] : NULL;
    return l && l->seq == seq ? l : NULL;
}

/* The open look-up of this client for this question (unanswered, or answered but asked
 * again: a retry after a failure is the same look-up), newest first. */
static struct lookup *find(const struct lookup_table *t, const struct ip_addr *client,
                           uint64_t name, uint16_t qtype, ptime_t now, bool answered_too)
{
    int steps = 0;
    for (struct lookup *l = live(t, t->head[bucket(t, client)]); l && steps < LOOKUP_WALK;
         l = live(t, l->prev), steps++) {
        if (now - l->first_query > LOOKUP_RETRY_WINDOW)
            return NULL;
        if (l->name == name && l->qtype == qtype && ip_addr_eq(&l->client, client) &&
            (answered_too || l->rcode < 0))
            return l;
    }
    return NULL;
}

static void answer_text(const struct dns_rr *rr, char *out, size_t cap)
{
    switch (rr->type) {
    case DNS_A:
    case DNS_AAAA:
        ip_addr_str(&rr->addr, out, cap);
        return;
    case DNS_SRV:
        snprintf(out, cap, "%u %u %u %.60s", rr->priority, rr->weight, rr->port, rr->target);
        return;
    case DNS_NAPTR:
        snprintf(out, cap, "%u %u \"%.8s\" \"%.16s\" %.36s", rr->order, rr->preference,
                 rr->flags, rr->service, rr->target);
        return;
    default:
        snprintf(out, cap, "%.79s", rr->target);
    }
}

static void query(struct lookup_table *t, const struct l4_packet *l4, const struct dns_msg *m,
                  uint64_t name, uint64_t *created, uint64_t *evicted)
{
    ptime_t now = l4->pkt->ts;
    struct lookup *l = find(t, &l4->src, name, m->qtype, now, false);
    if (l) { /* a retry: to the same server or the next one */
        if (l->tries < 255)
            l->tries++;
        l->last_query = now;
        l->server = l4->dst;
        return;
    }
    uint64_t seq = t->next++;
    l = &t->ring[seq % t->nring];
    if (l->seq && l->rcode < 0)
        (*evicted)++;
    size_t b = bucket(t, &l4->src);
    memset(l, 0, sizeof *l);
    l->seq = seq;
    l->prev = t->head[b];
    t->head[b] = seq;
    l->client = l4->src;
    l->server = l4->dst;
    l->qtype = m->qtype;
    l->tries = 1;
    l->rcode = -1;
    l->first_query = l->last_query = now;
    l->first_frame = l4->pkt->frame;
    l->name = name;
    l->base = base_hash(m->qname, t->seed);
    snprintf(l->qname, sizeof l->qname, "%.95s", m->qname);
    (*created)++;
}

static void answer(struct lookup_table *t, const struct l4_packet *l4, const struct dns_msg *m,
                   uint64_t name, uint64_t *unmatched)
{
    struct lookup *l = find(t, &l4->dst, name, m->qtype, l4->pkt->ts, true);
    if (!l || l->rcode >= 0) { /* no question seen, or a second answer: the first counts */
        if (!l)
            (*unmatched)++;
        return;
    }
    l->rcode = m->rcode;
    l->answer_time = l4->pkt->ts;
    l->answer_frame = l4->pkt->frame;
    l->answers = m->nanswers_seen;
    l->server = l4->src;
    for (unsigned i = 0; i < m->nanswers; i++) {
        const struct dns_rr *rr = &m->answers[i];
        if (i == 0)
            answer_text(rr, l->answer, sizeof l->answer);
        if (rr->target[0] && l->ntargets < LOOKUP_MAX_TARGETS)
            l->targets[l->ntargets++] = dns_name_hash(rr->target, strlen(rr->target), t->seed);
    }
}

void lookup_observe(struct lookup_table *t, const struct l4_packet *l4, const struct dns_msg *m,
                    struct correlate_stats *st)
{
    if (!m->have_question || m->opcode != 0 || !m->qname[0])
        return;
    uint64_t name = dns_name_hash(m->qname, strlen(m->qname), t->seed);
    if (m->response)
        answer(t, l4, m, name, &st->dns_unanswered_responses);
    else
        query(t, l4, m, name, &st->dns_lookups, &st->evicted_dns);
}

/* Whether look-up l resolves one of the names (the name itself, an SRV/NAPTR of it), or a
 * name an already tied look-up pointed at (the A of an SRV target). */
static bool relates(const struct lookup *l, const uint64_t *names, size_t nnames,
                    const struct lookup *const *tied, size_t ntied)
{
    for (size_t i = 0; i < nnames; i++)
        if (names[i] && (l->name == names[i] || l->base == names[i]))
            return true;
    for (size_t i = 0; i < ntied; i++)
        for (unsigned k = 0; k < tied[i]->ntargets; k++)
            if (ip_addr_eq(&tied[i]->client, &l->client) && tied[i]->targets[k] == l->name)
                return true;
    return false;
}

static int by_first_query(const void *a, const void *b)
{
    const struct lookup *x = *(const struct lookup *const *)a, *y = *(const struct lookup *const *)b;
    return x->first_query < y->first_query ? -1 : x->first_query > y->first_query;
}

/* Look-ups of one host within [from, to] (by first query; an earlier one that ended
 * within it counts too), that relate to the names: into out (by first query). */
static size_t host_lookups(const struct lookup_table *t, const struct ip_addr *host, ptime_t from,
                           ptime_t to, const uint64_t *names, size_t nnames,
                           const struct lookup **out, size_t cap)
{
    const struct lookup *cand[32];
    size_t nc = 0;
    int steps = 0;
    for (struct lookup *l = live(t, t->head[bucket(t, host)]); l && steps < LOOKUP_WALK;
         l = live(t, l->prev), steps++) {
        ptime_t end = l->answer_time ? l->answer_time : l->last_query + DNS_TIMEOUT;
        if (end < from && l->first_query < from - LOOKUP_RETRY_WINDOW)
            break;
        if (!ip_addr_eq(&l->client, host) || l->first_query > to || end < from)
            continue;
        if (nc < sizeof cand / sizeof cand[0])
            cand[nc++] = l;
    }
    qsort(cand, nc, sizeof cand[0], by_first_query);
    size_t n = 0;
    for (size_t i = 0; i < nc && n < cap; i++) /* in time order: targets before their A */
        if (relates(cand[i], names, nnames, out, n))
            out[n++] = cand[i];
    return n;
}

static int by_query(const void *a, const void *b)
{
    const struct call_dns *x = a, *y = b;
    if (x->query_time != y->query_time)
        return x->query_time < y->query_time ? -1 : 1;
    return (x->query_frame > y->query_frame) - (x->query_frame < y->query_frame);
}

static void copy_out(const struct lookup *l, struct call_dns *d, ptime_t now)
{
    memset(d, 0, sizeof *d);
    d->host = l->client;
    d->server = l->server;
    memcpy(d->qname, l->qname, sizeof d->qname);
    d->qtype = l->qtype;
    d->tries = l->tries;
    d->rcode = l->rcode;
    d->timed_out = l->rcode < 0 && now - l->last_query >= DNS_TIMEOUT;
    d->answers = l->answers;
    memcpy(d->answer, l->answer, sizeof d->answer);
    d->query_time = l->first_query;
    d->answer_time = l->answer_time;
    d->query_frame = l->first_frame;
    d->answer_frame = l->answer_frame;
}

/* What the host sent for the call after time t: its next segment or its answer on the
 * segment it received. */
static void next_sent(const struct call *p, const struct ip_addr *host, ptime_t t,
                      struct call_dns *d)
{
    for (unsigned i = 0; i < p->nsegs; i++) {
        const struct call_seg *s = &p->segs[i];
        ptime_t when = 0;
        uint64_t frame = 0;
        if (ip_addr_eq(&s->src, host) && s->time >= t) {
            when = s->time;
            frame = s->frame;
        } else if (ip_addr_eq(&s->dst, host)) {
            ptime_t a = call_seg_answered(s);
            if (a >= t) {
                when = a;
                frame = a == s->prov_time ? s->prov_frame : s->final_frame;
            }
        }
        if (when && (!d->next_time || when < d->next_time)) {
            d->next_time = when;
            d->next_frame = frame;
        }
    }
}

void lookup_tie(const struct lookup_table *t, struct call *p, ptime_t now)
{
    if (!t || p->dns_tied || !p->nsegs)
        return;
    p->dns_tied = true;
    const struct lookup *found[CALL_MAX_DNS];
    int8_t seg_of[CALL_MAX_DNS];
    bool recv_of[CALL_MAX_DNS];
    size_t n = 0;
    for (unsigned i = 0; i < p->nsegs && n < CALL_MAX_DNS; i++) {
        const struct call_seg *s = &p->segs[i];
        if (!s->names[0] && !s->names[1])
            continue;
        /* its receiver asks after it came, until it forwards or answers it */
        ptime_t until = s->time + LOOKUP_TIE_AFTER;
        if (s->final_time && s->final_time < until)
            until = s->final_time;
        for (unsigned j = i + 1; j < p->nsegs; j++)
            if (ip_addr_eq(&p->segs[j].src, &s->dst) && p->segs[j].time < until)
                until = p->segs[j].time;
        for (int side = 0; side < 2 && n < CALL_MAX_DNS; side++) {
            /* its sender, before sending it; its receiver, after it came */
            const struct lookup *got[CALL_MAX_DNS];
            size_t k = side == 0 ? host_lookups(t, &s->src, s->time - LOOKUP_TIE_BEFORE, s->time,
                                                s->names, 2, got, CALL_MAX_DNS)
                                 : host_lookups(t, &s->dst, s->time, until, s->names, 2, got,
                                                CALL_MAX_DNS);
            for (size_t j = 0; j < k && n < CALL_MAX_DNS; j++) {
                bool dup = false;
                for (size_t q = 0; q < n; q++)
                    dup |= found[q] == got[j];
                if (dup)
                    continue;
                seg_of[n] = (int8_t)i;
                recv_of[n] = side == 1;
                found[n++] = got[j];
            }
        }
    }
    if (!n)
        return;
    p->dns = calloc(n, sizeof *p->dns);
    if (!p->dns)
        return;
    for (size_t i = 0; i < n; i++) {
        struct call_dns *d = &p->dns[i];
        copy_out(found[i], d, now);
        d->seg = seg_of[i];
        d->by_receiver = recv_of[i];
    }
    /* by first query, each with what its host sent next for the call */
    qsort(p->dns, n, sizeof *p->dns, by_query);
    p->ndns = (uint8_t)n;
    lookup_next_sent(p);
}

void lookup_next_sent(struct call *p)
{
    for (unsigned i = 0; i < p->ndns; i++) {
        struct call_dns *d = &p->dns[i];
        d->next_time = 0;
        d->next_frame = 0;
        next_sent(p, &d->host, d->answer_time ? d->answer_time : d->query_time, d);
    }
}
