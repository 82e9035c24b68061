/* Decoder object and link layers: Ethernet, 802.1Q/802.1ad/QinQ, MPLS, Linux SLL and
 * SLL2, raw IP, BSD null/loopback. Each hands an ethertype and a cursor to decode_ip(). */
#include "decode.h"

#include <arpa/inet.h>
#include <pcap/dlt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "decode_int.h"
#include "hep.h"

static const char *const reason_names[DR__COUNT] = {
#define DECODE_REASON_NAME(id, name) [DR_##id] = name,
    DECODE_REASONS(DECODE_REASON_NAME)
#undef DECODE_REASON_NAME
};

const char *decode_reason_name(enum decode_reason r)
{
    return (unsigned)r < DR__COUNT ? reason_names[r] : "unknown";
}

void decode_config_default(struct decode_config *cfg)
{
    *cfg = (struct decode_config){0}; /* fields not named below (key logs) are off */
    cfg->frag_max_datagrams = 4096;
    cfg->frag_max_bytes = 32u << 20;
    /* Linux's ipfrag_time; RFC 8200 allows 60 s, but a SIP message older than 30 s is
     * long retransmitted */
    cfg->frag_timeout = 30 * PTIME_SEC;
    cfg->tcp_max_streams = 65536;
    cfg->tcp_max_bytes = 64u << 20;
    cfg->tcp_idle_timeout = 300 * PTIME_SEC;
    cfg->hash_seed = 0x5350c09eULL;
    /* a mirror's two copies arrive microseconds apart; SIP's own retransmissions 500 ms */
    cfg->dedup_window = 5 * PTIME_MS;
    /* a HEP time is the tracer's clock as it traced (after reading a message, before or
     * after sending one): off the wire's by its processing delay and the two clocks'
     * offset, a few ms; the same bytes on the same 5-tuple are sent again only after T1 =
     * 500 ms (RFC 3261 §17.1.1.2, §17.1.2.2, §13.3.1.4). T1 / 10: ten times the offsets
     * seen, ten times short of a retransmission. */
    cfg->hep_copy_window = 50 * PTIME_MS;
    cfg->dedup_slots = DEDUP_SLOTS;
    cfg->srtp_max_endpoints = 4096;
}

void decode_config_budget(struct decode_config *cfg, const struct mem_budget *b)
{
    uint64_t r = b->share[MEM_REASSEMBLY];
    cfg->tcp_max_bytes = (size_t)(r / 3 * 2);
    cfg->frag_max_bytes = (size_t)(r / 3);
    /* a power of two within the share, and no larger than the default: a bigger table
     * only costs cache misses (16384 datagrams in the 5 ms window is 3 M a second) */
    size_t slots = 4;
    while (slots * 2 * 16 <= b->share[MEM_DEDUP] && slots * 2 <= DEDUP_SLOTS)
        slots *= 2;
    cfg->dedup_slots = slots;
    /* an endpoint's key, its SSRCs and libsrtp2's session: about 1 KB */
    cfg->srtp_max_endpoints = mem_budget_entries(b, MEM_SRTP, 1024, 64);
}

void decoder_memory(const struct decoder *d, struct mem_usage *u)
{
    struct ipfrag_stats fs;
    ipfrag_get_stats(d->frag, &fs);
    mem_usage_set(u, MEM_DEDUP, dedup_bytes(d->dedup) + dedup_bytes(d->sip_copies));
    mem_usage_set(u, MEM_REASSEMBLY,
                  tcp_table_bytes(d->tcp) + fs.held_bytes + tls_keylog_bytes(d->tls_keys));
    mem_usage_set(u, MEM_SRTP,
                  d->srtp ? srtp_table_bytes(d->srtp) + srtp_offers_bytes(d->offers) : 0);
}

struct decoder *decoder_new(const struct decode_config *cfg, const struct decode_handlers *h)
{
    struct decoder *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    if (cfg)
        d->cfg = *cfg;
    else
        decode_config_default(&d->cfg);
    if (h)
        d->h = *h;
    d->frag = ipfrag_new(d->cfg.frag_max_datagrams, d->cfg.frag_max_bytes, d->cfg.frag_timeout,
                         d->cfg.hash_seed);
    d->tcp = tcp_table_new(&d->cfg);
    if (d->cfg.dedup_window > 0 &&
        !(d->dedup = dedup_new(d->cfg.dedup_slots ? d->cfg.dedup_slots : DEDUP_SLOTS,
                               d->cfg.dedup_window, d->cfg.hash_seed))) {
        decoder_free(d);
        return NULL;
    }
    if (d->cfg.hep_copy_window > 0 &&
        !(d->sip_copies =
              dedup_new(DEDUP_SIP_SLOTS, d->cfg.hep_copy_window, d->cfg.hash_seed + 3))) {
        decoder_free(d);
        return NULL;
    }
    if (!d->frag || !d->tcp) {
        decoder_free(d);
        return NULL;
    }
    if (d->cfg.n_tls_keylogs) {
        char err[256];
        if (!(d->tls_keys = tls_keylog_new(d->cfg.tls_keylogs, d->cfg.n_tls_keylogs, err,
                                           sizeof err))) {
            log_error("%s", err);
            decoder_free(d);
            return NULL;
        }
    }
    if (d->cfg.srtp_max_endpoints) {
        size_t n = d->cfg.srtp_max_endpoints;
        d->srtp = srtp_table_new(n, d->cfg.hash_seed + 5);
        d->offers = srtp_offers_new(n / 4 ? n / 4 : 1, d->cfg.hash_seed + 6);
        if (!d->srtp || !d->offers) {
            log_error("SRTP: no memory for %zu endpoints", n);
            decoder_free(d);
            return NULL;
        }
    }
    d->cfg.tls_keylogs = NULL; /* borrowed for the above only */
    d->cfg.n_tls_keylogs = 0;
    return d;
}

void decoder_free(struct decoder *d)
{
    if (!d)
        return;
    ipfrag_free(d->frag);
    dedup_free(d->dedup);
    dedup_free(d->sip_copies);
    tcp_table_free(d->tcp);
    tls_keylog_free(d->tls_keys);
    srtp_table_free(d->srtp);
    srtp_offers_free(d->offers);
    sctp_free(d);
    dns_tcp_free(d);
    free(d);
}

void decoder_finish(struct decoder *d)
{
    tcp_finish(d, d->tcp);
    dns_tcp_finish(d);
    d->st.errors[DR_IPFRAG_INCOMPLETE] += ipfrag_flush(d->frag);
}

void decoder_get_stats(const struct decoder *d, struct decode_stats *out)
{
    struct ipfrag_stats fs;
    ipfrag_get_stats(d->frag, &fs);
    *out = d->st;
    out->frag_duplicates = fs.duplicates;
    out->frag_evicted = fs.evicted;
    if (d->srtp) {
        struct srtp_stats ss;
        srtp_table_stats(d->srtp, &ss);
        out->srtp_keys = ss.keys;
    }
}

void decode_error(struct decoder *d, enum decode_reason r)
{
    d->st.errors[r]++;
    log_debug("frame %llu: not decoded: %s", (unsigned long long)d->cur_frame,
              decode_reason_name(r));
}

/* docs/style.md rule 8: hitting a limit is counted (ipfrag) and logged once per interval. */
static void log_frag_evictions(struct decoder *d, ptime_t now)
{
    struct ipfrag_stats fs;
    ipfrag_get_stats(d->frag, &fs);
    if (fs.evicted > d->frag_evicted_logged &&
        log_ratelimit_ok(&d->frag_limit_log, now, 60 * PTIME_SEC)) {
        log_warn("IP reassembly limits reached (%zu datagrams, %zu bytes held): %llu datagrams "
                 "evicted so far",
                 fs.datagrams, fs.held_bytes, (unsigned long long)fs.evicted);
        d->frag_evicted_logged = fs.evicted;
    }
}

/* Ethertype chain after the link header: VLAN tags and MPLS labels, then IP. */
static void decode_ethertype(struct decoder *d, struct frame_ctx *f, struct cursor c,
                             uint16_t type)
{
    for (unsigned depth = 0;; depth++) {
        if (depth > DECODE_MAX_TAGS) {
            decode_error(d, DR_TAGS_TOO_DEEP);
            return;
        }
        switch (type) {
        case 0x8100: /* 802.1Q */
        case 0x88a8: /* 802.1ad service tag */
        case 0x9100: /* pre-standard QinQ */
        case 0x9200: {
            uint16_t tci;
            if (!cursor_u16be(&c, &tci) || !cursor_u16be(&c, &type)) {
                decode_short(d, f, DR_VLAN_TRUNCATED);
                return;
            }
            if (f->vlan == 0)
                f->vlan = tci & 0x0fff;
            continue;
        }
        case 0x8847: /* MPLS unicast */
        case 0x8848: { /* MPLS multicast */
            uint32_t lse;
            do {
                if (++depth > DECODE_MAX_TAGS) {
                    decode_error(d, DR_TAGS_TOO_DEEP);
                    return;
                }
                if (!cursor_u32be(&c, &lse)) {
                    decode_short(d, f, DR_MPLS_TRUNCATED);
                    return;
                }
            } while (!(lse & 0x100)); /* bottom-of-stack bit */
            /* RFC 3032 says nothing of what follows; like tcpdump, look at the version
             * nibble. 0 is a pseudowire control word, not followed here. */
            uint8_t v;
            if (!cursor_peek_u8(&c, 0, &v)) {
                decode_short(d, f, DR_MPLS_TRUNCATED);
                return;
            }
            if (v >> 4 == 4)
                type = 0x0800;
            else if (v >> 4 == 6)
                type = 0x86dd;
            else {
                decode_error(d, DR_MPLS_PAYLOAD_UNKNOWN);
                return;
            }
            continue;
        }
        case 0x0800:
        case 0x86dd:
            decode_ip(d, f, c, type);
            return;
        default:
            d->st.non_ip++;
            return;
        }
    }
}

static void decode_ethernet(struct decoder *d, struct frame_ctx *f, struct cursor c)
{
    uint16_t type;
    if (!cursor_skip(&c, 12) || !cursor_u16be(&c, &type)) {
        decode_short(d, f, DR_LINK_TRUNCATED);
        return;
    }
    if (type <= 1500) { /* IEEE 802.3 length: LLC follows, not IP */
        d->st.non_ip++;
        return;
    }
    decode_ethertype(d, f, c, type);
}

void decode_inner_ethernet(struct decoder *d, const struct frame_ctx *outer, struct cursor c)
{
    if (outer->tunnels + 1u > DECODE_MAX_TUNNELS) {
        decode_error(d, DR_TUNNEL_TOO_DEEP);
        return;
    }
    struct frame_ctx f = *outer;
    f.tunnels++;
    decode_ethernet(d, &f, c);
}

void decode_udp_tunnel_ethernet(struct decoder *d, const struct l4_packet *outer, struct cursor c)
{
    struct frame_ctx f = {.pkt = outer->pkt, .vlan = outer->vlan, .tunnels = outer->tunnels,
                          .snap_cut = outer->truncated, .snap_counted = outer->truncated};
    decode_inner_ethernet(d, &f, c);
}

/* Linux cooked capture v1: pkttype, hatype, halen, 8 address bytes, protocol. */
static void decode_sll(struct decoder *d, struct frame_ctx *f, struct cursor c)
{
    uint16_t proto;
    if (!cursor_skip(&c, 14) || !cursor_u16be(&c, &proto)) {
        decode_short(d, f, DR_LINK_TRUNCATED);
        return;
    }
    decode_ethertype(d, f, c, proto);
}

/* Linux cooked capture v2: protocol, reserved, ifindex, hatype, pkttype, halen, address. */
static void decode_sll2(struct decoder *d, struct frame_ctx *f, struct cursor c)
{
    uint16_t proto;
    if (!cursor_u16be(&c, &proto) || !cursor_skip(&c, 18)) {
        decode_short(d, f, DR_LINK_TRUNCATED);
        return;
    }
    decode_ethertype(d, f, c, proto);
}

/* BSD loopback: a 4-byte address family, in the capturing host's byte order for DLT_NULL
 * and in network order for DLT_LOOP. The IPv6 value differs between BSDs (24, 28, 30). */
static void decode_null(struct decoder *d, struct frame_ctx *f, struct cursor c, bool loop)
{
    uint32_t af;
    if (!(loop ? cursor_u32be(&c, &af) : cursor_u32le(&c, &af))) {
        decode_short(d, f, DR_LINK_TRUNCATED);
        return;
    }
    if (!loop && (af & 0xffff0000u) && !(af & 0xffffu)) /* a big-endian capturing host */
        af = __builtin_bswap32(af);
    switch (af) {
    case 2:
        decode_ip(d, f, c, 0x0800);
        return;
    case 10: case 23: case 24: case 28: case 30:
        decode_ip(d, f, c, 0x86dd);
        return;
    default:
        d->st.non_ip++;
    }
}

/* Raw IP: the version nibble decides. */
static void decode_raw(struct decoder *d, struct frame_ctx *f, struct cursor c)
{
    uint8_t v;
    if (!cursor_peek_u8(&c, 0, &v)) {
        decode_short(d, f, DR_LINK_TRUNCATED);
        return;
    }
    if (v >> 4 == 4)
        decode_ip(d, f, c, 0x0800);
    else if (v >> 4 == 6)
        decode_ip(d, f, c, 0x86dd);
    else
        decode_error(d, DR_IP_BAD_VERSION);
}

void decoder_frame(struct decoder *d, const struct packet *pkt)
{
    struct frame_ctx f = {.pkt = pkt, .snap_cut = pkt->caplen < pkt->wirelen};
    struct cursor c = cursor_make(pkt->data, pkt->caplen);

    uint64_t frags_before = d->st.fragments;
    d->st.frames++;
    d->cur_frame = pkt->frame;
    d->st.errors[DR_IPFRAG_TIMEOUT] += ipfrag_expire(d->frag, pkt->ts);

    switch (pkt->linktype) {
    case DLT_EN10MB:
        decode_ethernet(d, &f, c);
        break;
    case DLT_LINUX_SLL:
        decode_sll(d, &f, c);
        break;
#ifdef DLT_LINUX_SLL2
    case DLT_LINUX_SLL2:
        decode_sll2(d, &f, c);
        break;
#endif
    case DLT_NULL:
        decode_null(d, &f, c, false);
        break;
    case DLT_LOOP:
        decode_null(d, &f, c, true);
        break;
    case DLT_RAW:
#if defined(DLT_IPV4) && defined(DLT_IPV6)
    case DLT_IPV4:
    case DLT_IPV6:
#endif
        decode_raw(d, &f, c);
        break;
    default:
        decode_error(d, DR_LINK_UNSUPPORTED);
    }
    if (d->st.fragments != frags_before)
        log_frag_evictions(d, pkt->ts);
}

const char *sip_transport_name(enum sip_transport t)
{
    static const char *const names[] = {"udp", "tcp", "ws", "sctp", "tls", "wss"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}

void decode_emit_sip(struct decoder *d, const struct l4_packet *l4, enum sip_transport tr,
                     const char *p, size_t n, const struct sip_msg *m)
{
    if (d->sip_copies && dedup_seen_sip(d->sip_copies, l4, p, n)) {
        d->st.duplicates++; /* a proxy's HEP trace of a message on the wire: one send */
        return;
    }
    d->st.sip_messages++;
    if (m->malformed) {
        d->st.sip_malformed++;
        decode_error(d, m->error);
    }
    if (d->offers)
        srtp_offers_sip(d->offers, d->srtp, m);
    if (d->h.sip) {
        struct sip_event ev = {m, l4, tr, p, n};
        d->h.sip(d->h.user, &ev);
    }
}

void decode_sip_datagram(struct decoder *d, const struct l4_packet *l4, enum sip_transport tr)
{
    /* port-independent: the start line decides, not 5060 (keep-alive CRLFs are not SIP) */
    const char *p = (const char *)l4->payload;
    if (!sip_looks_like(p, l4->len))
        return;
    if (sip_parse(p, l4->len, 0, &d->msg) == SIP_OK)
        decode_emit_sip(d, l4, tr, p, l4->len, &d->msg);
}

void decode_dns(struct decoder *d, const struct l4_packet *l4)
{
    enum decode_reason why = dns_parse(l4->payload, l4->len, &d->dns);
    if (why != DR__COUNT) {
        decode_error(d, why);
        return;
    }
    d->st.dns++;
    if (d->h.dns)
        d->h.dns(d->h.user, l4, &d->dns);
}

void decode_hep_msg(struct decoder *d, const struct l4_packet *outer, const struct hep_msg *h)
{
    d->st.hep++;
    if (h->payload_type == HEP_PT_RTCP || h->payload_type == HEP_PT_JSON_QOS) {
        if (h->payload_type == HEP_PT_RTCP)
            d->st.hep_rtcp++;
        else
            d->st.hep_other++;
        if (d->h.hep_report) /* media quality a probe measured: the engine files it */
            d->h.hep_report(d->h.user, outer, h);
        return;
    }
    if (h->payload_type != HEP_PT_SIP) {
        d->st.hep_other++;
        return;
    }
    struct packet pkt = *outer->pkt; /* the carrying frame, at the original capture's time */
    if (h->has_time)
        pkt.ts = h->time;
    struct l4_packet in = *outer;
    in.pkt = &pkt;
    in.hep = true;
    in.dedup_deferred = false;
    in.proto = h->ip_proto;
    in.src = h->src;
    in.dst = h->dst;
    in.sport = h->sport;
    in.dport = h->dport;
    in.payload = h->payload;
    in.len = (uint32_t)h->len;
    in.truncated = false;
    enum sip_transport tr = h->ip_proto == 6     ? SIP_TRANSPORT_TCP
                            : h->ip_proto == 132 ? SIP_TRANSPORT_SCTP
                                                 : SIP_TRANSPORT_UDP;
    if (d->dedup && dedup_seen_hep(d->dedup, &in)) {
        d->st.duplicates++;
        return;
    }
    decode_sip_datagram(d, &in, tr);
}

char *ip_addr_port_str(const struct ip_addr *a, uint16_t port, char *buf, size_t len)
{
    char ip[INET6_ADDRSTRLEN];
    if (a->family == 6) {
        inet_ntop(AF_INET6, a->b, ip, sizeof ip);
        snprintf(buf, len, "[%s]:%u", ip, port);
    } else {
        inet_ntop(AF_INET, a->b, ip, sizeof ip);
        snprintf(buf, len, "%s:%u", ip, port);
    }
    return buf;
}

char *ip_addr_str(const struct ip_addr *a, char *buf, size_t len)
{
    char ip[INET6_ADDRSTRLEN];
    inet_ntop(a->family == 6 ? AF_INET6 : AF_INET, a->b, ip, sizeof ip);
    snprintf(buf, len, "%s", ip);
    return buf;
}

bool decoder_dedup_deferred(struct decoder *d, const struct l4_packet *l4)
{
    return l4->dedup_deferred && d->dedup && dedup_seen_deferred(d->dedup, l4);
}
