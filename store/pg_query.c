/* The PostgreSQL backend's reads (the generic query path of store_int.h), its partitions
 * and its retention. See pg.c for the layout. */
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "pg_int.h"

#define PG_LOCK_PARTS 0x51b5c0bf /* advisory lock: partitions made or dropped */

/* The type oids of pg_type.dat (stable across versions; libpq does not export them). */
enum {
    OID_BOOL = 16,
    OID_BYTEA = 17,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_TEXT = 25,
    OID_JSON = 114,
    OID_FLOAT4 = 700,
    OID_FLOAT8 = 701,
    OID_UNKNOWN = 705,
    OID_VARCHAR = 1043,
    OID_JSONB = 3802
};

/* ---- rows ---- */

/* The shared query text writes '?' for a value; libpq wants $1, $2, ... (no '?' appears in
 * our SQL but as a placeholder). */
static bool number_params(const char *sql, char *out, size_t outlen)
{
    size_t o = 0;
    int n = 0;
    for (const char *p = sql; *p; p++) {
        char tmp[16];
        const char *add = tmp;
        size_t k;
        if (*p == '?') {
            k = (size_t)snprintf(tmp, sizeof tmp, "$%d", ++n);
        } else {
            add = p;
            k = 1;
        }
        if (o + k >= outlen) return false;
        memcpy(out + o, add, k);
        o += k;
    }
    out[o] = '\0';
    return true;
}

enum store_qstatus pg_rows(struct store *base, const char *sql, const struct store_arg *args,
                           int nargs, store_row_fn fn, void *user)
{
    struct pg *s = (struct pg *)base;
    char text[4096], num[32][32];
    const char *vals[32];
    if (nargs > 32 || !number_params(sql, text, sizeof text)) {
        store_set_error(base, "query too long");
        return STORE_Q_BAD;
    }
    if (!s->reader && !pg_commit(s)) return STORE_Q_ERROR;
    for (int i = 0; i < nargs; i++) {
        if (args[i].type == STORE_ARG_TEXT) {
            vals[i] = args[i].t;
            continue;
        }
        if (args[i].type == STORE_ARG_REAL)
            snprintf(num[i], sizeof num[i], "%.17g", args[i].d);
        else
            snprintf(num[i], sizeof num[i], "%lld", (long long)args[i].i);
        vals[i] = num[i];
    }
    /* results in binary: bytea and numbers as they are, no text to parse back */
    PGresult *r = PQexecParams(s->c, text, nargs, NULL, vals, NULL, NULL, 1);
    if (PQresultStatus(r) != PGRES_TUPLES_OK && PQstatus(s->c) == CONNECTION_BAD && s->reader) {
        /* the server restarted under `serve`: one new connection and the query again,
         * so that the API answers once it is back (a writer reconnects in pg.c) */
        PQclear(r);
        PQreset(s->c);
        if (PQstatus(s->c) == CONNECTION_OK)
            pg_exec(s, "SET client_min_messages = warning", "reconnecting");
        r = PQexecParams(s->c, text, nargs, NULL, vals, NULL, NULL, 1);
    }
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        const char *m = PQresultErrorMessage(r);
        snprintf(s->err, sizeof s->err, "query: %s", m && *m ? m : PQerrorMessage(s->c));
        PQclear(r);
        return STORE_Q_ERROR;
    }
    struct store_row row = {.backend = STORE_BACKEND_PG, .h = r};
    for (int n = PQntuples(r); row.row < n && fn(user, &row); row.row++)
        ;
    PQclear(r);
    return STORE_Q_OK;
}

static uint64_t be64(const char *p)
{
    uint32_t hi, lo;
    memcpy(&hi, p, 4);
    memcpy(&lo, p + 4, 4);
    return (uint64_t)ntohl(hi) << 32 | ntohl(lo);
}

bool store_pg_col_null(const struct store_row *r, int i)
{
    return PQgetisnull(r->h, r->row, i) != 0;
}

const char *store_pg_col_text(const struct store_row *r, int i)
{
    if (store_pg_col_null(r, i)) return NULL;
    /* libpq ends every value with a NUL, binary ones too */
    const char *v = PQgetvalue(r->h, r->row, i);
    return PQftype(r->h, i) == OID_JSONB ? v + 1 : v; /* jsonb: a version byte first */
}

size_t store_pg_col_bytes(const struct store_row *r, int i)
{
    size_t n = (size_t)PQgetlength(r->h, r->row, i);
    return PQftype(r->h, i) == OID_JSONB && n ? n - 1 : n;
}

int64_t store_pg_col_int(const struct store_row *r, int i)
{
    if (store_pg_col_null(r, i)) return 0;
    const char *v = PQgetvalue(r->h, r->row, i);
    uint32_t u32;
    uint16_t u16;
    switch (PQftype(r->h, i)) {
    case OID_INT8:
        return (int64_t)be64(v);
    case OID_INT4:
        memcpy(&u32, v, 4);
        return (int32_t)ntohl(u32);
    case OID_INT2:
        memcpy(&u16, v, 2);
        return (int16_t)ntohs(u16);
    case OID_BOOL:
        return v[0] != 0;
    case OID_FLOAT8:
    case OID_FLOAT4:
        return (int64_t)store_pg_col_double(r, i);
    default:
        return strtoll(store_pg_col_text(r, i), NULL, 10); /* text: a JSON member */
    }
}

double store_pg_col_double(const struct store_row *r, int i)
{
    if (store_pg_col_null(r, i)) return 0;
    const char *v = PQgetvalue(r->h, r->row, i);
    uint64_t u;
    uint32_t u32;
    double d;
    float f;
    switch (PQftype(r->h, i)) {
    case OID_FLOAT8:
        u = be64(v);
        memcpy(&d, &u, 8);
        return d;
    case OID_FLOAT4:
        memcpy(&u32, v, 4);
        u32 = ntohl(u32);
        memcpy(&f, &u32, 4);
        return f;
    case OID_INT8:
    case OID_INT4:
    case OID_INT2:
    case OID_BOOL:
        return (double)store_pg_col_int(r, i);
    default:
        return strtod(store_pg_col_text(r, i), NULL);
    }
}

const void *store_pg_col_blob(const struct store_row *r, int i, size_t *n)
{
    if (store_pg_col_null(r, i)) {
        *n = 0;
        return NULL;
    }
    *n = (size_t)PQgetlength(r->h, r->row, i);
    return PQgetvalue(r->h, r->row, i);
}

/* ---- partitions: one per table and day, named table_dYYYYMMDD ---- */

static void part_name(char *out, size_t n, const char *table, int64_t day)
{
    time_t t = (time_t)(day * 86400);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, n, "%s_d%04d%02d%02d", table, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

/* A partition is made apart and then attached: ATTACH PARTITION takes only a SHARE UPDATE
 * EXCLUSIVE lock on the parent, which the other probes' batches (ROW EXCLUSIVE) and the
 * readers (ACCESS SHARE) do not wait for, where CREATE TABLE ... PARTITION OF takes an
 * ACCESS EXCLUSIVE one and deadlocks with a batch that holds the parent and wants a table
 * it made before. The advisory lock keeps two probes from making the same one. */
bool pg_ensure_day(struct pg *s, int64_t day)
{
    char sql[8192];
    size_t o = (size_t)snprintf(sql, sizeof sql,
                                "BEGIN; SELECT pg_advisory_xact_lock(%d);"
                                "DO $$ BEGIN ",
                                PG_LOCK_PARTS);
    for (int64_t d = day; d <= day + 1; d++) /* the day after too: made ahead */
        for (size_t t = 0; t < PG_NPARTED; t++) {
            char name[64];
            part_name(name, sizeof name, pg_parted[t], d);
            o += (size_t)snprintf(sql + o, sizeof sql - o,
                                  "IF to_regclass('%s') IS NULL THEN"
                                  " CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS);"
                                  " ALTER TABLE %s ATTACH PARTITION %s"
                                  " FOR VALUES FROM (%lld) TO (%lld); END IF;",
                                  name, name, pg_parted[t], pg_parted[t], name,
                                  (long long)(d * 86400), (long long)((d + 1) * 86400));
        }
    snprintf(sql + o, sizeof sql - o, " END $$; COMMIT;");
    if (pg_exec(s, sql, "creating partitions")) return true;
    if (PQstatus(s->c) == CONNECTION_OK) pg_exec(s, "ROLLBACK", "rolling back");
    return false;
}

/* The days that have partitions of table, oldest first, at most max. */
static bool days(struct pg *s, const char *table, int64_t *out, size_t max, size_t *n)
{
    char sql[400];
    *n = 0;
    snprintf(sql, sizeof sql,
             "SELECT right(c.relname, 8) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
             " JOIN pg_class p ON p.oid = i.inhparent"
             " WHERE p.relname = '%s' AND c.relname ~ '^%s_d[0-9]{8}$' ORDER BY 1",
             table, table);
    PGresult *r = PQexec(s->c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return pg_fail(s, "listing partitions");
    }
    for (int i = 0; i < PQntuples(r) && *n < max; i++) {
        struct tm tm = {0};
        if (!strptime(PQgetvalue(r, i, 0), "%Y%m%d", &tm)) continue;
        out[(*n)++] = (int64_t)timegm(&tm) / 86400;
    }
    PQclear(r);
    return true;
}

/* Drops the partitions of one day of tables [from, to) of pg_parted, counting the rows
 * that go. Each is first
 * detached CONCURRENTLY (no lock that would stop the other probes' batches or the
 * readers: it waits for the transactions that use it instead), then dropped alone. */
static bool drop_day(struct pg *s, int64_t day, size_t from, size_t to, struct store_retained *out)
{
    static const enum store_kind kind[PG_NPARTED] = {STORE_CALL,    STORE_KINDS,        STORE_KINDS,
                                                     STORE_STREAM,  STORE_REGISTRATION, STORE_ISSUE,
                                                     STORE_MESSAGE, STORE_MEDIA};
    uint64_t n[STORE_KINDS] = {0};
    bool ok = true;
    for (size_t t = from; ok && t < to; t++) {
        char name[64], sql[256];
        int64_t rows = 0, attached = 0;
        part_name(name, sizeof name, pg_parted[t], day);
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM pg_inherits WHERE inhrelid = to_regclass('%s')", name);
        ok = pg_scalar(s, sql, 0, &attached);
        snprintf(sql, sizeof sql, "SELECT CASE WHEN to_regclass('%s') IS NULL THEN 0 END", name);
        int64_t missing = 1;
        ok = ok && pg_scalar(s, sql, 1, &missing);
        if (!ok || missing == 0) continue; /* gone already (another probe's retention) */
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", name);
        ok = pg_scalar(s, sql, 0, &rows);
        if (ok && attached) {
            snprintf(sql, sizeof sql, "ALTER TABLE %s DETACH PARTITION %s CONCURRENTLY",
                     pg_parted[t], name);
            ok = pg_exec(s, sql, "retention");
        }
        snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS %s", name);
        ok = ok && pg_exec(s, sql, "retention");
        if (ok && kind[t] < STORE_KINDS) n[kind[t]] += (uint64_t)rows;
    }
    if (!ok) return false;
    for (int k = 0; k < STORE_KINDS; k++)
        out->rows[k] += n[k];
    out->batches++;
    char name[64];
    part_name(name, sizeof name, "", day);
    log_info("database: retention dropped the partitions of %s (%llu calls, %llu messages,"
             " %llu media chunks)",
             name + 2, (unsigned long long)n[STORE_CALL], (unsigned long long)n[STORE_MESSAGE],
             (unsigned long long)n[STORE_MEDIA]);
    /* a day dropped is no longer known to have partitions */
    for (unsigned i = 0; from == 0 && i < s->ndays; i++)
        if (s->days[i] == day) s->days[i] = INT64_MIN;
    return true;
}

uint64_t pg_used_bytes(struct store *base)
{
    struct pg *s = (struct pg *)base;
    int64_t v = 0;
    pg_scalar(s,
              "SELECT coalesce(sum(pg_total_relation_size(i.inhrelid)), 0)::bigint"
              " FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent"
              " WHERE p.relname IN ('calls', 'legs', 'call_keys', 'streams', 'registrations',"
              " 'issues', 'messages', 'media')",
              0, &v);
    return (uint64_t)v;
}

/* Retention by whole days: a day goes when all of it is older than max_age_s before the
 * newest call stored (packet time, as SQLite's retention measures); the oldest day goes
 * while the partitions take more than max_bytes, the newest day never. Media has no
 * shorter age here: its rows go with their day. One day per call. */
bool pg_retain(struct store *base, const struct store_retention *r, struct store_retained *out,
               bool *more)
{
    struct pg *s = (struct pg *)base;
    *more = false;
    if (!pg_commit(s)) return false;
    int64_t list[400];
    size_t n;
    int64_t newest_ms = 0;
    if (!days(s, "calls", list, sizeof list / sizeof *list, &n) ||
        !pg_scalar(s, "SELECT (max(invite_time) * 1000)::bigint FROM calls", INT64_MIN, &newest_ms))
        return false;
    if (n < 2 || newest_ms == INT64_MIN) return true; /* nothing stored, or one day only */
    double newest = (double)newest_ms / 1000;
    int64_t newest_day = (int64_t)floor(newest / 86400);
    struct store_retained got = {0};
    bool dropped = false;
    for (size_t i = 0; i < n && !dropped && list[i] < newest_day; i++) {
        bool old = r->max_age_s > 0 && (double)(list[i] + 1) * 86400 <= newest - r->max_age_s;
        bool big = r->max_bytes && pg_used_bytes(base) > r->max_bytes;
        if (!old && !big) break;
        if (!drop_day(s, list[i], 0, PG_NPARTED, &got)) return false;
        dropped = true;
    }
    /* spooled media has its own, shorter, age (--spool-days): its day goes alone, its
     * calls stay */
    if (!dropped && r->media_max_age_s > 0 &&
        days(s, "media", list, sizeof list / sizeof *list, &n))
        for (size_t i = 0; i < n && !dropped && list[i] < newest_day; i++) {
            if ((double)(list[i] + 1) * 86400 > newest - r->media_max_age_s) break;
            if (!drop_day(s, list[i], PG_NPARTED - 1, PG_NPARTED, &got)) return false;
            dropped = true;
        }
    if (out) {
        for (int k = 0; k < STORE_KINDS; k++)
            out->rows[k] += got.rows[k];
        out->batches += got.batches;
    }
    *more = dropped;
    return true;
}
