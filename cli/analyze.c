/* `sipscope analyze FILE...` and `sipscope capture -i IFACE`: the options (analyze_opts.h)
 * open the outputs they ask for, the engine's pipeline runs with the handlers below, which
 * hand every ended call, stream, registration, issue and message to the report
 * (report.h), the database (db_forward.h), HEP out and the web server's figures; at the
 * end the report is printed as text or as the JSON of docs/output.md. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert_hook.h"
#include "analyze_opts.h"
#include "cli.h"
#include "common/log.h"
#include "common/stop.h"
#include "common/vec.h"
#include "db_forward.h"
#include "decode/sdp.h"
#include "engine/hep_out.h"
#include "engine/pipeline.h"
#include "metrics/kpi.h"
#include "render/call.h"
#include "render/issue.h"
#include "render/jsontext.h"
#include "render/message.h"
#include "render/registration.h"
#include "render/run.h"
#include "render/stream.h"
#include "render/text.h"
#include "report.h"
#include "service.h"
#include "web/metrics.h"
#include "web/server.h"

struct analysis {
    struct report rep;
    struct db_forward *db; /* owned: --db */
    bool json;
    bool timelines;            /* --timelines: per-second figures in each stream */
    json_t *messages;          /* with --messages; owned */
    struct kpi *kpi;           /* owned */
    struct sdp *sdp;           /* owned: scratch for --messages' SDP */
    struct issue_engine *eng;  /* owned */
    struct web_server *web;    /* owned: --serve */
    struct hep_out *hep;       /* owned: --hep-out */
    const char *run_as, *dbpath; /* capture --user: who to become once capturing */
    const char *hep_listen;      /* a live run: what it captures, said once it is open */
    size_t nifaces;
    struct web_metrics mx;       /* counted as things end; published to web at ticks */
    struct alerts *alerts;       /* owned: --alerts */
    struct alert_hook *hook;     /* owned: --alerts */
};

static void on_rtcp(void *user, uint64_t call_seq, const struct l4_packet *l4,
                    const struct rtcp_info *info)
{
    struct analysis *a = user;
    hep_out_rtcp(a->hep, l4, info, call_seq);
}

static void on_media(void *user, uint64_t call_seq, const struct packet *p)
{
    struct analysis *a = user;
    db_forward_media(a->db, call_seq, p);
}

/* Live: a call in progress goes to the database as it stands, so that the UI shows it
 * while it rings; its final version replaces it when it ends. */
static void on_call_progress(void *user, const struct call *c)
{
    struct analysis *a = user;
    struct render_call_row row;
    if (!a->db || !render_call(c, &row)) return;
    db_forward_call(a->db, &row, true);
    render_call_row_free(&row);
}

/* An ended call's facts for --alerts: an outcome, an answer and PDD as metrics/kpi.c
 * counts them, and where it went. */
static void alert_call(struct alerts *al, const struct call *c)
{
    char callee[IP_ADDR_PORT_STRLEN];
    bool decided =
        c->state != CALL_TRYING && c->state != CALL_RINGING && c->state != CALL_EARLY_MEDIA;
    double pdd = c->ringing_time && c->ringing_time >= c->invite_time
                     ? (double)(c->ringing_time - c->invite_time) / 1e6
                     : -1;
    alerts_call_ended(al, c->seq, c->end_time ? c->end_time : c->last_time, decided,
                      c->answer_time != 0, pdd, ip_addr_str(&c->callee_ip, callee, sizeof callee));
}

static void on_call_done(void *user, const struct call *c)
{
    struct analysis *a = user;
    a->mx.calls[c->state]++;
    if (a->alerts) alert_call(a->alerts, c);
    if (c->ringing_time && c->ringing_time >= c->invite_time)
        web_observe(a->mx.pdd, web_pdd_bounds, WEB_PDD_BUCKETS, &a->mx.pdd_sum,
                    (double)(c->ringing_time - c->invite_time) / 1e9);
    if (a->db) db_forward_call_ended(a->db, c->seq);
    kpi_call(a->kpi, c);
    struct render_call_row row = {0};
    bool rendered = (a->json || a->db) && render_call(c, &row);
    /* The database gets the call as soon as it ends, so that a crash later loses none
     * (its streams, worst MOS and issues are null: not known yet); once they are, it is
     * stored again, whole (db_forward.c). */
    if (a->db && rendered)
        db_forward_call(a->db, &row, false);
    else if (a->db)
        db_forward_failed(a->db);
    char *text = a->json ? row.json : render_text_call_line(c);
    if (a->json) row.json = NULL; /* taken over by report_push */
    struct pending_call *p = db_forward_pending(a->db, c->seq);
    if (report_push(a->rep.spill, &a->rep.calls, &a->rep.ncalls, &a->rep.capcalls, c->seq, text)) {
        a->rep.answered += c->answer_time != 0;
        if (p && a->json) { /* the database's row is that very text, completed later */
            p->call = a->rep.calls[a->rep.ncalls - 1];
            p->have_call = true;
        }
    }
    if (p && row.json) { /* the text report's run: the database keeps the JSON */
        if (report_spill(a->rep.spill, row.json, &p->call.off, &p->call.len)) {
            p->call.seq = c->seq;
            p->have_call = true;
        }
        row.json = NULL; /* taken over by report_spill */
    }
    if (p)
        p->row = row;
    else
        render_call_row_free(&row);
    issues_call(a->eng, c);
    report_trim(&a->rep, REPORT_CALLS);
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
    if (a->db && text) db_forward_registration(a->db, r, src, text);
    report_push(a->rep.spill, &a->rep.regs, &a->rep.nregs, &a->rep.capregs, r->seq, text);
    report_trim(&a->rep, REPORT_REGISTRATIONS);
    issues_registration(a->eng, r);
    a->rep.reg_registered += r->state == REG_REGISTERED;
    a->rep.reg_failed += r->state == REG_FAILED;
    a->rep.reg_challenged += r->state == REG_CHALLENGED;
}

static void on_stream_done(void *user, const struct rtp_stream *st)
{
    struct analysis *a = user;
    if (a->hep && !st->reported) /* a report is its agent's to send, not ours */
        hep_out_stream(a->hep, st);
    if (st->mos >= 0)
        web_observe(a->mx.mos, web_mos_bounds, WEB_MOS_BUCKETS, &a->mx.mos_sum, st->mos);
    if (st->mos >= 0) alerts_stream_mos(a->alerts, st->call_seq, st->mos);
    char src[IP_ADDR_PORT_STRLEN], dst[IP_ADDR_PORT_STRLEN];
    ip_addr_port_str(&st->src, st->sport, src, sizeof src);
    ip_addr_port_str(&st->dst, st->dport, dst, sizeof dst);
    json_t *o = render_stream_json(st, a->timelines);
    char *text = json_text(o);
    json_decref(o);
    if (a->db && text) db_forward_stream(a->db, st, src, dst, text);
    struct report *rep = &a->rep;
    if (report_push(rep->spill, &rep->streams, &rep->nstreams, &rep->capstreams, st->seq, text)) {
        rep->streams[rep->nstreams - 1].call_seq = st->call_seq;
        rep->streams[rep->nstreams - 1].mos = (float)st->mos;
        struct pending_call *p = db_forward_pending(a->db, st->call_seq);
        if (p && vec_grow((void **)&p->streams, &p->capstreams, p->nstreams, sizeof *p->streams, 4))
            p->streams[p->nstreams++] = rep->streams[rep->nstreams - 1];
    }
    /* the checks judge media measured here: a report has no frames, timeline or SDP ends
     * of its own to show as evidence */
    if (!st->reported) issues_stream(a->eng, st);
    report_trim(rep, REPORT_STREAMS);
}

/* Calls whose media is over are judged now, not at the end of the input: in a live capture
 * their issues reach the database while it runs, and memory follows the calls in progress. */
static void on_settle(void *user, ptime_t now, const struct stream_table *streams)
{
    struct analysis *a = user;
    issues_tick(a->eng, now, streams);
    alerts_tick(a->alerts, now, false);
}

/* The security watch's kinds: found at once, reported when their episode ends. */
static bool security_kind(enum issue_kind k)
{
    return k == ISSUE_SIP_SCAN || k == ISSUE_AUTH_BRUTE_FORCE || k == ISSUE_REGISTRATION_HIJACK ||
           k == ISSUE_TOLL_FRAUD_PATTERN;
}

/* A security finding, as it is made: --alerts counts it now, for its issue may be reported
 * a window or more later, with its episode's start as its time. */
static void on_found(void *user, const struct issue_finding *f)
{
    struct analysis *a = user;
    alerts_finding(a->alerts, f->kind, f->found, f->issue_time, f->who, f->account);
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
    if (!security_kind(is->kind)) /* those counted when found (on_found) */
        alerts_issue(a->alerts, is->call_seq, is->kind, is->time);
    struct report *rep = &a->rep;
    char *js = a->json || a->db ? issue_json_text(is) : NULL;
    if (a->db && js) db_forward_issue(a->db, is, js);
    struct pending_call *p = db_forward_pending(a->db, is->call_seq);
    if (!a->json) { /* the call's row holds the JSON (found in order); the report, text */
        if (p && js)
            report_push_issue(rep->spill, &p->issues, &p->nissues, &p->capissues, is, js);
        else
            free(js);
        js = NULL;
    }
    if (report_push_issue(rep->spill, &rep->issues, &rep->nissues, &rep->capissues, is,
                          a->json ? js : render_issue_text(is))) {
        rep->by_severity[is->severity]++;
        if (p && a->json &&
            vec_grow((void **)&p->issues, &p->capissues, p->nissues, sizeof *p->issues, 4))
            p->issues[p->nissues++] = rep->issues[rep->nissues - 1];
    }
    report_trim(rep, REPORT_ISSUES);
}

static void on_sip(void *user, const struct sip_event *ev, const struct msg_verdict *vp)
{
    struct analysis *a = user;
    const struct sip_msg *m = ev->msg;
    const struct msg_verdict v = *vp;
    char src[IP_ADDR_PORT_STRLEN], dst[IP_ADDR_PORT_STRLEN];
    kpi_message(a->kpi, m, v.retransmission);
    issues_sip(a->eng, ev, &v);
    if (a->hep)
        hep_out_sip(a->hep, ev, v.call_seq);
    if (!a->messages && !a->db) return;
    ip_addr_port_str(&ev->l4->src, ev->l4->sport, src, sizeof src);
    ip_addr_port_str(&ev->l4->dst, ev->l4->dport, dst, sizeof dst);
    if (a->db) db_forward_message(a->db, ev, &v, src, dst);
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

static void on_alert(void *user, const struct alert_event *ev)
{
    struct analysis *a = user;
    alert_hook_event(a->hook, ev);
}

/* The issue engine has found every issue of call seq: --db writes its row whole now. */
static void on_judged(void *user, uint64_t seq)
{
    struct analysis *a = user;
    db_forward_judged(a->db, seq);
    alerts_judged(a->alerts, seq);
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
                           .max_streams = res->max_streams,
                           .hep_received = res->hep_reports.received,
                           .hep_attached = res->hep_reports.attached,
                           .hep_orphaned = res->hep_reports.orphaned,
                           .hep_bad = res->hep_reports.bad,
                           .hep_evicted = res->hep_reports.evicted,
                           .max_hep_reports = res->max_hep_reports};
    memcpy(r.report_dropped, a->rep.report_dropped, sizeof r.report_dropped);
    r.security_evicted = issues_security_evicted(a->eng);
    return r;
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
    m->tls_flows = r->ds.tls_flows;
    m->tls_records = r->ds.tls_records;
    m->srtp_decrypted = r->ds.srtp_decrypted;
    m->srtp_auth_failures = r->ds.srtp_auth_failures;
    m->srtp_keyless = r->ds.srtp_keyless;
    m->srtp_replays = r->ds.srtp_replays;
    m->srtp_keys = r->ds.srtp_keys;
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
    m->hep_received = r->hep_reports.received;
    m->hep_attached = r->hep_reports.attached;
    m->hep_orphaned = r->hep_reports.orphaned;
    m->hep_bad = r->hep_reports.bad;
    for (int t = 0; t < MEM__COUNT; t++)
        m->table_bytes[t] = t == MEM_REPORT ? a->rep.report_bytes : r->mem.bytes[t];
    uint64_t sec_peak;
    issues_security_usage(a->eng, &m->table_bytes[MEM_SECURITY], &sec_peak);
    double asr = kpi_asr(a->kpi), ner = kpi_ner(a->kpi);
    m->asr = asr < 0 ? -1 : asr / 100;
    m->ner = ner < 0 ? -1 : ner / 100;
    if (a->db) db_forward_losses(a->db, &m->store_dropped, &m->store_failed);
    if (a->web)
        web_publish(a->web, m);
}

/* A live run's interfaces are open (and the web socket bound): said on stderr, which tests
 * and supervisors wait for; with capture --user, root is given up. */
static bool on_opened(void *user)
{
    struct analysis *a = user;
    char err[512];
    if (a->hep_listen)
        fprintf(stderr, "sipscope capture: capturing HEP at %s until Ctrl-C\n", a->hep_listen);
    else
        fprintf(stderr, "sipscope capture: capturing on %zu interface%s until Ctrl-C\n",
                a->nifaces, a->nifaces == 1 ? "" : "s");
    if (!a->run_as || service_drop_privileges(a->run_as, a->dbpath, err, sizeof err))
        return true;
    log_error("%s", err);
    return false;
}

static void on_tick(void *user, ptime_t now, const struct pipeline_result *sofar)
{
    (void)now;
    publish(user, sofar, true);
}

/* Logs as asked: their level, and for a capture run as a service syslog or a file. */
static bool open_logs(const struct analyze_opts *o)
{
    char err[512];
    log_set_level(o->verbose >= 2 ? LOG_DEBUG : o->verbose ? LOG_INFO : LOG_WARN);
    if (o->syslog) service_log_syslog();
    if (o->log_file && !service_log_file(o->log_file, err, sizeof err)) {
        fprintf(stderr, "sipscope %s: %s\n", o->cmd, err);
        return false;
    }
    return true;
}

/* The report's size: as given, else what its share of the budget holds (a list may reach
 * twice its limit before it is cut), and at most REPORT_LIVE_MAX live. */
static size_t report_max(const struct analyze_opts *o)
{
    if (o->report_max != UINT64_MAX) return (size_t)o->report_max;
    size_t n = mem_budget_entries(&o->budget, MEM_REPORT, 2 * sizeof(struct issue_out), 1000);
    return o->live && n > REPORT_LIVE_MAX ? REPORT_LIVE_MAX : n;
}

/* --alerts FILE: its rules, and the webhook its changes go to; the examples' links point
 * at our --serve when it has an address of its own (not every address, not port 0). */
static bool open_alerts(struct analysis *a, const struct analyze_opts *o)
{
    char why[256], base[160] = "";
    FILE *f = fopen(o->alerts, "rb");
    char text[65536];
    size_t n = f ? fread(text, 1, sizeof text, f) : 0;
    bool whole = f && feof(f) && !ferror(f);
    if (f) fclose(f);
    struct alert_rules *rules = whole ? malloc(sizeof *rules) : NULL;
    if (!whole)
        snprintf(why, sizeof why, "cannot read it whole (at most 64 KB)");
    else if (!rules)
        snprintf(why, sizeof why, "out of memory");
    if (!rules || !alert_rules_parse(text, n, rules, why, sizeof why)) {
        fprintf(stderr, "sipscope %s: --alerts %s: %s\n", o->cmd, o->alerts, why);
        free(rules);
        return false;
    }
    const char *l = o->web.cfg.listen, *colon = l ? strrchr(l, ':') : NULL;
    if (a->web && colon && strncmp(l, "0.0.0.0:", 8) && strncmp(l, "[::]:", 5) && l[0] != ':')
        snprintf(base, sizeof base, "%s://%.*s:%u", o->web.cfg.cert ? "https" : "http",
                 (int)(colon - l), l, web_port(a->web));
    a->hook = alert_hook_new(rules->webhook, base);
    a->alerts = a->hook ? alerts_new(rules, on_alert, a) : NULL;
    free(rules);
    if (!a->alerts) fprintf(stderr, "sipscope %s: out of memory\n", o->cmd);
    return a->alerts != NULL;
}

/* A list file's text (owned), or NULL having said why. */
static char *read_list(const struct analyze_opts *o, const char *path)
{
    FILE *f = fopen(path, "r");
    char *text = f ? malloc(65536) : NULL;
    size_t n = text ? fread(text, 1, 65535, f) : 0;
    bool whole = f && !ferror(f) && feof(f);
    if (f) fclose(f);
    if (!text || !whole) {
        fprintf(stderr, "sipscope %s: %s: %s\n", o->cmd, path,
                !f     ? strerror(errno)
                : text ? "unreadable, or over 64 KB"
                       : "out of memory");
        free(text);
        return NULL;
    }
    text[n] = 0;
    return text;
}

/* --scanner-agents, --toll-prefixes: the security watch's lists. */
static bool security_lists(struct issue_engine *eng, const struct analyze_opts *o)
{
    char *agents = NULL, *prefixes = NULL, err[256];
    bool ok = (!o->scanner_agents || (agents = read_list(o, o->scanner_agents))) &&
              (!o->toll_prefixes || (prefixes = read_list(o, o->toll_prefixes)));
    if (ok && !(ok = issues_security_lists(eng, agents, prefixes, err, sizeof err)))
        fprintf(stderr, "sipscope %s: %s\n", o->cmd, err);
    free(agents);
    free(prefixes);
    return ok;
}

/* Opens what the run writes to: the report's spill file, the issue engine, HEP out, the
 * database, the web server. false: said why on stderr (close_all closes what was open). */
static bool open_outputs(struct analysis *a, struct analyze_opts *o, struct pipeline_handlers *h)
{
    char err[512];
    if (!report_open(&a->rep, report_max(o))) {
        fprintf(stderr, "sipscope %s: cannot create a temporary file: %s\n", o->cmd,
                strerror(errno));
        return false;
    }
    if (!(a->kpi = malloc(sizeof *a->kpi)) || !(a->eng = issues_new(&o->icfg, on_issue, a))) {
        fprintf(stderr, "sipscope %s: out of memory\n", o->cmd);
        return false;
    }
    kpi_init(a->kpi);
    if (!security_lists(a->eng, o)) return false;
    issues_security_memory(a->eng, (size_t)o->budget.share[MEM_SECURITY]);
    issues_on_judged(a->eng, on_judged); /* --db: rows written whole as calls are judged */
    issues_on_found(a->eng, on_found);   /* --alerts: security findings as they are made */
    if (o->messages)
        a->sdp = malloc(sizeof *a->sdp); /* NULL: messages show no SDP, nothing worse */
    if (o->hep_out &&
        !(a->hep = hep_out_open(o->hep_out, (uint32_t)o->hep_id, getenv("SIPSCOPE_HEP_KEY"),
                                o->live, err, sizeof err))) {
        fprintf(stderr, "sipscope %s: %s\n", o->cmd, err);
        return false;
    }
    if (o->db) {
        if (!(a->db = db_forward_open(o->db, o->probe, &o->wcfg, o->db_no_raw, o->spool_rtp,
                                      o->kcfg.max_calls, a->rep.spill, &o->kcfg.first_call_seq,
                                      &h->first_stream_seq, err, sizeof err))) {
            fprintf(stderr, "sipscope %s: --db %s\n", o->cmd, err);
            return false;
        }
        a->rep.other_low = db_forward_low; /* its calls in waiting keep texts in the file */
        a->rep.other = a->db;
    }
    if (o->web.cfg.listen) {
        if (!(a->web = web_opts_start(&o->web, err, sizeof err))) {
            fprintf(stderr, "sipscope %s: --serve %s\n", o->cmd, err);
            return false;
        }
        fprintf(stderr, "sipscope %s: serving %s on port %u\n", o->cmd,
                o->web.cfg.cert ? "https" : "http", web_port(a->web));
    }
    return !o->alerts || open_alerts(a, o);
}

/* The pipeline's handlers for what was opened. */
static void set_handlers(struct analysis *a, const struct analyze_opts *o,
                         struct pipeline_handlers *h)
{
    h->sip = on_sip, h->call = on_call_done, h->reg = on_reg_done;
    h->stream = on_stream_done, h->settle = on_settle, h->tick = on_tick, h->user = a;
    h->media = o->spool_rtp && a->db ? on_media : NULL;
    h->rtcp = a->hep ? on_rtcp : NULL;
    h->stream_idle = o->stream_idle_ns;
    h->keep_duplicates = o->keep_duplicates;
    h->tone_plan = o->have_plan ? &o->plan : NULL;
    h->no_audio = o->no_audio;
    h->tls_keylogs = o->tls_keylogs;
    h->n_tls_keylogs = o->n_tls_keylogs;
    h->budget = &o->budget;
    if (o->live && a->db) h->call_progress = on_call_progress;
    a->run_as = o->run_as;
    a->dbpath = o->db;
    a->hep_listen = o->hep_listen;
    a->nifaces = o->nifaces;
    if (o->live) h->opened = on_opened;
}

static void close_hep(struct analysis *a)
{
    struct hep_out_counts n;
    hep_out_close(a->hep, &n);
    a->hep = NULL;
    log_info("HEP out: %llu SIP messages sent, %llu not; %llu RTCP packets, %llu not; "
             "%llu stream reports, %llu not",
             (unsigned long long)n.sent[HEP_OUT_SIP], (unsigned long long)n.failed[HEP_OUT_SIP],
             (unsigned long long)n.sent[HEP_OUT_RTCP], (unsigned long long)n.failed[HEP_OUT_RTCP],
             (unsigned long long)n.sent[HEP_OUT_REPORT],
             (unsigned long long)n.failed[HEP_OUT_REPORT]);
    uint64_t failed = n.failed[HEP_OUT_SIP] + n.failed[HEP_OUT_RTCP] + n.failed[HEP_OUT_REPORT];
    if (failed) log_warn("HEP out: %llu packets could not be sent", (unsigned long long)failed);
}

/* Runs the pipeline over the inputs; then what waited on media is judged. false: said why. */
static bool run(struct analysis *a, struct analyze_opts *o, const struct pipeline_handlers *h,
                struct pipeline_result *res)
{
    char err[512];
    bool progress = o->progress < 0 ? isatty(STDERR_FILENO) : o->progress;
    if (o->live
            ? pipeline_run_live(o->ifaces, o->nifaces, &o->lcfg, &o->kcfg, h, res, err, sizeof err)
            : pipeline_run(o->files, o->nfiles, &o->kcfg, h, progress, res, err, sizeof err)) {
        fprintf(stderr, "sipscope %s: %s\n", o->cmd, err);
        return false;
    }
    res->mem.bytes[MEM_REPORT] = a->rep.report_bytes;
    res->mem.peak[MEM_REPORT] = a->rep.report_peak;
    issues_security_usage(a->eng, &res->mem.bytes[MEM_SECURITY], &res->mem.peak[MEM_SECURITY]);
    if (res->interrupted && !o->live) log_warn("interrupted: reporting what was read so far");
    if (o->live)
        log_info("capture stopped: %llu packets analysed, %llu dropped by the kernel, %llu by "
                 "our ring",
                 (unsigned long long)res->cs.packets, (unsigned long long)res->cs.dropped,
                 (unsigned long long)res->cs.ring_dropped);
    if (o->live && (res->cs.dropped || res->cs.ring_dropped))
        log_warn("capture: %llu packets dropped by the kernel, %llu by our ring (analysis "
                 "behind)",
                 (unsigned long long)res->cs.dropped, (unsigned long long)res->cs.ring_dropped);
    issues_finish(a->eng, res->cs.last_ts); /* calls waiting for their media are judged */
    alerts_tick(a->alerts, res->cs.last_ts, true);
    publish(a, res, o->live);
    if (a->hep) close_hep(a);
    return true;
}

/* The end: the database's last rows and its run, then the report on stdout. The exit
 * status: 1 when a record was lost or stdout failed. */
static int finish(struct analysis *a, const struct analyze_opts *o,
                  const struct pipeline_result *res)
{
    report_finish(&a->rep);
    struct render_run run = run_of(a, o->files, o->nfiles, res);
    int rc = 0;
    if (a->db && !db_forward_close(a->db, &run, a->kpi)) rc = 1;
    a->db = NULL;
    if (o->json)
        rc |= report_print_json(&a->rep, &run, a->kpi, a->messages, a->eng != NULL);
    else
        report_print_text(&a->rep, &run);
    return rc;
}

/* Everything still open, whatever stopped the run (the web server apart: it may serve on). */
static void close_all(struct analysis *a)
{
    hep_out_close(a->hep, NULL);
    alert_hook_free(a->hook); /* after the last tick: what it queued is sent */
    alerts_free(a->alerts);
    a->hook = NULL, a->alerts = NULL;
    db_forward_close(a->db, NULL, NULL);
    json_decref(a->messages);
    issues_free(a->eng);
    report_close(&a->rep);
    free(a->kpi);
    free(a->sdp);
    a->hep = NULL, a->db = NULL, a->messages = NULL, a->eng = NULL, a->kpi = NULL;
    a->sdp = NULL;
}

static int analyze_main(int argc, char **argv, bool live)
{
    struct analyze_opts o;
    int rc = analyze_opts_parse(&o, live, argc, argv);
    if (rc >= 0) {
        analyze_opts_free(&o);
        return rc;
    }
    struct analysis a = {.json = o.json,
                         .timelines = o.timelines,
                         .messages = o.messages && o.json ? json_array() : NULL};
    /* caught from here on: a signal while outputs open stops the run at its first packet */
    stop_catch();
    struct pipeline_handlers h = {.stop = stop_flag()};
    struct pipeline_result res;
    bool ran = false;
    rc = 1;
    if (open_logs(&o) && open_outputs(&a, &o, &h)) {
        set_handlers(&a, &o, &h);
        if ((ran = run(&a, &o, &h, &res))) rc = finish(&a, &o, &res);
    }
    close_all(&a);
    if (ran && a.web && !live) { /* a capture was stopped by the signal that ends it all */
        /* a Ctrl-C that interrupted the analysis does not end this; one from now on does */
        stop_catch();
        fflush(stdout);
        fprintf(stderr, "sipscope analyze: done; serving on port %u until Ctrl-C\n",
                web_port(a.web));
        stop_wait();
    }
    web_stop(a.web);
    analyze_opts_free(&o);
    return rc;
}

int cmd_analyze(int argc, char **argv)
{
    return analyze_main(argc, argv, false);
}

int cmd_capture(int argc, char **argv)
{
    return analyze_main(argc, argv, true);
}
