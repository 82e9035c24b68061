/* Bounded byte cursor: every read of untrusted bytes goes through here (docs/style.md rule 4,
 * after tcpdump's GET_* macros). A read that would pass the end returns false and leaves
 * the cursor where it was; nothing here ever touches a byte at or beyond `end`. */
#ifndef SIPSCOPE_CURSOR_H
#define SIPSCOPE_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cursor {
    const uint8_t *p;   /* next byte to read; borrowed */
    const uint8_t *end; /* one past the last readable byte */
};

static inline struct cursor cursor_make(const uint8_t *p, size_t n)
{
    return (struct cursor){p, p + n};
}

static inline size_t cursor_left(const struct cursor *c) { return (size_t)(c->end - c->p); }
static inline bool cursor_has(const struct cursor *c, size_t n) { return cursor_left(c) >= n; }

static inline bool cursor_skip(struct cursor *c, size_t n)
{
    if (!cursor_has(c, n))
        return false;
    c->p += n;
    return true;
}

/* Hands out a view of the next n bytes and moves past them. */
static inline bool cursor_bytes(struct cursor *c, size_t n, const uint8_t **out)
{
    if (!cursor_has(c, n))
        return false;
    *out = c->p;
    c->p += n;
    return true;
}

static inline bool cursor_peek_u8(const struct cursor *c, size_t off, uint8_t *v)
{
    if (cursor_left(c) <= off)
        return false;
    *v = c->p[off];
    return true;
}

static inline bool cursor_peek_u16be(const struct cursor *c, size_t off, uint16_t *v)
{
    if (cursor_left(c) < off + 2 || off + 2 < off)
        return false;
    *v = (uint16_t)(c->p[off] << 8 | c->p[off + 1]);
    return true;
}

static inline bool cursor_u8(struct cursor *c, uint8_t *v)
{
    if (!cursor_has(c, 1))
        return false;
    *v = *c->p++;
    return true;
}

static inline bool cursor_u16be(struct cursor *c, uint16_t *v)
{
    if (!cursor_has(c, 2))
        return false;
    *v = (uint16_t)(c->p[0] << 8 | c->p[1]);
    c->p += 2;
    return true;
}

static inline bool cursor_u16le(struct cursor *c, uint16_t *v)
{
    if (!cursor_has(c, 2))
        return false;
    *v = (uint16_t)(c->p[1] << 8 | c->p[0]);
    c->p += 2;
    return true;
}

static inline bool cursor_u32be(struct cursor *c, uint32_t *v)
{
    if (!cursor_has(c, 4))
        return false;
    *v = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 | (uint32_t)c->p[2] << 8 | c->p[3];
    c->p += 4;
    return true;
}

static inline bool cursor_u32le(struct cursor *c, uint32_t *v)
{
    if (!cursor_has(c, 4))
        return false;
    *v = (uint32_t)c->p[3] << 24 | (uint32_t)c->p[2] << 16 | (uint32_t)c->p[1] << 8 | c->p[0];
    c->p += 4;
    return true;
}

/* Narrows the readable range to the next n bytes (e.g. an IP total length that is shorter
 * than the frame because of Ethernet padding). False when fewer than n remain. */
static inline bool cursor_limit(struct cursor *c, size_t n)
{
    if (!cursor_has(c, n))
        return false;
    c->end = c->p + n;
    return true;
}

#endif
