/* A look at a frame's UDP datagram without the decoder (issue 10). Stateless and free of
 * side effects, so that the read-ahead thread can run it on frames the analysis has not
 * reached yet: the stream a datagram belongs to is then fetched into cache before its
 * turn. Only the plain case is read: Ethernet (VLAN tags too), Linux SLL, raw IP; IPv4
 * without fragmentation, IPv6 without extension headers; UDP. Anything else answers
 * false. The peek is a hint: decoder_frame() still decodes every frame and decides. */
#include "decode.h"

#include <pcap/pcap.h>

#include "common/cursor.h"

static bool peek_ip(struct cursor c, struct udp_peek *out)
{
    uint8_t v;
    const uint8_t *h, *src, *dst;
    size_t alen;
    if (!cursor_peek_u8(&c, 0, &v))
        return false;
    if (v >> 4 == 4) {
        unsigned ihl = (v & 0x0f) * 4u;
        if (ihl < 20 || !cursor_bytes(&c, ihl, &h) || h[9] != 17 || ((h[6] & 0x3f) | h[7]))
            return false; /* not UDP, or a fragment (more fragments, or an offset) */
        unsigned total = (unsigned)h[2] << 8 | h[3];
        if (total >= ihl && total - ihl < cursor_left(&c))
            cursor_limit(&c, total - ihl); /* Ethernet padding */
        out->src.family = out->dst.family = 4;
        src = h + 12;
        dst = h + 16;
        alen = 4;
    } else if (v >> 4 == 6) {
        if (!cursor_bytes(&c, 40, &h) || h[6] != 17)
            return false;
        unsigned plen = (unsigned)h[4] << 8 | h[5];
        if (plen && plen < cursor_left(&c))
            cursor_limit(&c, plen);
        out->src.family = out->dst.family = 6;
        src = h + 8;
        dst = h + 24;
        alen = 16;
    } else {
        return false;
    }
    uint16_t len;
    if (!cursor_u16be(&c, &out->sport) || !cursor_u16be(&c, &out->dport) ||
        !cursor_u16be(&c, &len) || !cursor_skip(&c, 2) || len < 8)
        return false;
    if (len - 8u < cursor_left(&c))
        cursor_limit(&c, len - 8u);
    memset(out->src.b, 0, sizeof out->src.b);
    memset(out->dst.b, 0, sizeof out->dst.b);
    memcpy(out->src.b, src, alen);
    memcpy(out->dst.b, dst, alen);
    out->payload = c.p;
    out->len = (uint32_t)cursor_left(&c);
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
