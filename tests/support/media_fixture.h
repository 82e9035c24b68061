/* A stream resolver that says every RTP packet is media an SDP announced for call 1,
 * with the payload types given: for tests, fuzzing and the benchmark of the stream
 * tracker, where no correlator runs. */
#ifndef SIPSCOPE_MEDIA_FIXTURE_H
#define SIPSCOPE_MEDIA_FIXTURE_H

#include <string.h>

#include "metrics/stream.h"

struct fixture_pt {
    uint8_t pt;
    uint32_t rate;
    const char *codec;
};

/* ctx: a NULL-terminated (codec NULL) array of struct fixture_pt. */
static inline enum stream_origin fixture_announced(void *ctx, const struct l4_packet *l4,
                                                   struct media_match *mm, bool *src_ann,
                                                   bool *dst_ann)
{
    (void)l4;
    memset(mm, 0, sizeof *mm);
    mm->call_seq = 1;
    mm->rtp = true;
    for (const struct fixture_pt *p = ctx; p->codec && mm->npts < MEDIA_MATCH_PTS; p++) {
        mm->pt[mm->npts] = p->pt;
        mm->rate[mm->npts] = p->rate;
        strncpy(mm->codec[mm->npts], p->codec, sizeof mm->codec[0] - 1);
        mm->npts++;
    }
    *src_ann = *dst_ann = true;
    return STREAM_ANNOUNCED;
}

#endif
