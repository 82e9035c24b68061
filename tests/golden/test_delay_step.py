#!/usr/bin/env python3
"""MOS rides a delay step (issue 24, part 4; tests/gen/delaystep.py). A stream whose every
packet arrives 100 ms later from 2.5 s on, with no loss, is played by an adaptive buffer
that resynchronises (Ramjee et al. 1994, algorithm 4, metrics/jitbuf.h): a few discards at
most, MOS >= 4.0 and no issue. Its twin with sustained +-45 ms jitter scores as it did
before the spike rule, with its high_jitter warning.

Usage: test_delay_step.py PATH/TO/sipscope"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from sstest import Checks, analyze, generate  # noqa: E402

# "resynchronises within a few hundred ms": 300 ms of 20 ms packets
MAX_DISCARDS = 15
# The twin's MOS before the spike rule (commit f772430, this capture): 4.36, no packet
# discarded. No two of its packets' transits differ by more than 90 ms, under the rule's
# 2v + 75 ms, so the rule must leave the figure exactly where it was.
TWIN_MOS = 4.36


def main(exe):
    check = Checks()
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, 'd.pcap')
        truth = generate('delaystep', pcap, os.path.join(tmp, 'd.json'))
        j = analyze(exe, pcap)
        calls = {c['call_id']: c for c in j['calls']}
        for t in truth['calls']:
            n = t['name']
            c = calls.get(t['call_id'])
            s = [x for x in j['streams'] if x['src'] == t['stream']['src'] and x['dst'] == t['stream']['dst']]
            if not check(c is not None and len(s) == 1, '%s: the call and its stream' % n):
                continue
            s = s[0]
            ad = s['jitter_buffers']['adaptive']
            check(s['packets'] == t['packets'] and s['lost'] == t['lost'],
                  '%s: %d packets, %d lost, truth %d, %d' % (n, s['packets'], s['lost'], t['packets'], t['lost']))
            got = sorted((i['kind'], i['severity']) for i in c['issues'])
            want = sorted(tuple(x) for x in t['issues'])
            check(got == want, '%s: issues %s, truth %s' % (n, got, want))
            if n == 'step':
                check(s['mos'] >= t['mos_min'], 'step: MOS %s >= %s' % (s['mos'], t['mos_min']))
                check(ad['discarded'] <= MAX_DISCARDS,
                      'step: the adaptive buffer resynchronised: %d discarded, at most %d'
                      % (ad['discarded'], MAX_DISCARDS))
                check(not any(i['kind'] == 'low_mos' for i in j['issues'] if i['stream'] == s['id']),
                      'step: no low_mos on the stream')
            else:
                check(abs(s['mean_jitter_ms'] - t['rfc3550_jitter_ms']) < 5,
                      'jitter: RFC 3550 jitter %.1f ms, about %.0f' % (s['mean_jitter_ms'], t['rfc3550_jitter_ms']))
                check(abs(s['mos'] - TWIN_MOS) < 0.005, 'jitter: MOS %s as before, %s' % (s['mos'], TWIN_MOS))
                check(s['jitter_buffers']['fixed_200']['discarded'] == 0,
                      'jitter: a 200 ms buffer holds 0..90 ms of transit')
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
