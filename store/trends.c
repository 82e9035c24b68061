/* See trends.h. The series reads the calls of the range once, in first-INVITE order, so
 * that a step's samples for percentiles are held only while it is the current step; the
 * counts are summed as the rows pass. The worst-N is one GROUP BY in SQL both engines read.
 * Both read the columns the writer keeps beside each call's object (answer time, PDD, the
 * To URI's host), never the object itself. */
#include "trends.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

struct series {
    struct store *s;
    double from, step;
    struct store_trend_step *st;
    size_t n;
    size_t cur;        /* the step whose samples are held */
    double *pdd, *mos; /* owned: the current step's samples */
    size_t npdd, nmos, cap;
    bool nomem;
};

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest rank, as kpi_pdd_percentile: the smallest value with at least p% at or below. */
static double percentile(const double *v, size_t n, double p)
{
    if (!n) return -1;
    size_t rank = (size_t)ceil(p / 100.0 * (double)n - 1e-9);
    return v[(rank < 1 ? 1 : rank) - 1];
}

static void close_step(struct series *x)
{
    struct store_trend_step *t = &x->st[x->cur];
    /* an empty step has no arrays yet: qsort must not be given NULL, even for 0 items */
    if (x->npdd) qsort(x->pdd, x->npdd, sizeof *x->pdd, by_value);
    if (x->nmos) qsort(x->mos, x->nmos, sizeof *x->mos, by_value);
    t->pdd_p50 = percentile(x->pdd, x->npdd, 50);
    t->pdd_p95 = percentile(x->pdd, x->npdd, 95);
    t->mos_p10 = percentile(x->mos, x->nmos, 10);
    t->mos_p50 = percentile(x->mos, x->nmos, 50);
    t->mos_p90 = percentile(x->mos, x->nmos, 90);
    x->npdd = x->nmos = 0;
}

/* A sample of the current step; past the maximum it is left out and the step marked. */
static void sample(struct series *x, double **v, size_t *n, double d)
{
    if (*n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 1024;
        if (cap > STORE_TREND_MAX_VALUES) cap = STORE_TREND_MAX_VALUES;
        double *p = cap > x->cap ? realloc(x->pdd, cap * sizeof *p) : NULL;
        if (p) x->pdd = p;
        double *q = p ? realloc(x->mos, cap * sizeof *q) : NULL;
        if (q) x->mos = q;
        if (!p || !q) {
            x->st[x->cur].partial = true;
            return;
        }
        x->cap = cap;
    }
    (*v)[(*n)++] = d;
}

static size_t step_of(const struct series *x, double t)
{
    double k = floor((t - x->from) / x->step);
    return k < 0 ? 0 : k >= (double)x->n ? x->n - 1 : (size_t)k;
}

/* invite_time, state, final_status, answer_time, end_time, pdd_ms, mos_min */
static bool call_row(void *u, const struct store_row *r)
{
    struct series *x = u;
    size_t k = step_of(x, store_col_double(r, 0));
    if (k != x->cur) {
        close_step(x);
        x->cur = k;
    }
    struct store_trend_step *t = &x->st[k];
    const char *state = store_col_text(r, 1);
    int f = store_col_null(r, 2) ? 0 : (int)store_col_int(r, 2);
    bool answered = !store_col_null(r, 3);
    /* still trying, ringing or in early media: no outcome yet, out of ASR and NER */
    bool decided = state && strcmp(state, "trying") && strcmp(state, "ringing") &&
                   strcmp(state, "early_media");
    t->calls++;
    t->decided += decided;
    t->answered += answered;
    if (decided && (answered || f == 486 || f == 600 || f == 603 || f == 480 || f == 487))
        t->user_outcomes++;
    if (answered && !store_col_null(r, 4)) {
        t->duration_sum_s += store_col_double(r, 4) - store_col_double(r, 3);
        t->durations++;
    }
    if (f >= 100 && f < 700) t->final_class[f / 100]++;
    if (!store_col_null(r, 5)) sample(x, &x->pdd, &x->npdd, store_col_double(r, 5));
    if (!store_col_null(r, 6)) sample(x, &x->mos, &x->nmos, store_col_double(r, 6));
    return true;
}

static bool issue_row(void *u, const struct store_row *r)
{
    struct series *x = u;
    struct store_trend_step *t = &x->st[step_of(x, store_col_double(r, 0))];
    const char *kind = store_col_text(r, 1);
    if (!kind) return true;
    for (unsigned i = 0; i < t->nkinds; i++)
        if (!strcmp(t->kinds[i].name, kind)) {
            t->kinds[i].n++;
            return true;
        }
    if (t->nkinds == STORE_TREND_MAX_KINDS || strlen(kind) >= sizeof t->kinds[0].name) {
        t->other_kinds++;
        return true;
    }
    snprintf(t->kinds[t->nkinds].name, sizeof t->kinds[0].name, "%s", kind);
    t->kinds[t->nkinds++].n = 1;
    return true;
}

static enum store_qstatus bad(struct store *s, const char *why)
{
    store_set_error(s, why);
    return STORE_Q_BAD;
}

enum store_qstatus store_stats_series(struct store *s, double from, double to, double step,
                                      struct store_trend_step **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!isfinite(from) || !isfinite(to) || from < 0 || to <= from) return bad(s, "bad time range");
    if (!isfinite(step) || step <= 0) return bad(s, "step must be above 0");
    double steps = ceil((to - from) / step);
    if (steps > STORE_TREND_MAX_STEPS) return bad(s, "more than 2000 steps: a longer step");
    struct series x = {.s = s, .from = from, .step = step, .n = (size_t)steps};
    if (!(x.st = calloc(x.n, sizeof *x.st))) return STORE_Q_ERROR;
    for (size_t i = 0; i < x.n; i++) {
        x.st[i].start = from + (double)i * step;
        x.st[i].pdd_p50 = x.st[i].pdd_p95 = -1;
        x.st[i].mos_p10 = x.st[i].mos_p50 = x.st[i].mos_p90 = -1;
    }
    /* calls_trend covers this: the series reads the index, in its order, and no JSON */
    static const char q[] =
        "SELECT invite_time, state, final_status, answer_time, end_time, pdd_ms, mos_min"
        " FROM calls WHERE invite_time >= ? AND invite_time < ? ORDER BY invite_time";
    struct store_arg a[2] = {{.type = STORE_ARG_REAL, .d = from},
                             {.type = STORE_ARG_REAL, .d = to}};
    enum store_qstatus r = store_rows(s, q, a, 2, call_row, &x);
    if (r == STORE_Q_OK) {
        close_step(&x);
        r = store_rows(s, "SELECT time, kind FROM issues WHERE time >= ? AND time < ?", a, 2,
                       issue_row, &x);
    }
    free(x.pdd);
    free(x.mos);
    if (r != STORE_Q_OK) {
        free(x.st);
        return r;
    }
    *out = x.st;
    *n = x.n;
    return STORE_Q_OK;
}

struct top {
    store_top_fn fn;
    void *user;
};

/* k, calls, decided, answered, failures, worst MOS */
static bool top_row(void *u, const struct store_row *r)
{
    struct top *t = u;
    struct store_top_row row = {
        .key = store_col_text(r, 0),
        .calls = (uint64_t)store_col_int(r, 1),
        .decided = (uint64_t)store_col_int(r, 2),
        .answered = (uint64_t)store_col_int(r, 3),
        .failures = (uint64_t)store_col_int(r, 4),
        .worst_mos = store_col_null(r, 5) ? -1 : store_col_double(r, 5),
    };
    row.asr_pct = row.decided ? 100.0 * (double)row.answered / (double)row.decided : -1;
    return row.key ? t->fn(t->user, &row) : true;
}

enum store_qstatus store_top(struct store *s, const struct store_top_query *tq, store_top_fn fn,
                             void *user)
{
    if (!isfinite(tq->from) || !isfinite(tq->to) || tq->from < 0 || tq->to < 0 ||
        (tq->from && tq->to && tq->to <= tq->from))
        return bad(s, "bad time range");
    if (tq->limit > STORE_TOP_MAX) return bad(s, "limit above 100");
    static const char *const keys[] = {
        [STORE_TOP_CALLEE] = "to_user",
        [STORE_TOP_CALLER] = "from_user",
        [STORE_TOP_HOST] = "callee",
        [STORE_TOP_DOMAIN] = "to_domain",
    };
    char q[2048];
    /* the order: most failures; lowest ASR (the busiest first among equals); worst MOS */
    static const char *const order[] = {
        [STORE_TOP_FAILURES] = "f > 0 ORDER BY f DESC, n DESC, k",
        [STORE_TOP_ASR] = "d > 0 ORDER BY CAST(a AS double precision) / d, d DESC, k",
        [STORE_TOP_WORST_MOS] = "m IS NOT NULL ORDER BY m, n DESC, k",
    };
    snprintf(q, sizeof q,
             "SELECT k, n, d, a, f, m FROM (SELECT k, count(*) AS n, sum(dcd) AS d,"
             " sum(CASE WHEN ans IS NOT NULL THEN 1 ELSE 0 END) AS a,"
             " sum(CASE WHEN dcd = 1 AND ans IS NULL AND coalesce(final_status, 0)"
             "  NOT IN (486, 600, 603, 480, 487) THEN 1 ELSE 0 END) AS f,"
             " min(mos_min) AS m FROM (SELECT %s AS k, answer_time AS ans, final_status, mos_min,"
             "  CASE WHEN state IN ('trying', 'ringing', 'early_media') THEN 0 ELSE 1 END AS dcd"
             "  FROM calls WHERE invite_time >= ? AND invite_time < ?) c"
             " WHERE k IS NOT NULL AND k <> '' GROUP BY k) g WHERE %s LIMIT ?",
             keys[tq->by], order[tq->metric]);
    struct store_arg a[3] = {
        {.type = STORE_ARG_REAL, .d = tq->from},
        {.type = STORE_ARG_REAL, .d = tq->to ? tq->to : 1e300},
        {.type = STORE_ARG_INT, .i = tq->limit ? tq->limit : STORE_TOP_DEFAULT},
    };
    struct top t = {fn, user};
    return store_rows(s, q, a, 3, top_row, &t);
}
