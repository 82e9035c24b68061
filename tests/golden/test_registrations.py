#!/usr/bin/env python3
"""Registrations end to end on tests/gen/registrations.py's capture: every binding reads
as its truth says (state, final status, challenges, attempts with a retransmission not
counted, expiry granted rather than asked, lapse without refresh by packet time).

Usage: test_registrations.py PATH/TO/sipscope"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from sstest import Checks, analyze, generate  # noqa: E402


def main(exe):
    check = Checks()
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, 'r.pcap')
        truth = generate('registrations', pcap, os.path.join(tmp, 'r.json'))
        j = analyze(exe, pcap)
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
            check(ok, what)
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
