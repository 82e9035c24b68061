/* Open-addressing hash table and seeded byte hash; see hash.h. */
#include "hash.h"

#include <stdlib.h>
#include <string.h>

struct slot {
    uint64_t hash;
    void *item; /* NULL: empty */
};

struct htab {
    struct slot *slots;
    size_t mask;  /* capacity - 1; capacity is a power of two */
    size_t count;
    size_t max;
    htab_eq_fn eq;
};

#define HTAB_MIN_CAP 16

struct htab *htab_new(size_t max_items, htab_eq_fn eq)
{
    struct htab *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->slots = calloc(HTAB_MIN_CAP, sizeof *t->slots);
    if (!t->slots) {
        free(t);
        return NULL;
    }
    t->mask = HTAB_MIN_CAP - 1;
    t->max = max_items;
    t->eq = eq;
    return t;
}

void htab_free(struct htab *t)
{
    if (!t)
        return;
    free(t->slots);
    free(t);
}

size_t htab_count(const struct htab *t) { return t->count; }
size_t htab_max(const struct htab *t) { return t->max; }

void *htab_find(const struct htab *t, uint64_t hash, const void *key)
{
    for (size_t i = hash & t->mask;; i = (i + 1) & t->mask) {
        const struct slot *s = &t->slots[i];
        if (!s->item)
            return NULL;
        if (s->hash == hash && t->eq(s->item, key))
            return s->item;
    }
}

static void place(struct slot *slots, size_t mask, uint64_t hash, void *item)
{
    size_t i = hash & mask;
    while (slots[i].item)
        i = (i + 1) & mask;
    slots[i].hash = hash;
    slots[i].item = item;
}

static bool grow(struct htab *t)
{
    size_t cap = (t->mask + 1) * 2;
    struct slot *ns = calloc(cap, sizeof *ns);
    if (!ns)
        return false;
    for (size_t i = 0; i <= t->mask; i++)
        if (t->slots[i].item)
            place(ns, cap - 1, t->slots[i].hash, t->slots[i].item);
    free(t->slots);
    t->slots = ns;
    t->mask = cap - 1;
    return true;
}

bool htab_insert(struct htab *t, uint64_t hash, void *item)
{
    if (t->count >= t->max)
        return false;
    /* keep the load factor at or below 3/4 so probe runs stay short */
    if ((t->count + 1) * 4 > (t->mask + 1) * 3 && !grow(t))
        return false;
    place(t->slots, t->mask, hash, item);
    t->count++;
    return true;
}

void *htab_remove(struct htab *t, uint64_t hash, const void *key)
{
    size_t i = hash & t->mask;
    for (;; i = (i + 1) & t->mask) {
        if (!t->slots[i].item)
            return NULL;
        if (t->slots[i].hash == hash && t->eq(t->slots[i].item, key))
            break;
    }
    void *item = t->slots[i].item;
    /* Backward-shift deletion: pull later members of the probe run into the hole when
     * their home slot lies cyclically at or before the hole, so lookups never need
     * tombstones. */
    size_t hole = i;
    for (size_t j = (i + 1) & t->mask; t->slots[j].item; j = (j + 1) & t->mask) {
        size_t home = t->slots[j].hash & t->mask;
        size_t dist_j = (j - home) & t->mask;     /* how far j sits from its home */
        size_t dist_hole = (j - hole) & t->mask;  /* how far back the hole is */
        if (dist_hole <= dist_j) {
            t->slots[hole] = t->slots[j];
            hole = j;
        }
    }
    t->slots[hole].item = NULL;
    t->slots[hole].hash = 0;
    t->count--;
    return item;
}

void *htab_next(const struct htab *t, size_t *pos)
{
    while (*pos <= t->mask) {
        void *item = t->slots[(*pos)++].item;
        if (item)
            return item;
    }
    return NULL;
}

size_t htab_bytes(const struct htab *t)
{
    return t ? sizeof *t + (t->slots ? (t->mask + 1) * sizeof *t->slots : 0) : 0;
}

/* ---- ctab: one pointer a slot (see hash.h) ---- */

/* Each slot has a tag byte besides, in an array of their own after the pointers: 0x80 and
 * the hash's top 7 bits, 0 empty. A probe reads tags, which lie together, and follows a
 * pointer only when its tag matches (1 in 128 by chance): a flood's new Call-IDs miss the
 * table, and a miss that followed every pointer of its probe run cost a cache miss each
 * (12% more time correlating the flood). */
struct ctab {
    void **slots; /* NULL: empty; one block with the tags */
    uint8_t *tags;
    size_t mask;
    size_t count;
    size_t max;
    htab_eq_fn eq;
    ctab_hash_fn hash_of;
    const void *ctx;
};

static uint8_t ctag(uint64_t hash) { return (uint8_t)(0x80u | (hash >> 57)); }

/* Slots and tags for cap (a power of two), zeroed. */
static void **cslots(size_t cap)
{
    return calloc(cap, sizeof(void *) + 1);
}

struct ctab *ctab_new(size_t max_items, htab_eq_fn eq, ctab_hash_fn hash_of, const void *ctx)
{
    struct ctab *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->slots = cslots(HTAB_MIN_CAP);
    if (!t->slots) {
        free(t);
        return NULL;
    }
    t->tags = (uint8_t *)(t->slots + HTAB_MIN_CAP);
    t->mask = HTAB_MIN_CAP - 1;
    t->max = max_items;
    t->eq = eq;
    t->hash_of = hash_of;
    t->ctx = ctx;
    return t;
}

void ctab_free(struct ctab *t)
{
    if (!t)
        return;
    free(t->slots);
    free(t);
}

size_t ctab_count(const struct ctab *t) { return t->count; }
size_t ctab_max(const struct ctab *t) { return t->max; }

void *ctab_find(const struct ctab *t, uint64_t hash, const void *key)
{
    uint8_t tag = ctag(hash);
    for (size_t i = hash & t->mask;; i = (i + 1) & t->mask) {
        if (!t->tags[i])
            return NULL;
        if (t->tags[i] == tag && t->eq(t->slots[i], key))
            return t->slots[i];
    }
}

static void cplace(void **slots, uint8_t *tags, size_t mask, uint64_t hash, void *item)
{
    size_t i = hash & mask;
    while (tags[i])
        i = (i + 1) & mask;
    slots[i] = item;
    tags[i] = ctag(hash);
}

static bool cgrow(struct ctab *t)
{
    size_t cap = (t->mask + 1) * 2;
    void **ns = cslots(cap);
    if (!ns)
        return false;
    uint8_t *nt = (uint8_t *)(ns + cap);
    for (size_t i = 0; i <= t->mask; i++)
        if (t->tags[i])
            cplace(ns, nt, cap - 1, t->hash_of(t->slots[i], t->ctx), t->slots[i]);
    free(t->slots);
    t->slots = ns;
    t->tags = nt;
    t->mask = cap - 1;
    return true;
}

bool ctab_insert(struct ctab *t, uint64_t hash, void *item)
{
    if (t->count >= t->max)
        return false;
    /* the load factor at or below 3/4, as htab's */
    if ((t->count + 1) * 4 > (t->mask + 1) * 3 && !cgrow(t))
        return false;
    cplace(t->slots, t->tags, t->mask, hash, item);
    t->count++;
    return true;
}

void *ctab_remove(struct ctab *t, uint64_t hash, const void *key)
{
    uint8_t tag = ctag(hash);
    size_t i = hash & t->mask;
    for (;; i = (i + 1) & t->mask) {
        if (!t->tags[i])
            return NULL;
        if (t->tags[i] == tag && t->eq(t->slots[i], key))
            break;
    }
    void *item = t->slots[i];
    /* backward-shift deletion, as htab_remove; the home of a slot comes from its item */
    size_t hole = i;
    for (size_t j = (i + 1) & t->mask; t->tags[j]; j = (j + 1) & t->mask) {
        size_t home = t->hash_of(t->slots[j], t->ctx) & t->mask;
        if (((j - hole) & t->mask) <= ((j - home) & t->mask)) {
            t->slots[hole] = t->slots[j];
            t->tags[hole] = t->tags[j];
            hole = j;
        }
    }
    t->slots[hole] = NULL;
    t->tags[hole] = 0;
    t->count--;
    return item;
}

void *ctab_next(const struct ctab *t, size_t *pos)
{
    while (*pos <= t->mask) {
        void *item = t->slots[(*pos)++];
        if (item)
            return item;
    }
    return NULL;
}

size_t ctab_bytes(const struct ctab *t)
{
    return t ? sizeof *t + (t->slots ? (t->mask + 1) * (sizeof *t->slots + 1) : 0) : 0;
}

void **ctab_take(struct ctab *t, size_t *n)
{
    void **fresh = cslots(HTAB_MIN_CAP);
    if (!fresh)
        return NULL;
    void **v = t->slots;
    size_t k = 0;
    for (size_t i = 0; i <= t->mask; i++)
        if (v[i])
            v[k++] = v[i];
    *n = k;
    t->slots = fresh;
    t->tags = (uint8_t *)(fresh + HTAB_MIN_CAP);
    t->mask = HTAB_MIN_CAP - 1;
    t->count = 0;
    return v;
}
