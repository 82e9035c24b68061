/* When the issue engine judges a call's media: as soon as no stream of the call (or at its
 * endpoints during the call) is still followed, not at the end of the input; never while
 * one still flows, so that nothing a later packet would show is missed (RTP after the
 * BYE); and in a capture with no RTP at all, after ISSUE_STREAM_KEEP, without the media
 * checks. The streams are real stream-table streams fed with RTP packets. */
#include <criterion/criterion.h>
#include <string.h>

#include "decode/sdp.h"
#include "diagnose/issues.h"
#include "tests/support/media_fixture.h"

#define MS 1000000LL
#define SEC 1000000000LL
#define T0 (1700000000LL * SEC)

static struct issue_engine *eng;
static struct stream_table *tab;
static int seen[ISSUE__COUNT];
static int nseen;
static uint64_t frame;

static void on_issue(void *user, const struct issue *is)
{
    (void)user;
    seen[is->kind]++;
    nseen++;
}

static void on_stream(void *user, const struct rtp_stream *s)
{
    (void)user;
    issues_stream(eng, s);
}

static const struct fixture_pt pts[] = {{0, 8000, "PCMU"}, {0, 0, NULL}};

static void setup(void)
{
    memset(seen, 0, sizeof seen);
    nseen = 0;
    frame = 0;
    eng = issues_new(NULL, on_issue, NULL);
    tab = stream_table_new(64, 42, on_stream, NULL, NULL);
    cr_assert(eng && tab);
}

static void teardown(void)
{
    stream_table_free(tab);
    issues_free(eng);
}

static void addr(struct ip_addr *a, uint8_t b0, uint8_t last)
{
    memset(a, 0, sizeof *a);
    a->family = 4;
    a->b[0] = b0;
    a->b[3] = last;
}

/* RTP from the caller 10.0.0.1:4000 to the callee 10.0.0.2:5000 every 20 ms over [from, to). */
static void caller_rtp(int64_t from, int64_t to)
{
    static uint16_t seq;
    uint8_t p[172] = {0x80, 0};
    for (int64_t t = from; t < to; t += 20 * MS) {
        seq++;
        uint32_t ts = (uint32_t)((t - T0) / MS * 8);
        p[2] = (uint8_t)(seq >> 8);
        p[3] = (uint8_t)seq;
        p[4] = (uint8_t)(ts >> 24);
        p[5] = (uint8_t)(ts >> 16);
        p[6] = (uint8_t)(ts >> 8);
        p[7] = (uint8_t)ts;
        p[11] = 7; /* SSRC 7 */
        struct packet pkt = {.frame = ++frame, .ts = t};
        struct l4_packet l4 = {.pkt = &pkt, .proto = 17, .payload = p, .len = sizeof p,
                               .sport = 4000, .dport = 5000};
        addr(&l4.src, 10, 1);
        addr(&l4.dst, 10, 2);
        struct rtp_hdr h;
        cr_assert(rtp_parse(p, sizeof p, &h));
        stream_rtp(tab, &l4, &h, fixture_announced, (void *)pts);
    }
}

/* Call 1 (the one fixture_announced binds media to): INVITE at T0, answered at +1 s, BYE
 * at +21 s; SDP 10.0.0.1:4000 and 10.0.0.2:5000, sendrecv. callee_private: the callee's
 * SDP names 192.168.0.10 while its signaling comes from 198.51.100.7 */
static struct call answered_call(bool callee_private)
{
    struct call c;
    memset(&c, 0, sizeof c);
    c.seq = 1;
    c.state = CALL_COMPLETED;
    c.invite_time = c.attempt_time = T0;
    c.answer_time = T0 + 1 * SEC;
    c.end_time = c.last_time = T0 + 21 * SEC;
    c.first_frame = 1;
    c.answer_frame = 2;
    c.end_frame = c.last_frame = 3;
    c.final_status = 200;
    addr(&c.caller_ip, 10, 1);
    addr(&c.callee_ip, 10, 2);
    c.caller_port = c.callee_port = 5060;
    /* the callee's side lives apart from the call (issue 21); the engine copies it */
    static struct call_side callee[2];
    static struct call_media_ep eps[2][2];
    c.callee_side = &callee[callee_private];
    memset(c.callee_side, 0, sizeof *c.callee_side);
    for (int s = 0; s < 2; s++) {
        struct call_side *cs = s ? c.callee_side : &c.caller_side;
        cs->eps = eps[s];
        cs->have_sdp = true;
        cs->dir = SDP_SENDRECV;
        cs->neps = 1;
        addr(&cs->eps[0].addr, 10, (uint8_t)(s + 1));
        cs->eps[0].port = s ? 5000 : 4000;
        addr(&cs->sig_addr, 10, (uint8_t)(s + 1));
    }
    if (callee_private) {
        addr(&c.callee_side->eps[0].addr, 192, 10);
        c.callee_side->eps[0].addr.b[1] = 168;
        addr(&c.callee_side->sig_addr, 198, 7); /* public */
        c.callee_side->sig_addr.b[1] = 51;
        c.callee_side->sig_addr.b[2] = 100;
    }
    return c;
}

TestSuite(issues_tick, .init = setup, .fini = teardown);

Test(issues_tick, judged_once_its_media_is_over)
{
    struct call c = answered_call(false);
    caller_rtp(T0 + 1 * SEC, T0 + 21 * SEC); /* nothing comes back: one-way audio */
    stream_tick(tab, T0 + 40 * SEC, 10 * SEC); /* the stream ends, handed to the engine */
    issues_call(eng, &c);
    cr_expect_eq(seen[ISSUE_ONE_WAY_AUDIO], 0, "judged before its time");
    issues_tick(eng, T0 + 40 * SEC, tab);
    cr_expect_eq(seen[ISSUE_ONE_WAY_AUDIO], 1, "not judged when its media was over");
    int before = nseen;
    issues_finish(eng, T0 + 60 * SEC);
    cr_expect_eq(nseen, before, "judged a second time at the end");
}

Test(issues_tick, waits_while_its_media_flows)
{
    struct call c = answered_call(false);
    caller_rtp(T0 + 1 * SEC, T0 + 40 * SEC); /* 19 s past the BYE, and still going */
    issues_call(eng, &c);
    issues_tick(eng, T0 + 40 * SEC, tab);
    cr_expect_eq(seen[ISSUE_ONE_WAY_AUDIO] + seen[ISSUE_RTP_AFTER_BYE], 0,
                 "judged while its stream still flowed");
    stream_finish(tab);
    issues_finish(eng, T0 + 40 * SEC);
    cr_expect_eq(seen[ISSUE_ONE_WAY_AUDIO], 1);
    cr_expect_eq(seen[ISSUE_RTP_AFTER_BYE], 1, "the media after the BYE was missed");
}

Test(issues_tick, a_capture_without_rtp_waits_then_skips_the_media_checks)
{
    struct call c = answered_call(true); /* judged for its SDP whatever the media */
    issues_call(eng, &c);
    issues_tick(eng, c.end_time + 10 * SEC, tab);
    cr_expect_eq(seen[ISSUE_SDP_PRIVATE_ADDRESS], 0, "RTP may still come: too early");
    issues_tick(eng, c.end_time + ISSUE_STREAM_KEEP + SEC, tab);
    cr_expect_eq(seen[ISSUE_SDP_PRIVATE_ADDRESS], 1, "held past ISSUE_STREAM_KEEP");
    cr_expect_eq(seen[ISSUE_NO_AUDIO], 0, "no RTP anywhere: silence cannot be told apart");
}

Test(issues_tick, streams_no_call_needs_are_dropped)
{
    /* a stream of call 1 that was handed on and judged: after ISSUE_STREAM_KEEP it no
     * longer counts for a call handed in later at its endpoints (here call 1 again) */
    struct call c = answered_call(false);
    caller_rtp(T0 + 1 * SEC, T0 + 21 * SEC);
    stream_tick(tab, T0 + 40 * SEC, 10 * SEC);
    issues_call(eng, &c);
    issues_tick(eng, T0 + 40 * SEC, tab);
    cr_assert_eq(seen[ISSUE_ONE_WAY_AUDIO], 1);
    issues_tick(eng, T0 + 21 * SEC + ISSUE_STREAM_KEEP + SEC, tab);
    issues_call(eng, &c); /* the same call again: its stream is gone, so no media at all */
    issues_finish(eng, T0 + 400 * SEC);
    cr_expect_eq(seen[ISSUE_NO_AUDIO], 1, "the judged call's stream was kept");
}

/* Issue 21: a stream keeps a few stretches with packets (HELD_RUNS) to tell where it paused;
 * with silence suppression it has many more, and the ones closest together are merged, so
 * a pause as long as a hold survives. The caller holds (inactive) from +8 s to +16 s. */
static void talk_spurts(bool through_hold)
{
    struct call c = answered_call(false);
    c.end_time = c.last_time = T0 + 40 * SEC;
    struct call_hold hold[1];
    c.holds = hold; /* the call's list is allocated with its first hold */
    c.nholds = 1;
    c.holds[0] = (struct call_hold){.start = T0 + 8 * SEC, .end = T0 + 16 * SEC,
                                    .by = PARTY_CALLER, .dir = {SDP_INACTIVE, SDP_INACTIVE},
                                    .answered = T0 + 8 * SEC + 50 * MS, .frame = 4,
                                    .answer_frame = 5};
    for (int64_t s = 1; s < 40; s += 3) /* half-second spurts every 3 s: 13 of them */
        if (!(s > 8 && s < 16))
            caller_rtp(T0 + s * SEC, T0 + s * SEC + 500 * MS);
        else if (through_hold && s == 10)
            caller_rtp(T0 + 9 * SEC, T0 + 15 * SEC); /* the holder talks on */
    stream_finish(tab);
    issues_call(eng, &c);
    issues_finish(eng, T0 + 60 * SEC);
}

Test(issues_tick, a_hold_survives_many_talk_spurts)
{
    talk_spurts(false);
    cr_expect_eq(seen[ISSUE_MEDIA_DURING_HOLD], 0, "a pause for the hold merged away");
}

Test(issues_tick, media_through_a_hold_among_talk_spurts)
{
    talk_spurts(true);
    cr_expect_eq(seen[ISSUE_MEDIA_DURING_HOLD], 1, "6 s of RTP during an inactive hold missed");
}
