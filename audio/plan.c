/* Tone plans: which call progress and fax tones we listen for, in a small text format that
 * the default plan is itself written in, so `--tone-plan FILE` and the default read alike.
 * One tone a line, '#' starts a comment:
 *   KIND REGION FREQS CADENCE
 *   KIND     ringback busy congestion sit dial fax_cng fax_ced other
 *   REGION   a label of up to 7 characters (NA, EU, UK, ITU...)
 *   FREQS    Hz, 100-3000: "425", "440+480" (heard together, at most 2), or "950/1400/1800"
 *            (played in turn, at most 3: a special information tone)
 *   CADENCE  ms on,off,on,off... of one cycle (2, 4 or 6 values), "continuous" (heard for
 *            3000 ms), "continuous:MS"; for tones in turn, each one's length ("330,330,330")
 * The plan is compiled once: each distinct frequency gets one Goertzel filter, each group
 * of frequencies heard together one cadence tracker, however many tones share them. */
#include "audio.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ITU-T E.180 (03/1998) §2 and its Supplement 2 for the national plans; CEPT T/CS 20-15
 * for Europe's 425 Hz tones; BT SIN 350 for the UK; ITU-T E.180 §9 / Q.35 for the special
 * information tone; ITU-T T.30 §5.2 / V.25 for fax CNG and CED/ANS. */
const char audio_plan_default_text[] = "# kind      region freqs          cadence (ms)\n"
                                       "ringback    NA     440+480        2000,4000\n"
                                       "busy        NA     480+620        500,500\n"
                                       "congestion  NA     480+620        250,250\n" /* reorder */
                                       "dial        NA     350+440        continuous\n"
                                       "ringback    EU     425            1000,4000\n"
                                       "busy        EU     425            500,500\n"
                                       "congestion  EU     425            250,250\n"
                                       "dial        EU     425            continuous\n"
                                       "ringback    UK     400+450        400,200,400,2000\n"
                                       "busy        UK     400            375,375\n"
                                       "congestion  UK     400            400,350,225,525\n"
                                       "dial        UK     350+450        continuous\n"
                                       "sit         ITU    950/1400/1800  330,330,330\n"
                                       "fax_cng     T.30   1100           500,3000\n"
                                       "fax_ced     T.30   2100           continuous:2000\n";

static const char *const kind_names[AUDIO_TONE_KIND_COUNT] = {
    [AUDIO_TONE_RINGBACK] = "ringback",
    [AUDIO_TONE_BUSY] = "busy",
    [AUDIO_TONE_CONGESTION] = "congestion",
    [AUDIO_TONE_SIT] = "sit",
    [AUDIO_TONE_DIAL] = "dial",
    [AUDIO_TONE_FAX_CNG] = "fax_cng",
    [AUDIO_TONE_FAX_CED] = "fax_ced",
    [AUDIO_TONE_OTHER] = "other",
};

const char *audio_tone_kind_name(enum audio_tone_kind k)
{
    return (unsigned)k < AUDIO_TONE_KIND_COUNT ? kind_names[k] : "other";
}

/* Frequencies above this run on the 8 kHz signal: the 4 kHz decimated one ends at 2 kHz
 * and its [1 3 3 1] filter has already taken 9 dB at 1.9 kHz. */
#define FULL_RATE_HZ 1900.0

static int fail(char *err, size_t errlen, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int line, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return line;
}

/* The next whitespace-separated field of [*p, end) */
static struct sv field(const char **p, const char *end)
{
    const char *s = *p;
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    const char *e = s;
    while (e < end && *e != ' ' && *e != '\t')
        e++;
    *p = e;
    return sv_make(s, (size_t)(e - s));
}

/* A decimal number of at most 5 digits with an optional ".digit" (frequencies like 913.8) */
static bool number(struct sv v, double *out)
{
    double x = 0;
    size_t i = 0, digits = 0;
    for (; i < v.n && isdigit((unsigned char)v.p[i]); i++, digits++)
        x = x * 10 + (v.p[i] - '0');
    if (digits == 0 || digits > 5) return false;
    if (i < v.n && v.p[i] == '.') {
        double scale = 0.1;
        for (i++; i < v.n && isdigit((unsigned char)v.p[i]); i++, scale /= 10)
            x += (v.p[i] - '0') * scale;
    }
    if (i != v.n) return false;
    *out = x;
    return true;
}

/* Splits v at each sep into at most max numbers; the count, or -1 */
static int numbers(struct sv v, char sep, double *out, int max)
{
    int n = 0;
    size_t start = 0;
    for (size_t i = 0; i <= v.n; i++) {
        if (i < v.n && v.p[i] != sep) continue;
        if (n == max || !number(sv_make(v.p + start, i - start), &out[n])) return -1;
        n++;
        start = i + 1;
    }
    return n;
}

static int freq_index(struct audio_plan *plan, double hz)
{
    for (int i = 0; i < plan->nfreqs; i++)
        if (fabs(plan->freq_hz[i] - hz) < 0.05) return i;
    if (plan->nfreqs == AUDIO_PLAN_MAX_FREQS) return -1;
    int i = plan->nfreqs++;
    plan->freq_hz[i] = (float)hz;
    plan->full_rate[i] = hz > FULL_RATE_HZ;
    if (plan->full_rate[i])
        plan->full[plan->nfull++] = (uint8_t)i;
    else
        plan->half[plan->nhalf++] = (uint8_t)i;
    double fs = plan->full_rate[i] ? AUDIO_RATE : AUDIO_RATE / 2;
    plan->coef[i] = (float)(2.0 * cos(2.0 * M_PI * hz / fs));
    return i;
}

static int set_index(struct audio_plan *plan, const int *f, int nf)
{
    for (int s = 0; s < plan->nsets; s++) {
        if (plan->set_nfreq[s] != nf) continue;
        if (plan->set_freq[s][0] == f[0] && (nf == 1 || plan->set_freq[s][1] == f[1])) return s;
    }
    if (plan->nsets == AUDIO_PLAN_MAX_SETS) return -1;
    int s = plan->nsets++;
    plan->set_nfreq[s] = (uint8_t)nf;
    for (int i = 0; i < nf; i++)
        plan->set_freq[s][i] = (uint8_t)f[i];
    return s;
}

static int parse_line(struct audio_plan *plan, const char *p, const char *end, int line, char *err,
                      size_t errlen)
{
    struct sv kind = field(&p, end);
    if (kind.n == 0) return 0; /* blank or comment only */
    struct sv region = field(&p, end), freqs = field(&p, end), cad = field(&p, end);
    struct sv extra = field(&p, end);
    if (cad.n == 0 || extra.n != 0)
        return fail(err, errlen, line, "line %d: want KIND REGION FREQS CADENCE", line);
    if (plan->ntones == AUDIO_PLAN_MAX_TONES)
        return fail(err, errlen, line, "line %d: more than %d tones", line, AUDIO_PLAN_MAX_TONES);
    struct audio_tone *t = &plan->tones[plan->ntones];
    memset(t, 0, sizeof *t);

    int k = 0;
    while (k < AUDIO_TONE_KIND_COUNT && !sv_eq_cstr(kind, kind_names[k]))
        k++;
    if (k == AUDIO_TONE_KIND_COUNT)
        return fail(err, errlen, line, "line %d: unknown kind '%.*s'", line, (int)kind.n, kind.p);
    t->kind = (enum audio_tone_kind)k;
    if (region.n >= sizeof t->region)
        return fail(err, errlen, line, "line %d: region longer than 7", line);
    memcpy(t->region, region.p, region.n);

    double hz[AUDIO_PLAN_MAX_SEQUENCE];
    bool together = memchr(freqs.p, '+', freqs.n) != NULL;
    t->sequence = memchr(freqs.p, '/', freqs.n) != NULL;
    int nf = together ? numbers(freqs, '+', hz, 2)
                      : numbers(freqs, '/', hz, t->sequence ? AUDIO_PLAN_MAX_SEQUENCE : 1);
    if (nf < 1 || (t->sequence && together))
        return fail(err, errlen, line, "line %d: bad frequencies '%.*s'", line, (int)freqs.n,
                    freqs.p);
    int fi[AUDIO_PLAN_MAX_SEQUENCE];
    for (int i = 0; i < nf; i++) {
        if (hz[i] < 100 || hz[i] > 3000)
            return fail(err, errlen, line, "line %d: %g Hz outside 100-3000", line, hz[i]);
        if ((fi[i] = freq_index(plan, hz[i])) < 0)
            return fail(err, errlen, line, "line %d: more than %d frequencies", line,
                        AUDIO_PLAN_MAX_FREQS);
    }
    if (t->sequence) {
        for (int i = 0; i < nf; i++) {
            int s = set_index(plan, &fi[i], 1);
            if (s < 0) return fail(err, errlen, line, "line %d: too many tone groups", line);
            t->sets[i] = (uint8_t)s;
        }
        t->nsets = (uint8_t)nf;
    } else {
        int s = set_index(plan, fi, nf);
        if (s < 0) return fail(err, errlen, line, "line %d: too many tone groups", line);
        t->sets[0] = (uint8_t)s;
        t->nsets = 1;
    }

    static const char cont[] = "continuous";
    if (cad.n >= sizeof cont - 1 && memcmp(cad.p, cont, sizeof cont - 1) == 0) {
        double min = 3000;
        struct sv rest = sv_make(cad.p + sizeof cont - 1, cad.n - (sizeof cont - 1));
        if (rest.n && (rest.p[0] != ':' || !number(sv_make(rest.p + 1, rest.n - 1), &min)))
            return fail(err, errlen, line, "line %d: want continuous or continuous:MS", line);
        if (t->sequence || min < 200 || min > 60000)
            return fail(err, errlen, line, "line %d: continuous for 200-60000 ms, not in turn",
                        line);
        t->min_ms = (uint16_t)min;
    } else {
        double ms[AUDIO_PLAN_MAX_CADENCE];
        int nc = numbers(cad, ',', ms, AUDIO_PLAN_MAX_CADENCE);
        if (nc < 1)
            return fail(err, errlen, line, "line %d: bad cadence '%.*s'", line, (int)cad.n, cad.p);
        if (t->sequence ? nc != nf : nc % 2 != 0)
            return fail(err, errlen, line,
                        "line %d: cadence wants on,off pairs (in turn: one length a tone)", line);
        for (int i = 0; i < nc; i++) {
            if (ms[i] < 80 || ms[i] > 60000)
                return fail(err, errlen, line, "line %d: %g ms outside 80-60000", line, ms[i]);
            t->cadence_ms[i] = (uint16_t)ms[i];
        }
        t->ncad = (uint8_t)nc;
    }
    plan->ntones++;
    return 0;
}

/* Where each filter runs in audio.c's groups of four: the 4 kHz ones, then the 8 kHz ones
 * from the next whole group (at most 16 + 3 slots in use of AUDIO_PLAN_SLOTS). */
static void plan_slots(struct audio_plan *plan)
{
    plan->half4 = (uint8_t)((plan->nhalf + 3) / 4);
    plan->full4 = (uint8_t)((plan->nfull + 3) / 4);
    for (int j = 0; j < plan->nhalf; j++)
        plan->slot[plan->half[j]] = (uint8_t)j;
    for (int j = 0; j < plan->nfull; j++)
        plan->slot[plan->full[j]] = (uint8_t)(4 * plan->half4 + j);
    for (int f = 0; f < plan->nfreqs; f++)
        plan->slot_coef[plan->slot[f]] = plan->coef[f];
}

int audio_plan_parse(struct audio_plan *plan, const char *text, size_t len, char *err,
                     size_t errlen)
{
    memset(plan, 0, sizeof *plan);
    const char *p = text, *end = text + len;
    for (int line = 1; p < end; line++) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) eol = end;
        const char *stop = memchr(p, '#', (size_t)(eol - p));
        if (!stop) stop = eol;
        while (stop > p && (stop[-1] == '\r' || stop[-1] == ' ' || stop[-1] == '\t'))
            stop--;
        int rc = parse_line(plan, p, stop, line, err, errlen);
        if (rc) return rc;
        p = eol < end ? eol + 1 : end;
    }
    if (plan->ntones == 0) return fail(err, errlen, 1, "no tone in the plan");
    plan_slots(plan);
    return 0;
}

int audio_plan_load(struct audio_plan *plan, const char *path, char *err, size_t errlen)
{
    enum { MAX = 64 * 1024 };
    FILE *f = fopen(path, "rb");
    if (!f) return fail(err, errlen, -1, "%s: %s", path, strerror(errno));
    char *buf = malloc(MAX + 1);
    if (!buf) {
        fclose(f);
        return fail(err, errlen, -1, "%s: out of memory", path);
    }
    size_t n = fread(buf, 1, MAX + 1, f);
    bool bad = ferror(f);
    fclose(f);
    int rc;
    if (bad)
        rc = fail(err, errlen, -1, "%s: read error", path);
    else if (n > MAX)
        rc = fail(err, errlen, -1, "%s: larger than 64 KiB", path);
    else
        rc = audio_plan_parse(plan, buf, n, err, errlen);
    free(buf);
    return rc;
}

void audio_plan_default(struct audio_plan *plan)
{
    int rc = audio_plan_parse(plan, audio_plan_default_text, sizeof audio_plan_default_text - 1,
                              NULL, 0);
    assert(rc == 0); /* a programmer's error: tests/unit/test_audio.c parses it */
    (void)rc;
}
