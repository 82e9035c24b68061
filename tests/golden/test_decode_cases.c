/* End to end through capture/ and decode/ on the generator's decoding cases
 * (tests/gen/decode_cases.py): every delivered UDP datagram / TCP segment, in order, with
 * frame, addresses, length and payload fingerprint, and every rejection counter, must be
 * what the generator wrote. The truth files are checked against tshark separately
 * (tests/gen/check_truth_tshark.py). */
#include <criterion/criterion.h>
#include <pcap/dlt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"
#include "decode/decode.h"
#include "decode/sip.h"
#include "support/runcap.h"

struct got {
    uint64_t frame;
    char proto[4];
    char src[IP_ADDR_PORT_STRLEN], dst[IP_ADDR_PORT_STRLEN];
    uint32_t len;
    uint64_t fnv;
    bool truncated, reassembled;
    uint16_t vlan;
};

struct got_sip {
    uint64_t frame;
    char call_id[64];
    const char *transport;
    char src[IP_ADDR_PORT_STRLEN], dst[IP_ADDR_PORT_STRLEN];
    ptime_t ts;
};

struct run {
    struct got g[64];
    size_t n;
    struct got_sip sip[64];
    size_t nsip;
};

static uint64_t fnv1a64(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

static void collect(void *user, const struct l4_packet *l4)
{
    struct run *r = user;
    cr_assert_lt(r->n, 64);
    struct got *g = &r->g[r->n++];
    g->frame = l4->pkt->frame;
    strcpy(g->proto, l4->proto == 17 ? "udp" : "tcp");
    ip_addr_port_str(&l4->src, l4->sport, g->src, sizeof g->src);
    ip_addr_port_str(&l4->dst, l4->dport, g->dst, sizeof g->dst);
    g->len = l4->len;
    g->fnv = fnv1a64(l4->payload, l4->len);
    g->truncated = l4->truncated;
    g->reassembled = l4->reassembled;
    g->vlan = l4->vlan;
}

static void collect_sip(void *user, const struct sip_event *ev)
{
    struct run *r = user;
    cr_assert_lt(r->nsip, 64);
    struct got_sip *g = &r->sip[r->nsip++];
    g->frame = ev->l4->pkt->frame;
    const struct sip_header *h = sip_hdr(ev->msg, SIP_H_CALL_ID);
    snprintf(g->call_id, sizeof g->call_id, "%.*s", h ? (int)h->value.n : 0, h ? h->value.p : "");
    g->transport = sip_transport_name(ev->transport);
    ip_addr_port_str(&ev->l4->src, ev->l4->sport, g->src, sizeof g->src);
    ip_addr_port_str(&ev->l4->dst, ev->l4->dport, g->dst, sizeof g->dst);
    g->ts = ev->l4->pkt->ts;
}

static const char *cases_dir(void)
{
    const char *d = getenv("SIPSCOPE_CASES");
    cr_assert_not_null(d, "SIPSCOPE_CASES must name the generated cases (meson sets it)");
    return d;
}

/* decode_peek_udp (issue 10: the read-ahead thread's look at a frame) against what the
 * decoder delivered: where the peek reads a datagram (not a tunnel's carrier), the frame's
 * first delivery is that datagram. Returns how many frames agreed. */
static size_t check_peek(const char *name, const char *const *files, size_t nf,
                         const struct run *r)
{
    struct capture_source src;
    char err[256];
    cr_assert(capture_open_files(&src, files, nf, err, sizeof err), "%s", err);
    struct packet pkt;
    size_t agreed = 0;
    while (capture_next(&src, &pkt) == CAPTURE_OK) {
        struct udp_peek u;
        if (!decode_peek_udp(&pkt, &u) || u.dport == 4789 || u.dport == 8472 || u.dport == 37008)
            continue;
        const struct got *g = NULL;
        for (size_t i = 0; i < r->n && !g; i++)
            if (r->g[i].frame == pkt.frame)
                g = &r->g[i];
        if (!g) /* refused by the decoder (a bad length, a mirror's copy): nothing to agree with */
            continue;
        char s[IP_ADDR_PORT_STRLEN], d[IP_ADDR_PORT_STRLEN];
        ip_addr_port_str(&u.src, u.sport, s, sizeof s);
        ip_addr_port_str(&u.dst, u.dport, d, sizeof d);
        cr_expect_str_eq(g->proto, "udp", "%s frame %llu: peek", name,
                         (unsigned long long)pkt.frame);
        cr_expect_str_eq(g->src, s, "%s frame %llu: peek", name, (unsigned long long)pkt.frame);
        cr_expect_str_eq(g->dst, d, "%s frame %llu: peek", name, (unsigned long long)pkt.frame);
        cr_expect_eq(g->len, u.len, "%s frame %llu: peek", name, (unsigned long long)pkt.frame);
        cr_expect_eq(g->fnv, fnv1a64(u.payload, u.len), "%s frame %llu: peek payload", name,
                     (unsigned long long)pkt.frame);
        agreed++;
    }
    capture_close(&src);
    return agreed;
}

static void run_case_peek(const char *name, bool peeks);

static void run_case(const char *name) { run_case_peek(name, false); }

/* peeks: the case has plain UDP frames, which the peek must read */
static void run_case_peek(const char *name, bool peeks)
{
    char path[1024];
    json_error_t jerr;
    snprintf(path, sizeof path, "%s/%s.truth.json", cases_dir(), name);
    json_t *truth = json_load_file(path, 0, &jerr);
    cr_assert_not_null(truth, "%s: %s", path, jerr.text);

    json_t *jfiles = json_object_get(truth, "files");
    size_t nf = json_array_size(jfiles);
    char bufs[4][1024];
    const char *files[4];
    cr_assert(nf >= 1 && nf <= 4);
    for (size_t i = 0; i < nf; i++) {
        snprintf(bufs[i], sizeof bufs[i], "%s/%s", cases_dir(),
                 json_string_value(json_array_get(jfiles, i)));
        files[i] = bufs[i];
    }

    char err[256];
    static struct run r;
    memset(&r, 0, sizeof r);
    struct decode_handlers h = {.udp = collect, .tcp = collect, .sip = collect_sip, .user = &r};
    struct capture_stats cs;
    struct decode_stats dstats;
    cr_assert(runcap(files, nf, &h, &cs, &dstats, err, sizeof err), "%s", err);
    const struct decode_stats *ds = &dstats;
    cr_expect_eq(cs.packets, json_integer_value(json_object_get(truth, "frames")), "%s frames",
                 name);
    cr_expect_eq(cs.first_ts, json_integer_value(json_object_get(truth, "first_ns")),
                 "%s first stamp", name);
    cr_expect_eq(cs.last_ts, json_integer_value(json_object_get(truth, "last_ns")),
                 "%s last stamp", name);

    json_t *want = json_object_get(truth, "deliveries");
    cr_expect_eq(r.n, json_array_size(want), "%s: %zu delivered, truth %zu", name, r.n,
                 json_array_size(want));
    for (size_t i = 0; i < r.n && i < json_array_size(want); i++) {
        json_t *w = json_array_get(want, i);
        struct got *g = &r.g[i];
        char fnv[17];
        snprintf(fnv, sizeof fnv, "%016llx", (unsigned long long)g->fnv);
        cr_expect_eq(g->frame, json_integer_value(json_object_get(w, "frame")), "%s #%zu frame",
                     name, i);
        cr_expect_str_eq(g->proto, json_string_value(json_object_get(w, "proto")));
        cr_expect_str_eq(g->src, json_string_value(json_object_get(w, "src")), "%s #%zu", name, i);
        cr_expect_str_eq(g->dst, json_string_value(json_object_get(w, "dst")), "%s #%zu", name, i);
        cr_expect_eq(g->len, json_integer_value(json_object_get(w, "len")), "%s #%zu len", name, i);
        cr_expect_str_eq(fnv, json_string_value(json_object_get(w, "fnv")), "%s #%zu payload",
                         name, i);
        cr_expect_eq(g->truncated, json_is_true(json_object_get(w, "truncated")), "%s #%zu", name,
                     i);
        cr_expect_eq(g->reassembled, json_is_true(json_object_get(w, "reassembled")),
                     "%s #%zu", name, i);
        cr_expect_eq(g->vlan, json_integer_value(json_object_get(w, "vlan")), "%s #%zu vlan",
                     name, i);
    }

    /* every reason: the truth's count, or zero */
    json_t *errs = json_object_get(truth, "errors");
    for (int reason = 0; reason < DR__COUNT; reason++) {
        const char *rn = decode_reason_name(reason);
        json_int_t w = json_integer_value(json_object_get(errs, rn));
        cr_expect_eq((json_int_t)ds->errors[reason], w, "%s: %s counted %llu, truth %lld", name,
                     rn, (unsigned long long)ds->errors[reason], (long long)w);
    }
    json_t *counts = json_object_get(truth, "counts");
    cr_expect_eq((json_int_t)ds->non_ip, json_integer_value(json_object_get(counts, "non_ip")),
                 "%s non_ip", name);
    cr_expect_eq((json_int_t)ds->other_proto,
                 json_integer_value(json_object_get(counts, "other_proto")), "%s other", name);
    cr_expect_eq((json_int_t)ds->frag_duplicates,
                 json_integer_value(json_object_get(counts, "frag_duplicates")), "%s dups", name);
    cr_expect_eq(cs.read_errors, 0);
    cr_expect_eq((json_int_t)ds->dns, json_integer_value(json_object_get(counts, "dns")), "%s dns",
                 name);
    cr_expect_eq((json_int_t)ds->hep, json_integer_value(json_object_get(counts, "hep")), "%s",
                 name);
    cr_expect_eq((json_int_t)ds->hep_rtcp, json_integer_value(json_object_get(counts, "hep_rtcp")),
                 "%s", name);
    cr_expect_eq((json_int_t)ds->tcp_retransmitted,
                 json_integer_value(json_object_get(counts, "tcp_retransmitted")), "%s", name);

    /* SIP messages, where the case states them: frame, Call-ID, transport, in order */
    json_t *wsip = json_object_get(truth, "sip");
    if (wsip) {
        cr_expect_eq(r.nsip, json_array_size(wsip), "%s: %zu SIP messages, truth %zu", name,
                     r.nsip, json_array_size(wsip));
        for (size_t i = 0; i < r.nsip && i < json_array_size(wsip); i++) {
            json_t *w = json_array_get(wsip, i);
            cr_expect_eq(r.sip[i].frame, json_integer_value(json_object_get(w, "frame")),
                         "%s SIP #%zu (%s) frame", name, i, r.sip[i].call_id);
            cr_expect_str_eq(r.sip[i].call_id, json_string_value(json_object_get(w, "call_id")),
                             "%s SIP #%zu", name, i);
            cr_expect_str_eq(r.sip[i].transport,
                             json_string_value(json_object_get(w, "transport")), "%s SIP #%zu",
                             name, i);
            if (json_object_get(w, "src")) { /* from inside HEP: the original capture's */
                cr_expect_str_eq(r.sip[i].src, json_string_value(json_object_get(w, "src")));
                cr_expect_str_eq(r.sip[i].dst, json_string_value(json_object_get(w, "dst")));
                cr_expect_eq(r.sip[i].ts, json_integer_value(json_object_get(w, "time_ns")),
                             "%s SIP #%zu time", name, i);
            }
        }
    }

    size_t agreed = check_peek(name, files, nf, &r);
    if (peeks)
        cr_expect_gt(agreed, 0, "%s: the peek read no frame", name);
    json_decref(truth);
}

#define CASE(name) \
    Test(decode_cases, name) { run_case(#name); }
#define CASE_PEEK(name) \
    Test(decode_cases, name) { run_case_peek(#name, true); }

CASE_PEEK(ethernet)
CASE_PEEK(vlan)
CASE(mpls)
CASE_PEEK(sll)
CASE(sll2)
CASE(raw)
CASE_PEEK(raw_ipv4)
CASE_PEEK(raw_ipv6)
CASE(null)
CASE(loop)
CASE(ipv6_ext)
CASE(tunnels)
CASE(frag4)
CASE(frag_timeout)
CASE(frag6)
CASE(truncated)
CASE(unsupported_link)
CASE_PEEK(dns)
CASE(nanosecond)
CASE(pcapng)
CASE(merge)
CASE(tcp_sip)
CASE(websocket)
CASE(hep)
CASE(sctp)

/* Found by fuzz_decode in CI: an IPv4 total length that ends inside the UDP header left the
 * peek a payload length that wrapped below zero, read past the frame by the read-ahead
 * thread's hint. Such a frame is no plain datagram: the peek says no, as the decoder
 * refuses it (udp_truncated). */
Test(decode_peek, ip_length_ending_inside_the_udp_header)
{
    uint8_t f[14 + 20 + 8 + 12] = {0};
    f[12] = 0x08; /* IPv4 */
    uint8_t *ip = f + 14, *udp = ip + 20;
    ip[0] = 0x45;
    ip[9] = 17;
    udp[4] = 0;
    udp[5] = 20; /* UDP says 12 bytes of payload */
    struct packet pkt = {.frame = 1, .caplen = sizeof f, .wirelen = sizeof f,
                         .linktype = DLT_EN10MB, .data = f};
    struct udp_peek u;
    for (unsigned total = 20; total < 28; total++) {
        ip[2] = 0;
        ip[3] = (uint8_t)total;
        cr_expect_not(decode_peek_udp(&pkt, &u), "total length %u", total);
    }
    ip[3] = 40; /* the whole datagram: read */
    cr_assert(decode_peek_udp(&pkt, &u));
    cr_expect_eq(u.len, 12);
    cr_expect_eq(u.payload, udp + 8);
    /* IPv6: a payload length shorter than the UDP header */
    uint8_t g[14 + 40 + 8 + 12] = {0};
    g[12] = 0x86;
    g[13] = 0xdd;
    g[14] = 0x60;
    g[14 + 6] = 17;
    g[14 + 40 + 5] = 20;
    pkt.data = g;
    pkt.caplen = pkt.wirelen = sizeof g;
    for (unsigned plen = 1; plen < 8; plen++) {
        g[14 + 5] = (uint8_t)plen;
        cr_expect_not(decode_peek_udp(&pkt, &u), "payload length %u", plen);
    }
    g[14 + 5] = 20;
    cr_assert(decode_peek_udp(&pkt, &u));
    cr_expect_eq(u.len, 12);
}
