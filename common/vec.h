/* Growable arrays: room for one more element, doubling (curl's dynbuf idea, for arrays).
 * The caller keeps the pointer, the count and the capacity; limits stay the caller's. */
#ifndef SIPSCOPE_VEC_H
#define SIPSCOPE_VEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

/* Makes *v (of *cap elements of `size` bytes, n in use) hold at least n + 1; false when
 * memory runs out (*v and *cap unchanged). first: the capacity of the first allocation. */
static inline bool vec_grow(void **v, size_t *cap, size_t n, size_t size, size_t first)
{
    if (n < *cap)
        return true;
    size_t nc = *cap ? *cap * 2 : first;
    void *nv = realloc(*v, nc * size);
    if (!nv)
        return false;
    *v = nv;
    *cap = nc;
    return true;
}

#endif
