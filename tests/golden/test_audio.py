#!/usr/bin/env python3
"""What the caller heard, end to end (issue 24; tests/gen/hear.py): calls whose RTP carries
real G.711 audio. Each stream's figures against what the generator wrote — seconds heard,
speech-active share (speech and loud tone milliseconds over all, the VAD rule of
audio/audio.h), speech level within 1 dB of the level speech_like was scaled to, the tone
played and when — the timeline's per-second level and activity, and each call's issues
exactly as its truth names them: silent early media and a silent direction raise theirs,
and every twin (ringback in the early media, speech both ways) raises nothing.

Usage: test_audio.py PATH/TO/sipscope"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from sstest import Checks, analyze, generate  # noqa: E402


def holds(want, got):
    """Whether evidence got holds every figure of want: {'approx': v, 'within': t} within t
    of v, anything else equal."""
    if isinstance(want, dict) and 'approx' in want:
        return isinstance(got, (int, float)) and abs(got - want['approx']) <= want['within']
    if isinstance(want, dict):
        return isinstance(got, dict) and all(k in got and holds(v, got[k]) for k, v in want.items())
    return got == want


def check_stream(check, name, way, d, s):
    """One stream against the truth of its direction: seconds heard, speech-active share
    (speech and tone milliseconds over all), speech level, clipped samples counted on the
    codes written, the tones played (kind, region, start), in-band DTMF digits."""
    a = s.get('audio')
    if not check(isinstance(a, dict), '%s %s: audio %s (%s)' % (name, way, a, s.get('audio_unavailable'))):
        return
    check(s['audio_unavailable'] is None, '%s %s: audio_unavailable null' % (name, way))
    total_ms = d['talk_ms'] + d.get('early_ms', 0)
    check(abs(a['heard_s'] - total_ms / 1000) <= 0.05,
          '%s %s: heard %s s, written %s s' % (name, way, a['heard_s'], total_ms / 1000))
    tone = d.get('tone_on_ms', 0)
    want_pct = 100.0 * (d['speech_ms'] + tone) / total_ms
    check(abs(a['active_pct'] - want_pct) <= 2,
          '%s %s: active %s %%, written %.1f %%' % (name, way, a['active_pct'], want_pct))
    if d['speech_dbov'] is None and not tone:
        check(a['speech_level_dbov'] is None and a['level_dbov'] == -99,
              '%s %s: digital silence: level %s, speech level %s' % (name, way, a['level_dbov'], a['speech_level_dbov']))
    elif d['speech_dbov'] is not None and not tone:
        check(a['speech_level_dbov'] is not None and abs(a['speech_level_dbov'] - d['speech_dbov']) <= 1,
              '%s %s: speech level %s, written %s dBov' % (name, way, a['speech_level_dbov'], d['speech_dbov']))
    check(a['clipped_samples'] == d['clipped'],
          '%s %s: clipped %s samples, written %s' % (name, way, a['clipped_samples'], d['clipped']))
    check((a.get('clipped_runs', 0) > 0) == (d['clipped'] > 0),
          '%s %s: clipped runs %s for %s samples' % (name, way, a.get('clipped_runs'), d['clipped']))
    want = d.get('tones', [])
    tones = [(t['kind'], t['region']) for t in a['tones']]
    check(tones == [(t['kind'], t['region']) for t in want],
          '%s %s: tones heard %s, played %s' % (name, way, tones, want))
    for got, w in zip(a['tones'], want):
        start = got['start'] - s['first_time']
        check(abs(start * 1000 - w['start_ms']) <= 200,
              '%s %s: %s from %.3f s, played from %s ms' % (name, way, w['kind'], start, w['start_ms']))
    if 'dtmf' in d:
        got = [(x['digit'], round((x['time'] - s['first_time']) * 1000)) for x in a['inband_dtmf']]
        check([g[0] for g in got] == [x['digit'] for x in d['dtmf']],
              '%s %s: in-band DTMF %s, played %s' % (name, way, got, d['dtmf']))
        check(all(abs(g[1] - x['ms']) <= 100 for g, x in zip(got, d['dtmf'])),
              '%s %s: DTMF times %s, played %s' % (name, way, got, d['dtmf']))
    tl = s.get('timeline', {})
    level, active = tl.get('level_dbov', []), tl.get('active_ms', [])
    check(len(level) == len(tl.get('packets', [])) and len(active) == len(level),
          '%s %s: timeline level/active per second' % (name, way))
    if d['speech_ms'] == 0 and not tone and not d.get('early_ms'):
        check(all(v == -99 for v in level) and all(v == 0 for v in active),
              '%s %s: silent every second: %s %s' % (name, way, level, active))
    if d.get('early_ms') and not tone:
        # the early media's seconds (0-7) are digital silence, the talk's are not all
        check(all(v == -99 for v in level[:8]) and all(v == 0 for v in active[:8]),
              '%s %s: early seconds silent: %s %s' % (name, way, level[:8], active[:8]))
        check(any(v > 0 for v in active[9:]), '%s %s: the talk is heard: %s' % (name, way, active))


def main(exe):
    check = Checks()
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, 'a.pcap')
        truth = generate('audio', pcap, os.path.join(tmp, 'a.json'))
        j = analyze(exe, pcap, '--timelines')
        calls = {c['call_id']: c for c in j['calls']}
        streams = {(s['call'], s['src']): s for s in j['streams']}
        for t in truth['calls']:
            n = t['name']
            c = calls.get(t['call_id'])
            if not check(c is not None, '%s: call missing' % n):
                continue
            got = sorted([i['kind'], i['severity']] for i in c['issues'])
            check(got == t['issues'], '%s: issues %s, truth %s' % (n, got, t['issues']))
            for kind, ev in t['evidence'].items():
                i = next((i for i in c['issues'] if i['kind'] == kind), {})
                check(holds(ev, i.get('evidence')), '%s: %s evidence %s holds %s' % (n, kind, i.get('evidence'), ev))
            for way, d in t['directions'].items():
                s = streams.get((c['id'], d['src']))
                if check(s is not None, '%s %s: stream from %s' % (n, way, d['src'])):
                    check_stream(check, n, way, d, s)
        # --no-audio: nothing decoded, said so, and no issue that needs the payload
        j = analyze(exe, pcap, '--no-audio')
        check(all(s['audio'] is None and s['audio_unavailable'] == 'audio analysis off' for s in j['streams']),
              '--no-audio: every stream audio null, "audio analysis off"')
        check(not j['issues'], '--no-audio: no issue (%s)' % [i['kind'] for i in j['issues']])
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
