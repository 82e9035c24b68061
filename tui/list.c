/* The call list: one line per call, filtered and sorted, the selection kept on its call
 * while new ones arrive. */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/vec.h"
#include "tui_int.h"

bool tui_marked(const struct tui_ui *u, uint64_t seq)
{
    for (size_t i = 0; i < u->nmarked; i++)
        if (u->marked[i] == seq) return true;
    return false;
}

static void toggle_mark(struct tui_ui *u, uint64_t seq)
{
    for (size_t i = 0; i < u->nmarked; i++)
        if (u->marked[i] == seq) {
            u->marked[i] = u->marked[--u->nmarked];
            return;
        }
    if (vec_grow((void **)&u->marked, &u->capmarked, u->nmarked, sizeof *u->marked, 16))
        u->marked[u->nmarked++] = seq;
}

/* The filtered rows, sorted; the selection follows its call. */
static void rebuild(struct tui_ui *u)
{
    if (u->caprows < u->nall) {
        struct tui_row *r = realloc(u->rows, u->nall * sizeof *r);
        if (!r) return;
        u->rows = r, u->caprows = u->nall;
    }
    u->nrows = 0;
    for (size_t i = 0; i < u->nall; i++)
        if ((u->dialogs || !u->all[i].reg) && tui_filter_match(&u->filter, &u->all[i]))
            u->rows[u->nrows++] = u->all[i];
    tui_sort(u->rows, u->nrows, u->sort, u->desc);
    u->sel = u->nrows && u->sel >= u->nrows ? u->nrows - 1 : u->sel;
    for (size_t i = 0; i < u->nrows; i++)
        if (u->rows[i].seq == u->sel_seq) u->sel = i;
    u->sel_seq = u->nrows ? u->rows[u->sel].seq : 0;
}

void tui_list_refresh(struct tui_ui *u)
{
    size_t n = tui_model_rows(u->model, &u->all, &u->capall, &u->gen, &u->st);
    if (n == SIZE_MAX) return;
    u->nall = n;
    rebuild(u);
}

struct widths {
    int from, to, issues;
};

static struct widths widths(void)
{
    /* the selection's and mark's, time, state, final, PDD, duration and MOS take 48 columns
     * with their gaps */
    int rest = COLS - 48;
    int ft = rest / 3 < 10 ? 10 : rest / 3 > 28 ? 28 : rest / 3;
    struct widths w = {ft, ft, rest - 2 * ft - 2};
    if (w.issues < 0) w.issues = 0;
    return w;
}

static int state_pair(const struct tui_row *r)
{
    if (r->reg)
        return r->state == REG_REGISTERED ? PAIR_GOOD
               : r->state == REG_FAILED   ? PAIR_BAD
                                          : PAIR_WARN;
    switch (r->state) {
    case CALL_ANSWERED:
    case CALL_COMPLETED:
        return PAIR_GOOD;
    case CALL_BUSY:
    case CALL_REJECTED:
    case CALL_FAILED:
        return PAIR_BAD;
    case CALL_CANCELLED:
        return PAIR_INFO;
    default:
        return PAIR_WARN;
    }
}

static int mos_pair(double mos)
{
    return mos < 0 ? 0 : mos < 3.1 ? PAIR_BAD : mos < 3.6 ? PAIR_WARN : PAIR_GOOD;
}

static void put_col(const struct tui_ui *u, int y, int *x, const char *text, int w, int pair)
{
    if (pair && u->colour) attron(COLOR_PAIR(pair));
    tui_put(u, y, *x, text, w);
    if (pair && u->colour) attroff(COLOR_PAIR(pair));
    *x += w + 1;
}

static void draw_row(const struct tui_ui *u, int y, const struct tui_row *r, struct widths w,
                     bool sel)
{
    char t[16], fin[8] = "", pdd[16] = "", dur[16] = "", mos[8] = "", kinds[512];
    time_t secs = (time_t)r->time;
    struct tm tm;
    strftime(t, sizeof t, "%H:%M:%S", localtime_r(&secs, &tm));
    if (r->final_status) snprintf(fin, sizeof fin, "%d", r->final_status);
    if (r->pdd_ms >= 0) snprintf(pdd, sizeof pdd, "%.0f", r->pdd_ms);
    if (r->dur_s >= 0) snprintf(dur, sizeof dur, "%.1f", r->dur_s);
    if (r->mos >= 0) snprintf(mos, sizeof mos, "%.2f", r->mos);
    tui_issue_kinds(r, kinds, sizeof kinds);
    int x = 0;
    char mark[3] = {sel ? '>' : ' ', tui_marked(u, r->seq) ? '*' : ' ', '\0'};
    put_col(u, y, &x, mark, 2, 0);
    put_col(u, y, &x, t, 8, 0);
    put_col(u, y, &x, r->from, w.from, 0);
    put_col(u, y, &x, r->to, w.to, 0);
    put_col(u, y, &x, tui_row_state(r), 11, state_pair(r));
    put_col(u, y, &x, fin, 3, 0);
    put_col(u, y, &x, pdd, 6, 0);
    put_col(u, y, &x, dur, 7, 0);
    put_col(u, y, &x, mos, 4, mos_pair(r->mos));
    put_col(u, y, &x, kinds, w.issues, r->issue_kinds ? PAIR_BAD : 0);
}

static void draw_header(const struct tui_ui *u, struct widths w)
{
    const int cw[COL__COUNT] = {8, w.from, w.to, 11, 3, 6, 7, 4, w.issues};
    attron(A_REVERSE);
    mvhline(0, 0, ' ', COLS);
    int x = 3;
    for (int c = 0; c < COL__COUNT; c++) {
        char h[32];
        snprintf(h, sizeof h, "%s%s", tui_column_name((enum tui_column)c),
                 (int)u->sort != c ? ""
                 : u->desc         ? "v"
                                   : "^");
        tui_put(u, 0, x, h, cw[c]);
        x += cw[c] + 1;
    }
    attroff(A_REVERSE);
}

/* Rows shown: between the header and the filter and status lines. */
static size_t page(void)
{
    return LINES > 4 ? (size_t)(LINES - 3) : 1;
}

void tui_list_draw(struct tui_ui *u)
{
    struct widths w = widths();
    draw_header(u, w);
    size_t h = page();
    if (u->sel < u->top) u->top = u->sel;
    if (u->sel >= u->top + h) u->top = u->sel - h + 1;
    for (size_t i = 0; i < h && u->top + i < u->nrows; i++) {
        bool sel = u->top + i == u->sel;
        if (sel) attron(A_REVERSE);
        if (sel) mvhline((int)i + 1, 0, ' ', COLS);
        draw_row(u, (int)i + 1, &u->rows[u->top + i], w, sel);
        if (sel) attroff(A_REVERSE);
    }
    if (!u->nrows)
        tui_put(u, 2, 2,
                !u->nall     ? "no calls yet"
                : u->dialogs ? "no dialog matches the filter"
                             : "no call matches the filter (d: REGISTER dialogs too)",
                COLS - 2);
    if (u->filter.n || u->filter_text[0]) {
        char f[160];
        snprintf(f, sizeof f, "filter: %s  (%zu of %zu calls)", u->filter_text, u->nrows, u->nall);
        tui_put(u, LINES - 2, 0, f, COLS);
    }
    tui_status(u, "Enter:call  /:filter  1-9:sort  Space:mark  s/S:save  ?:help  q:quit");
}

static void move_sel(struct tui_ui *u, long by)
{
    if (!u->nrows) return;
    long s = (long)u->sel + by;
    u->sel = s < 0 ? 0 : s >= (long)u->nrows ? u->nrows - 1 : (size_t)s;
    u->sel_seq = u->rows[u->sel].seq;
}

bool tui_list_key(struct tui_ui *u, int key)
{
    long pg = (long)page();
    switch (key) {
    case KEY_UP:
        move_sel(u, -1);
        return true;
    case KEY_DOWN:
        move_sel(u, 1);
        return true;
    case KEY_PPAGE:
        move_sel(u, -pg);
        return true;
    case KEY_NPAGE:
        move_sel(u, pg);
        return true;
    case KEY_HOME:
        move_sel(u, -(long)u->nrows);
        return true;
    case KEY_END:
        move_sel(u, (long)u->nrows);
        return true;
    case ' ':
        if (u->nrows) toggle_mark(u, u->rows[u->sel].seq);
        move_sel(u, 1);
        return true;
    case '\n':
    case '\r':
    case KEY_ENTER:
        u->view_seq = 0; /* a call opened from the list starts on its ladder */
        if (u->nrows && tui_call_open(u, u->rows[u->sel].seq)) u->screen = SCR_CALL;
        return true;
    default:
        break;
    }
    if (key >= '1' && key < '1' + COL__COUNT) {
        enum tui_column c = (enum tui_column)(key - '1');
        u->desc = u->sort == c ? !u->desc : false;
        u->sort = c;
        rebuild(u);
        return true;
    }
    return false;
}

void tui_list_dialogs(struct tui_ui *u)
{
    u->dialogs = !u->dialogs;
    snprintf(u->message, sizeof u->message, "%s",
             u->dialogs ? "listing calls and REGISTER dialogs" : "listing calls only");
    rebuild(u);
}

void tui_list_apply_filter(struct tui_ui *u, const char *text)
{
    char err[128];
    struct tui_filter f;
    if (!tui_filter_parse(&f, text, err, sizeof err)) {
        snprintf(u->message, sizeof u->message, "filter: %s", err);
        return;
    }
    u->filter = f;
    snprintf(u->filter_text, sizeof u->filter_text, "%s", text);
    rebuild(u);
}

size_t tui_list_pick(struct tui_ui *u, bool all, uint64_t **seqs)
{
    size_t n = all ? u->nrows : u->nmarked ? u->nmarked : u->nrows ? 1 : 0;
    *seqs = n ? malloc(n * sizeof **seqs) : NULL;
    if (!*seqs) return 0;
    for (size_t i = 0; i < n; i++)
        (*seqs)[i] = all ? u->rows[i].seq : u->nmarked ? u->marked[i] : u->rows[u->sel].seq;
    return n;
}
