#!/usr/bin/env python3
"""The security watch under a scan from 100,000 addresses, each in a /24 of its own (tests/
gen/security.py --scan-flood): its tables never hold more than their share of the memory
budget (capture.memory.security, at most 2 % of --max-memory-mb), they were full and let
sources go (capture.evicted.security), the process's peak RSS stays under PEAK_MAX_MB, and
the one real sweep through the noise (203.0.113.66, 300 extensions) is still the one
sip_scan reported, at the default budget and at 32 MB. Under the sanitizer build
(ASAN_OPTIONS set) the scan is 20,000 addresses and RSS is not judged.

Usage: test_scan_memory.py PATH/TO/sipscope"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, HERE)
from sstest import Checks, generate  # noqa: E402
from test_flood import SPAWN  # noqa: E402  (a child's peak RSS, measured from a small parent)

PEAK_MAX_MB = 80  # measured 39 MB; an entry per address (about 800 bytes) would add 80 MB
SHARE_PERMILLE = 20  # common/membudget.h: MEM_SECURITY


def run(exe, pcap, out, *args):
    """analyze --json: (exit code, the document, peak RSS in KB)."""
    r = subprocess.run([sys.executable, '-c', SPAWN, out, exe, 'analyze', '--json', '--no-progress', *args, pcap],
                       check=True, capture_output=True, text=True)
    code, rss = (int(x) for x in r.stdout.split())
    return code, (json.load(open(out)) if code == 0 else None), rss


def main(exe):
    check = Checks()
    sanitized = 'ASAN_OPTIONS' in os.environ
    n = 20000 if sanitized else 100000
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, 'scan.pcap')
        truth = generate('security', pcap, os.path.join(tmp, 'scan.json'), '--scan-flood', str(n))
        for mb in (512, 32):
            code, j, rss = run(exe, pcap, os.path.join(tmp, 'out%d.json' % mb), '--max-memory-mb', str(mb))
            check(code == 0, '--max-memory-mb %d: analyze exit %d' % (mb, code))
            if j is None:
                continue
            cap = j['capture']
            share = (mb << 20) // 1000 * SHARE_PERMILLE
            used = cap['memory']['security']
            print('%d scanning addresses, --max-memory-mb %d: security tables %d bytes at their peak '
                  '(share %d), %d sources let go, peak RSS %d MB'
                  % (n, mb, used, share, cap['evicted'].get('security', 0), rss // 1024))
            check(0 < used <= share, '%d MB: the watch held %d bytes, its share %d' % (mb, used, share))
            check(cap['evicted'].get('security', 0) > 0, '%d MB: the tables were full and let sources go' % mb)
            if not sanitized and mb == 512:
                check(rss <= PEAK_MAX_MB * 1024, 'peak RSS %d MB, at most %d' % (rss // 1024, PEAK_MAX_MB))
            scans = [i for i in j['issues'] if i['kind'] == 'sip_scan']
            check([i['evidence']['source'] for i in scans] == [k for _, k in truth['expected']],
                  '%d MB: sip_scan from %s, truth %s' % (mb, [i['evidence']['source'] for i in scans],
                                                         truth['expected']))
            if scans:
                t = scans[0]['evidence']['targets']
                check(abs(t - truth['extensions']) <= 0.05 * truth['extensions'],
                      '%d MB: the sweep reached %s extensions, truth %d' % (mb, t, truth['extensions']))
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
