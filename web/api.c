/* See api.h. Stored objects are served as they are stored (they are the docs/output.md
 * objects); lists are assembled around them as text, so a page of calls is never parsed
 * and dumped again. Messages are rendered from their stored fields by the renderer the
 * document's messages come from (render/message.h), with its UTF-8 policy. */
#include "api.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/sdp.h"
#include "decode/sip.h"
#include "diagnose/issues.h"
#include "render/ids.h"
#include "render/jsontext.h"
#include "render/message.h"
#include "store/callaudio.h"
#include "store/export.h"
#include "store/trends.h"

/* ---- replies ---- */

static void reply(struct api_reply *r, int status, const char *type, char *body, size_t len)
{
    r->status = status;
    r->type = type;
    r->body = body;
    r->len = len;
}

static void error(struct api_reply *r, int status, const char *why)
{
    json_t *o = json_pack("{s:s}", "error", why);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    reply(r, status, "application/json", text, text ? strlen(text) : 0);
}

static void from_store(struct api_reply *r, struct store *s, enum store_qstatus st)
{
    if (st == STORE_Q_BAD)
        error(r, 400, store_error(s));
    else if (st == STORE_Q_NOT_FOUND)
        error(r, 404, "no such call");
    else
        error(r, 500, "database error");
}

/* A growing JSON text: {"<name>": [rows...], "next": ...} */
struct list {
    FILE *f;
    char *text;
    size_t len;
    unsigned rows;
    bool mask;           /* credentials in messages' raw text */
    struct sip_msg *msg; /* owned: messages' text parsed again, for their SDP and error */
    struct sdp *sdp;     /* owned: scratch for their SDP */
};

static bool list_open(struct list *l, const char *name)
{
    memset(l, 0, sizeof *l);
    if (!(l->f = open_memstream(&l->text, &l->len)))
        return false;
    fprintf(l->f, "{\"%s\":[", name);
    return true;
}

static bool list_row(void *user, const char *json)
{
    struct list *l = user;
    fputs(l->rows++ ? "," : "", l->f);
    fputs(json ? json : "null", l->f);
    return true;
}

/* True when a stored object already has a member named `name`: a quote inside a string
 * value is escaped (RFC 8259 §7), so "name": not preceded by a backslash is a member name. */
static bool has_member(const char *json, const char *name)
{
    char key[32];
    snprintf(key, sizeof key, "\"%s\":", name);
    for (const char *p = json; (p = strstr(p, key)); p++)
        if (p == json || p[-1] != '\\') return true;
    return false;
}

/* A stream with its timeline: the stored object with "timeline" added before its brace,
 * unless the analysis stored it with one already (--timelines): a name twice in an object
 * leaves a reader free to take either (RFC 8259 §4). */
static bool list_stream(void *user, const char *json, const char *timeline)
{
    struct list *l = user;
    size_t n = json ? strlen(json) : 0;
    fputs(l->rows++ ? "," : "", l->f);
    if (n < 2 || json[n - 1] != '}' || has_member(json, "timeline")) {
        fputs(json ? json : "null", l->f);
        return true;
    }
    fwrite(json, 1, n - 1, l->f);
    fprintf(l->f, "%s\"timeline\":%s}", n > 2 ? "," : "", timeline ? timeline : "null");
    return true;
}

static void list_close(struct list *l, struct api_reply *r, const char *next)
{
    fputs("]", l->f);
    if (next) {
        json_t *c = next[0] ? json_string(next) : json_null();
        char *t = json_dumps(c, JSON_ENCODE_ANY);
        fprintf(l->f, ",\"next\":%s", t ? t : "null");
        free(t);
        json_decref(c);
    }
    fputs("}", l->f);
    if (fclose(l->f) != 0) {
        free(l->text);
        free(l->msg);
        free(l->sdp);
        error(r, 500, "out of memory");
        return;
    }
    reply(r, 200, "application/json", l->text, l->len);
    free(l->msg);
    free(l->sdp);
}

static void list_drop(struct list *l)
{
    fclose(l->f);
    free(l->text);
    free(l->msg);
    free(l->sdp);
}

/* ---- arguments ---- */

struct known {
    const char *const *names;
    const char *bad;
};

static bool check_known(void *user, const char *key)
{
    struct known *k = user;
    for (const char *const *n = k->names; *n; n++)
        if (!strcmp(*n, key))
            return true;
    k->bad = key;
    return false;
}

/* Refuses a parameter the route does not know (a typo would otherwise filter nothing). */
static bool known_args(const struct api_args *a, const char *const *names, struct api_reply *r)
{
    struct known k = {names, NULL};
    if (a->each(a->ctx, check_known, &k))
        return true;
    char why[160];
    snprintf(why, sizeof why, "unknown parameter: %.100s", k.bad);
    error(r, 400, why);
    return false;
}

static const char *arg(const struct api_args *a, const char *key)
{
    const char *v = a->get(a->ctx, key);
    return v && *v ? v : NULL;
}

/* A number argument: absent leaves *out; present must be a whole finite number. */
static bool num_arg(const struct api_args *a, const char *key, double *out, struct api_reply *r)
{
    const char *v = arg(a, key);
    if (!v)
        return true;
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (*end || errno || !isfinite(d) || d < 0) {
        char why[96];
        snprintf(why, sizeof why, "%s is not a number", key);
        error(r, 400, why);
        return false;
    }
    *out = d;
    return true;
}

static bool uint_arg(const struct api_args *a, const char *key, unsigned max, unsigned *out,
                     struct api_reply *r)
{
    double d = 0;
    if (!num_arg(a, key, &d, r))
        return false;
    if (d != floor(d) || d > max) {
        char why[96];
        snprintf(why, sizeof why, "%s is a whole number up to %u", key, max);
        error(r, 400, why);
        return false;
    }
    *out = (unsigned)d;
    return true;
}

static bool valid_issue_kind(const char *v)
{
    for (int k = 0; k < ISSUE__COUNT; k++)
        if (!strcmp(issue_kind_name((enum issue_kind)k), v)) return true;
    return false;
}

static bool valid_state(const char *v)
{
    for (int k = 0; k < CALL__STATES; k++)
        if (!strcmp(call_state_name((enum call_state)k), v)) return true;
    return false;
}

static bool valid_severity(const char *v)
{
    for (int k = 0; k < SEV__COUNT; k++)
        if (!strcmp(issue_severity_name((enum issue_severity)k), v)) return true;
    return false;
}

/* ---- routes ---- */

/* A call and the calls of other probes joined to it (store/query.h): their ids, and
 * the call's object with "probe" and "joined" added. */
struct joined {
    uint64_t seq[STORE_JOIN_MAX];
    unsigned n;
    json_t *call;   /* owned: the first's object */
    json_t *others; /* owned: "joined" */
};

static bool joined_seq(void *user, const struct store_joined *j)
{
    struct joined *x = user;
    x->seq[x->n++] = j->seq;
    return x->n < STORE_JOIN_MAX;
}

static json_t *string_or_null(const char *t)
{
    return t ? json_string(t) : json_null();
}

/* One joined call as "joined" lists it: its id, probe and legs, and how it was joined. */
static json_t *joined_entry(const struct store_joined *j, json_t *o)
{
    char id[32];
    snprintf(id, sizeof id, RENDER_CALL_FMT, (unsigned long long)j->seq);
    json_t *by = json_array();
    if (j->by & STORE_JOIN_CALL_ID) json_array_append_new(by, json_string("call_id"));
    if (j->by & STORE_JOIN_X_CID) json_array_append_new(by, json_string("x_cid"));
    if (j->by & STORE_JOIN_SESSION_ID) json_array_append_new(by, json_string("session_id"));
    json_t *e =
        json_pack("{s:s, s:o, s:o}", "id", id, "probe", string_or_null(j->probe), "joined_by", by);
    static const char *const copied[] = {"call_id", "legs",        "caller",      "callee",
                                         "state",   "invite_time", "answer_time", "end_time"};
    for (size_t i = 0; e && o && i < sizeof copied / sizeof *copied; i++) {
        json_t *v = json_object_get(o, copied[i]);
        json_object_set(e, copied[i], v ? v : json_null());
    }
    return e;
}

static bool joined_call(void *user, const struct store_joined *j)
{
    struct joined *x = user;
    json_t *o = j->json ? json_loads(j->json, 0, NULL) : NULL;
    x->seq[x->n++] = j->seq;
    if (!x->call) {
        if (!o) return false; /* the stored object is not JSON: an error, not an empty call */
        x->call = o;
        x->others = json_array();
        json_object_set_new(x->call, "probe", string_or_null(j->probe));
        return true;
    }
    json_array_append_new(x->others, joined_entry(j, o));
    json_decref(o);
    return x->n < STORE_JOIN_MAX;
}

/* A call's stored object with the probe that stored it and the calls of other probes that
 * are the same call ("joined": [] when none), as text; NULL with *st saying why. */
static char *call_object(struct store *s, uint64_t seq, enum store_qstatus *st)
{
    struct joined x = {0};
    *st = store_call_joined(s, seq, joined_call, &x);
    char *text = NULL;
    if (*st == STORE_Q_OK && x.call) {
        json_object_set_new(x.call, "joined", x.others);
        x.others = NULL;
        text = json_text(x.call); /* the numbers as the stored object wrote them */
        if (!text) *st = STORE_Q_ERROR;
    } else if (*st == STORE_Q_OK) {
        *st = STORE_Q_ERROR;
    }
    json_decref(x.call);
    json_decref(x.others);
    return text;
}

/* /api/v1/calls/{id}: the same object /api/v1/calls lists. */
static void call_detail(struct store *s, uint64_t seq, struct api_reply *r)
{
    enum store_qstatus st;
    char *text = call_object(s, seq, &st);
    if (!text) return from_store(r, s, st);
    reply(r, 200, "application/json", text, strlen(text));
}

/* A listed call as /api/v1/calls/{id} shows it (docs/output.md: the same fields). */
struct call_list {
    struct list *l;
    struct store *s;
    bool failed;
};

static bool call_row(void *user, const char *json)
{
    struct call_list *c = user;
    json_t *o = json ? json_loads(json, 0, NULL) : NULL;
    const char *id = json_string_value(json_object_get(o, "id"));
    uint64_t seq;
    enum store_qstatus st = STORE_Q_ERROR;
    char *text = id && render_call_seq(id, strlen(id), &seq) ? call_object(c->s, seq, &st) : NULL;
    json_decref(o);
    c->failed |= !text;
    if (text) list_row(c->l, text);
    free(text);
    return text != NULL;
}

static void calls(struct store *s, const struct api_args *a, struct api_reply *r)
{
    static const char *const names[] = {"from", "to", "user", "from_user", "to_user", "domain",
                                        "call_id", "state", "status", "issue", "min_mos",
                                        "max_mos", "address", "q", "cursor", "limit", NULL};
    struct store_call_filter f = {0};
    unsigned status = 0;
    if (!known_args(a, names, r) || !num_arg(a, "from", &f.from, r) ||
        !num_arg(a, "to", &f.to, r) || !num_arg(a, "min_mos", &f.min_mos, r) ||
        !num_arg(a, "max_mos", &f.max_mos, r) || !uint_arg(a, "status", 699, &status, r) ||
        !uint_arg(a, "limit", STORE_PAGE_MAX, &f.limit, r))
        return;
    f.status = (int)status;
    f.user = arg(a, "user");
    f.from_user = arg(a, "from_user");
    f.to_user = arg(a, "to_user");
    f.to_domain = arg(a, "domain");
    f.call_id = arg(a, "call_id");
    f.state = arg(a, "state");
    f.issue_kind = arg(a, "issue");
    f.address = arg(a, "address");
    f.text = arg(a, "q");
    f.cursor = arg(a, "cursor");
    if (f.state && !valid_state(f.state))
        return error(r, 400, "state is not one of docs/output.md's call states");
    if (f.issue_kind && !valid_issue_kind(f.issue_kind))
        return error(r, 400, "issue is not a known issue kind");
    struct list l;
    char next[STORE_CURSOR_LEN];
    if (!list_open(&l, "calls"))
        return error(r, 500, "out of memory");
    struct call_list cl = {.l = &l, .s = s};
    enum store_qstatus st = store_query_calls(s, &f, call_row, &cl, next);
    if (st == STORE_Q_OK && cl.failed) st = STORE_Q_ERROR;
    if (st != STORE_Q_OK) {
        list_drop(&l);
        return from_store(r, s, st);
    }
    list_close(&l, r, next);
}

/* A stored message as the document's (render/message.h), with its raw text: "sdp" and
 * "error" are read again from that text, as the analysis read them (null without it:
 * --db-no-raw). */
static bool message_row(void *user, const struct store_message *m)
{
    struct list *l = user;
    struct render_message rm = {
        .frame = m->frame,
        .time = m->time,
        .src = m->src,
        .dst = m->dst,
        .transport = m->transport,
        .call_seq = m->call_seq,
        .retransmission = m->retransmission,
        .is_request = m->method != NULL,
        .method = m->method ? sv_make(m->method, strlen(m->method)) : SV_NULL,
        .status = m->status,
        .reason = m->reason ? sv_make(m->reason, strlen(m->reason)) : SV_NULL,
        .call_id = m->call_id
                       ? sv_make(m->call_id, m->call_id_len ? m->call_id_len : strlen(m->call_id))
                       : SV_NULL,
        .cseq = m->cseq,
        .malformed = m->malformed,
        .raw = m->raw,
        .raw_len = m->raw_len};
    bool stream = m->transport && !strcmp(m->transport, "tcp"); /* Content-Length frames it */
    if (m->raw && l->msg &&
        sip_parse(m->raw, m->raw_len, stream ? SIP_FRAME_STREAM : 0, l->msg) == SIP_OK) {
        rm.msg = l->msg;
        if (m->malformed && l->msg->malformed) rm.error = decode_reason_name(l->msg->error);
    }
    char *raw = l->mask && m->raw ? malloc(m->raw_len ? m->raw_len : 1) : NULL;
    if (raw) {
        memcpy(raw, m->raw, m->raw_len);
        sip_mask_credentials(raw, m->raw_len);
        rm.raw = raw;
    }
    json_t *o = render_message_json(&rm, RENDER_MSG_SDP | RENDER_MSG_RAW, l->sdp);
    free(raw);
    /* which probe saw it: a call that several probes saw merges their messages */
    json_object_set_new(o, "probe", m->probe ? json_string(m->probe) : json_null());
    char *t = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(16));
    json_decref(o);
    list_row(l, t);
    free(t);
    return true;
}

bool api_keep_json(void *user, const char *json)
{
    char **out = user;
    free(*out);
    *out = json ? strdup(json) : NULL;
    return true;
}

static void one_object(struct store *s, enum store_qstatus st, char *json, struct api_reply *r)
{
    if (st == STORE_Q_OK && json)
        return reply(r, 200, "application/json", json, strlen(json));
    free(json);
    from_store(r, s, st == STORE_Q_OK ? STORE_Q_ERROR : st);
}

/* The levels strip: {"call", "start", "duration_s", "bin_ms", "caller": [dBov|null, ...],
 * "callee": [...]}, one value per STORE_AUDIO_BIN_MS bin, null where nothing came. */
static char *levels_json(const struct store_audio *a, uint64_t seq, size_t *len)
{
    char id[32];
    snprintf(id, sizeof id, RENDER_CALL_FMT, (unsigned long long)seq);
    json_t *o = json_pack("{s:s, s:f, s:f, s:i, s:i, s:[], s:[]}", "call", id, "start", a->start,
                          "duration_s", (double)a->frames / STORE_AUDIO_RATE, "bin_ms",
                          STORE_AUDIO_BIN_MS, "rate", STORE_AUDIO_RATE, "caller", "callee");
    if (!o) return NULL;
    for (int ch = 0; ch < 2; ch++) {
        json_t *v = json_object_get(o, ch ? "callee" : "caller");
        for (size_t b = 0; b < a->bins; b++) {
            double db;
            json_array_append_new(
                v, store_audio_level(a, b, ch, &db) ? json_real(round(db * 10) / 10) : json_null());
        }
    }
    char *text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(o);
    *len = text ? strlen(text) : 0;
    return text;
}

/* audio.wav and levels: the same decoding (store/callaudio.h). No media to hear is a 404
 * that says why, never an empty file. */
static void call_audio(struct store *s, uint64_t seq, bool wav, struct api_reply *r)
{
    struct store_audio a;
    enum store_qstatus st = store_audio_read(s, seq, &a);
    if (st != STORE_Q_OK) return from_store(r, s, st);
    char err[256], *buf = NULL;
    size_t len = 0;
    if (!a.frames)
        error(r, 404, a.why);
    else if (wav && !store_audio_wav(&a, &buf, &len, err, sizeof err))
        error(r, 500, err);
    else if (wav) {
        snprintf(r->disposition, sizeof r->disposition,
                 "inline; filename=\"" RENDER_CALL_FMT ".wav\"", (unsigned long long)seq);
        reply(r, 200, "audio/wav", buf, len);
        r->ranges = true;
    } else if (!(buf = levels_json(&a, seq, &len)))
        error(r, 500, "out of memory");
    else
        reply(r, 200, "application/json", buf, len);
    store_audio_free(&a);
}

static void call_part(struct store *s, uint64_t seq, const char *part, bool mask,
                      struct api_reply *r)
{
    struct list l;
    enum store_qstatus st;
    if (!strcmp(part, "pcap")) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
            return error(r, 500, "out of memory");
        st = store_export_pcap(s, seq, f, NULL);
        fclose(f);
        if (st != STORE_Q_OK) {
            free(buf);
            return from_store(r, s, st);
        }
        if (mask) /* every frame's SIP, found in the file's bytes, lengths kept */
            sip_mask_credentials(buf, len);
        snprintf(r->disposition, sizeof r->disposition,
                 "attachment; filename=\"" RENDER_CALL_FMT ".pcap\"", (unsigned long long)seq);
        return reply(r, 200, "application/vnd.tcpdump.pcap", buf, len);
    }
    if (!strcmp(part, "audio.wav") || !strcmp(part, "levels"))
        return call_audio(s, seq, part[0] == 'a', r);
    bool messages = !strcmp(part, "messages");
    if (!messages && strcmp(part, "streams"))
        return error(r, 404, "no such route");
    if (!list_open(&l, part))
        return error(r, 500, "out of memory");
    l.mask = mask;
    if (messages && (!(l.msg = malloc(sizeof *l.msg)) || !(l.sdp = malloc(sizeof *l.sdp)))) {
        list_drop(&l);
        return error(r, 500, "out of memory");
    }
    struct joined j = {0};
    if (messages) st = store_call_joined(s, seq, joined_seq, &j);
    st = !messages          ? store_call_streams(s, seq, list_stream, &l)
         : st == STORE_Q_OK ? store_calls_messages(s, j.seq, j.n, message_row, &l)
                            : st;
    if (st != STORE_Q_OK) {
        list_drop(&l);
        return from_store(r, s, st);
    }
    list_close(&l, r, NULL);
}

static bool list_filter(const struct api_args *a, const char *const *names, const char *key,
                        struct store_list_filter *f, struct api_reply *r)
{
    memset(f, 0, sizeof *f);
    if (!known_args(a, names, r) || !num_arg(a, "from", &f->from, r) ||
        !num_arg(a, "to", &f->to, r) || !uint_arg(a, "limit", STORE_PAGE_MAX, &f->limit, r))
        return false;
    f->key = key ? arg(a, key) : NULL;
    f->cursor = arg(a, "cursor");
    return true;
}

static void other_list(struct store *s, const char *what, const struct api_args *a,
                       struct api_reply *r)
{
    static const char *const stream_args[] = {"from",   "to",    "address", "reported",
                                              "cursor", "limit", NULL};
    static const char *const reg_args[] = {"from", "to", "aor", "cursor", "limit", NULL};
    static const char *const issue_args[] = {"from", "to", "kind", "severity", "cursor", "limit",
                                             NULL};
    struct store_list_filter f;
    struct list l;
    char next[STORE_CURSOR_LEN];
    enum store_qstatus st;
    bool streams = !strcmp(what, "streams"), regs = !strcmp(what, "registrations");
    const char *const *names = streams ? stream_args : regs ? reg_args : issue_args;
    if (!list_filter(a, names, streams ? "address" : regs ? "aor" : "kind", &f, r))
        return;
    if (!streams && !regs) {
        f.severity = arg(a, "severity");
        if (f.key && !valid_issue_kind(f.key))
            return error(r, 400, "kind is not a known issue kind");
        if (f.severity && !valid_severity(f.severity))
            return error(r, 400, "severity is info, warning or critical");
    }
    const char *rep = streams ? arg(a, "reported") : NULL;
    if (rep && strcmp(rep, "any") && strcmp(rep, "orphan"))
        return error(r, 400, "reported is any or orphan");
    if (!list_open(&l, what))
        return error(r, 500, "out of memory");
    f.reported = !rep ? 0 : !strcmp(rep, "any") ? 1 : 2;
    st = streams ? store_query_streams(s, &f, list_stream, &l, next)
         : regs  ? store_query_registrations(s, &f, list_row, &l, next)
                 : store_query_issues(s, &f, list_row, &l, next);
    if (st != STORE_Q_OK) {
        list_drop(&l);
        return from_store(r, s, st);
    }
    list_close(&l, r, next);
}

/* ---- over time: /stats with a range, /top ---- */

static json_t *real_or_null(double v)
{
    return v < 0 ? json_null() : json_real(v);
}

static json_t *step_json(const struct store_trend_step *t)
{
    json_t *kinds = json_object(), *cls = json_object();
    for (unsigned i = 0; i < t->nkinds; i++)
        json_object_set_new(kinds, t->kinds[i].name, json_integer((json_int_t)t->kinds[i].n));
    if (t->other_kinds)
        json_object_set_new(kinds, "other", json_integer((json_int_t)t->other_kinds));
    for (int c = 1; c <= 6; c++) {
        char name[4] = {(char)('0' + c), 'x', 'x', '\0'};
        json_object_set_new(cls, name, json_integer((json_int_t)t->final_class[c]));
    }
    double d = (double)t->decided;
    return json_pack("{s:f, s:I, s:I, s:I, s:o, s:o, s:o, s:{s:o, s:o}, s:{s:o, s:o, s:o},"
                     " s:o, s:o, s:b}",
                     "start", t->start, "calls", (json_int_t)t->calls, "decided",
                     (json_int_t)t->decided, "answered", (json_int_t)t->answered, "asr_pct",
                     real_or_null(d ? 100.0 * (double)t->answered / d : -1), "ner_pct",
                     real_or_null(d ? 100.0 * (double)t->user_outcomes / d : -1), "acd_s",
                     real_or_null(t->durations ? t->duration_sum_s / (double)t->durations : -1),
                     "pdd_ms", "p50", real_or_null(t->pdd_p50), "p95", real_or_null(t->pdd_p95),
                     "mos", "p10", real_or_null(t->mos_p10), "p50", real_or_null(t->mos_p50), "p90",
                     real_or_null(t->mos_p90), "issue_kinds", kinds, "final_responses", cls,
                     "partial", t->partial);
}

static void json_reply(struct api_reply *r, json_t *o)
{
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!text) return error(r, 500, "out of memory");
    reply(r, 200, "application/json", text, strlen(text));
}

/* ?from=&to=&step=: the KPIs of the calls of each step (store/trends.h); without step, 60
 * steps over the range. */
static void stats_series(struct store *s, const struct api_args *a, struct api_reply *r)
{
    static const char *const stats_args[] = {"from", "to", "step", NULL};
    double from = 0, to = 0, step = 0;
    if (!known_args(a, stats_args, r) || !num_arg(a, "from", &from, r) ||
        !num_arg(a, "to", &to, r) || !num_arg(a, "step", &step, r))
        return;
    if (!arg(a, "from") || !arg(a, "to")) return error(r, 400, "a series needs from and to");
    if (!step) step = (to - from) / 60;
    struct store_trend_step *t;
    size_t n;
    enum store_qstatus st = store_stats_series(s, from, to, step, &t, &n);
    if (st != STORE_Q_OK) return from_store(r, s, st);
    json_t *steps = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(steps, step_json(&t[i]));
    free(t);
    json_reply(
        r, json_pack("{s:f, s:f, s:f, s:o}", "from", from, "to", to, "step", step, "steps", steps));
}

static bool top_row(void *user, const struct store_top_row *t)
{
    json_array_append_new(
        user, json_pack("{s:s, s:I, s:I, s:I, s:I, s:o, s:o}", "key", t->key, "calls",
                        (json_int_t)t->calls, "decided", (json_int_t)t->decided, "answered",
                        (json_int_t)t->answered, "failures", (json_int_t)t->failures, "asr_pct",
                        real_or_null(t->asr_pct), "worst_mos", real_or_null(t->worst_mos)));
    return true;
}

static bool pick(const char *v, const char *const *names, int *out)
{
    for (int i = 0; v && names[i]; i++)
        if (!strcmp(v, names[i])) {
            *out = i;
            return true;
        }
    return false;
}

/* The worst N callees, callers, domains or hosts (store/trends.h). */
static void top(struct store *s, const struct api_args *a, struct api_reply *r)
{
    static const char *const top_args[] = {"by", "metric", "from", "to", "limit", NULL};
    static const char *const bys[] = {"callee", "caller", "domain", "host", NULL};
    static const char *const metrics[] = {"failures", "asr", "worst_mos", NULL};
    struct store_top_query q = {0};
    int by = 0, metric = 0;
    if (!known_args(a, top_args, r) || !num_arg(a, "from", &q.from, r) ||
        !num_arg(a, "to", &q.to, r) || !uint_arg(a, "limit", STORE_TOP_MAX, &q.limit, r))
        return;
    if (!pick(arg(a, "by"), bys, &by))
        return error(r, 400, "by is one of callee, caller, domain, host");
    if (arg(a, "metric") && !pick(arg(a, "metric"), metrics, &metric))
        return error(r, 400, "metric is one of failures, asr, worst_mos");
    q.by = (enum store_top_by)by;
    q.metric = (enum store_top_metric)metric;
    json_t *rows = json_array();
    enum store_qstatus st = store_top(s, &q, top_row, rows);
    if (st != STORE_Q_OK) {
        json_decref(rows);
        return from_store(r, s, st);
    }
    json_reply(r,
               json_pack("{s:s, s:s, s:o}", "by", bys[by], "metric", metrics[metric], "top", rows));
}

static bool no_args(void *user, const char *key)
{
    (void)user;
    (void)key;
    return false;
}

void api_handle(struct store *s, const char *method, const char *path, const struct api_args *a,
                const struct api_options *o, struct api_reply *r)
{
    bool mask = !(o && o->show_credentials);
    static const char prefix[] = "/api/v1/";
    memset(r, 0, sizeof *r);
    if (strncmp(path, prefix, sizeof prefix - 1))
        return error(r, 404, "no such route");
    if (strcmp(method, "GET") && strcmp(method, "HEAD"))
        return error(r, 405, "only GET");
    const char *p = path + sizeof prefix - 1;
    if (!strcmp(p, "calls"))
        return calls(s, a, r);
    if (!strcmp(p, "streams") || !strcmp(p, "registrations") || !strcmp(p, "issues"))
        return other_list(s, p, a, r);
    if (!strcmp(p, "stats")) {
        /* without parameters: the totals, as before a range was possible */
        if (!a->each(a->ctx, no_args, NULL)) return stats_series(s, a, r);
        char *json = NULL;
        enum store_qstatus st = store_stats(s, api_keep_json, &json);
        return one_object(s, st, json, r);
    }
    if (!strcmp(p, "top")) return top(s, a, r);
    if (!strncmp(p, "calls/", 6)) {
        const char *id = p + 6, *slash = strchr(id, '/');
        uint64_t seq;
        if (!render_call_seq(id, slash ? (size_t)(slash - id) : strlen(id), &seq))
            return error(r, 404, "no such call");
        if (!a->each(a->ctx, no_args, NULL))
            return error(r, 400, "this route takes no parameter");
        if (!slash) return call_detail(s, seq, r);
        return call_part(s, seq, slash + 1, mask, r);
    }
    error(r, 404, "no such route");
}
