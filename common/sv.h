/* String view: (pointer, length) into a buffer someone else owns (docs/style.md rule 5).
 * Never assumed NUL-terminated. */
#ifndef SIPSCOPE_SV_H
#define SIPSCOPE_SV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct sv {
    const char *p; /* borrowed */
    size_t n;
};

#define SV_NULL ((struct sv){NULL, 0})

static inline struct sv sv_make(const char *p, size_t n) { return (struct sv){p, n}; }
static inline struct sv sv_cstr(const char *s) { return (struct sv){s, s ? strlen(s) : 0}; }
static inline bool sv_is_null(struct sv s) { return s.p == NULL; }

static inline bool sv_eq(struct sv a, struct sv b)
{
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

static inline bool sv_eq_cstr(struct sv a, const char *s) { return sv_eq(a, sv_cstr(s)); }

/* An owned, NUL-terminated copy of v (for state that outlives the packet); NULL for a
 * null view or when memory runs out. The caller frees it. */
static inline char *sv_strdup(struct sv v)
{
    if (!v.p)
        return NULL;
    char *s = malloc(v.n + 1);
    if (s) {
        memcpy(s, v.p, v.n);
        s[v.n] = '\0';
    }
    return s;
}

#endif
