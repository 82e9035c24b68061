/* SIP message parser; see sip.h. Reads every byte at most a few times: memchr finds line
 * ends, one pass splits each header line, one table lookup names it. */
#include "sip.h"

#include <string.h>
#include <strings.h>

/* RFC 3261 §25.1 token characters: alphanum and -.!%*_+`'~ */
static inline bool is_token(unsigned char c)
{
    unsigned char l = c | 0x20;
    if ((l >= 'a' && l <= 'z') || (c >= '0' && c <= '9'))
        return true;
    switch (c) {
    case '-': case '.': case '!': case '%': case '*': case '_': case '+': case '`': case '\'':
    case '~':
        return true;
    default:
        return false;
    }
}

static inline bool is_ws(char c) { return c == ' ' || c == '\t'; }
/* linear white space inside a header value: folding leaves CR LF between words */
static inline bool is_lws(char c) { return is_ws(c) || c == '\r' || c == '\n'; }
static inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c; }

bool sv_ieq_cstr(struct sv a, const char *s)
{
    size_t n = strlen(s);
    if (a.n != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower(a.p[i]) != lower(s[i]))
            return false;
    return true;
}

static struct sv trim(struct sv v)
{
    while (v.n && (is_ws(v.p[0]) || v.p[0] == '\r' || v.p[0] == '\n')) {
        v.p++;
        v.n--;
    }
    while (v.n && (is_ws(v.p[v.n - 1]) || v.p[v.n - 1] == '\r' || v.p[v.n - 1] == '\n'))
        v.n--;
    return v;
}

/* ---- header names -------------------------------------------------------------------- */

static const struct {
    const char *name;
    uint8_t len;
    char compact;
} hdr_table[SIP_H__COUNT] = {
    [SIP_H_OTHER] = {"", 0, 0},
#define SIP_HDR_ROW(id, nm, c) [SIP_H_##id] = {nm, sizeof nm - 1, c},
    SIP_HEADERS(SIP_HDR_ROW)
#undef SIP_HDR_ROW
};

enum sip_hdr_id sip_hdr_lookup(struct sv name)
{
    if (name.n == 1) {
        char c = lower(name.p[0]);
        for (int i = 1; i < SIP_H__COUNT; i++)
            if (hdr_table[i].compact == c)
                return (enum sip_hdr_id)i;
        return SIP_H_OTHER;
    }
    char c0 = lower(name.p[0]);
    for (int i = 1; i < SIP_H__COUNT; i++) {
        if (hdr_table[i].len != name.n || hdr_table[i].name[0] != c0)
            continue;
        if (sv_ieq_cstr(name, hdr_table[i].name))
            return (enum sip_hdr_id)i;
    }
    return SIP_H_OTHER;
}

const struct sip_header *sip_hdr_next(const struct sip_msg *m, const struct sip_header *h)
{
    for (const struct sip_header *n = h + 1; n < m->hdrs + m->nhdrs; n++) {
        if (n->id != h->id)
            continue;
        if (h->id != SIP_H_OTHER ||
            (n->name.n == h->name.n && strncasecmp(n->name.p, h->name.p, n->name.n) == 0))
            return n;
    }
    return NULL;
}

const struct sip_header *sip_hdr_by_name(const struct sip_msg *m, struct sv name)
{
    enum sip_hdr_id id = sip_hdr_lookup(name);
    if (id != SIP_H_OTHER)
        return sip_hdr(m, id);
    for (unsigned i = 0; i < m->nhdrs; i++)
        if (m->hdrs[i].id == SIP_H_OTHER && m->hdrs[i].name.n == name.n &&
            strncasecmp(m->hdrs[i].name.p, name.p, name.n) == 0)
            return &m->hdrs[i];
    return NULL;
}

/* ---- start line ---------------------------------------------------------------------- */

/* "SIP/" digits "." digits, any case (ABNF literals are case-insensitive) */
static size_t version_len(const char *p, size_t n)
{
    if (n < 7 || lower(p[0]) != 's' || lower(p[1]) != 'i' || lower(p[2]) != 'p' || p[3] != '/')
        return 0;
    size_t i = 4, d = 0;
    while (i < n && p[i] >= '0' && p[i] <= '9')
        i++, d++;
    if (!d || i >= n || p[i] != '.')
        return 0;
    i++;
    d = 0;
    while (i < n && p[i] >= '0' && p[i] <= '9')
        i++, d++;
    return d ? i : 0;
}

/* Line [p, p+n) without its line end. Returns false when it is no SIP start line at all;
 * *bad set when it claims to be SIP but is broken. */
static bool parse_start_line(const char *p, size_t n, struct sip_msg *m, bool *bad)
{
    size_t v = version_len(p, n);
    *bad = false;
    if (v && v < n && p[v] == ' ') { /* Status-Line = SIP-Version SP Status-Code SP Reason */
        m->is_request = false;
        m->version = sv_make(p, v);
        size_t i = v + 1;
        if (i + 3 > n || (p[i] < '1' || p[i] > '6') || p[i + 1] < '0' || p[i + 1] > '9' ||
            p[i + 2] < '0' || p[i + 2] > '9' || (i + 3 < n && p[i + 3] != ' ')) {
            *bad = true;
            return true;
        }
        m->status = (p[i] - '0') * 100 + (p[i + 1] - '0') * 10 + (p[i + 2] - '0');
        i += 3;
        if (i < n)
            i++;
        m->reason = trim(sv_make(p + i, n - i));
        return true;
    }
    /* Request-Line = Method SP Request-URI SP SIP-Version. Anchored on both ends (a token,
     * then a SIP version closing the line) so that a broken middle (RFC 4475 §3.1.2.x:
     * spaces inside the URI, doubled separators, <> around it) still reads as a
     * malformed SIP request, not as something else. */
    size_t i = 0;
    while (i < n && is_token((unsigned char)p[i]))
        i++;
    if (i == 0 || i >= n || p[i] != ' ')
        return false;
    size_t mlen = i;
    size_t e = n;
    while (e > mlen && is_ws(p[e - 1]))
        e--;
    if (e != n)
        *bad = true; /* trailing white space after the version */
    size_t vs = e;
    while (vs > mlen && p[vs - 1] != ' ' && p[vs - 1] != '\t')
        vs--;
    if (vs <= mlen + 1 || version_len(p + vs, e - vs) != e - vs)
        return false;
    m->is_request = true;
    m->method = sv_make(p, mlen);
    m->version = sv_make(p + vs, e - vs);
    size_t us = mlen + 1, ue = vs - 1;
    if (us >= ue) {
        *bad = true;
        m->uri = sv_make(p + us, 0);
        return true;
    }
    m->uri = sv_make(p + us, ue - us);
    /* one SP each side, no white space inside, and a scheme: ALPHA *(ALPHA/DIGIT/+-.) ":" */
    size_t k = 0;
    if (!((p[us] | 0x20) >= 'a' && (p[us] | 0x20) <= 'z'))
        *bad = true;
    for (k = 0; k < m->uri.n && m->uri.p[k] != ':'; k++) {
        char c = m->uri.p[k];
        if (!(is_token((unsigned char)c) && c != '!' && c != '%' && c != '*' && c != '_' &&
              c != '`' && c != '\'' && c != '~'))
            *bad = true;
    }
    if (k == m->uri.n)
        *bad = true;
    for (k = 0; k < m->uri.n; k++)
        if (is_ws(m->uri.p[k]))
            *bad = true;
    return true;
}

bool sip_looks_like(const char *buf, size_t len)
{
    /* a start line opens with a method token or "SIP/": RTP (0x80..0xbf), RTCP and most
     * binary payloads fail here, before any scan of the datagram */
    if (len == 0 || !is_token((unsigned char)buf[0]))
        return false;
    const char *nl = memchr(buf, '\n', len < 2048 ? len : 2048);
    if (!nl)
        return false;
    size_t n = (size_t)(nl - buf);
    if (n && buf[n - 1] == '\r')
        n--;
    struct sip_msg m;
    bool bad;
    return parse_start_line(buf, n, &m, &bad);
}

/* ---- whole message ------------------------------------------------------------------- */

static void set_error(struct sip_msg *m, enum decode_reason r)
{
    if (!m->malformed)
        m->error = r;
    m->malformed = true;
}

bool sip_uint_parse(struct sv v, uint64_t max, uint64_t *out)
{
    if (!v.p)
        return false;
    v = trim(v);
    if (v.n == 0 || v.n > 20)
        return false;
    uint64_t x = 0;
    for (size_t i = 0; i < v.n; i++) {
        if (v.p[i] < '0' || v.p[i] > '9')
            return false;
        x = x * 10 + (uint64_t)(v.p[i] - '0');
        if (x > max)
            return false;
    }
    *out = x;
    return true;
}

/* Finds the end of the line starting at p: returns the position after its '\n' and the
 * content length without "\r\n" or "\n"; NULL when no line end is in [p, end). */
static const char *line_end(const char *p, const char *end, size_t *content)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl)
        return NULL;
    size_t n = (size_t)(nl - p);
    if (n && p[n - 1] == '\r')
        n--;
    *content = n;
    return nl + 1;
}

static void add_header(struct sip_msg *m, struct sv name, struct sv value)
{
    if (m->nhdrs >= SIP_MAX_HEADERS) {
        if (m->extra_hdrs++ == 0)
            set_error(m, DR_SIP_TOO_MANY_HEADERS);
        return;
    }
    struct sip_header *h = &m->hdrs[m->nhdrs];
    h->name = name;
    h->value = value;
    h->id = (uint8_t)sip_hdr_lookup(name);
    if (m->first[h->id] < 0)
        m->first[h->id] = (int16_t)m->nhdrs;
    m->nhdrs++;
}

/* Header lines from `p` until the empty line (RFC 3261 §7.3.1: folded lines continue the
 * header above). *after: where the body starts. False when the input ends first. */
static bool read_headers(struct sip_msg *m, const char **after, const char *p, const char *end)
{
    struct sv name = SV_NULL;
    const char *vstart = NULL, *vend = NULL, *line, *next;
    bool ended = false;
    size_t n;
    while (p < end) {
        line = p;
        next = line_end(p, end, &n);
        if (!next)
            break;
        p = next;
        if (n == 0) {
            ended = true;
            break;
        }
        if (is_ws(line[0])) { /* folded continuation of the previous header */
            if (vstart)
                vend = line + n;
            else
                set_error(m, DR_SIP_BAD_HEADER);
            continue;
        }
        if (vstart)
            add_header(m, name, trim(sv_make(vstart, (size_t)(vend - vstart))));
        vstart = NULL;
        const char *colon = memchr(line, ':', n);
        if (!colon) {
            set_error(m, DR_SIP_BAD_HEADER);
            continue;
        }
        name = trim(sv_make(line, (size_t)(colon - line))); /* HCOLON allows white space */
        if (name.n == 0) {
            set_error(m, DR_SIP_BAD_HEADER);
            continue;
        }
        vstart = colon + 1;
        vend = line + n;
    }
    if (vstart)
        add_header(m, name, trim(sv_make(vstart, (size_t)(vend - vstart))));
    *after = p;
    return ended;
}

/* RFC 3261 §8.1.1: Call-ID, CSeq, From, To and Via are in every message, and a request's
 * CSeq names its method (§8.1.1.5; case-sensitive) */
static void check_required(struct sip_msg *m)
{
    static const enum sip_hdr_id required[] = {SIP_H_CALL_ID, SIP_H_CSEQ, SIP_H_FROM, SIP_H_TO,
                                               SIP_H_VIA};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (m->first[required[i]] < 0)
            set_error(m, DR_SIP_MISSING_HEADER);
    const struct sip_header *cseq = sip_hdr(m, SIP_H_CSEQ);
    uint32_t num;
    struct sv cm;
    if (cseq && !sip_cseq_parse(cseq->value, &num, &cm))
        set_error(m, DR_SIP_BAD_CSEQ);
    else if (cseq && m->is_request && !sv_eq(cm, m->method))
        set_error(m, DR_SIP_BAD_CSEQ);
}

enum sip_result sip_parse(const char *buf, size_t len, unsigned flags, struct sip_msg *m)
{
    const char *p = buf, *end = buf + len;
    bool stream = flags & SIP_FRAME_STREAM;
    size_t n;
    bool bad;

    m->nhdrs = m->extra_hdrs = 0;
    m->malformed = false;
    m->len = 0;
    m->error = DR__COUNT;
    m->content_length = -1;
    m->status = 0;
    m->method = m->uri = m->reason = m->version = m->body = SV_NULL;
    for (int i = 0; i < SIP_H__COUNT; i++)
        m->first[i] = -1;
    if (len == 0) /* nothing (and perhaps no buffer at all) */
        return stream ? SIP_INCOMPLETE : SIP_NOT_SIP;

    /* RFC 3261 §7.5: empty lines before the start line are ignored (keep-alives on TCP) */
    while (p < end && (*p == '\r' || *p == '\n'))
        p++;
    const char *line = p;
    const char *next = line_end(p, end, &n);
    if (!next) {
        if (stream && (size_t)(end - p) < 2048)
            return SIP_INCOMPLETE;
        return SIP_NOT_SIP;
    }
    if (!parse_start_line(line, n, m, &bad))
        return SIP_NOT_SIP;
    if (bad)
        set_error(m, DR_SIP_BAD_START_LINE);

    bool ended = read_headers(m, &p, next, end);

    if (!ended) {
        if (stream) {
            if (len > SIP_MAX_STREAM_MESSAGE) {
                /* the framing failed: that is the reason to count, over any before it */
                m->malformed = true;
                m->error = DR_SIP_TOO_LARGE;
                m->len = len;
                return SIP_OK;
            }
            return SIP_INCOMPLETE;
        }
        set_error(m, DR_SIP_HEADERS_UNTERMINATED);
        m->len = len;
        m->body = sv_make(end, 0);
        return SIP_OK;
    }

    /* body: Content-Length frames it on streams, bounds it on datagrams (§18.3) */
    size_t hdr_len = (size_t)(p - buf);
    size_t avail = len - hdr_len;
    const struct sip_header *cl = sip_hdr(m, SIP_H_CONTENT_LENGTH);
    uint64_t clen = 0;
    if (cl) {
        if (sip_uint_parse(cl->value, SIP_MAX_STREAM_MESSAGE, &clen))
            m->content_length = (int64_t)clen;
        else
            set_error(m, DR_SIP_BAD_CONTENT_LENGTH);
    }
    if (stream) {
        if (cl && m->content_length < 0) { /* cannot frame: take the headers, resync after */
            m->len = hdr_len;
            m->body = sv_make(p, 0);
            return SIP_OK;
        }
        if (avail < clen) {
            if (hdr_len + clen <= SIP_MAX_STREAM_MESSAGE)
                return SIP_INCOMPLETE;
            set_error(m, DR_SIP_TOO_LARGE); /* never buffered: the caller resyncs */
            m->len = len;
            return SIP_OK;
        }
        m->body = sv_make(p, clen);
        m->len = hdr_len + clen;
    } else {
        size_t blen = avail;
        if (m->content_length >= 0) {
            if (clen > avail)
                set_error(m, DR_SIP_BODY_TRUNCATED);
            else
                blen = clen;
        }
        m->body = sv_make(p, blen);
        m->len = len;
    }

    check_required(m);
    return SIP_OK;
}

/* ---- values -------------------------------------------------------------------------- */

bool sip_list_next(struct sv *rest, struct sv *item)
{
    if (!rest->p)
        return false;
    const char *p = rest->p, *end = rest->p + rest->n;
    while (p < end && (is_ws(*p) || *p == ',' || *p == '\r' || *p == '\n'))
        p++;
    if (p >= end) {
        *rest = sv_make(end, 0);
        return false;
    }
    const char *s = p;
    bool quote = false;
    int angle = 0;
    for (; p < end; p++) {
        if (quote) {
            if (*p == '\\' && p + 1 < end)
                p++;
            else if (*p == '"')
                quote = false;
        } else if (*p == '"') {
            quote = true;
        } else if (*p == '<') {
            angle++;
        } else if (*p == '>' && angle > 0) {
            angle--;
        } else if (*p == ',' && angle == 0) {
            break;
        }
    }
    *item = trim(sv_make(s, (size_t)(p - s)));
    *rest = sv_make(p, (size_t)(end - p));
    return true;
}

bool sip_cseq_parse(struct sv v, uint32_t *num, struct sv *method)
{
    if (!v.p)
        return false;
    v = trim(v);
    size_t i = 0;
    uint64_t x = 0;
    while (i < v.n && v.p[i] >= '0' && v.p[i] <= '9') {
        x = x * 10 + (uint64_t)(v.p[i] - '0');
        if (x > 0xffffffffu) /* RFC 3261 §8.1.1.5: less than 2**31; 32 bits tolerated */
            return false;
        i++;
    }
    if (i == 0 || i >= v.n || !is_lws(v.p[i]))
        return false;
    while (i < v.n && is_lws(v.p[i]))
        i++;
    size_t s = i;
    while (i < v.n && is_token((unsigned char)v.p[i]))
        i++;
    if (i == s || trim(sv_make(v.p + i, v.n - i)).n != 0)
        return false;
    *num = (uint32_t)x;
    *method = sv_make(v.p + s, i - s);
    return true;
}

static bool parse_port(const char *p, size_t n, uint16_t *port)
{
    uint64_t x;
    if (!sip_uint_parse(sv_make(p, n), 65535, &x))
        return false;
    *port = (uint16_t)x;
    return true;
}

/* host[:port] at the start of s, up to any of the stop characters. */
static bool parse_hostport(struct sv s, const char *stops, struct sv *host, uint16_t *port,
                           size_t *used)
{
    size_t i = 0;
    *port = 0;
    if (s.n && s.p[0] == '[') { /* IPv6 reference */
        const char *rb = memchr(s.p, ']', s.n);
        if (!rb)
            return false;
        *host = sv_make(s.p + 1, (size_t)(rb - s.p) - 1);
        i = (size_t)(rb - s.p) + 1;
    } else {
        while (i < s.n && s.p[i] != ':' && !strchr(stops, s.p[i]))
            i++;
        *host = sv_make(s.p, i);
    }
    if (host->n == 0)
        return false;
    if (i < s.n && s.p[i] == ':') {
        size_t ps = ++i;
        while (i < s.n && s.p[i] >= '0' && s.p[i] <= '9')
            i++;
        if (!parse_port(s.p + ps, i - ps, port))
            return false;
    }
    *used = i;
    return true;
}

bool sip_uri_parse(struct sv v, struct sip_uri *u)
{
    if (!v.p)
        return false;
    v = trim(v);
    memset(u, 0, sizeof *u);
    const char *colon = memchr(v.p, ':', v.n);
    if (!colon || colon == v.p)
        return false;
    u->scheme = sv_make(v.p, (size_t)(colon - v.p));
    struct sv rest = sv_make(colon + 1, v.n - (size_t)(colon + 1 - v.p));
    if (!sv_ieq_cstr(u->scheme, "sip") && !sv_ieq_cstr(u->scheme, "sips")) {
        /* tel:, urn:... : the rest is opaque; keep it as the user part */
        const char *semi = memchr(rest.p, ';', rest.n);
        u->user = sv_make(rest.p, semi ? (size_t)(semi - rest.p) : rest.n);
        u->params = semi ? sv_make(semi, rest.n - (size_t)(semi - rest.p)) : sv_make(rest.p + rest.n, 0);
        u->host = SV_NULL;
        return rest.n > 0;
    }
    /* userinfo ends at the last '@' before any ';' '?' of the host part */
    const char *at = NULL;
    for (size_t i = 0; i < rest.n; i++) {
        if (rest.p[i] == '@')
            at = rest.p + i;
        else if ((rest.p[i] == ';' || rest.p[i] == '?') && at)
            break;
    }
    if (at) {
        struct sv ui = sv_make(rest.p, (size_t)(at - rest.p));
        const char *pw = memchr(ui.p, ':', ui.n);
        u->user = pw ? sv_make(ui.p, (size_t)(pw - ui.p)) : ui;
        rest = sv_make(at + 1, rest.n - (size_t)(at + 1 - rest.p));
    } else {
        u->user = SV_NULL;
    }
    size_t used;
    if (!parse_hostport(rest, ";?>", &u->host, &u->port, &used))
        return false;
    /* parameters run to the headers part ("?h=v"), which is not theirs */
    const char *q = memchr(rest.p + used, '?', rest.n - used);
    u->params = sv_make(rest.p + used, (size_t)((q ? q : rest.p + rest.n) - (rest.p + used)));
    return true;
}

bool sip_nameaddr_parse(struct sv v, struct sip_nameaddr *na)
{
    /* a null view (absent part): nothing to read, and NULL + 0 is undefined */
    if (!v.p)
        return false;
    v = trim(v);
    memset(na, 0, sizeof *na);
    na->display = SV_NULL;
    if (v.n == 1 && v.p[0] == '*') {
        na->star = true;
        na->uri = na->params = sv_make(v.p + 1, 0); /* empty, not null */
        return true;
    }
    size_t i = 0;
    if (v.n && v.p[0] == '"') { /* quoted display name */
        for (i = 1; i < v.n && v.p[i] != '"'; i++)
            if (v.p[i] == '\\')
                i++;
        if (i >= v.n)
            return false;
        na->display = sv_make(v.p + 1, i - 1);
        i++;
    }
    const char *lt = memchr(v.p + i, '<', v.n - i);
    if (lt) {
        if (!na->display.p) {
            struct sv d = trim(sv_make(v.p + i, (size_t)(lt - v.p) - i));
            if (d.n)
                na->display = d;
        }
        const char *gt = memchr(lt, '>', v.n - (size_t)(lt - v.p));
        if (!gt)
            return false;
        na->uri = trim(sv_make(lt + 1, (size_t)(gt - lt) - 1));
        na->params = sv_make(gt + 1, v.n - (size_t)(gt + 1 - v.p));
        return na->uri.n > 0;
    }
    if (na->display.p)
        return false; /* a quoted name must be followed by <uri> */
    /* addr-spec: RFC 3261 §20.10, parameters after it are header parameters */
    const char *semi = memchr(v.p, ';', v.n);
    na->uri = trim(sv_make(v.p, semi ? (size_t)(semi - v.p) : v.n));
    na->params = semi ? sv_make(semi, v.n - (size_t)(semi - v.p)) : sv_make(v.p + v.n, 0);
    return na->uri.n > 0;
}

bool sip_via_parse(struct sv v, struct sip_via *via)
{
    if (!v.p)
        return false;
    v = trim(v);
    memset(via, 0, sizeof *via);
    /* sent-protocol = protocol-name SLASH protocol-version SLASH transport, with LWS */
    size_t i = 0, slashes = 0, ts = 0;
    for (; i < v.n && slashes < 2; i++)
        if (v.p[i] == '/') {
            slashes++;
            ts = i + 1;
        }
    if (slashes < 2)
        return false;
    while (ts < v.n && is_lws(v.p[ts]))
        ts++;
    i = ts;
    while (i < v.n && is_token((unsigned char)v.p[i]))
        i++;
    via->transport = sv_make(v.p + ts, i - ts);
    while (i < v.n && (is_ws(v.p[i]) || v.p[i] == '\r' || v.p[i] == '\n'))
        i++;
    size_t used;
    struct sv rest = sv_make(v.p + i, v.n - i);
    if (via->transport.n == 0 || !parse_hostport(rest, "; \t\r\n", &via->host, &via->port, &used))
        return false;
    const char *semi = memchr(rest.p + used, ';', rest.n - used);
    via->params = semi ? sv_make(semi, rest.n - (size_t)(semi - rest.p)) : sv_make(rest.p + rest.n, 0);
    return true;
}

struct sv sip_param(struct sv params, const char *name, bool *found)
{
    if (found)
        *found = false;
    if (!params.p)
        return SV_NULL;
    size_t nlen = strlen(name);
    const char *p = params.p, *end = params.p + params.n;
    while (p < end) {
        while (p < end && (*p == ';' || is_ws(*p) || *p == '\r' || *p == '\n'))
            p++;
        const char *ns = p;
        while (p < end && *p != '=' && *p != ';' && !is_lws(*p))
            p++;
        struct sv pn = sv_make(ns, (size_t)(p - ns));
        while (p < end && is_lws(*p))
            p++;
        struct sv val = SV_NULL;
        if (p < end && *p == '=') {
            p++;
            while (p < end && is_lws(*p))
                p++;
            const char *vs = p;
            if (p < end && *p == '"') {
                for (p++; p < end && *p != '"'; p++)
                    if (*p == '\\')
                        p++;
                if (p > end)
                    p = end;
                val = sv_make(vs + 1, (size_t)((p < end ? p : end) - vs - 1));
                if (p < end)
                    p++;
            } else {
                while (p < end && *p != ';' && !is_lws(*p))
                    p++;
                val = sv_make(vs, (size_t)(p - vs));
            }
        }
        if (pn.n == nlen && strncasecmp(pn.p, name, nlen) == 0) {
            if (found)
                *found = true;
            return val.p ? val : sv_make(pn.p + pn.n, 0);
        }
        while (p < end && *p != ';')
            p++;
    }
    return SV_NULL;
}

struct sv sip_auth_scheme(struct sv v)
{
    if (!v.p)
        return SV_NULL;
    v = trim(v);
    size_t i = 0;
    while (i < v.n && is_token((unsigned char)v.p[i]))
        i++;
    return sv_make(v.p, i);
}

struct sv sip_auth_param(struct sv v, const char *name, bool *found)
{
    if (found)
        *found = false;
    if (!v.p)
        return SV_NULL;
    struct sv scheme = sip_auth_scheme(v);
    v = trim(v);
    struct sv rest = sv_make(scheme.p + scheme.n, v.n - scheme.n), item;
    size_t nl = strlen(name);
    if (found)
        *found = false;
    while (sip_list_next(&rest, &item)) {
        const char *eq = memchr(item.p, '=', item.n);
        struct sv pn = trim(sv_make(item.p, eq ? (size_t)(eq - item.p) : item.n));
        if (pn.n != nl || strncasecmp(pn.p, name, nl) != 0)
            continue;
        if (found)
            *found = true;
        if (!eq)
            return sv_make(pn.p + pn.n, 0);
        struct sv val = trim(sv_make(eq + 1, item.n - (size_t)(eq + 1 - item.p)));
        if (val.n >= 2 && val.p[0] == '"' && val.p[val.n - 1] == '"')
            val = sv_make(val.p + 1, val.n - 2);
        return val;
    }
    return SV_NULL;
}

size_t sip_unfold(struct sv v, char *buf, size_t cap)
{
    size_t o = 0;
    if (!v.p)
        return 0;
    for (size_t i = 0; i < v.n && o < cap; i++) {
        char c = v.p[i];
        if (c == '\r' || c == '\n') {
            while (i + 1 < v.n && (v.p[i + 1] == '\r' || v.p[i + 1] == '\n' || is_ws(v.p[i + 1])))
                i++;
            buf[o++] = ' ';
            continue;
        }
        buf[o++] = c;
    }
    return o;
}

/* A media type at the start of a Content-Type value (parameters may follow). */
static bool ctype_is(struct sv ct, const char *type)
{
    size_t n = strlen(type);
    while (ct.n && (*ct.p == ' ' || *ct.p == '\t')) {
        ct.p++;
        ct.n--;
    }
    return ct.n >= n && strncasecmp(ct.p, type, n) == 0 &&
           (ct.n == n || ct.p[n] == ';' || ct.p[n] == ' ' || ct.p[n] == '\t');
}

/* A DTMF signal as sent in INFO bodies: one digit, or 10 and 11 for '*' and '#' and 16
 * for flash (the numbering of RFC 4733 events that several vendors use here). */
static char dtmf_signal(struct sv v)
{
    while (v.n && (*v.p == ' ' || *v.p == '\t')) {
        v.p++;
        v.n--;
    }
    while (v.n && (v.p[v.n - 1] == ' ' || v.p[v.n - 1] == '\t' || v.p[v.n - 1] == '\r'))
        v.n--;
    if (v.n == 1) {
        char c = v.p[0];
        if ((c >= '0' && c <= '9') || c == '*' || c == '#')
            return c;
        if ((c >= 'A' && c <= 'D') || (c >= 'a' && c <= 'd'))
            return (char)(c & ~0x20);
        return 0;
    }
    if (v.n == 2 && v.p[0] == '1')
        return v.p[1] == '0' ? '*' : v.p[1] == '1' ? '#' : v.p[1] == '6' ? 'F' : 0;
    return 0;
}

bool sip_body_dtmf(const struct sip_msg *m, char *digit, int64_t *duration_ms)
{
    const struct sip_header *ct = sip_hdr(m, SIP_H_CONTENT_TYPE);
    *digit = 0;
    *duration_ms = -1;
    if (!ct || !m->body.n)
        return false;
    if (ctype_is(ct->value, "application/dtmf")) {
        *digit = dtmf_signal(m->body);
        return *digit != 0;
    }
    if (!ctype_is(ct->value, "application/dtmf-relay"))
        return false;
    /* "Signal=5\r\nDuration=160\r\n" (the Cisco/SIP INFO convention; no RFC defines it) */
    struct sv rest = m->body;
    while (rest.n) {
        const char *nl = memchr(rest.p, '\n', rest.n);
        struct sv line = sv_make(rest.p, nl ? (size_t)(nl - rest.p) : rest.n);
        rest.p += line.n + (nl != NULL);
        rest.n -= line.n + (nl != NULL);
        const char *eq = memchr(line.p, '=', line.n);
        if (!eq)
            continue;
        struct sv name = sv_make(line.p, (size_t)(eq - line.p));
        struct sv value = sv_make(eq + 1, line.n - name.n - 1);
        while (name.n && (name.p[name.n - 1] == ' ' || name.p[name.n - 1] == '\t'))
            name.n--;
        while (value.n && (*value.p == ' ' || *value.p == '\t')) {
            value.p++;
            value.n--;
        }
        while (value.n && (value.p[value.n - 1] == '\r' || value.p[value.n - 1] == ' '))
            value.n--;
        uint64_t d;
        if (name.n == 6 && strncasecmp(name.p, "signal", 6) == 0)
            *digit = dtmf_signal(value);
        else if (name.n == 8 && strncasecmp(name.p, "duration", 8) == 0 &&
                 sip_uint_parse(value, 3600000, &d))
            *duration_ms = (int64_t)d;
    }
    return *digit != 0;
}
