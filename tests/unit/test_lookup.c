/* DNS look-ups beside SIP (correlate/lookup.c, issue 12): a question asked again is one
 * look-up with its tries; its answer comes back to the asking host; a call's INVITE takes
 * the look-ups of its sender before it went out (and of its receiver after it came) that
 * resolve its domain: the name itself in any case, with or without the root's dot, its
 * _sip._udp SRV, and the target the SRV named; not a look-up of another domain, and not
 * one that ended long before. Old look-ups leave the ring in order. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"
#include "correlate/correlate_int.h"
#include "decode/dns.h"

#define SEED 7
#define MS (PTIME_SEC / 1000)
static const ptime_t T0 = (ptime_t)1700000000 * PTIME_SEC;

static struct ip_addr ip4(unsigned a, unsigned b, unsigned c, unsigned d)
{
    struct ip_addr x = {.family = 4, .b = {(uint8_t)a, (uint8_t)b, (uint8_t)c, (uint8_t)d}};
    return x;
}

static const struct ip_addr *UA, *NS1, *NS2, *OTHER;
static struct ip_addr ua, ns1, ns2, other;

static void setup(void)
{
    ua = ip4(192, 0, 2, 1);
    ns1 = ip4(192, 0, 2, 53);
    ns2 = ip4(192, 0, 2, 54);
    other = ip4(192, 0, 2, 9);
    UA = &ua;
    NS1 = &ns1;
    NS2 = &ns2;
    OTHER = &other;
}

static uint64_t next_frame = 1;
static struct dns_msg msg; /* large: not on the stack */

/* One DNS message from src to dst at t (ms after T0); an answer names target when given. */
static void dns(struct lookup_table *t, struct correlate_stats *st, const struct ip_addr *src,
                const struct ip_addr *dst, double at_ms, const char *qname, uint16_t qtype,
                bool response, int rcode, const char *target)
{
    struct packet pkt = {.frame = next_frame++, .ts = T0 + (ptime_t)(at_ms * MS)};
    struct l4_packet l4 = {.pkt = &pkt, .src = *src, .dst = *dst, .sport = response ? 53 : 40000,
                           .dport = response ? 40000 : 53};
    memset(&msg, 0, sizeof msg);
    msg.response = response;
    msg.rcode = (uint8_t)rcode;
    msg.have_question = true;
    snprintf(msg.qname, sizeof msg.qname, "%s", qname);
    msg.qtype = qtype;
    if (response && target) {
        msg.nanswers = msg.nanswers_seen = 1;
        msg.answers[0].type = qtype;
        snprintf(msg.answers[0].target, sizeof msg.answers[0].target, "%s", target);
    } else if (response && rcode == 0) {
        msg.nanswers = msg.nanswers_seen = 1;
        msg.answers[0].type = qtype;
        msg.answers[0].addr = ip4(198, 51, 100, 7);
    }
    lookup_observe(t, &l4, &msg, st);
}

/* A call whose one INVITE left the UA at t (ms) for a URI of domain. */
static struct call *call_to(const char *domain, double at_ms)
{
    struct call *c = calloc(1, sizeof *c);
    c->segs = calloc(1, sizeof *c->segs);
    c->nsegs = c->segs_cap = 1;
    c->segs[0].src = ua;
    c->segs[0].dst = other;
    c->segs[0].parent = -1;
    c->segs[0].time = T0 + (ptime_t)(at_ms * MS);
    c->segs[0].frame = next_frame++;
    c->segs[0].names[0] = dns_name_hash(domain, strlen(domain), SEED);
    return c;
}

static void call_free(struct call *c)
{
    free(c->segs);
    free(c->dns);
    free(c);
}

Test(lookup, a_retry_to_the_next_server_is_one_look_up, .init = setup)
{
    struct lookup_table *t = lookup_table_new(SEED);
    struct correlate_stats st = {0};
    dns(t, &st, UA, NS1, 0, "_sip._udp.example.com", DNS_SRV, false, 0, NULL);
    dns(t, &st, UA, NS2, 2000, "_sip._udp.example.com", DNS_SRV, false, 0, NULL);
    dns(t, &st, NS2, UA, 2500, "_sip._udp.example.com", DNS_SRV, true, 0, "sip1.example.com");
    dns(t, &st, UA, NS1, 2501, "sip1.example.com", DNS_A, false, 0, NULL);
    dns(t, &st, NS1, UA, 2506, "sip1.example.com", DNS_A, true, 0, NULL);
    cr_assert_eq(st.dns_lookups, 2);
    struct call *c = call_to("example.com", 2507);
    lookup_tie(t, c, T0 + 3000 * MS);
    cr_assert_eq(c->ndns, 2);
    cr_assert_str_eq(c->dns[0].qname, "_sip._udp.example.com");
    cr_assert_eq(c->dns[0].tries, 2);
    cr_assert_eq(c->dns[0].rcode, 0);
    cr_assert_eq(c->dns[0].answer_time - c->dns[0].query_time, 2500 * MS);
    cr_assert(!memcmp(&c->dns[0].server, NS2, sizeof *NS2), "the server that answered");
    cr_assert_str_eq(c->dns[0].answer, "0 0 0 sip1.example.com");
    /* the SRV's target: tied through the answer */
    cr_assert_str_eq(c->dns[1].qname, "sip1.example.com");
    cr_assert_eq(c->dns[1].next_time, c->segs[0].time, "the INVITE went out after it");
    call_free(c);
    lookup_table_free(t);
}

Test(lookup, names_compare_as_dns_does, .init = setup)
{
    struct lookup_table *t = lookup_table_new(SEED);
    struct correlate_stats st = {0};
    dns(t, &st, UA, NS1, 0, "EXAMPLE.com.", DNS_NAPTR, false, 0, NULL);
    dns(t, &st, NS1, UA, 10, "example.COM.", DNS_NAPTR, true, 3, NULL);
    dns(t, &st, UA, NS1, 20, "_sips._tcp.Example.Com", DNS_SRV, false, 0, NULL);
    dns(t, &st, NS1, UA, 30, "_sips._tcp.Example.Com", DNS_SRV, true, 3, NULL);
    dns(t, &st, UA, NS1, 40, "example.org", DNS_A, false, 0, NULL); /* another domain */
    dns(t, &st, NS1, UA, 50, "example.org", DNS_A, true, 0, NULL);
    struct call *c = call_to("example.com", 60);
    lookup_tie(t, c, T0 + 60 * MS);
    cr_assert_eq(c->ndns, 2);
    cr_assert_eq(c->dns[0].qtype, DNS_NAPTR);
    cr_assert_eq(c->dns[0].rcode, DNS_NXDOMAIN, "the answer matched the question, any case");
    cr_assert_eq(c->dns[1].qtype, DNS_SRV);
    cr_assert_eq(st.dns_unanswered_responses, 0);
    call_free(c);
    lookup_table_free(t);
}

Test(lookup, only_look_ups_of_the_invites_sender_close_before_it, .init = setup)
{
    struct lookup_table *t = lookup_table_new(SEED);
    struct correlate_stats st = {0};
    dns(t, &st, UA, NS1, 0, "example.com", DNS_A, false, 0, NULL); /* a call 20 s earlier */
    dns(t, &st, NS1, UA, 5, "example.com", DNS_A, true, 0, NULL);
    dns(t, &st, OTHER, NS1, 19000, "example.com", DNS_A, false, 0, NULL); /* another host */
    dns(t, &st, NS1, OTHER, 19005, "example.com", DNS_A, true, 0, NULL);
    dns(t, &st, NS1, UA, 19010, "example.net", DNS_A, true, 0, NULL); /* asked by nobody */
    struct call *c = call_to("example.com", 20000);
    lookup_tie(t, c, T0 + 20000 * MS);
    cr_assert_eq(c->ndns, 0);
    cr_assert_eq(st.dns_unanswered_responses, 1);
    call_free(c);
    lookup_table_free(t);
}

Test(lookup, an_unanswered_look_up_times_out_on_packet_time, .init = setup)
{
    struct lookup_table *t = lookup_table_new(SEED);
    struct correlate_stats st = {0};
    dns(t, &st, UA, NS1, 0, "_sip._udp.example.com", DNS_SRV, false, 0, NULL);
    dns(t, &st, UA, NS1, 1000, "_sip._udp.example.com", DNS_SRV, false, 0, NULL);
    struct call *early = call_to("example.com", 1500), *late = call_to("example.com", 1500);
    lookup_tie(t, early, T0 + 2000 * MS); /* 1 s after the last try: not yet */
    lookup_tie(t, late, T0 + 6000 * MS);  /* 5 s after it: timed out */
    cr_assert_eq(early->ndns, 1);
    cr_assert_eq(early->dns[0].rcode, -1);
    cr_assert(!early->dns[0].timed_out);
    cr_assert_eq(late->dns[0].tries, 2);
    cr_assert(late->dns[0].timed_out);
    call_free(early);
    call_free(late);
    lookup_table_free(t);
}

Test(lookup, the_ring_forgets_the_oldest_and_counts_unanswered_ones, .init = setup)
{
    struct lookup_table *t = lookup_table_new(SEED);
    struct correlate_stats st = {0};
    dns(t, &st, UA, NS1, 0, "example.com", DNS_A, false, 0, NULL); /* never answered */
    char name[32];
    for (int i = 0; i < 9000; i++) { /* a busy resolver client, answered at once */
        snprintf(name, sizeof name, "h%d.example.org", i);
        dns(t, &st, OTHER, NS1, 1 + i * 0.001, name, DNS_A, false, 0, NULL);
        dns(t, &st, NS1, OTHER, 1 + i * 0.001, name, DNS_A, true, 0, NULL);
    }
    cr_assert_eq(st.evicted_dns, 1, "the one unanswered look-up overwritten");
    struct call *c = call_to("example.com", 20);
    lookup_tie(t, c, T0 + 20 * MS);
    cr_assert_eq(c->ndns, 0, "it is gone");
    call_free(c);
    lookup_table_free(t);
}
