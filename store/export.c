/* See export.h. The frames are copied out of the database (a row's bytes live only until
 * the next step), sorted by time, and written in the classic pcap format: a 24-byte file
 * header with the nanosecond magic, then a 16-byte header per record. */
#include "export.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/vec.h"
#include "store_int.h"

struct frame {
    int64_t ns;     /* since the epoch */
    uint64_t order; /* ties: SIP frames by number, then media in stored order */
    int linktype;
    uint32_t caplen, wirelen;
    unsigned char *data; /* owned */
};

struct frames {
    struct frame *v;
    size_t n, cap;
    bool oom;
    struct store_export_result r;
};

static bool add(struct frames *x, int64_t ns, uint64_t order, int linktype, const void *data,
                uint32_t caplen, uint32_t wirelen)
{
    unsigned char *copy = malloc(caplen ? caplen : 1);
    if (!copy || !vec_grow((void **)&x->v, &x->cap, x->n, sizeof *x->v, 64)) {
        free(copy);
        x->oom = true;
        return false;
    }
    memcpy(copy, data, caplen);
    x->v[x->n++] = (struct frame){ns, order, linktype, caplen, wirelen, copy};
    return true;
}

static bool on_sip(void *user, uint64_t frame, double time, int linktype, const void *data,
                   size_t len)
{
    struct frames *x = user;
    x->r.sip++;
    /* stored as seconds rounded to the microsecond: back to whole microseconds */
    int64_t ns = llround(time * 1e6) * 1000;
    return add(x, ns, frame, linktype, data, (uint32_t)len, (uint32_t)len);
}

static bool on_media(void *user, int linktype, const void *records, size_t len)
{
    struct frames *x = user;
    const unsigned char *p = records;
    while (len >= 16) {
        uint32_t h[4];
        memcpy(h, p, sizeof h);
        if (h[2] > len - 16 || h[1] >= 1000000000u) {
            x->r.damaged++; /* the rest of this chunk is not read */
            return true;
        }
        int64_t ns = (int64_t)h[0] * 1000000000 + h[1];
        if (!add(x, ns, UINT64_MAX / 2 + x->r.media++, linktype, p + 16, h[2], h[3]))
            return false;
        p += 16 + h[2];
        len -= 16 + (size_t)h[2];
    }
    return true;
}

static int by_time(const void *a, const void *b)
{
    const struct frame *p = a, *q = b;
    if (p->ns != q->ns)
        return p->ns < q->ns ? -1 : 1;
    return p->order < q->order ? -1 : p->order > q->order;
}

static bool write_pcap(FILE *out, struct frames *x)
{
    int lt = x->n ? x->v[0].linktype : 1; /* no frame: an empty Ethernet capture */
    /* magic (nanoseconds), version 2.4, zone, sigfigs, snaplen, link type */
    uint32_t fh[6] = {0xa1b23c4du, 0x00040002u, 0, 0, 262144, (uint32_t)lt};
    bool ok = fwrite(fh, sizeof fh, 1, out) == 1;
    uint64_t sip = 0, media = 0;
    for (size_t i = 0; ok && i < x->n; i++) {
        const struct frame *f = &x->v[i];
        if (f->linktype != lt) {
            x->r.skipped++;
            continue;
        }
        uint32_t h[4] = {(uint32_t)(f->ns / 1000000000), (uint32_t)(f->ns % 1000000000),
                         f->caplen, f->wirelen};
        ok = fwrite(h, sizeof h, 1, out) == 1 && (!f->caplen || fwrite(f->data, f->caplen, 1, out) == 1);
        if (f->order < UINT64_MAX / 2)
            sip++;
        else
            media++;
    }
    x->r.sip = sip;
    x->r.media = media;
    return ok && fflush(out) == 0;
}

enum store_qstatus store_export_pcap(struct store *s, uint64_t call_seq, FILE *out,
                                     struct store_export_result *r)
{
    struct frames x = {0};
    bool found;
    enum store_qstatus st = STORE_Q_OK;
    if (!store_call_frames(s, call_seq, on_sip, &x, &found) ||
        (found && !store_call_media(s, call_seq, on_media, &x)))
        st = STORE_Q_ERROR;
    else if (!found)
        st = STORE_Q_NOT_FOUND;
    if (x.oom) {
        store_set_error(s, "out of memory");
        st = STORE_Q_ERROR;
    }
    if (st == STORE_Q_OK) {
        if (x.n)
            qsort(x.v, x.n, sizeof *x.v, by_time);
        if (!write_pcap(out, &x)) {
            store_set_error(s, "writing the pcap failed");
            st = STORE_Q_ERROR;
        }
    }
    for (size_t i = 0; i < x.n; i++)
        free(x.v[i].data);
    free(x.v);
    if (r)
        *r = x.r;
    return st;
}
