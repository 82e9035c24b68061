/* The report at the end of analyze and capture: every ended call, stream, registration and
 * issue, as text (compact JSON, or the text report's lines) kept in a temporary spill file,
 * and in memory only an index entry each, so that a capture of a million calls costs 24 MB
 * here, not the calls' text. A live capture keeps the newest report_max of each list, and
 * the file's space below what is still wanted goes back to the file system. */
#ifndef SIPSCOPE_REPORT_H
#define SIPSCOPE_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "diagnose/issues.h"
#include "metrics/kpi.h"
#include "render/run.h"

/* An ended call, stream or registration: where its text lies in the spill file. */
struct call_out {
    uint64_t seq;
    uint64_t call_seq; /* streams: the call they belong to, 0 none */
    off_t off;
    uint32_t len;
    float mos; /* streams: their MOS, < 0 none */
};

/* An issue, as text in the spill file: compact JSON or the text report's lines. */
struct issue_out {
    uint64_t seq;      /* in order of finding */
    uint64_t call_seq; /* 0 none */
    ptime_t time;
    off_t off;
    uint32_t len;
    uint8_t severity;
    uint8_t group; /* text report: 0 a call's, 1 registrations, 2 media of no call */
    uint8_t kind;  /* enum issue_kind: the row's issue kinds */
};

enum { REPORT_CALLS, REPORT_STREAMS, REPORT_REGISTRATIONS, REPORT_ISSUES };

#define REPORT_LIVE_MAX 100000 /* a live capture's lists keep at most this many by default */

/* Who else keeps texts in the spill file (the database's calls in waiting): the lowest
 * offset it still wants, -1 none. */
typedef off_t (*report_low_fn)(const void *user);

struct report {
    FILE *spill;            /* owned */
    struct call_out *calls; /* owned: ended calls */
    size_t ncalls, capcalls;
    struct call_out *regs; /* owned: registrations */
    size_t nregs, capregs;
    struct call_out *streams; /* owned: RTP streams */
    size_t nstreams, capstreams;
    struct issue_out *issues; /* owned */
    size_t nissues, capissues;
    uint64_t by_severity[SEV__COUNT];
    uint64_t reg_registered, reg_failed, reg_challenged;
    uint64_t answered;
    size_t report_max;                  /* 0: everything */
    uint64_t report_bytes, report_peak; /* the lists' memory (their text is in the file) */
    uint64_t report_dropped[4];
    off_t punched;
    report_low_fn other_low;
    const void *other;
};

/* Makes the spill file. false (errno set) when it cannot. */
bool report_open(struct report *r, size_t report_max);
void report_close(struct report *r);

/* Appends text (taken over, freed) at the end of the spill file: where, and how long. */
bool report_spill(FILE *spill, char *text, off_t *off, uint32_t *len);
/* Appends text (taken over, freed) to the spill file and its index entry to *v. */
bool report_push(FILE *spill, struct call_out **v, size_t *n, size_t *cap, uint64_t seq,
                 char *text);
/* The same for an issue. */
bool report_push_issue(FILE *spill, struct issue_out **v, size_t *n, size_t *cap,
                       const struct issue *is, char *text);
/* After an entry was added to list `which`: a live capture's list past twice report_max
 * loses its oldest half; the lists' memory is counted. */
void report_trim(struct report *r, int which);
/* At the end: exactly the newest report_max of each list, in order of number. */
void report_finish(struct report *r);

/* A call's JSON (at c) with what ended after it was written filled in: "streams":null by
 * the ids of its streams, "mos_min":null by their worst MOS, "issues":null (when judged)
 * by its issues. streams and issues are sorted by call; *k and *ki walk them. */
void report_print_call(FILE *spill, const struct call_out *c, const struct call_out *streams,
                       size_t n, size_t *k, const struct issue_out *issues, size_t ni, size_t *ki,
                       bool judged, FILE *out);
int report_by_seq(const void *x, const void *y);
int report_issue_by_call(const void *x, const void *y);

/* The JSON document on stdout: the run's capture and stats blocks, then the lists;
 * messages (--messages) last. Non-zero when stdout failed. */
int report_print_json(struct report *r, const struct render_run *run, const struct kpi *kpi,
                      json_t *messages, bool judged);
/* The text report on stdout. */
void report_print_text(struct report *r, const struct render_run *run);

#endif
