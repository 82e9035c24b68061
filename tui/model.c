/* See model.h. The calls are an array ordered by seq (the correlator numbers them as their
 * first INVITE comes, so new ones go at the end), found by binary search. */
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/sip.h"
#include "fromjson.h"
#include "render/call.h"
#include "render/ladder.h"
#include "render/stream.h"

struct tcall {
    struct tui_row row;
    bool has_row;                 /* the correlator told us of it (progress or end) */
    struct render_ladder *ladder; /* owned */
    struct tui_msg *msgs;         /* owned */
    size_t nmsgs, capmsgs;
    struct tui_stream streams[TUI_MAX_STREAMS];
    size_t nstreams;
    struct tui_issue *issues; /* owned */
    size_t nissues;
    uint8_t *media; /* owned: records of media_rec + bytes */
    size_t media_len, media_cap;
};

struct media_rec {
    int64_t ts;
    uint32_t caplen;
    int32_t linktype;
};

struct tui_model {
    pthread_mutex_t lock;
    struct tcall **calls; /* owned, by seq */
    size_t n, cap, max;
    size_t media_max, media_used;
    uint64_t newest;     /* the highest call seq held so far */
    uint64_t newest_reg; /* ... and registration's (with TUI_REG_SEQ) */
    bool utf8;
    uint64_t gen; /* changes the list shows */
    struct tui_stats st;
};

struct tui_model *tui_model_new(size_t max_calls, size_t media_bytes, bool utf8)
{
    struct tui_model *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    pthread_mutex_init(&m->lock, NULL);
    m->max = max_calls ? max_calls : 1;
    m->media_max = media_bytes;
    m->utf8 = utf8;
    m->gen = 1;
    return m;
}

void tui_msgs_free(struct tui_msg *msgs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(msgs[i].raw);
        free(msgs[i].pkt);
    }
    free(msgs);
}

static void tcall_free(struct tcall *c)
{
    tui_msgs_free(c->msgs, c->nmsgs);
    free(c->issues);
    free(c->media);
    render_ladder_free(c->ladder);
    free(c);
}

void tui_model_free(struct tui_model *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->n; i++)
        tcall_free(m->calls[i]);
    free(m->calls);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static size_t find_pos(const struct tui_model *m, uint64_t seq)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (m->calls[mid]->row.seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static struct tcall *find(const struct tui_model *m, uint64_t seq)
{
    size_t i = find_pos(m, seq);
    return i < m->n && m->calls[i]->row.seq == seq ? m->calls[i] : NULL;
}

_Static_assert(ISSUE__COUNT <= 64, "a row's issue_kinds holds a bit per issue kind");

/* Makes room for one more call: the oldest ended goes, else the oldest, by when each
 * began. Not by seq: registrations are numbered after every call (TUI_REG_SEQ), and calls
 * in progress went before any registration did. */
static void evict(struct tui_model *m)
{
    size_t k = 0;
    bool ended = false;
    for (size_t i = 0; i < m->n; i++) {
        const struct tui_row *r = &m->calls[i]->row, *best = &m->calls[k]->row;
        if ((r->ended && !ended) || (r->ended == ended && r->time < best->time))
            k = i, ended = r->ended;
    }
    struct tcall *c = m->calls[k];
    m->media_used -= c->media_len;
    tcall_free(c);
    memmove(m->calls + k, m->calls + k + 1, (m->n - k - 1) * sizeof *m->calls);
    m->n--;
    m->st.evicted++;
}

static struct tcall *get(struct tui_model *m, uint64_t seq)
{
    struct tcall *c = find(m, seq);
    if (c || !seq) return c;
    if (m->n >= m->max) evict(m);
    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 256;
        struct tcall **a = realloc(m->calls, cap * sizeof *a);
        if (!a) return NULL;
        m->calls = a, m->cap = cap;
    }
    if (!(c = calloc(1, sizeof *c)) || !(c->ladder = render_ladder_new())) {
        free(c);
        return NULL;
    }
    render_ladder_set_utf8(c->ladder, m->utf8);
    c->row.seq = seq;
    if (!(seq & TUI_REG_SEQ) && seq > m->newest) m->newest = seq;
    if ((seq & TUI_REG_SEQ) && seq > m->newest_reg) m->newest_reg = seq;
    c->row.mos = c->row.pdd_ms = c->row.dur_s = -1;
    c->row.worst_severity = SEV__COUNT;
    size_t i = find_pos(m, seq);
    memmove(m->calls + i + 1, m->calls + i, (m->n - i) * sizeof *m->calls);
    m->calls[i] = c;
    m->n++;
    return c;
}

static void keep_msg(struct tcall *c, const struct sip_event *ev, bool retrans)
{
    if (c->nmsgs == TUI_MAX_MSGS) return;
    if (c->nmsgs == c->capmsgs) {
        size_t cap = c->capmsgs ? 2 * c->capmsgs : 16;
        struct tui_msg *a = realloc(c->msgs, cap * sizeof *a);
        if (!a) return;
        c->msgs = a, c->capmsgs = cap;
    }
    const struct packet *p = ev->l4->pkt;
    struct tui_msg *msg = &c->msgs[c->nmsgs];
    memset(msg, 0, sizeof *msg);
    msg->len = ev->raw_len < TUI_MAX_RAW ? ev->raw_len : TUI_MAX_RAW;
    if (!(msg->raw = malloc(msg->len + 1))) return;
    memcpy(msg->raw, ev->raw, msg->len);
    msg->raw[msg->len] = '\0';
    if (p->data && (msg->pkt = malloc(p->caplen ? p->caplen : 1))) {
        memcpy(msg->pkt, p->data, p->caplen);
        msg->caplen = p->caplen;
        msg->linktype = p->linktype;
    }
    msg->frame = p->frame;
    msg->ts = p->ts;
    msg->retrans = retrans;
    ip_addr_port_str(&ev->l4->src, ev->l4->sport, msg->src, sizeof msg->src);
    ip_addr_port_str(&ev->l4->dst, ev->l4->dport, msg->dst, sizeof msg->dst);
    c->nmsgs++;
}

void tui_model_sip(void *user, const struct sip_event *ev, const struct msg_verdict *v)
{
    struct tui_model *m = user;
    /* a call's or a registration's; other methods: neither's */
    uint64_t seq = v->call_seq ? v->call_seq : v->reg_seq ? TUI_REG_SEQ | v->reg_seq : 0;
    if (!seq) return;
    uint64_t newest = v->call_seq ? m->newest : m->newest_reg;
    pthread_mutex_lock(&m->lock);
    /* The correlator numbers a call at its first message: a message of an older call not
     * held was evicted with it (a late ACK), and would only make a call with no row. */
    struct tcall *c = seq > newest ? get(m, seq) : find(m, seq);
    if (c) {
        render_ladder_msg(c->ladder, ev, v->retransmission);
        keep_msg(c, ev, v->retransmission);
    }
    pthread_mutex_unlock(&m->lock);
}

static void copy_str(char *dst, size_t cap, const char *s)
{
    snprintf(dst, cap, "%s", s ? s : "");
}

/* The row's columns, from render/'s row of the call and the call's times. */
static void fill_row(struct tui_row *r, const struct call *c, bool ended)
{
    struct render_call_row rr;
    bool ok = render_call(c, &rr);
    copy_str(r->from, sizeof r->from, ok && rr.from_user ? rr.from_user : c->from.uri);
    copy_str(r->to, sizeof r->to, ok && rr.to_user ? rr.to_user : c->to.uri);
    copy_str(r->call_id, sizeof r->call_id, c->call_id);
    if (ok) {
        copy_str(r->caller, sizeof r->caller, rr.caller);
        copy_str(r->callee, sizeof r->callee, rr.callee);
        render_call_row_free(&rr);
    }
    copy_str(r->from_name, sizeof r->from_name, c->from.display);
    copy_str(r->to_name, sizeof r->to_name, c->to.display);
    r->time = ptime_to_epoch_s(c->invite_time);
    r->state = c->state;
    r->ended = ended;
    r->answered = c->answer_time != 0;
    r->final_status = c->final_status;
    r->pdd_ms = c->ringing_time && c->ringing_time >= c->invite_time
                    ? (double)(c->ringing_time - c->invite_time) / 1e6
                    : -1;
    r->dur_s = c->answer_time && c->end_time && c->end_time >= c->answer_time
                   ? (double)(c->end_time - c->answer_time) / 1e9
                   : -1;
}

static void on_call(struct tui_model *m, const struct call *c, bool ended)
{
    pthread_mutex_lock(&m->lock);
    struct tcall *k = get(m, c->seq);
    if (k && !k->row.ended) {
        fill_row(&k->row, c, ended);
        k->has_row = true;
        if (ended) render_ladder_call(k->ladder, c);
        m->gen++;
    }
    pthread_mutex_unlock(&m->lock);
}

void tui_model_call(void *user, const struct call *c)
{
    on_call(user, c, true);
}

void tui_model_call_progress(void *user, const struct call *c)
{
    on_call(user, c, false);
}

/* "sip:alice@example.net" -> "alice"; the URI itself when it has no user part. */
static void aor_user(char *dst, size_t cap, const char *aor)
{
    const char *s = aor ? aor : "", *colon = strchr(s, ':'), *at;
    if (colon) s = colon + 1;
    if ((at = strchr(s, '@')) && at > s)
        snprintf(dst, cap, "%.*s", (int)(at - s), s);
    else
        copy_str(dst, cap, aor);
}

void tui_model_registration(struct tui_model *m, const struct registration *g)
{
    pthread_mutex_lock(&m->lock);
    struct tcall *k = get(m, TUI_REG_SEQ | g->seq);
    if (k) {
        struct tui_row *r = &k->row;
        r->reg = true;
        aor_user(r->from, sizeof r->from, g->aor);
        ip_addr_port_str(&g->registrar, g->registrar_port, r->to, sizeof r->to);
        ip_addr_port_str(&g->source, g->source_port, r->caller, sizeof r->caller);
        ip_addr_port_str(&g->registrar, g->registrar_port, r->callee, sizeof r->callee);
        copy_str(r->call_id, sizeof r->call_id, g->call_id);
        r->time = ptime_to_epoch_s(g->first_time);
        r->state = (uint8_t)g->state;
        r->final_status = g->final_status;
        r->ended = true;
        k->has_row = true;
        m->gen++;
    }
    pthread_mutex_unlock(&m->lock);
}

void tui_model_stream(struct tui_model *m, const struct rtp_stream *st)
{
    pthread_mutex_lock(&m->lock);
    struct tcall *c = st->call_seq ? find(m, st->call_seq) : NULL;
    /* through its docs/output.md object, as a database's stream is read (fromjson.h):
     * once a stream, never per packet */
    json_t *o = c && c->nstreams < TUI_MAX_STREAMS ? render_stream_json(st, false) : NULL;
    if (o && tui_stream_from_json(&c->streams[c->nstreams], o)) {
        struct tui_stream *s = &c->streams[c->nstreams++];
        s->seq = st->seq;
        if (st->mos >= 0 && (c->row.mos < 0 || st->mos < c->row.mos)) c->row.mos = st->mos;
        m->gen++;
    }
    json_decref(o);
    pthread_mutex_unlock(&m->lock);
}

void tui_model_issue(void *user, const struct issue *is)
{
    struct tui_model *m = user;
    pthread_mutex_lock(&m->lock);
    struct tcall *c = is->call_seq ? find(m, is->call_seq) : NULL;
    struct tui_issue *a;
    if (c && c->nissues < TUI_MAX_ISSUES &&
        (a = realloc(c->issues, (c->nissues + 1) * sizeof *a))) {
        c->issues = a;
        struct tui_issue *t = &a[c->nissues++];
        t->kind = (uint8_t)is->kind;
        t->severity = (uint8_t)is->severity;
        t->nframes = is->nframes;
        memcpy(t->frames, is->frames, sizeof t->frames);
        copy_str(t->summary, sizeof t->summary, is->summary);
        copy_str(t->diagnosis, sizeof t->diagnosis, is->diagnosis);
        if (is->kind < 64) c->row.issue_kinds |= 1ull << is->kind;
        if (c->row.worst_severity == SEV__COUNT || is->severity > c->row.worst_severity)
            c->row.worst_severity = (uint8_t)is->severity;
        m->gen++;
    }
    pthread_mutex_unlock(&m->lock);
}

/* RTP and RTCP of a call, kept for saving while the media budget lasts: the buffer grows
 * by doubling (never a malloc per packet), and a call whose media would pass the budget
 * keeps what it has. */
void tui_model_media(void *user, uint64_t call_seq, const struct packet *pkt)
{
    struct tui_model *m = user;
    size_t need = sizeof(struct media_rec) + pkt->caplen;
    pthread_mutex_lock(&m->lock);
    struct tcall *c = find(m, call_seq);
    if (c && m->media_used + need <= m->media_max) {
        if (c->media_len + need > c->media_cap) {
            size_t cap = c->media_cap ? 2 * c->media_cap : 16384;
            while (cap < c->media_len + need)
                cap *= 2;
            uint8_t *b = realloc(c->media, cap);
            if (b) c->media = b, c->media_cap = cap;
        }
        if (c->media_len + need <= c->media_cap) {
            struct media_rec r = {.ts = pkt->ts, .caplen = pkt->caplen, .linktype = pkt->linktype};
            memcpy(c->media + c->media_len, &r, sizeof r);
            memcpy(c->media + c->media_len + sizeof r, pkt->data, pkt->caplen);
            c->media_len += need;
            m->media_used += need;
        }
    }
    pthread_mutex_unlock(&m->lock);
}

void tui_model_capture(struct tui_model *m, const struct capture_stats *cs, bool live)
{
    pthread_mutex_lock(&m->lock);
    m->st.packets = cs->packets;
    m->st.dropped = cs->dropped + cs->ring_dropped;
    m->st.bytes_read = cs->bytes_read;
    m->st.bytes_total = cs->bytes_total;
    m->st.live = live;
    pthread_mutex_unlock(&m->lock);
}

void tui_model_done(struct tui_model *m, const char *error)
{
    pthread_mutex_lock(&m->lock);
    m->st.done = true;
    if (error) copy_str(m->st.error, sizeof m->st.error, error);
    m->gen++;
    pthread_mutex_unlock(&m->lock);
}

void tui_model_warn(struct tui_model *m, const char *msg)
{
    pthread_mutex_lock(&m->lock);
    copy_str(m->st.warning, sizeof m->st.warning, msg);
    pthread_mutex_unlock(&m->lock);
}

void tui_model_replace(struct tui_model *m, const struct tui_call_parts *p)
{
    pthread_mutex_lock(&m->lock);
    struct tcall *c = find(m, p->row->seq);
    if (!c) c = get(m, p->row->seq);
    if (c) {
        tui_msgs_free(c->msgs, c->nmsgs);
        free(c->issues);
        render_ladder_free(c->ladder);
        c->row = *p->row;
        c->has_row = true;
        c->ladder = p->ladder;
        c->msgs = p->msgs, c->nmsgs = c->capmsgs = p->nmsgs;
        c->issues = p->issues, c->nissues = p->nissues;
        c->nstreams = p->nstreams < TUI_MAX_STREAMS ? p->nstreams : TUI_MAX_STREAMS;
        if (c->nstreams) memcpy(c->streams, p->streams, c->nstreams * sizeof *c->streams);
        m->gen++;
    }
    pthread_mutex_unlock(&m->lock);
    if (c) return;
    render_ladder_free(p->ladder);
    tui_msgs_free(p->msgs, p->nmsgs);
    free(p->issues);
}

size_t tui_model_rows(struct tui_model *m, struct tui_row **rows, size_t *cap, uint64_t *gen,
                      struct tui_stats *st)
{
    size_t n = SIZE_MAX;
    pthread_mutex_lock(&m->lock);
    m->st.calls = m->st.active = m->st.settled = m->st.answered = 0;
    for (size_t i = 0; i < m->n; i++) {
        const struct tui_row *r = &m->calls[i]->row;
        if (!m->calls[i]->has_row || r->reg) continue;       /* the counts are of calls */
        bool going = r->state <= CALL_ANSWERED && !r->ended; /* trying .. answered */
        m->st.calls++;
        m->st.active += going;
        m->st.settled += !going;
        m->st.answered += !going && r->answered;
    }
    *st = m->st;
    if (*gen != m->gen) {
        if (*cap < m->n) {
            struct tui_row *r = realloc(*rows, m->n * sizeof *r);
            if (!r) goto out;
            *rows = r, *cap = m->n;
        }
        n = 0;
        for (size_t i = 0; i < m->n; i++)
            if (m->calls[i]->has_row) (*rows)[n++] = m->calls[i]->row;
        *gen = m->gen;
    }
out:
    pthread_mutex_unlock(&m->lock);
    return n;
}

static bool copy_msgs(const struct tcall *c, bool frames, struct tui_view *v)
{
    if (!c->nmsgs) return true;
    if (!(v->msgs = calloc(c->nmsgs, sizeof *v->msgs))) return false;
    for (size_t i = 0; i < c->nmsgs; i++) {
        struct tui_msg *d = &v->msgs[i];
        *d = c->msgs[i];
        d->raw = NULL, d->pkt = NULL;
        v->nmsgs++;
        if (!(d->raw = malloc(d->len + 1))) return false;
        memcpy(d->raw, c->msgs[i].raw, d->len + 1);
        if (frames && c->msgs[i].pkt) {
            if (!(d->pkt = malloc(d->caplen ? d->caplen : 1))) return false;
            memcpy(d->pkt, c->msgs[i].pkt, d->caplen);
        } else {
            d->caplen = 0;
        }
    }
    return true;
}

/* Columns per host: the default when they fit beside the time and the frame, else what
 * fits, down to the ladder's least. */
static int ladder_width(size_t hosts, int cols)
{
    int w = hosts ? (cols - 20) / (int)hosts : RENDER_LADDER_WIDTH;
    return w > RENDER_LADDER_WIDTH       ? RENDER_LADDER_WIDTH
           : w < RENDER_LADDER_WIDTH_MIN ? RENDER_LADDER_WIDTH_MIN
                                         : w;
}

bool tui_model_view(struct tui_model *m, uint64_t seq, int cols, bool frames, struct tui_view *v)
{
    memset(v, 0, sizeof *v);
    bool ok = false;
    pthread_mutex_lock(&m->lock);
    const struct tcall *c = find(m, seq);
    if (!c) goto out;
    v->row = c->row;
    size_t len = 0;
    FILE *f = open_memstream(&v->ladder, &len);
    if (!f) goto out;
    int width = ladder_width(render_ladder_hosts(c->ladder), cols);
    bool drawn = render_ladder_print(c->ladder, width, f);
    if (fclose(f) || !drawn) goto out;
    v->ladder_hosts = render_ladder_hosts(c->ladder);
    memcpy(v->streams, c->streams, sizeof v->streams);
    v->nstreams = c->nstreams;
    if (c->nissues && !(v->issues = malloc(c->nissues * sizeof *v->issues))) goto out;
    if (c->nissues) memcpy(v->issues, c->issues, c->nissues * sizeof *v->issues);
    v->nissues = c->nissues;
    ok = copy_msgs(c, frames, v);
out:
    pthread_mutex_unlock(&m->lock);
    if (!ok) tui_view_free(v);
    return ok;
}

void tui_view_free(struct tui_view *v)
{
    tui_msgs_free(v->msgs, v->nmsgs);
    free(v->issues);
    free(v->ladder);
    memset(v, 0, sizeof *v);
}

size_t tui_model_media_copy(struct tui_model *m, uint64_t seq, uint8_t **buf)
{
    size_t n = 0;
    *buf = NULL;
    pthread_mutex_lock(&m->lock);
    const struct tcall *c = find(m, seq);
    if (c && c->media_len && (*buf = malloc(c->media_len))) {
        memcpy(*buf, c->media, c->media_len);
        n = c->media_len;
    }
    pthread_mutex_unlock(&m->lock);
    return n;
}
