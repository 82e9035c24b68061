/* Internal to decode/: the decoder struct shared by the link, IP and L4 dissectors. */
#ifndef SIPSCOPE_DECODE_INT_H
#define SIPSCOPE_DECODE_INT_H

#include "common/cursor.h"
#include "common/log.h"
#include "decode.h"
#include "ipfrag.h"
#include "dns.h"
#include "sip.h"
#include "srtp.h"
#include "tls.h"

#define DECODE_MAX_TAGS    16 /* VLAN + MPLS labels followed before giving up */
#define DECODE_MAX_TUNNELS 4  /* IP-in-IP levels */
#define DECODE_MAX_IPV6_EXT 16

/* An address as the decoder writes it: family, bytes, zeros after; two 8-byte stores, as
 * readers (flow and stream keys) load it in 8-byte words, which the processor forwards only
 * from stores of the same span. The read-ahead's peek writes it the same way, so
 * that its stream hash is the analysis's. */
static inline void ip_addr_set(struct ip_addr *a, uint8_t family, const uint8_t *p,
                               size_t alen)
{
    uint64_t lo = 0, hi = 0;
    memcpy(&lo, p, alen < 8 ? alen : 8);
    if (alen > 8)
        memcpy(&hi, p + 8, alen - 8);
    a->family = family;
    memcpy(a->b, &lo, 8);
    memcpy(a->b + 8, &hi, 8);
}

/* Exact copies of a datagram within a window (dedup.c). */
struct dedup;
struct dedup *dedup_new(size_t slots, ptime_t window, uint64_t seed);
void dedup_free(struct dedup *d);
size_t dedup_bytes(const struct dedup *d);
/* Whether this datagram (its IP payload at c) is a copy of one seen within the window. */
bool dedup_seen(struct dedup *d, const struct l4_packet *l4, uint8_t proto, struct cursor c);
/* The same for a message a HEP packet carried (no IP header: addresses, ports, payload):
 * a probe on a mirror port sends both copies on. */
bool dedup_seen_hep(struct dedup *d, const struct l4_packet *l4);
/* Whether a SIP message (p, n) seen on the wire is one a HEP trace showed within the
 * window either side, or the other way round (l4->hep): one send, seen twice. Only a table
 * of its own holds these (dedup_new, its window decode_config.hep_copy_window). */
bool dedup_seen_sip(struct dedup *d, const struct l4_packet *l4, const char *p, size_t n);
/* RTP over IPv4 without options: its check can wait for its stream (udp_dedup). */
bool dedup_deferrable(const struct l4_packet *l4, uint8_t proto, struct cursor c);
/* The check of such a datagram, when no stream took it: dedup_seen's verdict. */
bool dedup_seen_deferred(struct dedup *d, const struct l4_packet *l4);
/* 256 KB, 4,096 buckets of 4: a mirror's copy follows its original within a few
 * datagrams, and a bucket fills with four others long after */
#define DEDUP_SLOTS 16384
/* 64 KB for SIP messages alone: 10,000 a second leave 500 in a 50 ms window, in 1,024
 * buckets of 4 */
#define DEDUP_SIP_SLOTS 4096

struct decoder {
    struct decode_handlers h;
    struct decode_config cfg;
    struct dedup *dedup;             /* NULL: every copy is analysed */
    struct dedup *sip_copies;        /* wire and HEP views of SIP; NULL: both analysed */
    struct dns_msg dns;              /* parse scratch: one message at a time */
    struct ipfrag_table *frag;
    struct tcp_table *tcp;
    struct sip_msg msg;              /* parse scratch: one message at a time */
    struct sctp_partial *sctp;       /* owned: SCTP user messages being joined */
    struct dns_tcp_partial *dnstcp;  /* owned: DNS messages over TCP being joined */
    struct decode_stats st;
    struct tls_keylog *tls_keys;     /* owned; NULL: no key log given */
    uint8_t tls_plain[TLS_MAX_RECORD]; /* one TLS record's plaintext at a time */
    struct srtp_table *srtp;         /* owned: SDES keys by endpoint; NULL: no SRTP */
    struct srtp_offers *offers;      /* owned: offers awaiting the answer that picks a key */
    uint64_t cur_frame;              /* for log lines */
    uint64_t frag_evicted_logged;
    struct log_ratelimit frag_limit_log;
};

/* State of one frame on its way up the stack. */
struct frame_ctx {
    const struct packet *pkt;
    bool snap_cut;       /* caplen < wirelen */
    bool snap_counted;   /* snaplen_truncated already counted for this frame */
    uint16_t vlan;
    uint8_t tunnels;
};

/* A DNS message on UDP port 53: read and counted (look-ups beside SIP). */
void decode_dns(struct decoder *d, const struct l4_packet *l4);
/* DNS over TCP (dnstcp.c): messages joined across segments; the input's end counts
 * what was left unfinished. */
void decode_dns_tcp(struct decoder *d, const struct l4_packet *l4);
void dns_tcp_finish(struct decoder *d);
void dns_tcp_free(struct decoder *d);

/* Counts a rejection under its reason and logs it at debug level with the frame number. */
void decode_error(struct decoder *d, enum decode_reason r);

/* Counts snaplen_truncated once per frame, however many layers notice it. */
static inline void decode_snap_cut(struct decoder *d, struct frame_ctx *f)
{
    if (!f->snap_counted)
        decode_error(d, DR_SNAPLEN_TRUNCATED);
    f->snap_counted = true;
}

/* A read that ran out of bytes: blame snaplen when the frame was cut, else the layer. */
static inline void decode_short(struct decoder *d, struct frame_ctx *f, enum decode_reason r)
{
    if (f->snap_cut)
        decode_snap_cut(d, f);
    else
        decode_error(d, r);
}

void decode_ip(struct decoder *d, struct frame_ctx *f, struct cursor c, uint16_t ethertype);
/* An Ethernet frame inside a tunnel (GRE bridging, ERSPAN, VXLAN, TZSP): one tunnel level
 * more than its carrier, refused past DECODE_MAX_TUNNELS. */
void decode_inner_ethernet(struct decoder *d, const struct frame_ctx *outer, struct cursor c);
/* The same from a UDP tunnel, whose frame context is its datagram's. */
void decode_udp_tunnel_ethernet(struct decoder *d, const struct l4_packet *outer, struct cursor c);
/* GRE (RFC 2784, 2890) and ERSPAN types I to III inside it. */
void decode_gre(struct decoder *d, struct frame_ctx *f, struct l4_packet *l4, struct cursor c,
                unsigned depth);
void decode_l4(struct decoder *d, struct l4_packet *l4, uint8_t proto, struct cursor c);

/* Counts one SIP message (and its malformation) and hands it to the sip handler. */
void decode_emit_sip(struct decoder *d, const struct l4_packet *l4, enum sip_transport tr,
                     const char *p, size_t n, const struct sip_msg *m);
struct hep_msg;
/* One HEP packet that arrived in `outer`: its SIP goes on as if captured where HEP says. */
void decode_hep_msg(struct decoder *d, const struct l4_packet *outer, const struct hep_msg *h);

/* A datagram-framed payload (UDP, SCTP DATA) that may hold one SIP message. */
void decode_sip_datagram(struct decoder *d, const struct l4_packet *l4, enum sip_transport tr);

void decode_sctp(struct decoder *d, struct l4_packet *l4, struct cursor c);
void sctp_free(struct decoder *d);

struct tcp_table;
struct tcp_table *tcp_table_new(const struct decode_config *cfg);
void tcp_table_free(struct tcp_table *t);
size_t tcp_table_bytes(const struct tcp_table *t); /* buffered bytes and directions */
void tcp_segment(struct decoder *d, struct tcp_table *t, const struct l4_packet *l4);
void tcp_finish(struct decoder *d, struct tcp_table *t);

/* UDP datagram to an endpoint SRTP protects: opened in place of its payload (l4->srtp says
 * what became of it). True when it is to be dropped (an index seen before). */
bool decode_srtp(struct decoder *d, struct l4_packet *l4);

#endif
