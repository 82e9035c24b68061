/* The call view: the ladder as `sipscope ladder` draws it (render/ladder.h) with the
 * selected message's text below it, credentials masked (decode/sip.h's masking, as the web
 * UI does), a tab of the call's streams and one of its issues; and a message's text alone,
 * full screen. */
#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/sip.h"
#include "diagnose/issues.h"
#include "render/ids.h"
#include "tui_int.h"

/* A ladder line's frame: an arrow's line ends in " #N" after its time; 0 otherwise. */
static uint64_t line_frame(const char *line)
{
    const char *h = strrchr(line, '#');
    if (!h || h == line || h[-1] != ' ' || !h[1] || line[0] == 'c') return 0;
    char *end;
    unsigned long long f = strtoull(h + 1, &end, 10);
    return *end ? 0 : (uint64_t)f;
}

static bool split_ladder(struct tui_ui *u)
{
    size_t n = 1;
    for (const char *p = u->view.ladder; *p; p++)
        n += *p == '\n';
    u->lines = calloc(n, sizeof *u->lines);
    u->line_frame = calloc(n, sizeof *u->line_frame);
    if (!u->lines || !u->line_frame) return false;
    u->nlines = 0;
    for (char *p = u->view.ladder; *p;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = '\0';
        u->line_frame[u->nlines] = u->nlines ? line_frame(p) : 0; /* line 0: the hosts */
        u->lines[u->nlines++] = p;
        if (!nl) break;
        p = nl + 1;
    }
    return true;
}

static void select_frame(struct tui_ui *u, uint64_t frame)
{
    for (size_t i = 0; i < u->nlines; i++)
        if (u->line_frame[i] && (!frame || u->line_frame[i] == frame)) {
            u->lsel = i;
            return;
        }
}

/* A terminal this wide shows the message's text beside the ladder (a SIP line is often
 * 60 to 100 columns; beside a 3-host ladder's ~100 that takes 160), narrower ones below it. */
#define SIDE_COLS 160

static bool side_by_side(void)
{
    return COLS >= SIDE_COLS;
}

/* Columns the ladder may take. */
static int ladder_cols(void)
{
    return side_by_side() ? COLS * 3 / 5 : COLS;
}

void tui_call_close(struct tui_ui *u)
{
    tui_view_free(&u->view);
    free(u->lines);
    free(u->line_frame);
    u->lines = NULL, u->line_frame = NULL, u->nlines = 0;
}

bool tui_call_open(struct tui_ui *u, uint64_t seq)
{
    uint64_t keep = u->view_seq == seq && u->nlines ? u->line_frame[u->lsel] : 0;
    if (u->view_seq != seq) u->tab = TAB_LADDER, u->isel = u->itop = u->ltop = 0;
    tui_call_close(u);
    if (!tui_model_view(u->model, seq, ladder_cols(), false, &u->view) || !split_ladder(u)) {
        tui_call_close(u);
        snprintf(u->message, sizeof u->message, RENDER_CALL_FMT " is gone", (unsigned long long)seq);
        return false;
    }
    for (size_t i = 0; i < u->view.nmsgs; i++) /* shown masked, as the web UI does */
        sip_mask_credentials(u->view.msgs[i].raw, u->view.msgs[i].len);
    u->view_seq = seq;
    u->lsel = 0;
    select_frame(u, keep);
    return true;
}

static const struct tui_msg *selected_msg(const struct tui_ui *u)
{
    uint64_t f = u->nlines ? u->line_frame[u->lsel] : 0;
    for (size_t i = 0; f && i < u->view.nmsgs; i++)
        if (u->view.msgs[i].frame == f) return &u->view.msgs[i];
    return NULL;
}

/* Draws lines [top, top+h) of a message's text from row y; returns its line count. */
static size_t draw_text(const struct tui_ui *u, const struct tui_msg *m, int y, size_t top, int h,
                        int x)
{
    size_t line = 0;
    for (const char *p = m->raw, *end = m->raw + m->len; p < end; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        size_t shown = n && p[n - 1] == '\r' ? n - 1 : n; /* CRLF ends a line, not shown */
        if (line >= top && line < top + (size_t)h)        /* tui_putn makes it safe */
            tui_putn(u, y + (int)(line - top), x, p, shown, COLS - x);
        p += n + 1;
    }
    return line;
}

static void draw_title(const struct tui_ui *u)
{
    const struct tui_row *r = &u->view.row;
    char t[512], fin[16] = "";
    if (r->final_status) snprintf(fin, sizeof fin, " %d", r->final_status);
    snprintf(t, sizeof t, "%s-%llu  \"%s\" <%s> -> <%s>  %s%s  %s", r->reg ? "REGISTER" : "call",
             (unsigned long long)(r->seq & ~TUI_REG_SEQ), r->from_name, r->from, r->to,
             tui_row_state(r), fin, r->call_id);
    attron(A_REVERSE);
    mvhline(0, 0, ' ', COLS);
    tui_put(u, 0, 0, t, COLS);
    attroff(A_REVERSE);
    static const char *const tabs[TAB__COUNT] = {"Ladder", "Streams", "Issues"};
    int x = 0;
    for (int i = 0; i < TAB__COUNT; i++) {
        char l[32];
        snprintf(l, sizeof l, i == (int)u->tab ? "[%s]" : " %s ", tabs[i]);
        if (i == TAB_STREAMS)
            snprintf(l + strlen(l), sizeof l - strlen(l), "(%zu)", u->view.nstreams);
        if (i == TAB_ISSUES)
            snprintf(l + strlen(l), sizeof l - strlen(l), "(%zu)", u->view.nissues);
        x += tui_put(u, 1, x, l, COLS - x) + 2;
    }
}

/* Ladder rows: between the hosts' line and the separator (side by side: to the bottom). */
static int ladder_rows(void)
{
    int h = side_by_side() ? LINES - 4 : (LINES - 5) / 2;
    return h < 3 ? 3 : h;
}

static void draw_msg_header(const struct tui_ui *u, const struct tui_msg *m, int y, int x, int w)
{
    char hdr[160];
    snprintf(hdr, sizeof hdr, " frame #%llu  %s -> %s%s ", (unsigned long long)m->frame, m->src,
             m->dst, m->retrans ? "  (retransmission)" : "");
    tui_put(u, y, x, hdr, w);
}

static void draw_ladder(struct tui_ui *u)
{
    int h = ladder_rows(), lc = ladder_cols();
    if (u->nlines) tui_put(u, 2, 0, u->lines[0], lc);
    if (u->lsel < u->ltop + 1) u->ltop = u->lsel ? u->lsel - 1 : 0;
    if (u->lsel >= u->ltop + 1 + (size_t)h) u->ltop = u->lsel - (size_t)h;
    for (int i = 0; i < h && u->ltop + 1 + (size_t)i < u->nlines; i++) {
        size_t k = u->ltop + 1 + (size_t)i;
        if (k == u->lsel) attron(A_REVERSE);
        tui_put(u, 3 + i, 0, u->lines[k], lc);
        if (k == u->lsel) mvaddch(3 + i, 0, '>'); /* the time is right-aligned: a blank here */
        if (k == u->lsel) attroff(A_REVERSE);
    }
    const struct tui_msg *m = selected_msg(u);
    if (side_by_side()) {
        mvvline(2, lc, u->utf8 ? ACS_VLINE : '|', LINES - 3);
        if (!m) return;
        draw_msg_header(u, m, 2, lc + 1, COLS - lc - 1);
        draw_text(u, m, 3, 0, LINES - 4, lc + 2);
        return;
    }
    tui_hline(u, 3 + h);
    if (!m) return;
    draw_msg_header(u, m, 3 + h, 2, COLS - 4);
    draw_text(u, m, 4 + h, 0, LINES - 5 - h, 0);
}

/* A stream's audio line: what its payload carried, or why nothing was heard. */
static void audio_line(const struct tui_stream *s, char *l, size_t cap)
{
    if (!s->audio) {
        snprintf(l, cap, "           audio: none (%s)", s->audio_why[0] ? s->audio_why : "?");
        return;
    }
    char lvl[24] = "-", sp[24] = "-", act[24] = "-";
    if (!isnan(s->level_dbov)) snprintf(lvl, sizeof lvl, "%.1f dBov", s->level_dbov);
    if (!isnan(s->speech_dbov)) snprintf(sp, sizeof sp, "%.1f dBov", s->speech_dbov);
    if (!isnan(s->active_pct)) snprintf(act, sizeof act, "%.1f%%", s->active_pct);
    snprintf(l, cap, "           audio: level %s  speech %s  active %s  tones %s", lvl, sp, act,
             s->tones[0] ? s->tones : "none");
}

static void draw_streams(const struct tui_ui *u)
{
    char l[256];
    int pw = COLS - 57 < 20 ? 20 : COLS - 57 > 45 ? 45 : COLS - 57; /* the path's column */
    snprintf(l, sizeof l, "%-10s %-*s %-6s %7s %6s %6s %7s %7s %5s", "stream", pw, "from -> to",
             "codec", "packets", "lost", "loss%", "jit ms", "max ms", "MOS");
    attron(A_BOLD);
    tui_put(u, 3, 0, l, COLS);
    attroff(A_BOLD);
    /* two lines a stream: its RTP figures, then its audio's */
    for (size_t i = 0; i < u->view.nstreams && 2 * (int)i + 5 < LINES - 1; i++) {
        const struct tui_stream *s = &u->view.streams[i];
        char id[24], path[2 * IP_ADDR_PORT_STRLEN + 8], mos[16] = "-";
        snprintf(id, sizeof id, "stream-%llu", (unsigned long long)s->seq);
        snprintf(path, sizeof path, "%s -> %s", s->src, s->dst);
        if (s->mos >= 0) snprintf(mos, sizeof mos, "%.2f", s->mos);
        double pct = s->expected > 0 ? 100.0 * (double)s->lost / (double)s->expected : 0;
        snprintf(l, sizeof l, "%-10s %-*s %-6s %7llu %6lld %6.2f %7.2f %7.2f %5s", id, pw, path,
                 s->codec[0] ? s->codec : "?", (unsigned long long)s->packets, (long long)s->lost,
                 pct, s->mean_jitter_ms, s->max_jitter_ms, mos);
        tui_put(u, 4 + 2 * (int)i, 0, l, COLS);
        audio_line(s, l, sizeof l);
        tui_put(u, 5 + 2 * (int)i, 0, l, COLS);
    }
    if (!u->view.nstreams) tui_put(u, 4, 2, "no RTP stream tied to this call (yet)", COLS - 2);
}

/* The issues tab's lines: each issue, then one line per frame of it. Line k is issue
 * *issue, frame *frame (-1: the issue's own line). */
static bool issue_line(const struct tui_ui *u, size_t k, size_t *issue, int *frame)
{
    for (size_t i = 0; i < u->view.nissues; i++) {
        size_t n = 1 + u->view.issues[i].nframes;
        if (k < n) {
            *issue = i, *frame = (int)k - 1;
            return true;
        }
        k -= n;
    }
    return false;
}

static void draw_issues(struct tui_ui *u)
{
    size_t iss;
    int fr, h = LINES - 10;
    if (h < 3) h = 3;
    if (u->isel < u->itop) u->itop = u->isel;
    if (u->isel >= u->itop + (size_t)h) u->itop = u->isel - (size_t)h + 1;
    for (int y = 0; y < h && issue_line(u, u->itop + (size_t)y, &iss, &fr); y++) {
        const struct tui_issue *is = &u->view.issues[iss];
        char l[400];
        if (fr < 0)
            snprintf(l, sizeof l, "%s %-8s %s: %s", "  ",
                     issue_severity_name((enum issue_severity)is->severity),
                     issue_kind_name((enum issue_kind)is->kind), is->summary);
        else
            snprintf(l, sizeof l, "             frame #%llu", (unsigned long long)is->frames[fr]);
        bool sel = u->itop + (size_t)y == u->isel;
        if (sel) l[0] = '>';
        if (sel) attron(A_REVERSE);
        tui_put(u, 3 + y, 0, l, COLS);
        if (sel) attroff(A_REVERSE);
    }
    if (!u->view.nissues) {
        tui_put(u, 3, 2, "no issue found in this call", COLS - 2);
        return;
    }
    if (!issue_line(u, u->isel, &iss, &fr)) return;
    tui_hline(u, 3 + h);
    const char *d = u->view.issues[iss].diagnosis;
    for (int y = 4 + h; *d && y < LINES - 1; y++) { /* the diagnosis, wrapped at COLS */
        size_t n = strlen(d), w = (size_t)COLS;
        if (n > w) {
            n = w;
            while (n > w / 2 && d[n] != ' ')
                n--;
        }
        char l[1024];
        snprintf(l, sizeof l, "%.*s", (int)n, d);
        tui_put(u, y, 0, l, COLS);
        d += n;
        while (*d == ' ')
            d++;
    }
}

void tui_call_draw(struct tui_ui *u)
{
    draw_title(u);
    if (u->tab == TAB_LADDER)
        draw_ladder(u);
    else if (u->tab == TAB_STREAMS)
        draw_streams(u);
    else
        draw_issues(u);
    tui_status(u, u->tab == TAB_ISSUES
                      ? "Enter:frame in ladder  Tab:next tab  s:save  q:back  ?:help"
                      : "arrows:message  Enter:text  Tab:next tab  s:save  q:back  ?:help");
}

/* Moves the ladder's selection by `by` arrow lines (notes are skipped). */
static void move_ladder(struct tui_ui *u, long by)
{
    long step = by < 0 ? -1 : 1, n = by < 0 ? -by : by;
    size_t at = u->lsel;
    for (size_t k = u->lsel; n > 0;) {
        if ((step < 0 && k == 0) || (step > 0 && k + 1 >= u->nlines)) break;
        k = (size_t)((long)k + step);
        if (u->line_frame[k]) at = k, n--;
    }
    u->lsel = at;
}

static bool issues_key(struct tui_ui *u, int key)
{
    size_t iss, total = 0;
    int fr;
    for (size_t i = 0; i < u->view.nissues; i++)
        total += 1 + u->view.issues[i].nframes;
    switch (key) {
    case KEY_UP:
        u->isel -= u->isel > 0;
        return true;
    case KEY_DOWN:
        u->isel += u->isel + 1 < total;
        return true;
    case KEY_HOME:
        u->isel = 0;
        return true;
    case KEY_END:
        u->isel = total ? total - 1 : 0;
        return true;
    case '\n':
    case '\r':
    case KEY_ENTER:
        if (!issue_line(u, u->isel, &iss, &fr)) return true;
        if (fr < 0 && !u->view.issues[iss].nframes) return true;
        select_frame(u, u->view.issues[iss].frames[fr < 0 ? 0 : fr]);
        u->tab = TAB_LADDER;
        return true;
    default:
        return false;
    }
}

bool tui_call_key(struct tui_ui *u, int key)
{
    long pg = ladder_rows();
    if (key == '\t') {
        u->tab = (enum tui_tab)((u->tab + 1) % TAB__COUNT);
        return true;
    }
    if (key == KEY_BTAB) {
        u->tab = (enum tui_tab)((u->tab + TAB__COUNT - 1) % TAB__COUNT);
        return true;
    }
    if (key == 'q' || key == 27 || key == KEY_LEFT) {
        u->screen = SCR_LIST;
        return true;
    }
    if (u->tab == TAB_ISSUES) return issues_key(u, key);
    if (u->tab != TAB_LADDER) return false;
    switch (key) {
    case KEY_UP:
        move_ladder(u, -1);
        return true;
    case KEY_DOWN:
        move_ladder(u, 1);
        return true;
    case KEY_PPAGE:
        move_ladder(u, -pg);
        return true;
    case KEY_NPAGE:
        move_ladder(u, pg);
        return true;
    case KEY_HOME:
        move_ladder(u, -(long)u->nlines);
        return true;
    case KEY_END:
        move_ladder(u, (long)u->nlines);
        return true;
    case '\n':
    case '\r':
    case KEY_ENTER:
        if (selected_msg(u)) u->screen = SCR_RAW, u->rtop = 0;
        return true;
    default:
        return false;
    }
}

void tui_raw_draw(struct tui_ui *u)
{
    const struct tui_msg *m = selected_msg(u);
    if (!m) {
        u->screen = SCR_CALL;
        return;
    }
    char hdr[200];
    snprintf(hdr, sizeof hdr, "frame #%llu  %s -> %s  %zu bytes%s", (unsigned long long)m->frame,
             m->src, m->dst, m->len, m->retrans ? "  (retransmission)" : "");
    attron(A_REVERSE);
    mvhline(0, 0, ' ', COLS);
    tui_put(u, 0, 0, hdr, COLS);
    attroff(A_REVERSE);
    size_t n = draw_text(u, m, 1, 0, 0, 0); /* counts the lines */
    if (u->rtop && u->rtop >= n) u->rtop = n - 1;
    draw_text(u, m, 1, u->rtop, LINES - 2, 0);
    tui_status(u, "arrows/PgUp/PgDn:scroll  Home/End  q:back");
}

bool tui_raw_key(struct tui_ui *u, int key)
{
    size_t pg = LINES > 3 ? (size_t)LINES - 3 : 1;
    switch (key) {
    case KEY_UP:
        u->rtop -= u->rtop > 0;
        return true;
    case KEY_DOWN:
        u->rtop++;
        return true;
    case KEY_PPAGE:
        u->rtop = u->rtop > pg ? u->rtop - pg : 0;
        return true;
    case KEY_NPAGE:
        u->rtop += pg;
        return true;
    case KEY_HOME:
        u->rtop = 0;
        return true;
    case KEY_END:
        u->rtop = SIZE_MAX / 2;
        return true;
    case 'q':
    case 27:
    case KEY_LEFT:
    case '\n':
    case '\r':
    case KEY_ENTER:
        u->screen = SCR_CALL;
        return true;
    default:
        return false;
    }
}
