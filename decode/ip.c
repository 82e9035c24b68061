/* IPv4 (with options) and IPv6 (with extension headers), fragments handed to ipfrag,
 * IP-in-IP (protocols 4 and 41) followed up to DECODE_MAX_TUNNELS levels. */
#include <string.h>

#include "decode_int.h"

static void decode_ip_depth(struct decoder *d, struct frame_ctx *f, struct cursor c,
                            uint16_t ethertype, unsigned depth, bool truncated);

/* GRE (RFC 2784 with RFC 2890's key and sequence number): IP inside, Ethernet inside
 * (0x6558, transparent bridging), or a mirrored Ethernet frame behind an ERSPAN header:
 * type I (0x88be without a sequence number: no header), type II (0x88be, 8 bytes), type
 * III (0x22eb, 12 bytes, and 8 more when its O flag says a platform subheader follows). */
void decode_gre(struct decoder *d, struct frame_ctx *f, struct l4_packet *l4, struct cursor c,
                unsigned depth)
{
    uint16_t flags, type;
    if (!cursor_u16be(&c, &flags) || !cursor_u16be(&c, &type)) {
        decode_error(d, l4->truncated ? DR_SNAPLEN_TRUNCATED : DR_GRE_TRUNCATED);
        return;
    }
    if ((flags & 0x7) != 0 || (flags & 0x4000)) { /* version 1 (PPTP) or source routing */
        decode_error(d, DR_GRE_UNSUPPORTED);
        return;
    }
    bool seq = flags & 0x1000;
    size_t opts = ((flags & 0x8000) ? 4 : 0) + ((flags & 0x2000) ? 4 : 0) + (seq ? 4 : 0);
    if (!cursor_skip(&c, opts)) {
        decode_error(d, DR_GRE_TRUNCATED);
        return;
    }
    uint8_t o;
    switch (type) {
    case 0x0800:
    case 0x86dd:
        if (depth + 1 > DECODE_MAX_TUNNELS) {
            decode_error(d, DR_TUNNEL_TOO_DEEP);
            return;
        }
        f->tunnels++;
        decode_ip_depth(d, f, c, type, depth + 1, l4->truncated);
        return;
    case 0x6558:
        break;
    case 0x88be: /* ERSPAN I has no header and no sequence number; II has both */
        if (seq && !cursor_skip(&c, 8)) {
            decode_error(d, DR_GRE_TRUNCATED);
            return;
        }
        break;
    case 0x22eb:
        if (!cursor_peek_u8(&c, 11, &o) || !cursor_skip(&c, 12) || ((o & 1) && !cursor_skip(&c, 8))) {
            decode_error(d, DR_GRE_TRUNCATED);
            return;
        }
        break;
    default:
        decode_error(d, DR_GRE_UNSUPPORTED);
        return;
    }
    decode_inner_ethernet(d, f, c);
}
static void decode_ipv6_chain(struct decoder *d, struct frame_ctx *f, struct l4_packet *l4,
                              uint8_t next, struct cursor c, unsigned depth);

/* Hands the IP payload to the next protocol: UDP/TCP, or a tunnelled IP header. */
static void upper(struct decoder *d, struct frame_ctx *f, struct l4_packet *l4, uint8_t proto,
                  struct cursor c, unsigned depth)
{
    switch (proto) {
    case 17:
    case 6:
    case 132:
        if (d->dedup && d->h.udp_dedup && dedup_deferrable(l4, proto, c)) {
            /* RTP: its stream tells a copy from its own last packet, which costs nothing;
             * a lookup in the table here cost a fifth of the analysis */
            l4->dedup_deferred = true;
        } else if (d->dedup && dedup_seen(d->dedup, l4, proto, c)) { /* before any analysis */
            d->st.duplicates++;
            return;
        }
        decode_l4(d, l4, proto, c);
        return;
    case 47:
        decode_gre(d, f, l4, c, depth);
        return;
    case 4:
    case 41:
        if (depth + 1 > DECODE_MAX_TUNNELS) {
            decode_error(d, DR_TUNNEL_TOO_DEEP);
            return;
        }
        f->tunnels++;
        decode_ip_depth(d, f, c, proto == 4 ? 0x0800 : 0x86dd, depth + 1, l4->truncated);
        return;
    default:
        d->st.other_proto++;
    }
}

static void l4_init(struct l4_packet *l4, const struct frame_ctx *f, uint8_t family,
                    const uint8_t *src, const uint8_t *dst, size_t alen)
{
    /* every field set one by one, not cleared first: clearing 104 bytes compiled to a
     * slow-starting rep stos on every packet. A field added to l4_packet is set here. */
    l4->pkt = f->pkt;
    l4->proto = l4->ttl = 0;
    l4->vlan = f->vlan;
    l4->sport = l4->dport = 0;
    l4->ip_id = 0;
    l4->truncated = l4->reassembled = l4->hep = l4->dedup_deferred = false;
    l4->srtp = L4_CLEAR;
    l4->tunnels = f->tunnels;
    l4->tcp_seq = l4->tcp_ack = 0;
    l4->tcp_flags = 0;
    l4->payload = l4->l3 = NULL;
    l4->len = l4->l3_len = 0;
    ip_addr_set(&l4->src, family, src, alen);
    ip_addr_set(&l4->dst, family, dst, alen);
}

/* Feeds one fragment to the reassembler; on completion decodes the whole datagram. */
static void fragment(struct decoder *d, struct frame_ctx *f, struct l4_packet *l4,
                     const struct ipfrag_key *key, uint32_t offset, bool more, uint8_t next,
                     struct cursor c, unsigned depth)
{
    struct ipfrag_done done;
    enum decode_reason why;

    d->st.fragments++;
    if (l4->truncated) { /* bytes are missing: the datagram can never be whole */
        decode_error(d, DR_IPFRAG_TRUNCATED);
        return;
    }
    switch (ipfrag_add(d->frag, key, f->pkt->ts, f->pkt->frame, offset, c.p, cursor_left(&c),
                       more, next, &done, &why)) {
    case IPFRAG_HELD:
        return;
    case IPFRAG_REJECTED:
        decode_error(d, why);
        return;
    case IPFRAG_COMPLETE:
        break;
    }
    d->st.reassembled++;
    l4->reassembled = true;
    l4->l3 = NULL; /* the reassembled payload has no IP header in front of it */
    l4->l3_len = 0;
    uint8_t proto = key->version == 4 ? key->proto : done.next_header;
    struct cursor whole = cursor_make(done.data, done.len);
    if (key->version == 6) {
        /* RFC 8200 §4.5: the fragmentable part may start with more extension headers */
        decode_ipv6_chain(d, f, l4, proto, whole, depth);
    } else {
        upper(d, f, l4, proto, whole, depth);
    }
    ipfrag_release(d->frag, done.dg);
}

static void decode_ipv4(struct decoder *d, struct frame_ctx *f, struct cursor c, unsigned depth,
                        bool truncated)
{
    const uint8_t *h;
    if (!cursor_has(&c, 20)) {
        decode_short(d, f, DR_IPV4_TRUNCATED);
        return;
    }
    h = c.p;
    unsigned ihl = (h[0] & 0x0f) * 4u;
    unsigned total = (unsigned)h[2] << 8 | h[3];
    if (h[0] >> 4 != 4) {
        decode_error(d, DR_IP_BAD_VERSION);
        return;
    }
    if (ihl < 20) {
        decode_error(d, DR_IPV4_BAD_HEADER);
        return;
    }
    if (total == 0) /* captured before TCP segmentation offload filled it in */
        total = (unsigned)cursor_left(&c);
    if (total < ihl) {
        decode_error(d, DR_IPV4_BAD_LENGTH);
        return;
    }
    if (!cursor_has(&c, ihl)) {
        decode_short(d, f, DR_IPV4_TRUNCATED);
        return;
    }
    if (total > cursor_left(&c)) {
        if (!f->snap_cut && !truncated) {
            decode_error(d, DR_IPV4_BAD_LENGTH);
            return;
        }
        decode_snap_cut(d, f);
        truncated = true;
    } else {
        cursor_limit(&c, total); /* drop Ethernet padding and trailers */
    }
    cursor_skip(&c, ihl);
    d->st.ipv4++;

    struct l4_packet l4;
    l4_init(&l4, f, 4, h + 12, h + 16, 4);
    l4.ttl = h[8];
    l4.ip_id = (uint32_t)h[4] << 8 | h[5];
    l4.truncated = truncated;
    if (!truncated) {
        l4.l3 = h;
        l4.l3_len = (uint32_t)(c.end - h);
    }

    unsigned ff = (unsigned)h[6] << 8 | h[7];
    bool more = ff & 0x2000;
    uint32_t offset = (ff & 0x1fff) * 8u;
    if (more || offset) {
        struct ipfrag_key key;
        memset(&key, 0, sizeof key);
        key.version = 4;
        key.proto = h[9];
        key.id = l4.ip_id;
        memcpy(key.src, h + 12, 4);
        memcpy(key.dst, h + 16, 4);
        if (offset + (uint64_t)cursor_left(&c) + ihl > 65535) { /* the "ping of death" */
            d->st.fragments++;
            decode_error(d, DR_IPFRAG_OVERSIZE);
            return;
        }
        fragment(d, f, &l4, &key, offset, more, h[9], c, depth);
        return;
    }
    upper(d, f, &l4, h[9], c, depth);
}

/* Walks IPv6 extension headers from `next` and hands the rest upwards. Fragment headers
 * go to the reassembler. */
static void decode_ipv6_chain(struct decoder *d, struct frame_ctx *f, struct l4_packet *l4,
                              uint8_t next, struct cursor c, unsigned depth)
{
    for (unsigned n = 0;; n++) {
        uint8_t nh, len8;
        if (n > DECODE_MAX_IPV6_EXT) {
            decode_error(d, DR_IPV6_EXT_TOO_MANY);
            return;
        }
        switch (next) {
        case 0:   /* hop-by-hop options */
        case 43:  /* routing */
        case 60:  /* destination options */
        case 135: /* mobility */
        case 139: /* HIP */
        case 140: /* shim6 */
            if (!cursor_u8(&c, &nh) || !cursor_u8(&c, &len8) || !cursor_skip(&c, len8 * 8u + 6)) {
                decode_short(d, f, DR_IPV6_EXT_TRUNCATED);
                return;
            }
            next = nh;
            continue;
        case 51: /* AH: length in 4-byte units, minus 2 */
            if (!cursor_u8(&c, &nh) || !cursor_u8(&c, &len8) ||
                !cursor_skip(&c, (len8 + 2u) * 4 - 2)) {
                decode_short(d, f, DR_IPV6_EXT_TRUNCATED);
                return;
            }
            next = nh;
            continue;
        case 44: { /* fragment */
            uint16_t offm;
            uint32_t id;
            if (l4->reassembled) { /* a fragment header inside a reassembled datagram */
                decode_error(d, DR_IPFRAG_BAD_LENGTH);
                return;
            }
            if (!cursor_u8(&c, &nh) || !cursor_skip(&c, 1) || !cursor_u16be(&c, &offm) ||
                !cursor_u32be(&c, &id)) {
                decode_short(d, f, DR_IPV6_EXT_TRUNCATED);
                return;
            }
            uint32_t offset = (offm >> 3) * 8u;
            bool more = offm & 1;
            if (offset == 0 && !more) { /* RFC 6946 atomic fragment: no reassembly */
                next = nh;
                continue;
            }
            struct ipfrag_key key;
            memset(&key, 0, sizeof key);
            key.version = 6;
            key.id = id;
            memcpy(key.src, l4->src.b, 16);
            memcpy(key.dst, l4->dst.b, 16);
            l4->ip_id = id;
            fragment(d, f, l4, &key, offset, more, nh, c, depth);
            return;
        }
        case 59: /* no next header */
            d->st.other_proto++;
            return;
        default:
            upper(d, f, l4, next, c, depth);
            return;
        }
    }
}

static void decode_ipv6(struct decoder *d, struct frame_ctx *f, struct cursor c, unsigned depth,
                        bool truncated)
{
    if (!cursor_has(&c, 40)) {
        decode_short(d, f, DR_IPV6_TRUNCATED);
        return;
    }
    const uint8_t *h = c.p;
    if (h[0] >> 4 != 6) {
        decode_error(d, DR_IP_BAD_VERSION);
        return;
    }
    unsigned plen = (unsigned)h[4] << 8 | h[5];
    cursor_skip(&c, 40);
    if (plen == 0) /* jumbogram or segmentation offload: take what is there */
        plen = (unsigned)cursor_left(&c);
    if (plen > cursor_left(&c)) {
        if (!f->snap_cut && !truncated) {
            decode_error(d, DR_IPV6_BAD_LENGTH);
            return;
        }
        decode_snap_cut(d, f);
        truncated = true;
    } else {
        cursor_limit(&c, plen);
    }
    d->st.ipv6++;

    struct l4_packet l4;
    l4_init(&l4, f, 6, h + 8, h + 24, 16);
    l4.ttl = h[7];
    l4.truncated = truncated;
    if (!truncated) {
        l4.l3 = h;
        l4.l3_len = (uint32_t)(c.end - h);
    }
    decode_ipv6_chain(d, f, &l4, h[6], c, depth);
}

static void decode_ip_depth(struct decoder *d, struct frame_ctx *f, struct cursor c,
                            uint16_t ethertype, unsigned depth, bool truncated)
{
    if (ethertype == 0x0800)
        decode_ipv4(d, f, c, depth, truncated);
    else
        decode_ipv6(d, f, c, depth, truncated);
}

void decode_ip(struct decoder *d, struct frame_ctx *f, struct cursor c, uint16_t ethertype)
{
    decode_ip_depth(d, f, c, ethertype, 0, false);
}
