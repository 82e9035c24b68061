/* Packet sources. A source hands out frames one at a time with packet time, link type and
 * a 1-based frame number; files, stdin and (later) live interfaces and HEP all sit behind
 * the same small interface, and the one packet loop, capture_run(), lives here.
 * capture/ never parses anything above the link header's existence. */
#ifndef SIPSCOPE_CAPTURE_H
#define SIPSCOPE_CAPTURE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ptime.h"

struct packet {
    uint64_t frame;      /* 1-based, in the order frames are handed out (tshark's numbering
                          * for one file; merge order across several) */
    ptime_t ts;          /* packet time, ns since the epoch */
    uint32_t caplen;     /* bytes present at data */
    uint32_t wirelen;    /* bytes on the wire; > caplen when snaplen cut the frame */
    int linktype;        /* DLT_* value as libpcap reports it */
    unsigned input;      /* index of the file (or interface) it came from */
    const uint8_t *data; /* borrowed: valid until the next capture_next() */
    uint64_t hint;       /* what a read-ahead's hint function said of it; else 0 */
};

/* CAPTURE_IDLE: a live source had nothing for a while (the caller may run its timers). */
enum capture_status { CAPTURE_OK = 0, CAPTURE_EOF = 1, CAPTURE_IDLE = 2, CAPTURE_ERROR = -1 };

struct capture_stats {
    uint64_t packets;     /* frames handed out */
    uint64_t bytes;       /* sum of caplen of those frames */
    ptime_t first_ts, last_ts;
    uint64_t bytes_read;  /* file bytes consumed so far, for progress */
    uint64_t bytes_total; /* sum of input file sizes; 0 when unknown (stdin, pipes) */
    uint64_t read_errors; /* inputs that ended in an error (e.g. a truncated file) */
    uint64_t out_of_order;/* frames whose stamp is earlier than the previous frame's */
    bool live;            /* a live source: the two counts below mean something */
    uint64_t dropped;     /* the kernel's drops (pcap_stats ps_drop + ps_ifdrop) */
    uint64_t ring_dropped;/* ours: the analysis fell behind and the ring was full */
};

/* The interface a packet source implements. */
struct capture_ops {
    enum capture_status (*next)(void *self, struct packet *out);
    void (*stats)(const void *self, struct capture_stats *out);
    void (*close)(void *self);
    /* live sources: stop reading; next() then hands out what is queued, then EOF.
     * NULL for files. */
    void (*stop)(void *self);
};

struct capture_source {
    const struct capture_ops *ops;
    void *self;
};

/* Opens one or more pcap/pcapng files ("-" is stdin) and merges their frames in time
 * order (ties go to the earlier-named file). Stamps are read at nanosecond precision
 * from both microsecond and nanosecond files. On failure returns false and writes a
 * message to err. */
bool capture_open_files(struct capture_source *src, const char *const *paths, size_t n,
                        char *err, size_t errlen);

/* Moves src's reading onto a thread of its own, ahead of the analysis, through a ring of
 * ring_bytes (0: 4 MiB; rounded up to a power of two); frames come out the same, numbered
 * the same. Files only: the reading thread waits when the ring is full. false: src is left
 * as it was. */
bool capture_readahead(struct capture_source *src, size_t ring_bytes);

/* A word the read-ahead thread works out for each frame as it reads it, handed out with
 * the frame (packet.hint). It runs on the read-ahead thread: it may read the frame and what
 * ctx holds unchanging, nothing else. capture/ does not look inside it (the
 * pipeline has it say which RTP stream the frame belongs to, as the stream table's hash,
 * which the second core then works out instead of the analysis). */
typedef uint64_t (*capture_hint_fn)(void *ctx, const struct packet *p);

/* capture_readahead() with a hint worked out per frame by fn. */
bool capture_readahead_hinted(struct capture_source *src, size_t ring_bytes,
                              capture_hint_fn fn, void *ctx);

/* Live capture on interfaces ("any" too): one thread per interface copies packets into
 * a ring of ring_bytes; capture_next() waits up to 200 ms, then says CAPTURE_IDLE. */
struct live_config {
    const char *filter;  /* BPF, NULL none */
    int snaplen;         /* 0: 262144 */
    int buffer_mb;       /* the kernel's buffer; 0: 64 */
    bool promisc;
    int timeout_ms;      /* packets wait at most this long in the kernel; 0: 50; < 0:
                          * immediate mode (Linux: TPACKET_V2, a snaplen slot per packet) */
    size_t ring_bytes;   /* 0: 64 MiB; rounded up to a power of two */
    const char *hep_listen; /* pipeline_run_live: HEP at this address, not interfaces */
};
bool capture_open_live(struct capture_source *src, const char *const *ifaces, size_t n,
                       const struct live_config *cfg, char *err, size_t errlen);

/* HEP in is a source too: capture_open_hep, in capture/hep_io.h beside HEP out. */

static inline enum capture_status capture_next(struct capture_source *src, struct packet *out)
{
    return src->ops->next(src->self, out);
}

static inline void capture_get_stats(const struct capture_source *src, struct capture_stats *out)
{
    src->ops->stats(src->self, out);
}

void capture_close(struct capture_source *src);

/* For sources: counts a frame handed out (packets, bytes, first and last time, frames
 * earlier than the latest) and gives it its number. */
void capture_count(struct capture_stats *st, struct packet *p);

static inline void capture_stop(struct capture_source *src)
{
    if (src->ops->stop)
        src->ops->stop(src->self);
}

/* The packet loop: calls fn for every frame until the source ends, fn returns false, or
 * *stop becomes non-zero (common/stop.h's flag, or the caller's). Returns the status that ended it.
 */
typedef bool (*capture_fn)(void *user, const struct packet *pkt);
enum capture_status capture_run(struct capture_source *src, capture_fn fn, void *user,
                                const volatile sig_atomic_t *stop);

#endif
