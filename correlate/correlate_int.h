/* Internal to correlate/. */
#ifndef SIPSCOPE_CORRELATE_INT_H
#define SIPSCOPE_CORRELATE_INT_H

#include "correlate.h"
#include "decode/sip.h"

struct txn_table;
struct txn_table *txn_table_new(size_t max, uint64_t seed);
void txn_table_free(struct txn_table *t);
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
/* A REGISTER or a response to one: returns the binding's seq, 0 when none. */
uint64_t reg_observe(struct reg_table *t, const struct sip_event *ev, bool retrans,
                     uint64_t *created, uint64_t *evicted);

struct media_table;
struct media_table *media_table_new(size_t max, uint64_t seed);
void media_table_free(struct media_table *t);
struct sdp;
void media_from_sdp(struct media_table *t, const struct sdp *s, uint64_t call_seq,
                    uint64_t *evicted);
/* An SDP connection address ("192.0.2.1", "2001:db8::1") into out; false when not one. */
bool media_addr_parse(struct sv a, uint8_t family, struct ip_addr *out);
/* Whether call_seq announced the endpoint of m (last, or before and still sharing it). */
bool media_match_has(const struct media_match *m, uint64_t call_seq);
bool media_lookup(const struct media_table *t, const struct ip_addr *a, uint16_t port,
                  struct media_match *out);

#endif
