/* See filter.h. */
#include "filter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const column_names[] = {
#define TUI_COL_NAME(id, name) name,
    TUI_COLUMNS(TUI_COL_NAME)
#undef TUI_COL_NAME
};

const char *tui_row_state(const struct tui_row *r)
{
    return r->reg ? reg_state_name((enum reg_state)r->state) : call_state_name(r->state);
}

const char *tui_column_name(enum tui_column c)
{
    return c < COL__COUNT ? column_names[c] : "?";
}

static const struct {
    const char *prefix;
    enum tui_term_kind kind;
} prefixes[] = {{"state:", TERM_STATE},
                {"issue:", TERM_ISSUE},
                {"mos<", TERM_MOS},
                {"user:", TERM_USER},
                {"ip:", TERM_IP}};

bool tui_filter_parse(struct tui_filter *f, const char *text, char *err, size_t errlen)
{
    memset(f, 0, sizeof *f);
    const char *p = text;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if (!n) break;
        if (f->n == TUI_FILTER_MAX_TERMS) {
            snprintf(err, errlen, "at most %d words", TUI_FILTER_MAX_TERMS);
            f->n = 0;
            return false;
        }
        enum tui_term_kind kind = TERM_TEXT;
        size_t skip = 0;
        for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
            size_t k = strlen(prefixes[i].prefix);
            if (n > k && !strncasecmp(p, prefixes[i].prefix, k)) kind = prefixes[i].kind, skip = k;
        }
        size_t len = n - skip < sizeof f->t[0].text ? n - skip : sizeof f->t[0].text - 1;
        memcpy(f->t[f->n].text, p + skip, len);
        f->t[f->n].text[len] = '\0';
        f->t[f->n].kind = kind;
        if (kind == TERM_MOS) {
            char *end;
            f->t[f->n].num = strtod(f->t[f->n].text, &end);
            if (*end || end == f->t[f->n].text) {
                snprintf(err, errlen, "mos< wants a number");
                f->n = 0;
                return false;
            }
        }
        f->n++;
        p += n;
    }
    return true;
}

static bool has(const char *hay, const char *needle)
{
    return strcasestr(hay, needle) != NULL;
}

static bool term_match(enum tui_term_kind kind, const char *t, double num, const struct tui_row *r)
{
    const char *state = tui_row_state(r);
    char kinds[512];
    switch (kind) {
    case TERM_STATE:
        return !strncasecmp(state, t, strlen(t));
    case TERM_ISSUE:
        tui_issue_kinds(r, kinds, sizeof kinds);
        return has(kinds, t);
    case TERM_MOS:
        return r->mos >= 0 && r->mos < num;
    case TERM_USER:
        return has(r->from, t) || has(r->to, t);
    case TERM_IP:
        return has(r->caller, t) || has(r->callee, t);
    case TERM_TEXT:
        break;
    }
    return has(r->from, t) || has(r->to, t) || has(r->from_name, t) || has(r->to_name, t) ||
           has(r->call_id, t) || has(r->caller, t) || has(r->callee, t) || has(state, t);
}

bool tui_filter_match(const struct tui_filter *f, const struct tui_row *r)
{
    for (size_t i = 0; i < f->n; i++)
        if (!term_match(f->t[i].kind, f->t[i].text, f->t[i].num, r)) return false;
    return true;
}

void tui_issue_kinds(const struct tui_row *r, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (int k = 0; k < ISSUE__COUNT && k < 64; k++) {
        if (!(r->issue_kinds & (1ull << k))) continue;
        int w =
            snprintf(out + n, cap - n, "%s%s", n ? "," : "", issue_kind_name((enum issue_kind)k));
        if (w < 0 || (size_t)w >= cap - n) break;
        n += (size_t)w;
    }
}

/* qsort has no context: the column and order live here for the one sort running (the
 * screen's thread is the only one sorting). */
static _Thread_local enum tui_column sort_col;
static _Thread_local bool sort_desc;

static int num_cmp(double a, double b)
{
    return (a > b) - (a < b);
}

/* A value's rank: rows without one (< 0) after every row with one, whatever the order. */
static int opt_cmp(double a, double b, bool desc)
{
    if ((a < 0) != (b < 0)) return a < 0 ? 1 : -1;
    return desc ? -num_cmp(a, b) : num_cmp(a, b);
}

static int column_cmp(const struct tui_row *x, const struct tui_row *y)
{
    char a[512], b[512];
    switch (sort_col) {
    case COL_TIME:
        return num_cmp(x->time, y->time);
    case COL_FROM:
        return strcasecmp(x->from, y->from);
    case COL_TO:
        return strcasecmp(x->to, y->to);
    case COL_STATE:
        return strcmp(tui_row_state(x), tui_row_state(y));
    case COL_FINAL:
        return x->final_status - y->final_status;
    case COL_ISSUES:
        tui_issue_kinds(x, a, sizeof a);
        tui_issue_kinds(y, b, sizeof b);
        return strcmp(a, b);
    default:
        return 0;
    }
}

static int row_cmp(const void *pa, const void *pb)
{
    const struct tui_row *x = pa, *y = pb;
    int c;
    if (sort_col == COL_PDD)
        c = opt_cmp(x->pdd_ms, y->pdd_ms, sort_desc);
    else if (sort_col == COL_DURATION)
        c = opt_cmp(x->dur_s, y->dur_s, sort_desc);
    else if (sort_col == COL_MOS)
        c = opt_cmp(x->mos, y->mos, sort_desc);
    else
        c = sort_desc ? -column_cmp(x, y) : column_cmp(x, y);
    if (c) return c;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

void tui_sort(struct tui_row *rows, size_t n, enum tui_column c, bool desc)
{
    sort_col = c;
    sort_desc = desc;
    if (n > 1) qsort(rows, n, sizeof *rows, row_cmp);
}
