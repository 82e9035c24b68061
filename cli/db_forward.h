/* --db: what the analysis finds goes to the database as it ends, through the store's writer
 * thread. A call is written when it ends (a crash later loses none), then again, whole, once
 * its streams, worst MOS and issues are known: until then it waits here, its texts in the
 * report's spill file, so that the rows are complete while a capture runs and memory
 * follows the calls in flight. With --spool-rtp its media frames are kept too. */
#ifndef SIPSCOPE_DB_FORWARD_H
#define SIPSCOPE_DB_FORWARD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "decode/decode.h"
#include "diagnose/issues.h"
#include "metrics/kpi.h"
#include "render/call.h"
#include "render/run.h"
#include "report.h"
#include "store/writer.h"

/* A call whose row still lacks its streams, worst MOS and issues. */
struct pending_call {
    uint64_t seq;
    bool have_call;
    struct call_out call;       /* its JSON */
    struct render_call_row row; /* its columns (row.json NULL: the text is call's) */
    struct call_out *streams;   /* owned */
    size_t nstreams, capstreams;
    struct issue_out *issues; /* owned: as JSON */
    size_t nissues, capissues;
};

struct db_forward;

/* Opens the database at path and starts its writer (wcfg), the media spool with spool
 * (for max_calls calls at once), texts kept in the spill file. *first_call and
 * *first_stream get the database's last numbers: this run's are numbered after them. NULL
 * with err set when it cannot. */
struct db_forward *db_forward_open(const char *path, const char *probe,
                                   const struct store_writer_config *wcfg, bool no_raw, bool spool,
                                   size_t max_calls, FILE *spill, uint64_t *first_call,
                                   uint64_t *first_stream, char *err, size_t errlen);
/* The call's row as it stands: final (progress false) when it ended, with what it lacks
 * null; else a call in progress. false when the writer did not take it. */
void db_forward_call(struct db_forward *d, const struct render_call_row *row, bool progress);
/* A call, stream or registration that a failure kept from the database. */
void db_forward_failed(struct db_forward *d);
/* The waiting record of call seq, made when missing; NULL for none, or without memory. */
struct pending_call *db_forward_pending(struct db_forward *d, uint64_t seq);
void db_forward_message(struct db_forward *d, const struct sip_event *ev,
                        const struct msg_verdict *v, const char *src, const char *dst);
void db_forward_stream(struct db_forward *d, const struct rtp_stream *st, const char *src,
                       const char *dst, const char *json);
void db_forward_registration(struct db_forward *d, const struct registration *r, const char *src,
                             const char *json);
void db_forward_issue(struct db_forward *d, const struct issue *is, const char *json);
/* Media frames of a call (--spool-rtp), and its end. */
void db_forward_media(struct db_forward *d, uint64_t call_seq, const struct packet *p);
void db_forward_call_ended(struct db_forward *d, uint64_t seq);
/* The issue engine has found every issue of call seq: its row is written whole now. */
void db_forward_judged(struct db_forward *d, uint64_t seq);
/* The lowest spill offset the waiting calls want, -1 none (report_low_fn). */
off_t db_forward_low(const void *d);
/* Records the writer dropped or failed so far. */
void db_forward_losses(struct db_forward *d, uint64_t *dropped, uint64_t *failed);
/* Writes the calls still waiting, stops the writer, ends the run's row (run, kpi: its
 * capture and stats blocks) and closes. false when a record was lost (said on stderr). */
bool db_forward_close(struct db_forward *d, const struct render_run *run, const struct kpi *kpi);

#endif
