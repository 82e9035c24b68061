/* IPv4 and IPv6 fragment reassembly (RFC 791, RFC 8200 §4.5) with bounded memory.
 * Overlaps that repeat the same bytes are accepted (mirror ports and retransmitting
 * hosts produce them); overlaps that disagree drop the datagram (RFC 5722's rule for
 * IPv6, applied to IPv4 too, since an analyzer must not pick one of two stories). */
#ifndef SIPSCOPE_IPFRAG_H
#define SIPSCOPE_IPFRAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ptime.h"
#include "decode.h"

/* Zero the whole struct before filling it: it is hashed and compared as bytes. */
struct ipfrag_key {
    uint8_t version; /* 4 or 6 */
    uint8_t proto;   /* IPv4 protocol; 0 for IPv6 (RFC 8200 keys on src, dst, id) */
    uint8_t pad[2];
    uint32_t id;
    uint8_t src[16], dst[16];
};

struct ipfrag_table;
struct ipfrag_datagram;

enum ipfrag_result { IPFRAG_HELD, IPFRAG_COMPLETE, IPFRAG_REJECTED };

struct ipfrag_done {
    const uint8_t *data; /* owned by dg until ipfrag_release() */
    size_t len;
    uint8_t next_header; /* IPv6: Next Header of the offset-0 fragment */
    uint32_t fragments;  /* pieces that made it (duplicates included) */
    uint64_t first_frame;
    struct ipfrag_datagram *dg;
};

struct ipfrag_stats {
    uint64_t duplicates;
    uint64_t evicted;
    size_t held_bytes;
    size_t datagrams;
};

struct ipfrag_table *ipfrag_new(size_t max_datagrams, size_t max_bytes, ptime_t timeout,
                                uint64_t seed);
void ipfrag_free(struct ipfrag_table *t);

/* Adds one fragment: payload bytes [offset, offset+len) of the datagram, `more` its MF
 * flag. On IPFRAG_REJECTED *why says why (the datagram it belonged to is gone). */
enum ipfrag_result ipfrag_add(struct ipfrag_table *t, const struct ipfrag_key *key, ptime_t now,
                              uint64_t frame, uint32_t offset, const uint8_t *data, size_t len,
                              bool more, uint8_t next_header, struct ipfrag_done *out,
                              enum decode_reason *why);
void ipfrag_release(struct ipfrag_table *t, struct ipfrag_datagram *dg);
/* Drops datagrams older than the timeout; returns how many. */
size_t ipfrag_expire(struct ipfrag_table *t, ptime_t now);
/* Drops everything; returns how many datagrams were incomplete. */
size_t ipfrag_flush(struct ipfrag_table *t);
void ipfrag_get_stats(const struct ipfrag_table *t, struct ipfrag_stats *out);

#endif
