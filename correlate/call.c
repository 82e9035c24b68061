/* Calls: INVITE dialogs grouped by Call-ID, their state machine and timings; see
 * correlate.h. This file holds the calls table: a call's creation, its lists and waits,
 * its hand-on and release; call_sip.c what each message does to it, call_sdp.c what its
 * SDP says.
 *
 * A call starts at an initial INVITE (no To tag). Responses to INVITE move it while it is
 * not answered: 18x rings (183 with SDP: early media), 2xx answers, a final failure ends it
 * by class (RFC 3261 §21). 401/407 leave it waiting for the INVITE with credentials that
 * usually follows. CANCEL and BYE end it, on the side that sent them (From tag). Calls
 * live in two lists: active ones by last activity (idle ones end), ended ones by end time
 * (handed on 64*T1 later, once retransmissions are over). Live, an ended call is handed on
 * sooner (correlate_config.ended_wait) and kept, handed, for the rest of those 64*T1, so
 * that its stragglers are still its own. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call_int.h"

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
    cfg->timer_b = 32 * PTIME_SEC;
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

/* An unanswered INVITE's call beyond its struct (which holds its held first path segment
 * and its caller's endpoint; its SDP's codecs are the pool's): Call-ID, From and To (URI,
 * user, tag) at the struct's end, the allocator's header and rounding (measured with the
 * flood of tests/gen/calls.py: 111 bytes of strings on average, 8 and 8). */
#define CALL_EXTRA_BYTES 128

size_t correlate_entry_bytes(enum mem_table t)
{
    switch (t) {
    case MEM_CALLS:
        return offsetof(struct call_int, strings) + CALL_EXTRA_BYTES;
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
    /* strnlen: the key may be longer than the block holding the Call-ID */
    return strnlen(c->pub.call_id, k->n + 1) == k->n && memcmp(c->pub.call_id, k->p, k->n) == 0;
}

static uint64_t cid_hash(const void *item, const void *ctx)
{
    const struct call_int *ci = item;
    const struct correlator *c = ctx;
    return hash_bytes(ci->pub.call_id, strlen(ci->pub.call_id), c->cfg.hash_seed);
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
char *call_codecs_keep(struct correlator *c, const char *text)
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

void call_codecs_drop(const struct correlator *c, char *t)
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

struct dlist *call_list_of(struct correlator *c, const struct call_int *ci)
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
    call_codecs_drop(cr, c->codecs);
    call_codecs_drop(cr, c->caller_side.codecs);
    if (c->caller_side.eps != &ci->caller_ep)
        free(c->caller_side.eps);
    if (c->callee_side) {
        call_codecs_drop(cr, c->callee_side->codecs);
        free(c->callee_side->eps);
    }
    free(c->callee_side);
    free(c->to_tag);
    free(c->reason);
    free(c->dtmf);
    free(c->segs);
    free(c->dns);
    free(ci->more);
    free(ci);
}

/* The call's rarely needed part, allocated on first use; NULL on no memory. */
struct call_more *call_more(struct call_int *ci)
{
    if (!ci->more)
        ci->more = calloc(1, sizeof *ci->more);
    return ci->more;
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
        const struct call_more *x = ci->more;
        if (x && x->session_expires &&
            c->last_time > x->refreshed_at + (ptime_t)x->session_expires * PTIME_SEC) {
            p->session_expired = true;
            p->end_time = x->refreshed_at + (ptime_t)x->session_expires * PTIME_SEC;
        }
    }
    /* a held first segment is lent to the readers, on the stack (they copy what they keep) */
    struct call_seg first;
    bool lent = ci->path.held;
    if (lent) {
        path_first(p, &ci->path, &first);
        p->segs = &first;
        p->nsegs = 1;
    }
    lookup_tie(c->dns, p, c->last_time);
    lookup_next_sent(p);
    if (c->done)
        c->done(c->user, &ci->pub);
    if (lent) {
        p->segs = NULL;
        p->nsegs = 0;
    }
}

/* Hands a call on, unless it was already, and frees it. */
static void release(struct correlator *c, struct call_int *ci)
{
    if (!call_handed(ci))
        hand_on(c, ci);
    else
        c->nhanded--;
    for (unsigned i = 1; i <= ci->pub.nlegs; i++) {
        const char *lc = ci->pub.legs[i].call_id;
        struct sv k = {lc, strlen(lc)};
        struct leg_ref *l = htab_remove(c->legs, hash_bytes(lc, k.n, c->cfg.hash_seed), &k);
        free(l);
    }
    struct session_ref *sr = ci->more ? ci->more->session : NULL;
    if (sr) {
        htab_remove(c->sessions, sr->hash, sr->uuid);
        free(sr);
        ci->more->session = NULL;
    }
    dlist_unlink(call_list_of(c, ci), &ci->node);
    struct sv cid = {ci->pub.call_id, strlen(ci->pub.call_id)};
    ctab_remove(c->calls, hash_bytes(cid.p, cid.n, c->cfg.hash_seed), &cid);
    free_call(c, ci);
}

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
    while ((ci = ctab_next(c->calls, &pos))) {
        if (ci->pub.last_time <= since || call_handed(ci)) /* its record is out */
            continue;
        if (!ci->path.held) {
            fn(user, &ci->pub);
            continue;
        }
        /* its held first segment lent as in hand_on, on a copy (the call is const here) */
        struct call view = ci->pub;
        struct call_seg first;
        path_first(&ci->pub, &ci->path, &first);
        view.segs = &first;
        view.nsegs = 1;
        fn(user, &view);
    }
}

size_t correlate_active_calls(const struct correlator *c)
{
    return ctab_count(c->calls) - c->nhanded;
}

uint64_t correlate_call_seq(const struct correlator *c, struct sv call_id)
{
    uint64_t h = hash_bytes(call_id.p, call_id.n, c->cfg.hash_seed);
    const struct call_int *ci = ctab_find(c->calls, h, &call_id);
    if (!ci) {
        const struct leg_ref *l = htab_find(c->legs, h, &call_id);
        ci = l ? l->call : NULL;
    }
    return ci ? ci->pub.seq : 0;
}

void correlate_tick(struct correlator *c, ptime_t now)
{
    if (now > c->last_time)
        call_sweep(c, now);
}

void correlate_finish(struct correlator *c)
{
    reg_table_finish(c->regs, c->last_time);
    call_sweep(c, c->last_time); /* Timer B and the waits, judged at the last message seen */
    /* handed on in order of first INVITE: the table's own slots sorted (an array
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

void call_move(struct correlator *c, struct call_int *ci, struct dlist *to)
{
    dlist_unlink(call_list_of(c, ci), &ci->node);
    dlist_push_tail(to, &ci->node);
    ci->list = list_index(c, to);
}

/* Ends a call: it is handed on after 64*T1 (live: ended_wait), or, challenged, after the
 * retry wait. */
void call_end(struct correlator *c, struct call_int *ci, ptime_t now, bool challenged)
{
    if (call_ended(ci))
        return;
    call_move(c, ci, challenged ? &c->challenged : &c->ended);
    ci->ended_at = now;
}

/* An ended call's release: 64*T1 after its end, or, challenged, the retry wait. Its list
 * says which (a handed call was in `ended`), so each list stays in release order. */
static ptime_t release_at(const struct correlator *c, const struct call_int *ci)
{
    return ci->ended_at + (ci->list == LIST_CHALLENGED ? c->cfg.challenge_wait : c->cfg.linger);
}

/* An ended call's hand-on: at its release, or live (ended_wait) sooner. */
static ptime_t hand_at(const struct correlator *c, const struct call_int *ci)
{
    bool challenged = ci->list == LIST_CHALLENGED;
    return challenged || !c->cfg.ended_wait || c->cfg.ended_wait > c->cfg.linger
               ? release_at(c, ci)
               : ci->ended_at + c->cfg.ended_wait;
}

/* A call ended and then answered again (a 2xx to its INVITE, a retry after a challenge)
 * goes on; one handed on already stays as it was handed (its record is out). */
void call_revive(struct correlator *c, struct call_int *ci)
{
    if (!call_ended(ci) || call_handed(ci))
        return;
    call_move(c, ci, &c->active);
}

static void sweep_list(struct correlator *c, struct dlist *l, ptime_t now)
{
    struct call_int *ci;
    while (l->head && now > release_at(c, ci = dlist_entry(l->head, struct call_int, node)))
        release(c, ci);
}

/* Ended calls past ended_wait are handed on and kept (in end order, as they came) until
 * their 64*T1 is over; with no ended_wait, hand_at is release_at and they go at once. */
static void sweep_ended(struct correlator *c, ptime_t now)
{
    struct call_int *ci;
    while (c->ended.head &&
           now > hand_at(c, ci = dlist_entry(c->ended.head, struct call_int, node))) {
        if (now > release_at(c, ci)) {
            release(c, ci);
            continue;
        }
        call_move(c, ci, &c->handed);
        c->nhanded++;
        hand_on(c, ci);
    }
}

/* Ended calls past their wait, and idle active ones, are handed on. An INVITE nothing
 * answered (not even 100) within 64*T1 of its last copy failed: Timer B, RFC 3261
 * §17.1.1.2; the probation list is in arrival order, so only its head is looked at. */
void call_sweep(struct correlator *c, ptime_t now)
{
    sweep_list(c, &c->handed, now);
    sweep_ended(c, now);
    sweep_list(c, &c->challenged, now);
    struct call_int *pi;
    while (c->probation.head &&
           now - (pi = dlist_entry(c->probation.head, struct call_int, node))->pub.last_time >
               c->cfg.timer_b) {
        pi->pub.state = CALL_FAILED;
        pi->pub.end_time = pi->pub.last_time + c->cfg.timer_b;
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

/* The strings a call keeps of its first INVITE, one after the other (eight
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

struct call_int *call_new(struct correlator *c, const struct sip_event *ev, struct sv cid,
                          uint64_t h)
{
    const struct sip_msg *m = ev->msg;
    struct sv v[8];
    string_views(v, cid, m);
    struct call_int *ci =
        cid.p ? calloc(1, offsetof(struct call_int, strings) + strings_size(v)) : NULL;
    if (!ci)
        return NULL;
    struct call *p = &ci->pub;
    set_strings(p, v, ci->strings);
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
