/* The benchmark programs' clock: monotonic seconds, for timing a run in-process. */
#ifndef SIPSCOPE_BENCHCLOCK_H
#define SIPSCOPE_BENCHCLOCK_H

#include <time.h>

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
