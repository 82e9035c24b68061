/* Per-stream audio figures from decoded PCM: one pass over each sample does the VAD frame
 * (energy and zero crossings), clipping runs, the second's level, and, when tones are on,
 * a [1 3 3 1]/8 decimation to 4 kHz feeding one Goertzel filter per plan frequency over
 * 40 ms blocks (25 Hz apart: 400, 425 and 450 Hz fall in each other's nulls). Cadence is
 * matched on the lengths of the on/off segments each group of frequencies makes. Nothing
 * is allocated per packet; spandsp's DTMF receiver is allocated on a stream's first
 * packet when DTMF is on. */
#include "audio.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#ifdef HAVE_SPANDSP
#define SPANDSP_EXPOSE_INTERNAL_STRUCTURES
#include <spandsp.h>
#endif

_Static_assert(sizeof(struct audio_state) <= AUDIO_STATE_MAX_BYTES,
               "a stream's audio state stays within 1 KB");

#define FRAME    160 /* VAD frame, 20 ms */
#define BLOCK    320 /* tone block, 40 ms at 8 kHz: 160 samples at 4 kHz */
#define BLOCK_MS 40
#define FS2      (32768.0 * 32768.0) /* full scale squared: 0 dBov, ITU-T G.100.1 */
#define SEG_ON   0x8000u
#define SEG_LEN  0x7fffu

/* Thresholds as sums of squares over a frame/block, so no logarithm runs per frame. */
static const uint64_t vad_min = (uint64_t)(FRAME * FS2 * 1e-5);       /* -50 dBov */
static const uint64_t vad_loud = (uint64_t)(FRAME * FS2 * 3.1623e-4); /* -35 dBov */
/* A tone quieter than -45 dBov is not one a caller hears as a tone; E.180 plans send
 * ringback at -10 to -24 dBm0 */
static const uint64_t tone_min = (uint64_t)(BLOCK * FS2 * 3.1623e-5);
/* A group of frequencies is present when its filters hold at least half of the block's
 * power (a pure tone off its filter by 10 Hz still gives 0.57), and, for two frequencies,
 * each holds at least 15 % of their sum (twist within 7.5 dB). */
#define PURITY 0.5f
#define TWIST  0.15f

_Static_assert(AUDIO_VAD_MIN_DBOV == -50 && AUDIO_VAD_LOUD_DBOV == -35,
               "vad_min and vad_loud above spell these out");

static int16_t clip_level(enum audio_codec c)
{
    /* the largest magnitude each codec can give: G.711's top decoder outputs */
    switch (c) {
    case AUDIO_CODEC_PCMU:
        return 32124;
    case AUDIO_CODEC_PCMA:
        return 32256;
    default:
        return 32767;
    }
}

static uint32_t cur_ms(const struct audio_state *st)
{
    return (uint32_t)((st->t_ns - st->t0_ns) / 1000000u + st->pkt_sample / (AUDIO_RATE / 1000));
}

#ifdef HAVE_SPANDSP
static void dtmf_digits(void *user, const char *digits, int len)
{
    struct audio_state *st = user;
    for (int i = 0; i < len; i++) {
        if (st->ndigits == AUDIO_MAX_DIGITS) {
            if (st->digits_dropped < UINT16_MAX) st->digits_dropped++;
            continue;
        }
        st->digit_ms[st->ndigits] = cur_ms(st);
        st->digits[st->ndigits++] = digits[i];
    }
}
#endif

void audio_init(struct audio_state *st, enum audio_codec c, const struct audio_plan *plan,
                const struct audio_cfg *cfg)
{
    memset(st, 0, sizeof *st);
    audio_dec_init(&st->dec, c);
    st->plan = plan;
    st->cfg = *cfg;
    if (!plan) st->cfg.tones = false;
    st->clip_level = clip_level(c);
}

void audio_release(struct audio_state *st)
{
    audio_dec_release(&st->dec);
    free(st->dtmf); /* spandsp's dtmf_rx state holds no other memory */
    st->dtmf = NULL;
}

size_t audio_state_lib_bytes(const struct audio_state *st)
{
    size_t n = st->dec.lib_bytes;
#ifdef HAVE_SPANDSP
    if (st->dtmf) n += sizeof(dtmf_rx_state_t);
#endif
    return n;
}

/* ---- the timeline ---------------------------------------------------------------------- */

static void close_second(struct audio_state *st)
{
    if (st->sec_samples == 0) return;
    struct audio_second s = {
        .sec = st->sec_cur,
        .level_cdb = st->sec_energy
                         ? (int16_t)lrint(100.0 * 10.0 *
                                          log10((double)st->sec_energy / st->sec_samples / FS2))
                         : -9900,
        .active_ms = (uint16_t)st->sec_active,
        .heard_ms = (uint16_t)(st->sec_samples / (AUDIO_RATE / 1000)),
        .clipped = (uint16_t)(st->sec_clipped > UINT16_MAX ? UINT16_MAX : st->sec_clipped),
    };
    uint8_t slot = (uint8_t)((st->ring_head + st->ring_n) % AUDIO_SECONDS_RING);
    if (st->ring_n == AUDIO_SECONDS_RING)
        st->ring_head = (uint8_t)((st->ring_head + 1) % AUDIO_SECONDS_RING);
    else
        st->ring_n++;
    st->ring[slot] = s;
    st->seconds++;
    if (st->sec_active == 0) st->silent_seconds++;
    st->sec_energy = 0;
    st->sec_samples = st->sec_active = st->sec_clipped = 0;
}

bool audio_second_pop(struct audio_state *st, struct audio_second *out)
{
    if (st->ring_n == 0) return false;
    *out = st->ring[st->ring_head];
    st->ring_head = (uint8_t)((st->ring_head + 1) % AUDIO_SECONDS_RING);
    st->ring_n--;
    return true;
}

/* ---- the VAD --------------------------------------------------------------------------- */

static void frame_done(struct audio_state *st)
{
    uint64_t e = st->fr_energy;
    /* The rule in audio.h on the frame's energy about its mean: a DC offset (a payload of
     * one constant code) is no sound, so the VAD high-passes as a real one does (G.729
     * Annex B §B.3.1 and G.711 Appendix II filter below 140 Hz before they judge). */
    uint64_t dc = st->fr_n ? (uint64_t)((int64_t)st->fr_sum * st->fr_sum / st->fr_n) : 0;
    uint64_t ac = e > dc ? e - dc : 0;
    bool active = ac >= vad_loud || (ac >= vad_min && st->fr_zc <= AUDIO_VAD_MAX_ZC);
    st->frames++;
    st->energy_sum += e;
    st->sec_energy += e;
    st->sec_samples += FRAME;
    if (active) {
        st->active_frames++;
        st->active_energy += e;
        st->active_samples += FRAME;
        st->sec_active += FRAME / (AUDIO_RATE / 1000);
    }
    st->fr_energy = 0;
    st->fr_sum = 0;
    st->fr_n = st->fr_zc = 0;
}

/* ---- tones ----------------------------------------------------------------------------- */

static uint32_t tol_ms(uint32_t nom)
{
    /* 40 ms blocks put each edge within a block; plans allow 10-20 % (E.180 §2) */
    return nom / 5 > 80 ? nom / 5 : 80;
}

static bool near(uint32_t ms, uint32_t nom)
{
    uint32_t d = ms > nom ? ms - nom : nom - ms;
    return d <= tol_ms(nom);
}

/* t - d, or 0: segment lengths count samples, times count packet time, and a sender's
 * packets may carry more audio than the time between them */
static uint32_t before(uint32_t t, uint32_t d)
{
    return t > d ? t - d : 0;
}

static uint32_t seg_ms(uint16_t seg)
{
    return (uint32_t)(seg & SEG_LEN) * BLOCK_MS;
}

/* Segments of a cadence to hear before it counts: one cycle when a cycle is 3 s or longer
 * (ringback, CNG), two for quicker ones (busy and congestion differ only in their pace, and
 * UK congestion's 400/350 would pass for busy within one pair). */
static int needed(const struct audio_tone *t)
{
    uint32_t cycle = 0;
    for (int i = 0; i < t->ncad; i++)
        cycle += t->cadence_ms[i];
    int k = cycle >= 3000 ? t->ncad : 2 * t->ncad;
    return k > AUDIO_PLAN_MAX_CADENCE ? AUDIO_PLAN_MAX_CADENCE : k;
}

static uint32_t longest_off(const struct audio_tone *t)
{
    uint32_t m = 0;
    for (int i = 1; i < t->ncad; i += 2)
        m = t->cadence_ms[i] > m ? t->cadence_ms[i] : m;
    return m;
}

/* The last k segments of r against t's cycle, from any on-segment of it; `open`: the
 * last (off) segment is still going, and need only be long enough when it is the cycle's
 * long pause (UK's 0.4 on, 2 s off is no double ring cut short). */
static bool cadence_match(const struct audio_tone *t, const struct audio_run *r, int k, bool open)
{
    if (r->n < k) return false;
    const uint16_t *seg = r->seg + r->n - k;
    if (!(seg[0] & SEG_ON)) return false;
    for (int rot = 0; rot < t->ncad; rot += 2) {
        bool ok = true;
        for (int i = 0; ok && i < k; i++) {
            uint32_t nom = t->cadence_ms[(rot + i) % t->ncad], ms = seg_ms(seg[i]);
            if (open && i == k - 1)
                ok = nom == longest_off(t) && ms + tol_ms(nom) >= nom;
            else
                ok = near(ms, nom);
        }
        if (ok) return true;
    }
    return false;
}

/* A detection of tone ti over [start, end]; one that ended less than 10 s before is the
 * same one going on (a cadence broken by a lost packet). The index, or -1 when full. */
static int det_open(struct audio_state *st, int ti, uint32_t start, uint32_t end, uint16_t cycles)
{
    for (int i = st->ndet - 1; i >= 0; i--) {
        struct audio_detection *d = &st->det[i];
        if (d->tone != ti) continue;
        if (start <= d->end_ms + 10000) {
            if (end > d->end_ms) d->end_ms = end;
            d->cycles = (uint16_t)(d->cycles + cycles);
            return i;
        }
        break;
    }
    if (st->ndet == AUDIO_MAX_DETECTIONS) {
        st->dropped_detections++;
        return -1;
    }
    st->det[st->ndet] = (struct audio_detection){(uint8_t)ti, cycles, start, end};
    return st->ndet++;
}

static void seq_segment(struct audio_state *st, int ti, int j, int s, uint32_t start, uint32_t end,
                        uint32_t ms)
{
    const struct audio_tone *t = &st->plan->tones[ti];
    uint8_t step = st->seq_step[j];
    /* E.180 §9: the three tones follow each other with at most 30 ms between them */
    bool next = step > 0 && t->sets[step] == s && near(ms, t->cadence_ms[step]) &&
                start <= st->seq_end_ms[j] + 30 + 2 * BLOCK_MS;
    if (next) {
        st->seq_end_ms[j] = end;
        if (++st->seq_step[j] == t->nsets) {
            det_open(st, ti, st->seq_start_ms[j], end, 1);
            st->seq_step[j] = 0;
        }
        return;
    }
    st->seq_step[j] = 0;
    if (t->sets[0] == s && near(ms, t->cadence_ms[0])) {
        st->seq_step[j] = 1;
        st->seq_start_ms[j] = start;
        st->seq_end_ms[j] = end;
    }
}

/* Set s finished a segment (on or off) of len blocks ending at end_ms. */
static void segment_done(struct audio_state *st, int s, bool on, uint16_t len, uint32_t end_ms,
                         bool open)
{
    struct audio_run *r = &st->runs[s];
    uint16_t v = (uint16_t)((len > SEG_LEN ? SEG_LEN : len) | (on ? SEG_ON : 0));
    if (r->n == AUDIO_PLAN_MAX_CADENCE)
        memmove(r->seg, r->seg + 1, sizeof r->seg - sizeof r->seg[0]);
    else
        r->n++;
    r->seg[r->n - 1] = v;
    uint32_t ms = seg_ms(v);

    const struct audio_plan *plan = st->plan;
    int nseq = 0;
    for (int ti = 0; ti < plan->ntones; ti++) {
        const struct audio_tone *t = &plan->tones[ti];
        if (t->sequence) {
            int j = nseq++;
            if (j < 2 && on) seq_segment(st, ti, j, s, before(end_ms, ms), end_ms, ms);
            continue;
        }
        if (t->sets[0] != s) continue;
        if (t->ncad == 0) {
            if (on) st->locked[ti] = 0; /* continuous: it stopped; its end was kept per block */
            continue;
        }
        if (st->locked[ti]) {
            struct audio_detection *d = &st->det[st->locked[ti] - 1];
            bool fits = false;
            uint32_t lo = longest_off(t);
            for (int i = 0; i < t->ncad; i++)
                if ((i % 2 == 0) == on && near(ms, t->cadence_ms[i])) fits = true;
            if (on && fits) {
                d->end_ms = end_ms;
                d->cycles++;
            } else if (on || (!open && ms > lo + tol_ms(lo))) {
                st->locked[ti] = 0; /* the cadence broke */
            }
            continue;
        }
        int k = needed(t);
        if (on || !cadence_match(t, r, k, open)) continue;
        uint32_t total = 0;
        for (int i = 0; i < k; i++)
            total += seg_ms(r->seg[r->n - k + i]);
        int d = det_open(st, ti, before(end_ms, total), before(end_ms, ms), (uint16_t)(k / 2));
        st->locked[ti] = (uint8_t)(d + 1);
    }
}

static void run_update(struct audio_state *st, int s, bool present, uint32_t now)
{
    struct audio_run *r = &st->runs[s];
    if (r->len && (bool)r->on != present) {
        /* the segment ended with the previous block */
        segment_done(st, s, r->on, r->len, before(now, BLOCK_MS), false);
        r->len = 0;
    }
    r->on = present;
    if (r->len < SEG_LEN) r->len++;
    if (!present) return;
    /* continuous tones: they count once heard for min_ms, and last while they are on */
    uint32_t on_ms = (uint32_t)r->len * BLOCK_MS;
    for (int ti = 0; ti < st->plan->ntones; ti++) {
        const struct audio_tone *t = &st->plan->tones[ti];
        if (t->sequence || t->ncad || t->sets[0] != s || on_ms < t->min_ms) continue;
        if (st->locked[ti])
            st->det[st->locked[ti] - 1].end_ms = now;
        else
            st->locked[ti] = (uint8_t)(det_open(st, ti, before(now, on_ms), now, 1) + 1);
    }
}

static float gz_power(const struct audio_state *st, int f, float energy, int n)
{
    int k = st->plan->slot[f];
    float g0 = st->gz0[k], g1 = st->gz1[k], c = st->plan->coef[f];
    float p = g0 * g0 + g1 * g1 - c * g0 * g1;
    /* a pure on-frequency sine of energy E gives |X|^2 = E N / 2 */
    return energy > 0 ? p * 2.0f / ((float)n * energy) : 0;
}

static void block_done(struct audio_state *st)
{
    const struct audio_plan *plan = st->plan;
    uint32_t now = cur_ms(st);
    bool loud = st->blk_energy_raw >= tone_min;
    float pw[AUDIO_PLAN_MAX_FREQS];
    for (int i = 0; i < plan->nfreqs; i++)
        pw[i] = loud ? gz_power(st, i, plan->full_rate[i] ? st->blk_energy8 : st->blk_energy4,
                                plan->full_rate[i] ? BLOCK : BLOCK / 2)
                     : 0;
    /* One group at most is present in a block, the purest: 350+440 (NA dial) also puts
     * 57 % of 440's power into a 450 Hz filter, enough to pass for UK's 350+450 */
    int best = -1;
    float best_p = 0;
    for (int s = 0; s < plan->nsets; s++) {
        float a = pw[plan->set_freq[s][0]], p = a;
        if (plan->set_nfreq[s] == 2) {
            float b = pw[plan->set_freq[s][1]];
            p = a + b;
            if (a < TWIST * p || b < TWIST * p) continue;
        }
        if (p >= PURITY && p > best_p) {
            best = s;
            best_p = p;
        }
    }
    for (int s = 0; s < plan->nsets; s++)
        run_update(st, s, s == best, now);
    if (best >= 0) st->tonal_blocks++;
    memset(st->gz0, 0, sizeof st->gz0);
    memset(st->gz1, 0, sizeof st->gz1);
    st->blk_energy4 = st->blk_energy8 = 0;
    st->blk_energy_raw = 0;
    st->blk_n = 0;
}

/* The filters four side by side (GCC/Clang vectors: SSE, NEON or scalar code), each lane
 * computing exactly what one filter alone would. */
typedef float v4f __attribute__((vector_size(16)));
#define GROUPS (AUDIO_PLAN_SLOTS / 4)

/* k samples of one block (at most what it lacks): decimator, energies and filters, their
 * state in locals; h4, f4: the plan's groups (4 kHz; 4 + 8 kHz), constants from tone_run. */
static inline __attribute__((always_inline)) void
tone_groups(struct audio_state *st, const int16_t *pcm, size_t k, const int h4, const int f4)
{
    const struct audio_plan *plan = st->plan;
    v4f c[GROUPS], g0[GROUPS], g1[GROUPS];
    memcpy(c, plan->slot_coef, sizeof c);
    memcpy(g0, st->gz0, sizeof g0);
    memcpy(g1, st->gz1, sizeof g1);
    float e8 = st->blk_energy8, e4 = st->blk_energy4;
    uint64_t raw = st->blk_energy_raw;
    int32_t d0 = st->dec_x[0], d1 = st->dec_x[1], d2 = st->dec_x[2];
    bool odd = st->dec_phase;
    for (size_t i = 0; i < k; i++) {
        int32_t x = pcm[i];
        float xf = (float)x;
        for (int v = h4; v < f4; v++) { /* Goertzel: s = x + 2cos(w) s[-1] - s[-2] */
            v4f s = xf + c[v] * g0[v] - g1[v];
            g1[v] = g0[v];
            g0[v] = s;
        }
        e8 += xf * xf;
        raw += (uint64_t)(x * x);
        if (odd) {
            /* [1 3 3 1]/8, i.e. ((1 + z^-1) / 2)^3: -0.4 dB at 440 Hz, -22 dB at 2.9 kHz,
             * which would otherwise fold onto 1.1 kHz */
            float y = (float)(d0 + 3 * d1 + 3 * d2 + x) * 0.125f;
            for (int v = 0; v < h4; v++) {
                v4f s = y + c[v] * g0[v] - g1[v];
                g1[v] = g0[v];
                g0[v] = s;
            }
            e4 += y * y;
        }
        odd = !odd;
        d0 = d1;
        d1 = d2;
        d2 = x;
    }
    memcpy(st->gz0, g0, sizeof g0);
    memcpy(st->gz1, g1, sizeof g1);
    st->blk_energy8 = e8;
    st->blk_energy4 = e4;
    st->blk_energy_raw = raw;
    st->dec_x[0] = (int16_t)d0;
    st->dec_x[1] = (int16_t)d1;
    st->dec_x[2] = (int16_t)d2;
    st->dec_phase = odd;
    st->blk_n = (uint16_t)(st->blk_n + k);
}

static void tone_run(struct audio_state *st, const int16_t *pcm, size_t k)
{
    const int h4 = st->plan->half4, f4 = h4 + st->plan->full4;
    /* the default plan's 11 + 1 filters: known loop counts keep their state in registers */
    if (h4 == 3 && f4 == 4)
        tone_groups(st, pcm, k, 3, 4);
    else
        tone_groups(st, pcm, k, h4, f4);
}

/* ---- feeding --------------------------------------------------------------------------- */

static void analyse_samples(struct audio_state *st, const int16_t *pcm, size_t n);

#ifdef HAVE_SPANDSP
/* -40 dBov a sample, as a mean square */
static const double dtmf_min = FS2 * 1e-4;
#endif

static void analyse(struct audio_state *st, const int16_t *pcm, size_t n)
{
#ifndef HAVE_SPANDSP
    analyse_samples(st, pcm, n);
#else
    uint64_t e0 = st->energy_sum + st->fr_energy;
    analyse_samples(st, pcm, n);
    if (st->cfg.dtmf) {
        if (!st->dtmf && (st->dtmf = malloc(sizeof(dtmf_rx_state_t))) != NULL)
            dtmf_rx_init(st->dtmf, dtmf_digits, st);
        /* A packet quieter than dtmf_min holds no digit spandsp would accept (its floor is
         * -26 dBm0 a tone, Q.24): let it count the samples without filtering them. That is
         * most of the DTMF receiver's cost in a call's silences. */
        uint64_t e = st->energy_sum + st->fr_energy - e0;
        if (st->dtmf && e < (uint64_t)((double)n * dtmf_min))
            dtmf_rx_fillin(st->dtmf, (int)n);
        else if (st->dtmf)
            dtmf_rx(st->dtmf, pcm, (int)n);
    }
#endif
}

/* Level, activity and clipping of samples up to the end of the VAD frame, in locals: the
 * samples are int16_t like some of the state's fields, so that the compiler must otherwise
 * store and reload the state around every sample (the loop was most of a packet's cost). */
static size_t frame_samples(struct audio_state *st, const int16_t *pcm, size_t n)
{
    size_t room = (size_t)(FRAME - st->fr_n), k = room < n ? room : n;
    const int32_t clip = st->clip_level;
    uint64_t energy = st->fr_energy;
    uint32_t zc = st->fr_zc, run = st->clip_run, clipped = 0, runs = 0;
    int32_t prev = st->prev, sum = st->fr_sum;
    for (size_t i = 0; i < k; i++) {
        int32_t x = pcm[i];
        energy += (uint64_t)(x * x);
        sum += x;
        zc += (x ^ prev) < 0; /* the sign changed */
        prev = x;
        if (x >= clip || x <= -clip) {
            if (run < UINT8_MAX) run++;
            /* a run counts whole once it is AUDIO_CLIP_RUN long */
            clipped += run == AUDIO_CLIP_RUN ? AUDIO_CLIP_RUN : run > AUDIO_CLIP_RUN ? 1 : 0;
            runs += run == AUDIO_CLIP_RUN;
        } else {
            run = 0;
        }
    }
    st->fr_energy = energy;
    st->fr_sum = sum;
    st->fr_zc = (uint16_t)zc;
    st->prev = (int16_t)prev;
    st->clip_run = (uint8_t)run;
    st->clipped += clipped;
    st->clip_runs += runs;
    st->sec_clipped += clipped;
    st->fr_n = (uint16_t)(st->fr_n + k);
    return k;
}

/* G.711 straight from the bytes (no PCM is written), with the decoded samples' figures.
 * Each law gets, built once from the decoder's own tables: acc[], a code's square in the
 * low G711_SQ_BITS bits and the sample above them, so one add a byte sums the VAD frame's
 * energy and DC (160 squares < 2^38, their sum within +-2^23 of the 26 bits above); tab[],
 * square, full-scale and sign bits, for bytes outside whole 8-byte words and clipping runs;
 * and sign and full scale as byte compares eight at a time: µ-law's negative codes are
 * those below 0x7f, A-law's below 0x80, full scale one code of each sign (ITU-T G.711
 * Tables 1a/2a; g711_build checks both, else the word path stays off). */
#define G711_FULL   0x40000000u
#define G711_NEG    0x80000000u
#define G711_SQ_BITS 38
#define BYTES_ONE    0x0101010101010101ull
#define BYTES_HIGH   0x8080808080808080ull
#define BYTES_LOW7   0x7f7f7f7f7f7f7f7full

struct g711_law {
    uint64_t acc[256];
    uint32_t tab[256];
    uint64_t neg_add; /* to each byte's low 7 bits: bit 7 carried = a non-negative code */
    uint64_t full7;   /* the full-scale codes' low 7 bits, in every byte */
    bool words;       /* the two byte rules hold for this law's table */
};
static struct g711_law g711[2];
static pthread_once_t g711_once = PTHREAD_ONCE_INIT;

static void g711_build(void)
{
    const int16_t *law[2] = {audio_ulaw, audio_alaw};
    for (int l = 0; l < 2; l++) {
        struct g711_law *g = &g711[l];
        int32_t clip = clip_level(l ? AUDIO_CODEC_PCMA : AUDIO_CODEC_PCMU);
        int first_pos = 0, full7 = -1;
        while (first_pos < 128 && law[l][first_pos] < 0)
            first_pos++;
        g->words = first_pos > 0;
        for (int b = 0; b < 256; b++) {
            int32_t x = law[l][b];
            bool full = x >= clip || x <= -clip;
            g->acc[b] = ((uint64_t)(int64_t)x << G711_SQ_BITS) + (uint64_t)(x * x);
            g->tab[b] = (uint32_t)(x * x) | (full ? G711_FULL : 0) | (x < 0 ? G711_NEG : 0);
            if (full && full7 < 0) full7 = b & 0x7f;
            if ((x < 0) != (b < first_pos) || (full && (b & 0x7f) != full7)) g->words = false;
        }
        for (int b = 0; b < 256; b++)
            if ((b & 0x7f) == full7 && !(g->tab[b] & G711_FULL)) g->words = false;
        g->neg_add = (uint64_t)(0x80 - first_pos) * BYTES_ONE;
        g->full7 = (uint64_t)(full7 < 0 ? 0x80 : full7) * BYTES_ONE; /* 0x80: never matches */
    }
}

/* Eight codes at once (byte i of the word is code i, little-endian): energy and DC into
 * *acc, sign changes into *zc's byte lanes, full-scale codes into *full; the last sign. */
static inline uint32_t g711_word(const uint64_t *sq, uint64_t neg_add, uint64_t full7,
                                 const uint8_t *p, uint32_t prev, uint64_t *acc, uint64_t *zc,
                                 uint64_t *full)
{
    uint64_t w;
    memcpy(&w, p, 8);
    for (int i = 0; i < 8; i++)
        *acc += sq[p[i]];
    uint64_t neg = ~(w | ((w & BYTES_LOW7) + neg_add)) & BYTES_HIGH;
    /* a sign change: a code's sign against the one before it (the previous byte's lane) */
    *zc += (neg ^ (neg << 8 | (uint64_t)prev << 7)) >> 7;
    uint64_t f = (w & BYTES_LOW7) ^ full7;
    *full |= ~((f + BYTES_LOW7) | f) & BYTES_HIGH; /* a byte of f is 0 */
    return (uint32_t)(neg >> 63);
}

/* frame_samples over G.711 codes: the same state, the same figures */
static size_t frame_bytes(struct audio_state *st, const struct g711_law *g, const uint8_t *p,
                          size_t n)
{
    size_t room = (size_t)(FRAME - st->fr_n), k = room < n ? room : n, i = 0;
    uint64_t acc = 0, zcw = 0, fullw = 0;
    uint32_t zc = 0, prev = st->prev < 0, any = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (g->words) {
        const uint64_t *sq = g->acc, neg_add = g->neg_add, full7 = g->full7; /* registers */
        for (; i + 8 <= k; i += 8)
            prev = g711_word(sq, neg_add, full7, p + i, prev, &acc, &zcw, &fullw);
        zc = (uint32_t)((zcw * BYTES_ONE) >> 56); /* the lanes' sum: at most 160 */
        any = fullw ? G711_FULL : 0;
    }
#endif
    for (; i < k; i++) {
        uint32_t v = g->tab[p[i]], neg = v >> 31;
        acc += g->acc[p[i]];
        zc += neg ^ prev; /* the sign changed */
        prev = neg;
        any |= v;
    }
    if (any & G711_FULL) { /* full-scale codes in this stretch: count their runs */
        uint32_t run = st->clip_run, clipped = 0, runs = 0;
        for (size_t j = 0; j < k; j++) {
            if (g->tab[p[j]] & G711_FULL) {
                if (run < UINT8_MAX) run++;
                clipped += run == AUDIO_CLIP_RUN ? AUDIO_CLIP_RUN : run > AUDIO_CLIP_RUN ? 1 : 0;
                runs += run == AUDIO_CLIP_RUN;
            } else {
                run = 0;
            }
        }
        st->clip_run = (uint8_t)run;
        st->clipped += clipped;
        st->clip_runs += runs;
        st->sec_clipped += clipped;
    } else if (k) {
        st->clip_run = 0;
    }
    int64_t sum = (int64_t)(acc >> G711_SQ_BITS); /* above the squares: 26 bits, signed */
    if (sum >= (int64_t)1 << 25) sum -= (int64_t)1 << 26;
    st->fr_energy += acc & (((uint64_t)1 << G711_SQ_BITS) - 1);
    st->fr_sum += (int32_t)sum;
    st->fr_zc = (uint16_t)(st->fr_zc + zc);
    st->prev = (int16_t)(prev ? -1 : 0); /* only its sign is read again */
    st->fr_n = (uint16_t)(st->fr_n + k);
    return k;
}

/* out of line: the loop gets registers of its own, not the RTP path's it was inlined in */
static __attribute__((noinline)) void
analyse_bytes(struct audio_state *st, const struct g711_law *g, const uint8_t *p, size_t n)
{
    st->samples += n;
    for (size_t i = 0; i < n;) {
        size_t k = frame_bytes(st, g, p + i, n - i);
        i += k;
        st->pkt_sample += (uint32_t)k;
        if (st->fr_n == FRAME) frame_done(st);
    }
}

/* A packet whose every sample is within +-DIGITAL_SILENCE (G.711's smallest steps: µ-law's
 * 0xFF/0x7F digital silence decodes to 0, A-law's 0xD5/0x55 to +-8) is 60 dB under the
 * quietest tone that counts (tone_min): the filters skip it. For power that is exact up to
 * those steps: fed zeros, a Goertzel filter only rotates its state, |X|^2 unchanged. */
#define DIGITAL_SILENCE 8

static bool quiet_packet(const int16_t *pcm, size_t n, uint64_t *energy)
{
    uint32_t far = 0;
    uint64_t e = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t x = pcm[i];
        far |= (uint32_t)(x + DIGITAL_SILENCE) > 2 * DIGITAL_SILENCE; /* outside +-8 */
        e += (uint64_t)(x * x);
    }
    *energy = e;
    return !far;
}

/* tone_run's bookkeeping for n quiet samples: the block's length, time and energy go on,
 * the filters (and the decimator's history, now silence) stand still */
static void tone_skip(struct audio_state *st, size_t n, uint64_t energy)
{
    st->blk_energy_raw += energy;
    st->blk_energy8 += (float)energy;
    memset(st->dec_x, 0, sizeof st->dec_x);
    st->dec_phase ^= (uint8_t)(n & 1);
    while (n) {
        size_t k = (size_t)(BLOCK - st->blk_n) < n ? (size_t)(BLOCK - st->blk_n) : n;
        st->blk_n = (uint16_t)(st->blk_n + k);
        st->pkt_sample += (uint32_t)k - 1; /* a block ends at its last sample's time */
        n -= k;
        if (st->blk_n == BLOCK) block_done(st);
        st->pkt_sample++;
    }
}

static void analyse_samples(struct audio_state *st, const int16_t *pcm, size_t n)
{
    st->samples += n;
    uint64_t quiet_e;
    if (st->cfg.tones && quiet_packet(pcm, n, &quiet_e)) {
        uint32_t at = st->pkt_sample;
        tone_skip(st, n, quiet_e);
        st->pkt_sample = at;
    } else if (st->cfg.tones) {
        /* a block ends at its last sample's time (pkt_sample) */
        uint32_t at = st->pkt_sample;
        for (size_t i = 0; i < n;) {
            size_t k = (size_t)(BLOCK - st->blk_n) < n - i ? (size_t)(BLOCK - st->blk_n) : n - i;
            tone_run(st, pcm + i, k);
            i += k;
            if (st->blk_n == BLOCK) {
                st->pkt_sample = at + (uint32_t)i - 1;
                block_done(st);
            }
        }
        st->pkt_sample = at;
    }
    for (size_t i = 0; i < n;) {
        size_t k = frame_samples(st, pcm + i, n - i);
        i += k;
        st->pkt_sample += (uint32_t)k;
        if (st->fr_n == FRAME) frame_done(st);
    }
}

static void start(struct audio_state *st, uint64_t t_ns, uint32_t sec)
{
    if (!st->started) {
        st->started = true;
        st->t0_ns = t_ns;
        st->sec_cur = sec;
    }
}

/* Comfort noise lasts until the next packet: that much silence is heard, by the RTP
 * clock and never longer than the packet time between them (a sender's timestamp jump
 * must not buy seconds of analysis per packet). */
static void flush_cn(struct audio_state *st, uint32_t rtp_ts, uint64_t t_ns)
{
    st->cn_pending = false;
    uint32_t clock = audio_codec_clock(st->dec.codec);
    if (clock == 0) clock = AUDIO_RATE; /* RFC 3389 §4: CN's static PT 13 runs at 8000 */
    uint32_t d = rtp_ts - st->cn_ts;
    if ((int32_t)d <= 0) return;
    uint64_t n = (uint64_t)d * AUDIO_RATE / clock;
    uint64_t by_time = t_ns > st->t_ns ? (t_ns - st->t_ns) / (1000000000u / AUDIO_RATE) : 0;
    if (n > by_time) n = by_time;
    if (n > (uint64_t)AUDIO_CN_MAX_MS * (AUDIO_RATE / 1000))
        n = (uint64_t)AUDIO_CN_MAX_MS * (AUDIO_RATE / 1000);
    st->cn_samples += (uint32_t)n;
    static const int16_t zeros[FRAME];
    for (uint64_t left = n; left;) {
        size_t k = left > FRAME ? FRAME : (size_t)left;
        analyse(st, zeros, k);
        left -= k;
    }
}

enum audio_err audio_feed(struct audio_state *st, enum audio_codec c, const uint8_t *payload,
                          size_t len, uint32_t rtp_ts, uint64_t t_ns, uint32_t sec)
{
    start(st, t_ns, sec);
    st->packets++;
    if (st->cn_pending) flush_cn(st, rtp_ts, t_ns); /* in the comfort noise's own second and time */
    if (sec != st->sec_cur) {
        close_second(st);
        st->sec_cur = sec;
    }
    st->t_ns = t_ns < st->t0_ns ? st->t0_ns : t_ns;
    st->pkt_sample = 0;
    if (c == AUDIO_CODEC_EVENT) {
        st->event_packets++; /* RFC 4733: events are not audio */
        return AUDIO_OK;
    }
    if (c == AUDIO_CODEC_CN) {
        st->cn_packets++;
        st->cn_pending = true;
        st->cn_ts = rtp_ts;
        return AUDIO_OK;
    }
    if (c != st->dec.codec) {
        audio_dec_release(&st->dec);
        audio_dec_init(&st->dec, c);
        st->clip_level = clip_level(c);
    }
    /* G.711 with no detector listening: level, activity and clipping from the bytes */
    if ((c == AUDIO_CODEC_PCMU || c == AUDIO_CODEC_PCMA) && !st->cfg.tones && !st->cfg.dtmf &&
        len && len <= AUDIO_MAX_PACKET_SAMPLES) {
        pthread_once(&g711_once, g711_build);
        analyse_bytes(st, &g711[c == AUDIO_CODEC_PCMA], payload, len);
        return AUDIO_OK;
    }
    int16_t pcm[AUDIO_MAX_PACKET_SAMPLES];
    size_t n;
    enum audio_err e = audio_decode(&st->dec, payload, len, pcm, &n);
    if (e != AUDIO_OK) {
        st->errors[e]++;
        return e;
    }
    analyse(st, pcm, n);
    return AUDIO_OK;
}

void audio_feed_pcm(struct audio_state *st, const int16_t *pcm, size_t n, uint64_t t_ns,
                    uint32_t sec)
{
    start(st, t_ns, sec);
    if (sec != st->sec_cur) {
        close_second(st);
        st->sec_cur = sec;
    }
    st->t_ns = t_ns < st->t0_ns ? st->t0_ns : t_ns;
    st->pkt_sample = 0;
    analyse(st, pcm, n);
}

/* The tone trackers' open segments end now: an on-segment as heard, an off-segment
 * still going as long enough (ringback cut by the end). */
static void close_runs(struct audio_state *st)
{
    if (!st->cfg.tones) return;
    uint32_t now = cur_ms(st);
    for (int s = 0; s < st->plan->nsets; s++) {
        struct audio_run *r = &st->runs[s];
        if (!r->len) continue;
        if (r->on) {
            segment_done(st, s, true, r->len, now, false);
        } else {
            /* an off-segment still going: long enough is enough (ringback cut by the end) */
            segment_done(st, s, false, r->len, now, true);
        }
        r->len = 0;
    }
}

void audio_finish(struct audio_state *st)
{
    close_second(st);
    close_runs(st);
}

void audio_detectors_off(struct audio_state *st)
{
    close_runs(st);
    st->cfg.tones = false;
    st->cfg.dtmf = false;
    free(st->dtmf); /* what it heard is in digits[]; its state is not needed again */
    st->dtmf = NULL;
}

bool audio_tone_heard(const struct audio_state *st)
{
    return st->tonal_blocks != 0;
}

void audio_summary(const struct audio_state *st, struct audio_summary *o)
{
    memset(o, 0, sizeof *o);
    o->codec = st->dec.codec;
    o->unavailable = audio_codec_unavailable(st->dec.codec);
    o->packets = st->packets;
    o->cn_packets = st->cn_packets;
    o->event_packets = st->event_packets;
    o->heard_s = (double)st->samples / AUDIO_RATE;
    o->active_s = st->active_frames * (FRAME / (double)AUDIO_RATE);
    o->silence_s = o->heard_s > o->active_s ? o->heard_s - o->active_s : 0;
    o->silent_seconds = st->silent_seconds;
    o->tonal_s = st->tonal_blocks * (BLOCK_MS / 1000.0);
    o->level_dbov = st->energy_sum && st->frames
                        ? 10 * log10((double)st->energy_sum / (st->frames * (double)FRAME) / FS2)
                        : -99;
    o->speech_level_dbov =
        st->active_energy && st->active_samples
            ? 10 * log10((double)st->active_energy / (double)st->active_samples / FS2)
            : -99;
    o->clipped = st->clipped;
    o->clip_runs = st->clip_runs;
    memcpy(o->errors, st->errors, sizeof o->errors);
    o->ndet = st->ndet;
    o->det = st->det;
    o->dropped_detections = st->dropped_detections;
    o->ndigits = st->ndigits;
    o->digits = st->digits;
    o->digit_ms = st->digit_ms;
    o->digits_dropped = st->digits_dropped;
#ifdef HAVE_SPANDSP
    o->dtmf_unavailable = st->cfg.dtmf ? NULL : "in-band DTMF off";
#else
    o->dtmf_unavailable = "in-band DTMF: built without spandsp";
#endif
}
