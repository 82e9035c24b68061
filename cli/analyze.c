/* `sipscope analyze FILE...`: reads the inputs through capture/, decodes every frame,
 * and prints the summary as text or as the JSON of ../shared/OUTPUT.md. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture/capture.h"
#include "cli.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/vec.h"
#include "correlate/correlate.h"
#include "decode/decode.h"
#include "decode/dns.h"
#include "decode/sdp.h"
#include "decode/sip.h"
#include "hep_out.h"
#include "issue_out.h"
#include "metrics/issues.h"
#include "metrics/kpi.h"
#include "pipeline.h"
#include "render/call.h"
#include "render/ids.h"
#include "render/issue.h"
#include "render/jsontext.h"
#include "render/message.h"
#include "render/registration.h"
#include "render/run.h"
#include "render/stream.h"
#include "render/text.h"
#include "service.h"
#include "sipscope_config.h"
#include "store/spool.h"
#include "store/store.h"
#include "store/writer.h"
#include "web/metrics.h"
#include "web/server.h"

static const char analyze_usage[] =
    "Usage: sipscope analyze [OPTIONS] FILE...\n"
    "\n"
    "Reads pcap and pcapng files (any link type libpcap opens; \"-\" reads stdin) and\n"
    "reports what they hold. Several files are merged in packet-time order.\n"
    "\n"
    "Options:\n"
    "  -j, --json          print one JSON document (../shared/OUTPUT.md) instead of text\n"
    "      --messages      with --json: list every SIP message (frame, time, addresses,\n"
    "                      method or status, Call-ID, CSeq, call, retransmission)\n"
    "      --timelines     with --json: per-second packets, loss, jitter and MOS of each\n"
    "                      stream (\"timeline\")\n"
    "      --report-max N  the report at the end keeps the newest N calls (and N streams,\n"
    "                      registrations, issues); older ones are counted in\n"
    "                      capture.evicted.report_*. Default: all the report's share of\n"
    "                      --max-memory-mb holds (600,000 in 512 MB; the text waits in a\n"
    "                      temporary file), and at most 100000 for a live capture\n"
    "      --keep-duplicates  analyse exact copies of a datagram too: by default a copy\n"
    "                      seen within 5 ms of the first (a mirror port that copies both\n"
    "                      sides of a path), and a SIP message in HEP within 50 ms of the\n"
    "                      same on the wire (a proxy's trace), are dropped and counted in\n"
    "                      capture.duplicates\n"
    "  -c, --config FILE   read settings from FILE: \"key = value\" lines, where key is\n"
    "                      any long option (db = calls.db, interface = eth0, spool-rtp =\n"
    "                      yes) or a threshold's name (see --thresholds); the command\n"
    "                      line wins over the file\n"
    "  -t, --threshold NAME=VALUE\n"
    "                      set one issue threshold (repeatable; after --config)\n"
    "      --thresholds    print every issue threshold with its value and meaning\n"
    "      --db FILE       also store calls, streams (with timelines), registrations,\n"
    "                      issues and SIP messages (raw, with their frames) in the SQLite\n"
    "                      database FILE, created if missing; a file that holds earlier\n"
    "                      analyses gets this one added (ids numbered after theirs).\n"
    "                      A writer thread stores them in batches, each call as it ends\n"
    "      --db-no-raw     store messages without their raw text and frames (smaller;\n"
    "                      no ladder text, no pcap export)\n"
    "      --retention-days D  keep calls (with their messages, streams, issues) for D\n"
    "                      days of packet time back from the newest call; older ones, and\n"
    "                      rows of no call older than the oldest call kept, are deleted\n"
    "      --max-db-mb N   delete the oldest calls while the data takes more than N MB\n"
    "      --spool-rtp     also store each call's RTP and RTCP frames, so that\n"
    "                      `sipscope export` writes the call with its media\n"
    "      --spool-days D  keep spooled media D days (default: as long as its call)\n"
    "      --serve ADDR:PORT  with --db: serve the JSON API and UI from it while the\n"
    "                      analysis runs, and after it until Ctrl-C (sipscope serve\n"
    "                      --help: the address, auth and HTTPS)\n"
    "      --show-credentials  with --serve: show the credentials of SIP Authorization\n"
    "                      and Proxy-Authorization fields (masked by default)\n"
    "      --hep-out HOST:PORT  send every SIP message on as HEPv3 over UDP (to Homer,\n"
    "                      or to another sipscope's --hep-listen)\n"
    "      --hep-id N      the HEP capture agent id (default 2001); the auth key, if\n"
    "                      the collector wants one, is read from SIPSCOPE_HEP_KEY\n"
    "      --db-queue-mb N records waiting for the writer, at most (default 64)\n"
    "      --db-overflow wait|shed\n"
    "                      when that queue is full: wait (default; reading slows down,\n"
    "                      nothing is lost unless the writer is stuck for 5 s) or shed\n"
    "                      (SIP messages are dropped first, keeping room for calls); what\n"
    "                      is dropped is counted, and the exit status is 1\n"
    "      --max-memory-mb N  the memory the tables may take (default 512), shared out\n"
    "                      among them (calls, transactions, media endpoints, streams,\n"
    "                      registrations, DNS, de-duplication, reassembly, the report);\n"
    "                      each full table evicts by its own rule and counts it in\n"
    "                      capture.evicted; capture.memory has each one's peak bytes\n"
    "      --max-calls N   calls tracked at once (default: from --max-memory-mb, about\n"
    "                      127,000 in 512 MB); past it an unanswered INVITE, else the\n"
    "                      least recently active call, is ended early and counted in\n"
    "                      evicted.calls\n"
    "      --progress      always show the progress line on stderr\n"
    "      --no-progress   never show it (default: shown when stderr is a terminal)\n"
    "  -v, --verbose       log more (repeat for debug)\n"
    "  -h, --help          this text\n"
    "\n"
    "Exit status: 0 done, 1 an input could not be read, 2 bad usage.\n";

/* An ended call (or registration) as text for the output: compact JSON, or the text
 * table's line. The text waits in a temporary spill file; memory keeps only this index
 * entry, so a capture of a million calls costs 24 MB here, not the calls' text. */
struct call_out {
    uint64_t seq;
    uint64_t call_seq; /* streams: the call they belong to, 0 none */
    off_t off;
    uint32_t len;
    float mos;         /* streams: their MOS, < 0 none */
};

/* An issue, as text in the spill file: compact JSON or the text report's lines. */
struct issue_out {
    uint64_t seq;      /* in order of finding */
    uint64_t call_seq; /* 0 none */
    ptime_t time;
    off_t off;
    uint32_t len;
    uint8_t severity;
    uint8_t group;     /* text report: 0 a call's, 1 registrations, 2 media of no call */
    uint8_t kind;      /* enum issue_kind: the row's issue kinds */
};

struct analysis {
    struct call_out *calls; /* owned: ended calls, for the output */
    size_t ncalls, capcalls;
    struct call_out *regs;  /* owned: registrations as compact JSON */
    size_t nregs, capregs;
    struct call_out *streams; /* owned: RTP streams as compact JSON */
    size_t nstreams, capstreams;
    uint64_t reg_registered, reg_failed, reg_challenged;
    uint64_t answered;
    bool json;
    bool timelines;   /* --timelines: per-second figures in each stream */
    json_t *messages; /* with --messages; owned */
    FILE *spill;      /* owned: the text of ended calls and registrations */
    struct kpi *kpi;  /* owned */
    struct sdp *sdp;  /* owned: scratch for --messages' SDP */
    struct issue_engine *eng;  /* owned */
    struct issue_out *issues;  /* owned */
    size_t nissues, capissues;
    uint64_t by_severity[SEV__COUNT];
    struct store *db;          /* owned; --db */
    struct store_writer *dbw;  /* owned: the writer thread, the only user of db meanwhile */
    struct store_writer_stats dbstats; /* its figures, once stopped */
    bool db_failed;            /* a call could not be rendered for it */
    bool db_no_raw;            /* --db-no-raw */
    struct media_spool *spool; /* owned: --spool-rtp */
    struct web_server *web;    /* owned: --serve */
    struct hep_out *hep;       /* owned: --hep-out */
    const char *run_as, *dbpath; /* capture --user: who to become once capturing */
    struct web_metrics mx;     /* counted as things end; published to web at ticks */
    int64_t db_run;            /* this analysis's row in the runs table */
    struct htab *pending;      /* owned, --db: struct pending_call by call number */
    /* a live capture's report keeps the newest report_max entries of each list (calls,
     * streams, registrations, issues); the older ones are counted here, and the spill
     * file's space below the oldest text still wanted is given back (punched) */
    size_t report_max;         /* 0: everything */
    uint64_t report_bytes, report_peak; /* the lists' memory (their text is in the file) */
    uint64_t report_dropped[4];
    off_t punched;
};

enum { REPORT_CALLS, REPORT_STREAMS, REPORT_REGISTRATIONS, REPORT_ISSUES };
#define LIVE_REPORT_MAX 100000

/* --db: a call whose row still lacks its streams, worst MOS and issues, with their texts in
 * the spill file as they come; it is written whole, and forgotten, once the issue engine
 * says every issue of it is out (on_judged), so the rows are complete while a capture
 * runs, and memory follows the calls in flight. */
struct pending_call {
    uint64_t seq;
    bool have_call;
    struct call_out call;     /* its JSON */
    struct render_call_row row; /* its columns (row.json NULL: the text is call's) */
    struct call_out *streams; /* owned */
    size_t nstreams, capstreams;
    struct issue_out *issues; /* owned: as JSON */
    size_t nissues, capissues;
};

/* Appends text (taken over, freed) at the end of the spill file: where, and how long. */
static bool spill_put(FILE *spill, char *text, off_t *off, uint32_t *len)
{
    size_t n = strlen(text);
    *off = fseeko(spill, 0, SEEK_END) == 0 ? ftello(spill) : -1;
    bool ok = *off >= 0 && fwrite(text, 1, n, spill) == n;
    free(text);
    if (!ok)
        log_error("cannot write the temporary spill file");
    *len = (uint32_t)n;
    return ok;
}

/* Appends text (taken over, freed) to the spill file and its index entry to *v. */
static bool push_out(FILE *spill, struct call_out **v, size_t *n, size_t *cap, uint64_t seq,
                     char *text)
{
    off_t off;
    uint32_t len;
    if (!text)
        return false;
    if (!vec_grow((void **)v, cap, *n, sizeof **v, 256)) {
        free(text);
        return false;
    }
    if (!spill_put(spill, text, &off, &len))
        return false;
    (*v)[(*n)++] = (struct call_out){seq, 0, off, len, -1};
    return true;
}

static bool pending_eq(const void *item, const void *key)
{
    return ((const struct pending_call *)item)->seq == *(const uint64_t *)key;
}

static uint64_t pending_hash(uint64_t seq)
{
    return hash_bytes(&seq, sizeof seq, 0x9e11d);
}

/* The pending record of call seq, made when missing; NULL without --db or memory. */
static struct pending_call *pending_get(struct analysis *a, uint64_t seq)
{
    if (!a->pending || !seq)
        return NULL;
    uint64_t h = pending_hash(seq);
    struct pending_call *p = htab_find(a->pending, h, &seq);
    if (p)
        return p;
    if (!(p = calloc(1, sizeof *p)))
        return NULL;
    p->seq = seq;
    if (!htab_insert(a->pending, h, p)) {
        free(p);
        return NULL;
    }
    return p;
}

static void pending_free(struct pending_call *p)
{
    if (p) {
        free(p->streams);
        free(p->issues);
        render_call_row_free(&p->row);
    }
    free(p);
}

/* The lowest spill offset still wanted: by the report's lists (each in the order written)
 * and by the calls whose rows wait for their streams and issues. */
static off_t spill_low(const struct analysis *a)
{
    off_t low = -1;
#define LOW(o) (low = low < 0 || (o) < low ? (o) : low)
    if (a->ncalls)
        LOW(a->calls[0].off);
    if (a->nstreams)
        LOW(a->streams[0].off);
    if (a->nregs)
        LOW(a->regs[0].off);
    if (a->nissues)
        LOW(a->issues[0].off);
    size_t pos = 0;
    const struct pending_call *p;
    while (a->pending && (p = htab_next(a->pending, &pos))) {
        if (p->have_call)
            LOW(p->call.off);
        for (size_t i = 0; i < p->nstreams; i++)
            LOW(p->streams[i].off);
        for (size_t i = 0; i < p->nissues; i++)
            LOW(p->issues[i].off);
    }
#undef LOW
    return low;
}

/* A list of the report down to its newest report_max entries; the spill file's blocks
 * below what is still wanted go back to the file system. */
static void trim_to(struct analysis *a, void *list, size_t *n, size_t size, int which)
{
    if (*n <= a->report_max)
        return;
    size_t drop = *n - a->report_max;
    memmove(list, (char *)list + drop * size, a->report_max * size);
    *n = a->report_max;
    a->report_dropped[which] += drop;
    if (which == REPORT_ISSUES) /* numbered in order of finding: the next ones come after */
        for (size_t i = 0; i < *n; i++)
            ((struct issue_out *)list)[i].seq = i + 1;
    fflush(a->spill);
    off_t low = spill_low(a);
    if (low < 0)
        low = ftello(a->spill);
    low &= ~(off_t)4095; /* whole blocks */
    if (low > a->punched &&
        fallocate(fileno(a->spill), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, a->punched,
                  low - a->punched) == 0)
        a->punched = low;
}

/* A live capture's report: a list past twice report_max loses its oldest half, so months
 * of capture take memory and disk for the newest report_max entries only. */
static void trim_report(struct analysis *a, void *list, size_t *n, size_t size, int which)
{
    if (a->report_max && *n >= 2 * a->report_max)
        trim_to(a, list, n, size, which);
    a->report_bytes = (a->capcalls + a->capstreams + a->capregs) * sizeof(struct call_out) +
                      a->capissues * sizeof(struct issue_out);
    if (a->report_bytes > a->report_peak)
        a->report_peak = a->report_bytes;
}

/* Copies entry e from the spill file to out. */
static void print_out_to(FILE *spill, const struct call_out *e, FILE *out)
{
    char buf[8192];
    if (fseeko(spill, e->off, SEEK_SET) != 0)
        return;
    for (uint32_t left = e->len; left > 0;) {
        size_t n = fread(buf, 1, left < sizeof buf ? left : sizeof buf, spill);
        if (n == 0)
            return;
        fwrite(buf, 1, n, out);
        left -= (uint32_t)n;
    }
}

static void print_out(FILE *spill, const struct call_out *e)
{
    print_out_to(spill, e, stdout);
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

/* A call's JSON with what ended after it was written filled in: its "streams":null by the
 * ids of its streams, "mos_min":null by their worst MOS, "issues":null by its issues.
 * (Those texts cannot occur inside a string value: quotes there are escaped.) streams and
 * issues are sorted by call; *k and *ki walk them. */
static void print_call(FILE *spill, const struct call_out *c, const struct call_out *streams,
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
        for (bool first = true; *ki < ni && issues[*ki].call_seq == c->seq; (*ki)++, first = false) {
            if (!first)
                fputc(',', out);
            copy_out(spill, issues[*ki].off, issues[*ki].len, out);
        }
        fputs("]", out);
        rest = at + sizeof m_issues - 1;
    }
    fputs(rest, out);
    free(text);
}

/* A call into the database (through the writer): its JSON text, and the columns the API
 * filters on as render_call() gave them. mos_min (< 0 none) and kinds ("" none) are those
 * of the streams and issues the text holds. */
static void db_call(struct analysis *a, const struct render_call_row *row, const char *json,
                    double mos_min, const char *kinds, bool update, bool progress)
{
    store_writer_call(a->dbw, &(struct store_call){.seq = row->seq,
                                                   .call_id = row->call_id,
                                                   .from_user = row->from_user,
                                                   .to_user = row->to_user,
                                                   .caller = row->caller,
                                                   .callee = row->callee,
                                                   .state = row->state,
                                                   .final_status = row->final_status,
                                                   .invite_time = row->invite_time,
                                                   .end_time = row->end_time,
                                                   .mos_min = mos_min,
                                                   .issue_kinds = kinds,
                                                   .json = json,
                                                   .update = update,
                                                   .progress = progress});
}

static void on_rtcp(void *user, uint64_t call_seq, const struct l4_packet *l4,
                    const struct rtcp_info *info)
{
    struct analysis *a = user;
    hep_out_rtcp(a->hep, l4, info, call_seq);
}

static void on_media(void *user, uint64_t call_seq, const struct packet *p)
{
    struct analysis *a = user;
    media_spool_frame(a->spool, call_seq, p->ts, p->linktype, p->data, p->caplen, p->wirelen);
}

/* Live: a call in progress goes to the database as it stands, so that the UI shows it
 * while it rings; its final version replaces it when it ends. */
static void on_call_progress(void *user, const struct call *c)
{
    struct analysis *a = user;
    struct render_call_row row;
    if (!a->dbw || !render_call(c, &row)) return;
    db_call(a, &row, row.json, -1, "", false, true);
    render_call_row_free(&row);
}

static void on_call_done(void *user, const struct call *c)
{
    struct analysis *a = user;
    a->mx.calls[c->state]++;
    if (c->ringing_time && c->ringing_time >= c->invite_time)
        web_observe(a->mx.pdd, web_pdd_bounds, WEB_PDD_BUCKETS, &a->mx.pdd_sum,
                    (double)(c->ringing_time - c->invite_time) / 1e9);
    if (a->spool)
        media_spool_call_done(a->spool, c->seq);
    kpi_call(a->kpi, c);
    struct render_call_row row = {0};
    bool rendered = (a->json || a->dbw) && render_call(c, &row);
    /* The database gets the call as soon as it ends, so that a crash later loses none
     * (its streams, worst MOS and issues are null: not known yet); once they are, it is
     * stored again, whole (write_whole_call). */
    if (a->dbw && rendered)
        db_call(a, &row, row.json, -1, "", false, false);
    else if (a->dbw)
        a->db_failed = true;
    char *text = a->json ? row.json : render_text_call_line(c);
    if (a->json) row.json = NULL; /* taken over by push_out */
    struct pending_call *p = pending_get(a, c->seq);
    if (push_out(a->spill, &a->calls, &a->ncalls, &a->capcalls, c->seq, text)) {
        a->answered += c->answer_time != 0;
        if (p && a->json) { /* the database's row is that very text, completed later */
            p->call = a->calls[a->ncalls - 1];
            p->have_call = true;
        }
    }
    if (p && row.json) { /* the text report's run: the database keeps the JSON */
        if (spill_put(a->spill, row.json, &p->call.off, &p->call.len)) {
            p->call.seq = c->seq;
            p->have_call = true;
        }
        row.json = NULL; /* taken over by spill_put */
    }
    if (p)
        p->row = row;
    else
        render_call_row_free(&row);
    issues_call(a->eng, c);
    trim_report(a, a->calls, &a->ncalls, sizeof *a->calls, REPORT_CALLS);
}

static void on_reg_done(void *user, const struct registration *r)
{
    struct analysis *a = user;
    if ((int)r->state < WEB_REG_STATES)
        a->mx.registrations[r->state]++;
    char src[IP_ADDR_PORT_STRLEN];
    ip_addr_port_str(&r->source, r->source_port, src, sizeof src);
    json_t *o = render_registration_json(r);
    char *text = json_text(o);
    json_decref(o);
    if (a->dbw && text)
        store_writer_registration(a->dbw, &(struct store_registration){
                        .aor = r->aor, .contact = r->contact, .source = src,
                        .state = reg_state_name(r->state),
                        .first_time = ptime_to_epoch_s(r->first_time),
                        .last_time = ptime_to_epoch_s(r->last_time), .json = text});
    push_out(a->spill, &a->regs, &a->nregs, &a->capregs, r->seq, text);
    trim_report(a, a->regs, &a->nregs, sizeof *a->regs, REPORT_REGISTRATIONS);
    issues_registration(a->eng, r);
    a->reg_registered += r->state == REG_REGISTERED;
    a->reg_failed += r->state == REG_FAILED;
    a->reg_challenged += r->state == REG_CHALLENGED;
}

static void on_stream_done(void *user, const struct rtp_stream *st)
{
    struct analysis *a = user;
    if (a->hep)
        hep_out_stream(a->hep, st);
    if (st->mos >= 0)
        web_observe(a->mx.mos, web_mos_bounds, WEB_MOS_BUCKETS, &a->mx.mos_sum, st->mos);
    char src[IP_ADDR_PORT_STRLEN], dst[IP_ADDR_PORT_STRLEN];
    ip_addr_port_str(&st->src, st->sport, src, sizeof src);
    ip_addr_port_str(&st->dst, st->dport, dst, sizeof dst);
    json_t *o = render_stream_json(st, a->timelines);
    char *text = json_text(o);
    json_decref(o);
    if (a->dbw && text) {
        json_t *tl = render_timeline_json(st);
        char *tls = json_text(tl);
        json_decref(tl);
        store_writer_stream(a->dbw, &(struct store_stream){
                        .seq = st->seq, .call_seq = st->call_seq, .src = src, .dst = dst,
                        .codec = st->codec[0] ? st->codec : NULL,
                        .first_time = ptime_to_epoch_s(st->first_time),
                        .last_time = ptime_to_epoch_s(st->last_time), .mos = st->mos,
                        .json = text, .timeline = tls});
        free(tls);
    }
    if (push_out(a->spill, &a->streams, &a->nstreams, &a->capstreams, st->seq, text)) {
        a->streams[a->nstreams - 1].call_seq = st->call_seq;
        a->streams[a->nstreams - 1].mos = (float)st->mos;
        struct pending_call *p = pending_get(a, st->call_seq);
        if (p && vec_grow((void **)&p->streams, &p->capstreams, p->nstreams, sizeof *p->streams, 4))
            p->streams[p->nstreams++] = a->streams[a->nstreams - 1];
    }
    issues_stream(a->eng, st);
    trim_report(a, a->streams, &a->nstreams, sizeof *a->streams, REPORT_STREAMS);
}

/* Calls whose media is over are judged now, not at the end of the input: in a live capture
 * their issues reach the database while it runs, and memory follows the calls in progress. */
static void on_settle(void *user, ptime_t now, const struct stream_table *streams)
{
    struct analysis *a = user;
    issues_tick(a->eng, now, streams);
}

/* Appends an issue's text (taken over, freed) to the spill file and its entry to *v. */
static bool push_issue(FILE *spill, struct issue_out **v, size_t *n, size_t *cap,
                       const struct issue *is, char *text)
{
    off_t off;
    uint32_t len;
    if (!text)
        return false;
    if (!vec_grow((void **)v, cap, *n, sizeof **v, 64)) {
        free(text);
        return false;
    }
    if (!spill_put(spill, text, &off, &len))
        return false;
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

static char *issue_json_text(const struct issue *is)
{
    json_t *o = render_issue_json(is);
    char *t = json_text(o);
    json_decref(o);
    return t;
}

/* An issue found: kept as text in the spill file (JSON or the text report's lines), and
 * with --db stored, and kept as JSON for the calls' rows. */
static void on_issue(void *user, const struct issue *is)
{
    struct analysis *a = user;
    a->mx.issues[is->kind]++;
    char *js = a->json || a->dbw ? issue_json_text(is) : NULL;
    if (a->dbw && js)
        store_writer_issue(a->dbw, &(struct store_issue){
                        .kind = issue_kind_name(is->kind),
                        .severity = issue_severity_name(is->severity),
                        .call_seq = is->call_seq, .stream_seq = is->stream_seq,
                        .registration = is->registration,
                        .time = ptime_to_epoch_s(is->time), .json = js});
    struct pending_call *p = pending_get(a, is->call_seq);
    if (!a->json) { /* the call's row holds the JSON (found in order); the report, text */
        if (p && js)
            push_issue(a->spill, &p->issues, &p->nissues, &p->capissues, is, js);
        else
            free(js);
        js = NULL;
    }
    if (push_issue(a->spill, &a->issues, &a->nissues, &a->capissues, is,
                   a->json ? js : render_issue_text(is))) {
        a->by_severity[is->severity]++;
        if (p && a->json &&
            vec_grow((void **)&p->issues, &p->capissues, p->nissues, sizeof *p->issues, 4))
            p->issues[p->nissues++] = a->issues[a->nissues - 1];
    }
    trim_report(a, a->issues, &a->nissues, sizeof *a->issues, REPORT_ISSUES);
}

static int by_seq(const void *x, const void *y)
{
    uint64_t p = ((const struct call_out *)x)->seq, q = ((const struct call_out *)y)->seq;
    return p < q ? -1 : p > q;
}

/* A SIP message for the database: its fields, its raw text and the frame that completed
 * it (with the link type, so that a call exports as a pcap). */
static void db_message(struct analysis *a, const struct sip_event *ev, const struct msg_verdict *v,
                       const char *src, const char *dst)
{
    const struct sip_msg *m = ev->msg;
    char method[64] = "", cid[512] = "", cseq[96] = "", reason[128] = "";
    if (m->is_request)
        snprintf(method, sizeof method, "%.*s", (int)(m->method.n < 63 ? m->method.n : 63),
                 m->method.p);
    else if (m->reason.p)
        snprintf(reason, sizeof reason, "%.*s", (int)(m->reason.n < 127 ? m->reason.n : 127),
                 m->reason.p);
    const struct sip_header *cidh = sip_hdr(m, SIP_H_CALL_ID), *cseqh = sip_hdr(m, SIP_H_CSEQ);
    size_t cid_len = 0;
    if (cidh) {
        cid_len = sip_unfold(cidh->value, cid, sizeof cid - 1);
        cid[cid_len] = '\0';
    }
    uint32_t num;
    struct sv meth;
    if (cseqh && sip_cseq_parse(cseqh->value, &num, &meth))
        snprintf(cseq, sizeof cseq, "%u %.*s", num, (int)(meth.n < 64 ? meth.n : 64), meth.p);
    const struct packet *p = ev->l4->pkt;
    /* A message carried whole in its frame (UDP) is stored once, as a slice of the frame;
     * a reassembled one (TCP segments, IP fragments) lies elsewhere and is stored as is.
     * The addresses are compared as integers: the two may be unrelated objects. */
    uintptr_t r = (uintptr_t)ev->raw, f = (uintptr_t)p->data;
    bool in_frame = ev->raw && p->data && r >= f && r - f <= p->caplen &&
                    ev->raw_len <= p->caplen - (r - f);
    size_t raw_off = in_frame ? (size_t)(r - f) : 0;
    store_writer_message(a->dbw, &(struct store_message){
                    .call_seq = v->call_seq, .frame = p->frame, .time = ptime_to_epoch_s(p->ts),
                    .src = src, .dst = dst, .transport = sip_transport_name(ev->transport),
                    .method = m->is_request ? method : NULL, .status = m->status,
                    .reason = m->is_request || !m->reason.p ? NULL : reason,
                    .malformed = m->malformed,
                    .call_id = cidh ? cid : NULL, .call_id_len = cid_len,
                    .cseq = cseq[0] ? cseq : NULL,
                    .retransmission = v->retransmission, .raw_len = ev->raw_len,
                    .raw = a->db_no_raw || in_frame ? NULL : ev->raw,
                    .raw_in_frame = in_frame && !a->db_no_raw, .raw_off = raw_off,
                    .linktype = p->linktype, .frame_bytes = a->db_no_raw ? NULL : p->data,
                    .frame_len = a->db_no_raw ? 0 : p->caplen});
}

static void on_sip(void *user, const struct sip_event *ev, const struct msg_verdict *vp)
{
    struct analysis *a = user;
    const struct sip_msg *m = ev->msg;
    const struct msg_verdict v = *vp;
    char src[IP_ADDR_PORT_STRLEN], dst[IP_ADDR_PORT_STRLEN];
    kpi_message(a->kpi, m, v.retransmission);
    if (a->hep)
        hep_out_sip(a->hep, ev, v.call_seq);
    if (!a->messages && !a->dbw)
        return;
    ip_addr_port_str(&ev->l4->src, ev->l4->sport, src, sizeof src);
    ip_addr_port_str(&ev->l4->dst, ev->l4->dport, dst, sizeof dst);
    if (a->dbw)
        db_message(a, ev, &v, src, dst);
    if (!a->messages)
        return;
    struct render_message rm = {.frame = ev->l4->pkt->frame,
                                .time = ptime_to_epoch_s(ev->l4->pkt->ts),
                                .src = src,
                                .dst = dst,
                                .transport = sip_transport_name(ev->transport),
                                .call_seq = v.call_seq,
                                .retransmission = v.retransmission};
    struct render_message_buf buf;
    render_message_from_sip(&rm, m, &buf);
    json_array_append_new(a->messages, render_message_json(&rm, RENDER_MSG_SDP, a->sdp));
}

static int issue_by_call(const void *x, const void *y)
{
    const struct issue_out *p = x, *q = y;
    if (p->call_seq != q->call_seq)
        return p->call_seq < q->call_seq ? -1 : 1;
    if (p->time != q->time)
        return p->time < q->time ? -1 : 1;
    return p->seq < q->seq ? -1 : p->seq > q->seq;
}

static int issue_by_time(const void *x, const void *y)
{
    const struct issue_out *p = x, *q = y;
    if (p->time != q->time)
        return p->time < q->time ? -1 : 1;
    return p->seq < q->seq ? -1 : p->seq > q->seq;
}

/* The document: the capture block built as a tree; calls, already text, written in
 * between; messages (only with --messages) as a tree again. */
static int print_json(const struct render_run *run, json_t *messages, struct analysis *a)
{
    json_t *root =
        json_pack("{s:{s:s}, s:o, s:o}", "sipscope", "version", SIPSCOPE_VERSION, "capture",
                  render_capture_json(run), "stats", render_stats_json(a->kpi));
    char *head = root ? json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(16)) : NULL;
    json_decref(root);
    if (!head)
        return 1;
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
    if (a->nissues)
        qsort(a->issues, a->nissues, sizeof *a->issues, issue_by_call);
    fputs(",\n  \"calls\": [", stdout);
    for (size_t i = 0; i < a->ncalls; i++) {
        fputs(i ? ",\n    " : "\n    ", stdout);
        print_call(a->spill, &a->calls[i], bycall, nb, &k, a->issues, a->nissues, &ki, a->eng, stdout);
    }
    free(bycall);
    fputs(a->ncalls ? "\n  ]" : "]", stdout);
    fputs(",\n  \"streams\": [", stdout);
    for (size_t i = 0; i < a->nstreams; i++) {
        fputs(i ? ",\n    " : "\n    ", stdout);
        print_out(a->spill, &a->streams[i]);
    }
    fputs(a->nstreams ? "\n  ]" : "]", stdout);
    fputs(",\n  \"registrations\": [", stdout);
    for (size_t i = 0; i < a->nregs; i++) {
        fputs(i ? ",\n    " : "\n    ", stdout);
        print_out(a->spill, &a->regs[i]);
    }
    fputs(a->nregs ? "\n  ]" : "]", stdout);
    if (a->nissues)
        qsort(a->issues, a->nissues, sizeof *a->issues, issue_by_time);
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

/* A call's row, whole: as the document shows it (its streams, worst MOS and issues filled
 * in), with the columns the API filters on taken from that very object. */
static void write_whole_call(struct analysis *a, struct pending_call *p)
{
    if (p->nstreams)
        qsort(p->streams, p->nstreams, sizeof *p->streams, by_seq);
    if (p->nissues)
        qsort(p->issues, p->nissues, sizeof *p->issues, issue_by_call);
    char *text = NULL;
    size_t len = 0, k = 0, ki = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem)
        return;
    print_call(a->spill, &p->call, p->streams, p->nstreams, &k, p->issues, p->nissues, &ki, true,
               mem);
    fclose(mem);
    /* the columns of what the text now holds: the worst MOS as it prints it, the kinds */
    double mos_min = -1;
    for (size_t i = 0; i < p->nstreams; i++)
        if (p->streams[i].mos >= 0 && (mos_min < 0 || p->streams[i].mos < mos_min))
            mos_min = p->streams[i].mos;
    char kinds[512] = "", mos[32];
    if (mos_min >= 0) {
        snprintf(mos, sizeof mos, "%.2f", mos_min);
        mos_min = strtod(mos, NULL);
    }
    for (size_t i = 0; i < p->nissues; i++)
        snprintf(kinds + strlen(kinds), sizeof kinds - strlen(kinds), "%s%s", i ? "," : "",
                 issue_kind_name(p->issues[i].kind));
    db_call(a, &p->row, text, mos_min, kinds, true, false);
    free(text);
}

/* The issue engine has found every issue of call seq: its row is written whole now. */
static void on_judged(void *user, uint64_t seq)
{
    struct analysis *a = user;
    struct pending_call *p = a->pending ? htab_remove(a->pending, pending_hash(seq), &seq) : NULL;
    if (p && p->have_call)
        write_whole_call(a, p);
    pending_free(p);
}

static int pending_by_seq(const void *x, const void *y)
{
    uint64_t p = (*(struct pending_call *const *)x)->seq, q = (*(struct pending_call *const *)y)->seq;
    return p < q ? -1 : p > q;
}

/* At the end: the rows still waiting (none, unless memory ran short), in call order. */
static void write_db_calls(struct analysis *a)
{
    size_t n = htab_count(a->pending), pos = 0, i = 0;
    struct pending_call **all = n ? malloc(n * sizeof *all) : NULL, *p;
    while ((p = htab_next(a->pending, &pos))) {
        if (all)
            all[i++] = p;
        else
            pending_free(p);
    }
    if (i)
        qsort(all, i, sizeof *all, pending_by_seq);
    for (size_t k = 0; k < i; k++) {
        if (all[k]->have_call)
            write_whole_call(a, all[k]);
        pending_free(all[k]);
    }
    free(all);
    htab_free(a->pending);
    a->pending = NULL;
}

/* On the writer thread, after each commit: what the database holds for sure (-vv). The
 * crash test reads these lines. */
static void on_db_commit(void *user, const struct store_counts *c)
{
    (void)user;
    log_debug("database: committed %llu calls (last " RENDER_CALL_FMT "), %llu streams, %llu "
              "registrations, %llu issues, %llu messages",
              (unsigned long long)c->new_calls, (unsigned long long)c->last_call_seq,
              (unsigned long long)c->rows[STORE_STREAM],
              (unsigned long long)c->rows[STORE_REGISTRATION],
              (unsigned long long)c->rows[STORE_ISSUE], (unsigned long long)c->rows[STORE_MESSAGE]);
}

static void report_db_loss(const char *path, const struct store_writer_stats *st)
{
    fprintf(stderr, "sipscope analyze: --db %s: not every record was stored:", path);
    for (int k = 0; k < STORE_KINDS; k++)
        if (st->dropped[k] || st->failed[k])
            fprintf(stderr, " %s %llu dropped, %llu failed;", store_kind_name(k),
                    (unsigned long long)st->dropped[k], (unsigned long long)st->failed[k]);
    fputc('\n', stderr);
}

/* The run as render/ sees it. */
static struct render_run run_of(const struct analysis *a, char **files, int nfiles,
                                const struct pipeline_result *res)
{
    struct render_run r = {.files = (const char *const *)files,
                           .nfiles = nfiles,
                           .cs = &res->cs,
                           .ds = &res->ds,
                           .ks = &res->ks,
                           .rtp_packets = res->rtp_packets,
                           .rtcp_packets = res->rtcp_packets,
                           .rtcp_errors = res->rtcp_errors,
                           .streams_evicted = res->streams_evicted,
                           .orphans_evicted = res->orphans_evicted,
                           .flows_evicted = res->flows_evicted,
                           .mem = &res->mem,
                           .max_calls = res->max_calls,
                           .max_transactions = res->max_transactions,
                           .max_media = res->max_media,
                           .max_registrations = res->max_registrations,
                           .max_streams = res->max_streams};
    memcpy(r.report_dropped, a->report_dropped, sizeof r.report_dropped);
    return r;
}

static void print_call_line(void *user, size_t i, FILE *out)
{
    const struct analysis *a = user;
    print_out_to(a->spill, &a->calls[i], out);
}

static void print_call_of(void *user, uint64_t seq, FILE *out)
{
    const struct analysis *a = user;
    struct call_out key = {.seq = seq};
    const struct call_out *c = bsearch(&key, a->calls, a->ncalls, sizeof *a->calls, by_seq);
    if (c) print_out_to(a->spill, c, out);
}

static void print_issue_lines(void *user, size_t i, FILE *out)
{
    const struct analysis *a = user;
    copy_out(a->spill, a->issues[i].off, a->issues[i].len, out);
}

/* The text report (render/text.h), its entries' text read back from the spill file. */
static void print_text(struct analysis *a, const struct render_run *run)
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

static bool set_max_calls(struct correlate_config *k, const char *v)
{
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    if (*end || n == 0 || *v == '-')
        return false;
    k->max_calls = (size_t)n;
    k->max_transactions = (size_t)n * 2;
    return true;
}

/* The figures so far into the metrics block, which goes to the web server whole. */
static void publish(struct analysis *a, const struct pipeline_result *r, bool live)
{
    struct web_metrics *m = &a->mx;
    m->live = live;
    m->packets = r->cs.packets;
    m->bytes = r->cs.bytes;
    m->dropped_kernel = r->cs.dropped;
    m->dropped_ring = r->cs.ring_dropped;
    m->duplicates = r->ds.duplicates;
    m->sip_messages = r->ds.sip_messages;
    m->rtp_packets = r->rtp_packets;
    m->rtcp_packets = r->rtcp_packets;
    memcpy(m->decode_errors, r->ds.errors, sizeof m->decode_errors);
    m->evicted_calls = r->ks.evicted_calls;
    m->evicted_transactions = r->ks.evicted_transactions;
    m->evicted_registrations = r->ks.evicted_registrations;
    m->evicted_media = r->ks.evicted_media;
    m->evicted_dns = r->ks.evicted_dns;
    m->evicted_streams = r->streams_evicted;
    m->evicted_orphans = r->orphans_evicted;
    m->evicted_flows = r->flows_evicted;
    m->evicted_fragments = r->ds.frag_evicted;
    m->evicted_tcp = r->ds.tcp_evicted;
    m->active_calls = r->active_calls;
    m->active_streams = r->active_streams;
    for (int t = 0; t < MEM__COUNT; t++)
        m->table_bytes[t] = t == MEM_REPORT ? a->report_bytes : r->mem.bytes[t];
    double asr = kpi_asr(a->kpi), ner = kpi_ner(a->kpi);
    m->asr = asr < 0 ? -1 : asr / 100;
    m->ner = ner < 0 ? -1 : ner / 100;
    if (a->dbw) {
        struct store_writer_stats ws;
        store_writer_stats(a->dbw, &ws);
        m->store_dropped = m->store_failed = 0;
        for (int k = 0; k < STORE_KINDS; k++) {
            m->store_dropped += ws.dropped[k];
            m->store_failed += ws.failed[k];
        }
    }
    if (a->web)
        web_publish(a->web, m);
}

/* capture --user: the interfaces are open (and the web socket bound): root is given up. */
static bool on_opened(void *user)
{
    struct analysis *a = user;
    char err[512];
    if (service_drop_privileges(a->run_as, a->dbpath, err, sizeof err))
        return true;
    log_error("%s", err);
    return false;
}

static void on_tick(void *user, ptime_t now, const struct pipeline_result *sofar)
{
    (void)now;
    publish(user, sofar, true);
}

static volatile sig_atomic_t stop_serving;

static void on_stop(int sig)
{
    (void)sig;
    stop_serving = 1;
}

/* After the analysis, with --serve: until SIGINT or SIGTERM (whichever thread gets it). */
static void wait_for_stop(void)
{
    signal(SIGINT, on_stop);
    signal(SIGTERM, on_stop);
    while (!stop_serving) {
        struct timespec t = {0, 200000000L};
        nanosleep(&t, NULL);
    }
}

static const char capture_usage[] =
    "Usage: sipscope capture -i IFACE [-i IFACE...] [OPTIONS]\n"
    "\n"
    "Follows live interfaces (\"any\" for all) until SIGINT or SIGTERM, then reports like\n"
    "analyze. Calls and streams are handed on (to --db, --serve) as they end: a stream\n"
    "after --stream-idle seconds without packets, a call --stream-idle seconds after\n"
    "its BYE or final answer (its row complete once its streams have ended too).\n"
    "\n"
    "  -i, --interface IFACE  capture here (repeatable)\n"
    "      --hep-listen ADDR:PORT  take HEPv2/v3 over UDP here instead (from Kamailio,\n"
    "                         OpenSIPS, FreeSWITCH, heplify or sipscope --hep-out)\n"
    "  -f, --filter BPF       a capture filter (tcpdump syntax)\n"
    "      --snaplen N        bytes kept of each packet (default 262144)\n"
    "      --buffer-mb N      the kernel's capture buffer (default 64)\n"
    "      --ring-mb N        packets waiting for the analysis, at most (default 64, rounded\n"
    "                         up to a power of two); past it they are dropped and counted\n"
    "                         in capture.dropped\n"
    "      --no-promisc       do not put the interfaces in promiscuous mode\n"
    "      --stream-idle S    a stream ends after S seconds without packets (default 10)\n"
    "      --user NAME        once the interfaces are open, run as NAME (it is handed\n"
    "                         the --db files); root cannot be taken back\n"
    "      --syslog           log to syslog (facility daemon) instead of stderr\n"
    "      --log-file F       log to F instead of stderr; SIGHUP reopens it (logrotate)\n"
    "  and every option of analyze (sipscope analyze --help): --json, --db, --serve, ...\n"
    "\n"
    "Exit status: 0 stopped by a signal, 1 an interface could not be opened, 2 bad usage.\n";

static int analyze_main(int argc, char **argv, bool live);

/* The settings of a --config file, as options placed before the command line's (which
 * therefore win): "key = value" is --key=value, "key = yes" a bare --key, and a
 * threshold's name --threshold=NAME=VALUE. So every option has a key, by construction. */
struct config_args {
    char **v;
    size_t n, cap;
};

static bool push_arg(struct config_args *c, char *arg)
{
    if (!arg || !vec_grow((void **)&c->v, &c->cap, c->n, sizeof *c->v, 16)) {
        free(arg);
        return false;
    }
    c->v[c->n++] = arg;
    return true;
}

static bool config_arg(void *user, const char *key, const char *value, const char **why)
{
    struct config_args *c = user;
    struct issue_config probe;
    issue_config_default(&probe);
    const char *no = NULL;
    char *arg = NULL;
    if (!strcmp(key, "config")) {
        *why = "a config file cannot name another";
        return false;
    }
    if (issue_config_set(&probe, key, value, &no) || strcmp(no, "no such threshold")) {
        if (asprintf(&arg, "--threshold=%s=%s", key, value) < 0)
            arg = NULL;
    } else if (!strcmp(value, "yes") || !strcmp(value, "true") || !strcmp(value, "on")) {
        if (asprintf(&arg, "--%s", key) < 0)
            arg = NULL;
    } else if (!strcmp(value, "no") || !strcmp(value, "false") || !strcmp(value, "off")) {
        return true; /* an option left off */
    } else if (asprintf(&arg, "--%s=%s", key, value) < 0) {
        arg = NULL;
    }
    *why = "out of memory";
    return push_arg(c, arg);
}

static int with_config(int argc, char **argv, bool live)
{
    const char *path = NULL;
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
        if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) && i + 1 < argc)
            path = argv[i + 1];
        else if (!strncmp(argv[i], "--config=", 9))
            path = argv[i] + 9;
        else if (!strncmp(argv[i], "-c", 2) && argv[i][2])
            path = argv[i] + 2;
    }
    if (!path)
        return analyze_main(argc, argv, live);
    struct config_args c = {0};
    char err[512];
    int rc = 2;
    if (!push_arg(&c, strdup(argv[0])) || !config_load(path, config_arg, &c, err, sizeof err)) {
        fprintf(stderr, "sipscope %s: %s\n", live ? "capture" : "analyze",
                c.n ? err : "out of memory");
    } else {
        bool ok = true;
        for (int i = 1; ok && i < argc; i++)
            ok = push_arg(&c, strdup(argv[i]));
        /* argv ends with NULL, as getopt expects */
        if (ok && vec_grow((void **)&c.v, &c.cap, c.n, sizeof *c.v, 16)) {
            c.v[c.n] = NULL;
            rc = analyze_main((int)c.n, c.v, live);
        } else {
            fputs("sipscope: out of memory\n", stderr);
        }
    }
    for (size_t i = 0; i < c.n; i++)
        free(c.v[i]);
    free(c.v);
    return rc;
}

int cmd_analyze(int argc, char **argv)
{
    return with_config(argc, argv, false);
}

int cmd_capture(int argc, char **argv)
{
    return with_config(argc, argv, true);
}

static int analyze_main(int argc, char **argv, bool live)
{
    const char *cmd = live ? "capture" : "analyze", *usage = live ? capture_usage : analyze_usage;
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},        {"progress", no_argument, NULL, 'P'},
        {"messages", no_argument, NULL, 'M'},    {"max-calls", required_argument, NULL, 'C'},
        {"no-progress", no_argument, NULL, 'N'}, {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},        {"timelines", no_argument, NULL, 'T'},
        {"config", required_argument, NULL, 'c'}, {"threshold", required_argument, NULL, 't'},
        {"thresholds", no_argument, NULL, 'L'},  {"db", required_argument, NULL, 'D'},
        {"db-queue-mb", required_argument, NULL, 'Q'},
        {"db-overflow", required_argument, NULL, 'O'},
        {"db-no-raw", no_argument, NULL, 'R'},
        {"retention-days", required_argument, NULL, 'A'},
        {"max-db-mb", required_argument, NULL, 'S'},
        {"spool-rtp", no_argument, NULL, 'W'},
        {"serve", required_argument, NULL, 'H'},
        {"interface", required_argument, NULL, 'i'},
        {"filter", required_argument, NULL, 'f'},
        {"snaplen", required_argument, NULL, 1001},
        {"buffer-mb", required_argument, NULL, 1002},
        {"ring-mb", required_argument, NULL, 1003},
        {"no-promisc", no_argument, NULL, 1004},
        {"stream-idle", required_argument, NULL, 1005},
        {"hep-listen", required_argument, NULL, 1006},
        {"hep-out", required_argument, NULL, 1007},
        {"hep-id", required_argument, NULL, 1008},
        {"user", required_argument, NULL, 1009},
        {"syslog", no_argument, NULL, 1010},
        {"log-file", required_argument, NULL, 1011},
        {"show-credentials", no_argument, NULL, 1012},
        {"keep-duplicates", no_argument, NULL, 1013},
        {"report-max", required_argument, NULL, 1014},
        {"max-memory-mb", required_argument, NULL, 1015},
        {"spool-days", required_argument, NULL, 'Y'},
        {NULL, 0, NULL, 0},
    };
    bool json = false, messages = false, timelines = false, list = false, db_no_raw = false;
    bool spool = false;
    const char *serve = NULL;
    bool show_credentials = false, keep_duplicates = false;
    size_t report_max = SIZE_MAX; /* SIZE_MAX: the default, from the memory budget */
    uint64_t max_memory_mb = MEM_DEFAULT_MB;
    bool max_calls_given = false;
    struct correlate_config kcfg;
    correlate_config_default(&kcfg);
    struct issue_config icfg;
    issue_config_default(&icfg);
    const char *dbpath = NULL;
    uint64_t first_stream = 0;
    struct store_writer_config wcfg = {.overflow = STORE_OVERFLOW_WAIT};
    char **thresholds = calloc((size_t)argc + 1, sizeof *thresholds);
    size_t nthr = 0;
    const char *ifaces[16]; /* capture -i, at most 16 */
    size_t nifaces = 0;
    struct live_config lcfg = {.promisc = true};
    const char *hep_to = NULL, *run_as = NULL, *log_file = NULL;
    uint32_t hep_id = 2001;
    bool use_syslog = false;
    ptime_t stream_idle = 0;
    int progress = -1, verbose = 0, ch;
    if (!thresholds) {
        fputs("sipscope analyze: out of memory\n", stderr);
        return 1;
    }

    optind = 1;
    while ((ch = getopt_long(argc, argv, live ? "jvhc:t:i:f:" : "jvhc:t:", opts, NULL)) != -1) {
        if (!live && (ch == 'i' || ch == 'f' || (ch >= 1001 && ch <= 1006) || ch == 1009)) {
            fprintf(stderr, "sipscope analyze: that option is for sipscope capture\n");
            free(thresholds);
            return 2;
        }
        switch (ch) {
        case 'i':
            if (nifaces == sizeof ifaces / sizeof *ifaces) {
                fputs("sipscope capture: at most 16 interfaces (or -i any)\n", stderr);
                free(thresholds);
                return 2;
            }
            ifaces[nifaces++] = optarg;
            break;
        case 'f': lcfg.filter = optarg; break;
        case 1004: lcfg.promisc = false; break;
        case 1006: lcfg.hep_listen = optarg; break;
        case 1009: run_as = optarg; break;
        case 1010: use_syslog = true; break;
        case 1011: log_file = optarg; break;
        case 1012: show_credentials = true; break;
        case 1013: keep_duplicates = true; break;
        case 1014: {
            char *end;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (*end || !*optarg || *optarg == '-') {
                fprintf(stderr, "sipscope %s: --report-max wants a number\n", cmd);
                free(thresholds);
                return 2;
            }
            report_max = (size_t)v;
            break;
        }
        case 1007: hep_to = optarg; break;
        case 1008: {
            char *end;
            unsigned long id = strtoul(optarg, &end, 10);
            if (*end || *optarg == '-' || id > 0xffffffffUL) {
                fputs("sipscope: --hep-id wants a number\n", stderr);
                free(thresholds);
                return 2;
            }
            hep_id = (uint32_t)id;
            break;
        }
        case 1001:
        case 1002:
        case 1003:
        case 1005: {
            char *end;
            double v = strtod(optarg, &end);
            if (*end || !(v > 0 && v <= (ch == 1001 ? 262144 : 65536))) {
                fprintf(stderr, "sipscope capture: %s wants a positive number\n", argv[optind - 1]);
                free(thresholds);
                return 2;
            }
            if (ch == 1001)
                lcfg.snaplen = (int)v;
            else if (ch == 1002)
                lcfg.buffer_mb = (int)v;
            else if (ch == 1003)
                lcfg.ring_bytes = (size_t)(v * 1048576);
            else
                stream_idle = (ptime_t)(v * 1e9);
            break;
        }
        case 'j': json = true; break;
        case 'M': messages = true; break;
        case 'T': timelines = true; break;
        case 'C':
            if (!set_max_calls(&kcfg, optarg)) {
                fprintf(stderr, "sipscope analyze: --max-calls wants a positive number\n");
                free(thresholds);
                return 2;
            }
            max_calls_given = true;
            break;
        case 1015: {
            char *end;
            unsigned long long mb = strtoull(optarg, &end, 10);
            if (*end || mb < 16 || mb > (1ull << 24) || *optarg == '-') {
                fprintf(stderr, "sipscope %s: --max-memory-mb wants 16 to 16777216\n", cmd);
                free(thresholds);
                return 2;
            }
            max_memory_mb = mb;
            break;
        }
        case 'c': break; /* applied before the command line by with_config() */
        case 'D': dbpath = optarg; break;
        case 'Q': {
            char *end;
            unsigned long mb = strtoul(optarg, &end, 10);
            if (*end || mb == 0 || mb > 65536 || *optarg == '-') {
                fputs("sipscope analyze: --db-queue-mb wants 1 to 65536\n", stderr);
                free(thresholds);
                return 2;
            }
            wcfg.queue_bytes = (size_t)mb << 20;
            break;
        }
        case 'O':
            if (strcmp(optarg, "wait") && strcmp(optarg, "shed")) {
                fputs("sipscope analyze: --db-overflow wants wait or shed\n", stderr);
                free(thresholds);
                return 2;
            }
            wcfg.overflow = strcmp(optarg, "shed") ? STORE_OVERFLOW_WAIT : STORE_OVERFLOW_SHED;
            break;
        case 'R': db_no_raw = true; break;
        case 'W': spool = true; break;
        case 'H': serve = optarg; break;
        case 'A':
        case 'Y': {
            char *end;
            double d = strtod(optarg, &end);
            if (*end || !(d > 0 && d < 1e6)) {
                fprintf(stderr, "sipscope analyze: --%s wants a positive number\n",
                        ch == 'A' ? "retention-days" : "spool-days");
                free(thresholds);
                return 2;
            }
            *(ch == 'A' ? &wcfg.retention.max_age_s : &wcfg.retention.media_max_age_s) = d * 86400;
            break;
        }
        case 'S': {
            char *end;
            double mb = strtod(optarg, &end);
            if (*end || !(mb > 0 && mb < 1e9)) {
                fputs("sipscope analyze: --max-db-mb wants a positive number\n", stderr);
                free(thresholds);
                return 2;
            }
            wcfg.retention.max_bytes = (uint64_t)(mb * 1048576);
            break;
        }
        case 't': thresholds[nthr++] = optarg; break;
        case 'L': list = true; break;
        case 'P': progress = 1; break;
        case 'N': progress = 0; break;
        case 'v': verbose++; break;
        case 'h': fputs(usage, stdout); free(thresholds); return 0;
        default: fputs(usage, stderr); free(thresholds); return 2;
        }
    }
    if (show_credentials && !serve) {
        fputs("sipscope analyze: --show-credentials goes with --serve\n", stderr);
        free(thresholds);
        return 2;
    }
    if (!dbpath && (spool || db_no_raw || serve || wcfg.retention.max_age_s > 0 ||
                    wcfg.retention.max_bytes || wcfg.retention.media_max_age_s > 0)) {
        fputs("sipscope analyze: --serve, --spool-rtp, --spool-days, --db-no-raw, "
              "--retention-days and --max-db-mb need --db\n", stderr);
        free(thresholds);
        return 2;
    }
    char err[512];
    for (size_t i = 0; i < nthr; i++) {
        char *eq = strchr(thresholds[i], '=');
        const char *why = "wants NAME=VALUE";
        if (eq)
            *eq = '\0';
        if (!eq || !issue_config_set(&icfg, thresholds[i], eq + 1, &why)) {
            fprintf(stderr, "sipscope analyze: --threshold %s: %s\n", thresholds[i], why);
            free(thresholds);
            return 2;
        }
    }
    free(thresholds);
    if (list) {
        issue_config_print(stdout, &icfg);
        return 0;
    }
    if (!live && optind >= argc) {
        fputs("sipscope analyze: no input file\n\n", stderr);
        fputs(analyze_usage, stderr);
        return 2;
    }
    if (live && ((!nifaces == !lcfg.hep_listen) || optind < argc)) {
        fputs(optind < argc ? "sipscope capture: no files: it reads interfaces\n\n"
              : nifaces     ? "sipscope capture: -i or --hep-listen, not both\n\n"
                            : "sipscope capture: no interface (-i) or --hep-listen\n\n",
              stderr);
        fputs(capture_usage, stderr);
        return 2;
    }
    log_set_level(verbose >= 2 ? LOG_DEBUG : verbose ? LOG_INFO : LOG_WARN);
    if (use_syslog)
        service_log_syslog();
    if (log_file && !service_log_file(log_file, err, sizeof err)) {
        fprintf(stderr, "sipscope %s: %s\n", cmd, err);
        return 1;
    }

    /* one budget, shared out (common/membudget.h); explicit limits stay as given */
    struct mem_budget budget;
    mem_budget_init(&budget, max_memory_mb << 20);
    correlate_config_budget(&kcfg, &budget, max_calls_given);
    if (report_max == SIZE_MAX) { /* a list may reach twice its limit before it is cut */
        size_t n = mem_budget_entries(&budget, MEM_REPORT, 2 * sizeof(struct issue_out), 1000);
        report_max = live && n > LIVE_REPORT_MAX ? LIVE_REPORT_MAX : n;
    }
    /* for a live capture, the report's "files" are the interfaces */
    char **files = live ? (char **)ifaces : argv + optind;
    int nfiles = live ? (int)nifaces : argc - optind;
    struct analysis a = {.messages = messages && json ? json_array() : NULL, .json = json,
                         .timelines = timelines, .db_no_raw = db_no_raw, .db_run = -1,
                         .report_max = report_max};
    if (!(a.kpi = malloc(sizeof *a.kpi))) {
        fputs("sipscope analyze: out of memory\n", stderr);
        json_decref(a.messages);
        return 1;
    }
    kpi_init(a.kpi);
    if (hep_to && !(a.hep = hep_out_open(hep_to, hep_id, getenv("SIPSCOPE_HEP_KEY"), live, err,
                                        sizeof err))) {
        fprintf(stderr, "sipscope %s: %s\n", cmd, err);
        json_decref(a.messages);
        free(a.kpi);
        return 1;
    }
    if (dbpath) {
        if (!(a.db = store_open(dbpath, err, sizeof err))) {
            fprintf(stderr, "sipscope analyze: --db %s\n", err);
            hep_out_close(a.hep, NULL);
            json_decref(a.messages);
            free(a.kpi);
            return 1;
        }
        /* a database may hold earlier analyses: this one's calls and streams are
         * numbered after theirs, so ids stay unique in the file and the same in the
         * output */
        kcfg.first_call_seq = store_max_call_seq(a.db);
        first_stream = store_max_stream_seq(a.db);
        if ((a.db_run = store_run_begin(a.db, (double)time(NULL), kcfg.first_call_seq + 1)) < 0)
            log_warn("database: %s", store_error(a.db)); /* the run's row only; go on */
        wcfg.on_commit = on_db_commit;
        if (!(a.pending = htab_new(SIZE_MAX / 8, pending_eq)) ||
            !(a.dbw = store_writer_start(a.db, &wcfg, err, sizeof err))) {
            fprintf(stderr, "sipscope analyze: --db %s\n", a.pending ? err : "out of memory");
            htab_free(a.pending);
            store_close(a.db);
            hep_out_close(a.hep, NULL);
            json_decref(a.messages);
            free(a.kpi);
            return 1;
        }
        if (serve) {
            struct web_config web = {.db = dbpath, .listen = serve,
                                     .show_credentials = show_credentials};
            web.token = getenv("SIPSCOPE_TOKEN");
            web.basic = getenv("SIPSCOPE_USER");
            if (!(a.web = web_start(&web, err, sizeof err))) {
                fprintf(stderr, "sipscope %s: --serve %s\n", cmd, err);
                store_writer_stop(a.dbw, NULL);
                htab_free(a.pending); /* empty: nothing was analysed yet */
                store_close(a.db);
                hep_out_close(a.hep, NULL);
                json_decref(a.messages);
                free(a.kpi);
                return 1;
            }
            fprintf(stderr, "sipscope %s: serving http on port %u\n", cmd, web_port(a.web));
        }
        if (spool && !(a.spool = media_spool_new(a.dbw, 0, 0, kcfg.max_calls)))
            log_warn("media spool: out of memory; media not kept");
    }
    if (!(a.eng = issues_new(&icfg, on_issue, &a))) {
        fputs("sipscope analyze: out of memory\n", stderr);
        free(a.kpi);
        json_decref(a.messages);
        return 1;
    }
    issues_on_judged(a.eng, on_judged); /* --db: rows written whole as calls are judged */
    if (messages)
        a.sdp = malloc(sizeof *a.sdp); /* NULL: messages show no SDP, nothing worse */
    if (!(a.spill = tmpfile())) {
        issues_free(a.eng);
        free(a.kpi);
        free(a.sdp);
        fprintf(stderr, "sipscope analyze: cannot create a temporary file: %s\n", strerror(errno));
        json_decref(a.messages);
        return 1;
    }
    struct pipeline_handlers h = {.sip = on_sip, .call = on_call_done, .reg = on_reg_done,
                                  .stream = on_stream_done, .settle = on_settle, .user = &a,
                                  .media = a.spool ? on_media : NULL,
                                  .rtcp = a.hep ? on_rtcp : NULL,
                                  .first_stream_seq = first_stream};
    h.stream_idle = stream_idle;
    h.keep_duplicates = keep_duplicates;
    h.budget = &budget;
    h.tick = on_tick;
    if (live && a.dbw)
        h.call_progress = on_call_progress;
    if (run_as) {
        a.run_as = run_as;
        a.dbpath = dbpath;
        h.opened = on_opened;
    }
    struct pipeline_result res;
    if (live ? pipeline_run_live(ifaces, nifaces, &lcfg, &kcfg, &h, &res, err, sizeof err)
             : pipeline_run(files, nfiles, &kcfg, &h,
                            progress < 0 ? isatty(STDERR_FILENO) : progress, &res, err,
                            sizeof err)) {
        fprintf(stderr, "sipscope %s: %s\n", cmd, err);
        json_decref(a.messages);
        fclose(a.spill);
        issues_free(a.eng);
        free(a.kpi);
        free(a.sdp);
        return 1;
    }
    res.mem.bytes[MEM_REPORT] = a.report_bytes;
    res.mem.peak[MEM_REPORT] = a.report_peak;
    if (res.interrupted && !live)
        log_warn("interrupted: reporting what was read so far");
    if (live)
        log_info("capture stopped: %llu packets analysed, %llu dropped by the kernel, %llu by "
                 "our ring", (unsigned long long)res.cs.packets,
                 (unsigned long long)res.cs.dropped, (unsigned long long)res.cs.ring_dropped);
    if (live && (res.cs.dropped || res.cs.ring_dropped))
        log_warn("capture: %llu packets dropped by the kernel, %llu by our ring (analysis "
                 "behind)", (unsigned long long)res.cs.dropped,
                 (unsigned long long)res.cs.ring_dropped);
    issues_finish(a.eng, res.cs.last_ts); /* calls waiting for their media are judged */
    publish(&a, &res, live);
    if (a.hep) {
        struct hep_out_counts n;
        hep_out_close(a.hep, &n);
        a.hep = NULL;
        log_info("HEP out: %llu SIP messages sent, %llu not; %llu RTCP packets, %llu not; "
                 "%llu stream reports, %llu not",
                 (unsigned long long)n.sent[HEP_OUT_SIP], (unsigned long long)n.failed[HEP_OUT_SIP],
                 (unsigned long long)n.sent[HEP_OUT_RTCP], (unsigned long long)n.failed[HEP_OUT_RTCP],
                 (unsigned long long)n.sent[HEP_OUT_REPORT],
                 (unsigned long long)n.failed[HEP_OUT_REPORT]);
        uint64_t failed = n.failed[HEP_OUT_SIP] + n.failed[HEP_OUT_RTCP] + n.failed[HEP_OUT_REPORT];
        if (failed)
            log_warn("HEP out: %llu packets could not be sent", (unsigned long long)failed);
    }
    if (a.report_max) { /* exactly the newest report_max of each list (in the order ended) */
        trim_to(&a, a.calls, &a.ncalls, sizeof *a.calls, REPORT_CALLS);
        trim_to(&a, a.streams, &a.nstreams, sizeof *a.streams, REPORT_STREAMS);
        trim_to(&a, a.regs, &a.nregs, sizeof *a.regs, REPORT_REGISTRATIONS);
        trim_to(&a, a.issues, &a.nissues, sizeof *a.issues, REPORT_ISSUES);
    }
    if (a.ncalls) /* qsort(NULL, 0, ...) is undefined */
        qsort(a.calls, a.ncalls, sizeof *a.calls, by_seq); /* in order of first INVITE */
    if (a.nregs)
        qsort(a.regs, a.nregs, sizeof *a.regs, by_seq);
    if (a.nstreams)
        qsort(a.streams, a.nstreams, sizeof *a.streams, by_seq);
    fflush(a.spill);
    struct render_run run = run_of(&a, files, nfiles, &res);
    int rc = 0;
    if (a.db) {
        struct media_spool_stats ms;
        media_spool_free(a.spool, &ms);
        if (a.spool)
            log_info("media spool: %llu frames (%llu bytes) of calls kept in %llu chunks, "
                     "%llu not kept", (unsigned long long)ms.packets,
                     (unsigned long long)ms.bytes, (unsigned long long)ms.chunks,
                     (unsigned long long)ms.dropped);
        a.spool = NULL;
        write_db_calls(&a);
        if (!store_writer_stop(a.dbw, &a.dbstats))
            a.db_failed = true;
        a.dbw = NULL;
        if (a.db_run >= 0) {
            json_t *o = json_pack("{s:o, s:o}", "capture", render_capture_json(&run), "stats",
                                  render_stats_json(a.kpi));
            char *text = o ? json_text(o) : NULL;
            if (!store_run_end(a.db, a.db_run, (double)time(NULL), store_max_call_seq(a.db), text))
                log_warn("database: %s", store_error(a.db));
            free(text);
            json_decref(o);
        }
        if (!store_close(a.db))
            a.db_failed = true;
        a.db = NULL;
        if (a.db_failed) {
            report_db_loss(dbpath, &a.dbstats);
            rc = 1;
        }
    }

    if (json)
        rc |= print_json(&run, a.messages, &a);
    else
        print_text(&a, &run);
    json_decref(a.messages);
    free(a.calls);
    free(a.regs);
    free(a.streams);
    free(a.issues);
    issues_free(a.eng);
    fclose(a.spill);
    free(a.kpi);
    free(a.sdp);
    if (a.web && !live) { /* a capture was stopped by the signal that ends it all */
        fflush(stdout);
        fprintf(stderr, "sipscope analyze: done; serving on port %u until Ctrl-C\n",
                web_port(a.web));
        wait_for_stop();
    }
    web_stop(a.web);
    return rc;
}
