#!/usr/bin/env python3
"""Listening to a stored call (issue 24, "Listen"): `export --audio` and the API's
audio.wav and levels, against a call whose audio the generator wrote (tests/gen/listen.py:
a 1 kHz tone at -20 dBov caller -> callee with a 1 s gap, digital silence back, G.711
µ-law encoded from ITU-T G.711 by the generator, not by sipscope).

Read back with Python's `wave` module, independent of libsndfile: 2 channels, 8 kHz,
16-bit; the duration equals the media span the generator wrote within 20 ms; the left
(caller) channel's frequency (zero crossings, and a DFT bin against its neighbours) and
level come back within G.711's quantisation, the gap is silent where the generator left
it, the right (callee) channel is silent throughout. The API serves the same bytes (and
byte ranges of them, RFC 9110 §14) and a level strip that agrees. A database without spooled media gives a clear error, and no
file, from both.

Usage: test_listen.py PATH/TO/sipscope"""
import json
import math
import os
import struct
import subprocess
import sys
import tempfile
import wave

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, os.path.join(HERE, '..', 'web'))
from sstest import Checks  # noqa: E402
from test_api import Server  # noqa: E402

RATE = 8000


def channels(path):
    with wave.open(path) as w:
        info = (w.getnchannels(), w.getframerate(), w.getsampwidth(), w.getnframes())
        raw = w.readframes(w.getnframes())
    s = struct.unpack('<%dh' % (len(raw) // 2), raw)
    return info, list(s[0::2]), list(s[1::2])


def dbov(x):
    """RMS against a full-scale square wave (G.100.1): a full-scale sine is -3.01 dBov."""
    ms = sum(v * v for v in x) / len(x) if x else 0
    return 10 * math.log10(ms / 32768.0 ** 2) if ms else -99.0


def zero_crossing_hz(x):
    n = sum(1 for a, b in zip(x, x[1:]) if (a < 0) != (b < 0))
    return n / 2 / (len(x) / RATE)


def dft_power(x, f):
    re = sum(v * math.cos(2 * math.pi * f * i / RATE) for i, v in enumerate(x))
    im = sum(v * math.sin(2 * math.pi * f * i / RATE) for i, v in enumerate(x))
    return re * re + im * im


def window(x, t0, t1):
    return x[int(round(t0 * RATE)):int(round(t1 * RATE))]


def check_wav(check, path, truth, what):
    (nch, rate, width, frames), left, right = channels(path)
    check((nch, rate, width) == (2, 8000, 2), '%s: 2 channels, 8 kHz, 16-bit (%s)' % (what, (nch, rate, width)))
    span = truth['media_span_s']
    check(abs(frames / RATE - span) <= 0.020,
          '%s: %.3f s long, the media span is %.3f s' % (what, frames / RATE, span))
    g0, g1 = truth['gap_s']
    before = window(left, g0 - 1.0, g0 - 0.02)
    after = window(left, g1 + 0.02, g1 + 1.0)
    for name, part in (('before the gap', before), ('after the gap', after)):
        hz, lvl = zero_crossing_hz(part), dbov(part)
        check(abs(hz - truth['tone_hz']) <= 5,
              '%s: caller channel %s at %.1f Hz by zero crossings, written %d Hz' % (what, name, hz, truth['tone_hz']))
        check(abs(lvl - truth['tone_dbov']) <= 0.5,
              '%s: caller channel %s at %.2f dBov, written %.1f' % (what, name, lvl, truth['tone_dbov']))
    # jitter moved the packets, not the samples: no hole inside the tone (a 1 kHz sine at
    # 8 kHz is 0 only every 4th sample, never twice in a row)
    tone = window(left, truth['tone_s'][0] + 0.025, g0 - 0.025) + window(left, g1 + 0.025, truth['tone_s'][1] - 0.025)
    holes = sum(1 for a, b in zip(tone, tone[1:]) if a == 0 and b == 0)
    check(holes == 0, '%s: the tone has no holes where packets arrived early or late (%d)' % (what, holes))
    peak, side = dft_power(before[:800], 1000), max(dft_power(before[:800], 900), dft_power(before[:800], 1100))
    check(peak > 1000 * side, '%s: the caller channel\'s DFT peaks at 1000 Hz, not 900 or 1100' % what)
    gap = window(left, g0 + 0.005, g1 - 0.005)
    check(gap and max(abs(v) for v in gap) == 0,
          '%s: the caller channel is silent in the gap %.3f-%.3f s' % (what, g0, g1))
    edge = window(left, g0 - 0.04, g0 - 0.005) + window(left, g1 + 0.005, g1 + 0.04)
    check(dbov(edge) > -21, '%s: the tone stops and starts again at the gap\'s edges (%.1f dBov beside it)'
          % (what, dbov(edge)))
    check(right and max(abs(v) for v in right) == 0, '%s: the callee channel is silent' % what)


def main():
    exe = sys.argv[1]
    check = Checks()
    with tempfile.TemporaryDirectory() as tmp:
        pcap, tj = os.path.join(tmp, 'l.pcap'), os.path.join(tmp, 'l.json')
        subprocess.run([sys.executable, os.path.join(HERE, '..', 'gen', 'listen.py'), '-o', pcap,
                        '--truth', tj], check=True)
        truth = json.load(open(tj))
        db, bare = os.path.join(tmp, 'l.db'), os.path.join(tmp, 'bare.db')
        for d, extra in ((db, ['--spool-rtp']), (bare, [])):
            subprocess.run([exe, 'analyze', '--no-progress', pcap, '--db', d, *extra], check=True,
                           capture_output=True)
        wav = os.path.join(tmp, 'call.wav')
        r = subprocess.run([exe, 'export', '--db', db, '--call', 'call-1', '--audio', wav],
                           capture_output=True, text=True)
        if not check(r.returncode == 0, 'export --audio succeeds: %s' % r.stderr.strip()):
            return check.done()
        check_wav(check, wav, truth, 'export --audio')

        # no spooled media: a clear error, and no file
        nowav = os.path.join(tmp, 'none.wav')
        r = subprocess.run([exe, 'export', '--db', bare, '--call', 'call-1', '--audio', nowav],
                           capture_output=True, text=True)
        check(r.returncode == 1 and '--spool-rtp' in r.stderr and not os.path.exists(nowav),
              'export --audio without spooled media: status 1, says --spool-rtp, no file (%d, %r)'
              % (r.returncode, r.stderr.strip()))
        r = subprocess.run([exe, 'export', '--db', db, '--call', 'call-9', '--audio', nowav],
                           capture_output=True, text=True)
        check(r.returncode == 1 and 'no such call' in r.stderr and not os.path.exists(nowav),
              'export --audio of an unknown call: status 1, no file')

        srv = Server(exe, db)
        try:
            st, hd, body = srv.get('/api/v1/calls/call-1/audio.wav')
            check(st == 200 and hd.get('content-type') == 'audio/wav',
                  'audio.wav: 200 audio/wav (%s %s)' % (st, hd.get('content-type')))
            whole = open(wav, 'rb').read()
            check(body == whole, 'audio.wav: the same bytes as export --audio')
            # byte ranges (RFC 9110 §14), which a browser's player needs to seek
            for rng, part in (('bytes=44-1043', whole[44:1044]), ('bytes=1000-', whole[1000:]),
                              ('bytes=-16', whole[-16:])):
                st, hd, body = srv.get('/api/v1/calls/call-1/audio.wav', headers={'Range': rng})
                check(st == 206 and body == part and hd.get('accept-ranges') == 'bytes',
                      'audio.wav %s: 206 with those bytes (%s, %d bytes)' % (rng, st, len(body)))
            st, hd, body = srv.get('/api/v1/calls/call-1/audio.wav', headers={'Range': 'bytes=%d-' % len(whole)})
            check(st == 416 and hd.get('content-range') == 'bytes */%d' % len(whole),
                  'audio.wav past its end: 416 with its length (%s %s)' % (st, hd.get('content-range')))
            st, hd, body = srv.get('/api/v1/calls/call-1/levels')
            lv = json.loads(body) if st == 200 else {}
            check(st == 200 and lv.get('bin_ms') == 100 and lv.get('call') == 'call-1',
                  'levels: 200, 100 ms bins (%s)' % st)
            check(abs(lv.get('start', 0) - truth['media_first']) < 0.001,
                  'levels: start is the first RTP packet (%s, written %s)' % (lv.get('start'), truth['media_first']))
            cl, ce = lv.get('caller', []), lv.get('callee', [])
            g0, g1 = truth['gap_s']
            tone_bins = [v for i, v in enumerate(cl) if (i + 1) * 0.1 <= g0 or i * 0.1 >= g1]
            gap_bins = [v for i, v in enumerate(cl) if i * 0.1 >= g0 + 0.03 and (i + 1) * 0.1 <= g1 - 0.03]
            check(len(cl) == len(ce) == round(truth['media_span_s'] * 10),
                  'levels: one value per 100 ms of the span (%d, %d)' % (len(cl), len(ce)))
            check(tone_bins and all(v is not None and abs(v - truth['tone_dbov']) <= 0.5 for v in tone_bins),
                  'levels: the caller\'s tone bins at %s dBov' % truth['tone_dbov'])
            check(len(gap_bins) >= 8 and all(v is None for v in gap_bins),
                  'levels: null in the caller\'s gap, where nothing came (%s)' % gap_bins)
            check(ce and all(v == -99 for v in ce[1:-1]), 'levels: the callee\'s digital silence at -99')
            srv.p.terminate()
            srv.p.wait(timeout=30)
            srv = Server(exe, bare)
            for part in ('audio.wav', 'levels'):
                st, hd, body = srv.get('/api/v1/calls/call-1/' + part)
                err = json.loads(body).get('error', '') if hd.get('content-type') == 'application/json' else ''
                check(st == 404 and '--spool-rtp' in err,
                      '%s without spooled media: 404 with a JSON error that says why (%s %r)' % (part, st, err))
            st, hd, body = srv.get('/api/v1/calls/call-7/audio.wav')
            check(st == 404, 'audio.wav of an unknown call: 404')
        finally:
            srv.p.terminate()
            srv.p.wait(timeout=30)
    return check.done()


if __name__ == '__main__':
    sys.exit(main())
