/* RTP stream figures (RFC 3550 A.1, A.3, A.8), the per-second timeline, DTMF events and the
 * table of streams with its nDPI judgment of unannounced flows; see stream.h. The jitter
 * buffers are jitbuf.c's, RTCP attachment stream_rtcp.c's. */
#include "stream.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/hash.h"
#include "common/list.h"
#include "decode/sdp.h"
#include "emodel.h"
#include "jitbuf.h"
#include "stream_int.h"

#define RTP_SEQ_MOD (1u << 16)
#define MAX_DROPOUT 3000 /* RFC 3550 A.1 */
#define MAX_MISORDER 100

/* nDPI judges a 5-tuple, not a stream: bytes that only look like RTP carry a new "SSRC"
 * in every packet, and must not each start a judgment. */
struct judged {
    struct l4_flow_key key;
    uint64_t hash;
    struct dlist_node lru;
    struct class_flow *cls; /* owned, while judging */
    int8_t verdict;
    uint16_t ssrcs;         /* candidate streams started on it */
};

static bool key_eq(const void *item, const void *key)
{
    const uint64_t *a = ((const struct stream_int *)item)->key.w, *b = ((const struct stream_key *)key)->w;
    return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) | (a[4] ^ b[4]) |
            (a[5] ^ b[5])) == 0;
}

static bool ssrc_eq(const void *item, const void *key)
{
    return memcmp(&((const struct stream_int *)item)->skey, key, sizeof(struct ssrc_key)) == 0;
}

static bool flow_eq(const void *item, const void *key)
{
    return memcmp(&((const struct judged *)item)->key, key, sizeof(struct l4_flow_key)) == 0;
}

static void drop_judged(struct stream_table *t, struct judged *j)
{
    dlist_unlink(&t->flow_lru, &j->lru);
    htab_remove(t->flows, j->hash, &j->key);
    class_flow_free(j->cls);
    free(j);
}

/* The flow's verdict after this packet (fed to nDPI while it is still undecided).
 * new_stream: the packet starts a candidate stream (a new SSRC on this flow). nDPI's RTP
 * test is lenient; a flow of RTP carries one SSRC, or a few across restarts, so many
 * SSRCs overrule it. */
static enum class_verdict judge(struct stream_table *t, const struct l4_packet *l4,
                                bool new_stream)
{
    struct l4_flow_key k;
    l4_flow_key_make(&k, &l4->src, l4->sport, &l4->dst, l4->dport);
    uint64_t h = hash_bytes(&k, sizeof k, t->seed);
    struct judged *j = htab_find(t->flows, h, &k);
    if (!j) {
        if (!(j = calloc(1, sizeof *j)))
            return CLASS_OTHER;
        j->key = k;
        j->hash = h;
        while (!htab_insert(t->flows, h, j)) {
            if (!t->flow_lru.head) {
                free(j);
                return CLASS_OTHER;
            }
            drop_judged(t, dlist_entry(t->flow_lru.head, struct judged, lru));
            t->flows_evicted++;
        }
        dlist_push_tail(&t->flow_lru, &j->lru);
    } else {
        dlist_touch(&t->flow_lru, &j->lru);
    }
    if (new_stream && ++j->ssrcs > STREAM_ORPHAN_MAX_SSRCS) {
        j->verdict = CLASS_OTHER;
        class_flow_free(j->cls);
        j->cls = NULL;
    }
    if (j->verdict == CLASS_UNKNOWN) {
        j->verdict = (int8_t)classifier_udp(t->cls, &j->cls, l4);
        if (j->verdict != CLASS_UNKNOWN) {
            class_flow_free(j->cls);
            j->cls = NULL;
        }
    }
    return (enum class_verdict)j->verdict;
}

/* The verdict a flow has already, without feeding it. */
static enum class_verdict verdict_of(const struct stream_table *t, const struct rtp_stream *s)
{
    struct l4_flow_key k;
    l4_flow_key_make(&k, &s->src, s->sport, &s->dst, s->dport);
    const struct judged *j = htab_find(t->flows, hash_bytes(&k, sizeof k, t->seed), &k);
    return j ? (enum class_verdict)j->verdict : CLASS_UNKNOWN;
}

struct stream_table *stream_table_new(size_t max, uint64_t seed, stream_done_fn done, void *user,
                                      struct classifier *cls)
{
    struct stream_table *t = calloc(1, sizeof *t);
    if (!t || !(t->ht = htab_new(max, key_eq))) {
        free(t);
        return NULL;
    }
    t->seed = seed;
    t->done = done;
    t->user = user;
    t->cls = cls;
    t->audio_on = true;
    audio_plan_default(&t->plan);
    struct emodel_params defaults;
    emodel_defaults(&defaults);
    emodel_base(&defaults, &t->ebase);
    t->flows = htab_new(STREAM_MAX_JUDGED, flow_eq);
    t->by_ssrc = htab_new(max, ssrc_eq);
    if (!t->flows || !t->by_ssrc) {
        htab_free(t->flows);
        htab_free(t->by_ssrc);
        htab_free(t->ht);
        free(t);
        return NULL;
    }
    return t;
}

double stream_ptime_ms(const struct rtp_stream *s)
{
    return s->clock_rate && s->ptime_ts ? s->ptime_ts * 1000.0 / s->clock_rate : 20.0;
}

static uint16_t clamp16(double v)
{
    return v <= 0 ? 0 : v >= 65535 ? 65535 : (uint16_t)(v + 0.5);
}

/* The current second is over: its MOS from what the adaptive buffer played in it. */
static void second_close(struct rtp_stream *s)
{
    if (!s->nsec || s->timeline_truncated)
        return;
    uint32_t slots = s->sec_played + s->sec_lost;
    if (s->emodel && slots) {
        double r = jb_r(s, 100.0 * s->sec_lost / slots, 1, jb_wait_ms(s, &s->jb[JB_ADAPTIVE]));
        s->sec_cur.mos_c = clamp16(emodel_mos(r) * 100);
    }
    s->timeline[s->nsec - 1] = s->sec_cur;
    s->sec_played = s->sec_lost = 0;
}

/* The audio's closed seconds into the timeline: the current second while it is open,
 * else its slot (closed seconds end before the packet that opens the next is counted). */
static void audio_drain(struct rtp_stream *s)
{
    struct audio_second a;
    while (audio_second_pop(s->audio, &a)) {
        struct stream_second *sec = a.sec + 1 == s->nsec             ? &s->sec_cur
                                    : a.sec < s->nsec && s->timeline ? &s->timeline[a.sec]
                                                                     : NULL;
        if (!sec || s->timeline_truncated) continue;
        sec->level_cdb = a.level_cdb == 0 ? -1 : a.level_cdb;
        sec->active_ms = a.active_ms;
    }
}

static void finalize(struct rtp_stream *s)
{
    if (s->audio) {
        audio_finish(s->audio);
        audio_drain(s);
        audio_summary(s->audio, &s->audio_sum);
        s->audio_done = true;
        /* SRTP no key opened is ciphertext: it was not heard, and nothing heard is not
         * silence (a silent-call verdict on noise-like bytes, or on nothing, would be false) */
        if (s->srtp_encrypted && !s->srtp_decrypted)
            s->audio_sum.unavailable = "encrypted: no SDES key opened its payload";
    }
    /* A.3: expected from the extended highest sequence number */
    s->expected = (int64_t)s->cycles + (int64_t)s->max_seq - s->base_seq + 1;
    s->lost = s->expected - (int64_t)s->packets;
    /* the first packet has no jitter value of its own: the mean is over the others */
    s->mean_jitter_ms = s->jitter_n ? s->jitter_sum / (double)s->jitter_n : 0;
    second_close(s);
    s->r_factor = s->mos = -1;
    if (s->clock_rate && !s->events && s->timed) {
        jb_score(s);
        s->r_factor = s->jbs[JB_ADAPTIVE].r_factor;
        s->mos = s->jbs[JB_ADAPTIVE].mos;
    }
}

static void release(struct stream_table *t, struct stream_int *si)
{
    dlist_unlink(&t->lru, &si->lru);
    if (!si->pub.announced) {
        dlist_unlink(&t->orphans, &si->olru);
        t->norphans--;
    }
    htab_remove(t->ht, si->hash, &si->key);
    if (si->sindexed)
        htab_remove(t->by_ssrc, si->shash, &si->skey);
    finalize(&si->pub);
    /* an orphan is media only if nDPI recognised its flow; the rest was other UDP */
    if (!si->pub.announced)
        si->pub.verdict = (int8_t)verdict_of(t, &si->pub); /* the flow's final word */
    bool media = si->pub.announced || (si->pub.verdict == CLASS_RTP &&
                                       si->pub.packets >= STREAM_ORPHAN_MIN_PACKETS);
    if (media) {
        t->packets += si->pub.packets;
        if (t->done)
            t->done(t->user, &si->pub);
    }
    if (si->pub.audio) {
        t->audio_lib_bytes -= si->pub.audio_lib_bytes;
        audio_release(si->pub.audio);
        free(si->pub.audio);
    }
    free(si->pub.dtmf);
    free(si->pub.timeline);
    free(si);
}

void stream_table_first_seq(struct stream_table *t, uint64_t n)
{
    t->next_seq = n;
}

uint64_t stream_table_take_seq(struct stream_table *t)
{
    return ++t->next_seq;
}

void stream_table_free(struct stream_table *t)
{
    if (!t)
        return;
    t->done = NULL;
    while (t->lru.head)
        release(t, dlist_entry(t->lru.head, struct stream_int, lru));
    htab_free(t->ht);
    while (t->flow_lru.head)
        drop_judged(t, dlist_entry(t->flow_lru.head, struct judged, lru));
    htab_free(t->flows);
    htab_free(t->by_ssrc);
    free(t);
}

static int by_seq(const void *a, const void *b)
{
    uint64_t x = (*(struct stream_int *const *)a)->pub.seq, y = (*(struct stream_int *const *)b)->pub.seq;
    return x < y ? -1 : x > y;
}

void stream_tick(struct stream_table *t, ptime_t now, ptime_t idle)
{
    struct stream_int *si;
    /* the LRU's head is the stream touched longest ago */
    while (t->lru.head && now - (si = dlist_entry(t->lru.head, struct stream_int, lru))->pub.last_time > idle)
        release(t, si);
}

void stream_tick_ended(struct stream_table *t, ptime_t now, ptime_t idle, stream_call_ended_fn ended,
                       void *ctx)
{
    /* the idle streams are the LRU's head (to within the second it is kept to); the ones
     * of calls still going (on hold, say) are stepped over */
    struct dlist_node *x = t->lru.head;
    while (x) {
        struct stream_int *si = dlist_entry(x, struct stream_int, lru);
        if (now - si->pub.last_time <= idle)
            break;
        x = x->next;
        if (si->pub.call_seq && ended(ctx, si->pub.call_seq))
            release(t, si);
    }
}

void stream_finish(struct stream_table *t)
{
    size_t n = htab_count(t->ht), i = 0;
    struct stream_int **all = malloc((n ? n : 1) * sizeof *all);
    if (!all) {
        while (t->lru.head)
            release(t, dlist_entry(t->lru.head, struct stream_int, lru));
        return;
    }
    for (struct dlist_node *x = t->lru.head; x; x = x->next)
        all[i++] = dlist_entry(x, struct stream_int, lru);
    qsort(all, i, sizeof *all, by_seq);
    for (size_t k = 0; k < i; k++)
        release(t, all[k]);
    free(all);
}

void stream_each(const struct stream_table *t, void (*fn)(void *user, const struct rtp_stream *s),
                 void *user)
{
    for (const struct dlist_node *x = t->lru.head; x; x = x->next)
        fn(user, &dlist_entry(x, struct stream_int, lru)->pub);
}

uint64_t stream_packets(const struct stream_table *t) { return t->packets; }
size_t stream_active(const struct stream_table *t) { return htab_count(t->ht); }

size_t stream_entry_bytes(void)
{
    /* and the allocator's header; and a stream's audio state (issue 24), which most
     * streams have: the budget is shared out by what a stream costs with it */
    return sizeof(struct stream_int) + 16 + sizeof(struct audio_state) + 16;
}

void stream_table_audio(struct stream_table *t, const struct audio_plan *plan, bool on)
{
    t->audio_on = on;
    if (plan) t->plan = *plan;
}

size_t stream_table_bytes(const struct stream_table *t)
{
    return sizeof *t + htab_bytes(t->ht) + htab_bytes(t->by_ssrc) + htab_bytes(t->flows) +
           htab_count(t->ht) * stream_entry_bytes() + htab_count(t->flows) * sizeof(struct judged) +
           t->audio_lib_bytes;
}
uint64_t stream_evicted(const struct stream_table *t) { return t->evicted; }
uint64_t stream_orphans_evicted(const struct stream_table *t) { return t->orphans_evicted; }
uint64_t stream_flows_evicted(const struct stream_table *t) { return t->flows_evicted; }

static void init_seq(struct rtp_stream *s, uint16_t seq)
{
    s->base_seq = seq;
    s->max_seq = seq;
    s->bad_seq = RTP_SEQ_MOD + 1;
    s->cycles = 0;
    s->seen = 1;
}

/* What a packet's sequence number says, beyond the counters. */
enum seq_kind { SEQ_NEXT, SEQ_DUP, SEQ_LATE, SEQ_JUMP };

/* RFC 3550 A.1 without probation (a monitor counts from the first packet). *gap: the
 * sequence numbers skipped before an in-order packet. */
static enum seq_kind update_seq(struct rtp_stream *s, uint16_t seq, uint32_t *gap)
{
    uint16_t udelta = (uint16_t)(seq - s->max_seq);
    *gap = 0;
    if (udelta == 0) {
        s->duplicates++;
        return SEQ_DUP;
    }
    if (udelta < MAX_DROPOUT) {
        if (seq < s->max_seq)
            s->cycles += RTP_SEQ_MOD; /* wrapped */
        s->seen = udelta < 64 ? (s->seen << udelta) | 1 : 1;
        s->max_seq = seq;
        *gap = udelta - 1u;
        return SEQ_NEXT;
    }
    if (udelta <= RTP_SEQ_MOD - MAX_MISORDER) {
        /* a big jump: twice in a row means the source restarted (one error, not two) */
        if (seq == s->bad_seq) {
            /* re-based so that what was received so far (the first packet of the new
             * range included) counts as expected: a restart is not a loss */
            int64_t received = (int64_t)s->packets;
            init_seq(s, seq);
            s->base_seq = (int64_t)seq - received;
        } else {
            s->seq_errors++;
            s->bad_seq = (seq + 1u) & (RTP_SEQ_MOD - 1);
        }
        return SEQ_JUMP;
    }
    /* behind max_seq: reordered, or a duplicate of an earlier one */
    uint16_t back = (uint16_t)(s->max_seq - seq);
    if (back < 64 && (s->seen >> back) & 1) {
        s->duplicates++;
        return SEQ_DUP;
    }
    s->out_of_order++;
    if (back < 64)
        s->seen |= 1ull << back;
    return SEQ_LATE;
}

/* RFC 4733: one event per RTP timestamp, its packets repeat with a growing duration and
 * the end bit (sent three times). The list keeps each event once, with its longest
 * duration. */
static void dtmf_packet(struct rtp_stream *s, const struct l4_packet *l4,
                        const struct rtp_hdr *h)
{
    struct rtp_event ev;
    /* an SRTP payload no key opened is ciphertext: its "events" would be noise */
    if ((l4->srtp != L4_CLEAR && l4->srtp != L4_DECRYPTED) ||
        !rtp_event_parse(l4->payload + h->header_len, h->payload_len, &ev))
        return;
    struct stream_dtmf *last = s->ndtmf ? &s->dtmf[s->ndtmf - 1] : NULL;
    if (last && last->ts == h->ts) {
        if (ev.duration > last->duration)
            last->duration = ev.duration;
        last->ended |= ev.end;
        return;
    }
    char digit = rtp_event_digit(ev.event);
    if (!digit)
        return; /* tones and other events of RFC 4734 are not DTMF */
    if (s->ndtmf == s->dtmf_cap) {
        uint16_t cap = s->dtmf_cap ? (uint16_t)(s->dtmf_cap * 2) : 8;
        struct stream_dtmf *d;
        if (s->dtmf_cap >= STREAM_MAX_DTMF || !(d = realloc(s->dtmf, cap * sizeof *d))) {
            s->dtmf_dropped++;
            return;
        }
        s->dtmf = d;
        s->dtmf_cap = cap;
    }
    s->dtmf[s->ndtmf++] = (struct stream_dtmf){.time = l4->pkt->ts, .frame = l4->pkt->frame,
                                               .ts = h->ts, .duration = ev.duration,
                                               .digit = digit, .ended = ev.end};
}

/* The second this packet falls in, opened (and the ones before it closed) as needed.
 * Growth doubles, so a stream allocates a handful of times in its life, never per packet. */
static struct stream_second *second_at(struct rtp_stream *s, ptime_t now)
{
    if (s->timeline_truncated)
        return NULL;
    if (s->nsec && now < s->sec_end)
        return &s->sec_cur; /* packets come in time order: the current one */
    uint64_t idx = (uint64_t)(now - s->first_time) / 1000000000u;
    if (s->nsec && idx < s->nsec)
        return &s->sec_cur; /* a packet stamped earlier than the last */
    if (idx >= STREAM_MAX_SECONDS) {
        second_close(s);
        s->timeline_truncated = true;
        return NULL;
    }
    second_close(s);
    if (idx >= s->sec_cap) {
        uint64_t cap = s->sec_cap ? s->sec_cap * 2u : 16u;
        while (cap <= idx)
            cap *= 2;
        if (cap > STREAM_MAX_SECONDS)
            cap = STREAM_MAX_SECONDS;
        struct stream_second *n = realloc(s->timeline, cap * sizeof *n);
        if (!n) {
            s->timeline_truncated = true;
            return NULL;
        }
        s->timeline = n;
        s->sec_cap = (uint32_t)cap;
    }
    memset(&s->timeline[s->nsec], 0, (idx + 1 - s->nsec) * sizeof *s->timeline);
    s->nsec = (uint32_t)idx + 1;
    s->sec_end = s->first_time + (ptime_t)(idx + 1) * 1000000000;
    memset(&s->sec_cur, 0, sizeof s->sec_cur);
    return &s->sec_cur;
}

static void stream_init(struct rtp_stream *s, const struct l4_packet *l4, const struct rtp_hdr *h,
                        const struct media_match *mm)
{
    s->src = l4->src;
    s->dst = l4->dst;
    s->sport = l4->sport;
    s->dport = l4->dport;
    s->ssrc = h->ssrc;
    s->pt = h->pt;
    s->pt_seen[h->pt >> 6 & 1] |= (uint64_t)1 << (h->pt & 63);
    s->first_time = l4->pkt->ts;
    s->first_frame = l4->pkt->frame;
    s->call_seq = mm ? mm->call_seq : 0;
    s->te_pt = 0xff;
    /* the clock: what SDP mapped for this payload type, else RFC 3551's static table */
    const char *name;
    for (unsigned i = 0; mm && i < mm->npts; i++) {
        if (mm->pt[i] == h->pt) {
            s->clock_rate = mm->rate[i];
            memcpy(s->codec, mm->codec[i], sizeof s->codec);
        }
        if (strcasecmp(mm->codec[i], "telephone-event") == 0 && s->te_pt == 0xff) {
            s->te_pt = mm->pt[i];
            s->te_rate = mm->rate[i];
        }
    }
    if (!mm && h->pt == STREAM_TE_DEFAULT_PT) {
        /* no SDP: a dynamic type carrying 4-octet payloads at 101 is taken as RFC 4733
         * events, as Wireshark's rtpevent preference does */
        s->te_pt = h->pt;
        s->te_rate = 8000;
        memcpy(s->codec, "telephone-event", sizeof "telephone-event");
    }
    if (!s->clock_rate && sdp_static_payload(h->pt, &name, &s->clock_rate) && !s->codec[0])
        strncpy(s->codec, name, sizeof s->codec - 1);
    /* RFC 4733 events keep one timestamp for all packets of an event: interarrival
     * jitter would measure the event's length, not the network */
    s->events = strcasecmp(s->codec, "telephone-event") == 0;
    if (s->events && s->te_pt == 0xff) {
        s->te_pt = h->pt;
        s->te_rate = s->clock_rate;
    }
    s->emodel = s->clock_rate && !s->events ? emodel_codec(s->codec) : NULL;
    s->audio_codec = s->codec[0] ? audio_codec_from_name(sv_cstr(s->codec)) : AUDIO_CODEC_UNKNOWN;
    if (s->audio_codec == AUDIO_CODEC_UNKNOWN) s->audio_codec = audio_codec_from_pt(h->pt);
    s->r_factor = s->mos = -1;
    init_seq(s, h->seq);
}

/* A stream's audio state, once, with its first packet (issue 24): only for a codec this
 * build decodes; otherwise why not, for `audio: null`. */
static void audio_start(struct stream_table *t, struct rtp_stream *s)
{
    enum audio_codec c = s->audio_codec;
    if (c == AUDIO_CODEC_UNKNOWN || c == AUDIO_CODEC_CN) {
        s->audio_unavailable = "codec not known to the audio decoder";
        return;
    }
    if ((s->audio_unavailable = audio_codec_unavailable(c)) != NULL) return;
    if (!(s->audio = malloc(sizeof *s->audio))) {
        s->audio_unavailable = "out of memory";
        return;
    }
    /* G.711 is two table lookups a sample; every other codec a library's decoder */
    s->audio_sampled = c != AUDIO_CODEC_PCMU && c != AUDIO_CODEC_PCMA;
    struct audio_cfg cfg = {.tones = true, .dtmf = true};
    audio_init(s->audio, c, &t->plan, &cfg);
    s->audio_plan = &t->plan;
    s->audio_detect = true;
}

/* One packet's payload to its stream's audio: the codec by payload type (RFC 4733 events
 * and RFC 3389 comfort noise beside the stream's codec), then the closed seconds. */
static void audio_packet(struct stream_table *t, struct rtp_stream *s, const struct l4_packet *l4,
                         const struct rtp_hdr *h, ptime_t now)
{
    enum audio_codec c = h->pt == s->pt      ? s->audio_codec
                         : h->pt == s->te_pt ? AUDIO_CODEC_EVENT
                         : h->pt == 13       ? AUDIO_CODEC_CN
                                             : audio_codec_from_pt(h->pt);
    if (c == AUDIO_CODEC_UNKNOWN)
        return; /* a dynamic type the SDP did not map for this stream: not guessed */
    uint64_t sec = now > s->first_time ? (uint64_t)(now - s->first_time) / PTIME_SEC : 0;
    /* a stream that began after the answer and has played a tone of the plan is listened
     * to for a whole cadence of the slowest (a false answer's ringback) */
    if (s->audio_detect && sec >= s->audio_detect_s &&
        !(sec < STREAM_AUDIO_DETECT_TONE_S && audio_tone_heard(s->audio))) {
        audio_detectors_off(s->audio);
        s->audio_detect = false;
    }
    /* a library codec costs 10 us and more a packet to decode (G.729: bcg729's synthesis),
     * twenty times the rest of a packet's analysis: past the detectors' seconds its level
     * and activity are sampled, one second in STREAM_AUDIO_SAMPLE_EVERY (the decoder goes
     * on from its last state: the first frames of a sampled second are approximate) */
    if (!s->audio_detect && s->audio_sampled && sec % STREAM_AUDIO_SAMPLE_EVERY != 0)
        return;
    audio_feed(s->audio, c, l4->payload + h->header_len, h->payload_len, h->ts, (uint64_t)now,
               (uint32_t)(sec > UINT32_MAX ? UINT32_MAX : sec));
    if (s->audio_lib_bytes != audio_state_lib_bytes(s->audio)) { /* allocated, or freed */
        t->audio_lib_bytes -= s->audio_lib_bytes;
        s->audio_lib_bytes = (uint32_t)audio_state_lib_bytes(s->audio);
        t->audio_lib_bytes += s->audio_lib_bytes;
    }
    audio_drain(s);
}

static struct stream_int *stream_new(struct stream_table *t, const struct l4_packet *l4,
                                     const struct rtp_hdr *h, const struct stream_key *k,
                                     uint64_t hash, stream_resolve_fn resolve, void *ctx)
{
    struct media_match found, *mm = &found;
    bool src_ann = false, dst_ann = false;
    enum stream_origin origin = resolve(ctx, l4, &found, &src_ann, &dst_ann);
    if (origin == STREAM_IGNORE || (origin == STREAM_CANDIDATE && !t->cls))
        return NULL;
    /* a candidate from a flow already judged not RTP starts nothing */
    if (origin == STREAM_CANDIDATE && judge(t, l4, true) == CLASS_OTHER)
        return NULL;
    if (origin == STREAM_CANDIDATE)
        mm = NULL;
    /* unsignaled flows have a smaller room of their own: random UDP (a scan, a flood of
     * ports) must not take the memory, nor the places, of the media SDP announced */
    if (origin == STREAM_CANDIDATE && t->norphans >= STREAM_MAX_ORPHANS) {
        release(t, dlist_entry(t->orphans.head, struct stream_int, olru));
        t->orphans_evicted++;
    }
    struct stream_int *si = calloc(1, sizeof *si);
    if (!si)
        return NULL;
    si->pub.announced = origin == STREAM_ANNOUNCED;
    si->pub.src_announced = src_ann;
    si->pub.dst_announced = dst_ann;
    si->key = *k;
    si->hash = hash;
    while (!htab_insert(t->ht, hash, si)) {
        if (!t->lru.head) {
            free(si);
            return NULL;
        }
        release(t, dlist_entry(t->lru.head, struct stream_int, lru));
        t->evicted++;
    }
    dlist_push_tail(&t->lru, &si->lru);
    if (!si->pub.announced) {
        dlist_push_tail(&t->orphans, &si->olru);
        t->norphans++;
    }
    si->lru_at = l4->pkt->ts;
    si->pub.seq = ++t->next_seq;
    si->pub.ebase = &t->ebase;
    stream_init(&si->pub, l4, h, mm);
    if (t->audio_on && !si->pub.events) {
        audio_start(t, &si->pub);
        si->pub.audio_detect_s = mm && mm->answered ? STREAM_AUDIO_DETECT_ANSWERED_S
                                                    : STREAM_AUDIO_DETECT_S;
        /* early media keeps its detectors whatever the codec: that is where a caller's
         * ringback is; answered library-codec media is only sampled (STREAM_AUDIO_SAMPLE_EVERY) */
        if (si->pub.audio && si->pub.audio_sampled && mm && mm->answered) {
            audio_detectors_off(si->pub.audio);
            si->pub.audio_detect = false;
        }
    }
    /* the RTCP index: a later stream with the same SSRC between the same hosts takes over */
    ssrc_key_make(&si->skey, h->ssrc, &l4->src, &l4->dst);
    si->shash = hash_bytes(&si->skey, sizeof si->skey, t->seed);
    struct stream_int *old = htab_remove(t->by_ssrc, si->shash, &si->skey);
    if (old)
        old->sindexed = false;
    si->sindexed = htab_insert(t->by_ssrc, si->shash, si);
    return si;
}

/* RFC 3550 A.8 alone, for every packet on the stream's clock, comfort noise too (RFC 3389
 * CN shares the audio's 8 kHz clock, and tshark runs A.8 over it). Arrival is kept in
 * fractional timestamp units: rounding it to whole ticks adds up to half a tick (62.5 us
 * at 8 kHz) of noise to every D, which is most of a sub-millisecond jitter figure. */
/* llround() without the libm call on every packet: half away from zero, as llround */
static inline int64_t round_i64(double x) { return (int64_t)(x < 0 ? x - 0.5 : x + 0.5); }

static inline void a8_update(struct rtp_stream *s, const struct rtp_hdr *h, ptime_t now)
{
    /* A.8: transit = arrival in timestamp units - RTP timestamp; J += (|D| - J) / 16 */
    double arrival = (double)(now - s->first_time) / 1e9 * s->clock_rate;
    double transit = arrival - (double)h->ts;
    if (s->have_transit) {
        /* timestamps wrap at 2^32, at most once between two packets: keep the difference
         * in [-2^31, 2^31] (two compares; libm's remainder() was 8 % of the analysis) */
        double d = transit - s->last_transit;
        if (d > 2147483648.0)
            d -= 4294967296.0;
        else if (d < -2147483648.0)
            d += 4294967296.0;
        s->jitter += (fabs(d) - s->jitter) / 16.0;
        s->rel_transit += d;
    }
    s->last_transit = transit;
    s->have_transit = true;
}

/* RFC 3550 A.8 and the jitter buffers, for a packet of the stream's own clock. */
static void timed_packet(struct rtp_stream *s, const struct rtp_hdr *h, ptime_t now,
                         enum seq_kind kind, uint32_t gap, struct stream_second *sec,
                         bool stats)
{
    a8_update(s, h, now);
    double jms = s->jitter / s->clock_rate * 1000.0;
    /* the first voice packet after CN jumps by the silence: J takes it, as tshark's does,
     * but the max and mean figures are about the talk */
    if (stats && jms > s->max_jitter_ms)
        s->max_jitter_ms = jms;
    if (stats && s->packets > 1) {
        s->jitter_sum += jms;
        s->jitter_n++;
    }
    if (sec && jms * 100 > sec->jitter_cms)
        sec->jitter_cms = clamp16(jms * 100);
    if (kind == SEQ_DUP)
        return; /* a copy is not played twice */
    /* the packet interval: the smallest timestamp step between consecutive packets */
    uint32_t step = h->ts - s->last_rtp_ts;
    if (s->timed && kind == SEQ_NEXT && !gap && step && step < s->clock_rate &&
        (!s->ptime_ts || step < s->ptime_ts))
        s->ptime_ts = step;
    s->last_rtp_ts = h->ts;
    s->timed++;
    jb_packet(s, round_i64(s->rel_transit), gap, kind == SEQ_LATE,
              h->marker || kind == SEQ_JUMP, now, true);
}

const struct rtp_stream *stream_rtp(struct stream_table *t, const struct l4_packet *l4,
                                    const struct rtp_hdr *h, stream_resolve_fn resolve, void *ctx)
{
    return stream_rtp_copy(t, l4, h, resolve, ctx, 0, NULL, 0);
}

uint64_t stream_key_hash(uint64_t seed, const struct ip_addr *src, uint16_t sport,
                         const struct ip_addr *dst, uint16_t dport, uint32_t ssrc)
{
    struct stream_key k;
    stream_key_make(&k, src, sport, dst, dport, ssrc);
    return hash_bytes(&k, sizeof k, seed);
}

const struct rtp_stream *stream_rtp_copy(struct stream_table *t, const struct l4_packet *l4,
                                         const struct rtp_hdr *h, stream_resolve_fn resolve,
                                         void *ctx, ptime_t window, bool *copy, uint64_t hint)
{
    struct stream_key k;
    stream_key_make(&k, &l4->src, l4->sport, &l4->dst, l4->dport, h->ssrc);
    /* a stream found by the hint holds the key, so the hint was its hash: the hash of the
     * key is worked out here only when the hint found nothing */
    uint64_t hash = hint;
    struct stream_int *si = hint ? htab_find(t->ht, hint, &k) : NULL;
    if (!si) {
        hash = hash_bytes(&k, sizeof k, t->seed);
        if (hash != hint)
            si = htab_find(t->ht, hash, &k);
    }
    ptime_t now = l4->pkt->ts;
    enum seq_kind kind = SEQ_NEXT;
    uint32_t gap = 0;

    /* a mirror's copy: the same stream's last packet again (IP ID, sequence number and
     * timestamp) within the window; RTP never repeats them on purpose */
    if (copy && si && si->pub.packets && l4->ip_id == si->last_ip_id && h->seq == si->last_seq &&
        h->ts == si->last_ts && now >= si->pub.last_time && now - si->pub.last_time <= window) {
        *copy = true;
        return NULL;
    }
    if (!si) {
        if (!(si = stream_new(t, l4, h, &k, hash, resolve, ctx)))
            return NULL;
    } else {
        /* the LRU order is kept to the second: moving a node on every packet wrote to
         * two other streams' memory (its neighbours) per packet. Eviction and
         * the idle sweep may then be up to a second late, never early. */
        if (now - si->lru_at >= PTIME_SEC) {
            dlist_touch(&t->lru, &si->lru);
            if (!si->pub.announced)
                dlist_touch(&t->orphans, &si->olru);
            si->lru_at = now;
        }
        struct rtp_stream *s = &si->pub;
        /* a gap before a talkspurt's first packet (marker bit, RFC 3551 §4.1) or after
         * comfort noise (RFC 3389) is silence suppression, not delay on the network */
        double delta = (double)(now - s->last_time) / 1e6;
        if (!h->marker && !s->last_cn && delta > s->max_delta_ms)
            s->max_delta_ms = delta;
        kind = update_seq(s, h->seq, &gap);
    }
    struct rtp_stream *s = &si->pub;
    if (!s->announced && s->verdict == CLASS_UNKNOWN) {
        /* the first packet was judged when the stream was made; later ones while the
         * flow is undecided */
        s->verdict = (int8_t)(s->packets ? judge(t, l4, false) : verdict_of(t, s));
        if (s->verdict == CLASS_OTHER)
            return NULL;
    }
    s->packets++;
    if (l4->srtp == L4_DECRYPTED)
        s->srtp_decrypted++;
    else if (l4->srtp != L4_CLEAR)
        s->srtp_encrypted++;
    if (l4->srtp == L4_AUTH_FAILED)
        s->srtp_auth_failures++;
    s->markers += h->marker;
    if (h->pt != s->pt) /* seldom: events, comfort noise, a codec change */
        s->pt_seen[h->pt >> 6 & 1] |= (uint64_t)1 << (h->pt & 63);
    si->last_ip_id = l4->ip_id;
    si->last_ts = h->ts;
    si->last_seq = h->seq;
    if (gap) {
        s->loss_bursts++;
        if (gap > s->longest_burst)
            s->longest_burst = gap;
    }
    s->last_time = now;
    s->last_frame = l4->pkt->frame;
    bool after_cn = s->last_cn;
    s->last_cn = h->pt == 13; /* RFC 3551 static CN */
    struct stream_second *sec = second_at(s, now);
    if (sec && sec->packets < UINT16_MAX)
        sec->packets++;
    if (sec)
        sec->lost = clamp16((double)sec->lost + gap);
    if (h->pt == s->te_pt && kind != SEQ_DUP)
        dtmf_packet(s, l4, h);
    if (s->audio && kind != SEQ_DUP && (l4->srtp == L4_CLEAR || l4->srtp == L4_DECRYPTED))
        audio_packet(t, s, l4, h, now);
    if (!s->clock_rate || s->events)
        return s;
    /* other payload types in an audio stream (events keep one timestamp per event,
     * comfort noise its own pace) fill their slots but say nothing of timing */
    if (h->pt == s->pt)
        timed_packet(s, h, now, kind, gap, sec, !after_cn);
    else if (h->pt == 13 && s->clock_rate == 8000 && kind != SEQ_DUP) {
        a8_update(s, h, now);
        jb_packet(s, 0, gap, kind == SEQ_LATE, false, now, false);
    } else if (kind != SEQ_DUP)
        jb_packet(s, 0, gap, kind == SEQ_LATE, false, now, false);
    return s;
}
