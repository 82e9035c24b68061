/* See writer.h. The queue is a ring of bytes: the analysis thread (the one producer) copies
 * each record, with its strings and blobs, to the ring's head; the writer reads records in
 * place and gives the bytes back when they are written. Nothing is allocated per record,
 * and the bound in bytes is the ring's size. One mutex guards the two offsets and the
 * figures; neither side holds it while copying or while SQLite works. */
#include "writer.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"

struct item {
    size_t size; /* bytes it takes in the ring, padding included; 0: skip to the ring's end */
    enum store_kind kind;
    union {
        struct store_call call;
        struct store_stream stream;
        struct store_registration reg;
        struct store_issue issue;
        struct store_message msg;
        struct store_media media;
    } u;
    char data[]; /* the strings and blobs u points to */
};

#define ALIGN(n) (((n) + 15) & ~(size_t)15)

struct store_writer {
    struct store *s; /* borrowed; the writer thread's alone while it runs */
    struct store_writer_config cfg;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t more, room; /* records queued; room made (or progress) */
    char *ring;                /* owned: cfg.queue_bytes, 16-byte aligned */
    uint64_t head, tail;       /* bytes ever published and ever given back; the ring holds
                                * [tail, head), offsets taken modulo its size */
    uint64_t progress;         /* records written, ever */
    bool stalled;              /* a put gave up on the writer at progress stalled_at: */
    uint64_t stalled_at;       /* until it moves on, puts that find no room drop at once */
    unsigned waiters;
    bool stop;
    struct store_writer_stats st;
    uint64_t base_rows;        /* rows the store had committed before the writer started */
};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static struct timespec deadline(double at)
{
    struct timespec t;
    t.tv_sec = (time_t)at;
    t.tv_nsec = (long)((at - (double)t.tv_sec) * 1e9);
    return t;
}

/* ---- the writer thread ---- */

static bool write_item(struct store *s, const struct item *it)
{
    switch (it->kind) {
    case STORE_CALL: return store_put_call(s, &it->u.call);
    case STORE_STREAM: return store_put_stream(s, &it->u.stream);
    case STORE_REGISTRATION: return store_put_registration(s, &it->u.reg);
    case STORE_ISSUE: return store_put_issue(s, &it->u.issue);
    case STORE_MESSAGE: return store_put_message(s, &it->u.msg);
    case STORE_MEDIA: return store_put_media(s, &it->u.media);
    case STORE_KINDS: break;
    }
    return false;
}

/* After a slice of records: publishes what is committed, gives `freed` bytes back to the
 * ring, and reports a new commit. `failed_kind` is the type of a record that failed,
 * STORE_KINDS when none did. */
static void settle(struct store_writer *w, enum store_kind failed_kind, size_t freed,
                   uint64_t written)
{
    struct store_counts c;
    store_counts(w->s, &c);
    pthread_mutex_lock(&w->mu);
    bool committed = c.commits != w->st.committed.commits;
    w->st.committed = c;
    if (failed_kind < STORE_KINDS && w->st.failed[failed_kind]++ == 0)
        log_error("database: %s not stored: %s", store_kind_name(failed_kind), store_error(w->s));
    w->tail += freed;
    w->st.queue_bytes = (size_t)(w->head - w->tail);
    w->progress += written;
    if (w->waiters && (freed || written))
        pthread_cond_broadcast(&w->room);
    pthread_mutex_unlock(&w->mu);
    if (committed && w->cfg.on_commit)
        w->cfg.on_commit(w->cfg.user, &c);
}

static void flush(struct store_writer *w)
{
    if (!store_flush(w->s))
        log_error("database: a commit failed: %s", store_error(w->s));
    /* the rows of a lost batch are in queued but never in committed */
    settle(w, STORE_KINDS, 0, 0);
}

static bool has_retention(const struct store_writer *w)
{
    const struct store_retention *r = &w->cfg.retention;
    return r->max_age_s > 0 || r->max_bytes || r->media_max_age_s > 0;
}

/* One batch of retention; true when another is due now. */
static bool retain(struct store_writer *w)
{
    struct store_retained got = {0};
    bool more = false;
    if (!store_retain(w->s, &w->cfg.retention, &got, &more)) {
        log_error("database: retention: %s", store_error(w->s));
        return false;
    }
    pthread_mutex_lock(&w->mu);
    for (int k = 0; k < STORE_KINDS; k++)
        w->st.retained.rows[k] += got.rows[k];
    w->st.retained.batches += got.batches;
    pthread_mutex_unlock(&w->mu);
    if (got.rows[STORE_CALL] || got.rows[STORE_MESSAGE])
        log_debug("database: retention removed %llu calls, %llu messages, %llu streams",
                  (unsigned long long)got.rows[STORE_CALL],
                  (unsigned long long)got.rows[STORE_MESSAGE],
                  (unsigned long long)got.rows[STORE_STREAM]);
    return more;
}

static void *writer_main(void *arg)
{
    struct store_writer *w = arg;
    const double flush_s = w->cfg.flush_ms / 1000.0;
    const size_t cap = w->cfg.queue_bytes;
    double txn_since = -1; /* when the open batch got its first row; < 0: none open */
    const bool retaining = has_retention(w);
    /* a size limit is checked often (three PRAGMAs), so that a fast import overshoots it
     * little; an age limit once a second */
    const double retain_every = w->cfg.retention.max_bytes ? 0.02 : 1;
    double retain_at = retaining ? now_s() : 1e300; /* when the next batch of it is due */
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (w->head == w->tail && !w->stop) {
            if (now_s() >= retain_at && txn_since < 0) {
                pthread_mutex_unlock(&w->mu);
                retain_at = now_s() + (retain(w) ? 0 : retain_every);
                pthread_mutex_lock(&w->mu);
                continue;
            }
            if (txn_since < 0) {
                if (!retaining) {
                    pthread_cond_wait(&w->more, &w->mu);
                } else {
                    struct timespec at = deadline(retain_at);
                    pthread_cond_timedwait(&w->more, &w->mu, &at);
                }
                continue;
            }
            struct timespec at = deadline(txn_since + flush_s);
            if (pthread_cond_timedwait(&w->more, &w->mu, &at) == ETIMEDOUT &&
                w->head == w->tail) {
                pthread_mutex_unlock(&w->mu);
                flush(w); /* caught up and idle: what is written becomes durable */
                txn_since = -1;
                pthread_mutex_lock(&w->mu);
            }
        }
        if (w->head == w->tail)
            break; /* stopping, and nothing left */
        uint64_t pos = w->tail, end = w->head;
        pthread_mutex_unlock(&w->mu);
        /* Bytes go back in slices, so that a waiting producer resumes soon without a lock
         * round trip per record. */
        size_t freed = 0;
        uint64_t written = 0;
        while (pos < end) {
            size_t off = (size_t)(pos % cap), left = cap - off;
            const struct item *it = (const struct item *)(w->ring + off);
            if (left < sizeof *it || it->size == 0) { /* the producer wrapped here */
                pos += left;
                freed += left;
                continue;
            }
            if (txn_since < 0)
                txn_since = now_s();
            bool ok = write_item(w->s, it);
            pos += it->size;
            freed += it->size;
            written++;
            if (!ok || written == 256 || pos >= end) {
                settle(w, ok ? STORE_KINDS : it->kind, freed, written);
                freed = 0;
                written = 0;
                if (now_s() >= retain_at) { /* writes wait for one batch of it only */
                    flush(w);
                    txn_since = -1;
                    retain_at = now_s() + (retain(w) ? 0 : retain_every);
                }
            }
        }
        if (freed)
            settle(w, STORE_KINDS, freed, 0);
        if (txn_since >= 0 && now_s() - txn_since >= flush_s) {
            flush(w);
            txn_since = -1;
        }
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    flush(w);
    /* the database meets its limits when the writer is done */
    for (unsigned i = 0; retaining && i < 1000000 && retain(w); i++)
        ;
    return NULL;
}

/* ---- the analysis side ---- */

static void writer_free(struct store_writer *w)
{
    pthread_cond_destroy(&w->more);
    pthread_cond_destroy(&w->room);
    pthread_mutex_destroy(&w->mu);
    free(w->ring);
    free(w);
}

struct store_writer *store_writer_start(struct store *s, const struct store_writer_config *cfg,
                                        char *err, size_t errlen)
{
    struct store_writer *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->s = s;
    w->cfg = *cfg;
    if (!w->cfg.queue_bytes)
        w->cfg.queue_bytes = STORE_QUEUE_BYTES;
    if (!w->cfg.stall_ms)
        w->cfg.stall_ms = 5000;
    if (!w->cfg.flush_ms)
        w->cfg.flush_ms = 250;
    w->cfg.queue_bytes = ALIGN(w->cfg.queue_bytes);
    if (!(w->ring = aligned_alloc(16, w->cfg.queue_bytes))) {
        snprintf(err, errlen, "out of memory for a queue of %zu bytes", w->cfg.queue_bytes);
        free(w);
        return NULL;
    }
    store_counts(s, &w->st.committed);
    for (int k = 0; k < STORE_KINDS; k++)
        w->base_rows += w->st.committed.rows[k];
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->more, &ca);
    pthread_cond_init(&w->room, &ca);
    pthread_condattr_destroy(&ca);
    int rc = pthread_create(&w->thread, NULL, writer_main, w);
    if (rc) {
        snprintf(err, errlen, "starting the writer thread: %s", strerror(rc));
        writer_free(w);
        return NULL;
    }
    return w;
}

void store_writer_stats(struct store_writer *w, struct store_writer_stats *out)
{
    pthread_mutex_lock(&w->mu);
    *out = w->st;
    pthread_mutex_unlock(&w->mu);
}

bool store_writer_stop(struct store_writer *w, struct store_writer_stats *out)
{
    if (!w)
        return true;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_signal(&w->more);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    bool ok = true;
    for (int k = 0; k < STORE_KINDS; k++)
        ok = ok && !w->st.dropped[k] && !w->st.failed[k];
    /* rows queued but never committed: a failed commit lost its batch */
    uint64_t queued = 0, rows = 0;
    for (int k = 0; k < STORE_KINDS; k++) {
        queued += w->st.queued[k] - w->st.failed[k];
        rows += w->st.committed.rows[k];
    }
    if (rows - w->base_rows < queued)
        ok = false;
    if (out)
        *out = w->st;
    writer_free(w);
    return ok;
}

/* Room for `need` contiguous bytes at the head: how many bytes from the head that takes
 * (a record never wraps: when the ring's end is too near, the rest of it is skipped). */
static size_t claim_size(const struct store_writer *w, size_t need)
{
    size_t off = (size_t)(w->head % w->cfg.queue_bytes), left = w->cfg.queue_bytes - off;
    return need <= left ? need : left + need;
}

/* Whether `claim` more bytes fit under `limit`. */
static bool fits(const struct store_writer *w, size_t claim, size_t limit)
{
    return (size_t)(w->head - w->tail) + claim <= limit;
}

/* Makes room for a record of `need` bytes under the overflow policy: true when it may be
 * written at the head; false (counted as dropped) when not. */
static bool reserve(struct store_writer *w, enum store_kind kind, size_t need)
{
    const size_t cap = w->cfg.queue_bytes;
    pthread_mutex_lock(&w->mu);
    bool shed = w->cfg.overflow == STORE_OVERFLOW_SHED && kind == STORE_MESSAGE;
    size_t claim = claim_size(w, need);
    bool ok = claim <= cap && fits(w, claim, shed ? cap / 4 * 3 : cap);
    if (w->stalled && w->progress != w->stalled_at)
        w->stalled = false;
    if (!ok && !shed && need <= cap / 2 && !w->stalled) {
        double start = now_s(), since = start;
        uint64_t seen = w->progress;
        w->st.waits++;
        w->waiters++;
        while (!ok) {
            struct timespec at = deadline(now_s() + 0.05);
            pthread_cond_timedwait(&w->room, &w->mu, &at);
            double now = now_s();
            if (w->progress != seen) {
                seen = w->progress;
                since = now;
            } else if (now - since >= w->cfg.stall_ms / 1000.0) {
                w->stalled = true; /* the writer is stuck: drop, never block for ever */
                w->stalled_at = seen;
                break;
            }
            claim = claim_size(w, need);
            ok = fits(w, claim, cap);
        }
        w->waiters--;
        w->st.wait_s += now_s() - start;
    }
    if (!ok) {
        if (w->st.dropped[kind]++ == 0)
            log_warn("database: queue full (%zu of %zu bytes): %s dropped (policy %s), "
                     "counted", (size_t)(w->head - w->tail), cap, store_kind_name(kind),
                     w->cfg.overflow == STORE_OVERFLOW_SHED ? "shed" : "wait");
        pthread_mutex_unlock(&w->mu);
        return false;
    }
    if (claim > need) { /* skip the ring's end: mark it when a header fits there */
        size_t off = (size_t)(w->head % cap), left = cap - off;
        if (left >= sizeof(struct item))
            ((struct item *)(w->ring + off))->size = 0;
        w->head += left;
    }
    pthread_mutex_unlock(&w->mu);
    return true;
}

/* Publishes the record just written at the head. */
static void publish(struct store_writer *w, enum store_kind kind, size_t size)
{
    pthread_mutex_lock(&w->mu);
    w->head += size;
    w->st.queued[kind]++;
    w->st.queue_bytes = (size_t)(w->head - w->tail);
    if (w->st.queue_bytes > w->st.peak_bytes)
        w->st.peak_bytes = w->st.queue_bytes;
    pthread_cond_signal(&w->more);
    pthread_mutex_unlock(&w->mu);
}

/* The strings and blobs of a record: where its pointer is, and its length (SIZE_MAX: a
 * NUL-terminated string). A const char * and a const void * have the same representation
 * (C11 6.2.5 §28), so both are read and written through memcpy as const void *. */
struct span {
    void *field;
    size_t n;
};

/* Copies the record and what it points to into the ring, under the overflow policy. */
static bool pack(struct store_writer *w, enum store_kind kind, const void *rec, size_t recsize,
                 struct span *sp, size_t nsp)
{
    size_t total = sizeof(struct item);
    for (size_t i = 0; i < nsp; i++) {
        const void *p;
        memcpy(&p, sp[i].field, sizeof p);
        if (p && sp[i].n == SIZE_MAX)
            sp[i].n = strlen(p) + 1;
        total += p ? sp[i].n : 0;
    }
    total = ALIGN(total);
    if (!reserve(w, kind, total))
        return false;
    /* The bytes at the head are the producer's alone until published (there is one
     * producer, and the writer reads only up to the published head), so the copy is made
     * without the lock. */
    struct item *it = (struct item *)(w->ring + (size_t)(w->head % w->cfg.queue_bytes));
    it->kind = kind;
    it->size = total;
    memcpy(&it->u, rec, recsize);
    char *at = it->data;
    for (size_t i = 0; i < nsp; i++) {
        const void *p;
        memcpy(&p, sp[i].field, sizeof p);
        if (!p)
            continue;
        memcpy(at, p, sp[i].n);
        /* the span's field lies in the caller's record; the same offset in the copy */
        size_t off = (size_t)((const char *)sp[i].field - (const char *)rec);
        const void *np = at;
        memcpy((char *)&it->u + off, &np, sizeof np);
        at += sp[i].n;
    }
    publish(w, kind, total);
    return true;
}

#define S(rec, f) {(void *)&(rec)->f, SIZE_MAX}

bool store_writer_call(struct store_writer *w, const struct store_call *c)
{
    struct span sp[] = {S(c, call_id), S(c, from_user), S(c, to_user), S(c, caller),
                        S(c, callee),  S(c, state),     S(c, issue_kinds), S(c, json)};
    return pack(w, STORE_CALL, c, sizeof *c, sp, sizeof sp / sizeof *sp);
}

bool store_writer_stream(struct store_writer *w, const struct store_stream *st)
{
    struct span sp[] = {S(st, src), S(st, dst), S(st, codec), S(st, json), S(st, timeline)};
    return pack(w, STORE_STREAM, st, sizeof *st, sp, sizeof sp / sizeof *sp);
}

bool store_writer_registration(struct store_writer *w, const struct store_registration *r)
{
    struct span sp[] = {S(r, aor), S(r, contact), S(r, source), S(r, state), S(r, json)};
    return pack(w, STORE_REGISTRATION, r, sizeof *r, sp, sizeof sp / sizeof *sp);
}

bool store_writer_issue(struct store_writer *w, const struct store_issue *is)
{
    struct span sp[] = {S(is, kind), S(is, severity), S(is, registration), S(is, json)};
    return pack(w, STORE_ISSUE, is, sizeof *is, sp, sizeof sp / sizeof *sp);
}

bool store_writer_message(struct store_writer *w, const struct store_message *m)
{
    struct span sp[] = {S(m, src), S(m, dst), S(m, transport), S(m, method), S(m, cseq), S(m, reason),
                        S(m, x_cid), S(m, session_local), S(m, session_remote),
                        {(void *)&m->call_id, m->call_id_len ? m->call_id_len : SIZE_MAX},
                        {(void *)&m->raw, m->raw_len},
                        {(void *)&m->frame_bytes, m->frame_len}};
    return pack(w, STORE_MESSAGE, m, sizeof *m, sp, sizeof sp / sizeof *sp);
}

bool store_writer_media(struct store_writer *w, const struct store_media *md)
{
    struct span sp[] = {{(void *)&md->frames, md->len}};
    return pack(w, STORE_MEDIA, md, sizeof *md, sp, 1);
}
