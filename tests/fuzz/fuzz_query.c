/* libFuzzer: the store's API queries with hostile filter values (what an HTTP query string
 * carries: cursor, address, free text, users, Call-ID, state, kinds, numbers), and the
 * export's reading of a media chunk whose bytes are arbitrary (a damaged database). The
 * database is in memory, made once with a few calls. Nothing may crash, leak, or make
 * SQLite fail on a value: a value is always bound, never SQL text. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/export.h"
#include "store/query.h"

static struct store *db;

static void init(void)
{
    char err[256];
    if (!(db = store_open(":memory:", err, sizeof err)))
        abort();
    for (int i = 1; i <= 20; i++) {
        char json[96];
        snprintf(json, sizeof json, "{\"id\":\"call-%d\",\"legs\":[{\"call_id\":\"c%d@h\"}]}", i, i);
        store_put_call(db, &(struct store_call){.seq = (uint64_t)i, .call_id = "c@h",
                                                .from_user = "alice", .to_user = "bob",
                                                .caller = "10.0.0.1:5060",
                                                .callee = "[2001:db8::1]:5060",
                                                .state = "completed", .final_status = 200,
                                                .invite_time = 1e9 + i, .end_time = -1,
                                                .mos_min = 4.1, .issue_kinds = "", .json = json});
        store_put_issue(db, &(struct store_issue){.kind = "low_mos", .severity = "warning",
                                                  .call_seq = (uint64_t)i, .time = 1e9 + i,
                                                  .json = "{}"});
    }
    store_flush(db);
}

static bool sink(void *user, const char *json)
{
    (void)user;
    return json != NULL;
}

static bool sink_stream(void *user, const char *json, const char *timeline)
{
    (void)user;
    (void)timeline;
    return json != NULL;
}

/* The input as NUL-separated fields; missing ones are empty. */
static const char *field(char **p, char *end)
{
    if (*p >= end)
        return "";
    const char *f = *p;
    *p += strlen(*p) + 1;
    return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!db)
        init();
    if (size < 1)
        return 0;
    if (data[0] == 'M') { /* a call whose one media chunk holds these bytes, exported */
        char err[256];
        struct store *m = store_open(":memory:", err, sizeof err);
        if (!m)
            abort();
        store_put_call(m, &(struct store_call){.seq = 1, .state = "completed", .invite_time = 1e9,
                                               .end_time = -1, .mos_min = -1, .json = "{}"});
        store_put_media(m, &(struct store_media){.call_seq = 1, .first_time = 1e9,
                                                 .last_time = 1e9, .linktype = 1, .packets = 1,
                                                 .frames = data + 1, .len = size - 1});
        char *buf = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&buf, &len);
        if (out) {
            struct store_export_result r;
            if (store_export_pcap(m, 1, out, &r) != STORE_Q_OK)
                abort();
            fclose(out);
        }
        free(buf);
        store_close(m);
        return 0;
    }
    char *copy = malloc(size + 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    char *p = copy + 1, *end = copy + size;
    struct store_call_filter f = {0};
    f.cursor = field(&p, end);
    f.address = field(&p, end);
    f.text = field(&p, end);
    f.user = field(&p, end);
    f.call_id = field(&p, end);
    f.state = field(&p, end);
    f.issue_kind = field(&p, end);
    const char *nums = field(&p, end);
    f.status = atoi(nums);
    f.limit = (unsigned)(data[0] & 0x7f);
    f.from = strtod(field(&p, end), NULL);
    f.to = strtod(field(&p, end), NULL);
    f.min_mos = strtod(field(&p, end), NULL);
    f.max_mos = strtod(field(&p, end), NULL);
    char next[STORE_CURSOR_LEN];
    if (store_query_calls(db, &f, sink, NULL, next) == STORE_Q_ERROR)
        abort(); /* a value made SQLite fail: it reached SQL text */
    struct store_list_filter lf = {.from = f.from, .to = f.to, .key = f.address,
                                   .cursor = f.cursor, .limit = f.limit, .severity = f.state};
    if (store_query_streams(db, &lf, sink_stream, NULL, next) == STORE_Q_ERROR)
        abort();
    lf.key = f.text;
    if (store_query_issues(db, &lf, sink, NULL, next) == STORE_Q_ERROR ||
        store_query_registrations(db, &lf, sink, NULL, next) == STORE_Q_ERROR)
        abort();
    free(copy);
    return 0;
}
