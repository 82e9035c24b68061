/* See query.h. Each list query is built from fixed SQL fragments, one per filter given,
 * with the values bound in order; the statement is prepared per request (the web layer's
 * rate, not the packet rate). */
#include "query.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

enum { ARG_TEXT, ARG_REAL, ARG_INT };

struct qarg {
    int type;
    const char *t;
    double d;
    sqlite3_int64 i;
};

/* A statement under construction: SQL text and the values for its '?'s, in order. */
struct qb {
    char sql[2048];
    size_t len;
    struct qarg arg[32];
    struct qarg spare; /* written when arg is full, never read */
    int n;
    bool overflow;
    char hold[4][80]; /* texts made here (address prefixes) that must live until binding */
    int nhold;
};

static void sql(struct qb *q, const char *frag)
{
    size_t n = strlen(frag);
    if (q->len + n >= sizeof q->sql) {
        q->overflow = true;
        return;
    }
    memcpy(q->sql + q->len, frag, n + 1);
    q->len += n;
}

/* The next value; a dummy when there are too many (the statement is then refused). */
static struct qarg *arg(struct qb *q, int type)
{
    if (q->n == (int)(sizeof q->arg / sizeof *q->arg)) {
        q->overflow = true;
        return &q->spare;
    }
    q->arg[q->n].type = type;
    return &q->arg[q->n++];
}

static void text(struct qb *q, const char *v) { arg(q, ARG_TEXT)->t = v; }
static void real(struct qb *q, double v) { arg(q, ARG_REAL)->d = v; }
static void integer(struct qb *q, sqlite3_int64 v) { arg(q, ARG_INT)->i = v; }

static bool given(const char *v)
{
    return v && *v;
}

static enum store_qstatus bad(struct store *s, const char *why)
{
    store_set_error(s, why);
    return STORE_Q_BAD;
}

static enum store_qstatus prepare(struct store *s, struct qb *q, sqlite3_stmt **st)
{
    sqlite3 *db = store_reading(s);
    if (!db)
        return STORE_Q_ERROR;
    if (q->overflow)
        return bad(s, "too many filters");
    if (sqlite3_prepare_v2(db, q->sql, -1, st, NULL) != SQLITE_OK) {
        store_failed(s, "query");
        return STORE_Q_ERROR;
    }
    for (int i = 0; i < q->n; i++) {
        if (q->arg[i].type == ARG_TEXT)
            sqlite3_bind_text(*st, i + 1, q->arg[i].t, -1, SQLITE_STATIC);
        else if (q->arg[i].type == ARG_REAL)
            sqlite3_bind_double(*st, i + 1, q->arg[i].d);
        else
            sqlite3_bind_int64(*st, i + 1, q->arg[i].i);
    }
    return STORE_Q_OK;
}

/* "time,id" of the last row of a page. */
static void make_cursor(char *out, double t, sqlite3_int64 id)
{
    snprintf(out, STORE_CURSOR_LEN, "%.17g,%lld", t, (long long)id);
}

static bool parse_cursor(const char *c, double *t, sqlite3_int64 *id)
{
    char *end;
    errno = 0;
    *t = strtod(c, &end);
    if (end == c || *end != ',' || !isfinite(*t) || errno)
        return false;
    const char *p = end + 1;
    if (*p < '0' || *p > '9')
        return false;
    long long v = strtoll(p, &end, 10);
    if (*end || errno || v < 0)
        return false;
    *id = v;
    return true;
}

/* The shared tail of a list: time range, cursor, order, limit. tcol/idcol name the sort
 * columns. */
static enum store_qstatus page(struct store *s, struct qb *q, const char *tcol, const char *idcol,
                               double from, double to, const char *cursor, unsigned *limit)
{
    if (from < 0 || to < 0 || (from && to && to <= from) || !isfinite(from) || !isfinite(to))
        return bad(s, "bad time range");
    if (*limit > STORE_PAGE_MAX)
        return bad(s, "page limit above 1000");
    if (!*limit)
        *limit = STORE_PAGE_DEFAULT;
    if (from) {
        sql(q, " AND ");
        sql(q, tcol);
        sql(q, " >= ?");
        real(q, from);
    }
    if (to) {
        sql(q, " AND ");
        sql(q, tcol);
        sql(q, " < ?");
        real(q, to);
    }
    if (given(cursor)) {
        double t;
        sqlite3_int64 id;
        if (!parse_cursor(cursor, &t, &id))
            return bad(s, "bad cursor");
        sql(q, " AND (");
        sql(q, tcol);
        sql(q, ", ");
        sql(q, idcol);
        sql(q, ") < (?, ?)");
        real(q, t);
        integer(q, id);
    }
    sql(q, " ORDER BY ");
    sql(q, tcol);
    sql(q, " DESC, ");
    sql(q, idcol);
    sql(q, " DESC LIMIT ?");
    integer(q, (sqlite3_int64)*limit + 1); /* one more: is there a next page? */
    return STORE_Q_OK;
}

/* caller/callee (or src/dst) against an address: exact for "ip:port" or "[v6]:port", a
 * prefix range for a host ("ip", "[v6]" or a bare v6 address). */
static void address(struct qb *q, const char *a, const char *col1, const char *col2)
{
    const char *colon = strchr(a, ':');
    bool exact = a[0] == '[' ? strstr(a, "]:") != NULL : colon && !strchr(colon + 1, ':');
    const char *cols[2] = {col1, col2};
    if (exact) {
        sql(q, " AND (");
        for (int i = 0; i < 2; i++) {
            sql(q, i ? " OR " : "");
            sql(q, cols[i]);
            sql(q, " = ?");
            text(q, a);
        }
        sql(q, ")");
        return;
    }
    if (q->nhold + 2 > 4) {
        q->overflow = true;
        return;
    }
    char *lo = q->hold[q->nhold++], *hi = q->hold[q->nhold++];
    if (colon && a[0] != '[') /* a bare IPv6 address: written in brackets before its port */
        snprintf(lo, 80, "[%s]:", a);
    else
        snprintf(lo, 80, "%s:", a);
    memcpy(hi, lo, 80);
    hi[strlen(hi) - 1] = ':' + 1; /* every "host:port" sorts in [host:, host;) */
    sql(q, " AND (");
    for (int i = 0; i < 2; i++) {
        sql(q, i ? " OR (" : "(");
        sql(q, cols[i]);
        sql(q, " >= ? AND ");
        sql(q, cols[i]);
        sql(q, " < ?)");
        text(q, lo);
        text(q, hi);
    }
    sql(q, ")");
}

/* Runs a list statement: each row's column 0 (and column 1 for streams) to fn, up to
 * limit rows; the (time, id) of the last in columns 2 and 3 make the next cursor. */
static enum store_qstatus run_list(struct store *s, sqlite3_stmt *st, unsigned limit,
                                   store_json_fn fj, store_stream_fn fs, void *user, char *next)
{
    int rc;
    unsigned n = 0;
    double t = 0;
    sqlite3_int64 id = 0;
    next[0] = '\0';
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == limit) { /* the row past the page: there is a next one */
            make_cursor(next, t, id);
            break;
        }
        n++;
        t = sqlite3_column_double(st, 2);
        id = sqlite3_column_int64(st, 3);
        const char *json = (const char *)sqlite3_column_text(st, 0);
        bool more = fs ? fs(user, json, (const char *)sqlite3_column_text(st, 1))
                       : fj(user, json);
        if (!more)
            break;
    }
    enum store_qstatus r = rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_Q_OK : STORE_Q_ERROR;
    if (r == STORE_Q_ERROR)
        store_failed(s, "query");
    sqlite3_finalize(st);
    return r;
}

/* The end of every list query: time range, cursor, order and limit, then the rows. */
static enum store_qstatus finish_list(struct store *s, struct qb *q, const char *tcol,
                                      const char *idcol, double from, double to,
                                      const char *cursor, unsigned limit, store_json_fn fj,
                                      store_stream_fn fs, void *user, char *next)
{
    enum store_qstatus r = page(s, q, tcol, idcol, from, to, cursor, &limit);
    sqlite3_stmt *st;
    if (r != STORE_Q_OK || (r = prepare(s, q, &st)) != STORE_Q_OK)
        return r;
    return run_list(s, st, limit, fj, fs, user, next);
}

enum store_qstatus store_query_calls(struct store *s, const struct store_call_filter *f,
                                     store_json_fn fn, void *user, char *next)
{
    struct qb q = {0};
    sql(&q, "SELECT json, NULL, invite_time, seq FROM calls WHERE 1");
    if (given(f->user)) {
        sql(&q, " AND (from_user = ? OR to_user = ?)");
        text(&q, f->user);
        text(&q, f->user);
    }
    if (given(f->from_user)) {
        sql(&q, " AND from_user = ?");
        text(&q, f->from_user);
    }
    if (given(f->to_user)) {
        sql(&q, " AND to_user = ?");
        text(&q, f->to_user);
    }
    if (given(f->call_id)) {
        sql(&q, " AND seq IN (SELECT call_seq FROM legs WHERE call_id = ?)");
        text(&q, f->call_id);
    }
    if (given(f->state)) {
        sql(&q, " AND state = ?");
        text(&q, f->state);
    }
    if (f->status) {
        if (f->status >= 1 && f->status <= 6) {
            sql(&q, " AND final_status >= ? AND final_status < ?");
            integer(&q, f->status * 100);
            integer(&q, f->status * 100 + 100);
        } else if (f->status >= 100 && f->status <= 699) {
            sql(&q, " AND final_status = ?");
            integer(&q, f->status);
        } else {
            return bad(s, "status is 100 to 699, or 1 to 6 for a class");
        }
    }
    if (given(f->issue_kind)) {
        sql(&q, " AND seq IN (SELECT call_seq FROM issues WHERE kind = ?)");
        text(&q, f->issue_kind);
    }
    if (f->min_mos < 0 || f->min_mos > 5 || f->max_mos < 0 || f->max_mos > 5 || isnan(f->min_mos) ||
        isnan(f->max_mos))
        return bad(s, "MOS is 1 to 5");
    if (f->min_mos) {
        sql(&q, " AND mos_min >= ?");
        real(&q, f->min_mos);
    }
    if (f->max_mos) {
        sql(&q, " AND mos_min <= ?");
        real(&q, f->max_mos);
    }
    if (given(f->address) && strlen(f->address) > 64)
        return bad(s, "address too long");
    if (given(f->address))
        address(&q, f->address, "caller", "callee");
    if (given(f->text)) {
        sql(&q, " AND (instr(call_id, ?) OR instr(from_user, ?) OR instr(to_user, ?) OR"
                " instr(caller, ?) OR instr(callee, ?))");
        for (int i = 0; i < 5; i++)
            text(&q, f->text);
    }
    return finish_list(s, &q, "invite_time", "seq", f->from, f->to, f->cursor, f->limit, fn, NULL, user,
                       next);
}

/* Whether call seq exists. */
static enum store_qstatus call_exists(struct store *s, sqlite3 *db, uint64_t seq)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM calls WHERE seq = ?", -1, &st, NULL) != SQLITE_OK) {
        store_failed(s, "query");
        return STORE_Q_ERROR;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return STORE_Q_OK;
    if (rc == SQLITE_DONE)
        return STORE_Q_NOT_FOUND;
    store_failed(s, "query");
    return STORE_Q_ERROR;
}

/* Runs a per-call statement (one '?': the call) with each row to row(). */
static enum store_qstatus per_call(struct store *s, uint64_t seq, const char *text_sql,
                                   bool (*row)(sqlite3_stmt *st, void *fn, void *user),
                                   void *fn, void *user)
{
    sqlite3 *db = store_reading(s);
    if (!db)
        return STORE_Q_ERROR;
    enum store_qstatus r = call_exists(s, db, seq);
    if (r != STORE_Q_OK)
        return r;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, text_sql, -1, &st, NULL) != SQLITE_OK) {
        store_failed(s, "query");
        return STORE_Q_ERROR;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && row(st, fn, user))
        ;
    r = rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_Q_OK : STORE_Q_ERROR;
    if (r == STORE_Q_ERROR)
        store_failed(s, "query");
    sqlite3_finalize(st);
    return r;
}

/* Function pointers travel through per_call() as data pointers in a small box (C does not
 * convert between the two). */
struct fnbox {
    store_json_fn json;
    store_stream_fn stream;
    store_message_fn message;
};

static bool json_row(sqlite3_stmt *st, void *fn, void *user)
{
    return ((struct fnbox *)fn)->json(user, (const char *)sqlite3_column_text(st, 0));
}

enum store_qstatus store_get_call(struct store *s, uint64_t seq, store_json_fn fn, void *user)
{
    struct fnbox b = {.json = fn};
    return per_call(s, seq, "SELECT json FROM calls WHERE seq = ?", json_row, &b, user);
}

static bool stream_row(sqlite3_stmt *st, void *fn, void *user)
{
    return ((struct fnbox *)fn)->stream(user, (const char *)sqlite3_column_text(st, 0),
                                        (const char *)sqlite3_column_text(st, 1));
}

enum store_qstatus store_call_streams(struct store *s, uint64_t seq, store_stream_fn fn,
                                      void *user)
{
    struct fnbox b = {.stream = fn};
    return per_call(s, seq, "SELECT json, timeline FROM streams WHERE call_seq = ? ORDER BY seq",
                    stream_row, &b, user);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

static bool message_row(sqlite3_stmt *st, void *fn, void *user)
{
    struct store_message m = {
        .frame = (uint64_t)sqlite3_column_int64(st, 0),
        .time = sqlite3_column_double(st, 1),
        .src = col_text(st, 2),
        .dst = col_text(st, 3),
        .transport = col_text(st, 4),
        .method = col_text(st, 5),
        .status = sqlite3_column_int(st, 6),
        .reason = col_text(st, 7),
        .call_id = col_text(st, 8),
        .cseq = col_text(st, 9),
        .call_seq = (uint64_t)sqlite3_column_int64(st, 10),
        .retransmission = sqlite3_column_int(st, 11) != 0,
        .malformed = sqlite3_column_int(st, 12) != 0,
        .linktype = sqlite3_column_int(st, 14),
    };
    m.call_id_len = (size_t)sqlite3_column_bytes(st, 8);
    m.raw = sqlite3_column_blob(st, 13);
    m.raw_len = (size_t)sqlite3_column_bytes(st, 13);
    return ((struct fnbox *)fn)->message(user, &m);
}

enum store_qstatus store_call_messages(struct store *s, uint64_t seq, store_message_fn fn,
                                       void *user)
{
    struct fnbox b = {.message = fn};
    return per_call(s, seq,
                    "SELECT frame, time, src, dst, transport, method, status, reason, call_id,"
                    " cseq, call_seq, retransmission, malformed,"
                    " coalesce(raw, substr(frame_bytes, raw_off + 1, raw_len)), linktype"
                    " FROM messages WHERE call_seq = ? ORDER BY time, id",
                    message_row, &b, user);
}

enum store_qstatus store_query_streams(struct store *s, const struct store_list_filter *f,
                                       store_stream_fn fn, void *user, char *next)
{
    struct qb q = {0};
    sql(&q, "SELECT json, timeline, first_time, seq FROM streams WHERE 1");
    if (given(f->key) && strlen(f->key) > 64)
        return bad(s, "address too long");
    if (given(f->key))
        address(&q, f->key, "src", "dst");
    return finish_list(s, &q, "first_time", "seq", f->from, f->to, f->cursor, f->limit, NULL, fn, user,
                       next);
}

enum store_qstatus store_query_registrations(struct store *s, const struct store_list_filter *f,
                                             store_json_fn fn, void *user, char *next)
{
    struct qb q = {0};
    sql(&q, "SELECT json, NULL, last_time, id FROM registrations WHERE 1");
    if (given(f->key)) {
        sql(&q, " AND instr(aor, ?)");
        text(&q, f->key);
    }
    return finish_list(s, &q, "last_time", "id", f->from, f->to, f->cursor, f->limit, fn, NULL, user,
                       next);
}

enum store_qstatus store_query_issues(struct store *s, const struct store_list_filter *f,
                                      store_json_fn fn, void *user, char *next)
{
    struct qb q = {0};
    sql(&q, "SELECT json, NULL, time, id FROM issues WHERE 1");
    if (given(f->key)) {
        sql(&q, " AND kind = ?");
        text(&q, f->key);
    }
    if (given(f->severity)) {
        sql(&q, " AND severity = ?");
        text(&q, f->severity);
    }
    return finish_list(s, &q, "time", "id", f->from, f->to, f->cursor, f->limit, fn, NULL, user,
                       next);
}

enum store_qstatus store_stats(struct store *s, store_json_fn fn, void *user)
{
    struct qb q = {0};
    sql(&q, "SELECT json_object('calls', (SELECT count(*) FROM calls),"
            " 'streams', (SELECT count(*) FROM streams),"
            " 'registrations', (SELECT count(*) FROM registrations),"
            " 'issues', (SELECT count(*) FROM issues),"
            " 'messages', (SELECT count(*) FROM messages),"
            " 'media_chunks', (SELECT count(*) FROM media),"
            " 'runs', (SELECT count(*) FROM runs),"
            /* worst MOS of the calls in half-point bands ("4.0" holds 4.0 to 4.49) */
            " 'mos_spread', (SELECT json_group_object(b, n) FROM (SELECT CASE WHEN mos_min IS"
            "   NULL THEN 'none' ELSE printf('%.1f', floor(mos_min * 2) / 2) END AS b,"
            "   count(*) AS n FROM calls GROUP BY b ORDER BY b)),"
            " 'issue_kinds', (SELECT json_group_object(kind, n) FROM (SELECT kind, count(*) AS n"
            "   FROM issues GROUP BY kind ORDER BY kind)),"
            " 'states', (SELECT json_group_object(state, n) FROM (SELECT state, count(*) AS n"
            "   FROM calls GROUP BY state ORDER BY state)),"
            " 'last_run', (SELECT json_object('started', started, 'ended', ended,"
            "   'first_call', first_call_seq, 'last_call', last_call_seq,"
            "   'capture', json_extract(json, '$.capture'), 'stats', json_extract(json, '$.stats'))"
            "   FROM runs WHERE json IS NOT NULL ORDER BY id DESC LIMIT 1)),"
            " NULL, 0, 0");
    sqlite3_stmt *st;
    enum store_qstatus r = prepare(s, &q, &st);
    if (r != STORE_Q_OK)
        return r;
    char next[STORE_CURSOR_LEN];
    return run_list(s, st, 1, fn, NULL, user, next);
}

enum store_qstatus store_calls_since(struct store *s, uint64_t after, unsigned limit,
                                     store_rev_fn fn, void *user, uint64_t *last)
{
    struct qb q = {0};
    sql(&q, "SELECT json, NULL, 0, rev, (SELECT coalesce(max(rev), 0) FROM calls) FROM calls"
            " WHERE rev > ? ORDER BY rev LIMIT ?");
    integer(&q, (sqlite3_int64)after);
    integer(&q, limit ? limit : STORE_PAGE_DEFAULT);
    sqlite3_stmt *st;
    enum store_qstatus r = prepare(s, &q, &st);
    if (r != STORE_Q_OK)
        return r;
    int rc;
    *last = after;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        *last = (uint64_t)sqlite3_column_int64(st, 4);
        if (!fn(user, (uint64_t)sqlite3_column_int64(st, 3), (const char *)sqlite3_column_text(st, 0)))
            break;
    }
    r = rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_Q_OK : STORE_Q_ERROR;
    if (r == STORE_Q_ERROR)
        store_failed(s, "query");
    sqlite3_finalize(st);
    return r;
}
