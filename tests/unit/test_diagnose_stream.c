/* The stream checks of the issue engine (diagnose/check_stream.c) on streams built by hand,
 * against the thresholds docs/output.md gives as defaults: packet_loss above 1 % (warning)
 * and 3 % (critical) of the packets RFC 3550 A.3 expected; high_jitter above a mean of
 * 20 ms (warning) and 50 ms (critical), or, under 20 ms, three seconds or more (and one in
 * twenty at least) past 50 ms. Each verdict's figures are in the evidence; its words name the
 * stream's two ends. */
#include <criterion/criterion.h>
#include <string.h>

#include "diagnose/issues.h"

#define SEC 1000000000LL
#define T0 (1700000000LL * SEC)

static struct issue got[8];
static int ngot;

static void on_issue(void *user, const struct issue *is)
{
    (void)user;
    if (ngot < 8)
        got[ngot] = *is;
    ngot++;
}

/* A PCMU stream of a call, 10.0.0.1:4000 -> 10.0.0.2:5000, of `expected` packets and
 * `lost` of them missing: no jitter, no MOS, no RTCP. */
static struct rtp_stream stream(int64_t expected, int64_t lost)
{
    struct rtp_stream s;
    memset(&s, 0, sizeof s);
    s.seq = 3;
    s.call_seq = 1;
    s.announced = true;
    s.src.family = s.dst.family = 4;
    s.src.b[0] = s.dst.b[0] = 10;
    s.src.b[3] = 1;
    s.dst.b[3] = 2;
    s.sport = 4000;
    s.dport = 5000;
    s.ssrc = 7;
    strcpy(s.codec, "PCMU");
    s.clock_rate = 8000;
    s.ptime_ts = 160;
    s.expected = expected;
    s.lost = lost;
    s.packets = (uint64_t)(expected - lost);
    s.first_time = T0;
    s.last_time = T0 + expected * SEC / 50;
    s.first_frame = 1;
    s.r_factor = s.mos = -1;
    return s;
}

/* The issues one stream raises, with the default thresholds. */
static int judge(const struct rtp_stream *s)
{
    ngot = 0;
    struct issue_engine *e = issues_new(NULL, on_issue, NULL);
    cr_assert(e);
    issues_stream(e, s);
    issues_free(e);
    return ngot;
}

static const struct issue_evidence *ev(const struct issue *is, const char *key)
{
    for (unsigned i = 0; i < is->nev; i++)
        if (strcmp(is->ev[i].key, key) == 0)
            return &is->ev[i];
    static const struct issue_evidence none = {.key = ""};
    cr_assert_fail("no evidence %s", key);
    return &none;
}

Test(diagnose_stream, loss_at_the_warning_threshold_is_not_raised)
{
    struct rtp_stream s = stream(1000, 10); /* 1.0 %: "above 1 %" it is not */
    cr_expect_eq(judge(&s), 0);
}

Test(diagnose_stream, loss_above_warning_is_a_warning_with_its_figures)
{
    struct rtp_stream s = stream(1000, 20); /* 2 % */
    cr_assert_eq(judge(&s), 1);
    cr_expect_eq(got[0].kind, ISSUE_PACKET_LOSS);
    cr_expect_eq(got[0].severity, SEV_WARNING);
    cr_expect_eq(got[0].stream_seq, 3);
    cr_expect_eq(got[0].call_seq, 1);
    cr_expect_float_eq(ev(&got[0], "lost_pct")->num, 2.0, 1e-9);
    cr_expect_float_eq(ev(&got[0], "lost")->num, 20, 1e-9);
    cr_expect_float_eq(ev(&got[0], "expected")->num, 1000, 1e-9);
    cr_expect_str_eq(ev(&got[0], "src")->str, "10.0.0.1:4000");
    cr_expect(strstr(got[0].summary, "2.00 %") && strstr(got[0].summary, "10.0.0.1:4000") &&
                  strstr(got[0].summary, "10.0.0.2:5000"),
              "%s", got[0].summary);
}

Test(diagnose_stream, loss_above_critical_is_critical)
{
    struct rtp_stream s = stream(1000, 31); /* 3.1 % */
    cr_assert_eq(judge(&s), 1);
    cr_expect_eq(got[0].kind, ISSUE_PACKET_LOSS);
    cr_expect_eq(got[0].severity, SEV_CRITICAL);
    cr_expect_float_eq(ev(&got[0], "lost_pct")->num, 3.1, 1e-9);
}

Test(diagnose_stream, bursts_are_told_apart_from_scattered_loss)
{
    struct rtp_stream s = stream(1000, 20);
    s.loss_bursts = 2;
    s.longest_burst = 10; /* 10 packets of 20 ms: 200 ms of audio at once */
    cr_assert_eq(judge(&s), 1);
    cr_expect(strstr(got[0].diagnosis, "bursts (longest 10 packets, 200 ms"), "%s",
              got[0].diagnosis);
    s.longest_burst = 1;
    cr_assert_eq(judge(&s), 1);
    cr_expect(strstr(got[0].diagnosis, "one or two at a time"), "%s", got[0].diagnosis);
}

Test(diagnose_stream, short_streams_are_not_judged)
{
    struct rtp_stream s = stream(40, 10); /* 25 % of fewer than 50 packets */
    cr_expect_eq(judge(&s), 0);
}

static struct stream_second secs[100];

/* The stream above with a mean jitter and `nsec` seconds of timeline, `bad` of them with
 * a jitter of 60 ms (past the 50 ms critical level). */
static struct rtp_stream jittery(double mean_ms, uint32_t nsec, uint32_t bad)
{
    struct rtp_stream s = stream(50 * (int64_t)nsec, 0);
    s.mean_jitter_ms = mean_ms;
    s.max_jitter_ms = bad ? 60 : mean_ms;
    memset(secs, 0, sizeof secs);
    for (uint32_t i = 0; i < nsec; i++)
        secs[i] = (struct stream_second){.packets = 50, .jitter_cms = i < bad ? 6000 : 100};
    s.timeline = secs;
    s.nsec = s.sec_cap = nsec;
    return s;
}

Test(diagnose_stream, jitter_bands)
{
    struct rtp_stream s = jittery(19.9, 20, 0);
    cr_expect_eq(judge(&s), 0);
    s = jittery(25, 20, 0);
    cr_assert_eq(judge(&s), 1);
    cr_expect_eq(got[0].kind, ISSUE_HIGH_JITTER);
    cr_expect_eq(got[0].severity, SEV_WARNING);
    cr_expect(strstr(got[0].summary, "jitter mean 25.0 ms"), "%s", got[0].summary);
    s = jittery(55, 20, 0);
    cr_assert_eq(judge(&s), 1);
    cr_expect_eq(got[0].severity, SEV_CRITICAL);
}

Test(diagnose_stream, jitter_peaks_under_a_low_mean)
{
    struct rtp_stream s = jittery(5, 20, 3); /* 3 of 20 seconds past 50 ms */
    cr_assert_eq(judge(&s), 1);
    cr_expect_eq(got[0].kind, ISSUE_HIGH_JITTER);
    cr_expect_eq(got[0].severity, SEV_WARNING);
    cr_expect_float_eq(ev(&got[0], "seconds_above_critical")->num, 3, 1e-9);
    cr_expect(strstr(got[0].summary, "peaked"), "%s", got[0].summary);
    s = jittery(5, 20, 2); /* two seconds: a spike, not a jitter problem */
    cr_expect_eq(judge(&s), 0);
    s = jittery(5, 100, 3); /* three of a hundred seconds: under one in twenty */
    cr_expect_eq(judge(&s), 0);
}
