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

/* A statement under construction: SQL text and the values for its '?'s, in order. */
struct qb {
    char sql[2048];
    size_t len;
    struct store_arg arg[32];
    struct store_arg spare; /* written when arg is full, never read */
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
static struct store_arg *arg(struct qb *q, enum store_arg_type type)
{
    if (q->n == (int)(sizeof q->arg / sizeof *q->arg)) {
        q->overflow = true;
        return &q->spare;
    }
    q->arg[q->n].type = type;
    return &q->arg[q->n++];
}

static void text(struct qb *q, const char *v)
{
    arg(q, STORE_ARG_TEXT)->t = v;
}
static void real(struct qb *q, double v)
{
    arg(q, STORE_ARG_REAL)->d = v;
}
static void integer(struct qb *q, int64_t v)
{
    arg(q, STORE_ARG_INT)->i = v;
}

static bool given(const char *v)
{
    return v && *v;
}

static enum store_qstatus bad(struct store *s, const char *why)
{
    store_set_error(s, why);
    return STORE_Q_BAD;
}

/* Runs the statement built in q, each row to fn. */
static enum store_qstatus run(struct store *s, struct qb *q, store_row_fn fn, void *user)
{
    if (q->overflow)
        return bad(s, "too many filters");
    return store_rows(s, q->sql, q->arg, q->n, fn, user);
}

/* "time,id" of the last row of a page. */
static void make_cursor(char *out, double t, int64_t id)
{
    snprintf(out, STORE_CURSOR_LEN, "%.17g,%lld", t, (long long)id);
}

static bool parse_cursor(const char *c, double *t, int64_t *id)
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
        int64_t id;
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
    integer(q, (int64_t)*limit + 1); /* one more: is there a next page? */
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

/* A list being read: each row's column 0 (and column 1 for streams) to fj or fs, up to
 * limit rows; the (time, id) of the last in columns 2 and 3 make the next cursor. */
struct listing {
    unsigned limit, n;
    double t;
    int64_t id;
    store_json_fn fj;
    store_stream_fn fs;
    void *user;
    char *next;
};

static bool list_row(void *u, const struct store_row *r)
{
    struct listing *l = u;
    if (l->n == l->limit) { /* the row past the page: there is a next one */
        make_cursor(l->next, l->t, l->id);
        return false;
    }
    l->n++;
    l->t = store_col_double(r, 2);
    l->id = store_col_int(r, 3);
    const char *json = store_col_text(r, 0);
    return l->fs ? l->fs(l->user, json, store_col_text(r, 1)) : l->fj(l->user, json);
}

static enum store_qstatus run_list(struct store *s, struct qb *q, unsigned limit, store_json_fn fj,
                                   store_stream_fn fs, void *user, char *next)
{
    struct listing l = {.limit = limit, .fj = fj, .fs = fs, .user = user, .next = next};
    next[0] = '\0';
    return run(s, q, list_row, &l);
}

/* The end of every list query: time range, cursor, order and limit, then the rows. */
static enum store_qstatus finish_list(struct store *s, struct qb *q, const char *tcol,
                                      const char *idcol, double from, double to,
                                      const char *cursor, unsigned limit, store_json_fn fj,
                                      store_stream_fn fs, void *user, char *next)
{
    enum store_qstatus r = page(s, q, tcol, idcol, from, to, cursor, &limit);
    if (r != STORE_Q_OK) return r;
    return run_list(s, q, limit, fj, fs, user, next);
}

enum store_qstatus store_query_calls(struct store *s, const struct store_call_filter *f,
                                     store_json_fn fn, void *user, char *next)
{
    struct qb q = {0};
    sql(&q, "SELECT json, NULL, invite_time, seq FROM calls WHERE 1 = 1");
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
    if (given(f->to_domain)) { /* the column holds it lower case (store/trend_cols.h) */
        sql(&q, " AND to_domain = lower(?)");
        text(&q, f->to_domain);
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
        sql(&q, " AND (instr(call_id, ?) > 0 OR instr(from_user, ?) > 0 OR instr(to_user, ?) > 0"
                " OR instr(caller, ?) > 0 OR instr(callee, ?) > 0)");
        for (int i = 0; i < 5; i++)
            text(&q, f->text);
    }
    /* A call that several probes saw is listed once, as the call that began first (the
     * caller's side, as a rule), when the list is not filtered. A filter lists every call
     * that matches, joined or not: the leg a filter selects (its Call-ID, the number a
     * B2BUA rewrote, the state or issue only one side had, a time window that holds one
     * leg) must not be hidden behind an earlier leg that does not match, and a time step's
     * list then holds the calls its counts (store/trends.c, every stored call) counted */
    bool filtered = f->from || f->to || given(f->user) || given(f->from_user) ||
                    given(f->to_user) || given(f->to_domain) || given(f->call_id) ||
                    given(f->state) || f->status || given(f->issue_kind) || f->min_mos ||
                    f->max_mos || given(f->address) || given(f->text);
    if (!filtered) sql(&q, STORE_SQL_NOT_JOINED_EARLIER);
    return finish_list(s, &q, "invite_time", "seq", f->from, f->to, f->cursor, f->limit, fn, NULL, user,
                       next);
}

static bool found_row(void *u, const struct store_row *r)
{
    (void)r;
    *(bool *)u = true;
    return false;
}

/* Whether call seq exists. */
static enum store_qstatus call_exists(struct store *s, uint64_t seq)
{
    struct store_arg a = {.type = STORE_ARG_INT, .i = (int64_t)seq};
    bool found = false;
    enum store_qstatus r =
        store_rows(s, "SELECT 1 FROM calls WHERE seq = ?", &a, 1, found_row, &found);
    return r != STORE_Q_OK ? r : found ? STORE_Q_OK : STORE_Q_NOT_FOUND;
}

/* Runs a per-call statement (one '?': the call) with each row to row(). */
static enum store_qstatus per_call(struct store *s, uint64_t seq, const char *text_sql,
                                   store_row_fn row, void *box)
{
    enum store_qstatus r = call_exists(s, seq);
    if (r != STORE_Q_OK)
        return r;
    struct store_arg a = {.type = STORE_ARG_INT, .i = (int64_t)seq};
    return store_rows(s, text_sql, &a, 1, row, box);
}

/* Function pointers travel through per_call() as data pointers in a small box (C does not
 * convert between the two), with the caller's own pointer. */
struct fnbox {
    store_json_fn json;
    store_stream_fn stream;
    store_message_fn message;
    void *user;
};

static bool json_row(void *u, const struct store_row *r)
{
    struct fnbox *b = u;
    return b->json(b->user, store_col_text(r, 0));
}

enum store_qstatus store_get_call(struct store *s, uint64_t seq, store_json_fn fn, void *user)
{
    struct fnbox b = {.json = fn, .user = user};
    return per_call(s, seq, "SELECT json FROM calls WHERE seq = ?", json_row, &b);
}

static bool stream_row(void *u, const struct store_row *r)
{
    struct fnbox *b = u;
    return b->stream(b->user, store_col_text(r, 0), store_col_text(r, 1));
}

enum store_qstatus store_call_streams(struct store *s, uint64_t seq, store_stream_fn fn,
                                      void *user)
{
    struct fnbox b = {.stream = fn, .user = user};
    return per_call(s, seq, "SELECT json, timeline FROM streams WHERE call_seq = ? ORDER BY seq",
                    stream_row, &b);
}

static bool message_row(void *u, const struct store_row *r)
{
    struct store_message m = {
        .frame = (uint64_t)store_col_int(r, 0),
        .time = store_col_double(r, 1),
        .src = store_col_text(r, 2),
        .dst = store_col_text(r, 3),
        .transport = store_col_text(r, 4),
        .method = store_col_text(r, 5),
        .status = (int)store_col_int(r, 6),
        .reason = store_col_text(r, 7),
        .call_id = store_col_text(r, 8),
        .cseq = store_col_text(r, 9),
        .call_seq = (uint64_t)store_col_int(r, 10),
        .retransmission = store_col_int(r, 11) != 0,
        .malformed = store_col_int(r, 12) != 0,
        .linktype = (int)store_col_int(r, 14),
        .probe = store_col_text(r, 15),
    };
    m.call_id_len = store_col_bytes(r, 8);
    m.raw = store_col_blob(r, 13, &m.raw_len);
    struct fnbox *b = u;
    return b->message(b->user, &m);
}

enum store_qstatus store_call_messages(struct store *s, uint64_t seq, store_message_fn fn,
                                       void *user)
{
    return store_calls_messages(s, &seq, 1, fn, user);
}

enum store_qstatus store_calls_messages(struct store *s, const uint64_t *seqs, unsigned n,
                                        store_message_fn fn, void *user)
{
    if (!n || n > STORE_JOIN_MAX) return bad(s, "too many calls");
    enum store_qstatus r = call_exists(s, seqs[0]);
    if (r != STORE_Q_OK) return r;
    struct fnbox b = {.message = fn, .user = user};
    struct qb q = {0};
    sql(&q, "SELECT frame, time, src, dst, transport, method, status, reason, call_id,"
            " cseq, call_seq, retransmission, malformed,"
            " coalesce(raw, substr(frame_bytes, raw_off + 1, raw_len)), linktype, probe"
            " FROM messages WHERE call_seq IN (?");
    integer(&q, (int64_t)seqs[0]);
    for (unsigned i = 1; i < n; i++) {
        sql(&q, ", ?");
        integer(&q, (int64_t)seqs[i]);
    }
    /* one call's messages in time order, and several calls' merged the same way */
    sql(&q, ") ORDER BY time, id");
    return run(s, &q, message_row, &b);
}

enum store_qstatus store_query_streams(struct store *s, const struct store_list_filter *f,
                                       store_stream_fn fn, void *user, char *next)
{
    struct qb q = {0};
    sql(&q, "SELECT json, timeline, first_time, seq FROM streams WHERE 1 = 1");
    if (given(f->key) && strlen(f->key) > 64)
        return bad(s, "address too long");
    if (given(f->key))
        address(&q, f->key, "src", "dst");
    if (f->reported) sql(&q, " AND reported = 1");
    if (f->reported == 2) sql(&q, " AND call_seq IS NULL");
    return finish_list(s, &q, "first_time", "seq", f->from, f->to, f->cursor, f->limit, NULL, fn, user,
                       next);
}

enum store_qstatus store_query_registrations(struct store *s, const struct store_list_filter *f,
                                             store_json_fn fn, void *user, char *next)
{
    struct qb q = {0};
    sql(&q, "SELECT json, NULL, last_time, id FROM registrations WHERE 1 = 1");
    if (given(f->key)) {
        sql(&q, " AND instr(aor, ?) > 0");
        text(&q, f->key);
    }
    return finish_list(s, &q, "last_time", "id", f->from, f->to, f->cursor, f->limit, fn, NULL, user,
                       next);
}

enum store_qstatus store_query_issues(struct store *s, const struct store_list_filter *f,
                                      store_json_fn fn, void *user, char *next)
{
    struct qb q = {0};
    sql(&q, "SELECT json, NULL, time, id FROM issues WHERE 1 = 1");
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
    sql(&q, store_stats_sql(s));
    char next[STORE_CURSOR_LEN];
    sql(&q, ", NULL, 0, 0");
    return run_list(s, &q, 1, fn, NULL, user, next);
}

struct since {
    store_rev_fn fn;
    void *user;
    uint64_t *last;
};

static bool since_row(void *u, const struct store_row *r)
{
    struct since *x = u;
    *x->last = (uint64_t)store_col_int(r, 4);
    return x->fn(x->user, (uint64_t)store_col_int(r, 3), store_col_text(r, 0));
}

enum store_qstatus store_calls_since(struct store *s, uint64_t after, unsigned limit,
                                     store_rev_fn fn, void *user, uint64_t *last)
{
    struct qb q = {0};
    sql(&q, "SELECT json, NULL, 0, rev, (SELECT coalesce(max(rev), 0) FROM calls) FROM calls"
            " WHERE rev > ? ORDER BY rev LIMIT ?");
    integer(&q, (int64_t)after);
    integer(&q, limit ? limit : STORE_PAGE_DEFAULT);
    *last = after;
    struct since x = {fn, user, last};
    return run(s, &q, since_row, &x);
}

/* ---- a call's frames and media, for its pcap and its audio ---- */

struct frames {
    store_frame_fn fn;
    store_media_fn mfn;
    void *user;
    int64_t last;
};

static bool frame_row(void *u, const struct store_row *r)
{
    struct frames *x = u;
    int64_t frame = store_col_int(r, 0);
    if (frame == x->last) /* a TCP segment with two messages is one frame */
        return true;
    x->last = frame;
    size_t n;
    const void *p = store_col_blob(r, 3, &n);
    return x->fn(x->user, (uint64_t)frame, store_col_double(r, 1), (int)store_col_int(r, 2), p, n);
}

bool store_call_frames(struct store *s, uint64_t call_seq, store_frame_fn fn, void *user,
                       bool *found)
{
    enum store_qstatus r = call_exists(s, call_seq);
    *found = r == STORE_Q_OK;
    if (r != STORE_Q_OK) return r == STORE_Q_NOT_FOUND;
    struct store_arg a = {.type = STORE_ARG_INT, .i = (int64_t)call_seq};
    struct frames x = {.fn = fn, .user = user, .last = -1};
    return store_rows(s,
                      "SELECT frame, time, linktype, frame_bytes FROM messages"
                      " WHERE call_seq = ? AND frame_bytes IS NOT NULL ORDER BY frame",
                      &a, 1, frame_row, &x) == STORE_Q_OK;
}

static bool media_row(void *u, const struct store_row *r)
{
    struct frames *x = u;
    size_t n;
    const void *p = store_col_blob(r, 1, &n);
    return x->mfn(x->user, (int)store_col_int(r, 0), p, n);
}

bool store_call_media(struct store *s, uint64_t call_seq, store_media_fn fn, void *user)
{
    struct store_arg a = {.type = STORE_ARG_INT, .i = (int64_t)call_seq};
    struct frames x = {.mfn = fn, .user = user};
    return store_rows(s,
                      "SELECT linktype, frames FROM media WHERE call_seq = ?"
                      " ORDER BY first_time, id",
                      &a, 1, media_row, &x) == STORE_Q_OK;
}
