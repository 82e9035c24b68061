/* Read-ahead: a source's next() runs on a thread of its own, which copies each
 * frame into a ring of bytes; the analysis takes frames from the ring in place. Reading a
 * file (the system calls, libpcap's copy, the merge of several files) then overlaps with
 * the analysis on a second core instead of adding to it.
 *
 * The ring (records as in ringrec.h) has one producer and one consumer and no lock on the
 * way: the producer publishes `head` after a batch of records, the consumer publishes `tail`
 * after a batch it is done with (a record is done at the next call, which is what keeps the
 * borrowed data pointer valid). A side that finds the ring full or empty sleeps on a
 * condition variable; the other wakes it only when it said it sleeps, so the common case
 * costs no system call.
 *
 * Hints: the producer may work out a word per frame (capture_readahead_hinted), kept in
 * the frame's record and handed out with it. */
#include "capture.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ringrec.h"

#define LINE 64 /* head and tail on lines of their own: each side writes one */
#define BATCH_RECORDS 64
#define BATCH_BYTES (256u << 10)

struct readahead {
    struct capture_source inner;
    pthread_t thread;
    unsigned char *ring;
    size_t cap;
    atomic_bool done;              /* the producer has ended; `end` says how */
    enum capture_status end;
    atomic_bool stop;              /* close before the end: the producer quits */
    pthread_mutex_t mu;
    pthread_cond_t cond;
    uint64_t bytes_total;          /* of the inputs, known at open */
    capture_hint_fn hint_fn;       /* NULL: no hints */
    void *hint_ctx;
    struct capture_stats inner_st; /* the inner source's, taken when the producer ended */
    /* the producer's line: what it published, what it writes next, and its view of tail */
    _Alignas(LINE) _Atomic uint64_t head; /* bytes ever published */
    atomic_bool prod_waits;
    _Atomic uint64_t bytes_read;   /* the inner source's progress, now and then */
    uint64_t w_head, w_tail;       /* the producer's alone */
    size_t prod_need;              /* bytes its waiting record claims */
    unsigned w_batch;
    /* the consumer's line */
    _Alignas(LINE) _Atomic uint64_t tail; /* bytes ever released */
    atomic_bool cons_waits;
    uint64_t r_tail, r_head;       /* the consumer's alone */
    uint32_t held;                 /* the record handed out last, released at the next call */
    unsigned r_batch;
    struct capture_stats st;       /* frames as the analysis takes them */
};

static void wake(struct readahead *ra, atomic_bool *waiter)
{
    if (atomic_load(waiter)) {
        pthread_mutex_lock(&ra->mu);
        pthread_cond_broadcast(&ra->cond);
        pthread_mutex_unlock(&ra->mu);
    }
}

/* Sleeps until ready(ra) holds; the flag it sets is checked by the other side after
 * every publication. The timed wait bounds a wake-up lost to an unlucky interleaving. */
static void sleep_until(struct readahead *ra, atomic_bool *flag,
                        bool (*ready)(const struct readahead *))
{
    pthread_mutex_lock(&ra->mu);
    atomic_store(flag, true);
    while (!ready(ra)) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        t.tv_nsec += 10000000L;
        if (t.tv_nsec >= 1000000000L) {
            t.tv_sec++;
            t.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&ra->cond, &ra->mu, &t);
    }
    atomic_store(flag, false);
    pthread_mutex_unlock(&ra->mu);
}

static bool has_data(const struct readahead *ra)
{
    return atomic_load(&ra->head) != ra->r_tail || atomic_load(&ra->done);
}

/* The producer sleeps until a quarter of the ring is free (not just room for its record),
 * so that it is woken once per quarter ring rather than once per frame. */
static bool has_room(const struct readahead *ra)
{
    uint64_t used = ra->w_head - atomic_load(&ra->tail);
    size_t want = ra->prod_need > ra->cap / 4 ? ra->prod_need : ra->cap / 4;
    return used + want <= ra->cap || atomic_load(&ra->stop);
}

/* Each side wakes the other only once there is a good amount for it (an eighth of the ring
 * to read, a quarter to write), not for every batch: a wake-up is a system call on both
 * sides. The waits are timed, so a wake-up skipped this way costs at most 10 ms. */
static void publish_head(struct readahead *ra)
{
    atomic_store(&ra->head, ra->w_head);
    ra->w_batch = 0;
    if (ra->w_head - atomic_load(&ra->tail) >= ra->cap / 8)
        wake(ra, &ra->cons_waits);
}

static void publish_tail(struct readahead *ra)
{
    atomic_store(&ra->tail, ra->r_tail);
    ra->r_batch = 0;
    if (ra->cap - (atomic_load(&ra->head) - ra->r_tail) >= ra->cap / 4)
        wake(ra, &ra->prod_waits);
}

static void *producer(void *arg)
{
    struct readahead *ra = arg;
    struct packet p;
    enum capture_status st = CAPTURE_EOF;
    uint64_t n = 0;
    while (!atomic_load(&ra->stop) &&
           (st = ra->inner.ops->next(ra->inner.self, &p)) != CAPTURE_EOF && st != CAPTURE_ERROR) {
        if (st != CAPTURE_OK)
            continue;
        size_t claim = ring_rec_claim(ra->cap, ra->w_head, ring_rec_need(p.caplen));
        if (claim > ra->cap) /* a frame larger than the ring: cannot happen at 4 MiB */
            continue;
        if (ra->w_head - ra->w_tail + claim > ra->cap) { /* full as last seen: look again */
            ra->w_tail = atomic_load(&ra->tail);
            if (ra->w_head - ra->w_tail + claim > ra->cap) {
                publish_head(ra); /* what is written must be readable before we sleep */
                ra->prod_need = claim;
                sleep_until(ra, &ra->prod_waits, has_room);
                ra->w_tail = atomic_load(&ra->tail);
                if (atomic_load(&ra->stop))
                    break;
            }
        }
        uint64_t hint = ra->hint_fn ? ra->hint_fn(ra->hint_ctx, &p) : 0;
        ra->w_head = ring_rec_put(ra->ring, ra->cap, ra->w_head, &p, hint);
        if (++ra->w_batch >= BATCH_RECORDS || ra->w_head - atomic_load_explicit(&ra->head,
                                                                   memory_order_relaxed) >= BATCH_BYTES)
            publish_head(ra);
        if ((++n & 4095) == 0) {
            struct capture_stats s;
            ra->inner.ops->stats(ra->inner.self, &s);
            atomic_store_explicit(&ra->bytes_read, s.bytes_read, memory_order_relaxed);
        }
    }
    ra->inner.ops->stats(ra->inner.self, &ra->inner_st);
    ra->end = atomic_load(&ra->stop) ? CAPTURE_EOF : st;
    atomic_store(&ra->head, ra->w_head);
    atomic_store(&ra->done, true); /* publishes head, end and inner_st */
    wake(ra, &ra->cons_waits);
    return NULL;
}

static enum capture_status ra_next(void *self, struct packet *out)
{
    struct readahead *ra = self;
    if (ra->held) {
        ra->r_tail += ra->held;
        ra->held = 0;
        if (++ra->r_batch >= BATCH_RECORDS)
            publish_tail(ra);
    }
    for (;;) {
        if (ra->r_head == ra->r_tail) { /* empty as last seen: look again */
            ra->r_head = atomic_load(&ra->head);
            if (ra->r_head == ra->r_tail) {
                publish_tail(ra); /* let the producer use what we are done with */
                if (atomic_load(&ra->done)) {
                    ra->r_head = atomic_load(&ra->head); /* the last head, set before done */
                    if (ra->r_head != ra->r_tail)
                        continue;
                    return ra->end;
                }
                sleep_until(ra, &ra->cons_waits, has_data);
                continue;
            }
        }
        const struct ring_rec *r = ring_rec_at(ra->ring, ra->cap, &ra->r_tail);
        if (!r)
            continue;
        ring_rec_packet(r, (const uint8_t *)(r + 1), out);
        ra->held = r->size;
        capture_count(&ra->st, out);
        return CAPTURE_OK;
    }
}

static void ra_stats(const void *self, struct capture_stats *out)
{
    const struct readahead *ra = self;
    bool done = atomic_load(&((struct readahead *)ra)->done);
    *out = ra->st;
    out->bytes_total = ra->bytes_total;
    out->bytes_read = done ? ra->inner_st.bytes_read
                           : atomic_load(&((struct readahead *)ra)->bytes_read);
    if (done)
        out->read_errors = ra->inner_st.read_errors;
}

static void ra_close(void *self)
{
    struct readahead *ra = self;
    atomic_store(&ra->stop, true);
    wake(ra, &ra->prod_waits);
    pthread_join(ra->thread, NULL);
    capture_close(&ra->inner);
    pthread_cond_destroy(&ra->cond);
    pthread_mutex_destroy(&ra->mu);
    free(ra->ring);
    free(ra);
}

static const struct capture_ops ra_ops = {ra_next, ra_stats, ra_close, NULL};

bool capture_readahead(struct capture_source *src, size_t ring_bytes)
{
    return capture_readahead_hinted(src, ring_bytes, NULL, NULL);
}

bool capture_readahead_hinted(struct capture_source *src, size_t ring_bytes,
                              capture_hint_fn fn, void *ctx)
{
    /* aligned as its type asks (calloc gives 16 bytes): otherwise the two sides' lines
     * are not lines, and every frame moves one between the cores */
    struct readahead *ra = aligned_alloc(_Alignof(struct readahead), sizeof *ra);
    if (!ra)
        return false;
    memset(ra, 0, sizeof *ra);
    assert((uintptr_t)&ra->head % LINE == 0 && (uintptr_t)&ra->tail % LINE == 0);
    ra->cap = ring_rec_cap(ring_bytes ? ring_bytes : (size_t)4 << 20);
    if (!(ra->ring = malloc(ra->cap))) {
        free(ra);
        return false;
    }
    ra->inner = *src;
    ra->hint_fn = fn;
    ra->hint_ctx = ctx;
    /* bytes_total is known before reading, and progress asks for it from the start */
    struct capture_stats s;
    ra->inner.ops->stats(ra->inner.self, &s);
    ra->bytes_total = s.bytes_total;
    pthread_mutex_init(&ra->mu, NULL);
    pthread_cond_init(&ra->cond, NULL);
    if (pthread_create(&ra->thread, NULL, producer, ra) != 0) {
        pthread_cond_destroy(&ra->cond);
        pthread_mutex_destroy(&ra->mu);
        free(ra->ring);
        free(ra);
        return false;
    }
    src->ops = &ra_ops;
    src->self = ra;
    return true;
}
