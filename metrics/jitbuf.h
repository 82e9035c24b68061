/* A stream's simulated jitter buffers (struct stream_jb in stream.h), for stream.c alone:
 * one packet through them (jb_packet, here and inline: it runs for every packet of a
 * stream's own clock, and a call into another file cost the RTP path a measurable share
 * in builds without LTO), and the E-model scores of what they played (jitbuf.c). Nothing
 * here allocates. */
#ifndef SIPSCOPE_JITBUF_H
#define SIPSCOPE_JITBUF_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include "metrics/stream.h"

/* The end of the stream: each buffer's loss, burst ratio, wait, R and MOS into s->jbs. */
void jb_score(struct rtp_stream *s);
/* How long buffer b held the packets it played, on average (ms). */
double jb_wait_ms(const struct rtp_stream *s, const struct stream_jb *b);
/* R (G.107) of s's codec at a loss (%), burst ratio and buffer wait (ms); s->emodel set. */
double jb_r(const struct rtp_stream *s, double ppl_pct, double burst_r, double wait_ms);

/* Ramjee, Kurose, Towsley, Schulzrinne, "Adaptive playout mechanisms for packetized audio
 * applications in wide-area networks" (INFOCOM 1994), algorithm 1: delay and variation
 * estimates by exponential averaging; the playout point is set to d + 4v at each
 * talkspurt (marker bit) and, for speech without silence suppression, once a second.
 * It never plans less than one packet of buffering. */
#define JB_ALPHA 0.998002

#define JB_PRIOR_MS 10.0 /* the variation assumed before any is seen: 40 ms to start with */

/* Ramjee et al. 1994, algorithm 4 ("spike detection"), on top of algorithm 1's estimates:
 * a packet whose transit differs from the previous one's by more than 2v + JB_SPIKE_MS
 * starts a spike; in it the delay estimate follows the packets (d += n_i - n_i-1) instead of
 * averaging them, and var = var/2 + |2n_i - n_i-1 - n_i-2| / 8 says how much the transit
 * still moves; at var <= JB_SPIKE_END_MS the spike is over. The paper's buffer takes the
 * new estimate at the next talkspurt; one that plays continuous speech has none, and
 * replans at the spike's end instead, as a real buffer resynchronises within a few hundred
 * ms when the delay steps (the media source behind an SSRC changes at answer) rather than
 * discarding every packet until the averaged estimate creeps up. The constants are ours,
 * in ms (the paper's are for its traces' clock): a rise of 75 ms over twice the variation
 * is beyond what sustained jitter of +-45 ms ever makes between two packets (90 ms at most,
 * v at least the 10 ms prior), and a spike is over when the transit moves by under 8 ms. */
#define JB_SPIKE_MS     75.0
#define JB_SPIKE_END_MS 8.0

/* Algorithm 4's mode for the adaptive buffer b at a packet of transit rel (ts units, clock
 * rate `rate`; b->n1, n2 the two before it): true when the packet ends a spike, and then d
 * is that packet's level (the paper leaves the ending packet out of d, which leaves d one
 * packet behind: on a spike's tail of packets that queued and arrive back to back, 20 ms
 * high in a corpus capture). The caller moves d with the packets in a spike, after any
 * replan, as it averages them outside one: a packet never sets its own playout time. */
static inline bool jb_spike(struct stream_jb *b, int64_t rel, int64_t rate)
{
    double moved = (double)(rel - b->n1), ms = (double)rate / 1000.0;
    if (!b->spike) {
        if (fabs(moved) > 2 * b->v_hat + JB_SPIKE_MS * ms) {
            b->spike = true;
            b->spike_var = 0;
        }
        return false;
    }
    b->spike_var = b->spike_var / 2 + fabs((double)(2 * rel - b->n1 - b->n2)) / 8;
    if (b->spike_var > JB_SPIKE_END_MS * ms) return false;
    b->spike = false;
    b->d_hat += moved;
    return true;
}

/* A slot's fate in one buffer: played or discarded (arrived after its playout time), and
 * the runs of slots lost or discarded (for the burst ratio). */
static inline bool jb_slot(struct stream_jb *b, int64_t rel, uint32_t gap, bool late, bool timed)
{
    bool discard = timed && rel > b->playout;
    if (gap && !b->in_run) {
        b->runs++;
        b->in_run = true;
    }
    if (discard) {
        b->discarded++;
        if (!late && !b->in_run) {
            b->runs++;
            b->in_run = true;
        }
    } else {
        b->played++;
        if (timed) {
            b->wait_sum += (double)(b->playout - rel);
            b->timed_played++;
        }
        if (!late)
            b->in_run = false;
    }
    return discard;
}

/* A fixed buffer plays the first packet of a talkspurt after its size, and the rest on
 * that schedule; one that would overflow (a packet earlier than the schedule by more than
 * the buffer holds) starts over. `restart`: the first packet, a talkspurt, or a jump. */
static inline void jb_fixed_plan(struct stream_jb *b, int64_t rel, int64_t size, bool restart)
{
    if (restart || rel + 2 * size < b->playout)
        b->playout = rel + size;
}

/* A timestamp jump of a second or more either way is the sender's clock, not the network:
 * every buffer resynchronises on it, as real ones do. */
static inline bool jb_jump(const struct stream_jb *b, int64_t rel, int64_t resync)
{
    return rel > b->playout + resync || rel + resync < b->playout - resync;
}

/* One packet through the three buffers: rel is its transit relative to the stream's first
 * packet; gap the sequence numbers missing before it (in order); late: it arrives after
 * packets sent later (its slot was counted lost). Untimed packets (comfort noise, events
 * in an audio stream) fill their slot without a playout test. Written out buffer by
 * buffer, not as a loop over them: this runs for every packet. */
static inline void jb_packet(struct rtp_stream *s, int64_t rel, uint32_t gap, bool late,
                             bool spurt, ptime_t now, bool timed)
{
    struct stream_jb *f50 = &s->jb[JB_FIXED_50], *f200 = &s->jb[JB_FIXED_200],
                     *ad = &s->jb[JB_ADAPTIVE];
    if (timed) {
        bool first = s->timed == 1;
        int64_t resync = s->clock_rate; /* one second */
        /* integer arithmetic: the same truncation as (double)ms * rate / 1000 for any clock
         * rate, without a division in floating point per packet and buffer */
        int64_t rate = s->clock_rate;
        jb_fixed_plan(f50, rel, 50 * rate / 1000, first || spurt || jb_jump(f50, rel, resync));
        jb_fixed_plan(f200, rel, 200 * rate / 1000, first || spurt || jb_jump(f200, rel, resync));
        bool jump = !first && jb_jump(ad, rel, resync);
        bool spike_end = false;
        if (first || jump) {
            ad->d_hat = (double)rel;
            ad->v_hat = JB_PRIOR_MS * s->clock_rate / 1000.0;
            ad->spike = false;
            ad->n1 = ad->n2 = rel;
        } else {
            spike_end = jb_spike(ad, rel, rate);
        }
        if (first || jump || spike_end || spurt || now - ad->replanned >= 1000000000) {
            int64_t min_buf = s->ptime_ts ? s->ptime_ts : s->clock_rate / 50;
            double buf = 4 * ad->v_hat;
            ad->playout = (int64_t)(ad->d_hat + (buf > (double)min_buf ? buf : (double)min_buf));
            ad->replanned = now;
        }
        if (ad->spike)
            ad->d_hat += (double)(rel - ad->n1);
        else if (!spike_end)
            ad->d_hat = JB_ALPHA * ad->d_hat + (1 - JB_ALPHA) * (double)rel;
        ad->v_hat = JB_ALPHA * ad->v_hat + (1 - JB_ALPHA) * fabs(ad->d_hat - (double)rel);
        ad->n2 = ad->n1;
        ad->n1 = rel;
    }
    jb_slot(f50, rel, gap, late, timed);
    jb_slot(f200, rel, gap, late, timed);
    bool discard = jb_slot(ad, rel, gap, late, timed);
    s->sec_lost += gap + (discard && !late);
    s->sec_played += !discard;
    if (late && !discard && s->sec_lost)
        s->sec_lost--; /* it came after all, in time to be played */
}

#endif
