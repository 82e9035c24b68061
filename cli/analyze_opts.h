/* The options of `analyze` and `capture`: one table (analyze_opts.c) with each option's
 * check and help text, read from the command line and from a --config file (whose keys
 * are the same long names, or a threshold's name), and turned into the settings of the
 * layers they configure. */
#ifndef SIPSCOPE_ANALYZE_OPTS_H
#define SIPSCOPE_ANALYZE_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audio/audio.h"
#include "capture/capture.h"
#include "common/membudget.h"
#include "correlate/correlate.h"
#include "diagnose/issues.h"
#include "store/writer.h"
#include "web_opts.h"

#define ANALYZE_MAX_IFACES 16
#define ANALYZE_MAX_KEYLOGS 16

struct analyze_opts {
    const char *cmd; /* "analyze" or "capture" */
    bool live;
    /* as given */
    bool json, messages, timelines, keep_duplicates, list_thresholds;
    bool db_no_raw, spool_rtp, db_shed, no_promisc, syslog;
    bool no_audio;  /* --no-audio: payloads are not decoded (issue 24) */
    bool have_plan; /* --tone-plan: `plan` holds it; else the default plan */
    struct audio_plan plan;
    uint64_t report_max; /* UINT64_MAX: not given (the report's share of the budget) */
    uint64_t hep_id, db_queue_mb, max_memory_mb, max_calls;
    double retention_days, spool_days, max_db_mb;
    double snaplen, buffer_mb, ring_mb, stream_idle, call_linger; /* 0: not given */
    int progress;                                    /* -1: when stderr is a terminal */
    int verbose;
    const char *db, *probe, *hep_out, *hep_listen, *filter, *run_as, *log_file, *alerts;
    const char *scanner_agents, *toll_prefixes; /* the security watch's lists, NULL: built in */
    const char *ifaces[ANALYZE_MAX_IFACES];
    size_t nifaces;
    const char *tls_keylogs[ANALYZE_MAX_KEYLOGS]; /* --tls-keylog, borrowed */
    size_t n_tls_keylogs;
    struct web_opts web; /* web.cfg.listen: --serve */
    char **files;        /* the operands: files (analyze) */
    int nfiles;
    /* resolved from the above (analyze_opts_parse) */
    struct issue_config icfg;
    struct correlate_config kcfg;
    struct live_config lcfg;
    struct store_writer_config wcfg;
    struct mem_budget budget;
    ptime_t stream_idle_ns; /* 0: the pipeline's default */
    /* owned: the values read from a --config file, which the settings borrow */
    char **kept;
    size_t nkept, capkept;
    char why[256]; /* a --config line's error, until config_load has printed it */
};

/* Reads the config file (when -c names one), then the command line. Returns -1 to go on,
 * or the exit status (0 after --help or --thresholds, 2 bad usage), having said why. */
int analyze_opts_parse(struct analyze_opts *o, bool live, int argc, char **argv);
/* Frees what parsing kept, and the web options' secrets: after web_stop. */
void analyze_opts_free(struct analyze_opts *o);

#endif
