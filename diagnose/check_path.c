/* The checks of a call's path: DNS look-ups that were slow or failed for it, and a hop that
 * held the INVITE or answered 408/503 after a transaction timer fired. */
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

static const char *qtype_str(uint16_t t)
{
    const char *n = dns_type_name(t);
    return n ? n : "?";
}

#define MAX_PATH_ISSUES 3 /* of each kind per call: one cause seldom needs more */

void check_dns_slow(struct issue_engine *e, const struct call *c)
{
    unsigned emitted = 0;
    for (unsigned i = 0; i < c->ndns && emitted < MAX_PATH_ISSUES; i++) {
        const struct call_dns *d = &c->dns[i];
        if (!d->answer_time)
            continue;
        double took = issue_ms(d->query_time, d->answer_time);
        if (took <= e->cfg.dns_slow_warn_ms)
            continue;
        char host[64], server[64], rc[16];
        issue_ip(&d->host, host, sizeof host);
        issue_ip(&d->server, server, sizeof server);
        struct issue is;
        issue_init(&is, ISSUE_DNS_SLOW, issue_band(took, e->cfg.dns_slow_warn_ms, e->cfg.dns_slow_crit_ms),
                   d->query_time);
        is.call_seq = c->seq;
        issue_frame(&is, d->query_frame);
        issue_frame(&is, d->answer_frame);
        issue_frame(&is, d->next_frame);
        issue_ev_str(&is, "host", "%s", host);
        issue_ev_str(&is, "server", "%s", server);
        issue_ev_str(&is, "name", "%s", d->qname);
        issue_ev_str(&is, "type", "%s", qtype_str(d->qtype));
        issue_ev_str(&is, "rcode", "%s", dns_rcode_name((uint8_t)d->rcode, rc, sizeof rc));
        issue_ev_num(&is, "duration_ms", took);
        issue_ev_num(&is, "tries", d->tries);
        issue_ev_num(&is, "threshold_ms", e->cfg.dns_slow_warn_ms);
        if (d->next_time)
            issue_ev_num(&is, "wait_ms", issue_ms(d->query_time, d->next_time));
        bool invite = false; /* what waited: an INVITE it sent next, or its answer */
        for (unsigned k = 0; k < c->nsegs && d->next_frame; k++)
            invite |= c->segs[k].frame == d->next_frame;
        issue_say(is.summary, sizeof is.summary, "%s's %s look-up of %s took %.1f s%s", host,
            qtype_str(d->qtype), d->qname, took / 1000,
            !d->next_time ? ""
            : invite      ? (d->by_receiver ? " before it forwarded the INVITE" : " before its INVITE went out")
                          : " before it answered the INVITE");
        if (d->tries > 1)
            issue_say(is.diagnosis, sizeof is.diagnosis,
                "%s asked %u times before %s answered: the first query went unanswered and its "
                "resolver waited for its timeout before retrying. The call stood still for "
                "those %.1f s. Check the DNS servers %s is configured with (the first one is not "
                "answering, or a firewall drops its UDP port 53), and shorten the resolver's "
                "timeout or put a caching resolver next to %s.",
                host, d->tries, server, took / 1000, host, host);
        else
            issue_say(is.diagnosis, sizeof is.diagnosis,
                "The DNS server %s took %.1f s to answer %s's %s query for %s, and the call "
                "waited for it. A server this slow is usually recursing to a distant or "
                "struggling authoritative server, or is overloaded. Check %s's response times; "
                "a caching resolver near %s, or static records for the SIP domain, take the "
                "look-up off the call's path.",
                server, took / 1000, host, qtype_str(d->qtype), d->qname, server, host);
        issue_emit(e, &is);
        emitted++;
    }
}

/* A host of the path could not resolve what it needed: each of its look-ups for the call
 * failed (NXDOMAIN, SERVFAIL, an empty answer or none at all) and none gave a record. A
 * failure beside a success is RFC 3263's fallback at work (no NAPTR, then SRV, then A). */
void check_dns_failure(struct issue_engine *e, const struct call *c)
{
    unsigned emitted = 0;
    for (unsigned i = 0; i < c->ndns && emitted < MAX_PATH_ISSUES; i++) {
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
            continue;
        char host[64], server[64], rc[16], list[112] = "";
        issue_ip(&d->host, host, sizeof host);
        issue_ip(&d->server, server, sizeof server);
        /* did the host send the INVITE on all the same (a cached address, a fallback)? */
        const struct call_seg *sent = NULL;
        for (unsigned k = 0; k < c->nsegs && !sent; k++)
            if (ip_addr_eq(&c->segs[k].src, &d->host) && c->segs[k].time >= d->query_time)
                sent = &c->segs[k];
        struct issue is;
        issue_init(&is, ISSUE_DNS_FAILURE, sent ? SEV_WARNING : SEV_CRITICAL, d->query_time);
        is.call_seq = c->seq;
        int worst = -2; /* what the answers said: NXDOMAIN over SERVFAIL over none */
        unsigned n = 0;
        for (unsigned k = i; k < c->ndns; k++) {
            const struct call_dns *o = &c->dns[k];
            if (!ip_addr_eq(&o->host, &d->host))
                continue;
            issue_frame(&is, o->answer_frame ? o->answer_frame : o->query_frame);
            char tries[24] = "";
            if (o->tries > 1)
                snprintf(tries, sizeof tries, " (%u tries)", o->tries);
            issue_more(list, sizeof list, "%s%s %s%s", n++ ? ", " : "", qtype_str(o->qtype),
                 o->rcode >= 0 ? (o->rcode == 0 ? "NODATA" : dns_rcode_name((uint8_t)o->rcode, rc, sizeof rc))
                               : "no answer", o->rcode >= 0 ? "" : tries);
            if (o->rcode == DNS_NXDOMAIN || (o->rcode > worst && worst != DNS_NXDOMAIN))
                worst = o->rcode;
        }
        const struct call_seg *s = d->seg >= 0 && d->seg < c->nsegs ? &c->segs[d->seg] : NULL;
        issue_frame(&is, s ? s->frame : c->first_frame);
        issue_frame(&is, c->final_frame);
        issue_ev_str(&is, "host", "%s", host);
        issue_ev_str(&is, "server", "%s", server);
        issue_ev_str(&is, "name", "%s", d->qname);
        issue_ev_str(&is, "answers", "%s", list);
        issue_ev_num(&is, "lookups", n);
        if (c->final_status)
            issue_ev_num(&is, "final_status", c->final_status);
        if (sent) {
            issue_frame(&is, sent->frame);
            issue_ev_num(&is, "invite_after_ms", issue_ms(d->query_time, sent->time));
        }
        issue_say(is.summary, sizeof is.summary, "%s could not resolve %s: %s", host, d->qname, list);
        if (sent)
            issue_more(is.summary, sizeof is.summary, "; its INVITE went out %.1f s after the first query",
                 issue_ms(d->query_time, sent->time) / 1000);
        if (worst == DNS_NXDOMAIN)
            issue_say(is.diagnosis, sizeof is.diagnosis,
                "DNS says %s does not exist (NXDOMAIN from %s), so %s had nowhere to send the "
                "INVITE. Usually a typo in the dialled URI or in a routing rule that builds it, "
                "a SIP domain whose zone or records are missing, or a split-horizon DNS whose "
                "view for %s lacks the internal names. Check the Request-URI and the records "
                "of the domain as %s's resolver sees them.",
                d->qname, server, host, host, host);
        else if (worst == DNS_SERVFAIL)
            issue_say(is.diagnosis, sizeof is.diagnosis,
                "The DNS server %s failed to answer %s's questions (SERVFAIL): it could not "
                "reach the domain's authoritative servers, or DNSSEC validation failed. The "
                "domain may exist; the resolver is what is broken. Check %s's logs and its path "
                "to the internet, or point %s at another resolver.",
                server, host, server, host);
        else if (worst == -1)
            issue_say(is.diagnosis, sizeof is.diagnosis,
                "No DNS server answered %s (last asked: %s): the resolver is down or a firewall "
                "drops port 53 between them. The call could not be routed while DNS was "
                "silent. Check that %s reaches its resolvers over UDP and TCP port 53.",
                host, server, host);
        else
            issue_say(is.diagnosis, sizeof is.diagnosis,
                "The domain exists but holds none of the records a SIP client looks for (RFC "
                "3263: NAPTR, SRV for _sip._udp/_sip._tcp/_sips._tcp, then A/AAAA), so %s "
                "found no address for it. Add the SRV (or A) records of the SIP service, or "
                "route the call by address.",
                host);
        if (sent)
            issue_more(is.diagnosis, sizeof is.diagnosis,
                 " %s sent the INVITE %.1f s after its first query all the same (an address it "
                 "had cached, or a fallback to the A record or an outbound proxy): the caller "
                 "waited that long for a look-up that could not succeed.",
                 host, issue_ms(d->query_time, sent->time) / 1000);
        else if (c->final_status && !c->answer_time)
            issue_more(is.diagnosis, sizeof is.diagnosis, " The call ended %d.", c->final_status);
        issue_emit(e, &is);
        emitted++;
    }
}

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

void check_hops(struct issue_engine *e, const struct call *c)
{
    unsigned held = 0, timers = 0;
    for (unsigned i = 0; i < c->nsegs; i++) {
        const struct call_seg *out = &c->segs[i];
        if (out->parent < 0 || held == MAX_PATH_ISSUES)
            continue;
        const struct call_seg *in = &c->segs[out->parent];
        double ms = issue_ms(in->time, out->time);
        if (ms <= e->cfg.hop_hold_warn_ms ||
            ms - dns_within(c, &in->dst, in->time, out->time) <= e->cfg.hop_hold_warn_ms)
            continue; /* fast, or waiting on DNS: dns_slow says so */
        char host[IP_ADDR_PORT_STRLEN], from[IP_ADDR_PORT_STRLEN], to[IP_ADDR_PORT_STRLEN];
        ip_addr_port_str(&in->dst, in->dport, host, sizeof host);
        ip_addr_port_str(&in->src, in->sport, from, sizeof from);
        ip_addr_port_str(&out->dst, out->dport, to, sizeof to);
        struct issue is;
        issue_init(&is, ISSUE_SLOW_HOP, issue_band(ms, e->cfg.hop_hold_warn_ms, e->cfg.hop_hold_crit_ms),
                   in->time);
        is.call_seq = c->seq;
        issue_frame(&is, in->frame);
        issue_frame(&is, in->trying_frame);
        issue_frame(&is, out->frame);
        issue_ev_str(&is, "host", "%s", host);
        issue_ev_str(&is, "from", "%s", from);
        issue_ev_str(&is, "to", "%s", to);
        issue_ev_num(&is, "held_ms", ms);
        issue_ev_num(&is, "threshold_ms", e->cfg.hop_hold_warn_ms);
        if (in->trying_time)
            issue_ev_num(&is, "trying_ms", issue_ms(in->time, in->trying_time));
        issue_say(is.summary, sizeof is.summary, "%s held the INVITE %.1f s before forwarding it to %s",
            host, ms / 1000, to);
        issue_say(is.diagnosis, sizeof is.diagnosis,
            "%s received the INVITE from %s (frame %llu) and sent it on to %s only %.1f s later "
            "(frame %llu)%s. A hop that holds a request this long is waiting on something "
            "before it routes: a DNS look-up this capture does not show (it may use a resolver "
            "on another path), a database or number-portability dip, a slow routing script, or "
            "overload. Check %s's logs and load at that time.",
            host, from, (unsigned long long)in->frame, to, ms / 1000,
            (unsigned long long)out->frame,
            in->trying_time ? ", though it answered 100 Trying at once" : "", host);
        issue_emit(e, &is);
        held++;
    }
    /* a hop that answered 408/503 once its transaction timer fired: it forwarded the
     * INVITE, the next hop never answered, and the caller waited the whole timer */
    for (unsigned i = 0; i < c->nsegs && timers < MAX_PATH_ISSUES; i++) {
        const struct call_seg *s = &c->segs[i];
        if ((s->final_status != 408 && s->final_status != 503) || !s->final_time)
            continue;
        const struct call_seg *out = NULL;
        for (unsigned k = i + 1; k < c->nsegs && !out; k++)
            if (c->segs[k].parent == (int8_t)i)
                out = &c->segs[k];
        ptime_t since = out ? out->time : s->time;
        double ms = issue_ms(since, s->final_time);
        if (ms < e->cfg.hop_timeout_ms)
            continue;
        char host[IP_ADDR_PORT_STRLEN], to[IP_ADDR_PORT_STRLEN] = "";
        ip_addr_port_str(&s->dst, s->dport, host, sizeof host);
        if (out)
            ip_addr_port_str(&out->dst, out->dport, to, sizeof to);
        struct issue is;
        issue_init(&is, ISSUE_SLOW_HOP, SEV_CRITICAL, s->time);
        is.call_seq = c->seq;
        issue_frame(&is, s->frame);
        issue_frame(&is, out ? out->frame : 0);
        issue_frame(&is, s->final_frame);
        issue_ev_str(&is, "host", "%s", host);
        issue_ev_num(&is, "status", s->final_status);
        issue_ev_num(&is, "after_ms", ms);
        issue_ev_num(&is, "threshold_ms", e->cfg.hop_timeout_ms);
        if (out) {
            issue_ev_str(&is, "to", "%s", to);
            issue_ev_num(&is, "forwarded_copies", out->copies + 1);
            issue_ev_str(&is, "downstream_answer", "%s",
                   out->final_status ? "final" : out->prov_time ? "provisional"
                                                 : out->trying_time ? "100 Trying" : "none");
        }
        issue_say(is.summary, sizeof is.summary, "%s answered %d after %.1f s%s%s%s", host,
            s->final_status, ms / 1000, out ? ": " : "", out ? to : "",
            out ? (out->trying_time || out->prov_time ? " answered too late" : " never answered")
                : "");
        if (out)
            issue_say(is.diagnosis, sizeof is.diagnosis,
                "%s forwarded the INVITE to %s (frame %llu, sent %u times) and got %s back, so "
                "it waited for its transaction timer (RFC 3261 Timer B/C, 64*T1 = 32 s) before "
                "giving up with %d. The caller waited the whole time. %s is down, unreachable "
                "or dropping SIP. Check it, and have %s fail over sooner: a shorter INVITE "
                "timer (fr_timer), a backup route, or a destination marked dead by OPTIONS "
                "probing.",
                host, to, (unsigned long long)out->frame, out->copies + 1,
                out->trying_time || out->prov_time ? "no final answer" : "nothing", s->final_status,
                to, host);
        else
            issue_say(is.diagnosis, sizeof is.diagnosis,
                "%s answered %d %.1f s after the INVITE reached it: a transaction timer fired "
                "on its way on (RFC 3261 Timer B/C, 64*T1 = 32 s). Where it forwarded the "
                "INVITE is not in this capture: capture on %s's far side too, and check the "
                "next hop it routes to and how soon it fails over.",
                host, s->final_status, ms / 1000, host);
        issue_emit(e, &is);
        timers++;
    }
}
