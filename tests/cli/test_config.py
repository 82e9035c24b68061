#!/usr/bin/env python3
"""--config FILE: every long option is a key, thresholds too, and the command line wins.

A file sets json, db, spool-rtp, max-calls and a threshold; the analysis then writes its
database with media, prints JSON and judges with the file's threshold (checked through
--thresholds), a --threshold on the command line overrides the file's, an unknown key is
a usage error naming it, and packaging/sipscope.conf (the documented example) is read
without error by `capture` (its keys exist).

Usage: test_config.py PATH/TO/sipscope"""
import json
import os
import sqlite3
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
from sstest import Checks, generate  # noqa: E402


def run(exe, *args):
    return subprocess.run([exe, *args], capture_output=True, text=True)


def main(exe):
    check = Checks()
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, 'c.pcap')
        generate('calls', pcap, os.path.join(tmp, 'c.json'), '--calls', '4', '--duration', '2')
        db = os.path.join(tmp, 'c.db')
        conf = os.path.join(tmp, 'a.conf')
        with open(conf, 'w') as f:
            f.write('# an analysis set up by file\njson = yes\ndb = %s\nspool-rtp = yes\nmax-calls = 500\n'
                    'no-progress = true\npdd_warn_ms = 4321\n' % db)
        r = run(exe, 'analyze', '--config', conf, pcap)
        doc = json.loads(r.stdout) if r.returncode == 0 else {}
        check(len(doc.get('calls', [])) == 4, 'json = yes: a JSON document (%s)' % r.stderr.strip()[-200:])
        d = sqlite3.connect(db)
        check(d.execute('SELECT count(*) FROM calls').fetchone()[0] == 4 and
              d.execute('SELECT count(*) FROM media').fetchone()[0] > 0, 'db and spool-rtp from the file')
        d.close()
        r = run(exe, 'analyze', '-c', conf, '--thresholds')
        check('pdd_warn_ms            = 4321' in r.stdout, 'a threshold from the file')
        r = run(exe, 'analyze', '-c', conf, '--threshold', 'pdd_warn_ms=1234', '--thresholds')
        check('pdd_warn_ms            = 1234' in r.stdout, 'the command line wins over the file')
        bad = os.path.join(tmp, 'b.conf')
        with open(bad, 'w') as f:
            f.write('bogus-key = 1\n')
        r = run(exe, 'analyze', '-c', bad, pcap)
        check(r.returncode == 2 and 'bogus-key' in r.stderr, 'an unknown key is refused by name')
        # issue 21: max-memory-mb shares out a budget, so an eighth of the default budget
        # gives each table an eighth of its entries (shares are thousandths: rounding aside);
        # max-calls, when given, wins over the calls' share
        small = os.path.join(tmp, 'm.conf')
        with open(small, 'w') as f:
            f.write('json = yes\nno-progress = yes\nmax-memory-mb = 64\n')
        r64, r512 = run(exe, 'analyze', '-c', small, pcap), run(exe, 'analyze', '--json', '--no-progress', pcap)
        rmc = run(exe, 'analyze', '-c', small, '--max-calls', '500', pcap)
        lim = [json.loads(x.stdout)['capture'].get('limits', {}) if x.returncode == 0 else {} for x in (r64, r512, rmc)]
        keys = ('calls', 'transactions', 'media_endpoints', 'streams', 'registrations')
        check(all(k in lim[0] and k in lim[1] and 0 <= lim[1][k] - 8 * lim[0][k] <= 64 for k in keys),
              'max-memory-mb = 64: an eighth of the default limits (%s, %s)' % (lim[0], lim[1]))
        check(lim[2].get('calls') == 500 and lim[2].get('transactions') == 1000 and
              lim[2].get('streams') == lim[0].get('streams'), 'max-calls wins over the budget (%s)' % lim[2])
        r = run(exe, 'analyze', '--max-memory-mb', '8', pcap)
        check(r.returncode == 2 and 'max-memory-mb' in r.stderr, 'too small a budget is refused by name')
        example = os.path.join(HERE, '..', '..', 'packaging', 'sipscope.conf')
        r = run(exe, 'capture', '-c', example, '--help')
        check(r.returncode == 0, 'packaging/sipscope.conf: every key exists (%s)' % r.stderr.strip()[-200:])
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
