/* The checks that listen to a held call's streams (issue 24): early media behind a 183
 * that carried neither tone nor speech, and an answered call whose one direction flowed
 * at full rate but carried only silence while the other carried speech. The packet checks
 * of check_media.c come first; these judge what those could not, from the per-second
 * level and activity audio/ measured (held_audio). Each is a verdict and its words. */
#include "checks.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "audio/audio.h"
#include "builder.h"

/* What one direction of a call carried over a period, second by second. */
struct heard {
    uint32_t heard, active; /* seconds with audio, and of them speech */
    double level_sum;       /* dBov of heard seconds with a level kept */
    uint32_t level_n;
    ptime_t first_sound;          /* start of its first speech or tone second; 0 none */
    const struct held_tone *tone; /* the first tone heard in the period */
    bool off;                     /* a stream of it was not decoded: no verdict */
    const struct held_stream *first;
    uint64_t packets;
    /* its streams' whole figures: speech-active seconds, the power of their speech summed
     * weighted by those seconds, clipped samples and their runs */
    double active_s, speech_pow;
    uint64_t clipped, clip_runs;
};

static bool in_hold(const struct held_call *c, ptime_t t)
{
    for (unsigned i = 0; i < c->nholds; i++)
        if (t >= c->holds[i].start && (!c->holds[i].end || t < c->holds[i].end)) return true;
    return false;
}

static bool bit(const uint64_t *w, unsigned k)
{
    return w[k / 64] >> (k % 64) & 1;
}

/* One stream's seconds whose middle falls in [from, to) (and out of holds, if asked). */
static void heard_stream(const struct held_call *c, const struct held_stream *s, ptime_t from,
                         ptime_t to, bool holds, struct heard *h)
{
    const struct held_audio *a = &s->audio;
    for (unsigned t = 0; t < a->ntones; t++)
        if (!h->tone && held_overlap(a->tones[t].from, a->tones[t].to, from, to) > 0)
            h->tone = &a->tones[t];
    for (unsigned k = 0; k < a->nsec; k++) {
        ptime_t t0 = s->first + (ptime_t)k * PTIME_SEC, mid = t0 + PTIME_SEC / 2;
        if (mid < from || mid >= to || (holds && in_hold(c, mid)) || !bit(a->heard, k)) continue;
        bool active = bit(a->active, k), tonal = false;
        for (unsigned t = 0; t < a->ntones; t++)
            tonal |= mid >= a->tones[t].from && mid <= a->tones[t].to;
        h->heard++;
        h->active += active;
        if (k < HELD_AUDIO_LEVELS && a->level[k] != -128) {
            h->level_sum += a->level[k];
            h->level_n++;
        }
        if ((active || tonal) && (!h->first_sound || t0 < h->first_sound))
            h->first_sound = t0 > from ? t0 : from;
    }
    /* past the bits: the counts, when the period reaches there */
    if (to > s->first + (ptime_t)HELD_AUDIO_SECONDS * PTIME_SEC) {
        h->heard += a->heard_after;
        h->active += a->active_after;
    }
}

/* Direction dir (1 towards the callee, 2 towards the caller) over [from, to). */
static void heard_in(const struct held_call *c, const struct held_stream *ss, size_t n, int dir,
                     ptime_t from, ptime_t to, bool holds, struct heard *h)
{
    memset(h, 0, sizeof *h);
    for (size_t i = 0; i < n; i++) {
        const struct held_stream *s = &ss[i];
        if (held_dir(c, s) != dir || s->last < from || s->first > to) continue;
        h->packets += s->packets;
        if (!s->audio.on) {
            h->off = true; /* a codec we cannot decode: never a guess */
            continue;
        }
        if (!h->first) h->first = s;
        heard_stream(c, s, from, to, holds, h);
        h->active_s += s->audio.active_s;
        if (s->audio.speech_level_dbov > -99)
            h->speech_pow += s->audio.active_s * pow(10, s->audio.speech_level_dbov / 10);
        h->clipped += s->audio.clipped;
        h->clip_runs += s->audio.clip_runs;
    }
}

/* Its level: the mean of its seconds' levels, else its first stream's. */
static double heard_level(const struct heard *h)
{
    if (h->level_n) return round(h->level_sum / h->level_n * 10) / 10;
    return h->first ? round(h->first->audio.level_dbov * 10) / 10 : -99;
}

static double heard_pct(const struct heard *h)
{
    return h->heard ? round(1000.0 * h->active / h->heard) / 10 : 0;
}

/* ---- ringback_silence: early media that carried neither tone nor speech ---- */

struct silent_early_finding {
    int early_status;
    double gap_ms, level;
    char sender[IP_ADDR_PORT_STRLEN];
};

static bool silent_early_verdict(const struct issue_config *cfg, const struct held_call *c,
                                 const struct held_stream *ss, size_t n, ptime_t until,
                                 struct issue *is, struct silent_early_finding *f)
{
    struct heard h;
    heard_in(c, ss, n, 2, c->early_time, until, false, &h);
    if (h.off || !h.heard || !h.first || h.tone) return false;
    ptime_t silent_until = h.first_sound ? h.first_sound : until;
    double gap = issue_ms(c->early_time, silent_until);
    if (gap < cfg->ringback_silence_ms) return false;
    issue_init(is, ISSUE_RINGBACK_SILENCE, SEV_WARNING, c->early_time);
    is->call_seq = c->seq;
    issue_frame(is, c->first_frame);
    issue_frame(is, c->early_frame);
    issue_frame(is, c->answer_frame);
    issue_frame(is, h.first->first_frame);
    ip_addr_port_str(&h.first->src, h.first->sport, f->sender, sizeof f->sender);
    f->early_status = c->early_status;
    f->gap_ms = gap;
    f->level = heard_level(&h);
    issue_ev_num(is, "early_status", c->early_status);
    issue_ev_num(is, "silence_ms", gap);
    issue_ev_num(is, "early_media_s", (double)(until - c->early_time) / 1e9);
    issue_ev_num(is, "early_rtp_packets", (double)h.packets);
    issue_ev_num(is, "early_level_dbov", f->level);
    issue_ev_num(is, "early_active_pct", heard_pct(&h));
    issue_ev_str(is, "tone", "none");
    issue_ev_str(is, "early_media", "silence (no tone)");
    issue_ev_str(is, "silent_early_media_from", "callee %s", f->sender);
    issue_ev_str(is, "outcome", "%s", c->answer_time ? "answered" : "not answered");
    return true;
}

static void silent_early_words(struct issue *is, const struct silent_early_finding *f)
{
    issue_say(is->summary, sizeof is->summary,
              "%d with SDP, then %.1f s of early media that was silence (%.0f dBov, no tone): "
              "the caller heard silence, not ringback",
              f->early_status, f->gap_ms / 1000, f->level);
    issue_say(is->diagnosis, sizeof is->diagnosis,
              "A %d with SDP tells the caller's phone to stop its own ringback and play the early "
              "media (RFC 3960). RTP did come to the caller, from the callee side %s, but it "
              "carried neither a ringback tone nor an announcement: a gateway or media server "
              "opened early media and streamed digital silence. Make that device play ringback "
              "into its early media, or send 180 without SDP so the caller's phone rings itself.",
              f->early_status, f->sender);
}

bool check_heard_ringback(struct issue_engine *e, const struct held_call *c,
                          const struct held_stream *ss, size_t n, ptime_t until)
{
    struct issue is;
    struct silent_early_finding f;
    if (!silent_early_verdict(&e->cfg, c, ss, n, until, &is, &f)) return false;
    silent_early_words(&is, &f);
    issue_emit(e, &is);
    return true;
}

/* ---- one_way_audio: one direction flowed but carried only silence ---- */

struct silent_dir_finding {
    int sender;              /* 0 caller, 1 callee */
    double pct[2], level[2]; /* the silent direction's, the other's */
    char src[IP_ADDR_PORT_STRLEN];
};

static bool silent_dir_verdict(const struct issue_config *cfg, const struct held_call *c,
                               const struct held_stream *ss, size_t n, int dir, ptime_t to,
                               struct issue *is, struct silent_dir_finding *f)
{
    struct heard h[2];
    heard_in(c, ss, n, dir, c->answer_time, to, true, &h[0]);
    heard_in(c, ss, n, 3 - dir, c->answer_time, to, true, &h[1]);
    if (h[0].off || h[1].off || !h[0].first || !h[1].first) return false;
    /* people are quiet for a while: a short call, or a listener's few seconds, is not a
     * silent direction (heplify_sip_tcp's 2 s call: the caller never spoke) */
    if (h[0].heard < cfg->one_way_silent_min_s || h[1].heard < cfg->audio_min_s) return false;
    if (heard_pct(&h[0]) >= cfg->one_way_active_pct || heard_pct(&h[1]) < cfg->speech_active_pct)
        return false;
    f->sender = dir == 1 ? 0 : 1;
    const char *who = f->sender == 0 ? "caller" : "callee";
    const char *whom = f->sender == 0 ? "callee" : "caller";
    issue_init(is, ISSUE_ONE_WAY_AUDIO, h[0].active ? SEV_WARNING : SEV_CRITICAL, c->answer_time);
    is->call_seq = c->seq;
    issue_frame(is, c->answer_frame);
    issue_frame(is, h[0].first->first_frame);
    issue_frame(is, h[1].first->first_frame);
    for (int i = 0; i < 2; i++) {
        f->pct[i] = heard_pct(&h[i]);
        f->level[i] = heard_level(&h[i]);
    }
    ip_addr_port_str(&h[0].first->src, h[0].first->sport, f->src, sizeof f->src);
    issue_ev_str(is, "silent", "%s_to_%s", who, whom);
    issue_ev_str(is, "heard", "silence");
    issue_ev_num(is, "answered_s", (double)(to - c->answer_time) / 1e9);
    issue_ev_num(is, "silent_direction_speech_seconds_pct", f->pct[0]);
    issue_ev_num(is, "silent_direction_level_dbov", f->level[0]);
    issue_ev_num(is, "other_direction_speech_seconds_pct", f->pct[1]);
    issue_ev_num(is, "other_direction_level_dbov", f->level[1]);
    issue_ev_num(is, "packets_silent_direction", (double)h[0].packets);
    issue_ev_num(is, "packets_other_direction", (double)h[1].packets);
    return true;
}

static void silent_dir_words(struct issue *is, const struct silent_dir_finding *f)
{
    const char *who = f->sender == 0 ? "caller" : "callee";
    const char *whom = f->sender == 0 ? "callee" : "caller";
    issue_say(is->summary, sizeof is->summary,
              "one-way audio: RTP from the %s flowed but carried silence (speech in %.0f %% of "
              "seconds, %.0f dBov); the %s hears nothing",
              who, f->pct[0], f->level[0], whom);
    issue_say(is->diagnosis, sizeof is->diagnosis,
              "Both directions flowed at full rate, so the network delivered the packets; what "
              "the %s sent (from %s) was silence while the %s spoke (speech in %.0f %% of "
              "seconds, %.0f dBov). Likely: the %s is muted or its microphone/headset is dead, "
              "or a transcoder, conference bridge or SBC in the path sends silence in place of "
              "its audio (a codec or payload type mapped wrong on one leg). Check the device "
              "that sources %s and, if it is a media server, its other leg.",
              who, f->src, whom, f->pct[1], f->level[1], who, f->src);
}

bool check_heard_one_way(struct issue_engine *e, const struct held_call *c,
                         const struct held_stream *ss, size_t n, int dir, ptime_t to)
{
    struct issue is;
    struct silent_dir_finding f;
    if (!silent_dir_verdict(&e->cfg, c, ss, n, dir, to, &is, &f)) return false;
    silent_dir_words(&is, &f);
    issue_emit(e, &is);
    return true;
}

/* ---- silent_call: answered, RTP both ways, and neither direction carried a sound ---- */

struct silent_call_finding {
    double answered_s, level[2];
    char src[2][IP_ADDR_PORT_STRLEN];
};

static bool silent_call_verdict(const struct issue_config *cfg, const struct held_call *c,
                                const struct held_stream *ss, size_t n, ptime_t to,
                                struct issue *is, struct silent_call_finding *f)
{
    struct heard h[2];
    for (int d = 0; d < 2; d++) {
        heard_in(c, ss, n, d + 1, c->answer_time, to, true, &h[d]);
        /* a codec we cannot decode, or a direction without RTP (one_way's case): no verdict */
        if (h[d].off || !h[d].first) return false;
        /* a second of speech or a tone either way is a sound someone heard */
        if (h[d].active || h[d].tone || h[d].heard < cfg->silent_call_s) return false;
    }
    issue_init(is, ISSUE_SILENT_CALL, SEV_CRITICAL, c->answer_time);
    is->call_seq = c->seq;
    issue_frame(is, c->answer_frame);
    f->answered_s = (double)(to - c->answer_time) / 1e9;
    issue_ev_num(is, "answered_s", round(f->answered_s * 10) / 10);
    static const char *const name[2] = {"caller_to_callee", "callee_to_caller"};
    for (int d = 0; d < 2; d++) {
        issue_frame(is, h[d].first->first_frame);
        f->level[d] = heard_level(&h[d]);
        ip_addr_port_str(&h[d].first->src, h[d].first->sport, f->src[d], sizeof f->src[d]);
        issue_ev_str(is, name[d], "%s: %u s of RTP heard, speech in 0 %%, %.1f dBov", f->src[d],
                     h[d].heard, f->level[d]);
    }
    issue_ev_str(is, "heard", "silence both ways");
    return true;
}

static void silent_call_words(struct issue *is, const struct silent_call_finding *f)
{
    issue_say(is->summary, sizeof is->summary,
              "silent call: %.1f s answered, RTP flowed both ways but both carried only silence "
              "(%.0f and %.0f dBov)",
              f->answered_s, f->level[0], f->level[1]);
    issue_say(is->diagnosis, sizeof is->diagnosis,
              "The call was answered and RTP flowed at full rate both ways (%s and %s), so "
              "signaling and the network worked, yet neither side's audio held a second of "
              "speech or a tone: nobody heard anybody. Likely a media server or transcoder in "
              "the path that bridges the wrong legs or maps the codec wrong and sends silence "
              "both ways, an auto-answer device (a fax, a modem, an IVR with no prompt) that "
              "answered and said nothing, or a robocall that hung on an open line. Listen to "
              "the call's audio and check the device that answered.",
              f->src[0], f->src[1]);
}

bool check_heard_silent_call(struct issue_engine *e, const struct held_call *c,
                             const struct held_stream *ss, size_t n, ptime_t to)
{
    struct issue is;
    struct silent_call_finding f;
    if (!silent_call_verdict(&e->cfg, c, ss, n, to, &is, &f)) return false;
    silent_call_words(&is, &f);
    issue_emit(e, &is);
    return true;
}

/* ---- false_answer, clipping, audio_level: what an answered call's directions carried ---- */

static const char *const dir_name[3] = {"", "caller_to_callee", "callee_to_caller"};
static const char *const dir_who[3] = {"", "caller", "callee"};

/* A direction's speech level over its streams' speech-active frames; -99 none. */
static double heard_speech_level(const struct heard *h)
{
    return h->speech_pow > 0 && h->active_s > 0
               ? round(100 * log10(h->speech_pow / h->active_s)) / 10
               : -99;
}

/* A ringback tone of the plan from the callee's side heard past the 200 OK, begun at most
 * `within` after it: the time it was heard after the answer, 0 none. A false answer's
 * ringback goes on from the answer; one that begins later in the call is a transfer's or a
 * hold's (a PBX plays ringback while the transfer target rings), not a false answer. */
static ptime_t ringback_after(const struct held_call *c, const struct held_stream *ss, size_t n,
                              ptime_t within, const struct held_tone **tone,
                              const struct held_stream **from)
{
    ptime_t best = 0;
    for (size_t i = 0; i < n; i++) {
        const struct held_audio *a = &ss[i].audio;
        if (held_dir(c, &ss[i]) != 2 || !a->on) continue;
        for (unsigned t = 0; t < a->ntones; t++) {
            const struct held_tone *x = &a->tones[t];
            if (x->kind != AUDIO_TONE_RINGBACK || x->to <= c->answer_time) continue;
            if (x->from > c->answer_time && x->from - c->answer_time > within) continue;
            ptime_t after = x->to - (x->from > c->answer_time ? x->from : c->answer_time);
            if (after > best) {
                best = after;
                *tone = x;
                *from = &ss[i];
            }
        }
    }
    return best;
}

static void false_answer(struct issue_engine *e, const struct held_call *c,
                         const struct held_stream *ss, size_t n)
{
    const struct held_tone *t = NULL;
    const struct held_stream *s = NULL;
    ptime_t within = (ptime_t)(e->cfg.false_answer_start_ms * 1e6);
    ptime_t after = ringback_after(c, ss, n, within, &t, &s);
    if (!t || (double)after / 1e6 < e->cfg.false_answer_ms) return;
    struct issue is;
    char src[IP_ADDR_PORT_STRLEN];
    ip_addr_port_str(&s->src, s->sport, src, sizeof src);
    double start = t->from > c->answer_time ? (double)(t->from - c->answer_time) / 1e9 : 0;
    issue_init(&is, ISSUE_FALSE_ANSWER, SEV_WARNING, c->answer_time);
    is.call_seq = c->seq;
    issue_frame(&is, c->answer_frame);
    issue_frame(&is, s->first_frame);
    issue_ev_str(&is, "tone", "ringback (%s)", t->region);
    issue_ev_num(&is, "tone_start_after_answer_s", round(start * 10) / 10);
    issue_ev_num(&is, "tone_heard_after_answer_s", round((double)after / 1e8) / 10);
    issue_ev_num(&is, "cycles", t->cycles);
    issue_ev_str(&is, "from", "callee %s", src);
    issue_say(is.summary, sizeof is.summary,
              "false answer: the call was answered (200 OK) but the callee side then played "
              "ringback (%s) for %.1f s: the caller still heard ringing on a billed call",
              t->region, (double)after / 1e9);
    issue_say(is.diagnosis, sizeof is.diagnosis,
              "After its 200 OK the callee side (%s) sent a ringback tone (%s, %u cycles), so the "
              "far end had not really answered: false answer supervision. The call is billed "
              "from the 200 OK while the caller hears ringing, and may hang up on a call "
              "already charged. Likely a gateway or carrier trunk that answers at once to play "
              "its own ringback or an announcement; have it send 180/183 with early media "
              "instead and answer only when the called party does, or report the route to the "
              "carrier.",
              src, t->region, t->cycles);
    issue_emit(e, &is);
}

static void clipping(struct issue_engine *e, const struct held_call *c, int dir,
                     const struct heard *h)
{
    double share = h->active_s > 0 ? 100.0 * (double)h->clipped / (h->active_s * AUDIO_RATE) : 0;
    if (share < e->cfg.clipping_pct || (double)h->clip_runs < e->cfg.clipping_runs) return;
    struct issue is;
    char src[IP_ADDR_PORT_STRLEN];
    ip_addr_port_str(&h->first->src, h->first->sport, src, sizeof src);
    double level = heard_speech_level(h);
    issue_init(&is, ISSUE_CLIPPING, SEV_WARNING, c->answer_time);
    is.call_seq = c->seq;
    issue_frame(&is, h->first->first_frame);
    issue_ev_str(&is, "direction", "%s", dir_name[dir]);
    issue_ev_str(&is, "from", "%s %s", dir_who[dir], src);
    issue_ev_num(&is, "clipped_samples", (double)h->clipped);
    issue_ev_num(&is, "clipped_runs", (double)h->clip_runs);
    issue_ev_num(&is, "clipped_speech_pct", round(share * 100) / 100);
    issue_ev_num(&is, "speech_level_dbov", level);
    issue_ev_num(&is, "speech_s", round(h->active_s * 10) / 10);
    issue_say(is.summary, sizeof is.summary,
              "clipping: %.2f %% of the %s's speech samples at full scale (%llu runs, speech "
              "at %.1f dBov)",
              share, dir_who[dir], (unsigned long long)h->clip_runs, level);
    issue_say(is.diagnosis, sizeof is.diagnosis,
              "The %s's audio (from %s) reached the codec's largest value in %llu runs of 3 or "
              "more samples: the waveform was cut flat, which the listener hears as harsh "
              "distortion. Something before the encoder has too much gain: the microphone or "
              "headset gain, an AGC, or a gateway's or transcoder's digital gain on that leg. "
              "Lower the gain at the %s's device or the media server's input.",
              dir_who[dir], src, (unsigned long long)h->clip_runs, dir_who[dir]);
    issue_emit(e, &is);
}

static void audio_level(struct issue_engine *e, const struct held_call *c, int dir,
                        const struct heard *h)
{
    double level = heard_speech_level(h);
    if (h->active_s < e->cfg.audio_level_min_s || level <= -99) return;
    bool quiet = level < e->cfg.audio_quiet_dbov;
    bool loud = level > e->cfg.audio_loud_dbov;
    if (!quiet && !loud) return;
    struct issue is;
    char src[IP_ADDR_PORT_STRLEN];
    ip_addr_port_str(&h->first->src, h->first->sport, src, sizeof src);
    issue_init(&is, ISSUE_AUDIO_LEVEL, SEV_WARNING, c->answer_time);
    is.call_seq = c->seq;
    issue_frame(&is, h->first->first_frame);
    issue_ev_str(&is, "direction", "%s", dir_name[dir]);
    issue_ev_str(&is, "from", "%s %s", dir_who[dir], src);
    issue_ev_str(&is, "level", "%s", quiet ? "too quiet" : "too loud");
    issue_ev_num(&is, "speech_level_dbov", level);
    issue_ev_num(&is, "threshold_dbov", quiet ? e->cfg.audio_quiet_dbov : e->cfg.audio_loud_dbov);
    issue_ev_num(&is, "speech_s", round(h->active_s * 10) / 10);
    issue_say(is.summary, sizeof is.summary, "the %s's speech is %s: %.1f dBov (%s %.0f dBov)",
              dir_who[dir], quiet ? "too quiet" : "too loud", level, quiet ? "below" : "above",
              quiet ? e->cfg.audio_quiet_dbov : e->cfg.audio_loud_dbov);
    if (quiet)
        issue_say(is.diagnosis, sizeof is.diagnosis,
                  "The %s's speech (from %s) averaged %.1f dBov over %.1f s of speech, where "
                  "telephone speech sits near -20 dBov (ITU-T G.168's nominal -20 dBm0): the "
                  "other side strains to hear. Likely a microphone or headset gain set low, a "
                  "muted-but-not-quite device, or an attenuating pad on a gateway or transcoder "
                  "leg. Raise the gain at the %s's device or the media server.",
                  dir_who[dir], src, level, h->active_s, dir_who[dir]);
    else
        issue_say(is.diagnosis, sizeof is.diagnosis,
                  "The %s's speech (from %s) averaged %.1f dBov over %.1f s of speech, far over "
                  "telephone speech's nominal -20 dBov: it is close to clipping and may cause "
                  "echo at the far end. Likely a gain set high at the device, an AGC gone wrong, "
                  "or a gateway's or transcoder's digital gain. Lower the gain at the %s's device.",
                  dir_who[dir], src, level, h->active_s, dir_who[dir]);
    issue_emit(e, &is);
}

void check_heard_answered(struct issue_engine *e, const struct held_call *c,
                          const struct held_stream *ss, size_t n, ptime_t end)
{
    if (!c->answer_time) return;
    false_answer(e, c, ss, n);
    ptime_t to = c->end_time ? c->end_time : end;
    for (int dir = 1; dir <= 2; dir++) {
        struct heard h;
        heard_in(c, ss, n, dir, c->answer_time, to, true, &h);
        if (h.off || !h.first) continue;
        clipping(e, c, dir, &h);
        audio_level(e, c, dir, &h);
    }
}

/* ---- fax: CNG or CED heard on an audio codec, and T.38 not negotiated by both ---- */

void check_heard_fax(struct issue_engine *e, const struct held_call *c,
                     const struct held_stream *ss, size_t n)
{
    const struct held_tone *t = NULL;
    const struct held_stream *s = NULL;
    for (size_t i = 0; i < n && !t; i++)
        for (unsigned k = 0; k < ss[i].audio.ntones && !t; k++)
            if (ss[i].audio.tones[k].kind == AUDIO_TONE_FAX_CNG ||
                ss[i].audio.tones[k].kind == AUDIO_TONE_FAX_CED) {
                t = &ss[i].audio.tones[k];
                s = &ss[i];
            }
    /* both sides' SDP carried T.38 (image): the fax switched to T.38 as it should */
    if (!t || (c->side[0].fax && c->side[1].fax)) return;
    bool offered = c->side[0].fax || c->side[1].fax;
    struct issue is;
    char src[IP_ADDR_PORT_STRLEN];
    ip_addr_port_str(&s->src, s->sport, src, sizeof src);
    int dir = held_dir(c, s);
    const char *tone = t->kind == AUDIO_TONE_FAX_CNG ? "CNG 1100 Hz" : "CED 2100 Hz";
    issue_init(&is, ISSUE_FAX, SEV_INFO, t->from);
    is.call_seq = c->seq;
    issue_frame(&is, s->first_frame);
    issue_ev_str(&is, "tone", "%s", tone);
    issue_ev_str(&is, "from", "%s %s", dir ? dir_who[dir] : "unknown", src);
    issue_ev_num(&is, "tone_at_s", round((double)(t->from - c->invite_time) / 1e8) / 10);
    issue_ev_str(&is, "t38", "%s", offered ? "offered, not accepted" : "not offered");
    issue_say(is.summary, sizeof is.summary, "fax (%s) on an audio codec, T.38 %s", tone,
              offered ? "offered but not accepted" : "not offered");
    issue_say(is.diagnosis, sizeof is.diagnosis,
              "A fax tone (%s, ITU-T T.30) came from %s in the RTP audio, and the call %s. A fax "
              "over G.711 survives only a clean path (no loss, no jitter buffer drift, no "
              "compression or silence suppression) and often fails midway; T.38 (RFC 3362, an "
              "image m-line re-INVITE) is what carries it reliably. %s",
              tone, src,
              offered ? "offered T.38 but the other side did not accept it" : "never offered T.38",
              offered ? "Enable T.38 on the side that refused it, or make sure both use G.711 "
                        "with no VAD and a fixed jitter buffer."
                      : "Enable T.38 on the fax gateway or ATA (or its SBC), or if G.711 "
                        "pass-through is meant, turn off VAD and use a fixed jitter buffer.");
    issue_emit(e, &is);
}
