/* Frame decoding, link layer to UDP/TCP: bounds-checked parsing of untrusted bytes.
 * decoder_frame() takes one frame from capture/ and calls the handlers with every UDP
 * datagram and TCP segment it finds (after VLAN/MPLS tags, tunnels and IP fragment
 * reassembly). Every frame that cannot be decoded is counted under a reason
 * (docs/style.md rule 6; docs/output.md capture.decode_errors). The decoder keeps no call state. */
#ifndef SIPSCOPE_DECODE_H
#define SIPSCOPE_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "capture/capture.h"
#include "common/membudget.h"
#include "common/ptime.h"

/* Why a frame (or part of one) was not decoded. The string is the key in
 * capture.decode_errors; keep names stable, add freely. */
#define DECODE_REASONS(X)                                                                       \
    X(LINK_UNSUPPORTED, "link_unsupported")         /* link type we do not decode */          \
    X(LINK_TRUNCATED, "link_truncated")             /* shorter than its link header */        \
    X(VLAN_TRUNCATED, "vlan_truncated")             /* ends inside an 802.1Q/ad tag */         \
    X(MPLS_TRUNCATED, "mpls_truncated")             /* ends inside the label stack */         \
    X(MPLS_PAYLOAD_UNKNOWN, "mpls_payload_unknown") /* bottom of stack is not IP */           \
    X(TAGS_TOO_DEEP, "tags_too_deep")               /* more VLAN/MPLS tags than we follow */  \
    X(SNAPLEN_TRUNCATED, "snaplen_truncated")       /* cut by the capture's snaplen */        \
    X(IP_BAD_VERSION, "ip_bad_version")             /* version nibble disagrees */            \
    X(IPV4_TRUNCATED, "ipv4_truncated")                                                         \
    X(IPV4_BAD_HEADER, "ipv4_bad_header")           /* IHL < 5 */                              \
    X(IPV4_BAD_LENGTH, "ipv4_bad_length")           /* total length beyond the frame */        \
    X(IPV6_TRUNCATED, "ipv6_truncated")                                                         \
    X(IPV6_BAD_LENGTH, "ipv6_bad_length")           /* payload length beyond the frame */      \
    X(IPV6_EXT_TRUNCATED, "ipv6_ext_truncated")     /* ends inside an extension header */     \
    X(IPV6_EXT_TOO_MANY, "ipv6_ext_too_many")                                                   \
    X(TUNNEL_TOO_DEEP, "tunnel_too_deep")           /* IP in IP in IP ... */                   \
    X(GRE_TRUNCATED, "gre_truncated")               /* GRE or ERSPAN header cut short */       \
    X(GRE_UNSUPPORTED, "gre_unsupported")           /* GRE version or payload type not ours */ \
    X(VXLAN_BAD, "vxlan_bad")                       /* port 4789 without a VXLAN header */     \
    X(TZSP_BAD, "tzsp_bad")                         /* TZSP header, tags or encapsulation */   \
    X(IPFRAG_TRUNCATED, "ipfrag_truncated")         /* a fragment cut by snaplen */            \
    X(IPFRAG_BAD_LENGTH, "ipfrag_bad_length")       /* RFC 791/8200 length rules broken */    \
    X(IPFRAG_OVERSIZE, "ipfrag_oversize")           /* reassembles past 65535 bytes */        \
    X(IPFRAG_OVERLAP, "ipfrag_overlap")             /* overlapping fragments disagree */      \
    X(IPFRAG_TOO_MANY, "ipfrag_too_many_fragments")                                             \
    X(IPFRAG_LIMIT, "ipfrag_limit")                 /* one datagram exceeds the byte limit */  \
    X(IPFRAG_TIMEOUT, "ipfrag_timeout")             /* never completed within the timeout */  \
    X(IPFRAG_INCOMPLETE, "ipfrag_incomplete")       /* still incomplete when input ended */   \
    X(UDP_TRUNCATED, "udp_truncated")                                                           \
    X(UDP_BAD_LENGTH, "udp_bad_length")             /* UDP length disagrees with IP */         \
    X(TCP_TRUNCATED, "tcp_truncated")                                                           \
    X(TCP_BAD_HEADER, "tcp_bad_header")             /* data offset < 5 */                      \
    X(SCTP_TRUNCATED, "sctp_truncated")             /* ends inside a header or chunk */        \
    X(SCTP_INCOMPLETE, "sctp_incomplete")           /* a split user message never ended */     \
    X(SIP_BAD_START_LINE, "sip_bad_start_line")     /* SIP/2.0 seen, the rest of it is not */  \
    X(SIP_BAD_HEADER, "sip_bad_header")             /* a header line without a name/colon */   \
    X(SIP_HEADERS_UNTERMINATED, "sip_headers_unterminated") /* no empty line (datagram) */    \
    X(SIP_TOO_MANY_HEADERS, "sip_too_many_headers") /* headers past the index's size */       \
    X(SIP_BAD_CONTENT_LENGTH, "sip_bad_content_length")                                        \
    X(SIP_BODY_TRUNCATED, "sip_body_truncated")     /* Content-Length beyond the datagram */   \
    X(SIP_MISSING_HEADER, "sip_missing_header")     /* no Call-ID, CSeq, From, To or Via */    \
    X(SIP_BAD_CSEQ, "sip_bad_cseq")                 /* CSeq not "number method" */             \
    X(SIP_TOO_LARGE, "sip_too_large")               /* a stream message past the size cap */   \
    X(SIP_TCP_RESYNC, "sip_tcp_resync")             /* stream bytes skipped to find a start */ \
    X(SIP_TCP_GAP, "sip_tcp_gap")                   /* segments missing from the capture */    \
    X(SIP_TCP_LIMIT, "sip_tcp_limit")               /* connection or buffer limits reached */  \
    X(WS_BAD_FRAME, "ws_bad_frame")                 /* WebSocket frame we cannot follow */     \
    X(TLS_NO_KEYS, "tls_no_keys")                   /* a TLS connection no key log opens */    \
    X(TLS_BAD_RECORD, "tls_bad_record")             /* a TLS record failing authentication */ \
    X(SIP_MULTIPART_TOO_DEEP, "sip_multipart_too_deep") /* nested past what is opened */     \
    X(SDP_BAD_LINE, "sdp_bad_line")                 /* not "x=value", or a value unreadable */ \
    X(SDP_BAD_CONNECTION, "sdp_bad_connection")     /* c= we cannot read */                    \
    X(SDP_BAD_MEDIA, "sdp_bad_media")               /* m= we cannot read */                    \
    X(SDP_TOO_MANY_MEDIA, "sdp_too_many_media")     /* m= lines past the kept number */       \
    X(DNS_TRUNCATED, "dns_truncated")               /* a DNS message ends inside a record */  \
    X(DNS_BAD_NAME, "dns_bad_name")                 /* a label or pointer breaks RFC 1035 */ \
    X(HEP_BAD_LENGTH, "hep_bad_length")             /* HEP lengths disagree with the bytes */  \
    X(HEP_BAD_CHUNK, "hep_bad_chunk")               /* a HEPv3 chunk of the wrong size */      \
    X(HEP_MISSING_CHUNK, "hep_missing_chunk")       /* no payload, family or addresses */      \
    X(HEP_UNSUPPORTED, "hep_unsupported")           /* compressed HEP payloads */

enum decode_reason {
#define DECODE_REASON_ENUM(id, name) DR_##id,
    DECODE_REASONS(DECODE_REASON_ENUM)
#undef DECODE_REASON_ENUM
    DR__COUNT
};

const char *decode_reason_name(enum decode_reason r);

struct ip_addr {
    uint8_t family; /* 4 or 6 */
    uint8_t b[16];  /* IPv4 in the first 4 bytes, the rest zero */
};

static inline bool ip_addr_eq(const struct ip_addr *a, const struct ip_addr *b)
{
    return a->family == b->family && !memcmp(a->b, b->b, 16);
}

/* One UDP datagram or TCP segment, with what the layers below said about it. */
struct l4_packet { /* decode/ip.c l4_init sets every field: add new ones there */
    const struct packet *pkt; /* the frame that delivered it (for a reassembled datagram:
                               * the frame that completed it) */
    uint8_t proto;            /* 17 UDP, 6 TCP, 132 SCTP */
    uint8_t ttl;              /* TTL / hop limit of the innermost IP header */
    uint16_t vlan;            /* outermost VLAN id, 0 when untagged */
    struct ip_addr src, dst;  /* innermost IP header */
    uint16_t sport, dport;
    uint32_t ip_id;           /* IPv4 identification, IPv6 fragment id, else 0 */
    bool truncated;           /* payload cut by snaplen: fewer bytes than the header says */
    bool reassembled;         /* from IP fragments */
    uint8_t tunnels;          /* IP-in-IP levels removed */
    bool dedup_deferred;      /* its mirror-copy check is left to the udp_dedup handler */
    uint8_t srtp;             /* enum l4_srtp: what SRTP made of it */
    bool hep;                 /* from inside HEP: addresses, ports and pkt->ts are those of
                               * the original capture, pkt->frame the frame carrying it */
    uint32_t tcp_seq, tcp_ack;
    uint8_t tcp_flags;
    const uint8_t *payload;   /* borrowed: the frame, or the reassembly buffer */
    uint32_t len;
    const uint8_t *l3;        /* borrowed: the innermost IP header, for classifiers that want
                               * the whole packet (nDPI); NULL when reassembled or cut */
    uint32_t l3_len;
};

/* What SRTP (decode/srtp.h) made of a UDP datagram. */
enum l4_srtp {
    L4_CLEAR = 0,     /* no SRTP known for its destination: as it came */
    L4_DECRYPTED,     /* SRTP or SRTCP opened: payload is the plain packet (decoder scratch) */
    L4_ENCRYPTED,     /* SRTP by its SDP, no usable key: only the headers are readable */
    L4_AUTH_FAILED,   /* a key, but the packet failed authentication: headers only */
};

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

/* A frame's UDP datagram as decode_peek_udp() sees it. */
struct udp_peek {
    struct ip_addr src, dst;  /* as the decoder writes them: the rest of b[] zero */
    uint16_t sport, dport;
    const uint8_t *payload;   /* borrowed from the frame */
    uint32_t len;
};

/* The UDP datagram of a plain frame (Ethernet with up to two VLAN tags, Linux SLL or raw
 * IP; unfragmented IPv4 or IPv6 without extension headers), read without the decoder:
 * stateless, for a thread ahead of the analysis (the read-ahead thread uses it
 * to work out each RTP packet's stream hash on the second core). false for any other
 * frame. A hint only: decoder_frame() decides what the frame is. */
bool decode_peek_udp(const struct packet *pkt, struct udp_peek *out);

/* A direction of a UDP/TCP flow as a fixed-size key (zero padding: hashed as bytes). */
struct l4_flow_key {
    uint8_t family, pad;
    uint16_t sport, dport, pad2;
    uint8_t src[16], dst[16];
};

static inline void l4_flow_key_make(struct l4_flow_key *k, const struct ip_addr *src,
                                    uint16_t sport, const struct ip_addr *dst, uint16_t dport)
{
    *k = (struct l4_flow_key){.family = src->family, .sport = sport, .dport = dport};
    memcpy(k->src, src->b, 16);
    memcpy(k->dst, dst->b, 16);
}

typedef void (*decode_l4_fn)(void *user, const struct l4_packet *l4);

enum sip_transport {
    SIP_TRANSPORT_UDP,
    SIP_TRANSPORT_TCP,
    SIP_TRANSPORT_WS,
    SIP_TRANSPORT_SCTP,
    SIP_TRANSPORT_TLS, /* TCP, decrypted with a key log */
    SIP_TRANSPORT_WSS, /* WebSocket inside TLS, decrypted with a key log */
};
const char *sip_transport_name(enum sip_transport t);

struct sip_msg;
/* One SIP message, with the packet that completed it. Everything is borrowed and valid
 * only during the call. */
struct sip_event {
    const struct sip_msg *msg;
    const struct l4_packet *l4; /* addresses, ports and the frame that completed the message */
    enum sip_transport transport;
    const char *raw;            /* the message's bytes */
    size_t raw_len;
};
typedef void (*decode_sip_fn)(void *user, const struct sip_event *ev);
struct dns_msg;
/* One DNS message (decode/dns.h), over UDP or TCP; borrowed for the call. */
typedef void (*decode_dns_fn)(void *user, const struct l4_packet *l4, const struct dns_msg *m);

struct hep_msg;

struct decode_handlers {
    decode_l4_fn udp;  /* every UDP datagram; may be NULL */
    decode_l4_fn tcp;  /* every TCP segment; may be NULL */
    decode_sip_fn sip; /* every SIP message on UDP, TCP, WebSocket or SCTP; may be NULL */
    decode_dns_fn dns; /* every DNS message read (port 53, UDP or TCP); may be NULL */
    /* Instead of udp: the same, and the handler says whether a datagram whose mirror-copy
     * check the decoder left to it (l4->dedup_deferred: RTP-looking IPv4, whose stream
     * knows its own last packet with no table lookup) is a copy; true drops it and counts
     * it in duplicates. The handler checks the others with decoder_dedup_deferred. */
    bool (*udp_dedup)(void *user, const struct l4_packet *l4);
    /* every HEP packet that carries RTCP (type 5) or a quality report (0x22), as read
     * (outer: the datagram or segment that carried it); may be NULL */
    void (*hep_report)(void *user, const struct l4_packet *outer, const struct hep_msg *h);
    void *user;
};

struct decode_config {
    size_t frag_max_datagrams; /* datagrams being reassembled at once */
    size_t tcp_max_streams;    /* TCP directions followed for SIP at once */
    size_t tcp_max_bytes;      /* bytes buffered by all of them */
    ptime_t tcp_idle_timeout;  /* packet time after which a silent direction is dropped */
    size_t frag_max_bytes;     /* bytes held by all reassembly buffers */
    ptime_t dedup_window;      /* a copy of a datagram this soon after it is dropped (mirror
                                * ports); 0: every copy is analysed */
    ptime_t hep_copy_window;   /* a SIP message in HEP this near the same on the wire (or
                                * the other way round) is one send; 0: both analysed */
    ptime_t frag_timeout;      /* packet time a datagram may wait for its last piece */
    size_t dedup_slots;        /* recent datagrams remembered for dedup_window; 0 default */
    uint64_t hash_seed;
    /* NSS key log files (SSLKEYLOGFILE format) whose secrets open TLS connections; read
     * again as they grow. Borrowed for decoder_new only. */
    const char *const *tls_keylogs;
    size_t n_tls_keylogs;
    size_t srtp_max_endpoints; /* media endpoints keyed for SRTP at once; 0: no SRTP */
};

void decode_config_default(struct decode_config *cfg);
/* Limits from a memory budget (common/membudget.h): the reassembly share, two thirds for
 * TCP and a third for IP fragments; de-duplication's table within its share. */
void decode_config_budget(struct decode_config *cfg, const struct mem_budget *b);

struct decode_stats {
    uint64_t frames;
    uint64_t ipv4, ipv6;        /* IP headers decoded (tunnelled ones included) */
    uint64_t udp, tcp;          /* datagrams / segments handed on */
    uint64_t non_ip;            /* ARP, LLDP, STP...: not ours, not an error */
    uint64_t other_proto;       /* ICMP, SCTP, ESP...: not (yet) ours, not an error */
    uint64_t fragments;         /* IP fragments taken in */
    uint64_t reassembled;       /* datagrams completed from them */
    uint64_t frag_duplicates;   /* fragments that repeated bytes already held */
    uint64_t duplicates;        /* datagrams dropped as exact copies (dedup_window), and
                                 * SIP messages in HEP also seen on the wire (hep_copy_window) */
    uint64_t frag_evicted;      /* datagrams dropped to stay within the limits */
    uint64_t sctp;              /* SCTP packets */
    uint64_t sip_messages;      /* SIP messages handed on (malformed ones included) */
    uint64_t sip_malformed;
    uint64_t tcp_retransmitted; /* TCP segments whose bytes were all seen before */
    uint64_t tcp_streams;       /* TCP directions that carried SIP or WebSocket */
    uint64_t tcp_evicted;       /* directions dropped to stay within the limits */
    uint64_t tls_flows;         /* TLS connections followed (hellos seen, or on port 5061) */
    uint64_t tls_records;       /* TLS records of application data decrypted */
    uint64_t srtp_decrypted;    /* SRTP and SRTCP packets opened with SDES keys */
    uint64_t srtp_auth_failures; /* SRTP/SRTCP packets a key did not authenticate */
    uint64_t srtp_keyless;      /* packets to SRTP endpoints with no usable key */
    uint64_t srtp_replays;      /* index seen before (a copy or a replay): dropped */
    uint64_t srtp_keys;         /* media endpoints keyed now */
    uint64_t dns;               /* DNS messages read (port 53, UDP and TCP) */
    uint64_t dns_tcp_partial;   /* DNS over TCP messages not read whole: a hole in the
                                 * stream, pushed out by newer ones, or cut by the end */
    uint64_t hep;               /* HEP packets */
    uint64_t hep_rtcp;          /* of which RTCP (handed to hep_report) */
    uint64_t hep_other;         /* of which logs, QoS reports (handed to hep_report) and others */
    uint64_t errors[DR__COUNT];
};

struct decoder;

/* NULL when memory runs out or a key log file cannot be read (logged with its name). */
struct decoder *decoder_new(const struct decode_config *cfg, const struct decode_handlers *h);
void decoder_free(struct decoder *d);
/* Decodes one frame; the handlers run before it returns. */
void decoder_frame(struct decoder *d, const struct packet *pkt);
/* Input ended: datagrams still waiting for fragments are counted as ipfrag_incomplete. */
void decoder_finish(struct decoder *d);
void decoder_get_stats(const struct decoder *d, struct decode_stats *out);
/* Bytes its tables hold now (de-duplication; TCP and fragment reassembly) into u. */
void decoder_memory(const struct decoder *d, struct mem_usage *u);
/* The mirror-copy check the decoder left to udp_dedup, done by the decoder's own table
 * (for a deferred datagram that no stream took): true when it is a copy. */
bool decoder_dedup_deferred(struct decoder *d, const struct l4_packet *l4);

/* "1.2.3.4:5060" or "[2001:db8::1]:5060" into buf; returns buf. */
char *ip_addr_port_str(const struct ip_addr *a, uint16_t port, char *buf, size_t len);
#define IP_ADDR_PORT_STRLEN 56
/* "1.2.3.4" or "2001:db8::1" into buf; returns buf. */
char *ip_addr_str(const struct ip_addr *a, char *buf, size_t len);

#endif
