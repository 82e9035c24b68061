/* SIP transactions (RFC 3261 §17), kept only to tell retransmissions from new messages.
 *
 * Key: with an RFC 3261 branch (magic cookie z9hG4bK), branch + sent-by of the top Via +
 * method, ACK counting as INVITE so that the ACK of a non-2xx final response joins the
 * INVITE's transaction (§17.2.3) and CANCEL keeping its own (§9.1). Without the cookie,
 * the RFC 2543 way (§17.2.3, last paragraphs): Call-ID, CSeq number, method, From tag and
 * the top Via. A message is a retransmission when its transaction has seen the very same
 * message before: a client transaction re-sends its request (§17.1.1.2), a server
 * transaction its last response (§17.2.1), unchanged. Two 183s with different RSeq or SDP
 * are two messages, not one sent twice; so the test is a fingerprint of the whole
 * message, not its method or status code; and of its path (addresses and ports), since
 * the same bytes seen again on another hop (a NAT, a proxy that changes nothing) are that
 * message travelling on, not sent again. Transactions live until 64*T1 after their last
 * message (packet time). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/list.h"
#include "correlate_int.h"

#define TXN_SEEN 8 /* fingerprints of distinct messages remembered per transaction */

struct txn_seen {
    uint64_t fp;
    ptime_t time;   /* when it was first seen ... */
    uint64_t frame; /* ... and in which frame */
};

/* A flood's INVITE is a transaction of one message: the first fingerprint is kept inline,
 * the others (a ring of TXN_SEEN with it) out of line once a second message comes, and the
 * key after the struct (330 bytes in three blocks became one of about 120). */
struct txn {
    struct dlist_node lru;
    ptime_t last;           /* (its hash is the key's, computed again when it goes) */
    struct txn_seen *more; /* owned: ring slots 1..TXN_SEEN-1; NULL until needed */
    struct txn_seen first; /* ring slot 0 */
    uint16_t keylen;
    uint8_t nseen, next;
    char key[];            /* keylen bytes */
};

static struct txn_seen *slot(struct txn *x, unsigned i)
{
    return i ? &x->more[i - 1] : &x->first;
}

struct txn_table {
    struct ctab *ht;
    struct dlist lru;
    uint64_t seed;
};

struct txn_key {
    const char *p;
    size_t n;
};

static bool key_eq(const void *item, const void *key)
{
    const struct txn *t = item;
    const struct txn_key *k = key;
    return t->keylen == k->n && memcmp(t->key, k->p, k->n) == 0;
}

static uint64_t key_hash(const void *item, const void *ctx)
{
    const struct txn *x = item;
    return hash_bytes(x->key, x->keylen, ((const struct txn_table *)ctx)->seed);
}

struct txn_table *txn_table_new(size_t max, uint64_t seed)
{
    struct txn_table *t = calloc(1, sizeof *t);
    if (!t || !(t->ht = ctab_new(max, key_eq, key_hash, t))) {
        free(t);
        return NULL;
    }
    t->seed = seed;
    return t;
}

static void txn_drop(struct txn_table *t, struct txn *x)
{
    dlist_unlink(&t->lru, &x->lru);
    ctab_remove(t->ht, hash_bytes(x->key, x->keylen, t->seed),
                &(struct txn_key){x->key, x->keylen});
    free(x->more);
    free(x);
}

size_t txn_entry_bytes(void)
{
    /* measured: the struct, a key of about 40 bytes, the allocator's header and
     * rounding */
    return offsetof(struct txn, key) + 52;
}

size_t txn_table_bytes(const struct txn_table *t)
{
    return sizeof *t + ctab_bytes(t->ht) + ctab_count(t->ht) * txn_entry_bytes();
}

void txn_table_free(struct txn_table *t)
{
    if (!t)
        return;
    while (t->lru.head)
        txn_drop(t, dlist_entry(t->lru.head, struct txn, lru));
    ctab_free(t->ht);
    free(t);
}

/* Appends v to buf at *o (cut at cap), then a separator unless it is the key's last part
 * (its length ends it). */
static void put(char *buf, size_t cap, size_t *o, struct sv v, bool last)
{
    size_t n = v.p ? v.n : 0;
    if (*o + n + 1 > cap)
        n = cap > *o + 1 ? cap - *o - 1 : 0;
    if (n) /* memcpy from NULL is undefined even for 0 bytes (a Via without branch) */
        memcpy(buf + *o, v.p, n);
    *o += n;
    if (*o < cap && !last)
        buf[(*o)++] = '\x1f';
}

/* Builds the transaction key into buf; false when the message has no top Via or CSeq. */
static bool make_key(const struct sip_msg *m, char *buf, size_t cap, size_t *len)
{
    const struct sip_header *vh = sip_hdr(m, SIP_H_VIA);
    const struct sip_header *ch = sip_hdr(m, SIP_H_CSEQ);
    uint32_t num;
    struct sv method, item, rest;
    struct sip_via via;
    if (!vh || !ch || !sip_cseq_parse(ch->value, &num, &method))
        return false;
    rest = vh->value;
    if (!sip_list_next(&rest, &item) || !sip_via_parse(item, &via))
        return false;
    if (sv_eq_cstr(method, "ACK"))
        method = sv_cstr("INVITE");
    bool found;
    struct sv branch = sip_param(via.params, "branch", &found);
    size_t o = 0;
    /* (each part as short as it can be, one letter for the kind and the sent-by
     * port in two bytes, since an INVITE of a flood keeps its key) */
    if (branch.n > 7 && memcmp(branch.p, "z9hG4bK", 7) == 0) {
        uint16_t pn = via.port ? via.port : 5060;
        char port[2] = {(char)(pn >> 8), (char)(pn & 0xff)}; /* fixed size: no separator */
        put(buf, cap, &o, sv_cstr("3"), true);
        put(buf, cap, &o, branch, false);
        put(buf, cap, &o, via.host, false);
        put(buf, cap, &o, sv_make(port, sizeof port), true);
        put(buf, cap, &o, method, true);
    } else {
        const struct sip_header *cid = sip_hdr(m, SIP_H_CALL_ID);
        const struct sip_header *from = sip_hdr(m, SIP_H_FROM);
        struct sip_nameaddr na;
        struct sv tag = SV_NULL;
        if (from && sip_nameaddr_parse(from->value, &na))
            tag = sip_param(na.params, "tag", &found);
        char nb[12];
        int nl = snprintf(nb, sizeof nb, "%u", num);
        put(buf, cap, &o, sv_cstr("2"), true);
        put(buf, cap, &o, cid ? cid->value : SV_NULL, false);
        put(buf, cap, &o, sv_make(nb, (size_t)nl), false);
        put(buf, cap, &o, method, false);
        put(buf, cap, &o, tag, false);
        put(buf, cap, &o, item, true);
    }
    *len = o;
    return true;
}

bool txn_observe(struct txn_table *t, const struct sip_event *ev, ptime_t now, ptime_t linger,
                 uint64_t *created, uint64_t *evicted, ptime_t *orig_time, uint64_t *orig_frame)
{
    const struct sip_msg *m = ev->msg;
    char buf[512];
    size_t len;
    struct txn *x;

    while (t->lru.head && now - (x = dlist_entry(t->lru.head, struct txn, lru))->last > linger)
        txn_drop(t, x);
    if (!make_key(m, buf, sizeof buf, &len))
        return false;
    struct txn_key k = {buf, len};
    uint64_t h = hash_bytes(buf, len, t->seed);
    x = ctab_find(t->ht, h, &k);
    if (!x) {
        if (!(x = calloc(1, offsetof(struct txn, key) + len)))
            return false;
        memcpy(x->key, buf, len);
        x->keylen = (uint16_t)len;
        while (!ctab_insert(t->ht, h, x)) {
            if (!t->lru.head) {
                free(x);
                return false;
            }
            txn_drop(t, dlist_entry(t->lru.head, struct txn, lru));
            (*evicted)++;
        }
        dlist_push_tail(&t->lru, &x->lru);
        (*created)++;
    } else {
        dlist_touch(&t->lru, &x->lru);
    }
    x->last = now;

    /* the raw bytes of the message: start line to the end of its body */
    const char *start = m->method.p ? m->method.p : m->version.p;
    const char *end = m->body.p ? m->body.p + m->body.n : NULL;
    uint64_t fp = start && end && end > start ? hash_bytes(start, (size_t)(end - start), t->seed)
                                              : 0;
    struct {
        uint8_t src[16], dst[16];
        uint16_t sport, dport;
    } path;
    memset(&path, 0, sizeof path);
    memcpy(path.src, ev->l4->src.b, 16);
    memcpy(path.dst, ev->l4->dst.b, 16);
    path.sport = ev->l4->sport;
    path.dport = ev->l4->dport;
    fp ^= hash_bytes(&path, sizeof path, t->seed ^ 0x9e3779b97f4a7c15ULL);
    for (unsigned i = 0; i < x->nseen; i++)
        if (slot(x, i)->fp == fp) {
            *orig_time = slot(x, i)->time;
            *orig_frame = slot(x, i)->frame;
            return true;
        }
    if (x->next && !x->more && !(x->more = malloc((TXN_SEEN - 1) * sizeof *x->more)))
        return false; /* no memory: taken for new, as an unknown transaction's message is */
    /* a ring: the last TXN_SEEN distinct messages */
    *slot(x, x->next) = (struct txn_seen){fp, now, ev->l4->pkt->frame};
    x->next = (uint8_t)((x->next + 1) % TXN_SEEN);
    if (x->nseen < TXN_SEEN)
        x->nseen++;
    return false;
}
