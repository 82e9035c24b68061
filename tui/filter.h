/* The call list's filter and sort. A filter is words that must all hold: `state:S` (the
 * state's name starts with S), `issue:K` (an issue whose kind contains K), `mos<N` (worst
 * MOS below N), `user:U` (From or To user contains U), `ip:A` (caller or callee address
 * contains A), and any other word free text (found in From, To, their names, the Call-ID,
 * the addresses, the state). Case does not count. */
#ifndef SIPSCOPE_TUI_FILTER_H
#define SIPSCOPE_TUI_FILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "model.h"

#define TUI_FILTER_MAX_TERMS 8

enum tui_term_kind { TERM_TEXT, TERM_STATE, TERM_ISSUE, TERM_MOS, TERM_USER, TERM_IP };

struct tui_filter {
    struct {
        enum tui_term_kind kind;
        char text[64];
        double num;
    } t[TUI_FILTER_MAX_TERMS];
    size_t n;
};

/* false: err says what is wrong (f then matches everything). */
bool tui_filter_parse(struct tui_filter *f, const char *text, char *err, size_t errlen);
bool tui_filter_match(const struct tui_filter *f, const struct tui_row *r);

/* The columns, in the list's order; each one sorts. */
#define TUI_COLUMNS(X)                                                                             \
    X(TIME, "Time")                                                                                \
    X(FROM, "From")                                                                                \
    X(TO, "To")                                                                                    \
    X(STATE, "State")                                                                              \
    X(FINAL, "Fin")                                                                                \
    X(PDD, "PDD")                                                                                  \
    X(DURATION, "Dur")                                                                             \
    X(MOS, "MOS")                                                                                  \
    X(ISSUES, "Issues")

enum tui_column {
#define TUI_COL_ENUM(id, name) COL_##id,
    TUI_COLUMNS(TUI_COL_ENUM)
#undef TUI_COL_ENUM
        COL__COUNT
};
const char *tui_column_name(enum tui_column c);

/* Sorts rows by column c (then by seq), descending when desc. Rows without a value (no
 * PDD, no MOS) go last either way. */
void tui_sort(struct tui_row *rows, size_t n, enum tui_column c, bool desc);

/* A row's state's name: a call's, or a registration's. */
const char *tui_row_state(const struct tui_row *r);

/* The issue kinds of a row as text ("low_mos,packet_loss"), "" none. */
void tui_issue_kinds(const struct tui_row *r, char *out, size_t cap);

#endif
