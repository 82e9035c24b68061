/* What a stream's simulated jitter buffers (two fixed, one adaptive; jb_packet in jitbuf.h)
 * played, scored in the E-model (ITU-T G.107) at the end of the stream, and the delays the
 * E-model is given. */
#include "jitbuf.h"

#include <assert.h>

#include "emodel.h"

/* The one-way network delay the E-model is given: half the round trip RTCP measured
 * between the capture point and the receiver, else 0 (the capture point is on the path;
 * the unknown part is left out rather than guessed). */
static double one_way_ms(const struct rtp_stream *s)
{
    return s->rtcp.rtt_n ? s->rtcp.rtt_ms / 2 : 0;
}

/* How long a buffer held the packets it played, on average. */
double jb_wait_ms(const struct rtp_stream *s, const struct stream_jb *b)
{
    return b->timed_played ? b->wait_sum / (double)b->timed_played * 1000.0 / s->clock_rate : 0;
}

double stream_delay_ms(const struct rtp_stream *s)
{
    double la = s->emodel ? s->emodel->lookahead_ms : 0;
    return one_way_ms(s) + stream_ptime_ms(s) + la +
           (s->clock_rate ? jb_wait_ms(s, &s->jb[JB_ADAPTIVE]) : 0);
}

/* R (G.107) for this stream's codec at a loss, burst ratio and buffering delay. Mouth to
 * ear: network, one packet of audio, the codec's look-ahead, the buffer. */
double jb_r(const struct rtp_stream *s, double ppl_pct, double burst_r, double wait_ms)
{
    struct emodel_params e;
    emodel_defaults(&e);
    e.ie = s->emodel->ie;
    e.bpl = s->emodel->bpl;
    e.ppl = ppl_pct;
    e.burst_r = burst_r;
    e.ta = e.t = one_way_ms(s) + stream_ptime_ms(s) + s->emodel->lookahead_ms + wait_ms;
    e.tr = 2 * e.ta;
    /* the per-second MOS of every stream redid a dozen logarithms that depend on none of
     * this: the table's base holds them, the same to the last bit. Every stream
     * gets its table's base, made from the same defaults as e. */
    assert(s->ebase && emodel_base_fits(s->ebase, &e));
    double r = emodel_r_base(&e, s->ebase);
    return r < 0 ? 0 : r;
}

/* The jitter buffers' loss and delay through the E-model, at the end of a stream. Loss
 * is what the buffer did not play: lost on the wire plus discarded for lateness. */
void jb_score(struct rtp_stream *s)
{
    for (int k = 0; k < JB__COUNT; k++) {
        const struct stream_jb *j = &s->jb[k];
        struct stream_jb_score *b = &s->jbs[k];
        b->r_factor = b->mos = -1;
        int64_t expected = s->expected > 0 ? s->expected : 0;
        int64_t lost = expected - (int64_t)j->played;
        if (lost < 0)
            lost = 0;
        b->lost_pct = expected ? 100.0 * (double)lost / (double)expected : 0;
        b->mean_delay_ms = jb_wait_ms(s, j);
        /* burst ratio from the two-state (Gilbert) model of the loss runs (G.107 §7.6):
         * p = P(lost | played before), q = P(played | lost before), BurstR = 1 / (p + q) */
        b->burst_ratio = 1;
        if (lost > 0 && j->runs > 0 && j->played > 0) {
            double p = (double)j->runs / (double)j->played, q = (double)j->runs / (double)lost;
            b->burst_ratio = 1.0 / (p + q);
            b->burst_ratio = b->burst_ratio < 1 ? 1 : b->burst_ratio > 8 ? 8 : b->burst_ratio;
        }
        if (!s->emodel || !expected)
            continue;
        b->r_factor = jb_r(s, b->lost_pct, b->burst_ratio, b->mean_delay_ms);
        b->mos = emodel_mos(b->r_factor);
    }
}
