/* SDP parser and SIP body search; see sdp.h. */
#include "sdp.h"

#include <stddef.h>

#include <string.h>
#include <strings.h>

#include "sip.h"

#define MULTIPART_MAX_DEPTH 4

const char *sdp_direction_name(enum sdp_direction d)
{
    static const char *const names[] = {"sendrecv", "sendonly", "recvonly", "inactive"};
    return (unsigned)d < 4 ? names[d] : "sendrecv";
}

/* RFC 3551 §6, tables 4 and 5 */
bool sdp_static_payload(uint8_t pt, const char **name, uint32_t *clock_rate)
{
    static const struct {
        const char *name;
        uint32_t rate;
    } table[35] = {
        [0] = {"PCMU", 8000},   [3] = {"GSM", 8000},     [4] = {"G723", 8000},
        [5] = {"DVI4", 8000},   [6] = {"DVI4", 16000},   [7] = {"LPC", 8000},
        [8] = {"PCMA", 8000},   [9] = {"G722", 8000},    [10] = {"L16", 44100},
        [11] = {"L16", 44100},  [12] = {"QCELP", 8000},  [13] = {"CN", 8000},
        [14] = {"MPA", 90000},  [15] = {"G728", 8000},   [16] = {"DVI4", 11025},
        [17] = {"DVI4", 22050}, [18] = {"G729", 8000},   [25] = {"CelB", 90000},
        [26] = {"JPEG", 90000}, [28] = {"nv", 90000},    [31] = {"H261", 90000},
        [32] = {"MPV", 90000},  [33] = {"MP2T", 90000},  [34] = {"H263", 90000},
    };
    if (pt >= 35 || !table[pt].name)
        return false;
    *name = table[pt].name;
    *clock_rate = table[pt].rate;
    return true;
}

static struct sv sv_trim(struct sv v)
{
    while (v.n && (v.p[0] == ' ' || v.p[0] == '\t'))
        v.p++, v.n--;
    while (v.n && (v.p[v.n - 1] == ' ' || v.p[v.n - 1] == '\t' || v.p[v.n - 1] == '\r'))
        v.n--;
    return v;
}

/* Next space-separated word of *v. */
static bool word(struct sv *v, struct sv *w)
{
    *v = sv_trim(*v);
    if (!v->n)
        return false;
    size_t i = 0;
    while (i < v->n && v->p[i] != ' ' && v->p[i] != '\t')
        i++;
    *w = sv_make(v->p, i);
    *v = sv_make(v->p + i, v->n - i);
    return true;
}

static bool num(struct sv w, uint64_t max, uint64_t *out)
{
    return sip_uint_parse(w, max, out);
}

static void bad(struct sdp *s, enum decode_reason r)
{
    if (!s->malformed)
        s->error = r;
    s->malformed = true;
}

/* "IN IP4 192.0.2.1[/ttl[/n]]" */
static bool connection(struct sv v, struct sv *addr, uint8_t *family)
{
    struct sv nettype, addrtype, a;
    if (!word(&v, &nettype) || !word(&v, &addrtype) || !word(&v, &a))
        return false;
    const char *slash = memchr(a.p, '/', a.n);
    if (slash)
        a.n = (size_t)(slash - a.p);
    if (sv_eq_cstr(addrtype, "IP4"))
        *family = 4;
    else if (sv_eq_cstr(addrtype, "IP6"))
        *family = 6;
    else
        return false;
    *addr = a;
    return a.n > 0;
}

static struct sdp_format *find_fmt(struct sdp_media *m, uint64_t pt)
{
    for (unsigned i = 0; i < m->nfmt; i++)
        if (m->fmt[i].pt == pt)
            return &m->fmt[i];
    return NULL;
}

static bool media_line(struct sv v, struct sdp_media *m)
{
    struct sv port, w;
    uint64_t x;
    if (!word(&v, &m->media) || !word(&v, &port) || !word(&v, &m->proto))
        return false;
    const char *slash = memchr(port.p, '/', port.n);
    m->nports = 1;
    if (slash) {
        if (!num(sv_make(slash + 1, port.n - (size_t)(slash + 1 - port.p)), 65535, &x) || !x)
            return false;
        m->nports = (uint16_t)x;
        port.n = (size_t)(slash - port.p);
    }
    if (!num(port, 65535, &x))
        return false;
    m->port = (uint16_t)x;
    m->formats = sv_trim(v);
    /* RTP profiles list payload type numbers (RFC 4566 §5.14) */
    bool rtp = m->proto.n >= 3 && (strncasecmp(m->proto.p, "RTP", 3) == 0 ||
                                   memmem(m->proto.p, m->proto.n, "/RTP/", 5) != NULL);
    while (rtp && word(&v, &w)) {
        if (!num(w, 127, &x))
            return false;
        if (m->nfmt >= SDP_MAX_FORMATS || find_fmt(m, x))
            continue;
        struct sdp_format *f = &m->fmt[m->nfmt++];
        memset(f, 0, sizeof *f);
        f->pt = (uint8_t)x;
        f->fmtp = SV_NULL;
        const char *name;
        if (sdp_static_payload(f->pt, &name, &f->clock_rate))
            f->encoding = sv_cstr(name);
        else
            f->encoding = SV_NULL;
        f->channels = 1;
    }
    return true;
}

/* a=rtpmap:<pt> <encoding>/<clock rate>[/<channels>] */
static bool rtpmap(struct sv v, struct sdp_media *m)
{
    struct sv ptw, enc;
    uint64_t pt, x;
    if (!word(&v, &ptw) || !num(ptw, 127, &pt) || !word(&v, &enc))
        return false;
    struct sdp_format *f = find_fmt(m, pt);
    if (!f)
        return true; /* a map for a type not offered: harmless */
    const char *s1 = memchr(enc.p, '/', enc.n);
    if (!s1)
        return false;
    f->encoding = sv_make(enc.p, (size_t)(s1 - enc.p));
    struct sv rest = sv_make(s1 + 1, enc.n - (size_t)(s1 + 1 - enc.p));
    const char *s2 = memchr(rest.p, '/', rest.n);
    if (!num(sv_make(rest.p, s2 ? (size_t)(s2 - rest.p) : rest.n), 10000000, &x))
        return false;
    f->clock_rate = (uint32_t)x;
    if (s2) {
        if (!num(sv_make(s2 + 1, rest.n - (size_t)(s2 + 1 - rest.p)), 255, &x))
            return false;
        f->channels = (uint8_t)x;
    }
    return true;
}

static bool direction(struct sv name, enum sdp_direction *d)
{
    static const char *const names[] = {"sendrecv", "sendonly", "recvonly", "inactive"};
    for (int i = 0; i < 4; i++)
        if (sv_eq_cstr(name, names[i])) {
            *d = (enum sdp_direction)i;
            return true;
        }
    return false;
}

/* o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address> (RFC 4566 §5.2) */
static void origin(struct sdp *s, struct sv v)
{
    struct sv id, ver, nt, at;
    uint64_t x;
    if (!word(&v, &s->origin_user) || !word(&v, &id) || !word(&v, &ver) || !word(&v, &nt) ||
        !word(&v, &at) || !word(&v, &s->origin_addr)) {
        bad(s, DR_SDP_BAD_LINE);
        return;
    }
    if (num(id, UINT64_MAX, &x))
        s->sess_id = x;
    if (num(ver, UINT64_MAX, &x))
        s->sess_version = x;
}

/* One a= line (RFC 4566 §6): direction and SRTP at either level, the rest of the media's */
static void attribute(struct sdp *s, struct sdp_media *cur, struct sv v, bool *dir_set,
                      bool *sess_fingerprint)
{
    const char *colon = memchr(v.p, ':', v.n);
    struct sv name = sv_make(v.p, colon ? (size_t)(colon - v.p) : v.n);
    struct sv val = colon ? sv_make(colon + 1, v.n - (size_t)(colon + 1 - v.p)) : SV_NULL;
    enum sdp_direction d;
    if (direction(name, &d)) {
        if (cur) {
            cur->dir = d;
            dir_set[cur - s->media] = true;
        } else {
            s->dir = d;
        }
    } else if (sv_eq_cstr(name, "fingerprint") || sv_eq_cstr(name, "crypto")) {
        if (cur)
            cur->srtp = true;
        else
            *sess_fingerprint = true;
    } else if (!cur) {
        return; /* the rest are media-level attributes */
    } else if (sv_eq_cstr(name, "rtpmap")) {
        if (!rtpmap(val, cur))
            bad(s, DR_SDP_BAD_LINE);
    } else if (sv_eq_cstr(name, "fmtp")) {
        struct sv ptw;
        uint64_t pt;
        struct sdp_format *f;
        if (word(&val, &ptw) && num(ptw, 127, &pt) && (f = find_fmt(cur, pt)))
            f->fmtp = sv_trim(val);
    } else if (sv_eq_cstr(name, "ptime")) {
        uint64_t x;
        if (num(sv_trim(val), 65535, &x))
            cur->ptime = (uint16_t)x;
    } else if (sv_eq_cstr(name, "rtcp")) {
        /* RFC 3605: a=rtcp:<port> [<nettype> <addrtype> <address>] */
        struct sv pw;
        uint64_t x;
        uint8_t fam;
        if (word(&val, &pw) && num(pw, 65535, &x)) {
            cur->rtcp_port = (uint16_t)x;
            if (sv_trim(val).n)
                connection(val, &cur->rtcp_addr, &fam);
        } else {
            bad(s, DR_SDP_BAD_LINE);
        }
    } else if (sv_eq_cstr(name, "rtcp-mux")) {
        cur->rtcp_mux = true;
    }
}

bool sdp_parse(const char *p, size_t n, struct sdp *s)
{
    const char *end = p + n;
    bool first = true, sess_fingerprint = false;
    bool dir_set[SDP_MAX_MEDIA] = {false};
    struct sdp_media *cur = NULL;
    bool cur_dropped = false; /* inside an m= past SDP_MAX_MEDIA */

    memset(s, 0, offsetof(struct sdp, media));
    s->error = DR__COUNT;
    s->addr = s->origin_user = s->origin_addr = SV_NULL;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        struct sv line = sv_make(p, nl ? (size_t)(nl - p) : (size_t)(end - p));
        p = nl ? nl + 1 : end;
        if (line.n && line.p[line.n - 1] == '\r')
            line.n--;
        if (line.n == 0)
            continue;
        if (first) {
            /* RFC 4566 §5: "v=0" comes first */
            if (!sv_eq_cstr(sv_trim(line), "v=0"))
                return false;
            first = false;
            continue;
        }
        if (line.n < 2 || line.p[1] != '=') {
            bad(s, DR_SDP_BAD_LINE);
            continue;
        }
        struct sv v = sv_make(line.p + 2, line.n - 2);
        if (cur_dropped && line.p[0] != 'm')
            continue;
        switch (line.p[0]) {
        case 'o':
            origin(s, v);
            break;
        case 'c':
            if (!(cur ? connection(v, &cur->addr, &cur->family)
                      : connection(v, &s->addr, &s->family)))
                bad(s, DR_SDP_BAD_CONNECTION);
            break;
        case 'm':
            if (s->nmedia >= SDP_MAX_MEDIA) {
                if (s->extra_media++ == 0)
                    bad(s, DR_SDP_TOO_MANY_MEDIA);
                cur = NULL;
                cur_dropped = true;
                break;
            }
            cur_dropped = false;
            cur = &s->media[s->nmedia++];
            memset(cur, 0, offsetof(struct sdp_media, fmt));
            cur->addr = cur->rtcp_addr = SV_NULL;
            if (!media_line(v, cur))
                bad(s, DR_SDP_BAD_MEDIA);
            break;
        case 'a':
            attribute(s, cur, v, dir_set, &sess_fingerprint);
            break;
        default: /* s= i= u= e= p= b= t= r= z= k=: nothing a monitor needs */
            break;
        }
    }
    if (first)
        return false;
    for (unsigned i = 0; i < s->nmedia; i++) {
        struct sdp_media *m = &s->media[i];
        if (!m->family) { /* RFC 4566 §5.7: media-level c= overrides the session's */
            m->addr = s->addr;
            m->family = s->family;
        }
        if (!dir_set[i])
            m->dir = s->dir;
        if (sess_fingerprint || (m->proto.n && memmem(m->proto.p, m->proto.n, "SAVP", 4)))
            m->srtp = true;
    }
    return true;
}

/* ---- bodies ------------------------------------------------------------------------- */

/* Content-Type value: "type/subtype" and its parameters (";boundary=..."). */
static void content_type(struct sv v, struct sv *type, struct sv *params)
{
    v = sv_trim(v);
    const char *semi = memchr(v.p, ';', v.n);
    *type = sv_trim(sv_make(v.p, semi ? (size_t)(semi - v.p) : v.n));
    *params = semi ? sv_make(semi, v.n - (size_t)(semi - v.p)) : sv_make(v.p + v.n, 0);
}

static bool is_type(struct sv t, const char *want)
{
    return t.n == strlen(want) && strncasecmp(t.p, want, t.n) == 0;
}

static bool find_in(struct sv body, struct sv ctype, unsigned depth, struct sv *out, bool *deep);

/* RFC 2046 §5.1.1: parts between "--boundary" lines; the CRLF before a delimiter
 * belongs to the delimiter. Each part: headers, an empty line, content. */
static bool multipart(struct sv body, struct sv boundary, unsigned depth, struct sv *out, bool *deep)
{
    char delim[80];
    if (boundary.n == 0 || boundary.n > 70) /* RFC 2046: 1 to 70 characters */
        return false;
    delim[0] = delim[1] = '-';
    memcpy(delim + 2, boundary.p, boundary.n);
    size_t dl = boundary.n + 2;
    const char *p = body.p, *end = body.p + body.n;
    const char *d = memmem(p, (size_t)(end - p), delim, dl);
    while (d) {
        const char *part = d + dl;
        if (end - part >= 2 && part[0] == '-' && part[1] == '-')
            return false; /* the close delimiter */
        const char *nl = memchr(part, '\n', (size_t)(end - part));
        if (!nl)
            return false;
        part = nl + 1;
        const char *next = memmem(part, (size_t)(end - part), delim, dl);
        const char *pend = next ? next : end;
        if (pend > part && pend[-1] == '\n')
            pend--;
        if (pend > part && pend[-1] == '\r')
            pend--;
        /* the part's own headers */
        struct sv ptype = sv_cstr("text/plain"); /* RFC 2046 §5.1: the default */
        const char *q = part;
        while (q < pend) {
            const char *e = memchr(q, '\n', (size_t)(pend - q));
            struct sv line = sv_make(q, e ? (size_t)(e - q) : (size_t)(pend - q));
            q = e ? e + 1 : pend;
            if (line.n && line.p[line.n - 1] == '\r')
                line.n--;
            if (line.n == 0)
                break;
            if (line.n > 13 && strncasecmp(line.p, "content-type:", 13) == 0)
                ptype = sv_make(line.p + 13, line.n - 13);
        }
        if (q <= pend && find_in(sv_make(q, (size_t)(pend - q)), ptype, depth + 1, out, deep))
            return true;
        d = next;
    }
    return false;
}

static bool find_in(struct sv body, struct sv ctype, unsigned depth, struct sv *out, bool *deep)
{
    struct sv type, params;
    content_type(ctype, &type, &params);
    if (is_type(type, "application/sdp")) {
        *out = body;
        return true;
    }
    if (type.n > 10 && strncasecmp(type.p, "multipart/", 10) == 0) {
        if (depth >= MULTIPART_MAX_DEPTH) { /* SIP-I nests two; a thousand is an attack */
            *deep = true;
            return false;
        }
        bool found;
        struct sv boundary = sip_param(params, "boundary", &found);
        return found && multipart(body, boundary, depth, out, deep);
    }
    return false;
}

bool sip_body_sdp(const struct sip_msg *m, struct sv *sdp, enum decode_reason *why)
{
    const struct sip_header *ct = sip_hdr(m, SIP_H_CONTENT_TYPE);
    bool deep = false, found = ct && m->body.n && find_in(m->body, ct->value, 0, sdp, &deep);
    if (why)
        *why = !found && deep ? DR_SIP_MULTIPART_TOO_DEEP : DR__COUNT;
    return found;
}
