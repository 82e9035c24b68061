/* Alert rules (--alerts FILE): a condition over the calls that ended in a window of packet
 * time, judged as the capture goes, with firing and resolved states.
 *
 * The file, one rule a line ('#' starts a comment):
 *   webhook URL                          where each firing and resolution is POSTed (one)
 *   NAME METRIC OP VALUE WINDOW_S [MIN_CALLS]
 * METRIC: asr (% of the calls with an outcome that were answered, ITU-T E.411), pdd_p95
 * (ms, nearest rank, of the calls that rang), mos_p10 (worst MOS of the calls that have
 * one), share:KIND (% of the calls with an issue of that kind), rate:KIND (issues of that
 * kind a minute, calls' or not), count:KIND (issues of that kind in the window). OP: < or >.
 * MIN_CALLS (default 1): fewer calls in the window give no verdict and the state stays as it was.
 *
 * No repeat storms: only a change of state is reported, and a rule that resolved does not
 * fire again before a whole window has passed (a condition that flaps at the threshold
 * reports at most once a window). Memory: ALERT_MAX_CALLS calls in the windows, the oldest
 * dropped first (counted); ALERT_MAX_PENDING calls between their end and their verdict. */
#ifndef SIPSCOPE_DIAGNOSE_ALERTS_H
#define SIPSCOPE_DIAGNOSE_ALERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diagnose/issues.h"

#define ALERT_MAX_RULES   32
#define ALERT_MAX_CALLS   65536
#define ALERT_MAX_PENDING 16384
#define ALERT_MAX_ISSUES  65536
#define ALERT_MAX_FINDINGS 4096 /* of no call, with who made them; the oldest dropped */
#define ALERT_TOP         5
#define ALERT_URL_MAX     512

enum alert_metric { ALERT_ASR, ALERT_PDD_P95, ALERT_MOS_P10, ALERT_SHARE, ALERT_RATE, ALERT_COUNT };

struct alert_rule {
    char name[48];
    enum alert_metric metric;
    enum issue_kind kind; /* share:, rate: and count: */
    bool below;           /* fires when the value is below the threshold, else above */
    double threshold;
    int64_t window_ns;
    unsigned min_calls;
};

struct alert_rules {
    struct alert_rule rule[ALERT_MAX_RULES];
    unsigned n;
    char webhook[ALERT_URL_MAX]; /* "" none: the log line only */
};

/* Parses a rules file's text; false with *why (naming the line) when a line is wrong. */
bool alert_rules_parse(const char *text, size_t len, struct alert_rules *out, char *why,
                       size_t whylen);

/* The metric's name as the file writes it ("asr", "share:one_way_audio"). */
void alert_metric_name(const struct alert_rule *r, char *out, size_t outlen);

#define ALERT_WHO_LEN 64

/* Who made the rule's value worse: a callee of its bad calls, or for issues of no call (the
 * security watch's) the source address or account the findings name. */
struct alert_offender {
    char callee[48]; /* the callee's address without its port; "" an issue's offender */
    unsigned calls;
    char who[ALERT_WHO_LEN]; /* the finding's source address or account ("sip:1001@host") */
    bool account;
    unsigned issues;      /* findings of it in the window */
    enum issue_kind kind; /* of its newest finding */
    int64_t issue_ns;     /* that finding's issue time (its episode's start): the issue's link */
};

/* A change of state of a rule, for the callback. */
struct alert_event {
    const struct alert_rule *rule;
    bool firing; /* else resolved */
    double value;
    unsigned calls;                       /* calls (rate:, count: issues) the value stands on */
    int64_t window_end_ns;                /* packet time of the evaluation; the window ends there */
    struct alert_offender top[ALERT_TOP]; /* callees of the window's bad calls, most first */
    unsigned ntop;
    uint64_t examples[ALERT_TOP]; /* bad calls of the window (their seq), newest first */
    unsigned nexamples;
};
typedef void (*alert_fn)(void *user, const struct alert_event *ev);

struct alerts;
struct alerts *alerts_new(const struct alert_rules *rules, alert_fn fn, void *user);
void alerts_free(struct alerts *al);

/* What becomes known of a call, in any order: its end (decided: it has an outcome),
 * its streams' MOS, its issues; judged: all of it is known, it joins the windows. */
void alerts_call_ended(struct alerts *al, uint64_t seq, int64_t end_ns, bool decided, bool answered,
                       double pdd_ms, const char *callee);
void alerts_stream_mos(struct alerts *al, uint64_t seq, double mos);
void alerts_issue(struct alerts *al, uint64_t seq, enum issue_kind kind, int64_t time_ns);
void alerts_judged(struct alerts *al, uint64_t seq);
/* A finding of no call, made at packet time found_ns (the security watch's: its issue is
 * reported only when the episode ends, with the episode's start as its time, which may lie
 * a window and more before): it counts from when it was found, once, naming who (a source
 * address, or an account when account is true) and the issue's own time for its link. */
void alerts_finding(struct alerts *al, enum issue_kind kind, int64_t found_ns, int64_t issue_ns,
                    const char *who, bool account);

/* Evaluates every rule at packet time now, at most once a second of it unless forced (the
 * end of the input); changes of state go to the callback. */
void alerts_tick(struct alerts *al, int64_t now_ns, bool force);

/* Calls dropped because a window or the pending table was full. */
uint64_t alerts_dropped(const struct alerts *al);

#endif
