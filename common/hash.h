/* The one hash table (STYLE.md rule 9, after Redis's dict): open addressing with linear
 * probing and backward-shift deletion (no tombstones), holding (hash, item) pairs. Items
 * are the caller's structs; the table never owns them. Keys are compared by a callback
 * given at creation, so Call-IDs, branches, 5-tuples and fragment keys all use it.
 * Every table has a maximum item count (rule 6): insert fails instead of growing past it. */
#ifndef SIPSCOPE_HASH_H
#define SIPSCOPE_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Seeded 64-bit hash of bytes. A per-process random seed keeps a flood of chosen keys
 * from degrading the table into a list. */
uint64_t hash_bytes(const void *p, size_t n, uint64_t seed);

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

/* Iteration in slot order (not insertion order; never let it decide output order).
 * Do not insert or remove while iterating. Start with *pos = 0. */
void *htab_next(const struct htab *t, size_t *pos);

#endif
