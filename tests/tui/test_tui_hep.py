#!/usr/bin/env python3
"""`sipscope tui --hep-listen` in a tmux pane, fed by `sipscope analyze --hep-out` of a
generated capture (HEPv3 over UDP on 127.0.0.1, a port found free): the list shows the
truth's calls (users, state, final status, PDD and duration from the HEP timestamps), one
call's ladder has the truth's arrows in order, and the status line says live.

Usage: test_tui_hep.py PATH/TO/sipscope"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, HERE)
from sstest import Checks, free_port, generate, skip  # noqa: E402
from test_tui import NAMES, arrows, rows, shown, truth_row  # noqa: E402
from tmuxpane import Pane  # noqa: E402


def status(screen):
    return next((ln for ln in screen if ln.startswith('calls ')), '')


def main(exe):
    if not shutil.which('tmux'):
        return skip('tmux not installed')
    check = Checks()
    exe = os.path.abspath(exe)
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, 'c.pcap')
        truth = generate('calls', pcap, os.path.join(tmp, 'c.json'), '--calls', '4', '--duration', '2',
                         '--outcomes', 'answered,busy')
        p = None
        for _ in range(5):  # a port taken between our check and its bind: another one
            port = free_port()
            p = Pane('%s tui --hep-listen 127.0.0.1:%d --stream-idle 1' % (exe, port), tmp)
            s = p.wait(lambda s: '  live  ' in status(s) or any('EXIT=' in ln for ln in s))
            if s and '  live  ' in status(s):
                break
            p.close()
            p = None
        if not check(p is not None, 'tui --hep-listen is up'):
            return check.done()
        try:
            r = subprocess.run([exe, 'analyze', '--no-progress', '--hep-out', '127.0.0.1:%d' % port, pcap],
                               capture_output=True, text=True)
            check(r.returncode == 0, 'analyze --hep-out sent the capture: %s' % r.stderr[-300:])
            n = len(truth['calls'])
            s = p.wait(lambda s: len(rows(s)) == n and status(s).startswith('calls %d  active 0' % n),
                       deadline=60)
            check(s is not None, 'every call arrived over HEP and ended: %s' % status(p.screen()))
            got = [shown(r) for r in rows(s or [''])]
            check(got == [truth_row(t) for t in truth['calls']], 'the calls are the truth\'s: %s' % got)
            t = truth['calls'][0]
            p.keys('Home', 'Enter')
            s = p.wait(lambda s: t['call_id'] in s[0] and len(arrows(s)) == len(t['messages']))
            got = [(a[0], a[1], a[2]) for a in arrows(s or [])]
            want = [(NAMES[m['label']], '>' if m['src'] == t['caller'] else '<') for m in t['messages']]
            check([g[:2] for g in got] == want, 'its ladder from HEP: %s, truth %s' % (got, want))
            p.keys('q', 'q')
            s = p.wait_text('EXIT=')
            check(s is not None and any(ln.startswith('EXIT=0') for ln in s), 'q: exit 0')
        finally:
            p.close()
    print('%.1f s' % (time.monotonic() - t0))
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
