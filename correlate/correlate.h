/* Correlation: SIP messages into transactions (RFC 3261 §17) and calls (INVITE dialogs
 * grouped by Call-ID), with their timings, states and final word, on packet time.
 *
 * The correlator copies what it keeps (a message's views die with its packet). A call is
 * handed to the call_done handler once it is over and its retransmission window (64*T1)
 * has passed, or when the input ends, and is freed after the handler returns: memory
 * follows concurrent calls, not capture length. Tables are bounded; what a limit drops
 * is counted. */
#ifndef SIPSCOPE_CORRELATE_H
#define SIPSCOPE_CORRELATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/membudget.h"
#include "common/ptime.h"
#include "decode/decode.h"
#include "decode/sip.h"

/* The call states, with their names in the output (docs/output.md's "state"). */
#define CALL_STATES(X)                                                                             \
    X(TRYING, "trying")           /* INVITE sent, nothing but 100 back */                          \
    X(RINGING, "ringing")         /* 180, or 183 without SDP */                                    \
    X(EARLY_MEDIA, "early_media") /* 183 (or 18x) with SDP */                                      \
    X(ANSWERED, "answered")       /* 2xx, no BYE yet */                                            \
    X(COMPLETED, "completed")     /* answered, then BYE */                                         \
    X(CANCELLED, "cancelled")     /* CANCEL / 487 */                                               \
    X(BUSY, "busy")               /* 486, 600 */                                                   \
    X(REJECTED, "rejected")       /* other 4xx and 6xx (401/407 left unanswered included) */       \
    X(FAILED, "failed")           /* 5xx, 408, or no answer at all within 64*T1 (Timer B) */       \
    X(UNFINISHED, "unfinished")   /* answered, no BYE by the end of the input */

enum call_state {
#define CALL_STATE_ENUM(id, name) CALL_##id,
    CALL_STATES(CALL_STATE_ENUM)
#undef CALL_STATE_ENUM
        CALL__STATES
};
const char *call_state_name(enum call_state s);

enum call_party { PARTY_NONE, PARTY_CALLER, PARTY_CALLEE };
const char *call_party_name(enum call_party p); /* "caller", "callee", NULL */

struct call_addr {     /* a call's From or To: its strings live in the call's block */
    char *display; /* NULL when none */
    char *uri;
    char *user;    /* NULL when none */
};

#define CALL_MAX_LEGS 4
#define CALL_MAX_HOLDS 8
#define CALL_MAX_TRANSFERS 4

/* A period when one side put the media on hold (re-INVITE or UPDATE offering sendonly or
 * inactive, or c=0.0.0.0 as RFC 2543 did; or an answer to such an offer that said sendonly
 * or inactive itself), until an offer resumed it. */
struct call_hold {
    ptime_t start, end;        /* end 0: still on hold */
    enum call_party by;        /* whose SDP (offer, or answer) put the media on hold */
    /* enum sdp_direction of the caller's [0] and the callee's [1] SDP during the hold, as
     * the holding SDP said (c=0.0.0.0 read as sendonly: "send me nothing", RFC 3264 §8.4)
     * and as the other side answered; until its answer is seen, what RFC 3264 §6.1 lets
     * it answer at most (sendonly -> recvonly, inactive -> inactive) */
    uint8_t dir[2];
    ptime_t answered;          /* the 2xx carrying the answer to the holding offer, 0 none */
    uint64_t frame, answer_frame; /* the holding offer (or answer); the answer, 0 none */
};

/* A REFER (RFC 3515) inside the call: whom to, its acceptance and its outcome as the
 * NOTIFY's sipfrag reported it. */
struct call_transfer {
    ptime_t time;
    enum call_party by;
    char *refer_to;            /* owned */
    int accepted;              /* 202, or the final response; 0 none */
    int result;                /* status line of the last NOTIFY sipfrag; 0 none */
};

/* Another leg of the same call through a B2BUA (its own Call-ID). */
struct call_leg {
    char *call_id;             /* owned */
    char *from_tag, *to_tag;   /* owned; NULL none */
    uint8_t provisionals;      /* LEG_SAW_* (a far leg's: for B2BUA 180 -> 183 rewrites) */
};

/* A digit sent as SIP INFO (application/dtmf-relay or application/dtmf). */
struct call_dtmf {
    ptime_t time;
    uint64_t frame;
    int32_t duration_ms;       /* -1 unknown */
    char digit;
    uint8_t by;                /* enum call_party: who sent it */
};

#define CALL_MAX_DTMF 256

/* Digest challenges (RFC 3261 §22.2, RFC 7616) met by a call's INVITEs or a binding's
 * REGISTERs since their last success: what an auth-loop diagnosis needs. */
#define AUTH_MAX_FRAMES 8
struct auth_track {
    uint32_t run;              /* 401/407 since the last success (2xx) */
    uint32_t with_creds;       /* requests of the run that carried credentials */
    uint32_t realm_changes, nonce_changes;
    uint32_t forbidden;        /* 403 to a request that carried credentials (a bad password, as
                                * some servers say it): counted, the run goes on */
    bool stale;                /* a challenge said stale=true: an old nonce, not bad credentials */
    bool creds_pending;        /* the request now awaiting its answer carried credentials */
    uint64_t realm_hash, nonce_hash;
    char realm[48];            /* the last challenge's realm (cut); "" none */
    char user[48];             /* the username the credentials gave (cut); "" none */
    ptime_t first_time;        /* the run's first challenge */
    uint64_t frames[AUTH_MAX_FRAMES]; /* the run's challenges, first ones kept */
    uint8_t nframes;
};
void auth_track_request(struct auth_track *a, const struct sip_msg *m);
/* A final response to the tracked requests: 401/407 extend the run, 2xx ends it. */
void auth_track_response(struct auth_track *a, const struct sip_msg *m, uint64_t frame, ptime_t t);

/* Where one side's SDP put its media (the first audio m= line), and what it offered. */
#define CALL_MAX_MEDIA_EPS 4
#define CALL_SIDE_MAX_PTS 16
struct call_media_ep {
    struct ip_addr addr;
    uint16_t port;
};
struct call_side {
    uint64_t sdp_frame;        /* its first SDP */
    ptime_t sdp_time;
    char *codecs;              /* owned: its first SDP's audio codecs, comma-separated; NULL
                                * none */
    uint8_t pts[CALL_SIDE_MAX_PTS]; /* ... their payload types, in the same order (cut) */
    uint16_t pts_audio;        /* bit i: pts[i] is a voice codec (not telephone-event, CN) */
    uint16_t rtcp_port;        /* its first SDP's a=rtcp (RFC 3605); 0: the RTP port + 1 */
    uint8_t npts;
    bool have_sdp;
    bool fax;                  /* an SDP of it offered image/T.38 (UDPTL, not RTP) */
    uint8_t dir;               /* enum sdp_direction of its first SDP (holds are tracked apart) */
    bool rtcp_mux;             /* its first SDP's audio said a=rtcp-mux (RFC 5761) */
    uint8_t neps;
    struct ip_addr sig_addr;   /* the source of the message that carried that SDP */
    /* owned: every address:port it announced, neps of them (at most CALL_MAX_MEDIA_EPS;
     * most SDPs name one, and room for four cost 60 bytes more) */
    struct call_media_ep *eps;
};

/* A SIP message sent again (RFC 3261 §17.1.1.2, §17.2.1) on one hop. */
#define CALL_MAX_RETRANS 8
struct call_retrans {
    struct ip_addr src, dst;
    uint16_t sport, dport;
    char what[24];             /* "INVITE", "200 INVITE"... */
    uint32_t copies;           /* copies after the first */
    ptime_t first_time, last_time; /* the original, the last copy */
    uint64_t first_frame, last_frame;
};

/* One copy of the call's initial INVITE on one hop of its path: a proxy
 * forwards it with its own Via on top and the rest of the stack kept (RFC 3261 §16.6), a
 * B2BUA as a new leg. Each copy seen is a segment of the path, with the responses that came
 * back on it; the segment it forwards is its parent, so that a hop's holding time is the
 * time between the two. */
#define CALL_MAX_SEGS 12
enum seg_match { SEG_FIRST, SEG_BY_VIA, SEG_BY_ADDRESS, SEG_BY_ORDER, SEG_BY_BRANCH };
struct call_seg {
    struct ip_addr src, dst;
    uint16_t sport, dport;
    uint32_t cseq;
    uint8_t leg;               /* index in call.legs */
    uint8_t match;             /* enum seg_match: how its parent was found */
    int8_t parent;             /* the segment it forwards, -1 none */
    uint8_t nvia;
    uint64_t branch, via2;     /* hashes of the top Via's branch and the second's (0 none) */
    uint64_t names[2];         /* hashes of the Request-URI's and the top Route's host names
                                * (lower case; 0: none, or an address): what DNS resolved */
    ptime_t time;              /* the first copy */
    uint64_t frame;
    ptime_t trying_time, prov_time, final_time; /* first 100, first other 1xx, final; 0 none */
    uint64_t trying_frame, prov_frame, final_frame;
    uint32_t copies;           /* retransmissions of it */
    int16_t prov_status, final_status; /* (a status line's three digits: the flood test counts
                                        * the bytes of every INVITE's segment) */
};
/* The first answer on a segment other than 100 Trying (a 1xx or the final), 0 none. */
static inline ptime_t call_seg_answered(const struct call_seg *s)
{
    return s->prov_time && (!s->final_time || s->prov_time < s->final_time) ? s->prov_time
                                                                            : s->final_time;
}

/* A DNS look-up tied to the call: a host of its path asked for the domain of a
 * Request-URI or Route it sent or received (or its _sip._udp/_sip._tcp/_sips._tcp SRV,
 * its NAPTR, or a name an answer of them gave), around the INVITE it sent or was to
 * forward. Retries of the same question are one look-up. */
#define CALL_MAX_DNS 8
struct call_dns {
    struct ip_addr host, server; /* who asked; the server of the last try */
    char qname[96];            /* the question (cut) */
    uint16_t qtype;
    uint8_t tries;             /* queries sent, retries included */
    bool timed_out;            /* no answer by DNS_TIMEOUT after the last try */
    int rcode;                 /* the answer's RCODE, -1 no answer */
    uint16_t answers;          /* answer records */
    char answer[80];           /* the first answer as text ("10 60 5060 sip1.example.com") */
    ptime_t query_time, answer_time; /* the first query; the answer, 0 none */
    uint64_t query_frame, answer_frame;
    int8_t seg;                /* the segment whose sender (or receiver) asked */
    bool by_receiver;          /* asked by the segment's receiver, after it came */
    ptime_t next_time;         /* what the host sent next for the call, after the look-up
                                * (the forwarded INVITE or its answer), 0 none */
    uint64_t next_frame;
};

/* What provisional responses a leg saw (for B2BUA 180 -> 183 rewrites). */
enum { LEG_SAW_180 = 1, LEG_SAW_18X_SDP = 2 };

struct call {
    uint64_t seq;              /* 1-based, in order of first INVITE: the output id "call-N" */
    char *call_id;             /* owned, and with it from_tag, from and to: one block */
    char *from_tag;            /* in call_id's block */
    char *to_tag;              /* owned; the confirmed (or first early) dialog's, NULL none */
    struct call_addr from, to; /* in call_id's block (not owned apart) */
    /* (fields are in order of size, with no holes between them: the flood test counts the bytes of
     * every unanswered INVITE of a flood) */
    struct ip_addr caller_ip, callee_ip; /* first INVITE's source and destination */
    uint16_t caller_port, callee_port;
    /* the counts of the arrays below (legs ... dns) */
    uint8_t nlegs;             /* extra legs in legs[1..] */
    uint8_t nholds;
    uint8_t ntransfers;
    uint8_t nretrans;
    uint8_t nsegs, segs_cap;
    uint8_t ndns;
    bool session_expired;      /* unfinished: its RFC 4028 session interval passed without a
                                * refresh (the interval and refresh are the correlator's) */
    bool dns_tied;             /* dns looked for (setup over, or handed on) */
    /* (a byte for an enum, two for a status code: the flood test counts the bytes of every
     * unanswered INVITE of a flood) */
    uint8_t state;    /* enum call_state */
    uint8_t ended_by; /* enum call_party */
    uint16_t ndtmf;
    int16_t final_status; /* final response to the initial INVITE, 0 none */
    int16_t early_status; /* early_time's status: 183, or 180 with SDP */
    uint32_t messages, retransmissions;
    uint32_t challenges;       /* 401/407 to its INVITEs */
    uint32_t retrans_dropped;  /* retransmitted messages past CALL_MAX_RETRANS */
    char *reason;              /* owned: its reason phrase, NULL none */
    ptime_t invite_time;       /* first INVITE */
    ptime_t attempt_time;      /* the last initial INVITE (with credentials after a 401/407):
                                * where post-dial delay starts for the person dialling */
    ptime_t ringing_time;      /* first 180/183, 0 none */
    ptime_t answer_time;       /* first 2xx to the INVITE, 0 none */
    ptime_t end_time;          /* BYE, CANCEL or the final failure, 0 none */
    uint64_t first_frame, last_frame;
    ptime_t last_time;
    char *codecs;              /* owned: from the answered (else offered) SDP, comma-separated
                                * (at most 63 bytes); NULL none */
    /* What few calls have (an unanswered INVITE of a flood paid 2 KB for room it
     * never used): each array is allocated whole (its CALL_MAX_*) on first use; NULL and a
     * count of 0 until then. legs[0] stands for this call's own Call-ID and tags (above)
     * and is not used; legs[1..nlegs] joined it because their INVITE named it in X-CID /
     * X-Call-ID (B2BUAs) */
    struct call_leg *legs;     /* owned */
    struct call_hold *holds;   /* owned */
    struct call_transfer *transfers; /* owned */
    struct call_dtmf *dtmf;    /* owned; NULL until an INFO carries a digit */
    /* evidence for the issue catalogue (diagnose/) */
    uint64_t ringing_frame, answer_frame, final_frame, end_frame; /* 0 none */
    ptime_t early_time;        /* first 18x with SDP (early media offered), 0 none */
    uint64_t early_frame;
    /* The caller's SDP; the callee's, allocated when it comes (most INVITEs of a
     * flood are never answered, and paid 152 bytes for it): read both with call_side() */
    struct call_side caller_side;
    struct call_side *callee_side; /* owned; NULL: none seen (as if empty) */
    struct call_retrans *retrans; /* owned; NULL none (see legs) */
    struct auth_track *auth;   /* owned: challenges to its INVITEs; NULL none met and no
                                * credentials sent */
    struct call_seg *segs;     /* owned: its path, in order seen; NULL none */
    struct call_dns *dns;      /* owned: look-ups tied to it, by query time; NULL none */
};

/* A call's side: 0 the caller's SDP, 1 the callee's (all zero when none came). */
static inline const struct call_side *call_side(const struct call *c, int i)
{
    static const struct call_side none;
    return i == 0 ? &c->caller_side : c->callee_side ? c->callee_side : &none;
}

typedef void (*call_done_fn)(void *user, const struct call *c);

enum reg_state { REG_PENDING, REG_CHALLENGED, REG_REGISTERED, REG_UNREGISTERED, REG_FAILED };
const char *reg_state_name(enum reg_state s);

/* One binding: an AoR (To of the REGISTER) with one Contact, as a registrar sees it. */
struct registration {
    uint64_t seq;
    char *aor;                 /* owned */
    char *contact;             /* owned; NULL for a query (no Contact) or "*" removal */
    char *call_id;             /* owned: the REGISTERs' Call-ID (RFC 3261 §10.2.4: reused) */
    char *user_agent;          /* owned; NULL when none */
    struct ip_addr source, registrar;
    uint16_t source_port, registrar_port;
    ptime_t first_time, last_time;
    ptime_t registered_at;     /* last 2xx that granted the binding */
    int64_t expires_s;         /* granted (2xx), else asked for; -1 unknown */
    bool expired;              /* granted, then not refreshed in time (packet time) */
    enum reg_state state;
    int final_status;          /* last final response, 0 none */
    uint32_t challenges, attempts;
    uint64_t final_frame;      /* the last final response, 0 none */
    struct auth_track auth;
};

typedef void (*reg_done_fn)(void *user, const struct registration *r);

struct correlate_config {
    size_t max_calls;        /* calls tracked at once */
    size_t max_transactions; /* transactions tracked at once */
    size_t max_registrations;
    ptime_t linger;          /* how long an ended call waits for retransmissions (64*T1) */
    /* Timer B and a transaction's lifetime: 64*T1 whatever linger is, so that holding ended
     * calls for less (--call-linger) never fails an unanswered INVITE early nor takes its
     * retransmissions for new requests */
    ptime_t timer_b;
    /* live: an ended call is handed on this long after its end, and still followed (its
     * retransmissions are its own: msg_verdict.call_seq) until linger; 0: at linger. A
     * live capture wants a call's record soon, not 64*T1 later */
    ptime_t ended_wait;
    ptime_t challenge_wait;  /* how long a 401/407-challenged call waits for its retry */
    ptime_t idle;            /* a call with no message for this long is ended */
    size_t max_media;        /* SDP-announced endpoints; 0: 4 per call */
    size_t dns_ring;         /* DNS look-ups kept; 0: 8192 */
    uint64_t hash_seed;
    uint64_t first_call_seq; /* calls are numbered after it (a database's last call) */
};

void correlate_config_default(struct correlate_config *cfg);
/* The tables' limits from a memory budget (common/membudget.h), each share divided by its
 * size per entry (correlate_entry_bytes); with max_calls_given, max_calls and
 * max_transactions stay as they are (--max-calls wins). */
void correlate_config_budget(struct correlate_config *cfg, const struct mem_budget *b,
                             bool max_calls_given);
/* What one entry of a table costs, measured: for calls, an unanswered INVITE
 * with SDP (the struct with its held first path segment and caller's endpoint, its strings,
 * the allocator's header); its table slot is the table's; 0 for a table that is not the
 * correlator's. */
size_t correlate_entry_bytes(enum mem_table t);

struct correlate_stats {
    uint64_t calls;               /* calls created */
    uint64_t transactions;
    uint64_t retransmissions;
    uint64_t evicted_calls;       /* dropped at the limit before they ended */
    uint64_t evicted_transactions;
    uint64_t out_of_dialog;       /* messages of no call and no registration: OPTIONS... */
    uint64_t registrations;
    uint64_t evicted_registrations;
    uint64_t evicted_media;       /* announced endpoints dropped at the limit */
    uint64_t dns_lookups;         /* DNS look-ups followed (a question and its retries) */
    uint64_t dns_unanswered_responses; /* responses to no question seen */
    uint64_t evicted_dns;         /* look-ups overwritten before their answer came */
    uint64_t errors[DR__COUNT];   /* what it found wrong in bodies it read: SDP, multipart */
};

/* What the correlator says of one message, for the message list. */
struct msg_verdict {
    uint64_t call_seq;   /* 0: belongs to no call */
    uint64_t reg_seq;    /* 0: belongs to no registration */
    bool retransmission;
    ptime_t original_time;   /* retransmission: when the first copy was seen */
    uint64_t original_frame; /* ... and its frame */
};

/* Where a UDP packet's destination was announced by SDP. */
#define MEDIA_MATCH_PTS 8
#define MEDIA_MATCH_SHARED 4

struct media_match {
    uint64_t call_seq;       /* the call whose SDP announced it last */
    /* calls that announced the same endpoint before it, newest first, 0 past the end: one
     * RTP port of a media server (IVR, conference, SBC) serves many calls at once */
    uint64_t shared[MEDIA_MATCH_SHARED];
    bool rtcp;               /* its RTCP port (or a muxed one) */
    bool rtp;                /* an RTP profile (RTP/AVP, RTP/SAVP...): not T.38 udptl etc. */
    uint8_t npts;
    uint8_t pt[MEDIA_MATCH_PTS];
    uint32_t rate[MEDIA_MATCH_PTS];  /* clock rate per payload type, 0 unknown */
    char codec[MEDIA_MATCH_PTS][16];
    /* the call was answered (a 2xx to its INVITE seen) when the stream began: told by the
     * engine, not the media table (false from media_lookup); the stream tracker listens
     * for tones longer in early media than after the answer (issue 24) */
    bool answered;
};

struct correlator;

/* The media a UDP flow belongs to: its destination's announcement, else its source's
 * (symmetric RTP behind NAT). When both ends were announced by different calls, one end
 * is shared (one port of a media server serves many calls) and the call is the one that
 * announced both. *src_ann and *dst_ann say which ends were announced; false: neither. */
bool correlate_media_flow(const struct correlator *c, const struct l4_packet *l4,
                          struct media_match *out, bool *src_ann, bool *dst_ann);

struct correlator *correlate_new(const struct correlate_config *cfg, call_done_fn done,
                                 void *user);
/* Registrations are handed on when the input ends (or when evicted at the limit). */
void correlate_on_registration(struct correlator *c, reg_done_fn fn);
void correlate_free(struct correlator *c);
void correlate_sip(struct correlator *c, const struct sip_event *ev, struct msg_verdict *v);
struct dns_msg;
/* A DNS query or answer: look-ups are followed per asking host, to be tied to the calls
 * whose INVITE they resolved. */
void correlate_dns(struct correlator *c, const struct l4_packet *l4, const struct dns_msg *m);
/* A look-up with no answer this long after its last try has timed out (resolvers retry
 * after 1-5 s; RFC 1536 §1). */
#define DNS_TIMEOUT (5 * PTIME_SEC)
/* Input ended: every call still held is handed on (answered without BYE: unfinished). */
/* Live capture: time passed with no SIP (now: packet time, from the clock when idle), so
 * calls whose waits are over are handed on without waiting for the next message. */
void correlate_tick(struct correlator *c, ptime_t now);
/* Live: each call still followed whose last message came after `since` (packet time),
 * as it stands now; for showing calls while they ring. Order is the table's. */
void correlate_each_changed(const struct correlator *c, ptime_t since, call_done_fn fn,
                            void *user);
/* Calls followed now (not handed on yet). A call handed on before linger (ended_wait) is
 * still followed for its retransmissions, not counted, and never handed on again. */
size_t correlate_active_calls(const struct correlator *c);
/* The number of the call a Call-ID names (its first leg's or another leg's) while the call
 * is followed, handed-on ones included; 0 none. For what names a call by Call-ID alone:
 * HEP's correlation id. */
uint64_t correlate_call_seq(const struct correlator *c, struct sv call_id);
void correlate_finish(struct correlator *c);
void correlate_get_stats(const struct correlator *c, struct correlate_stats *out);
/* Bytes its tables hold now (calls, transactions, media, registrations, dns) into u. */
void correlate_memory(const struct correlator *c, struct mem_usage *u);

#endif
