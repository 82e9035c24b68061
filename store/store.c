/* See store.h and store_int.h: the one interface, dispatched to the backend the --db
 * string names. */
#include "store.h"
#include "store_int.h"

#include <stdio.h>
#include <string.h>

bool store_is_postgres(const char *db)
{
    return db && (strncmp(db, "postgresql://", 13) == 0 || strncmp(db, "postgres://", 11) == 0);
}

struct store *store_open(const char *path, char *err, size_t errlen)
{
    return store_is_postgres(path) ? store_pg_open(path, false, err, errlen)
                                   : store_sqlite_open(path, false, err, errlen);
}

struct store *store_open_reader(const char *path, char *err, size_t errlen)
{
    return store_is_postgres(path) ? store_pg_open(path, true, err, errlen)
                                   : store_sqlite_open(path, true, err, errlen);
}

bool store_close(struct store *s)
{
    return !s || s->ops->close(s);
}

const char *store_error(const struct store *s)
{
    return s->ops->error(s);
}

void store_set_error(struct store *s, const char *why)
{
    s->ops->set_error(s, why);
}

bool store_flush(struct store *s)
{
    return s->ops->flush(s);
}

void store_counts(const struct store *s, struct store_counts *out)
{
    s->ops->counts(s, out);
}

int store_schema_version(struct store *s)
{
    return s->ops->schema_version(s);
}

uint64_t store_max_call_seq(struct store *s)
{
    return s->ops->max_call_seq(s);
}

uint64_t store_max_stream_seq(struct store *s)
{
    return s->ops->max_stream_seq(s);
}

void store_set_probe(struct store *s, const char *probe)
{
    s->ops->set_probe(s, probe);
}

bool store_put_call(struct store *s, const struct store_call *c)
{
    return s->ops->put_call(s, c);
}

bool store_put_stream(struct store *s, const struct store_stream *st)
{
    return s->ops->put_stream(s, st);
}

bool store_put_registration(struct store *s, const struct store_registration *r)
{
    return s->ops->put_registration(s, r);
}

bool store_put_issue(struct store *s, const struct store_issue *is)
{
    return s->ops->put_issue(s, is);
}

bool store_put_message(struct store *s, const struct store_message *m)
{
    return s->ops->put_message(s, m);
}

bool store_put_media(struct store *s, const struct store_media *md)
{
    return s->ops->put_media(s, md);
}

int64_t store_run_begin(struct store *s, double started, uint64_t first_call_seq)
{
    return s->ops->run_begin(s, started, first_call_seq);
}

bool store_run_end(struct store *s, int64_t run, double ended, uint64_t last_call_seq,
                   const char *json)
{
    return s->ops->run_end(s, run, ended, last_call_seq, json);
}

bool store_retain(struct store *s, const struct store_retention *r, struct store_retained *out,
                  bool *more)
{
    return s->ops->retain(s, r, out, more);
}

uint64_t store_used_bytes(struct store *s)
{
    return s->ops->used_bytes(s);
}

enum store_qstatus store_rows(struct store *s, const char *sql, const struct store_arg *args,
                              int nargs, store_row_fn fn, void *user)
{
    return s->ops->rows(s, sql, args, nargs, fn, user);
}

void store_json_member(const struct store *s, const char *column, const char *name, char *out,
                       size_t outlen)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(out, outlen, s->ops->json_member_fmt, column, name);
#pragma GCC diagnostic pop
}

const char *store_stats_sql(const struct store *s)
{
    return s->ops->stats_sql;
}

/* ---- columns ---- */

#define COL(ret, name, args, call)                                                                 \
    ret store_col_##name args                                                                      \
    {                                                                                              \
        return r->backend == STORE_BACKEND_PG ? store_pg_col_##name call                           \
                                              : store_sqlite_col_##name call;                      \
    }

COL(const char *, text, (const struct store_row *r, int i), (r, i))
COL(size_t, bytes, (const struct store_row *r, int i), (r, i))
COL(double, double, (const struct store_row *r, int i), (r, i))
COL(int64_t, int, (const struct store_row *r, int i), (r, i))
COL(const void *, blob, (const struct store_row *r, int i, size_t *n), (r, i, n))
COL(bool, null, (const struct store_row *r, int i), (r, i))

int store_message_keys(const struct store_message *m, struct store_key out[STORE_MSG_KEYS])
{
    int n = 0;
    if (!m->keys || !m->call_seq) return 0;
    size_t cid_n = m->call_id ? (m->call_id_len ? m->call_id_len : strlen(m->call_id)) : 0;
    if (cid_n) out[n++] = (struct store_key){"cid", "call_id", m->call_id, cid_n};
    if (m->x_cid && *m->x_cid)
        out[n++] = (struct store_key){"cid", "x_cid", m->x_cid, strlen(m->x_cid)};
    /* RFC 7989 §7: a B2BUA passes both UUIDs on unchanged, so either names the session */
    if (m->session_local && *m->session_local)
        out[n++] =
            (struct store_key){"sid", "session_id", m->session_local, strlen(m->session_local)};
    if (m->session_remote && *m->session_remote)
        out[n++] =
            (struct store_key){"sid", "session_id", m->session_remote, strlen(m->session_remote)};
    return n;
}
