#!/usr/bin/env python3
"""Benchmark: packets/s of `sipscope analyze` against the libpcap read floor (and tshark,
when installed) on the same generated capture, in the same run.

  bench/bench.py SIPSCOPE READFLOOR [--packets N] [--runs R] [--tshark] [--db] [--workdir DIR]

The capture comes from the project's generator (tests/gen/sipgen.py calls): G.711 calls
with RTP and RTCP, about N packets. Each program runs R times; the median wall time is
reported, with peak RSS, and the ratios sipscope/floor (lower is better) and
tshark/sipscope."""
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


def measure(cmd, runs):
    """Median wall time and the largest peak RSS (KiB) of this command's own runs."""
    times, rss = [], 0
    for _ in range(runs):
        t = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)  # this child's own rusage, not all children's
        times.append(time.perf_counter() - t)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit('%s failed' % ' '.join(cmd))
        rss = max(rss, ru.ru_maxrss)
    return statistics.median(times), rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('sipscope')
    ap.add_argument('readfloor')
    ap.add_argument('--packets', type=int, default=1_000_000)
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--tshark', action='store_true', help='also time tshark -q -z rtp,streams (slow)')
    ap.add_argument('--workdir')
    ap.add_argument('--sipparse', help='the SIP parser benchmark program (bench/sipparse.c)')
    ap.add_argument('--streamtrack', help='the stream tracker benchmark program (bench/streamtrack.c)')
    ap.add_argument('--db', action='store_true',
                    help='also time analyze --db (SQLite), and report stored calls/s, messages/s and '
                         'database size per 1,000 calls on a signaling-only capture')
    a = ap.parse_args()

    work = a.workdir or tempfile.mkdtemp(prefix='sipscope-bench-')
    os.makedirs(work, exist_ok=True)
    # one answered call of D seconds is about 100*D RTP packets plus a few RTCP/SIP
    calls, duration = 100, max(10, a.packets // 10000)
    pcap = os.path.join(work, 'bench-%dcalls-%ds.pcap' % (calls, duration))
    if not os.path.exists(pcap):
        subprocess.run([sys.executable, SIPGEN, 'calls', '-o', pcap, '--calls', str(calls),
                        '--duration', str(duration), '--concurrency', '50', '--seed', '3'],
                       check=True)
    out = subprocess.run([a.readfloor, pcap], check=True, capture_output=True, text=True).stdout.split()
    packets, size = int(out[0]), os.path.getsize(pcap)

    rows = [('libpcap read floor', [a.readfloor, pcap]),
            ('sipscope analyze --json', [a.sipscope, 'analyze', '--json', '--no-progress', pcap])]
    dbfile = os.path.join(work, 'bench.db')
    fresh_db = lambda target: ['sh', '-c', 'rm -f "$0" "$0-wal" "$0-shm" && exec "$@"', dbfile,
                               a.sipscope, 'analyze', '--json', '--no-progress', '--db', dbfile, target]
    if a.db:
        rows.append(('sipscope analyze --json --db', fresh_db(pcap)))
    if a.tshark:
        rows.append(('tshark -q -z rtp,streams', ['tshark', '-q', '-n', '-r', pcap, '-z', 'rtp,streams']))
    print('capture: %s, %d packets, %.1f MB; median of %d runs' % (pcap, packets, size / 1e6, a.runs))
    print('%-28s %10s %12s %9s %10s' % ('program', 'seconds', 'packets/s', 'MB/s', 'peak RSS'))
    res = {}
    for name, cmd in rows:
        runs = 1 if name.startswith('tshark') else a.runs
        t, rss = measure(cmd, runs)
        res[name] = t
        print('%-28s %10.3f %12.0f %9.1f %7.1f MB' % (name, t, packets / t, size / 1e6 / t, rss / 1024))
    floor, ours = res['libpcap read floor'], res['sipscope analyze --json']
    print('sipscope / floor: %.2fx' % (ours / floor))
    if a.db:
        print('sipscope --db / floor: %.2fx' % (res['sipscope analyze --json --db'] / floor))
    if a.tshark:
        print('tshark / sipscope: %.1fx' % (res['tshark -q -z rtp,streams'] / ours))
    rtp = json.loads(subprocess.run([a.sipscope, 'analyze', '--json', '--no-progress', pcap], check=True,
                                    capture_output=True, text=True).stdout)['capture']['rtp_packets']
    print('whole pipeline: %d RTP packets, %.0f RTP packets/s' % (rtp, rtp / ours))
    if a.streamtrack:
        n, t, streams = subprocess.run([a.streamtrack, pcap, str(a.runs)], check=True, capture_output=True,
                                       text=True).stdout.split()
        n, t = int(n), float(t)
        print('stream tracker alone (rtp_parse + stream_rtp, %s streams): %.0f RTP packets/s, %.1f ns/packet'
              % (streams, n / t, t / n * 1e9))

    # signaling only: many short calls, no media to speak of
    sig = os.path.join(work, 'bench-signaling.pcap')
    if (a.sipparse or a.db) and not os.path.exists(sig):
        subprocess.run([sys.executable, SIPGEN, 'calls', '-o', sig, '--calls', '20000',
                        '--duration', '0', '--concurrency', '2000', '--seed', '5',
                        '--outcomes', 'answered,busy,cancelled'], check=True)
    if a.db:
        base, _ = measure([a.sipscope, 'analyze', '--json', '--no-progress', sig], a.runs)
        td, _ = measure(fresh_db(sig), a.runs)
        doc = json.loads(subprocess.run([a.sipscope, 'analyze', '--json', '--no-progress', sig],
                                        check=True, capture_output=True, text=True).stdout)
        ncalls, nmsgs = len(doc['calls']), doc['capture']['sip_messages']
        dbsize = lambda: sum(os.path.getsize(dbfile + x) for x in ('', '-wal') if os.path.exists(dbfile + x))
        size = dbsize()
        tn, _ = measure(fresh_db(sig) + ['--db-no-raw'], a.runs)
        size_noraw = dbsize()
        print('store on %d calls, %d SIP messages: %.3f s with --db, %.3f s without: '
              '%.0f calls/s, %.0f messages/s stored; %.2f MB per 1,000 calls with raw SIP and frames'
              % (ncalls, nmsgs, td, base, ncalls / td, nmsgs / td, size / 1e6 / ncalls * 1000))
        print('store without raw SIP (--db-no-raw): %.3f s, %.0f calls/s, %.0f messages/s; %.2f MB per 1,000 calls'
              % (tn, ncalls / tn, nmsgs / tn, size_noraw / 1e6 / ncalls * 1000))
    if a.sipparse:
        n, t, b, _ = subprocess.run([a.sipparse, sig, '2'], check=True, capture_output=True,
                                    text=True).stdout.split()
        n, t, b = int(n), float(t), int(b)
        print('SIP parser alone: %.0f messages/s, %.0f MB/s (mean %d bytes per message)'
              % (n / t, b / 1e6 / t, b // n))
        ts, _ = measure([a.sipscope, 'analyze', '--json', '--no-progress', sig], a.runs)
        msgs = json.loads(subprocess.run([a.sipscope, 'analyze', '--json', '--no-progress', sig],
                                         check=True, capture_output=True, text=True).stdout)['capture']['sip_messages']
        print('sipscope analyze on %d SIP messages: %.3f s, %.0f messages/s' % (msgs, ts, msgs / ts))
    return 0


if __name__ == '__main__':
    sys.exit(main())
