#!/usr/bin/env python3
"""Benchmark (issue 10): sipscope against the libpcap read floors and tshark, on captures
the project's own generator writes, every figure measured in the same run.

  bench/bench.py SIPSCOPE READFLOOR [--sizes small,medium,large] [--runs R] [--tshark]
                 [--no-db] [--long] [--signaling] [--sipparse P] [--streamtrack P] [--sipcorr P]
                 [--workdir DIR]

Workloads (tests/gen/sipgen.py calls; G.711 mu-law, A-law and G.729 in turn, 0.5 % loss,
30 s of media per call, calls starting evenly so that `concurrency` are up at once):
  small   150 calls,  100 concurrent    ~0.45 M packets
  medium  500 calls,  330 concurrent    ~1.5 M packets
  large  1500 calls, 1000 concurrent    ~4.5 M packets (the issue's reference workload)
  steady  300 calls,  100 concurrent    (--long) long enough to reach steady state (calls
                                        linger 32 s after they end, 64xT1)
  long   3000 calls,  100 concurrent    (--long) ten times steady's length at the same
                                        concurrency: peak memory must follow concurrency
For each: packets/s and MB/s and peak RSS of
  - the read floor (pcap_next_ex alone),
  - the parse floor (the same plus Ethernet/IPv4/UDP, the RTP header and one hash lookup
    per packet: the floor for any stream tracker, the one the targets are stated against),
  - `sipscope analyze --json` (full analysis, no database; audio is on by default),
  - `sipscope analyze --json --no-audio` (the same without hearing the payload),
  - `sipscope analyze --json --db` (unless --no-db),
  - `tshark -q -z rtp,streams` (with --tshark; one run, it is slow),
and the ratios sipscope/parse floor and tshark/sipscope. Wall times are medians of R runs,
the programs taking turns run by run.
--signaling adds SIP messages/s on INVITE and REGISTER storms, through the whole analyze and
(--sipcorr) through parse + correlate alone; --sipparse and --streamtrack time the SIP
parser and the stream tracker alone."""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SIPGEN = os.path.join(HERE, '..', 'tests', 'gen', 'sipgen.py')

SIZES = {  # name: (calls, concurrency)
    'small': (150, 100),
    'medium': (500, 330),
    'large': (1500, 1000),
    'steady': (300, 100),
    'long': (3000, 100),
}
DURATION, LOSS, CODECS, SEED = 30, 0.005, 'PCMU,PCMA,G729', 7


GNU_TIME = '/usr/bin/time'


def run_once(cmd):
    """Wall time and peak RSS (KiB) of one run of cmd. The RSS is GNU time's: a child that
    Python forks and execs keeps Python's own peak as its ru_maxrss (Linux carries the high
    mark across exec), which floored every figure at about 15 MB; GNU time's child is forked
    from a small process. Its start-up is the same for every program, and small."""
    with tempfile.NamedTemporaryFile('r') as out:
        t = time.perf_counter()
        p = subprocess.Popen([GNU_TIME, '-f', '%M', '-o', out.name] + cmd,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, _ = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit('%s failed' % ' '.join(cmd))
        return wall, int(out.read().split()[-1])


def measure(cmd, runs):
    """Median wall time and the largest peak RSS (KiB) of this command's own runs."""
    res = [run_once(cmd) for _ in range(runs)]
    return statistics.median(r[0] for r in res), max(r[1] for r in res)


def measure_interleaved(cmds, runs):
    """The commands run in turn, round after round, so that whatever else the machine does
    weighs on all of them alike: per command, the median wall time and the largest RSS."""
    times, rss = [[] for _ in cmds], [0] * len(cmds)
    for _ in range(runs):
        for i, cmd in enumerate(cmds):
            w, r = run_once(cmd)
            times[i].append(w)
            rss[i] = max(rss[i], r)
    return [(statistics.median(t), r) for t, r in zip(times, rss)]


def workload(work, name):
    calls, conc = SIZES[name]
    pcap = os.path.join(work, 'bench-%s-%dcalls-%dconc.pcap' % (name, calls, conc))
    if not os.path.exists(pcap):
        gap_ms = DURATION * 1000 / conc
        subprocess.run([sys.executable, SIPGEN, 'calls', '-o', pcap + '.tmp', '--calls', str(calls),
                        '--duration', str(DURATION), '--concurrency', str(conc), '--gap-ms', '%g' % gap_ms,
                        '--loss', str(LOSS), '--codecs', CODECS, '--seed', str(SEED)], check=True,
                       stderr=subprocess.DEVNULL)
        os.rename(pcap + '.tmp', pcap)
    return pcap


def run_size(a, work, name):
    pcap = workload(work, name)
    calls, conc = SIZES[name]
    out = subprocess.run([a.readfloor, pcap, 'parse'], check=True, capture_output=True, text=True).stdout.split()
    packets, streams, size = int(out[0]), int(out[2]), os.path.getsize(pcap)
    dbfile = os.path.join(work, 'bench.db')
    rows = [('read floor', [a.readfloor, pcap]),
            ('parse floor', [a.readfloor, pcap, 'parse']),
            ('sipscope analyze --json', [a.sipscope, 'analyze', '--json', '--no-progress', pcap]),
            ('sipscope --no-audio', [a.sipscope, 'analyze', '--json', '--no-progress', '--no-audio', pcap])]
    if not a.no_db:
        rows.append(('sipscope --json --db', ['sh', '-c', 'rm -f "$0" "$0-wal" "$0-shm" && exec "$@"', dbfile,
                                              a.sipscope, 'analyze', '--json', '--no-progress', '--db', dbfile,
                                              pcap]))
    if a.tshark and shutil.which('tshark') and name not in ('steady', 'long'):  # those are for memory
        rows.append(('tshark -z rtp,streams', ['tshark', '-q', '-n', '-r', pcap, '-z', 'rtp,streams']))
    print('\n%s: %d calls, %d concurrent, %d RTP streams, %d packets, %.0f MB; median of %d runs'
          % (name, calls, conc, streams, packets, size / 1e6, a.runs))
    print('%-26s %9s %12s %9s %10s %9s' % ('program', 'seconds', 'packets/s', 'MB/s', 'peak RSS', 'x floor'))
    ours_rows = [r for r in rows if not r[0].startswith('tshark')]
    res = dict(zip([r[0] for r in ours_rows], measure_interleaved([r[1] for r in ours_rows], a.runs)))
    for label, cmd in rows:
        if label not in res:
            res[label] = measure(cmd, 1)  # tshark: one run, it is slow
        t, rss = res[label]
        floor = res['parse floor'][0]
        print('%-26s %9.3f %12.0f %9.1f %7.1f MB %8.2fx' % (label, t, packets / t, size / 1e6 / t, rss / 1024,
                                                           t / floor))
    ours = res['sipscope analyze --json'][0]
    print('sipscope / parse floor: %.2fx (target 1.5x, audio on); / read floor: %.2fx'
          % (ours / res['parse floor'][0], ours / res['read floor'][0]))
    print('ns/packet: parse floor %.0f, analyze --json %.0f, --no-audio %.0f'
          % tuple(res[k][0] / packets * 1e9 for k in ('parse floor', 'sipscope analyze --json',
                                                       'sipscope --no-audio')))
    if not a.no_db:
        print('sipscope --db / parse floor: %.2fx (target 3x)' % (res['sipscope --json --db'][0] / res['parse floor'][0]))
    if 'tshark -z rtp,streams' in res:
        print('tshark / sipscope: %.1fx' % (res['tshark -z rtp,streams'][0] / ours))
    return dict(pcap=pcap, packets=packets, streams=streams, conc=conc, rss=res['sipscope analyze --json'][1],
                ratio=ours / res['parse floor'][0])


def signaling(a, work):
    inv = os.path.join(work, 'bench-invite-storm.pcap')
    if not os.path.exists(inv):
        subprocess.run([sys.executable, SIPGEN, 'calls', '-o', inv, '--calls', '20000', '--duration', '0',
                        '--concurrency', '2000', '--seed', '5', '--outcomes', 'answered,busy,cancelled'],
                       check=True, stderr=subprocess.DEVNULL)
    reg = os.path.join(work, 'bench-register-storm.pcap')
    if not os.path.exists(reg):
        subprocess.run([sys.executable, SIPGEN, 'regstorm', '-o', reg, '--phones', '25000'], check=True,
                       stderr=subprocess.DEVNULL)
    print('\nsignaling (target: 300,000 SIP messages/s through parse + correlate):')
    for label, pcap in (('INVITE storm', inv), ('REGISTER storm', reg)):
        if a.sipcorr:
            n, t, calls, regs = subprocess.run([a.sipcorr, pcap, str(a.runs)], check=True, capture_output=True,
                                               text=True).stdout.split()
            print('  %-15s parse + correlate alone (frames in memory, no output): %s messages, %.3f s, '
                  '%.0f messages/s (%s calls, %s registrations)' % (label, n, float(t), int(n) / float(t), calls, regs))
        t, rss = measure([a.sipscope, 'analyze', '--json', '--no-progress', pcap], a.runs)
        msgs = json.loads(subprocess.run([a.sipscope, 'analyze', '--json', '--no-progress', pcap], check=True,
                                         capture_output=True, text=True).stdout)['capture']['sip_messages']
        print('  %-15s sipscope analyze --json, all of it:                   %d messages, %.3f s, '
              '%.0f messages/s, peak RSS %.1f MB' % (label, msgs, t, msgs / t, rss / 1024))
    if a.sipparse:
        n, t, b, _ = subprocess.run([a.sipparse, inv, '2'], check=True, capture_output=True,
                                    text=True).stdout.split()
        n, t, b = int(n), float(t), int(b)
        print('  SIP parser alone: %.0f messages/s, %.0f MB/s (mean %d bytes per message)'
              % (n / t, b / 1e6 / t, b // n))
    return inv


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('sipscope')
    ap.add_argument('readfloor')
    ap.add_argument('--sizes', default='small,medium,large')
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--tshark', action='store_true', help='also time tshark -q -z rtp,streams (slow)')
    ap.add_argument('--no-db', action='store_true', help='skip analyze --db')
    ap.add_argument('--long', action='store_true', help='peak memory at 10x the small length, same concurrency')
    ap.add_argument('--signaling', action='store_true', help='SIP messages/s on INVITE and REGISTER storms')
    ap.add_argument('--workdir')
    ap.add_argument('--sipparse', help='the SIP parser benchmark program (bench/sipparse.c)')
    ap.add_argument('--streamtrack', help='the stream tracker benchmark program (bench/streamtrack.c)')
    ap.add_argument('--sipcorr', help='the parse + correlate benchmark program (bench/sipcorr.c)')
    a = ap.parse_args()

    work = a.workdir or tempfile.mkdtemp(prefix='sipscope-bench-')
    os.makedirs(work, exist_ok=True)
    done = {}
    for name in a.sizes.split(','):
        done[name] = run_size(a, work, name)
    sized = {k: v for k, v in done.items() if k in ('small', 'medium', 'large')}
    if len(sized) >= 2:
        lo, hi = min(sized.values(), key=lambda d: d['conc']), max(sized.values(), key=lambda d: d['conc'])
        if hi['conc'] > lo['conc']:
            per = (hi['rss'] - lo['rss']) * 1024 / (hi['conc'] - lo['conc'])
            print('\nmemory per active call with its two streams: %.1f KB (peak RSS from %d to %d concurrent calls)'
                  % (per / 1024, lo['conc'], hi['conc']))
    if a.long:
        done['steady'] = run_size(a, work, 'steady')
        done['long'] = run_size(a, work, 'long')
        s, l = done['steady'], done['long']
        print('\n10x longer at the same concurrency: peak RSS %.1f MB -> %.1f MB (%+.1f %%, target at most +10 %%)'
              % (s['rss'] / 1024, l['rss'] / 1024, 100.0 * (l['rss'] - s['rss']) / s['rss']))
    if a.streamtrack:
        pcap = done[max(done, key=lambda k: done[k]['packets'])]['pcap']
        n, t, streams = subprocess.run([a.streamtrack, pcap, str(a.runs)], check=True, capture_output=True,
                                       text=True).stdout.split()
        n, t = int(n), float(t)
        print('\nstream tracker alone (rtp_parse + stream_rtp, %s streams): %.0f RTP packets/s, %.1f ns/packet'
              % (streams, n / t, t / n * 1e9))
    if a.signaling or a.sipparse:
        signaling(a, work)
    return 0


if __name__ == '__main__':
    sys.exit(main())
