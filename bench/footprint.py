#!/usr/bin/env python3
"""What one probe, one collector and one PostgreSQL hold per 1,000 concurrent calls
(issue 25, docs/deploy.md), measured on this machine:

  bench/footprint.py SIPSCOPE [--calls 1000,2000] [--duration 8] [--workdir DIR]

For each N it writes a capture of N answered calls that all overlap (tests/gen/sipgen.py
calls: every INVITE within the first second, each with D seconds of G.711 both ways, so
N calls and 2N streams are up at once), then
- probe:     `analyze --db postgresql://... --probe p` of it; its peak RSS (ru_maxrss);
- collector: `capture --hep-listen --db postgresql://...` fed by `analyze --hep-out` of the
             same capture (SIP and one quality report per stream over HEP, on loopback);
             its peak RSS (VmHWM) once its /metrics count every SIP message sent;
- database:  the probe's database: pg_total_relation_size of every partition, per call.
The figure per 1,000 concurrent calls is the difference between two N (what grows with the
calls), beside the totals. It starts its own PostgreSQL 15 (tests/lib/pgserver.py)."""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests', 'lib'))
import pgserver  # noqa: E402
from sstest import free_port, metrics, poll  # noqa: E402

SIPGEN = os.path.join(HERE, '..', 'tests', 'gen', 'sipgen.py')
PG_BYTES = ("SELECT coalesce(sum(pg_total_relation_size(i.inhrelid)), 0)::bigint FROM pg_inherits i"
            " JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname IN ('calls', 'legs', 'call_keys',"
            " 'streams', 'registrations', 'issues', 'messages', 'media')")


def peak_rss_kb(cmd):
    """Runs cmd; its peak resident set in KiB (getrusage of the child)."""
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    err = p.stderr.read().decode(errors='replace')
    p.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit('%s failed: %s' % (cmd[:2], err[-500:]))
    return ru.ru_maxrss


def vm_hwm_kb(pid):
    with open('/proc/%d/status' % pid) as f:
        return int(re.search(r'VmHWM:\s+(\d+) kB', f.read()).group(1))


def collector(exe, pcap, uri, sip_messages):
    port = free_port()
    p = subprocess.Popen([exe, 'capture', '--hep-listen', '127.0.0.1:%d' % port, '--db', uri, '--probe',
                          'collector', '--serve', '127.0.0.1:0'], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    api = None
    line = p.stderr.readline()
    while line and 'capturing HEP' not in line:
        m = re.search(r'serving http on port (\d+)', line)
        api = int(m.group(1)) if m else api
        line = p.stderr.readline()
    if not api:
        raise SystemExit('the collector did not start: ' + line)
    try:
        subprocess.run([exe, 'analyze', '--no-progress', '--hep-out', '127.0.0.1:%d' % port, pcap], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seen = poll(lambda: metrics(api).get('sipscope_sip_messages_total', 0) >= sip_messages, deadline=120)
        got = metrics(api).get('sipscope_sip_messages_total', 0)
        return vm_hwm_kb(p.pid), got if not seen else sip_messages
    finally:
        p.send_signal(signal.SIGINT)
        p.wait(timeout=120)
        p.stderr.close()


def measure(exe, pg, n, duration, work):
    pcap, truth = os.path.join(work, 'fp%d.pcap' % n), os.path.join(work, 'fp%d.json' % n)
    subprocess.run([sys.executable, SIPGEN, 'calls', '-o', pcap, '--truth', truth, '--calls', str(n),
                    '--concurrency', str(n), '--duration', str(duration), '--gap-ms', '%g' % (1000.0 / n),
                    '--seed', '3'], check=True)
    t = json.load(open(truth))
    sip = sum(len(c['messages']) for c in t['calls'])
    uri = pg.uri('probe%d' % n)
    t0 = time.monotonic()
    probe = peak_rss_kb([exe, 'analyze', '--no-progress', '--db', uri, '--probe', 'p', pcap])
    probe_s = time.monotonic() - t0
    stored = int(pg.sql('probe%d' % n, 'SELECT count(*) FROM calls')[0][0])
    db_bytes = int(pg.sql('probe%d' % n, PG_BYTES)[0][0])
    col, col_sip = collector(exe, pcap, pg.uri('collector%d' % n), sip)
    col_bytes = int(pg.sql('collector%d' % n, PG_BYTES)[0][0])
    os.unlink(pcap)
    return dict(calls=n, stored=stored, sip=sip, col_sip=col_sip, probe_kb=probe, probe_s=probe_s,
                collector_kb=col, db_bytes=db_bytes, col_db_bytes=col_bytes,
                packets=t.get('frames'))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('sipscope')
    ap.add_argument('--calls', default='1000,2000')
    ap.add_argument('--duration', type=int, default=8)
    ap.add_argument('--workdir')
    a = ap.parse_args()
    ns = [int(x) for x in a.calls.split(',')]
    rows = []
    with pgserver.PgServer() as pg, tempfile.TemporaryDirectory(dir=a.workdir) as work:
        for n in ns:
            r = measure(a.sipscope, pg, n, a.duration, work)
            rows.append(r)
            print('%5d concurrent calls (%s packets): probe %.1f MB peak RSS (%.1f s), collector %.1f MB'
                  ' (%d of %d SIP messages read), PostgreSQL %.1f MB for the probe (%.1f KB a call),'
                  ' %.1f MB for the collector (%.1f KB a call); %d calls stored'
                  % (n, r['packets'], r['probe_kb'] / 1024, r['probe_s'], r['collector_kb'] / 1024,
                     r['col_sip'], r['sip'], r['db_bytes'] / 1e6, r['db_bytes'] / n / 1e3,
                     r['col_db_bytes'] / 1e6, r['col_db_bytes'] / n / 1e3, r['stored']), flush=True)
    if len(rows) >= 2:
        lo, hi = rows[0], rows[-1]
        k = 1000.0 / (hi['calls'] - lo['calls'])
        print('per 1,000 concurrent calls (%d -> %d): probe +%.1f MB, collector +%.1f MB,'
              ' PostgreSQL +%.1f MB (probe\'s rows), +%.1f MB (collector\'s)'
              % (lo['calls'], hi['calls'], (hi['probe_kb'] - lo['probe_kb']) * k / 1024,
                 (hi['collector_kb'] - lo['collector_kb']) * k / 1024,
                 (hi['db_bytes'] - lo['db_bytes']) * k / 1e6, (hi['col_db_bytes'] - lo['col_db_bytes']) * k / 1e6))


if __name__ == '__main__':
    main()
