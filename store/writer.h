/* The store's writer thread (docs/design.md: "the store has its own writer thread fed
 * through a bounded queue"). The analysis thread hands records over with
 * store_writer_put(), which copies them into the queue and returns at once; the writer
 * commits them in batched transactions (store.h) and reports each commit.
 *
 * The queue is bounded in bytes. When it is full, the overflow policy decides, and every
 * record it refuses is counted by type in store_writer_stats.dropped:
 *   STORE_OVERFLOW_WAIT  the put waits for room as long as the writer makes progress (the
 *                        right choice for files: reading slows down, nothing is lost); when
 *                        the writer has made none for stall_ms (a stuck disk, a lock held
 *                        elsewhere), the record is dropped, and so is every record that
 *                        finds no room until the writer moves again: the analysis is
 *                        blocked stall_ms once, never for ever.
 *   STORE_OVERFLOW_SHED  SIP messages (the bulk) are dropped at once when they would fill
 *                        the queue past three quarters, which keeps room for calls, streams,
 *                        registrations and issues; those wait as above (live capture, where
 *                        a blocked reader loses packets in the kernel instead). */
#ifndef SIPSCOPE_STORE_WRITER_H
#define SIPSCOPE_STORE_WRITER_H

#include "store.h"

enum store_overflow { STORE_OVERFLOW_WAIT, STORE_OVERFLOW_SHED };

/* Called on the writer thread after every commit, with what the database holds for sure. */
typedef void (*store_commit_fn)(void *user, const struct store_counts *committed);

struct store_writer_config {
    size_t queue_bytes;           /* 0: STORE_QUEUE_BYTES */
    enum store_overflow overflow;
    unsigned stall_ms;            /* 0: 5000 */
    unsigned flush_ms;            /* commit at least this often while records trickle; 0: 250 */
    store_commit_fn on_commit;    /* may be NULL */
    void *user;
    /* Retention (store.h), run by the writer between batches of records: one batch of
     * deletions at least every second while a limit is exceeded, and until none is
     * when it stops. All zero: none. */
    struct store_retention retention;
};

#define STORE_QUEUE_BYTES ((size_t)64 << 20)

struct store_writer_stats {
    uint64_t queued[STORE_KINDS];  /* accepted into the queue */
    uint64_t dropped[STORE_KINDS]; /* refused by the overflow policy */
    uint64_t failed[STORE_KINDS];  /* a database error lost them (see store_error) */
    struct store_counts committed;
    size_t queue_bytes, peak_bytes; /* now, and the most it held */
    uint64_t waits;                 /* puts that had to wait for room */
    double wait_s;                  /* time spent waiting */
    struct store_retained retained; /* what retention removed */
};

struct store_writer;

/* Starts the thread; from then on only the writer touches s until store_writer_stop(). */
struct store_writer *store_writer_start(struct store *s, const struct store_writer_config *cfg,
                                        char *err, size_t errlen);
/* Writes what is queued, commits, stops the thread and frees the writer (not the store).
 * false when a record was dropped or failed; *out (may be NULL) gets the final figures. */
bool store_writer_stop(struct store_writer *w, struct store_writer_stats *out);
void store_writer_stats(struct store_writer *w, struct store_writer_stats *out);

/* Copies the record (every string and blob it points to) into the queue. false when the
 * overflow policy dropped it or memory ran out (counted as dropped). */
bool store_writer_call(struct store_writer *w, const struct store_call *c);
bool store_writer_stream(struct store_writer *w, const struct store_stream *st);
bool store_writer_registration(struct store_writer *w, const struct store_registration *r);
bool store_writer_issue(struct store_writer *w, const struct store_issue *is);
bool store_writer_message(struct store_writer *w, const struct store_message *m);
bool store_writer_media(struct store_writer *w, const struct store_media *md);

#endif
