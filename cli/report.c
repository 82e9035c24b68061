/* See report.h. */
#include "report.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/vec.h"
#include "render/ids.h"
#include "render/text.h"
#include "sipscope_config.h"

bool report_open(struct report *r, size_t report_max)
{
    *r = (struct report){.report_max = report_max};
    return (r->spill = tmpfile()) != NULL;
}

void report_close(struct report *r)
{
    free(r->calls);
    free(r->regs);
    free(r->streams);
    free(r->issues);
    if (r->spill) fclose(r->spill);
    *r = (struct report){0};
}

bool report_spill(FILE *spill, char *text, off_t *off, uint32_t *len)
{
    size_t n = strlen(text);
    *off = fseeko(spill, 0, SEEK_END) == 0 ? ftello(spill) : -1;
    bool ok = *off >= 0 && fwrite(text, 1, n, spill) == n;
    free(text);
    if (!ok) log_error("cannot write the temporary spill file");
    *len = (uint32_t)n;
    return ok;
}

bool report_push(FILE *spill, struct call_out **v, size_t *n, size_t *cap, uint64_t seq, char *text)
{
    off_t off;
    uint32_t len;
    if (!text) return false;
    if (!vec_grow((void **)v, cap, *n, sizeof **v, 256)) {
        free(text);
        return false;
    }
    if (!report_spill(spill, text, &off, &len)) return false;
    (*v)[(*n)++] = (struct call_out){seq, 0, off, len, -1};
    return true;
}

bool report_push_issue(FILE *spill, struct issue_out **v, size_t *n, size_t *cap,
                       const struct issue *is, char *text)
{
    off_t off;
    uint32_t len;
    if (!text) return false;
    if (!vec_grow((void **)v, cap, *n, sizeof **v, 64)) {
        free(text);
        return false;
    }
    if (!report_spill(spill, text, &off, &len)) return false;
    (*v)[*n] = (struct issue_out){.seq = *n + 1,
                                  .call_seq = is->call_seq,
                                  .time = is->time,
                                  .off = off,
                                  .len = len,
                                  .severity = (uint8_t)is->severity,
                                  .group = is->call_seq       ? 0
                                           : is->registration ? 1
                                                              : 2,
                                  .kind = (uint8_t)is->kind};
    (*n)++;
    return true;
}

/* The lowest spill offset still wanted: by the report's lists (each in the order written)
 * and by whoever else keeps texts in the file. */
static off_t spill_low(const struct report *r)
{
    off_t low = r->other_low ? r->other_low(r->other) : -1;
#define LOW(o) (low = low < 0 || (o) < low ? (o) : low)
    if (r->ncalls) LOW(r->calls[0].off);
    if (r->nstreams) LOW(r->streams[0].off);
    if (r->nregs) LOW(r->regs[0].off);
    if (r->nissues) LOW(r->issues[0].off);
#undef LOW
    return low;
}

/* A list of the report down to its newest report_max entries; the spill file's blocks
 * below what is still wanted go back to the file system. */
static void trim_to(struct report *a, void *list, size_t *n, size_t size, int which)
{
    if (*n <= a->report_max) return;
    size_t drop = *n - a->report_max;
    memmove(list, (char *)list + drop * size, a->report_max * size);
    *n = a->report_max;
    a->report_dropped[which] += drop;
    if (which == REPORT_ISSUES) /* numbered in order of finding: the next ones come after */
        for (size_t i = 0; i < *n; i++)
            ((struct issue_out *)list)[i].seq = i + 1;
    fflush(a->spill);
    off_t low = spill_low(a);
    if (low < 0) low = ftello(a->spill);
    low &= ~(off_t)4095; /* whole blocks */
    if (low > a->punched && fallocate(fileno(a->spill), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                                      a->punched, low - a->punched) == 0)
        a->punched = low;
}

/* The list `which`, its count and its entry size. */
static void *list_of(struct report *r, int which, size_t **n, size_t *size)
{
    switch (which) {
    case REPORT_CALLS:
        *n = &r->ncalls, *size = sizeof *r->calls;
        return r->calls;
    case REPORT_STREAMS:
        *n = &r->nstreams, *size = sizeof *r->streams;
        return r->streams;
    case REPORT_REGISTRATIONS:
        *n = &r->nregs, *size = sizeof *r->regs;
        return r->regs;
    default:
        *n = &r->nissues, *size = sizeof *r->issues;
        return r->issues;
    }
}

/* A live capture's report: a list past twice report_max loses its oldest half, so months
 * of capture take memory and disk for the newest report_max entries only. */
void report_trim(struct report *a, int which)
{
    size_t *n, size;
    void *list = list_of(a, which, &n, &size);
    if (a->report_max && *n >= 2 * a->report_max) trim_to(a, list, n, size, which);
    a->report_bytes = (a->capcalls + a->capstreams + a->capregs) * sizeof(struct call_out) +
                      a->capissues * sizeof(struct issue_out);
    if (a->report_bytes > a->report_peak) a->report_peak = a->report_bytes;
}

int report_by_seq(const void *x, const void *y)
{
    uint64_t p = ((const struct call_out *)x)->seq, q = ((const struct call_out *)y)->seq;
    return p < q ? -1 : p > q;
}

void report_finish(struct report *a)
{
    if (a->report_max) { /* exactly the newest report_max of each list (in the order ended) */
        for (int w = REPORT_CALLS; w <= REPORT_ISSUES; w++) {
            size_t *n, size;
            void *list = list_of(a, w, &n, &size);
            trim_to(a, list, n, size, w);
        }
    }
    if (a->ncalls) /* qsort(NULL, 0, ...) is undefined */
        qsort(a->calls, a->ncalls, sizeof *a->calls, report_by_seq); /* in order of first INVITE */
    if (a->nregs) qsort(a->regs, a->nregs, sizeof *a->regs, report_by_seq);
    if (a->nstreams) qsort(a->streams, a->nstreams, sizeof *a->streams, report_by_seq);
    fflush(a->spill);
}

/* Copies entry e from the spill file to out. */
static void print_out_to(FILE *spill, const struct call_out *e, FILE *out)
{
    char buf[8192];
    if (fseeko(spill, e->off, SEEK_SET) != 0) return;
    for (uint32_t left = e->len; left > 0;) {
        size_t n = fread(buf, 1, left < sizeof buf ? left : sizeof buf, spill);
        if (n == 0) return;
        fwrite(buf, 1, n, out);
        left -= (uint32_t)n;
    }
}

static int by_call(const void *x, const void *y)
{
    const struct call_out *p = x, *q = y;
    return p->call_seq != q->call_seq ? (p->call_seq < q->call_seq ? -1 : 1)
                                      : (p->seq < q->seq ? -1 : p->seq > q->seq);
}

/* Copies spill text [off, off+len) to out. */
static void copy_out(FILE *spill, off_t off, uint32_t len, FILE *out)
{
    print_out_to(spill, &(struct call_out){.off = off, .len = len}, out);
}

/* See report.h. "streams":null and the others cannot occur inside a string value: quotes
 * there are escaped. */
void report_print_call(FILE *spill, const struct call_out *c, const struct call_out *streams,
                       size_t n, size_t *k, const struct issue_out *issues, size_t ni, size_t *ki,
                       bool judged, FILE *out)
{
    char *text = malloc(c->len + 1);
    if (!text || fseeko(spill, c->off, SEEK_SET) != 0 || fread(text, 1, c->len, spill) != c->len) {
        free(text);
        return;
    }
    text[c->len] = '\0';
    while (*k < n && streams[*k].call_seq < c->seq)
        (*k)++;
    while (*ki < ni && issues[*ki].call_seq < c->seq)
        (*ki)++;
    double mos_min = -1;
    size_t k0 = *k;
    for (; *k < n && streams[*k].call_seq == c->seq; (*k)++)
        if (streams[*k].mos >= 0 && (mos_min < 0 || streams[*k].mos < mos_min))
            mos_min = streams[*k].mos;
    static const char m_streams[] = "\"streams\":null", m_mos[] = "\"mos_min\":null",
                      m_issues[] = "\"issues\":null";
    const char *rest = text;
    char *at = strstr(rest, m_streams);
    if (at) {
        fwrite(rest, 1, (size_t)(at - rest), out);
        fputs("\"streams\":[", out);
        for (size_t i = k0; i < *k; i++)
            fprintf(out, "%s\"" RENDER_STREAM_FMT "\"", i > k0 ? "," : "",
                    (unsigned long long)streams[i].seq);
        fputs("]", out);
        rest = at + sizeof m_streams - 1;
    }
    if (mos_min >= 0 && (at = strstr(rest, m_mos))) {
        fwrite(rest, 1, (size_t)(at - rest), out);
        fprintf(out, "\"mos_min\":%.2f", mos_min);
        rest = at + sizeof m_mos - 1;
    }
    if (judged && (at = strstr(rest, m_issues))) {
        fwrite(rest, 1, (size_t)(at - rest), out);
        fputs("\"issues\":[", out);
        for (bool first = true; *ki < ni && issues[*ki].call_seq == c->seq;
             (*ki)++, first = false) {
            if (!first) fputc(',', out);
            copy_out(spill, issues[*ki].off, issues[*ki].len, out);
        }
        fputs("]", out);
        rest = at + sizeof m_issues - 1;
    }
    fputs(rest, out);
    free(text);
}

int report_issue_by_call(const void *x, const void *y)
{
    const struct issue_out *p = x, *q = y;
    if (p->call_seq != q->call_seq) return p->call_seq < q->call_seq ? -1 : 1;
    if (p->time != q->time) return p->time < q->time ? -1 : 1;
    return p->seq < q->seq ? -1 : p->seq > q->seq;
}

static int issue_by_time(const void *x, const void *y)
{
    const struct issue_out *p = x, *q = y;
    if (p->time != q->time) return p->time < q->time ? -1 : 1;
    return p->seq < q->seq ? -1 : p->seq > q->seq;
}

/* The document: the capture block built as a tree; calls, already text, written in
 * between; messages (only with --messages) as a tree again. */
int report_print_json(struct report *a, const struct render_run *run, const struct kpi *kpi,
                      json_t *messages, bool judged)
{
    json_t *root = json_pack("{s:{s:s}, s:o, s:o}", "sipscope", "version", SIPSCOPE_VERSION,
                             "capture", render_capture_json(run), "stats", render_stats_json(kpi));
    char *head = root ? json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(16)) : NULL;
    json_decref(root);
    if (!head) return 1;
    size_t hl = strlen(head);
    while (hl && head[hl - 1] != '}') /* drop the closing brace: the rest follows */
        hl--;
    fwrite(head, 1, hl ? hl - 1 : 0, stdout);
    free(head);
    /* the streams by call, to fill each call's list */
    struct call_out *bycall = a->nstreams ? malloc(a->nstreams * sizeof *bycall) : NULL;
    size_t nb = 0, k = 0;
    if (bycall) {
        memcpy(bycall, a->streams, a->nstreams * sizeof *bycall);
        qsort(bycall, a->nstreams, sizeof *bycall, by_call);
        nb = a->nstreams;
    }
    /* the issues by call, to fill each call's list; then by time for the document's */
    size_t ki = 0;
    if (a->nissues) qsort(a->issues, a->nissues, sizeof *a->issues, report_issue_by_call);
    fputs(",\n  \"calls\": [", stdout);
    for (size_t i = 0; i < a->ncalls; i++) {
        fputs(i ? ",\n    " : "\n    ", stdout);
        report_print_call(a->spill, &a->calls[i], bycall, nb, &k, a->issues, a->nissues, &ki,
                          judged, stdout);
    }
    free(bycall);
    fputs(a->ncalls ? "\n  ]" : "]", stdout);
    fputs(",\n  \"streams\": [", stdout);
    for (size_t i = 0; i < a->nstreams; i++) {
        fputs(i ? ",\n    " : "\n    ", stdout);
        print_out_to(a->spill, &a->streams[i], stdout);
    }
    fputs(a->nstreams ? "\n  ]" : "]", stdout);
    fputs(",\n  \"registrations\": [", stdout);
    for (size_t i = 0; i < a->nregs; i++) {
        fputs(i ? ",\n    " : "\n    ", stdout);
        print_out_to(a->spill, &a->regs[i], stdout);
    }
    fputs(a->nregs ? "\n  ]" : "]", stdout);
    if (a->nissues) qsort(a->issues, a->nissues, sizeof *a->issues, issue_by_time);
    fputs(",\n  \"issues\": [", stdout);
    for (size_t i = 0; i < a->nissues; i++) {
        fputs(i ? ",\n    " : "\n    ", stdout);
        copy_out(a->spill, a->issues[i].off, a->issues[i].len, stdout);
    }
    fputs(a->nissues ? "\n  ]" : "]", stdout);
    if (messages) {
        char *m = json_dumps(messages, JSON_INDENT(2) | JSON_REAL_PRECISION(16));
        if (m) {
            fputs(",\n  \"messages\": ", stdout);
            fputs(m, stdout);
            free(m);
        }
    }
    fputs("\n}\n", stdout);
    return ferror(stdout) ? 1 : 0;
}

static void print_call_line(void *user, size_t i, FILE *out)
{
    const struct report *a = user;
    print_out_to(a->spill, &a->calls[i], out);
}

static void print_call_of(void *user, uint64_t seq, FILE *out)
{
    const struct report *a = user;
    struct call_out key = {.seq = seq};
    const struct call_out *c = bsearch(&key, a->calls, a->ncalls, sizeof *a->calls, report_by_seq);
    if (c) print_out_to(a->spill, c, out);
}

static void print_issue_lines(void *user, size_t i, FILE *out)
{
    const struct report *a = user;
    copy_out(a->spill, a->issues[i].off, a->issues[i].len, out);
}

/* The text report (render/text.h), its entries' text read back from the spill file. */
void report_print_text(struct report *a, const struct render_run *run)
{
    render_text_head(stdout, run, a->nstreams, a->report_max);
    render_text_calls(stdout, a->ncalls, a->answered, print_call_line, a);
    render_text_registrations(stdout, a->nregs, a->reg_registered, a->reg_challenged,
                              a->reg_failed);
    struct render_issue_ref *refs = a->nissues ? malloc(a->nissues * sizeof *refs) : NULL;
    if (a->nissues && !refs) return;
    for (size_t i = 0; i < a->nissues; i++) {
        const struct issue_out *e = &a->issues[i];
        refs[i] = (struct render_issue_ref){e->seq, e->call_seq, e->time, e->severity, e->group, i};
    }
    struct render_issue_printers pr = {print_call_of, print_issue_lines, a};
    render_text_issues(stdout, refs, a->nissues, a->by_severity, &pr);
    free(refs);
}
