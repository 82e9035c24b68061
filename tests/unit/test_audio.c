/* audio/ against references we did not write: G.711 against ITU-T G.711's tables (and
 * spandsp's own G.711); the library codecs as round trips through the libraries' own
 * encoders, the tone's frequency and level measured back; tones, DTMF, fax, speech,
 * silence and clipping against what tests/gen/audio.py wrote (SIPSCOPE_AUDIO). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audio/audio.h"

#ifdef HAVE_SPANDSP
#include <spandsp.h>
#endif
#ifdef HAVE_BCG729
#include <bcg729/encoder.h>
#endif
#ifdef HAVE_OPUS
#include <opus/opus.h>
#endif
#ifdef HAVE_GSM
#include <gsm/gsm.h>
#endif

/* ---- G.711 ----------------------------------------------------------------------------- */

Test(audio, g711_ulaw_itu_table_2a)
{
    /* G.711 Table 2a, decoder output values (14-bit units; ours are x4). Characters as
     * sent: 1111 1111 is +0, 0111 1111 is -0; 1000 0000 the largest positive. */
    static const struct {
        uint8_t c;
        int v;
    } t[] = {
        {0xFF, 0},    {0x7F, 0},    {0xFE, 2},    {0xF0, 30},    /* segment 1, step 2 */
        {0xEF, 33},   {0xE0, 93},                                /* segment 2, step 4 */
        {0xDF, 99},   {0xD0, 219},                               /* segment 3, step 8 */
        {0x8F, 4191}, {0x81, 7775}, {0x80, 8031}, {0x00, -8031}, /* segment 8, step 256 */
        {0x6F, -33},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        cr_expect_eq(audio_ulaw[t[i].c], t[i].v * 4, "µ-law 0x%02x: %d, want %d", t[i].c,
                     audio_ulaw[t[i].c], t[i].v * 4);
}

Test(audio, g711_alaw_itu_table_1a)
{
    /* G.711 Table 1a (13-bit units; ours are x8). Even bits inverted on the line: 1101 0101
     * is the smallest positive value, 1, and 0101 0101 its negative. */
    static const struct {
        uint8_t c;
        int v;
    } t[] = {
        {0xD5, 1},    {0x55, -1},   {0xD4, 3},     {0xDA, 31}, /* segment 1, step 2 */
        {0xC5, 33},   {0xCA, 63},                              /* segment 2, step 2 */
        {0xF5, 66},   {0xFA, 126},                             /* segment 3, step 4 */
        {0xA5, 2112}, {0xAA, 4032}, {0x2A, -4032},             /* segment 8, step 128 */
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        cr_expect_eq(audio_alaw[t[i].c], t[i].v * 8, "A-law 0x%02x: %d, want %d", t[i].c,
                     audio_alaw[t[i].c], t[i].v * 8);
}

Test(audio, g711_every_code_as_spandsp_decodes_it)
{
#ifdef HAVE_SPANDSP
    for (int c = 0; c < 256; c++) {
        cr_expect_eq(audio_ulaw[c], ulaw_to_linear((uint8_t)c), "µ-law 0x%02x", c);
        cr_expect_eq(audio_alaw[c], alaw_to_linear((uint8_t)c), "A-law 0x%02x", c);
    }
#else
    cr_skip("built without spandsp");
#endif
}

/* ---- helpers --------------------------------------------------------------------------- */

static struct audio_plan plan;
static const struct audio_cfg all_on = {.tones = true, .dtmf = true};

static void setup(void)
{
    audio_plan_default(&plan);
}

/* Feeds a G.711 file in 20 ms packets, as a stream would arrive, and finishes it. */
static void feed_file(struct audio_state *st, const char *file, enum audio_codec c)
{
    const char *dir = getenv("SIPSCOPE_AUDIO");
    cr_assert(dir, "SIPSCOPE_AUDIO is not set: run through meson test");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "rb");
    cr_assert(f, "%s", path);
    uint8_t buf[160];
    size_t n;
    uint32_t ts = 0;
    uint64_t t = 1700000000ull * 1000000000ull;
    audio_init(st, c, &plan, &all_on);
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        uint32_t ms = ts / 8;
        cr_assert_eq(audio_feed(st, c, buf, n, ts, t + ms * 1000000ull, ms / 1000), AUDIO_OK);
        ts += (uint32_t)n;
    }
    fclose(f);
    audio_finish(st);
}

static json_t *truth_cases(void)
{
    const char *dir = getenv("SIPSCOPE_AUDIO");
    cr_assert(dir);
    char path[1024];
    snprintf(path, sizeof path, "%s/truth.json", dir);
    json_error_t e;
    json_t *root = json_load_file(path, 0, &e);
    cr_assert(root, "%s: %s", path, e.text);
    return root;
}

static enum audio_codec codec_of(json_t *c)
{
    return audio_codec_from_name(sv_cstr(json_string_value(json_object_get(c, "codec"))));
}

/* ---- tones ----------------------------------------------------------------------------- */

Test(audio, default_plan_parses, .init = setup)
{
    char err[128];
    struct audio_plan p;
    cr_assert_eq(audio_plan_parse(&p, audio_plan_default_text, strlen(audio_plan_default_text), err,
                                  sizeof err),
                 0, "%s", err);
    cr_assert_eq(p.ntones, 15);
    cr_assert(p.nfreqs <= AUDIO_PLAN_MAX_FREQS);
}

Test(audio, every_plan_tone_with_its_cadence_and_no_near_miss, .init = setup)
{
    json_t *root = truth_cases(), *c;
    size_t i, seen = 0;
    json_array_foreach(json_object_get(root, "cases"), i, c)
    {
        const char *group = json_string_value(json_object_get(c, "group"));
        if (strcmp(group, "tone") != 0 && strcmp(group, "near") != 0) continue;
        const char *name = json_string_value(json_object_get(c, "name"));
        struct audio_state st;
        feed_file(&st, json_string_value(json_object_get(c, "file")), codec_of(c));
        struct audio_summary s;
        audio_summary(&st, &s);
        json_t *want = json_object_get(c, "tones");
        cr_expect_eq(s.ndet, json_array_size(want), "%s: %u tones heard, want %zu", name, s.ndet,
                     json_array_size(want));
        for (size_t k = 0; k < s.ndet && k < json_array_size(want); k++) {
            json_t *w = json_array_get(want, k);
            const struct audio_tone *t = &plan.tones[s.det[k].tone];
            cr_expect_str_eq(audio_tone_kind_name(t->kind),
                             json_string_value(json_object_get(w, "kind")), "%s", name);
            cr_expect_str_eq(t->region, json_string_value(json_object_get(w, "region")), "%s",
                             name);
            long ws = (long)json_integer_value(json_object_get(w, "start_ms"));
            long we = (long)json_integer_value(json_object_get(w, "end_ms"));
            /* 40 ms blocks: each edge lands within two of them */
            cr_expect(labs((long)s.det[k].start_ms - ws) <= 80, "%s: start %u, want %ld", name,
                      s.det[k].start_ms, ws);
            cr_expect(labs((long)s.det[k].end_ms - we) <= 80, "%s: end %u, want %ld", name,
                      s.det[k].end_ms, we);
        }
        for (size_t k = json_array_size(want); k < s.ndet; k++)
            cr_expect(0, "%s: also heard %s %s", name,
                      audio_tone_kind_name(plan.tones[s.det[k].tone].kind),
                      plan.tones[s.det[k].tone].region);
        audio_release(&st);
        seen++;
    }
    cr_expect_geq(seen, 20, "only %zu tone cases", seen);
    json_decref(root);
}

Test(audio, tone_plan_file_format, .init = setup)
{
    static const char text[] = "# a national plan\n"
                               "ringback  XX  413+487  1500,3500   # not a real one\n"
                               "sit       XX  913.8/1370.6/1776.7  274,274,380\n"
                               "dial      XX  500  continuous:1000\n";
    char err[128];
    struct audio_plan p;
    cr_assert_eq(audio_plan_parse(&p, text, sizeof text - 1, err, sizeof err), 0, "%s", err);
    cr_assert_eq(p.ntones, 3);
    cr_expect_eq(p.tones[0].kind, AUDIO_TONE_RINGBACK);
    cr_expect_eq(p.tones[0].ncad, 2);
    cr_expect_eq(p.tones[0].cadence_ms[1], 3500);
    cr_expect(p.tones[1].sequence);
    cr_expect_eq(p.tones[1].nsets, 3);
    cr_expect(fabsf(p.freq_hz[p.set_freq[p.tones[1].sets[0]][0]] - 913.8f) < 0.01f);
    cr_expect_eq(p.tones[2].min_ms, 1000);

    /* each mistake names its line */
    static const char *bad[] = {
        "ringback XX 440+480\n",            /* no cadence */
        "ringing XX 440 1000,4000\n",       /* unknown kind */
        "busy XX 440 500\n",                /* on without off */
        "busy XX 50 500,500\n",             /* below 100 Hz */
        "busy XX 440+480+620 500,500\n",    /* three together */
        "sit XX 950/1400 330\n",            /* one length for two tones */
        "busy TOOLONGREGION 440 500,500\n", /* region over 7 */
        "dial XX 440 continuous:abc\n",     /* bad minimum */
        "busy XX 440 500,500 extra\n",      /* a fifth field */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char two[128];
        snprintf(two, sizeof two, "# ok\n%s", bad[i]);
        err[0] = 0;
        cr_expect_eq(audio_plan_parse(&p, two, strlen(two), err, sizeof err), 2, "%s", bad[i]);
        cr_expect(strstr(err, "line 2") != NULL, "%s: %s", bad[i], err);
    }
}

Test(audio, a_plan_from_a_file_is_used, .init = setup)
{
    /* a 500 Hz 1 s / 1 s "ringback" of our own: the default plan hears nothing in the
     * near miss, the loaded plan hears it */
    char path[] = "/tmp/sipscope-plan-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("ringback ZZ 425 1000,1000\n", f);
    fclose(f);
    char err[128];
    cr_assert_eq(audio_plan_load(&plan, path, err, sizeof err), 0, "%s", err);
    unlink(path);
    struct audio_state st;
    feed_file(&st, "near_eu_425_one_one.ulaw", AUDIO_CODEC_PCMU);
    struct audio_summary s;
    audio_summary(&st, &s);
    cr_assert_eq(s.ndet, 1);
    cr_expect_str_eq(plan.tones[s.det[0].tone].region, "ZZ");
    audio_release(&st);
    cr_expect_eq(audio_plan_load(&plan, "/nonexistent/plan", err, sizeof err), -1);
}

/* ---- DTMF, speech, silence, clipping, level ------------------------------------------- */

static json_t *find_case(json_t *root, const char *name)
{
    json_t *c;
    size_t i;
    json_array_foreach(json_object_get(root, "cases"), i, c)
    {
        if (strcmp(json_string_value(json_object_get(c, "name")), name) == 0) return c;
    }
    cr_assert(0, "no case %s", name);
    return NULL;
}

static void run_case(json_t *root, const char *name, struct audio_state *st,
                     struct audio_summary *s)
{
    json_t *c = find_case(root, name);
    feed_file(st, json_string_value(json_object_get(c, "file")), codec_of(c));
    audio_summary(st, s);
}

Test(audio, inband_dtmf_digits, .init = setup)
{
#ifndef HAVE_SPANDSP
    cr_skip("built without spandsp");
#endif
    json_t *root = truth_cases(), *c = find_case(root, "dtmf_all");
    struct audio_state st;
    struct audio_summary s;
    run_case(root, "dtmf_all", &st, &s);
    const char *want = json_string_value(json_object_get(c, "digits"));
    cr_assert_eq(s.ndigits, strlen(want), "%.*s", s.ndigits, s.digits);
    cr_expect(memcmp(s.digits, want, s.ndigits) == 0, "%.*s", s.ndigits, s.digits);
    json_t *ms = json_object_get(c, "digit_ms");
    for (size_t i = 0; i < s.ndigits; i++) {
        long w = (long)json_integer_value(json_array_get(ms, i));
        /* spandsp reports a digit once it has lasted; within the digit's 100 ms and a packet */
        cr_expect(s.digit_ms[i] >= w && s.digit_ms[i] <= w + 140, "digit %zu at %u, want %ld", i,
                  s.digit_ms[i], w);
    }
    /* DTMF pairs are no plan tone */
    cr_expect_eq(s.ndet, 0);
    audio_release(&st);
    json_decref(root);
}

Test(audio, speech_spurts_are_active_and_pauses_silent, .init = setup)
{
    json_t *root = truth_cases(), *c = find_case(root, "speech_spurts");
    struct audio_state st;
    struct audio_summary s;
    run_case(root, "speech_spurts", &st, &s);
    double active = (double)json_integer_value(json_object_get(c, "active_ms")) / 1000;
    double silent = (double)json_integer_value(json_object_get(c, "silent_ms")) / 1000;
    cr_expect(fabs(s.active_s - active) <= 0.05 * active, "active %.2f s, want %.2f", s.active_s,
              active);
    cr_expect(fabs(s.silence_s - silent) <= 0.05 * active, "silence %.2f s, want %.2f", s.silence_s,
              silent);
    cr_expect(s.speech_level_dbov > -25 && s.speech_level_dbov < -19, "%f", s.speech_level_dbov);
    cr_expect_eq(s.ndet, 0, "speech heard as a tone");
    cr_expect_eq(s.clipped, 0);
    audio_release(&st);
    json_decref(root);
}

Test(audio, hiss_is_not_speech, .init = setup)
{
    json_t *root = truth_cases();
    struct audio_state st;
    struct audio_summary s;
    run_case(root, "hiss_m45", &st, &s);
    json_t *c = find_case(root, "hiss_m45");
    cr_expect_eq(s.active_s * 1000, json_integer_value(json_object_get(c, "active_ms")),
                 "hiss active for %.2f s", s.active_s);
    /* loud enough that the energy half of the rule alone would call it speech */
    cr_expect(fabs(s.level_dbov - json_real_value(json_object_get(c, "level_dbov"))) < 0.5, "%f",
              s.level_dbov);
    cr_expect_eq(s.silent_seconds, 3);
    audio_release(&st);
    json_decref(root);
}

/* A payload of one constant code is a DC offset: no sound a person hears, whatever its
 * level (µ-law 0x80 decodes to +32124, full scale), so the VAD, which takes each frame's
 * mean out, finds no speech in it, on the byte path and on the sample path alike. A real
 * VAD high-passes the same way (G.729 Annex B filters below 140 Hz). */
Test(audio, a_constant_payload_is_no_speech, .init = setup)
{
    static const struct audio_cfg cfgs[2] = {{0}, {.tones = true}};
    static const uint8_t codes[] = {0x80, 0x9f, 0x20, 0x40};
    for (int k = 0; k < 2; k++) {
        for (size_t c = 0; c < sizeof codes; c++) {
            struct audio_state st;
            struct audio_summary s;
            uint8_t buf[160];
            memset(buf, codes[c], sizeof buf);
            audio_init(&st, AUDIO_CODEC_PCMU, &plan, &cfgs[k]);
            for (uint32_t i = 0; i < 150; i++)
                audio_feed(&st, AUDIO_CODEC_PCMU, buf, sizeof buf, i * 160,
                           1700000000ull * 1000000000ull + i * 20000000ull, i / 50);
            audio_finish(&st);
            audio_summary(&st, &s);
            cr_expect_eq(s.active_s, 0, "code 0x%02x (path %d): %.2f s active", codes[c], k,
                         s.active_s);
            cr_expect_gt(s.heard_s, 2.9);
            audio_release(&st);
        }
    }
}

Test(audio, silent_seconds_in_the_timeline, .init = setup)
{
    json_t *root = truth_cases();
    for (int law = 0; law < 2; law++) {
        const char *name = law ? "silence_gap_alaw" : "silence_gap_ulaw";
        json_t *c = find_case(root, name);
        struct audio_state st;
        audio_init(&st, codec_of(c), &plan, &all_on);
        /* feed by hand to read the seconds as they close */
        const char *dir = getenv("SIPSCOPE_AUDIO");
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, json_string_value(json_object_get(c, "file")));
        FILE *f = fopen(path, "rb");
        cr_assert(f);
        uint8_t buf[160];
        uint32_t ts = 0, silent = 0, first_silent = UINT32_MAX;
        size_t n;
        struct audio_second sec;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
            audio_feed(&st, codec_of(c), buf, n, ts, (uint64_t)ts * 125000, ts / 8000);
            ts += (uint32_t)n;
            while (audio_second_pop(&st, &sec))
                if (sec.active_ms == 0) {
                    silent++;
                    first_silent = sec.sec < first_silent ? sec.sec : first_silent;
                    /* digital silence: µ-law 0xFF is 0, A-law 0xD5 is +8 of 32768 */
                    cr_expect(sec.level_cdb <= -7000, "%s s%u level %d", name, sec.sec,
                              sec.level_cdb);
                } else {
                    cr_expect_eq(sec.heard_ms, 1000);
                }
        }
        fclose(f);
        audio_finish(&st);
        while (audio_second_pop(&st, &sec))
            silent += sec.active_ms == 0;
        struct audio_summary s;
        audio_summary(&st, &s);
        cr_expect_eq(silent, json_integer_value(json_object_get(c, "silent_seconds")), "%s", name);
        cr_expect_eq(s.silent_seconds, silent);
        cr_expect_eq(first_silent, json_integer_value(json_object_get(c, "silent_from_s")));
        audio_release(&st);
    }
    json_decref(root);
}

Test(audio, clipped_samples_as_written, .init = setup)
{
    json_t *root = truth_cases();
    for (int law = 0; law < 2; law++) {
        const char *name = law ? "clipping_alaw" : "clipping_ulaw";
        struct audio_state st;
        struct audio_summary s;
        run_case(root, name, &st, &s);
        json_int_t want = json_integer_value(json_object_get(find_case(root, name), "clipped"));
        cr_expect_eq(s.clipped, want, "%s: %u, want %lld", name, s.clipped, (long long)want);
        cr_expect_gt(want, 0);
        json_int_t runs = json_integer_value(json_object_get(find_case(root, name), "clip_runs"));
        cr_expect_eq(s.clip_runs, runs, "%s: %u runs, want %lld", name, s.clip_runs,
                     (long long)runs);
        cr_expect_gt(runs, 1); /* a 700 Hz sine over full scale: a run at each peak */
        audio_release(&st);
    }
    json_decref(root);
}

Test(audio, level_of_a_written_tone, .init = setup)
{
    json_t *root = truth_cases();
    const char *names[] = {"level_1020_m20", "level_1020_m20_alaw"};
    for (int i = 0; i < 2; i++) {
        struct audio_state st;
        struct audio_summary s;
        run_case(root, names[i], &st, &s);
        double want = json_real_value(json_object_get(find_case(root, names[i]), "level_dbov"));
        /* G.711 quantisation at -20 dBov costs well under 0.1 dB of power */
        cr_expect(fabs(s.level_dbov - want) < 0.1, "%s: %f", names[i], s.level_dbov);
        cr_expect_eq(s.silent_seconds, 0);
        audio_release(&st);
    }
    json_decref(root);
}

Test(audio, full_scale_sine_is_minus_3_01_dbov)
{
    /* ITU-T G.100.1: 0 dBov is a full-scale square wave, so a full-scale sine is -3.01 */
    int16_t pcm[8000];
    for (int i = 0; i < 8000; i++)
        pcm[i] = (int16_t)lrint(32767.0 * sin(2 * M_PI * 1020.0 * i / 8000));
    struct audio_state st;
    struct audio_cfg cfg = {0};
    audio_init(&st, AUDIO_CODEC_UNKNOWN, NULL, &cfg);
    audio_feed_pcm(&st, pcm, 8000, 0, 0);
    audio_finish(&st);
    struct audio_summary s;
    audio_summary(&st, &s);
    cr_expect(fabs(s.level_dbov - -3.01) < 0.01, "%f", s.level_dbov);
    cr_expect_eq(s.clipped, 0, "a sine's peak is one sample, no run");
    cr_expect(fabs(s.active_s - 1.0) < 1e-9);
    audio_release(&st);
}

/* ---- comfort noise, events, bad payloads ---------------------------------------------- */

Test(audio, comfort_noise_is_silence_and_events_are_not_audio, .init = setup)
{
    struct audio_state st;
    audio_init(&st, AUDIO_CODEC_PCMU, &plan, &all_on);
    uint8_t loud[160], cn[1] = {40}, ev[4] = {5, 0x0a, 0, 160};
    for (int i = 0; i < 160; i++)
        loud[i] = (uint8_t)(i & 1 ? 0x20 : 0xA0); /* ±(about 8 k): loud */
    uint32_t ts = 0;
    uint64_t t = 0;
    /* 1 s of audio, then one CN packet, and audio again 2 s later (RFC 3389 §4) */
    for (int i = 0; i < 50; i++, ts += 160, t += 20000000)
        audio_feed(&st, AUDIO_CODEC_PCMU, loud, 160, ts, t, (uint32_t)(t / 1000000000));
    cr_expect_eq(audio_feed(&st, AUDIO_CODEC_CN, cn, 1, ts, t, 1), AUDIO_OK);
    ts += 16000;
    t += 2000000000;
    cr_expect_eq(audio_feed(&st, AUDIO_CODEC_EVENT, ev, 4, ts, t, 3), AUDIO_OK);
    for (int i = 0; i < 50; i++, ts += 160, t += 20000000)
        audio_feed(&st, AUDIO_CODEC_PCMU, loud, 160, ts, t, (uint32_t)(t / 1000000000));
    /* a CN packet whose next packet's timestamp leaps an hour but arrives 100 ms later:
     * 100 ms of silence, by the packet time */
    audio_feed(&st, AUDIO_CODEC_CN, cn, 1, ts, t, 4);
    ts += 8000 * 3600;
    t += 100000000;
    audio_feed(&st, AUDIO_CODEC_PCMU, loud, 160, ts, t, 4);
    audio_finish(&st);
    struct audio_summary s;
    audio_summary(&st, &s);
    cr_expect_eq(s.cn_packets, 2);
    cr_expect(fabs(s.heard_s - 4.12) < 1e-9, "%f", s.heard_s);
    cr_expect(fabs(s.silence_s - 2.1) < 1e-9, "%f", s.silence_s);
    cr_expect(fabs(s.active_s - 2.02) < 1e-9, "%f", s.active_s);
    audio_release(&st);
}

Test(audio, bad_payloads_are_counted_by_reason)
{
    struct audio_state st;
    struct audio_cfg cfg = {0};
    uint8_t big[1200] = {0};
    struct {
        enum audio_codec c;
        const uint8_t *p;
        size_t n;
        enum audio_err want;
    } t[] = {
        {AUDIO_CODEC_PCMU, big, 0, AUDIO_ERR_EMPTY},
        {AUDIO_CODEC_PCMU, big, 961, AUDIO_ERR_TOO_LONG},
        {AUDIO_CODEC_G729, big, 7, AUDIO_ERR_LENGTH},
        {AUDIO_CODEC_G729, big, 130, AUDIO_ERR_TOO_LONG},
        {AUDIO_CODEC_GSM, big, 32, AUDIO_ERR_LENGTH},
        /* GSM 06.10 frames start with the signature 0xD; zeros have none */
        {AUDIO_CODEC_GSM, big, 33, AUDIO_ERR_BAD_FRAME},
        /* RFC 6716 §3.2.5: code 3 with a frame count of 0 is invalid */
        {AUDIO_CODEC_OPUS, (const uint8_t *)"\x03\x00", 2, AUDIO_ERR_TOC},
        /* code 3, 49 frames of 2.5 ms: 122.5 ms, more than 120 */
        {AUDIO_CODEC_OPUS, (const uint8_t *)"\x83\x31", 2, AUDIO_ERR_TOC},
        /* code 1 (two equal frames) with an odd remainder: §3.4 R3 */
        {AUDIO_CODEC_OPUS, (const uint8_t *)"\x01\x00", 2, AUDIO_ERR_TOC},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        if (audio_codec_unavailable(t[i].c)) continue;
        audio_init(&st, t[i].c, NULL, &cfg);
        cr_expect_eq(audio_feed(&st, t[i].c, t[i].p, t[i].n, 0, 0, 0), t[i].want, "case %zu: %s", i,
                     audio_err_name(t[i].want));
        struct audio_summary s;
        audio_summary(&st, &s);
        cr_expect_eq(s.errors[t[i].want], 1, "case %zu", i);
        cr_expect_eq(s.heard_s, 0);
        audio_release(&st);
    }
}

Test(audio, codec_names_and_reasons)
{
    cr_expect_eq(audio_codec_from_pt(0), AUDIO_CODEC_PCMU);
    cr_expect_eq(audio_codec_from_pt(8), AUDIO_CODEC_PCMA);
    cr_expect_eq(audio_codec_from_pt(18), AUDIO_CODEC_G729);
    cr_expect_eq(audio_codec_from_pt(13), AUDIO_CODEC_CN);
    cr_expect_eq(audio_codec_from_pt(96), AUDIO_CODEC_UNKNOWN);
    cr_expect_eq(audio_codec_from_name(sv_cstr("OPUS")), AUDIO_CODEC_OPUS);
    cr_expect_eq(audio_codec_from_name(sv_cstr("g726-32")), AUDIO_CODEC_G726_32);
    cr_expect_eq(audio_codec_from_name(sv_cstr("telephone-event")), AUDIO_CODEC_EVENT);
    cr_expect_eq(audio_codec_from_name(sv_cstr("AMR")), AUDIO_CODEC_UNKNOWN);
    cr_expect_null(audio_codec_unavailable(AUDIO_CODEC_PCMU));
    cr_expect_not_null(audio_codec_unavailable(AUDIO_CODEC_UNKNOWN));
    cr_expect_not_null(audio_codec_unavailable(AUDIO_CODEC_EVENT));
    cr_expect_eq(audio_codec_clock(AUDIO_CODEC_OPUS), 48000);
    cr_expect_eq(audio_codec_clock(AUDIO_CODEC_G722), 8000);
}

Test(audio, a_codec_this_build_cannot_decode_is_null_with_a_reason)
{
    static const enum audio_codec lib[] = {AUDIO_CODEC_G722, AUDIO_CODEC_G726_32, AUDIO_CODEC_G729,
                                           AUDIO_CODEC_OPUS, AUDIO_CODEC_GSM};
    static const bool built[] = {
#ifdef HAVE_SPANDSP
        true, true,
#else
        false, false,
#endif
#ifdef HAVE_BCG729
        true,
#else
        false,
#endif
#ifdef HAVE_OPUS
        true,
#else
        false,
#endif
#ifdef HAVE_GSM
        true,
#else
        false,
#endif
    };
    uint8_t frame[40] = {0xd0};
    struct audio_cfg cfg = {0};
    for (size_t i = 0; i < sizeof lib / sizeof lib[0]; i++) {
        struct audio_state st;
        audio_init(&st, lib[i], NULL, &cfg);
        enum audio_err e = audio_feed(&st, lib[i], frame, 20, 0, 0, 0);
        struct audio_summary s;
        audio_summary(&st, &s);
        if (built[i]) {
            cr_expect_null(s.unavailable, "%s", audio_codec_name(lib[i]));
            cr_expect_neq(e, AUDIO_ERR_NO_DECODER);
        } else {
            cr_expect_not_null(s.unavailable, "%s", audio_codec_name(lib[i]));
            cr_expect_eq(e, AUDIO_ERR_NO_DECODER);
            cr_expect_eq(s.heard_s, 0);
        }
        audio_release(&st);
    }
}

Test(audio, state_fits_its_budget)
{
    cr_expect_leq(sizeof(struct audio_state), AUDIO_STATE_MAX_BYTES);
    printf("audio: state %zu bytes a stream, plan %zu bytes shared\n", sizeof(struct audio_state),
           sizeof(struct audio_plan));
}

/* ---- library codecs: round trips through their own encoders -------------------------- */

#if defined(HAVE_SPANDSP) || defined(HAVE_BCG729) || defined(HAVE_OPUS) || defined(HAVE_GSM)
/* The frequency (zero crossings) and level (dBov) of decoded PCM, skipping the first
 * 100 ms while the codec settles. */
static void measure(const int16_t *x, size_t n, double *hz, double *dbov)
{
    size_t skip = 800, zc = 0;
    double e = 0;
    for (size_t i = skip; i < n; i++) {
        e += (double)x[i] * x[i];
        if (i > skip && (x[i] >= 0) != (x[i - 1] >= 0)) zc++;
    }
    *hz = zc / 2.0 / ((n - skip) / 8000.0);
    *dbov = 10 * log10(e / (n - skip) / (32768.0 * 32768.0));
}

#define RT_SECONDS 2
#define RT_HZ      800.0
#define RT_DBOV    -20.0

static void sine(int16_t *x, size_t n, int rate)
{
    double a = 32768.0 * pow(10, RT_DBOV / 20) * sqrt(2);
    for (size_t i = 0; i < n; i++)
        x[i] = (int16_t)lrint(a * sin(2 * M_PI * RT_HZ * (double)i / rate));
}

/* Decodes packets[] through audio_decode and checks what comes out. */
static void check_round_trip(const char *what, enum audio_codec c, uint8_t (*pkt)[400],
                             const size_t *len, size_t npkt, double level_tol)
{
    static int16_t out[RT_SECONDS * 8000 + AUDIO_MAX_PACKET_SAMPLES];
    size_t total = 0;
    struct audio_dec d;
    audio_dec_init(&d, c);
    for (size_t i = 0; i < npkt; i++) {
        size_t n;
        cr_assert_eq(audio_decode(&d, pkt[i], len[i], out + total, &n), AUDIO_OK, "%s pkt %zu",
                     what, i);
        total += n;
    }
    cr_assert_eq(total, RT_SECONDS * 8000, "%s: %zu samples", what, total);
    double hz, dbov;
    measure(out, total, &hz, &dbov);
    cr_expect(fabs(hz - RT_HZ) < 0.01 * RT_HZ, "%s: %f Hz", what, hz);
    cr_expect(fabs(dbov - RT_DBOV) < level_tol, "%s: %f dBov", what, dbov);
    printf("audio: %s round trip: %.1f Hz, %.2f dBov (sent %.0f Hz, %.1f dBov); decoder state "
           "%u bytes\n",
           what, hz, dbov, RT_HZ, RT_DBOV, d.lib_bytes);
    audio_dec_release(&d);
}

static uint8_t pkts[RT_SECONDS * 50][400];
static size_t lens[RT_SECONDS * 50];

Test(audio, g722_round_trip)
{
#ifdef HAVE_SPANDSP
    static int16_t x[RT_SECONDS * 16000];
    sine(x, RT_SECONDS * 16000, 16000);
    g722_encode_state_t *enc = g722_encode_init(NULL, 64000, 0);
    for (int i = 0; i < RT_SECONDS * 50; i++)
        lens[i] = (size_t)g722_encode(enc, pkts[i], x + i * 320, 320);
    g722_encode_free(enc);
    /* the 8 kHz low band of a 800 Hz tone is the tone: the QMF pair passes it whole */
    check_round_trip("G.722", AUDIO_CODEC_G722, pkts, lens, RT_SECONDS * 50, 0.5);
#else
    cr_skip("built without spandsp");
#endif
}

Test(audio, g726_round_trip)
{
#ifdef HAVE_SPANDSP
    static int16_t x[RT_SECONDS * 8000];
    sine(x, RT_SECONDS * 8000, 8000);
    static const struct {
        enum audio_codec c;
        int rate;
        const char *name;
    } v[] = {{AUDIO_CODEC_G726_32, 32000, "G.726-32"},
             {AUDIO_CODEC_G726_40, 40000, "G.726-40"},
             {AUDIO_CODEC_G726_24, 24000, "G.726-24"}};
    for (size_t k = 0; k < 3; k++) {
        g726_state_t *enc = g726_init(NULL, v[k].rate, G726_ENCODING_LINEAR, G726_PACKING_RIGHT);
        for (int i = 0; i < RT_SECONDS * 50; i++)
            lens[i] = (size_t)g726_encode(enc, pkts[i], x + i * 160, 160);
        g726_free(enc);
        check_round_trip(v[k].name, v[k].c, pkts, lens, RT_SECONDS * 50, 0.5);
    }
#else
    cr_skip("built without spandsp");
#endif
}

Test(audio, g729_round_trip)
{
#ifdef HAVE_BCG729
    static int16_t x[RT_SECONDS * 8000];
    sine(x, RT_SECONDS * 8000, 8000);
    bcg729EncoderChannelContextStruct *enc = initBcg729EncoderChannel(0);
    for (int i = 0; i < RT_SECONDS * 50; i++) {
        lens[i] = 0;
        for (int f = 0; f < 2; f++) {
            uint8_t l = 0;
            bcg729Encoder(enc, x + i * 160 + f * 80, pkts[i] + lens[i], &l);
            lens[i] += l;
        }
    }
    closeBcg729EncoderChannel(enc);
    /* G.729 codes speech, not sines: its level comes back within about 1 dB */
    check_round_trip("G.729", AUDIO_CODEC_G729, pkts, lens, RT_SECONDS * 50, 1.5);
#else
    cr_skip("built without libbcg729");
#endif
}

Test(audio, opus_round_trip)
{
#ifdef HAVE_OPUS
    static int16_t x[RT_SECONDS * 48000];
    sine(x, RT_SECONDS * 48000, 48000);
    int err;
    OpusEncoder *enc = opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP, &err);
    cr_assert_eq(err, OPUS_OK);
    opus_encoder_ctl(enc, OPUS_SET_BITRATE(32000));
    for (int i = 0; i < RT_SECONDS * 50; i++) {
        int n = opus_encode(enc, x + i * 960, 960, pkts[i], 400);
        cr_assert_gt(n, 0);
        lens[i] = (size_t)n;
    }
    opus_encoder_destroy(enc);
    check_round_trip("Opus", AUDIO_CODEC_OPUS, pkts, lens, RT_SECONDS * 50, 1.0);
#else
    cr_skip("built without libopus");
#endif
}

Test(audio, gsm_round_trip)
{
#ifdef HAVE_GSM
    static int16_t x[RT_SECONDS * 8000];
    sine(x, RT_SECONDS * 8000, 8000);
    gsm enc = gsm_create();
    for (int i = 0; i < RT_SECONDS * 50; i++) {
        gsm_encode(enc, x + i * 160, pkts[i]);
        lens[i] = 33;
    }
    gsm_destroy(enc);
    check_round_trip("GSM", AUDIO_CODEC_GSM, pkts, lens, RT_SECONDS * 50, 1.5);
#else
    cr_skip("built without libgsm");
#endif
}

#endif

/* ---- cost ------------------------------------------------------------------------------ */

Test(audio, g711_cost_per_packet_all_detectors_on, .init = setup)
{
    /* speech-like bytes (a generated file), 20 ms packets, tones and DTMF on */
    struct audio_state st;
    feed_file(&st, "speech_spurts.ulaw", AUDIO_CODEC_PCMU);
    audio_release(&st);
    const char *dir = getenv("SIPSCOPE_AUDIO");
    char path[1024];
    snprintf(path, sizeof path, "%s/speech_spurts.ulaw", dir);
    FILE *f = fopen(path, "rb");
    static uint8_t buf[8000 * 12];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    size_t npkt = n / 160;
    struct {
        const char *what;
        struct audio_cfg cfg;
    } runs[] = {{"all detectors", {true, true}},
                {"level+VAD+tones", {true, false}},
                {"level+VAD only", {false, false}}};
    for (int r = 0; r < 3; r++) {
        audio_init(&st, AUDIO_CODEC_PCMU, &plan, &runs[r].cfg);
        struct timespec a, b;
        int rounds = 20;
        clock_gettime(CLOCK_MONOTONIC, &a);
        uint32_t ts = 0;
        for (int k = 0; k < rounds; k++)
            for (size_t i = 0; i < npkt; i++, ts += 160)
                audio_feed(&st, AUDIO_CODEC_PCMU, buf + i * 160, 160, ts, (uint64_t)ts * 125000,
                           ts / 8000);
        clock_gettime(CLOCK_MONOTONIC, &b);
        double ns = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / (rounds * npkt);
        printf("audio: G.711 20 ms packet, %s: %.0f ns/packet (state %zu + %zu bytes)\n",
               runs[r].what, ns, sizeof st, audio_state_lib_bytes(&st));
        audio_release(&st);
    }
}

/* With no detector listening, G.711 is heard from its codes through tables, never decoded:
 * every figure must be the one the decoded samples give (those are checked against the
 * generator's truth above), byte for byte over speech, hiss and clipping of both laws. */
static void feed_twice(const char *file, enum audio_codec c, struct audio_state *bytes,
                       struct audio_state *pcm)
{
    const char *dir = getenv("SIPSCOPE_AUDIO");
    cr_assert(dir, "SIPSCOPE_AUDIO is not set: run through meson test");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "rb");
    cr_assert(f, "%s", path);
    static const struct audio_cfg off = {.tones = false, .dtmf = false};
    audio_init(bytes, c, &plan, &off);
    audio_init(pcm, c, &plan, &off);
    const int16_t *law = c == AUDIO_CODEC_PCMA ? audio_alaw : audio_ulaw;
    uint8_t buf[160];
    int16_t x[160];
    size_t n;
    uint32_t ts = 0;
    uint64_t t = 1700000000ull * 1000000000ull;
    while ((n = fread(buf, 1, 157, f)) > 0) { /* 157: packets that end inside a VAD frame */
        uint32_t ms = ts / 8;
        cr_assert_eq(audio_feed(bytes, c, buf, n, ts, t + ms * 1000000ull, ms / 1000), AUDIO_OK);
        for (size_t i = 0; i < n; i++)
            x[i] = law[buf[i]];
        audio_feed_pcm(pcm, x, n, t + ms * 1000000ull, ms / 1000);
        ts += (uint32_t)n;
    }
    fclose(f);
    audio_finish(bytes);
    audio_finish(pcm);
}

Test(audio, g711_from_its_bytes_as_from_its_samples, .init = setup)
{
    static const struct {
        const char *file;
        enum audio_codec c;
    } files[] = {{"speech_spurts.ulaw", AUDIO_CODEC_PCMU},
                 {"hiss_m45.ulaw", AUDIO_CODEC_PCMU},
                 {"clipping_ulaw.ulaw", AUDIO_CODEC_PCMU},
                 {"clipping_alaw.alaw", AUDIO_CODEC_PCMA}};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        struct audio_state a, b;
        struct audio_summary x, y;
        feed_twice(files[i].file, files[i].c, &a, &b);
        audio_summary(&a, &x);
        audio_summary(&b, &y);
        cr_expect_eq(x.active_s, y.active_s, "%s: active %f, want %f", files[i].file, x.active_s,
                     y.active_s);
        cr_expect_eq(x.level_dbov, y.level_dbov, "%s: level", files[i].file);
        cr_expect_eq(x.speech_level_dbov, y.speech_level_dbov, "%s: speech level", files[i].file);
        cr_expect_eq(x.clipped, y.clipped, "%s: clipped %u, want %u", files[i].file, x.clipped,
                     y.clipped);
        cr_expect_eq(x.clip_runs, y.clip_runs, "%s: runs %u, want %u", files[i].file, x.clip_runs,
                     y.clip_runs);
        cr_expect_eq(x.silent_seconds, y.silent_seconds, "%s: silent seconds", files[i].file);
        cr_expect_eq(x.heard_s, y.heard_s, "%s: heard", files[i].file);
        audio_release(&a);
        audio_release(&b);
    }
}

/* The byte path reads eight codes at once, telling each code's sign and full scale by
 * comparing bytes: the codes where those rules turn (µ-law's 0x7f is -0, that is 0, and
 * 0x7e the first negative below it; A-law has no zero: 0x55 is -8, 0xd5 +8) must count as
 * the ITU tables say. Frames alternate a code near the turn with one of about -800: the
 * AC level is then about -38 dBov, where the VAD's zero-crossing rule decides (audio.h),
 * so a frame is speech exactly when the code near the turn is negative (no sign change
 * at all) and not when it is not (a change every sample). */
Test(audio, g711_bytes_sign_as_the_itu_tables, .init = setup)
{
    static const struct audio_cfg off = {.tones = false, .dtmf = false};
    static const uint8_t turns[2][6] = {{0x7e, 0x7f, 0xff, 0xfe, 0x80, 0x00},
                                        {0x55, 0xd5, 0x7f, 0x80, 0x54, 0xd4}};
    for (int a = 0; a < 2; a++) {
        enum audio_codec c = a ? AUDIO_CODEC_PCMA : AUDIO_CODEC_PCMU;
        const int16_t *law = a ? audio_alaw : audio_ulaw;
        int m = 0; /* the code nearest -800 */
        for (int b = 0; b < 256; b++)
            if (abs(law[b] + 800) < abs(law[m] + 800)) m = b;
        for (int t = 0; t < 6; t++) {
            uint8_t b = turns[a][t];
            if (abs(law[b]) > 100) continue; /* full scale: no level where the rule decides */
            uint8_t buf[160];
            for (int i = 0; i < 160; i++)
                buf[i] = (uint8_t)(i % 2 ? m : b);
            struct audio_state st;
            struct audio_summary s;
            audio_init(&st, c, &plan, &off);
            for (uint32_t i = 0; i < 50; i++) /* one second */
                audio_feed(&st, c, buf + (i % 3), 160 - 2 * (i % 3), i * 160,
                           1700000000ull * 1000000000ull + i * 20000000ull, 0);
            audio_finish(&st);
            audio_summary(&st, &s);
            bool speech = law[b] < 0;
            cr_expect(speech ? s.active_s > 0.9 : s.active_s == 0,
                      "%s code 0x%02x (%d): %.2f s active", a ? "A-law" : "µ-law", b, law[b],
                      s.active_s);
            audio_release(&st);
        }
    }
}

/* Full-scale codes anywhere in a packet, across the 8-byte words the byte path reads and
 * the bytes after them: runs of 1 to 9, each counted as AUDIO_CLIP_RUN says, counted here
 * from the codes themselves. */
Test(audio, g711_bytes_clipping_at_every_offset, .init = setup)
{
    static const struct audio_cfg off = {.tones = false, .dtmf = false};
    static const uint8_t full[2][2] = {{0x00, 0x80}, {0x2a, 0xaa}}, quiet[2] = {0xff, 0xd5};
    for (int a = 0; a < 2; a++) {
        enum audio_codec c = a ? AUDIO_CODEC_PCMA : AUDIO_CODEC_PCMU;
        struct audio_state st;
        struct audio_summary s;
        audio_init(&st, c, &plan, &off);
        uint32_t want = 0, want_runs = 0, ts = 0;
        for (int len = 1; len <= 9; len++) {
            for (int at = 0; at < 24; at++) {
                uint8_t buf[53]; /* 6 words and 5 bytes */
                memset(buf, quiet[a], sizeof buf);
                for (int i = 0; i < len && at + i < (int)sizeof buf; i++)
                    buf[at + i] = full[a][(at + i) % 2];
                int n = at + len < (int)sizeof buf ? len : (int)sizeof buf - at;
                if (n >= AUDIO_CLIP_RUN) {
                    want += (uint32_t)n;
                    want_runs++;
                }
                audio_feed(&st, c, buf, sizeof buf, ts,
                           1700000000ull * 1000000000ull + ts * 125000ull, ts / 8000);
                ts += sizeof buf;
            }
        }
        audio_finish(&st);
        audio_summary(&st, &s);
        cr_expect_eq(s.clipped, want, "%s: %u clipped, want %u", a ? "A-law" : "µ-law", s.clipped,
                     want);
        cr_expect_eq(s.clip_runs, want_runs, "%s: %u runs, want %u", a ? "A-law" : "µ-law",
                     s.clip_runs, want_runs);
        audio_release(&st);
    }
}
