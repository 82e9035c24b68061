/* See api.h. Stored objects are served as they are stored (they are the OUTPUT.md
 * objects); lists are assembled around them as text, so a page of calls is never parsed
 * and dumped again. Messages are built with Jansson from their fields, their raw text made
 * valid UTF-8 first (SIP is attacker input; U+FFFD replaces what is not UTF-8). */
#include "api.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/sip.h"
#include "metrics/issues.h"
#include "render/ids.h"
#include "store/export.h"

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
    bool mask; /* credentials in messages' raw text */
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

/* A stream with its timeline: the stored object with "timeline" added before its brace. */
static bool list_stream(void *user, const char *json, const char *timeline)
{
    struct list *l = user;
    size_t n = json ? strlen(json) : 0;
    fputs(l->rows++ ? "," : "", l->f);
    if (n < 2 || json[n - 1] != '}') {
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
        error(r, 500, "out of memory");
        return;
    }
    reply(r, 200, "application/json", l->text, l->len);
}

static void list_drop(struct list *l)
{
    fclose(l->f);
    free(l->text);
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

static void calls(struct store *s, const struct api_args *a, struct api_reply *r)
{
    static const char *const names[] = {"from", "to", "user", "from_user", "to_user", "call_id",
                                        "state", "status", "issue", "min_mos", "max_mos",
                                        "address", "q", "cursor", "limit", NULL};
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
    f.call_id = arg(a, "call_id");
    f.state = arg(a, "state");
    f.issue_kind = arg(a, "issue");
    f.address = arg(a, "address");
    f.text = arg(a, "q");
    f.cursor = arg(a, "cursor");
    if (f.state && !valid_state(f.state))
        return error(r, 400, "state is not one of OUTPUT.md's call states");
    if (f.issue_kind && !valid_issue_kind(f.issue_kind))
        return error(r, 400, "issue is not a known issue kind");
    struct list l;
    char next[STORE_CURSOR_LEN];
    if (!list_open(&l, "calls"))
        return error(r, 500, "out of memory");
    enum store_qstatus st = store_query_calls(s, &f, list_row, &l, next);
    if (st != STORE_Q_OK) {
        list_drop(&l);
        return from_store(r, s, st);
    }
    list_close(&l, r, next);
}

/* Text made valid UTF-8: each byte that does not start or continue a well-formed sequence
 * (RFC 3629 §4: no overlongs, no surrogates, nothing past U+10FFFF) becomes U+FFFD. */
static char *utf8_clean(const unsigned char *p, size_t n, size_t *outlen)
{
    char *o = malloc(n * 3 + 1);
    size_t k = 0;
    if (!o)
        return NULL;
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        size_t len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
                   : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
        bool ok = len && i + len <= n && c != 0;
        for (size_t j = 1; ok && j < len; j++)
            ok = (p[i + j] & 0xc0) == 0x80;
        if (ok && len == 3) {
            unsigned c1 = p[i + 1];
            ok = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 >= 0xa0);
        }
        if (ok && len == 4) {
            unsigned c1 = p[i + 1];
            ok = !(c == 0xf0 && c1 < 0x90) && !(c == 0xf4 && c1 >= 0x90);
        }
        if (!ok) {
            memcpy(o + k, "\xef\xbf\xbd", 3);
            k += 3;
            i++;
            continue;
        }
        memcpy(o + k, p + i, len);
        k += len;
        i += len;
    }
    o[k] = '\0';
    *outlen = k;
    return o;
}

static json_t *str_or_null(const char *v)
{
    return v ? json_string(v) : json_null();
}

static json_t *text_json(const void *p, size_t n)
{
    size_t len;
    char *t = p ? utf8_clean(p, n, &len) : NULL;
    json_t *j = t ? json_stringn(t, len) : json_null();
    free(t);
    return j ? j : json_null();
}

static bool message_row(void *user, const struct store_message *m)
{
    struct list *l = user;
    json_t *o = json_object();
    char call[32];
    snprintf(call, sizeof call, "call-%llu", (unsigned long long)m->call_seq);
    json_object_set_new(o, "frame", json_integer((json_int_t)m->frame));
    json_object_set_new(o, "time", json_real(m->time));
    json_object_set_new(o, "src", str_or_null(m->src));
    json_object_set_new(o, "dst", str_or_null(m->dst));
    json_object_set_new(o, "transport", str_or_null(m->transport));
    json_object_set_new(o, "method", str_or_null(m->method));
    json_object_set_new(o, "status", m->status ? json_integer(m->status) : json_null());
    json_object_set_new(o, "reason", m->reason ? text_json(m->reason, strlen(m->reason)) : json_null());
    json_object_set_new(o, "call_id", m->call_id ? text_json(m->call_id, m->call_id_len) : json_null());
    json_object_set_new(o, "cseq", str_or_null(m->cseq));
    json_object_set_new(o, "call", m->call_seq ? json_string(call) : json_null());
    json_object_set_new(o, "retransmission", json_boolean(m->retransmission));
    json_object_set_new(o, "malformed", json_boolean(m->malformed));
    char *raw = l->mask && m->raw ? malloc(m->raw_len ? m->raw_len : 1) : NULL;
    if (raw) {
        memcpy(raw, m->raw, m->raw_len);
        sip_mask_credentials(raw, m->raw_len);
    }
    json_object_set_new(o, "raw", text_json(raw ? raw : m->raw, m->raw_len));
    free(raw);
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
    bool messages = !strcmp(part, "messages");
    if (!messages && strcmp(part, "streams"))
        return error(r, 404, "no such route");
    if (!list_open(&l, part))
        return error(r, 500, "out of memory");
    l.mask = mask;
    st = messages ? store_call_messages(s, seq, message_row, &l)
                  : store_call_streams(s, seq, list_stream, &l);
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
    static const char *const stream_args[] = {"from", "to", "address", "cursor", "limit", NULL};
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
    if (!list_open(&l, what))
        return error(r, 500, "out of memory");
    st = streams ? store_query_streams(s, &f, list_stream, &l, next)
         : regs  ? store_query_registrations(s, &f, list_row, &l, next)
                 : store_query_issues(s, &f, list_row, &l, next);
    if (st != STORE_Q_OK) {
        list_drop(&l);
        return from_store(r, s, st);
    }
    list_close(&l, r, next);
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
        if (!a->each(a->ctx, no_args, NULL))
            return error(r, 400, "stats takes no parameter");
        char *json = NULL;
        enum store_qstatus st = store_stats(s, api_keep_json, &json);
        return one_object(s, st, json, r);
    }
    if (!strncmp(p, "calls/", 6)) {
        const char *id = p + 6, *slash = strchr(id, '/');
        uint64_t seq;
        if (!render_call_seq(id, slash ? (size_t)(slash - id) : strlen(id), &seq))
            return error(r, 404, "no such call");
        if (!a->each(a->ctx, no_args, NULL))
            return error(r, 400, "this route takes no parameter");
        if (!slash) {
            char *json = NULL;
            enum store_qstatus st = store_get_call(s, seq, api_keep_json, &json);
            return one_object(s, st, json, r);
        }
        return call_part(s, seq, slash + 1, mask, r);
    }
    error(r, 404, "no such route");
}
