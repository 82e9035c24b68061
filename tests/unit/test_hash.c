/* common/hash: the table against a plain array as reference, under random operations,
 * forced collisions (backward-shift deletion is where open addressing goes wrong), and
 * the item limit. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"

struct item {
    uint64_t key;
    int live;
};

static bool eq(const void *item, const void *key)
{
    return ((const struct item *)item)->key == *(const uint64_t *)key;
}

static uint64_t h_of(uint64_t k, int collide)
{
    return collide ? (k % 7) : hash_bytes(&k, sizeof k, 42);
}

static void random_ops(int collide)
{
    enum { N = 3000 };
    static struct item items[N];
    struct htab *t = htab_new(N, eq);
    cr_assert_not_null(t);
    memset(items, 0, sizeof items);
    for (uint64_t i = 0; i < N; i++)
        items[i].key = i * 2654435761u + 1;
    srand(7);
    size_t live = 0;
    for (int op = 0; op < 60000; op++) {
        struct item *it = &items[rand() % N];
        uint64_t h = h_of(it->key, collide);
        if (it->live) {
            cr_assert_eq(htab_find(t, h, &it->key), it);
            if (rand() % 2) {
                cr_assert_eq(htab_remove(t, h, &it->key), it);
                it->live = 0;
                live--;
            }
        } else {
            cr_assert_null(htab_find(t, h, &it->key));
            cr_assert(htab_insert(t, h, it));
            it->live = 1;
            live++;
        }
        cr_assert_eq(htab_count(t), live);
    }
    for (int i = 0; i < N; i++) {
        uint64_t h = h_of(items[i].key, collide);
        void *f = htab_find(t, h, &items[i].key);
        cr_assert_eq(f, items[i].live ? &items[i] : NULL, "item %d", i);
    }
    size_t pos = 0, seen = 0;
    while (htab_next(t, &pos))
        seen++;
    cr_expect_eq(seen, live);
    htab_free(t);
}

Test(hash, random_operations_match_reference) { random_ops(0); }
Test(hash, random_operations_with_collisions) { random_ops(1); }

/* ctab: the same operations on the table of one pointer a slot, whose hashes come from the
 * items again when it grows and when backward shift closes a gap (issue 21) */
static uint64_t item_hash(const void *item, const void *ctx)
{
    return h_of(((const struct item *)item)->key, *(const int *)ctx);
}

static void random_ops_compact(int collide)
{
    enum { N = 3000 };
    static struct item items[N];
    struct ctab *t = ctab_new(N, eq, item_hash, &collide);
    cr_assert_not_null(t);
    memset(items, 0, sizeof items);
    for (uint64_t i = 0; i < N; i++)
        items[i].key = i * 2654435761u + 1;
    srand(11);
    size_t live = 0;
    for (int op = 0; op < 60000; op++) {
        struct item *it = &items[rand() % N];
        uint64_t h = h_of(it->key, collide);
        if (it->live) {
            cr_assert_eq(ctab_find(t, h, &it->key), it);
            if (rand() % 2) {
                cr_assert_eq(ctab_remove(t, h, &it->key), it);
                it->live = 0;
                live--;
            }
        } else {
            cr_assert_null(ctab_find(t, h, &it->key));
            cr_assert(ctab_insert(t, h, it));
            it->live = 1;
            live++;
        }
        cr_assert_eq(ctab_count(t), live);
    }
    for (int i = 0; i < N; i++) {
        uint64_t h = h_of(items[i].key, collide);
        void *f = ctab_find(t, h, &items[i].key);
        cr_assert_eq(f, items[i].live ? &items[i] : NULL, "item %d", i);
    }
    size_t pos = 0, seen = 0;
    while (ctab_next(t, &pos))
        seen++;
    cr_expect_eq(seen, live);
    /* a pointer and a tag byte a slot: 9 bytes, not htab's 16 (4096 slots for 3000 items) */
    cr_expect_leq(ctab_bytes(t), 64 + 4096 * (sizeof(void *) + 1));
    ctab_free(t);
}

Test(hash, compact_random_operations_match_reference) { random_ops_compact(0); }
Test(hash, compact_random_operations_with_collisions) { random_ops_compact(1); }

Test(hash, compact_refuses_past_its_limit)
{
    struct item it[5] = {{1, 0}, {2, 0}, {3, 0}, {4, 0}, {5, 0}};
    int collide = 0;
    struct ctab *t = ctab_new(4, eq, item_hash, &collide);
    for (int i = 0; i < 4; i++)
        cr_assert(ctab_insert(t, h_of(it[i].key, 0), &it[i]));
    cr_expect_not(ctab_insert(t, h_of(it[4].key, 0), &it[4]));
    cr_expect_eq(ctab_count(t), 4);
    ctab_free(t);
}

Test(hash, compact_take_hands_every_item_and_empties)
{
    enum { N = 100 };
    static struct item it[N];
    int collide = 1;
    struct ctab *t = ctab_new(N, eq, item_hash, &collide);
    for (int i = 0; i < N; i++) {
        it[i].key = (uint64_t)i + 1;
        cr_assert(ctab_insert(t, h_of(it[i].key, 1), &it[i]));
    }
    size_t n = 0;
    void **v = ctab_take(t, &n);
    cr_assert_not_null(v);
    cr_assert_eq(n, N);
    int seen[N] = {0};
    for (size_t i = 0; i < n; i++)
        seen[(struct item *)v[i] - it]++;
    for (int i = 0; i < N; i++)
        cr_expect_eq(seen[i], 1, "item %d handed %d times", i, seen[i]);
    cr_expect_eq(ctab_count(t), 0);
    cr_expect_null(ctab_find(t, h_of(it[0].key, 1), &it[0].key));
    cr_expect_null(ctab_remove(t, h_of(it[0].key, 1), &it[0].key));
    free(v);
    ctab_free(t);
}

Test(hash, refuses_past_its_limit)
{
    struct item it[5] = {{1, 0}, {2, 0}, {3, 0}, {4, 0}, {5, 0}};
    struct htab *t = htab_new(4, eq);
    for (int i = 0; i < 4; i++)
        cr_assert(htab_insert(t, h_of(it[i].key, 0), &it[i]));
    cr_expect_not(htab_insert(t, h_of(it[4].key, 0), &it[4]));
    cr_expect_eq(htab_count(t), 4);
    htab_free(t);
}

Test(hash, seed_changes_hash_and_is_stable)
{
    const char s[] = "a8b7c6d5@example.com";
    cr_expect_eq(hash_bytes(s, sizeof s - 1, 1), hash_bytes(s, sizeof s - 1, 1));
    cr_expect_neq(hash_bytes(s, sizeof s - 1, 1), hash_bytes(s, sizeof s - 1, 2));
    cr_expect_neq(hash_bytes(s, 7, 1), hash_bytes(s, 8, 1));
}
