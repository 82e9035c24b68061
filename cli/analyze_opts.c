/* See analyze_opts.h. */
#include "analyze_opts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vec.h"
#include "config.h"

#define CONFIG_MAX      1024   /* settings in a --config file */

/* --thresholds: every threshold with its value and meaning. */
static void print_thresholds(FILE *f, const struct issue_config *cfg)
{
    const char *name, *help;
    double v;
    for (size_t i = 0; issue_config_describe(cfg, i, &name, &help, &v); i++)
        fprintf(f, "%-22s = %-8g # %s\n", name, v, help);
}

static bool set_threshold(void *ctx, const struct opt_def *d, const char *value, const char **why)
{
    struct analyze_opts *o = ctx;
    char name[128];
    const char *eq = strchr(value, '=');
    if (!eq || (size_t)(eq - value) >= sizeof name) return false; /* wants NAME=VALUE */
    memcpy(name, value, (size_t)(eq - value));
    name[eq - value] = '\0';
    return issue_config_set(&o->icfg, name, eq + 1, why);
}

static bool set_overflow(void *ctx, const struct opt_def *d, const char *value, const char **why)
{
    struct analyze_opts *o = ctx;
    if (strcmp(value, "wait") && strcmp(value, "shed")) return false;
    o->db_shed = !strcmp(value, "shed");
    return true;
}

static bool set_progress(void *ctx, const struct opt_def *d, const char *value, const char **why)
{
    struct analyze_opts *o = ctx;
    o->progress = strcmp(d->name, "no-progress") != 0;
    return true;
}

static bool set_interface(void *ctx, const struct opt_def *d, const char *value, const char **why)
{
    struct analyze_opts *o = ctx;
    if (o->nifaces == ANALYZE_MAX_IFACES) {
        *why = "at most 16 interfaces (or -i any)";
        return false;
    }
    o->ifaces[o->nifaces++] = value;
    return true;
}

/* --tone-plan FILE: compiled once here, copied by the stream table (issue 24). */
static bool set_tone_plan(void *ctx, const struct opt_def *d, const char *value, const char **why)
{
    struct analyze_opts *o = ctx;
    char err[160];
    if (audio_plan_load(&o->plan, value, err, sizeof err) == 0) {
        o->have_plan = true;
        return true;
    }
    snprintf(o->why, sizeof o->why, "%s", err); /* it names the line */
    *why = o->why;
    return false;
}

/* --tls-keylog FILE: checked readable here, so that a typo is said at once, not as a
 * connection that stays encrypted. */
static bool set_keylog(void *ctx, const struct opt_def *d, const char *value, const char **why)
{
    struct analyze_opts *o = ctx;
    if (o->n_tls_keylogs == ANALYZE_MAX_KEYLOGS) {
        *why = "at most 16 key log files";
        return false;
    }
    FILE *f = fopen(value, "r");
    if (!f) {
        *why = "cannot be read";
        return false;
    }
    fclose(f);
    o->tls_keylogs[o->n_tls_keylogs++] = value;
    return true;
}

/* The table: analyze's options in the order of its help, then capture's. */
/* clang-format off */
static const struct opt_def table[] = {
    {"json", 'j', NULL, NULL, OPT_SET, opt_flag, offsetof(struct analyze_opts, json), 0, 0, NULL,
     "  -j, --json          print one JSON document (docs/output.md) instead of text\n"},
    {"messages", 0, NULL, NULL, OPT_SET, opt_flag, offsetof(struct analyze_opts, messages), 0, 0, NULL,
     "      --messages      with --json: list every SIP message (frame, time, addresses,\n"
     "                      method or status, Call-ID, CSeq, call, retransmission)\n"},
    {"timelines", 0, NULL, NULL, OPT_SET, opt_flag, offsetof(struct analyze_opts, timelines), 0, 0, NULL,
     "      --timelines     with --json: per-second packets, loss, jitter and MOS of each\n"
     "                      stream (\"timeline\")\n"},
    {"tone-plan", 0, "FILE", NULL, OPT_SET, set_tone_plan, 0, 0, 0, NULL,
     "      --tone-plan FILE  the call progress tones to listen for in the RTP payload\n"
     "                      (docs/design.md \"Tone plans\"); default: North American,\n"
     "                      European and UK ringback, busy, congestion, SIT, dial, fax\n"},
    {"no-audio", 0, NULL, NULL, OPT_SET, opt_flag, offsetof(struct analyze_opts, no_audio), 0, 0, NULL,
     "      --no-audio      do not decode RTP payloads: no level, activity, tones (stream\n"
     "                      audio null) and no issue that needs them\n"},
    {"report-max", 0, "N", NULL, OPT_SET, opt_uint, offsetof(struct analyze_opts, report_max), 0, UINT64_MAX, "a number",
     "      --report-max N  the report at the end keeps the newest N calls (and N streams,\n"
     "                      registrations, issues); older ones are counted in\n"
     "                      capture.evicted.report_*. Default: all the report's share of\n"
     "                      --max-memory-mb holds (600,000 in 512 MB; the text waits in a\n"
     "                      temporary file), and at most 100000 for a live capture\n"},
    {"keep-duplicates", 0, NULL, NULL, OPT_SET, opt_flag, offsetof(struct analyze_opts, keep_duplicates), 0, 0, NULL,
     "      --keep-duplicates  analyse exact copies of a datagram too: by default a copy\n"
     "                      seen within 5 ms of the first (a mirror port that copies both\n"
     "                      sides of a path), and a SIP message in HEP within 50 ms of the\n"
     "                      same on the wire (a proxy's trace), are dropped and counted in\n"
     "                      capture.duplicates\n"},
    {"config", 'c', "FILE", NULL, OPT_CONFIG, NULL, 0, 0, 0, NULL,
     "  -c, --config FILE   read settings from FILE: \"key = value\" lines, where key is\n"
     "                      any long option (db = calls.db, interface = eth0, spool-rtp =\n"
     "                      yes) or a threshold's name (see --thresholds); the command\n"
     "                      line wins over the file\n"},
    {"threshold", 't', "NAME=VALUE", NULL, OPT_SET, set_threshold, 0, 0, 0, "NAME=VALUE",
     "  -t, --threshold NAME=VALUE\n"
     "                      set one issue threshold (repeatable; after --config)\n"},
    {"thresholds", 0, NULL, NULL, OPT_SET, opt_flag, offsetof(struct analyze_opts, list_thresholds), 0, 0, NULL,
     "      --thresholds    print every issue threshold with its value and meaning\n"},
    {"scanner-agents", 0, "FILE", NULL, OPT_SET, opt_string, offsetof(struct analyze_opts, scanner_agents), 0, 0, NULL,
     "      --scanner-agents FILE  User-Agents that make a source a sip_scan at once, one\n"
     "                      a line, matched anywhere in the header, any case (default:\n"
     "                      data/scanner-agents.txt, built in)\n"},
    {"toll-prefixes", 0, "FILE", NULL, OPT_SET, opt_string, offsetof(struct analyze_opts, toll_prefixes), 0, 0, NULL,
     "      --toll-prefixes FILE  \"PREFIX LABEL\" lines: dialled numbers that count for\n"
     "                      toll_fraud_pattern (default: data/toll-prefixes.txt, built in:\n"
     "                      00, 011 international; 0900, 1900... premium)\n"},
    {"db", 0, "FILE", NULL, OPT_SET, opt_string, offsetof(struct analyze_opts, db), 0, 0, NULL,
     "      --db FILE       also store calls, streams (with timelines), registrations,\n"
     "                      issues and SIP messages (raw, with their frames) in the SQLite\n"
     "                      database FILE, created if missing; a file that holds earlier\n"
     "                      analyses gets this one added (ids numbered after theirs).\n"
     "                      A writer thread stores them in batches, each call as it ends.\n"
     "                      --db postgresql://HOST/DBNAME (a libpq URI; the password from\n"
     "                      PGPASSFILE, PGPASSWORD or a service file, never in the URI):\n"
     "                      a PostgreSQL database many probes write at once\n"},
    {"probe", 0, "NAME", NULL, OPT_SET, opt_string, offsetof(struct analyze_opts, probe), 0, 0, NULL,
     "      --probe NAME    with --db: the name stored with every row this run writes\n"
     "                      (default: the host name)\n"},
    {"db-no-raw", 0, NULL, NULL, OPT_SET, opt_flag, offsetof(struct analyze_opts, db_no_raw), 0, 0, NULL,
     "      --db-no-raw     store messages without their raw text and frames (smaller;\n"
     "                      no ladder text, no pcap export)\n"},
    {"retention-days", 0, "D", NULL, OPT_SET, opt_real_below, offsetof(struct analyze_opts, retention_days), 0, 1e6, "a positive number",
     "      --retention-days D  keep calls (with their messages, streams, issues) for D\n"
     "                      days of packet time back from the newest call; older ones, and\n"
     "                      rows of no call older than the oldest call kept, are deleted\n"},
    {"max-db-mb", 0, "N", NULL, OPT_SET, opt_real_below, offsetof(struct analyze_opts, max_db_mb), 0, 1e9, "a positive number",
     "      --max-db-mb N   delete the oldest calls while the data takes more than N MB\n"},
    {"spool-rtp", 0, NULL, NULL, OPT_SET, opt_flag, offsetof(struct analyze_opts, spool_rtp), 0, 0, NULL,
     "      --spool-rtp     also store each call's RTP and RTCP frames, so that\n"
     "                      `sipscope export` writes the call with its media\n"},
    {"spool-days", 0, "D", NULL, OPT_SET, opt_real_below, offsetof(struct analyze_opts, spool_days), 0, 1e6, "a positive number",
     "      --spool-days D  keep spooled media D days (default: as long as its call)\n"},
    {"serve", 0, "ADDR:PORT", NULL, OPT_SET, opt_string, offsetof(struct analyze_opts, web.cfg.listen), 0, 0, NULL,
     "      --serve ADDR:PORT  with --db: serve the JSON API and UI from it while the\n"
     "                      analysis runs, and after it until Ctrl-C (sipscope serve\n"
     "                      --help: the address, auth and HTTPS)\n"
     "      --threads N, --token-file F, --user-file F, --cert F --key F\n"
     "                      with --serve: as sipscope serve --help says\n"},
    WEB_OPT_ROWS(struct analyze_opts, web,
                 "      --show-credentials  with --serve: show the credentials of SIP Authorization\n"
                 "                      and Proxy-Authorization fields (masked by default)\n"),
    {"alerts", 0, "FILE", NULL, OPT_SET, opt_string, offsetof(struct analyze_opts, alerts), 0, 0, NULL,
     "      --alerts FILE   alert rules over the calls that ended in a window of packet\n"
     "                      time (ASR, PDD p95, MOS p10, share or rate of an issue kind),\n"
     "                      logged and POSTed to the file's webhook as they fire and\n"
     "                      resolve (diagnose/alerts.h: the file's lines)\n"},
    {"hep-out", 0, "HOST:PORT", NULL, OPT_SET, opt_string, offsetof(struct analyze_opts, hep_out), 0, 0, NULL,
     "      --hep-out HOST:PORT  send every SIP message on as HEPv3 over UDP (to Homer,\n"
     "                      or to another sipscope's --hep-listen)\n"},
    {"hep-id", 0, "N", NULL, OPT_SET, opt_uint, offsetof(struct analyze_opts, hep_id), 0, UINT32_MAX, "a number",
     "      --hep-id N      the HEP capture agent id (default 2001); the auth key, if\n"
     "                      the collector wants one, is read from SIPSCOPE_HEP_KEY\n"},
    {"db-queue-mb", 0, "N", NULL, OPT_SET, opt_uint, offsetof(struct analyze_opts, db_queue_mb), 1, 65536, "1 to 65536",
     "      --db-queue-mb N records waiting for the writer, at most (default 64)\n"},
    {"db-overflow", 0, "wait|shed", NULL, OPT_SET, set_overflow, 0, 0, 0, "wait or shed",
     "      --db-overflow wait|shed\n"
     "                      when that queue is full: wait (default; reading slows down,\n"
     "                      nothing is lost unless the writer is stuck for 5 s) or shed\n"
     "                      (SIP messages are dropped first, keeping room for calls); what\n"
     "                      is dropped is counted, and the exit status is 1\n"},
    {"tls-keylog", 0, "FILE", NULL, OPT_SET, set_keylog, 0, 0, 0, "a readable file",
     "      --tls-keylog FILE  decrypt SIP over TLS (and WSS) with the secrets of FILE, an\n"
     "                      NSS key log (SSLKEYLOGFILE; Kamailio's tls keylog); repeatable;\n"
     "                      a live capture reads it again as it grows. TLS 1.2 and 1.3 with\n"
     "                      AES-GCM or ChaCha20-Poly1305; connections it does not open are\n"
     "                      counted in capture.decode_errors.tls_no_keys\n"},
    {"max-memory-mb", 0, "N", NULL, OPT_SET, opt_uint, offsetof(struct analyze_opts, max_memory_mb), 16, 16777216, "16 to 16777216",
     "      --max-memory-mb N  the memory the tables may take (default 512), shared out\n"
     "                      among them (calls, transactions, media endpoints, streams,\n"
     "                      registrations, DNS, de-duplication, reassembly, the report);\n"
     "                      each full table evicts by its own rule and counts it in\n"
     "                      capture.evicted; capture.memory has each one's peak bytes\n"},
    {"max-calls", 0, "N", NULL, OPT_SET, opt_uint, offsetof(struct analyze_opts, max_calls), 1, UINT64_MAX, "a positive number",
     "      --max-calls N   calls tracked at once (default: from --max-memory-mb, about\n"
     "                      127,000 in 512 MB); past it an unanswered INVITE, else the\n"
     "                      least recently active call, is ended early and counted in\n"
     "                      evicted.calls\n"},
    {"progress", 0, NULL, NULL, OPT_SET, set_progress, 0, 0, 0, NULL,
     "      --progress      always show the progress line on stderr\n"},
    {"no-progress", 0, NULL, NULL, OPT_SET, set_progress, 0, 0, 0, NULL,
     "      --no-progress   never show it (default: shown when stderr is a terminal)\n"},
    {"verbose", 'v', NULL, NULL, OPT_SET, opt_count, offsetof(struct analyze_opts, verbose), 0, 0, NULL,
     "  -v, --verbose       log more (repeat for debug)\n"},
    {"help", 'h', NULL, NULL, OPT_HELP, NULL, 0, 0, 0, NULL,
     "  -h, --help          this text\n"},
    {"interface", 'i', "IFACE", "capture", OPT_SET, set_interface, 0, 0, 0, "at most 16 interfaces (or -i any)",
     "  -i, --interface IFACE  capture here (repeatable)\n"},
    {"hep-listen", 0, "ADDR:PORT", "capture", OPT_SET, opt_string, offsetof(struct analyze_opts, hep_listen), 0, 0, NULL,
     "      --hep-listen ADDR:PORT  take HEPv2/v3 over UDP here instead (from Kamailio,\n"
     "                         OpenSIPS, FreeSWITCH, heplify or sipscope --hep-out)\n"},
    {"filter", 'f', "BPF", "capture", OPT_SET, opt_string, offsetof(struct analyze_opts, filter), 0, 0, NULL,
     "  -f, --filter BPF       a capture filter (tcpdump syntax)\n"},
    {"snaplen", 0, "N", "capture", OPT_SET, opt_real, offsetof(struct analyze_opts, snaplen), 0, 262144, "a positive number",
     "      --snaplen N        bytes kept of each packet (default 262144)\n"},
    {"buffer-mb", 0, "N", "capture", OPT_SET, opt_real, offsetof(struct analyze_opts, buffer_mb), 0, 65536, "a positive number",
     "      --buffer-mb N      the kernel's capture buffer (default 64)\n"},
    {"ring-mb", 0, "N", "capture", OPT_SET, opt_real, offsetof(struct analyze_opts, ring_mb), 0, 65536, "a positive number",
     "      --ring-mb N        packets waiting for the analysis, at most (default 64, rounded\n"
     "                         up to a power of two); past it they are dropped and counted\n"
     "                         in capture.dropped\n"},
    {"no-promisc", 0, NULL, "capture", OPT_SET, opt_flag, offsetof(struct analyze_opts, no_promisc), 0, 0, NULL,
     "      --no-promisc       do not put the interfaces in promiscuous mode\n"},
    {"stream-idle", 0, "S", "capture", OPT_SET, opt_real, offsetof(struct analyze_opts, stream_idle), 0, 65536, "a positive number",
     "      --stream-idle S    a stream ends after S seconds without packets (default 10)\n"},
    {"call-linger", 0, "S", "capture", OPT_SET, opt_real, offsetof(struct analyze_opts, call_linger), 0, 3600, "a positive number, at most 3600",
     "      --call-linger S    an ended call is held S seconds for its retransmissions\n"
     "                         before it is handed on and forgotten (default 32: 64*T1,\n"
     "                         RFC 3261 17.1.1.2); shorter frees its memory sooner;\n"
     "                         Timer B and transactions stay at 64*T1\n"},
    {"user", 0, "NAME", "capture", OPT_SET, opt_string, offsetof(struct analyze_opts, run_as), 0, 0, NULL,
     "      --user NAME        once the interfaces are open, run as NAME (it is handed\n"
     "                         the --db files); root cannot be taken back\n"},
    {"syslog", 0, NULL, "capture", OPT_SET, opt_flag, offsetof(struct analyze_opts, syslog), 0, 0, NULL,
     "      --syslog           log to syslog (facility daemon) instead of stderr\n"},
    {"log-file", 0, "F", "capture", OPT_SET, opt_string, offsetof(struct analyze_opts, log_file), 0, 0, NULL,
     "      --log-file F       log to F instead of stderr; SIGHUP reopens it (logrotate)\n"},
};
/* clang-format on */
#define NOPTS (sizeof table / sizeof *table)

static const char analyze_head[] =
    "Usage: sipscope analyze [OPTIONS] FILE...\n"
    "\n"
    "Reads pcap and pcapng files (any link type libpcap opens; \"-\" reads stdin) and\n"
    "reports what they hold. Several files are merged in packet-time order.\n"
    "\n"
    "Options:\n";
static const char analyze_foot[] =
    "\n"
    "Exit status: 0 done, 1 an input could not be read, 2 bad usage.\n";
static const char capture_head[] =
    "Usage: sipscope capture -i IFACE [-i IFACE...] [OPTIONS]\n"
    "\n"
    "Follows live interfaces (\"any\" for all) until SIGINT or SIGTERM, then reports like\n"
    "analyze. Calls and streams are handed on (to --db, --serve) as they end: a stream\n"
    "after --stream-idle seconds without packets, a call --stream-idle seconds after\n"
    "its BYE or final answer (its row complete once its streams have ended too).\n"
    "\n";
static const char capture_foot[] =
    "  and every option of analyze (sipscope analyze --help): --json, --db, --serve, ...\n"
    "\n"
    "Exit status: 0 stopped by a signal, 1 an interface could not be opened, 2 bad usage.\n";

static void usage(const struct analyze_opts *o, FILE *f)
{
    fputs(o->live ? capture_head : analyze_head, f);
    opts_help(f, table, NOPTS, o->live ? "capture" : NULL);
    fputs(o->live ? capture_foot : analyze_foot, f);
}

/* A --config line: a threshold's name, else an option's. The value is kept (the line's
 * buffer is reused), since settings borrow their strings. */
static bool config_key(void *user, const char *key, const char *value, const char **why)
{
    struct analyze_opts *o = user;
    const char *no = NULL;
    if (issue_config_set(&o->icfg, key, value, &no)) return true;
    if (strcmp(no, "no such threshold")) {
        *why = no;
        return false;
    }
    char *v = strdup(value);
    if (!v || o->nkept == CONFIG_MAX ||
        !vec_grow((void **)&o->kept, &o->capkept, o->nkept, sizeof *o->kept, 16)) {
        free(v);
        *why = v ? "too many settings" : "out of memory";
        return false;
    }
    o->kept[o->nkept++] = v;
    if (opts_set_key(table, NOPTS, o->cmd, o, key, v, o->why, sizeof o->why)) return true;
    *why = o->why;
    return false;
}

/* What goes only with something else given. NULL: all is well. */
static const char *missing(const struct analyze_opts *o)
{
    if (web_opts_given(&o->web) && !o->web.cfg.listen)
        return "--show-credentials, --threads, --token-file, --user-file, --cert and --key "
               "go with --serve";
    if (!o->db && (o->spool_rtp || o->db_no_raw || o->web.cfg.listen || o->retention_days > 0 ||
                   o->max_db_mb > 0 || o->spool_days > 0))
        return "--serve, --spool-rtp, --spool-days, --db-no-raw, --retention-days and "
               "--max-db-mb need --db";
    return NULL;
}

/* The operands: files for analyze; none for capture, which wants -i or --hep-listen. */
static bool operands(struct analyze_opts *o, int argc, char **argv, int first)
{
    const char *why = NULL;
    if (!o->live && first >= argc)
        why = "no input file";
    else if (o->live && first < argc)
        why = "no files: it reads interfaces";
    else if (o->live && o->nifaces && o->hep_listen)
        why = "-i or --hep-listen, not both";
    else if (o->live && !o->nifaces && !o->hep_listen)
        why = "no interface (-i) or --hep-listen";
    if (why) {
        fprintf(stderr, "sipscope %s: %s\n\n", o->cmd, why);
        usage(o, stderr);
        return false;
    }
    /* for a live capture, the report's "files" are the interfaces */
    o->files = o->live ? (char **)o->ifaces : argv + first;
    o->nfiles = o->live ? (int)o->nifaces : argc - first;
    return true;
}

/* The layers' settings from what was given. */
static void resolve(struct analyze_opts *o)
{
    if (o->max_calls) {
        o->kcfg.max_calls = (size_t)o->max_calls;
        o->kcfg.max_transactions = (size_t)o->max_calls * 2;
    }
    /* one budget, shared out (common/membudget.h); explicit limits stay as given */
    mem_budget_init(&o->budget, o->max_memory_mb << 20);
    correlate_config_budget(&o->kcfg, &o->budget, o->max_calls != 0);
    o->lcfg = (struct live_config){.filter = o->filter,
                                   .promisc = !o->no_promisc,
                                   .snaplen = (int)o->snaplen,
                                   .buffer_mb = (int)o->buffer_mb,
                                   .ring_bytes = (size_t)(o->ring_mb * 1048576),
                                   .hep_listen = o->hep_listen};
    o->stream_idle_ns = (ptime_t)(o->stream_idle * 1e9);
    if (o->call_linger > 0) o->kcfg.linger = (ptime_t)(o->call_linger * 1e9);
    o->wcfg.queue_bytes = (size_t)o->db_queue_mb << 20;
    o->wcfg.overflow = o->db_shed ? STORE_OVERFLOW_SHED : STORE_OVERFLOW_WAIT;
    o->wcfg.retention.max_age_s = o->retention_days * 86400;
    o->wcfg.retention.media_max_age_s = o->spool_days * 86400;
    o->wcfg.retention.max_bytes = (uint64_t)(o->max_db_mb * 1048576);
    o->web.cfg.db = o->db;
}

int analyze_opts_parse(struct analyze_opts *o, bool live, int argc, char **argv)
{
    *o = (struct analyze_opts){.cmd = live ? "capture" : "analyze",
                               .live = live,
                               .report_max = UINT64_MAX,
                               .hep_id = 2001,
                               .max_memory_mb = MEM_DEFAULT_MB,
                               .progress = -1};
    issue_config_default(&o->icfg);
    correlate_config_default(&o->kcfg);
    char err[512];
    const char *path = opts_config_path(table, NOPTS, argc, argv), *why;
    if (path && !config_load(path, config_key, o, err, sizeof err)) {
        fprintf(stderr, "sipscope %s: %s\n", o->cmd, err);
        return 2;
    }
    int first;
    switch (opts_parse(table, NOPTS, o->cmd, o, argc, argv, &first, err, sizeof err)) {
    case OPTS_HELP:
        usage(o, stdout);
        return 0;
    case OPTS_BAD:
        if (*err)
            fprintf(stderr, "sipscope %s: %s\n", o->cmd, err);
        else
            usage(o, stderr);
        return 2;
    case OPTS_OK:
        break;
    }
    if ((why = missing(o))) {
        fprintf(stderr, "sipscope %s: %s\n", o->cmd, why);
        return 2;
    }
    if (o->list_thresholds) {
        print_thresholds(stdout, &o->icfg);
        return 0;
    }
    if (!operands(o, argc, argv, first)) return 2;
    resolve(o);
    return -1;
}

void analyze_opts_free(struct analyze_opts *o)
{
    for (size_t i = 0; i < o->nkept; i++)
        free(o->kept[i]);
    free(o->kept);
    o->kept = NULL;
    web_opts_free(&o->web);
    o->nkept = o->capkept = 0;
}
