/* The media spool: a call's RTP and RTCP frames, kept in the database so that a call
 * exports as a pcap with its media. Frames are gathered per call into chunks of
 * pcap records (store.h, struct store_media) and handed to the writer when a chunk is
 * full, when its call ends, and at the end of the input. Memory is bounded: at most
 * chunk_bytes per call being spooled and max_bytes in all (past it, the chunk being added
 * to is handed over early); calls past max_calls are not spooled, and counted. */
#ifndef SIPSCOPE_STORE_SPOOL_H
#define SIPSCOPE_STORE_SPOOL_H

#include <stdint.h>

#include "common/ptime.h"
#include "writer.h"

struct media_spool;

struct media_spool_stats {
    uint64_t packets, bytes;   /* frames spooled, and their bytes */
    uint64_t chunks;           /* chunks handed to the writer */
    uint64_t dropped;          /* frames not spooled: too many calls, no memory, or the
                                * writer's queue refused the chunk */
};

/* w is borrowed; 0 for a size takes the default (32 KiB chunks, 64 MiB in all, 65536
 * calls). NULL when memory runs out. */
struct media_spool *media_spool_new(struct store_writer *w, size_t chunk_bytes, size_t max_bytes,
                                    size_t max_calls);
/* Hands every chunk over and frees the spool (not the writer). */
void media_spool_free(struct media_spool *sp, struct media_spool_stats *out);

/* One frame of call call_seq (not 0). */
void media_spool_frame(struct media_spool *sp, uint64_t call_seq, ptime_t ts, int linktype,
                       const void *data, uint32_t caplen, uint32_t wirelen);
/* The call ended: what is gathered for it goes to the writer now. */
void media_spool_call_done(struct media_spool *sp, uint64_t call_seq);

#endif
