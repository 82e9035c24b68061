/* String view: (pointer, length) into a buffer someone else owns (STYLE.md rule 4).
 * Never assumed NUL-terminated. */
#ifndef SIPSCOPE_SV_H
#define SIPSCOPE_SV_H

#include <stdbool.h>
#include <stddef.h>
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

#endif
