/* See hep_in.h. */
#include "hep_in.h"

#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "render/hep_read.h"

/* A stream RTCP spoke of, waiting for more reports or its quality report. */
struct waiting {
    uint64_t hash;
    struct stream_reporter who;
    uint32_t ssrc;
    uint64_t call_seq;
    struct ip_addr src, dst; /* RTCP's own addresses and ports: RTP's are not in it */
    uint16_t sport, dport;
    ptime_t first, last;
    bool have_sr;
    uint32_t sr_packets; /* the sender's own count (RFC 3550 §6.4.1) */
    struct stream_rtcp rtcp;
};

struct key {
    uint32_t agent, ssrc;
    struct sv corr;
};

struct hep_in {
    struct htab *tab;
    size_t max;
    uint64_t seed;
    struct stream_table *seqs;
    stream_done_fn done;
    void *user;
    hep_in_call_fn call_of;
    void *ctx;
    struct hep_in_counts n;
};

static bool waiting_eq(const void *item, const void *key)
{
    const struct waiting *w = item;
    const struct key *k = key;
    return w->who.agent_id == k->agent && w->ssrc == k->ssrc && w->who.corr_len == k->corr.n &&
           memcmp(w->who.correlation, k->corr.p, k->corr.n) == 0;
}

static uint64_t key_hash(const struct hep_in *h, const struct key *k)
{
    return hash_bytes(k->corr.p, k->corr.n, h->seed ^ ((uint64_t)k->agent << 32 | k->ssrc));
}

struct hep_in *hep_in_new(size_t max, uint64_t seed, struct stream_table *seqs, stream_done_fn done,
                          void *user, hep_in_call_fn call_of, void *ctx)
{
    struct hep_in *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    *h = (struct hep_in){.max = max ? max : 1,
                         .seed = seed,
                         .seqs = seqs,
                         .done = done,
                         .user = user,
                         .call_of = call_of,
                         .ctx = ctx};
    if (!(h->tab = htab_new(h->max, waiting_eq))) {
        free(h);
        return NULL;
    }
    return h;
}

/* Who sent m, with the ids cut to what a reporter holds. */
static void reporter_of(const struct hep_msg *m, struct stream_reporter *who)
{
    memset(who, 0, sizeof *who);
    who->agent_id = m->capture_id;
    size_t n = sv_is_null(m->node) ? 0 : m->node.n;
    who->node_len = (uint8_t)(n < sizeof who->node ? n : sizeof who->node - 1);
    if (who->node_len) memcpy(who->node, m->node.p, who->node_len);
    n = sv_is_null(m->correlation) ? 0 : m->correlation.n;
    who->corr_len = (uint8_t)(n < sizeof who->correlation ? n : sizeof who->correlation - 1);
    if (who->corr_len) memcpy(who->correlation, m->correlation.p, who->corr_len);
}

static uint64_t call_of(const struct hep_in *h, const struct stream_reporter *who)
{
    if (!who->corr_len) return 0;
    return h->call_of(h->ctx, (struct sv){who->correlation, who->corr_len});
}

static void count(struct hep_in *h, uint64_t call_seq)
{
    h->n.received++;
    if (call_seq)
        h->n.attached++;
    else
        h->n.orphaned++;
}

/* The figures RTCP gave, as a stream's: the sender's packet count, the last cumulative
 * loss and the highest jitter reported about it (RFC 3550 §6.4.1), the VoIP Metrics
 * block's MOS and R (RFC 3611 §4.7.5; 127 unavailable). */
static void rtcp_figures(const struct waiting *w, struct rtp_stream *st)
{
    const struct stream_rtcp *r = &w->rtcp;
    st->packets = w->sr_packets;
    if (r->receiver_reports) {
        st->lost = r->reported_lost;
        st->clock_rate = 8000; /* jitter came in timestamp units: read at 8 kHz */
        st->mean_jitter_ms = st->max_jitter_ms = r->reported_jitter_ms;
    } else {
        st->events = true; /* no jitter known: null */
    }
    st->expected = (int64_t)st->packets + st->lost;
    st->mos = r->have_xr && r->xr.mos_lq != 127 ? r->xr.mos_lq / 10.0 : -1;
    st->r_factor = r->have_xr && r->xr.r_factor != 127 ? r->xr.r_factor : -1;
}

/* Hands a stream on, numbered now; its call looked up again when it had none (the
 * report may have come before the call's INVITE). */
static void hand_on(struct hep_in *h, struct rtp_stream *st, struct stream_reporter *who)
{
    if (!st->call_seq) st->call_seq = call_of(h, who);
    st->seq = stream_table_take_seq(h->seqs);
    st->reported = who;
    h->done(h->user, st);
}

static void hand_on_waiting(struct hep_in *h, struct waiting *w)
{
    struct rtp_stream st;
    memset(&st, 0, sizeof st);
    st.call_seq = w->call_seq;
    st.src = w->src, st.dst = w->dst, st.sport = w->sport, st.dport = w->dport;
    st.ssrc = w->ssrc;
    st.first_time = w->first, st.last_time = w->last;
    st.rtcp = w->rtcp;
    rtcp_figures(w, &st);
    w->who.clock_assumed = w->rtcp.receiver_reports > 0;
    hand_on(h, &st, &w->who);
}

/* The stream ssrc of this report, found or started; NULL when the table is full (then
 * *spare is used, and handed on by the caller). */
static struct waiting *waiting_for(struct hep_in *h, const struct stream_reporter *who,
                                   uint32_t ssrc, bool towards_reporter, const struct hep_msg *m,
                                   ptime_t t, uint64_t call_seq, struct waiting *spare)
{
    struct key k = {who->agent_id, ssrc, {who->correlation, who->corr_len}};
    uint64_t hash = key_hash(h, &k);
    struct waiting *w = htab_find(h->tab, hash, &k);
    if (w) {
        w->last = t;
        return w;
    }
    if (htab_count(h->tab) < h->max && (w = calloc(1, sizeof *w)) && htab_insert(h->tab, hash, w)) {
        w->hash = hash;
    } else {
        free(w);
        memset(spare, 0, sizeof *spare);
        w = spare;
        h->n.evicted++;
    }
    w->who = *who;
    w->who.rtcp = true;
    w->ssrc = ssrc;
    w->call_seq = call_seq;
    /* a report block speaks of what its sender received: the stream flows towards it */
    w->src = towards_reporter ? m->dst : m->src, w->dst = towards_reporter ? m->src : m->dst;
    w->sport = towards_reporter ? m->dport : m->sport;
    w->dport = towards_reporter ? m->sport : m->dport;
    w->first = w->last = t;
    return w;
}

static void rtcp_block(struct waiting *w, const struct rtcp_report *b)
{
    struct stream_rtcp *r = &w->rtcp;
    double jitter_ms = b->jitter / 8.0, frac = b->fraction_lost * 100.0 / 256;
    r->receiver_reports++;
    r->reported_lost = b->cumulative_lost;
    if (jitter_ms > r->reported_jitter_ms) r->reported_jitter_ms = jitter_ms;
    if (frac > r->max_fraction_lost_pct) r->max_fraction_lost_pct = frac;
}

/* One RTCP compound packet (as read): every stream it speaks of, updated. */
static void on_rtcp(struct hep_in *h, const struct hep_msg *m, const struct rtcp_info *info,
                    ptime_t t)
{
    struct stream_reporter who;
    struct waiting spare, *w;
    reporter_of(m, &who);
    uint64_t call_seq = call_of(h, &who);
    count(h, call_seq);
    if (info->has_sr) {
        w = waiting_for(h, &who, info->sr_ssrc, false, m, t, call_seq, &spare);
        w->rtcp.packets++;
        w->rtcp.sender_reports++;
        w->have_sr = true;
        w->sr_packets = info->sr_packets;
        if (w == &spare) hand_on_waiting(h, w);
    }
    for (unsigned i = 0; i < info->nreports; i++) {
        w = waiting_for(h, &who, info->reports[i].ssrc, true, m, t, call_seq, &spare);
        w->rtcp.packets++;
        rtcp_block(w, &info->reports[i]);
        if (w == &spare) hand_on_waiting(h, w);
    }
    for (unsigned i = 0; i < info->nvoip; i++) {
        w = waiting_for(h, &who, info->voip[i].ssrc, true, m, t, call_seq, &spare);
        w->rtcp.have_xr = true;
        w->rtcp.xr = info->voip[i];
        if (w == &spare) hand_on_waiting(h, w);
    }
}

/* A stream's quality report: its figures, with the RTCP that came for it. */
static void on_qos(struct hep_in *h, const struct hep_msg *m, ptime_t t)
{
    struct rtp_stream st;
    struct stream_reporter who;
    memset(&st, 0, sizeof st);
    st.src = m->src, st.dst = m->dst, st.sport = m->sport, st.dport = m->dport;
    st.first_time = st.last_time = t;
    if (!render_hep_read_stream((const char *)m->payload, m->len, &st)) {
        h->n.bad++;
        return;
    }
    reporter_of(m, &who);
    who.qos = true;
    st.call_seq = call_of(h, &who);
    count(h, st.call_seq);
    struct key k = {who.agent_id, st.ssrc, {who.correlation, who.corr_len}};
    struct waiting *w = htab_remove(h->tab, key_hash(h, &k), &k);
    if (w) {
        st.rtcp = w->rtcp;
        who.rtcp = true;
        if (w->first && w->first < st.first_time) st.first_time = w->first;
        free(w);
    }
    hand_on(h, &st, &who);
}

/* JSON (Homer's shape) when it opens like an object, else the raw compound packet. */
static bool read_rtcp(const struct hep_msg *m, struct rtcp_info *info)
{
    size_t i = 0;
    while (i < m->len && (m->payload[i] == ' ' || m->payload[i] == '\t' || m->payload[i] == '\r' ||
                          m->payload[i] == '\n'))
        i++;
    if (i < m->len && m->payload[i] == '{')
        return render_hep_read_rtcp((const char *)m->payload, m->len, info);
    return rtcp_parse(m->payload, m->len, info) == RTCP_OK &&
           (info->has_sr || info->nreports || info->nvoip);
}

void hep_in_report(struct hep_in *h, const struct hep_msg *m, ptime_t t)
{
    if (m->payload_type == HEP_PT_JSON_QOS) {
        on_qos(h, m, t);
        return;
    }
    struct rtcp_info info;
    if (!read_rtcp(m, &info)) {
        h->n.bad++;
        return;
    }
    on_rtcp(h, m, &info, t);
}

/* Hand-on order is the reports' (first, then who and which), never the table's slots, so
 * that stream ids do not depend on the hash seed. */
static int by_time(const void *a, const void *b)
{
    const struct waiting *x = *(const struct waiting *const *)a,
                         *y = *(const struct waiting *const *)b;
    if (x->first != y->first) return x->first < y->first ? -1 : 1;
    if (x->who.agent_id != y->who.agent_id) return x->who.agent_id < y->who.agent_id ? -1 : 1;
    if (x->ssrc != y->ssrc) return x->ssrc < y->ssrc ? -1 : 1;
    int c = memcmp(x->who.correlation, y->who.correlation, sizeof x->who.correlation);
    return c ? c : (x->who.corr_len > y->who.corr_len) - (x->who.corr_len < y->who.corr_len);
}

/* Hands on the streams whose last report is idle old (all: every one). */
static void hand_on_idle(struct hep_in *h, ptime_t now, ptime_t idle, bool all)
{
    size_t n = 0, pos = 0, cap = htab_count(h->tab);
    struct waiting *w, **due = cap ? malloc(cap * sizeof *due) : NULL;
    if (!due) return; /* nothing waits, or no memory: they wait for the next tick */
    while ((w = htab_next(h->tab, &pos)) && n < cap)
        if (all || now - w->last >= idle) due[n++] = w;
    qsort(due, n, sizeof *due, by_time);
    for (size_t i = 0; i < n; i++)
        htab_remove(h->tab, due[i]->hash,
                    &(struct key){due[i]->who.agent_id,
                                  due[i]->ssrc,
                                  {due[i]->who.correlation, due[i]->who.corr_len}});
    for (size_t i = 0; i < n; i++) {
        hand_on_waiting(h, due[i]);
        free(due[i]);
    }
    free(due);
}

void hep_in_tick(struct hep_in *h, ptime_t now, ptime_t idle)
{
    hand_on_idle(h, now, idle, false);
}

void hep_in_finish(struct hep_in *h)
{
    hand_on_idle(h, 0, 0, true);
}

void hep_in_free(struct hep_in *h)
{
    if (!h) return;
    size_t pos = 0;
    struct waiting *w;
    while ((w = htab_next(h->tab, &pos)))
        free(w);
    htab_free(h->tab);
    free(h);
}

void hep_in_get_counts(const struct hep_in *h, struct hep_in_counts *out)
{
    *out = h->n;
}

size_t hep_in_entry_bytes(void)
{
    return sizeof(struct waiting) + 16;
}

size_t hep_in_bytes(const struct hep_in *h)
{
    return sizeof *h + htab_bytes(h->tab) + htab_count(h->tab) * sizeof(struct waiting);
}
