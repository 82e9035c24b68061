/* The stream table's insides, shared by stream.c (RTP) and stream_rtcp.c (RTCP attachment)
 * and by nothing outside metrics/: the lookup keys, a stream as the table holds it, the
 * table. */
#ifndef SIPSCOPE_STREAM_INT_H
#define SIPSCOPE_STREAM_INT_H

#include <stdint.h>
#include <string.h>

#include "common/hash.h"
#include "common/list.h"
#include "metrics/emodel.h"
#include "metrics/stream.h"

/* A stream's identity as six words, built and compared a word at a time: every word is
 * written by one 8-byte store and read by 8-byte loads, which the processor forwards
 * (a key of byte and short fields read back as words, or compared by memcmp's wide loads,
 * stalled the lookup of every packet). */
struct stream_key {
    uint64_t w[6]; /* family | sport << 8 | dport << 24; src; src; dst; dst; ssrc */
};

static inline uint64_t addr_word(const struct ip_addr *a, size_t i)
{
    uint64_t v;
    memcpy(&v, a->b + 8 * i, 8);
    return v;
}

static inline void stream_key_make(struct stream_key *k, const struct ip_addr *src, uint16_t sport,
                            const struct ip_addr *dst, uint16_t dport, uint32_t ssrc)
{
    k->w[0] = (uint64_t)src->family | (uint64_t)sport << 8 | (uint64_t)dport << 24;
    k->w[1] = addr_word(src, 0);
    k->w[2] = addr_word(src, 1);
    k->w[3] = addr_word(dst, 0);
    k->w[4] = addr_word(dst, 1);
    k->w[5] = ssrc;
}

/* RTCP names a stream by SSRC from the hosts' addresses; its ports are the RTP ports
 * plus one, the same ones (RFC 5761 mux), or whatever a=rtcp or a NAT made them. */
struct ssrc_key {
    uint32_t ssrc;
    uint8_t family, pad[3];
    uint8_t src[16], dst[16];
};

struct stream_int {
    /* what the lookup of every packet reads first: on the first cache line */
    struct stream_key key;
    uint64_t hash;
    struct dlist_node lru;
    ptime_t lru_at;             /* when it last moved to the LRU's tail */
    /* the last packet counted, to know a mirror's copy of it (stream_rtp_copy) */
    uint32_t last_ip_id, last_ts;
    uint16_t last_seq;          /* (set once pub.packets counts one) */
    struct rtp_stream pub;
    struct dlist_node olru;     /* unannounced: in the orphans' own LRU too */
    struct ssrc_key skey;       /* in by_ssrc while indexed (the latest stream wins) */
    uint64_t shash;
    bool sindexed;
};

struct stream_table {
    struct htab *ht;
    struct htab *by_ssrc;   /* struct stream_int by ssrc_key, for RTCP */
    struct dlist lru;
    struct dlist orphans;   /* the unannounced streams, least recently active first */
    size_t norphans;
    uint64_t orphans_evicted, flows_evicted;
    struct htab *flows;     /* struct judged */
    struct dlist flow_lru;
    uint64_t seed, next_seq, packets, evicted;
    stream_done_fn done;
    void *user;
    struct classifier *cls;
    struct emodel_base ebase; /* G.107's delay-free part for the default parameters */
    bool audio_on;            /* issue 24: streams decode their payload */
    size_t audio_lib_bytes;   /* the streams' codec libraries and DTMF receivers */
    struct audio_plan plan;   /* the tone plan, shared read-only by the streams */
};

static inline void ssrc_key_make(struct ssrc_key *k, uint32_t ssrc, const struct ip_addr *src,
                          const struct ip_addr *dst)
{
    memset(k, 0, sizeof *k);
    k->ssrc = ssrc;
    k->family = src->family;
    memcpy(k->src, src->b, 16);
    memcpy(k->dst, dst->b, 16);
}

#endif
