/* The queries of the API (docs/design.md, "Interfaces"): the web layer calls these
 * and writes no SQL of its own. Lists are newest first and paged by an opaque cursor
 * (keyset pagination: a page costs the same however deep it is, and rows added meanwhile
 * do not shift it). Every value a caller passes is bound as a parameter, never pasted
 * into SQL text.
 *
 * Rows come back through callbacks, valid during the call only: calls, streams,
 * registrations and issues as their stored docs/output.md objects (JSON text), messages as
 * fields plus their raw bytes (not JSON: raw SIP need not be UTF-8; the web layer decides
 * how to show it). */
#ifndef SIPSCOPE_STORE_QUERY_H
#define SIPSCOPE_STORE_QUERY_H

#include "store.h"

enum store_qstatus {
    STORE_Q_OK,
    STORE_Q_NOT_FOUND, /* no such call */
    STORE_Q_BAD,       /* a filter or cursor that cannot be right (store_error says which) */
    STORE_Q_ERROR,     /* the database failed (store_error) */
};

#define STORE_PAGE_DEFAULT 50
#define STORE_PAGE_MAX 1000
#define STORE_CURSOR_LEN 48

/* Filters of /api/v1/calls; zero values filter nothing. All given filters must hold. */
struct store_call_filter {
    double from, to;           /* first INVITE in [from, to), epoch seconds; 0: open */
    const char *user;          /* From or To user equals */
    const char *from_user, *to_user;
    const char *to_domain;     /* the To URI's host, without case (as /api/v1/top's domain) */
    const char *call_id;       /* one of the call's legs has this Call-ID */
    const char *state;         /* docs/output.md state */
    int status;                /* final status: 100..699 exactly, or 1..6 for a class */
    const char *issue_kind;    /* the call has an issue of this kind */
    double min_mos, max_mos;   /* worst MOS at least / at most; 0: none (a call without
                                * MOS never passes either) */
    const char *address;       /* caller or callee: "ip:port", or a host ("ip", "[v6]") */
    const char *text;          /* a substring of the Call-ID, a user, the caller or callee */
    const char *cursor;        /* NULL or "": the first page */
    unsigned limit;            /* rows per page; 0: STORE_PAGE_DEFAULT; at most STORE_PAGE_MAX */
};

typedef bool (*store_json_fn)(void *user, const char *json);

/* One page of calls. next (STORE_CURSOR_LEN bytes; it may be the buffer f->cursor points
 * to) gets the cursor of the following page, "" when this is the last; it is left alone
 * unless the answer is STORE_Q_OK. */
enum store_qstatus store_query_calls(struct store *s, const struct store_call_filter *f,
                                     store_json_fn fn, void *user, char *next);
enum store_qstatus store_get_call(struct store *s, uint64_t seq, store_json_fn fn, void *user);

/* A call's messages in time order (for the ladder): the fields of struct store_message,
 * with raw/raw_len the message's bytes (NULL when not kept) and frame_bytes NULL. */
typedef bool (*store_message_fn)(void *user, const struct store_message *m);
enum store_qstatus store_call_messages(struct store *s, uint64_t seq, store_message_fn fn,
                                       void *user);

/* The same for several calls at once (a call and the calls joined to it), merged in time
 * order; m->probe says which probe stored each. The first call must exist. */
enum store_qstatus store_calls_messages(struct store *s, const uint64_t *seqs, unsigned n,
                                        store_message_fn fn, void *user);

/* One call as several probes saw it. Two calls of different probes are joined when they
 * share a key (store.h, struct store_message's keys: a Call-ID, or the Call-ID one's X-CID
 * names; a Session-ID UUID) and began within STORE_JOIN_WINDOW_S of each other; the joined
 * calls are the closure of that, at most STORE_JOIN_MAX calls with the first. */
#define STORE_JOIN_MAX      16
#define STORE_JOIN_WINDOW_S 3600
enum { STORE_JOIN_CALL_ID = 1, STORE_JOIN_X_CID = 2, STORE_JOIN_SESSION_ID = 4 };
struct store_joined {
    uint64_t seq;
    const char *probe; /* NULL: none stored */
    unsigned by;       /* STORE_JOIN_*: the keys it shares with the call it was found by; 0
                        * for the call asked for */
    const char *json;  /* its docs/output.md object */
};
typedef bool (*store_joined_fn)(void *user, const struct store_joined *j);
/* The call asked for first, then each call joined to it: those it shares a key with in
 * order of first INVITE, then theirs (hop by hop). */
enum store_qstatus store_call_joined(struct store *s, uint64_t seq, store_joined_fn fn, void *user);

/* A call's streams in order, each with its timeline (NULL when not kept). */
typedef bool (*store_stream_fn)(void *user, const char *json, const char *timeline);
enum store_qstatus store_call_streams(struct store *s, uint64_t seq, store_stream_fn fn,
                                      void *user);

/* Filters of the other lists: time range (a stream's first packet, a registration's last
 * message, an issue's time), and one key each: streams by address (source or
 * destination, as for calls), registrations by AoR substring, issues by kind. */
struct store_list_filter {
    double from, to;
    const char *key;
    const char *severity;      /* issues only: "info", "warning", "critical" */
    int reported;              /* streams only: 1 those a HEP agent reported (reported_by),
                                * 2 of those only orphans, of no call; 0 all */
    const char *cursor;
    unsigned limit;
};
enum store_qstatus store_query_streams(struct store *s, const struct store_list_filter *f,
                                       store_stream_fn fn, void *user, char *next);
enum store_qstatus store_query_registrations(struct store *s, const struct store_list_filter *f,
                                             store_json_fn fn, void *user, char *next);
enum store_qstatus store_query_issues(struct store *s, const struct store_list_filter *f,
                                      store_json_fn fn, void *user, char *next);

/* Calls written after revision `after` (every write of a call takes the next revision),
 * oldest change first, at most limit (0: STORE_PAGE_DEFAULT); fn gets each call's
 * revision and object. *last gets the newest revision in the database when a row came
 * back, else stays `after`. */
typedef bool (*store_rev_fn)(void *user, uint64_t rev, const char *json);
enum store_qstatus store_calls_since(struct store *s, uint64_t after, unsigned limit,
                                     store_rev_fn fn, void *user, uint64_t *last);

/* /api/v1/stats: one JSON object with the row count of each table, the calls' worst MOS
 * in half-point bands ("mos_spread": {"4.0": n, ..., "none": n}), issues by kind
 * ("issue_kinds"), calls by state ("states"), and the
 * last run's capture and stats blocks ("last_run", null when none was recorded). */
enum store_qstatus store_stats(struct store *s, store_json_fn fn, void *user);

#endif
