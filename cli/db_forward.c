/* See db_forward.h. */
#include "db_forward.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/hash.h"
#include "common/log.h"
#include "common/vec.h"
#include "correlate/correlate.h"
#include "decode/sip.h"
#include "render/ids.h"
#include "render/jsontext.h"
#include "render/stream.h"
#include "store/spool.h"
#include "store/store.h"

struct db_forward {
    const char *path;
    struct store *db;          /* owned */
    struct store_writer *dbw;  /* owned: the writer thread, the only user of db meanwhile */
    struct media_spool *spool; /* owned: --spool-rtp */
    struct htab *pending;      /* owned: struct pending_call by call number */
    FILE *spill;               /* borrowed: the report's */
    int64_t run;               /* this analysis's row in the runs table */
    bool failed;               /* a record could not be rendered for it */
    bool no_raw;               /* --db-no-raw */
};

static bool pending_eq(const void *item, const void *key)
{
    return ((const struct pending_call *)item)->seq == *(const uint64_t *)key;
}

static uint64_t pending_hash(uint64_t seq)
{
    return hash_bytes(&seq, sizeof seq, 0x9e11d);
}

struct pending_call *db_forward_pending(struct db_forward *a, uint64_t seq)
{
    if (!a || !a->pending || !seq) return NULL;
    uint64_t h = pending_hash(seq);
    struct pending_call *p = htab_find(a->pending, h, &seq);
    if (p) return p;
    if (!(p = calloc(1, sizeof *p))) return NULL;
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

off_t db_forward_low(const void *d)
{
    const struct db_forward *a = d;
    off_t low = -1;
#define LOW(o) (low = low < 0 || (o) < low ? (o) : low)
    size_t pos = 0;
    const struct pending_call *p;
    while (a && a->pending && (p = htab_next(a->pending, &pos))) {
        if (p->have_call) LOW(p->call.off);
        for (size_t i = 0; i < p->nstreams; i++)
            LOW(p->streams[i].off);
        for (size_t i = 0; i < p->nissues; i++)
            LOW(p->issues[i].off);
    }
#undef LOW
    return low;
}

/* A call into the database (through the writer): its JSON text, and the columns the API
 * filters on as render_call() gave them. mos_min (< 0 none) and kinds ("" none) are those
 * of the streams and issues the text holds. */
static void db_call(struct db_forward *a, const struct render_call_row *row, const char *json,
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

void db_forward_call(struct db_forward *d, const struct render_call_row *row, bool progress)
{
    db_call(d, row, row->json, -1, "", false, progress);
}

void db_forward_failed(struct db_forward *d)
{
    d->failed = true;
}

/* A SIP message for the database: its fields, its raw text and the frame that completed
 * it (with the link type, so that a call exports as a pcap). */
void db_forward_message(struct db_forward *a, const struct sip_event *ev,
                        const struct msg_verdict *v, const char *src, const char *dst)
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
    struct sv meth = SV_NULL;
    if (cseqh && sip_cseq_parse(cseqh->value, &num, &meth))
        snprintf(cseq, sizeof cseq, "%u %.*s", num, (int)(meth.n < 64 ? meth.n : 64), meth.p);
    /* The keys that join this call to its other legs on other probes: an INVITE and its
     * 2xx carry them all (the 2xx the callee's Session-ID UUID), once is enough */
    char x_cid[256] = "", sid_local[33] = "", sid_remote[33] = "";
    bool keys = v->call_seq && !v->retransmission && sv_eq_cstr(meth, "INVITE") &&
                (m->is_request || (m->status >= 200 && m->status < 300));
    if (keys) {
        if (m->is_request) sip_named_call_id(m, x_cid, sizeof x_cid);
        sip_session_id(m, sid_local, sid_remote);
    }
    const struct packet *p = ev->l4->pkt;
    /* A message carried whole in its frame (UDP) is stored once, as a slice of the frame;
     * a reassembled one (TCP segments, IP fragments) lies elsewhere and is stored as is.
     * The addresses are compared as integers: the two may be unrelated objects. */
    uintptr_t r = (uintptr_t)ev->raw, f = (uintptr_t)p->data;
    bool in_frame =
        ev->raw && p->data && r >= f && r - f <= p->caplen && ev->raw_len <= p->caplen - (r - f);
    size_t raw_off = in_frame ? (size_t)(r - f) : 0;
    store_writer_message(
        a->dbw, &(struct store_message){.call_seq = v->call_seq,
                                        .frame = p->frame,
                                        .time = ptime_to_epoch_s(p->ts),
                                        .src = src,
                                        .dst = dst,
                                        .transport = sip_transport_name(ev->transport),
                                        .method = m->is_request ? method : NULL,
                                        .status = m->status,
                                        .reason = m->is_request || !m->reason.p ? NULL : reason,
                                        .malformed = m->malformed,
                                        .call_id = cidh ? cid : NULL,
                                        .call_id_len = cid_len,
                                        .cseq = cseq[0] ? cseq : NULL,
                                        .retransmission = v->retransmission,
                                        .raw_len = ev->raw_len,
                                        .raw = a->no_raw || in_frame ? NULL : ev->raw,
                                        .raw_in_frame = in_frame && !a->no_raw,
                                        .raw_off = raw_off,
                                        .linktype = p->linktype,
                                        .frame_bytes = a->no_raw ? NULL : p->data,
                                        .frame_len = a->no_raw ? 0 : p->caplen,
                                        .keys = keys,
                                        .x_cid = x_cid,
                                        .session_local = sid_local,
                                        .session_remote = sid_remote});
}

void db_forward_stream(struct db_forward *d, const struct rtp_stream *st, const char *src,
                       const char *dst, const char *json)
{
    json_t *tl = render_timeline_json(st);
    char *tls = json_text(tl);
    json_decref(tl);
    store_writer_stream(d->dbw,
                        &(struct store_stream){.seq = st->seq,
                                               .call_seq = st->call_seq,
                                               .src = src,
                                               .dst = dst,
                                               .codec = st->codec[0] ? st->codec : NULL,
                                               .first_time = ptime_to_epoch_s(st->first_time),
                                               .last_time = ptime_to_epoch_s(st->last_time),
                                               .mos = st->mos,
                                               .json = json,
                                               .timeline = tls});
    free(tls);
}

void db_forward_registration(struct db_forward *d, const struct registration *r, const char *src,
                             const char *json)
{
    store_writer_registration(
        d->dbw, &(struct store_registration){.aor = r->aor,
                                             .contact = r->contact,
                                             .source = src,
                                             .state = reg_state_name(r->state),
                                             .first_time = ptime_to_epoch_s(r->first_time),
                                             .last_time = ptime_to_epoch_s(r->last_time),
                                             .json = json});
}

void db_forward_issue(struct db_forward *d, const struct issue *is, const char *json)
{
    store_writer_issue(d->dbw, &(struct store_issue){.kind = issue_kind_name(is->kind),
                                                     .severity = issue_severity_name(is->severity),
                                                     .call_seq = is->call_seq,
                                                     .stream_seq = is->stream_seq,
                                                     .registration = is->registration,
                                                     .time = ptime_to_epoch_s(is->time),
                                                     .json = json});
}

void db_forward_media(struct db_forward *d, uint64_t call_seq, const struct packet *p)
{
    if (d->spool) /* NULL: it could not be made (said when opening) */
        media_spool_frame(d->spool, call_seq, p->ts, p->linktype, p->data, p->caplen,
                          p->wirelen);
}

void db_forward_call_ended(struct db_forward *d, uint64_t seq)
{
    if (d->spool) media_spool_call_done(d->spool, seq);
}

/* A call's row, whole: as the document shows it (its streams, worst MOS and issues filled
 * in), with the columns the API filters on taken from that very object. */
static void write_whole_call(struct db_forward *a, struct pending_call *p)
{
    if (p->nstreams) qsort(p->streams, p->nstreams, sizeof *p->streams, report_by_seq);
    if (p->nissues) qsort(p->issues, p->nissues, sizeof *p->issues, report_issue_by_call);
    char *text = NULL;
    size_t len = 0, k = 0, ki = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem) return;
    report_print_call(a->spill, &p->call, p->streams, p->nstreams, &k, p->issues, p->nissues, &ki,
                      true, mem);
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

void db_forward_judged(struct db_forward *a, uint64_t seq)
{
    struct pending_call *p =
        a && a->pending ? htab_remove(a->pending, pending_hash(seq), &seq) : NULL;
    if (p && p->have_call) write_whole_call(a, p);
    pending_free(p);
}

static int pending_by_seq(const void *x, const void *y)
{
    uint64_t p = (*(struct pending_call *const *)x)->seq,
             q = (*(struct pending_call *const *)y)->seq;
    return p < q ? -1 : p > q;
}

/* At the end: the rows still waiting (none, unless memory ran short), in call order. */
static void write_db_calls(struct db_forward *a)
{
    size_t n = htab_count(a->pending), pos = 0, i = 0;
    struct pending_call **all = n ? malloc(n * sizeof *all) : NULL, *p;
    while ((p = htab_next(a->pending, &pos))) {
        if (all)
            all[i++] = p;
        else
            pending_free(p);
    }
    if (i) qsort(all, i, sizeof *all, pending_by_seq);
    for (size_t k = 0; k < i; k++) {
        if (all[k]->have_call) write_whole_call(a, all[k]);
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

struct db_forward *db_forward_open(const char *path, const char *probe,
                                   const struct store_writer_config *wcfg_in, bool no_raw,
                                   bool spool, size_t max_calls, FILE *spill, uint64_t *first_call,
                                   uint64_t *first_stream, char *err, size_t errlen)
{
    struct db_forward *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    *a = (struct db_forward){.path = path, .spill = spill, .no_raw = no_raw, .run = -1};
    if (!(a->db = store_open(path, err, errlen))) {
        free(a);
        return NULL;
    }
    /* every row says which probe wrote it: several write one PostgreSQL database */
    char host[256] = "";
    if (!probe && gethostname(host, sizeof host - 1) == 0) probe = host;
    store_set_probe(a->db, probe);
    /* a database may hold earlier analyses: this one's calls and streams are numbered
     * after theirs (PostgreSQL: in this run's own block of ids, as other probes write at
     * once), so ids stay unique in the database and the same in the output */
    *first_call = store_max_call_seq(a->db);
    *first_stream = store_max_stream_seq(a->db);
    if ((a->run = store_run_begin(a->db, (double)time(NULL), *first_call + 1)) < 0)
        log_warn("database: %s", store_error(a->db)); /* the run's row only; go on */
    struct store_writer_config wcfg = *wcfg_in;
    wcfg.on_commit = on_db_commit;
    if (!(a->pending = htab_new(SIZE_MAX / 8, pending_eq)) ||
        !(a->dbw = store_writer_start(a->db, &wcfg, err, errlen))) {
        if (!a->pending) snprintf(err, errlen, "out of memory");
        db_forward_close(a, NULL, NULL);
        return NULL;
    }
    if (spool && !(a->spool = media_spool_new(a->dbw, 0, 0, max_calls)))
        log_warn("media spool: out of memory; media not kept");
    return a;
}

void db_forward_losses(struct db_forward *d, uint64_t *dropped, uint64_t *failed)
{
    struct store_writer_stats ws;
    store_writer_stats(d->dbw, &ws);
    *dropped = *failed = 0;
    for (int k = 0; k < STORE_KINDS; k++) {
        *dropped += ws.dropped[k];
        *failed += ws.failed[k];
    }
}

bool db_forward_close(struct db_forward *a, const struct render_run *run, const struct kpi *kpi)
{
    if (!a) return true;
    struct media_spool_stats ms;
    media_spool_free(a->spool, &ms);
    if (a->spool)
        log_info("media spool: %llu frames (%llu bytes) of calls kept in %llu chunks, "
                 "%llu not kept",
                 (unsigned long long)ms.packets, (unsigned long long)ms.bytes,
                 (unsigned long long)ms.chunks, (unsigned long long)ms.dropped);
    struct store_writer_stats stats = {0};
    if (a->pending) write_db_calls(a);
    if (a->dbw && !store_writer_stop(a->dbw, &stats)) a->failed = true;
    if (run && a->run >= 0) {
        json_t *o = json_pack("{s:o, s:o}", "capture", render_capture_json(run), "stats",
                              render_stats_json(kpi));
        char *text = o ? json_text(o) : NULL;
        if (!store_run_end(a->db, a->run, (double)time(NULL), store_max_call_seq(a->db), text))
            log_warn("database: %s", store_error(a->db));
        free(text);
        json_decref(o);
    }
    if (!store_close(a->db)) a->failed = true;
    bool ok = !a->failed;
    if (!ok) report_db_loss(a->path, &stats);
    free(a);
    return ok;
}
