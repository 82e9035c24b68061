/* The operator's view over time, from stored calls (not from the last run only): KPIs per
 * time step (/api/v1/stats?from=&to=&step=) and the worst callees, callers, domains or
 * hosts (/api/v1/top). The definitions are metrics/kpi.c's (ASR ITU-T E.411, NER ITU-T
 * E.425, ACD, PDD as RFC 6076's SRD to the first 180/183), applied to the calls whose
 * first INVITE falls in each step, so a step's figures are what an analysis of just those
 * calls would report. The web layer turns the figures into JSON. */
#ifndef SIPSCOPE_STORE_TRENDS_H
#define SIPSCOPE_STORE_TRENDS_H

#include "query.h"

#define STORE_TREND_MAX_STEPS  2000    /* steps per answer: a chart is a few hundred wide */
#define STORE_TREND_MAX_KINDS  64      /* distinct issue kinds per step (there are ~40) */
#define STORE_TREND_MAX_VALUES 4000000 /* PDD or MOS samples kept per step for percentiles */
#define STORE_TOP_DEFAULT      10
#define STORE_TOP_MAX          100

struct store_trend_kind {
    char name[32];
    uint64_t n;
};

/* One step: calls whose first INVITE is in [start, start + step). Percentiles are nearest
 * rank, negative when no call had the figure. */
struct store_trend_step {
    double start;
    uint64_t calls, decided, answered, user_outcomes;
    uint64_t durations; /* answered calls that ended: ACD's denominator */
    double duration_sum_s;
    uint64_t final_class[7]; /* the calls' final status by class: [2] 2xx .. [6] 6xx */
    double pdd_p50, pdd_p95;
    double mos_p10, mos_p50, mos_p90; /* of each call's worst MOS */
    bool partial;                     /* more samples than STORE_TREND_MAX_VALUES: percentiles of
                                       * the first ones only */
    unsigned nkinds;
    struct store_trend_kind kinds[STORE_TREND_MAX_KINDS]; /* issues by time, not by call */
    uint64_t other_kinds;                                 /* issues past the kind table */
};

/* Fills *out (owned by the caller, free()) with ceil((to - from) / step) steps from
 * `from`. STORE_Q_BAD for a range or step that cannot be right, or too many steps. */
enum store_qstatus store_stats_series(struct store *s, double from, double to, double step,
                                      struct store_trend_step **out, size_t *n);

enum store_top_by { STORE_TOP_CALLEE, STORE_TOP_CALLER, STORE_TOP_DOMAIN, STORE_TOP_HOST };
enum store_top_metric { STORE_TOP_FAILURES, STORE_TOP_ASR, STORE_TOP_WORST_MOS };

struct store_top_query {
    enum store_top_by by; /* callee/caller: To/From user; domain: the To URI's host;
                           * host: where the first INVITE went ("ip:port") */
    enum store_top_metric metric;
    double from, to; /* first INVITE in [from, to); 0: open */
    unsigned limit;  /* 0: STORE_TOP_DEFAULT; at most STORE_TOP_MAX */
};

/* One row of the worst: failures are calls with an outcome the network, not a user,
 * decided (NER's complement); asr_pct < 0 when none had an outcome; worst_mos < 0 none. */
struct store_top_row {
    const char *key; /* valid during the callback */
    uint64_t calls, decided, answered, failures;
    double asr_pct, worst_mos;
};
typedef bool (*store_top_fn)(void *user, const struct store_top_row *r);
enum store_qstatus store_top(struct store *s, const struct store_top_query *q, store_top_fn fn,
                             void *user);

#endif
