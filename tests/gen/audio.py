#!/usr/bin/env python3
"""Real audio payloads with known truth (issue 24), standard library only.

  audio.py OUTDIR [--stamp FILE]
      OUTDIR/<case>.ulaw or .alaw: 8 kHz G.711 bytes, as RTP would carry them;
      OUTDIR/truth.json: for each case what was written (tones and their times, digits,
      speech and silence milliseconds, clipped samples, level)

G.711 is encoded here by the rule of ITU-T G.711 itself (segments and quantisation
intervals of its Tables 1a and 2a), written from the standard and not from sipscope's C
decoder, so that the tests compare two independent readings of the same standard.
"""
import argparse
import json
import math
import os
import random
import sys

RATE = 8000
FS = 32768.0


# ---- ITU-T G.711 encoders -------------------------------------------------------------

def ulaw_encode(s):
    """µ-law (G.711 §3, Table 2a): 14-bit magnitude plus the bias 33, the segment is the
    position of its top bit, four bits of mantissa; the character is sent inverted."""
    sign = 0x80 if s < 0 else 0
    m = min(abs(int(s)) >> 2, 8158) + 33
    seg = m.bit_length() - 6          # 33..63 -> 0, ..., 4096..8191 -> 7
    mant = (m >> (seg + 1)) & 0x0F
    return ~(sign | seg << 4 | mant) & 0xFF


def alaw_encode(s):
    """A-law (G.711 §2, Table 1a): 13-bit magnitude; segment 0 and 1 share the step 2, each
    next one doubles it; positive values carry the sign bit; even bits inverted (0x55)."""
    sign = 0 if s < 0 else 0x80
    m = min(abs(int(s)) >> 3, 4095)
    if m < 32:
        seg, mant = 0, m >> 1
    else:
        seg = m.bit_length() - 5      # 32..63 -> 1, ..., 2048..4095 -> 7
        mant = (m >> seg) & 0x0F
    return (sign | seg << 4 | mant) ^ 0x55


# The largest magnitudes (G.711 Table 2a/1a: segment 8, last interval), by character.
ULAW_MAX = {0x80, 0x00}
ALAW_MAX = {0xAA, 0x2A}
ULAW_SILENCE = 0xFF   # decoder output 0 (the positive zero)
ALAW_SILENCE = 0xD5   # decoder output +1 (the smallest positive step)


# ---- signals (floats in units of full scale, 8 kHz) -------------------------------------

def amp(level_dbov, ncomp=1):
    """Per-component peak for ncomp equal sines whose sum has this RMS level (dBov, where a
    full-scale sine is -3.01 dBov: G.100.1's 0 dBov is a full-scale square wave)."""
    return 10 ** (level_dbov / 20) * math.sqrt(2.0 / ncomp)


def tone(freqs, ms, level_dbov=-20.0, phase0=0):
    n = ms * RATE // 1000
    a = amp(level_dbov, len(freqs))
    return [sum(a * math.sin(2 * math.pi * f * (phase0 + i) / RATE) for f in freqs)
            for i in range(n)]


def silence(ms):
    return [0.0] * (ms * RATE // 1000)


def cadenced(freqs, cadence, cycles, level_dbov=-20.0):
    """cycles of on/off pairs; returns samples and the list of (start, end) ms of each on."""
    out, ons, t = [], [], 0
    for _ in range(cycles):
        for i, ms in enumerate(cadence):
            if i % 2 == 0:
                out += tone(freqs, ms, level_dbov, len(out))
                ons.append((t, t + ms))
            else:
                out += silence(ms)
            t += ms
    return out, ons


def speech_like(rng, ms, level_dbov=-22.0):
    """Band-limited noise (one-pole low-pass at about 1 kHz after a first difference, so
    roughly 200-1000 Hz), amplitude-modulated at a syllable rate of 4 Hz between 0.35
    and 1 of its peak, scaled to level_dbov RMS."""
    n = ms * RATE // 1000
    lp, prev, raw = 0.0, 0.0, []
    for _ in range(n):
        w = rng.gauss(0, 1)
        hp = w - 0.9 * prev
        prev = w
        lp += 0.55 * (hp - lp)
        raw.append(lp)
    rate = 4.0 + rng.random()
    env = [0.35 + 0.65 * abs(math.sin(math.pi * rate * i / RATE)) for i in range(n)]
    x = [r * e for r, e in zip(raw, env)]
    rms = math.sqrt(sum(v * v for v in x) / n)
    k = 10 ** (level_dbov / 20) / rms
    return [v * k for v in x]


_SPEECH_PACKETS = {}


def speech_packets(law):
    """A second of speech_like noise at -22 dBov as fifty 160-byte G.711 payloads (law
    'ulaw' or 'alaw'), made once: what the generators of calls put in their RTP, so that
    an answered call talks and is not heard as silence (a payload of one constant code is
    DC, which a VAD does not take for speech). Its own seeded random, so that drawing it
    changes no generator's other figures."""
    if law not in _SPEECH_PACKETS:
        codes = encode(to16(speech_like(random.Random(24), 1000)), law)
        _SPEECH_PACKETS[law] = [codes[i * 160:(i + 1) * 160] for i in range(50)]
    return _SPEECH_PACKETS[law]


# Q.23: the DTMF pairs
DTMF_ROWS = [697, 770, 852, 941]
DTMF_COLS = [1209, 1336, 1477, 1633]
DTMF_KEYS = ["123A", "456B", "789C", "*0#D"]


def dtmf(digits, on_ms=100, off_ms=100, level_dbov=-12.0):
    out, times = [], []
    for d in digits:
        r = next(i for i, row in enumerate(DTMF_KEYS) if d in row)
        c = DTMF_KEYS[r].index(d)
        times.append(len(out) * 1000 // RATE)
        out += tone([DTMF_ROWS[r], DTMF_COLS[c]], on_ms, level_dbov + 3.01)
        out += silence(off_ms)
    return out, times


def to16(x):
    return [max(-32768, min(32767, int(round(v * FS)))) for v in x]


def encode(samples16, law):
    enc = ulaw_encode if law == "ulaw" else alaw_encode
    return bytes(enc(s) for s in samples16)


def clipped_truth(codes, law):
    """Samples in runs of 3 or more at the codec's largest magnitude (the C side's rule,
    AUDIO_CLIP_RUN), counted on the characters written."""
    top = ULAW_MAX if law == "ulaw" else ALAW_MAX
    total = run = 0
    for c in codes:
        run = run + 1 if c in top else 0
        total += 3 if run == 3 else (1 if run > 3 else 0)
    return total


def clip_runs_truth(codes, law):
    """The runs clipped_truth counts: stretches of 3 or more at the largest magnitude."""
    top = ULAW_MAX if law == "ulaw" else ALAW_MAX
    runs = run = 0
    for c in codes:
        run = run + 1 if c in top else 0
        runs += run == 3
    return runs


# ---- the cases -------------------------------------------------------------------------

LEAD_MS = 1000

# The default tone plan (audio/plan.c), as the plans themselves give it: kind, region,
# frequencies (together, or in turn), cadence, cycles to write.
PLAN = [
    ("ringback", "NA", [440, 480], [2000, 4000], 3),
    ("busy", "NA", [480, 620], [500, 500], 5),
    ("congestion", "NA", [480, 620], [250, 250], 8),
    ("dial", "NA", [350, 440], [5000], 1),
    ("ringback", "EU", [425], [1000, 4000], 3),
    ("busy", "EU", [425], [500, 500], 5),
    ("congestion", "EU", [425], [250, 250], 8),
    ("dial", "EU", [425], [5000], 1),
    ("ringback", "UK", [400, 450], [400, 200, 400, 2000], 4),
    ("busy", "UK", [400], [375, 375], 6),
    ("congestion", "UK", [400], [400, 350, 225, 525], 4),
    ("dial", "UK", [350, 450], [5000], 1),
    ("fax_cng", "T.30", [1100], [500, 3000], 3),
    ("fax_ced", "T.30", [2100], [3000], 1),
]

# Near misses: close to a plan tone, yet none of them. Each must give no tone at all.
NEAR = [
    ("na_ringback_short_off", [440, 480], [2000, 2000], 3),   # NA ringback pace is 2/4
    ("eu_425_one_one", [425], [1000, 1000], 4),               # no 425 tone is 1 s/1 s
    ("eu_ringback_at_500hz", [500], [1000, 4000], 3),         # 500 Hz is no plan tone
    ("uk_single_ring", [400, 450], [400, 2000], 4),           # UK rings twice
    ("cng_at_1300hz", [1300], [500, 3000], 3),                # CNG is 1100 Hz
    ("dial_at_600hz", [600], [5000], 1),                      # no plan has a 600 Hz dial tone
]


def case_tone(name, kind, region, freqs, cad, cycles):
    if len(cad) == 1:   # continuous
        body, ons = tone(freqs, cad[0]), [(0, cad[0])]
    else:
        body, ons = cadenced(freqs, cad, cycles)
    x = silence(LEAD_MS) + body + silence(1000)
    det = []
    if kind:
        det = [{"kind": kind, "region": region, "start_ms": LEAD_MS + ons[0][0],
                "end_ms": LEAD_MS + ons[-1][1]}]
    return x, {"tones": det}


def case_sit(order):
    """E.180 §9: 950, 1400, 1800 Hz for 330 ms each, back to back, then 1 s of silence."""
    x, t = silence(LEAD_MS), LEAD_MS
    for _ in range(2):
        for f in order:
            x += tone([f], 330, -20.0, len(x))
        x += silence(1000)
    x += silence(500)
    return x


def build(outdir):
    rng = random.Random(24)
    cases = []

    def add(name, x, law, truth, codes=None):
        b = codes if codes is not None else encode(to16(x), law)
        path = os.path.join(outdir, name + "." + law)
        with open(path, "wb") as f:
            f.write(b)
        truth = dict(truth)
        truth.update({"name": name, "codec": "PCMU" if law == "ulaw" else "PCMA",
                      "file": os.path.basename(path), "ms": len(b) * 1000 // RATE})
        cases.append(truth)

    for kind, region, freqs, cad, cycles in PLAN:
        x, truth = case_tone("", kind, region, freqs, cad, cycles)
        add("tone_%s_%s" % (kind, region.replace(".", "")), x, "ulaw",
            dict(truth, group="tone"))
    for name, freqs, cad, cycles in NEAR:
        x, truth = case_tone(name, None, None, freqs, cad, cycles)
        add("near_" + name, x, "ulaw", dict(truth, group="near"))
    add("tone_sit_ITU", case_sit([950, 1400, 1800]), "ulaw",
        {"group": "tone", "tones": [{"kind": "sit", "region": "ITU", "start_ms": LEAD_MS,
                                     "end_ms": LEAD_MS + 2 * 990 + 1000}]})
    add("near_sit_reversed", case_sit([1800, 1400, 950]), "ulaw",
        {"group": "near", "tones": []})
    # the plan in A-law too: European ringback, as a European gateway sends it
    x, truth = case_tone("", "ringback", "EU", [425], [1000, 4000], 3)
    add("tone_ringback_EU_alaw", x, "alaw", dict(truth, group="tone"))

    # DTMF: every key of Q.23, 100 ms on and off, -12 dBov a pair
    digits = "123A456B789C*0#D"
    x, times = dtmf(digits)
    add("dtmf_all", silence(500) + x + silence(500), "ulaw",
        {"group": "dtmf", "digits": digits, "digit_ms": [500 + t for t in times]})

    # speech-like talk spurts with digital silence between them, and the truth of both
    x, spurts, t = [], [], 0
    for ms in (1500, 2000, 800, 2500):
        pause = rng.choice([600, 1000, 1400])
        x += silence(pause)
        t += pause
        x += speech_like(rng, ms)
        spurts.append((t, t + ms))
        t += ms
    x += silence(1000)
    add("speech_spurts", x, "ulaw",
        {"group": "speech", "active_ms": sum(e - s for s, e in spurts), "spurts": spurts,
         "silent_ms": len(x) * 1000 // RATE - sum(e - s for s, e in spurts)})

    # 3 s talk, 4 s digital silence (µ-law 0xFF), 3 s talk: four silent seconds
    for law, sil in (("ulaw", ULAW_SILENCE), ("alaw", ALAW_SILENCE)):
        a = encode(to16(speech_like(rng, 3000)), law)
        b = encode(to16(speech_like(rng, 3000)), law)
        codes = a + bytes([sil]) * (4 * RATE) + b
        add("silence_gap_" + law, None, law,
            {"group": "silence", "silent_seconds": 4, "silent_from_s": 3, "active_ms": 6000},
            codes=codes)

    # clipping: a 700 Hz sine driven 1.5x over full scale, 2 s, between 1 s of clean sine
    for law in ("ulaw", "alaw"):
        clean = tone([700], 1000, -10.0)
        hot = [max(-1.0, min(1.0, v)) for v in
               (1.5 * math.sqrt(2) * math.sin(2 * math.pi * 700 * i / RATE)
                for i in range(2 * RATE))]
        codes = encode(to16(clean + hot + clean), law)
        add("clipping_" + law, None, law,
            {"group": "clipping", "clipped": clipped_truth(codes, law),
             "clip_runs": clip_runs_truth(codes, law)}, codes=codes)

    # hiss: white noise at -45 dBov, above the VAD's floor but crossing zero at every
    # other sample: no speech, all silence (the zero-crossing half of the VAD rule)
    hiss = [rng.gauss(0, 10 ** (-45 / 20)) for _ in range(3 * RATE)]
    add("hiss_m45", hiss, "ulaw", {"group": "hiss", "active_ms": 0, "level_dbov": -45.0})

    # level: the 1020 Hz test tone at -20 dBov, and G.711's loudest sine
    add("level_1020_m20", tone([1020], 2000, -20.0), "ulaw",
        {"group": "level", "level_dbov": -20.0})
    add("level_1020_m20_alaw", tone([1020], 2000, -20.0), "alaw",
        {"group": "level", "level_dbov": -20.0})

    with open(os.path.join(outdir, "truth.json"), "w") as f:
        json.dump({"rate": RATE, "cases": cases}, f, indent=1)
    return cases


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--stamp")
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    cases = build(a.outdir)
    if a.stamp:
        with open(a.stamp, "w") as f:
            f.write("%d cases\n" % len(cases))
    return 0


if __name__ == "__main__":
    sys.exit(main())
