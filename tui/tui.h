/* `sipscope tui`: the terminal UI (ncurses). The analysis runs on a thread of its own
 * through the engine (engine/pipeline.h) and hands calls, messages, streams and issues to
 * the model (model.h); the screen draws copies of them, at most ten times a second, so a
 * live capture never waits on the terminal. cli/ parses the arguments and calls tui_run. */
#ifndef SIPSCOPE_TUI_H
#define SIPSCOPE_TUI_H

#include <stdbool.h>
#include <stddef.h>

#include "capture/capture.h"
#include "common/membudget.h"
#include "correlate/correlate.h"
#include "diagnose/issues.h"

struct tui_config {
    char **files; /* the inputs, merged in time order; or live: */
    int nfiles;
    const char *const *ifaces; /* live interfaces (or lcfg->hep_listen) */
    size_t nifaces;
    bool live;
    const struct live_config *lcfg;
    const struct correlate_config *kcfg;
    const struct issue_config *icfg;
    const struct mem_budget *budget;
    uint64_t max_memory_mb;
    ptime_t stream_idle; /* 0: the pipeline's default */
    bool keep_duplicates;
    bool ascii; /* plain ASCII line drawing even where the locale is UTF-8 */
    const char *db; /* not NULL: follow this database (read only) instead of any input */
};

/* Runs until the user quits (q) or a SIGINT/SIGTERM; the terminal is restored either way.
 * Returns the exit status: 0, or 1 when the terminal or the inputs could not be opened
 * (said on stderr). */
int tui_run(const struct tui_config *cfg);

#endif
