/* RTP stream figures; see stream.h. */
#include "stream.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/hash.h"
#include "common/list.h"
#include "decode/sdp.h"

#define RTP_SEQ_MOD (1u << 16)
#define MAX_DROPOUT 3000 /* RFC 3550 A.1 */
#define MAX_MISORDER 100

struct stream_key {
    struct l4_flow_key flow;
    uint32_t ssrc;
};

struct stream_int {
    struct rtp_stream pub;
    struct stream_key key;
    uint64_t hash;
    struct dlist_node lru;
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
    struct dlist lru;
    struct htab *flows;     /* struct judged */
    struct dlist flow_lru;
    uint64_t seed, next_seq, packets, evicted;
    stream_done_fn done;
    void *user;
    struct classifier *cls;
};

static bool key_eq(const void *item, const void *key)
{
    return memcmp(&((const struct stream_int *)item)->key, key, sizeof(struct stream_key)) == 0;
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
    if (!(t->flows = htab_new(STREAM_MAX_JUDGED, flow_eq))) {
        htab_free(t->ht);
        free(t);
        return NULL;
    }
    return t;
}

static void finalize(struct rtp_stream *s)
{
    /* A.3: expected from the extended highest sequence number */
    s->expected = (int64_t)s->cycles + (int64_t)s->max_seq - s->base_seq + 1;
    s->lost = s->expected - (int64_t)s->packets;
    /* the first packet has no jitter value of its own: the mean is over the others */
    s->mean_jitter_ms = s->jitter_n ? s->jitter_sum / (double)s->jitter_n : 0;
}

static void release(struct stream_table *t, struct stream_int *si)
{
    dlist_unlink(&t->lru, &si->lru);
    htab_remove(t->ht, si->hash, &si->key);
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
    free(si);
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
    free(t);
}

static int by_seq(const void *a, const void *b)
{
    uint64_t x = (*(struct stream_int *const *)a)->pub.seq, y = (*(struct stream_int *const *)b)->pub.seq;
    return x < y ? -1 : x > y;
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

uint64_t stream_packets(const struct stream_table *t) { return t->packets; }
uint64_t stream_evicted(const struct stream_table *t) { return t->evicted; }

static void init_seq(struct rtp_stream *s, uint16_t seq)
{
    s->base_seq = seq;
    s->max_seq = seq;
    s->bad_seq = RTP_SEQ_MOD + 1;
    s->cycles = 0;
    s->seen = 1;
}

/* RFC 3550 A.1 without probation (a monitor counts from the first packet). */
static void update_seq(struct rtp_stream *s, uint16_t seq)
{
    uint16_t udelta = (uint16_t)(seq - s->max_seq);
    if (udelta == 0) {
        s->duplicates++;
        return;
    }
    if (udelta < MAX_DROPOUT) {
        if (seq < s->max_seq)
            s->cycles += RTP_SEQ_MOD; /* wrapped */
        s->seen = udelta < 64 ? (s->seen << udelta) | 1 : 1;
        s->max_seq = seq;
    } else if (udelta <= RTP_SEQ_MOD - MAX_MISORDER) {
        /* a big jump: twice in a row means the source restarted */
        s->seq_errors++;
        if (seq == s->bad_seq) {
            /* re-based so that what was received so far (the first packet of the new
             * range included) counts as expected: a restart is not a loss */
            int64_t received = (int64_t)s->packets;
            init_seq(s, seq);
            s->base_seq = (int64_t)seq - received;
        } else {
            s->bad_seq = (seq + 1u) & (RTP_SEQ_MOD - 1);
        }
    } else { /* behind max_seq: reordered, or a duplicate of an earlier one */
        uint16_t back = (uint16_t)(s->max_seq - seq);
        if (back < 64 && (s->seen >> back) & 1) {
            s->duplicates++;
        } else {
            s->out_of_order++;
            if (back < 64)
                s->seen |= 1ull << back;
        }
    }
}

void stream_rtp(struct stream_table *t, const struct l4_packet *l4, const struct rtp_hdr *h,
                stream_resolve_fn resolve, void *ctx)
{
    struct stream_key k;
    memset(&k, 0, sizeof k); /* the padding after ssrc is hashed too */
    l4_flow_key_make(&k.flow, &l4->src, l4->sport, &l4->dst, l4->dport);
    k.ssrc = h->ssrc;
    uint64_t hash = hash_bytes(&k, sizeof k, t->seed);
    struct stream_int *si = htab_find(t->ht, hash, &k);
    ptime_t now = l4->pkt->ts;

    if (!si) {
        struct media_match found, *mm = &found;
        bool src_ann = false, dst_ann = false;
        enum stream_origin origin = resolve(ctx, l4, &found, &src_ann, &dst_ann);
        if (origin == STREAM_IGNORE || (origin == STREAM_CANDIDATE && !t->cls))
            return;
        /* a candidate from a flow already judged not RTP starts nothing */
        if (origin == STREAM_CANDIDATE && judge(t, l4, true) == CLASS_OTHER)
            return;
        if (origin == STREAM_CANDIDATE)
            mm = NULL;
        if (!(si = calloc(1, sizeof *si)))
            return;
        si->pub.announced = origin == STREAM_ANNOUNCED;
        si->pub.src_announced = src_ann;
        si->pub.dst_announced = dst_ann;
        si->key = k;
        si->hash = hash;
        while (!htab_insert(t->ht, hash, si)) {
            if (!t->lru.head) {
                free(si);
                return;
            }
            release(t, dlist_entry(t->lru.head, struct stream_int, lru));
            t->evicted++;
        }
        dlist_push_tail(&t->lru, &si->lru);
        struct rtp_stream *s = &si->pub;
        s->seq = ++t->next_seq;
        s->src = l4->src;
        s->dst = l4->dst;
        s->sport = l4->sport;
        s->dport = l4->dport;
        s->ssrc = h->ssrc;
        s->pt = h->pt;
        s->first_time = now;
        s->first_frame = l4->pkt->frame;
        s->call_seq = mm ? mm->call_seq : 0;
        /* the clock: what SDP mapped for this payload type, else RFC 3551's static table */
        const char *name;
        for (unsigned i = 0; mm && i < mm->npts; i++)
            if (mm->pt[i] == h->pt) {
                s->clock_rate = mm->rate[i];
                memcpy(s->codec, mm->codec[i], sizeof s->codec);
            }
        if (!s->clock_rate && sdp_static_payload(h->pt, &name, &s->clock_rate) && !s->codec[0])
            strncpy(s->codec, name, sizeof s->codec - 1);
        /* RFC 4733 events keep one timestamp for all packets of an event: interarrival
         * jitter would measure the event's length, not the network */
        s->events = strcasecmp(s->codec, "telephone-event") == 0;
        init_seq(s, h->seq);
    } else {
        dlist_touch(&t->lru, &si->lru);
        struct rtp_stream *s = &si->pub;
        /* a gap before a talkspurt's first packet (marker bit, RFC 3551 §4.1) or after
         * comfort noise (RFC 3389) is silence suppression, not delay on the network */
        double delta = (double)(now - s->last_time) / 1e6;
        if (!h->marker && !s->last_cn && delta > s->max_delta_ms)
            s->max_delta_ms = delta;
        update_seq(s, h->seq);
    }
    struct rtp_stream *s = &si->pub;
    if (!s->announced && s->verdict == CLASS_UNKNOWN) {
        /* the first packet was judged when the stream was made; later ones while the
         * flow is undecided */
        s->verdict = (int8_t)(s->packets ? judge(t, l4, false) : verdict_of(t, s));
        if (s->verdict == CLASS_OTHER)
            return;
    }
    s->packets++;
    s->last_time = now;
    s->last_cn = h->pt == 13; /* RFC 3551 static CN */
    if (s->clock_rate && !s->events) {
        /* A.8: transit = arrival in timestamp units - RTP timestamp; J += (|D| - J) / 16 */
        int64_t arrival = (int64_t)((double)now / 1e9 * s->clock_rate + 0.5);
        int64_t transit = arrival - (int64_t)h->ts;
        if (s->have_transit) {
            int64_t d = transit - s->last_transit;
            /* timestamps wrap at 2^32: keep the difference in range */
            d = (int64_t)(int32_t)(uint32_t)d;
            s->jitter += (fabs((double)d) - s->jitter) / 16.0;
        }
        s->last_transit = transit;
        s->have_transit = true;
        double jms = s->jitter / s->clock_rate * 1000.0;
        if (jms > s->max_jitter_ms)
            s->max_jitter_ms = jms;
        if (s->packets > 1) {
            s->jitter_sum += jms;
            s->jitter_n++;
        }
    }
}
