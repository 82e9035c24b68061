/* `sipscope ladder FILE... CALL`: one call's message ladder in the terminal, for engineers
 * on an ssh session. Hosts (ip:port) are columns in order of first appearance; each
 * message is an arrow with its method or status, its time from the first message, and
 * its frame. SIP text is attacker input: control characters never reach the terminal. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "decode/dns.h"
#include "decode/sdp.h"
#include "decode/sip.h"
#include "engine/pipeline.h"
#include "render/ids.h"

#define LADDER_MAX_HOSTS 8
#define LADDER_MAX_MSGS  2000
#define LADDER_MAX_NOTES (CALL_MAX_SEGS + CALL_MAX_DNS)

static const char ladder_usage[] =
    "Usage: sipscope ladder [OPTIONS] FILE... CALL\n"
    "\n"
    "Draws one call's ladder: hosts as columns, one arrow per SIP message, with the time\n"
    "since the call's first message and the frame number; under a forwarded INVITE, how\n"
    "long the hop held it; the DNS look-ups tied to the call as arrows to their server,\n"
    "with their answer and duration. CALL is an id from 'sipscope analyze' (call-N) or a\n"
    "SIP Call-ID.\n"
    "\n"
    "Options:\n"
    "  -w, --width N   columns per host (default 26)\n"
    "  -h, --help      this text\n";

struct rung {
    ptime_t ts;
    uint64_t frame;
    int from, to;    /* host columns */
    char label[48];  /* sanitised */
    bool retrans, sdp;
};

/* A line under the rung of one frame: a hop's holding time, a look-up's outcome. */
struct note {
    uint64_t frame;
    char text[200];
};

struct ladder {
    const char *want;  /* the CALL argument */
    uint64_t want_seq; /* from "call-N", else 0 */
    char hosts[LADDER_MAX_HOSTS][IP_ADDR_PORT_STRLEN];
    int nhosts;
    struct rung *rungs; /* owned */
    size_t n;
    bool truncated;
    char summary[160];
    uint64_t seq;       /* the call found */
    struct note notes[LADDER_MAX_NOTES];
    int nnotes;
};

/* Copies at most cap-1 bytes of v, control characters and DEL replaced by '?'. */
static void safe_copy(char *dst, size_t cap, struct sv v)
{
    size_t n = v.p ? (v.n < cap - 1 ? v.n : cap - 1) : 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v.p[i];
        dst[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    dst[n] = '\0';
}

static int host_index(struct ladder *l, const char *h)
{
    for (int i = 0; i < l->nhosts; i++)
        if (!strcmp(l->hosts[i], h))
            return i;
    if (l->nhosts == LADDER_MAX_HOSTS)
        return -1;
    snprintf(l->hosts[l->nhosts], sizeof l->hosts[0], "%s", h);
    return l->nhosts++;
}

static struct rung *new_rung(struct ladder *l)
{
    if (l->n >= LADDER_MAX_MSGS) {
        l->truncated = true;
        return NULL;
    }
    if (!(l->n % 64)) {
        struct rung *r = realloc(l->rungs, (l->n + 64) * sizeof *r);
        if (!r)
            return NULL;
        l->rungs = r;
    }
    struct rung *r = &l->rungs[l->n];
    memset(r, 0, sizeof *r);
    return r;
}

/* The column of a host by address, whatever its port (a proxy's SIP port and the port its
 * DNS queries leave from are one host); a new column "ip" (or "ip:port") when none. */
static int addr_column(struct ladder *l, const struct ip_addr *a, int port)
{
    char ip[IP_ADDR_PORT_STRLEN], name[IP_ADDR_PORT_STRLEN];
    ip_addr_str(a, ip, sizeof ip);
    size_t n = strlen(ip);
    for (int i = 0; i < l->nhosts; i++) {
        const char *h = l->hosts[i] + (l->hosts[i][0] == '[');
        if (!strncmp(h, ip, n) && (h[n] == ':' || h[n] == ']' || h[n] == '\0'))
            return i;
    }
    if (port)
        ip_addr_port_str(a, (uint16_t)port, name, sizeof name);
    else
        snprintf(name, sizeof name, "%s", ip);
    return host_index(l, name);
}

static void add_note(struct ladder *l, uint64_t frame, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add_note(struct ladder *l, uint64_t frame, const char *fmt, ...)
{
    if (l->nnotes == LADDER_MAX_NOTES || !frame)
        return;
    struct note *n = &l->notes[l->nnotes++];
    n->frame = frame;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(n->text, sizeof n->text, fmt, ap);
    va_end(ap);
}

static bool is_ours(const struct ladder *l, const struct sip_event *ev, const struct msg_verdict *v)
{
    if (l->want_seq)
        return v->call_seq == l->want_seq;
    const struct sip_header *h = sip_hdr(ev->msg, SIP_H_CALL_ID);
    return h && sv_eq_cstr(h->value, l->want);
}

static void on_msg(void *user, const struct sip_event *ev, const struct msg_verdict *v)
{
    struct ladder *l = user;
    const struct sip_msg *m = ev->msg;
    if (!is_ours(l, ev, v))
        return;
    if (v->call_seq)
        l->seq = v->call_seq;
    struct rung *r = new_rung(l);
    if (!r)
        return;
    char src[IP_ADDR_PORT_STRLEN], dst[IP_ADDR_PORT_STRLEN];
    ip_addr_port_str(&ev->l4->src, ev->l4->sport, src, sizeof src);
    ip_addr_port_str(&ev->l4->dst, ev->l4->dport, dst, sizeof dst);
    r->from = host_index(l, src);
    r->to = host_index(l, dst);
    if (r->from < 0 || r->to < 0) {
        l->truncated = true;
        return;
    }
    r->ts = ev->l4->pkt->ts;
    r->frame = ev->l4->pkt->frame;
    r->retrans = v->retransmission;
    struct sv body;
    r->sdp = sip_body_sdp(m, &body, NULL);
    if (m->is_request) {
        safe_copy(r->label, sizeof r->label, m->method);
    } else {
        char reason[40];
        safe_copy(reason, sizeof reason, m->reason);
        snprintf(r->label, sizeof r->label, "%d %s", m->status, reason);
    }
    l->n++;
}

/* Under each forwarded INVITE: the hop that held it, for how long, and how long its
 * downstream took to answer. */
static void path_notes(struct ladder *l, const struct call *c)
{
    for (unsigned i = 0; i < c->nsegs; i++) {
        const struct call_seg *out = &c->segs[i];
        if (out->parent < 0)
            continue;
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
static void dns_rungs(struct ladder *l, const struct call *c)
{
    for (unsigned i = 0; i < c->ndns; i++) {
        const struct call_dns *d = &c->dns[i];
        int host = addr_column(l, &d->host, 0), server = addr_column(l, &d->server, 53);
        struct rung *r;
        if (host < 0 || server < 0 || !(r = new_rung(l)))
            continue;
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
            snprintf(r->label, sizeof r->label, "DNS %s", dns_rcode_name((uint8_t)d->rcode, rc, sizeof rc));
            l->n++;
        }
        char tries[24] = "";
        if (d->tries > 1)
            snprintf(tries, sizeof tries, ", %u tries", d->tries);
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
    return x->ts != y->ts ? (x->ts < y->ts ? -1 : 1) : (x->frame > y->frame) - (x->frame < y->frame);
}

static void on_call(void *user, const struct call *c)
{
    struct ladder *l = user;
    bool mine = l->want_seq ? c->seq == l->want_seq : (c->call_id && !strcmp(c->call_id, l->want));
    if (!mine || l->summary[0])
        return;
    char fs[16] = "-";
    if (c->final_status)
        snprintf(fs, sizeof fs, "%d", c->final_status);
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

static void draw(const struct ladder *l, int w)
{
    int width = l->nhosts * w;
    char *line = malloc((size_t)width + 1);
    if (!line)
        return;
    printf("%10s ", "seconds");
    for (int i = 0; i < l->nhosts; i++) {
        int len = (int)strlen(l->hosts[i]);
        int pad = (w - len) / 2;
        printf("%*s%-*.*s", pad > 0 ? pad : 0, "", w - (pad > 0 ? pad : 0), w - 1, l->hosts[i]);
    }
    printf("\n");
    bool cut = false;
    for (int i = 0; i < l->nhosts; i++)
        cut |= (int)strlen(l->hosts[i]) > w - 1;
    for (int i = 0; cut && i < l->nhosts; i++) /* the full names, when columns cut them */
        printf("%10s %*s= %s\n", i ? "" : "hosts:", i * w + w / 2 + 1, "", l->hosts[i]);
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
        char label[64];
        snprintf(label, sizeof label, " %s%s%s ", r->label, r->sdp ? " +SDP" : "",
                 r->retrans ? " (retr)" : "");
        int ll = (int)strlen(label), room = hi - lo - 3;
        if (ll > room)
            ll = room > 0 ? room : 0;
        int start = lo + 2 + (room - ll) / 2;
        memcpy(line + start, label, (size_t)ll);
        printf("%10.3f %s #%llu\n", (double)(r->ts - l->rungs[0].ts) / 1e9, line,
               (unsigned long long)r->frame);
        for (int i = 0; i < l->nnotes; i++)
            if (l->notes[i].frame == r->frame)
                printf("%10s   ^ %s\n", "", l->notes[i].text);
    }
    free(line);
}

int cmd_ladder(int argc, char **argv)
{
    static const struct option opts[] = {
        {"width", required_argument, NULL, 'w'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int w = 26, ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "w:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'w':
            w = atoi(optarg);
            if (w < 12 || w > 80) {
                fputs("sipscope ladder: --width wants 12 to 80\n", stderr);
                return 2;
            }
            break;
        case 'h': fputs(ladder_usage, stdout); return 0;
        default: fputs(ladder_usage, stderr); return 2;
        }
    }
    if (argc - optind < 2) {
        fputs("sipscope ladder: needs a capture and a call\n\n", stderr);
        fputs(ladder_usage, stderr);
        return 2;
    }
    struct ladder l = {.want = argv[argc - 1]};
    if (!render_call_seq(l.want, strlen(l.want), &l.want_seq)) l.want_seq = 0; /* a SIP Call-ID */
    struct correlate_config kcfg;
    correlate_config_default(&kcfg);
    struct pipeline_handlers h = {.sip = on_msg, .call = on_call, .user = &l};
    struct pipeline_result res;
    char err[512];
    if (pipeline_run(argv + optind, argc - optind - 1, &kcfg, &h, isatty(STDERR_FILENO), &res, err,
                     sizeof err)) {
        fprintf(stderr, "sipscope ladder: %s\n", err);
        return 1;
    }
    if (!l.n) {
        fprintf(stderr, "sipscope ladder: no call '%s' in the input (see 'sipscope analyze')\n",
                l.want);
        free(l.rungs);
        return 1;
    }
    qsort(l.rungs, l.n, sizeof *l.rungs, by_time);
    draw(&l, w);
    if (l.summary[0])
        printf("%s\n", l.summary);
    if (l.truncated)
        printf("(more than %d hosts or %d messages: the rest is not drawn)\n", LADDER_MAX_HOSTS,
               LADDER_MAX_MSGS);
    free(l.rungs);
    return 0;
}
