/* See tui.h. The screen's loop: wait up to 100 ms for a key, take the model's news (at
 * most ten times a second), draw. Ctrl-C and SIGTERM stop it through common/stop.h's flag
 * (cbreak mode leaves the terminal's signals on); the terminal is restored on every way
 * out. ncurses turns SIGWINCH into KEY_RESIZE, and the screen is drawn again at its size. */
#include "tui.h"

#include <curses.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/stop.h"
#include "db.h"
#include "engine/pipeline.h"
#include "render/ids.h"
#include "safe.h"
#include "save.h"
#include "tui_int.h"

struct run {
    const struct tui_config *cfg;
    struct tui_model *model;
    struct issue_engine *eng;
    volatile sig_atomic_t quit;
    bool utf8;
    struct pipeline_result res;
};

/* --- the analysis thread: the engine's handlers --- */

static void on_sip(void *user, const struct sip_event *ev, const struct msg_verdict *v)
{
    tui_model_sip(((struct run *)user)->model, ev, v);
}

static void on_call(void *user, const struct call *c)
{
    struct run *r = user;
    tui_model_call(r->model, c);
    issues_call(r->eng, c);
}

static void on_call_progress(void *user, const struct call *c)
{
    tui_model_call_progress(((struct run *)user)->model, c);
}

static void on_reg(void *user, const struct registration *g)
{
    tui_model_registration(((struct run *)user)->model, g);
    issues_registration(((struct run *)user)->eng, g);
}

static void on_stream(void *user, const struct rtp_stream *st)
{
    struct run *r = user;
    tui_model_stream(r->model, st);
    issues_stream(r->eng, st);
}

static void on_settle(void *user, ptime_t now, const struct stream_table *streams)
{
    issues_tick(((struct run *)user)->eng, now, streams);
}

static void on_media(void *user, uint64_t call_seq, const struct packet *pkt)
{
    tui_model_media(((struct run *)user)->model, call_seq, pkt);
}

static void on_tick(void *user, ptime_t now, const struct pipeline_result *sofar)
{
    (void)now;
    tui_model_capture(((struct run *)user)->model, &sofar->cs, true);
}

/* The interfaces (or the HEP socket) are open: only now is "live" true, so that nobody
 * starts calls the capture would miss. */
static bool on_opened(void *user)
{
    struct capture_stats none = {0};
    tui_model_capture(((struct run *)user)->model, &none, true);
    return true;
}

static void on_progress(void *user, const struct capture_stats *cs)
{
    tui_model_capture(((struct run *)user)->model, cs, false);
}

static void *analysis(void *arg)
{
    struct run *r = arg;
    const struct tui_config *c = r->cfg;
    if (c->db) {
        tui_db_follow(c->db, r->model, r->utf8, &r->quit);
        return NULL;
    }
    struct pipeline_handlers h = {.sip = on_sip,
                                  .call = on_call,
                                  .reg = on_reg,
                                  .stream = on_stream,
                                  .settle = on_settle,
                                  .media = on_media,
                                  .tick = on_tick,
                                  .progress = on_progress,
                                  .call_progress = c->live ? on_call_progress : NULL,
                                  .opened = on_opened,
                                  .stream_idle = c->stream_idle,
                                  .keep_duplicates = c->keep_duplicates,
                                  .budget = c->budget,
                                  .stop = &r->quit,
                                  .user = r};
    char err[512] = "";
    int rc = c->live
                 ? pipeline_run_live(c->ifaces, c->nifaces, c->lcfg, c->kcfg, &h, &r->res, err,
                                     sizeof err)
                 : pipeline_run(c->files, c->nfiles, c->kcfg, &h, false, &r->res, err, sizeof err);
    if (!rc) {
        issues_finish(r->eng, r->res.cs.last_ts); /* calls waiting for their media */
        tui_model_capture(r->model, &r->res.cs, c->live);
    }
    tui_model_done(r->model, rc ? err : NULL);
    return NULL;
}

static void log_to_model(enum log_level lvl, const char *msg, void *user)
{
    if (lvl <= LOG_WARN) tui_model_warn(user, msg);
}

/* --- drawing helpers --- */

int tui_putn(const struct tui_ui *u, int y, int x, const char *text, size_t n, int cols)
{
    if (y < 0 || y >= LINES || x >= COLS || cols <= 0) return 0;
    if (cols > COLS - x) cols = COLS - x;
    char buf[4096];
    tui_safe(text, n, buf, sizeof buf, u->utf8);
    /* cut at cols characters (one column each: the text is made safe, wide characters
     * aside) */
    size_t o = 0;
    int c = 0;
    while (buf[o] && c < cols) {
        o++;
        while (((unsigned char)buf[o] & 0xC0) == 0x80)
            o++;
        c++;
    }
    mvaddnstr(y, x, buf, (int)o);
    return c;
}

int tui_put(const struct tui_ui *u, int y, int x, const char *text, int cols)
{
    return tui_putn(u, y, x, text, strlen(text), cols);
}

void tui_hline(const struct tui_ui *u, int y)
{
    for (int x = 0; x < COLS; x++)
        mvaddstr(y, x, u->utf8 ? "\xe2\x94\x80" : "-"); /* U+2500 */
}

void tui_status(struct tui_ui *u, const char *keys)
{
    const struct tui_stats *s = &u->st;
    char l[768], asr[16] = "-", where[64];
    if (s->settled)
        snprintf(asr, sizeof asr, "%.0f%%", 100.0 * (double)s->answered / (double)s->settled);
    if (s->error[0])
        snprintf(where, sizeof where, "stopped");
    else if (s->live && u->db)
        snprintf(where, sizeof where, "following the db");
    else if (s->live)
        snprintf(where, sizeof where, "live");
    else if (s->done)
        snprintf(where, sizeof where, "done");
    else if (u->live)
        snprintf(where, sizeof where, "opening");
    else if (s->bytes_total)
        snprintf(where, sizeof where, "reading %.0f%%",
                 100.0 * (double)s->bytes_read / (double)s->bytes_total);
    else
        snprintf(where, sizeof where, "reading");
    int n = snprintf(l, sizeof l, "calls %llu  active %llu  ASR %s  drops %llu",
                     (unsigned long long)s->calls, (unsigned long long)s->active, asr,
                     (unsigned long long)s->dropped);
    if (s->evicted && n > 0)
        n +=
            snprintf(l + n, sizeof l - (size_t)n, "  evicted %llu", (unsigned long long)s->evicted);
    snprintf(l + n, sizeof l - (size_t)n, "  %s  %s", where,
             u->message[0] ? u->message
             : s->error[0] ? s->error
                           : keys);
    attron(A_REVERSE);
    mvhline(LINES - 1, 0, ' ', COLS);
    tui_put(u, LINES - 1, 0, l, COLS);
    attroff(A_REVERSE);
}

/* --- prompts, help, saving --- */

/* Reads a line on the line above the status (Enter: true, Esc: false), starting from buf. */
static bool prompt(struct tui_ui *u, const char *label, char *buf, size_t cap)
{
    size_t n = strlen(buf);
    for (;;) {
        move(LINES - 2, 0);
        clrtoeol();
        int x = tui_put(u, LINES - 2, 0, label, COLS);
        x += tui_put(u, LINES - 2, x, buf, COLS - x);
        curs_set(1);
        move(LINES - 2, x);
        refresh();
        int k = getch();
        if (*stop_flag()) k = 27;
        if (k == ERR) continue;
        if (k == '\n' || k == '\r' || k == KEY_ENTER || k == 27) {
            curs_set(0);
            return k != 27;
        }
        if ((k == KEY_BACKSPACE || k == 127 || k == 8) && n)
            buf[--n] = '\0';
        else if (k >= 0x20 && k < 0x7f && n + 1 < cap)
            buf[n++] = (char)k, buf[n] = '\0';
    }
}

static void save(struct tui_ui *u, bool all)
{
    uint64_t *seqs = NULL;
    size_t n = u->screen == SCR_CALL ? 1 : tui_list_pick(u, all, &seqs);
    if (u->screen == SCR_CALL && (seqs = malloc(sizeof *seqs))) seqs[0] = u->view_seq;
    if (!n || !seqs) {
        snprintf(u->message, sizeof u->message, "no call to save");
        free(seqs);
        return;
    }
    char path[256];
    if (n == 1)
        snprintf(path, sizeof path, RENDER_CALL_FMT ".pcap", (unsigned long long)seqs[0]);
    else
        snprintf(path, sizeof path, "calls.pcap");
    char label[64];
    snprintf(label, sizeof label, "save %zu call%s to: ", n, n == 1 ? "" : "s");
    if (prompt(u, label, path, sizeof path) && path[0]) {
        struct tui_save_result r;
        char err[300];
        if (tui_save_pcap(u->model, seqs, n, path, &r, err, sizeof err))
            snprintf(u->message, sizeof u->message,
                     "saved %llu call(s), %llu SIP and %llu media frames to %s",
                     (unsigned long long)r.calls, (unsigned long long)r.sip,
                     (unsigned long long)r.media, path);
        else
            snprintf(u->message, sizeof u->message, "not saved: %s", err);
    }
    free(seqs);
}

static const char *const help_lines[] = {
    "sipscope tui: keys",
    "",
    "Call list",
    "  Up/Down PgUp/PgDn Home/End   move",
    "  Enter                        open the call (ladder, streams, issues)",
    "  1..9                         sort by Time From To State Fin PDD Dur MOS Issues",
    "                               (the same key again: the other way)",
    "  /                            filter: words, all must hold: free text, state:S,",
    "                               issue:K, mos<N, user:U, ip:A (Esc: keep the old)",
    "  c                            clear the filter",
    "  d                            dialogs: calls only, or calls and REGISTERs",
    "  Space                        mark a call (s saves the marked ones)",
    "  s                            save the marked calls, else the selected, to pcap",
    "  S                            save every call the filter shows to pcap",
    "  q                            quit",
    "Call view",
    "  Tab / Shift-Tab              next / previous tab: Ladder, Streams, Issues",
    "  Up/Down PgUp/PgDn Home/End   the message selected in the ladder",
    "  Enter                        the message's text, full screen (Issues: go to frame)",
    "  s                            save this call to pcap",
    "  q, Esc, Left                 back to the list",
    "Anywhere",
    "  ?, F1                        this help (any key: back)",
    "  Ctrl-C                       quit",
};

static void draw_help(struct tui_ui *u)
{
    int n = (int)(sizeof help_lines / sizeof help_lines[0]);
    for (int i = 0; i < n && i < LINES - 1; i++)
        tui_put(u, i, 1, help_lines[i], COLS - 1);
    tui_status(u, "any key: back");
}

/* --- the loop --- */

static void draw(struct tui_ui *u)
{
    erase();
    switch (u->screen) {
    case SCR_LIST:
        tui_list_draw(u);
        break;
    case SCR_CALL:
        tui_call_draw(u);
        break;
    case SCR_RAW:
        tui_raw_draw(u);
        break;
    case SCR_HELP:
        draw_help(u);
        break;
    }
    refresh();
}

static void filter_key(struct tui_ui *u)
{
    char text[128];
    snprintf(text, sizeof text, "%s", u->filter_text);
    if (prompt(u, "filter: ", text, sizeof text)) tui_list_apply_filter(u, text);
}

/* A key; false: quit. */
static bool key(struct tui_ui *u, int k)
{
    if (u->screen == SCR_HELP) {
        u->screen = u->back;
        return true;
    }
    if (k == '?' || k == KEY_F(1)) {
        u->back = u->screen, u->screen = SCR_HELP;
        return true;
    }
    u->message[0] = '\0';
    if (u->screen == SCR_RAW) return tui_raw_key(u, k), true;
    if (u->screen == SCR_CALL) {
        if (k == 's')
            save(u, false);
        else
            tui_call_key(u, k);
        return true;
    }
    if (tui_list_key(u, k)) return true;
    switch (k) {
    case 'q':
        return false;
    case '/':
        filter_key(u);
        break;
    case 'c':
        tui_list_apply_filter(u, "");
        break;
    case 'd':
        tui_list_dialogs(u);
        break;
    case 's':
        save(u, false);
        break;
    case 'S':
        save(u, true);
        break;
    default:
        break;
    }
    return true;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void loop(struct tui_ui *u)
{
    double last = 0;
    bool dirty = true;
    for (;;) {
        if (*stop_flag()) return;
        double t = now_s();
        if (t - last >= 0.1) { /* the model's news, at most ten times a second */
            uint64_t gen = u->gen;
            tui_list_refresh(u);
            if (gen != u->gen && u->screen != SCR_LIST) tui_call_open(u, u->view_seq);
            if (gen != u->gen) dirty = true;
            last = t;
            dirty = true; /* the status line's counts */
        }
        if (dirty) draw(u);
        dirty = false;
        int k = getch(); /* waits up to 100 ms */
        if (k == ERR) continue;
        dirty = true;
        if (k == KEY_RESIZE) {
            if (u->screen != SCR_LIST) tui_call_open(u, u->view_seq); /* the ladder's width */
            continue;
        }
        if (!key(u, k)) return;
    }
}

/* NULL: no terminal to draw on (newterm says so where initscr would exit). */
static SCREEN *start_screen(struct tui_ui *u)
{
    SCREEN *scr =
        isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) ? newterm(NULL, stdout, stdin) : NULL;
    if (!scr) return NULL;
    set_term(scr);
    cbreak(); /* Ctrl-C stays a signal */
    noecho();
    keypad(stdscr, TRUE);
    curs_set(0);
    timeout(100);
    set_escdelay(25);
    u->colour = has_colors() && !getenv("NO_COLOR");
    if (u->colour) {
        start_color();
        use_default_colors();
        init_pair(PAIR_GOOD, COLOR_GREEN, -1);
        init_pair(PAIR_WARN, COLOR_YELLOW, -1);
        init_pair(PAIR_BAD, COLOR_RED, -1);
        init_pair(PAIR_INFO, COLOR_CYAN, -1);
        init_pair(PAIR_BAR, COLOR_BLACK, COLOR_WHITE);
    }
    return scr;
}

static void restore_stderr(int saved)
{
    if (saved < 0) return;
    dup2(saved, STDERR_FILENO);
    close(saved);
}

int tui_run(const struct tui_config *cfg)
{
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        fputs("sipscope tui: needs a terminal (stdin and stdout)\n", stderr);
        return 1;
    }
    setlocale(LC_ALL, "");
    bool utf8 = !cfg->ascii && !strcmp(nl_langinfo(CODESET), "UTF-8");
    size_t max_calls = mem_budget_entries(cfg->budget, MEM_REPORT, TUI_CALL_BYTES, 100);
    /* RTP kept for saving: a sixteenth of the budget (32 MiB of 512). Every byte kept is
     * memory touched for the first time, which costs more than the analysis of the packet
     * (page faults: 138 MB of a 600 k packet file took 3 s more than 'analyze' here); a
     * sixteenth bounds that to a fixed cost, whatever the file's length. */
    size_t media = (size_t)cfg->max_memory_mb << 16;
    struct run r = {.cfg = cfg, .utf8 = utf8, .model = tui_model_new(max_calls, media, utf8)};
    if (!r.model || !(r.eng = issues_new(cfg->icfg, tui_model_issue, r.model))) {
        fputs("sipscope tui: out of memory\n", stderr);
        tui_model_free(r.model);
        return 1;
    }
    struct tui_ui u = {.model = r.model, .utf8 = utf8, .sort = COL_TIME};
    u.live = cfg->live || cfg->db;
    u.db = cfg->db != NULL;
    stop_catch();
    log_set_sink(log_to_model, r.model);
    /* Whatever a library would write to stderr while the screen is up would tear it (the
     * engine says when it starts capturing): it goes nowhere until the screen is closed;
     * the log's warnings reach the status line, and an error is said after. */
    int saved = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY);
    if (saved >= 0 && null >= 0) dup2(null, STDERR_FILENO);
    if (null >= 0) close(null);
    pthread_t th;
    if (pthread_create(&th, NULL, analysis, &r)) {
        restore_stderr(saved);
        fputs("sipscope tui: cannot start the analysis\n", stderr);
        issues_free(r.eng);
        tui_model_free(r.model);
        return 1;
    }
    SCREEN *scr = start_screen(&u);
    if (scr) {
        loop(&u);
        endwin();
        delscreen(scr);
    }
    restore_stderr(saved);
    r.quit = 1;
    pthread_join(th, NULL);
    log_set_sink(NULL, NULL);
    int rc = 0;
    if (!scr) {
        fputs("sipscope tui: needs a terminal (stdin and stdout)\n", stderr);
        rc = 1;
    } else if (u.st.error[0] ||
               (tui_model_rows(r.model, &u.all, &u.capall, &u.gen, &u.st), u.st.error[0])) {
        fprintf(stderr, "sipscope tui: %s\n", u.st.error);
        rc = 1;
    }
    tui_call_close(&u);
    free(u.all);
    free(u.rows);
    free(u.marked);
    issues_free(r.eng);
    tui_model_free(r.model);
    return rc;
}
