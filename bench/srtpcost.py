#!/usr/bin/env python3
"""What SRTP decryption costs `sipscope analyze`, per decrypted packet, in CPU time.

  bench/srtpcost.py SIPSCOPE READFLOOR SRTP_PROTECT [--suites S,S] [--calls N]
                    [--duration S] [--seed N] [--runs R] [--workdir DIR]

  (meson test -C build --benchmark srtp_cost runs it on the defaults: every suite the
  decoder opens, 20 calls of 60 s at once, about 120,000 packets, 3 runs)

The project's generator (tests/gen/sipgen.py calls, the same seed each time) writes the
calls twice: in clear, and with SDP offering RTP/SAVP with an a=crypto line of the suite,
each side its own key (in its truth). libsrtp2 itself then protects the second capture's
RTP and RTCP with those keys (tests/support/srtp_protect.c, as tests/golden/test_srtp.py
does), so both files carry the same calls and the same media, one of them encrypted.

Before timing, each protected file is analysed once and must report every SRTP and SRTCP
packet of the truth decrypted and none failing (capture.srtp), and the clear file none
decrypted: otherwise the difference below would time something else, and the bench fails.

Timed, in turns round after round so that the rest of the machine weighs on all alike: the
libpcap read floor (bench/readfloor, pcap_next_ex alone) on the clear file and on each
protected one, and `sipscope analyze --json --no-progress` on each. CPU time (user + system,
from wait4: the host is shared, and wall time would count the other programs' turns), the
median of R runs; both programs also run on a file of no packet, whose time (start-up) is
taken off the per-packet figures. Printed per suite: the packets decrypted (analyze's own
count), the extra CPU time of the protected file over the clear one divided by them (ns per
decrypted packet), and that cost against the read floor's CPU time per packet of the same
run."""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SIPGEN = os.path.join(HERE, '..', 'tests', 'gen', 'sipgen.py')
SUITES = 'AES_CM_128_HMAC_SHA1_80,AES_CM_128_HMAC_SHA1_32,AEAD_AES_128_GCM,AEAD_AES_256_GCM'
MAX_CALLS = 32  # srtp_protect holds 64 keys: two streams a call


def cpu_run(cmd):
    """CPU seconds (user + system) and wall seconds of one run of cmd, its output dropped."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit('%s failed' % ' '.join(cmd))
    return ru.ru_utime + ru.ru_stime, wall


def generate(a, work, suite):
    """The capture (clear, or with SDES SDP and then protected by libsrtp2) and its truth."""
    tag = '%dc-%ds-seed%d-%s' % (a.calls, a.duration, a.seed, suite or 'clear')
    pcap, truth = os.path.join(work, 'srtp-%s.pcap' % tag), os.path.join(work, 'srtp-%s.json' % tag)
    if os.path.exists(pcap) and os.path.exists(truth):
        with open(truth) as f:
            return pcap, json.load(f)
    raw = pcap + '.sdp' if suite else pcap + '.tmp'
    subprocess.run([sys.executable, SIPGEN, 'calls', '-o', raw, '--truth', truth, '--calls', str(a.calls),
                    '--duration', str(a.duration), '--concurrency', str(a.calls), '--seed', str(a.seed)]
                   + (['--srtp', suite] if suite else []), check=True, stderr=subprocess.DEVNULL)
    with open(truth) as f:
        t = json.load(f)
    if suite:
        keys = ['%s:%s:%s' % (s['dst'], s['srtp']['suite'], s['srtp']['key'])
                for c in t['calls'] for s in c['streams']]
        subprocess.run([a.protect, raw, pcap + '.tmp'] + keys, check=True, capture_output=True)
        os.remove(raw)
    os.rename(pcap + '.tmp', pcap)
    return pcap, t


def srtp_counts(a, pcap):
    out = subprocess.run([a.sipscope, 'analyze', '--json', '--no-progress', pcap], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)['capture'].get('srtp', {})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('sipscope')
    ap.add_argument('readfloor')
    ap.add_argument('protect', help='build/tests/srtp_protect')
    ap.add_argument('--suites', default=SUITES)
    ap.add_argument('--calls', type=int, default=20)
    ap.add_argument('--duration', type=int, default=60, help='seconds of media per call')
    ap.add_argument('--seed', type=int, default=3)
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--workdir')
    a = ap.parse_args()
    if not 1 <= a.calls <= MAX_CALLS:
        ap.error('--calls must be 1..%d (srtp_protect holds %d keys)' % (MAX_CALLS, 2 * MAX_CALLS))
    work = a.workdir or tempfile.mkdtemp(prefix='sipscope-srtpcost-')
    os.makedirs(work, exist_ok=True)

    clear, _ = generate(a, work, None)
    files = [('clear', clear)]
    for suite in a.suites.split(','):
        pcap, truth = generate(a, work, suite)
        want = sum(s['packets'] + s['rtcp_packets'] for c in truth['calls'] for s in c['streams'])
        got = srtp_counts(a, pcap)
        if got.get('decrypted') != want or got.get('srtp_auth_failures') != 0:
            print('FAIL: %s: analyze decrypted %s of the truth\'s %d SRTP + SRTCP packets, %s failing; '
                  'nothing to time' % (suite, got.get('decrypted'), want, got.get('srtp_auth_failures')))
            return 1
        files.append((suite, pcap))
    if srtp_counts(a, clear).get('decrypted', 0) != 0:
        print('FAIL: the clear capture has packets decrypted')
        return 1

    # a file of no packet (the clear file's pcap header alone) times each program's start-up,
    # which would otherwise weigh on the read floor's figure per packet
    empty = os.path.join(work, 'srtp-empty.pcap')
    with open(clear, 'rb') as f, open(empty, 'wb') as g:
        g.write(f.read(24))
    files.append(('no packet', empty))
    cmds = []
    for _, pcap in files:
        cmds.append([a.readfloor, pcap])
        cmds.append([a.sipscope, 'analyze', '--json', '--no-progress', pcap])
    cpu, wall = [[] for _ in cmds], [[] for _ in cmds]
    for _ in range(a.runs):
        for i, cmd in enumerate(cmds):
            c, w = cpu_run(cmd)
            cpu[i].append(c)
            wall[i].append(w)
    med = [statistics.median(c) for c in cpu]

    packets = int(subprocess.run([a.readfloor, clear], check=True, capture_output=True,
                                 text=True).stdout.split()[0])
    print('%d calls of %d s at once, %d packets a file, median of %d runs in turns, CPU time (user + system)'
          % (a.calls, a.duration, packets, a.runs))
    print('%-26s %-12s %10s %10s' % ('file', 'program', 'CPU s', 'wall s'))
    for k, (name, _) in enumerate(files):
        for j, prog in enumerate(('read floor', 'analyze')):
            i = 2 * k + j
            print('%-26s %-12s %10.3f %10.3f' % (name, prog, med[i], statistics.median(wall[i])))
    # each program's start-up (its run on no packet) taken off: what is left is per packet
    floor_ns = max(med[0] - med[-2], 1e-9) / packets * 1e9
    clear_ns = (med[1] - med[-1]) / packets * 1e9
    print('per packet, start-up taken off: read floor %.0f ns, clear analyze %.0f ns (%.1fx the floor)'
          % (floor_ns, clear_ns, clear_ns / floor_ns))
    for k, (name, pcap) in enumerate(files[1:-1], start=1):
        n = srtp_counts(a, pcap)['decrypted']
        ns = (med[2 * k + 1] - med[1]) / n * 1e9
        print('%s: %d packets decrypted, analyze %.3f s against %.3f s clear: %.0f ns of CPU per decrypted '
              'packet, %.1fx the read floor\'s %.0f ns' % (name, n, med[2 * k + 1], med[1], ns, ns / floor_ns,
                                                          floor_ns))
    return 0


if __name__ == '__main__':
    sys.exit(main())
