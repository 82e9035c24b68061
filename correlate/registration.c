/* Registrations (RFC 3261 §10): one binding per AoR (To of the REGISTER) and Contact.
 * A REGISTER asks (attempts, the expiry it asks for: Contact's expires parameter, else
 * the Expires header, §10.2.1.1); its response decides: 2xx grants (the expiry the
 * registrar granted for our Contact, §10.3 step 8; 0 means removed), 401/407 challenges,
 * anything else fails. A UA reuses its Call-ID for refreshes (§10.2.4), which is how a
 * response finds its binding. Bindings granted and not refreshed by the end of the input
 * (packet time) are marked expired. The table is bounded (LRU, counted). */
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/list.h"
#include "correlate_int.h"

struct reg_int {
    struct registration pub;
    struct dlist_node lru;
    uint64_t hash, cid_hash;
    char *key; /* owned: AoR \x1f Contact */
    size_t keylen;
};

struct reg_table {
    struct htab *by_key, *by_cid;
    struct dlist lru;
    uint64_t seed, next_seq;
    reg_done_fn done;
    void *user;
};

struct key {
    const char *p;
    size_t n;
};

const char *reg_state_name(enum reg_state s)
{
    static const char *const names[] = {"pending", "challenged", "registered", "unregistered",
                                        "failed"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "unknown";
}

static bool key_eq(const void *item, const void *k)
{
    const struct reg_int *r = item;
    const struct key *x = k;
    return r->keylen == x->n && memcmp(r->key, x->p, x->n) == 0;
}

static bool cid_eq(const void *item, const void *k)
{
    const struct reg_int *r = item;
    const struct key *x = k;
    return strlen(r->pub.call_id) == x->n && memcmp(r->pub.call_id, x->p, x->n) == 0;
}

struct reg_table *reg_table_new(size_t max, uint64_t seed)
{
    struct reg_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->by_key = htab_new(max, key_eq);
    t->by_cid = htab_new(max, cid_eq);
    if (!t->by_key || !t->by_cid) {
        htab_free(t->by_key);
        htab_free(t->by_cid);
        free(t);
        return NULL;
    }
    t->seed = seed;
    return t;
}

void reg_table_on_done(struct reg_table *t, reg_done_fn fn, void *user)
{
    t->done = fn;
    t->user = user;
}

static void free_fields(struct reg_int *r)
{
    free(r->key);
    free(r->pub.aor);
    free(r->pub.contact);
    free(r->pub.call_id);
    free(r->pub.user_agent);
    free(r);
}

/* Hands a binding on and frees it; `end` is the last packet time of the input. */
static void release(struct reg_table *t, struct reg_int *r, ptime_t end)
{
    struct registration *p = &r->pub;
    dlist_unlink(&t->lru, &r->lru);
    htab_remove(t->by_key, r->hash, &(struct key){r->key, r->keylen});
    if (htab_find(t->by_cid, r->cid_hash, &(struct key){p->call_id, strlen(p->call_id)}) == r)
        htab_remove(t->by_cid, r->cid_hash, &(struct key){p->call_id, strlen(p->call_id)});
    if (p->state == REG_REGISTERED && p->expires_s >= 0 &&
        end > p->registered_at + p->expires_s * PTIME_SEC) {
        p->expired = true; /* granted, never refreshed in time */
        p->state = REG_UNREGISTERED;
    }
    if (t->done)
        t->done(t->user, p);
    free_fields(r);
}

static int by_seq(const void *a, const void *b)
{
    uint64_t x = (*(struct reg_int *const *)a)->pub.seq, y = (*(struct reg_int *const *)b)->pub.seq;
    return x < y ? -1 : x > y;
}

void reg_table_finish(struct reg_table *t, ptime_t end)
{
    size_t n = htab_count(t->by_key), i = 0;
    struct reg_int **all = malloc((n ? n : 1) * sizeof *all);
    if (!all) {
        while (t->lru.head)
            release(t, dlist_entry(t->lru.head, struct reg_int, lru), end);
        return;
    }
    for (struct dlist_node *x = t->lru.head; x; x = x->next)
        all[i++] = dlist_entry(x, struct reg_int, lru);
    qsort(all, i, sizeof *all, by_seq);
    for (size_t k = 0; k < i; k++)
        release(t, all[k], end);
    free(all);
}

size_t reg_entry_bytes(void)
{
    /* the struct, its key and five strings (AoR, Contact, Call-ID, User-Agent) */
    return sizeof(struct reg_int) + 320;
}

size_t reg_table_bytes(const struct reg_table *t)
{
    return sizeof *t + htab_bytes(t->by_key) + htab_bytes(t->by_cid) +
           htab_count(t->by_key) * reg_entry_bytes();
}

void reg_table_free(struct reg_table *t)
{
    if (!t)
        return;
    t->done = NULL;
    while (t->lru.head)
        release(t, dlist_entry(t->lru.head, struct reg_int, lru), 0);
    htab_free(t->by_key);
    htab_free(t->by_cid);
    free(t);
}

/* The first Contact's URI and its expires parameter (-1 when none). */
static struct sv first_contact(const struct sip_msg *m, int64_t *expires)
{
    const struct sip_header *h = sip_hdr(m, SIP_H_CONTACT);
    struct sv rest, item;
    struct sip_nameaddr na;
    bool found;
    uint64_t x;
    *expires = -1;
    if (!h)
        return SV_NULL;
    rest = h->value;
    if (!sip_list_next(&rest, &item) || !sip_nameaddr_parse(item, &na))
        return SV_NULL;
    if (na.star)
        return sv_cstr("*");
    if (sip_uint_parse(sip_param(na.params, "expires", &found), UINT32_MAX, &x))
        *expires = (int64_t)x;
    return na.uri;
}

/* In a 2xx, the expiry granted to `contact` (§10.3 step 8), else the Expires header. */
static int64_t granted(const struct sip_msg *m, const char *contact)
{
    uint64_t x;
    for (const struct sip_header *h = sip_hdr(m, SIP_H_CONTACT); h; h = sip_hdr_next(m, h)) {
        struct sv rest = h->value, item;
        struct sip_nameaddr na;
        bool found;
        while (sip_list_next(&rest, &item)) {
            if (!sip_nameaddr_parse(item, &na) || !contact || !sv_eq_cstr(na.uri, contact))
                continue;
            if (sip_uint_parse(sip_param(na.params, "expires", &found), UINT32_MAX, &x))
                return (int64_t)x;
        }
    }
    const struct sip_header *e = sip_hdr(m, SIP_H_EXPIRES);
    if (e && sip_uint_parse(e->value, UINT32_MAX, &x))
        return (int64_t)x;
    return -1;
}

static struct reg_int *create(struct reg_table *t, const struct sip_event *ev, struct sv aor,
                              struct sv contact, struct sv cid, const char *key, size_t klen,
                              uint64_t h, uint64_t *evicted)
{
    struct reg_int *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    struct registration *p = &r->pub;
    r->key = malloc(klen);
    p->aor = sv_strdup(aor);
    p->contact = sv_strdup(contact);
    p->call_id = sv_strdup(cid);
    if (!r->key || !p->aor || !p->call_id) {
        free_fields(r);
        return NULL;
    }
    memcpy(r->key, key, klen);
    r->keylen = klen;
    r->hash = h;
    r->cid_hash = hash_bytes(cid.p, cid.n, t->seed);
    p->seq = ++t->next_seq;
    p->source = ev->l4->src;
    p->source_port = ev->l4->sport;
    p->registrar = ev->l4->dst;
    p->registrar_port = ev->l4->dport;
    p->first_time = ev->l4->pkt->ts;
    p->expires_s = -1;
    p->state = REG_PENDING;
    while (!htab_insert(t->by_key, h, r)) {
        if (!t->lru.head) {
            free_fields(r);
            return NULL;
        }
        release(t, dlist_entry(t->lru.head, struct reg_int, lru), ev->l4->pkt->ts);
        (*evicted)++;
    }
    dlist_push_tail(&t->lru, &r->lru);
    return r;
}

uint64_t reg_observe(struct reg_table *t, const struct sip_event *ev, bool retrans,
                     uint64_t *created, uint64_t *evicted)
{
    const struct sip_msg *m = ev->msg;
    const struct sip_header *cidh = sip_hdr(m, SIP_H_CALL_ID), *to = sip_hdr(m, SIP_H_TO);
    struct sip_nameaddr na;
    if (!cidh || !to || !sip_nameaddr_parse(to->value, &na))
        return 0;
    struct sv cid = cidh->value;
    struct reg_int *r;

    if (m->is_request) {
        int64_t asked;
        struct sv contact = first_contact(m, &asked);
        char key[512];
        size_t kl = 0;
        size_t an = na.uri.n < 300 ? na.uri.n : 300, cn = contact.p ? (contact.n < 200 ? contact.n : 200) : 0;
        memcpy(key, na.uri.p, an);
        kl = an;
        key[kl++] = '\x1f';
        if (cn)
            memcpy(key + kl, contact.p, cn);
        kl += cn;
        uint64_t h = hash_bytes(key, kl, t->seed);
        r = htab_find(t->by_key, h, &(struct key){key, kl});
        if (!r) {
            if (!(r = create(t, ev, na.uri, contact, cid, key, kl, h, evicted)))
                return 0;
            (*created)++;
        } else {
            dlist_touch(&t->lru, &r->lru);
        }
        /* the Call-ID of the latest REGISTER finds the binding for its response */
        uint64_t ch = hash_bytes(cid.p, cid.n, t->seed);
        struct key ck = {cid.p, cid.n};
        if (!sv_eq_cstr(cid, r->pub.call_id)) {
            char *n = sv_strdup(cid);
            if (!n)
                return 0;
            /* leave the index under the old Call-ID before the name it is found by goes */
            struct key ok = {r->pub.call_id, strlen(r->pub.call_id)};
            if (htab_find(t->by_cid, r->cid_hash, &ok) == r)
                htab_remove(t->by_cid, r->cid_hash, &ok);
            free(r->pub.call_id);
            r->pub.call_id = n;
            r->cid_hash = ch;
        }
        struct reg_int *cur = htab_find(t->by_cid, ch, &ck);
        if (cur != r) {
            if (cur) /* another binding used this Call-ID before: the newest REGISTER wins */
                htab_remove(t->by_cid, ch, &ck);
            htab_insert(t->by_cid, ch, r);
        }
        struct registration *p = &r->pub;
        p->last_time = ev->l4->pkt->ts;
        if (retrans)
            return p->seq;
        p->attempts++;
        auth_track_request(&p->auth, m);
        const struct sip_header *e = sip_hdr(m, SIP_H_EXPIRES);
        uint64_t x;
        if (asked < 0 && e && sip_uint_parse(e->value, UINT32_MAX, &x))
            asked = (int64_t)x;
        if (asked >= 0)
            p->expires_s = asked;
        const struct sip_header *ua = sip_hdr(m, SIP_H_USER_AGENT);
        if (ua && !p->user_agent)
            p->user_agent = sv_strdup(ua->value);
        if (p->state != REG_REGISTERED)
            p->state = REG_PENDING;
        return p->seq;
    }

    r = htab_find(t->by_cid, hash_bytes(cid.p, cid.n, t->seed), &(struct key){cid.p, cid.n});
    if (!r)
        return 0;
    struct registration *p = &r->pub;
    p->last_time = ev->l4->pkt->ts;
    dlist_touch(&t->lru, &r->lru);
    if (retrans || m->status < 200)
        return p->seq;
    p->final_status = m->status;
    p->final_frame = ev->l4->pkt->frame;
    auth_track_response(&p->auth, m, ev->l4->pkt->frame, ev->l4->pkt->ts);
    if (m->status < 300) {
        int64_t g = granted(m, p->contact);
        if (g >= 0)
            p->expires_s = g;
        bool removed = p->expires_s == 0 || (p->contact && strcmp(p->contact, "*") == 0);
        p->state = removed ? REG_UNREGISTERED : REG_REGISTERED;
        p->registered_at = ev->l4->pkt->ts;
        p->expired = false;
    } else if (m->status == 401 || m->status == 407) {
        p->challenges++;
        p->state = REG_CHALLENGED;
    } else {
        p->state = REG_FAILED;
    }
    return p->seq;
}
