/* tui/: the text made safe for the terminal (safe.h) and the call list's filter and sort
 * (filter.h), called as the screens call them. Expected values are worked out by hand from
 * what the headers promise: control bytes, C1 controls and broken UTF-8 as \xNN; each filter
 * word as filter.h defines it; rows without a value last whatever the order. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/filter.h"
#include "tui/model.h"
#include "tui/safe.h"

static const char *safe(const char *in, size_t n, bool utf8)
{
    static char out[256];
    tui_safe(in, n, out, sizeof out, utf8);
    return out;
}

Test(tui_safe, control_bytes_c1_and_broken_utf8_are_escaped)
{
    /* ESC [2J (clear), OSC 0 title ended by BEL: every control byte as text */
    cr_assert_str_eq(safe("a\x1b[2J\x1b]0;t\x07z", 12, true), "a\\x1b[2J\\x1b]0;t\\x07z");
    cr_assert_str_eq(safe("n\0l\x7f", 4, true), "n\\x00l\\x7f");
    /* U+00E9 passes in UTF-8; CSI as the C1 U+009B (c2 9b) and a lone 0x9b do not */
    cr_assert_str_eq(safe("\xc3\xa9", 2, true), "\xc3\xa9");
    cr_assert_str_eq(safe("\xc2\x9b" "1m", 4, true), "\\xc2\\x9b1m");
    cr_assert_str_eq(safe("\x9b" "1m", 3, true), "\\x9b1m");
    /* an overlong '/' (c0 af) and a surrogate (ed a0 80) are not UTF-8 (RFC 3629) */
    cr_assert_str_eq(safe("\xc0\xaf", 2, true), "\\xc0\\xaf");
    cr_assert_str_eq(safe("\xed\xa0\x80", 3, true), "\\xed\\xa0\\x80");
    /* no UTF-8 on the terminal: every byte above 0x7e escaped */
    cr_assert_str_eq(safe("\xc3\xa9", 2, false), "\\xc3\\xa9");
}

Test(tui_safe, a_short_buffer_cuts_at_a_whole_character)
{
    char out[6];
    tui_safe("ab\x1b" "cd", 5, out, sizeof out, true);
    cr_assert_str_eq(out, "ab"); /* "\x1b" needs 4 more bytes and the NUL: not there */
}

static struct tui_row row(uint64_t seq, const char *from, const char *to, enum call_state st,
                          double pdd, double mos, uint32_t kinds)
{
    struct tui_row r = {.seq = seq, .state = (uint8_t)st, .pdd_ms = pdd, .dur_s = -1, .mos = mos,
                        .issue_kinds = kinds};
    snprintf(r.from, sizeof r.from, "%s", from);
    snprintf(r.to, sizeof r.to, "%s", to);
    snprintf(r.call_id, sizeof r.call_id, "cid-%llu@example.org", (unsigned long long)seq);
    snprintf(r.caller, sizeof r.caller, "10.0.0.%llu:5060", (unsigned long long)seq);
    snprintf(r.callee, sizeof r.callee, "192.0.2.%llu:5060", (unsigned long long)seq);
    return r;
}

static bool matches(const char *filter, const struct tui_row *r)
{
    struct tui_filter f;
    char err[64];
    cr_assert(tui_filter_parse(&f, filter, err, sizeof err), "%s: %s", filter, err);
    return tui_filter_match(&f, r);
}

Test(tui_filter, each_word_as_filter_h_defines_it)
{
    struct tui_row busy = row(1, "alice", "bob", CALL_BUSY, 300, -1, 0);
    struct tui_row lossy = row(2, "carol", "dave", CALL_COMPLETED, 800, 3.05,
                               1u << ISSUE_PACKET_LOSS | 1u << ISSUE_LOW_MOS);
    cr_assert(matches("state:bu", &busy) && !matches("state:bu", &lossy));
    cr_assert(matches("STATE:Completed", &lossy));
    cr_assert(matches("issue:loss", &lossy) && !matches("issue:loss", &busy));
    cr_assert(matches("mos<3.1", &lossy) && !matches("mos<3", &lossy));
    cr_assert(!matches("mos<5", &busy)); /* no MOS is not a low one */
    cr_assert(matches("user:bo", &busy) && !matches("user:bo", &lossy));
    cr_assert(matches("ip:192.0.2.2", &lossy) && !matches("ip:192.0.2.2", &busy));
    cr_assert(matches("CID-1@", &busy) && !matches("cid-1@", &lossy)); /* free text, any case */
    cr_assert(matches("state:completed user:carol", &lossy));
    cr_assert(!matches("state:completed user:alice", &lossy)); /* every word must hold */
    cr_assert(matches("", &busy));
    struct tui_filter f;
    char err[64];
    cr_assert(!tui_filter_parse(&f, "mos<low", err, sizeof err));
    cr_assert_str_eq(err, "mos< wants a number");
}

Test(tui_filter, sorting_keeps_rows_without_a_value_last)
{
    struct tui_row r[4] = {row(1, "b", "x", CALL_BUSY, 500, -1, 0),
                           row(2, "a", "x", CALL_BUSY, -1, -1, 0),
                           row(3, "c", "x", CALL_BUSY, 100, -1, 0),
                           row(4, "D", "x", CALL_BUSY, 900, -1, 0)};
    tui_sort(r, 4, COL_PDD, false);
    uint64_t up[4] = {3, 1, 4, 2}, down[4] = {4, 1, 3, 2}, from[4] = {2, 1, 3, 4};
    for (int i = 0; i < 4; i++)
        cr_assert_eq(r[i].seq, up[i], "PDD up, row %d: call %llu", i, (unsigned long long)r[i].seq);
    tui_sort(r, 4, COL_PDD, true);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(r[i].seq, down[i], "PDD down, row %d", i);
    tui_sort(r, 4, COL_FROM, false); /* case does not count: a b c D */
    for (int i = 0; i < 4; i++)
        cr_assert_eq(r[i].seq, from[i], "From, row %d", i);
}

/* The model holds at most its maximum and makes room by when calls began, whatever their
 * numbers: registrations are numbered after every call (TUI_REG_SEQ), and an older ended
 * registration must go before a newer ended call, an ended row before one in progress. */
static void put(struct tui_model *m, uint64_t seq, double time, bool ended)
{
    struct tui_row r = {.seq = seq, .time = time, .ended = ended, .reg = (seq & TUI_REG_SEQ) != 0};
    struct tui_call_parts p = {.row = &r};
    tui_model_replace(m, &p);
}

static bool holds(struct tui_model *m, uint64_t seq)
{
    struct tui_row *rows = NULL;
    size_t cap = 0;
    uint64_t gen = 0;
    struct tui_stats st;
    size_t n = tui_model_rows(m, &rows, &cap, &gen, &st);
    bool found = false;
    for (size_t i = 0; i < n && n != SIZE_MAX; i++)
        found |= rows[i].seq == seq;
    free(rows);
    return found;
}

Test(tui_model, eviction_goes_by_time_not_by_number)
{
    struct tui_model *m = tui_model_new(2, 0, true);
    cr_assert(m);
    put(m, TUI_REG_SEQ | 1, 100, true); /* a registration, ended, the oldest */
    put(m, 1, 200, true);               /* a call, ended, newer */
    put(m, 2, 300, false);              /* room for it: the registration goes */
    cr_assert(!holds(m, TUI_REG_SEQ | 1), "the older registration went");
    cr_assert(holds(m, 1) && holds(m, 2), "both calls are held");
    put(m, TUI_REG_SEQ | 2, 400, true); /* an ended row goes before one in progress */
    cr_assert(!holds(m, 1) && holds(m, 2) && holds(m, TUI_REG_SEQ | 2));
    tui_model_free(m);
}
