/* RTP stream figures; see stream.h. */
#include "stream.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/hash.h"
#include "common/list.h"
#include "decode/sdp.h"
#include "emodel.h"

#define RTP_SEQ_MOD (1u << 16)
#define MAX_DROPOUT 3000 /* RFC 3550 A.1 */
#define MAX_MISORDER 100

/* A stream's identity as six words, built and compared a word at a time: every word is
 * written by one 8-byte store and read by 8-byte loads, which the processor forwards
 * (a key of byte and short fields read back as words, or compared by memcmp's wide loads,
 * stalled the lookup of every packet: issue 10). */
struct stream_key {
    uint64_t w[6]; /* family | sport << 8 | dport << 24; src; src; dst; dst; ssrc */
};

static inline uint64_t addr_word(const struct ip_addr *a, size_t i)
{
    uint64_t v;
    memcpy(&v, a->b + 8 * i, 8);
    return v;
}

static void stream_key_make(struct stream_key *k, const struct ip_addr *src, uint16_t sport,
                            const struct ip_addr *dst, uint16_t dport, uint32_t ssrc)
{
    k->w[0] = (uint64_t)src->family | (uint64_t)sport << 8 | (uint64_t)dport << 24;
    k->w[1] = addr_word(src, 0);
    k->w[2] = addr_word(src, 1);
    k->w[3] = addr_word(dst, 0);
    k->w[4] = addr_word(dst, 1);
    k->w[5] = ssrc;
}

/* RTCP names a stream by SSRC from the hosts' addresses; its ports are the RTP ports
 * plus one, the same ones (RFC 5761 mux), or whatever a=rtcp or a NAT made them. */
struct ssrc_key {
    uint32_t ssrc;
    uint8_t family, pad[3];
    uint8_t src[16], dst[16];
};

struct stream_int {
    /* what the lookup of every packet reads first: on the first cache line */
    struct stream_key key;
    uint64_t hash;
    struct dlist_node lru;
    ptime_t lru_at;             /* when it last moved to the LRU's tail */
    /* the last packet counted, to know a mirror's copy of it (stream_rtp_copy) */
    uint32_t last_ip_id, last_ts;
    uint16_t last_seq;          /* (set once pub.packets counts one) */
    struct rtp_stream pub;
    struct dlist_node olru;     /* unannounced: in the orphans' own LRU too */
    struct ssrc_key skey;       /* in by_ssrc while indexed (the latest stream wins) */
    uint64_t shash;
    bool sindexed;
};

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

struct stream_table {
    struct htab *ht;
    struct htab *by_ssrc;   /* struct stream_int by ssrc_key, for RTCP */
    struct dlist lru;
    struct dlist orphans;   /* the unannounced streams, least recently active first */
    size_t norphans;
    uint64_t orphans_evicted, flows_evicted;
    struct htab *flows;     /* struct judged */
    struct dlist flow_lru;
    uint64_t seed, next_seq, packets, evicted;
    stream_done_fn done;
    void *user;
    struct classifier *cls;
    struct emodel_base ebase; /* G.107's delay-free part for the default parameters */
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

static void ssrc_key_make(struct ssrc_key *k, uint32_t ssrc, const struct ip_addr *src,
                          const struct ip_addr *dst)
{
    memset(k, 0, sizeof *k);
    k->ssrc = ssrc;
    k->family = src->family;
    memcpy(k->src, src->b, 16);
    memcpy(k->dst, dst->b, 16);
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

/* The one-way network delay the E-model is given: half the round trip RTCP measured
 * between the capture point and the receiver, else 0 (the capture point is on the path;
 * the unknown part is left out rather than guessed). */
static double one_way_ms(const struct rtp_stream *s)
{
    return s->rtcp.rtt_n ? s->rtcp.rtt_ms / 2 : 0;
}

/* How long a buffer held the packets it played, on average. */
static double jb_wait_ms(const struct rtp_stream *s, const struct stream_jb *b)
{
    return b->timed_played ? b->wait_sum / (double)b->timed_played * 1000.0 / s->clock_rate : 0;
}

double stream_ptime_ms(const struct rtp_stream *s)
{
    return s->clock_rate && s->ptime_ts ? s->ptime_ts * 1000.0 / s->clock_rate : 20.0;
}

double stream_delay_ms(const struct rtp_stream *s)
{
    double la = s->emodel ? s->emodel->lookahead_ms : 0;
    return one_way_ms(s) + stream_ptime_ms(s) + la +
           (s->clock_rate ? jb_wait_ms(s, &s->jb[JB_ADAPTIVE]) : 0);
}

/* R (G.107) for this stream's codec at a loss, burst ratio and buffering delay. Mouth to
 * ear: network, one packet of audio, the codec's look-ahead, the buffer. */
static double stream_r(const struct rtp_stream *s, double ppl_pct, double burst_r, double wait_ms)
{
    struct emodel_params e;
    emodel_defaults(&e);
    e.ie = s->emodel->ie;
    e.bpl = s->emodel->bpl;
    e.ppl = ppl_pct;
    e.burst_r = burst_r;
    e.ta = e.t = one_way_ms(s) + stream_ptime_ms(s) + s->emodel->lookahead_ms + wait_ms;
    e.tr = 2 * e.ta;
    /* the per-second MOS of every stream redid a dozen logarithms that depend on none of
     * this (issue 10): the table's base holds them, the same to the last bit. Every stream
     * gets its table's base, made from the same defaults as e. */
    assert(s->ebase && emodel_base_fits(s->ebase, &e));
    double r = emodel_r_base(&e, s->ebase);
    return r < 0 ? 0 : r;
}

/* The jitter buffers' loss and delay through the E-model, at the end of a stream. Loss
 * is what the buffer did not play: lost on the wire plus discarded for lateness. */
static void jb_score(struct rtp_stream *s)
{
    for (int k = 0; k < JB__COUNT; k++) {
        const struct stream_jb *j = &s->jb[k];
        struct stream_jb_score *b = &s->jbs[k];
        b->r_factor = b->mos = -1;
        int64_t expected = s->expected > 0 ? s->expected : 0;
        int64_t lost = expected - (int64_t)j->played;
        if (lost < 0)
            lost = 0;
        b->lost_pct = expected ? 100.0 * (double)lost / (double)expected : 0;
        b->mean_delay_ms = jb_wait_ms(s, j);
        /* burst ratio from the two-state (Gilbert) model of the loss runs (G.107 §7.6):
         * p = P(lost | played before), q = P(played | lost before), BurstR = 1 / (p + q) */
        b->burst_ratio = 1;
        if (lost > 0 && j->runs > 0 && j->played > 0) {
            double p = (double)j->runs / (double)j->played, q = (double)j->runs / (double)lost;
            b->burst_ratio = 1.0 / (p + q);
            b->burst_ratio = b->burst_ratio < 1 ? 1 : b->burst_ratio > 8 ? 8 : b->burst_ratio;
        }
        if (!s->emodel || !expected)
            continue;
        b->r_factor = stream_r(s, b->lost_pct, b->burst_ratio, b->mean_delay_ms);
        b->mos = emodel_mos(b->r_factor);
    }
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
        double r = stream_r(s, 100.0 * s->sec_lost / slots, 1, jb_wait_ms(s, &s->jb[JB_ADAPTIVE]));
        s->sec_cur.mos_c = clamp16(emodel_mos(r) * 100);
    }
    s->timeline[s->nsec - 1] = s->sec_cur;
    s->sec_played = s->sec_lost = 0;
}

static void finalize(struct rtp_stream *s)
{
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
    free(si->pub.dtmf);
    free(si->pub.timeline);
    free(si);
}

void stream_table_first_seq(struct stream_table *t, uint64_t n)
{
    t->next_seq = n;
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
    return sizeof(struct stream_int) + 16; /* and the allocator's header */
}

size_t stream_table_bytes(const struct stream_table *t)
{
    return sizeof *t + htab_bytes(t->ht) + htab_bytes(t->by_ssrc) + htab_bytes(t->flows) +
           htab_count(t->ht) * stream_entry_bytes() + htab_count(t->flows) * sizeof(struct judged);
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
    if (!rtp_event_parse(l4->payload + h->header_len, h->payload_len, &ev))
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

/* Ramjee, Kurose, Towsley, Schulzrinne, "Adaptive playout mechanisms for packetized audio
 * applications in wide-area networks" (INFOCOM 1994), algorithm 1: delay and variation
 * estimates by exponential averaging; the playout point is set to d + 4v at each
 * talkspurt (marker bit) and, for speech without silence suppression, once a second.
 * It never plans less than one packet of buffering. */
#define JB_ALPHA 0.998002

#define JB_PRIOR_MS 10.0 /* the variation assumed before any is seen: 40 ms to start with */

/* A slot's fate in one buffer: played or discarded (arrived after its playout time), and
 * the runs of slots lost or discarded (for the burst ratio). */
static inline bool jb_slot(struct stream_jb *b, int64_t rel, uint32_t gap, bool late, bool timed)
{
    bool discard = timed && rel > b->playout;
    if (gap && !b->in_run) {
        b->runs++;
        b->in_run = true;
    }
    if (discard) {
        b->discarded++;
        if (!late && !b->in_run) {
            b->runs++;
            b->in_run = true;
        }
    } else {
        b->played++;
        if (timed) {
            b->wait_sum += (double)(b->playout - rel);
            b->timed_played++;
        }
        if (!late)
            b->in_run = false;
    }
    return discard;
}

/* A fixed buffer plays the first packet of a talkspurt after its size, and the rest on
 * that schedule; one that would overflow (a packet earlier than the schedule by more than
 * the buffer holds) starts over. `restart`: the first packet, a talkspurt, or a jump. */
static inline void jb_fixed_plan(struct stream_jb *b, int64_t rel, int64_t size, bool restart)
{
    if (restart || rel + 2 * size < b->playout)
        b->playout = rel + size;
}

/* A timestamp jump of a second or more either way is the sender's clock, not the network:
 * every buffer resynchronises on it, as real ones do. */
static inline bool jb_jump(const struct stream_jb *b, int64_t rel, int64_t resync)
{
    return rel > b->playout + resync || rel + resync < b->playout - resync;
}

/* One packet through the three buffers: rel is its transit relative to the stream's first
 * packet; gap the sequence numbers missing before it (in order); late: it arrives after
 * packets sent later (its slot was counted lost). Untimed packets (comfort noise, events
 * in an audio stream) fill their slot without a playout test. Written out buffer by
 * buffer, not as a loop over them: this runs for every packet (issue 10). */
static void jb_packet(struct rtp_stream *s, int64_t rel, uint32_t gap, bool late, bool spurt,
                      ptime_t now, bool timed)
{
    struct stream_jb *f50 = &s->jb[JB_FIXED_50], *f200 = &s->jb[JB_FIXED_200],
                     *ad = &s->jb[JB_ADAPTIVE];
    if (timed) {
        bool first = s->timed == 1;
        int64_t resync = s->clock_rate; /* one second */
        /* integer arithmetic: the same truncation as (double)ms * rate / 1000 for any clock
         * rate, without a division in floating point per packet and buffer */
        int64_t rate = s->clock_rate;
        jb_fixed_plan(f50, rel, 50 * rate / 1000, first || spurt || jb_jump(f50, rel, resync));
        jb_fixed_plan(f200, rel, 200 * rate / 1000, first || spurt || jb_jump(f200, rel, resync));
        bool jump = !first && jb_jump(ad, rel, resync);
        if (first || jump) {
            ad->d_hat = (double)rel;
            ad->v_hat = JB_PRIOR_MS * s->clock_rate / 1000.0;
        }
        if (first || jump || spurt || now - ad->replanned >= 1000000000) {
            int64_t min_buf = s->ptime_ts ? s->ptime_ts : s->clock_rate / 50;
            double buf = 4 * ad->v_hat;
            ad->playout = (int64_t)(ad->d_hat + (buf > (double)min_buf ? buf : (double)min_buf));
            ad->replanned = now;
        }
        ad->d_hat = JB_ALPHA * ad->d_hat + (1 - JB_ALPHA) * (double)rel;
        ad->v_hat = JB_ALPHA * ad->v_hat + (1 - JB_ALPHA) * fabs(ad->d_hat - (double)rel);
    }
    jb_slot(f50, rel, gap, late, timed);
    jb_slot(f200, rel, gap, late, timed);
    bool discard = jb_slot(ad, rel, gap, late, timed);
    s->sec_lost += gap + (discard && !late);
    s->sec_played += !discard;
    if (late && !discard && s->sec_lost)
        s->sec_lost--; /* it came after all, in time to be played */
}

/* The first packet: the stream's identity, codec and clock. */
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
    s->r_factor = s->mos = -1;
    init_seq(s, h->seq);
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
static void a8_update(struct rtp_stream *s, const struct rtp_hdr *h, ptime_t now)
{
    /* A.8: transit = arrival in timestamp units - RTP timestamp; J += (|D| - J) / 16 */
    double arrival = (double)(now - s->first_time) / 1e9 * s->clock_rate;
    double transit = arrival - (double)h->ts;
    if (s->have_transit) {
        /* timestamps wrap at 2^32: keep the difference in range */
        double d = remainder(transit - s->last_transit, 4294967296.0);
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
    jb_packet(s, (int64_t)llround(s->rel_transit), gap, kind == SEQ_LATE,
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
         * two other streams' memory (its neighbours) per packet (issue 10). Eviction and
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
    s->markers += h->marker;
    if (h->pt != s->pt) /* seldom: events, comfort noise, a codec change (issue 21) */
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

/* The stream an RTCP report speaks of: the exact RTP ports (RTCP's minus one, or the same
 * on a muxed port), else the latest stream of that SSRC between the two hosts. */
static struct stream_int *rtcp_stream(struct stream_table *t, uint32_t ssrc,
                                      const struct ip_addr *src, uint16_t sport,
                                      const struct ip_addr *dst, uint16_t dport)
{
    struct stream_key k;
    for (int mux = 0; mux < 2; mux++) {
        uint16_t d = mux ? 0 : 1;
        if (sport < d || dport < d)
            continue;
        stream_key_make(&k, src, (uint16_t)(sport - d), dst, (uint16_t)(dport - d), ssrc);
        struct stream_int *si = htab_find(t->ht, hash_bytes(&k, sizeof k, t->seed), &k);
        if (si)
            return si;
    }
    struct ssrc_key sk;
    ssrc_key_make(&sk, ssrc, src, dst);
    return htab_find(t->by_ssrc, hash_bytes(&sk, sizeof sk, t->seed), &sk);
}

static uint32_t ntp_middle(uint32_t msw, uint32_t lsw) { return (msw << 16) | (lsw >> 16); }

/* One compound packet spoke of s: on s's own RTP ports, either way (multiplexed, RFC 5761
 * §4), or apart from them (RTP + 1 or a=rtcp: RFC 3550 §11, RFC 3605). What SDP asked
 * for is the issue engine's to compare. */
static void rtcp_ports(struct rtp_stream *s, const struct l4_packet *l4)
{
    struct stream_rtcp *r = &s->rtcp;
    r->packets++;
    if ((l4->sport == s->sport && l4->dport == s->dport) ||
        (l4->sport == s->dport && l4->dport == s->sport)) {
        r->muxed++;
        return;
    }
    r->apart_last = l4->pkt->ts;
    if (!r->apart++) {
        r->apart_src = l4->src;
        r->apart_dst = l4->dst;
        r->apart_sport = l4->sport;
        r->apart_dport = l4->dport;
        r->apart_frame = l4->pkt->frame;
    }
}

unsigned stream_rtcp(struct stream_table *t, const struct l4_packet *l4,
                     const struct rtcp_info *info)
{
    ptime_t now = l4->pkt->ts;
    struct stream_int *touched[1 + RTCP_MAX_REPORTS + RTCP_MAX_XR_VOIP];
    unsigned nt = 0;
    /* an SR comes from the source of a stream: kept for the RTT of later reports */
    if (info->has_sr) {
        struct stream_int *si = rtcp_stream(t, info->sr_ssrc, &l4->src, l4->sport, &l4->dst, l4->dport);
        if (si) {
            struct stream_rtcp *r = &si->pub.rtcp;
            r->sender_reports++;
            r->sr_mid[1] = r->sr_mid[0];
            r->sr_time[1] = r->sr_time[0];
            r->sr_mid[0] = ntp_middle(info->sr_ntp_msw, info->sr_ntp_lsw);
            r->sr_time[0] = now;
            touched[nt++] = si;
        }
    }
    /* a report block comes from the receiver of the stream it names */
    for (unsigned i = 0; i < info->nreports; i++) {
        const struct rtcp_report *rb = &info->reports[i];
        struct stream_int *si = rtcp_stream(t, rb->ssrc, &l4->dst, l4->dport, &l4->src, l4->sport);
        if (!si)
            continue;
        struct rtp_stream *s = &si->pub;
        struct stream_rtcp *r = &s->rtcp;
        r->receiver_reports++;
        r->reported_lost = rb->cumulative_lost;
        double frac = rb->fraction_lost * 100.0 / 256.0;
        if (frac > r->max_fraction_lost_pct)
            r->max_fraction_lost_pct = frac;
        if (s->clock_rate) {
            double j = rb->jitter * 1000.0 / s->clock_rate;
            if (j > r->reported_jitter_ms)
                r->reported_jitter_ms = j;
        }
        /* RFC 3550 §6.4.1: round trip = arrival of the RR - LSR - DLSR; the capture point
         * saw the SR and the RR, so this is the round trip between it and the receiver */
        for (int k = 0; rb->lsr && k < 2; k++) {
            if (r->sr_mid[k] != rb->lsr || !r->sr_time[k])
                continue;
            double rtt = (double)(now - r->sr_time[k]) / 1e6 - rb->dlsr * 1000.0 / 65536.0;
            if (rtt >= 0) {
                r->rtt_ms += (rtt - r->rtt_ms) / (double)++r->rtt_n; /* running mean */
                if (rtt > r->max_rtt_ms)
                    r->max_rtt_ms = rtt;
            }
            break;
        }
        touched[nt++] = si;
    }
    for (unsigned i = 0; i < info->nvoip; i++) {
        const struct rtcp_voip_metrics *m = &info->voip[i];
        struct stream_int *si = rtcp_stream(t, m->ssrc, &l4->dst, l4->dport, &l4->src, l4->sport);
        if (!si)
            continue;
        si->pub.rtcp.have_xr = true;
        si->pub.rtcp.xr = *m;
        touched[nt++] = si;
    }
    unsigned streams = 0;
    for (unsigned i = 0; i < nt; i++) {
        bool seen = false;
        for (unsigned j = 0; j < i; j++)
            seen |= touched[j] == touched[i];
        if (!seen) {
            rtcp_ports(&touched[i]->pub, l4);
            streams++;
        }
    }
    return streams;
}
