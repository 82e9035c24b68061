/* store/query: the API's queries on a database of 300 made-up calls whose every field is
 * known. Each filter's answer is checked against a plain C filter over the same table
 * (the reference), page by page through the cursor, newest first with ties by id; bad
 * filters are refused; a call's messages, streams and the other lists come back whole. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/query.h"

enum { N = 300 };

struct ref {
    int seq;
    double t;
    char call_id[32], leg2[32], from[8], to[8], caller[48], callee[48];
    const char *state;
    int status;
    double mos; /* < 0: none */
    bool issue;
};

static struct ref calls[N + 1];
static char dir[64], path[96];
static struct store *s;

static void fill(void)
{
    static const char *const states[] = {"completed", "busy", "cancelled", "failed"};
    static const int status[] = {200, 486, 487, 503};
    for (int i = 1; i <= N; i++) {
        struct ref *c = &calls[i];
        c->seq = i;
        c->t = 1e9 + (i / 3) * 10.0; /* three calls share each time: ties go by id */
        snprintf(c->call_id, sizeof c->call_id, "cid-%d@h", i);
        snprintf(c->leg2, sizeof c->leg2, "b2b-%d@h", i);
        snprintf(c->from, sizeof c->from, "u%d", i % 7);
        snprintf(c->to, sizeof c->to, "v%d", i % 5);
        snprintf(c->caller, sizeof c->caller, "10.0.%d.%d:5060", i % 3, i % 250);
        if (i % 2)
            snprintf(c->callee, sizeof c->callee, "[2001:db8::%x]:5062", i % 16);
        else
            snprintf(c->callee, sizeof c->callee, "192.0.2.%d:5060", i % 20);
        c->state = states[i % 4];
        c->status = status[i % 4];
        c->mos = i % 4 == 0 ? -1 : 1.0 + (i % 40) / 10.0;
        c->issue = i % 6 == 0;
        char json[256];
        snprintf(json, sizeof json,
                 "{\"id\":\"call-%d\",\"legs\":[{\"call_id\":\"%s\"},{\"call_id\":\"%s\"}]}", i,
                 c->call_id, c->leg2);
        cr_assert(store_put_call(s, &(struct store_call){
                                        .seq = (uint64_t)i, .call_id = c->call_id,
                                        .from_user = c->from, .to_user = c->to,
                                        .caller = c->caller, .callee = c->callee,
                                        .state = c->state, .final_status = c->status,
                                        .invite_time = c->t, .end_time = -1, .mos_min = c->mos,
                                        .issue_kinds = c->issue ? "one_way_audio" : "",
                                        .json = json}));
        if (c->issue)
            cr_assert(store_put_issue(s, &(struct store_issue){
                                             .kind = "one_way_audio", .severity = "critical",
                                             .call_seq = (uint64_t)i, .time = c->t + 1,
                                             .json = "{\"kind\":\"one_way_audio\"}"}));
        if (i % 10 == 0)
            cr_assert(store_put_issue(s, &(struct store_issue){
                                             .kind = "high_jitter", .severity = "warning",
                                             .call_seq = (uint64_t)i, .time = c->t + 2,
                                             .json = "{\"kind\":\"high_jitter\"}"}));
    }
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/sipscope-query-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/q.db", dir);
    char err[256];
    s = store_open(path, err, sizeof err);
    cr_assert_not_null(s, "%s", err);
    fill();
    cr_assert(store_flush(s));
}

static void teardown(void)
{
    store_close(s);
    char p[128];
    static const char *const suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", path, suffix[i]);
        unlink(p);
    }
    rmdir(dir);
}

TestSuite(store_query, .init = setup, .fini = teardown);

/* ---- collecting pages ---- */

struct got {
    int seq[N + 1];
    int n;
};

static bool on_call(void *user, const char *json)
{
    struct got *g = user;
    int seq;
    cr_assert_eq(sscanf(json, "{\"id\":\"call-%d\"", &seq), 1, "%s", json);
    cr_assert_lt(g->n, N + 1);
    g->seq[g->n++] = seq;
    return true;
}

/* Every page of f at `limit` rows each; returns the number of pages. */
static int all_pages(struct store_call_filter f, unsigned limit, struct got *g)
{
    char cursor[STORE_CURSOR_LEN] = "", next[STORE_CURSOR_LEN];
    int pages = 0;
    g->n = 0;
    f.limit = limit;
    do {
        f.cursor = cursor;
        int before = g->n;
        cr_assert_eq(store_query_calls(s, &f, on_call, g, next), STORE_Q_OK, "%s", store_error(s));
        cr_assert_leq(g->n - before, (int)limit);
        if (next[0])
            cr_assert_eq(g->n - before, (int)limit, "a page before the last is full");
        memcpy(cursor, next, sizeof cursor);
        pages++;
    } while (cursor[0] && pages < 1000);
    return pages;
}

/* The reference: calls passing pred, newest first, ties by the higher id first. */
static int expected(bool (*pred)(const struct ref *c), int *out)
{
    int n = 0;
    for (int i = N; i >= 1; i--) /* by descending seq; time grows with seq here */
        if (pred(&calls[i]))
            out[n++] = i;
    return n;
}

static void check(struct store_call_filter f, bool (*pred)(const struct ref *c), const char *what)
{
    int want[N + 1];
    int n = expected(pred, want);
    struct got g;
    int pages = all_pages(f, 7, &g);
    cr_assert_eq(g.n, n, "%s: %d calls, expected %d", what, g.n, n);
    for (int i = 0; i < n; i++)
        cr_assert_eq(g.seq[i], want[i], "%s: row %d is call-%d, expected call-%d", what, i, g.seq[i],
                     want[i]);
    cr_assert_eq(pages, n / 7 + 1 - (n % 7 == 0 && n > 0), "%s: %d pages for %d rows", what, pages, n);
}

static bool p_all(const struct ref *c) { (void)c; return true; }
static bool p_user(const struct ref *c) { return !strcmp(c->from, "u3") || !strcmp(c->to, "u3"); }
static bool p_from_to(const struct ref *c) { return !strcmp(c->from, "u2") && !strcmp(c->to, "v4"); }
static bool p_leg(const struct ref *c) { return c->seq == 17; }
static bool p_state(const struct ref *c) { return !strcmp(c->state, "busy"); }
static bool p_486(const struct ref *c) { return c->status == 486; }
static bool p_4xx(const struct ref *c) { return c->status >= 400 && c->status < 500; }
static bool p_issue(const struct ref *c) { return c->issue; }
static bool p_mos3(const struct ref *c) { return c->mos >= 3.0; }
static bool p_mos2(const struct ref *c) { return c->mos >= 0 && c->mos <= 2.0; }
static bool p_host(const struct ref *c) { return !strncmp(c->caller, "10.0.1.7:", 9); }
static bool p_exact(const struct ref *c) { return !strcmp(c->callee, "192.0.2.8:5060"); }
static bool p_v6(const struct ref *c) { return !strncmp(c->callee, "[2001:db8::3]:", 14); }
static bool p_text(const struct ref *c) { return strstr(c->call_id, "cid-12") != NULL; }
static bool p_time(const struct ref *c) { return c->t >= 1e9 + 200 && c->t < 1e9 + 500; }
static bool p_mix(const struct ref *c) { return p_time(c) && c->status >= 400 && c->status < 500 && c->mos >= 0; }

Test(store_query, every_filter_agrees_with_the_reference_page_by_page)
{
    check((struct store_call_filter){0}, p_all, "no filter");
    check((struct store_call_filter){.user = "u3"}, p_user, "user");
    check((struct store_call_filter){.from_user = "u2", .to_user = "v4"}, p_from_to, "from and to");
    check((struct store_call_filter){.call_id = "b2b-17@h"}, p_leg, "Call-ID of a second leg");
    check((struct store_call_filter){.state = "busy"}, p_state, "state");
    check((struct store_call_filter){.status = 486}, p_486, "status");
    check((struct store_call_filter){.status = 4}, p_4xx, "status class");
    check((struct store_call_filter){.issue_kind = "one_way_audio"}, p_issue, "issue kind");
    check((struct store_call_filter){.min_mos = 3.0}, p_mos3, "min MOS");
    check((struct store_call_filter){.max_mos = 2.0}, p_mos2, "max MOS");
    check((struct store_call_filter){.address = "10.0.1.7"}, p_host, "host");
    check((struct store_call_filter){.address = "192.0.2.8:5060"}, p_exact, "ip:port");
    check((struct store_call_filter){.address = "2001:db8::3"}, p_v6, "bare IPv6 host");
    check((struct store_call_filter){.address = "[2001:db8::3]"}, p_v6, "bracketed IPv6 host");
    check((struct store_call_filter){.text = "cid-12"}, p_text, "free text");
    check((struct store_call_filter){.from = 1e9 + 200, .to = 1e9 + 500}, p_time, "time range");
    check((struct store_call_filter){.from = 1e9 + 200, .to = 1e9 + 500, .status = 4, .min_mos = 1},
          p_mix, "time, class and MOS together");
}

Test(store_query, a_cursor_is_stable_while_calls_are_added)
{
    struct store_call_filter f = {.limit = 10};
    char next[STORE_CURSOR_LEN];
    struct got g = {0};
    cr_assert_eq(store_query_calls(s, &f, on_call, &g, next), STORE_Q_OK);
    cr_assert_eq(g.seq[9], 291);
    /* a newer call arrives: the next page still starts right after call-291 */
    cr_assert(store_put_call(s, &(struct store_call){.seq = 999, .state = "completed",
                                                     .invite_time = 2e9, .end_time = -1,
                                                     .mos_min = -1, .json = "{\"id\":\"call-999\"}"}));
    f.cursor = next;
    g.n = 0;
    cr_assert_eq(store_query_calls(s, &f, on_call, &g, next), STORE_Q_OK);
    cr_assert_eq(g.seq[0], 290, "page 2 starts at call-%d (%d rows), cursor %s", g.seq[0], g.n, f.cursor);
}

Test(store_query, bad_filters_are_refused)
{
    char next[STORE_CURSOR_LEN];
    struct got g = {0};
    static const struct store_call_filter bad[] = {
        {.cursor = "nonsense"}, {.cursor = "1e9,"},    {.cursor = "1e9,-4"}, {.cursor = "nan,3"},
        {.status = 99},         {.status = 700},       {.limit = 5000},       {.from = 10, .to = 5},
        {.min_mos = 7},         {.max_mos = -1},       {.address = "1111111111111111111111111111111111111111111111111111111111111111111"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_eq(store_query_calls(s, &bad[i], on_call, &g, next), STORE_Q_BAD, "filter %zu", i);
    cr_assert_eq(g.n, 0);
    /* hostile text is a value, never SQL */
    struct store_call_filter inj = {.user = "x' OR 1=1 --", .text = "%'; DROP TABLE calls; --"};
    cr_assert_eq(store_query_calls(s, &inj, on_call, &g, next), STORE_Q_OK);
    cr_assert_eq(g.n, 0);
    cr_assert_eq(store_get_call(s, 1, on_call, &g), STORE_Q_OK);
    cr_assert_eq(store_get_call(s, 12345, on_call, &g), STORE_Q_NOT_FOUND);
}

static bool on_message(void *user, const struct store_message *m)
{
    struct got *g = user;
    char want[64];
    snprintf(want, sizeof want, "INVITE sip:%d SIP/2.0\r\n", (int)m->frame);
    cr_assert_eq(m->raw_len, strlen(want));
    cr_assert(!memcmp(m->raw, want, m->raw_len), "frame %d: raw text", (int)m->frame);
    cr_assert_str_eq(m->method, "INVITE");
    cr_assert_eq(m->call_seq, 5);
    cr_assert_eq(m->retransmission, m->frame == 3);
    g->seq[g->n++] = (int)m->frame;
    return true;
}

static bool on_stream(void *user, const char *json, const char *timeline)
{
    struct got *g = user;
    int seq;
    cr_assert_eq(sscanf(json, "{\"id\":\"stream-%d\"", &seq), 1);
    cr_assert_eq(timeline != NULL, seq % 2 == 1, "stream-%d timeline", seq);
    g->seq[g->n++] = seq;
    return true;
}

static const char *want_kind;

static bool on_call_kind(void *user, const char *json)
{
    struct got *g = user;
    char want[64];
    snprintf(want, sizeof want, "{\"kind\":\"%s\"}", want_kind);
    cr_assert_str_eq(json, want);
    g->n++;
    return true;
}

Test(store_query, a_calls_messages_streams_and_the_other_lists)
{
    /* three messages of call-5, stored out of time order; the text once inside its frame,
     * once apart */
    for (int k = 0; k < 3; k++) {
        int frame = 3 - k;
        char raw[64], frame_bytes[128];
        snprintf(raw, sizeof raw, "INVITE sip:%d SIP/2.0\r\n", frame);
        memset(frame_bytes, 0xee, 42);
        memcpy(frame_bytes + 42, raw, strlen(raw));
        bool inside = k != 1;
        cr_assert(store_put_message(s, &(struct store_message){
                                           .call_seq = 5, .frame = (uint64_t)frame,
                                           .time = 1e9 + frame, .src = "a:1", .dst = "b:2",
                                           .transport = "udp", .method = "INVITE",
                                           .retransmission = frame == 3,
                                           .raw = inside ? NULL : raw, .raw_len = strlen(raw),
                                           .raw_in_frame = inside, .raw_off = 42, .linktype = 1,
                                           .frame_bytes = frame_bytes,
                                           .frame_len = 42 + strlen(raw)}));
    }
    for (int k = 1; k <= 4; k++) {
        char json[64];
        snprintf(json, sizeof json, "{\"id\":\"stream-%d\"}", k);
        cr_assert(store_put_stream(s, &(struct store_stream){
                                          .seq = (uint64_t)k, .call_seq = k <= 2 ? 5 : 0,
                                          .src = k == 3 ? "10.9.9.9:4000" : "10.0.0.1:4000",
                                          .dst = "10.0.0.2:4002", .first_time = 1e9 + k,
                                          .last_time = 1e9 + k + 1, .mos = -1, .json = json,
                                          .timeline = k % 2 ? "[]" : NULL}));
    }
    cr_assert(store_put_registration(s, &(struct store_registration){
                                            .aor = "sip:alice@example.com", .first_time = 1,
                                            .last_time = 2, .json = "{\"id\":\"call-1\"}"}));
    cr_assert(store_put_registration(s, &(struct store_registration){
                                            .aor = "sip:bob@example.com", .first_time = 1,
                                            .last_time = 3, .json = "{\"id\":\"call-2\"}"}));
    struct got g = {0};
    cr_assert_eq(store_call_messages(s, 5, on_message, &g), STORE_Q_OK, "%s", store_error(s));
    cr_assert_eq(g.n, 3);
    cr_assert(g.seq[0] == 1 && g.seq[1] == 2 && g.seq[2] == 3, "in time order");
    cr_assert_eq(store_call_messages(s, 4242, on_message, &g), STORE_Q_NOT_FOUND);
    g.n = 0;
    cr_assert_eq(store_call_streams(s, 5, on_stream, &g), STORE_Q_OK);
    cr_assert(g.n == 2 && g.seq[0] == 1 && g.seq[1] == 2);
    char next[STORE_CURSOR_LEN];
    g.n = 0;
    cr_assert_eq(store_query_streams(s, &(struct store_list_filter){.key = "10.9.9.9"}, on_stream, &g,
                                     next),
                 STORE_Q_OK);
    cr_assert(g.n == 1 && g.seq[0] == 3 && !next[0]);
    g.n = 0;
    cr_assert_eq(store_query_streams(s, &(struct store_list_filter){.limit = 3}, on_stream, &g, next),
                 STORE_Q_OK);
    cr_assert(g.n == 3 && g.seq[0] == 4 && next[0], "newest first, and a next page");
    g.n = 0;
    cr_assert_eq(store_query_registrations(s, &(struct store_list_filter){.key = "bob"}, on_call, &g,
                                           next),
                 STORE_Q_OK);
    cr_assert(g.n == 1 && g.seq[0] == 2);
    /* issues: 50 one_way_audio (critical) and 30 high_jitter (warning) */
    int n = 0;
    struct store_list_filter lf = {.key = "high_jitter", .limit = 8};
    want_kind = "high_jitter";
    char cursor[STORE_CURSOR_LEN] = "";
    struct got ig;
    do {
        lf.cursor = cursor;
        ig.n = 0;
        cr_assert_eq(store_query_issues(s, &lf, on_call_kind, &ig, next), STORE_Q_OK);
        n += ig.n;
        memcpy(cursor, next, sizeof cursor);
    } while (cursor[0]);
    cr_assert_eq(n, 30);
    lf = (struct store_list_filter){.severity = "critical", .limit = 1000};
    want_kind = "one_way_audio";
    ig.n = 0;
    cr_assert_eq(store_query_issues(s, &lf, on_call_kind, &ig, next), STORE_Q_OK);
    cr_assert_eq(ig.n, 50);
}

/* ?domain= is the To URI's host as RFC 3261 §19.1 reads it: without case, port, brackets
 * or parameters, so one carrier's calls group whatever each To carried; a URI without a
 * user part (tel:, a bare host) has no domain. */
static bool count_row(void *user, const char *json)
{
    (void)json;
    ++*(int *)user;
    return true;
}

static int in_domain(const char *domain)
{
    int n = 0;
    char next[STORE_CURSOR_LEN];
    struct store_call_filter f = {.to_domain = domain};
    cr_assert_eq(store_query_calls(s, &f, count_row, &n, next), STORE_Q_OK);
    return n;
}

Test(store_query, the_domain_is_the_to_uris_host_alone)
{
    static const char *const uris[] = {"sip:a@Carrier.NET:5060;user=phone", "sip:b@carrier.net",
                                       "sips:c@[2001:DB8::1]:5061;transport=tls",
                                       "sip:d@other.example?subject=x", "tel:+4930123",
                                       "sip:carrier.net"};
    for (int i = 0; i < 6; i++) {
        char json[160];
        snprintf(json, sizeof json, "{\"id\":\"call-%d\",\"to\":{\"uri\":\"%s\"}}", 1000 + i,
                 uris[i]);
        cr_assert(store_put_call(s, &(struct store_call){.seq = (uint64_t)(1000 + i),
                                                         .state = "completed",
                                                         .invite_time = 2e9 + i,
                                                         .end_time = -1, .mos_min = -1,
                                                         .issue_kinds = "", .json = json}));
    }
    cr_assert(store_flush(s));
    cr_assert_eq(in_domain("carrier.net"), 2);
    cr_assert_eq(in_domain("CARRIER.net"), 2);
    cr_assert_eq(in_domain("2001:db8::1"), 1);
    cr_assert_eq(in_domain("other.example"), 1);
    cr_assert_eq(in_domain("carrier.net:5060"), 0);
}
