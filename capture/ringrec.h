/* The record format of capture/'s byte rings (live.c's, readahead.c's): a frame's header
 * and its bytes, padded to 8. A record never wraps: one that would cross the ring's end
 * claims the rest of the ring too, marked as a skip. Internal to capture/. */
#ifndef SIPSCOPE_RINGREC_H
#define SIPSCOPE_RINGREC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "capture.h"

struct ring_rec {
    uint32_t size; /* bytes the record takes; 0: skip to the ring's end */
    uint32_t caplen, wirelen;
    int32_t linktype;
    uint32_t input;
    uint32_t pad;
    ptime_t ts;
    uint64_t hint; /* readahead.c: what its hint function said of the frame; else 0 */
};

/* A ring's size: a power of two of at least `want` bytes (at least 64 KiB), so that a
 * position's offset is a mask, not a division per record on both sides. */
static inline size_t ring_rec_cap(size_t want)
{
    size_t cap = (size_t)64 << 10;
    while (cap < want)
        cap <<= 1;
    return cap;
}

/* Where position pos falls in a ring of cap bytes (a power of two). */
static inline size_t ring_rec_off(size_t cap, uint64_t pos)
{
    return (size_t)(pos & (cap - 1));
}

/* Bytes a frame of caplen bytes takes in the ring. */
static inline size_t ring_rec_need(uint32_t caplen)
{
    return (sizeof(struct ring_rec) + caplen + 7) & ~(size_t)7;
}

/* What writing a record of `need` bytes at head claims: need, or the rest of the ring too
 * when it would cross the end. */
static inline size_t ring_rec_claim(size_t cap, uint64_t head, size_t need)
{
    size_t left = cap - ring_rec_off(cap, head);
    return need <= left ? need : left + need;
}

/* Writes p (data included, and the hint) at head, after a skip marker when the record would
 * cross the end; the caller has checked the room (ring_rec_claim). Returns the new head. */
static inline uint64_t ring_rec_put(unsigned char *ring, size_t cap, uint64_t head,
                                    const struct packet *p, uint64_t hint)
{
    size_t need = ring_rec_need(p->caplen), off = ring_rec_off(cap, head), left = cap - off;
    if (need > left) {
        if (left >= sizeof(struct ring_rec))
            ((struct ring_rec *)(ring + off))->size = 0;
        head += left;
        off = 0;
    }
    struct ring_rec *r = (struct ring_rec *)(ring + off);
    *r = (struct ring_rec){.size = (uint32_t)need, .caplen = p->caplen, .wirelen = p->wirelen,
                           .linktype = p->linktype, .input = p->input, .ts = p->ts,
                           .hint = hint};
    memcpy(r + 1, p->data, p->caplen);
    return head + need;
}

/* The record at tail, or NULL when tail is at a skip (*tail then moves past it). */
static inline const struct ring_rec *ring_rec_at(const unsigned char *ring, size_t cap,
                                                 uint64_t *tail)
{
    size_t off = ring_rec_off(cap, *tail), left = cap - off;
    const struct ring_rec *r = (const struct ring_rec *)(ring + off);
    if (left < sizeof *r || r->size == 0) {
        *tail += left;
        return NULL;
    }
    return r;
}

/* The packet a record holds, its bytes at data. */
static inline void ring_rec_packet(const struct ring_rec *r, const uint8_t *data,
                                   struct packet *out)
{
    out->ts = r->ts;
    out->caplen = r->caplen;
    out->wirelen = r->wirelen;
    out->linktype = r->linktype;
    out->input = r->input;
    out->data = data;
    out->hint = r->hint;
}

#endif
