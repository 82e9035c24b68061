/* `sipscope ladder FILE... CALL`: one call's message ladder in the terminal, for engineers
 * on an ssh session. Hosts (ip:port) are columns in order of first appearance; each
 * message is an arrow with its method or status, its time from the first message, and
 * its frame. SIP text is attacker input: control characters never reach the terminal. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "decode/sdp.h"
#include "decode/sip.h"
#include "pipeline.h"

#define LADDER_MAX_HOSTS 8
#define LADDER_MAX_MSGS  2000

static const char ladder_usage[] =
    "Usage: sipscope ladder [OPTIONS] FILE... CALL\n"
    "\n"
    "Draws one call's ladder: hosts as columns, one arrow per SIP message, with the time\n"
    "since the call's first message and the frame number. CALL is an id from\n"
    "'sipscope analyze' (call-N) or a SIP Call-ID.\n"
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
    if (l->n >= LADDER_MAX_MSGS) {
        l->truncated = true;
        return;
    }
    if (!(l->n % 64)) {
        struct rung *r = realloc(l->rungs, (l->n + 64) * sizeof *r);
        if (!r)
            return;
        l->rungs = r;
    }
    char src[IP_ADDR_PORT_STRLEN], dst[IP_ADDR_PORT_STRLEN];
    ip_addr_port_str(&ev->l4->src, ev->l4->sport, src, sizeof src);
    ip_addr_port_str(&ev->l4->dst, ev->l4->dport, dst, sizeof dst);
    struct rung *r = &l->rungs[l->n];
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

static void on_call(void *user, const struct call *c)
{
    struct ladder *l = user;
    bool mine = l->want_seq ? c->seq == l->want_seq : (c->call_id && !strcmp(c->call_id, l->want));
    if (!mine || l->summary[0])
        return;
    char fs[16] = "-";
    if (c->final_status)
        snprintf(fs, sizeof fs, "%d", c->final_status);
    int n = snprintf(l->summary, sizeof l->summary, "call-%llu  %s  final %s",
                     (unsigned long long)c->seq, call_state_name(c->state), fs);
    if (c->ringing_time && n > 0 && (size_t)n < sizeof l->summary)
        n += snprintf(l->summary + n, sizeof l->summary - (size_t)n, "  PDD %.0f ms",
                      (double)(c->ringing_time - c->invite_time) / 1e6);
    if (c->answer_time && c->end_time && n > 0 && (size_t)n < sizeof l->summary)
        snprintf(l->summary + n, sizeof l->summary - (size_t)n, "  duration %.1f s",
                 (double)(c->end_time - c->answer_time) / 1e9);
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
    char *end;
    if (!strncmp(l.want, "call-", 5)) {
        l.want_seq = strtoull(l.want + 5, &end, 10);
        if (*end)
            l.want_seq = 0;
    }
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
    draw(&l, w);
    if (l.summary[0])
        printf("%s\n", l.summary);
    if (l.truncated)
        printf("(more than %d hosts or %d messages: the rest is not drawn)\n", LADDER_MAX_HOSTS,
               LADDER_MAX_MSGS);
    free(l.rungs);
    return 0;
}
