#!/usr/bin/env python3
"""Benchmark of the two stores (issue 25): rows/s into PostgreSQL and into SQLite on the
same workload, side by side, and `analyze --db postgresql://` against the parse floor on
the large workload of bench/bench.py (1500 calls, 1000 concurrent, ~4.5 M packets).

  bench/dbbench.py SIPSCOPE READFLOOR [--runs R] [--workdir DIR] [--sizes signaling,large]

It starts its own PostgreSQL 15 (tests/lib/pgserver.py: initdb in a temporary folder, a
unix socket only, fsync on, shared_buffers 32 MB: a small server, not a tuned one), and
gives every run a fresh database (PostgreSQL) or file (SQLite).

signaling  20,000 calls without media (INVITE/100/180/200/ACK/BYE/200 and busy/cancelled):
           the rows are the bulk, the analysis light. Rows = calls + legs + messages +
           streams + issues + registrations, counted in each database after the run;
           rows/s = rows / wall time of the whole `analyze --db`.
large      the parse floor (bench/readfloor parse), `analyze --json`, `analyze --json --db
           FILE` and `analyze --json --db postgresql://...`, in turn, median of R runs, and
           each one's ratio to the parse floor (the issue's target: --db within 3x); with
           the database's size, per call. The SQLite file is made anew each run; the
           PostgreSQL runs add to one database, as successive probes' runs would.
Wall times are medians of R runs, the programs taking turns."""
import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests', 'lib'))
sys.path.insert(0, HERE)
import bench  # noqa: E402
import pgserver  # noqa: E402

SIPGEN = os.path.join(HERE, '..', 'tests', 'gen', 'sipgen.py')
TABLES = ('calls', 'legs', 'messages', 'streams', 'issues', 'registrations')


def sqlite_rows(path):
    db = sqlite3.connect(path)
    n = sum(db.execute('SELECT count(*) FROM %s' % t).fetchone()[0] for t in TABLES)
    db.close()
    return n


def pg_rows(pg, name):
    q = ' + '.join('(SELECT count(*) FROM %s)' % t for t in TABLES)
    return int(pg.sql(name, 'SELECT ' + q)[0][0])


def pg_size(pg, name):
    return int(pg.sql(name, 'SELECT coalesce(sum(pg_total_relation_size(i.inhrelid)), 0) FROM pg_inherits i')[0][0])


class Runs:
    """Fresh databases for each run: SQLite files and PostgreSQL databases by number."""

    def __init__(self, pg, work):
        self.pg, self.work, self.n = pg, work, 0

    def sqlite(self):
        self.n += 1
        return os.path.join(self.work, 'run%d.db' % self.n)

    def postgres(self):
        self.n += 1
        return 'run%d' % self.n, self.pg.uri('run%d' % self.n)


def timed(cmd):
    t = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - t


def signaling(a, runs, work):
    pcap = os.path.join(work, 'signaling-20000calls.pcap')
    if not os.path.exists(pcap):
        subprocess.run([sys.executable, SIPGEN, 'calls', '-o', pcap, '--calls', '20000', '--duration', '0',
                        '--gap-ms', '5', '--seed', '7', '--outcomes', 'answered,busy,cancelled'],
                       check=True, stdout=subprocess.DEVNULL)
    res = {'SQLite': [], 'PostgreSQL': []}
    rows = {}
    for _ in range(a.runs):
        f = runs.sqlite()
        res['SQLite'].append(timed([a.sipscope, 'analyze', '--no-progress', '--db', f, pcap]))
        rows['SQLite'] = sqlite_rows(f)
        os.unlink(f)
        name, uri = runs.postgres()
        res['PostgreSQL'].append(timed([a.sipscope, 'analyze', '--no-progress', '--db', uri, pcap]))
        rows['PostgreSQL'] = pg_rows(runs.pg, name)
    t_plain = statistics.median(timed([a.sipscope, 'analyze', '--no-progress', pcap]) for _ in range(a.runs))
    print('\nsignaling: 20,000 calls without media (%s); median of %d runs' % (os.path.basename(pcap), a.runs))
    print('%-12s %10s %9s %12s' % ('store', 'rows', 'seconds', 'rows/s'))
    for k in ('SQLite', 'PostgreSQL'):
        t = statistics.median(res[k])
        print('%-12s %10d %9.2f %12.0f' % (k, rows[k], t, rows[k] / t))
    print('%-12s %10s %9.2f %12s' % ('no --db', '-', t_plain, '-'))


def large(a, runs, work):
    pcap = bench.workload(work, 'large')
    out = subprocess.run([a.readfloor, pcap, 'parse'], check=True, capture_output=True, text=True).stdout.split()
    packets = int(out[0])
    cmds, labels = [], []
    sizes = {}

    def add(label, cmd):
        labels.append(label)
        cmds.append(cmd)
    add('parse floor', [a.readfloor, pcap, 'parse'])
    add('analyze --json', [a.sipscope, 'analyze', '--json', '--no-progress', pcap])
    f = os.path.join(work, 'large.db')
    add('--db FILE (SQLite)', ['sh', '-c', 'rm -f "$0" "$0-wal" "$0-shm" && exec "$@"', f,
                               a.sipscope, 'analyze', '--json', '--no-progress', '--db', f, pcap])
    name, uri = runs.postgres()
    # the runs add to one PostgreSQL database (each in its own block of ids, as probes do);
    # making a fresh one would add createdb to the time measured
    add('--db postgresql://', [a.sipscope, 'analyze', '--json', '--no-progress', '--db', uri, pcap])
    res = bench.measure_interleaved(cmds, a.runs)
    sizes['SQLite'] = os.path.getsize(f) + (os.path.getsize(f + '-wal') if os.path.exists(f + '-wal') else 0)
    sizes['PostgreSQL'] = pg_size(runs.pg, name)
    calls = int(runs.pg.sql(name, 'SELECT count(*) FROM calls')[0][0]) // a.runs  # per run
    rows = pg_rows(runs.pg, name) // a.runs
    floor = res[0][0]
    print('\nlarge: %d packets, %d calls, 1000 concurrent; median of %d runs' % (packets, calls, a.runs))
    print('%-22s %9s %12s %10s %9s' % ('program', 'seconds', 'packets/s', 'peak RSS', 'x floor'))
    for label, (t, rss) in zip(labels, res):
        print('%-22s %9.3f %12.0f %7.1f MB %8.2fx' % (label, t, packets / t, rss / 1024, t / floor))
    print('rows per run: %d (%.0f rows/s into PostgreSQL, %.0f into SQLite, whole-run wall time)'
          % (rows, rows / res[3][0], rows / res[2][0]))
    # the SQLite file holds one run, the PostgreSQL database all of them
    for k, v, n in (('SQLite', sizes['SQLite'], 1), ('PostgreSQL', sizes['PostgreSQL'], a.runs)):
        print('%s holds %.1f MB after %d run(s): %.1f KB per call' % (k, v / 1e6, n, v / 1e3 / (calls * n)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('sipscope')
    ap.add_argument('readfloor')
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--sizes', default='signaling,large')
    ap.add_argument('--workdir')
    a = ap.parse_args()
    work = a.workdir or tempfile.mkdtemp(prefix='sipscope-dbbench-')
    os.makedirs(work, exist_ok=True)
    with pgserver.PgServer() as pg:
        runs = Runs(pg, work)
        for s in a.sizes.split(','):
            {'signaling': signaling, 'large': large}[s](a, runs, work)
    return 0


if __name__ == '__main__':
    sys.exit(main())
