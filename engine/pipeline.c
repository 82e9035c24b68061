/* See pipeline.h. */
#include "pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture/hep_io.h"
#include "common/cursor.h"
#include "common/log.h"
#include "common/stop.h"
#include "decode/rtcp.h"
#include "decode/rtp.h"
#include "hep_in.h"
#include "progress.h"

#define ANSWERED_SLOTS 4096

struct run {
    const struct pipeline_handlers *h;
    struct decoder *dec;
    struct correlator *corr;
    struct stream_table *streams;
    struct hep_in *hep; /* media quality HEP agents reported */
    struct classifier *cls;
    uint64_t rtcp_packets;
    uint64_t rtcp_errors[RTCP__COUNT];
    struct log_ratelimit rtcp_log;
    struct progress prog;
    struct capture_source *src;
    uint64_t packets;
    bool live;
    /* live: packet time minus the clock at the last SIP message (0 on a capture, the
     * original capture's age through HEP), so that idle ticks advance packet time */
    ptime_t clock_offset;
    /* calls changed by a message stamped after this were not shown in progress yet: the
     * newest SIP stamp at the last showing. Not the clock: a live capture's packets come
     * in blocks, stamped before the tick that hands them on, so a call set up within one
     * block would be stamped before a clock-time mark and never shown while it is up. */
    ptime_t progress_since;
    ptime_t sip_newest; /* the newest SIP message's stamp so far */
    /* offline: which calls were handed on (bit per call number after `ended_base`), so
     * that their idle streams can end before the capture does; one bit per call */
    uint64_t *ended;
    size_t ended_words;
    uint64_t ended_base;
    ptime_t offline_tick;
    ptime_t settled; /* when settle was last called */
    /* live: calls or streams handed on since settle was last called (what settle judges
     * may be ready now) */
    bool ended_since_settle;
    ptime_t dedup_window; /* mirror copies: decode_config.dedup_window */
    /* calls whose INVITE a 2xx answered, by call number, direct-mapped: a bounded cache
     * (a collision forgets an older call, whose new streams then count as early media:
     * tones listened for longer, nothing wrong) for the streams' tone window (issue 24) */
    uint64_t answered[ANSWERED_SLOTS];
    uint64_t hint; /* the frame's (rtp_hint): its stream's hash, a guess (stream_rtp_copy) */
    struct mem_usage mem; /* the tables' bytes, sampled (sample_memory) */
    uint64_t max_calls, max_transactions, max_media, max_registrations, max_streams;
    uint64_t max_hep_reports;
};

/* The tables' bytes now, and their peaks: sampled every MEM_SAMPLE packets (a flood fills
 * a table in far more), at each tick and before the end hands everything on. */
#define MEM_SAMPLE 4096
static void sample_memory(struct run *r)
{
    correlate_memory(r->corr, &r->mem);
    decoder_memory(r->dec, &r->mem);
    mem_usage_set(&r->mem, MEM_STREAMS, stream_table_bytes(r->streams));
    mem_usage_set(&r->mem, MEM_HEP_REPORTS, hep_in_bytes(r->hep));
}

/* How long a stream may go without a packet before it ends: live, any stream; offline,
 * a stream of an ended call. */
static ptime_t stream_idle(const struct run *r)
{
    return r->h->stream_idle ? r->h->stream_idle : 10 * PTIME_SEC;
}

static bool call_ended(void *ctx, uint64_t seq)
{
    const struct run *r = ctx;
    if (seq <= r->ended_base)
        return false;
    uint64_t i = seq - r->ended_base - 1;
    return i / 64 < r->ended_words && (r->ended[i / 64] >> (i % 64) & 1);
}

static void on_call(void *user, const struct call *c)
{
    struct run *r = user;
    if (!r->live && c->seq > r->ended_base) {
        uint64_t i = c->seq - r->ended_base - 1;
        if (i / 64 >= r->ended_words) {
            size_t n = r->ended_words ? r->ended_words * 2 : 64;
            while (n <= i / 64)
                n *= 2;
            uint64_t *v = realloc(r->ended, n * sizeof *v);
            if (v) { /* no memory: its streams wait for the end, as they always did */
                memset(v + r->ended_words, 0, (n - r->ended_words) * sizeof *v);
                r->ended = v;
                r->ended_words = n;
            }
        }
        if (i / 64 < r->ended_words)
            r->ended[i / 64] |= (uint64_t)1 << (i % 64);
    }
    r->ended_since_settle = true;
    if (r->h->call)
        r->h->call(r->h->user, c);
}

static void on_stream(void *user, const struct rtp_stream *s)
{
    struct run *r = user;
    r->ended_since_settle = true;
    if (r->h->stream)
        r->h->stream(r->h->user, s);
}

/* The correlator hands registrations to the user given for calls: pass them on. */
static void on_reg(void *user, const struct registration *g)
{
    struct run *r = user;
    r->h->reg(r->h->user, g);
}

/* Runs on the read-ahead thread (capture_readahead_hinted): which RTP stream a frame
 * belongs to, as the stream table's hash, from the frame alone; 0 for anything else. The
 * analysis then skips hashing a stream key per packet, and checks the guess. */
static uint64_t rtp_hint(void *ctx, const struct packet *p)
{
    const uint64_t *seed = ctx;
    struct udp_peek u;
    uint32_t ssrc;
    uint8_t b0;
    /* RTP's version and SSRC, no more: a wrong guess costs a lookup, not a wrong stream */
    if (!decode_peek_udp(p, &u) || rtcp_looks_like(u.payload, u.len))
        return 0;
    struct cursor c = cursor_make(u.payload, u.len);
    if (!cursor_peek_u8(&c, 0, &b0) || b0 >> 6 != 2 || !cursor_skip(&c, 8) ||
        !cursor_u32be(&c, &ssrc))
        return 0;
    uint64_t hash = stream_key_hash(*seed, &u.src, u.sport, &u.dst, u.dport, ssrc);
    return hash ? hash : 1;
}

static bool on_packet(void *user, const struct packet *pkt)
{
    struct run *r = user;
    r->hint = pkt->hint;
    decoder_frame(r->dec, pkt);
    progress_tick(&r->prog, r->src, ++r->packets);
    if (r->h->progress && r->packets % 65536 == 0) {
        struct capture_stats cs;
        capture_get_stats(r->src, &cs);
        r->h->progress(r->h->user, &cs);
    }
    if (r->packets % MEM_SAMPLE == 0)
        sample_memory(r);
    if (!r->live && pkt->ts - r->offline_tick >= PTIME_SEC) { /* once a second of packets */
        r->offline_tick = pkt->ts;
        stream_tick_ended(r->streams, pkt->ts, stream_idle(r), call_ended, r);
        hep_in_tick(r->hep, pkt->ts, stream_idle(r));
        if (r->h->settle && pkt->ts - r->settled >= PIPELINE_SETTLE) {
            r->settled = pkt->ts;
            r->h->settle(r->h->user, pkt->ts, r->streams);
        }
    }
    return true;
}

/* A stream's first packet: announced RTP (correlate_media_flow: by its destination, or by
 * its source for symmetric RTP behind NAT; which ends were announced is kept), or a
 * candidate for nDPI when no SDP spoke of its ports (RTP uses unprivileged ports: 53, 123
 * and the like are never judged). */
static enum stream_origin resolve_rtp(void *ctx, const struct l4_packet *l4,
                                      struct media_match *mm, bool *src_ann, bool *dst_ann)
{
    const struct run *r = ctx;
    if (correlate_media_flow(r->corr, l4, mm, src_ann, dst_ann)) {
        mm->answered = r->answered[mm->call_seq % ANSWERED_SLOTS] == mm->call_seq;
        return mm->rtp && !mm->rtcp ? STREAM_ANNOUNCED : STREAM_IGNORE;
    }
    return l4->sport >= 1024 && l4->dport >= 1024 && l4->l3 ? STREAM_CANDIDATE : STREAM_IGNORE;
}

/* UDP media: RTP to the streams (a known stream costs one lookup, a new one asks whether
 * SDP announced it); RTCP (told from RTP by its packet type, RFC 5761 §4) decoded and
 * attached to the streams it reports on. RTCP is counted when an SDP announced its port
 * or it spoke of a stream we follow; malformed RTCP is counted only on announced ports
 * (elsewhere the bytes merely looked like RTCP).
 *
 * Mirror copies: the decoder leaves the check of RTP-looking datagrams to this handler.
 * A followed stream knows its own last packet; anything else asks the decoder's table.
 * Returns true for a copy, which the decoder then drops. */
static bool on_udp(void *user, const struct l4_packet *l4)
{
    struct run *r = user;
    struct rtp_hdr h;
    if (rtcp_looks_like(l4->payload, l4->len)) {
        if (decoder_dedup_deferred(r->dec, l4)) /* no stream holds RTCP's last packet */
            return true;
        struct media_match mm;
        struct rtcp_info info;
        bool src_ann, dst_ann;
        bool ann = correlate_media_flow(r->corr, l4, &mm, &src_ann, &dst_ann) && mm.rtp;
        enum rtcp_status st = rtcp_parse(l4->payload, l4->len, &info);
        if (st != RTCP_OK) {
            if (ann) {
                r->rtcp_errors[st]++;
                if (log_ratelimit_ok(&r->rtcp_log, l4->pkt->ts, 60 * PTIME_SEC))
                    log_info("malformed RTCP in frame %llu: %s",
                             (unsigned long long)l4->pkt->frame, rtcp_status_name(st));
            }
            return false;
        }
        if (!stream_rtcp(r->streams, l4, &info) && !ann)
            return false;
        r->rtcp_packets++;
        if (r->h->rtcp)
            r->h->rtcp(r->h->user, ann ? mm.call_seq : 0, l4, &info);
        if (ann && mm.call_seq && r->h->media)
            r->h->media(r->h->user, mm.call_seq, l4->pkt);
        return false;
    }
    const struct rtp_stream *s = NULL;
    bool copy = false;
    if (rtp_parse(l4->payload, l4->len, &h))
        s = stream_rtp_copy(r->streams, l4, &h, resolve_rtp, r, r->dedup_window,
                            l4->dedup_deferred ? &copy : NULL, r->hint);
    if (copy)
        return true;
    if (!s) /* no stream took it: the decoder's table says (SIP, DNS, other UDP go on) */
        return decoder_dedup_deferred(r->dec, l4);
    if (s->call_seq && r->h->media)
        r->h->media(r->h->user, s->call_seq, l4->pkt);
    return false;
}

static ptime_t wall_now(void);

/* A 2xx to an INVITE answers its call (RFC 3261 §13.2.2.4). */
static bool answers_invite(const struct sip_msg *m)
{
    const struct sip_header *ch = sip_hdr(m, SIP_H_CSEQ);
    uint32_t num;
    struct sv meth = SV_NULL;
    return !m->is_request && m->status >= 200 && m->status < 300 && ch &&
           sip_cseq_parse(ch->value, &num, &meth) && sv_eq_cstr(meth, "INVITE");
}

static void on_sip(void *user, const struct sip_event *ev)
{
    struct run *r = user;
    if (r->live)
        r->clock_offset = ev->l4->pkt->ts - wall_now();
    if (ev->l4->pkt->ts > r->sip_newest)
        r->sip_newest = ev->l4->pkt->ts;
    struct msg_verdict v;
    correlate_sip(r->corr, ev, &v);
    if (v.call_seq && answers_invite(ev->msg))
        r->answered[v.call_seq % ANSWERED_SLOTS] = v.call_seq;
    if (r->h->sip)
        r->h->sip(r->h->user, ev, &v);
}

static uint64_t hep_call_of(void *ctx, struct sv call_id)
{
    const struct run *r = ctx;
    return correlate_call_seq(r->corr, call_id);
}

/* RTCP and quality reports a HEP agent sent, at the agent's time when it gave one. */
static void on_hep_report(void *user, const struct l4_packet *outer, const struct hep_msg *m)
{
    struct run *r = user;
    hep_in_report(r->hep, m, m->has_time ? m->time : outer->pkt->ts);
}

/* DNS beside SIP: look-ups are followed by the correlator, to be tied to calls. */
static void on_dns(void *user, const struct l4_packet *l4, const struct dns_msg *m)
{
    struct run *r = user;
    correlate_dns(r->corr, l4, m);
}

static ptime_t wall_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (ptime_t)t.tv_sec * PTIME_SEC + t.tv_nsec;
}

/* The figures so far (at a tick, and at the end). */
static void figures(const struct run *r, struct pipeline_result *out)
{
    memset(out, 0, sizeof *out);
    capture_get_stats(r->src, &out->cs);
    decoder_get_stats(r->dec, &out->ds);
    correlate_get_stats(r->corr, &out->ks);
    for (int k = 0; k < DR__COUNT; k++) /* SDP and bodies are read by the correlator */
        out->ds.errors[k] += out->ks.errors[k];
    out->rtp_packets = stream_packets(r->streams);
    out->rtcp_packets = r->rtcp_packets;
    memcpy(out->rtcp_errors, r->rtcp_errors, sizeof out->rtcp_errors);
    out->streams_evicted = stream_evicted(r->streams);
    out->orphans_evicted = stream_orphans_evicted(r->streams);
    out->flows_evicted = stream_flows_evicted(r->streams);
    out->active_calls = correlate_active_calls(r->corr);
    out->active_streams = stream_active(r->streams);
    out->mem = r->mem;
    out->max_calls = r->max_calls;
    out->max_transactions = r->max_transactions;
    out->max_media = r->max_media;
    out->max_registrations = r->max_registrations;
    out->max_streams = r->max_streams;
    hep_in_get_counts(r->hep, &out->hep_reports);
    out->max_hep_reports = r->max_hep_reports;
}

/* A live source's loop: packets as they come; about once a second while packets come
 * (packet time), and at each pause of the source (CAPTURE_IDLE, 200 ms without a packet:
 * the clock), the calls and streams whose time is up are handed on, as the end of a file
 * would hand on all of them, and judged at once: a link that falls silent after its last
 * call gets that call's record within --stream-idle and a tick, not at the next packet
 *. Calls in progress and the figures go out once a second. */
static void run_live(struct run *r, const volatile sig_atomic_t *stop)
{
    struct packet pkt;
    enum capture_status st;
    ptime_t last_tick = 0;
    bool stopping = false;
    /* on SIGINT/SIGTERM the interfaces stop, and what they had queued is still analysed */
    while ((st = capture_next(r->src, &pkt)) != CAPTURE_EOF && st != CAPTURE_ERROR) {
        if (*stop && !stopping) {
            stopping = true;
            capture_stop(r->src);
        }
        if (st == CAPTURE_OK)
            on_packet(r, &pkt);
        /* a live frame's stamp is the clock's (the kernel's, or HEP's arrival): no clock
         * read per packet */
        ptime_t wall = st == CAPTURE_OK ? pkt.ts : wall_now();
        bool second = wall - last_tick >= PTIME_SEC;
        if (!second && st == CAPTURE_OK)
            continue;
        /* packet time: the clock moved on by as much since the last SIP message (HEP's
         * stamps are its probe's, which clock_offset relates to ours) */
        ptime_t now = wall + r->clock_offset;
        correlate_tick(r->corr, now);
        stream_tick(r->streams, now, stream_idle(r));
        hep_in_tick(r->hep, now, stream_idle(r));
        if (r->h->settle && (r->ended_since_settle || now - r->settled >= PIPELINE_SETTLE)) {
            r->settled = now;
            r->ended_since_settle = false;
            r->h->settle(r->h->user, now, r->streams);
        }
        if (!second)
            continue;
        last_tick = wall;
        if (r->h->call_progress) {
            correlate_each_changed(r->corr, r->progress_since, r->h->call_progress, r->h->user);
            r->progress_since = r->sip_newest;
        }
        if (r->h->tick) {
            struct pipeline_result sofar;
            sample_memory(r);
            figures(r, &sofar);
            r->h->tick(r->h->user, now, &sofar);
        }
    }
}

static int run_source(struct capture_source *src, bool live, const struct correlate_config *kcfg,
                      const struct pipeline_handlers *h, bool progress,
                      struct pipeline_result *out, char *err, size_t errlen);

int pipeline_run(char **files, int nfiles, const struct correlate_config *kcfg,
                 const struct pipeline_handlers *h, bool progress, struct pipeline_result *out,
                 char *err, size_t errlen)
{
    struct capture_source src;
    memset(out, 0, sizeof *out);
    if (!capture_open_files(&src, (const char *const *)files, (size_t)nfiles, err, errlen))
        return 1;
    /* a second core reads ahead (reading was half the time); with one core the
     * thread would only take turns with the analysis. Failing to start it is no error. */
    uint64_t seed = kcfg->hash_seed; /* rtp_hint's: outlives the read-ahead thread */
    if (sysconf(_SC_NPROCESSORS_ONLN) > 1 && !getenv("SIPSCOPE_NO_READAHEAD"))
        capture_readahead_hinted(&src, 0, rtp_hint, &seed);
    return run_source(&src, false, kcfg, h, progress, out, err, errlen);
}

int pipeline_run_live(const char *const *ifaces, size_t n, const struct live_config *lcfg,
                      const struct correlate_config *kcfg, const struct pipeline_handlers *h,
                      struct pipeline_result *out, char *err, size_t errlen)
{
    struct capture_source src;
    memset(out, 0, sizeof *out);
    /* caught before the interfaces open, so that the "capturing" line below means a Ctrl-C
     * now stops the capture cleanly (a service manager or a test may send it right away) */
    if (!h->stop)
        stop_catch();
    /* an ended call is handed on once a stream would be: its record is wanted while the
     * capture runs, and its stragglers within 64*T1 are still its own (correlate.h) */
    struct correlate_config lk = *kcfg;
    if (!lk.ended_wait)
        lk.ended_wait = h->stream_idle ? h->stream_idle : 10 * PTIME_SEC;
    if (lcfg->hep_listen ? !capture_open_hep(&src, lcfg->hep_listen, err, errlen)
                         : !capture_open_live(&src, ifaces, n, lcfg, err, errlen))
        return 1;
    if (h->opened && !h->opened(h->user)) {
        capture_close(&src);
        snprintf(err, errlen, "stopped before capturing");
        return 1;
    }
    return run_source(&src, true, &lk, h, false, out, err, errlen);
}

static int run_source(struct capture_source *src_, bool live, const struct correlate_config *kcfg,
                      const struct pipeline_handlers *h, bool progress,
                      struct pipeline_result *out, char *err, size_t errlen)
{
    struct capture_source src = *src_;
    struct run r = {.h = h, .src = &src, .live = live};
    struct decode_config dcfg;
    decode_config_default(&dcfg);
    if (h->keep_duplicates)
        dcfg.dedup_window = dcfg.hep_copy_window = 0;
    dcfg.tls_keylogs = h->tls_keylogs;
    dcfg.n_tls_keylogs = h->n_tls_keylogs;
    struct decode_handlers dh = {
        .udp_dedup = on_udp, .sip = on_sip, .dns = on_dns, .hep_report = on_hep_report, .user = &r};
    r.dedup_window = dcfg.dedup_window;
    r.ended_base = kcfg->first_call_seq;
    r.corr = correlate_new(kcfg, on_call, &r);
    r.cls = classifier_new();
    size_t max_streams = kcfg->max_calls * 2, max_reports = 4096;
    if (h->budget) {
        max_reports = mem_budget_entries(h->budget, MEM_HEP_REPORTS, hep_in_entry_bytes(), 64);
        decode_config_budget(&dcfg, h->budget);
        max_streams = mem_budget_entries(h->budget, MEM_STREAMS, stream_entry_bytes() + 48, 64);
    }
    r.dec = decoder_new(&dcfg, &dh);
    r.streams = stream_table_new(max_streams, kcfg->hash_seed, on_stream, &r, r.cls);
    r.hep = r.streams ? hep_in_new(max_reports, kcfg->hash_seed, r.streams, on_stream, &r,
                                   hep_call_of, &r)
                      : NULL;
    if (r.streams) stream_table_audio(r.streams, h->tone_plan, !h->no_audio);
    r.max_calls = kcfg->max_calls;
    r.max_transactions = kcfg->max_transactions;
    r.max_media = kcfg->max_media ? kcfg->max_media : kcfg->max_calls * 4;
    r.max_registrations = kcfg->max_registrations;
    r.max_streams = max_streams;
    r.max_hep_reports = max_reports;
    if (!r.dec || !r.corr || !r.streams || !r.hep) {
        snprintf(err, errlen, "%s",
                 !r.dec && h->n_tls_keylogs ? "a TLS key log cannot be read, or out of memory"
                                            : "out of memory");
        hep_in_free(r.hep);
        decoder_free(r.dec);
        correlate_free(r.corr);
        stream_table_free(r.streams);
        classifier_free(r.cls);
        capture_close(&src);
        return 1;
    }
    if (h->reg)
        correlate_on_registration(r.corr, on_reg);
    stream_table_first_seq(r.streams, h->first_stream_seq);
    progress_init(&r.prog, progress);
    if (!live && !h->stop) /* live: caught since before the interfaces opened */
        stop_catch();
    const volatile sig_atomic_t *stop = h->stop ? h->stop : stop_flag();

    if (live)
        run_live(&r, stop);
    else
        capture_run(&src, on_packet, &r, stop);
    sample_memory(&r);
    decoder_finish(r.dec);
    stream_finish(r.streams);
    hep_in_finish(r.hep); /* before the calls go: a report still finds its call */
    correlate_finish(r.corr);
    progress_done(&r.prog);

    figures(&r, out);
    out->interrupted = *stop != 0;
    hep_in_free(r.hep);
    stream_table_free(r.streams);
    classifier_free(r.cls);
    correlate_free(r.corr);
    decoder_free(r.dec);
    free(r.ended);
    capture_close(&src);
    return 0;
}
