/* Codecs: RTP payload -> 16-bit PCM at 8 kHz. G.711 by our own tables (ITU-T G.711); the
 * others by the libraries made for them, each optional at build time (HAVE_SPANDSP,
 * HAVE_BCG729, HAVE_OPUS, HAVE_GSM): without one, audio_codec_unavailable() says so and
 * nothing is guessed. A library's state is allocated on a stream's first packet of that
 * codec, never per packet. */
#include "audio.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifdef HAVE_SPANDSP
/* the state structs' sizes, so that we allocate them ourselves and can count them */
#define SPANDSP_EXPOSE_INTERNAL_STRUCTURES
#include <spandsp.h>
#endif
#ifdef HAVE_BCG729
#include <bcg729/decoder.h>
/* bcg729's context is opaque: its size measured with mallinfo2 around
 * initBcg729DecoderChannel (bcg729 1.1.1, Debian 12) */
#define BCG729_DEC_BYTES 2640
#endif
#ifdef HAVE_OPUS
#include <opus/opus.h>
#endif
#ifdef HAVE_GSM
#include <gsm/gsm.h>
/* libgsm's state is opaque: measured as above (libgsm 1.0.19) */
#define GSM_DEC_BYTES 768
#endif

/* ITU-T G.711 Table 2a (µ-law) and Table 1a (A-law): the decoder output value of each
 * character, µ-law in 14-bit units x4 and A-law in 13-bit units x8, so that both fill
 * 16 bits. Characters are as transmitted (µ-law all bits inverted, A-law even bits). */
/* one row per 8 characters, 0x00 first */
/* clang-format off */
const int16_t audio_ulaw[256] = {
    -32124, -31100, -30076, -29052, -28028, -27004, -25980, -24956,
    -23932, -22908, -21884, -20860, -19836, -18812, -17788, -16764,
    -15996, -15484, -14972, -14460, -13948, -13436, -12924, -12412,
    -11900, -11388, -10876, -10364,  -9852,  -9340,  -8828,  -8316,
     -7932,  -7676,  -7420,  -7164,  -6908,  -6652,  -6396,  -6140,
     -5884,  -5628,  -5372,  -5116,  -4860,  -4604,  -4348,  -4092,
     -3900,  -3772,  -3644,  -3516,  -3388,  -3260,  -3132,  -3004,
     -2876,  -2748,  -2620,  -2492,  -2364,  -2236,  -2108,  -1980,
     -1884,  -1820,  -1756,  -1692,  -1628,  -1564,  -1500,  -1436,
     -1372,  -1308,  -1244,  -1180,  -1116,  -1052,   -988,   -924,
      -876,   -844,   -812,   -780,   -748,   -716,   -684,   -652,
      -620,   -588,   -556,   -524,   -492,   -460,   -428,   -396,
      -372,   -356,   -340,   -324,   -308,   -292,   -276,   -260,
      -244,   -228,   -212,   -196,   -180,   -164,   -148,   -132,
      -120,   -112,   -104,    -96,    -88,    -80,    -72,    -64,
       -56,    -48,    -40,    -32,    -24,    -16,     -8,      0,
     32124,  31100,  30076,  29052,  28028,  27004,  25980,  24956,
     23932,  22908,  21884,  20860,  19836,  18812,  17788,  16764,
     15996,  15484,  14972,  14460,  13948,  13436,  12924,  12412,
     11900,  11388,  10876,  10364,   9852,   9340,   8828,   8316,
      7932,   7676,   7420,   7164,   6908,   6652,   6396,   6140,
      5884,   5628,   5372,   5116,   4860,   4604,   4348,   4092,
      3900,   3772,   3644,   3516,   3388,   3260,   3132,   3004,
      2876,   2748,   2620,   2492,   2364,   2236,   2108,   1980,
      1884,   1820,   1756,   1692,   1628,   1564,   1500,   1436,
      1372,   1308,   1244,   1180,   1116,   1052,    988,    924,
       876,    844,    812,    780,    748,    716,    684,    652,
       620,    588,    556,    524,    492,    460,    428,    396,
       372,    356,    340,    324,    308,    292,    276,    260,
       244,    228,    212,    196,    180,    164,    148,    132,
       120,    112,    104,     96,     88,     80,     72,     64,
        56,     48,     40,     32,     24,     16,      8,      0,
};
const int16_t audio_alaw[256] = {
     -5504,  -5248,  -6016,  -5760,  -4480,  -4224,  -4992,  -4736,
     -7552,  -7296,  -8064,  -7808,  -6528,  -6272,  -7040,  -6784,
     -2752,  -2624,  -3008,  -2880,  -2240,  -2112,  -2496,  -2368,
     -3776,  -3648,  -4032,  -3904,  -3264,  -3136,  -3520,  -3392,
    -22016, -20992, -24064, -23040, -17920, -16896, -19968, -18944,
    -30208, -29184, -32256, -31232, -26112, -25088, -28160, -27136,
    -11008, -10496, -12032, -11520,  -8960,  -8448,  -9984,  -9472,
    -15104, -14592, -16128, -15616, -13056, -12544, -14080, -13568,
      -344,   -328,   -376,   -360,   -280,   -264,   -312,   -296,
      -472,   -456,   -504,   -488,   -408,   -392,   -440,   -424,
       -88,    -72,   -120,   -104,    -24,     -8,    -56,    -40,
      -216,   -200,   -248,   -232,   -152,   -136,   -184,   -168,
     -1376,  -1312,  -1504,  -1440,  -1120,  -1056,  -1248,  -1184,
     -1888,  -1824,  -2016,  -1952,  -1632,  -1568,  -1760,  -1696,
      -688,   -656,   -752,   -720,   -560,   -528,   -624,   -592,
      -944,   -912,  -1008,   -976,   -816,   -784,   -880,   -848,
      5504,   5248,   6016,   5760,   4480,   4224,   4992,   4736,
      7552,   7296,   8064,   7808,   6528,   6272,   7040,   6784,
      2752,   2624,   3008,   2880,   2240,   2112,   2496,   2368,
      3776,   3648,   4032,   3904,   3264,   3136,   3520,   3392,
     22016,  20992,  24064,  23040,  17920,  16896,  19968,  18944,
     30208,  29184,  32256,  31232,  26112,  25088,  28160,  27136,
     11008,  10496,  12032,  11520,   8960,   8448,   9984,   9472,
     15104,  14592,  16128,  15616,  13056,  12544,  14080,  13568,
       344,    328,    376,    360,    280,    264,    312,    296,
       472,    456,    504,    488,    408,    392,    440,    424,
        88,     72,    120,    104,     24,      8,     56,     40,
       216,    200,    248,    232,    152,    136,    184,    168,
      1376,   1312,   1504,   1440,   1120,   1056,   1248,   1184,
      1888,   1824,   2016,   1952,   1632,   1568,   1760,   1696,
       688,    656,    752,    720,    560,    528,    624,    592,
       944,    912,   1008,    976,    816,    784,    880,    848,
};
/* clang-format on */

static const struct {
    const char *name;
    uint32_t clock;
} codec_info[AUDIO_CODEC_COUNT] = {
    [AUDIO_CODEC_UNKNOWN] = {"unknown", 0},
    [AUDIO_CODEC_PCMU] = {"PCMU", 8000},
    [AUDIO_CODEC_PCMA] = {"PCMA", 8000},
    /* RFC 3551 §4.5.2: G.722's RTP clock is 8000 though it samples at 16 kHz */
    [AUDIO_CODEC_G722] = {"G722", 8000},
    [AUDIO_CODEC_G726_16] = {"G726-16", 8000},
    [AUDIO_CODEC_G726_24] = {"G726-24", 8000},
    [AUDIO_CODEC_G726_32] = {"G726-32", 8000},
    [AUDIO_CODEC_G726_40] = {"G726-40", 8000},
    [AUDIO_CODEC_G729] = {"G729", 8000},
    /* RFC 7587 §4.1: always 48000 whatever the coded bandwidth */
    [AUDIO_CODEC_OPUS] = {"opus", 48000},
    [AUDIO_CODEC_GSM] = {"GSM", 8000},
    [AUDIO_CODEC_CN] = {"CN", 8000},
    [AUDIO_CODEC_EVENT] = {"telephone-event", 8000},
};

enum audio_codec audio_codec_from_pt(uint8_t pt)
{
    /* RFC 3551 table 4: the static audio payload types we decode */
    switch (pt) {
    case 0:
        return AUDIO_CODEC_PCMU;
    case 3:
        return AUDIO_CODEC_GSM;
    case 8:
        return AUDIO_CODEC_PCMA;
    case 9:
        return AUDIO_CODEC_G722;
    case 13:
        return AUDIO_CODEC_CN;
    case 18:
        return AUDIO_CODEC_G729;
    default:
        return AUDIO_CODEC_UNKNOWN;
    }
}

enum audio_codec audio_codec_from_name(struct sv name)
{
    static const struct {
        const char *name;
        enum audio_codec c;
    } names[] = {
        {"PCMU", AUDIO_CODEC_PCMU},
        {"PCMA", AUDIO_CODEC_PCMA},
        {"G722", AUDIO_CODEC_G722},
        {"G726-16", AUDIO_CODEC_G726_16},
        {"G726-24", AUDIO_CODEC_G726_24},
        {"G726-32", AUDIO_CODEC_G726_32},
        {"G726-40", AUDIO_CODEC_G726_40},
        {"G729", AUDIO_CODEC_G729},
        {"G729A", AUDIO_CODEC_G729},
        {"opus", AUDIO_CODEC_OPUS},
        {"GSM", AUDIO_CODEC_GSM},
        {"CN", AUDIO_CODEC_CN},
        {"telephone-event", AUDIO_CODEC_EVENT},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (name.n == strlen(names[i].name) && strncasecmp(name.p, names[i].name, name.n) == 0)
            return names[i].c;
    return AUDIO_CODEC_UNKNOWN;
}

const char *audio_codec_name(enum audio_codec c)
{
    return (unsigned)c < AUDIO_CODEC_COUNT ? codec_info[c].name : "unknown";
}

uint32_t audio_codec_clock(enum audio_codec c)
{
    return (unsigned)c < AUDIO_CODEC_COUNT ? codec_info[c].clock : 0;
}

const char *audio_codec_unavailable(enum audio_codec c)
{
    switch (c) {
    case AUDIO_CODEC_PCMU:
    case AUDIO_CODEC_PCMA:
    case AUDIO_CODEC_CN:
        return NULL;
    case AUDIO_CODEC_EVENT:
        return "telephone-event (RFC 4733) carries events, not audio";
    case AUDIO_CODEC_G722:
    case AUDIO_CODEC_G726_16:
    case AUDIO_CODEC_G726_24:
    case AUDIO_CODEC_G726_32:
    case AUDIO_CODEC_G726_40:
#ifdef HAVE_SPANDSP
        return NULL;
#else
        return "G.722/G.726: built without spandsp";
#endif
    case AUDIO_CODEC_G729:
#ifdef HAVE_BCG729
        return NULL;
#else
        return "G.729: built without libbcg729";
#endif
    case AUDIO_CODEC_OPUS:
#ifdef HAVE_OPUS
        return NULL;
#else
        return "Opus: built without libopus";
#endif
    case AUDIO_CODEC_GSM:
#ifdef HAVE_GSM
        return NULL;
#else
        return "GSM: built without libgsm";
#endif
    default:
        return "codec not known to the audio decoder";
    }
}

const char *audio_err_name(enum audio_err e)
{
    static const char *const names[AUDIO_ERR_COUNT] = {
        [AUDIO_OK] = "ok",
        [AUDIO_ERR_EMPTY] = "empty",
        [AUDIO_ERR_LENGTH] = "length",
        [AUDIO_ERR_TOC] = "toc",
        [AUDIO_ERR_BAD_FRAME] = "bad_frame",
        [AUDIO_ERR_TOO_LONG] = "too_long",
        [AUDIO_ERR_NOMEM] = "nomem",
        [AUDIO_ERR_NO_DECODER] = "no_decoder",
    };
    return (unsigned)e < AUDIO_ERR_COUNT ? names[e] : "unknown";
}

void audio_dec_init(struct audio_dec *d, enum audio_codec c)
{
    memset(d, 0, sizeof *d);
    d->codec = c;
}

void audio_dec_release(struct audio_dec *d)
{
    if (!d->lib) return;
    switch (d->codec) {
#ifdef HAVE_BCG729
    case AUDIO_CODEC_G729:
        closeBcg729DecoderChannel(d->lib);
        break;
#endif
#ifdef HAVE_GSM
    case AUDIO_CODEC_GSM:
        gsm_destroy(d->lib);
        break;
#endif
    default:
        /* spandsp's and Opus's states were allocated here with malloc and hold nothing else */
        free(d->lib);
        break;
    }
    d->lib = NULL;
    d->lib_bytes = 0;
}

#ifdef HAVE_SPANDSP
static int g726_bits(enum audio_codec c)
{
    return c == AUDIO_CODEC_G726_16   ? 16000
           : c == AUDIO_CODEC_G726_24 ? 24000
           : c == AUDIO_CODEC_G726_40 ? 40000
                                      : 32000;
}
#endif

/* The library state on first use; false when memory ran out. */
static bool dec_open(struct audio_dec *d)
{
    if (d->lib) return true;
    switch (d->codec) {
#ifdef HAVE_SPANDSP
    case AUDIO_CODEC_G722:
        d->lib = malloc(sizeof(g722_decode_state_t));
        if (!d->lib) return false;
        /* 64 kbit/s, mode 1; G722_SAMPLE_RATE_8000: the 8 kHz low band is what we analyse */
        g722_decode_init(d->lib, 64000, G722_SAMPLE_RATE_8000);
        d->lib_bytes = sizeof(g722_decode_state_t);
        return true;
    case AUDIO_CODEC_G726_16:
    case AUDIO_CODEC_G726_24:
    case AUDIO_CODEC_G726_32:
    case AUDIO_CODEC_G726_40:
        d->lib = malloc(sizeof(g726_state_t));
        if (!d->lib) return false;
        /* RFC 3551 §4.5.4: codewords packed from the octet's least significant bit
         * ("right"); AAL2-G726 (I.366.2) would be G726_PACKING_LEFT */
        g726_init(d->lib, g726_bits(d->codec), G726_ENCODING_LINEAR, G726_PACKING_RIGHT);
        d->lib_bytes = sizeof(g726_state_t);
        return true;
#endif
#ifdef HAVE_BCG729
    case AUDIO_CODEC_G729:
        d->lib = initBcg729DecoderChannel();
        d->lib_bytes = BCG729_DEC_BYTES;
        return d->lib != NULL;
#endif
#ifdef HAVE_OPUS
    case AUDIO_CODEC_OPUS: {
        int sz = opus_decoder_get_size(1);
        d->lib = malloc((size_t)sz);
        if (!d->lib) return false;
        if (opus_decoder_init(d->lib, AUDIO_RATE, 1) != OPUS_OK) {
            free(d->lib);
            d->lib = NULL;
            return false;
        }
        d->lib_bytes = (uint32_t)sz;
        return true;
    }
#endif
#ifdef HAVE_GSM
    case AUDIO_CODEC_GSM:
        d->lib = gsm_create();
        d->lib_bytes = GSM_DEC_BYTES;
        return d->lib != NULL;
#endif
    default:
        return false;
    }
}

static enum audio_err dec_g711(const int16_t *tab, const uint8_t *p, size_t len, int16_t *out,
                               size_t *n)
{
    if (len > AUDIO_MAX_PACKET_SAMPLES) return AUDIO_ERR_TOO_LONG;
    for (size_t i = 0; i < len; i++)
        out[i] = tab[p[i]];
    *n = len;
    return AUDIO_OK;
}

enum audio_err audio_decode(struct audio_dec *d, const uint8_t *p, size_t len, int16_t *out,
                            size_t *n)
{
    *n = 0;
    if (d->codec == AUDIO_CODEC_CN || d->codec == AUDIO_CODEC_EVENT) return AUDIO_OK;
    if (audio_codec_unavailable(d->codec)) return AUDIO_ERR_NO_DECODER;
    if (len == 0) return AUDIO_ERR_EMPTY;
    if (d->codec == AUDIO_CODEC_PCMU) return dec_g711(audio_ulaw, p, len, out, n);
    if (d->codec == AUDIO_CODEC_PCMA) return dec_g711(audio_alaw, p, len, out, n);

    /* check the length before anything is allocated for a payload that cannot decode */
    switch (d->codec) {
    case AUDIO_CODEC_G722:
        /* one octet: two 16 kHz samples, one at 8 kHz */
        if (len > AUDIO_MAX_PACKET_SAMPLES) return AUDIO_ERR_TOO_LONG;
        break;
    case AUDIO_CODEC_G726_16:
    case AUDIO_CODEC_G726_24:
    case AUDIO_CODEC_G726_32:
    case AUDIO_CODEC_G726_40: {
        size_t bits = d->codec == AUDIO_CODEC_G726_16   ? 2
                      : d->codec == AUDIO_CODEC_G726_24 ? 3
                      : d->codec == AUDIO_CODEC_G726_40 ? 5
                                                        : 4;
        if (len * 8 / bits > AUDIO_MAX_PACKET_SAMPLES) return AUDIO_ERR_TOO_LONG;
        break;
    }
    case AUDIO_CODEC_G729:
        /* RFC 3551 §4.5.6: 10-octet frames, and an Annex B SID frame of 2 octets last */
        if (len % 10 != 0 && len % 10 != 2) return AUDIO_ERR_LENGTH;
        if ((len / 10 + (len % 10 != 0)) * 80 > AUDIO_MAX_PACKET_SAMPLES) return AUDIO_ERR_TOO_LONG;
        break;
    case AUDIO_CODEC_GSM:
        /* RFC 3551 §4.5.8: 33-octet frames of 160 samples */
        if (len % 33 != 0) return AUDIO_ERR_LENGTH;
        if (len / 33 * 160 > AUDIO_MAX_PACKET_SAMPLES) return AUDIO_ERR_TOO_LONG;
        break;
#ifdef HAVE_OPUS
    case AUDIO_CODEC_OPUS: {
        /* RFC 6716 §3.4 R1-R7: the TOC, frame count and frame lengths must add up, and
         * they say how long the packet is */
        opus_int32 olen = (opus_int32)(len > INT32_MAX ? INT32_MAX : len);
        const unsigned char *frames[48];
        opus_int16 sizes[48];
        if (opus_packet_parse(p, olen, NULL, frames, sizes, NULL) < 0) return AUDIO_ERR_TOC;
        int ns = opus_packet_get_nb_samples(p, olen, AUDIO_RATE);
        if (ns < 0) return AUDIO_ERR_TOC;
        if (ns > AUDIO_MAX_PACKET_SAMPLES) return AUDIO_ERR_TOO_LONG;
        break;
    }
#endif
    default:
        break;
    }
    if (!dec_open(d)) return AUDIO_ERR_NOMEM;

    switch (d->codec) {
#ifdef HAVE_SPANDSP
    case AUDIO_CODEC_G722:
        *n = (size_t)g722_decode(d->lib, out, p, (int)len);
        return AUDIO_OK;
    case AUDIO_CODEC_G726_16:
    case AUDIO_CODEC_G726_24:
    case AUDIO_CODEC_G726_32:
    case AUDIO_CODEC_G726_40:
        *n = (size_t)g726_decode(d->lib, out, p, (int)len);
        return AUDIO_OK;
#endif
#ifdef HAVE_BCG729
    case AUDIO_CODEC_G729:
        for (size_t off = 0; off < len;) {
            uint8_t fl = len - off >= 10 ? 10 : 2;
            /* a 2-octet frame is Annex B's SID: comfort noise the decoder shapes */
            bcg729Decoder(d->lib, p + off, fl, 0, fl == 2, 0, out + *n);
            *n += 80;
            off += fl;
        }
        return AUDIO_OK;
#endif
#ifdef HAVE_OPUS
    case AUDIO_CODEC_OPUS: {
        int ns = opus_decode(d->lib, p, (opus_int32)len, out, AUDIO_MAX_PACKET_SAMPLES, 0);
        if (ns < 0) return AUDIO_ERR_BAD_FRAME;
        *n = (size_t)ns;
        return AUDIO_OK;
    }
#endif
#ifdef HAVE_GSM
    case AUDIO_CODEC_GSM:
        for (size_t off = 0; off < len; off += 33) {
            gsm_byte frame[33]; /* libgsm's API takes a non-const buffer */
            memcpy(frame, p + off, sizeof frame);
            if (gsm_decode(d->lib, frame, out + *n) < 0) {
                *n = 0;
                return AUDIO_ERR_BAD_FRAME; /* GSM 06.10 frames open with the 0xD signature */
            }
            *n += 160;
        }
        return AUDIO_OK;
#endif
    default:
        return AUDIO_ERR_NO_DECODER;
    }
}
