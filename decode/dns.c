/* See dns.h. */
#include "dns.h"

#include <stdio.h>
#include <string.h>

#include "common/cursor.h"

#define DNS_MAX_JUMPS 64 /* compression pointers followed in one name */

/* Reads the name at c (whole message msg[0..n)) into out as dotted text; c moves past the
 * name as it stands in place (two bytes for a pointer). Pointers must point backwards, to
 * an earlier offset than any visited, so every name ends. DR__COUNT when read. */
static enum decode_reason read_name(struct cursor *c, const uint8_t *msg, size_t n, char *out)
{
    struct cursor at = *c;
    size_t len = 0, limit = (size_t)(c->p - msg); /* a pointer must go below this */
    bool jumped = false;
    unsigned jumps = 0;
    out[0] = '\0';
    for (;;) {
        uint8_t l;
        if (!cursor_u8(&at, &l))
            return DR_DNS_TRUNCATED;
        if ((l & 0xc0) == 0xc0) { /* RFC 1035 §4.1.4: a pointer */
            uint8_t lo;
            if (!cursor_u8(&at, &lo))
                return DR_DNS_TRUNCATED;
            size_t off = (size_t)(l & 0x3f) << 8 | lo;
            if (off >= limit || ++jumps > DNS_MAX_JUMPS)
                return DR_DNS_BAD_NAME;
            if (!jumped)
                *c = at;
            jumped = true;
            limit = off;
            at = cursor_make(msg + off, n - off);
            continue;
        }
        if (l & 0xc0) /* 0x40, 0x80: extended and reserved label types */
            return DR_DNS_BAD_NAME;
        if (l == 0)
            break;
        const uint8_t *label;
        if (!cursor_bytes(&at, l, &label))
            return DR_DNS_TRUNCATED;
        if (len + l + 2 > DNS_NAME_MAX)
            return DR_DNS_BAD_NAME;
        if (len)
            out[len++] = '.';
        for (unsigned i = 0; i < l; i++) /* shown as text: no NUL or control bytes */
            out[len++] = label[i] >= 0x20 && label[i] < 0x7f ? (char)label[i] : '?';
        out[len] = '\0';
    }
    if (!jumped)
        *c = at;
    return DR__COUNT;
}

/* A <character-string> (RFC 1035 §3.3): a length octet and that many bytes, cut to fit. */
static bool read_string(struct cursor *c, char *out, size_t cap)
{
    uint8_t l;
    const uint8_t *b;
    if (!cursor_u8(c, &l) || !cursor_bytes(c, l, &b))
        return false;
    size_t k = l < cap - 1 ? l : cap - 1;
    for (size_t i = 0; i < k; i++)
        out[i] = b[i] >= 0x20 && b[i] < 0x7f ? (char)b[i] : '?';
    out[k] = '\0';
    return true;
}

/* One resource record's data, of the types kept; rdata is exactly its bytes. */
static enum decode_reason read_rdata(struct dns_rr *rr, struct cursor rdata, const uint8_t *msg,
                                     size_t n)
{
    const uint8_t *b;
    switch (rr->type) {
    case DNS_A:
        if (cursor_left(&rdata) != 4 || !cursor_bytes(&rdata, 4, &b))
            return DR_DNS_TRUNCATED;
        rr->addr.family = 4;
        memcpy(rr->addr.b, b, 4);
        return DR__COUNT;
    case DNS_AAAA:
        if (cursor_left(&rdata) != 16 || !cursor_bytes(&rdata, 16, &b))
            return DR_DNS_TRUNCATED;
        rr->addr.family = 6;
        memcpy(rr->addr.b, b, 16);
        return DR__COUNT;
    case DNS_CNAME:
        return read_name(&rdata, msg, n, rr->target);
    case DNS_SRV:
        if (!cursor_u16be(&rdata, &rr->priority) || !cursor_u16be(&rdata, &rr->weight) ||
            !cursor_u16be(&rdata, &rr->port))
            return DR_DNS_TRUNCATED;
        return read_name(&rdata, msg, n, rr->target);
    case DNS_NAPTR: {
        char regexp[8];
        if (!cursor_u16be(&rdata, &rr->order) || !cursor_u16be(&rdata, &rr->preference) ||
            !read_string(&rdata, rr->flags, sizeof rr->flags) ||
            !read_string(&rdata, rr->service, sizeof rr->service) ||
            !read_string(&rdata, regexp, sizeof regexp))
            return DR_DNS_TRUNCATED;
        return read_name(&rdata, msg, n, rr->target);
    }
    default:
        return DR__COUNT;
    }
}

enum decode_reason dns_parse(const uint8_t *p, size_t n, struct dns_msg *out)
{
    struct cursor c = cursor_make(p, n);
    uint16_t flags;
    memset(out, 0, offsetof(struct dns_msg, answers));
    out->nanswers = 0;
    out->nanswers_seen = 0;
    if (!cursor_u16be(&c, &out->id) || !cursor_u16be(&c, &flags) ||
        !cursor_u16be(&c, &out->qdcount) || !cursor_u16be(&c, &out->ancount) ||
        !cursor_u16be(&c, &out->nscount) || !cursor_u16be(&c, &out->arcount))
        return DR_DNS_TRUNCATED;
    out->response = flags >> 15;
    out->opcode = (flags >> 11) & 15;
    out->truncated = (flags >> 9) & 1;
    out->rcode = flags & 15;
    for (unsigned q = 0; q < out->qdcount; q++) {
        char name[DNS_NAME_MAX];
        uint16_t type, qclass;
        enum decode_reason why = read_name(&c, p, n, name);
        if (why != DR__COUNT)
            return why;
        if (!cursor_u16be(&c, &type) || !cursor_u16be(&c, &qclass))
            return DR_DNS_TRUNCATED;
        if (!out->have_question) { /* in practice there is one (RFC 9619) */
            memcpy(out->qname, name, sizeof name);
            out->qtype = type;
            out->qclass = qclass;
            out->have_question = true;
        }
    }
    for (unsigned a = 0; a < out->ancount; a++) {
        struct dns_rr *rr = &out->answers[out->nanswers < DNS_MAX_ANSWERS ? out->nanswers : 0];
        char name[DNS_NAME_MAX];
        uint16_t type, rclass, rdlen;
        uint32_t ttl;
        const uint8_t *rd;
        enum decode_reason why = read_name(&c, p, n, name);
        if (why != DR__COUNT)
            return why;
        if (!cursor_u16be(&c, &type) || !cursor_u16be(&c, &rclass) || !cursor_u32be(&c, &ttl) ||
            !cursor_u16be(&c, &rdlen) || !cursor_bytes(&c, rdlen, &rd))
            return DR_DNS_TRUNCATED;
        out->nanswers_seen++;
        if (!dns_type_name(type) || out->nanswers >= DNS_MAX_ANSWERS)
            continue;
        memset(rr, 0, sizeof *rr);
        memcpy(rr->name, name, sizeof name);
        rr->type = type;
        rr->rclass = rclass;
        rr->ttl = ttl;
        /* names inside may point anywhere before: the cursor spans the message up to the
         * record's end, and starts at its data */
        struct cursor rdata = {rd, rd + rdlen};
        enum decode_reason bad = read_rdata(rr, rdata, p, (size_t)(rd + rdlen - p));
        if (bad != DR__COUNT)
            return bad;
        out->nanswers++;
    }
    return DR__COUNT;
}

const char *dns_type_name(uint16_t type)
{
    switch (type) {
    case DNS_A: return "A";
    case DNS_CNAME: return "CNAME";
    case DNS_AAAA: return "AAAA";
    case DNS_SRV: return "SRV";
    case DNS_NAPTR: return "NAPTR";
    default: return NULL;
    }
}

const char *dns_type_label(uint16_t type, char *buf, size_t n)
{
    const char *name = dns_type_name(type);
    if (name)
        return name;
    snprintf(buf, n, "TYPE%u", type); /* RFC 3597 §5: the generic form */
    return buf;
}

const char *dns_rcode_name(uint8_t rcode, char *buf, size_t n)
{
    static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                        "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                        "NXRRSET", "NOTAUTH", "NOTZONE"};
    if (rcode < sizeof names / sizeof names[0])
        return names[rcode];
    snprintf(buf, n, "RCODE%u", rcode);
    return buf;
}
