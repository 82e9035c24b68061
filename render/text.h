/* The text report `sipscope analyze` prints without --json: the run's head (files, time,
 * layers, SIP, fragments, duplicates, what was not decoded, RTP), the table of calls, the
 * registrations' line, and the issues, grouped by call (then registrations, then media of
 * no call), the worst group first. The entries' own text (a call's line, an issue's
 * lines) is made here too, when they end; the report asks its owner for it back by
 * index (it may wait in a file). */
#ifndef SIPSCOPE_RENDER_TEXT_H
#define SIPSCOPE_RENDER_TEXT_H

#include <stdint.h>
#include <stdio.h>

#include "correlate/correlate.h"
#include "diagnose/issues.h"
#include "render/run.h"

/* A call's line of the table (without its newline); malloc'd. */
char *render_text_call_line(const struct call *c);

/* The head. nstreams: RTP streams reported; report_max: how many of each kind the report
 * keeps (said when it left some out). */
void render_text_head(FILE *out, const struct render_run *run, size_t nstreams, size_t report_max);

/* Prints entry i of its owner's list to out. */
typedef void (*render_print_fn)(void *user, size_t i, FILE *out);

/* The table of n calls, in order; line(user, i) prints the line of the i-th. */
void render_text_calls(FILE *out, size_t n, uint64_t answered, render_print_fn line, void *user);
void render_text_registrations(FILE *out, size_t n, uint64_t registered, uint64_t challenged,
                               uint64_t failed);

/* What the report needs to know of an issue to place it. */
struct render_issue_ref {
    uint64_t seq;      /* in order of finding */
    uint64_t call_seq; /* 0 none */
    ptime_t time;
    uint8_t severity; /* enum issue_severity */
    uint8_t group;    /* 0 a call's, 1 registrations, 2 media of no call */
    size_t index;     /* in its owner's list: what text(user, index) prints */
};
/* The issues' part: the count by severity (sev: of every issue found, those the report
 * left out included), then the groups. refs is sorted here. call(user, call_seq) prints
 * the line of that call (nothing when it is not in the report), text(user, index) an
 * issue's lines. */
struct render_issue_printers {
    void (*call)(void *user, uint64_t call_seq, FILE *out);
    render_print_fn text;
    void *user;
};
void render_text_issues(FILE *out, struct render_issue_ref *refs, size_t n,
                        const uint64_t sev[SEV__COUNT], const struct render_issue_printers *p);

#endif
