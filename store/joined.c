/* One call as several probes saw it (query.h, store_call_joined()): the calls of other
 * probes that share a join key with it, and theirs in turn, found hop by hop through the
 * call_keys index; at most STORE_JOIN_MAX calls, so that a key many calls share (a
 * Call-ID a broken UA reuses) costs a bounded walk. */
#include "query.h"

#include <stdlib.h>
#include <string.h>

#include "store_int.h"

_Static_assert(STORE_JOIN_WINDOW_S == 3600, "the join window is written in STORE_SQL_JOINED");

struct walk {
    uint64_t seq[STORE_JOIN_MAX];
    unsigned by[STORE_JOIN_MAX];
    char *probe[STORE_JOIN_MAX], *json[STORE_JOIN_MAX]; /* owned */
    unsigned n;
    bool oom;
};

static int find(const struct walk *w, uint64_t seq)
{
    for (unsigned i = 0; i < w->n; i++)
        if (w->seq[i] == seq) return (int)i;
    return -1;
}

/* How two calls' keys met: the same Call-ID, a Call-ID one's X-CID names, a Session-ID. */
static unsigned how(const char *kind, const char *via1, const char *via2)
{
    if (kind && !strcmp(kind, "sid")) return STORE_JOIN_SESSION_ID;
    bool same = via1 && via2 && !strcmp(via1, "call_id") && !strcmp(via2, "call_id");
    return same ? STORE_JOIN_CALL_ID : STORE_JOIN_X_CID;
}

static char *dup_or_null(const char *t)
{
    return t ? strdup(t) : NULL;
}

static bool add(struct walk *w, uint64_t seq, unsigned by, const char *probe, const char *json)
{
    int at = find(w, seq);
    if (at >= 0) {
        if (at > 0) w->by[at] |= by;
        return true;
    }
    if (w->n == STORE_JOIN_MAX) return false;
    w->seq[w->n] = seq;
    w->by[w->n] = by;
    w->probe[w->n] = dup_or_null(probe);
    w->json[w->n] = dup_or_null(json);
    w->oom |= (probe && !w->probe[w->n]) || (json && !w->json[w->n]);
    w->n++;
    return true;
}

static bool joined_row(void *u, const struct store_row *r)
{
    struct walk *w = u;
    unsigned by = how(store_col_text(r, 2), store_col_text(r, 3), store_col_text(r, 4));
    return add(w, (uint64_t)store_col_int(r, 0), by, store_col_text(r, 1), store_col_text(r, 5));
}

static bool root_row(void *u, const struct store_row *r)
{
    struct walk *w = u;
    add(w, (uint64_t)store_col_int(r, 0), 0, store_col_text(r, 1), store_col_text(r, 2));
    return false;
}

/* Orders the calls found after the first by first INVITE (their JSON's "invite_time" is
 * not read here: the hop order is kept, each hop already in time order). */
enum store_qstatus store_call_joined(struct store *s, uint64_t seq, store_joined_fn fn, void *user)
{
    struct walk w = {0};
    struct store_arg a = {.type = STORE_ARG_INT, .i = (int64_t)seq};
    enum store_qstatus r =
        store_rows(s, "SELECT seq, probe, json FROM calls WHERE seq = ?", &a, 1, root_row, &w);
    if (r == STORE_Q_OK && !w.n) r = STORE_Q_NOT_FOUND;
    for (unsigned i = 0; r == STORE_Q_OK && i < w.n && w.n < STORE_JOIN_MAX; i++) {
        a.i = (int64_t)w.seq[i];
        r = store_rows(s, STORE_SQL_JOINED, &a, 1, joined_row, &w);
    }
    if (r == STORE_Q_OK && w.oom) {
        store_set_error(s, "out of memory");
        r = STORE_Q_ERROR;
    }
    for (unsigned i = 0; r == STORE_Q_OK && i < w.n; i++) {
        struct store_joined j = {
            .seq = w.seq[i], .probe = w.probe[i], .by = w.by[i], .json = w.json[i]};
        if (!fn(user, &j)) break;
    }
    for (unsigned i = 0; i < w.n; i++) {
        free(w.probe[i]);
        free(w.json[i]);
    }
    return r;
}
