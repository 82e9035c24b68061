#!/usr/bin/env python3
"""`sipscope tui -i lo` live, in a tmux pane, while real sipp UAs (Debian's sip-tester)
place calls on 127.0.0.81 (an address and ports no other test uses): an answered call
playing sipp's sample RTP (g711a.pcap, 236 packets each way) and a call rejected with 486.
The list shows the answered call while it is up, then completed with its worst MOS; its
streams tab shows both streams whole; the busy call is busy with 486; the status line says
live with no drops; q ends it with status 0. Skipped (77) without tmux, sipp or root.

Usage: test_tui_live.py PATH/TO/sipscope"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, HERE)
from sstest import Checks, poll, sipp_live_skip, skip, udp_ports  # noqa: E402
from test_tui import rows  # noqa: E402
from tmuxpane import Pane  # noqa: E402

E2E = os.path.join(HERE, '..', 'e2e')
ADDR = '127.0.0.81'
PACKETS = 236  # in g711a.pcap (capinfos)


def sipp(tmp, *args):
    return subprocess.Popen(['sipp', *args, '-i', ADDR, '-nostdin', '-trace_err', '-m', '1'], cwd=tmp,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main(exe):
    if not shutil.which('tmux'):
        return skip('tmux not installed')
    rc = sipp_live_skip()
    if rc is not None:
        return rc
    check = Checks()
    t0 = time.monotonic()
    exe = os.path.abspath(exe)
    with tempfile.TemporaryDirectory() as tmp:
        p = Pane("%s tui -i lo -f 'udp and host %s' --stream-idle 2" % (exe, ADDR), tmp)
        procs = []
        try:
            s = p.wait(lambda s: any(ln.startswith('calls 0  active 0') and '  live  ' in ln for ln in s))
            check(s is not None, 'the status line says live')
            procs = [sipp(tmp, '-sf', os.path.join(E2E, 'uas_media.xml'), '-p', '5781', '-mp', '17810'),
                     sipp(tmp, '-sf', os.path.join(E2E, 'uas_busy.xml'), '-p', '5783')]
            poll(lambda: {5781, 5783} <= udp_ports(), deadline=30, every=0.05)
            procs += [sipp(tmp, '%s:5781' % ADDR, '-sf', os.path.join(E2E, 'uac_media.xml'), '-s', '2000',
                           '-p', '5782', '-mp', '17820'),
                      sipp(tmp, '%s:5783' % ADDR, '-sf', os.path.join(E2E, 'uac_busy.xml'), '-s', '486',
                           '-p', '5784')]
            up = p.wait(lambda s: any(r['To'] == '2000' and r['State'] == 'answered' for r in rows(s)))
            check(up is not None, 'the answered call is listed while it is up:\n%s' % '\n'.join(p.screen()))
            for q in procs:
                check(q.wait(timeout=60) == 0, 'sipp: the call went as scripted')
            s = p.wait(lambda s: sorted((r['To'], r['State'], r['Fin']) for r in rows(s)) ==
                       [('2000', 'completed', '200'), ('486', 'busy', '486')] and
                       any(r['MOS'] for r in rows(s)), deadline=30)
            check(s is not None, 'then completed (200, with a MOS) and busy (486): %s' % rows(p.screen()))
            check(s is not None and any(ln.startswith('calls 2  active 0') and 'drops 0' in ln for ln in s),
                  'status: 2 calls, none active, no drops: %s' % [ln for ln in s or [] if ln.startswith('calls')])
            p.keys('/')
            p.type('state:completed')
            p.keys('Enter', 'Enter', 'Tab')
            s = p.wait(lambda s: '[Streams](2)' in s[1] and sum(ln.startswith('stream-') for ln in s) == 2)
            st = [ln.split() for ln in s or [] if ln.startswith('stream-')]
            check(len(st) == 2 and all(int(x[5]) == PACKETS and x[6] == '0' for x in st),
                  'two streams of %d packets, none lost: %s' % (PACKETS, st))
            p.keys('q', 'q')
            s = p.wait_text('EXIT=')
            check(s is not None and any(ln.startswith('EXIT=0') for ln in s), 'q: exit 0')
        finally:
            for q in procs:
                if q.poll() is None:
                    q.kill()
            p.close()
    print('%.1f s' % (time.monotonic() - t0))
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
