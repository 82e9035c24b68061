/* The security watch's state, for diagnose/ alone: security.c feeds it with every SIP
 * message and keeps its tables; check_security.c judges an entry and words what it found.
 *
 * Two fixed tables allocated once from the watch's share of the memory budget, never grown:
 * sources (a /24 of IPv4 or a /64 of IPv6: a scanner hopping addresses or ports inside its
 * network stays one entry) and accounts (an AoR or a caller's user@host). Each is
 * set-associative: a key lives in one of SEC_WAYS slots, and a new key takes the least
 * recently seen of them when all are in use (what that entry had found is reported first).
 * Figures are judged over a sliding window on packet time made of two halves: the current
 * half and the one before it (at most `sec_window_s` of traffic). Distinct counts (targets,
 * addresses, accounts) are linear-counting bitmaps: fixed size, within a few percent up to
 * several hundred distinct values and saturated past the bitmap's reach (about 3,000), far
 * beyond any threshold. */
#ifndef SIPSCOPE_DIAGNOSE_SECURITY_H
#define SIPSCOPE_DIAGNOSE_SECURITY_H

#include <stdbool.h>
#include <stdint.h>

#include "diagnose/engine.h"

#define SEC_WAYS       8
#define SEC_SAMPLES    4  /* targets, accounts, destinations named in the evidence */
#define SEC_SAMPLE_LEN                                                                             \
    28                    /* each cut to this, and only [A-Za-z0-9+*#._@-] kept; a network         \
                           * ("ffff:ffff:ffff:ffff::/64") fits whole */
#define SEC_PENDING    8  /* requests with credentials awaiting their answer, per source */
/* answered calls followed per account (concurrency): 8 bytes each. The concurrency rule
 * can fire only for a limit within it: an account whose learnt habit is more than
 * SEC_CALLS / conc_factor calls at once (21 by default) is judged by its destinations. */
#define SEC_CALLS      64
#define SEC_UA_LEN     40
/* An account's usual concurrency: an EWMA of the calls it held at each answer, each
 * answer moving it by 1/SEC_CONC_WEIGHT, so that a busy hour counts for more than a
 * trickle of evening calls and a quiet night teaches nothing. The answers are learnt by
 * the minute, two minutes late (the minute under way and the one before are not learnt
 * yet): a burst is judged against the minutes before it. Learnt at once, the usual
 * followed a burst up as it grew, so that an account that usually held five calls or more
 * could never reach three times it. */
#define SEC_CONC_BUCKET_S 60
#define SEC_CONC_WEIGHT   32
/* An account with a learnt habit (conc_learn_calls answers) and no binding is kept this
 * long without a call before it is let go (others: toll_window_s): a phone or a trunk that
 * does not register would lose its habit at every quiet spell, and a burst at night would be
 * judged as a new account's, against three times the floor. The table's least recently
 * used entry still makes room when it is full. */
#define SEC_HABIT_KEEP_S (24 * 3600)
/* An answered call whose BYE was never seen stops counting as in progress after this. */
#define ISSUE_SEC_CALL_MAX (4 * 3600 * PTIME_SEC)

/* A distinct-count bitmap (linear counting, Whang et al. 1990): n = -m ln(zeros / m). */
struct sec_bits {
    uint64_t w[8]; /* 512 bits: within 3 % up to about 600 values, saturated near 3,000 */
};

/* The answers a source got to its out-of-dialog requests (final responses). */
enum sec_answer {
    SEC_ANS_OK,
    SEC_ANS_CHALLENGE,
    SEC_ANS_FORBIDDEN,
    SEC_ANS_NOT_FOUND,
    SEC_ANS_OTHER,
    SEC_ANS__COUNT
};

/* One half of a source's sliding window. */
struct sec_src_half {
    uint32_t ood;         /* out-of-dialog requests (no To tag), retransmissions aside */
    uint32_t ok;          /* of them answered 2xx */
    uint32_t auth_failed; /* requests with credentials answered 401/407/403 */
    uint32_t methods;     /* bit per method (sec_method) */
    struct sec_bits targets;
};

struct sec_source {
    uint8_t key[17];     /* family, then the /24 or /64; all zero: a free slot */
    struct ip_addr addr; /* its latest address */
    uint16_t port;
    ptime_t first, last, half_start;
    uint64_t first_frame, last_frame;
    struct sec_src_half half[2]; /* [0] the current half, [1] the one before */
    /* the episode, for the evidence: since its first message, until it goes quiet for a
     * window and what it did is reported */
    uint32_t ood, auth_tries, auth_failed, auth_ok;
    uint32_t ans[SEC_ANS__COUNT];
    uint32_t methods;
    struct sec_bits addrs, targets, accounts;
    char ua[SEC_UA_LEN];
    bool known_scanner;
    bool scan, brute; /* found in this episode; reported when it ends */
    uint8_t ntargets, naccounts, npending;
    char target[SEC_SAMPLES][SEC_SAMPLE_LEN];
    char account[SEC_SAMPLES][SEC_SAMPLE_LEN];
    uint64_t pending[SEC_PENDING]; /* Call-ID and CSeq of requests with credentials */
    uint64_t brute_frame;
};

/* An answered call of an account, until its BYE. */
struct sec_call {
    uint32_t callid; /* hash, its low half */
    uint32_t since;  /* packet time, seconds */
};

struct sec_account {
    uint64_t hash; /* of its name; 0: a free slot */
    char name[64]; /* user@host */
    ptime_t last, half_start;
    /* the binding: who holds it (as the registrar's answer reached it) and until when */
    struct ip_addr bind, prev;
    uint16_t bind_port, prev_port;
    ptime_t bind_until, prev_until, moved_first;
    char bind_ua[SEC_UA_LEN], prev_ua[SEC_UA_LEN];
    uint32_t moves; /* the binding moved between addresses while still held */
    uint64_t move_frames[4];
    bool hijack; /* reported */
    /* toll fraud */
    uint32_t toll_half[2]; /* calls to listed prefixes in the window's halves */
    uint32_t toll, calls;  /* the episode's */
    uint64_t toll_ids[8];  /* Call-IDs counted (a challenged INVITE is sent twice) */
    uint8_t ntoll_ids, ndests;
    char dest[SEC_SAMPLES][SEC_SAMPLE_LEN];
    char dest_kind[16]; /* the first listed destination's label */
    struct ip_addr toll_src;
    ptime_t toll_first;
    uint64_t toll_frame;
    struct sec_call active[SEC_CALLS];
    uint8_t nactive, peak;
    _Static_assert(SEC_CALLS <= 255, "nactive and peak are bytes");
    /* its usual concurrency (SEC_CONC_WEIGHT), from conc_since on, over conc_calls answers;
     * the answers not learnt yet: this minute's and the last one's, the calls held at them
     * summed and counted (conc_bucket: this minute) */
    float conc_usual;
    uint32_t conc_bucket;
    uint32_t conc_sum[2];
    uint16_t conc_n[2];
    uint32_t conc_calls;
    ptime_t conc_since;
    float conc_limit, conc_was; /* the limit its peak crossed and its usual then: evidence */
    bool fraud; /* found in this episode */
    bool fraud_concurrent;
    /* digests refused for it from any network: the window's halves (sec_window_s), and the
     * episode's (until no refusal for a window) with the networks named */
    struct {
        uint32_t failed;
        struct sec_bits nets;
    } guess_half[2];
    ptime_t guess_half_start, guess_first, guess_last;
    uint32_t guess_failed;
    struct sec_bits guess_nets;
    uint64_t guess_frame;
    uint8_t nguess_nets;
    char guess_net[SEC_SAMPLES][SEC_SAMPLE_LEN];
    bool guess; /* found in this episode */
};

/* A prefix of the toll list ("00 international"). */
struct sec_prefix {
    char digits[16];
    char label[16];
};

#define SEC_MAX_AGENTS   64
#define SEC_MAX_PREFIXES 128

struct sec_watch {
    struct sec_source *src;   /* owned, nsrc slots */
    struct sec_account *acct; /* owned, nacct slots */
    size_t nsrc, nacct;       /* powers of two, multiples of SEC_WAYS */
    size_t src_used, acct_used, src_peak, acct_peak;
    uint64_t evicted;
    uint64_t seed;
    size_t budget;                   /* bytes for both tables */
    char agents[SEC_MAX_AGENTS][32]; /* lower case */
    size_t nagents;
    struct sec_prefix prefixes[SEC_MAX_PREFIXES];
    size_t nprefixes;
};

/* check_security.c: what an entry found, reported (its episode's evidence and words). */
void sec_report_source(struct issue_engine *e, const struct sec_source *s);
void sec_report_fraud(struct issue_engine *e, const struct sec_account *a);
void sec_report_guess(struct issue_engine *e, const struct sec_account *a);
void sec_report_hijack(struct issue_engine *e, const struct sec_account *a,
                       const struct sec_source *by);
/* The verdicts over the window: a scan, password guessing, a toll-fraud burst. */
bool sec_scan_verdict(const struct issue_config *cfg, const struct sec_source *s);
bool sec_brute_verdict(const struct issue_config *cfg, const struct sec_source *s);
bool sec_spread_verdict(const struct issue_config *cfg, const struct sec_account *a);
bool sec_fraud_verdict(const struct issue_config *cfg, const struct sec_account *a, ptime_t now);
/* The calls at once that are not the account's own habit (see check_security.c). */
double sec_conc_limit(const struct issue_config *cfg, const struct sec_account *a, ptime_t now);
struct sec_watch *sec_new(void);
void sec_free(struct sec_watch *w);
/* Packet time moved on (issues_tick), and the input ended (issues_finish). */
void sec_tick(struct issue_engine *e, ptime_t now);
void sec_finish(struct issue_engine *e);
/* A method's name by its bit in a source's methods. */
const char *sec_method_name(unsigned bit);
/* The distinct values a bitmap has seen (estimate). */
double sec_bits_count(const struct sec_bits *b);

#endif
