/* The one hash table (docs/style.md rule 10, after Redis's dict): open addressing with linear
 * probing and backward-shift deletion (no tombstones), holding (hash, item) pairs. Items
 * are the caller's structs; the table never owns them. Keys are compared by a callback
 * given at creation, so Call-IDs, branches, 5-tuples and fragment keys all use it.
 * Every table has a maximum item count (rule 6): insert fails instead of growing past it. */
#ifndef SIPSCOPE_HASH_H
#define SIPSCOPE_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Seeded 64-bit hash of bytes. A per-process random seed keeps a flood of chosen keys
 * from degrading the table into a list. Inline: most keys have a size known at compile
 * time (5-tuples, stream keys), and the loop then unrolls (a call cost 110
 * instructions per RTP packet). */
static inline uint64_t hash_mix64(uint64_t x)
{
    /* murmur3 fmix64: full avalanche of the accumulated state */
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

/* One multiply-xorshift per 8-byte word, the full murmur finaliser once at the end: keys
 * here are short (5-tuples, Call-IDs), so the per-word cost is what counts. Words go to
 * two lanes in turn, two dependency chains the processor runs side by side (a stream key
 * of six words waited on six multiplies in a row). Both lanes start from the seed, so a
 * flood of chosen keys does not know where they land. */
static inline uint64_t hash_bytes(const void *p, size_t n, uint64_t seed)
{
    const unsigned char *b = p;
    uint64_t h = seed ^ (n * 0x9e3779b97f4a7c15ULL);
    uint64_t g = (seed + 0x632be59bd9b4e019ULL) * 0x94d049bb133111ebULL;

    while (n >= 16) {
        uint64_t v, w;
        memcpy(&v, b, 8);
        memcpy(&w, b + 8, 8);
        h = (h ^ v) * 0xbf58476d1ce4e5b9ULL;
        g = (g ^ w) * 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 31;
        g ^= g >> 31;
        b += 16;
        n -= 16;
    }
    if (n >= 8) {
        uint64_t v;
        memcpy(&v, b, 8);
        h = (h ^ v) * 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 31;
        b += 8;
        n -= 8;
    }
    if (n) {
        uint64_t tail = 0;
        memcpy(&tail, b, n);
        g = (g ^ tail ^ ((uint64_t)n << 56)) * 0x94d049bb133111ebULL;
        g ^= g >> 29;
    }
    return hash_mix64(h ^ hash_mix64(g));
}

typedef bool (*htab_eq_fn)(const void *item, const void *key);

struct htab;

/* max_items: the limit; the table starts small and doubles up to it. NULL on no memory. */
struct htab *htab_new(size_t max_items, htab_eq_fn eq);
void htab_free(struct htab *t);

void *htab_find(const struct htab *t, uint64_t hash, const void *key);
/* false when the table holds max_items already (or no memory): the caller evicts and
 * counts. The caller ensures the key is not present yet. */
bool htab_insert(struct htab *t, uint64_t hash, void *item);
/* Removes and returns the item with that key, or NULL. */
void *htab_remove(struct htab *t, uint64_t hash, const void *key);
size_t htab_count(const struct htab *t);
size_t htab_max(const struct htab *t);
/* The table's own memory (its slots; not the items). */
size_t htab_bytes(const struct htab *t);

/* Iteration in slot order (not insertion order; never let it decide output order).
 * Do not insert or remove while iterating. Start with *pos = 0. */
void *htab_next(const struct htab *t, size_t *pos);

/* The same table with slots of one pointer and a tag byte, not a (hash, item) pair (issue
 * 21: the calls, transactions and media endpoints of an INVITE flood paid 16 bytes a slot,
 * at most 3/4 full, in each of three tables): an item's hash comes from its key again
 * (hash_of) when the table grows or closes a gap, and a probe compares 7 bits of hash
 * before a key. For tables looked up once per SIP message or new flow, never per RTP
 * packet. */
typedef uint64_t (*ctab_hash_fn)(const void *item, const void *ctx);
struct ctab;
/* ctx is handed to hash_of (the seed's owner, say). */
struct ctab *ctab_new(size_t max_items, htab_eq_fn eq, ctab_hash_fn hash_of, const void *ctx);
void ctab_free(struct ctab *t);
void *ctab_find(const struct ctab *t, uint64_t hash, const void *key);
bool ctab_insert(struct ctab *t, uint64_t hash, void *item);
void *ctab_remove(struct ctab *t, uint64_t hash, const void *key);
size_t ctab_count(const struct ctab *t);
size_t ctab_max(const struct ctab *t);
size_t ctab_bytes(const struct ctab *t);
void *ctab_next(const struct ctab *t, size_t *pos);
/* Empties the table and hands over its slot array, the items at its front (*n of them; the
 * caller frees it): a table's items, in no order, without a second array as large. NULL
 * on no memory (the table is left as it was). */
void **ctab_take(struct ctab *t, size_t *n);

#endif
