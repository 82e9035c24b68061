/* Hearing the RTP payload: codec payload -> 16-bit PCM at 8 kHz, and per stream
 * the figures a person would notice: level (dBov), speech activity, silence, clipping, call
 * progress tones with their cadence (a tone plan, ITU-T E.180 and national plans), fax CNG
 * and CED, in-band DTMF. Depends on common/ only. Nothing is allocated per packet: a
 * stream's state is one struct (<= 1 KB, AUDIO_STATE_MAX_BYTES), plus, for codecs that a
 * library decodes, that library's decoder state, allocated on the first packet and counted
 * apart (audio_state_lib_bytes). Errors are values: a payload that does not decode is
 * counted by reason (enum audio_err), never a crash. */
#ifndef SIPSCOPE_AUDIO_H
#define SIPSCOPE_AUDIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/sv.h"

/* Everything is analysed at 8 kHz: G.722 is decoded to its 8 kHz low band, Opus at 8 kHz. */
#define AUDIO_RATE 8000

/* ---- codecs --------------------------------------------------------------------------- */

enum audio_codec {
    AUDIO_CODEC_UNKNOWN = 0,
    AUDIO_CODEC_PCMU,    /* G.711 µ-law, our own tables */
    AUDIO_CODEC_PCMA,    /* G.711 A-law, our own tables */
    AUDIO_CODEC_G722,    /* spandsp */
    AUDIO_CODEC_G726_16, /* spandsp; RFC 3551 §4.5.4 packing */
    AUDIO_CODEC_G726_24,
    AUDIO_CODEC_G726_32,
    AUDIO_CODEC_G726_40,
    AUDIO_CODEC_G729,  /* bcg729: G.729, Annex A and Annex B (SID frames) */
    AUDIO_CODEC_OPUS,  /* libopus */
    AUDIO_CODEC_GSM,   /* libgsm: GSM 06.10 full rate */
    AUDIO_CODEC_CN,    /* RFC 3389 comfort noise: counts as silence */
    AUDIO_CODEC_EVENT, /* RFC 4733 telephone-event: not audio */
    AUDIO_CODEC_COUNT
};

/* The codec of a static payload type (RFC 3551 table 4); UNKNOWN for dynamic ones. */
enum audio_codec audio_codec_from_pt(uint8_t pt);
/* The codec of an rtpmap encoding name (case-insensitive, e.g. "opus", "G726-32",
 * "telephone-event"); UNKNOWN when we do not know it. */
enum audio_codec audio_codec_from_name(struct sv name);
const char *audio_codec_name(enum audio_codec c);
/* NULL when this build decodes the codec; otherwise why not ("G.729: built without
 * libbcg729"), for `audio: null` with a reason. Never a guess. */
const char *audio_codec_unavailable(enum audio_codec c);
/* The RTP clock of a codec as RFC 3551/7587 define it (G.722: 8000, Opus: 48000). */
uint32_t audio_codec_clock(enum audio_codec c);

/* Why a payload did not decode; indexes audio_summary.errors. */
enum audio_err {
    AUDIO_OK = 0,
    AUDIO_ERR_EMPTY,      /* no payload bytes */
    AUDIO_ERR_LENGTH,     /* not a whole number of frames (G.729 10/2 bytes, GSM 33) */
    AUDIO_ERR_TOC,        /* Opus: RFC 6716 §3.1 TOC/framing invalid */
    AUDIO_ERR_BAD_FRAME,  /* the library refused the frame (GSM magic, Opus decode error) */
    AUDIO_ERR_TOO_LONG,   /* more than AUDIO_MAX_PACKET_SAMPLES of audio in one packet */
    AUDIO_ERR_NOMEM,      /* the decoder's state could not be allocated */
    AUDIO_ERR_NO_DECODER, /* this build has no decoder for the codec */
    AUDIO_ERR_COUNT
};
const char *audio_err_name(enum audio_err e);

/* The most audio one packet may carry: 120 ms (Opus's maximum, RFC 6716 §3.2.5). G.711
 * and G.722 packets longer than this are counted AUDIO_ERR_TOO_LONG. */
#define AUDIO_MAX_PACKET_SAMPLES 960

/* A decoder: the codec and, for library codecs, the library's state (owned, allocated on
 * first use). Usable alone (tests, WAV export) or inside an audio_state. */
struct audio_dec {
    enum audio_codec codec;
    void *lib;          /* owned: spandsp/bcg729/opus/gsm state, NULL until first packet */
    uint32_t lib_bytes; /* what `lib` costs, as far as the library tells */
};
void audio_dec_init(struct audio_dec *d, enum audio_codec c);
void audio_dec_release(struct audio_dec *d);
/* Decodes one RTP payload into out[] (room for AUDIO_MAX_PACKET_SAMPLES) at 8 kHz; returns
 * AUDIO_OK and the sample count in *n, or why not (then *n is 0). CN and events give
 * AUDIO_OK with *n = 0. */
enum audio_err audio_decode(struct audio_dec *d, const uint8_t *p, size_t len, int16_t *out,
                            size_t *n);

/* G.711 by our own tables (ITU-T G.711 Tables 1a/2a, scaled to 16 bits: µ-law x4, A-law x8). */
extern const int16_t audio_ulaw[256];
extern const int16_t audio_alaw[256];

/* ---- tone plan ------------------------------------------------------------------------- */

enum audio_tone_kind {
    AUDIO_TONE_RINGBACK,
    AUDIO_TONE_BUSY,
    AUDIO_TONE_CONGESTION,
    AUDIO_TONE_SIT,
    AUDIO_TONE_DIAL,
    AUDIO_TONE_FAX_CNG,
    AUDIO_TONE_FAX_CED,
    AUDIO_TONE_OTHER,
    AUDIO_TONE_KIND_COUNT
};
const char *audio_tone_kind_name(enum audio_tone_kind k);

#define AUDIO_PLAN_MAX_TONES    24 /* entries in a plan */
#define AUDIO_PLAN_MAX_FREQS    16 /* distinct frequencies, one Goertzel each */
#define AUDIO_PLAN_MAX_SETS     16 /* distinct groups of frequencies heard together */
#define AUDIO_PLAN_MAX_CADENCE  6  /* on/off durations of one cycle */
#define AUDIO_PLAN_MAX_SEQUENCE 3  /* tones played one after another (SIT) */
/* filter slots: each rate's filters rounded up to a group of four */
#define AUDIO_PLAN_SLOTS (AUDIO_PLAN_MAX_FREQS + 4)

struct audio_tone {
    enum audio_tone_kind kind;
    char region[8];                        /* "NA", "EU", "UK", "ITU", ... */
    bool sequence;                         /* SIT: sets[] played in turn, cadence = their lengths */
    uint8_t nsets;                         /* 1, or up to 3 for a sequence */
    uint8_t sets[AUDIO_PLAN_MAX_SEQUENCE]; /* indexes into plan.sets */
    uint8_t ncad;                          /* 0: continuous */
    uint16_t cadence_ms[AUDIO_PLAN_MAX_CADENCE]; /* on, off, on, off... one cycle */
    uint16_t min_ms;                             /* continuous: heard this long before it counts */
};

/* A compiled plan: read-only once built, shared by every stream (counted apart). */
struct audio_plan {
    uint8_t ntones, nfreqs, nsets;
    struct audio_tone tones[AUDIO_PLAN_MAX_TONES];
    float freq_hz[AUDIO_PLAN_MAX_FREQS];
    float coef[AUDIO_PLAN_MAX_FREQS];     /* Goertzel 2cos(2πf/fs) at the rate it runs */
    bool full_rate[AUDIO_PLAN_MAX_FREQS]; /* above 1900 Hz: on the 8 kHz signal, not 4 kHz */
    uint8_t nhalf, nfull;                 /* which filters run at 4 kHz and which at 8 kHz */
    uint8_t half[AUDIO_PLAN_MAX_FREQS], full[AUDIO_PLAN_MAX_FREQS];
    uint8_t set_nfreq[AUDIO_PLAN_MAX_SETS];
    uint8_t set_freq[AUDIO_PLAN_MAX_SETS][2];
    /* the filters as audio.c runs them, four side by side: the 4 kHz ones from slot 0, the
     * 8 kHz ones from slot 4 * half4; a slot no frequency uses has coefficient 0 */
    float slot_coef[AUDIO_PLAN_SLOTS];
    uint8_t slot[AUDIO_PLAN_MAX_FREQS]; /* frequency -> its slot */
    uint8_t half4, full4;               /* groups of four slots: 4 kHz, 8 kHz */
};

/* The text every plan is written in (docs/design.md "Tone plans"); the default plan is
 * this text (audio_plan_default_text). Returns 0, or the 1-based line that is wrong with
 * why in err. */
int audio_plan_parse(struct audio_plan *plan, const char *text, size_t len, char *err,
                     size_t errlen);
/* Reads a file of at most 64 KiB and parses it; 0, -1 when it cannot be read (err says). */
int audio_plan_load(struct audio_plan *plan, const char *path, char *err, size_t errlen);
void audio_plan_default(struct audio_plan *plan);
extern const char audio_plan_default_text[];

/* ---- per stream ------------------------------------------------------------------------ */

struct audio_cfg {
    bool tones; /* call progress and fax tones (Goertzel, 4 kHz decimated) */
    bool dtmf;  /* in-band DTMF (spandsp dtmf_rx; its state allocated on first use) */
};

#define AUDIO_MAX_DETECTIONS 8 /* tone time ranges kept per stream; later ones are counted */
#define AUDIO_MAX_DIGITS     16
#define AUDIO_SECONDS_RING   4

/* One second of the stream's timeline (the caller's second index). */
struct audio_second {
    uint32_t sec;
    int16_t level_cdb;  /* dBov x 100 over every sample heard; -9900 for digital silence */
    uint16_t active_ms; /* speech-active frames (the VAD rule below) */
    uint16_t heard_ms;  /* audio decoded or comfort noise in this second */
    uint16_t clipped;   /* clipped samples */
};

struct audio_detection {
    uint8_t tone;      /* index into the plan */
    uint16_t cycles;   /* on-segments heard while locked (continuous: 1) */
    uint32_t start_ms; /* relative to the stream's first packet time */
    uint32_t end_ms;
};

/* Per-set cadence tracker: the lengths of the last segments heard, in 40 ms blocks. */
struct audio_run {
    uint16_t len;                         /* blocks in the current segment */
    uint8_t on;                           /* current segment is tone-present */
    uint8_t n;                            /* completed segments in seg[] */
    uint16_t seg[AUDIO_PLAN_MAX_CADENCE]; /* newest last; top bit set = an on-segment */
};

/* The per-stream state. Fields are private: read them through audio_summary() and
 * audio_second_pop(). Public only so that a pool can hold it in place. */
struct audio_state {
    struct audio_dec dec;
    const struct audio_plan *plan; /* borrowed, shared */
    void *dtmf;                    /* owned: spandsp dtmf_rx_state_t, on first use */
    struct audio_cfg cfg;
    uint64_t t0_ns;      /* packet time of the first packet */
    uint64_t t_ns;       /* packet time of the packet being analysed */
    uint32_t pkt_sample; /* sample offset inside that packet */
    uint32_t cn_ts;      /* RTP timestamp of a comfort-noise packet waiting */
    bool cn_pending, started;
    int16_t clip_level; /* |s| >= this is full scale for the codec */
    int16_t prev;       /* last sample: zero crossings across packets */
    uint8_t clip_run;   /* current run of full-scale samples */
    /* 20 ms VAD frame */
    uint64_t fr_energy;
    int32_t fr_sum; /* the frame's samples summed: its DC, which the VAD takes out */
    uint16_t fr_n, fr_zc;
    /* totals */
    uint64_t samples, energy_sum, active_energy, active_samples;
    uint32_t frames, active_frames, cn_packets, cn_samples, event_packets, packets;
    uint32_t clipped, clip_runs, silent_seconds, seconds, tonal_blocks, dropped_detections;
    uint32_t errors[AUDIO_ERR_COUNT];
    /* the current second */
    uint32_t sec_cur;
    uint64_t sec_energy;
    uint32_t sec_samples, sec_active, sec_heard, sec_clipped;
    struct audio_second ring[AUDIO_SECONDS_RING];
    uint8_t ring_head, ring_n;
    /* tones: 4 kHz decimation [1 3 3 1]/8 and Goertzel blocks of 40 ms */
    int16_t dec_x[3];
    uint8_t dec_phase;
    uint16_t blk_n;
    float blk_energy4, blk_energy8;
    uint64_t blk_energy_raw;
    float gz0[AUDIO_PLAN_SLOTS], gz1[AUDIO_PLAN_SLOTS]; /* Goertzel state by plan slot */
    struct audio_run runs[AUDIO_PLAN_MAX_SETS];
    uint8_t locked[AUDIO_PLAN_MAX_TONES]; /* detection index + 1 while the cadence holds */
    uint8_t seq_step[2];                  /* SIT progress for the first two sequences */
    uint32_t seq_start_ms[2], seq_end_ms[2];
    struct audio_detection det[AUDIO_MAX_DETECTIONS];
    uint8_t ndet;
    /* DTMF */
    uint8_t ndigits;
    uint16_t digits_dropped;
    char digits[AUDIO_MAX_DIGITS];
    uint32_t digit_ms[AUDIO_MAX_DIGITS];
};

#define AUDIO_STATE_MAX_BYTES 1024

void audio_init(struct audio_state *st, enum audio_codec c, const struct audio_plan *plan,
                const struct audio_cfg *cfg);
void audio_release(struct audio_state *st);

/* One RTP packet: the codec of its payload type (CN and events arrive in the stream beside
 * its codec; another audio codec replaces the decoder), its payload, RTP timestamp and
 * packet time, and the caller's timeline second it belongs to. Returns what the payload
 * gave (AUDIO_OK also for CN and events). RFC 3389 comfort noise counts as silence lasting
 * until the next packet's RTP timestamp (no longer than the packet time between them, and
 * at most AUDIO_CN_MAX_MS). */
enum audio_err audio_feed(struct audio_state *st, enum audio_codec c, const uint8_t *payload,
                          size_t len, uint32_t rtp_ts, uint64_t t_ns, uint32_t sec);
/* PCM already at 8 kHz (tests, other sources); same accounting as decoded audio. */
void audio_feed_pcm(struct audio_state *st, const int16_t *pcm, size_t n, uint64_t t_ns,
                    uint32_t sec);
/* The stream ended: close the open second, segments and tones. */
void audio_finish(struct audio_state *st);
/* Tones and in-band DTMF are no longer listened for (their cost is for where they
 * matter: early media, a stream's first seconds); what they heard stays, a tone heard
 * until now ends now. Level, activity and clipping go on. */
void audio_detectors_off(struct audio_state *st);
/* Whether a 40 ms block has held a tone of the plan while tones were listened for: a
 * stream that may be playing a cadence longer than its first seconds (NA ringback's cycle
 * is 6 s) is worth listening to a while longer. */
bool audio_tone_heard(const struct audio_state *st);
/* Takes the oldest closed second; false when none is waiting. The ring holds
 * AUDIO_SECONDS_RING; older ones are overwritten (the caller drains after each feed). */
bool audio_second_pop(struct audio_state *st, struct audio_second *out);

/* The stream's figures, computed from the state. */
struct audio_summary {
    enum audio_codec codec;
    const char *unavailable; /* non-NULL: audio is null, this is why */
    uint32_t packets, cn_packets, event_packets;
    double heard_s;           /* decoded audio and comfort noise */
    double active_s;          /* speech-active (VAD) */
    double silence_s;         /* heard but not active, comfort noise included */
    uint32_t silent_seconds;  /* closed timeline seconds with audio and no active frame */
    double tonal_s;           /* a plan tone was present (any cadence) */
    double level_dbov;        /* over all audio heard; -99 for digital silence */
    double speech_level_dbov; /* over active frames only; -99 when none */
    uint32_t clipped;         /* samples in runs of >= AUDIO_CLIP_RUN at full scale */
    uint32_t clip_runs;       /* those runs */
    uint32_t errors[AUDIO_ERR_COUNT];
    uint8_t ndet;
    const struct audio_detection *det;
    uint32_t dropped_detections;
    uint8_t ndigits;
    const char *digits; /* not NUL-terminated: ndigits */
    const uint32_t *digit_ms;
    uint32_t digits_dropped;
    const char *dtmf_unavailable; /* non-NULL: in-band DTMF was not listened for, and why */
};
void audio_summary(const struct audio_state *st, struct audio_summary *out);

/* Bytes the codec library and the DTMF receiver hold for this stream (beyond the state). */
size_t audio_state_lib_bytes(const struct audio_state *st);

/* The VAD rule (per 20 ms frame of 160 samples, its DC taken out: a constant is no sound):
 * active when the frame's level is at least
 * AUDIO_VAD_LOUD_DBOV, or at least AUDIO_VAD_MIN_DBOV with at most AUDIO_VAD_MAX_ZC zero
 * crossings (hiss crosses zero at about half the samples, voiced speech far less). */
#define AUDIO_VAD_MIN_DBOV  (-50)
#define AUDIO_VAD_LOUD_DBOV (-35)
#define AUDIO_VAD_MAX_ZC    56 /* of 160: 0.35, a mean crossing rate of 1.4 kHz */
#define AUDIO_CN_MAX_MS     5000
#define AUDIO_CLIP_RUN      3 /* full-scale samples in a row before they count as clipped */

#endif
