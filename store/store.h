/* The store: calls, streams (with their timelines), registrations, issues and SIP
 * messages (raw text and the original frame with its link type, for pcap export), as the
 * objects of docs/output.md plus the columns the API filters on.
 *
 * One interface, two backends (store_int.h), chosen by the --db string: a SQLite file
 * (sqlite.c, the default) or a PostgreSQL database named by a libpq URI (pg.c), which many
 * probes write at once. store_open() creates or migrates the schema (SQLite: versioned, in
 * order, each step in one transaction, WAL with synchronous=NORMAL; PostgreSQL: tables
 * partitioned by day). Writes are batched into transactions (STORE_BATCH rows);
 * store_close() commits the last batch. Errors are values: every put returns false and
 * store_error() says why. */
#ifndef SIPSCOPE_STORE_H
#define SIPSCOPE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_SCHEMA_VERSION 5
#define STORE_BATCH 4096 /* rows per transaction */

struct store;

/* The record types, for counters. */
enum store_kind { STORE_CALL, STORE_STREAM, STORE_REGISTRATION, STORE_ISSUE, STORE_MESSAGE,
                  STORE_MEDIA, STORE_KINDS };
const char *store_kind_name(enum store_kind k);

/* What the database holds for sure: rows of committed transactions, by type. */
struct store_counts {
    uint64_t rows[STORE_KINDS];
    uint64_t new_calls;     /* calls committed for the first time (not updates) */
    uint64_t last_call_seq; /* the last call committed for the first time, 0 none */
    uint64_t commits;
};

/* Whether the --db string names a PostgreSQL database (a libpq URI, "postgresql://" or
 * "postgres://"); anything else is a SQLite file. */
bool store_is_postgres(const char *db);

/* Opens (creating) the database at path and brings its schema to STORE_SCHEMA_VERSION.
 * NULL with err set when it cannot, or when the file was written by a newer version. */
struct store *store_open(const char *path, char *err, size_t errlen);
/* Opens an existing database to read only (the web server beside a writer; WAL lets both
 * run). It must have this version's schema: a reader never migrates. */
struct store *store_open_reader(const char *path, char *err, size_t errlen);
/* The probe that writes (--probe): stored on every row it writes from now on. */
void store_set_probe(struct store *s, const char *probe);
/* Commits what is pending and closes; false when the last commit failed. */
bool store_close(struct store *s);
const char *store_error(const struct store *s);
/* Commits the open batch now (the writer does when it has caught up). */
bool store_flush(struct store *s);
void store_counts(const struct store *s, struct store_counts *out);
int store_schema_version(struct store *s);
/* Calls already in the database: a new analysis numbers its calls after them. */
uint64_t store_max_call_seq(struct store *s);
uint64_t store_max_stream_seq(struct store *s);

struct store_call {
    uint64_t seq;
    const char *call_id, *from_user, *to_user, *caller, *callee, *state;
    int final_status;          /* 0 none */
    double invite_time, end_time; /* end_time < 0: none */
    double mos_min;            /* < 0: none */
    const char *issue_kinds;   /* comma-separated, "" none */
    const char *json;          /* the docs/output.md object */
    bool update;               /* a later version of a call stored before */
    bool progress;             /* live: the call as it stands, before it ends (stored or
                                * replaced; not counted as a call committed) */
};
bool store_put_call(struct store *s, const struct store_call *c);

struct store_stream {
    uint64_t seq, call_seq;    /* call_seq 0: orphan */
    const char *src, *dst, *codec;
    double first_time, last_time;
    double mos;                /* < 0: none */
    const char *json;
    const char *timeline;      /* per-second figures as JSON, NULL none */
};
bool store_put_stream(struct store *s, const struct store_stream *st);

struct store_registration {
    const char *aor, *contact, *source, *state;
    double first_time, last_time;
    const char *json;
};
bool store_put_registration(struct store *s, const struct store_registration *r);

struct store_issue {
    const char *kind, *severity;
    uint64_t call_seq, stream_seq; /* 0 none */
    const char *registration;  /* NULL none */
    double time;
    const char *json;
};
bool store_put_issue(struct store *s, const struct store_issue *is);

struct store_message {
    uint64_t call_seq;         /* 0 none */
    uint64_t frame;
    double time;
    const char *src, *dst, *transport;
    const char *method;        /* NULL for a response */
    int status;                /* 0 for a request */
    const char *reason;        /* a response's reason phrase, NULL none */
    bool malformed;
    const char *call_id, *cseq; /* NULL none */
    size_t call_id_len;        /* bytes of call_id (it may hold a NUL); 0: up to its NUL */
    bool retransmission;
    const void *raw;           /* the SIP message's bytes; NULL when raw_in_frame, or when
                                * raw SIP is not kept */
    size_t raw_len;
    bool raw_in_frame;         /* the bytes are frame_bytes[raw_off, raw_off + raw_len) */
    size_t raw_off;
    int linktype;
    const void *frame_bytes;   /* the captured frame that completed it, NULL not kept */
    size_t frame_len;
    /* The keys that join the legs one call has on several probes (a B2BUA's two sides seen
     * by two probes): stored for the call when keys is set (an initial INVITE or a 2xx to
     * one), and matched between calls of different probes (store_call_joined()): its
     * Call-ID, the Call-ID its X-CID names, its RFC 7989 Session-ID UUIDs. NULL or "" none. */
    bool keys;
    const char *x_cid;
    const char *session_local, *session_remote;
    const char *probe; /* read back: the probe that stored it; not written from here */
};
bool store_put_message(struct store *s, const struct store_message *m);

/* A chunk of a call's spooled media: RTP/RTCP frames as pcap records, each a 16-byte
 * header (seconds, nanoseconds, captured length, original length; native byte order, as
 * a pcap file with the nanosecond magic) followed by the frame. */
struct store_media {
    uint64_t call_seq;
    double first_time, last_time;
    int linktype;
    uint32_t packets;
    const void *frames;
    size_t len;
};
bool store_put_media(struct store *s, const struct store_media *md);

/* One analysis or capture run: begun when it starts (the calls it will number come after
 * first_call_seq - 1), ended with the document's capture and stats blocks as JSON. Not
 * through the writer: called before it starts and after it stops. */
int64_t store_run_begin(struct store *s, double started, uint64_t first_call_seq);
bool store_run_end(struct store *s, int64_t run, double ended, uint64_t last_call_seq,
                   const char *json);

/* Retention: the oldest calls go, with everything that belongs to them (legs, messages,
 * streams, issues, spooled media), and so do rows of no call (loose messages, orphan
 * streams, registrations, issues, media) older than the oldest call kept. "Oldest" and
 * "age" are by packet time, measured back from the newest call stored, so that a
 * database filled from old capture files ages as the capture did.
 *
 * store_retain() does one batch of at most batch_calls calls in one transaction, so that
 * writers queue behind it for a short time only and readers (WAL) not at all; *more says
 * whether another batch is due. */
struct store_retention {
    double max_age_s;          /* calls older than this go; 0: no limit by age */
    uint64_t max_bytes;        /* the oldest calls go while the data takes more; 0: none */
    double media_max_age_s;    /* spooled media older than this goes (sooner than its
                                * call); 0: kept as long as the call */
    unsigned batch_calls;      /* 0: 256 */
};
struct store_retained {
    uint64_t rows[STORE_KINDS]; /* deleted, by type */
    uint64_t batches;
};
bool store_retain(struct store *s, const struct store_retention *r, struct store_retained *out,
                  bool *more);
/* Bytes the data takes: pages in use (the file less its free pages) times the page size. */
uint64_t store_used_bytes(struct store *s);

/* Queries (the web layer and the CLI read through these; they write no SQL of their own). */

/* Every frame that carried a SIP message of call `call_seq`, in time order, each once
 * (a TCP segment with two messages is one frame). fn returns false to stop. Returns
 * false on a database error; *found says whether the call exists. */
typedef bool (*store_frame_fn)(void *user, uint64_t frame, double time, int linktype,
                               const void *data, size_t len);
bool store_call_frames(struct store *s, uint64_t call_seq, store_frame_fn fn, void *user,
                       bool *found);
/* Every chunk of spooled media of call `call_seq` (pcap records, struct store_media), in
 * time order. fn returns false to stop. false on a database error. */
typedef bool (*store_media_fn)(void *user, int linktype, const void *records, size_t len);
bool store_call_media(struct store *s, uint64_t call_seq, store_media_fn fn, void *user);

#endif
