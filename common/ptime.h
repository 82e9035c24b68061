/* Packet time: the only clock of the analysis (docs/design.md "Packet time, not wall time").
 * A signed 64-bit count of nanoseconds since the UNIX epoch, taken from capture stamps. */
#ifndef SIPSCOPE_PTIME_H
#define SIPSCOPE_PTIME_H

#include <stdint.h>

typedef int64_t ptime_t;

#define PTIME_NS  ((ptime_t)1)
#define PTIME_US  ((ptime_t)1000)
#define PTIME_MS  ((ptime_t)1000000)
#define PTIME_SEC ((ptime_t)1000000000)

/* Epoch seconds rounded to the microsecond, as docs/output.md writes times. */
static inline double ptime_to_epoch_s(ptime_t t)
{
    int64_t us = t >= 0 ? (t + 500) / 1000 : (t - 500) / 1000;
    return (double)us / 1e6;
}

#endif
