#!/usr/bin/env python3
"""`sipscope tui -i lo` at a steady load for a while: sipp places 25 calls a second on
127.0.0.82 (an address and ports no other test uses), each rejected with 486, while the
terminal UI shows them; with --max-memory-mb 16 the UI holds a bounded number of calls
(the oldest ended go first, counted as evicted), so its resident memory stops growing once
that number is reached: RSS over the last half of the run grows by less than 1 MiB
while calls keep coming. --call-linger 4 has the correlator forget an ended call after 4 s
instead of 64*T1 (32 s), so that its own tables are at their steady size after seconds
rather than half a minute. Skipped (77) without tmux, sipp or root.

Usage: test_tui_memory.py PATH/TO/sipscope"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, HERE)
from sstest import Checks, poll, sipp_live_skip, skip, udp_ports  # noqa: E402
from tmuxpane import Pane  # noqa: E402

E2E = os.path.join(HERE, '..', 'e2e')
ADDR = '127.0.0.82'
LINGER = 4
RATE, WARM, MEASURE = 25, 7, 8  # seconds: past the correlator's linger and the UI's 100 calls, then sampled
CALLS = RATE * (WARM + MEASURE)


def rss_kb(pid):
    with open('/proc/%d/status' % pid) as f:
        return int(re.search(r'VmRSS:\s+(\d+)', f.read()).group(1))


def status(screen):
    return next((ln for ln in screen if ln.startswith('calls ')), '')


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
        p = Pane("%s tui -i lo -f 'udp and host %s' --max-memory-mb 16 --stream-idle 1 --call-linger %d" % (exe, ADDR, LINGER), tmp)
        procs = []
        try:
            check(p.wait(lambda s: '  live  ' in status(s)) is not None, 'live')
            kids = subprocess.run(['pgrep', '-P', str(p.pid()), '-x', 'sipscope'], capture_output=True,
                                  text=True).stdout.split()
            pid = int(kids[0]) if kids else 0
            check(pid > 0, 'its pid')
            sipp = ['sipp', '-i', ADDR, '-nostdin', '-trace_err', '-m', str(CALLS)]
            procs.append(subprocess.Popen(sipp + ['-sf', os.path.join(E2E, 'uas_busy.xml'), '-p', '5785'],
                                          cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            poll(lambda: 5785 in udp_ports(), deadline=30, every=0.05)
            procs.append(subprocess.Popen(sipp + ['%s:5785' % ADDR, '-sf', os.path.join(E2E, 'uac_busy.xml'),
                                                  '-p', '5786', '-r', str(RATE), '-s', '486'],
                                          cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            # the first half fills the UI's calls (100 at this budget); then RSS is sampled
            start = time.monotonic()
            samples = []
            while procs[1].poll() is None and time.monotonic() - start < 60:
                el = time.monotonic() - start
                if el > WARM and pid:
                    samples.append((el, rss_kb(pid), status(p.screen())))
                time.sleep(0.5)
            check(procs[1].wait(timeout=60) == 0, 'sipp placed every call')
            # not the first "active 0": under load the analysis may still be reading the
            # kernel's ring, and a moment between two calls shows none active
            def settled(s):
                m = re.match(r'calls (\d+)  active 0 .*evicted (\d+)', status(s))
                return m and int(m.group(1)) + int(m.group(2)) == CALLS
            s = p.wait(settled, deadline=30) or p.screen()
            print('end:', status(s or []))
            ev = re.search(r'evicted (\d+)', status(s or []))
            held = re.match(r'calls (\d+)', status(s or []))
            check(ev and held and int(ev.group(1)) + int(held.group(1)) == CALLS,
                  'every call shown or evicted: %s' % status(s or []))
            check(held and int(held.group(1)) < CALLS / 2, 'calls held are bounded: %s' % status(s or []))
            check(len(samples) >= 10, '%d RSS samples' % len(samples))
            if samples:
                print('RSS kB: first %d, max %d, last %d over %.1f s' % (
                    samples[0][1], max(x[1] for x in samples), samples[-1][1], samples[-1][0] - samples[0][0]))
                # under AddressSanitizer freed memory waits in its quarantine (256 MB): RSS
                # grows by design there, and says nothing of our tables
                if 'ASAN_OPTIONS' not in os.environ:
                    check(max(x[1] for x in samples) - samples[0][1] < 1024,
                          'RSS flat: %s' % [x[1] for x in samples])
            p.keys('q')
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
