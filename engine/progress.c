/* See progress.h. */
#include "progress.h"

#include <stdio.h>
#include <time.h>

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void progress_init(struct progress *p, bool enabled)
{
    p->enabled = enabled;
    p->start = p->last = wall_now();
    p->shown = false;
}

void progress_tick(struct progress *p, const struct capture_source *src, uint64_t packets)
{
    if (!p->enabled || (packets & 0xffff) != 0)
        return;
    double now = wall_now();
    if (now - p->last < 0.25)
        return;
    p->last = now;

    struct capture_stats st;
    capture_get_stats(src, &st);
    double el = now - p->start;
    double rate = el > 0 ? (double)packets / el : 0;
    if (st.bytes_total > 0 && st.bytes_read > 0) {
        double share = (double)st.bytes_read / (double)st.bytes_total;
        double left = share > 0 ? el / share - el : 0;
        fprintf(stderr, "\r\033[K%5.1f%%  %.2f M packets/s  %.0f s left", share * 100, rate / 1e6,
                left < 0 ? 0 : left);
    } else {
        fprintf(stderr, "\r\033[K%llu packets  %.2f M packets/s", (unsigned long long)packets,
                rate / 1e6);
    }
    p->shown = true;
}

void progress_done(struct progress *p)
{
    if (p->shown)
        fputs("\r\033[K", stderr);
    p->shown = false;
}
