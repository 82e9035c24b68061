/* See spool.h. One buffer per call being spooled, found by its call number in a hash
 * table; a buffer is handed over (copied into the writer's ring) and reused. */
#include "spool.h"

#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/log.h"
#include "render/ids.h"

struct chunk {
    uint64_t call_seq;
    int linktype;
    uint32_t packets;
    ptime_t first, last;
    size_t len, cap;
    unsigned char *buf; /* owned: pcap records */
};

struct media_spool {
    struct store_writer *w; /* borrowed */
    struct htab *calls;     /* call_seq -> struct chunk */
    size_t chunk_bytes, max_bytes, held;
    uint64_t seed;
    struct media_spool_stats st;
};

static bool chunk_eq(const void *item, const void *key)
{
    return ((const struct chunk *)item)->call_seq == *(const uint64_t *)key;
}

static uint64_t seq_hash(const struct media_spool *sp, uint64_t seq)
{
    return hash_bytes(&seq, sizeof seq, sp->seed);
}

struct media_spool *media_spool_new(struct store_writer *w, size_t chunk_bytes, size_t max_bytes,
                                    size_t max_calls)
{
    struct media_spool *sp = calloc(1, sizeof *sp);
    if (!sp)
        return NULL;
    sp->w = w;
    sp->chunk_bytes = chunk_bytes ? chunk_bytes : 32768;
    sp->max_bytes = max_bytes ? max_bytes : (size_t)64 << 20;
    sp->seed = 0x9e3779b97f4a7c15ull; /* the keys are our own call numbers */
    if (!(sp->calls = htab_new(max_calls ? max_calls : 65536, chunk_eq))) {
        free(sp);
        return NULL;
    }
    return sp;
}

/* Hands the chunk's records to the writer and empties it. */
static void hand_over(struct media_spool *sp, struct chunk *c)
{
    if (!c->len)
        return;
    if (store_writer_media(sp->w, &(struct store_media){
                               .call_seq = c->call_seq, .first_time = ptime_to_epoch_s(c->first),
                               .last_time = ptime_to_epoch_s(c->last), .linktype = c->linktype,
                               .packets = c->packets, .frames = c->buf, .len = c->len}))
        sp->st.chunks++;
    else
        sp->st.dropped += c->packets; /* the writer counted and logged it too */
    sp->held -= c->len;
    c->len = 0;
    c->packets = 0;
}

static void chunk_free(struct media_spool *sp, struct chunk *c)
{
    hand_over(sp, c);
    free(c->buf);
    free(c);
}

void media_spool_frame(struct media_spool *sp, uint64_t call_seq, ptime_t ts, int linktype,
                       const void *data, uint32_t caplen, uint32_t wirelen)
{
    const size_t need = 16 + (size_t)caplen;
    uint64_t h = seq_hash(sp, call_seq);
    struct chunk *c = htab_find(sp->calls, h, &call_seq);
    if (!c) {
        if (!(c = calloc(1, sizeof *c)) || !htab_insert(sp->calls, h, c)) {
            free(c);
            if (sp->st.dropped++ == 0)
                log_warn("media spool: more calls than it follows (%zu): media of " RENDER_CALL_FMT
                         " not kept, counted",
                         htab_max(sp->calls), (unsigned long long)call_seq);
            return;
        }
        c->call_seq = call_seq;
        c->linktype = linktype;
    }
    /* a chunk holds one link type; full, or the spool holds too much: hand it over */
    if (c->len && (c->linktype != linktype || c->len + need > sp->chunk_bytes ||
                   sp->held + need > sp->max_bytes))
        hand_over(sp, c);
    if (c->len + need > c->cap) {
        size_t cap = need > sp->chunk_bytes ? need : sp->chunk_bytes;
        unsigned char *nb = realloc(c->buf, cap);
        if (!nb) {
            sp->st.dropped++;
            return;
        }
        c->buf = nb;
        c->cap = cap;
    }
    if (!c->len) {
        c->first = ts;
        c->linktype = linktype;
    }
    /* a pcap record header with nanoseconds, in this machine's byte order */
    uint32_t hdr[4] = {(uint32_t)(ts / PTIME_SEC), (uint32_t)(ts % PTIME_SEC), caplen, wirelen};
    memcpy(c->buf + c->len, hdr, sizeof hdr);
    memcpy(c->buf + c->len + sizeof hdr, data, caplen);
    c->len += need;
    c->packets++;
    c->last = ts;
    sp->held += need;
    sp->st.packets++;
    sp->st.bytes += caplen;
}

void media_spool_call_done(struct media_spool *sp, uint64_t call_seq)
{
    struct chunk *c = htab_remove(sp->calls, seq_hash(sp, call_seq), &call_seq);
    if (c)
        chunk_free(sp, c);
}

static int by_call(const void *x, const void *y)
{
    uint64_t a = (*(struct chunk *const *)x)->call_seq, b = (*(struct chunk *const *)y)->call_seq;
    return a < b ? -1 : a > b;
}

void media_spool_free(struct media_spool *sp, struct media_spool_stats *out)
{
    if (!sp)
        return;
    /* in call order, so that the rows are too */
    size_t n = htab_count(sp->calls), k = 0, pos = 0;
    struct chunk **all = n ? malloc(n * sizeof *all) : NULL;
    struct chunk *c;
    while ((c = htab_next(sp->calls, &pos))) {
        if (all)
            all[k++] = c;
        else
            chunk_free(sp, c); /* no memory to sort: any order */
    }
    if (all) {
        qsort(all, k, sizeof *all, by_call);
        for (size_t i = 0; i < k; i++)
            chunk_free(sp, all[i]);
        free(all);
    }
    htab_free(sp->calls);
    if (out)
        *out = sp->st;
    free(sp);
}
