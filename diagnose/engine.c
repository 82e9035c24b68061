/* The issue engine: the calls and streams it is handed, the checks it runs on each when it
 * can, and the copies it holds of answered calls and of streams until their media is over
 * (issues_tick) or the input ends (issues_finish); see issues.h and engine.h. */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "common/log.h"
#include "common/vec.h"
#include "decode/sdp.h"
#include "security.h"

struct issue_engine *issues_new(const struct issue_config *cfg, issue_fn fn, void *user)
{
    struct issue_engine *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    if (cfg)
        e->cfg = *cfg;
    else
        issue_config_default(&e->cfg);
    e->fn = fn;
    e->user = user;
    if (!(e->sec = sec_new())) {
        free(e);
        return NULL;
    }
    return e;
}

void issues_free(struct issue_engine *e)
{
    if (!e)
        return;
    free(e->calls);
    free(e->streams);
    free(e->done);
    free(e->quiet);
    sec_free(e->sec);
    free(e);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

void issue_emit(struct issue_engine *e, struct issue *is)
{
    qsort(is->frames, is->nframes, sizeof is->frames[0], cmp_u64);
    if (e->fn)
        e->fn(e->user, is);
}

bool held_ep_match(const struct held_call *c, int side, const struct ip_addr *a, uint16_t port)
{
    const struct call_media_ep *eps = c->eps[side];
    for (unsigned i = 0; i < c->side[side].neps; i++)
        if (eps[i].port == port && !memcmp(&eps[i].addr, a, sizeof *a))
            return true;
    return false;
}

/* Which way a stream of the call flows: 1 towards the callee, 2 towards the caller, 0 not
 * known. By the SDP endpoints first (a stream's destination, or its source for symmetric
 * RTP), then by the signaling addresses. */
int held_dir(const struct held_call *c, const struct held_stream *s)
{
    if (held_ep_match(c, 1, &s->dst, s->dport) || held_ep_match(c, 0, &s->src, s->sport))
        return 1;
    if (held_ep_match(c, 0, &s->dst, s->dport) || held_ep_match(c, 1, &s->src, s->sport))
        return 2;
    if (!memcmp(&s->src, &c->caller_ip, sizeof s->src) || !memcmp(&s->dst, &c->callee_ip, sizeof s->dst))
        return 1;
    if (!memcmp(&s->src, &c->callee_ip, sizeof s->src) || !memcmp(&s->dst, &c->caller_ip, sizeof s->dst))
        return 2;
    return 0;
}

ptime_t held_overlap(ptime_t a0, ptime_t a1, ptime_t b0, ptime_t b1)
{
    ptime_t lo = a0 > b0 ? a0 : b0, hi = a1 < b1 ? a1 : b1;
    return hi > lo ? hi - lo : 0;
}

bool held_promised(uint8_t sender_dir, uint8_t receiver_dir)
{
    return (sender_dir == SDP_SENDRECV || sender_dir == SDP_SENDONLY) &&
           (receiver_dir == SDP_SENDRECV || receiver_dir == SDP_RECVONLY);
}

/* Whether the media checks can say anything: the capture held RTP at all (a capture of
 * SIP only, or a HEP feed of signaling, cannot tell silence from media it did not see),
 * and the call negotiated RTP audio, not a fax relay (T.38 travels as UDPTL). other_leg: none of
 * the media is this call's, but another call naming the same endpoint had some at the time:
 * two legs of one B2BUA/SBC that the signaling did not join, whose media was bound to (and
 * is judged on) the other. */
static void judge_media(struct issue_engine *e, const struct held_call *c,
                        const struct held_stream *ss, size_t n, ptime_t end, bool other_leg)
{
    bool media = (e->streams_seen > 0 || e->announced_live) && !c->side[0].fax && !c->side[1].fax;
    check_codecs_media(e, c, ss, n, media && !other_leg);
    /* a fax's tones are judged whatever the SDP negotiated: T.38 offered is its question */
    if (!other_leg) check_heard_fax(e, c, ss, n);
    if (media && !other_leg) {
        check_audio(e, c, ss, n, end);
        check_heard_answered(e, c, ss, n, end);
        check_ringback(e, c, ss, n, end);
        check_after_bye(e, c, ss, n);
        check_hold_media(e, c, ss, n, end);
        check_rtcp_mux(e, c, ss, n);
    }
    check_private(e, c, ss, n);
    check_unfinished(e, c, ss, n, end, media);
}

/* The bitmap of calls done with. Calls are handed in roughly in the order of their numbers,
 * so the bits in use span the calls of the longest call's lifetime, not the capture. */
#define DONE_MAX_WORDS (1u << 20) /* 64 M calls in flight: past that the oldest count as done */

static bool is_done(const struct issue_engine *e, uint64_t seq)
{
    if (!e->done_started || seq <= e->done_base)
        return e->done_started;
    uint64_t i = seq - e->done_base - 1;
    return i / 64 < e->done_words && (e->done[i / 64] >> (i % 64) & 1);
}

static void mark_done(struct issue_engine *e, uint64_t seq)
{
    if (!e->done_started) { /* numbering may start anywhere (after a database's calls) */
        e->done_started = true;
        e->done_base = seq ? (seq - 1) / 64 * 64 : 0;
    }
    if (seq <= e->done_base)
        return;
    uint64_t i = seq - e->done_base - 1;
    while (i / 64 >= e->done_words) {
        size_t start = 0; /* slide past leading words of done calls, or the oldest at the cap */
        while (start < e->done_words && e->done[start] == UINT64_MAX)
            start++;
        if (!start && e->done_words >= DONE_MAX_WORDS)
            start = 1;
        if (start) {
            memmove(e->done, e->done + start, (e->done_words - start) * sizeof *e->done);
            memset(e->done + e->done_words - start, 0, start * sizeof *e->done);
            e->done_base += 64 * (uint64_t)start;
            if (seq <= e->done_base)
                return;
            i = seq - e->done_base - 1;
            continue;
        }
        size_t n = e->done_words ? e->done_words * 2 : 16;
        uint64_t *v = realloc(e->done, n * sizeof *v);
        if (!v)
            return; /* its streams are then kept until the end: memory, not correctness */
        memset(v + e->done_words, 0, (n - e->done_words) * sizeof *v);
        e->done = v;
        e->done_words = n;
    }
    e->done[i / 64] |= (uint64_t)1 << (i % 64);
}

static void hold_fill(struct held_call *h, const struct call *c);

void issues_call(struct issue_engine *e, const struct call *c)
{
    /* calls answered or offered early media are held until their media is over; so is a
     * caller's private SDP, unless nothing can have moved it (see below) */
    bool priv = c->caller_side.neps && issue_addr_private(&c->caller_side.eps[0].addr);
    bool priv_now = !c->answer_time && !c->early_time && priv && !call_side(c, 1)->neps;
    bool held = c->answer_time || c->early_time || (priv && !priv_now);
    check_final(e, c);
    check_codecs(e, c, held);
    check_auth_call(e, c);
    check_timing(e, c);
    check_retrans(e, c);
    check_dns_slow(e, c);
    check_dns_failure(e, c);
    check_hops(e, c);
    if (priv_now) {
        /* Judged now, not held for its streams: unanswered, without early media and without
         * an endpoint of the callee's, no stream of it can have moved (check_private) and the
         * other media checks want an answer or early media; what is left is the caller's
         * private SDP. Holding them kept a flood's INVITEs, 700 bytes each, until the next
         * settle. */
        struct held_call h;
        hold_fill(&h, c);
        check_private(e, &h, NULL, 0);
    }
    if (!held) {
        mark_done(e, c->seq);
        /* no media checks; its issues are all out once the streams bound to it end */
        if (e->judged && !vec_grow((void **)&e->quiet, &e->capquiet, e->nquiet, sizeof *e->quiet, 64))
            e->judged(e->user, c->seq); /* no memory to wait: now */
        else if (e->judged)
            e->quiet[e->nquiet++] = c->seq;
        return;
    }
    if (!vec_grow((void **)&e->calls, &e->capcalls, e->ncalls, sizeof *e->calls, 64)) {
        log_error("out of memory: the media checks of call %llu are lost",
                  (unsigned long long)c->seq);
        return;
    }
    hold_fill(&e->calls[e->ncalls++], c);
}

/* What the media checks need of a call, copied (the call is freed once handed in). */
static void hold_fill(struct held_call *h, const struct call *c)
{
    memset(h, 0, sizeof *h);
    h->seq = c->seq;
    h->state = c->state;
    h->invite_time = c->invite_time;
    h->answer_time = c->answer_time;
    h->end_time = c->end_time;
    h->early_time = c->early_time;
    h->last_time = c->last_time;
    h->first_frame = c->first_frame;
    h->answer_frame = c->answer_frame;
    h->end_frame = c->end_frame;
    h->early_frame = c->early_frame;
    h->last_frame = c->last_frame;
    h->early_status = c->early_status;
    h->nlegs = c->nlegs;
    for (unsigned i = 1; i <= c->nlegs && i < CALL_MAX_LEGS; i++)
        h->leg_prov[i] = c->legs[i].provisionals;
    h->session_expired = c->session_expired;
    h->bye = c->state == CALL_COMPLETED;
    h->caller_ip = c->caller_ip;
    h->callee_ip = c->callee_ip;
    h->caller_port = c->caller_port;
    h->callee_port = c->callee_port;
    for (int i = 0; i < 2; i++) {
        const struct call_side *s = call_side(c, i);
        h->side[i] = *s;
        h->side[i].codecs = NULL; /* the call's, freed with it */
        h->side[i].eps = NULL;
        if (s->neps)
            memcpy(h->eps[i], s->eps, s->neps * sizeof *s->eps);
        snprintf(h->codecs[i], sizeof h->codecs[i], "%s",
                 s->have_sdp && s->codecs ? s->codecs : "");
    }
    if (c->nholds)
        memcpy(h->holds, c->holds, c->nholds * sizeof *h->holds);
    h->nholds = c->nholds;
    /* a 488/606 already said it (check_codecs) */
    h->codec_disjoint =
        check_codecs_disjoint(call_side(c, 0), call_side(c, 1)) && c->final_status != 488 &&
        c->final_status != 606;
}

/* The stretches of a stream with packets, from its per-second timeline. A run that starts
 * after a pause had its first second's packets at that second's end, and one that stops
 * had its last second's at its start: at the stream's packet interval, that places the
 * edges of a pause to within a packet or two, not to a whole second. */
static void held_runs(struct held_stream *h, const struct rtp_stream *s)
{
    ptime_t step = (ptime_t)(stream_ptime_ms(s) * 1e6);
    uint32_t gap = HELD_RUN_GAP_S, last_p = 0;
    ptime_t last_t0 = 0;
    for (uint32_t i = 0; i < s->nsec && s->timeline; i++) {
        uint64_t p = s->timeline[i].packets;
        if (!p) {
            ptime_t stopped = last_t0 + (ptime_t)last_p * step; /* the run's last packets */
            if (h->nruns && gap++ == 0 && stopped < h->runs[h->nruns - 1].to)
                h->runs[h->nruns - 1].to = stopped;
            continue;
        }
        ptime_t t0 = s->first_time + (ptime_t)i * PTIME_SEC, t1 = t0 + PTIME_SEC;
        if (t1 > s->last_time)
            t1 = s->last_time;
        last_t0 = t0;
        last_p = (uint32_t)p;
        if (h->nruns && gap < HELD_RUN_GAP_S) {
            h->runs[h->nruns - 1].to = t1;
            h->runs[h->nruns - 1].packets += p;
        } else {
            if (h->nruns == HELD_RUNS) { /* full: the two runs closest together become one */
                unsigned k = 0;
                for (unsigned j = 1; j + 1 < HELD_RUNS; j++)
                    if (h->runs[j + 1].from - h->runs[j].to < h->runs[k + 1].from - h->runs[k].to)
                        k = j;
                h->runs[k].to = h->runs[k + 1].to;
                h->runs[k].packets += h->runs[k + 1].packets;
                memmove(&h->runs[k + 1], &h->runs[k + 2], (HELD_RUNS - k - 2) * sizeof h->runs[0]);
                h->nruns--;
            }
            ptime_t from = i && t1 - t0 > (ptime_t)p * step ? t1 - (ptime_t)p * step : t0;
            h->runs[h->nruns++] = (struct held_run){from, t1, p}; /* it (re)started */
        }
        gap = 0;
    }
    uint64_t counted = 0;
    for (unsigned i = 0; i < h->nruns; i++)
        counted += h->runs[i].packets;
    if (!h->nruns) /* no timeline (memory ran out): one run, the stream's span */
        h->runs[h->nruns++] = (struct held_run){s->first_time, s->last_time, s->packets};
    else if (counted < s->packets) { /* a timeline cut short: the rest in the last run */
        h->runs[h->nruns - 1].to = s->last_time;
        h->runs[h->nruns - 1].packets += s->packets - counted;
    }
}

/* What the stream's payload carried, compactly (issue 24): its timeline's heard and active
 * seconds, its first seconds' level, its first tones. */
static void held_audio_fill(struct held_audio *a, const struct rtp_stream *s)
{
    memset(a, 0, sizeof *a);
    memset(a->level, -128, sizeof a->level);
    if (!s->audio_done || s->audio_sum.unavailable) return;
    a->on = true;
    a->level_dbov = (float)s->audio_sum.level_dbov;
    a->speech_level_dbov = (float)s->audio_sum.speech_level_dbov;
    a->active_s = (float)s->audio_sum.active_s;
    a->clipped = s->audio_sum.clipped;
    a->clip_runs = s->audio_sum.clip_runs;
    for (uint32_t i = 0; i < s->nsec && s->timeline; i++) {
        const struct stream_second *x = &s->timeline[i];
        bool heard = x->level_cdb != 0, active = heard && x->active_ms >= HELD_ACTIVE_MS;
        if (i >= HELD_AUDIO_SECONDS) {
            a->heard_after += heard;
            a->active_after += active;
            continue;
        }
        a->nsec = (uint16_t)(i + 1);
        a->heard[i / 64] |= (uint64_t)heard << (i % 64);
        a->active[i / 64] |= (uint64_t)active << (i % 64);
        if (heard && i < HELD_AUDIO_LEVELS)
            a->level[i] = (int8_t)(x->level_cdb <= -12700 ? -127 : x->level_cdb / 100);
    }
    for (unsigned i = 0; i < s->audio_sum.ndet && a->ntones < HELD_AUDIO_TONES; i++) {
        const struct audio_detection *d = &s->audio_sum.det[i];
        const struct audio_tone *t = &s->audio_plan->tones[d->tone];
        struct held_tone *h = &a->tones[a->ntones++];
        h->kind = (uint8_t)t->kind;
        h->cycles = d->cycles;
        memcpy(h->region, t->region, sizeof h->region);
        h->from = s->first_time + (ptime_t)d->start_ms * PTIME_MS;
        h->to = s->first_time + (ptime_t)d->end_ms * PTIME_MS;
    }
}

void issues_stream(struct issue_engine *e, const struct rtp_stream *s)
{
    e->streams_seen++;
    if (!s->call_seq)
        check_orphan(e, s);
    if ((double)s->packets >= e->cfg.min_packets && !s->events) {
        check_loss(e, s);
        check_jitter(e, s);
        check_mos(e, s);
        check_latency(e, s);
    }
    if (!vec_grow((void **)&e->streams, &e->capstreams, e->nstreams, sizeof *e->streams, 64)) {
        log_error("out of memory: stream %llu is left out of its call's media checks",
                  (unsigned long long)s->seq);
        return;
    }
    struct held_stream *h = &e->streams[e->nstreams++];
    *h = (struct held_stream){
        .call_seq = s->call_seq, .seq = s->seq, .src = s->src, .dst = s->dst,
        .sport = s->sport, .dport = s->dport, .first = s->first_time, .last = s->last_time,
        .first_frame = s->first_frame, .last_frame = s->last_frame, .packets = s->packets,
        .src_ann = s->src_announced, .dst_ann = s->dst_announced,
        .pt_seen = {s->pt_seen[0], s->pt_seen[1]}, .rtcp_muxed = s->rtcp.muxed,
        .rtcp_apart = s->rtcp.apart, .rtcp_apart_frame = s->rtcp.apart_frame,
        .rtcp_apart_last = s->rtcp.apart_last,
        .rtcp_src = s->rtcp.apart_src, .rtcp_dst = s->rtcp.apart_dst,
        .rtcp_sport = s->rtcp.apart_sport, .rtcp_dport = s->rtcp.apart_dport};
    held_runs(h, s);
    held_audio_fill(&h->audio, s);
}

static int by_call_seq(const void *a, const void *b)
{
    const struct held_stream *x = a, *y = b;
    return x->call_seq != y->call_seq ? (x->call_seq < y->call_seq ? -1 : 1)
                                      : (x->seq < y->seq ? -1 : x->seq > y->seq);
}

static int by_seq(const void *a, const void *b)
{
    const struct held_call *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Streams by endpoint: a call's media is what flowed to or from the addresses its SDP
 * named during the call, whichever call the stream tracker bound it to (two legs of an SBC
 * that the signaling does not join share one media endpoint). */
struct ep_ref {
    uint8_t key[19]; /* family, address, port (big-endian) */
    size_t idx;
};

static void ep_key(uint8_t k[19], const struct ip_addr *a, uint16_t port)
{
    k[0] = a->family;
    memcpy(k + 1, a->b, 16);
    k[17] = (uint8_t)(port >> 8);
    k[18] = (uint8_t)port;
}

/* Orders by the 19-byte endpoint key that struct ep_ref and struct live_ep start with (a
 * pointer to either is one to its key), and compares such a key with a bare one. */
static int ep_cmp(const void *a, const void *b)
{
    return memcmp(a, b, 19);
}

/* The first of the n refs (sorted by ep_cmp, of `size` bytes each, the key first) with this
 * key, NULL none. */
static const void *ep_first(const void *refs, size_t n, size_t size, const uint8_t key[19])
{
    const char *hit = n ? bsearch(key, refs, n, size, ep_cmp) : NULL;
    while (hit && hit > (const char *)refs && ep_cmp(hit - size, key) == 0)
        hit -= size;
    return hit;
}

/* The held streams sorted by call, and the index of their endpoints (owned; NULL when
 * there are none or memory ran out: calls are then judged on their own streams). */
static struct ep_ref *index_streams(struct issue_engine *e, size_t *nrefs)
{
    *nrefs = 0;
    if (!e->nstreams)
        return NULL;
    qsort(e->streams, e->nstreams, sizeof *e->streams, by_call_seq);
    struct ep_ref *refs = malloc(2 * e->nstreams * sizeof *refs);
    for (size_t i = 0; refs && i < e->nstreams; i++) {
        ep_key(refs[*nrefs].key, &e->streams[i].src, e->streams[i].sport);
        refs[(*nrefs)++].idx = i;
        ep_key(refs[*nrefs].key, &e->streams[i].dst, e->streams[i].dport);
        refs[(*nrefs)++].idx = i;
    }
    if (*nrefs)
        qsort(refs, *nrefs, sizeof *refs, ep_cmp);
    return refs;
}

/* Judges one held call on the held streams (sorted and indexed by index_streams): its own,
 * and the others that flowed at its endpoints during the call. mine: scratch. */
static void judge_held(struct issue_engine *e, const struct held_call *c, const struct ep_ref *refs,
                       size_t nrefs, struct held_stream **mine, size_t *cap, ptime_t end)
{
    size_t lo = 0, hi = e->nstreams; /* the first stream of this call */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e->streams[mid].call_seq < c->seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t n = 0, m = 0;
    while (lo + n < e->nstreams && e->streams[lo + n].call_seq == c->seq)
        n++;
    for (size_t j = 0; j < n; j++) {
        if (!vec_grow((void **)mine, cap, m, sizeof **mine, 16))
            break;
        (*mine)[m++] = e->streams[lo + j];
    }
    ptime_t to = c->end_time ? c->end_time : end;
    bool shared = false;
    for (int side = 0; side < 2; side++)
        for (unsigned q = 0; q < c->side[side].neps; q++) {
            uint8_t key[19];
            ep_key(key, &c->eps[side][q].addr, c->eps[side][q].port);
            const struct ep_ref *hit = ep_first(refs, nrefs, sizeof *refs, key);
            for (; hit && hit < refs + nrefs && ep_cmp(hit, key) == 0; hit++) {
                const struct held_stream *s = &e->streams[hit->idx];
                if (s->call_seq == c->seq || s->last < c->invite_time || s->first > to)
                    continue;
                if (s->call_seq) { /* bound to another call that names the same endpoint */
                    shared = true;
                    continue;
                }
                bool dup = false; /* an orphan at our endpoint: media NAT moved */
                for (size_t j = n; j < m && !dup; j++)
                    dup = (*mine)[j].seq == s->seq;
                if (!dup && vec_grow((void **)mine, cap, m, sizeof **mine, 16))
                    (*mine)[m++] = *s;
            }
        }
    judge_media(e, c, *mine, m, end, shared && m == 0);
}

/* What the streams still followed say: which endpoints are busy since when, and which calls
 * still have media going. */
struct live_ep {
    uint8_t key[19]; /* first, for ep_cmp */
    ptime_t first, last;
};

struct live_set {
    struct live_ep *eps;
    size_t neps, capeps;
    uint64_t *calls;
    size_t ncalls, capcalls;
    size_t announced; /* streams an SDP announced: reported when they end */
    bool short_of_memory;
};

static void collect_live(void *user, const struct rtp_stream *s)
{
    struct live_set *l = user;
    if (!vec_grow((void **)&l->eps, &l->capeps, l->neps + 1, sizeof *l->eps, 256) ||
        (s->call_seq && !vec_grow((void **)&l->calls, &l->capcalls, l->ncalls, sizeof *l->calls, 128))) {
        l->short_of_memory = true;
        return;
    }
    struct live_ep *a = &l->eps[l->neps++], *b = &l->eps[l->neps++];
    ep_key(a->key, &s->src, s->sport);
    ep_key(b->key, &s->dst, s->dport);
    a->first = b->first = s->first_time;
    a->last = b->last = s->last_time;
    if (s->call_seq)
        l->calls[l->ncalls++] = s->call_seq;
    l->announced += s->announced;
}

static int cmp_u64_key(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Whether a call must wait for media still flowing: a stream bound to it, or one at one of
 * its endpoints during the call, is still followed. */
static bool waits_for_media(const struct held_call *c, const struct live_set *l)
{
    if (l->ncalls && bsearch(&c->seq, l->calls, l->ncalls, sizeof *l->calls, cmp_u64_key))
        return true;
    for (int side = 0; side < 2; side++)
        for (unsigned q = 0; q < c->side[side].neps; q++) {
            uint8_t key[19];
            ep_key(key, &c->eps[side][q].addr, c->eps[side][q].port);
            const struct live_ep *hit = ep_first(l->eps, l->neps, sizeof *l->eps, key);
            for (; hit && hit < l->eps + l->neps && ep_cmp(hit, key) == 0; hit++)
                if (hit->first <= c->end_time && hit->last >= c->invite_time)
                    return true;
        }
    return false;
}

void issues_tick(struct issue_engine *e, ptime_t now, const struct stream_table *t)
{
    if (e->sec->src)
        sec_tick(e, now);
    /* which held calls can be judged now: ended (an unfinished call is judged against the
     * end of the input), with no media of theirs still going; in a capture without any RTP
     * so far, after ISSUE_STREAM_KEEP (it may be a capture of signaling alone) */
    bool ready = false;
    for (size_t i = 0; i < e->ncalls && !ready; i++)
        ready = e->calls[i].state != CALL_UNFINISHED && e->calls[i].end_time;
    struct live_set l = {0};
    if (ready || e->nquiet) {
        stream_each(t, collect_live, &l);
        if (l.neps)
            qsort(l.eps, l.neps, sizeof *l.eps, ep_cmp);
        if (l.ncalls)
            qsort(l.calls, l.ncalls, sizeof *l.calls, cmp_u64_key);
        ready = ready && !l.short_of_memory;
        size_t kept = 0; /* calls without media checks: done when no stream of theirs goes on */
        for (size_t i = 0; i < e->nquiet; i++) {
            if (l.short_of_memory ||
                (l.ncalls && bsearch(&e->quiet[i], l.calls, l.ncalls, sizeof *l.calls, cmp_u64_key)))
                e->quiet[kept++] = e->quiet[i];
            else
                e->judged(e->user, e->quiet[i]);
        }
        e->nquiet = kept;
    }
    e->announced_live |= l.announced > 0;
    /* whether the capture holds RTP at all (judge_media) is still open while the only
     * streams are unannounced flows nDPI has not judged to the end */
    bool no_media_yet = !e->streams_seen && !e->announced_live;
    if (ready && no_media_yet && l.neps)
        ready = false;
    if (ready) {
        size_t nrefs;
        struct ep_ref *refs = index_streams(e, &nrefs);
        struct held_stream *mine = NULL;
        size_t cap = 0, kept = 0;
        for (size_t i = 0; i < e->ncalls; i++) {
            const struct held_call *c = &e->calls[i];
            bool judge = c->state != CALL_UNFINISHED && c->end_time &&
                         (no_media_yet ? now - c->end_time > ISSUE_STREAM_KEEP
                                       : !waits_for_media(c, &l));
            if (!judge) {
                e->calls[kept++] = *c;
                continue;
            }
            judge_held(e, c, refs, nrefs, &mine, &cap, now);
            mark_done(e, c->seq);
            if (e->judged)
                e->judged(e->user, c->seq);
        }
        e->ncalls = kept;
        free(mine);
        free(refs);
    }
    free(l.eps);
    free(l.calls);
    /* streams no call waits for: of calls done with, or of none, and over for a while (a
     * call still to come may have had them at its endpoints) */
    size_t kept = 0;
    for (size_t i = 0; i < e->nstreams; i++) {
        const struct held_stream *s = &e->streams[i];
        if (now - s->last > ISSUE_STREAM_KEEP && (!s->call_seq || is_done(e, s->call_seq)))
            continue;
        e->streams[kept++] = *s;
    }
    e->nstreams = kept;
}

void issues_finish(struct issue_engine *e, ptime_t end)
{
    if (e->ncalls)
        qsort(e->calls, e->ncalls, sizeof *e->calls, by_seq);
    size_t nrefs;
    struct ep_ref *refs = index_streams(e, &nrefs);
    struct held_stream *mine = NULL;
    size_t cap = 0;
    for (size_t i = 0; i < e->ncalls; i++) {
        judge_held(e, &e->calls[i], refs, nrefs, &mine, &cap, end);
        if (e->judged)
            e->judged(e->user, e->calls[i].seq);
    }
    for (size_t i = 0; i < e->nquiet; i++)
        e->judged(e->user, e->quiet[i]);
    free(mine);
    free(refs);
    e->ncalls = e->nstreams = e->nquiet = 0;
    sec_finish(e);
}

void issues_on_judged(struct issue_engine *e, issue_judged_fn fn)
{
    e->judged = fn;
}

void issues_on_found(struct issue_engine *e, issue_found_fn fn)
{
    e->found = fn;
}
