/* HEP parser and HEPv3 encoder; see hep.h. HEPv3: "HEP3", a 16-bit total length, then chunks of
 * (vendor id, type id, length including the 6-byte chunk header, value), all big-endian.
 * HEPv2/v1: version, header length, family, protocol, ports and addresses in network
 * order, then (v2) a time header written in the sender's byte order, which in practice is
 * little-endian (x86 agents write the struct as it is in memory). */
#include "hep.h"

#include <string.h>

#include "common/cursor.h"

static enum hep_result bad(enum decode_reason *why, enum decode_reason r)
{
    *why = r;
    return HEP_BAD;
}

bool hep_looks_like(const uint8_t *p, size_t n)
{
    if (n >= 6 && memcmp(p, "HEP3", 4) == 0)
        return true;
    /* v1/v2: version 1|2, header length 16 (v1 IPv4), 28 (v2 IPv4), 40 (v1 IPv6) or 52
     * (v2 IPv6), family AF_INET (2) or AF_INET6 (10) */
    if (n < 16 || (p[0] != 1 && p[0] != 2) || (p[2] != 2 && p[2] != 10))
        return false;
    unsigned want = (p[2] == 2 ? 16u : 40u) + (p[0] == 2 ? 12u : 0u);
    return p[1] == want && n >= want;
}

static enum hep_result parse_v3(const uint8_t *p, size_t n, struct hep_msg *h, size_t *used,
                                enum decode_reason *why)
{
    uint16_t total;
    struct cursor c = cursor_make(p, n);
    cursor_skip(&c, 4);
    if (!cursor_u16be(&c, &total))
        return HEP_INCOMPLETE;
    if (total < 6)
        return bad(why, DR_HEP_BAD_LENGTH);
    if (total > n)
        return HEP_INCOMPLETE;
    c = cursor_make(p + 6, total - 6u);
    bool have_src = false, have_dst = false;
    uint32_t sec = 0, usec = 0;
    bool have_sec = false;
    while (cursor_left(&c) > 0) {
        uint16_t vendor, type, len;
        const uint8_t *v;
        if (!cursor_u16be(&c, &vendor) || !cursor_u16be(&c, &type) || !cursor_u16be(&c, &len) ||
            len < 6 || !cursor_bytes(&c, len - 6u, &v))
            return bad(why, DR_HEP_BAD_CHUNK);
        size_t vl = len - 6u;
        if (vendor != 0)
            continue; /* vendor chunks: not ours */
        switch (type) {
        case 1: /* IP protocol family */
            if (vl != 1)
                return bad(why, DR_HEP_BAD_CHUNK);
            h->family = v[0] == 10 ? 6 : v[0] == 2 ? 4 : 0;
            break;
        case 2: /* IP protocol id */
            if (vl != 1)
                return bad(why, DR_HEP_BAD_CHUNK);
            h->ip_proto = v[0];
            break;
        case 3: case 4: /* IPv4 source / destination */
        case 5: case 6: { /* IPv6 source / destination */
            size_t al = type <= 4 ? 4 : 16;
            if (vl != al)
                return bad(why, DR_HEP_BAD_CHUNK);
            struct ip_addr *a = (type == 3 || type == 5) ? &h->src : &h->dst;
            memset(a, 0, sizeof *a);
            a->family = al == 4 ? 4 : 6;
            memcpy(a->b, v, al);
            *((type == 3 || type == 5) ? &have_src : &have_dst) = true;
            break;
        }
        case 7: case 8: /* source / destination port */
            if (vl != 2)
                return bad(why, DR_HEP_BAD_CHUNK);
            *(type == 7 ? &h->sport : &h->dport) = (uint16_t)(v[0] << 8 | v[1]);
            break;
        case 9: case 10: /* timestamp seconds / microseconds */
            if (vl != 4)
                return bad(why, DR_HEP_BAD_CHUNK);
            *(type == 9 ? &sec : &usec) =
                (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3];
            have_sec |= type == 9;
            break;
        case 11: /* payload type */
            if (vl != 1)
                return bad(why, DR_HEP_BAD_CHUNK);
            h->payload_type = v[0];
            break;
        case 12: /* capture agent id */
            if (vl == 4)
                h->capture_id = (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3];
            else if (vl == 2)
                h->capture_id = (uint32_t)(v[0] << 8 | v[1]);
            break;
        case 14:
            h->auth_key = sv_make((const char *)v, vl);
            break;
        case 15: /* the captured payload */
            h->payload = v;
            h->len = vl;
            break;
        case 16: /* compressed payload: not read here */
            return bad(why, DR_HEP_UNSUPPORTED);
        case 17:
            h->correlation = sv_make((const char *)v, vl);
            break;
        case 19: /* group id: heplify and heplify-server carry the agent's node name in it */
            h->node = sv_make((const char *)v, vl);
            break;
        default:
            break;
        }
    }
    if (!h->payload || !have_src || !have_dst || !h->family || h->src.family != h->family ||
        h->dst.family != h->family)
        return bad(why, DR_HEP_MISSING_CHUNK);
    if (have_sec) {
        h->has_time = true;
        h->time = (ptime_t)sec * PTIME_SEC + (ptime_t)(usec % 1000000u) * PTIME_US;
    }
    *used = total;
    return HEP_OK;
}

static enum hep_result parse_v12(const uint8_t *p, size_t n, struct hep_msg *h, size_t *used,
                                 enum decode_reason *why)
{
    struct cursor c = cursor_make(p, n);
    uint8_t ver, hlen, fam, proto;
    if (!cursor_u8(&c, &ver) || !cursor_u8(&c, &hlen) || !cursor_u8(&c, &fam) ||
        !cursor_u8(&c, &proto) || !cursor_u16be(&c, &h->sport) || !cursor_u16be(&c, &h->dport))
        return bad(why, DR_HEP_BAD_LENGTH);
    size_t al = fam == 2 ? 4 : 16;
    const uint8_t *sa, *da;
    if (!cursor_bytes(&c, al, &sa) || !cursor_bytes(&c, al, &da))
        return bad(why, DR_HEP_BAD_LENGTH);
    h->version = ver;
    h->family = al == 4 ? 4 : 6;
    h->ip_proto = proto;
    h->src.family = h->dst.family = h->family;
    memcpy(h->src.b, sa, al);
    memcpy(h->dst.b, da, al);
    if (ver == 2) {
        uint32_t sec, usec;
        uint16_t capid;
        if (!cursor_u32le(&c, &sec) || !cursor_u32le(&c, &usec) || !cursor_u16le(&c, &capid) ||
            !cursor_skip(&c, 2))
            return bad(why, DR_HEP_BAD_LENGTH);
        h->has_time = true;
        h->time = (ptime_t)sec * PTIME_SEC + (ptime_t)(usec % 1000000u) * PTIME_US;
        h->capture_id = capid;
    }
    if ((size_t)(c.p - p) != hlen)
        return bad(why, DR_HEP_BAD_LENGTH);
    h->payload_type = HEP_PT_SIP; /* v1/v2 carried SIP only */
    h->payload = c.p;
    h->len = cursor_left(&c);
    *used = n;
    return HEP_OK;
}

enum hep_result hep_parse(const uint8_t *p, size_t n, struct hep_msg *h, size_t *used,
                          enum decode_reason *why)
{
    memset(h, 0, sizeof *h);
    h->auth_key = h->correlation = h->node = SV_NULL;
    if (n >= 4 && memcmp(p, "HEP3", 4) == 0) {
        h->version = 3;
        return parse_v3(p, n, h, used, why);
    }
    if (!hep_looks_like(p, n))
        return HEP_NOT_HEP;
    return parse_v12(p, n, h, used, why);
}

/* One vendor-0 chunk at `at`; past cap (nothing written) when it does not fit, which the
 * caller sees at the end. */
static size_t put_chunk(uint8_t *b, size_t at, size_t cap, uint16_t type, const void *v, size_t n)
{
    if (at > cap || n > cap || at + 6 + n > cap) return cap + 1;
    b[at] = 0;
    b[at + 1] = 0;
    b[at + 2] = (uint8_t)(type >> 8);
    b[at + 3] = (uint8_t)type;
    b[at + 4] = (uint8_t)((6 + n) >> 8);
    b[at + 5] = (uint8_t)(6 + n);
    if (n) memcpy(b + at + 6, v, n);
    return at + 6 + n;
}

static void be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

size_t hep_encode(const struct hep_msg *h, uint8_t *buf, size_t cap)
{
    if (cap > 65535) /* the total is a 16-bit field */
        cap = 65535;
    if (cap < 6) return 0;
    bool v6 = h->family == 6;
    uint8_t family = v6 ? 10 : 2, sp[2], dp[2], sec[4], usec[4], id[4];
    sp[0] = (uint8_t)(h->sport >> 8), sp[1] = (uint8_t)h->sport;
    dp[0] = (uint8_t)(h->dport >> 8), dp[1] = (uint8_t)h->dport;
    be32(sec, (uint32_t)(h->time / PTIME_SEC));
    be32(usec, (uint32_t)(h->time % PTIME_SEC / PTIME_US));
    be32(id, h->capture_id);
    memcpy(buf, "HEP3", 4);
    size_t at = 6;
    at = put_chunk(buf, at, cap, 1, &family, 1);
    at = put_chunk(buf, at, cap, 2, &h->ip_proto, 1);
    at = put_chunk(buf, at, cap, v6 ? 5 : 3, h->src.b, v6 ? 16 : 4);
    at = put_chunk(buf, at, cap, v6 ? 6 : 4, h->dst.b, v6 ? 16 : 4);
    at = put_chunk(buf, at, cap, 7, sp, 2);
    at = put_chunk(buf, at, cap, 8, dp, 2);
    at = put_chunk(buf, at, cap, 9, sec, 4);
    at = put_chunk(buf, at, cap, 10, usec, 4);
    at = put_chunk(buf, at, cap, 11, &h->payload_type, 1);
    at = put_chunk(buf, at, cap, 12, id, 4);
    if (!sv_is_null(h->auth_key)) at = put_chunk(buf, at, cap, 14, h->auth_key.p, h->auth_key.n);
    at = put_chunk(buf, at, cap, 15, h->payload, h->len);
    if (!sv_is_null(h->correlation))
        at = put_chunk(buf, at, cap, 17, h->correlation.p, h->correlation.n);
    if (!sv_is_null(h->node)) at = put_chunk(buf, at, cap, 19, h->node.p, h->node.n);
    if (at > cap) return 0;
    buf[4] = (uint8_t)(at >> 8);
    buf[5] = (uint8_t)at;
    return at;
}
