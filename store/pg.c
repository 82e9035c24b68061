/* The PostgreSQL backend (store_int.h): many probes write one database at once.
 *
 * - The tables are those of sqlite.c plus a probe column, each range-partitioned by day on
 *   packet time (calls and legs by the first INVITE, messages and issues by their time,
 *   streams and media by their first packet, registrations by their last message). A
 *   writer creates the partitions of a day (and of the day after: created ahead) the first
 *   time a row of that day comes, under an advisory lock so that two probes never race.
 * - Ids: a writer reserves a block of PG_ID_BLOCK ids from a sequence when it opens, and
 *   its calls and streams are numbered inside it, so `call-N` never collides between
 *   probes however many write at once.
 * - Writes are buffered per table as binary COPY data (the fastest way into PostgreSQL, and
 *   no escaping: every value goes as its length and bytes) and sent in one transaction per
 *   batch: rows COPY straight into their table; calls and streams, which a later version
 *   replaces, COPY into session temp tables and are merged from there.
 * - A lost connection (a server restart) is retried with back-off for PG_RETRY_S, the
 *   batch kept meanwhile; the writer's bounded queue holds the records that come, and
 *   drops and counts them when it is full (writer.h). A batch is gone only when the server
 *   refuses it (counted as failed) or stays away past PG_RETRY_S.
 * - Retention drops whole partitions: a day goes when all of it is older than the age
 *   limit, and the oldest days go while the partitions take more than the size limit. */
#include "store.h"
#include "store_int.h"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "pg_int.h"

#define PG_SCHEMA_VERSION 3
#define PG_ID_BLOCK       1000000000000LL   /* ids of one run: 10^12, far below 2^53 (JSON-safe) */
#define PG_BATCH_BYTES    ((size_t)8 << 20) /* COPY data held per batch, at most (and a row) */
#define PG_RETRY_S        60                /* how long a batch waits for a server to come back */
#define PG_LOCK           0x51b5c0be        /* advisory lock: schema and partitions change */

static const char *const copy_sql[T__N] = {
    "COPY stage_calls(ord, upd, seq, probe, call_id, from_user, to_user, caller, callee, state,"
    " final_status, invite_time, end_time, mos_min, issue_kinds, json) FROM STDIN BINARY",
    "COPY stage_streams(ord, seq, probe, call_seq, src, dst, codec, first_time, last_time, mos,"
    " json, timeline) FROM STDIN BINARY",
    "COPY registrations(probe, aor, contact, source, state, first_time, last_time, json)"
    " FROM STDIN BINARY",
    "COPY issues(probe, kind, severity, call_seq, stream_seq, registration, time, json)"
    " FROM STDIN BINARY",
    "COPY messages(probe, call_seq, frame, time, src, dst, transport, method, status, call_id,"
    " cseq, retransmission, raw, raw_off, raw_len, linktype, frame_bytes, reason, malformed)"
    " FROM STDIN BINARY",
    "COPY media(probe, call_seq, first_time, last_time, linktype, packets, frames)"
    " FROM STDIN BINARY",
    "COPY call_keys(probe, call_seq, kind, key, via, time) FROM STDIN BINARY",
};

/* media last: its days also go alone (pg_query.c, --spool-days) */
const char *const pg_parted[PG_NPARTED] = {"calls",         "legs",   "call_keys", "streams",
                                           "registrations", "issues", "messages",  "media"};

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS meta(key text PRIMARY KEY, value text);"
    "CREATE SEQUENCE IF NOT EXISTS id_blocks MINVALUE 0 START 0 INCREMENT 1000000000000;"
    "CREATE SEQUENCE IF NOT EXISTS call_revs;"
    "CREATE SEQUENCE IF NOT EXISTS row_ids;"
    "CREATE TABLE IF NOT EXISTS calls(seq bigint NOT NULL, probe text, call_id text,"
    "  from_user text, to_user text, caller text, callee text, state text NOT NULL,"
    "  final_status integer, invite_time float8 NOT NULL, end_time float8, mos_min float8,"
    "  issue_kinds text, json text NOT NULL, rev bigint NOT NULL)"
    "  PARTITION BY RANGE (invite_time);"
    "CREATE INDEX IF NOT EXISTS calls_seq ON calls(seq);"
    "CREATE INDEX IF NOT EXISTS calls_time ON calls(invite_time, seq);"
    "CREATE INDEX IF NOT EXISTS calls_from ON calls(from_user);"
    "CREATE INDEX IF NOT EXISTS calls_to ON calls(to_user);"
    "CREATE INDEX IF NOT EXISTS calls_state ON calls(state, invite_time);"
    "CREATE INDEX IF NOT EXISTS calls_status ON calls(final_status, invite_time);"
    "CREATE INDEX IF NOT EXISTS calls_mos ON calls(mos_min);"
    "CREATE INDEX IF NOT EXISTS calls_caller ON calls(caller);"
    "CREATE INDEX IF NOT EXISTS calls_callee ON calls(callee);"
    "CREATE INDEX IF NOT EXISTS calls_rev ON calls(rev);"
    "CREATE TABLE IF NOT EXISTS legs(call_seq bigint NOT NULL, probe text, call_id text NOT NULL,"
    "  from_tag text, to_tag text, invite_time float8 NOT NULL) PARTITION BY RANGE (invite_time);"
    "CREATE INDEX IF NOT EXISTS legs_call ON legs(call_seq);"
    "CREATE INDEX IF NOT EXISTS legs_call_id ON legs(call_id);"
    "CREATE TABLE IF NOT EXISTS streams(seq bigint NOT NULL, probe text, call_seq bigint,"
    "  src text, dst text, codec text, first_time float8 NOT NULL, last_time float8, mos float8,"
    "  json text NOT NULL, timeline text) PARTITION BY RANGE (first_time);"
    "CREATE INDEX IF NOT EXISTS streams_seq ON streams(seq);"
    "CREATE INDEX IF NOT EXISTS streams_call ON streams(call_seq);"
    "CREATE INDEX IF NOT EXISTS streams_time ON streams(first_time, seq);"
    "CREATE INDEX IF NOT EXISTS streams_src ON streams(src);"
    "CREATE INDEX IF NOT EXISTS streams_dst ON streams(dst);"
    "CREATE TABLE IF NOT EXISTS registrations(id bigint NOT NULL DEFAULT nextval('row_ids'),"
    "  probe text, aor text NOT NULL, contact text, source text, state text,"
    "  first_time float8, last_time float8 NOT NULL, json text NOT NULL)"
    "  PARTITION BY RANGE (last_time);"
    "CREATE INDEX IF NOT EXISTS registrations_time ON registrations(last_time, id);"
    "CREATE TABLE IF NOT EXISTS issues(id bigint NOT NULL DEFAULT nextval('row_ids'),"
    "  probe text, kind text NOT NULL, severity text NOT NULL, call_seq bigint,"
    "  stream_seq bigint, registration text, time float8 NOT NULL, json text NOT NULL)"
    "  PARTITION BY RANGE (time);"
    "CREATE INDEX IF NOT EXISTS issues_kind ON issues(kind, time);"
    "CREATE INDEX IF NOT EXISTS issues_call ON issues(call_seq);"
    "CREATE INDEX IF NOT EXISTS issues_time ON issues(time, id);"
    "CREATE TABLE IF NOT EXISTS messages(id bigint NOT NULL DEFAULT nextval('row_ids'),"
    "  probe text, call_seq bigint, frame bigint, time float8 NOT NULL, src text, dst text,"
    "  transport text, method text, status integer, call_id text, cseq text,"
    "  retransmission integer NOT NULL, raw bytea, raw_off integer, raw_len integer NOT NULL,"
    "  linktype integer, frame_bytes bytea, reason text, malformed integer NOT NULL DEFAULT 0)"
    "  PARTITION BY RANGE (time);"
    "CREATE INDEX IF NOT EXISTS messages_call ON messages(call_seq, time);"
    "CREATE TABLE IF NOT EXISTS media(id bigint NOT NULL DEFAULT nextval('row_ids'),"
    "  probe text, call_seq bigint, first_time float8 NOT NULL, last_time float8 NOT NULL,"
    "  linktype integer NOT NULL, packets bigint NOT NULL, frames bytea NOT NULL)"
    "  PARTITION BY RANGE (first_time);"
    "CREATE INDEX IF NOT EXISTS media_call ON media(call_seq, first_time);"
    "CREATE TABLE IF NOT EXISTS runs(id bigserial PRIMARY KEY, probe text,"
    "  started float8 NOT NULL, ended float8, first_call_seq bigint, last_call_seq bigint,"
    "  json text);"
    /* SQLite's instr(), which the shared query text uses */
    "CREATE OR REPLACE FUNCTION instr(text, text) RETURNS integer"
    "  AS 'SELECT strpos($1, $2)' LANGUAGE sql IMMUTABLE;"
    /* sqlite.c's sip_host: a SIP URI's host after its user part, lower case, without
     * brackets, port or parameters; NULL without a user part */
    "CREATE OR REPLACE FUNCTION sip_host(text) RETURNS text AS"
    "  $$SELECT lower(nullif(coalesce(substring($1 from '^[^@]*@\\[([^]]*)\\]'),"
    "  substring($1 from '^[^@]*@([^]:;?>[]*)')), ''))$$ LANGUAGE sql IMMUTABLE;"
    "INSERT INTO meta VALUES ('schema', '1') ON CONFLICT DO NOTHING;";

/* clang-format off */ /* SQL text pasted from macros reads as the statement it is */
/* The columns trends, top and ?reported= read, beside the objects that hold them
 * (sqlite.c's trend_cols.h says why), as expressions of an object's text j. */
#define PG_ANSWER(j)   "(" j "::jsonb->>'answer_time')::float8"
#define PG_PDD(j)      "(" j "::jsonb->>'pdd_ms')::float8"
#define PG_DOMAIN(j)   "sip_host(" j "::jsonb->'to'->>'uri')"
#define PG_REPORTED(j) "coalesce(jsonb_typeof(" j "::jsonb->'reported_by') = 'object', false)::int"

/* migrations[k] takes a database from schema k + 1 to k + 2, each in its own transaction
 * under the schema lock; schema_sql above is schema 1. */
static const char *const migrations[] = {
    /* 1 -> 2: the keys that join one call's legs seen by different probes (sqlite_schema.c
     * says which), partitioned by day on the time of the message that carried them. Calls
     * stored before it have no keys: they join nothing. */
    "CREATE TABLE IF NOT EXISTS call_keys(call_seq bigint NOT NULL, probe text,"
    "  kind text NOT NULL, key text NOT NULL, via text NOT NULL, time float8 NOT NULL)"
    "  PARTITION BY RANGE (time);"
    "CREATE INDEX IF NOT EXISTS call_keys_key ON call_keys(key, kind);"
    "CREATE INDEX IF NOT EXISTS call_keys_call ON call_keys(call_seq);",
    /* 2 -> 3: the trend columns, filled from the stored objects once, and indexed:
     * calls_trend covers the series' and the worst-N's queries (see trend_cols.h) */
    "ALTER TABLE calls ADD COLUMN IF NOT EXISTS answer_time float8;"
    "ALTER TABLE calls ADD COLUMN IF NOT EXISTS pdd_ms float8;"
    "ALTER TABLE calls ADD COLUMN IF NOT EXISTS to_domain text;"
    "UPDATE calls SET answer_time = " PG_ANSWER("json") ", pdd_ms = " PG_PDD("json") ","
    "  to_domain = " PG_DOMAIN("json") ";"
    "CREATE INDEX IF NOT EXISTS calls_trend ON calls(invite_time, state, final_status,"
    "  answer_time, end_time, pdd_ms, mos_min, to_user, from_user, callee, to_domain);"
    "ALTER TABLE streams ADD COLUMN IF NOT EXISTS reported integer NOT NULL DEFAULT 0;"
    "UPDATE streams SET reported = " PG_REPORTED("json") ";"
    "CREATE INDEX IF NOT EXISTS streams_reported ON streams(first_time, seq)"
    "  WHERE reported = 1;",
};
/* clang-format on */
_Static_assert(sizeof migrations / sizeof *migrations == PG_SCHEMA_VERSION - 1,
               "one migration per schema version past the first");

/* A writer's session: the temp tables a batch of calls and streams goes through. A batch
 * never waits on its client mid-way for long (its rows are sent as they were built), so a
 * transaction idle for a minute is a probe gone quiet (stopped, or its link down): the
 * server ends it, with its row locks, and the probe sends the batch again on reconnecting. */
static const char session_sql[] =
    "SET client_min_messages = warning;"
    "SET idle_in_transaction_session_timeout = '60s';"
    "CREATE TEMP TABLE IF NOT EXISTS stage_calls(ord bigint, upd boolean, seq bigint,"
    "  probe text, call_id text, from_user text, to_user text, caller text, callee text,"
    "  state text, final_status integer, invite_time float8, end_time float8, mos_min float8,"
    "  issue_kinds text, json text) ON COMMIT DELETE ROWS;"
    "CREATE TEMP TABLE IF NOT EXISTS stage_streams(ord bigint, seq bigint, probe text,"
    "  call_seq bigint, src text, dst text, codec text, first_time float8, last_time float8,"
    "  mos float8, json text, timeline text) ON COMMIT DELETE ROWS;";

/* Revisions in commit order: a batch takes this transaction lock before it takes its calls'
 * revisions and holds it to its commit, so that with several probes writing, no revision
 * becomes visible before a lower one. Without it probe A could take revision 10, probe B
 * take 11 and commit first, and a follower of new calls (/events, tui --db), which goes on
 * from the newest revision it saw, would never see 10. The lock is taken last, by a batch
 * with calls only, for their rows and the commit, which go to the server in one request
 * with the merge: the lock never waits on this client. */
#define PG_LOCK_REVS "1936290405" /* 0x73697065 */

/* clang-format off */
/* What a batch does with its staged calls and streams, and its commit: the last version of
 * each wins; an update of a call no longer stored (retention took it) stays away; a call's
 * legs are written anew from its object; the calls' rows last, under the revision lock. */
static const char merge_commit_sql[] =
    "DELETE FROM stage_calls s WHERE s.upd"
    "  AND NOT EXISTS (SELECT 1 FROM stage_calls t WHERE t.seq = s.seq AND NOT t.upd)"
    "  AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.seq = s.seq);"
    "DELETE FROM stage_calls s WHERE EXISTS (SELECT 1 FROM stage_calls t"
    "  WHERE t.seq = s.seq AND t.ord > s.ord);"
    "DELETE FROM calls c USING stage_calls s WHERE c.seq = s.seq;"
    "DELETE FROM legs l USING stage_calls s WHERE l.call_seq = s.seq;"
    "INSERT INTO legs SELECT s.seq, s.probe, e->>'call_id', e->>'from_tag', e->>'to_tag',"
    "  s.invite_time FROM stage_calls s,"
    "  jsonb_array_elements(CASE WHEN jsonb_typeof(s.json::jsonb->'legs') = 'array'"
    "  THEN s.json::jsonb->'legs' ELSE '[]' END) e WHERE e->>'call_id' IS NOT NULL;"
    "DELETE FROM stage_streams s WHERE EXISTS (SELECT 1 FROM stage_streams t"
    "  WHERE t.seq = s.seq AND t.ord > s.ord);"
    "DELETE FROM streams x USING stage_streams s WHERE x.seq = s.seq;"
    "INSERT INTO streams(seq, probe, call_seq, src, dst, codec, first_time, last_time, mos,"
    "  json, timeline, reported) SELECT seq, probe, call_seq, src, dst, codec, first_time,"
    "  last_time, mos, json, timeline, " PG_REPORTED("json") " FROM stage_streams ORDER BY ord;"
    "SELECT pg_advisory_xact_lock(" PG_LOCK_REVS ") WHERE EXISTS (SELECT 1 FROM stage_calls);"
    "INSERT INTO calls(seq, probe, call_id, from_user, to_user, caller, callee, state,"
    "  final_status, invite_time, end_time, mos_min, issue_kinds, json, rev, answer_time,"
    "  pdd_ms, to_domain)"
    "  SELECT seq, probe, call_id, from_user, to_user, caller, callee, state, final_status,"
    "  invite_time, end_time, mos_min, issue_kinds, json, nextval('call_revs'),"
    "  " PG_ANSWER("json") ", " PG_PDD("json") ", " PG_DOMAIN("json")
    "  FROM stage_calls ORDER BY ord;"
    "COMMIT;";
/* clang-format on */

static const struct store_ops pg_ops;

bool pg_fail(struct pg *s, const char *what)
{
    snprintf(s->err, sizeof s->err, "%s: %s", what, s->c ? PQerrorMessage(s->c) : "no connection");
    size_t n = strlen(s->err);
    while (n && (s->err[n - 1] == '\n' || s->err[n - 1] == ' '))
        s->err[--n] = '\0';
    return false;
}

/* Runs SQL with no result rows we read (one or more statements). */
bool pg_exec(struct pg *s, const char *sql, const char *what)
{
    PGresult *r = PQexec(s->c, sql);
    ExecStatusType st = PQresultStatus(r);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok) {
        const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        snprintf(s->sqlstate, sizeof s->sqlstate, "%s", code ? code : "");
        const char *m = PQresultErrorMessage(r);
        snprintf(s->err, sizeof s->err, "%s: %s", what, m && *m ? m : PQerrorMessage(s->c));
        size_t n = strlen(s->err);
        while (n && s->err[n - 1] == '\n')
            s->err[--n] = '\0';
    }
    PQclear(r);
    return ok;
}

bool pg_scalar(struct pg *s, const char *sql, int64_t def, int64_t *out)
{
    PGresult *r = PQexec(s->c, sql);
    *out = def;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        pg_fail(s, "query");
        PQclear(r);
        return false;
    }
    if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0)) *out = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return true;
}

static void quiet_notice(void *arg, const char *message)
{
    (void)arg;
    log_debug("postgresql: %s", message);
}

static void f_probe(struct pg *s, struct buf *b)
{
    if (s->probe[0])
        pgc_text(b, s->probe);
    else
        pgc_null(b);
}

/* ---- the connection ---- */

/* A writer's session after each connect: quiet notices, the staging tables. */
static bool session(struct pg *s)
{
    PQsetNoticeProcessor(s->c, quiet_notice, NULL);
    return s->reader ? pg_exec(s, "SET client_min_messages = warning", "connecting")
                     : pg_exec(s, session_sql, "preparing the session");
}

/* After a lost connection (a server restart): reconnects with back-off, 0.1 s doubling to
 * 2 s, for PG_RETRY_S at most. true when the session is back. */
static bool reconnect(struct pg *s)
{
    if (PQstatus(s->c) == CONNECTION_OK && PQtransactionStatus(s->c) != PQTRANS_UNKNOWN)
        return false; /* the server refused what we sent: no connection was lost */
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    double wait = 0.1;
    log_warn("database: connection lost (%s); reconnecting", s->err);
    for (;;) {
        PQreset(s->c);
        if (PQstatus(s->c) == CONNECTION_OK && session(s)) {
            s->reconnects++;
            log_warn("database: reconnected (%llu reconnections so far)",
                     (unsigned long long)s->reconnects);
            return true;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        double spent = (double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
        if (spent + wait > PG_RETRY_S) {
            pg_fail(s, "reconnecting");
            log_error("database: no connection after %d s: %s", PG_RETRY_S, s->err);
            return false;
        }
        struct timespec d = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
        nanosleep(&d, NULL);
        wait = wait * 2 > 2 ? 2 : wait * 2;
    }
}

/* Sends one table's COPY data. */
static bool send_copy(struct pg *s, enum pg_table t)
{
    struct buf *b = &s->copy[t];
    PGresult *r = PQexec(s->c, copy_sql[t]);
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        PQclear(r);
        return pg_fail(s, "COPY");
    }
    PQclear(r);
    static const char trailer[2] = {'\xff', '\xff'};
    bool ok = PQputCopyData(s->c, b->p, (int)b->len) == 1 && PQputCopyData(s->c, trailer, 2) == 1 &&
              PQputCopyEnd(s->c, NULL) == 1;
    if (!ok) return pg_fail(s, "COPY");
    r = PQgetResult(s->c);
    ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) pg_fail(s, "COPY");
    PQclear(r);
    while ((r = PQgetResult(s->c)))
        PQclear(r);
    return ok;
}

/* One attempt at the batch: every table's rows, the merge, the commit. */
static bool send_batch(struct pg *s)
{
    s->sqlstate[0] = '\0';
    bool ok = pg_exec(s, "BEGIN", "a batch");
    for (int t = 0; ok && t < T__N; t++)
        if (s->nrows[t]) ok = send_copy(s, (enum pg_table)t);
    if (ok && (s->nrows[T_CALLS] || s->nrows[T_STREAMS]))
        ok = pg_exec(s, merge_commit_sql, "merging calls and streams, committing a batch");
    else if (ok)
        ok = pg_exec(s, "COMMIT", "committing a batch");
    if (!ok && PQstatus(s->c) == CONNECTION_OK) {
        char why[sizeof s->err];
        memcpy(why, s->err, sizeof why);
        pg_exec(s, "ROLLBACK", "rolling back");
        memcpy(s->err, why, sizeof why);
    }
    return ok;
}

bool pg_commit(struct pg *s)
{
    if (!s->pending) return true;
    bool ok = send_batch(s);
    /* the server went away (a restart): the batch is still here; send it again once the
     * connection is back. A COMMIT whose answer was lost may have been applied: then the
     * batch's messages are stored twice, never lost. */
    while (!ok && PQstatus(s->c) != CONNECTION_OK && reconnect(s))
        ok = send_batch(s);
    /* a deadlock or a serialisation failure rolled the batch back whole: send it again */
    for (int i = 0; !ok && i < 3 && PQstatus(s->c) == CONNECTION_OK &&
                    (!strcmp(s->sqlstate, "40P01") || !strcmp(s->sqlstate, "40001"));
         i++) {
        log_warn("database: %s; sending the batch again", s->err);
        ok = send_batch(s);
    }
    struct store_counts o = s->open;
    s->open = (struct store_counts){0};
    for (int t = 0; t < T__N; t++) {
        s->copy[t].len = 0;
        s->copy[t].oom = false;
        s->nrows[t] = 0;
    }
    s->pending = 0;
    if (!ok) return false; /* the batch is lost: its rows are not counted as stored */
    for (int k = 0; k < STORE_KINDS; k++)
        s->done.rows[k] += o.rows[k];
    s->done.new_calls += o.new_calls;
    if (o.last_call_seq) s->done.last_call_seq = o.last_call_seq;
    s->done.commits++;
    return true;
}

/* ---- staging rows ---- */

static int64_t day_of(double t)
{
    return (int64_t)floor(t / 86400.0);
}

/* The partitions of the day of time t exist (made now when they may not). */
static bool need_day(struct pg *s, double t)
{
    int64_t d = day_of(t);
    for (unsigned i = 0; i < s->ndays; i++)
        if (s->days[i] == d) return true;
    if (!pg_ensure_day(s, d) && !(reconnect(s) && pg_ensure_day(s, d))) return false;
    s->days[s->nextday] = d;
    s->nextday = (s->nextday + 1) % PG_DAYS;
    if (s->ndays < PG_DAYS) s->ndays++;
    return true;
}

/* Starts a row of table t with n fields. */
static struct buf *row(struct pg *s, enum pg_table t, uint16_t n)
{
    struct buf *b = &s->copy[t];
    if (b->len == 0) {
        static const char sig[11] = "PGCOPY\n\377\r\n";
        pgc_put(b, sig, 11);
        pgc_u32(b, 0); /* flags */
        pgc_u32(b, 0); /* header extension */
    }
    pgc_u16(b, n);
    return b;
}

/* A row is staged: count it and commit when the batch is full. */
static bool staged(struct pg *s, enum pg_table t, enum store_kind k)
{
    s->nrows[t]++;
    s->open.rows[k]++;
    size_t bytes = 0;
    bool oom = false;
    for (int i = 0; i < T__N; i++) {
        bytes += s->copy[i].len;
        oom = oom || s->copy[i].oom;
    }
    if (oom) {
        snprintf(s->err, sizeof s->err, "out of memory for a batch of %zu bytes", bytes);
        pg_commit(s); /* what fit goes; the batch is then counted as lost */
        return false;
    }
    return ++s->pending < STORE_BATCH && bytes < PG_BATCH_BYTES ? true : pg_commit(s);
}

static bool pg_put_call(struct store *base, const struct store_call *c)
{
    struct pg *s = (struct pg *)base;
    if (!need_day(s, c->invite_time)) return false;
    struct buf *b = row(s, T_CALLS, 16);
    pgc_i8(b, (int64_t)++s->ord);
    pgc_bool(b, c->update);
    pgc_i8(b, (int64_t)c->seq);
    f_probe(s, b);
    pgc_text(b, c->call_id);
    pgc_text(b, c->from_user);
    pgc_text(b, c->to_user);
    pgc_text(b, c->caller);
    pgc_text(b, c->callee);
    pgc_text(b, c->state ? c->state : "");
    if (c->final_status > 0)
        pgc_i4(b, c->final_status);
    else
        pgc_null(b);
    pgc_f8(b, c->invite_time);
    pgc_f8_if(b, c->end_time, c->end_time >= 0);
    pgc_f8_if(b, c->mos_min, c->mos_min >= 0);
    pgc_text(b, c->issue_kinds);
    pgc_text(b, c->json ? c->json : "{}");
    if (!c->update && !c->progress) {
        s->open.new_calls++;
        s->open.last_call_seq = c->seq;
    }
    return staged(s, T_CALLS, STORE_CALL);
}

static bool pg_put_stream(struct store *base, const struct store_stream *st)
{
    struct pg *s = (struct pg *)base;
    if (!need_day(s, st->first_time)) return false;
    struct buf *b = row(s, T_STREAMS, 12);
    pgc_i8(b, (int64_t)++s->ord);
    pgc_i8(b, (int64_t)st->seq);
    f_probe(s, b);
    pgc_id(b, st->call_seq);
    pgc_text(b, st->src);
    pgc_text(b, st->dst);
    pgc_text(b, st->codec);
    pgc_f8(b, st->first_time);
    pgc_f8(b, st->last_time);
    pgc_f8_if(b, st->mos, st->mos >= 0);
    pgc_text(b, st->json ? st->json : "{}");
    pgc_text(b, st->timeline);
    return staged(s, T_STREAMS, STORE_STREAM);
}

static bool pg_put_registration(struct store *base, const struct store_registration *r)
{
    struct pg *s = (struct pg *)base;
    if (!need_day(s, r->last_time)) return false;
    struct buf *b = row(s, T_REGS, 8);
    f_probe(s, b);
    pgc_text(b, r->aor ? r->aor : "");
    pgc_text(b, r->contact);
    pgc_text(b, r->source);
    pgc_text(b, r->state);
    pgc_f8(b, r->first_time);
    pgc_f8(b, r->last_time);
    pgc_text(b, r->json ? r->json : "{}");
    return staged(s, T_REGS, STORE_REGISTRATION);
}

static bool pg_put_issue(struct store *base, const struct store_issue *is)
{
    struct pg *s = (struct pg *)base;
    if (!need_day(s, is->time)) return false;
    struct buf *b = row(s, T_ISSUES, 8);
    f_probe(s, b);
    pgc_text(b, is->kind ? is->kind : "");
    pgc_text(b, is->severity ? is->severity : "");
    pgc_id(b, is->call_seq);
    pgc_id(b, is->stream_seq);
    pgc_text(b, is->registration);
    pgc_f8(b, is->time);
    pgc_text(b, is->json ? is->json : "{}");
    return staged(s, T_ISSUES, STORE_ISSUE);
}

static void put_keys(struct pg *s, const struct store_message *m);

static bool pg_put_message(struct store *base, const struct store_message *m)
{
    struct pg *s = (struct pg *)base;
    if (!need_day(s, m->time)) return false;
    struct buf *b = row(s, T_MSGS, 19);
    f_probe(s, b);
    pgc_id(b, m->call_seq);
    pgc_i8(b, (int64_t)m->frame);
    pgc_f8(b, m->time);
    pgc_text(b, m->src);
    pgc_text(b, m->dst);
    pgc_text(b, m->transport);
    pgc_text(b, m->method);
    if (m->status > 0)
        pgc_i4(b, m->status);
    else
        pgc_null(b);
    if (m->call_id && m->call_id_len)
        pgc_text_n(b, m->call_id, m->call_id_len);
    else
        pgc_text(b, m->call_id);
    pgc_text(b, m->cseq);
    pgc_i4(b, m->retransmission);
    /* the raw text once: inside the frame stored beside it when it lies there */
    bool in_frame = m->raw_in_frame && m->frame_bytes && m->raw_off + m->raw_len <= m->frame_len;
    pgc_bytea(b, in_frame ? NULL : m->raw, m->raw_len);
    if (in_frame)
        pgc_i4(b, (int32_t)m->raw_off);
    else
        pgc_null(b);
    pgc_i4(b, (int32_t)m->raw_len);
    pgc_i4(b, m->linktype);
    pgc_bytea(b, m->frame_bytes, m->frame_len);
    pgc_text(b, m->reason);
    pgc_i4(b, m->malformed);
    put_keys(s, m);
    return staged(s, T_MSGS, STORE_MESSAGE);
}

static bool pg_put_media(struct store *base, const struct store_media *md)
{
    struct pg *s = (struct pg *)base;
    if (!need_day(s, md->first_time)) return false;
    struct buf *b = row(s, T_MEDIA, 7);
    f_probe(s, b);
    pgc_id(b, md->call_seq);
    pgc_f8(b, md->first_time);
    pgc_f8(b, md->last_time);
    pgc_i4(b, md->linktype);
    pgc_i8(b, md->packets);
    pgc_bytea(b, md->frames ? md->frames : "", md->len);
    return staged(s, T_MEDIA, STORE_MEDIA);
}

/* A message's join keys (store.h): rows of call_keys in the same batch. A call's key may
 * come twice (its INVITE and its 2xx): the query reads them as a set. */
static void put_keys(struct pg *s, const struct store_message *m)
{
    struct store_key k[STORE_MSG_KEYS];
    int n = store_message_keys(m, k);
    for (int i = 0; i < n; i++) {
        struct buf *b = row(s, T_KEYS, 6);
        f_probe(s, b);
        pgc_id(b, m->call_seq);
        pgc_text(b, k[i].kind);
        pgc_text_n(b, k[i].key, k[i].n);
        pgc_text(b, k[i].via);
        pgc_f8(b, m->time);
        s->nrows[T_KEYS]++;
    }
}

/* ---- opening, closing, the rest of the interface ---- */

/* A password in the URI would show in the process list and the shell's history: libpq
 * reads it from PGPASSWORD, the password file or the service file instead. */
static bool has_password(const char *uri, char *err, size_t errlen)
{
    char *msg = NULL;
    PQconninfoOption *o = PQconninfoParse(uri, &msg);
    if (!o) {
        snprintf(err, errlen, "%s", msg ? msg : "not a PostgreSQL URI");
        PQfreemem(msg);
        return true;
    }
    bool pw = false;
    for (PQconninfoOption *i = o; i->keyword; i++)
        if (strcmp(i->keyword, "password") == 0 && i->val && *i->val) pw = true;
    PQconninfoFree(o);
    if (pw)
        snprintf(err, errlen,
                 "the --db URI holds a password, which the process list would "
                 "show: give it through PGPASSFILE (~/.pgpass), PGPASSWORD or a "
                 "service file");
    return pw;
}

static bool pg_close(struct store *base)
{
    struct pg *s = (struct pg *)base;
    bool ok = s->reader || pg_commit(s);
    PQfinish(s->c);
    for (int t = 0; t < T__N; t++)
        free(s->copy[t].p);
    free(s->uri);
    free(s);
    return ok;
}

/* The schema, made once by the first writer (under the lock: two probes may start at
 * once), and this writer's block of ids. */
static bool setup_writer(struct pg *s)
{
    char sql[64];
    int64_t v = 0, block = 0;
    snprintf(sql, sizeof sql, "SELECT pg_advisory_lock(%d)", PG_LOCK);
    bool ok = pg_exec(s, "SET client_min_messages = warning", "connecting") &&
              pg_exec(s, sql, "locking the schema") &&
              pg_exec(s, schema_sql, "creating the schema") &&
              pg_scalar(s, "SELECT value::int FROM meta WHERE key = 'schema'", 0, &v);
    for (; ok && v >= 1 && v < PG_SCHEMA_VERSION; v++) {
        char set[96];
        snprintf(set, sizeof set, "UPDATE meta SET value = '%lld' WHERE key = 'schema'",
                 (long long)v + 1);
        ok = pg_exec(s, "BEGIN", "migrating") && pg_exec(s, migrations[v - 1], "migrating") &&
             pg_exec(s, set, "migrating") && pg_exec(s, "COMMIT", "migrating");
        if (!ok && PQstatus(s->c) == CONNECTION_OK) pg_exec(s, "ROLLBACK", "rolling back");
    }
    snprintf(sql, sizeof sql, "SELECT pg_advisory_unlock(%d)", PG_LOCK);
    pg_exec(s, sql, "unlocking the schema");
    if (ok && v > PG_SCHEMA_VERSION) {
        snprintf(s->err, sizeof s->err,
                 "the database has schema %lld, newer than this sipscope knows (%d)", (long long)v,
                 PG_SCHEMA_VERSION);
        return false;
    }
    ok = ok && pg_scalar(s, "SELECT nextval('id_blocks')", 0, &block) && session(s);
    s->base_id = (uint64_t)block;
    return ok;
}

struct store *store_pg_open(const char *uri, bool reader, char *err, size_t errlen)
{
    if (has_password(uri, err, errlen)) return NULL;
    struct pg *s = calloc(1, sizeof *s);
    if (!s || !(s->uri = strdup(uri))) {
        free(s);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->base.ops = &pg_ops;
    s->reader = reader;
    s->c = PQconnectdb(uri);
    bool ok = PQstatus(s->c) == CONNECTION_OK || pg_fail(s, "connecting");
    if (ok) PQsetNoticeProcessor(s->c, quiet_notice, NULL);
    int64_t v = 0;
    if (ok && reader) {
        int64_t have = 0; /* a database no writer has made a schema in yet */
        ok = session(s) &&
             pg_scalar(s, "SELECT (to_regclass('meta') IS NOT NULL)::int", 0, &have) &&
             (!have || pg_scalar(s, "SELECT value::int FROM meta WHERE key = 'schema'", 0, &v));
        if (ok && v != PG_SCHEMA_VERSION) {
            snprintf(s->err, sizeof s->err, "schema %lld, this sipscope reads %d%s", (long long)v,
                     PG_SCHEMA_VERSION,
                     v == 0 ? " (a writer such as analyze --db creates it)" : "");
            ok = false;
        }
    } else if (ok) {
        ok = setup_writer(s);
    }
    if (!ok) {
        snprintf(err, errlen, "PostgreSQL: %s", s->err);
        pg_close(&s->base);
        return NULL;
    }
    return &s->base;
}

static const char *pg_error(const struct store *base)
{
    return ((const struct pg *)base)->err;
}

static void pg_set_error(struct store *base, const char *why)
{
    struct pg *s = (struct pg *)base;
    snprintf(s->err, sizeof s->err, "%s", why);
}

static bool pg_flush(struct store *base)
{
    return pg_commit((struct pg *)base);
}

static void pg_counts(const struct store *base, struct store_counts *out)
{
    *out = ((const struct pg *)base)->done;
}

static int pg_schema_version(struct store *base)
{
    int64_t v = -1;
    pg_scalar((struct pg *)base, "SELECT value::int FROM meta WHERE key = 'schema'", -1, &v);
    return (int)v;
}

/* A writer's calls and streams are numbered in its block (ids never collide between
 * probes); this is where the block starts, or the last of it used. A reader gets the
 * largest stored. */
static uint64_t max_in_block(struct store *base, const char *table)
{
    struct pg *s = (struct pg *)base;
    char sql[200];
    int64_t v = 0;
    if (s->reader)
        snprintf(sql, sizeof sql, "SELECT max(seq) FROM %s", table);
    else
        snprintf(sql, sizeof sql, "SELECT max(seq) FROM %s WHERE seq > %llu AND seq <= %llu", table,
                 (unsigned long long)s->base_id,
                 (unsigned long long)s->base_id + (unsigned long long)PG_ID_BLOCK);
    if (!pg_commit(s) || !pg_scalar(s, sql, (int64_t)s->base_id, &v)) return s->base_id;
    return (uint64_t)v;
}

static uint64_t pg_max_call_seq(struct store *base)
{
    return max_in_block(base, "calls");
}

static uint64_t pg_max_stream_seq(struct store *base)
{
    return max_in_block(base, "streams");
}

static void pg_set_probe(struct store *base, const char *probe)
{
    struct pg *s = (struct pg *)base;
    snprintf(s->probe, sizeof s->probe, "%s", probe ? probe : "");
}

/* Runs an INSERT or UPDATE of runs with its values as text; the id it returns, or -1. */
static int64_t run_row(struct pg *s, const char *sql, const char *const *vals, int n)
{
    if (!pg_commit(s)) return -1;
    PGresult *r = PQexecParams(s->c, sql, n, NULL, vals, NULL, NULL, 0);
    int64_t id = -1;
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_TUPLES_OK && PQntuples(r) == 1)
        id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    else if (st == PGRES_COMMAND_OK)
        id = 0;
    else
        pg_fail(s, "recording a run");
    PQclear(r);
    return id;
}

static int64_t pg_run_begin(struct store *base, double started, uint64_t first_call_seq)
{
    struct pg *s = (struct pg *)base;
    char t[32], f[24];
    snprintf(t, sizeof t, "%.17g", started);
    snprintf(f, sizeof f, "%llu", (unsigned long long)first_call_seq);
    const char *v[3] = {t, f, s->probe[0] ? s->probe : NULL};
    return run_row(s,
                   "INSERT INTO runs(started, first_call_seq, probe) VALUES($1, $2, $3)"
                   " RETURNING id",
                   v, 3);
}

static bool pg_run_end(struct store *base, int64_t run, double ended, uint64_t last_call_seq,
                       const char *json)
{
    struct pg *s = (struct pg *)base;
    char t[32], l[24], id[24];
    snprintf(t, sizeof t, "%.17g", ended);
    snprintf(l, sizeof l, "%llu", (unsigned long long)last_call_seq);
    snprintf(id, sizeof id, "%lld", (long long)run);
    const char *v[4] = {t, last_call_seq ? l : NULL, json, id};
    return run_row(s, "UPDATE runs SET ended = $1, last_call_seq = $2, json = $3 WHERE id = $4", v,
                   4) >= 0;
}

static const struct store_ops pg_ops = {
    .backend = STORE_BACKEND_PG,
    .close = pg_close,
    .error = pg_error,
    .set_error = pg_set_error,
    .flush = pg_flush,
    .counts = pg_counts,
    .schema_version = pg_schema_version,
    .max_call_seq = pg_max_call_seq,
    .max_stream_seq = pg_max_stream_seq,
    .set_probe = pg_set_probe,
    .put_call = pg_put_call,
    .put_stream = pg_put_stream,
    .put_registration = pg_put_registration,
    .put_issue = pg_put_issue,
    .put_message = pg_put_message,
    .put_media = pg_put_media,
    .run_begin = pg_run_begin,
    .run_end = pg_run_end,
    .retain = pg_retain,
    .used_bytes = pg_used_bytes,
    .rows = pg_rows,
    .json_member_fmt = "(%s::jsonb->>'%s')",
    .stats_sql = PG_STATS_SQL,
};
