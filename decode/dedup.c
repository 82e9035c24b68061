/* Exact copies on a mirror port: a SPAN session that copies both directions of
 * two switch ports shows every packet that crosses both twice, microseconds apart. A copy
 * is the same IP datagram (its IP header but the TTL and checksum, IP ID included, and
 * its bytes: all of them, or for RTP the UDP and RTP headers) within a few milliseconds;
 * what a network means to send again never comes that fast or that alike (SIP over UDP
 * waits T1 = 500 ms, a TCP retransmission has a new IP ID, RTP never repeats a sequence
 * number on purpose). The table is a fixed array of 4-slot buckets, one cache line each:
 * a datagram goes in its bucket's oldest slot, so memory is fixed, and a copy is missed
 * only when four other datagrams of its bucket came in between (it is then analysed).
 * RTP over IPv4 can skip the table (dedup_deferrable): its stream knows its last packet
 * and tells a copy of it without a cache miss (metrics/stream.c, stream_rtp_copy); the
 * table then sees only what no stream took (decoder_dedup_deferred).
 * A SIP message a proxy also traced by HEP (siptrace beside a SPAN port) is one send seen
 * twice with no IP header to compare: dedup_seen_sip tells it by its addresses, ports,
 * transport and bytes, in a table of its own (SIP messages only, nothing per RTP packet). */
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "decode_int.h"

#define DEDUP_IP_MAX 128 /* IP header and extension headers compared, at most */


struct dedup_slot {
    uint64_t hash;
    ptime_t at;
};
#define DEDUP_WAYS 4 /* slots per bucket: one cache line */

struct dedup {
    struct dedup_slot *slots; /* owned */
    size_t mask;
    ptime_t window;
    uint64_t seed;
};

struct dedup *dedup_new(size_t slots, ptime_t window, uint64_t seed)
{
    struct dedup *d = calloc(1, sizeof *d);
    size_t n = DEDUP_WAYS;
    while (n < slots)
        n <<= 1;
    /* a bucket on one cache line: the array aligned to 64 bytes */
    if (!d || !(d->slots = aligned_alloc(64, n * sizeof *d->slots))) {
        free(d);
        return NULL;
    }
    memset(d->slots, 0, n * sizeof *d->slots);
    d->mask = n - 1;
    d->window = window;
    d->seed = seed;
    return d;
}

size_t dedup_bytes(const struct dedup *d)
{
    return d ? sizeof *d + (d->mask + 1) * sizeof *d->slots : 0;
}

void dedup_free(struct dedup *d)
{
    if (d)
        free(d->slots);
    free(d);
}

static inline uint64_t step(uint64_t h, uint64_t v)
{
    h = (h ^ v) * 0xbf58476d1ce4e5b9ULL;
    return h ^ (h >> 31);
}

/* An option-less IPv4 header (TTL and checksum left out) and the UDP and RTP headers, read
 * as words: the key of nearly every packet, without hash_bytes' general loop and tail. */
static uint64_t rtp_ipv4_key(const uint8_t *ip, const uint8_t *udp, uint64_t seed)
{
    uint64_t a, b, u, v;
    uint32_t c, w;
    memcpy(&a, ip, 8);
    memcpy(&b, ip + 8, 8);
    memcpy(&c, ip + 16, 4);
    memcpy(&u, udp, 8);
    memcpy(&v, udp + 8, 8);
    memcpy(&w, udp + 16, 4);
    const unsigned char ttl_csum[8] = {0xff, 0, 0xff, 0xff, 0, 0, 0, 0}; /* bytes 8, 10, 11 */
    uint64_t mask;
    memcpy(&mask, ttl_csum, 8);
    b &= ~mask;
    uint64_t h = step(step(step(seed, a), b), (uint64_t)c << 32 | w);
    return hash_mix64(step(step(h, u), v));
}

static bool check(struct dedup *d, uint64_t h, ptime_t now);

/* RTP over IPv4 without options: the key of nearly every packet of a mirror port. */
static bool rtp_ipv4(const struct l4_packet *l4, uint8_t proto, struct cursor c)
{
    return proto == 17 && l4->l3 && c.p == l4->l3 + 20 && cursor_left(&c) >= 20 &&
           (c.p[8] >> 6) == 2;
}

bool dedup_deferrable(const struct l4_packet *l4, uint8_t proto, struct cursor c)
{
    return rtp_ipv4(l4, proto, c);
}

bool dedup_seen_deferred(struct dedup *d, const struct l4_packet *l4)
{
    /* the UDP header is the 8 bytes before the payload; dedup_deferrable checked the rest */
    return check(d, rtp_ipv4_key(l4->l3, l4->payload - 8, d->seed), l4->pkt->ts);
}

bool dedup_seen(struct dedup *d, const struct l4_packet *l4, uint8_t proto, struct cursor c)
{
    size_t hl = l4->l3 && c.p >= l4->l3 ? (size_t)(c.p - l4->l3) : 0;
    if (hl < 20 || hl > DEDUP_IP_MAX)
        return false; /* no whole IP header to compare (cut by snaplen): analysed */
    const uint8_t *p = c.p;
    size_t n = cursor_left(&c);
    /* the whole datagram, except RTP: its fixed header (sequence number, timestamp, SSRC)
     * after the UDP header already tells one packet from every other of its stream */
    bool rtp = proto == 17 && n >= 20 && (p[8] >> 6) == 2;
    uint64_t h;
    if (rtp && hl == 20) {
        h = rtp_ipv4_key(l4->l3, p, d->seed); /* most packets: a few multiplications */
        return check(d, h, l4->pkt->ts);
    }
    /* the IP header as a second mirror port shows it: a router between the two ports
     * lowers the TTL (and so the IPv4 checksum) and nothing else */
    uint8_t ip[DEDUP_IP_MAX];
    memcpy(ip, l4->l3, hl);
    if (l4->src.family == 4) {
        ip[8] = 0;
        ip[10] = ip[11] = 0;
    } else {
        ip[7] = 0;
    }
    h = hash_bytes(ip, hl, d->seed) ^ hash_bytes(p, rtp ? 20 : n, d->seed + n);
    return check(d, h, l4->pkt->ts);
}

/* A message by what it says without its IP header: addresses, ports, transport, bytes. */
static uint64_t msg_key(const struct dedup *d, const struct l4_packet *l4, const void *p,
                        size_t n)
{
    struct {
        uint8_t src[16], dst[16];
        uint16_t sport, dport;
        uint8_t family, proto, pad[2];
        uint32_t len;
    } k;
    memset(&k, 0, sizeof k);
    memcpy(k.src, l4->src.b, 16);
    memcpy(k.dst, l4->dst.b, 16);
    k.sport = l4->sport;
    k.dport = l4->dport;
    k.family = l4->src.family;
    k.proto = l4->proto;
    k.len = (uint32_t)n;
    return hash_bytes(&k, sizeof k, d->seed) ^ hash_bytes(p, n, d->seed + 2);
}

bool dedup_seen_hep(struct dedup *d, const struct l4_packet *l4)
{
    return check(d, msg_key(d, l4, l4->payload, l4->len), l4->pkt->ts);
}

/* The wire and a HEP trace of it. The key's two low bits hold the views that
 * showed the message (a slot is empty when neither did). A message matches a slot of
 * the same key within the window either side of its first sighting, as a HEP time is
 * the tracer's clock and its packet may come before the wire frame or after it; it is a
 * copy when the slot holds the other view. Two sightings in one view are two sends: the
 * wire's own copies are told by the IP ID (dedup_seen), HEP's by dedup_seen_hep. */
#define VIEW_WIRE 1u
#define VIEW_HEP 2u
#define VIEWS 3u

bool dedup_seen_sip(struct dedup *d, const struct l4_packet *l4, const char *p, size_t n)
{
    uint64_t h = msg_key(d, l4, p, n) & ~(uint64_t)VIEWS, view = l4->hep ? VIEW_HEP : VIEW_WIRE;
    ptime_t now = l4->pkt->ts;
    struct dedup_slot *b = &d->slots[(h & d->mask) & ~(size_t)(DEDUP_WAYS - 1)], *old = b;
    for (unsigned i = 0; i < DEDUP_WAYS; i++) {
        ptime_t dt = now >= b[i].at ? now - b[i].at : b[i].at - now;
        if ((b[i].hash & ~(uint64_t)VIEWS) == h && (b[i].hash & VIEWS) && dt <= d->window) {
            if (!(b[i].hash & (VIEWS ^ view)))
                return false; /* the same view again: another send; the slot stays */
            b[i].hash |= view; /* a third sighting (a second tracer) is a copy too */
            return true;
        }
        if (b[i].at < old->at)
            old = &b[i];
    }
    old->hash = h | view;
    old->at = now;
    return false;
}

static bool check(struct dedup *d, uint64_t h, ptime_t now)
{
    h |= 1; /* 0 marks an empty slot */
    struct dedup_slot *b = &d->slots[(h & d->mask) & ~(size_t)(DEDUP_WAYS - 1)], *old = b;
    for (unsigned i = 0; i < DEDUP_WAYS; i++) {
        if (b[i].hash == h && now >= b[i].at && now - b[i].at <= d->window)
            return true; /* the first copy keeps its time: a third within the window is one too */
        if (b[i].at < old->at)
            old = &b[i];
    }
    old->hash = h; /* the bucket's oldest makes way */
    old->at = now;
    return false;
}
