/* A stored call's audio (issue 24, "Listen"): its spooled RTP (analyze --spool-rtp) decoded
 * by audio/ into one stereo track at 8 kHz, the caller's media on the left, the callee's on
 * the right, each packet at its place in packet time, digital silence where nothing came.
 * `sipscope export --audio` and the API's audio.wav and levels routes all read it here, so
 * they give the same samples. Bounded: at most STORE_AUDIO_MAX_S of media span is kept. */
#ifndef SIPSCOPE_STORE_CALLAUDIO_H
#define SIPSCOPE_STORE_CALLAUDIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "query.h"

#define STORE_AUDIO_RATE        8000
#define STORE_AUDIO_MAX_S       3600 /* 1 h: 57.6 MB of stereo 16-bit PCM, the most one export holds */
#define STORE_AUDIO_BIN_MS      100 /* the level strip's step */
#define STORE_AUDIO_MAX_STREAMS 64  /* a call's streams followed; more are counted, not heard */

struct store_audio {
    double start;   /* epoch s of sample 0: the call's first decoded RTP packet */
    size_t frames;  /* samples per channel; 0: nothing to hear (why says so) */
    int16_t *pcm;   /* owned: interleaved caller, callee; frames * 2 */
    uint8_t *heard; /* owned: per STORE_AUDIO_BIN_MS bin, bit 0 caller, bit 1 callee:
                     * some audio (or comfort noise) was placed in it */
    size_t bins;
    uint64_t packets[2]; /* RTP packets decoded, caller's and callee's */
    uint64_t undecoded;  /* RTP packets of the call's streams whose payload gave no audio */
    uint64_t ignored;    /* spooled frames that are not RTP of a stored stream (RTCP...) */
    uint64_t spooled;    /* spooled frames read */
    bool truncated;      /* the media span passed STORE_AUDIO_MAX_S: the rest is cut */
    char why[160];       /* frames == 0: why there is nothing to hear; else a codec that
                          * could not be decoded, or "" */
};

/* Reads and decodes call call_seq. STORE_Q_NOT_FOUND: no such call; STORE_Q_ERROR: a
 * database error or no memory (store_error). STORE_Q_OK with a->frames == 0 when no media
 * was spooled or none of it decoded (a->why says which). Free with store_audio_free. */
enum store_qstatus store_audio_read(struct store *s, uint64_t call_seq, struct store_audio *a);
void store_audio_free(struct store_audio *a);

/* The level of one bin of a channel (0 caller, 1 callee) in dBov (a full-scale sine is
 * -3.01, as audio/ measures); -99 for digital silence. false when nothing came in it. */
bool store_audio_level(const struct store_audio *a, size_t bin, int channel, double *dbov);

/* The track as a WAV file (RIFF, 16-bit PCM, 2 channels, 8 kHz) in memory, written by
 * libsndfile: *buf (malloc'd) and *len. false with err when this build has no libsndfile,
 * or on no memory. */
bool store_audio_wav(const struct store_audio *a, char **buf, size_t *len, char *err,
                     size_t errlen);

#endif
