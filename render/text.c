/* See text.h. */
#include "text.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diagnose/issues.h"
#include "render/ids.h"
#include "sipscope_config.h"

static void fmt_time(ptime_t t, char *buf, size_t len)
{
    time_t s = (time_t)(t / PTIME_SEC);
    struct tm tm;
    gmtime_r(&s, &tm);
    size_t n = strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(buf + n, len - n, ".%06lld UTC", (long long)((t % PTIME_SEC) / 1000));
}

char *render_text_call_line(const struct call *c)
{
    char when[64], fs[8] = "-", pdd[16] = "-", dur[16] = "-", *line = NULL;
    fmt_time(c->invite_time, when, sizeof when);
    when[26] = '\0';
    if (c->final_status) snprintf(fs, sizeof fs, "%d", c->final_status);
    if (c->ringing_time)
        snprintf(pdd, sizeof pdd, "%.0f", (double)(c->ringing_time - c->invite_time) / 1e6);
    if (c->answer_time && c->end_time)
        snprintf(dur, sizeof dur, "%.1f", (double)(c->end_time - c->answer_time) / 1e9);
    if (asprintf(&line, "%-26s %-18.18s %-18.18s %-11s %5s %9s %10s", when,
                 c->from.user ? c->from.user : "-", c->to.user ? c->to.user : "-",
                 call_state_name(c->state), fs, pdd, dur) < 0)
        return NULL;
    return line;
}

/* What was not decoded, by reason, and the fragments evicted. */
static void head_errors(FILE *out, const struct capture_stats *cs, const struct decode_stats *ds)
{
    bool any = cs->read_errors > 0;
    for (int r = 0; r < DR__COUNT; r++)
        any |= ds->errors[r] > 0;
    if (any) {
        fprintf(out, "not decoded:");
        for (int r = 0; r < DR__COUNT; r++)
            if (ds->errors[r])
                fprintf(out, " %s %llu", decode_reason_name(r), (unsigned long long)ds->errors[r]);
        if (cs->read_errors)
            fprintf(out, " file_read_error %llu", (unsigned long long)cs->read_errors);
        fputc('\n', out);
    }
    if (ds->frag_evicted)
        fprintf(out, "evicted   %llu fragment datagrams (limit reached)\n",
                (unsigned long long)ds->frag_evicted);
}

void render_text_head(FILE *out, const struct render_run *run, size_t nstreams, size_t report_max)
{
    const struct capture_stats *cs = run->cs;
    const struct decode_stats *ds = run->ds;
    fprintf(out, "sipscope %s: %d file%s, %llu frames, %llu bytes\n", SIPSCOPE_VERSION, run->nfiles,
            run->nfiles == 1 ? "" : "s", (unsigned long long)cs->packets,
            (unsigned long long)cs->bytes);
    for (int i = 0; i < run->nfiles; i++)
        fprintf(out, "  %s\n", run->files[i]);
    if (cs->packets) {
        char a[64], b[64];
        fmt_time(cs->first_ts, a, sizeof a);
        fmt_time(cs->last_ts, b, sizeof b);
        fprintf(out, "time      %s to %s (%.3f s)\n", a, b,
                (double)(cs->last_ts - cs->first_ts) / 1e9);
    }
    fprintf(out, "layers    IPv4 %llu, IPv6 %llu, UDP %llu, TCP %llu, not IP %llu, other IP %llu\n",
            (unsigned long long)ds->ipv4, (unsigned long long)ds->ipv6, (unsigned long long)ds->udp,
            (unsigned long long)ds->tcp, (unsigned long long)ds->non_ip,
            (unsigned long long)ds->other_proto);
    fprintf(out,
            "SIP       %llu messages (%llu malformed), %llu TCP/WebSocket directions followed\n",
            (unsigned long long)ds->sip_messages, (unsigned long long)ds->sip_malformed,
            (unsigned long long)ds->tcp_streams);
    if (ds->tls_flows) /* SIP over TLS: how much of it a key log opened */
        fprintf(out, "TLS       %llu connections, %llu records decrypted, %llu without keys, "
                     "%llu records failing authentication\n",
                (unsigned long long)ds->tls_flows, (unsigned long long)ds->tls_records,
                (unsigned long long)ds->errors[DR_TLS_NO_KEYS],
                (unsigned long long)ds->errors[DR_TLS_BAD_RECORD]);
    if (ds->fragments)
        fprintf(out, "fragments %llu taken in, %llu datagrams reassembled, %llu duplicates\n",
                (unsigned long long)ds->fragments, (unsigned long long)ds->reassembled,
                (unsigned long long)ds->frag_duplicates);
    if (ds->duplicates)
        fprintf(out,
                "duplicates %llu exact copies dropped (a mirror port, a HEP trace of the wire)\n",
                (unsigned long long)ds->duplicates);
    head_errors(out, cs, ds);
    fprintf(out, "RTP       %llu packets in %zu streams, %llu RTCP packets\n",
            (unsigned long long)run->rtp_packets, nstreams, (unsigned long long)run->rtcp_packets);
    const uint64_t *d = run->report_dropped;
    if (d[0] || d[1] || d[2] || d[3])
        fprintf(out,
                "report    the newest %zu of each kind below: %llu older calls, %llu streams, "
                "%llu registrations and %llu issues left out (--report-max; all are in --db)\n",
                report_max, (unsigned long long)d[0], (unsigned long long)d[1],
                (unsigned long long)d[2], (unsigned long long)d[3]);
}

void render_text_calls(FILE *out, size_t n, uint64_t answered, render_print_fn line, void *user)
{
    if (!n) return;
    fprintf(out, "\n%-26s %-18s %-18s %-11s %5s %9s %10s\n", "invite (UTC)", "from", "to", "state",
            "final", "PDD ms", "duration s");
    for (size_t i = 0; i < n; i++) {
        line(user, i, out);
        fputc('\n', out);
    }
    fprintf(out, "%zu calls, %llu answered\n", n, (unsigned long long)answered);
}

void render_text_registrations(FILE *out, size_t n, uint64_t registered, uint64_t challenged,
                               uint64_t failed)
{
    if (n)
        fprintf(out, "%zu registrations: %llu registered, %llu challenged, %llu failed\n", n,
                (unsigned long long)registered, (unsigned long long)challenged,
                (unsigned long long)failed);
}

static int issue_by_group(const void *x, const void *y)
{
    const struct render_issue_ref *p = x, *q = y;
    if (p->group != q->group) return p->group < q->group ? -1 : 1;
    if (p->call_seq != q->call_seq) return p->call_seq < q->call_seq ? -1 : 1;
    if (p->severity != q->severity) return p->severity > q->severity ? -1 : 1;
    if (p->time != q->time) return p->time < q->time ? -1 : 1;
    return p->seq < q->seq ? -1 : p->seq > q->seq;
}

struct issue_group {
    size_t start, n;
    uint8_t worst;
    ptime_t first;
};

static int group_worst_first(const void *x, const void *y)
{
    const struct issue_group *p = x, *q = y;
    if (p->worst != q->worst) return p->worst > q->worst ? -1 : 1;
    if (p->first != q->first) return p->first < q->first ? -1 : 1;
    return p->start < q->start ? -1 : p->start > q->start;
}

/* The groups of refs (sorted by group): one per call, one for registrations, one for
 * media of no call; *ng of them, worst first. NULL when out of memory. */
static struct issue_group *group_issues(const struct render_issue_ref *refs, size_t n, size_t *ng)
{
    struct issue_group *g = malloc(n * sizeof *g);
    if (!g) return NULL;
    *ng = 0;
    for (size_t i = 0; i < n; i++) {
        const struct render_issue_ref *e = &refs[i];
        if (!*ng || e->group != refs[g[*ng - 1].start].group ||
            e->call_seq != refs[g[*ng - 1].start].call_seq)
            g[(*ng)++] = (struct issue_group){i, 0, e->severity, e->time};
        struct issue_group *cur = &g[*ng - 1];
        cur->n++;
        if (e->severity > cur->worst) cur->worst = e->severity;
        if (e->time < cur->first) cur->first = e->time;
    }
    qsort(g, *ng, sizeof *g, group_worst_first);
    return g;
}

void render_text_issues(FILE *out, struct render_issue_ref *refs, size_t n,
                        const uint64_t sev[SEV__COUNT], const struct render_issue_printers *p)
{
    fprintf(out, "\nissues    %zu: %llu critical, %llu warning, %llu info\n", n,
            (unsigned long long)sev[SEV_CRITICAL], (unsigned long long)sev[SEV_WARNING],
            (unsigned long long)sev[SEV_INFO]);
    if (!n) return;
    qsort(refs, n, sizeof *refs, issue_by_group);
    size_t ng;
    struct issue_group *g = group_issues(refs, n, &ng);
    if (!g) return;
    for (size_t i = 0; i < ng; i++) {
        const struct render_issue_ref *e = &refs[g[i].start];
        if (e->group == 1) {
            fprintf(out, "\nregistrations\n");
        } else if (e->group == 2) {
            fprintf(out, "\nmedia of no call\n");
        } else {
            fprintf(out, "\n" RENDER_CALL_FMT "  ", (unsigned long long)e->call_seq);
            p->call(p->user, e->call_seq, out);
            fputc('\n', out);
        }
        for (size_t k = 0; k < g[i].n; k++)
            p->text(p->user, refs[g[i].start + k].index, out);
    }
    free(g);
}
