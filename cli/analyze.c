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
#include "render/ids.h"
#include "render/jsontext.h"
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

static json_t *time_or_null(bool have, ptime_t t)
{
    return have ? json_real(ptime_to_epoch_s(t)) : json_null();
}

static void set_u64(json_t *o, const char *key, uint64_t v)
{
    json_object_set_new(o, key, json_integer((json_int_t)v));
}

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
    uint64_t by_severity[3];
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
    struct call_out *streams; /* owned */
    size_t nstreams, capstreams;
    struct issue_out *issues; /* owned: as JSON */
    size_t nissues, capissues;
};

static json_t *sv_json(struct sv v)
{
    return v.p ? json_stringn(v.p, v.n) : json_null();
}

/* A header value as text: folded lines joined (RFC 3261 §7.3.1), invalid UTF-8 replaced
 * by Jansson's refusal, so the document stays valid. */
static json_t *hdr_json(const struct sip_msg *m, enum sip_hdr_id id)
{
    const struct sip_header *h = sip_hdr(m, id);
    if (!h)
        return json_null();
    char buf[1024];
    size_t n = sip_unfold(h->value, buf, sizeof buf);
    json_t *s = json_stringn(buf, n);
    return s ? s : json_string("(not UTF-8)");
}

/* The SDP of a message, when it has one: media lines with address, port, codecs and
 * direction (added to the contract's message object). */
static json_t *sdp_json(const struct sip_msg *m, struct sdp *scratch)
{
    struct sv body;
    if (!scratch || !sip_body_sdp(m, &body, NULL) || !sdp_parse(body.p, body.n, scratch))
        return json_null();
    const struct sdp *s = scratch;
    json_t *media = json_array();
    for (unsigned i = 0; i < s->nmedia; i++) {
        const struct sdp_media *md = &s->media[i];
        json_t *codecs = json_array();
        for (unsigned k = 0; k < md->nfmt; k++)
            json_array_append_new(codecs, md->fmt[k].encoding.p ? sv_json(md->fmt[k].encoding)
                                                                : json_integer(md->fmt[k].pt));
        json_t *o = json_object();
        json_object_set_new(o, "media", sv_json(md->media));
        json_object_set_new(o, "addr", sv_json(md->addr));
        json_object_set_new(o, "port", json_integer(md->port));
        json_object_set_new(o, "proto", sv_json(md->proto));
        json_object_set_new(o, "codecs", codecs);
        json_object_set_new(o, "direction", json_string(sdp_direction_name(md->dir)));
        json_array_append_new(media, o);
    }
    json_t *o = json_object();
    json_object_set_new(o, "media", media);
    json_object_set_new(o, "malformed", json_boolean(s->malformed));
    return o;
}

static json_t *str_or_null(const char *s)
{
    json_t *j = s ? json_string(s) : NULL;
    return j ? j : json_null();
}

static json_t *ms_since(ptime_t from, ptime_t to)
{
    return from && to ? json_real((double)((to - from) / 1000) / 1000.0) : json_null();
}

static json_t *addr_json(const struct call_addr *a)
{
    return json_pack("{s:o, s:o, s:o}", "display", str_or_null(a->display), "uri",
                     str_or_null(a->uri), "user", str_or_null(a->user));
}

/* Added (issue 12): the call's path, one entry per copy of its initial INVITE on the wire,
 * with the responses that came back on it, times from that copy. */
static json_t *path_json(const struct call *c)
{
    static const char *const how[] = {"first", "via", "address", "order", "same_branch"};
    json_t *a = json_array();
    for (unsigned i = 0; i < c->nsegs; i++) {
        const struct call_seg *s = &c->segs[i];
        char src[IP_ADDR_PORT_STRLEN], dst[IP_ADDR_PORT_STRLEN];
        ip_addr_port_str(&s->src, s->sport, src, sizeof src);
        ip_addr_port_str(&s->dst, s->dport, dst, sizeof dst);
        json_t *o = json_object();
        json_object_set_new(o, "from", json_string(src));
        json_object_set_new(o, "to", json_string(dst));
        json_object_set_new(o, "time", time_or_null(true, s->time));
        set_u64(o, "frame", s->frame);
        set_u64(o, "cseq", s->cseq);
        json_object_set_new(o, "leg", json_integer(s->leg));
        json_object_set_new(o, "vias", json_integer(s->nvia));
        json_object_set_new(o, "forwards", s->parent >= 0 ? json_integer(s->parent) : json_null());
        json_object_set_new(o, "matched_by", s->parent >= 0 ? json_string(how[s->match]) : json_null());
        set_u64(o, "retransmissions", s->copies);
        json_object_set_new(o, "trying_ms", ms_since(s->time, s->trying_time));
        json_object_set_new(o, "provisional_ms", ms_since(s->time, s->prov_time));
        json_object_set_new(o, "provisional_status", s->prov_status ? json_integer(s->prov_status) : json_null());
        json_object_set_new(o, "final_ms", ms_since(s->time, s->final_time));
        json_object_set_new(o, "final_status", s->final_status ? json_integer(s->final_status) : json_null());
        json_array_append_new(a, o);
    }
    return a;
}

/* Added (issue 12): each hop that forwarded the INVITE: how long it held it, how long its
 * downstream took to answer (1xx or final, 100 aside), and how long it took to pass that
 * answer back. */
static json_t *hops_json(const struct call *c)
{
    json_t *a = json_array();
    for (unsigned i = 0; i < c->nsegs; i++) {
        const struct call_seg *out = &c->segs[i];
        if (out->parent < 0)
            continue;
        const struct call_seg *in = &c->segs[out->parent];
        char host[IP_ADDR_PORT_STRLEN];
        ip_addr_port_str(&in->dst, in->dport, host, sizeof host);
        ptime_t down = call_seg_answered(out), up = call_seg_answered(in);
        json_t *o = json_object();
        json_object_set_new(o, "host", json_string(host));
        char from[IP_ADDR_PORT_STRLEN];
        ip_addr_port_str(&out->src, out->sport, from, sizeof from);
        json_object_set_new(o, "sent_from", json_string(from)); /* an SBC's other side */
        json_object_set_new(o, "in", json_integer(out->parent));
        json_object_set_new(o, "out", json_integer(i));
        json_object_set_new(o, "held_ms", ms_since(in->time, out->time));
        json_object_set_new(o, "downstream_ms", ms_since(out->time, down));
        json_object_set_new(o, "relay_ms", down && up >= down ? ms_since(down, up) : json_null());
        json_array_append_new(a, o);
    }
    return a;
}

/* Added (issue 12): the DNS look-ups tied to the call. */
static json_t *dns_json(const struct call *c)
{
    json_t *a = json_array();
    for (unsigned i = 0; i < c->ndns; i++) {
        const struct call_dns *d = &c->dns[i];
        char host[IP_ADDR_PORT_STRLEN], server[IP_ADDR_PORT_STRLEN], rc[16], type[16];
        ip_addr_str(&d->host, host, sizeof host);
        ip_addr_str(&d->server, server, sizeof server);
        const char *tn = dns_type_label(d->qtype, type, sizeof type);
        json_t *frames = json_array();
        json_array_append_new(frames, json_integer((json_int_t)d->query_frame));
        if (d->answer_frame)
            json_array_append_new(frames, json_integer((json_int_t)d->answer_frame));
        json_t *o = json_object();
        json_object_set_new(o, "host", json_string(host));
        json_object_set_new(o, "server", json_string(server));
        json_object_set_new(o, "name", json_string(d->qname));
        json_object_set_new(o, "type", json_string(tn));
        json_object_set_new(o, "time", time_or_null(true, d->query_time));
        json_object_set_new(o, "answer_time", time_or_null(d->answer_time, d->answer_time));
        json_object_set_new(o, "duration_ms", ms_since(d->query_time, d->answer_time));
        json_object_set_new(o, "tries", json_integer(d->tries));
        json_object_set_new(o, "rcode", d->rcode >= 0 ? json_string(dns_rcode_name((uint8_t)d->rcode, rc, sizeof rc)) : json_null());
        json_object_set_new(o, "timed_out", json_boolean(d->timed_out));
        json_object_set_new(o, "answers", json_integer(d->answers));
        json_object_set_new(o, "answer", d->answer[0] ? json_string(d->answer) : json_null());
        json_object_set_new(o, "frames", frames);
        json_object_set_new(o, "segment", json_integer(d->seg));
        json_object_set_new(o, "asked_by", json_string(d->by_receiver ? "receiver" : "sender"));
        json_object_set_new(o, "next_frame", d->next_frame ? json_integer((json_int_t)d->next_frame) : json_null());
        json_object_set_new(o, "wait_ms", ms_since(d->query_time, d->next_time));
        json_array_append_new(a, o);
    }
    return a;
}


/* A call as OUTPUT.md's calls[] entry. streams, mos_min and issues are null (unknown)
 * until the RTP and issue layers exist. */
static json_t *call_json(const struct call *c)
{
    char id[32], caller[IP_ADDR_PORT_STRLEN], callee[IP_ADDR_PORT_STRLEN];
    snprintf(id, sizeof id, "call-%llu", (unsigned long long)c->seq);
    ip_addr_port_str(&c->caller_ip, c->caller_port, caller, sizeof caller);
    ip_addr_port_str(&c->callee_ip, c->callee_port, callee, sizeof callee);
    json_t *codecs = json_array();
    for (const char *p = c->codecs ? c->codecs : ""; *p;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        json_array_append_new(codecs, json_stringn(p, n));
        p += n + (e ? 1 : 0);
    }
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(id));
    json_object_set_new(o, "call_id", str_or_null(c->call_id));
    json_t *legs = json_array();
    for (unsigned i = 0; i <= c->nlegs; i++) { /* leg 0: the call's own */
        const struct call_leg *g =
            i ? &c->legs[i] : &(struct call_leg){c->call_id, c->from_tag, c->to_tag, 0};
        json_array_append_new(legs, json_pack("{s:o, s:o, s:o}", "call_id",
                                              str_or_null(g->call_id), "from_tag",
                                              str_or_null(g->from_tag), "to_tag",
                                              str_or_null(g->to_tag)));
    }
    json_object_set_new(o, "legs", legs);
    json_object_set_new(o, "from", addr_json(&c->from));
    json_object_set_new(o, "to", addr_json(&c->to));
    json_object_set_new(o, "caller", json_string(caller));
    json_object_set_new(o, "callee", json_string(callee));
    json_object_set_new(o, "state", json_string(call_state_name(c->state)));
    json_object_set_new(o, "final_status", c->final_status ? json_integer(c->final_status) : json_null());
    json_object_set_new(o, "reason", str_or_null(c->reason));
    json_object_set_new(o, "invite_time", time_or_null(true, c->invite_time));
    json_object_set_new(o, "ringing_time", time_or_null(c->ringing_time, c->ringing_time));
    json_object_set_new(o, "answer_time", time_or_null(c->answer_time, c->answer_time));
    json_object_set_new(o, "end_time", time_or_null(c->end_time, c->end_time));
    json_object_set_new(o, "ended_by", str_or_null(call_party_name(c->ended_by)));
    json_object_set_new(o, "pdd_ms", ms_since(c->invite_time, c->ringing_time));
    json_object_set_new(o, "setup_ms", ms_since(c->invite_time, c->answer_time));
    json_object_set_new(o, "duration_s",
                        c->answer_time && c->end_time
                            ? json_real((double)((c->end_time - c->answer_time) / 1000) / 1e6)
                            : json_null());
    json_object_set_new(o, "messages", json_integer(c->messages));
    json_object_set_new(o, "retransmissions", json_integer(c->retransmissions));
    json_object_set_new(o, "challenges", json_integer(c->challenges)); /* added: 401/407 */
    json_t *holds = json_array(), *transfers = json_array(); /* added */
    for (unsigned i = 0; i < c->nholds; i++)
        json_array_append_new(holds, json_pack("{s:o, s:o, s:o}", "start",
                                               time_or_null(true, c->holds[i].start), "end",
                                               time_or_null(c->holds[i].end, c->holds[i].end), "by",
                                               str_or_null(call_party_name(c->holds[i].by))));
    for (unsigned i = 0; i < c->ntransfers; i++) {
        const struct call_transfer *t = &c->transfers[i];
        json_array_append_new(transfers, json_pack("{s:o, s:o, s:o, s:o, s:o}", "time",
                                                   time_or_null(true, t->time), "by",
                                                   str_or_null(call_party_name(t->by)), "refer_to",
                                                   str_or_null(t->refer_to), "accepted",
                                                   t->accepted ? json_integer(t->accepted) : json_null(),
                                                   "result",
                                                   t->result ? json_integer(t->result) : json_null()));
    }
    json_object_set_new(o, "session_expired", json_boolean(c->session_expired)); /* added */
    json_object_set_new(o, "holds", holds);
    json_object_set_new(o, "transfers", transfers);
    json_object_set_new(o, "codecs", codecs);
    json_object_set_new(o, "streams", json_null());
    json_object_set_new(o, "mos_min", json_null());
    /* added: digits sent as SIP INFO (RFC 4733 digits are on the streams) */
    json_t *dtmf = json_array();
    for (unsigned i = 0; i < c->ndtmf; i++) {
        const struct call_dtmf *d = &c->dtmf[i];
        json_array_append_new(dtmf, json_pack("{s:o,s:s#,s:o,s:I,s:o}", "time",
                                              time_or_null(true, d->time), "digit", &d->digit,
                                              (int)1, "duration_ms",
                                              d->duration_ms >= 0 ? json_integer(d->duration_ms)
                                                                  : json_null(),
                                              "frame", (json_int_t)d->frame, "by",
                                              str_or_null(call_party_name(d->by))));
    }
    json_object_set_new(o, "dtmf", dtmf);
    json_object_set_new(o, "path", path_json(c));
    json_object_set_new(o, "hops", hops_json(c));
    json_object_set_new(o, "dns", dns_json(c));
    json_object_set_new(o, "issues", json_null());
    return o;
}

static void fmt_time(ptime_t t, char *buf, size_t len);

/* One line of the text table of calls. */
static char *call_line(const struct call *c)
{
    char when[64], fs[8] = "-", pdd[16] = "-", dur[16] = "-", *line = NULL;
    fmt_time(c->invite_time, when, sizeof when);
    when[26] = '\0';
    if (c->final_status)
        snprintf(fs, sizeof fs, "%d", c->final_status);
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
            fprintf(out, "%s\"stream-%llu\"", i > k0 ? "," : "", (unsigned long long)streams[i].seq);
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

static const char *jstr(json_t *o, const char *k1, const char *k2)
{
    json_t *v = json_object_get(o, k1);
    if (k2)
        v = json_object_get(v, k2);
    return json_string_value(v);
}

static double jnum(json_t *o, const char *k, double none)
{
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : none;
}

/* A call into the database (through the writer), with the columns the API filters on
 * taken from its very JSON object. */
static void db_call(struct analysis *a, uint64_t seq, const char *text, bool update,
                    bool progress)
{
    json_t *o = json_loads(text, 0, NULL);
    if (!o) {
        a->db_failed = true;
        return;
    }
    char kinds[512] = "";
    size_t x;
    json_t *is;
    json_array_foreach(json_object_get(o, "issues"), x, is)
        snprintf(kinds + strlen(kinds), sizeof kinds - strlen(kinds), "%s%s", x ? "," : "",
                 json_string_value(json_object_get(is, "kind")));
    store_writer_call(a->dbw, &(struct store_call){
                          .seq = seq, .call_id = jstr(o, "call_id", NULL),
                          .from_user = jstr(o, "from", "user"), .to_user = jstr(o, "to", "user"),
                          .caller = jstr(o, "caller", NULL), .callee = jstr(o, "callee", NULL),
                          .state = jstr(o, "state", NULL),
                          .final_status = (int)jnum(o, "final_status", 0),
                          .invite_time = jnum(o, "invite_time", 0),
                          .end_time = jnum(o, "end_time", -1), .mos_min = jnum(o, "mos_min", -1),
                          .issue_kinds = kinds, .json = text, .update = update,
                          .progress = progress});
    json_decref(o);
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
    if (!a->dbw)
        return;
    json_t *o = call_json(c);
    char *text = o ? json_text(o) : NULL;
    json_decref(o);
    if (text)
        db_call(a, c->seq, text, false, true);
    free(text);
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
    char *text;
    if (a->json) {
        json_t *o = call_json(c);
        text = json_text(o);
        json_decref(o);
    } else {
        text = call_line(c);
    }
    /* The database gets the call as soon as it ends, so that a crash later loses none
     * (its streams, worst MOS and issues are null: not known yet); at the end of the input
     * it is stored again, complete (write_db_calls). */
    if (a->dbw && a->json && text)
        db_call(a, c->seq, text, false, false);
    struct pending_call *p = pending_get(a, c->seq);
    if (push_out(a->spill, &a->calls, &a->ncalls, &a->capcalls, c->seq, text)) {
        a->answered += c->answer_time != 0;
        if (p && a->json) { /* the database's row is that very text, completed later */
            p->call = a->calls[a->ncalls - 1];
            p->have_call = true;
        }
    }
    if (p && !a->json) { /* the database keeps the JSON object */
        json_t *o = call_json(c);
        char *js = json_text(o);
        json_decref(o);
        if (js)
            db_call(a, c->seq, js, false, false);
        if (js && spill_put(a->spill, js, &p->call.off, &p->call.len)) {
            p->call.seq = c->seq;
            p->have_call = true;
        }
    }
    issues_call(a->eng, c);
    trim_report(a, a->calls, &a->ncalls, sizeof *a->calls, REPORT_CALLS);
}

/* A registration as OUTPUT.md's registrations[] entry (call_id, user_agent and expired
 * added). */
static void on_reg_done(void *user, const struct registration *r)
{
    struct analysis *a = user;
    if ((int)r->state < WEB_REG_STATES)
        a->mx.registrations[r->state]++;
    char src[IP_ADDR_PORT_STRLEN], reg[IP_ADDR_PORT_STRLEN];
    ip_addr_port_str(&r->source, r->source_port, src, sizeof src);
    ip_addr_port_str(&r->registrar, r->registrar_port, reg, sizeof reg);
    json_t *o = json_object();
    json_object_set_new(o, "aor", str_or_null(r->aor));
    json_object_set_new(o, "contact", str_or_null(r->contact));
    json_object_set_new(o, "source", json_string(src));
    json_object_set_new(o, "registrar", json_string(reg));
    json_object_set_new(o, "first_time", time_or_null(true, r->first_time));
    json_object_set_new(o, "last_time", time_or_null(true, r->last_time));
    json_object_set_new(o, "expires_s", r->expires_s >= 0 ? json_integer(r->expires_s) : json_null());
    json_object_set_new(o, "state", json_string(reg_state_name(r->state)));
    json_object_set_new(o, "final_status", r->final_status ? json_integer(r->final_status) : json_null());
    json_object_set_new(o, "challenges", json_integer(r->challenges));
    json_object_set_new(o, "attempts", json_integer(r->attempts));
    json_object_set_new(o, "call_id", str_or_null(r->call_id));
    json_object_set_new(o, "user_agent", str_or_null(r->user_agent));
    json_object_set_new(o, "expired", json_boolean(r->expired));
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

/* A figure rounded for people (R and MOS to 0.01, milliseconds to 0.001); unit is 0.01,
 * 0.001... (divided, not multiplied, so that 4.35 prints as 4.35). */
static json_t *round_json(double v, double unit)
{
    double scale = round(1 / unit);
    return json_real(round(v * scale) / scale);
}

static const char *const jb_names[JB__COUNT] = {"fixed_50", "fixed_200", "adaptive"};

/* The three simulated jitter buffers: what each played and the E-model's verdict on it. */
static json_t *jb_json(const struct rtp_stream *st)
{
    json_t *o = json_object();
    for (int k = 0; k < JB__COUNT; k++) {
        const struct stream_jb_score *b = &st->jbs[k];
        json_t *j = json_object();
        set_u64(j, "played", st->jb[k].played);
        set_u64(j, "discarded", st->jb[k].discarded);
        json_object_set_new(j, "lost_pct", round_json(b->lost_pct, 0.001));
        json_object_set_new(j, "burst_ratio", round_json(b->burst_ratio, 0.001));
        json_object_set_new(j, "mean_delay_ms", round_json(b->mean_delay_ms, 0.001));
        json_object_set_new(j, "r_factor", b->r_factor >= 0 ? round_json(b->r_factor, 0.01) : json_null());
        json_object_set_new(j, "mos", b->mos >= 0 ? round_json(b->mos, 0.01) : json_null());
        json_object_set_new(o, jb_names[k], j);
    }
    return o;
}

/* RFC 3611 §4.7 fields; 127 (R, MOS) and 0 (jitter buffer) are "unavailable". */
static json_t *xr_json(const struct rtcp_voip_metrics *m)
{
    json_t *o = json_object();
    json_object_set_new(o, "loss_pct", round_json(m->loss_rate * 100.0 / 256, 0.01));
    json_object_set_new(o, "discard_pct", round_json(m->discard_rate * 100.0 / 256, 0.01));
    json_object_set_new(o, "burst_density_pct", round_json(m->burst_density * 100.0 / 256, 0.01));
    json_object_set_new(o, "gap_density_pct", round_json(m->gap_density * 100.0 / 256, 0.01));
    set_u64(o, "burst_duration_ms", m->burst_duration);
    set_u64(o, "gap_duration_ms", m->gap_duration);
    set_u64(o, "round_trip_delay_ms", m->round_trip_delay);
    set_u64(o, "end_system_delay_ms", m->end_system_delay);
    json_object_set_new(o, "r_factor", m->r_factor == 127 ? json_null() : json_integer(m->r_factor));
    json_object_set_new(o, "mos_lq", m->mos_lq == 127 ? json_null() : json_real(m->mos_lq / 10.0));
    json_object_set_new(o, "mos_cq", m->mos_cq == 127 ? json_null() : json_real(m->mos_cq / 10.0));
    json_object_set_new(o, "jb_nominal_ms", m->jb_nominal ? json_integer(m->jb_nominal) : json_null());
    json_object_set_new(o, "jb_max_ms", m->jb_maximum ? json_integer(m->jb_maximum) : json_null());
    json_object_set_new(o, "jb_abs_max_ms", m->jb_abs_max ? json_integer(m->jb_abs_max) : json_null());
    return o;
}

static json_t *rtcp_json(const struct rtp_stream *st)
{
    const struct stream_rtcp *r = &st->rtcp;
    if (!r->packets)
        return json_null();
    json_t *o = json_object();
    set_u64(o, "packets", r->packets);
    bool rr = r->receiver_reports > 0;
    json_object_set_new(o, "reported_lost", rr ? json_integer(r->reported_lost) : json_null());
    json_object_set_new(o, "reported_jitter_ms", rr && st->clock_rate ? round_json(r->reported_jitter_ms, 0.001) : json_null());
    json_object_set_new(o, "rtt_ms", r->rtt_n ? round_json(r->rtt_ms, 0.001) : json_null());
    /* added */
    json_object_set_new(o, "max_rtt_ms", r->rtt_n ? round_json(r->max_rtt_ms, 0.001) : json_null());
    set_u64(o, "sender_reports", r->sender_reports);
    set_u64(o, "receiver_reports", r->receiver_reports);
    json_object_set_new(o, "max_fraction_lost_pct", rr ? round_json(r->max_fraction_lost_pct, 0.01) : json_null());
    json_object_set_new(o, "xr", r->have_xr ? xr_json(&r->xr) : json_null());
    return o;
}

static json_t *dtmf_json(const struct rtp_stream *st)
{
    json_t *a = json_array();
    uint32_t rate = st->te_rate ? st->te_rate : 8000;
    for (unsigned i = 0; i < st->ndtmf; i++) {
        const struct stream_dtmf *d = &st->dtmf[i];
        json_t *o = json_object();
        json_object_set_new(o, "time", time_or_null(true, d->time));
        json_object_set_new(o, "digit", json_stringn(&d->digit, 1));
        json_object_set_new(o, "duration_ms", round_json(d->duration * 1000.0 / rate, 0.001));
        set_u64(o, "frame", d->frame);
        json_object_set_new(o, "ended", json_boolean(d->ended));
        json_array_append_new(a, o);
    }
    return a;
}

/* Per-second figures, as parallel arrays (compact for charts). */
static json_t *timeline_json(const struct rtp_stream *st)
{
    json_t *o = json_object(), *pk = json_array(), *lost = json_array(), *jit = json_array(),
           *mos = json_array();
    bool timed = st->clock_rate && !st->events;
    for (uint32_t i = 0; i < st->nsec; i++) {
        const struct stream_second *x = &st->timeline[i];
        json_array_append_new(pk, json_integer(x->packets));
        json_array_append_new(lost, json_integer(x->lost));
        json_array_append_new(jit, timed && x->packets ? json_real(x->jitter_cms / 100.0) : json_null());
        json_array_append_new(mos, x->mos_c ? json_real(x->mos_c / 100.0) : json_null());
    }
    json_object_set_new(o, "start", time_or_null(true, st->first_time));
    json_object_set_new(o, "interval_s", json_integer(1));
    json_object_set_new(o, "packets", pk);
    json_object_set_new(o, "lost", lost);
    json_object_set_new(o, "max_jitter_ms", jit);
    json_object_set_new(o, "mos", mos);
    json_object_set_new(o, "truncated", json_boolean(st->timeline_truncated));
    return o;
}

/* An RTP stream as OUTPUT.md's streams[] entry. */
static void on_stream_done(void *user, const struct rtp_stream *st)
{
    struct analysis *a = user;
    if (a->hep)
        hep_out_stream(a->hep, st);
    if (st->mos >= 0)
        web_observe(a->mx.mos, web_mos_bounds, WEB_MOS_BUCKETS, &a->mx.mos_sum, st->mos);
    char id[32], call[32], src[IP_ADDR_PORT_STRLEN], dst[IP_ADDR_PORT_STRLEN], ssrc[16];
    snprintf(id, sizeof id, "stream-%llu", (unsigned long long)st->seq);
    snprintf(call, sizeof call, "call-%llu", (unsigned long long)st->call_seq);
    snprintf(ssrc, sizeof ssrc, "0x%08x", st->ssrc);
    ip_addr_port_str(&st->src, st->sport, src, sizeof src);
    ip_addr_port_str(&st->dst, st->dport, dst, sizeof dst);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(id));
    json_object_set_new(o, "call", st->call_seq ? json_string(call) : json_null());
    json_object_set_new(o, "src", json_string(src));
    json_object_set_new(o, "dst", json_string(dst));
    json_object_set_new(o, "ssrc", json_string(ssrc));
    json_object_set_new(o, "payload_type", json_integer(st->pt));
    json_object_set_new(o, "codec", st->codec[0] ? json_string(st->codec) : json_null());
    json_object_set_new(o, "clock_rate", st->clock_rate ? json_integer(st->clock_rate) : json_null());
    json_object_set_new(o, "first_time", time_or_null(true, st->first_time));
    json_object_set_new(o, "last_time", time_or_null(true, st->last_time));
    set_u64(o, "packets", st->packets);
    json_object_set_new(o, "expected", json_integer(st->expected));
    json_object_set_new(o, "lost", json_integer(st->lost));
    json_object_set_new(o, "lost_pct", json_real(st->expected > 0 ? 100.0 * (double)st->lost /
                                                                        (double)st->expected
                                                                  : 0));
    set_u64(o, "duplicates", st->duplicates);
    set_u64(o, "out_of_order", st->out_of_order);
    set_u64(o, "seq_errors", st->seq_errors);
    json_object_set_new(o, "max_delta_ms", json_real(st->max_delta_ms));
    bool timed = st->clock_rate && !st->events; /* else jitter means nothing: null */
    json_object_set_new(o, "max_jitter_ms", timed ? json_real(st->max_jitter_ms) : json_null());
    json_object_set_new(o, "mean_jitter_ms", timed ? json_real(st->mean_jitter_ms) : json_null());
    /* added: which ends an SDP announced; one unannounced end of a bound stream is NAT */
    json_object_set_new(o, "src_announced", json_boolean(st->src_announced));
    json_object_set_new(o, "dst_announced", json_boolean(st->dst_announced));
    /* added: the loss pattern */
    set_u64(o, "loss_bursts", st->loss_bursts);
    set_u64(o, "longest_loss_burst", st->longest_burst);
    set_u64(o, "markers", st->markers);
    json_object_set_new(o, "r_factor", st->r_factor >= 0 ? round_json(st->r_factor, 0.01) : json_null());
    json_object_set_new(o, "mos", st->mos >= 0 ? round_json(st->mos, 0.01) : json_null());
    /* added: which G.113 row scored it, and the three buffers behind the figures */
    json_object_set_new(o, "mos_basis", st->emodel ? json_string(st->emodel->basis) : json_null());
    json_object_set_new(o, "jitter_buffers", timed && st->timed ? jb_json(st) : json_null());
    json_object_set_new(o, "rtcp", rtcp_json(st));
    json_object_set_new(o, "dtmf", dtmf_json(st));
    if (st->dtmf_dropped)
        set_u64(o, "dtmf_dropped", st->dtmf_dropped);
    if (a->timelines)
        json_object_set_new(o, "timeline", timeline_json(st));
    char *text = json_text(o);
    json_decref(o);
    if (a->dbw && text) {
        json_t *tl = timeline_json(st);
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
    (*v)[*n] = (struct issue_out){
        .seq = *n + 1, .call_seq = is->call_seq, .time = is->time, .off = off, .len = len,
        .severity = (uint8_t)is->severity, .group = is->call_seq ? 0 : is->registration ? 1 : 2};
    (*n)++;
    return true;
}

static char *issue_json_text(const struct issue *is)
{
    json_t *o = issue_json(is);
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
                   a->json ? js : issue_text(is))) {
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
    json_t *o = json_object();
    json_object_set_new(o, "frame", json_integer((json_int_t)ev->l4->pkt->frame));
    json_object_set_new(o, "time", json_real(ptime_to_epoch_s(ev->l4->pkt->ts)));
    json_object_set_new(o, "src", json_string(src));
    json_object_set_new(o, "dst", json_string(dst));
    json_object_set_new(o, "transport", json_string(sip_transport_name(ev->transport)));
    json_object_set_new(o, "method", m->is_request ? sv_json(m->method) : json_null());
    json_object_set_new(o, "status", m->is_request ? json_null() : json_integer(m->status));
    json_object_set_new(o, "reason", m->is_request ? json_null() : sv_json(m->reason));
    json_object_set_new(o, "call_id", hdr_json(m, SIP_H_CALL_ID));
    uint32_t num;
    struct sv meth;
    const struct sip_header *cseq = sip_hdr(m, SIP_H_CSEQ);
    if (cseq && sip_cseq_parse(cseq->value, &num, &meth)) {
        char buf[96];
        snprintf(buf, sizeof buf, "%u %.*s", num, (int)(meth.n < 64 ? meth.n : 64), meth.p);
        json_object_set_new(o, "cseq", json_string(buf));
    } else {
        json_object_set_new(o, "cseq", json_null());
    }
    char cid[32];
    snprintf(cid, sizeof cid, "call-%llu", (unsigned long long)v.call_seq);
    json_object_set_new(o, "call", v.call_seq ? json_string(cid) : json_null());
    json_object_set_new(o, "retransmission", json_boolean(v.retransmission));
    json_object_set_new(o, "sdp", sdp_json(m, a->sdp));
    json_object_set_new(o, "malformed", json_boolean(m->malformed));
    json_object_set_new(o, "error",
                        m->malformed ? json_string(decode_reason_name(m->error)) : json_null());
    json_array_append_new(a->messages, o);
}

static json_t *capture_json(char **files, int nfiles, const struct capture_stats *cs,
                            const struct decode_stats *ds, const struct correlate_stats *ks,
                            const struct pipeline_result *res)
{
    json_t *c = json_object();
    json_t *jfiles = json_array();
    for (int i = 0; i < nfiles; i++)
        json_array_append_new(jfiles, json_string(files[i]));
    json_object_set_new(c, "files", jfiles);
    set_u64(c, "packets", cs->packets);
    set_u64(c, "bytes", cs->bytes);
    json_object_set_new(c, "first_time", time_or_null(cs->packets > 0, cs->first_ts));
    json_object_set_new(c, "last_time", time_or_null(cs->packets > 0, cs->last_ts));
    /* duplicates: null, not 0, until duplicate detection exists: OUTPUT.md
     * says 0 never means "unknown". dropped is null for files (no kernel to drop). */
    set_u64(c, "sip_messages", ds->sip_messages);
    /* RTP of the streams reported; RTCP to announced ports or about a stream we follow */
    set_u64(c, "rtp_packets", res->rtp_packets);
    set_u64(c, "rtcp_packets", res->rtcp_packets);
    json_object_set_new(c, "dropped", cs->live ? json_integer((json_int_t)(cs->dropped + cs->ring_dropped))
                                                : json_null());
    set_u64(c, "duplicates", ds->duplicates);

    json_t *errors = json_object();
    for (int r = 0; r < DR__COUNT; r++)
        if (ds->errors[r])
            set_u64(errors, decode_reason_name(r), ds->errors[r]);
    for (int r = 1; r < RTCP__COUNT; r++)
        if (res->rtcp_errors[r])
            set_u64(errors, rtcp_status_name(r), res->rtcp_errors[r]);
    if (cs->read_errors)
        set_u64(errors, "file_read_error", cs->read_errors);
    json_object_set_new(c, "decode_errors", errors);

    json_t *evicted = json_object();
    const struct {
        const char *table;
        uint64_t n;
    } ev[] = {{"ip_fragments", ds->frag_evicted},   {"tcp_streams", ds->tcp_evicted},
              {"calls", ks->evicted_calls},         {"transactions", ks->evicted_transactions},
              {"streams", res->streams_evicted},    {"orphan_streams", res->orphans_evicted},
              {"udp_flows", res->flows_evicted},    {"registrations", ks->evicted_registrations},
              {"media_endpoints", ks->evicted_media}, {"dns_lookups", ks->evicted_dns}};
    for (size_t i = 0; i < sizeof ev / sizeof ev[0]; i++)
        if (ev[i].n)
            set_u64(evicted, ev[i].table, ev[i].n);
    json_object_set_new(c, "evicted", evicted);
    /* added (issue 21): each table's peak bytes, under --max-memory-mb */
    json_t *mem = json_object();
    for (int t = 0; t < MEM__COUNT; t++)
        set_u64(mem, mem_table_name(t), res->mem.peak[t]);
    json_object_set_new(c, "memory", mem);
    /* ... and the entries each may hold, by the names of "evicted" */
    json_t *lim = json_object();
    set_u64(lim, "calls", res->max_calls);
    set_u64(lim, "transactions", res->max_transactions);
    set_u64(lim, "media_endpoints", res->max_media);
    set_u64(lim, "registrations", res->max_registrations);
    set_u64(lim, "streams", res->max_streams);
    json_object_set_new(c, "limits", lim);
    set_u64(c, "out_of_order_frames", cs->out_of_order);

    /* added to the contract: what the decoder saw, layer by layer */
    json_t *l = json_object();
    set_u64(l, "ipv4", ds->ipv4);
    set_u64(l, "ipv6", ds->ipv6);
    set_u64(l, "udp", ds->udp);
    set_u64(l, "tcp", ds->tcp);
    set_u64(l, "non_ip", ds->non_ip);
    set_u64(l, "other_ip_protocols", ds->other_proto);
    set_u64(l, "ip_fragments", ds->fragments);
    set_u64(l, "reassembled", ds->reassembled);
    set_u64(l, "fragment_duplicates", ds->frag_duplicates);
    set_u64(l, "sctp", ds->sctp);
    set_u64(l, "tcp_retransmitted", ds->tcp_retransmitted);
    set_u64(l, "dns", ds->dns);
    set_u64(l, "dns_tcp_partial", ds->dns_tcp_partial);
    set_u64(l, "dns_lookups", ks->dns_lookups);               /* questions, retries as one */
    set_u64(l, "dns_unmatched_responses", ks->dns_unanswered_responses); /* to no question seen */
    json_object_set_new(c, "layers", l);
    return c;
}

static json_t *num_or_null(double v)
{
    return v >= 0 ? json_real(v) : json_null();
}

/* OUTPUT.md's stats block (statuses and retransmissions added). */
static json_t *stats_json(const struct kpi *k)
{
    json_t *resp = json_object(), *meth = json_object(), *codes = json_object();
    static const char *const cls[] = {NULL, "1xx", "2xx", "3xx", "4xx", "5xx", "6xx"};
    for (int c = 1; c <= 6; c++)
        set_u64(resp, cls[c], k->responses[c]);
    for (int c = 100; c < 700; c++)
        if (k->status[c]) {
            char b[8];
            snprintf(b, sizeof b, "%d", c);
            set_u64(codes, b, k->status[c]);
        }
    for (unsigned i = 0; i < KPI_METHODS && k->methods[i].name[0]; i++) {
        json_t *name = json_string(k->methods[i].name); /* may not be UTF-8: skip if not */
        if (name) {
            json_decref(name);
            set_u64(meth, k->methods[i].name, k->methods[i].n);
        }
    }
    json_t *o = json_object();
    set_u64(o, "calls", k->calls);
    set_u64(o, "answered", k->answered);
    json_object_set_new(o, "asr_pct", num_or_null(kpi_asr(k)));
    json_object_set_new(o, "ner_pct", num_or_null(kpi_ner(k)));
    json_object_set_new(o, "acd_s", num_or_null(kpi_acd(k)));
    json_object_set_new(o, "pdd_ms", json_pack("{s:o, s:o}", "p50", num_or_null(kpi_pdd_percentile(k, 50)),
                                               "p95", num_or_null(kpi_pdd_percentile(k, 95))));
    json_object_set_new(o, "responses", resp);
    json_object_set_new(o, "methods", meth);
    json_object_set_new(o, "statuses", codes);
    set_u64(o, "retransmissions", k->retransmissions);
    return o;
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
static int print_json(char **files, int nfiles, const struct pipeline_result *res,
                      json_t *messages, struct analysis *a)
{
    json_t *root = json_pack("{s:{s:s}, s:o, s:o}", "sipscope", "version", SIPSCOPE_VERSION,
                             "capture", capture_json(files, nfiles, &res->cs, &res->ds, &res->ks, res),
                             "stats", stats_json(a->kpi));
    json_t *evicted = json_object_get(json_object_get(root, "capture"), "evicted");
    static const char *const report_names[4] = {"report_calls", "report_streams",
                                                "report_registrations", "report_issues"};
    for (int i = 0; i < 4 && evicted; i++) /* a live report keeps the newest only */
        if (a->report_dropped[i])
            set_u64(evicted, report_names[i], a->report_dropped[i]);
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
    db_call(a, p->seq, text, true, false);
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

static void fmt_time(ptime_t t, char *buf, size_t len)
{
    time_t s = (time_t)(t / PTIME_SEC);
    struct tm tm;
    gmtime_r(&s, &tm);
    size_t n = strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(buf + n, len - n, ".%06lld UTC", (long long)((t % PTIME_SEC) / 1000));
}

static void print_calls(const struct analysis *a)
{
    if (!a->ncalls)
        return;
    printf("\n%-26s %-18s %-18s %-11s %5s %9s %10s\n", "invite (UTC)", "from", "to", "state",
           "final", "PDD ms", "duration s");
    for (size_t i = 0; i < a->ncalls; i++) {
        print_out(a->spill, &a->calls[i]);
        putchar('\n');
    }
    printf("%zu calls, %llu answered\n", a->ncalls, (unsigned long long)a->answered);
}

static int issue_by_group(const void *x, const void *y)
{
    const struct issue_out *p = x, *q = y;
    if (p->group != q->group)
        return p->group < q->group ? -1 : 1;
    if (p->call_seq != q->call_seq)
        return p->call_seq < q->call_seq ? -1 : 1;
    if (p->severity != q->severity)
        return p->severity > q->severity ? -1 : 1;
    if (p->time != q->time)
        return p->time < q->time ? -1 : 1;
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
    if (p->worst != q->worst)
        return p->worst > q->worst ? -1 : 1;
    if (p->first != q->first)
        return p->first < q->first ? -1 : 1;
    return p->start < q->start ? -1 : p->start > q->start;
}

/* The text report's end: issues grouped by call (then registrations, then media of no
 * call), the worst group first, each with its summary and diagnosis. */
static void print_issues(struct analysis *a)
{
    printf("\nissues    %zu: %llu critical, %llu warning, %llu info\n", a->nissues,
           (unsigned long long)a->by_severity[SEV_CRITICAL],
           (unsigned long long)a->by_severity[SEV_WARNING],
           (unsigned long long)a->by_severity[SEV_INFO]);
    if (!a->nissues)
        return;
    qsort(a->issues, a->nissues, sizeof *a->issues, issue_by_group);
    struct issue_group *g = malloc(a->nissues * sizeof *g);
    if (!g)
        return;
    size_t ng = 0;
    for (size_t i = 0; i < a->nissues; i++) {
        const struct issue_out *e = &a->issues[i];
        if (!ng || e->group != a->issues[g[ng - 1].start].group ||
            e->call_seq != a->issues[g[ng - 1].start].call_seq)
            g[ng++] = (struct issue_group){i, 0, e->severity, e->time};
        struct issue_group *cur = &g[ng - 1];
        cur->n++;
        if (e->severity > cur->worst)
            cur->worst = e->severity;
        if (e->time < cur->first)
            cur->first = e->time;
    }
    qsort(g, ng, sizeof *g, group_worst_first);
    for (size_t i = 0; i < ng; i++) {
        const struct issue_out *e = &a->issues[g[i].start];
        if (e->group == 1) {
            printf("\nregistrations\n");
        } else if (e->group == 2) {
            printf("\nmedia of no call\n");
        } else {
            struct call_out key = {.seq = e->call_seq};
            const struct call_out *c = bsearch(&key, a->calls, a->ncalls, sizeof *a->calls, by_seq);
            printf("\ncall-%llu  ", (unsigned long long)e->call_seq);
            if (c)
                print_out(a->spill, c);
            putchar('\n');
        }
        for (size_t k = 0; k < g[i].n; k++)
            copy_out(a->spill, a->issues[g[i].start + k].off, a->issues[g[i].start + k].len, stdout);
    }
    free(g);
}

static void print_regs(const struct analysis *a)
{
    if (a->nregs)
        printf("%zu registrations: %llu registered, %llu challenged, %llu failed\n", a->nregs,
               (unsigned long long)a->reg_registered, (unsigned long long)a->reg_challenged,
               (unsigned long long)a->reg_failed);
}

static void print_text(char **files, int nfiles, const struct capture_stats *cs,
                       const struct decode_stats *ds)
{
    printf("sipscope %s: %d file%s, %llu frames, %llu bytes\n", SIPSCOPE_VERSION, nfiles,
           nfiles == 1 ? "" : "s", (unsigned long long)cs->packets, (unsigned long long)cs->bytes);
    for (int i = 0; i < nfiles; i++)
        printf("  %s\n", files[i]);
    if (cs->packets) {
        char a[64], b[64];
        fmt_time(cs->first_ts, a, sizeof a);
        fmt_time(cs->last_ts, b, sizeof b);
        printf("time      %s to %s (%.3f s)\n", a, b,
               (double)(cs->last_ts - cs->first_ts) / 1e9);
    }
    printf("layers    IPv4 %llu, IPv6 %llu, UDP %llu, TCP %llu, not IP %llu, other IP %llu\n",
           (unsigned long long)ds->ipv4, (unsigned long long)ds->ipv6,
           (unsigned long long)ds->udp, (unsigned long long)ds->tcp,
           (unsigned long long)ds->non_ip, (unsigned long long)ds->other_proto);
    printf("SIP       %llu messages (%llu malformed), %llu TCP/WebSocket directions followed\n",
           (unsigned long long)ds->sip_messages, (unsigned long long)ds->sip_malformed,
           (unsigned long long)ds->tcp_streams);
    if (ds->fragments)
        printf("fragments %llu taken in, %llu datagrams reassembled, %llu duplicates\n",
               (unsigned long long)ds->fragments, (unsigned long long)ds->reassembled,
               (unsigned long long)ds->frag_duplicates);
    if (ds->duplicates)
        printf("duplicates %llu exact copies dropped (a mirror port, a HEP trace of the wire)\n",
               (unsigned long long)ds->duplicates);
    bool any = cs->read_errors > 0;
    for (int r = 0; r < DR__COUNT; r++)
        any |= ds->errors[r] > 0;
    if (any) {
        printf("not decoded:");
        for (int r = 0; r < DR__COUNT; r++)
            if (ds->errors[r])
                printf(" %s %llu", decode_reason_name(r), (unsigned long long)ds->errors[r]);
        if (cs->read_errors)
            printf(" file_read_error %llu", (unsigned long long)cs->read_errors);
        putchar('\n');
    }
    if (ds->frag_evicted)
        printf("evicted   %llu fragment datagrams (limit reached)\n",
               (unsigned long long)ds->frag_evicted);
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
            json_t *o = json_pack("{s:o, s:o}", "capture",
                                  capture_json(files, nfiles, &res.cs, &res.ds, &res.ks, &res),
                                  "stats", stats_json(a.kpi));
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

    if (json) {
        rc |= print_json(files, nfiles, &res, a.messages, &a);
    } else {
        print_text(files, nfiles, &res.cs, &res.ds);
        printf("RTP       %llu packets in %zu streams, %llu RTCP packets\n",
               (unsigned long long)res.rtp_packets, a.nstreams,
               (unsigned long long)res.rtcp_packets);
        if (a.report_dropped[REPORT_CALLS] || a.report_dropped[REPORT_STREAMS] ||
            a.report_dropped[REPORT_ISSUES] || a.report_dropped[REPORT_REGISTRATIONS])
            printf("report    the newest %zu of each kind below: %llu older calls, %llu streams, "
                   "%llu registrations and %llu issues left out (--report-max; all are in --db)\n",
                   a.report_max, (unsigned long long)a.report_dropped[REPORT_CALLS],
                   (unsigned long long)a.report_dropped[REPORT_STREAMS],
                   (unsigned long long)a.report_dropped[REPORT_REGISTRATIONS],
                   (unsigned long long)a.report_dropped[REPORT_ISSUES]);
        print_calls(&a);
        print_regs(&a);
        print_issues(&a);
    }
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
