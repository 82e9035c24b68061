/* Inside store/: the interface every backend implements (SQLite in sqlite.c, PostgreSQL in
 * pg.c), and the generic way the query functions (query.c, callaudio.c) run SQL on either.
 *
 * A backend's connection struct begins with `const struct store_ops *ops`; struct store is
 * that first member, so store.c dispatches every public call through it. The query text is
 * written once, with '?' for each value, in SQL both engines read; where the dialects part
 * (JSON functions, the stats query) the backend gives its own text. */
#ifndef SIPSCOPE_STORE_INT_H
#define SIPSCOPE_STORE_INT_H

#include <stdint.h>

#include "query.h"
#include "store.h"

/* A value bound to a '?', in order. */
enum store_arg_type { STORE_ARG_TEXT, STORE_ARG_REAL, STORE_ARG_INT };
struct store_arg {
    enum store_arg_type type;
    const char *t;
    double d;
    int64_t i;
};

/* One row of a result, read through store_col_*: valid during the callback only. */
struct store_row {
    int backend; /* STORE_BACKEND_* */
    void *h;     /* the backend's statement or result */
    int row;
};
enum { STORE_BACKEND_SQLITE, STORE_BACKEND_PG };

typedef bool (*store_row_fn)(void *user, const struct store_row *r);

struct store_ops {
    int backend;
    bool (*close)(struct store *s);
    const char *(*error)(const struct store *s);
    void (*set_error)(struct store *s, const char *why);
    bool (*flush)(struct store *s);
    void (*counts)(const struct store *s, struct store_counts *out);
    int (*schema_version)(struct store *s);
    uint64_t (*max_call_seq)(struct store *s);
    uint64_t (*max_stream_seq)(struct store *s);
    void (*set_probe)(struct store *s, const char *probe);
    bool (*put_call)(struct store *s, const struct store_call *c);
    bool (*put_stream)(struct store *s, const struct store_stream *st);
    bool (*put_registration)(struct store *s, const struct store_registration *r);
    bool (*put_issue)(struct store *s, const struct store_issue *is);
    bool (*put_message)(struct store *s, const struct store_message *m);
    bool (*put_media)(struct store *s, const struct store_media *md);
    int64_t (*run_begin)(struct store *s, double started, uint64_t first_call_seq);
    bool (*run_end)(struct store *s, int64_t run, double ended, uint64_t last_call_seq,
                    const char *json);
    bool (*retain)(struct store *s, const struct store_retention *r, struct store_retained *out,
                   bool *more);
    uint64_t (*used_bytes)(struct store *s);
    /* Runs sql (values for its '?'s in args) after committing the open batch; each row to
     * fn until it returns false. STORE_Q_ERROR with the error set when the database fails. */
    enum store_qstatus (*rows)(struct store *s, const char *sql, const struct store_arg *args,
                               int nargs, store_row_fn fn, void *user);
    /* The dialect: the text of a JSON object's member as SQL (text or number), and the
     * whole /api/v1/stats query (one row, the object in column 0). */
    const char *json_member_fmt; /* printf format: column, member name */
    const char *stats_sql;
};

struct store {
    const struct store_ops *ops;
};

/* A join key of a call, from a message that carries them (struct store_message's keys):
 * kind is what it is matched against ("cid": a Call-ID; "sid": a Session-ID UUID), via
 * where it came from ("call_id", "x_cid", "session_id"); key is n bytes. */
struct store_key {
    const char *kind, *via, *key;
    size_t n;
};
#define STORE_MSG_KEYS 4
/* The keys of m (none unless m->keys and m->call_seq); how many, into out. */
int store_message_keys(const struct store_message *m, struct store_key out[STORE_MSG_KEYS]);

/* The calls joined to a call (query.h, store_call_joined()): rows of (seq, probe, the
 * keys' kind, this call's via, the other's via, its json) for the call in '?'. SQL both
 * engines read ("IS DISTINCT FROM": SQLite 3.39 and later); 3600 is STORE_JOIN_WINDOW_S. At
 * most 64 rows: a key many calls share (a constant X-CID) must not pull in all of them. */
#define STORE_SQL_JOINED                                                                           \
    "SELECT c.seq, c.probe, k1.kind, k1.via, k2.via, c.json FROM call_keys k1"                     \
    " JOIN call_keys k2 ON k2.key = k1.key AND k2.kind = k1.kind AND k2.call_seq <> k1.call_seq"   \
    " JOIN calls me ON me.seq = k1.call_seq JOIN calls c ON c.seq = k2.call_seq"                   \
    " WHERE k1.call_seq = ? AND c.probe IS DISTINCT FROM me.probe"                                 \
    " AND abs(c.invite_time - me.invite_time) <= 3600 ORDER BY c.invite_time, c.seq LIMIT 64"
/* A list's condition (calls as the outer table): no call joined to it began before it. */
#define STORE_SQL_NOT_JOINED_EARLIER                                                               \
    " AND NOT EXISTS (SELECT 1 FROM call_keys k1 JOIN call_keys k2 ON k2.key = k1.key"             \
    " AND k2.kind = k1.kind AND k2.call_seq <> k1.call_seq JOIN calls o ON o.seq = k2.call_seq"    \
    " WHERE k1.call_seq = calls.seq AND o.probe IS DISTINCT FROM calls.probe"                      \
    " AND abs(o.invite_time - calls.invite_time) <= 3600"                                          \
    " AND (o.invite_time < calls.invite_time"                                                      \
    " OR (o.invite_time = calls.invite_time AND o.seq < calls.seq)))"

/* SQLite's schema steps (sqlite_schema.c): [k] takes version k to k + 1. */
extern const char *const store_sqlite_migrations[];
extern const size_t store_sqlite_nmigrations;

/* The backends' constructors (store.c picks one by the --db string). */
struct store *store_sqlite_open(const char *path, bool reader, char *err, size_t errlen);
struct store *store_pg_open(const char *uri, bool reader, char *err, size_t errlen);

/* Columns of a row: text (NULL for SQL NULL; NUL-terminated), a number, an integer, a
 * blob (its length in *n), and whether it is NULL. */
const char *store_col_text(const struct store_row *r, int i);
size_t store_col_bytes(const struct store_row *r, int i);
double store_col_double(const struct store_row *r, int i);
int64_t store_col_int(const struct store_row *r, int i);
const void *store_col_blob(const struct store_row *r, int i, size_t *n);
bool store_col_null(const struct store_row *r, int i);

/* The backends' column readers, for store.c. */
const char *store_sqlite_col_text(const struct store_row *r, int i);
size_t store_sqlite_col_bytes(const struct store_row *r, int i);
double store_sqlite_col_double(const struct store_row *r, int i);
int64_t store_sqlite_col_int(const struct store_row *r, int i);
const void *store_sqlite_col_blob(const struct store_row *r, int i, size_t *n);
bool store_sqlite_col_null(const struct store_row *r, int i);
const char *store_pg_col_text(const struct store_row *r, int i);
size_t store_pg_col_bytes(const struct store_row *r, int i);
double store_pg_col_double(const struct store_row *r, int i);
int64_t store_pg_col_int(const struct store_row *r, int i);
const void *store_pg_col_blob(const struct store_row *r, int i, size_t *n);
bool store_pg_col_null(const struct store_row *r, int i);

/* Runs sql through the backend (see store_ops.rows). */
enum store_qstatus store_rows(struct store *s, const char *sql, const struct store_arg *args,
                              int nargs, store_row_fn fn, void *user);
/* Sets the error text alone (a refusal of ours, not the database's). */
void store_set_error(struct store *s, const char *why);
/* SQL for member `name` of the JSON text in `column`, into out. */
void store_json_member(const struct store *s, const char *column, const char *name, char *out,
                       size_t outlen);
const char *store_stats_sql(const struct store *s);

#endif
