/* Calls: INVITE dialogs grouped by Call-ID, their state machine and timings; see
 * correlate.h.
 *
 * A call starts at an initial INVITE (no To tag). Responses to INVITE move it while it is
 * not answered: 18x rings (183 with SDP: early media), 2xx answers, a final failure ends it
 * by class (RFC 3261 §21). 401/407 leave it waiting for the INVITE with credentials that
 * usually follows. CANCEL and BYE end it, on the side that sent them (From tag). Calls
 * live in two lists: active ones by last activity (idle ones end), ended ones by end time
 * (handed on 64*T1 later, once retransmissions are over). Live, an ended call is handed on
 * sooner (correlate_config.ended_wait) and kept, handed, for the rest of those 64*T1, so
 * that its stragglers are still its own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/hash.h"
#include "common/list.h"
#include "correlate_int.h"
#include "decode/sdp.h"

struct call_int {
    struct call pub;
    struct dlist_node node; /* in active (LRU), ended or challenged (both FIFO) */
    ptime_t hand_at;        /* ended: when it is handed on */
    ptime_t release_at;     /* ended: when it is freed (64*T1 after its end) */
    ptime_t cancel_time;    /* cancel_seen: when */
    struct session_ref *session; /* owned, NULL none */
    struct media_keys media;     /* the endpoints its SDP put in the media table */
    /* (the small ones last, together: no holes) */
    uint32_t cid_len;       /* strlen(pub.call_id), for the table's comparisons (its hash is
                             * computed again when it goes) */
    uint8_t list;           /* the list it is in: its index in LISTS */
    bool ended;
    bool handed;            /* handed on already (live: ended_wait), freed at release_at */
    bool cancel_seen;
    bool ringing_callers;        /* ringing_time is the 18x on the caller's segment */
    uint8_t reoffer;             /* an in-dialog offer awaiting its 2xx: 1 + its enum
                                  * sdp_direction (0 none), and who sent it */
    uint8_t reoffer_by;
    /* Its first path segment and its strings, in the same block (issue 21: an allocator's
     * header and rounding for each, in every INVITE of a flood): pub.segs points at seg0
     * while segs_cap is 1 (path.c), pub.call_id at strings */
    struct call_seg seg0;
    char strings[];
};

/* A joined leg's Call-ID, pointing at its call (the calls table is keyed by the call's
 * own Call-ID). */
struct leg_ref {
    struct call_int *call;
    uint8_t idx;      /* in call->pub.legs */
    uint64_t hash;
};

/* A call's RFC 7989 Session-ID (the UUID its UA made): a B2BUA passes it unchanged to the
 * next leg, whose INVITE then names the call as surely as X-CID does. */
struct session_ref {
    char uuid[33];
    uint64_t hash;
    struct call_int *call;
};

struct correlator {
    struct correlate_config cfg;
    struct ctab *calls;     /* Call-ID -> struct call_int */
    /* The distinct codec lists of SDPs (issue 21: each call's, each side's, strdup'd; a
     * capture holds a handful, a flood one): calls point into the pool; past CODEC_POOL
     * lists, a call owns its copy */
    struct ctab *codec_ix;  /* text -> its row of codec_pool */
    char (*codec_pool)[64];
    size_t ncodec;
    struct htab *legs;       /* leg Call-ID -> struct leg_ref */
    struct htab *sessions;   /* Session-ID UUID -> struct session_ref */
    /* probation: INVITEs nothing has answered yet, by arrival (what a flood fills, so
     * evicted first); active: by last activity; ended: waiting 64*T1 for retransmissions;
     * challenged: answered 401/407, waiting longer for the retry; handed: ended, handed on
     * before 64*T1 (live), kept for its retransmissions. Each is in release order, so a
     * sweep only ever looks at list heads. */
    struct dlist probation, active, ended, challenged, handed;
    struct txn_table *txns;
    struct reg_table *regs;
    struct media_table *media;
    struct lookup_table *dns;
    ptime_t last_time;      /* of the last message: the input's end for expiry checks */
    call_done_fn done;
    void *user;
    uint64_t next_seq;
    struct correlate_stats st;
    size_t nhanded;          /* calls in `handed` */
    struct sdp sdp;          /* scratch: the current message's SDP, parsed once */
};

const char *call_party_name(enum call_party p)
{
    return p == PARTY_CALLER ? "caller" : p == PARTY_CALLEE ? "callee" : NULL;
}

const char *call_state_name(enum call_state s)
{
    static const char *const names[] = {
#define CALL_STATE_NAME(id, name) name,
        CALL_STATES(CALL_STATE_NAME)
#undef CALL_STATE_NAME
    };
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "unknown";
}

void correlate_config_default(struct correlate_config *cfg)
{
    cfg->max_calls = 200000;
    cfg->max_transactions = 400000;
    cfg->max_registrations = 100000;
    cfg->linger = 32 * PTIME_SEC; /* 64*T1, RFC 3261 §17.1.1.2 */
    /* no RFC timer bounds the retry after a challenge; a person typing a password can
     * take a while (sngrep_aaa in the corpus: 51 s) */
    cfg->challenge_wait = 300 * PTIME_SEC;
    cfg->idle = 4 * 3600 * PTIME_SEC;
    cfg->ended_wait = 0; /* offline: handed on at linger, on packet time alone */
    cfg->max_media = 0;
    cfg->dns_ring = 0;
    cfg->hash_seed = 0x5ca11ULL;
    cfg->first_call_seq = 0;
}

/* An unanswered INVITE's call beyond its struct (which holds its first path segment):
 * Call-ID, From and To (URI, user, tag) at the struct's end, its SDP's codecs and
 * endpoint, the allocator's headers (measured with the flood of tests/gen/calls.py,
 * issue 21: 112 bytes of strings, 32 and 32). */
#define CALL_EXTRA_BYTES 200

size_t correlate_entry_bytes(enum mem_table t)
{
    switch (t) {
    case MEM_CALLS: return sizeof(struct call_int) + CALL_EXTRA_BYTES;
    case MEM_TRANSACTIONS: return txn_entry_bytes();
    case MEM_MEDIA: return media_entry_bytes();
    case MEM_REGISTRATIONS: return reg_entry_bytes();
    case MEM_DNS: return lookup_entry_bytes();
    default: return 0;
    }
}

void correlate_config_budget(struct correlate_config *cfg, const struct mem_budget *b,
                             bool max_calls_given)
{
    /* the hash tables' slots (8 bytes, ctab's, at most half full; registrations' 16 in
     * two tables) are part of each share */
    if (!max_calls_given) {
        cfg->max_calls =
            mem_budget_entries(b, MEM_CALLS, correlate_entry_bytes(MEM_CALLS) + 16, 16);
        cfg->max_transactions = mem_budget_entries(
            b, MEM_TRANSACTIONS, correlate_entry_bytes(MEM_TRANSACTIONS) + 16, 32);
    }
    cfg->max_media = mem_budget_entries(b, MEM_MEDIA, correlate_entry_bytes(MEM_MEDIA) + 16, 64);
    cfg->max_registrations =
        mem_budget_entries(b, MEM_REGISTRATIONS, correlate_entry_bytes(MEM_REGISTRATIONS) + 64, 16);
    cfg->dns_ring = mem_budget_entries(b, MEM_DNS, correlate_entry_bytes(MEM_DNS), 64);
}

void correlate_memory(const struct correlator *c, struct mem_usage *u)
{
    size_t calls = ctab_count(c->calls) * correlate_entry_bytes(MEM_CALLS) + ctab_bytes(c->calls) +
                   htab_bytes(c->legs) + htab_bytes(c->sessions);
    mem_usage_set(u, MEM_CALLS, calls);
    mem_usage_set(u, MEM_TRANSACTIONS, txn_table_bytes(c->txns));
    mem_usage_set(u, MEM_MEDIA, media_table_bytes(c->media));
    mem_usage_set(u, MEM_REGISTRATIONS, reg_table_bytes(c->regs));
    mem_usage_set(u, MEM_DNS, lookup_table_bytes(c->dns));
}

static bool leg_eq(const void *item, const void *key)
{
    const struct leg_ref *l = item;
    const struct sv *k = key;
    const char *cid = l->call->pub.legs[l->idx].call_id;
    return strlen(cid) == k->n && memcmp(cid, k->p, k->n) == 0;
}

static bool session_eq(const void *item, const void *key)
{
    return memcmp(((const struct session_ref *)item)->uuid, key, 32) == 0;
}

static bool cid_eq(const void *item, const void *key)
{
    const struct call_int *c = item;
    const struct sv *k = key;
    return c->cid_len == k->n && memcmp(c->pub.call_id, k->p, k->n) == 0;
}

static uint64_t cid_hash(const void *item, const void *ctx)
{
    const struct call_int *ci = item;
    const struct correlator *c = ctx;
    return hash_bytes(ci->pub.call_id, ci->cid_len, c->cfg.hash_seed);
}

#define CODEC_POOL 256

static bool codec_eq(const void *item, const void *key) { return strcmp(item, key) == 0; }

static uint64_t codec_hash(const void *item, const void *ctx)
{
    const char *t = item;
    return hash_bytes(t, strlen(t), ((const struct correlator *)ctx)->cfg.hash_seed);
}

/* A codec list (at most 63 bytes) as a call keeps it: the pool's copy, else its own; NULL
 * for an empty one. */
static char *codecs_keep(struct correlator *c, const char *text)
{
    if (!text[0])
        return NULL;
    uint64_t h = hash_bytes(text, strlen(text), c->cfg.hash_seed);
    char *d = ctab_find(c->codec_ix, h, text);
    if (d)
        return d;
    if (c->ncodec < CODEC_POOL) {
        d = c->codec_pool[c->ncodec];
        snprintf(d, sizeof c->codec_pool[0], "%s", text);
        if (ctab_insert(c->codec_ix, h, d)) {
            c->ncodec++;
            return d;
        }
    }
    return strdup(text);
}

static void codecs_drop(const struct correlator *c, char *t)
{
    if (!(t && t >= c->codec_pool[0] && t < c->codec_pool[CODEC_POOL]))
        free(t);
}

struct correlator *correlate_new(const struct correlate_config *cfg, call_done_fn done,
                                 void *user)
{
    struct correlator *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (cfg)
        c->cfg = *cfg;
    else
        correlate_config_default(&c->cfg);
    c->calls = ctab_new(c->cfg.max_calls, cid_eq, cid_hash, c);
    c->codec_ix = ctab_new(CODEC_POOL, codec_eq, codec_hash, c);
    c->codec_pool = calloc(CODEC_POOL, sizeof *c->codec_pool);
    c->legs = htab_new(c->cfg.max_calls, leg_eq);
    c->sessions = htab_new(c->cfg.max_calls, session_eq);
    c->txns = txn_table_new(c->cfg.max_transactions, c->cfg.hash_seed);
    c->regs = reg_table_new(c->cfg.max_registrations, c->cfg.hash_seed);
    c->media = media_table_new(c->cfg.max_media ? c->cfg.max_media : c->cfg.max_calls * 4,
                               c->cfg.hash_seed);
    c->dns = lookup_table_new_sized(c->cfg.hash_seed, c->cfg.dns_ring);
    if (!c->calls || !c->codec_ix || !c->codec_pool || !c->legs || !c->sessions || !c->txns ||
        !c->regs || !c->media || !c->dns) {
        correlate_free(c);
        return NULL;
    }
    c->done = done;
    c->user = user;
    c->next_seq = c->cfg.first_call_seq;
    return c;
}

/* A call's list, kept as an index (issue 21: a byte, not a pointer, in every call). */
#define LISTS(c) {&(c)->probation, &(c)->active, &(c)->ended, &(c)->challenged, &(c)->handed}

static struct dlist *list_of(struct correlator *c, const struct call_int *ci)
{
    struct dlist *l[] = LISTS(c);
    return l[ci->list];
}

static uint8_t list_index(struct correlator *c, const struct dlist *to)
{
    struct dlist *l[] = LISTS(c);
    uint8_t i = 0;
    while (l[i] != to)
        i++;
    return i;
}

static void free_call(const struct correlator *cr, struct call_int *ci)
{
    struct call *c = &ci->pub;
    free(ci->media.more);
    for (unsigned i = 1; i <= c->nlegs; i++) {
        free(c->legs[i].call_id);
        free(c->legs[i].from_tag);
        free(c->legs[i].to_tag);
    }
    for (unsigned i = 0; i < c->ntransfers; i++)
        free(c->transfers[i].refer_to);
    free(c->legs);
    free(c->holds);
    free(c->transfers);
    free(c->retrans);
    free(c->auth);
    codecs_drop(cr, c->codecs);
    codecs_drop(cr, c->caller_side.codecs);
    free(c->caller_side.eps);
    if (c->callee_side) {
        codecs_drop(cr, c->callee_side->codecs);
        free(c->callee_side->eps);
    }
    free(c->callee_side);
    free(c->to_tag);
    free(c->reason);
    free(c->dtmf);
    if (c->segs != &ci->seg0)
        free(c->segs);
    free(c->dns);
    free(ci);
}

/* Hands a call on: what it is now is its record. Its media endpoints are forgotten (RTP
 * that starts later is no longer its own); its Call-IDs are kept until it is freed. */
static void hand_on(struct correlator *c, struct call_int *ci)
{
    media_forget(c->media, &ci->media, ci->pub.seq);
    struct call *p = &ci->pub;
    if (p->state == CALL_ANSWERED) {
        p->state = CALL_UNFINISHED; /* no BYE: the capture ended or the call went idle */
        /* RFC 4028 §10: unrefreshed for the whole interval, the session is over then */
        if (p->session_expires && c->last_time > p->refreshed_at +
                                                   (ptime_t)p->session_expires * PTIME_SEC) {
            p->session_expired = true;
            p->end_time = p->refreshed_at + (ptime_t)p->session_expires * PTIME_SEC;
        }
    }
    lookup_tie(c->dns, p, c->last_time);
    lookup_next_sent(p);
    ci->handed = true;
    if (c->done)
        c->done(c->user, &ci->pub);
}

/* Hands a call on, unless it was already, and frees it. */
static void release(struct correlator *c, struct call_int *ci)
{
    if (!ci->handed)
        hand_on(c, ci);
    else
        c->nhanded--;
    for (unsigned i = 1; i <= ci->pub.nlegs; i++) {
        const char *lc = ci->pub.legs[i].call_id;
        struct sv k = {lc, strlen(lc)};
        struct leg_ref *l = htab_remove(c->legs, hash_bytes(lc, k.n, c->cfg.hash_seed), &k);
        free(l);
    }
    if (ci->session) {
        htab_remove(c->sessions, ci->session->hash, ci->session->uuid);
        free(ci->session);
        ci->session = NULL;
    }
    dlist_unlink(list_of(c, ci), &ci->node);
    ctab_remove(c->calls, hash_bytes(ci->pub.call_id, ci->cid_len, c->cfg.hash_seed),
                &(struct sv){ci->pub.call_id, ci->cid_len});
    free_call(c, ci);
}

static void sweep(struct correlator *c, ptime_t now);

/* Heapsort by seq, in place: no buffer the size of the array, as qsort's merge sort takes. */
static void sift_down(struct call_int **v, size_t root, size_t n)
{
    for (size_t child; (child = 2 * root + 1) < n; root = child) {
        if (child + 1 < n && v[child + 1]->pub.seq > v[child]->pub.seq)
            child++;
        if (v[root]->pub.seq >= v[child]->pub.seq)
            return;
        struct call_int *t = v[root];
        v[root] = v[child];
        v[child] = t;
    }
}

static void sort_by_seq(struct call_int **v, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        sift_down(v, i, n);
    for (size_t end = n; end-- > 1;) {
        struct call_int *t = v[0];
        v[0] = v[end];
        v[end] = t;
        sift_down(v, 0, end);
    }
}

void correlate_on_registration(struct correlator *c, reg_done_fn fn)
{
    reg_table_on_done(c->regs, fn, c->user);
}

void correlate_each_changed(const struct correlator *c, ptime_t since, call_done_fn fn,
                            void *user)
{
    size_t pos = 0;
    const struct call_int *ci;
    while ((ci = ctab_next(c->calls, &pos)))
        if (ci->pub.last_time > since && !ci->handed) /* a handed call's record is out */
            fn(user, &ci->pub);
}

size_t correlate_active_calls(const struct correlator *c)
{
    return ctab_count(c->calls) - c->nhanded;
}

void correlate_tick(struct correlator *c, ptime_t now)
{
    if (now > c->last_time)
        sweep(c, now);
}

void correlate_finish(struct correlator *c)
{
    reg_table_finish(c->regs, c->last_time);
    sweep(c, c->last_time); /* Timer B and the waits, judged at the last message seen */
    /* handed on in order of first INVITE: the table's own slots sorted (issue 21: an array
     * of them and qsort's copy cost 16 bytes a call at the end, when memory peaks), then
     * released (each no longer in the table) */
    size_t n = 0;
    struct call_int **all = (struct call_int **)ctab_take(c->calls, &n);
    if (!all) {
        struct dlist *lists[] = {&c->probation, &c->active, &c->ended, &c->challenged, &c->handed};
        for (int l = 0; l < 5; l++)
            while (lists[l]->head)
                release(c, dlist_entry(lists[l]->head, struct call_int, node));
        return;
    }
    sort_by_seq(all, n);
    for (size_t k = 0; k < n; k++)
        release(c, all[k]);
    free(all);
}

void correlate_free(struct correlator *c)
{
    if (!c)
        return;
    if (c->calls) {
        struct dlist *lists[] = {&c->probation, &c->active, &c->ended, &c->challenged, &c->handed};
        for (int l = 0; l < 5; l++)
            while (lists[l]->head)
                release(c, dlist_entry(lists[l]->head, struct call_int, node));
        ctab_free(c->calls);
    }
    ctab_free(c->codec_ix);
    free(c->codec_pool);
    htab_free(c->legs);
    htab_free(c->sessions);
    txn_table_free(c->txns);
    reg_table_free(c->regs);
    media_table_free(c->media);
    lookup_table_free(c->dns);
    free(c);
}

bool correlate_media_flow(const struct correlator *c, const struct l4_packet *l4,
                          struct media_match *out, bool *src_ann, bool *dst_ann)
{
    struct media_match other;
    *dst_ann = media_lookup(c->media, &l4->dst, l4->dport, out);
    *src_ann = media_lookup(c->media, &l4->src, l4->sport, *dst_ann ? &other : out);
    if (*dst_ann && *src_ann && other.call_seq != out->call_seq &&
        media_match_has(out, other.call_seq) && !media_match_has(&other, out->call_seq))
        out->call_seq = other.call_seq;
    return *dst_ann || *src_ann;
}

void correlate_get_stats(const struct correlator *c, struct correlate_stats *out)
{
    *out = c->st;
}

static void move(struct correlator *c, struct call_int *ci, struct dlist *to)
{
    dlist_unlink(list_of(c, ci), &ci->node);
    dlist_push_tail(to, &ci->node);
    ci->list = list_index(c, to);
}

/* Ends a call: it is handed on after 64*T1 (live: ended_wait), or, challenged, after the
 * retry wait. */
static void end_call(struct correlator *c, struct call_int *ci, ptime_t now, bool challenged)
{
    if (ci->ended)
        return;
    move(c, ci, challenged ? &c->challenged : &c->ended);
    ci->ended = true;
    ci->release_at = now + (challenged ? c->cfg.challenge_wait : c->cfg.linger);
    ci->hand_at = challenged || !c->cfg.ended_wait || c->cfg.ended_wait > c->cfg.linger
                      ? ci->release_at
                      : now + c->cfg.ended_wait;
}

/* A call ended and then answered again (a 2xx to its INVITE, a retry after a challenge)
 * goes on; one handed on already stays as it was handed (its record is out). */
static void revive(struct correlator *c, struct call_int *ci)
{
    if (!ci->ended || ci->handed)
        return;
    move(c, ci, &c->active);
    ci->ended = false;
}

static void sweep_list(struct correlator *c, struct dlist *l, ptime_t now)
{
    struct call_int *ci;
    while (l->head && now > (ci = dlist_entry(l->head, struct call_int, node))->release_at)
        release(c, ci);
}

/* Ended calls past ended_wait are handed on and kept (in end order, as they came) until
 * their 64*T1 is over; with no ended_wait, hand_at is release_at and they go at once. */
static void sweep_ended(struct correlator *c, ptime_t now)
{
    struct call_int *ci;
    while (c->ended.head &&
           now > (ci = dlist_entry(c->ended.head, struct call_int, node))->hand_at) {
        if (now > ci->release_at) {
            release(c, ci);
            continue;
        }
        move(c, ci, &c->handed);
        c->nhanded++;
        hand_on(c, ci);
    }
}

/* Ended calls past their wait, and idle active ones, are handed on. An INVITE nothing
 * answered (not even 100) within 64*T1 of its last copy failed: Timer B, RFC 3261
 * §17.1.1.2; the probation list is in arrival order, so only its head is looked at. */
static void sweep(struct correlator *c, ptime_t now)
{
    sweep_list(c, &c->handed, now);
    sweep_ended(c, now);
    sweep_list(c, &c->challenged, now);
    struct call_int *pi;
    while (c->probation.head &&
           now - (pi = dlist_entry(c->probation.head, struct call_int, node))->pub.last_time >
               c->cfg.linger) {
        pi->pub.state = CALL_FAILED;
        pi->pub.end_time = pi->pub.last_time + c->cfg.linger;
        release(c, pi);
    }
    struct dlist *idle_lists[] = {&c->probation, &c->active};
    for (int l = 0; l < 2; l++) {
        struct call_int *ci;
        while (idle_lists[l]->head &&
               now - (ci = dlist_entry(idle_lists[l]->head, struct call_int, node))->pub.last_time >
                   c->cfg.idle)
            release(c, ci);
    }
}

/* A From or To header's display name, URI, user and tag (an empty tag is none). */
static void addr_views(const struct sip_header *h, struct sv *display, struct sv *uri,
                       struct sv *user, struct sv *tag)
{
    struct sip_nameaddr na;
    struct sip_uri u;
    bool found;
    if (!h || !sip_nameaddr_parse(h->value, &na))
        return;
    *display = na.display;
    *uri = na.uri;
    if (sip_uri_parse(na.uri, &u))
        *user = u.user;
    if (tag) {
        struct sv t = sip_param(na.params, "tag", &found);
        if (t.p && t.n)
            *tag = t;
    }
}

/* The strings a call keeps of its first INVITE, one after the other (issue 21: eight
 * allocations, a hundred bytes of allocator headers, for each INVITE of a flood): the
 * Call-ID, From (display name, URI, user, tag), To (display name, URI, user). */
static void string_views(struct sv v[8], struct sv cid, const struct sip_msg *m)
{
    for (int i = 0; i < 8; i++)
        v[i] = SV_NULL;
    v[0] = cid;
    addr_views(sip_hdr(m, SIP_H_FROM), &v[1], &v[2], &v[3], &v[4]);
    addr_views(sip_hdr(m, SIP_H_TO), &v[5], &v[6], &v[7], NULL);
}

static size_t strings_size(const struct sv v[8])
{
    size_t n = 0;
    for (int i = 0; i < 8; i++)
        n += v[i].p ? v[i].n + 1 : 0;
    return n;
}

/* Copies them to b (strings_size(v) bytes), pointed at by the call. */
static void set_strings(struct call *p, const struct sv v[8], char *b)
{
    char **dst[8] = {&p->call_id, &p->from.display, &p->from.uri, &p->from.user,
                     &p->from_tag, &p->to.display,  &p->to.uri,   &p->to.user};
    for (int i = 0; i < 8; i++) {
        if (!v[i].p)
            continue;
        memcpy(b, v[i].p, v[i].n);
        b[v[i].n] = '\0';
        *dst[i] = b;
        b += v[i].n + 1;
    }
}

static struct sv header_tag(const struct sip_msg *m, enum sip_hdr_id id)
{
    struct sip_nameaddr na;
    bool found;
    const struct sip_header *h = sip_hdr(m, id);
    if (!h || !sip_nameaddr_parse(h->value, &na))
        return SV_NULL;
    return sip_param(na.params, "tag", &found);
}

/* Codec names of the first audio stream of an SDP, comma-separated. */
static void sdp_codecs(const struct sdp *s, char *out, size_t cap);

/* *dst (the pool's, or owned) becomes those names (cut at 63 bytes, as the arrays were),
 * NULL when none: a string of the pool (codecs_keep), not 64 bytes in the call for each of
 * three lists (issue 21). */
static void set_codecs(struct correlator *c, char **dst, const struct sdp *s)
{
    char buf[64];
    sdp_codecs(s, buf, sizeof buf);
    codecs_drop(c, *dst);
    *dst = codecs_keep(c, buf);
}

static void sdp_codecs(const struct sdp *s, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (unsigned i = 0; i < s->nmedia; i++) {
        const struct sdp_media *md = &s->media[i];
        if (!sv_eq_cstr(md->media, "audio") || md->port == 0)
            continue;
        for (unsigned k = 0; k < md->nfmt; k++) {
            const struct sdp_format *f = &md->fmt[k];
            char name[24];
            if (f->encoding.p)
                snprintf(name, sizeof name, "%.*s", (int)(f->encoding.n < 20 ? f->encoding.n : 20),
                         f->encoding.p);
            else
                snprintf(name, sizeof name, "%u", f->pt);
            int w = snprintf(out + o, cap - o, "%s%s", o ? "," : "", name);
            if (w < 0 || (size_t)w >= cap - o)
                break;
            o += (size_t)w;
        }
        break;
    }
}

/* An encoding name, which compares without case (RFC 4855 §3). */
static bool name_is(struct sv v, const char *name)
{
    size_t n = strlen(name);
    return v.p && v.n == n && strncasecmp(v.p, name, n) == 0;
}

/* What a side's SDP said: its first one sets direction, codecs and frame (holds and
 * resumes are tracked apart); every one adds the address:port it announced. */
static void record_side(struct correlator *c, struct call *p, int side, const struct sdp *s,
                        const struct sip_event *ev)
{
    if (side && !p->callee_side && !(p->callee_side = calloc(1, sizeof *p->callee_side)))
        return;
    struct call_side *cs = side ? p->callee_side : &p->caller_side;
    for (unsigned i = 0; s && i < s->nmedia; i++)
        if (sv_eq_cstr(s->media[i].media, "image") && s->media[i].port)
            cs->fax = true;
    for (unsigned i = 0; s && i < s->nmedia; i++) {
        const struct sdp_media *md = &s->media[i];
        if (!sv_eq_cstr(md->media, "audio") || md->port == 0)
            continue;
        if (!cs->have_sdp) {
            cs->have_sdp = true;
            cs->dir = (uint8_t)md->dir;
            cs->sdp_frame = ev->l4->pkt->frame;
            cs->sdp_time = ev->l4->pkt->ts;
            cs->sig_addr = ev->l4->src;
            set_codecs(c, &cs->codecs, s);
            for (unsigned k = 0; k < md->nfmt && cs->npts < CALL_SIDE_MAX_PTS; k++) {
                const struct sdp_format *f = &md->fmt[k];
                bool events = name_is(f->encoding, "telephone-event") || name_is(f->encoding, "CN");
                if (!events && f->pt != 13) /* RFC 4733 events, RFC 3389 comfort noise */
                    cs->pts_audio |= (uint16_t)(1u << cs->npts);
                cs->pts[cs->npts++] = f->pt;
            }
            cs->rtcp_mux = md->rtcp_mux;
            cs->rtcp_port = md->rtcp_port;
        }
        struct call_media_ep ep;
        memset(&ep, 0, sizeof ep);
        if (!media_addr_parse(md->addr, md->family, &ep.addr))
            return;
        ep.port = md->port;
        for (unsigned k = 0; k < cs->neps; k++)
            if (cs->eps[k].port == ep.port && !memcmp(&cs->eps[k].addr, &ep.addr, sizeof ep.addr))
                return;
        if (cs->neps == CALL_MAX_MEDIA_EPS)
            return;
        struct call_media_ep *v = realloc(cs->eps, (cs->neps + 1u) * sizeof *v);
        if (!v)
            return;
        cs->eps = v;
        cs->eps[cs->neps++] = ep;
        return;
    }
}

/* A message sent again: one entry per hop and message, its copies counted. */
static void record_retrans(struct call *p, const struct sip_event *ev, const struct msg_verdict *v)
{
    const struct sip_msg *m = ev->msg;
    const struct l4_packet *l4 = ev->l4;
    char what[24];
    const struct sip_header *ch = sip_hdr(m, SIP_H_CSEQ);
    uint32_t num;
    struct sv meth = SV_NULL;
    if (ch)
        sip_cseq_parse(ch->value, &num, &meth);
    if (m->is_request)
        snprintf(what, sizeof what, "%.*s", (int)(m->method.n < 20 ? m->method.n : 20), m->method.p);
    else
        snprintf(what, sizeof what, "%d %.*s", m->status, (int)(meth.n < 16 ? meth.n : 16),
                 meth.p ? meth.p : "");
    /* a copy within a few milliseconds is no timer's doing (T1 is 500 ms; even tuned
     * stacks wait tens of ms): a mirror port showing the same packet twice */
    const ptime_t min_gap = PTIME_SEC / 50;
    for (unsigned i = 0; i < p->nretrans; i++) {
        struct call_retrans *r = &p->retrans[i];
        if (r->first_frame == v->original_frame && r->sport == l4->sport &&
            r->dport == l4->dport) {
            if (l4->pkt->ts - r->last_time < min_gap)
                return;
            r->copies++;
            r->last_time = l4->pkt->ts;
            r->last_frame = l4->pkt->frame;
            return;
        }
    }
    if (l4->pkt->ts - v->original_time < min_gap)
        return;
    if (p->nretrans == CALL_MAX_RETRANS ||
        (!p->retrans && !(p->retrans = malloc(CALL_MAX_RETRANS * sizeof *p->retrans)))) {
        p->retrans_dropped++;
        return;
    }
    struct call_retrans *r = &p->retrans[p->nretrans++];
    memset(r, 0, sizeof *r);
    r->src = l4->src;
    r->dst = l4->dst;
    r->sport = l4->sport;
    r->dport = l4->dport;
    memcpy(r->what, what, sizeof what);
    r->copies = 1;
    r->first_time = v->original_time;
    r->first_frame = v->original_frame;
    r->last_time = l4->pkt->ts;
    r->last_frame = l4->pkt->frame;
}

static struct call_int *new_call(struct correlator *c, const struct sip_event *ev, struct sv cid,
                                 uint64_t h)
{
    const struct sip_msg *m = ev->msg;
    struct sv v[8];
    string_views(v, cid, m);
    struct call_int *ci = cid.p ? calloc(1, sizeof *ci + strings_size(v)) : NULL;
    if (!ci)
        return NULL;
    struct call *p = &ci->pub;
    set_strings(p, v, ci->strings);
    p->segs = &ci->seg0; /* path.c fills it, and moves it out when a second one comes */
    p->segs_cap = 1;
    ci->cid_len = (uint32_t)cid.n;
    p->seq = ++c->next_seq;
    p->caller_ip = ev->l4->src;
    p->caller_port = ev->l4->sport;
    p->callee_ip = ev->l4->dst;
    p->callee_port = ev->l4->dport;
    p->state = CALL_TRYING;
    p->invite_time = p->attempt_time = ev->l4->pkt->ts;
    p->first_frame = ev->l4->pkt->frame;
    while (!ctab_insert(c->calls, h, ci)) {
        /* full: a call handed on already goes first (only its stragglers are lost), then
         * the oldest INVITE nothing answered (under a flood, the flood's own), then an
         * ended call (its retransmission window cut short), then a challenged one, and
         * only then the least recently active; all but handed and ended counted */
        struct dlist_node *n = c->handed.head       ? c->handed.head
                               : c->probation.head  ? c->probation.head
                               : c->ended.head      ? c->ended.head
                               : c->challenged.head ? c->challenged.head
                                                    : c->active.head;
        if (!n) {
            free_call(c, ci);
            return NULL;
        }
        if (n != c->ended.head && n != c->handed.head)
            c->st.evicted_calls++;
        release(c, dlist_entry(n, struct call_int, node));
    }
    dlist_push_tail(&c->probation, &ci->node);
    ci->list = list_index(c, &c->probation);
    c->st.calls++;
    return ci;
}

/* Who sent a request inside the dialog: the caller's requests carry its From tag. */
static enum call_party sender(const struct call *p, const struct sip_msg *m)
{
    struct sv ft = header_tag(m, SIP_H_FROM);
    return ft.p && p->from_tag && strlen(p->from_tag) == ft.n && !memcmp(p->from_tag, ft.p, ft.n)
               ? PARTY_CALLER
               : PARTY_CALLEE;
}

/* The direction an SDP gives its first audio stream, c=0.0.0.0 read as what it meant (RFC
 * 3264 §8.4: RFC 2543's way of saying "send me nothing": sendrecv becomes sendonly, recvonly
 * inactive); -1 none. */
static int audio_dir(const struct sdp *s)
{
    for (unsigned i = 0; s && i < s->nmedia; i++) {
        const struct sdp_media *md = &s->media[i];
        if (!sv_eq_cstr(md->media, "audio") || md->port == 0)
            continue;
        if (!sv_eq_cstr(md->addr, "0.0.0.0"))
            return (int)md->dir;
        return md->dir == SDP_SENDRECV ? SDP_SENDONLY
               : md->dir == SDP_RECVONLY ? SDP_INACTIVE
                                         : (int)md->dir;
    }
    return -1;
}

/* An in-dialog offer (re-INVITE, UPDATE): does it hold the media (RFC 3264 §8.4: sendonly
 * or inactive; RFC 2543: c=0.0.0.0) or resume it? -1 no SDP, 1 hold, 0 resume. */
static int offer_holds(const struct sdp *s)
{
    int d = audio_dir(s);
    return d < 0 ? -1 : d == SDP_SENDONLY || d == SDP_INACTIVE;
}

/* The next hold of a call: its list is allocated with the first (issue 21: an unanswered
 * INVITE pays for none). NULL when full or out of memory: that hold goes untracked. */
static struct call_hold *new_hold(struct call *p)
{
    if (p->nholds >= CALL_MAX_HOLDS ||
        (!p->holds && !(p->holds = malloc(CALL_MAX_HOLDS * sizeof *p->holds))))
        return NULL;
    return &p->holds[p->nholds++];
}

static void track_hold(struct call *p, struct call_int *ci, const struct sip_event *ev,
                       const struct sdp *sdp, ptime_t now)
{
    int h = offer_holds(sdp);
    struct call_hold *last = p->nholds ? &p->holds[p->nholds - 1] : NULL;
    bool on_hold = last && !last->end;
    enum call_party by = sender(p, ev->msg);
    ci->reoffer = sdp ? (uint8_t)(1 + audio_dir(sdp)) : 0;
    ci->reoffer_by = (uint8_t)by;
    struct call_hold *k;
    if (h == 1 && !on_hold && (k = new_hold(p))) {
        /* RFC 3264 §6.1: the most the other side may answer */
        uint8_t d = (uint8_t)audio_dir(sdp), o = d == SDP_SENDONLY ? SDP_RECVONLY : SDP_INACTIVE;
        *k = (struct call_hold){.start = now, .by = by, .frame = ev->l4->pkt->frame};
        k->dir[by == PARTY_CALLER ? 0 : 1] = d;
        k->dir[by == PARTY_CALLER ? 1 : 0] = o;
    } else if (h == 0 && on_hold) {
        last->end = now;
    }
}

/* A 2xx to an in-dialog offer: its answer narrows the hold that offer began (sendonly
 * answered inactive), or begins one itself (RFC 3264 §6.1 lets a sendrecv offer be
 * answered sendonly or inactive). */
static void track_hold_answer(struct call *p, struct call_int *ci, const struct sip_event *ev,
                              const struct sdp *sdp)
{
    int d = audio_dir(sdp);
    if (!ci->reoffer || d < 0)
        return;
    int offered = ci->reoffer - 1;
    int answerer = ci->reoffer_by == PARTY_CALLER ? 1 : 0; /* index of the answering side */
    ci->reoffer = 0;
    struct call_hold *last = p->nholds ? &p->holds[p->nholds - 1] : NULL;
    ptime_t now = ev->l4->pkt->ts;
    if (last && !last->end && !last->answered) {
        last->dir[answerer] = (uint8_t)d;
        last->answered = now;
        last->answer_frame = ev->l4->pkt->frame;
        return;
    }
    struct call_hold *k;
    if ((d != SDP_SENDONLY && d != SDP_INACTIVE) || (last && !last->end) || !(k = new_hold(p)))
        return;
    *k = (struct call_hold){.start = now, .by = answerer ? PARTY_CALLEE : PARTY_CALLER,
                            .answered = now, .frame = ev->l4->pkt->frame,
                            .answer_frame = ev->l4->pkt->frame};
    k->dir[answerer] = (uint8_t)d;
    k->dir[1 - answerer] = offered >= 0 ? (uint8_t)offered : SDP_SENDRECV;
}

static void on_response(struct correlator *c, struct call_int *ci, const struct sip_event *ev,
                        struct sv cseq_method, const struct sdp *sdp)
{
    const struct sip_msg *m = ev->msg;
    struct call *p = &ci->pub;
    ptime_t now = ev->l4->pkt->ts;
    int code = m->status;

    /* RFC 4028: a 2xx to INVITE or UPDATE refreshes the session (and may set its interval) */
    if (code >= 200 && code < 300 &&
        (sv_eq_cstr(cseq_method, "INVITE") || sv_eq_cstr(cseq_method, "UPDATE"))) {
        const struct sip_header *se = sip_hdr(m, SIP_H_SESSION_EXPIRES);
        uint64_t secs;
        if (se) {
            struct sv v = se->value;
            const char *semi = memchr(v.p, ';', v.n);
            if (semi)
                v.n = (size_t)(semi - v.p);
            if (sip_uint_parse(v, UINT32_MAX, &secs))
                p->session_expires = (uint32_t)secs;
        }
        p->refreshed_at = now;
    }
    if (sv_eq_cstr(cseq_method, "REFER") && p->ntransfers && code >= 200 &&
        !p->transfers[p->ntransfers - 1].accepted) {
        p->transfers[p->ntransfers - 1].accepted = code;
        return;
    }
    if (sdp) /* the responder: the other side from the request's sender (its From) */
        record_side(c, p, sender(p, m) == PARTY_CALLER ? 1 : 0, sdp, ev);
    if (sdp && code >= 200 && code < 300 && p->answer_time &&
        (sv_eq_cstr(cseq_method, "INVITE") || sv_eq_cstr(cseq_method, "UPDATE")))
        track_hold_answer(p, ci, ev, sdp);
    if (!sv_eq_cstr(cseq_method, "INVITE"))
        return;
    /* after the answer, INVITE responses belong to re-INVITEs: not the call's fate */
    if (p->state >= CALL_ANSWERED && p->state != CALL_REJECTED)
        return;
    if (p->state == CALL_REJECTED && !(p->final_status == 401 || p->final_status == 407))
        return;
    if (code < 200) {
        if (code == 100)
            return;
        /* post-dial delay is the caller's (RFC 6076 §4.1): where one mirror sees several
         * hops, the 18x on the caller's own segment counts, not the first one downstream */
        bool callers = false;
        for (unsigned k = 0; k < p->nsegs && !callers; k++) /* the first try, or a retry */
            callers = p->segs[k].parent < 0 && p->segs[k].prov_frame == ev->l4->pkt->frame &&
                      ip_addr_eq(&p->segs[k].src, &p->segs[0].src);
        if (!p->ringing_time || (callers && !ci->ringing_callers)) {
            p->ringing_time = now;
            p->ringing_frame = ev->l4->pkt->frame;
            ci->ringing_callers = callers;
        }
        if (sdp && !p->early_time) {
            p->early_time = now;
            p->early_frame = ev->l4->pkt->frame;
            p->early_status = code;
        }
        if (sdp && p->state < CALL_EARLY_MEDIA)
            p->state = CALL_EARLY_MEDIA;
        else if (p->state == CALL_TRYING)
            p->state = CALL_RINGING;
        return;
    }
    p->final_status = code;
    p->final_frame = ev->l4->pkt->frame;
    if (code != 401 && code != 407) /* setup is over: the look-ups it needed are all seen */
        lookup_tie(c->dns, p, now);
    /* only a challenge starts a run to track (a 403 or 2xx without one changes nothing) */
    if (p->auth || ((code == 401 || code == 407) && (p->auth = calloc(1, sizeof *p->auth))))
        auth_track_response(p->auth, m, ev->l4->pkt->frame, now);
    free(p->reason);
    p->reason = sv_strdup(m->reason);
    if (code < 300) {
        p->state = CALL_ANSWERED;
        if (!p->answer_time) {
            p->answer_time = now;
            p->answer_frame = ev->l4->pkt->frame;
        }
        struct sv tag = header_tag(m, SIP_H_TO);
        if (tag.p && tag.n) {
            free(p->to_tag);
            p->to_tag = sv_strdup(tag);
        }
        if (sdp)
            set_codecs(c, &p->codecs, sdp);
        revive(c, ci);
        return;
    }
    if (code == 401 || code == 407)
        p->challenges++;
    p->state = (code == 486 || code == 600)            ? CALL_BUSY
               : code == 487                          ? CALL_CANCELLED
               : (code >= 500 && code < 600) || code == 408 ? CALL_FAILED
                                                       : CALL_REJECTED;
    if (!p->end_time || code == 401 || code == 407)
        p->end_time = ci->cancel_seen ? ci->cancel_time : now;
    if (ci->cancel_seen && p->ended_by == PARTY_NONE)
        p->ended_by = PARTY_CALLER;
    end_call(c, ci, now, code == 401 || code == 407);
}

/* A NOTIFY for a REFER carries a sipfrag: "SIP/2.0 200 OK". */
static void track_notify(struct call *p, const struct sip_msg *m)
{
    if (!p->ntransfers || m->body.n < 12 || memcmp(m->body.p, "SIP/2.0 ", 8) != 0)
        return;
    const char *d = m->body.p + 8;
    if (d[0] >= '1' && d[0] <= '6' && d[1] >= '0' && d[1] <= '9' && d[2] >= '0' && d[2] <= '9')
        p->transfers[p->ntransfers - 1].result = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
}

/* DTMF sent as SIP INFO: kept on the call (RTP events are kept on their stream). */
static void track_info_dtmf(struct call *p, const struct sip_event *ev)
{
    char digit;
    int64_t dur;
    if (!sip_body_dtmf(ev->msg, &digit, &dur))
        return;
    if (p->ndtmf == p->dtmf_cap) {
        uint16_t cap = p->dtmf_cap ? (uint16_t)(p->dtmf_cap * 2) : 8;
        struct call_dtmf *d;
        if (p->dtmf_cap >= CALL_MAX_DTMF || !(d = realloc(p->dtmf, cap * sizeof *d))) {
            p->dtmf_dropped++;
            return;
        }
        p->dtmf = d;
        p->dtmf_cap = cap;
    }
    p->dtmf[p->ndtmf++] = (struct call_dtmf){.time = ev->l4->pkt->ts, .frame = ev->l4->pkt->frame,
                                             .duration_ms = (int32_t)dur, .digit = digit,
                                             .by = (uint8_t)sender(p, ev->msg)};
}

static void on_request(struct correlator *c, struct call_int *ci, const struct sip_event *ev,
                       bool retrans, const struct sdp *sdp)
{
    const struct sip_msg *m = ev->msg;
    struct call *p = &ci->pub;
    ptime_t now = ev->l4->pkt->ts;

    if (retrans)
        return;
    if (sdp) /* an offer (INVITE, UPDATE) or a late answer (ACK) */
        record_side(c, p, sender(p, m) == PARTY_CALLER ? 0 : 1, sdp, ev);
    if (sv_eq_cstr(m->method, "INVITE")) {
        struct sv to_tag = header_tag(m, SIP_H_TO);
        if (!to_tag.p || !to_tag.n) {
            /* a run starts at a challenge; before one, only credentials say anything */
            if (p->auth || ((sip_hdr(m, SIP_H_AUTHORIZATION) ||
                             sip_hdr(m, SIP_H_PROXY_AUTHORIZATION)) &&
                            (p->auth = calloc(1, sizeof *p->auth))))
                auth_track_request(p->auth, m);
            /* a new initial INVITE on the call: after a 401/407, the one with credentials */
            if (p->state == CALL_REJECTED && (p->final_status == 401 || p->final_status == 407)) {
                p->attempt_time = now;
                p->state = CALL_TRYING;
                p->final_status = 0;
                p->end_time = 0;
                revive(c, ci);
            }
            if (!p->codecs && sdp)
                set_codecs(c, &p->codecs, sdp);
        } else if (p->answer_time) {
            track_hold(p, ci, ev, sdp, now); /* a re-INVITE */
        }
        return;
    }
    if (sv_eq_cstr(m->method, "UPDATE") && p->answer_time) {
        track_hold(p, ci, ev, sdp, now);
        return;
    }
    if (sv_eq_cstr(m->method, "REFER") && p->ntransfers < CALL_MAX_TRANSFERS &&
        (p->transfers ||
         (p->transfers = calloc(CALL_MAX_TRANSFERS, sizeof *p->transfers)))) {
        const struct sip_header *rt = sip_hdr(m, SIP_H_REFER_TO);
        struct sip_nameaddr na;
        struct call_transfer *tr = &p->transfers[p->ntransfers++];
        tr->time = now;
        tr->by = sender(p, m);
        tr->refer_to = rt && sip_nameaddr_parse(rt->value, &na) ? sv_strdup(na.uri) : NULL;
        return;
    }
    if (sv_eq_cstr(m->method, "NOTIFY")) {
        track_notify(p, m);
        return;
    }
    if (sv_eq_cstr(m->method, "INFO")) {
        track_info_dtmf(p, ev);
        return;
    }
    if (sv_eq_cstr(m->method, "CANCEL")) {
        if (p->state < CALL_ANSWERED && !ci->cancel_seen) {
            ci->cancel_seen = true;
            ci->cancel_time = now;
            p->end_frame = ev->l4->pkt->frame;
        }
        return;
    }
    if (sv_eq_cstr(m->method, "BYE") && p->state <= CALL_ANSWERED &&
        p->state != CALL_COMPLETED) {
        p->ended_by = sender(p, m);
        if (p->state == CALL_ANSWERED) {
            p->state = CALL_COMPLETED;
            p->end_time = now;
            p->end_frame = ev->l4->pkt->frame;
            end_call(c, ci, now, false);
        }
    }
}

/* The local UUID of a Session-ID header (RFC 7989 §4: 32 hex digits; all zeros means
 * unknown). False when there is none. */
static bool session_uuid(const struct sip_msg *m, char out[33])
{
    const struct sip_header *h = sip_hdr(m, SIP_H_SESSION_ID);
    if (!h || h->value.n < 32)
        return false;
    bool zero = true;
    for (int i = 0; i < 32; i++) {
        char ch = h->value.p[i];
        bool hex = (ch >= '0' && ch <= '9') || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f');
        if (!hex)
            return false;
        out[i] = (char)(ch | 0x20);
        zero &= ch == '0';
    }
    out[32] = '\0';
    return !zero && (h->value.n == 32 || h->value.p[32] == ';' || h->value.p[32] == ' ');
}

/* A B2BUA's outgoing INVITE that names its incoming leg (X-CID, X-Call-ID): the call of
 * that leg, or NULL. */
static struct call_int *named_call(struct correlator *c, const struct sip_msg *m)
{
    static const char *const names[] = {"X-CID", "X-Call-ID", "X-Orig-Call-ID"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const struct sip_header *h = sip_hdr_by_name(m, sv_cstr(names[i]));
        if (!h || !h->value.n)
            continue;
        uint64_t hh = hash_bytes(h->value.p, h->value.n, c->cfg.hash_seed);
        struct call_int *ci = ctab_find(c->calls, hh, &h->value);
        if (!ci) {
            struct leg_ref *l = htab_find(c->legs, hh, &h->value);
            ci = l ? l->call : NULL;
        }
        if (ci)
            return ci;
    }
    char uuid[33];
    if (session_uuid(m, uuid)) {
        struct session_ref *sr = htab_find(c->sessions, hash_bytes(uuid, 32, c->cfg.hash_seed), uuid);
        if (sr)
            return sr->call;
    }
    return NULL;
}

static struct leg_ref *join_leg(struct correlator *c, struct call_int *ci, const struct sip_msg *m,
                                struct sv cid, uint64_t h)
{
    struct call *p = &ci->pub;
    if (p->nlegs + 1 >= CALL_MAX_LEGS ||
        (!p->legs && !(p->legs = calloc(CALL_MAX_LEGS, sizeof *p->legs))))
        return NULL;
    struct leg_ref *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    struct call_leg *g = &p->legs[p->nlegs + 1];
    g->call_id = sv_strdup(cid);
    struct sv ft = header_tag(m, SIP_H_FROM);
    g->from_tag = ft.p && ft.n ? sv_strdup(ft) : NULL;
    l->call = ci;
    l->idx = (uint8_t)(p->nlegs + 1);
    l->hash = h;
    if (!g->call_id || !htab_insert(c->legs, h, l)) {
        free(g->call_id);
        free(g->from_tag);
        memset(g, 0, sizeof *g);
        free(l);
        return NULL;
    }
    p->nlegs++;
    return l;
}

void correlate_sip(struct correlator *c, const struct sip_event *ev, struct msg_verdict *v)
{
    const struct sip_msg *m = ev->msg;
    ptime_t now = ev->l4->pkt->ts;
    v->call_seq = 0;
    v->reg_seq = 0;
    v->retransmission = false;

    sweep(c, now);
    v->original_time = 0;
    v->original_frame = 0;
    v->retransmission = txn_observe(c->txns, ev, now, c->cfg.linger, &c->st.transactions,
                                    &c->st.evicted_transactions, &v->original_time,
                                    &v->original_frame);
    if (v->retransmission)
        c->st.retransmissions++;

    if (now > c->last_time)
        c->last_time = now;
    const struct sip_header *cidh = sip_hdr(m, SIP_H_CALL_ID);
    const struct sip_header *cseqh = sip_hdr(m, SIP_H_CSEQ);
    uint32_t cseq;
    struct sv cmethod;
    /* a Call-ID is a word (RFC 3261 §25.1): one with a NUL byte would be cut short where
     * it is kept as a C string, and found no more under its full length */
    if (!cidh || !cseqh || !sip_cseq_parse(cseqh->value, &cseq, &cmethod) ||
        memchr(cidh->value.p, '\0', cidh->value.n)) {
        c->st.out_of_dialog++;
        return;
    }
    if (sv_eq_cstr(cmethod, "REGISTER")) {
        v->reg_seq = reg_observe(c->regs, ev, v->retransmission, &c->st.registrations,
                                 &c->st.evicted_registrations);
        if (!v->reg_seq)
            c->st.out_of_dialog++;
        return;
    }
    struct sv cid = cidh->value;
    uint64_t h = hash_bytes(cid.p, cid.n, c->cfg.hash_seed);
    struct call_int *ci = ctab_find(c->calls, h, &cid);
    struct leg_ref *leg = NULL;
    if (!ci && (leg = htab_find(c->legs, h, &cid)))
        ci = leg->call;
    if (!ci) {
        struct sv to_tag = header_tag(m, SIP_H_TO);
        bool initial_invite = m->is_request && sv_eq_cstr(m->method, "INVITE") &&
                              !(to_tag.p && to_tag.n);
        struct call_int *named = initial_invite ? named_call(c, m) : NULL;
        if (named && (leg = join_leg(c, named, m, cid, h)))
            ci = named;
        else if (!initial_invite || !(ci = new_call(c, ev, cid, h))) {
            c->st.out_of_dialog++;
            return;
        } else {
            char uuid[33]; /* a new call: remember its Session-ID for the legs to come */
            struct session_ref *sr;
            if (session_uuid(m, uuid) && (sr = calloc(1, sizeof *sr))) {
                memcpy(sr->uuid, uuid, sizeof uuid);
                sr->hash = hash_bytes(uuid, 32, c->cfg.hash_seed);
                sr->call = ci;
                if (htab_find(c->sessions, sr->hash, uuid) || !htab_insert(c->sessions, sr->hash, sr))
                    free(sr);
                else
                    ci->session = sr;
            }
        }
    }
    struct call *p = &ci->pub;
    p->messages++;
    p->retransmissions += v->retransmission;
    if (v->retransmission)
        record_retrans(p, ev, v);
    p->last_frame = ev->l4->pkt->frame;
    p->last_time = now;
    if (list_of(c, ci) == &c->probation && !m->is_request)
        move(c, ci, &c->active); /* something answered: a real call, out of probation */
    else if (list_of(c, ci) == &c->active)
        dlist_touch(&c->active, &ci->node); /* ended calls keep their place: due by end time */
    v->call_seq = p->seq;
    if (sv_eq_cstr(cmethod, "INVITE")) { /* the path of the initial INVITE, hop by hop */
        struct sv tt = header_tag(m, SIP_H_TO);
        if (!m->is_request)
            path_response(p, ev, cseq, c->cfg.hash_seed);
        else if (sv_eq_cstr(m->method, "INVITE") && !(tt.p && tt.n))
            path_request(p, ev, leg ? leg->idx : 0, cseq, v->retransmission, c->cfg.hash_seed);
    }
    /* the message's SDP, parsed once for everything below */
    struct sv body;
    enum decode_reason why = DR__COUNT;
    const struct sdp *sdp = m->body.n && sip_body_sdp(m, &body, &why) &&
                                    sdp_parse(body.p, body.n, &c->sdp)
                                ? &c->sdp
                                : NULL;
    if (!v->retransmission) { /* what was wrong in the body counts once, with decode's */
        if (sdp && sdp->malformed)
            why = sdp->error;
        if (why < DR__COUNT)
            c->st.errors[why]++;
    }
    if (sdp && !v->retransmission && !ci->handed) /* offers and answers say where media goes */
        media_from_sdp(c->media, sdp, p->seq, &ci->media, &c->st.evicted_media);
    if (leg) { /* another leg: recorded and counted; the first leg tells the call's story */
        struct sv tt = header_tag(m, SIP_H_TO);
        struct call_leg *g = &p->legs[leg->idx];
        if (!m->is_request && m->status >= 200 && m->status < 300 &&
            sv_eq_cstr(cmethod, "INVITE") && tt.p && tt.n && !g->to_tag)
            g->to_tag = sv_strdup(tt);
        if (!m->is_request && m->status > 100 && m->status < 200 && sv_eq_cstr(cmethod, "INVITE"))
            g->provisionals |= m->status == 180 && !sdp ? LEG_SAW_180
                                             : sdp                    ? LEG_SAW_18X_SDP
                                                                      : 0;
        return;
    }
    if (m->is_request)
        on_request(c, ci, ev, v->retransmission, sdp);
    else if (!v->retransmission)
        on_response(c, ci, ev, cmethod, sdp);
}

void correlate_dns(struct correlator *c, const struct l4_packet *l4, const struct dns_msg *m)
{
    lookup_observe(c->dns, l4, m, &c->st);
}
