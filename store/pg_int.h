/* Inside store/: the PostgreSQL backend's connection, shared by pg.c (connection, schema,
 * writes) and pg_query.c (reads, partitions, retention). */
#ifndef SIPSCOPE_STORE_PG_INT_H
#define SIPSCOPE_STORE_PG_INT_H

#include <libpq-fe.h>

#include "store_int.h"

#define PG_DAYS    64 /* days known to have partitions (a cache) */
#define PG_NPARTED 8

/* The partitioned tables (each has a partition per day). */
extern const char *const pg_parted[PG_NPARTED];

/* Tables written by COPY; the first two through temp tables (merged). */
enum pg_table { T_CALLS, T_STREAMS, T_REGS, T_ISSUES, T_MSGS, T_MEDIA, T_KEYS, T__N };

struct buf {
    char *p; /* owned; kept between batches */
    size_t len, cap;
    bool oom;
};

struct pg {
    struct store base; /* first: what store.c dispatches through */
    PGconn *c;
    char *uri; /* owned: for reconnecting */
    bool reader;
    struct buf copy[T__N];
    unsigned nrows[T__N];
    unsigned pending; /* rows in the open batch */
    size_t bytes;     /* COPY data of the open batch */
    uint64_t ord;     /* staging order of calls and streams */
    struct store_counts open, done;
    uint64_t base_id;      /* the first id of this writer's block, less one */
    int64_t days[PG_DAYS]; /* days whose partitions exist, a ring */
    unsigned ndays, nextday;
    char probe[64];
    uint64_t reconnects;
    char err[256];
    char sqlstate[6]; /* of the last statement that failed: "40P01" a deadlock */
};

/* Binary COPY data ("COPY ... FROM STDIN BINARY": per row a 16-bit field count, per field
 * a 32-bit length, -1 for NULL, then the bytes; network order). A buffer that cannot grow
 * sets oom and takes nothing more. */
void pgc_put(struct buf *b, const void *p, size_t n);
void pgc_u16(struct buf *b, uint16_t v);
void pgc_u32(struct buf *b, uint32_t v);
void pgc_null(struct buf *b);
void pgc_i8(struct buf *b, int64_t v);
void pgc_id(struct buf *b, uint64_t v); /* 0: NULL */
void pgc_i4(struct buf *b, int32_t v);
void pgc_f8(struct buf *b, double v);
void pgc_f8_if(struct buf *b, double v, bool have);
void pgc_bool(struct buf *b, bool v);
void pgc_bytea(struct buf *b, const void *p, size_t n); /* p NULL: NULL */
/* Text as the server takes it: valid UTF-8 without NUL, other bytes written as '?'. */
void pgc_text_n(struct buf *b, const char *t, size_t n);
void pgc_text(struct buf *b, const char *t); /* NULL: NULL */

/* Records libpq's error after `what`; false. */
bool pg_fail(struct pg *s, const char *what);
/* Runs SQL that returns no rows we read; false with the error set. */
bool pg_exec(struct pg *s, const char *sql, const char *what);
/* The first column of the first row as an integer; def when none or NULL. */
bool pg_scalar(struct pg *s, const char *sql, int64_t def, int64_t *out);
/* Makes sure the partitions of day `day` (days since the epoch) and the day after exist. */
bool pg_ensure_day(struct pg *s, int64_t day);
/* The ops of pg_query.c. */
bool pg_retain(struct store *base, const struct store_retention *r, struct store_retained *out,
               bool *more);
uint64_t pg_used_bytes(struct store *base);
enum store_qstatus pg_rows(struct store *base, const char *sql, const struct store_arg *args,
                           int nargs, store_row_fn fn, void *user);
/* Commits the open batch (pg.c). */
bool pg_commit(struct pg *s);

#define PG_STATS_SQL                                                                               \
    "SELECT json_build_object('calls', (SELECT count(*) FROM calls),"                              \
    " 'streams', (SELECT count(*) FROM streams),"                                                  \
    " 'registrations', (SELECT count(*) FROM registrations),"                                      \
    " 'issues', (SELECT count(*) FROM issues),"                                                    \
    " 'messages', (SELECT count(*) FROM messages),"                                                \
    " 'media_chunks', (SELECT count(*) FROM media),"                                               \
    " 'runs', (SELECT count(*) FROM runs),"                                                        \
    " 'mos_spread', (SELECT coalesce(json_object_agg(b, n ORDER BY b COLLATE \"C\"), '{}')"        \
    "   FROM (SELECT CASE WHEN mos_min IS NULL THEN 'none'"                                        \
    "   ELSE to_char(floor(mos_min * 2) / 2, 'FM0.0') END AS b, count(*) AS n"                     \
    "   FROM calls GROUP BY b) x),"                                                                \
    " 'issue_kinds', (SELECT coalesce(json_object_agg(kind, n ORDER BY kind COLLATE \"C\"), '{}')" \
    "   FROM (SELECT kind, count(*) AS n FROM issues GROUP BY kind) x),"                           \
    " 'states', (SELECT coalesce(json_object_agg(state, n ORDER BY state COLLATE \"C\"), '{}')"    \
    "   FROM (SELECT state, count(*) AS n FROM calls GROUP BY state) x),"                          \
    " 'last_run', (SELECT json_build_object('started', started, 'ended', ended,"                   \
    "   'first_call', first_call_seq, 'last_call', last_call_seq,"                                 \
    "   'capture', json::json->'capture', 'stats', json::json->'stats')"                           \
    "   FROM runs WHERE json IS NOT NULL ORDER BY id DESC LIMIT 1))::text"

#endif
