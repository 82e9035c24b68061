#!/usr/bin/env python3
"""Call scenarios end to end (tests/gen/scenarios.py): each call reads as its truth says
— state, final status, answered or not, who hung up, the confirmed dialog's To tag when
forked, challenges, B2BUA legs joined into one call, Timer B's end time.

Usage: test_scenarios.py PATH/TO/sipscope"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from sstest import Checks, analyze, generate  # noqa: E402


def main(exe):
    check = Checks()
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, 's.pcap')
        truth = generate('scenarios', pcap, os.path.join(tmp, 's.json'))
        j = analyze(exe, pcap)
        got = {c['call_id']: c for c in j['calls']}
        checks = [(len(j['calls']) == len(truth['calls']),
                   '%d calls, truth %d: %s' % (len(j['calls']), len(truth['calls']), sorted(got)))]
        for t in truth['calls']:
            c = got.get(t['call_id'])
            n = t['name']
            if not c:
                checks.append((False, '%s: missing' % n))
                continue
            checks.append((c['state'] == t['state'], '%s: state %s, truth %s' % (n, c['state'], t['state'])))
            checks.append((c['final_status'] == t['final_status'], '%s: final %s' % (n, c['final_status'])))
            checks.append(((c['answer_time'] is not None) == t['answered'], '%s: answered' % n))
            if 'ended_by' in t:
                checks.append((c['ended_by'] == t['ended_by'], '%s: ended_by %s' % (n, c['ended_by'])))
            if 'to_tag' in t:
                checks.append((c['legs'][0]['to_tag'] == t['to_tag'], '%s: to_tag %s' % (n, c['legs'][0]['to_tag'])))
            if 'challenges' in t:
                checks.append((c.get('challenges') == t['challenges'], '%s: challenges %s' % (n, c.get('challenges'))))
            if 'legs' in t:
                checks.append((len(c['legs']) == t['legs'], '%s: %d legs' % (n, len(c['legs']))))
            inv = round(c['invite_time'] * 1000)
            if 'session_expired' in t:
                checks.append((c['session_expired'] == t['session_expired'], '%s: session_expired' % n))
            if 'holds' in t:
                got_h = [[round(h['start'] * 1000) - inv, h['end'] and round(h['end'] * 1000) - inv, h['by']]
                         for h in c.get('holds', [])]
                checks.append((got_h == t['holds'], '%s: holds %s, truth %s' % (n, got_h, t['holds'])))
            elif c.get('holds'):
                checks.append((False, '%s: holds %s where there are none' % (n, c['holds'])))
            if 'transfers' in t:
                got_t = [[round(x['time'] * 1000) - inv, x['by'], x['refer_to'], x['accepted'], x['result']]
                         for x in c.get('transfers', [])]
                checks.append((got_t == t['transfers'], '%s: transfers %s, truth %s' % (n, got_t, t['transfers'])))
            if 'dtmf' in t:
                got_d = [[round(x['time'] * 1000) - inv, x['digit'], x['duration_ms'], x['by']]
                         for x in c.get('dtmf', [])]
                checks.append((got_d == t['dtmf'], '%s: dtmf %s, truth %s' % (n, got_d, t['dtmf'])))
            if 'streams' in t:
                mine = [[x['src'], x['dst'], x['src_announced'], x['dst_announced']]
                        for x in j['streams'] if x['call'] == c['id']]
                checks.append((sorted(mine) == sorted(t['streams']), '%s: streams %s, truth %s' % (n, mine, t['streams'])))
            if 'end_offset_ms' in t:
                want = round(c['invite_time'] * 1000) + t['end_offset_ms']
                checks.append((c['end_time'] is not None and round(c['end_time'] * 1000) == want,
                               '%s: end %s' % (n, c['end_time'])))
        for ok, what in checks:
            check(ok, what)
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
