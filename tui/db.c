/* See db.h. Each changed call is read whole (its object, its messages, its streams) and
 * handed to the model in one piece, so the screen never shows half a call. Changed calls
 * are collected first and read after their page, so that no query runs inside another
 * (a PostgreSQL connection runs one at a time). */
#include "db.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decode/sip.h"
#include "fromjson.h"
#include "render/ladder.h"
#include "store/query.h"

#define DB_PAGE    200 /* changed calls read at once */
#define DB_POLL_MS 250 /* how often the database is asked for changes when it had none */

struct page {
    char *json[DB_PAGE]; /* owned */
    size_t n;
    uint64_t rev; /* the newest revision in the page */
};

static bool on_rev(void *user, uint64_t rev, const char *json)
{
    struct page *p = user;
    if (p->n == DB_PAGE) return false;
    if (!(p->json[p->n] = strdup(json))) return false;
    p->n++;
    if (rev > p->rev) p->rev = rev;
    return true;
}

struct load {
    struct render_ladder *ladder;
    struct tui_msg *msgs;
    size_t nmsgs;
    struct tui_stream streams[TUI_MAX_STREAMS];
    size_t nstreams;
};

static bool on_message(void *user, const struct store_message *sm)
{
    struct load *x = user;
    if (x->nmsgs == TUI_MAX_MSGS || !sm->raw) return true; /* raw not kept: nothing to draw */
    struct tui_msg *m = &x->msgs[x->nmsgs];
    memset(m, 0, sizeof *m);
    m->len = sm->raw_len < TUI_MAX_RAW ? sm->raw_len : TUI_MAX_RAW;
    if (!(m->raw = malloc(m->len + 1))) return false;
    if (m->len) memcpy(m->raw, sm->raw, m->len); /* no text kept: raw NULL, len 0 */
    m->raw[m->len] = '\0';
    m->frame = sm->frame;
    m->ts = (ptime_t)llround(sm->time * 1e9);
    m->retrans = sm->retransmission;
    snprintf(m->src, sizeof m->src, "%s", sm->src ? sm->src : "");
    snprintf(m->dst, sizeof m->dst, "%s", sm->dst ? sm->dst : "");
    x->nmsgs++;
    /* the ladder's arrow, from the text as the analysis read it */
    struct sip_msg msg;
    if (sip_parse(m->raw, m->len, 0, &msg) != SIP_OK) return true;
    const char *t = sm->transport ? sm->transport : "";
    struct render_ladder_in in = {.msg = &msg,
                                  .src = m->src,
                                  .dst = m->dst,
                                  .ts = m->ts,
                                  .frame = m->frame,
                                  .retrans = m->retrans,
                                  .tls = !strcmp(t, "tls") || !strcmp(t, "wss")};
    render_ladder_sip(x->ladder, &in);
    return true;
}

static bool on_stream(void *user, const char *json, const char *timeline)
{
    (void)timeline;
    struct load *x = user;
    json_t *o = x->nstreams < TUI_MAX_STREAMS ? json_loads(json, 0, NULL) : NULL;
    if (o && tui_stream_from_json(&x->streams[x->nstreams], o)) x->nstreams++;
    json_decref(o);
    return true;
}

/* The frame that carried a message, kept with it for saving (a TCP segment that completed
 * two messages goes with both; save.c writes it once). */
static bool on_frame(void *user, uint64_t frame, double time, int linktype, const void *data,
                     size_t len)
{
    (void)time;
    struct load *x = user;
    for (size_t i = 0; i < x->nmsgs; i++) {
        struct tui_msg *m = &x->msgs[i];
        if (m->frame != frame || m->pkt || len > UINT32_MAX) continue;
        if (!(m->pkt = malloc(len ? len : 1))) return false;
        if (len) memcpy(m->pkt, data, len);
        m->caplen = (uint32_t)len;
        m->linktype = linktype;
    }
    return true;
}

static void load_free(struct load *x)
{
    tui_msgs_free(x->msgs, x->nmsgs);
    render_ladder_free(x->ladder);
}

/* One changed call, read whole and handed to the model. */
static void load_call(struct store *s, struct tui_model *m, bool utf8, const char *json)
{
    struct tui_row row = {0};
    struct tui_issue *issues = NULL;
    size_t nissues = 0;
    json_t *o = json_loads(json, 0, NULL);
    bool ok = o && tui_row_from_json(&row, o, &issues, &nissues);
    json_decref(o);
    struct load x = {.ladder = ok ? render_ladder_new() : NULL};
    if (!x.ladder || !(x.msgs = calloc(TUI_MAX_MSGS, sizeof *x.msgs))) {
        free(issues);
        load_free(&x);
        return;
    }
    render_ladder_set_utf8(x.ladder, utf8);
    bool found;
    if (store_call_messages(s, row.seq, on_message, &x) != STORE_Q_OK ||
        store_call_streams(s, row.seq, on_stream, &x) != STORE_Q_OK ||
        !store_call_frames(s, row.seq, on_frame, &x, &found)) {
        tui_model_warn(m, store_error(s));
        free(issues);
        load_free(&x);
        return;
    }
    struct tui_call_parts p = {.row = &row,
                               .ladder = x.ladder,
                               .msgs = x.msgs,
                               .nmsgs = x.nmsgs,
                               .streams = x.streams,
                               .nstreams = x.nstreams,
                               .issues = issues,
                               .nissues = nissues};
    tui_model_replace(m, &p); /* the model owns them now */
}

static void nap(volatile sig_atomic_t *quit)
{
    struct timespec ts = {0, 50 * 1000000L};
    for (int i = 0; i < DB_POLL_MS / 50 && !*quit; i++)
        nanosleep(&ts, NULL);
}

void tui_db_follow(const char *db, struct tui_model *m, bool utf8, volatile sig_atomic_t *quit)
{
    char err[512];
    struct store *s = store_open_reader(db, err, sizeof err);
    if (!s) {
        tui_model_done(m, err);
        return;
    }
    struct capture_stats none = {0};
    tui_model_capture(m, &none, true);
    uint64_t after = 0;
    while (!*quit) {
        struct page p = {.rev = after};
        uint64_t last;
        enum store_qstatus q = store_calls_since(s, after, DB_PAGE, on_rev, &p, &last);
        if (q != STORE_Q_OK) tui_model_warn(m, store_error(s));
        for (size_t i = 0; i < p.n; i++) {
            if (!*quit) load_call(s, m, utf8, p.json[i]);
            free(p.json[i]);
        }
        /* the page's own newest: the database's may be past rows this page left out */
        after = p.rev;
        if (p.n < DB_PAGE) nap(quit);
    }
    store_close(s);
    tui_model_done(m, NULL);
}
