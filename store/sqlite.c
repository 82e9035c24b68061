/* See store.h. The schema version lives in PRAGMA user_version; migrations[k]
 * (sqlite_schema.c) takes a database from version k to k + 1, each in its own transaction,
 * so a database written by one version opens in the next. */
#include "store.h"
#include "store_int.h"
#include "trend_cols.h"

#include "decode/sip.h"

#include <ctype.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum stmt_id { S_CALL, S_STREAM, S_REG, S_ISSUE, S_MESSAGE, S_MEDIA, S_LEGS_DEL, S_LEGS,
               S_CALL_UPDATE, S_KEY, S__COUNT };

static const char *const stmt_sql[S__COUNT] = {
    "INSERT OR REPLACE INTO calls(seq, call_id, from_user, to_user, caller, callee, state,"
    " final_status, invite_time, end_time, mos_min, issue_kinds, json, rev, probe, answer_time,"
    " pdd_ms, to_domain) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?, " TC_CALL_VALUES ")",
    "INSERT OR REPLACE INTO streams(seq, call_seq, src, dst, codec, first_time, last_time, mos,"
    " json, timeline, probe, reported) VALUES(?,?,?,?,?,?,?,?,?,?,?, " TC_STREAM_VALUE ")",
    "INSERT INTO registrations(aor, contact, source, state, first_time, last_time, json,"
    " probe) VALUES(?,?,?,?,?,?,?,?)",
    "INSERT INTO issues(kind, severity, call_seq, stream_seq, registration, time, json,"
    " probe) VALUES(?,?,?,?,?,?,?,?)",
    "INSERT INTO messages(call_seq, frame, time, src, dst, transport, method, status, call_id,"
    " cseq, retransmission, raw, raw_off, raw_len, linktype, frame_bytes, reason, malformed,"
    " probe) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    "INSERT INTO media(call_seq, first_time, last_time, linktype, packets, frames, probe)"
    " VALUES(?,?,?,?,?,?,?)",
    "DELETE FROM legs WHERE call_seq = ?",
    /* the legs of docs/output.md's call object */
    "INSERT INTO legs SELECT ?1, json_extract(value, '$.call_id'),"
    " json_extract(value, '$.from_tag'), json_extract(value, '$.to_tag')"
    " FROM json_each(?2, '$.legs') WHERE json_extract(value, '$.call_id') IS NOT NULL",
    /* a later version of a call: never brings back one that retention removed */
    "UPDATE calls SET call_id = ?2, from_user = ?3, to_user = ?4, caller = ?5, callee = ?6,"
    " state = ?7, final_status = ?8, invite_time = ?9, end_time = ?10, mos_min = ?11,"
    " issue_kinds = ?12, json = ?13, rev = ?14, probe = ?15, " TC_CALL_SET " WHERE seq = ?1",
    /* a join key of a call (store.h, struct store_message): once per call */
    "INSERT OR IGNORE INTO call_keys(call_seq, kind, key, via, probe, time) VALUES(?,?,?,?,?,?)",
};

struct sq {
    struct store base; /* first: what store.c dispatches through */
    sqlite3 *db;
    sqlite3_stmt *st[S__COUNT];
    unsigned pending;  /* rows in the open transaction */
    bool in_txn;
    struct store_counts open, done; /* rows of the open transaction; of committed ones */
    uint64_t rev;      /* the last revision given to a call (calls.rev) */
    char probe[64];    /* written on every row; "" none (NULL) */
    char err[256];
};

const char *store_kind_name(enum store_kind k)
{
    static const char *const names[STORE_KINDS] = {"calls", "streams", "registrations",
                                                   "issues", "messages", "media"};
    return k < STORE_KINDS ? names[k] : "?";
}

static void sq_counts(const struct store *base, struct store_counts *out)
{
    const struct sq *s = (const struct sq *)base;
    *out = s->done;
}

static bool commit(struct sq *s);
static const struct store_ops sqlite_ops;
static uint64_t max_of(struct sq *s, const char *sql);

static bool fail(struct sq *s, const char *what)
{
    snprintf(s->err, sizeof s->err, "%s: %s", what, sqlite3_errmsg(s->db));
    return false;
}

static bool exec(struct sq *s, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return true;
    snprintf(s->err, sizeof s->err, "%s", msg ? msg : sqlite3_errmsg(s->db));
    sqlite3_free(msg);
    return false;
}

static int sq_schema_version(struct store *base)
{
    struct sq *s = (struct sq *)base;
    sqlite3_stmt *q;
    int v = -1;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &q, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(q) == SQLITE_ROW)
        v = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    return v;
}

static bool migrate(struct sq *s)
{
    int v = sq_schema_version(&s->base);
    const int top = (int)store_sqlite_nmigrations;
    if (v < 0)
        return fail(s, "reading the schema version");
    if (v > top) {
        snprintf(s->err, sizeof s->err,
                 "the database has schema %d, newer than this sipscope knows (%d)", v, top);
        return false;
    }
    for (; v < top; v++) {
        char set[64];
        snprintf(set, sizeof set, "PRAGMA user_version=%d;", v + 1);
        if (!exec(s, "BEGIN IMMEDIATE") || !exec(s, store_sqlite_migrations[v]) || !exec(s, set) ||
            !exec(s, "COMMIT")) {
            char why[200];
            snprintf(why, sizeof why, "%.199s", s->err);
            exec(s, "ROLLBACK");
            snprintf(s->err, sizeof s->err, "migration to schema %d: %s", v + 1, why);
            return false;
        }
    }
    return true;
}

/* sip_host(uri): the host of a SIP URI that has a user part, lower case, without brackets,
 * port or parameters (RFC 3261 §19.1.1: the host compares without case); NULL otherwise.
 * The trend columns' domain (trend_cols.h); PostgreSQL's is a function of the same name. */
static void sql_sip_host(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const char *t = (const char *)sqlite3_value_text(argv[0]);
    struct sip_uri u;
    char host[256];
    if (!t || !sip_uri_parse(sv_cstr(t), &u) || !u.user.p || !u.host.n ||
        u.host.n >= sizeof host) {
        sqlite3_result_null(ctx);
        return;
    }
    for (size_t i = 0; i < u.host.n; i++)
        host[i] = (char)tolower((unsigned char)u.host.p[i]);
    sqlite3_result_text(ctx, host, (int)u.host.n, SQLITE_TRANSIENT);
}

static struct sq *open_db(const char *path, bool reader, char *err, size_t errlen)
{
    struct sq *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->base.ops = &sqlite_ops;
    int flags = reader ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, s->db ? sqlite3_errmsg(s->db) : "cannot open");
        sqlite3_close(s->db);
        free(s);
        return NULL;
    }
    sqlite3_busy_timeout(s->db, 5000);
    sqlite3_create_function_v2(s->db, "sip_host", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                               sql_sip_host, NULL, NULL, NULL);
    return s;
}

static struct store *open_reader(const char *path, char *err, size_t errlen)
{
    struct sq *s = open_db(path, true, err, errlen);
    if (!s)
        return NULL;
    int v = sq_schema_version(&s->base);
    if (v != STORE_SCHEMA_VERSION) {
        if (v < 0)
            snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(s->db));
        else
            snprintf(err, errlen, "%s: schema %d, this sipscope reads %d%s", path, v,
                     STORE_SCHEMA_VERSION,
                     v < STORE_SCHEMA_VERSION ? " (a writer such as analyze --db migrates it)" : "");
        sqlite3_close(s->db);
        free(s);
        return NULL;
    }
    return &s->base;
}

struct store *store_sqlite_open(const char *path, bool reader, char *err, size_t errlen)
{
    if (reader) return open_reader(path, err, errlen);
    struct sq *s = open_db(path, false, err, errlen);
    if (!s)
        return NULL;
    /* 32 MiB of page cache: the indexes (a message's call and time) take random inserts */
    bool ok = exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-32768;"
                      " PRAGMA foreign_keys=ON;"
                      /* the WAL is cut back to 64 MiB after a checkpoint; retention keeps
                       * the rest bounded */
                      " PRAGMA journal_size_limit=67108864;") &&
              migrate(s);
    for (int i = 0; ok && i < S__COUNT; i++)
        if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
                               NULL) != SQLITE_OK)
            ok = fail(s, "preparing a statement");
    if (!ok) {
        snprintf(err, errlen, "%s: %s", path, s->err);
        for (int i = 0; i < S__COUNT; i++)
            sqlite3_finalize(s->st[i]);
        sqlite3_close(s->db);
        free(s);
        return NULL;
    }
    s->rev = max_of(s, "SELECT max(rev) FROM calls");
    return &s->base;
}

static bool commit(struct sq *s)
{
    if (!s->in_txn)
        return true;
    s->in_txn = false;
    s->pending = 0;
    struct store_counts o = s->open;
    s->open = (struct store_counts){0};
    if (!exec(s, "COMMIT")) {
        char why[sizeof s->err];
        memcpy(why, s->err, sizeof why);
        exec(s, "ROLLBACK"); /* the batch is lost: its rows are not counted as stored */
        memcpy(s->err, why, sizeof why);
        return false;
    }
    for (int k = 0; k < STORE_KINDS; k++)
        s->done.rows[k] += o.rows[k];
    s->done.new_calls += o.new_calls;
    if (o.last_call_seq)
        s->done.last_call_seq = o.last_call_seq;
    s->done.commits++;
    return true;
}

static bool sq_flush(struct store *base)
{
    struct sq *s = (struct sq *)base;
    return commit(s);
}

static bool sq_close(struct store *base)
{
    struct sq *s = (struct sq *)base;
    if (!s)
        return true;
    bool ok = commit(s);
    for (int i = 0; i < S__COUNT; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    free(s);
    return ok;
}

static const char *sq_error(const struct store *base)
{
    const struct sq *s = (const struct sq *)base;
    return s->err;
}

static uint64_t max_of(struct sq *s, const char *sql)
{
    sqlite3_stmt *q;
    uint64_t v = 0;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        return 0;
    if (sqlite3_step(q) == SQLITE_ROW)
        v = (uint64_t)sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return v;
}

static uint64_t sq_max_call_seq(struct store *base)
{
    struct sq *s = (struct sq *)base;
    return max_of(s, "SELECT max(seq) FROM calls");
}

static uint64_t sq_max_stream_seq(struct store *base)
{
    struct sq *s = (struct sq *)base;
    return max_of(s, "SELECT max(seq) FROM streams");
}

/* ---- binding helpers: NULL pointers and "none" markers become SQL NULL ---- */

static void bind_text(sqlite3_stmt *q, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(q, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, i);
}

static void bind_real(sqlite3_stmt *q, int i, double v, bool have)
{
    if (have)
        sqlite3_bind_double(q, i, v);
    else
        sqlite3_bind_null(q, i);
}

static void bind_id(sqlite3_stmt *q, int i, uint64_t v)
{
    if (v)
        sqlite3_bind_int64(q, i, (sqlite3_int64)v);
    else
        sqlite3_bind_null(q, i);
}

static void bind_blob(sqlite3_stmt *q, int i, const void *p, size_t n)
{
    if (p)
        sqlite3_bind_blob64(q, i, p, n, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, i);
}

/* Runs a bound statement inside the current batch (opened if none is). */
static bool step(struct sq *s, enum stmt_id id, const char *what)
{
    sqlite3_stmt *q = s->st[id];
    bool ok = true;
    if (!s->in_txn) {
        ok = exec(s, "BEGIN");
        s->in_txn = ok;
    }
    if (ok && sqlite3_step(q) != SQLITE_DONE)
        ok = fail(s, what);
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return ok;
}

/* Runs a bound statement that stores a record inside the current batch, opening or
 * committing as needed. */
static bool run(struct sq *s, enum stmt_id id, const char *what)
{
    static const enum store_kind kind[S__COUNT] = {
        [S_CALL] = STORE_CALL, [S_STREAM] = STORE_STREAM, [S_REG] = STORE_REGISTRATION,
        [S_ISSUE] = STORE_ISSUE, [S_MESSAGE] = STORE_MESSAGE, [S_MEDIA] = STORE_MEDIA};
    if (!step(s, id, what))
        return false;
    s->open.rows[kind[id]]++;
    return ++s->pending < STORE_BATCH || commit(s);
}

static bool sq_put_call(struct store *base, const struct store_call *c)
{
    struct sq *s = (struct sq *)base;
    const enum stmt_id id = c->update ? S_CALL_UPDATE : S_CALL;
    sqlite3_stmt *q = s->st[id];
    sqlite3_bind_int64(q, 1, (sqlite3_int64)c->seq);
    bind_text(q, 2, c->call_id);
    bind_text(q, 3, c->from_user);
    bind_text(q, 4, c->to_user);
    bind_text(q, 5, c->caller);
    bind_text(q, 6, c->callee);
    bind_text(q, 7, c->state);
    bind_id(q, 8, (uint64_t)(c->final_status > 0 ? c->final_status : 0));
    sqlite3_bind_double(q, 9, c->invite_time);
    bind_real(q, 10, c->end_time, c->end_time >= 0);
    bind_real(q, 11, c->mos_min, c->mos_min >= 0);
    bind_text(q, 12, c->issue_kinds);
    bind_text(q, 13, c->json);
    sqlite3_bind_int64(q, 14, (sqlite3_int64)++s->rev);
    bind_text(q, 15, s->probe[0] ? s->probe : NULL);
    /* the call, then its legs, in one transaction: the batch is committed only after */
    if (!step(s, id, c->update ? "updating a call" : "storing a call"))
        return false;
    if (c->update && sqlite3_changes(s->db) == 0) {
        /* removed by retention meanwhile: it stays removed, and is done with */
        s->open.rows[STORE_CALL]++;
        return ++s->pending < STORE_BATCH || commit(s);
    }
    /* its legs anew (an update, or a call first stored while in progress) */
    sqlite3_bind_int64(s->st[S_LEGS_DEL], 1, (sqlite3_int64)c->seq);
    if (!step(s, S_LEGS_DEL, "replacing a call's legs"))
        return false;
    sqlite3_bind_int64(s->st[S_LEGS], 1, (sqlite3_int64)c->seq);
    bind_text(s->st[S_LEGS], 2, c->json);
    if (!step(s, S_LEGS, "storing a call's legs"))
        return false;
    s->open.rows[STORE_CALL]++;
    if (!c->update && !c->progress) {
        s->open.new_calls++;
        s->open.last_call_seq = c->seq;
    }
    return ++s->pending < STORE_BATCH || commit(s);
}

static bool sq_put_stream(struct store *base, const struct store_stream *st)
{
    struct sq *s = (struct sq *)base;
    sqlite3_stmt *q = s->st[S_STREAM];
    sqlite3_bind_int64(q, 1, (sqlite3_int64)st->seq);
    bind_id(q, 2, st->call_seq);
    bind_text(q, 3, st->src);
    bind_text(q, 4, st->dst);
    bind_text(q, 5, st->codec);
    sqlite3_bind_double(q, 6, st->first_time);
    sqlite3_bind_double(q, 7, st->last_time);
    bind_real(q, 8, st->mos, st->mos >= 0);
    bind_text(q, 9, st->json);
    bind_text(q, 10, st->timeline);
    bind_text(q, 11, s->probe[0] ? s->probe : NULL);
    return run(s, S_STREAM, "storing a stream");
}

static bool sq_put_registration(struct store *base, const struct store_registration *r)
{
    struct sq *s = (struct sq *)base;
    sqlite3_stmt *q = s->st[S_REG];
    bind_text(q, 1, r->aor);
    bind_text(q, 2, r->contact);
    bind_text(q, 3, r->source);
    bind_text(q, 4, r->state);
    sqlite3_bind_double(q, 5, r->first_time);
    sqlite3_bind_double(q, 6, r->last_time);
    bind_text(q, 7, r->json);
    bind_text(q, 8, s->probe[0] ? s->probe : NULL);
    return run(s, S_REG, "storing a registration");
}

static bool sq_put_issue(struct store *base, const struct store_issue *is)
{
    struct sq *s = (struct sq *)base;
    sqlite3_stmt *q = s->st[S_ISSUE];
    bind_text(q, 1, is->kind);
    bind_text(q, 2, is->severity);
    bind_id(q, 3, is->call_seq);
    bind_id(q, 4, is->stream_seq);
    bind_text(q, 5, is->registration);
    sqlite3_bind_double(q, 6, is->time);
    bind_text(q, 7, is->json);
    bind_text(q, 8, s->probe[0] ? s->probe : NULL);
    return run(s, S_ISSUE, "storing an issue");
}

static bool sq_put_message(struct store *base, const struct store_message *m)
{
    struct sq *s = (struct sq *)base;
    sqlite3_stmt *q = s->st[S_MESSAGE];
    bind_id(q, 1, m->call_seq);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)m->frame);
    sqlite3_bind_double(q, 3, m->time);
    bind_text(q, 4, m->src);
    bind_text(q, 5, m->dst);
    bind_text(q, 6, m->transport);
    bind_text(q, 7, m->method);
    bind_id(q, 8, (uint64_t)(m->status > 0 ? m->status : 0));
    if (m->call_id && m->call_id_len)
        sqlite3_bind_text(q, 9, m->call_id, (int)m->call_id_len, SQLITE_STATIC);
    else
        bind_text(q, 9, m->call_id);
    bind_text(q, 10, m->cseq);
    sqlite3_bind_int(q, 11, m->retransmission);
    bool in_frame = m->raw_in_frame && m->frame_bytes && m->raw_off + m->raw_len <= m->frame_len;
    bind_blob(q, 12, in_frame ? NULL : m->raw, m->raw_len);
    if (in_frame)
        sqlite3_bind_int64(q, 13, (sqlite3_int64)m->raw_off);
    else
        sqlite3_bind_null(q, 13);
    sqlite3_bind_int64(q, 14, (sqlite3_int64)m->raw_len);
    sqlite3_bind_int(q, 15, m->linktype);
    bind_blob(q, 16, m->frame_bytes, m->frame_len);
    bind_text(q, 17, m->reason);
    sqlite3_bind_int(q, 18, m->malformed);
    bind_text(q, 19, s->probe[0] ? s->probe : NULL);
    struct store_key k[STORE_MSG_KEYS];
    int nk = store_message_keys(m, k);
    for (int i = 0; i < nk; i++) {
        sqlite3_stmt *kq = s->st[S_KEY];
        bind_id(kq, 1, m->call_seq);
        bind_text(kq, 2, k[i].kind);
        sqlite3_bind_text(kq, 3, k[i].key, (int)k[i].n, SQLITE_STATIC);
        bind_text(kq, 4, k[i].via);
        bind_text(kq, 5, s->probe[0] ? s->probe : NULL);
        sqlite3_bind_double(kq, 6, m->time);
        if (!step(s, S_KEY, "storing a call's keys")) return false;
    }
    return run(s, S_MESSAGE, "storing a message");
}

static bool sq_put_media(struct store *base, const struct store_media *md)
{
    struct sq *s = (struct sq *)base;
    sqlite3_stmt *q = s->st[S_MEDIA];
    bind_id(q, 1, md->call_seq);
    sqlite3_bind_double(q, 2, md->first_time);
    sqlite3_bind_double(q, 3, md->last_time);
    sqlite3_bind_int(q, 4, md->linktype);
    sqlite3_bind_int64(q, 5, md->packets);
    sqlite3_bind_blob64(q, 6, md->frames ? md->frames : "", md->len, SQLITE_STATIC);
    bind_text(q, 7, s->probe[0] ? s->probe : NULL);
    return run(s, S_MEDIA, "storing media");
}

static int64_t sq_run_begin(struct store *base, double started, uint64_t first_call_seq)
{
    struct sq *s = (struct sq *)base;
    sqlite3_stmt *q;
    if (!commit(s) || sqlite3_prepare_v2(
                          s->db, "INSERT INTO runs(started, first_call_seq, probe) VALUES(?, ?, ?)",
                          -1, &q, NULL) != SQLITE_OK) {
        fail(s, "recording a run");
        return -1;
    }
    sqlite3_bind_double(q, 1, started);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)first_call_seq);
    bind_text(q, 3, s->probe[0] ? s->probe : NULL);
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) {
        fail(s, "recording a run");
        return -1;
    }
    return sqlite3_last_insert_rowid(s->db);
}

static bool sq_run_end(struct store *base, int64_t run, double ended, uint64_t last_call_seq,
                       const char *json)
{
    struct sq *s = (struct sq *)base;
    sqlite3_stmt *q;
    if (!commit(s) ||
        sqlite3_prepare_v2(s->db,
                           "UPDATE runs SET ended = ?, last_call_seq = ?, json = ? WHERE id = ?",
                           -1, &q, NULL) != SQLITE_OK)
        return fail(s, "recording a run");
    sqlite3_bind_double(q, 1, ended);
    bind_id(q, 2, last_call_seq);
    bind_text(q, 3, json);
    sqlite3_bind_int64(q, 4, run);
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    return rc == SQLITE_DONE || fail(s, "recording a run");
}

/* ---- retention ---- */

/* The first column of the first row of sql (bound to one real when arg is given); *have is
 * false when that is NULL. */
static bool scalar(struct sq *s, const char *sql, const double *arg, double *out, bool *have)
{
    sqlite3_stmt *q;
    *have = false;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        return fail(s, "retention");
    if (arg)
        sqlite3_bind_double(q, 1, *arg);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL) {
        *out = sqlite3_column_double(q, 0);
        *have = true;
    }
    sqlite3_finalize(q);
    return rc == SQLITE_ROW || rc == SQLITE_DONE || fail(s, "retention");
}

static uint64_t sq_used_bytes(struct store *base)
{
    struct sq *s = (struct sq *)base;
    double pages = 0, free_pages = 0, size = 0;
    bool h1, h2, h3;
    if (!scalar(s, "PRAGMA page_count", NULL, &pages, &h1) ||
        !scalar(s, "PRAGMA freelist_count", NULL, &free_pages, &h2) ||
        !scalar(s, "PRAGMA page_size", NULL, &size, &h3))
        return 0;
    return (uint64_t)((pages - free_pages) * size);
}

/* Runs a DELETE (bound with one real and one integer when it has them); adds the rows
 * it removed to *n. */
static bool sweep(struct sq *s, const char *sql, double t, sqlite3_int64 limit, uint64_t *n)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        return fail(s, "retention");
    int np = sqlite3_bind_parameter_count(q);
    if (np >= 1)
        sqlite3_bind_double(q, 1, t);
    if (np >= 2)
        sqlite3_bind_int64(q, 2, limit);
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE)
        return fail(s, "retention");
    *n += (uint64_t)sqlite3_changes(s->db);
    return true;
}

static bool sq_retain(struct store *base, const struct store_retention *r,
                      struct store_retained *out, bool *more)
{
    struct sq *s = (struct sq *)base;
    const sqlite3_int64 batch = r->batch_calls ? r->batch_calls : 256;
    const sqlite3_int64 loose = 16 * batch; /* rows of no call per batch */
    *more = false;
    if (!commit(s))
        return false;
    double newest = 0, oldest_kept = 0;
    bool have_newest, have_kept;
    if (!scalar(s, "SELECT max(invite_time) FROM calls", NULL, &newest, &have_newest))
        return false;
    if (!have_newest && !scalar(s, "SELECT max(time) FROM messages WHERE call_seq IS NULL", NULL, &newest, &have_newest))
        return false;
    if (!have_newest)
        return true; /* nothing stored */
    bool over = r->max_bytes && sq_used_bytes(&s->base) > r->max_bytes;
    bool by_age = r->max_age_s > 0;
    if (!over && !by_age && !(r->media_max_age_s > 0))
        return true;
    /* calls older than this go; all of the oldest batch when the data is too big */
    double cut = over ? newest + 1 : by_age ? newest - r->max_age_s : -1e300;
    uint64_t n[STORE_KINDS] = {0}, legs = 0;
    bool ok = exec(s, "CREATE TEMP TABLE IF NOT EXISTS doomed(seq INTEGER PRIMARY KEY);"
                      " BEGIN IMMEDIATE; DELETE FROM temp.doomed;");
    uint64_t picked = 0;
    ok = ok && sweep(s, "INSERT INTO temp.doomed SELECT seq FROM calls WHERE invite_time < ?1"
                        " ORDER BY invite_time LIMIT ?2", cut, batch, &picked);
    static const struct {
        const char *sql;
        enum store_kind kind;
    } of_calls[] = {
        {"DELETE FROM messages WHERE call_seq IN (SELECT seq FROM temp.doomed)", STORE_MESSAGE},
        {"DELETE FROM streams WHERE call_seq IN (SELECT seq FROM temp.doomed)", STORE_STREAM},
        {"DELETE FROM issues WHERE call_seq IN (SELECT seq FROM temp.doomed)", STORE_ISSUE},
        {"DELETE FROM media WHERE call_seq IN (SELECT seq FROM temp.doomed)", STORE_MEDIA},
        {"DELETE FROM legs WHERE call_seq IN (SELECT seq FROM temp.doomed)", STORE_KINDS},
        {"DELETE FROM call_keys WHERE call_seq IN (SELECT seq FROM temp.doomed)", STORE_KINDS},
        {"DELETE FROM calls WHERE seq IN (SELECT seq FROM temp.doomed)", STORE_CALL},
    };
    for (size_t i = 0; ok && i < sizeof of_calls / sizeof *of_calls; i++)
        ok = sweep(s, of_calls[i].sql, 0, 0, of_calls[i].kind < STORE_KINDS ? &n[of_calls[i].kind] : &legs);
    /* Rows of no call older than the oldest call kept (or than the age limit) go too; so do
     * rows that name a call below every call kept (stored late, after theirs went). */
    ok = ok && scalar(s, "SELECT min(invite_time) FROM calls", NULL, &oldest_kept, &have_kept);
    double loose_cut = by_age ? newest - r->max_age_s : -1e300;
    if (over || picked)
        loose_cut = have_kept ? (oldest_kept > loose_cut ? oldest_kept : loose_cut) : newest + 1;
    static const struct {
        const char *sql;
        enum store_kind kind;
    } no_call[] = {
        {"DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE call_seq IS NULL"
         " AND time < ?1 LIMIT ?2)", STORE_MESSAGE},
        {"DELETE FROM streams WHERE seq IN (SELECT seq FROM streams WHERE call_seq IS NULL"
         " AND first_time < ?1 LIMIT ?2)", STORE_STREAM},
        {"DELETE FROM registrations WHERE id IN (SELECT id FROM registrations"
         " WHERE last_time < ?1 LIMIT ?2)", STORE_REGISTRATION},
        {"DELETE FROM issues WHERE id IN (SELECT id FROM issues WHERE call_seq IS NULL"
         " AND time < ?1 LIMIT ?2)", STORE_ISSUE},
        {"DELETE FROM media WHERE id IN (SELECT id FROM media WHERE call_seq IS NULL"
         " AND first_time < ?1 LIMIT ?2)", STORE_MEDIA},
    };
    uint64_t loose_n = 0;
    for (size_t i = 0; ok && i < sizeof no_call / sizeof *no_call; i++) {
        uint64_t before = n[no_call[i].kind];
        ok = sweep(s, no_call[i].sql, loose_cut, loose, &n[no_call[i].kind]);
        if (n[no_call[i].kind] - before >= (uint64_t)loose)
            loose_n = (uint64_t)loose;
    }
    static const char *const late[] = {
        "DELETE FROM streams WHERE call_seq < (SELECT min(seq) FROM calls)",
        "DELETE FROM issues WHERE call_seq < (SELECT min(seq) FROM calls)",
        "DELETE FROM messages WHERE call_seq < (SELECT min(seq) FROM calls)",
        "DELETE FROM media WHERE call_seq < (SELECT min(seq) FROM calls)",
    };
    static const enum store_kind late_kind[] = {STORE_STREAM, STORE_ISSUE, STORE_MESSAGE,
                                                STORE_MEDIA};
    for (size_t i = 0; ok && (over || picked) && i < sizeof late / sizeof *late; i++)
        ok = sweep(s, late[i], 0, 0, &n[late_kind[i]]);
    /* spooled media has its own, shorter, age */
    uint64_t media_n = 0;
    if (ok && r->media_max_age_s > 0)
        ok = sweep(s, "DELETE FROM media WHERE id IN (SELECT id FROM media WHERE first_time < ?1"
                      " LIMIT ?2)", newest - r->media_max_age_s, loose, &media_n);
    n[STORE_MEDIA] += media_n;
    if (!ok || !exec(s, "COMMIT")) {
        char why[sizeof s->err];
        memcpy(why, s->err, sizeof why);
        exec(s, "ROLLBACK");
        memcpy(s->err, why, sizeof why);
        return false;
    }
    if (out) {
        for (int k = 0; k < STORE_KINDS; k++)
            out->rows[k] += n[k];
        out->batches++;
    }
    /* another batch is due while a limit was hit, or the data is still too big and this
     * batch found something to remove */
    bool removed = picked || loose_n || media_n;
    *more = picked == (uint64_t)batch || loose_n || media_n == (uint64_t)loose ||
            (r->max_bytes && removed && sq_used_bytes(&s->base) > r->max_bytes);
    return true;
}

/* ---- the generic query path (store_int.h) ---- */

static void sq_set_error(struct store *base, const char *why)
{
    struct sq *s = (struct sq *)base;
    snprintf(s->err, sizeof s->err, "%s", why);
}

static void sq_set_probe(struct store *base, const char *probe)
{
    struct sq *s = (struct sq *)base;
    snprintf(s->probe, sizeof s->probe, "%s", probe ? probe : "");
}

static enum store_qstatus sq_rows(struct store *base, const char *sql, const struct store_arg *args,
                                  int nargs, store_row_fn fn, void *user)
{
    struct sq *s = (struct sq *)base;
    sqlite3_stmt *st;
    if (!commit(s)) return STORE_Q_ERROR;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        fail(s, "query");
        return STORE_Q_ERROR;
    }
    for (int i = 0; i < nargs; i++) {
        if (args[i].type == STORE_ARG_TEXT)
            sqlite3_bind_text(st, i + 1, args[i].t, -1, SQLITE_STATIC);
        else if (args[i].type == STORE_ARG_REAL)
            sqlite3_bind_double(st, i + 1, args[i].d);
        else
            sqlite3_bind_int64(st, i + 1, args[i].i);
    }
    struct store_row r = {.backend = STORE_BACKEND_SQLITE, .h = st};
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && fn(user, &r))
        r.row++;
    enum store_qstatus q = rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_Q_OK : STORE_Q_ERROR;
    if (q == STORE_Q_ERROR) fail(s, "query");
    sqlite3_finalize(st);
    return q;
}

const char *store_sqlite_col_text(const struct store_row *r, int i)
{
    return (const char *)sqlite3_column_text(r->h, i);
}

size_t store_sqlite_col_bytes(const struct store_row *r, int i)
{
    return (size_t)sqlite3_column_bytes(r->h, i);
}

double store_sqlite_col_double(const struct store_row *r, int i)
{
    return sqlite3_column_double(r->h, i);
}

int64_t store_sqlite_col_int(const struct store_row *r, int i)
{
    return sqlite3_column_int64(r->h, i);
}

const void *store_sqlite_col_blob(const struct store_row *r, int i, size_t *n)
{
    const void *p = sqlite3_column_blob(r->h, i);
    *n = (size_t)sqlite3_column_bytes(r->h, i);
    return p;
}

bool store_sqlite_col_null(const struct store_row *r, int i)
{
    return sqlite3_column_type(r->h, i) == SQLITE_NULL;
}

static const struct store_ops sqlite_ops = {
    .backend = STORE_BACKEND_SQLITE,
    .close = sq_close,
    .error = sq_error,
    .set_error = sq_set_error,
    .flush = sq_flush,
    .counts = sq_counts,
    .schema_version = sq_schema_version,
    .max_call_seq = sq_max_call_seq,
    .max_stream_seq = sq_max_stream_seq,
    .set_probe = sq_set_probe,
    .put_call = sq_put_call,
    .put_stream = sq_put_stream,
    .put_registration = sq_put_registration,
    .put_issue = sq_put_issue,
    .put_message = sq_put_message,
    .put_media = sq_put_media,
    .run_begin = sq_run_begin,
    .run_end = sq_run_end,
    .retain = sq_retain,
    .used_bytes = sq_used_bytes,
    .rows = sq_rows,
    .json_member_fmt = "json_extract(%s, '$.%s')",

    .stats_sql =
        "SELECT json_object('calls', (SELECT count(*) FROM calls),"
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
        "   FROM runs WHERE json IS NOT NULL ORDER BY id DESC LIMIT 1))",
};
