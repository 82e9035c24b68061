/* The checks of a call's path: DNS look-ups that were slow or failed for it, and a hop that
 * held the INVITE or answered 408/503 after a transaction timer fired. Each check is a
 * verdict on one look-up or one hop (the frames and figures that prove it) and the words
 * that explain that verdict. */
#include "checks.h"

#include <stdio.h>

#include "builder.h"
#include "decode/dns.h"

static const char *qtype_str(uint16_t t)
{
    const char *n = dns_type_name(t);
    return n ? n : "?";
}

#define MAX_PATH_ISSUES 3 /* of each kind per call: one cause seldom needs more */

/* ---- dns_slow: a look-up the call waited for ---- */

struct dns_slow_finding {
    char host[64], server[64];
    const char *qname, *qtype; /* borrowed from the call */
    double took_ms;
    unsigned tries;
    enum { WAITED_NOTHING, WAITED_FORWARD, WAITED_SEND, WAITED_ANSWER } waited;
};

/* The i-th look-up of the call. */
static bool dns_slow_verdict(const struct issue_config *cfg, const struct call *c, unsigned i,
                             struct issue *is, struct dns_slow_finding *f)
{
    const struct call_dns *d = &c->dns[i];
    if (!d->answer_time)
        return false;
    double took = issue_ms(d->query_time, d->answer_time);
    if (took <= cfg->dns_slow_warn_ms)
        return false;
    char rc[16];
    issue_ip(&d->host, f->host, sizeof f->host);
    issue_ip(&d->server, f->server, sizeof f->server);
    issue_init(is, ISSUE_DNS_SLOW, issue_band(took, cfg->dns_slow_warn_ms, cfg->dns_slow_crit_ms),
               d->query_time);
    is->call_seq = c->seq;
    issue_frame(is, d->query_frame);
    issue_frame(is, d->answer_frame);
    issue_frame(is, d->next_frame);
    issue_ev_str(is, "host", "%s", f->host);
    issue_ev_str(is, "server", "%s", f->server);
    issue_ev_str(is, "name", "%s", d->qname);
    issue_ev_str(is, "type", "%s", qtype_str(d->qtype));
    issue_ev_str(is, "rcode", "%s", dns_rcode_name((uint8_t)d->rcode, rc, sizeof rc));
    issue_ev_num(is, "duration_ms", took);
    issue_ev_num(is, "tries", d->tries);
    issue_ev_num(is, "threshold_ms", cfg->dns_slow_warn_ms);
    if (d->next_time)
        issue_ev_num(is, "wait_ms", issue_ms(d->query_time, d->next_time));
    bool invite = false; /* what waited: an INVITE it sent next, or its answer */
    for (unsigned k = 0; k < c->nsegs && d->next_frame; k++)
        invite |= c->segs[k].frame == d->next_frame;
    f->qname = d->qname;
    f->qtype = qtype_str(d->qtype);
    f->took_ms = took;
    f->tries = d->tries;
    f->waited = !d->next_time ? WAITED_NOTHING
                : invite      ? (d->by_receiver ? WAITED_FORWARD : WAITED_SEND)
                              : WAITED_ANSWER;
    return true;
}

static void dns_slow_words(struct issue *is, const struct dns_slow_finding *f)
{
    static const char *const before[] = {
        [WAITED_NOTHING] = "",
        [WAITED_FORWARD] = " before it forwarded the INVITE",
        [WAITED_SEND] = " before its INVITE went out",
        [WAITED_ANSWER] = " before it answered the INVITE",
    };
    issue_say(is->summary, sizeof is->summary, "%s's %s look-up of %s took %.1f s%s", f->host,
              f->qtype, f->qname, f->took_ms / 1000, before[f->waited]);
    if (f->tries > 1)
        issue_say(is->diagnosis, sizeof is->diagnosis,
                  "%s asked %u times before %s answered: the first query went unanswered and "
                  "its resolver waited for its timeout before retrying. The call stood still for "
                  "those %.1f s. Check the DNS servers %s is configured with (the first one is "
                  "not answering, or a firewall drops its UDP port 53), and shorten the "
                  "resolver's timeout or put a caching resolver next to %s.",
                  f->host, f->tries, f->server, f->took_ms / 1000, f->host, f->host);
    else
        issue_say(is->diagnosis, sizeof is->diagnosis,
                  "The DNS server %s took %.1f s to answer %s's %s query for %s, and the call "
                  "waited for it. A server this slow is usually recursing to a distant or "
                  "struggling authoritative server, or is overloaded. Check %s's response "
                  "times; a caching resolver near %s, or static records for the SIP domain, take "
                  "the look-up off the call's path.",
                  f->server, f->took_ms / 1000, f->host, f->qtype, f->qname, f->server, f->host);
}

void check_dns_slow(struct issue_engine *e, const struct call *c)
{
    unsigned emitted = 0;
    for (unsigned i = 0; i < c->ndns && emitted < MAX_PATH_ISSUES; i++) {
        struct issue is;
        struct dns_slow_finding f;
        if (!dns_slow_verdict(&e->cfg, c, i, &is, &f))
            continue;
        dns_slow_words(&is, &f);
        issue_emit(e, &is);
        emitted++;
    }
}

/* ---- dns_failure ---- */

struct dns_failure_finding {
    char host[64], server[64], list[112]; /* list: each look-up and what it got */
    const char *qname;     /* borrowed from the call */
    int worst;             /* DNS_NXDOMAIN, DNS_SERVFAIL, -1 no answer, else no records */
    bool sent;             /* the host sent the INVITE all the same ... */
    double sent_after_ms;  /* ... this long after its first query */
    int final_status;      /* 0 none; told only when the call was not answered */
};

/* The i-th look-up, when it is its host's first and each of that host's look-ups for the
 * call failed (NXDOMAIN, SERVFAIL, an empty answer or none at all) and none gave a record.
 * A failure beside a success is RFC 3263's fallback at work (no NAPTR, then SRV, then A). */
static bool dns_failure_verdict(const struct call *c, unsigned i, struct issue *is,
                                struct dns_failure_finding *f)
{
    const struct call_dns *d = &c->dns[i];
    bool first = true, ok = false, concluded = false;
    for (unsigned k = 0; k < c->ndns; k++) {
        const struct call_dns *o = &c->dns[k];
        if (!ip_addr_eq(&o->host, &d->host))
            continue;
        if (k < i)
            first = false;
        ok |= o->rcode == DNS_NOERROR && o->answers > 0;
        concluded |= o->rcode >= 0 || o->timed_out;
    }
    if (!first || ok || !concluded)
        return false;
    char rc[16];
    f->list[0] = 0;
    issue_ip(&d->host, f->host, sizeof f->host);
    issue_ip(&d->server, f->server, sizeof f->server);
    /* did the host send the INVITE on all the same (a cached address, a fallback)? */
    const struct call_seg *sent = NULL;
    for (unsigned k = 0; k < c->nsegs && !sent; k++)
        if (ip_addr_eq(&c->segs[k].src, &d->host) && c->segs[k].time >= d->query_time)
            sent = &c->segs[k];
    issue_init(is, ISSUE_DNS_FAILURE, sent ? SEV_WARNING : SEV_CRITICAL, d->query_time);
    is->call_seq = c->seq;
    int worst = -2; /* what the answers said: NXDOMAIN over SERVFAIL over none */
    unsigned n = 0;
    for (unsigned k = i; k < c->ndns; k++) {
        const struct call_dns *o = &c->dns[k];
        if (!ip_addr_eq(&o->host, &d->host))
            continue;
        issue_frame(is, o->answer_frame ? o->answer_frame : o->query_frame);
        char tries[24] = "";
        if (o->tries > 1)
            snprintf(tries, sizeof tries, " (%u tries)", o->tries);
        issue_more(f->list, sizeof f->list, "%s%s %s%s", n++ ? ", " : "", qtype_str(o->qtype),
                   o->rcode >= 0 ? (o->rcode == 0 ? "NODATA"
                                                  : dns_rcode_name((uint8_t)o->rcode, rc, sizeof rc))
                                 : "no answer",
                   o->rcode >= 0 ? "" : tries);
        if (o->rcode == DNS_NXDOMAIN || (o->rcode > worst && worst != DNS_NXDOMAIN))
            worst = o->rcode;
    }
    const struct call_seg *s = d->seg >= 0 && d->seg < c->nsegs ? &c->segs[d->seg] : NULL;
    issue_frame(is, s ? s->frame : c->first_frame);
    issue_frame(is, c->final_frame);
    issue_ev_str(is, "host", "%s", f->host);
    issue_ev_str(is, "server", "%s", f->server);
    issue_ev_str(is, "name", "%s", d->qname);
    issue_ev_str(is, "answers", "%s", f->list);
    issue_ev_num(is, "lookups", n);
    if (c->final_status)
        issue_ev_num(is, "final_status", c->final_status);
    f->sent = sent != NULL;
    f->sent_after_ms = sent ? issue_ms(d->query_time, sent->time) : 0;
    if (sent) {
        issue_frame(is, sent->frame);
        issue_ev_num(is, "invite_after_ms", f->sent_after_ms);
    }
    f->qname = d->qname;
    f->worst = worst;
    f->final_status = c->final_status && !c->answer_time ? c->final_status : 0;
    return true;
}

static void dns_failure_words(struct issue *is, const struct dns_failure_finding *f)
{
    const char *host = f->host, *server = f->server;
    issue_say(is->summary, sizeof is->summary, "%s could not resolve %s: %s", host, f->qname,
              f->list);
    if (f->sent)
        issue_more(is->summary, sizeof is->summary,
                   "; its INVITE went out %.1f s after the first query", f->sent_after_ms / 1000);
    if (f->worst == DNS_NXDOMAIN)
        issue_say(is->diagnosis, sizeof is->diagnosis,
                  "DNS says %s does not exist (NXDOMAIN from %s), so %s had nowhere to send the "
                  "INVITE. Usually a typo in the dialled URI or in a routing rule that builds it, "
                  "a SIP domain whose zone or records are missing, or a split-horizon DNS whose "
                  "view for %s lacks the internal names. Check the Request-URI and the records "
                  "of the domain as %s's resolver sees them.",
                  f->qname, server, host, host, host);
    else if (f->worst == DNS_SERVFAIL)
        issue_say(is->diagnosis, sizeof is->diagnosis,
                  "The DNS server %s failed to answer %s's questions (SERVFAIL): it could not "
                  "reach the domain's authoritative servers, or DNSSEC validation failed. The "
                  "domain may exist; the resolver is what is broken. Check %s's logs and its "
                  "path to the internet, or point %s at another resolver.",
                  server, host, server, host);
    else if (f->worst == -1)
        issue_say(is->diagnosis, sizeof is->diagnosis,
                  "No DNS server answered %s (last asked: %s): the resolver is down or a "
                  "firewall drops port 53 between them. The call could not be routed while DNS "
                  "was silent. Check that %s reaches its resolvers over UDP and TCP port 53.",
                  host, server, host);
    else
        issue_say(is->diagnosis, sizeof is->diagnosis,
                  "The domain exists but holds none of the records a SIP client looks for (RFC "
                  "3263: NAPTR, SRV for _sip._udp/_sip._tcp/_sips._tcp, then A/AAAA), so %s "
                  "found no address for it. Add the SRV (or A) records of the SIP service, or "
                  "route the call by address.",
                  host);
    if (f->sent)
        issue_more(is->diagnosis, sizeof is->diagnosis,
                   " %s sent the INVITE %.1f s after its first query all the same (an address it "
                   "had cached, or a fallback to the A record or an outbound proxy): the caller "
                   "waited that long for a look-up that could not succeed.",
                   host, f->sent_after_ms / 1000);
    else if (f->final_status)
        issue_more(is->diagnosis, sizeof is->diagnosis, " The call ended %d.", f->final_status);
}

void check_dns_failure(struct issue_engine *e, const struct call *c)
{
    unsigned emitted = 0;
    for (unsigned i = 0; i < c->ndns && emitted < MAX_PATH_ISSUES; i++) {
        struct issue is;
        struct dns_failure_finding f;
        if (!dns_failure_verdict(c, i, &is, &f))
            continue;
        dns_failure_words(&is, &f);
        issue_emit(e, &is);
        emitted++;
    }
}

/* ---- slow_hop ---- */

/* The time the look-ups of a host took within [from, to]: a hold they explain is theirs. */
static double dns_within(const struct call *c, const struct ip_addr *host, ptime_t from, ptime_t to)
{
    double ms = 0;
    for (unsigned i = 0; i < c->ndns; i++) {
        const struct call_dns *d = &c->dns[i];
        if (ip_addr_eq(&d->host, host) && d->query_time >= from && d->query_time <= to)
            ms += issue_ms(d->query_time, d->answer_time ? d->answer_time : to);
    }
    return ms;
}

/* A hop held the INVITE: segment i was forwarded long after its parent arrived. */
struct hop_held_finding {
    char host[IP_ADDR_PORT_STRLEN], from[IP_ADDR_PORT_STRLEN], to[IP_ADDR_PORT_STRLEN];
    double ms;
    unsigned long long in_frame, out_frame;
    bool trying;           /* it answered 100 Trying at once */
};

static bool hop_held_verdict(const struct issue_config *cfg, const struct call *c, unsigned i,
                             struct issue *is, struct hop_held_finding *f)
{
    const struct call_seg *out = &c->segs[i];
    if (out->parent < 0)
        return false;
    const struct call_seg *in = &c->segs[out->parent];
    double ms = issue_ms(in->time, out->time);
    if (ms <= cfg->hop_hold_warn_ms ||
        ms - dns_within(c, &in->dst, in->time, out->time) <= cfg->hop_hold_warn_ms)
        return false; /* fast, or waiting on DNS: dns_slow says so */
    ip_addr_port_str(&in->dst, in->dport, f->host, sizeof f->host);
    ip_addr_port_str(&in->src, in->sport, f->from, sizeof f->from);
    ip_addr_port_str(&out->dst, out->dport, f->to, sizeof f->to);
    issue_init(is, ISSUE_SLOW_HOP, issue_band(ms, cfg->hop_hold_warn_ms, cfg->hop_hold_crit_ms),
               in->time);
    is->call_seq = c->seq;
    issue_frame(is, in->frame);
    issue_frame(is, in->trying_frame);
    issue_frame(is, out->frame);
    issue_ev_str(is, "host", "%s", f->host);
    issue_ev_str(is, "from", "%s", f->from);
    issue_ev_str(is, "to", "%s", f->to);
    issue_ev_num(is, "held_ms", ms);
    issue_ev_num(is, "threshold_ms", cfg->hop_hold_warn_ms);
    if (in->trying_time)
        issue_ev_num(is, "trying_ms", issue_ms(in->time, in->trying_time));
    f->ms = ms;
    f->in_frame = in->frame;
    f->out_frame = out->frame;
    f->trying = in->trying_time != 0;
    return true;
}

static void hop_held_words(struct issue *is, const struct hop_held_finding *f)
{
    issue_say(is->summary, sizeof is->summary, "%s held the INVITE %.1f s before forwarding it to %s",
              f->host, f->ms / 1000, f->to);
    issue_say(is->diagnosis, sizeof is->diagnosis,
              "%s received the INVITE from %s (frame %llu) and sent it on to %s only %.1f s later "
              "(frame %llu)%s. A hop that holds a request this long is waiting on something "
              "before it routes: a DNS look-up this capture does not show (it may use a resolver "
              "on another path), a database or number-portability dip, a slow routing script, "
              "or overload. Check %s's logs and load at that time.",
              f->host, f->from, f->in_frame, f->to, f->ms / 1000, f->out_frame,
              f->trying ? ", though it answered 100 Trying at once" : "", f->host);
}

/* A hop answered 408/503 once its transaction timer fired: it forwarded the INVITE, the
 * next hop never answered, and the caller waited the whole timer. */
struct hop_timer_finding {
    char host[IP_ADDR_PORT_STRLEN], to[IP_ADDR_PORT_STRLEN];
    int status;
    double ms;
    bool forwarded;        /* the capture shows where it sent the INVITE ... */
    bool answered;         /* ... and the next hop answered something, too late */
    unsigned long long out_frame;
    unsigned out_copies;
};

static bool hop_timer_verdict(const struct issue_config *cfg, const struct call *c, unsigned i,
                              struct issue *is, struct hop_timer_finding *f)
{
    const struct call_seg *s = &c->segs[i];
    if ((s->final_status != 408 && s->final_status != 503) || !s->final_time)
        return false;
    const struct call_seg *out = NULL;
    for (unsigned k = i + 1; k < c->nsegs && !out; k++)
        if (c->segs[k].parent == (int8_t)i)
            out = &c->segs[k];
    ptime_t since = out ? out->time : s->time;
    double ms = issue_ms(since, s->final_time);
    if (ms < cfg->hop_timeout_ms)
        return false;
    f->to[0] = 0;
    ip_addr_port_str(&s->dst, s->dport, f->host, sizeof f->host);
    if (out)
        ip_addr_port_str(&out->dst, out->dport, f->to, sizeof f->to);
    issue_init(is, ISSUE_SLOW_HOP, SEV_CRITICAL, s->time);
    is->call_seq = c->seq;
    issue_frame(is, s->frame);
    issue_frame(is, out ? out->frame : 0);
    issue_frame(is, s->final_frame);
    issue_ev_str(is, "host", "%s", f->host);
    issue_ev_num(is, "status", s->final_status);
    issue_ev_num(is, "after_ms", ms);
    issue_ev_num(is, "threshold_ms", cfg->hop_timeout_ms);
    if (out) {
        issue_ev_str(is, "to", "%s", f->to);
        issue_ev_num(is, "forwarded_copies", out->copies + 1);
        issue_ev_str(is, "downstream_answer", "%s",
                     out->final_status ? "final"
                     : out->prov_time  ? "provisional"
                     : out->trying_time ? "100 Trying"
                                        : "none");
    }
    f->status = s->final_status;
    f->ms = ms;
    f->forwarded = out != NULL;
    f->answered = out && (out->trying_time || out->prov_time);
    f->out_frame = out ? out->frame : 0;
    f->out_copies = out ? out->copies + 1u : 0;
    return true;
}

static void hop_timer_words(struct issue *is, const struct hop_timer_finding *f)
{
    issue_say(is->summary, sizeof is->summary, "%s answered %d after %.1f s%s%s%s", f->host,
              f->status, f->ms / 1000, f->forwarded ? ": " : "", f->forwarded ? f->to : "",
              !f->forwarded ? "" : f->answered ? " answered too late" : " never answered");
    if (f->forwarded)
        issue_say(is->diagnosis, sizeof is->diagnosis,
                  "%s forwarded the INVITE to %s (frame %llu, sent %u times) and got %s back, so "
                  "it waited for its transaction timer (RFC 3261 Timer B/C, 64*T1 = 32 s) before "
                  "giving up with %d. The caller waited the whole time. %s is down, unreachable "
                  "or dropping SIP. Check it, and have %s fail over sooner: a shorter INVITE "
                  "timer (fr_timer), a backup route, or a destination marked dead by OPTIONS "
                  "probing.",
                  f->host, f->to, f->out_frame, f->out_copies,
                  f->answered ? "no final answer" : "nothing", f->status, f->to, f->host);
    else
        issue_say(is->diagnosis, sizeof is->diagnosis,
                  "%s answered %d %.1f s after the INVITE reached it: a transaction timer fired "
                  "on its way on (RFC 3261 Timer B/C, 64*T1 = 32 s). Where it forwarded the "
                  "INVITE is not in this capture: capture on %s's far side too, and check the "
                  "next hop it routes to and how soon it fails over.",
                  f->host, f->status, f->ms / 1000, f->host);
}

void check_hops(struct issue_engine *e, const struct call *c)
{
    unsigned held = 0, timers = 0;
    for (unsigned i = 0; i < c->nsegs && held < MAX_PATH_ISSUES; i++) {
        struct issue is;
        struct hop_held_finding f;
        if (!hop_held_verdict(&e->cfg, c, i, &is, &f))
            continue;
        hop_held_words(&is, &f);
        issue_emit(e, &is);
        held++;
    }
    for (unsigned i = 0; i < c->nsegs && timers < MAX_PATH_ISSUES; i++) {
        struct issue is;
        struct hop_timer_finding f;
        if (!hop_timer_verdict(&e->cfg, c, i, &is, &f))
            continue;
        hop_timer_words(&is, &f);
        issue_emit(e, &is);
        timers++;
    }
}
