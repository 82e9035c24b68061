/* The PostgreSQL backend's COPY data (pg_int.h). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"

/* ---- binary COPY data (PostgreSQL's "COPY ... FROM STDIN BINARY": a header, then per row
 * a 16-bit field count and per field a 32-bit length, -1 for NULL, and the bytes; all in
 * network order) ---- */

void pgc_put(struct buf *b, const void *p, size_t n)
{
    if (b->oom) return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->len + n)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

void pgc_u16(struct buf *b, uint16_t v)
{
    v = htons(v);
    pgc_put(b, &v, 2);
}

void pgc_u32(struct buf *b, uint32_t v)
{
    v = htonl(v);
    pgc_put(b, &v, 4);
}

static void pgc_u64(struct buf *b, uint64_t v)
{
    pgc_u32(b, (uint32_t)(v >> 32));
    pgc_u32(b, (uint32_t)v);
}

void pgc_null(struct buf *b)
{
    pgc_u32(b, 0xffffffffu);
}

void pgc_i8(struct buf *b, int64_t v)
{
    pgc_u32(b, 8);
    pgc_u64(b, (uint64_t)v);
}

/* an id: 0 is none */
void pgc_id(struct buf *b, uint64_t v)
{
    if (v)
        pgc_i8(b, (int64_t)v);
    else
        pgc_null(b);
}

void pgc_i4(struct buf *b, int32_t v)
{
    pgc_u32(b, 4);
    pgc_u32(b, (uint32_t)v);
}

void pgc_f8(struct buf *b, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    pgc_u32(b, 8);
    pgc_u64(b, u);
}

void pgc_f8_if(struct buf *b, double v, bool have)
{
    if (have)
        pgc_f8(b, v);
    else
        pgc_null(b);
}

void pgc_bool(struct buf *b, bool v)
{
    uint8_t c = v;
    pgc_u32(b, 1);
    pgc_put(b, &c, 1);
}

void pgc_bytea(struct buf *b, const void *p, size_t n)
{
    if (!p) {
        pgc_null(b);
        return;
    }
    pgc_u32(b, (uint32_t)n);
    pgc_put(b, p, n);
}

/* Length of the valid UTF-8 sequence at p (RFC 3629 §3, §4: no overlong form, no
 * surrogate, nothing past U+10FFFF), 0 when it is not one or is a NUL. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    if (c < 0x80) return c ? 1 : 0;
    size_t len = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (!len || len > n) return 0;
    uint32_t cp = c & (0x7fu >> len);
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (p[i] & 0x3fu);
    }
    if (cp < least[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return len;
}

/* Text as PostgreSQL takes it: valid UTF-8 without NUL. Bytes that are not (a Call-ID is
 * whatever the packet held) become '?', as SQLite's text would not care but the server
 * refuses the whole batch. */
void pgc_text_n(struct buf *b, const char *t, size_t n)
{
    if (!t) {
        pgc_null(b);
        return;
    }
    pgc_u32(b, (uint32_t)n);
    const unsigned char *p = (const unsigned char *)t;
    size_t i = 0, run = 0;
    while (i < n) {
        size_t k = utf8_seq(p + i, n - i);
        if (k) {
            i += k;
            continue;
        }
        pgc_put(b, p + run, i - run);
        pgc_put(b, "?", 1);
        run = ++i;
    }
    pgc_put(b, p + run, n - run);
}

void pgc_text(struct buf *b, const char *t)
{
    pgc_text_n(b, t, t ? strlen(t) : 0);
}
