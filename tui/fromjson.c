/* See fromjson.h. Names (states, issue kinds, severities) are read back through their
 * X-macro tables' name functions, so an unknown name is skipped rather than guessed. */
#include "fromjson.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/ids.h"

static void text(char *dst, size_t cap, const json_t *v)
{
    snprintf(dst, cap, "%s", json_is_string(v) ? json_string_value(v) : "");
}

static double num(const json_t *v, double none)
{
    return json_is_number(v) ? json_number_value(v) : none;
}

/* A whole number within [lo, hi], else none: a stored object is untrusted text, and a
 * double past the integer's range converts to undefined behaviour (fuzz_tui found
 * "final_status": 2.0172e11). */
static int64_t whole(const json_t *v, double lo, double hi, int64_t none)
{
    double x = num(v, NAN);
    return x >= lo && x <= hi ? (int64_t)x : none;
}

static bool id_seq(const json_t *v, uint64_t *seq)
{
    const char *s = json_string_value(v);
    return s && render_call_seq(s, strlen(s), seq);
}

/* "stream-N": render/ids.h reads "call-N" only; the number is the same grammar. */
static uint64_t stream_seq(const json_t *v)
{
    const char *s = json_string_value(v);
    uint64_t seq = 0;
    char buf[40];
    if (s && !strncmp(s, "stream-", 7) && strlen(s) < 30) {
        snprintf(buf, sizeof buf, "call-%s", s + 7);
        if (!render_call_seq(buf, strlen(buf), &seq)) seq = 0;
    }
    return seq;
}

static void audio_from_json(struct tui_stream *s, const json_t *o)
{
    const json_t *a = json_object_get(o, "audio");
    s->level_dbov = s->speech_dbov = s->active_pct = NAN;
    s->tones[0] = s->audio_why[0] = '\0';
    s->audio = json_is_object(a);
    if (!s->audio) {
        text(s->audio_why, sizeof s->audio_why, json_object_get(o, "audio_unavailable"));
        return;
    }
    s->level_dbov = num(json_object_get(a, "level_dbov"), NAN);
    s->speech_dbov = num(json_object_get(a, "speech_level_dbov"), NAN);
    s->active_pct = num(json_object_get(a, "active_pct"), NAN);
    size_t i, n = 0;
    const json_t *t;
    json_array_foreach(json_object_get(a, "tones"), i, t)
    {
        const char *k = json_string_value(json_object_get(t, "kind"));
        /* the same kind heard twice is named once */
        if (!k || strstr(s->tones, k)) continue;
        int w = snprintf(s->tones + n, sizeof s->tones - n, "%s%s", n ? "," : "", k);
        if (w < 0 || (size_t)w >= sizeof s->tones - n) break;
        n += (size_t)w;
    }
}

bool tui_stream_from_json(struct tui_stream *s, const json_t *o)
{
    if (!json_is_object(o)) return false;
    memset(s, 0, sizeof *s);
    s->seq = stream_seq(json_object_get(o, "id"));
    text(s->src, sizeof s->src, json_object_get(o, "src"));
    text(s->dst, sizeof s->dst, json_object_get(o, "dst"));
    text(s->codec, sizeof s->codec, json_object_get(o, "codec"));
    s->packets = (uint64_t)whole(json_object_get(o, "packets"), 0, 0x1p53, 0);
    s->expected = whole(json_object_get(o, "expected"), -0x1p53, 0x1p53, 0);
    s->lost = whole(json_object_get(o, "lost"), -0x1p53, 0x1p53, 0);
    s->mean_jitter_ms = num(json_object_get(o, "mean_jitter_ms"), 0);
    s->max_jitter_ms = num(json_object_get(o, "max_jitter_ms"), 0);
    s->mos = num(json_object_get(o, "mos"), -1);
    audio_from_json(s, o);
    return true;
}

static int by_name(const char *name, int count, const char *(*fn)(int))
{
    for (int i = 0; name && i < count; i++)
        if (fn(i) && !strcmp(fn(i), name)) return i;
    return -1;
}

static const char *state_name(int i)
{
    return call_state_name((enum call_state)i);
}
static const char *kind_name(int i)
{
    return issue_kind_name((enum issue_kind)i);
}
static const char *sev_name(int i)
{
    return issue_severity_name((enum issue_severity)i);
}

static bool issue_from_json(struct tui_issue *t, const json_t *o)
{
    int kind = by_name(json_string_value(json_object_get(o, "kind")), ISSUE__COUNT, kind_name);
    int sev = by_name(json_string_value(json_object_get(o, "severity")), SEV__COUNT, sev_name);
    if (kind < 0 || sev < 0) return false;
    memset(t, 0, sizeof *t);
    t->kind = (uint8_t)kind, t->severity = (uint8_t)sev;
    size_t i;
    const json_t *f;
    json_array_foreach(json_object_get(o, "frames"), i, f)
    {
        if (t->nframes == ISSUE_MAX_FRAMES) break;
        if (json_is_integer(f)) t->frames[t->nframes++] = (uint64_t)json_integer_value(f);
    }
    text(t->summary, sizeof t->summary, json_object_get(o, "summary"));
    text(t->diagnosis, sizeof t->diagnosis, json_object_get(o, "diagnosis"));
    return true;
}

/* From or To: the user, else the URI (as the live rows show them). */
static void party(char *who, char *name, size_t cap, const json_t *o)
{
    const json_t *user = json_object_get(o, "user");
    text(who, cap, json_is_string(user) ? user : json_object_get(o, "uri"));
    text(name, cap, json_object_get(o, "display"));
}

bool tui_row_from_json(struct tui_row *r, const json_t *call, struct tui_issue **issues, size_t *n)
{
    *issues = NULL, *n = 0;
    int state =
        by_name(json_string_value(json_object_get(call, "state")), CALL__STATES, state_name);
    if (!json_is_object(call) || !id_seq(json_object_get(call, "id"), &r->seq) || state < 0)
        return false;
    party(r->from, r->from_name, sizeof r->from, json_object_get(call, "from"));
    party(r->to, r->to_name, sizeof r->to, json_object_get(call, "to"));
    text(r->call_id, sizeof r->call_id, json_object_get(call, "call_id"));
    text(r->caller, sizeof r->caller, json_object_get(call, "caller"));
    text(r->callee, sizeof r->callee, json_object_get(call, "callee"));
    r->state = (uint8_t)state;
    r->time = num(json_object_get(call, "invite_time"), 0);
    r->answered = json_is_number(json_object_get(call, "answer_time"));
    /* a live capture stores calls in progress too: over once they have an end or a
     * state past answered */
    r->ended = json_is_number(json_object_get(call, "end_time")) || state > CALL_ANSWERED;
    r->final_status = (int)whole(json_object_get(call, "final_status"), 0, 999, 0);
    r->pdd_ms = num(json_object_get(call, "pdd_ms"), -1);
    r->dur_s = num(json_object_get(call, "duration_s"), -1);
    r->mos = num(json_object_get(call, "mos_min"), -1);
    r->issue_kinds = 0;
    r->worst_severity = SEV__COUNT;
    const json_t *all = json_object_get(call, "issues");
    size_t cnt = json_array_size(all);
    if (cnt > TUI_MAX_ISSUES) cnt = TUI_MAX_ISSUES;
    if (cnt && !(*issues = calloc(cnt, sizeof **issues))) return false;
    for (size_t i = 0; i < cnt; i++) {
        struct tui_issue *t = &(*issues)[*n];
        if (!issue_from_json(t, json_array_get(all, i))) continue;
        (*n)++;
        if (t->kind < 64) r->issue_kinds |= 1ull << t->kind;
        if (r->worst_severity == SEV__COUNT || t->severity > r->worst_severity)
            r->worst_severity = t->severity;
    }
    return true;
}
