/* libFuzzer harness for audio/: codec payloads and tone plans from untrusted bytes.
 * The input: octet 0 picks the mode (bit 7 set: the rest is a tone plan's text) and,
 * otherwise, the stream's codec (low 4 bits, any value of enum audio_codec and beyond;
 * bit 6 set: tones and DTMF off);
 * then records of payload type choice (1 octet: 0 the stream's codec, 1 CN, 2 event, 3
 * another codec from the next octet), length (1 octet) and payload. Each input gets a
 * fresh state, so leaks and stale state show in the sanitizers. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "audio/audio.h"
#include "common/cursor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct audio_plan plan;
    static int have_plan;
    if (!have_plan) {
        audio_plan_default(&plan);
        have_plan = 1;
    }
    struct cursor c = cursor_make(data, size);
    uint8_t mode;
    if (!cursor_u8(&c, &mode))
        return 0;
    if (mode & 0x80) {
        struct audio_plan p;
        char err[96];
        const uint8_t *text;
        size_t n = cursor_left(&c);
        if (!cursor_bytes(&c, n, &text))
            return 0;
        if (audio_plan_parse(&p, (const char *)text, n, err, sizeof err) == 0) {
            /* a plan that parses must also run: a little audio through it */
            struct audio_state st;
            static const struct audio_cfg cfg = {.tones = true, .dtmf = false};
            int16_t pcm[AUDIO_MAX_PACKET_SAMPLES];
            for (size_t i = 0; i < AUDIO_MAX_PACKET_SAMPLES; i++)
                pcm[i] = (int16_t)((i * 7919u) ^ n);
            audio_init(&st, AUDIO_CODEC_PCMU, &p, &cfg);
            audio_feed_pcm(&st, pcm, AUDIO_MAX_PACKET_SAMPLES, 0, 0);
            audio_finish(&st);
            audio_release(&st);
        }
        return 0;
    }
    enum audio_codec codec = (enum audio_codec)(mode & 0x0f);
    struct audio_state st;
    /* bit 6: detectors off, as in an answered stream's later seconds: G.711 is then heard
     * from its codes through tables, a path of its own */
    const struct audio_cfg cfg = {.tones = !(mode & 0x40), .dtmf = !(mode & 0x40)};
    audio_init(&st, codec, &plan, &cfg);
    uint32_t ts = 0;
    uint64_t t = 0;
    uint8_t kind, len;
    while (cursor_u8(&c, &kind) && cursor_u8(&c, &len)) {
        enum audio_codec pc = codec;
        if ((kind & 3) == 1)
            pc = AUDIO_CODEC_CN;
        else if ((kind & 3) == 2)
            pc = AUDIO_CODEC_EVENT;
        else if ((kind & 3) == 3)
            pc = (enum audio_codec)(kind >> 2); /* any value, even past the enum */
        const uint8_t *p;
        size_t n = len < cursor_left(&c) ? len : cursor_left(&c);
        if (!cursor_bytes(&c, n, &p))
            break;
        audio_feed(&st, pc, p, n, ts, t, (uint32_t)(t / 1000000000u));
        /* timestamps may jump (kind's top bits) as well as step */
        ts += 160u << (kind >> 5);
        t += 20000000u;
        struct audio_second sec;
        while (audio_second_pop(&st, &sec))
            ;
    }
    audio_finish(&st);
    struct audio_summary s;
    audio_summary(&st, &s);
    size_t sum = s.ndet + s.ndigits;
    for (unsigned i = 0; i < s.ndet; i++)
        sum += s.det[i].end_ms - s.det[i].start_ms;
    audio_release(&st);
    return (int)(sum & 0);
}
