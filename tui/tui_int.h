/* The terminal UI's screens (list.c, callview.c) and the loop that drives them (tui.c):
 * the state they share. Only the screen's thread touches it. */
#ifndef SIPSCOPE_TUI_INT_H
#define SIPSCOPE_TUI_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "filter.h"
#include "model.h"

enum tui_screen { SCR_LIST, SCR_CALL, SCR_RAW, SCR_HELP };
enum tui_tab { TAB_LADDER, TAB_STREAMS, TAB_ISSUES, TAB__COUNT };

/* Colour pairs (none when NO_COLOR is set or the terminal has none). */
enum { PAIR_GOOD = 1, PAIR_WARN, PAIR_BAD, PAIR_INFO, PAIR_BAR };

struct tui_ui {
    struct tui_model *model;
    bool utf8, colour;
    bool live; /* a live capture: "opening" until its interfaces are open */
    bool db;   /* following a database */
    enum tui_screen screen, back; /* back: where help and the raw view return */
    /* the list */
    struct tui_row *all; /* the model's rows, copied */
    size_t nall, capall;
    uint64_t gen;
    struct tui_row *rows; /* filtered and sorted */
    size_t nrows, caprows;
    size_t sel, top;
    uint64_t sel_seq; /* the selected call, kept across refreshes */
    uint64_t *marked; /* calls marked with Space */
    size_t nmarked, capmarked;
    enum tui_column sort;
    bool desc;
    bool dialogs; /* every dialog the list has (REGISTERs too), not the calls alone */
    struct tui_filter filter;
    char filter_text[128];
    struct tui_stats st;
    /* the call view */
    struct tui_view view;
    uint64_t view_seq;
    enum tui_tab tab;
    char **lines;         /* the ladder's lines (into view.ladder) */
    uint64_t *line_frame; /* each line's frame, 0 none */
    size_t nlines;
    size_t lsel, ltop; /* selected ladder line (a frame's) and the first shown */
    size_t isel, itop; /* the issues tab: line selected */
    size_t rtop;       /* the raw view's first line */
    char message[640]; /* said once in the status line */
};

/* list.c */
void tui_list_refresh(struct tui_ui *u);
void tui_list_draw(struct tui_ui *u);
/* A key on the list; false: not the list's. */
bool tui_list_key(struct tui_ui *u, int key);
/* The calls a save takes: the marked ones, else the selected one; all: every filtered. n. */
size_t tui_list_pick(struct tui_ui *u, bool all, uint64_t **seqs);
bool tui_marked(const struct tui_ui *u, uint64_t seq);
/* A filter typed on the filter line; a bad one is said in the status line and not taken. */
void tui_list_apply_filter(struct tui_ui *u, const char *text);
/* Toggles the REGISTER dialogs in the list (sngrep lists every dialog). */
void tui_list_dialogs(struct tui_ui *u);

/* callview.c */
bool tui_call_open(struct tui_ui *u, uint64_t seq);
void tui_call_close(struct tui_ui *u);
void tui_call_draw(struct tui_ui *u);
bool tui_call_key(struct tui_ui *u, int key);
void tui_raw_draw(struct tui_ui *u);
bool tui_raw_key(struct tui_ui *u, int key);

/* tui.c: drawing helpers */
/* Writes text (as sent: made safe here) at y, x, at most cols columns. Returns columns. */
int tui_put(const struct tui_ui *u, int y, int x, const char *text, int cols);
int tui_putn(const struct tui_ui *u, int y, int x, const char *text, size_t n, int cols);
void tui_hline(const struct tui_ui *u, int y);
void tui_status(struct tui_ui *u, const char *keys);

#endif
