/* A look at a frame's UDP datagram without the decoder. Stateless and free of
 * side effects, so that the read-ahead thread can run it on frames the analysis has not
 * reached yet: it works out the hash of the RTP stream a datagram belongs to, on the second
 * core, and the analysis looks the stream up by it. Only the plain case is read: Ethernet
 * (VLAN tags too), Linux SLL, raw IP; IPv4 without fragmentation, IPv6 without extension
 * headers; UDP. Anything else answers false. The peek is a hint: decoder_frame() still
 * decodes every frame and decides. */
#include <pcap/pcap.h>

#include "decode_int.h"

/* Runs on every frame the read-ahead thread reads: one bounds check per header, then
 * plain reads inside what it checked (the first version, a cursor call per
 * field, cost 110 instructions a frame). */
static bool peek_ip(struct cursor c, struct udp_peek *out)
{
    size_t left = cursor_left(&c), hlen;
    const uint8_t *h = c.p, *udp;
    if (left < 28) /* an IPv4 header and a UDP header, at the least */
        return false;
    if (h[0] >> 4 == 4) {
        hlen = (h[0] & 0x0f) * 4u;
        if (hlen < 20 || h[9] != 17 || ((h[6] & 0x3f) | h[7]) || left < hlen + 8)
            return false; /* not UDP, or a fragment (more fragments, or an offset) */
        unsigned total = (unsigned)h[2] << 8 | h[3];
        if (total >= hlen && total < left)
            left = total; /* Ethernet padding */
        ip_addr_set(&out->src, 4, h + 12, 4);
        ip_addr_set(&out->dst, 4, h + 16, 4);
    } else if (h[0] >> 4 == 6) {
        hlen = 40;
        if (left < hlen + 8 || h[6] != 17)
            return false;
        unsigned plen = (unsigned)h[4] << 8 | h[5];
        if (plen && plen + hlen < left)
            left = plen + hlen;
        ip_addr_set(&out->src, 6, h + 8, 16);
        ip_addr_set(&out->dst, 6, h + 24, 16);
    } else {
        return false;
    }
    if (left < hlen + 8) /* the IP length ends inside the UDP header */
        return false;
    udp = h + hlen;
    unsigned len = (unsigned)udp[4] << 8 | udp[5];
    if (len < 8)
        return false;
    out->sport = (uint16_t)(udp[0] << 8 | udp[1]);
    out->dport = (uint16_t)(udp[2] << 8 | udp[3]);
    out->payload = udp + 8;
    out->len = (uint32_t)(left - hlen - 8);
    if (len - 8u < out->len)
        out->len = len - 8u;
    return true;
}

bool decode_peek_udp(const struct packet *pkt, struct udp_peek *out)
{
    struct cursor c = cursor_make(pkt->data, pkt->caplen);
    uint16_t type;
    switch (pkt->linktype) {
    case DLT_EN10MB:
        if (!cursor_skip(&c, 12) || !cursor_u16be(&c, &type))
            return false;
        for (int tags = 0; (type == 0x8100 || type == 0x88a8) && tags < 2; tags++)
            if (!cursor_skip(&c, 2) || !cursor_u16be(&c, &type))
                return false;
        break;
    case DLT_LINUX_SLL:
        if (!cursor_skip(&c, 14) || !cursor_u16be(&c, &type))
            return false;
        break;
    case DLT_RAW:
#if defined(DLT_IPV4) && defined(DLT_IPV6)
    case DLT_IPV4:
    case DLT_IPV6:
#endif
        return peek_ip(c, out);
    default:
        return false;
    }
    return (type == 0x0800 || type == 0x86dd) && peek_ip(c, out);
}
