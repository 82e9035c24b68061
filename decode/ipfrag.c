/* IP fragment reassembly; see ipfrag.h.
 * Each datagram copies its fragments into one buffer at their offsets and keeps the
 * covered byte ranges as a sorted list of disjoint intervals, so completeness is "one
 * interval [0, end)". Datagrams sit in a FIFO by arrival: the head is the oldest, so the
 * packet-time timeout and eviction both only ever look at the head. */
#include "ipfrag.h"

#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/list.h"
#include "common/log.h"

#define IPFRAG_MAX_RANGES  64   /* disjoint holes-and-pieces we track per datagram */
#define IPFRAG_MAX_PIECES  512  /* fragments (duplicates included) per datagram */
#define IPFRAG_MAX_PAYLOAD 65535
#define IPFRAG_BUF_STEP    2048

struct range {
    uint32_t lo, hi; /* [lo, hi) */
};

struct ipfrag_datagram {
    struct ipfrag_key key;
    uint64_t hash;
    ptime_t first_ts;
    uint64_t first_frame;
    struct dlist_node fifo;              /* by arrival */
    uint8_t *buf;                        /* owned */
    uint32_t cap;
    uint32_t end;                        /* payload length, known once the last piece came */
    bool have_last;
    bool have_first;
    uint8_t next_header;
    uint16_t nranges;
    uint32_t pieces;
    struct range r[IPFRAG_MAX_RANGES];
};

struct ipfrag_table {
    struct htab *ht;
    struct dlist fifo;                   /* head: the oldest datagram */
    size_t max_bytes;
    size_t held_bytes;
    ptime_t timeout;
    uint64_t seed;
    uint64_t duplicates;
    uint64_t evicted;
};

static bool key_eq(const void *item, const void *key)
{
    const struct ipfrag_datagram *dg = item;
    return memcmp(&dg->key, key, sizeof dg->key) == 0;
}

struct ipfrag_table *ipfrag_new(size_t max_datagrams, size_t max_bytes, ptime_t timeout,
                                uint64_t seed)
{
    struct ipfrag_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->ht = htab_new(max_datagrams, key_eq);
    if (!t->ht) {
        free(t);
        return NULL;
    }
    t->max_bytes = max_bytes;
    t->timeout = timeout;
    t->seed = seed;
    return t;
}

static struct ipfrag_datagram *oldest(const struct ipfrag_table *t)
{
    return t->fifo.head ? dlist_entry(t->fifo.head, struct ipfrag_datagram, fifo) : NULL;
}

static void unlink_dg(struct ipfrag_table *t, struct ipfrag_datagram *dg)
{
    dlist_unlink(&t->fifo, &dg->fifo);
    htab_remove(t->ht, dg->hash, &dg->key);
}

void ipfrag_release(struct ipfrag_table *t, struct ipfrag_datagram *dg)
{
    if (!dg)
        return;
    t->held_bytes -= dg->cap;
    free(dg->buf);
    free(dg);
}

static void drop(struct ipfrag_table *t, struct ipfrag_datagram *dg)
{
    unlink_dg(t, dg);
    ipfrag_release(t, dg);
}

void ipfrag_free(struct ipfrag_table *t)
{
    if (!t)
        return;
    ipfrag_flush(t);
    htab_free(t->ht);
    free(t);
}

size_t ipfrag_expire(struct ipfrag_table *t, ptime_t now)
{
    size_t n = 0;
    while (oldest(t) && now - oldest(t)->first_ts > t->timeout) {
        drop(t, oldest(t));
        n++;
    }
    return n;
}

size_t ipfrag_flush(struct ipfrag_table *t)
{
    size_t n = 0;
    while (oldest(t)) {
        drop(t, oldest(t));
        n++;
    }
    return n;
}

void ipfrag_get_stats(const struct ipfrag_table *t, struct ipfrag_stats *out)
{
    out->duplicates = t->duplicates;
    out->evicted = t->evicted;
    out->held_bytes = t->held_bytes;
    out->datagrams = htab_count(t->ht);
}

/* Evicts the oldest datagrams other than `keep` until `need` more bytes fit. */
static bool make_room(struct ipfrag_table *t, size_t need, const struct ipfrag_datagram *keep)
{
    while (t->held_bytes + need > t->max_bytes) {
        struct dlist_node *n = t->fifo.head;
        if (n && n == &keep->fifo)
            n = n->next;
        if (!n)
            return false;
        struct ipfrag_datagram *old = dlist_entry(n, struct ipfrag_datagram, fifo);
        drop(t, old);
        t->evicted++;
    }
    return true;
}

static struct ipfrag_datagram *create(struct ipfrag_table *t, const struct ipfrag_key *key,
                                      uint64_t hash, ptime_t now, uint64_t frame)
{
    struct ipfrag_datagram *dg = calloc(1, sizeof *dg);
    if (!dg)
        return NULL;
    dg->key = *key;
    dg->hash = hash;
    dg->first_ts = now;
    dg->first_frame = frame;
    while (!htab_insert(t->ht, hash, dg)) {
        if (!oldest(t)) { /* no memory for the table itself */
            free(dg);
            return NULL;
        }
        drop(t, oldest(t)); /* full: the oldest makes way, counted */
        t->evicted++;
    }
    dlist_push_tail(&t->fifo, &dg->fifo);
    return dg;
}

static bool ensure_cap(struct ipfrag_table *t, struct ipfrag_datagram *dg, uint32_t end)
{
    if (end <= dg->cap)
        return true;
    uint32_t cap = (end + IPFRAG_BUF_STEP - 1) / IPFRAG_BUF_STEP * IPFRAG_BUF_STEP;
    if (cap > IPFRAG_MAX_PAYLOAD + 1)
        cap = IPFRAG_MAX_PAYLOAD + 1;
    if (!make_room(t, cap - dg->cap, dg))
        return false;
    uint8_t *nb = realloc(dg->buf, cap);
    if (!nb)
        return false;
    t->held_bytes += cap - dg->cap;
    dg->buf = nb;
    dg->cap = cap;
    return true;
}

/* Checks [lo, hi) against what is held. Returns -1 when an overlap disagrees, 1 when
 * every byte is already held (a duplicate), 0 otherwise. */
static int check_overlap(const struct ipfrag_datagram *dg, uint32_t lo, uint32_t hi,
                         const uint8_t *data)
{
    for (unsigned i = 0; i < dg->nranges; i++) {
        const struct range *r = &dg->r[i];
        uint32_t a = lo > r->lo ? lo : r->lo;
        uint32_t b = hi < r->hi ? hi : r->hi;
        if (a >= b)
            continue;
        if (memcmp(dg->buf + a, data + (a - lo), b - a) != 0)
            return -1;
        if (r->lo <= lo && hi <= r->hi)
            return 1;
    }
    return 0;
}

/* Adds [lo, hi) to the sorted disjoint ranges, merging touching ones. */
static bool add_range(struct ipfrag_datagram *dg, uint32_t lo, uint32_t hi)
{
    unsigned i = 0, n = dg->nranges;
    while (i < n && dg->r[i].hi < lo)
        i++;
    unsigned j = i;
    while (j < n && dg->r[j].lo <= hi) {
        if (dg->r[j].lo < lo)
            lo = dg->r[j].lo;
        if (dg->r[j].hi > hi)
            hi = dg->r[j].hi;
        j++;
    }
    /* ranges i..j-1 merge into one at i */
    unsigned newn = n - (j - i) + 1;
    if (newn > IPFRAG_MAX_RANGES)
        return false;
    memmove(&dg->r[i + 1], &dg->r[j], (n - j) * sizeof dg->r[0]);
    dg->r[i].lo = lo;
    dg->r[i].hi = hi;
    dg->nranges = (uint16_t)newn;
    return true;
}

static enum ipfrag_result reject(struct ipfrag_table *t, struct ipfrag_datagram *dg,
                                 enum decode_reason r, enum decode_reason *why)
{
    if (dg)
        drop(t, dg);
    *why = r;
    return IPFRAG_REJECTED;
}

enum ipfrag_result ipfrag_add(struct ipfrag_table *t, const struct ipfrag_key *key, ptime_t now,
                              uint64_t frame, uint32_t offset, const uint8_t *data, size_t len,
                              bool more, uint8_t next_header, struct ipfrag_done *out,
                              enum decode_reason *why)
{
    uint64_t hash = hash_bytes(key, sizeof *key, t->seed);
    struct ipfrag_datagram *dg = htab_find(t->ht, hash, key);
    uint64_t end = (uint64_t)offset + len;

    /* RFC 791 / RFC 8200 §4.5: every piece but the last carries a multiple of 8 bytes */
    if (len == 0 || (more && len % 8 != 0))
        return reject(t, dg, DR_IPFRAG_BAD_LENGTH, why);
    if (end > IPFRAG_MAX_PAYLOAD)
        return reject(t, dg, DR_IPFRAG_OVERSIZE, why);
    if (dg && (!more || dg->have_last)) {
        /* the end is fixed by the last piece; nothing may reach past it, nor disagree */
        uint32_t known = dg->have_last ? dg->end : (uint32_t)end;
        uint32_t top = dg->nranges ? dg->r[dg->nranges - 1].hi : 0;
        if ((!more && dg->have_last && dg->end != end) || end > known || top > known)
            return reject(t, dg, DR_IPFRAG_BAD_LENGTH, why);
    }
    if (!dg && !(dg = create(t, key, hash, now, frame)))
        return reject(t, NULL, DR_IPFRAG_LIMIT, why);
    if (++dg->pieces > IPFRAG_MAX_PIECES)
        return reject(t, dg, DR_IPFRAG_TOO_MANY, why);
    if (!ensure_cap(t, dg, (uint32_t)end)) {
        return reject(t, dg, DR_IPFRAG_LIMIT, why);
    }

    int ov = check_overlap(dg, offset, (uint32_t)end, data);
    if (ov < 0)
        return reject(t, dg, DR_IPFRAG_OVERLAP, why);
    if (ov > 0) {
        t->duplicates++;
    } else {
        memcpy(dg->buf + offset, data, len);
        if (!add_range(dg, offset, (uint32_t)end))
            return reject(t, dg, DR_IPFRAG_TOO_MANY, why);
    }
    if (!more) {
        dg->have_last = true;
        dg->end = (uint32_t)end;
    }
    if (offset == 0) {
        dg->have_first = true;
        dg->next_header = next_header;
    }
    if (!(dg->have_last && dg->nranges == 1 && dg->r[0].lo == 0 && dg->r[0].hi == dg->end))
        return IPFRAG_HELD;

    unlink_dg(t, dg);
    out->data = dg->buf;
    out->len = dg->end;
    out->next_header = dg->next_header;
    out->fragments = dg->pieces;
    out->first_frame = dg->first_frame;
    out->dg = dg;
    return IPFRAG_COMPLETE;
}
