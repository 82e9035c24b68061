/* Logging: the one process-wide sink (docs/style.md rule 11). Library code logs here and never
 * prints; cli/ chooses the sink and the level. */
#ifndef SIPSCOPE_LOG_H
#define SIPSCOPE_LOG_H

#include <stdarg.h>
#include <stdint.h>

#include "ptime.h"

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

typedef void (*log_sink_fn)(enum log_level lvl, const char *msg, void *user);

void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
/* NULL restores the default sink (stderr). */
void log_set_sink(log_sink_fn fn, void *user);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Rate limit for messages caused by traffic (docs/style.md rule 8: hitting a limit is logged
 * once per interval). Lives in the owner's context, not in a global. */
struct log_ratelimit {
    ptime_t last;        /* packet time of the last message let through */
    uint64_t suppressed; /* messages swallowed since */
};

/* True when a message may be logged now; `interval` in packet time. */
int log_ratelimit_ok(struct log_ratelimit *rl, ptime_t now, ptime_t interval);

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
