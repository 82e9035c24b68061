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
