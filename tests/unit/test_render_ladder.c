/* render/ladder.h, the ladder `sipscope ladder` prints and the terminal UI draws, called
 * as a front-end calls it (messages in, text out to any FILE). The expected lines are
 * worked out by hand from the layout ladder.h describes: with 12 columns per host, host i's
 * lifeline is at column 12*i+6 of the drawing; an arrow runs between the two lifelines,
 * its head one column short of the target's, and its label is centred between them. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/sip.h"
#include "render/ladder.h"

static const char bye[] = "BYE sip:b@5.6.7.8 SIP/2.0\r\n"
                          "Via: SIP/2.0/UDP 1.2.3.4:5;branch=z9hG4bK1\r\n"
                          "From: <sip:a@1.2.3.4>;tag=1\r\n"
                          "To: <sip:b@5.6.7.8>;tag=2\r\n"
                          "Call-ID: c1\r\n"
                          "CSeq: 2 BYE\r\n"
                          "Content-Length: 0\r\n\r\n";
/* Attacker-written reason phrase: an escape sequence that would clear the terminal. */
static const char ok_esc[] = "SIP/2.0 200 OK\x1b[2J\r\n"
                             "Via: SIP/2.0/UDP 1.2.3.4:5;branch=z9hG4bK1\r\n"
                             "From: <sip:a@1.2.3.4>;tag=1\r\n"
                             "To: <sip:b@5.6.7.8>;tag=2\r\n"
                             "Call-ID: c1\r\n"
                             "CSeq: 2 BYE\r\n"
                             "Content-Length: 0\r\n\r\n";

static struct ip_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    struct ip_addr ip = {.family = 4, .b = {a, b, c, d}};
    return ip;
}

/* Feeds one message from src:sport to dst:dport at time ts (ns), frame f. */
static void feed(struct render_ladder *l, const char *text, struct ip_addr src, uint16_t sport,
                 struct ip_addr dst, uint16_t dport, ptime_t ts, uint64_t f, bool retrans)
{
    struct sip_msg m;
    cr_assert_eq(sip_parse(text, strlen(text), 0, &m), SIP_OK);
    struct packet pkt = {.frame = f, .ts = ts};
    struct l4_packet l4 = {
        .pkt = &pkt, .proto = 17, .src = src, .dst = dst, .sport = sport, .dport = dport};
    struct sip_event ev = {.msg = &m, .l4 = &l4, .raw = text, .raw_len = strlen(text)};
    render_ladder_msg(l, &ev, retrans);
}

/* The ladder printed with width w, as one string (malloc'd). */
static char *print(struct render_ladder *l, int w)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    cr_assert(out);
    cr_assert(render_ladder_print(l, w, out));
    fclose(out);
    return buf;
}

Test(render_ladder, arrows_in_time_order_both_ways_with_clean_labels)
{
    struct render_ladder *l = render_ladder_new();
    cr_assert(l);
    struct ip_addr a = v4(1, 2, 3, 4), b = v4(5, 6, 7, 8);
    /* Handed out of order: the 200 (frame 6, 0.25 s later) before the BYE (frame 5). */
    feed(l, ok_esc, b, 9, a, 5, 1700000000250000000LL, 6, true);
    feed(l, bye, a, 5, b, 9, 1700000000000000000LL, 5, false);
    cr_assert_eq(render_ladder_rungs(l), 2);
    char *text = print(l, 12);
    /* Columns in the order the hosts were handed (5.6.7.8:9 first), rows in time order.
     * Header: "%10s " then each host centred in 12 columns, (12-9)/2 = 1 space before it.
     * Rows: time since the first message, the drawing (24 columns), the frame. The BYE goes
     * from lifeline 18 to 6, its head '<' at 7 and a dash at 8: its label " BYE " (5) is
     * centred in the 8 columns from 9 to 16 (a dash at 17): it starts at 9+(8-5)/2 = 10.
     * The 200 goes from 6 to 18, a dash at 7, head '>' at 17 and a dash at 16; its text
     * "200 OK?[2J (retr)", the escape byte shown as '?', is wider than the 8 columns from 8
     * to 15: without spaces, cut to 5 and "..." (no UTF-8 asked). */
    const char *want = "   seconds  5.6.7.8:9   1.2.3.4:5  \n"
                       "     0.000       |<-- BYE ---|      #5\n"
                       "     0.250       |-200 O...->|      #6\n";
    cr_assert_str_eq(text, want);
    free(text);
    render_ladder_free(l);
}

Test(render_ladder, a_ninth_host_is_not_drawn_and_the_drawing_says_so)
{
    struct render_ladder *l = render_ladder_new();
    cr_assert(l);
    struct ip_addr a = v4(1, 2, 3, 4);
    for (int i = 0; i < RENDER_LADDER_MAX_HOSTS; i++) /* a and 8 others: 9 hosts */
        feed(l, bye, a, 5, v4(10, 0, 0, (uint8_t)(i + 1)), 9, 1700000000000000000LL + i,
             (uint64_t)i + 1, false);
    cr_assert_eq(render_ladder_rungs(l), RENDER_LADDER_MAX_HOSTS - 1);
    char *text = print(l, 12);
    cr_assert(strstr(text, "#7\n"), "%s", text);
    cr_assert_null(strstr(text, "#8\n"), "%s", text);
    cr_assert_null(strstr(text, "10.0.0.8"), "%s", text);
    const char *last = "(more than 8 hosts or 2000 messages: the rest is not drawn)\n";
    size_t n = strlen(text), k = strlen(last);
    cr_assert(n > k && !strcmp(text + n - k, last), "%s", text);
    free(text);
    render_ladder_free(l);
}

Test(render_ladder, the_first_call_given_is_the_summary)
{
    struct render_ladder *l = render_ladder_new();
    cr_assert(l);
    feed(l, bye, v4(1, 2, 3, 4), 5, v4(5, 6, 7, 8), 9, 1700000000000000000LL, 1, false);
    /* Ringing 1.25 s after the INVITE: a PDD of 1250 ms; answered 2 s, ended 5.5 s after
     * that: 3.5 s talking (RFC 6076 §4.1 counts PDD to the first 180/183). */
    struct call c = {.seq = 7,
                     .state = CALL_COMPLETED,
                     .final_status = 200,
                     .invite_time = 1000000000,
                     .ringing_time = 2250000000,
                     .answer_time = 3000000000,
                     .end_time = 6500000000};
    render_ladder_call(l, &c);
    struct call other = {.seq = 8, .state = CALL_BUSY, .final_status = 486};
    render_ladder_call(l, &other);
    char *text = print(l, 12);
    const char *want = "call-7  completed  final 200  PDD 1250 ms  duration 3.5 s\n";
    size_t n = strlen(text), k = strlen(want);
    cr_assert(n > k && !strcmp(text + n - k, want), "%s", text);
    free(text);
    render_ladder_free(l);
}

/* Kamailio's 100 is a reason phrase longer than any arrow of the default width: it is cut
 * with an ellipsis and the arrow keeps its head and a dash each side of the label. With 26
 * columns the lifelines are at 13 and 39; the 100 goes from 39 to 13: '<' at 14, dashes at
 * 15 and 38, and the 22 columns from 16 to 37 hold the label, too long for them: with no
 * space each side, 21 characters and U+2026 in UTF-8; in ASCII 19 and "...", less the space
 * the cut ends on, centred: from 16, with a dash after it at 37. */
Test(render_ladder, a_long_label_is_cut_with_an_ellipsis_and_keeps_the_head)
{
    static const char trying[] = "SIP/2.0 100 trying -- your call is important to us\r\n"
                                 "Via: SIP/2.0/UDP 1.2.3.4:5;branch=z9hG4bK1\r\n"
                                 "From: <sip:a@1.2.3.4>;tag=1\r\n"
                                 "To: <sip:b@5.6.7.8>\r\n"
                                 "Call-ID: c1\r\n"
                                 "CSeq: 1 INVITE\r\n"
                                 "Content-Length: 0\r\n\r\n";
    for (int utf8 = 0; utf8 < 2; utf8++) {
        struct render_ladder *l = render_ladder_new();
        cr_assert(l);
        render_ladder_set_utf8(l, utf8);
        struct ip_addr a = v4(1, 2, 3, 4), b = v4(5, 6, 7, 8);
        feed(l, bye, a, 5, b, 9, 1700000000000000000LL, 1, false);
        feed(l, trying, b, 9, a, 5, 1700000000002000000LL, 2, false);
        char *text = print(l, 26);
        const char *want =
            utf8 ? "|<-100 trying -- your ca\xe2\x80\xa6-|" : "|<-100 trying -- your...--|";
        cr_assert(strstr(text, want), "utf8 %d: %s", utf8, text);
        free(text);
        render_ladder_free(l);
    }
}

/* Attacker-written reason phrase beyond ASCII: a UTF-8 character, the C1 control CSI as
 * UTF-8 (C2 9B) and as a raw byte (9B), and a stray lead byte. Each becomes one '?', so
 * no C1 control reaches a terminal and the drawing keeps one column per character. */
Test(render_ladder, reason_bytes_beyond_ascii_are_one_question_mark_each)
{
    static const char busy[] = "SIP/2.0 486 Occup\xc3\xa9 \xc2\x9b"
                               "2J \x9b"
                               "2J \xe2!\r\n"
                               "Via: SIP/2.0/UDP 1.2.3.4:5;branch=z9hG4bK1\r\n"
                               "From: <sip:a@1.2.3.4>;tag=1\r\n"
                               "To: <sip:b@5.6.7.8>;tag=2\r\n"
                               "Call-ID: c1\r\n"
                               "CSeq: 1 INVITE\r\n"
                               "Content-Length: 0\r\n\r\n";
    struct render_ladder *l = render_ladder_new();
    cr_assert(l);
    feed(l, busy, v4(5, 6, 7, 8), 9, v4(1, 2, 3, 4), 5, 1700000000000000000LL, 1, false);
    char *text = print(l, 40);
    cr_assert(strstr(text, " 486 Occup? ?2J 2J ?! "), "%s", text);
    for (const char *p = text; *p; p++)
        cr_assert((unsigned char)*p < 0x80, "a byte beyond ASCII reached the output: %s", text);
    free(text);
    render_ladder_free(l);
}
