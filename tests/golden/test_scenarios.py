#!/usr/bin/env python3
"""Call scenarios end to end (tests/gen/scenarios.py): each call reads as its truth says
— state, final status, answered or not, who hung up, the confirmed dialog's To tag when
forked, challenges, B2BUA legs joined into one call, Timer B's end time.

Usage: test_scenarios.py PATH/TO/sipscope"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SIPGEN = os.path.join(HERE, '..', 'gen', 'sipgen.py')


def main(exe):
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        pcap, tj = os.path.join(tmp, 's.pcap'), os.path.join(tmp, 's.json')
        subprocess.run([sys.executable, SIPGEN, 'scenarios', '-o', pcap, '--truth', tj], check=True)
        truth = json.load(open(tj))
        j = json.loads(subprocess.run([exe, 'analyze', '--json', '--no-progress', pcap], check=True,
                                      capture_output=True, text=True).stdout)
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
            if 'end_offset_ms' in t:
                want = round(c['invite_time'] * 1000) + t['end_offset_ms']
                checks.append((c['end_time'] is not None and round(c['end_time'] * 1000) == want,
                               '%s: end %s' % (n, c['end_time'])))
        for ok, what in checks:
            passed += ok
            failed += not ok
            if not ok:
                print('FAIL:', what)
    print('%d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
