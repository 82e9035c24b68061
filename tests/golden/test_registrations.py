#!/usr/bin/env python3
"""Registrations end to end on tests/gen/registrations.py's capture: every binding reads
as its truth says (state, final status, challenges, attempts with a retransmission not
counted, expiry granted rather than asked, lapse without refresh by packet time).

Usage: test_registrations.py PATH/TO/sipscope"""
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
        pcap, tj = os.path.join(tmp, 'r.pcap'), os.path.join(tmp, 'r.json')
        subprocess.run([sys.executable, SIPGEN, 'registrations', '-o', pcap, '--truth', tj], check=True)
        truth = json.load(open(tj))
        j = json.loads(subprocess.run([exe, 'analyze', '--json', '--no-progress', pcap], check=True,
                                      capture_output=True, text=True).stdout)
        got = {r['aor']: r for r in j['registrations']}
        checks = [(len(j['registrations']) == len(truth['registrations']),
                   '%d registrations, truth %d' % (len(j['registrations']), len(truth['registrations']))),
                  (j['calls'] == [], 'no calls')]
        for t in truth['registrations']:
            r = got.get(t['aor'])
            if not r:
                checks.append((False, '%s missing' % t['aor']))
                continue
            for k, v in t.items():
                checks.append((r[k] == v, '%s: %s is %r, truth %r' % (t['aor'], k, r[k], v)))
        for ok, what in checks:
            passed += ok
            failed += not ok
            if not ok:
                print('FAIL:', what)
    print('%d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
