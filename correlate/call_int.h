/* Internal to correlate/: a call as the correlator holds it, and the correlator itself,
 * shared by call.c (the calls table: a call's creation, its lists and waits, hand-on and
 * release), call_sip.c (what each SIP message does to its call: the state machine,
 * retransmissions, transfers, digits, B2BUA legs) and call_sdp.c (what its SDP says:
 * each side's media, codecs, holds). */
#ifndef SIPSCOPE_CALL_INT_H
#define SIPSCOPE_CALL_INT_H

#include "common/hash.h"
#include "common/list.h"
#include "correlate_int.h"
#include "decode/sdp.h"

/* What few calls need, allocated on first use (every INVITE of a flood paid for
 * them): a CANCEL, a Session-ID, an answer (the session timer), an in-dialog offer, a digit
 * sent in INFO. */
struct call_more {
    ptime_t cancel_time;         /* cancel_seen: when */
    ptime_t refreshed_at;        /* last 2xx to INVITE or UPDATE: the session's refresh */
    struct session_ref *session; /* owned, NULL none */
    uint32_t session_expires;    /* RFC 4028 interval of the last 2xx, seconds; 0 none */
    uint32_t dtmf_dropped;       /* INFO digits past CALL_MAX_DTMF */
    uint16_t dtmf_cap;
    uint8_t reoffer; /* an in-dialog offer awaiting its 2xx: 1 + its enum
                      * sdp_direction (0 none), and who sent it */
    uint8_t reoffer_by;
};

struct call_int {
    struct call pub;
    struct dlist_node node; /* in active (LRU), ended or challenged (both FIFO) */
    /* ended: when; it is handed on and freed after its wait (release_at(), hand_at()) */
    ptime_t ended_at;
    struct call_more *more;      /* owned; NULL until needed */
    struct media_keys media;     /* the endpoints its SDP put in the media table */
    /* its first path segment while it is all there is, and what its path dropped (path.c) */
    struct path_more path;
    /* (the small ones last, together: no holes; the flood test counts every byte of an INVITE's
     * call, and the Call-ID's length and whether it ended or was handed on are worked out
     * again: strlen, and the list it is in) */
    /* the caller's first media endpoint: pub.caller_side.eps while it is the only one
     * (20 bytes in a block of their own cost 32 in every INVITE of a flood) */
    struct call_media_ep caller_ep;
    uint8_t list; /* the list it is in: its index in LISTS (call_ended(), call_handed()) */
    bool cancel_seen;
    bool ringing_callers; /* ringing_time is the 18x on the caller's segment */
    /* its strings, in the same block (an allocator's header and rounding for
     * each, in every INVITE of a flood), from offsetof(strings) on: pub.call_id points
     * here */
    char strings[];
};

/* A joined leg's Call-ID, pointing at its call (the calls table is keyed by the call's
 * own Call-ID). */
struct leg_ref {
    struct call_int *call;
    uint8_t idx;      /* in call->pub.legs */
    uint64_t hash;
};

/* A call's RFC 7989 Session-ID (the UUID its UA made): a B2BUA passes it unchanged to the
 * next leg, whose INVITE then names the call as surely as X-CID does. */
struct session_ref {
    char uuid[33];
    uint64_t hash;
    struct call_int *call;
};

struct correlator {
    struct correlate_config cfg;
    struct ctab *calls;     /* Call-ID -> struct call_int */
    /* The distinct codec lists of SDPs (each call's, each side's, strdup'd; a
     * capture holds a handful, a flood one): calls point into the pool; past CODEC_POOL
     * lists, a call owns its copy */
    struct ctab *codec_ix;  /* text -> its row of codec_pool */
    char (*codec_pool)[64];
    size_t ncodec;
    struct htab *legs;       /* leg Call-ID -> struct leg_ref */
    struct htab *sessions;   /* Session-ID UUID -> struct session_ref */
    /* probation: INVITEs nothing has answered yet, by arrival (what a flood fills, so
     * evicted first); active: by last activity; ended: waiting 64*T1 for retransmissions;
     * challenged: answered 401/407, waiting longer for the retry; handed: ended, handed on
     * before 64*T1 (live), kept for its retransmissions. Each is in release order, so a
     * sweep only ever looks at list heads. */
    struct dlist probation, active, ended, challenged, handed;
    struct txn_table *txns;
    struct reg_table *regs;
    struct media_table *media;
    struct lookup_table *dns;
    ptime_t last_time;      /* of the last message: the input's end for expiry checks */
    call_done_fn done;
    void *user;
    uint64_t next_seq;
    struct correlate_stats st;
    size_t nhanded;          /* calls in `handed` */
    struct sdp sdp;          /* scratch: the current message's SDP, parsed once */
};

/* A call's list, kept as an index (a byte, not a pointer, in every call). */
#define LISTS(c) {&(c)->probation, &(c)->active, &(c)->ended, &(c)->challenged, &(c)->handed}
enum { LIST_PROBATION, LIST_ACTIVE, LIST_ENDED, LIST_CHALLENGED, LIST_HANDED }; /* in LISTS */

/* Ended (BYE, CANCEL, a final failure): waiting for its release, handed on or not. */
static inline bool call_ended(const struct call_int *ci)
{
    return ci->list >= LIST_ENDED;
}

/* Handed on before its release (live: ended_wait), kept for its retransmissions. */
static inline bool call_handed(const struct call_int *ci)
{
    return ci->list == LIST_HANDED;
}

/* call.c */
/* A new call for an initial INVITE (cid: its Call-ID, h: its hash), in probation; a full
 * table makes room by its eviction order. NULL when none can be made. */
struct call_int *call_new(struct correlator *c, const struct sip_event *ev, struct sv cid,
                          uint64_t h);
struct dlist *call_list_of(struct correlator *c, const struct call_int *ci);
void call_move(struct correlator *c, struct call_int *ci, struct dlist *to);
void call_end(struct correlator *c, struct call_int *ci, ptime_t now, bool challenged);
void call_revive(struct correlator *c, struct call_int *ci);
/* Hands on (and frees) the calls whose wait is over at `now`. */
void call_sweep(struct correlator *c, ptime_t now);
struct call_more *call_more(struct call_int *ci);
char *call_codecs_keep(struct correlator *c, const char *text);
void call_codecs_drop(const struct correlator *c, char *t);

/* call_sdp.c */
void call_set_codecs(struct correlator *c, char **dst, const struct sdp *s);
/* side: 0 the caller's SDP, 1 the callee's */
void call_record_side(struct correlator *c, struct call_int *ci, int side, const struct sdp *s,
                      const struct sip_event *ev);
/* An in-dialog offer (re-INVITE, UPDATE; sdp NULL: none) sent by `by`. */
void call_track_hold(struct call_int *ci, const struct sip_event *ev, const struct sdp *sdp,
                     enum call_party by, ptime_t now);
/* A 2xx to an in-dialog offer, with its SDP. */
void call_track_hold_answer(struct call_int *ci, const struct sip_event *ev,
                            const struct sdp *sdp);

#endif
