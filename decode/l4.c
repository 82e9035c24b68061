/* UDP and TCP headers: the last layer decode/ owns before the payload goes to the
 * handlers (SIP, RTP and TCP stream reassembly live above this). */
#include <string.h>

#include "decode_int.h"
#include "hep.h"
#include "rtp.h"

/* HEP in a datagram: one packet per datagram. v1/v2 headers are plain bytes that other
 * protocols could start with, so those count as HEP only when they carry SIP. */
static void decode_hep_udp(struct decoder *d, const struct l4_packet *l4)
{
    struct hep_msg h;
    size_t used;
    enum decode_reason why;
    switch (hep_parse(l4->payload, l4->len, &h, &used, &why)) {
    case HEP_OK:
        if (h.version < 3 && !sip_looks_like((const char *)h.payload, h.len))
            break;
        decode_hep_msg(d, l4, &h);
        return;
    case HEP_BAD:
        if (l4->len >= 4 && memcmp(l4->payload, "HEP3", 4) == 0) {
            decode_error(d, why);
            return;
        }
        break;
    case HEP_INCOMPLETE:
        decode_error(d, l4->truncated ? DR_SNAPLEN_TRUNCATED : DR_HEP_BAD_LENGTH);
        return;
    case HEP_NOT_HEP:
        break;
    }
    decode_sip_datagram(d, l4, SIP_TRANSPORT_UDP);
}

/* Mirror tunnels over UDP, by their IANA ports: VXLAN (RFC 7348; 8472 is Linux's old
 * default) and TZSP (37008). True when the datagram was one and was decoded; false, with
 * the reason counted, when the port held something else: it is then any datagram. */
static bool udp_tunnel(struct decoder *d, const struct l4_packet *l4, struct cursor c)
{
    uint8_t b;
    if (l4->dport != 37008) {
        /* VXLAN: flags with I (valid VNI) set, 3 reserved bytes, VNI, 1 reserved */
        if (!cursor_peek_u8(&c, 0, &b) || !(b & 0x08) || !cursor_skip(&c, 8)) {
            decode_error(d, DR_VXLAN_BAD);
            return false;
        }
        decode_udp_tunnel_ethernet(d, l4, c);
        return true;
    }
    /* TZSP: version 1, type, encapsulation; tags (0 padding, 1 end, else type, length,
     * value) up to the end tag; then the frame. Received packets (type 0) in Ethernet
     * (encapsulation 1) are what a mirror sends. */
    uint8_t ver, type, tag, len;
    uint16_t encap;
    if (!cursor_u8(&c, &ver) || !cursor_u8(&c, &type) || !cursor_u16be(&c, &encap) || ver != 1 ||
        encap != 1) {
        decode_error(d, DR_TZSP_BAD);
        return false;
    }
    for (unsigned n = 0;; n++) {
        if (n > 64 || !cursor_u8(&c, &tag)) {
            decode_error(d, DR_TZSP_BAD);
            return false;
        }
        if (tag == 1)
            break;
        if (tag == 0)
            continue;
        if (!cursor_u8(&c, &len) || !cursor_skip(&c, len)) {
            decode_error(d, DR_TZSP_BAD);
            return false;
        }
    }
    decode_udp_tunnel_ethernet(d, l4, c);
    return true;
}

/* SRTP leaves the RTP header in clear (RFC 3711 §3.1), so a packet no key opens still goes
 * on, marked, to be measured from its header; an opened one goes on as the plain packet. */
bool decode_srtp(struct decoder *d, struct l4_packet *l4)
{
    const uint8_t *out;
    size_t n;
    bool rtcp = rtcp_looks_like(l4->payload, l4->len);
    switch (srtp_table_unprotect(d->srtp, &l4->dst, l4->dport, rtcp, l4->payload, l4->len, &out,
                                 &n)) {
    case SRTP_NO_KEY:
        return false;
    case SRTP_OK:
        d->st.srtp_decrypted++;
        l4->payload = out;
        l4->len = (uint32_t)n;
        l4->l3 = NULL; /* the IP packet still holds the ciphertext */
        l4->l3_len = 0;
        /* the mirror-copy check reads the IP packet, and libsrtp2's replay window has done
         * it: a copy repeats an index */
        l4->dedup_deferred = false;
        l4->srtp = L4_DECRYPTED;
        return false;
    case SRTP_REPLAY: /* a mirror's copy, or an attacker's: measured once */
        d->st.srtp_replays++;
        return true;
    case SRTP_KEYLESS:
        d->st.srtp_keyless++;
        l4->srtp = L4_ENCRYPTED;
        return false;
    default:
        d->st.srtp_auth_failures++;
        l4->srtp = L4_AUTH_FAILED;
        return false;
    }
}

static void decode_udp(struct decoder *d, struct l4_packet *l4, struct cursor c)
{
    uint16_t len;
    if (!cursor_u16be(&c, &l4->sport) || !cursor_u16be(&c, &l4->dport) ||
        !cursor_u16be(&c, &len) || !cursor_skip(&c, 2)) {
        if (!l4->truncated) /* else snaplen_truncated is counted already */
            decode_error(d, DR_UDP_TRUNCATED);
        return;
    }
    size_t left = cursor_left(&c);
    if (len < 8 && !(len == 0 && l4->src.family == 6)) { /* 0: RFC 2675 jumbogram */
        decode_error(d, DR_UDP_BAD_LENGTH);
        return;
    }
    if (len >= 8 && len - 8u < left)
        cursor_limit(&c, len - 8u);
    else if (len >= 8 && len - 8u > left && !l4->truncated) {
        /* the IP header says the datagram ends before UDP says it does */
        decode_error(d, DR_UDP_BAD_LENGTH);
        return;
    }
    l4->proto = 17;
    l4->payload = c.p;
    l4->len = (uint32_t)cursor_left(&c);
    d->st.udp++;
    if ((l4->dport == 4789 || l4->dport == 8472 || l4->dport == 37008) && udp_tunnel(d, l4, c))
        return;
    if (d->srtp && l4->len >= 12 && l4->payload[0] >> 6 == 2 && decode_srtp(d, l4))
        return;
    if (d->h.udp_dedup) {
        if (d->h.udp_dedup(d->h.user, l4)) {
            d->st.duplicates++;
            d->st.udp--; /* a copy, as if dropped before it was counted */
            return;
        }
    } else if (d->h.udp) {
        d->h.udp(d->h.user, l4);
    }
    if (l4->sport == 53 || l4->dport == 53) {
        decode_dns(d, l4);
        return;
    }
    /* a first byte of 10xxxxxx (version 2: RTP, RTCP) opens neither a SIP start line (a
     * token character) nor HEP ("HEP3", or version 1 or 2): media, most of the datagrams,
     * ends here without two more looks */
    if (l4->len && l4->payload[0] >> 6 == 2)
        return;
    if (hep_looks_like(l4->payload, l4->len))
        decode_hep_udp(d, l4);
    else
        decode_sip_datagram(d, l4, SIP_TRANSPORT_UDP);
}

static void decode_tcp(struct decoder *d, struct l4_packet *l4, struct cursor c)
{
    uint8_t off, flags;
    if (!cursor_u16be(&c, &l4->sport) || !cursor_u16be(&c, &l4->dport) ||
        !cursor_u32be(&c, &l4->tcp_seq) || !cursor_u32be(&c, &l4->tcp_ack) ||
        !cursor_u8(&c, &off) || !cursor_u8(&c, &flags) || !cursor_skip(&c, 6)) {
        if (!l4->truncated)
            decode_error(d, DR_TCP_TRUNCATED);
        return;
    }
    unsigned hlen = (off >> 4) * 4u;
    if (hlen < 20) {
        decode_error(d, DR_TCP_BAD_HEADER);
        return;
    }
    if (!cursor_skip(&c, hlen - 20)) { /* options */
        if (!l4->truncated)
            decode_error(d, DR_TCP_TRUNCATED);
        return;
    }
    l4->proto = 6;
    l4->tcp_flags = flags;
    l4->payload = c.p;
    l4->len = (uint32_t)cursor_left(&c);
    d->st.tcp++;
    if (d->h.tcp)
        d->h.tcp(d->h.user, l4);
    if (l4->sport == 53 || l4->dport == 53) {
        decode_dns_tcp(d, l4);
        return;
    }
    tcp_segment(d, d->tcp, l4);
}

void decode_l4(struct decoder *d, struct l4_packet *l4, uint8_t proto, struct cursor c)
{
    if (proto == 17)
        decode_udp(d, l4, c);
    else if (proto == 6)
        decode_tcp(d, l4, c);
    else
        decode_sctp(d, l4, c);
}
