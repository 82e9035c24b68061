/* See alerts.h. The windows hold a few facts per call (not the call): what the rules
 * read, and the callee for the offenders' list. */
#include "alerts.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct acall {
    uint64_t seq; /* 0: a free pending slot */
    int64_t end_ns;
    float pdd_ms, mos; /* < 0 none */
    uint64_t kinds;    /* bit per enum issue_kind */
    bool ended, decided, answered;
    char callee[48];
};

struct aissue {
    int64_t t;
    uint64_t seq; /* 0 none */
    uint8_t kind;
};

/* A finding of no call (alerts_finding): when found, and who. */
struct afinding {
    int64_t t, issue_ns;
    uint8_t kind;
    bool account;
    char who[ALERT_WHO_LEN];
};

struct rule_state {
    bool firing;
    int64_t resolved_ns; /* 0 never */
};

struct alerts {
    struct alert_rules rules;
    struct rule_state st[ALERT_MAX_RULES];
    alert_fn fn;
    void *user;
    struct acall *pending; /* ALERT_MAX_PENDING, by seq modulo */
    struct acall *win;     /* ring of ALERT_MAX_CALLS judged calls */
    size_t head, count;
    struct aissue *iss; /* ring of ALERT_MAX_ISSUES */
    size_t ihead, icount;
    struct afinding *fnd; /* ring of ALERT_MAX_FINDINGS */
    size_t fhead, fcount;
    double *vals; /* scratch for percentiles, ALERT_MAX_CALLS */
    int64_t max_window, last_eval;
    int64_t newest; /* the latest end of the calls judged since the last tick, 0 none */
    uint64_t dropped;
};

_Static_assert(ISSUE__COUNT <= 64, "struct acall's kinds holds a bit per issue kind");

/* ---- the rules file ---- */

static bool parse_metric(const char *m, struct alert_rule *r)
{
    static const struct {
        const char *name;
        enum alert_metric metric;
    } plain[] = {{"asr", ALERT_ASR}, {"pdd_p95", ALERT_PDD_P95}, {"mos_p10", ALERT_MOS_P10}},
      of_kind[] = {{"share:", ALERT_SHARE}, {"rate:", ALERT_RATE}, {"count:", ALERT_COUNT}};
    for (size_t i = 0; i < sizeof plain / sizeof *plain; i++)
        if (!strcmp(m, plain[i].name)) {
            r->metric = plain[i].metric;
            return true;
        }
    const char *kind = NULL;
    for (size_t i = 0; i < sizeof of_kind / sizeof *of_kind && !kind; i++)
        if (!strncmp(m, of_kind[i].name, strlen(of_kind[i].name))) {
            r->metric = of_kind[i].metric;
            kind = m + strlen(of_kind[i].name);
        }
    if (!kind) return false;
    for (int k = 0; k < ISSUE__COUNT; k++)
        if (!strcmp(issue_kind_name((enum issue_kind)k), kind)) {
            r->kind = (enum issue_kind)k;
            return true;
        }
    return false;
}

static bool number(const char *s, double lo, double hi, double *out)
{
    char *end;
    double v = s ? strtod(s, &end) : NAN;
    if (!s || *end || !isfinite(v) || v < lo || v > hi) return false;
    *out = v;
    return true;
}

/* One rule line, split into its words (NULL past the last). */
static const char *parse_rule(char **w, struct alert_rule *r)
{
    double win, min = 1;
    size_t n = strlen(w[0]);
    if (n >= sizeof r->name || strspn(w[0], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                            "0123456789_-") != n)
        return "a rule's name is letters, digits, _ and - (at most 47)";
    memcpy(r->name, w[0], n + 1);
    if (!w[1] || !parse_metric(w[1], r))
        return "the metric is asr, pdd_p95, mos_p10, share:KIND, rate:KIND or count:KIND (a known "
               "kind)";
    if (!w[2] || (strcmp(w[2], "<") && strcmp(w[2], ">"))) return "the operator is < or >";
    r->below = w[2][0] == '<';
    if (!number(w[3], -1e9, 1e9, &r->threshold)) return "the threshold is a number";
    if (!number(w[4], 1, 7 * 86400, &win) || win != floor(win))
        return "the window is whole seconds, 1 to 604800";
    if (w[5] && (!number(w[5], 1, ALERT_MAX_CALLS, &min) || min != floor(min)))
        return "the minimum of calls is a whole number, 1 to 65536";
    if (w[5] && w[6]) return "too many words";
    r->window_ns = (int64_t)win * 1000000000LL;
    r->min_calls = (unsigned)min;
    return NULL;
}

bool alert_rules_parse(const char *text, size_t len, struct alert_rules *out, char *why,
                       size_t whylen)
{
    memset(out, 0, sizeof *out);
    size_t off = 0;
    for (unsigned line = 1; off < len; line++) {
        const char *nl = memchr(text + off, '\n', len - off);
        size_t n = nl ? (size_t)(nl - text - off) : len - off;
        char buf[1024], *w[8] = {0}, *save = NULL;
        if (n >= sizeof buf) {
            snprintf(why, whylen, "line %u: longer than %zu bytes", line, sizeof buf - 1);
            return false;
        }
        memcpy(buf, text + off, n);
        buf[n] = 0;
        off += n + 1;
        char *hash = strchr(buf, '#');
        if (hash) *hash = 0;
        unsigned nw = 0;
        for (char *t = strtok_r(buf, " \t\r", &save); t && nw < 7;
             t = strtok_r(NULL, " \t\r", &save))
            w[nw++] = t;
        if (!nw) continue;
        const char *err = NULL;
        if (!strcmp(w[0], "webhook")) {
            if (!w[1] || w[2] || strlen(w[1]) >= sizeof out->webhook ||
                (strncmp(w[1], "http://", 7) && strncmp(w[1], "https://", 8)))
                err = "webhook takes one http:// or https:// URL";
            else
                snprintf(out->webhook, sizeof out->webhook, "%s", w[1]);
        } else if (out->n == ALERT_MAX_RULES) {
            err = "more rules than 32";
        } else if (!(err = parse_rule(w, &out->rule[out->n]))) {
            out->n++;
        }
        if (err) {
            snprintf(why, whylen, "line %u: %s", line, err);
            return false;
        }
    }
    if (!out->n) snprintf(why, whylen, "no rule");
    return out->n > 0;
}

void alert_metric_name(const struct alert_rule *r, char *out, size_t outlen)
{
    static const char *const names[] = {"asr", "pdd_p95", "mos_p10", "share", "rate", "count"};
    if (r->metric >= ALERT_SHARE)
        snprintf(out, outlen, "%s:%s", names[r->metric], issue_kind_name(r->kind));
    else
        snprintf(out, outlen, "%s", names[r->metric]);
}

/* ---- facts ---- */

struct alerts *alerts_new(const struct alert_rules *rules, alert_fn fn, void *user)
{
    struct alerts *al = calloc(1, sizeof *al);
    if (!al) return NULL;
    al->rules = *rules;
    al->fn = fn;
    al->user = user;
    al->pending = calloc(ALERT_MAX_PENDING, sizeof *al->pending);
    al->win = calloc(ALERT_MAX_CALLS, sizeof *al->win);
    al->iss = calloc(ALERT_MAX_ISSUES, sizeof *al->iss);
    al->vals = calloc(ALERT_MAX_CALLS, sizeof *al->vals);
    al->fnd = calloc(ALERT_MAX_FINDINGS, sizeof *al->fnd);
    if (!al->pending || !al->win || !al->iss || !al->vals || !al->fnd) {
        alerts_free(al);
        return NULL;
    }
    for (unsigned i = 0; i < rules->n; i++)
        if (rules->rule[i].window_ns > al->max_window) al->max_window = rules->rule[i].window_ns;
    return al;
}

void alerts_free(struct alerts *al)
{
    if (!al) return;
    free(al->pending);
    free(al->win);
    free(al->iss);
    free(al->vals);
    free(al->fnd);
    free(al);
}

uint64_t alerts_dropped(const struct alerts *al)
{
    return al->dropped;
}

/* The pending slot of call seq; a call that still holds it is dropped (the table is full
 * of calls that never got their verdict). */
static struct acall *pending(struct alerts *al, uint64_t seq)
{
    struct acall *p = &al->pending[seq % ALERT_MAX_PENDING];
    if (p->seq == seq) return p;
    if (p->seq) al->dropped++;
    memset(p, 0, sizeof *p);
    p->seq = seq;
    p->pdd_ms = p->mos = -1;
    return p;
}

void alerts_call_ended(struct alerts *al, uint64_t seq, int64_t end_ns, bool decided, bool answered,
                       double pdd_ms, const char *callee)
{
    if (!al || !seq) return;
    struct acall *p = pending(al, seq);
    p->ended = true;
    p->end_ns = end_ns;
    p->decided = decided;
    p->answered = answered;
    p->pdd_ms = (float)pdd_ms;
    snprintf(p->callee, sizeof p->callee, "%s", callee ? callee : "");
}

void alerts_stream_mos(struct alerts *al, uint64_t seq, double mos)
{
    if (!al || !seq || !(mos > 0)) return;
    struct acall *p = pending(al, seq);
    if (p->mos < 0 || mos < p->mos) p->mos = (float)mos;
}

void alerts_issue(struct alerts *al, uint64_t seq, enum issue_kind kind, int64_t time_ns)
{
    if (!al || (unsigned)kind >= ISSUE__COUNT) return;
    if (seq) pending(al, seq)->kinds |= 1ull << kind;
    if (al->icount == ALERT_MAX_ISSUES) {
        al->ihead = (al->ihead + 1) % ALERT_MAX_ISSUES;
        al->icount--;
    }
    al->iss[(al->ihead + al->icount++) % ALERT_MAX_ISSUES] =
        (struct aissue){.t = time_ns, .seq = seq, .kind = (uint8_t)kind};
}

void alerts_finding(struct alerts *al, enum issue_kind kind, int64_t found_ns, int64_t issue_ns,
                    const char *who, bool account)
{
    if (!al || (unsigned)kind >= ISSUE__COUNT) return;
    if (al->fcount == ALERT_MAX_FINDINGS) {
        al->fhead = (al->fhead + 1) % ALERT_MAX_FINDINGS;
        al->fcount--;
    }
    struct afinding *f = &al->fnd[(al->fhead + al->fcount++) % ALERT_MAX_FINDINGS];
    *f = (struct afinding){
        .t = found_ns, .issue_ns = issue_ns, .kind = (uint8_t)kind, .account = account};
    snprintf(f->who, sizeof f->who, "%s", who ? who : "");
}

void alerts_judged(struct alerts *al, uint64_t seq)
{
    if (!al || !seq) return;
    struct acall *p = &al->pending[seq % ALERT_MAX_PENDING];
    if (p->seq != seq || !p->ended) return; /* not a call we saw end */
    if (al->count == ALERT_MAX_CALLS) {
        al->head = (al->head + 1) % ALERT_MAX_CALLS;
        al->count--;
        al->dropped++;
    }
    al->win[(al->head + al->count++) % ALERT_MAX_CALLS] = *p;
    if (p->end_ns > al->newest) al->newest = p->end_ns;
    p->seq = 0;
}

/* ---- judging ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest rank: the smallest value with at least p% of the values at or below it. */
static double percentile(double *v, size_t n, double p)
{
    qsort(v, n, sizeof *v, cmp_double);
    size_t rank = (size_t)ceil(p / 100.0 * (double)n);
    return v[rank ? rank - 1 : 0];
}

static const struct acall *at(const struct alerts *al, size_t i)
{
    return &al->win[(al->head + i) % ALERT_MAX_CALLS];
}

/* A call of the window that makes the rule's value worse. */
static bool bad_call(const struct alert_rule *r, const struct acall *c)
{
    switch (r->metric) {
    case ALERT_ASR:
        return c->decided && !c->answered;
    case ALERT_PDD_P95:
        return c->pdd_ms >= 0 && c->pdd_ms > r->threshold;
    case ALERT_MOS_P10:
        return c->mos >= 0 && c->mos < r->threshold;
    default:
        return (c->kinds >> r->kind) & 1u;
    }
}

/* The rule's value over the window ending at now; false when it has no verdict. */
static bool rule_value(struct alerts *al, const struct alert_rule *r, int64_t now, double *v,
                       unsigned *n)
{
    int64_t from = now - r->window_ns;
    size_t k = 0, hits = 0;
    if (r->metric == ALERT_RATE || r->metric == ALERT_COUNT) {
        for (size_t i = 0; i < al->icount; i++) {
            const struct aissue *is = &al->iss[(al->ihead + i) % ALERT_MAX_ISSUES];
            hits += is->t > from && is->t <= now && is->kind == r->kind;
        }
        for (size_t i = 0; i < al->fcount; i++) {
            const struct afinding *f = &al->fnd[(al->fhead + i) % ALERT_MAX_FINDINGS];
            hits += f->t > from && f->t <= now && f->kind == r->kind;
        }
        *n = (unsigned)hits;
        *v = r->metric == ALERT_COUNT ? (double)hits : (double)hits * 60e9 / (double)r->window_ns;
        return true;
    }
    for (size_t i = 0; i < al->count; i++) {
        const struct acall *c = at(al, i);
        if (c->end_ns <= from || c->end_ns > now) continue;
        if (r->metric == ALERT_ASR && c->decided)
            k++, hits += c->answered;
        else if (r->metric == ALERT_PDD_P95 && c->pdd_ms >= 0)
            al->vals[k++] = c->pdd_ms;
        else if (r->metric == ALERT_MOS_P10 && c->mos >= 0)
            al->vals[k++] = c->mos;
        else if (r->metric == ALERT_SHARE)
            k++, hits += (c->kinds >> r->kind) & 1u;
    }
    *n = (unsigned)k;
    if (!k || k < r->min_calls) return false;
    *v = r->metric == ALERT_PDD_P95   ? percentile(al->vals, k, 95)
         : r->metric == ALERT_MOS_P10 ? percentile(al->vals, k, 10)
                                      : 100.0 * (double)hits / (double)k;
    return true;
}

/* The window's bad calls: their callees by count, and the newest few. */
static void offenders(const struct alerts *al, const struct alert_rule *r, int64_t now,
                      struct alert_event *ev)
{
    struct alert_offender seen[64];
    unsigned nseen = 0;
    for (size_t i = al->count; i-- > 0;) {
        const struct acall *c = at(al, i);
        if (c->end_ns <= now - r->window_ns || c->end_ns > now || !bad_call(r, c)) continue;
        if (ev->nexamples < ALERT_TOP) ev->examples[ev->nexamples++] = c->seq;
        unsigned j = 0;
        while (j < nseen && strcmp(seen[j].callee, c->callee))
            j++;
        if (j == nseen && nseen < sizeof seen / sizeof *seen) {
            seen[nseen] = (struct alert_offender){0};
            snprintf(seen[nseen++].callee, sizeof seen->callee, "%s", c->callee);
        }
        if (j < nseen) seen[j].calls++;
    }
    while (ev->ntop < ALERT_TOP && nseen) { /* the most first; ties: the newest first */
        unsigned best = 0;
        for (unsigned j = 1; j < nseen; j++)
            if (seen[j].calls > seen[best].calls) best = j;
        ev->top[ev->ntop++] = seen[best];
        seen[best] = seen[--nseen];
    }
}

/* The window's findings of the rule's kind, by who made them: the most first (ties: the
 * newest first), each with its newest finding for the link to its issue. */
static void finders(const struct alerts *al, const struct alert_rule *r, int64_t now,
                    struct alert_event *ev)
{
    struct alert_offender seen[64];
    unsigned nseen = 0;
    for (size_t i = al->fcount; i-- > 0;) {
        const struct afinding *f = &al->fnd[(al->fhead + i) % ALERT_MAX_FINDINGS];
        if (f->t <= now - r->window_ns || f->t > now || f->kind != r->kind || !f->who[0]) continue;
        unsigned j = 0;
        while (j < nseen && (strcmp(seen[j].who, f->who) || seen[j].account != f->account))
            j++;
        if (j == nseen && nseen < sizeof seen / sizeof *seen) {
            seen[nseen] = (struct alert_offender){
                .account = f->account, .kind = (enum issue_kind)f->kind, .issue_ns = f->issue_ns};
            snprintf(seen[nseen++].who, sizeof seen->who, "%s", f->who);
        }
        if (j < nseen) seen[j].issues++;
    }
    while (ev->ntop < ALERT_TOP && nseen) {
        unsigned best = 0;
        for (unsigned j = 1; j < nseen; j++)
            if (seen[j].issues > seen[best].issues) best = j;
        ev->top[ev->ntop++] = seen[best];
        memmove(&seen[best], &seen[best + 1], (nseen - best - 1) * sizeof *seen);
        nseen--;
    }
}

/* Every rule at packet time now: changes of state go to the callback. */
static void evaluate(struct alerts *al, int64_t now)
{
    al->last_eval = now;
    for (unsigned i = 0; i < al->rules.n; i++) {
        const struct alert_rule *r = &al->rules.rule[i];
        struct rule_state *s = &al->st[i];
        double v = 0;
        unsigned n = 0;
        if (!rule_value(al, r, now, &v, &n)) continue;
        bool bad = r->below ? v < r->threshold : v > r->threshold;
        bool fire = bad && !s->firing && (!s->resolved_ns || now - s->resolved_ns >= r->window_ns);
        if (!fire && !(s->firing && !bad)) continue;
        s->firing = fire;
        if (!fire) s->resolved_ns = now;
        struct alert_event ev = {
            .rule = r, .firing = fire, .value = v, .calls = n, .window_end_ns = now};
        offenders(al, r, now, &ev);
        if (r->metric == ALERT_RATE || r->metric == ALERT_COUNT) finders(al, r, now, &ev);
        al->fn(al->user, &ev);
    }
}

void alerts_tick(struct alerts *al, int64_t now, bool force)
{
    if (!al) return;
    /* Calls are judged once their media is over, up to a settle later (engine/pipeline.h),
     * and a capture may fall silent between them: the windows are first judged where the
     * newest of those calls ended, so that no call misses the windows it ended in. */
    if (al->newest > al->last_eval && al->newest < now) evaluate(al, al->newest);
    al->newest = 0;
    if (!force && now < al->last_eval + 1000000000LL) return; /* once a second of packet time */
    while (al->count && at(al, 0)->end_ns <= now - al->max_window) {
        al->head = (al->head + 1) % ALERT_MAX_CALLS;
        al->count--;
    }
    while (al->icount && al->iss[al->ihead].t <= now - al->max_window) {
        al->ihead = (al->ihead + 1) % ALERT_MAX_ISSUES;
        al->icount--;
    }
    while (al->fcount && al->fnd[al->fhead].t <= now - al->max_window) {
        al->fhead = (al->fhead + 1) % ALERT_MAX_FINDINGS;
        al->fcount--;
    }
    evaluate(al, now);
}
