/* libFuzzer harness for --alerts' rules file (diagnose/alerts.h): the input is parsed as a
 * rules file; rules that parse then judge a few calls and issues whose facts come from the
 * input's bytes, over ticks of packet time, so that the windows, percentiles and the
 * offenders' list (callees, and the sources and accounts of findings of no call) run on what
 * the rules asked. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diagnose/alerts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_event(void *user, const struct alert_event *ev)
{
    unsigned *n = user;
    *n += ev->ntop + ev->nexamples;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct alert_rules rules;
    char why[256];
    char *buf = malloc(size ? size : 1); /* exact size: over-reads are ASan reports */
    if (!buf) return 0;
    memcpy(buf, data, size);
    if (!alert_rules_parse(buf, size, &rules, why, sizeof why)) {
        free(buf);
        return 0;
    }
    unsigned n = 0;
    struct alerts *al = alerts_new(&rules, on_event, &n);
    int64_t t = 1700000000LL * 1000000000LL;
    for (size_t i = 0; al && i < size && i < 4096; i++) {
        uint8_t b = data[i];
        uint64_t seq = 1 + b % 97;
        char callee[16];
        snprintf(callee, sizeof callee, "10.0.0.%u", b % 7);
        t += (int64_t)(b % 13) * 250000000LL;
        alerts_call_ended(al, seq, t, b & 1, b & 2, b & 4 ? (double)(b * 37) : -1, callee);
        alerts_stream_mos(al, seq, 1 + (b % 40) / 10.0);
        alerts_issue(al, b & 8 ? seq : 0, (enum issue_kind)(b % ISSUE__COUNT), t);
        if (b & 64)
            alerts_finding(al, (enum issue_kind)(b % ISSUE__COUNT), t,
                           t - (int64_t)b * 1000000000LL, callee, b & 128);
        if (b & 16) alerts_judged(al, seq);
        alerts_tick(al, t, b & 32);
    }
    alerts_free(al);
    free(buf);
    return 0;
}
