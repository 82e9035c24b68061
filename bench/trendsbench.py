#!/usr/bin/env python3
"""Query times of /api/v1/stats?from&to&step and /api/v1/top on a large store (issue 29),
through the real server (`sipscope serve`), median of R runs.

  bench/trendsbench.py build SIPSCOPE DB [--calls N] [--base B] [--days D]
  bench/trendsbench.py migrate SIPSCOPE DB
  bench/trendsbench.py time SIPSCOPE DB [--runs R]
  bench/trendsbench.py pg OLD NEW [--calls N] [--base B] [--days D] [--runs R]

build: the generator (tests/gen/sipgen.py calls) writes B calls of 1 s each (RTP both ways
       with 2 % loss, so calls' MOS differ; outcomes cycled: answered, 503, busy, cancelled;
       200 callees) spread evenly over D days at N calls' density; `SIPSCOPE analyze --db DB`
       stores them. The database is then grown to N calls by copying those rows (calls,
       legs, streams, issues; not the SIP messages, which no trend reads) N / B - 1 times,
       each copy shifted later by the span of the first, with new seqs and Call-IDs: the
       rows are sipscope's own, only their times moved. A DB given as a PostgreSQL URI is
       grown the same way (its day partitions made as the writer makes them).
migrate: opens DB with SIPSCOPE as a writer (analyze --db of a capture with no packet),
       which migrates its schema; prints the time it took.
time:  starts `SIPSCOPE serve --db DB` on loopback and times, median of R runs each:
       /api/v1/stats over a day at 1 h steps, a week at 1 d, the whole range (60 steps);
       /api/v1/top by callee, caller, domain and host, each by failures, asr and worst_mos,
       over the whole range.
pg:    the same on PostgreSQL (tests/lib/pgserver.py's small server, started for the run in
       $TMPDIR and thrown away after): build with OLD, time with OLD, migrate with NEW,
       time with NEW.

Before/after on SQLite: build with the old sipscope, `time` with it, copy the file,
`migrate` with the new one, `time` with the new one."""
import argparse
import os
import re
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests', 'web'))
sys.path.insert(0, os.path.join(HERE, '..', 'tests', 'lib'))
from test_api import Server  # noqa: E402

SIPGEN = os.path.join(HERE, '..', 'tests', 'gen', 'sipgen.py')
T0 = 1_700_000_000
SHIFT_CALL_COLS = ('invite_time', 'end_time', 'answer_time')


def is_pg(db):
    return db.startswith('postgres://') or db.startswith('postgresql://')


def build(exe, db, calls, base, days):
    gap_ms = days * 86400 * 1000 / calls
    copies = max(1, calls // base)
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, 'base.pcap')
        t = time.monotonic()
        subprocess.run([sys.executable, SIPGEN, 'calls', '-o', pcap, '--calls', str(base), '--duration', '1',
                        '--gap-ms', '%.3f' % gap_ms, '--callees', '200', '--loss', '0.02', '--start', str(T0),
                        '--outcomes', 'answered,unavailable,answered,busy,answered,cancelled,answered'],
                       check=True)
        print('generated %d calls in %.1f s' % (base, time.monotonic() - t), flush=True)
        t = time.monotonic()
        subprocess.run([exe, 'analyze', '--no-progress', '--db', db, pcap], check=True, stdout=subprocess.DEVNULL)
        print('analyze --db: %.1f s' % (time.monotonic() - t), flush=True)
    span = base * gap_ms / 1000
    t = time.monotonic()
    (grow_pg if is_pg(db) else grow_sqlite)(db, copies, span)
    print('grown to %d copies in %.1f s' % (copies, time.monotonic() - t), flush=True)


def plan(cols_of, copies, span, nseq):
    """(table, columns, select list) for each table and copy."""
    shifts = {'calls': SHIFT_CALL_COLS, 'streams': ('first_time', 'last_time'), 'issues': ('time',),
              'legs': ('invite_time',)}
    for k in range(1, copies):
        off, shift = k * nseq, k * span
        for table, key in (('calls', 'seq'), ('legs', 'call_seq'), ('streams', 'seq'), ('issues', 'id')):
            cols = [c for c in cols_of(table) if c != 'id']
            sel = []
            for c in cols:
                if c in ('seq', 'call_seq', 'stream_seq', 'rev'):
                    sel.append('%s + %d' % (c, off))
                elif c in shifts[table]:
                    sel.append('%s + %r' % (c, shift))
                elif c == 'call_id':
                    sel.append("call_id || '~%d'" % k)
                else:
                    sel.append(c)
            yield k, table, key, cols, sel


def grow_sqlite(path, copies, span):
    db = sqlite3.connect(path)
    nseq = db.execute('SELECT max(seq) FROM calls').fetchone()[0]
    nstream = db.execute('SELECT coalesce(max(seq), 0) FROM streams').fetchone()[0]
    nseq = max(nseq, nstream)
    maxid = db.execute('SELECT coalesce(max(id), 0) FROM issues').fetchone()[0]

    def cols_of(t):
        return [r[1] for r in db.execute('PRAGMA table_info(%s)' % t)]
    db.execute('PRAGMA journal_mode=WAL')
    for k, table, key, cols, sel in plan(cols_of, copies, span, nseq):
        if table == 'calls' and 'json' in cols:
            # the object's answer time moves with the row (the old schema reads it there)
            sel[cols.index('json')] = ("CASE WHEN json_extract(json, '$.answer_time') IS NULL THEN json"
                                       " ELSE json_set(json, '$.answer_time', json_extract(json,"
                                       " '$.answer_time') + %r) END" % (k * span))
        lim = {'calls': 'seq <= %d' % nseq, 'legs': 'call_seq <= %d' % nseq, 'streams': 'seq <= %d' % nseq,
               'issues': 'id <= %d' % maxid}[table]
        db.execute('INSERT INTO %s(%s) SELECT %s FROM %s WHERE %s' % (table, ', '.join(cols), ', '.join(sel),
                                                                       table, lim))
        if table == 'issues':
            db.commit()
    db.commit()
    db.close()


def pg_cmd(uri, sql):
    r = subprocess.run(['psql', '-At', '-v', 'ON_ERROR_STOP=1', uri, '-c', sql], capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError('psql: ' + r.stderr)
    return [line.split('|') for line in r.stdout.splitlines()]


def grow_pg(uri, copies, span):
    uri = re.sub(r'^postgres(ql)?://', 'postgresql://', uri)
    nseq = int(pg_cmd(uri, 'SELECT greatest((SELECT max(seq) FROM calls), (SELECT coalesce(max(seq), 0)'
                           ' FROM streams)) - min(seq) + 1 FROM calls')[0][0])
    seq0 = int(pg_cmd(uri, 'SELECT min(seq) FROM calls')[0][0])
    last = float(pg_cmd(uri, 'SELECT max(invite_time) FROM calls')[0][0]) + copies * span + 86400
    first = int(T0 // 86400)
    parted = [r[0] for r in pg_cmd(uri, "SELECT c.relname FROM pg_partitioned_table p JOIN pg_class c"
                                        " ON c.oid = p.partrelid")]
    ddl = []
    for d in range(first, int(last // 86400) + 2):
        for t in parted:
            name = '%s_d%s' % (t, time.strftime('%Y%m%d', time.gmtime(d * 86400)))
            ddl.append("IF to_regclass('%s') IS NULL THEN CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS);"
                       " ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%d) TO (%d); END IF;"
                       % (name, name, t, t, name, d * 86400, (d + 1) * 86400))
    pg_cmd(uri, 'DO $$ BEGIN %s END $$' % ' '.join(ddl))

    def cols_of(t):
        return [r[0] for r in pg_cmd(uri, "SELECT column_name FROM information_schema.columns WHERE table_name"
                                          " = '%s' ORDER BY ordinal_position" % t)]
    hi = seq0 + nseq
    for k, table, key, cols, sel in plan(cols_of, copies, span, nseq):
        if table == 'calls':
            sel[cols.index('json')] = ("CASE WHEN json::jsonb->'answer_time' IS NULL OR"
                                       " jsonb_typeof(json::jsonb->'answer_time') <> 'number' THEN json"
                                       " ELSE jsonb_set(json::jsonb, '{answer_time}', to_jsonb((json::jsonb"
                                       "->>'answer_time')::float8 + %r))::text END" % (k * span))
        lim = {'calls': 'seq < %d' % hi, 'legs': 'call_seq < %d' % hi, 'streams': 'seq < %d' % hi,
               'issues': 'time < %r' % (T0 + span + 86400)}[table]
        pg_cmd(uri, 'INSERT INTO %s(%s) SELECT %s FROM %s WHERE %s' % (table, ', '.join(cols), ', '.join(sel),
                                                                        table, lim))
    pg_cmd(uri, 'VACUUM ANALYZE')


def migrate(exe, db):
    with tempfile.TemporaryDirectory() as tmp:
        empty = os.path.join(tmp, 'empty.pcap')
        with open(empty, 'wb') as f:  # a pcap header (LINKTYPE_ETHERNET) and no packet
            f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        t = time.monotonic()
        subprocess.run([exe, 'analyze', '--no-progress', '--db', db, empty], check=True, stdout=subprocess.DEVNULL)
        print('migrated (a writer opened it) in %.1f s' % (time.monotonic() - t))


def span_of(exe, db):
    if is_pg(db):
        r = pg_cmd(re.sub(r'^postgres(ql)?://', 'postgresql://', db),
                   'SELECT min(invite_time), max(invite_time), count(*) FROM calls')[0]
        return float(r[0]), float(r[1]), int(r[2])
    d = sqlite3.connect('file:%s?mode=ro' % db, uri=True)
    lo, hi, n = d.execute('SELECT min(invite_time), max(invite_time), count(*) FROM calls').fetchone()
    d.close()
    return lo, hi, n


def timeit(srv, path, runs):
    times = []
    for _ in range(runs):
        t = time.monotonic()
        try:
            status, _, body = srv.get(path)
        except TimeoutError:  # the client waits 30 s: reported as more than that
            return float('inf'), b''
        times.append(time.monotonic() - t)
        if status != 200:
            raise SystemExit('%s: HTTP %d %s' % (path, status, body[:200]))
    return statistics.median(times), body


def time_queries(exe, db, runs):
    lo, hi, n = span_of(exe, db)
    mid = lo + (hi - lo) / 2
    day0 = mid - mid % 86400
    hi = hi + 1
    rows = []
    qs = [('stats: a day at 1 h', {'from': day0, 'to': day0 + 86400, 'step': 3600}),
          ('stats: a week at 1 d', {'from': day0, 'to': day0 + 7 * 86400, 'step': 86400}),
          ('stats: whole range, 60 steps', {'from': lo, 'to': hi})]
    srv = Server(exe, db)
    try:
        print('%d calls over %.1f days' % (n, (hi - lo) / 86400))
        for name, p in qs:
            t, body = timeit(srv, '/api/v1/stats?' + urllib.parse.urlencode(p), runs)
            rows.append((name, t))
            print('%-36s %7.3f s' % (name, t) if t < 1e9 else '%-36s   >30 s' % name, flush=True)
        for by in ('callee', 'caller', 'domain', 'host'):
            for metric in ('failures', 'asr', 'worst_mos'):
                name = 'top: by %s, %s' % (by, metric)
                t, body = timeit(srv, '/api/v1/top?' + urllib.parse.urlencode({'by': by, 'metric': metric}), runs)
                rows.append((name, t))
                print('%-36s %7.3f s' % (name, t) if t < 1e9 else '%-36s   >30 s' % name, flush=True)
    finally:
        srv.stop()
    return rows


def pg_run(old, new, a):
    import pgserver
    with pgserver.PgServer() as pg:
        db = pg.uri('trends')
        build(old, db, a.calls, a.base, a.days)
        before = time_queries(old, db, a.before_runs)
        migrate(new, db)
        pg_cmd(re.sub(r'^postgres(ql)?://', 'postgresql://', db), 'VACUUM ANALYZE')
        after = time_queries(new, db, a.runs)
    print('\n%-36s %9s %9s' % ('PostgreSQL, medians of %d / %d' % (a.before_runs, a.runs), 'before', 'after'))
    for (name, b), (_, t) in zip(before, after):
        print('%-36s %8.3fs %8.3fs' % (name, b, t))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('what', choices=('build', 'migrate', 'time', 'pg'))
    ap.add_argument('sipscope')
    ap.add_argument('db', help='the database; for pg, the new sipscope')
    ap.add_argument('--calls', type=int, default=1_000_000)
    ap.add_argument('--base', type=int, default=20_000)
    ap.add_argument('--days', type=float, default=14)
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--before-runs', type=int, default=1, help='pg: runs of the old sipscope (slow)')
    a = ap.parse_args()
    if a.what == 'build':
        build(a.sipscope, a.db, a.calls, a.base, a.days)
    elif a.what == 'migrate':
        migrate(a.sipscope, a.db)
    elif a.what == 'pg':
        pg_run(a.sipscope, a.db, a)
    else:
        time_queries(a.sipscope, a.db, a.runs)


if __name__ == '__main__':
    main()
