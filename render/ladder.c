/* See ladder.h. */
#include "ladder.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "decode/dns.h"
#include "decode/sdp.h"
#include "decode/sip.h"
#include "render/ids.h"

#define LADDER_MAX_HOSTS RENDER_LADDER_MAX_HOSTS
#define LADDER_MAX_MSGS  RENDER_LADDER_MAX_MSGS
#define LADDER_MAX_NOTES (CALL_MAX_SEGS + CALL_MAX_DNS)

struct rung {
    ptime_t ts;
    uint64_t frame;
    int from, to;   /* host columns */
    char label[96]; /* sanitised */
    bool tls;
    bool retrans, sdp;
};

/* A line under the rung of one frame: a hop's holding time, a look-up's outcome. */
struct note {
    uint64_t frame;
    char text[200];
};

struct render_ladder {
    char hosts[LADDER_MAX_HOSTS][IP_ADDR_PORT_STRLEN];
    int nhosts;
    struct rung *rungs; /* owned; grows by 64 up to LADDER_MAX_MSGS */
    size_t n;
    bool truncated;
    char summary[160];
    struct note notes[LADDER_MAX_NOTES];
    int nnotes;
    bool utf8; /* an ellipsis as one character, not three dots */
};

/* Copies at most cap-1 bytes of v as printable ASCII: the drawing counts one column per
 * byte, and wire text must never reach a terminal as a control. Control characters and
 * DEL become '?', and so does each character beyond ASCII (one '?' for its lead byte, its
 * continuation bytes dropped), which also keeps out the C1 controls (U+0080 to U+009F and
 * the raw bytes 0x80-0x9F) that some terminals obey. */
static void safe_copy(char *dst, size_t cap, struct sv v)
{
    size_t n = v.p ? v.n : 0, k = 0;
    for (size_t i = 0; i < n && k < cap - 1; i++) {
        unsigned char c = (unsigned char)v.p[i];
        if ((c & 0xC0) == 0x80) continue;
        dst[k++] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
    }
    dst[k] = '\0';
}

static int host_index(struct render_ladder *l, const char *h)
{
    for (int i = 0; i < l->nhosts; i++)
        if (!strcmp(l->hosts[i], h)) return i;
    if (l->nhosts == LADDER_MAX_HOSTS) return -1;
    snprintf(l->hosts[l->nhosts], sizeof l->hosts[0], "%s", h);
    return l->nhosts++;
}

static struct rung *new_rung(struct render_ladder *l)
{
    if (l->n >= LADDER_MAX_MSGS) {
        l->truncated = true;
        return NULL;
    }
    if (!(l->n % 64)) {
        struct rung *r = realloc(l->rungs, (l->n + 64) * sizeof *r);
        if (!r) return NULL;
        l->rungs = r;
    }
    struct rung *r = &l->rungs[l->n];
    memset(r, 0, sizeof *r);
    return r;
}

/* The column of a host by address, whatever its port (a proxy's SIP port and the port its
 * DNS queries leave from are one host); a new column "ip" (or "ip:port") when none. */
static int addr_column(struct render_ladder *l, const struct ip_addr *a, int port)
{
    char ip[IP_ADDR_PORT_STRLEN], name[IP_ADDR_PORT_STRLEN];
    ip_addr_str(a, ip, sizeof ip);
    size_t n = strlen(ip);
    for (int i = 0; i < l->nhosts; i++) {
        const char *h = l->hosts[i] + (l->hosts[i][0] == '[');
        if (!strncmp(h, ip, n) && (h[n] == ':' || h[n] == ']' || h[n] == '\0')) return i;
    }
    if (port)
        ip_addr_port_str(a, (uint16_t)port, name, sizeof name);
    else
        snprintf(name, sizeof name, "%s", ip);
    return host_index(l, name);
}

static void add_note(struct render_ladder *l, uint64_t frame, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add_note(struct render_ladder *l, uint64_t frame, const char *fmt, ...)
{
    if (l->nnotes == LADDER_MAX_NOTES || !frame) return;
    struct note *n = &l->notes[l->nnotes++];
    n->frame = frame;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(n->text, sizeof n->text, fmt, ap);
    va_end(ap);
}

struct render_ladder *render_ladder_new(void)
{
    return calloc(1, sizeof(struct render_ladder));
}

void render_ladder_free(struct render_ladder *l)
{
    if (!l) return;
    free(l->rungs);
    free(l);
}

void render_ladder_sip(struct render_ladder *l, const struct render_ladder_in *in)
{
    const struct sip_msg *m = in->msg;
    struct rung *r = new_rung(l);
    if (!r) return;
    r->from = host_index(l, in->src);
    r->to = host_index(l, in->dst);
    if (r->from < 0 || r->to < 0) {
        l->truncated = true;
        return;
    }
    r->ts = in->ts;
    r->frame = in->frame;
    r->retrans = in->retrans;
    r->tls = in->tls;
    struct sv body;
    r->sdp = sip_body_sdp(m, &body, NULL);
    if (m->is_request) {
        safe_copy(r->label, sizeof r->label, m->method);
    } else {
        char reason[88];
        safe_copy(reason, sizeof reason, m->reason);
        snprintf(r->label, sizeof r->label, "%d %s", m->status, reason);
    }
    l->n++;
}

void render_ladder_msg(struct render_ladder *l, const struct sip_event *ev, bool retrans)
{
    char src[IP_ADDR_PORT_STRLEN], dst[IP_ADDR_PORT_STRLEN];
    ip_addr_port_str(&ev->l4->src, ev->l4->sport, src, sizeof src);
    ip_addr_port_str(&ev->l4->dst, ev->l4->dport, dst, sizeof dst);
    /* read from TLS with a key log: the wire carried it encrypted */
    bool tls = ev->transport == SIP_TRANSPORT_TLS || ev->transport == SIP_TRANSPORT_WSS;
    struct render_ladder_in in = {.msg = ev->msg,
                                  .src = src,
                                  .dst = dst,
                                  .ts = ev->l4->pkt->ts,
                                  .frame = ev->l4->pkt->frame,
                                  .retrans = retrans,
                                  .tls = tls};
    render_ladder_sip(l, &in);
}

/* Under each forwarded INVITE: the hop that held it, for how long, and how long its
 * downstream took to answer. */
static void path_notes(struct render_ladder *l, const struct call *c)
{
    for (unsigned i = 0; i < c->nsegs; i++) {
        const struct call_seg *out = &c->segs[i];
        if (out->parent < 0) continue;
        const struct call_seg *in = &c->segs[out->parent];
        char host[IP_ADDR_PORT_STRLEN], down[48] = "";
        ip_addr_port_str(&in->dst, in->dport, host, sizeof host);
        ptime_t a = call_seg_answered(out);
        if (a)
            snprintf(down, sizeof down, "; its downstream answered in %.1f ms",
                     (double)(a - out->time) / 1e6);
        else
            snprintf(down, sizeof down, "; its downstream never answered");
        add_note(l, out->frame, "%s held %.1f ms%s", host, (double)(out->time - in->time) / 1e6,
                 down);
    }
}

/* The DNS look-ups tied to the call: an arrow to the server at the first query, one back
 * with the answer, and a line saying what was asked and how it went. */
static void dns_rungs(struct render_ladder *l, const struct call *c)
{
    for (unsigned i = 0; i < c->ndns; i++) {
        const struct call_dns *d = &c->dns[i];
        int host = addr_column(l, &d->host, 0), server = addr_column(l, &d->server, 53);
        struct rung *r;
        if (host < 0 || server < 0 || !(r = new_rung(l))) continue;
        char rc[16], type[16];
        const char *tn = dns_type_label(d->qtype, type, sizeof type);
        const char *name = d->qname; /* printable: dns_parse writes '?' for the rest */
        r->ts = d->query_time;
        r->frame = d->query_frame;
        r->from = host;
        r->to = server;
        snprintf(r->label, sizeof r->label, "DNS %s?", tn);
        l->n++;
        if (d->answer_time && (r = new_rung(l))) {
            r->ts = d->answer_time;
            r->frame = d->answer_frame;
            r->from = server;
            r->to = host;
            snprintf(r->label, sizeof r->label, "DNS %s",
                     dns_rcode_name((uint8_t)d->rcode, rc, sizeof rc));
            l->n++;
        }
        char tries[24] = "";
        if (d->tries > 1) snprintf(tries, sizeof tries, ", %u tries", d->tries);
        if (d->answer_time)
            add_note(l, d->answer_frame, "DNS %s %s: %s after %.1f ms%s", tn, name,
                     dns_rcode_name((uint8_t)d->rcode, rc, sizeof rc),
                     (double)(d->answer_time - d->query_time) / 1e6, tries);
        else
            add_note(l, d->query_frame, "DNS %s %s: no answer%s%s", tn, name, tries,
                     d->timed_out ? " (timed out)" : "");
    }
}

static int by_time(const void *a, const void *b)
{
    const struct rung *x = a, *y = b;
    return x->ts != y->ts ? (x->ts < y->ts ? -1 : 1)
                          : (x->frame > y->frame) - (x->frame < y->frame);
}

void render_ladder_call(struct render_ladder *l, const struct call *c)
{
    if (l->summary[0]) return;
    char fs[16] = "-";
    if (c->final_status) snprintf(fs, sizeof fs, "%d", c->final_status);
    int n = snprintf(l->summary, sizeof l->summary, RENDER_CALL_FMT "  %s  final %s",
                     (unsigned long long)c->seq, call_state_name(c->state), fs);
    if (c->ringing_time && n > 0 && (size_t)n < sizeof l->summary)
        n += snprintf(l->summary + n, sizeof l->summary - (size_t)n, "  PDD %.0f ms",
                      (double)(c->ringing_time - c->invite_time) / 1e6);
    if (c->answer_time && c->end_time && n > 0 && (size_t)n < sizeof l->summary)
        snprintf(l->summary + n, sizeof l->summary - (size_t)n, "  duration %.1f s",
                 (double)(c->end_time - c->answer_time) / 1e9);
    path_notes(l, c);
    dns_rungs(l, c);
}

size_t render_ladder_rungs(const struct render_ladder *l)
{
    return l->n;
}

size_t render_ladder_hosts(const struct render_ladder *l)
{
    return (size_t)l->nhosts;
}

void render_ladder_set_utf8(struct render_ladder *l, bool utf8)
{
    l->utf8 = utf8;
}

/* Marks the ellipsis in a line, which is otherwise one byte per column: written out as one
 * UTF-8 character or three dots, so that every other column stays where it was counted. */
#define ELLIPSIS '\x01'

/* Writes the arrow's label between columns lo and hi (its lifelines). The head and a dash
 * each side of the label always stay, so that a long reason phrase (Kamailio's "100 trying
 * -- your call is important to us") never hides which way the message went. The label has
 * a space each side when it fits with them, none when it fits only without; else it is cut
 * and ends in an ellipsis, never inside a UTF-8 character. */
static void put_label(char *line, int lo, int hi, bool left, const char *text, bool utf8)
{
    int room = hi - lo - 4; /* beside the head and two dashes */
    int ll = (int)strlen(text), ew = utf8 ? 1 : 3;
    bool spaced = ll + 2 <= room, cut = ll > room;
    if (cut) {
        ll = room - ew;
        while (ll > 0 && (((unsigned char)text[ll] & 0xC0) == 0x80 || text[ll - 1] == ' '))
            ll--;
        if (ll < 0) return;
    }
    int cols = ll + (cut ? ew : 0) + (spaced ? 2 : 0);
    char *p = line + lo + 2 + left + (room - cols) / 2;
    if (spaced) *p++ = ' ';
    memcpy(p, text, (size_t)ll);
    p += ll;
    if (cut && utf8)
        *p++ = ELLIPSIS;
    else if (cut)
        for (int i = 0; i < 3; i++)
            *p++ = '.';
    if (spaced) *p = ' ';
}

static void put_line(const char *line, FILE *out)
{
    for (; *line; line++)
        if (*line == ELLIPSIS)
            fputs("\xe2\x80\xa6", out); /* U+2026 */
        else
            fputc(*line, out);
}

bool render_ladder_print(struct render_ladder *l, int w, FILE *out)
{
    int width = l->nhosts * w;
    char *line = malloc((size_t)width + 1);
    if (!line) return false;
    qsort(l->rungs, l->n, sizeof *l->rungs, by_time);
    fprintf(out, "%10s ", "seconds");
    for (int i = 0; i < l->nhosts; i++) {
        int len = (int)strlen(l->hosts[i]);
        int pad = (w - len) / 2;
        fprintf(out, "%*s%-*.*s", pad > 0 ? pad : 0, "", w - (pad > 0 ? pad : 0), w - 1,
                l->hosts[i]);
    }
    fputc('\n', out);
    bool cut = false;
    for (int i = 0; i < l->nhosts; i++)
        cut |= (int)strlen(l->hosts[i]) > w - 1;
    for (int i = 0; cut && i < l->nhosts; i++) /* the full names, when columns cut them */
        fprintf(out, "%10s %*s= %s\n", i ? "" : "hosts:", i * w + w / 2 + 1, "", l->hosts[i]);
    for (size_t k = 0; k < l->n; k++) {
        const struct rung *r = &l->rungs[k];
        memset(line, ' ', (size_t)width);
        line[width] = '\0';
        for (int i = 0; i < l->nhosts; i++)
            line[i * w + w / 2] = '|';
        int a = r->from * w + w / 2, b = r->to * w + w / 2;
        int lo = a < b ? a : b, hi = a < b ? b : a;
        for (int x = lo + 1; x < hi; x++)
            line[x] = '-';
        if (a < b)
            line[hi - 1] = '>';
        else if (a > b)
            line[lo + 1] = '<';
        char label[128];
        snprintf(label, sizeof label, "%s%s%s%s", r->label, r->sdp ? " +SDP" : "",
                 r->tls ? " (TLS)" : "", r->retrans ? " (retr)" : "");
        if (hi > lo) put_label(line, lo, hi, a > b, label, l->utf8);
        fprintf(out, "%10.3f ", (double)(r->ts - l->rungs[0].ts) / 1e9);
        put_line(line, out);
        fprintf(out, " #%llu\n", (unsigned long long)r->frame);
        for (int i = 0; i < l->nnotes; i++)
            if (l->notes[i].frame == r->frame) fprintf(out, "%10s   ^ %s\n", "", l->notes[i].text);
    }
    free(line);
    if (l->summary[0]) fprintf(out, "%s\n", l->summary);
    if (l->truncated)
        fprintf(out, "(more than %d hosts or %d messages: the rest is not drawn)\n",
                LADDER_MAX_HOSTS, LADDER_MAX_MSGS);
    return true;
}
