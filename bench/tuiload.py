#!/usr/bin/env python3
"""How long `sipscope tui FILE` takes to load a large capture, against `sipscope analyze
FILE` on the same file (issue 26: "a 10 M packet file loads at the speed of analyze").

  bench/tuiload.py SIPSCOPE [--calls N] [--repeat K] [--runs R] [--workdir DIR]

The capture is the project generator's (tests/gen/sipgen.py calls: G.711 mu-law, A-law
and G.729 in turn, 0.5 % loss, 30 s of media per call, 1000 calls up at once, as
bench/bench.py's workloads), N calls, written K times one after the other (editcap -t
shifts each copy past the previous one's end by a minute more than the correlator's 32 s
linger, so its calls are new calls; mergecap -a joins them): the generator writes about
1 MB/s on a loaded host, and 340 calls (about 1 M packets) written 10 times make the
10 M packet file in minutes rather than most of an hour. `analyze` writes its text
report to /dev/null; the tui runs in a tmux pane of a private tmux server (120x40) and is
timed from its start until its status line says "done" (polled every 20 ms, so the figure
is at most that late). The two take turns, R runs each; medians are printed with the ratio
tui/analyze."""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SIPGEN = os.path.join(HERE, '..', 'tests', 'gen', 'sipgen.py')
DURATION, LOSS, CODECS, SEED, CONC = 30, 0.005, 'PCMU,PCMA,G729', 7, 1000


def tmux(sock, *args):
    return subprocess.run(['tmux', '-L', sock] + list(args), capture_output=True, text=True,
                          check=False).stdout


def time_analyze(exe, pcap):
    t = time.monotonic()
    subprocess.run([exe, 'analyze', '--no-progress', pcap], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=True)
    return time.monotonic() - t


def time_tui(exe, pcap, deadline=1800):
    sock = 'sipscope-tuiload-%d' % os.getpid()
    env = dict(os.environ, LANG='C.UTF-8', LC_ALL='C.UTF-8', TERM='xterm-256color')
    t = time.monotonic()
    tmux(sock, '-u', 'new-session', '-d', '-x', '120', '-y', '40',
         '%s tui %s; sleep 60' % (exe, pcap))
    try:
        while time.monotonic() - t < deadline:
            screen = tmux(sock, 'capture-pane', '-p').split('\n')
            if any(ln.startswith('calls ') and '  done  ' in ln for ln in screen):
                return time.monotonic() - t
            time.sleep(0.02)
        raise RuntimeError('the tui did not finish loading in %d s' % deadline)
    finally:
        tmux(sock, 'kill-server')


def capinfo(flag, pcap):
    """One figure of capinfos (-c packets, -u seconds), exact (-M)."""
    out = subprocess.run(['capinfos', flag, '-M', '-r', pcap], capture_output=True, text=True,
                         check=True).stdout
    return float(re.search(r':\s+([\d.]+)', out).group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('sipscope')
    ap.add_argument('--calls', type=int, default=340)
    ap.add_argument('--repeat', type=int, default=10)
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--workdir')
    a = ap.parse_args()
    for tool in ('tmux', 'editcap', 'mergecap', 'capinfos'):
        if not shutil.which(tool):
            print('%s not installed' % tool)
            return 1
    exe = os.path.abspath(a.sipscope)
    work = a.workdir or tempfile.mkdtemp(prefix='tuiload-')
    base = os.path.join(work, 'tuiload-%d.pcap' % a.calls)
    if not os.path.exists(base):
        subprocess.run([sys.executable, SIPGEN, 'calls', '-o', base, '--calls', str(a.calls),
                        '--duration', str(DURATION), '--concurrency', str(CONC), '--loss', str(LOSS),
                        '--codecs', CODECS, '--seed', str(SEED)], check=True)
    pcap = os.path.join(work, 'tuiload-%dx%d.pcap' % (a.calls, a.repeat))
    if a.repeat > 1 and not os.path.exists(pcap):
        span = capinfo('-u', base) + 92
        parts = []
        for k in range(a.repeat):
            parts.append(os.path.join(work, 'part%d.pcap' % k))
            subprocess.run(['editcap', '-t', '%.0f' % (k * span), base, parts[-1]], check=True)
        subprocess.run(['mergecap', '-a', '-F', 'pcap', '-w', pcap] + parts, check=True)
        for f in parts:
            os.remove(f)
    elif a.repeat <= 1:
        pcap = base
    packets = int(capinfo('-c', pcap))
    an, tu = [], []
    for _ in range(a.runs):
        an.append(time_analyze(exe, pcap))
        tu.append(time_tui(exe, pcap))
        print('analyze %.2f s  tui %.2f s' % (an[-1], tu[-1]), flush=True)
    ma, mt = statistics.median(an), statistics.median(tu)
    print('%s: %d packets (capinfos), %d calls' % (os.path.basename(pcap), packets,
                                                     a.calls * max(a.repeat, 1)))
    print('median of %d: analyze %.2f s, tui %.2f s, tui/analyze %.2f' % (a.runs, ma, mt, mt / ma))
    return 0


if __name__ == '__main__':
    sys.exit(main())
