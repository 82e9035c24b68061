/* The security watch (diagnose/security.c) fed SIP messages one by one: its lists (the
 * shipped data files are the built-in defaults; mistakes are named with their line), the
 * thresholds at their edges, and memory under a scan from 100,000 networks staying within
 * the share it was given while the table evicts. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/sip.h"
#include "diagnose/issues.h"

#define SEC 1000000000LL
#define T0  (1700000000LL * SEC)

static struct issue_engine *eng;
static int seen[ISSUE__COUNT];
static struct issue last;
static uint64_t frame;

static void on_issue(void *user, const struct issue *is)
{
    (void)user;
    seen[is->kind]++;
    last = *is;
}

static void setup(void)
{
    memset(seen, 0, sizeof seen);
    frame = 0;
    eng = issues_new(NULL, on_issue, NULL);
    cr_assert(eng);
}

static void teardown(void)
{
    issues_free(eng);
}

/* One message from src to dst at t. */
static void feed(ptime_t t, uint32_t src, uint32_t dst, const char *text)
{
    struct sip_msg m;
    cr_assert_eq(sip_parse(text, strlen(text), 0, &m), SIP_OK, "%s", text);
    struct packet p = {.frame = ++frame, .ts = t};
    struct l4_packet l4 = {.pkt = &p, .proto = 17, .sport = 5060, .dport = 5060};
    l4.src.family = l4.dst.family = 4;
    uint32_t s = __builtin_bswap32(src), d = __builtin_bswap32(dst);
    memcpy(l4.src.b, &s, 4);
    memcpy(l4.dst.b, &d, 4);
    struct sip_event ev = {.msg = &m, .l4 = &l4, .raw = text, .raw_len = strlen(text)};
    struct msg_verdict v = {0};
    issues_sip(eng, &ev, &v);
}

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))
#define REGISTRAR      IP(198, 51, 100, 10)

static void request(ptime_t t, uint32_t src, const char *method, const char *user, int cseq,
                    const char *ua, bool creds)
{
    char buf[1024];
    snprintf(buf, sizeof buf,
             "%s sip:%s@example.net SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK%d\r\n"
             "From: <sip:%s@example.net>;tag=a\r\nTo: <sip:%s@example.net>\r\n"
             "Call-ID: c%d-%s\r\nCSeq: %d %s\r\n%s%s%s%sContent-Length: 0\r\n\r\n",
             method, user, cseq, user, user, cseq, user, cseq, method, ua ? "User-Agent: " : "",
             ua ? ua : "", ua ? "\r\n" : "",
             creds ? "Authorization: Digest username=\"x\", response=\"00\"\r\n" : "");
    feed(t, src, REGISTRAR, buf);
}

static void answer(ptime_t t, uint32_t to, const char *method, const char *user, int cseq,
                   int status)
{
    char buf[1024];
    snprintf(buf, sizeof buf,
             "SIP/2.0 %d X\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK%d\r\n"
             "From: <sip:%s@example.net>;tag=a\r\nTo: <sip:%s@example.net>;tag=b\r\n"
             "Call-ID: c%d-%s\r\nCSeq: %d %s\r\nContent-Length: 0\r\n\r\n",
             status, cseq, user, user, cseq, user, cseq, method);
    feed(t, REGISTRAR, to, buf);
}

static char *slurp(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", getenv("SIPSCOPE_DATA"), name);
    FILE *f = fopen(path, "r");
    cr_assert(f, "%s", path);
    static char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return buf;
}

TestSuite(security, .init = setup, .fini = teardown);

Test(security, shipped_lists_are_the_defaults)
{
    cr_assert_str_eq(slurp("scanner-agents.txt"), issue_scanner_agents_default);
    cr_assert_str_eq(slurp("toll-prefixes.txt"), issue_toll_prefixes_default);
}

Test(security, list_mistakes_name_their_line)
{
    char err[256];
    cr_assert_not(
        issues_security_lists(eng, NULL, "00 international\n# c\n0x9 premium\n", err, sizeof err));
    cr_assert(strstr(err, "line 3"), "%s", err);
    cr_assert_not(issues_security_lists(eng, NULL, "0900\n", err, sizeof err));
    cr_assert(strstr(err, "line 1"), "%s", err);
    cr_assert(issues_security_lists(eng, "evil-dialer\n", "+53 cuba\n", err, sizeof err));
}

/* A User-Agent named by the list is a scan at its first request, wherever in the header and
 * in any case; one that is not is judged by its figures. */
Test(security, scanner_agent_from_the_list)
{
    char err[64];
    cr_assert(issues_security_lists(eng, "evil-dialer\n", NULL, err, sizeof err));
    request(T0, IP(203, 0, 113, 9), "OPTIONS", "100", 1, "x EVIL-Dialer/2", false);
    request(T0, IP(203, 0, 114, 10), "OPTIONS", "100", 1, "friendly-scanner", false);
    issues_finish(eng, T0 + SEC);
    cr_assert_eq(seen[ISSUE_SIP_SCAN], 1, "only the listed agent: %d", seen[ISSUE_SIP_SCAN]);
    cr_assert_str_eq(last.ev[0].str, "203.0.113.9");
}

/* scan_targets distinct extensions, refused: a scan; fewer, or answered, is not. */
static int sweep(int targets, int status)
{
    memset(seen, 0, sizeof seen);
    issues_free(eng);
    eng = issues_new(NULL, on_issue, NULL);
    for (int i = 0; i < targets; i++) {
        char user[16];
        snprintf(user, sizeof user, "%d", 100 + i);
        request(T0 + i * SEC / 10, IP(198, 18, 0, 1), "INVITE", user, i + 1, NULL, false);
        answer(T0 + i * SEC / 10 + 1, IP(198, 18, 0, 1), "INVITE", user, i + 1, status);
    }
    issues_finish(eng, T0 + 100 * SEC);
    return seen[ISSUE_SIP_SCAN];
}

Test(security, scan_threshold_edges)
{
    /* the distinct count is an estimate (hash collisions in 512 bits): a margin each side */
    cr_assert_eq(sweep(24, 404), 1);
    cr_assert_eq(sweep(16, 404), 0);
    cr_assert_eq(sweep(40, 200), 0); /* answered: a busy phone line, not a scan */
    cr_assert_eq(sweep(40, 401), 1);
}

static int guesses(int n, int status)
{
    memset(seen, 0, sizeof seen);
    issues_free(eng);
    eng = issues_new(NULL, on_issue, NULL);
    for (int i = 0; i < n; i++) {
        request(T0 + i * SEC, IP(192, 0, 2, 7), "REGISTER", "2001", i + 1, NULL, true);
        answer(T0 + i * SEC + 1, IP(192, 0, 2, 7), "REGISTER", "2001", i + 1, status);
    }
    issues_finish(eng, T0 + 100 * SEC);
    return seen[ISSUE_AUTH_BRUTE_FORCE];
}

Test(security, guessing_threshold_edges)
{
    cr_assert_eq(guesses(10, 403), 1);
    cr_assert_eq(guesses(9, 403), 0);
    cr_assert_eq(guesses(10, 407), 1);
    cr_assert_eq(guesses(30, 200), 0); /* credentials accepted: a phone, not a guesser */
}

static double evidence(const char *key)
{
    for (unsigned i = 0; i < last.nev; i++)
        if (!strcmp(last.ev[i].key, key)) return last.ev[i].num;
    return -1;
}

/* A long run: every refused guess is counted, past the 256 a byte of the pending ring's
 * count holds, not only the first. */
Test(security, a_long_guessing_run_counts_every_failure)
{
    cr_assert_eq(guesses(600, 403), 1);
    cr_assert_eq(evidence("failed"), 600, "failed %g", evidence("failed"));
    cr_assert_eq(evidence("attempts"), 600);
}

/* Guesses slower than the window never gather in it: 10 refusals a window and a half apart
 * each are no attack by the window's rule. */
Test(security, window_slides)
{
    for (int i = 0; i < 12; i++) {
        request(T0 + i * 90 * SEC, IP(192, 0, 2, 7), "REGISTER", "2001", i + 1, NULL, true);
        answer(T0 + i * 90 * SEC + 1, IP(192, 0, 2, 7), "REGISTER", "2001", i + 1, 403);
    }
    issues_finish(eng, T0 + 2000 * SEC);
    cr_assert_eq(seen[ISSUE_AUTH_BRUTE_FORCE], 0);
}

/* 100,000 sources in as many networks, each one refused INVITE: the tables stay within the
 * share given, and the scanners whose entry was evicted are still reported when they had
 * been found (a listed User-Agent here). */
Test(security, memory_bounded_under_a_scan_from_100000_networks)
{
    const size_t share = 256 * 1024;
    issues_free(eng);
    eng = issues_new(NULL, on_issue, NULL);
    issues_security_memory(eng, share);
    for (uint32_t i = 0; i < 100000; i++) {
        uint32_t src = IP(100, 64, 0, 0) + (i << 8) + 1; /* a /24 each */
        request(T0 + i * (SEC / 1000), src, "INVITE", "100", 1, "sipvicious", false);
    }
    uint64_t now, peak;
    issues_security_usage(eng, &now, &peak);
    cr_assert_leq(peak, share, "peak %llu bytes over the share", (unsigned long long)peak);
    cr_assert_gt(peak, share / 4, "the share was used: %llu", (unsigned long long)peak);
    issues_finish(eng, T0 + 200 * SEC);
    cr_assert_eq(seen[ISSUE_SIP_SCAN], 100000, "every scanner reported: %d", seen[ISSUE_SIP_SCAN]);
}

/* Concurrency is judged on the calls an account holds at the moment, not on the most it
 * ever held: a busy first minute (12 calls at once, under the unlearnt limit), then ten
 * minutes of one call at a time teach the account a habit of one or two; holding two then
 * is no fraud, holding twelve again is. An episode is reported when it is over, so the one
 * issue must be the last burst's, dated at it, with its 12 calls. */
static void calls_at_once(ptime_t t, int first, int n)
{
    const uint32_t phone = IP(192, 0, 2, 41);
    for (int i = 0; i < n; i++) {
        request(t + i, phone, "INVITE", "4101", first + i, NULL, false);
        answer(t + i + 1, phone, "INVITE", "4101", first + i, 200);
    }
    for (int i = 0; i < n; i++) { /* in the dialog: its To tag */
        char buf[512];
        snprintf(buf, sizeof buf,
                 "BYE sip:4101@example.net SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKb%d\r\n"
                 "From: <sip:4101@example.net>;tag=a\r\nTo: <sip:4101@example.net>;tag=b\r\n"
                 "Call-ID: c%d-4101\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n",
                 first + i, first + i);
        feed(t + 30 * SEC + i, phone, REGISTRAR, buf);
    }
}

Test(security, concurrency_judged_now_not_at_the_peak)
{
    calls_at_once(T0, 1, 12);
    for (int k = 0; k < 20; k++)
        calls_at_once(T0 + (60 + 40 * k) * SEC, 100 + k, 1);
    calls_at_once(T0 + 900 * SEC, 200, 2);
    const ptime_t burst = T0 + 1000 * SEC;
    calls_at_once(burst, 300, 12);
    issues_finish(eng, burst + 3600 * SEC);
    cr_assert_eq(seen[ISSUE_TOLL_FRAUD_PATTERN], 1, "one episode, %d",
                 seen[ISSUE_TOLL_FRAUD_PATTERN]);
    cr_assert_geq(last.time, burst, "dated at the last burst, not %.0f s after T0",
                  (double)(last.time - T0) / SEC);
    cr_assert_eq(evidence("peak_concurrent"), 12);
}
