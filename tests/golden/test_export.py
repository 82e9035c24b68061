#!/usr/bin/env python3
"""`sipscope export`: every call of the issue scenarios, stored with `analyze --db` and
exported as a pcap, reads in tshark as the same SIP messages (time, addresses, Call-ID,
CSeq, method, status) as tshark finds for that call's Call-IDs in the original capture.
tshark is the reference here, not sipscope. Skipped (77) without tshark.

Usage: test_export.py PATH/TO/sipscope"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from sstest import Checks, analyze, generate  # noqa: E402

FIELDS = ['frame.time_epoch', 'ip.src', 'udp.srcport', 'ip.dst', 'udp.dstport', 'sip.Call-ID',
          'sip.CSeq', 'sip.Method', 'sip.Status-Code']


def sip_rows(pcap):
    args = ['tshark', '-r', pcap, '-Y', 'sip', '-T', 'fields']
    for f in FIELDS:
        args += ['-e', f]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return [tuple(line.split('\t')) for line in out.splitlines()]


def main(exe):
    if not shutil.which('tshark'):
        print('tshark not installed: skipped')
        return 77
    check = Checks()
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, 'i.pcap')
        generate('issues', pcap, os.path.join(tmp, 'i.json'))
        dbf = os.path.join(tmp, 'out.db')
        j = analyze(exe, pcap, '--db', dbf)
        original = sip_rows(pcap)
        for c in j['calls']:
            out = os.path.join(tmp, c['id'] + '.pcap')
            r = subprocess.run([exe, 'export', '--db', dbf, '--call', c['id'], '-o', out],
                               capture_output=True, text=True)
            if r.returncode:
                check(False, '%s: export failed: %s' % (c['id'], r.stderr.strip()))
                continue
            cids = {leg['call_id'] for leg in c['legs']}
            want = [row for row in original if row[5] in cids]
            got = sip_rows(out)
            check(got == want and got, '%s: %d messages exported, tshark finds %d for its Call-IDs'
                  % (c['id'], len(got), len(want)))
        r = subprocess.run([exe, 'export', '--db', dbf, '--call', 'call-9999', '-o', os.path.join(tmp, 'x.pcap')],
                           capture_output=True, text=True)
        check(r.returncode == 1 and 'no such call' in r.stderr, 'unknown call refused')
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
