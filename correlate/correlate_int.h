/* Internal to correlate/. */
#ifndef SIPSCOPE_CORRELATE_INT_H
#define SIPSCOPE_CORRELATE_INT_H

#include "correlate.h"
#include "decode/sip.h"

size_t txn_entry_bytes(void);
size_t media_entry_bytes(void);
size_t reg_entry_bytes(void);
size_t lookup_entry_bytes(void);

struct txn_table;
struct txn_table *txn_table_new(size_t max, uint64_t seed);
void txn_table_free(struct txn_table *t);
size_t txn_table_bytes(const struct txn_table *t);
/* RFC 3261 §17.1.3 / §17.2.3 matching; true when the message repeats one already seen in
 * its transaction (a retransmission). Sweeps transactions idle for longer than `linger`. */
bool txn_observe(struct txn_table *t, const struct sip_event *ev, ptime_t now, ptime_t linger,
                 uint64_t *created, uint64_t *evicted, ptime_t *orig_time, uint64_t *orig_frame);

struct reg_table;
struct reg_table *reg_table_new(size_t max, uint64_t seed);
void reg_table_on_done(struct reg_table *t, reg_done_fn fn, void *user);
/* Hands every binding on, in order of first REGISTER; `end` is the input's last time. */
void reg_table_finish(struct reg_table *t, ptime_t end);
void reg_table_free(struct reg_table *t);
size_t reg_table_bytes(const struct reg_table *t);
/* A REGISTER or a response to one: returns the binding's seq, 0 when none. */
uint64_t reg_observe(struct reg_table *t, const struct sip_event *ev, bool retrans,
                     uint64_t *created, uint64_t *evicted);

struct media_table;
struct media_table *media_table_new(size_t max, uint64_t seed);
void media_table_free(struct media_table *t);
size_t media_table_bytes(const struct media_table *t);
struct sdp;
/* An endpoint's key in the media table. */
struct media_key {
    uint8_t family, pad[1];
    uint16_t port;
    uint8_t addr[16];
};
/* The endpoints one call put in the table, kept by the call so that its end takes them out
 * (media_forget); past MEDIA_KEYS_MAX they are left to the table's LRU. */
#define MEDIA_KEYS_MAX 32
struct media_keys {
    struct media_key *more; /* owned: keys 1..n-1 (cap of them); NULL none */
    struct media_key first; /* key 0 (most calls announce one endpoint, and an
                             * array apart cost 48 bytes) */
    uint8_t n, cap;
};
void media_from_sdp(struct media_table *t, const struct sdp *s, uint64_t call_seq,
                    struct media_keys *keys, uint64_t *evicted);
/* A call ended: the endpoints it announced no longer lead to it (one that another call
 * announced too leads to that call now); frees keys' memory. */
void media_forget(struct media_table *t, struct media_keys *keys, uint64_t call_seq);
/* An SDP connection address ("192.0.2.1", "2001:db8::1") into out; false when not one. */
bool media_addr_parse(struct sv a, uint8_t family, struct ip_addr *out);
/* Whether call_seq announced the endpoint of m (last, or before and still sharing it). */
bool media_match_has(const struct media_match *m, uint64_t call_seq);
bool media_lookup(const struct media_table *t, const struct ip_addr *a, uint16_t port,
                  struct media_match *out);

/* What a call's path keeps beyond struct call (path.c). Its first segment while that is
 * the whole path and nothing answered on it: what a struct call_seg holds beyond the call's
 * own caller, callee, invite_time and first_frame (an INVITE of a flood paid 152
 * bytes for a segment, most of them copies of the call's fields or empty answers). While
 * `held`, p->nsegs is 0 and p->segs NULL; a second copy, an answer on it or path_expand()
 * makes it p->segs[0]; path_first() writes it out for a reader without keeping it. */
struct path_more {
    uint64_t branch, via2, names[2]; /* the held segment's, as struct call_seg's */
    uint32_t cseq, copies;
    uint32_t dropped; /* copies past CALL_MAX_SEGS */
    uint8_t nvia;
    bool held;
};

/* The call's path (path.c): a copy of its initial INVITE (leg: index in legs; retrans: a
 * copy seen before, counted on its segment), and a response to one. */
void path_request(struct call *p, struct path_more *f, const struct sip_event *ev, uint8_t leg,
                  uint32_t cseq, bool retrans, uint64_t seed);
void path_response(struct call *p, struct path_more *f, const struct sip_event *ev, uint32_t cseq,
                   uint64_t seed);
/* The held first segment as struct call_seg, into *s. */
void path_first(const struct call *p, const struct path_more *f, struct call_seg *s);
/* The held first segment into p->segs (allocated); false on no memory (it stays held). */
bool path_expand(struct call *p, struct path_more *f);

/* DNS look-ups (lookup.c). */
struct lookup_table;
struct lookup_table *lookup_table_new(uint64_t seed);
/* ring: look-ups kept (the oldest overwritten); 0 the default */
struct lookup_table *lookup_table_new_sized(uint64_t seed, size_t ring);
size_t lookup_table_bytes(const struct lookup_table *t);
void lookup_table_free(struct lookup_table *t);
void lookup_observe(struct lookup_table *t, const struct l4_packet *l4, const struct dns_msg *m,
                    struct correlate_stats *st);
/* Ties to the call the look-ups of its path's hosts (once; now: packet time, for timeouts). */
void lookup_tie(const struct lookup_table *t, struct call *p, ptime_t now);
/* Each tied look-up's next_time/next_frame, from the path as it stands now. */
void lookup_next_sent(struct call *p);
/* A DNS name hashed as DNS compares it: any case, without the root's trailing dot. */
uint64_t dns_name_hash(const char *p, size_t n, uint64_t seed);

#endif
