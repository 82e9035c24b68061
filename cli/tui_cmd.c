/* `sipscope tui FILE...` and `sipscope tui -i IFACE`: the arguments are analyze's (files)
 * or capture's (-i, --hep-listen), from the same option table (analyze_opts.h), so the
 * capture options and the memory budget mean what they mean there; the terminal UI
 * (tui/tui.h) does the rest. */
#include <stdio.h>
#include <string.h>

#include "analyze_opts.h"
#include "cli.h"
#include "tui/tui.h"

/* Live when an interface or a HEP socket is named. */
static bool wants_live(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) break;
        if (!strcmp(a, "-i") || !strncmp(a, "-i", 2) || !strncmp(a, "--interface", 11) ||
            !strncmp(a, "--hep-listen", 12))
            return true;
    }
    return false;
}

/* What the terminal UI does not do (it writes no report, database or feed). */
static const char *refused(const struct analyze_opts *o)
{
    if (o->json || o->messages || o->timelines) return "--json: the terminal UI writes no report";
    if (o->web.cfg.listen) return "--serve: see 'sipscope analyze --serve'";
    if (o->hep_out) return "--hep-out: see 'sipscope capture --hep-out'";
    if (o->run_as || o->syslog || o->log_file)
        return "--user, --syslog, --log-file: see 'sipscope capture'";
    return NULL;
}

/* `--db FILE` (or `--db=FILE`) alone: the database to follow; NULL when not asked for.
 * *bad: other arguments came with it (the tui reads a database or inputs, not both). */
static const char *db_only(int argc, char **argv, bool *bad)
{
    const char *db = NULL;
    int used = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--db") && i + 1 < argc)
            db = argv[++i], used += 2;
        else if (!strncmp(argv[i], "--db=", 5))
            db = argv[i] + 5, used++;
    }
    *bad = db && used != argc - 1;
    return db;
}

int cmd_tui(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs("Usage: sipscope tui [OPTIONS] FILE...      (files, merged in time order)\n"
                  "       sipscope tui -i IFACE [-f BPF] [OPTIONS]   (live)\n"
                  "       sipscope tui --hep-listen ADDR:PORT [OPTIONS]\n"
                  "       sipscope tui --db FILE|postgresql://...  (follow it, read only)\n"
                  "\n"
                  "The calls in a terminal UI: a call list that fills as calls end (live: as\n"
                  "they happen), each call's ladder, messages, streams and issues; press ? in it\n"
                  "for the keys. NO_COLOR set: no colours; a locale without UTF-8 (or\n"
                  "SIPSCOPE_TUI_ASCII=1): plain ASCII drawing. The options are those of\n"
                  "'sipscope analyze' (files) or 'sipscope capture' (live), less the outputs:\n\n",
                  stdout);
            break;
        }
    bool bad;
    const char *db = db_only(argc, argv, &bad);
    if (bad) {
        fputs("sipscope tui: --db reads a database and takes no other argument\n", stderr);
        return 2;
    }
    const char *ascii = getenv("SIPSCOPE_TUI_ASCII");
    if (db) {
        struct mem_budget budget;
        mem_budget_init(&budget, (uint64_t)512 << 20);
        struct tui_config cfg = {
            .db = db, .budget = &budget, .max_memory_mb = 512, .ascii = ascii && *ascii == '1'};
        return tui_run(&cfg);
    }
    bool live = wants_live(argc, argv);
    struct analyze_opts o;
    int rc = analyze_opts_parse(&o, live, argc, argv);
    if (rc >= 0) {
        analyze_opts_free(&o);
        return rc;
    }
    const char *why = refused(&o);
    if (why) {
        fprintf(stderr, "sipscope tui: %s\n", why);
        analyze_opts_free(&o);
        return 2;
    }
    struct tui_config cfg = {.files = o.files,
                             .nfiles = o.nfiles,
                             .ifaces = o.ifaces,
                             .nifaces = o.nifaces,
                             .live = live,
                             .lcfg = &o.lcfg,
                             .kcfg = &o.kcfg,
                             .icfg = &o.icfg,
                             .budget = &o.budget,
                             .max_memory_mb = o.max_memory_mb,
                             .stream_idle = o.stream_idle_ns,
                             .keep_duplicates = o.keep_duplicates,
                             .ascii = ascii && *ascii == '1'};
    rc = tui_run(&cfg);
    analyze_opts_free(&o);
    return rc;
}
