/* The simulated jitter buffers of a stream (two fixed, one adaptive) that every packet of
 * its clock goes through, and what their play scores in the E-model (ITU-T G.107) at the end
 * of the stream; see jitbuf.h. */
#include "jitbuf.h"

#include <assert.h>
#include <math.h>

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

/* Ramjee, Kurose, Towsley, Schulzrinne, "Adaptive playout mechanisms for packetized audio
 * applications in wide-area networks" (INFOCOM 1994), algorithm 1: delay and variation
 * estimates by exponential averaging; the playout point is set to d + 4v at each
 * talkspurt (marker bit) and, for speech without silence suppression, once a second.
 * It never plans less than one packet of buffering. */
#define JB_ALPHA 0.998002

#define JB_PRIOR_MS 10.0 /* the variation assumed before any is seen: 40 ms to start with */

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
void jb_packet(struct rtp_stream *s, int64_t rel, uint32_t gap, bool late, bool spurt,
                      ptime_t now, bool timed)
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
        if (first || jump) {
            ad->d_hat = (double)rel;
            ad->v_hat = JB_PRIOR_MS * s->clock_rate / 1000.0;
        }
        if (first || jump || spurt || now - ad->replanned >= 1000000000) {
            int64_t min_buf = s->ptime_ts ? s->ptime_ts : s->clock_rate / 50;
            double buf = 4 * ad->v_hat;
            ad->playout = (int64_t)(ad->d_hat + (buf > (double)min_buf ? buf : (double)min_buf));
            ad->replanned = now;
        }
        ad->d_hat = JB_ALPHA * ad->d_hat + (1 - JB_ALPHA) * (double)rel;
        ad->v_hat = JB_ALPHA * ad->v_hat + (1 - JB_ALPHA) * fabs(ad->d_hat - (double)rel);
    }
    jb_slot(f50, rel, gap, late, timed);
    jb_slot(f200, rel, gap, late, timed);
    bool discard = jb_slot(ad, rel, gap, late, timed);
    s->sec_lost += gap + (discard && !late);
    s->sec_played += !discard;
    if (late && !discard && s->sec_lost)
        s->sec_lost--; /* it came after all, in time to be played */
}

