/* Progress line on stderr for long inputs: share of bytes read, packets/s, time left.
 * Wall time here is for the person watching only; no analysis result depends on it. */
#ifndef SIPSCOPE_PROGRESS_H
#define SIPSCOPE_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "capture/capture.h"

struct progress {
    bool enabled;
    double start, last; /* wall seconds */
    bool shown;
};

void progress_init(struct progress *p, bool enabled);
/* Cheap to call per packet: looks at the clock every 64 Ki packets. */
void progress_tick(struct progress *p, const struct capture_source *src, uint64_t packets);
/* Clears the line. */
void progress_done(struct progress *p);

#endif
