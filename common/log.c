/* Logging sink and rate limit; see log.h. */
#include "log.h"

#include <stdio.h>

static enum log_level g_level = LOG_WARN;
static log_sink_fn g_sink;
static void *g_sink_user;

void log_set_level(enum log_level lvl) { g_level = lvl; }
enum log_level log_get_level(void) { return g_level; }

void log_set_sink(log_sink_fn fn, void *user)
{
    g_sink = fn;
    g_sink_user = user;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};
    char buf[1024];
    va_list ap;

    if (lvl > g_level)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (g_sink)
        g_sink(lvl, buf, g_sink_user);
    else
        fprintf(stderr, "sipscope: %s: %s\n", names[lvl], buf);
}

int log_ratelimit_ok(struct log_ratelimit *rl, ptime_t now, ptime_t interval)
{
    if (rl->last != 0 && now - rl->last < interval) {
        rl->suppressed++;
        return 0;
    }
    if (rl->suppressed)
        log_msg(LOG_INFO, "(%llu similar messages suppressed)", (unsigned long long)rl->suppressed);
    rl->last = now != 0 ? now : 1;
    rl->suppressed = 0;
    return 1;
}
