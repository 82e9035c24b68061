#!/usr/bin/env python3
"""/api/v1/stats?from=&to=&step= and /api/v1/top against the generator's truth (issue 29),
on a SQLite file and on a real PostgreSQL (tests/lib/pgserver.py; skipped, clearly, where
PostgreSQL is absent).

The capture: calls 15 s apart over ten minutes, outcomes cycled (answered, 503, busy,
cancelled) over five callees, with some RTP loss so that calls' MOS differ. Each step's
calls, answered, ASR, NER (ITU-T E.411/E.425, as tests/gen/calls.py's OUTCOME_KPI says of
each outcome), ACD, PDD percentiles (nearest rank of INVITE-to-180 in the truth), final
responses by class and `server_error` issues (docs/output.md: a 5xx final response) are
the truth's; MOS percentiles are those of the calls' own worst MOS as /api/v1/calls lists
them (the generator does not know MOS), which checks the bucketing and ranks, not the
E-model. The worst-N by callee, host, domain and caller, by failures and ASR, is the
truth's grouped and ordered as the route documents (ties: more calls first, then key).
A database of the previous schema (the trend columns taken away again) is refused by a
reader, migrated by a writer, and then answers all of the above the same.

Usage: test_trends.py PATH/TO/sipscope"""
import math
import os
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'gen'))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sstest import Checks, generate, skip  # noqa: E402
import pgserver  # noqa: E402
from calls import OUTCOME_KPI  # noqa: E402
from test_api import Server  # noqa: E402

T0 = 1_700_000_000
OUTCOMES = 'answered,unavailable,answered,busy,unavailable,cancelled,answered'


def q(path, **params):
    return path + '?' + urllib.parse.urlencode(params)


def rank(values, p):
    """Nearest rank: the smallest value with at least p% of them at or below it."""
    v = sorted(values)
    return v[max(1, math.ceil(p / 100 * len(v) - 1e-9)) - 1] if v else None


def close(a, b, eps=1e-6):
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) <= eps)


def step_truth(calls):
    ans = [c for c in calls if c['answer_ns'] is not None]
    user = [c for c in calls if OUTCOME_KPI[c['outcome']][1]]
    durs = [(c['end_ns'] - c['answer_ns']) / 1e9 for c in ans]
    pdd = [(c['ringing_ns'] - c['invite_ns']) / 1e6 for c in calls if c.get('ringing_ns')]
    cls = {'%dxx' % k: sum(1 for c in calls if c['final_status'] // 100 == k) for k in range(1, 7)}
    n = len(calls)
    return dict(calls=n, answered=len(ans), asr=100 * len(ans) / n if n else None,
                ner=100 * len(user) / n if n else None, acd=sum(durs) / len(durs) if durs else None,
                p50=rank(pdd, 50), p95=rank(pdd, 95), cls=cls,
                server_error=sum(1 for c in calls if c['final_status'] // 100 == 5))


def series_checks(check, srv, truth, tag):
    mos_of = {}
    status, page = srv.json(q('/api/v1/calls', limit=1000))
    for c in page['calls']:
        mos_of[c['call_id']] = c['mos_min']
    # a range that starts mid-step of the capture's own minutes, and runs past its end
    frm, step, nsteps = T0 - 40, 90, 9
    status, s = srv.json(q('/api/v1/stats', **{'from': frm, 'to': frm + step * nsteps, 'step': step}))
    check(status == 200 and len(s['steps']) == nsteps, '%s: %d steps of %d s' % (tag, nsteps, step))
    if status != 200:
        return
    for i, st in enumerate(s['steps']):
        lo = frm + i * step
        mine = [c for c in truth['calls'] if lo <= c['invite_ns'] / 1e9 < lo + step]
        t = step_truth(mine)
        mos = [mos_of[c['call_id']] for c in mine if mos_of.get(c['call_id']) is not None]
        ok = (st['start'] == lo and st['calls'] == t['calls'] and st['answered'] == t['answered']
              and close(st['asr_pct'], t['asr']) and close(st['ner_pct'], t['ner'])
              and close(st['acd_s'], t['acd'], 1e-3) and close(st['pdd_ms']['p50'], t['p50'])
              and close(st['pdd_ms']['p95'], t['p95']) and st['final_responses'] == t['cls']
              and st['issue_kinds'].get('server_error', 0) == t['server_error']
              and close(st['mos']['p10'], rank(mos, 10)) and close(st['mos']['p50'], rank(mos, 50))
              and close(st['mos']['p90'], rank(mos, 90)))
        check(ok, '%s: step %d (%d calls) as the truth: got %s, truth %s' % (tag, i, len(mine), st, t))
    check(sum(st['calls'] for st in s['steps']) == len(truth['calls']), '%s: every call in one step' % tag)
    check(s['steps'][-1]['calls'] == 0 and s['steps'][-1]['asr_pct'] is None,
          '%s: a step past the capture: no calls, no ASR' % tag)
    # without step: 60 of them over the range
    status, s = srv.json(q('/api/v1/stats', **{'from': T0, 'to': T0 + 600}))
    check(status == 200 and len(s['steps']) == 60 and s['step'] == 10, '%s: 60 steps by default' % tag)
    for bad in ({'from': T0}, {'from': T0, 'to': T0 - 1}, {'from': T0, 'to': T0 + 1e6, 'step': 1},
                {'from': T0, 'to': T0 + 60, 'step': 'x'}, {'from': T0, 'to': T0 + 60, 'nope': 1}):
        check(srv.get(q('/api/v1/stats', **bad))[0] == 400, '%s: stats %s refused' % (tag, bad))
    status, s = srv.json('/api/v1/stats')
    check(status == 200 and s['calls'] == len(truth['calls']) and 'steps' not in s,
          '%s: without parameters, the totals as before' % tag)


def top_truth(calls, key, metric, limit):
    groups = {}
    for c in calls:
        groups.setdefault(key(c), []).append(c)
    rows = []
    for k, cs in groups.items():
        ans = sum(1 for c in cs if c['answer_ns'] is not None)
        fail = sum(1 for c in cs if not OUTCOME_KPI[c['outcome']][1])
        rows.append(dict(key=k, calls=len(cs), answered=ans, failures=fail, asr_pct=100 * ans / len(cs)))
    if metric == 'failures':
        rows = sorted((r for r in rows if r['failures']), key=lambda r: (-r['failures'], -r['calls'], r['key']))
    else:
        rows = sorted(rows, key=lambda r: (r['asr_pct'], -r['calls'], r['key']))
    return rows[:limit]


def top_checks(check, srv, truth, tag):
    keys = {'callee': lambda c: c['to_user'], 'caller': lambda c: c['from_user'],
            'host': lambda c: c['callee'], 'domain': lambda c: c['callee'].split(':')[0]}
    for by, key in keys.items():
        for metric in ('failures', 'asr'):
            status, got = srv.json(q('/api/v1/top', by=by, metric=metric, limit=4))
            want = top_truth(truth['calls'], key, metric, 4)
            rows = [dict(key=r['key'], calls=r['calls'], answered=r['answered'], failures=r['failures'],
                         asr_pct=r['asr_pct']) for r in (got or {}).get('top', [])]
            check(status == 200 and len(rows) == len(want) and all(
                a['key'] == b['key'] and a['calls'] == b['calls'] and a['answered'] == b['answered']
                and a['failures'] == b['failures'] and close(a['asr_pct'], b['asr_pct']) for a, b in zip(rows, want)),
                '%s: top by %s, %s as the truth: %s vs %s' % (tag, by, metric, rows, want))
    # a time range: only the calls of the first five minutes
    lo, hi = T0, T0 + 300
    mine = [c for c in truth['calls'] if lo <= c['invite_ns'] / 1e9 < hi]
    status, got = srv.json(q('/api/v1/top', by='callee', metric='failures', **{'from': lo, 'to': hi}))
    want = top_truth(mine, keys['callee'], 'failures', 10)
    check(status == 200 and [(r['key'], r['failures']) for r in got['top']] == [(r['key'], r['failures']) for r in want],
          '%s: top in [from, to) as the truth' % tag)
    status, got = srv.json(q('/api/v1/top', by='callee', metric='worst_mos'))
    status2, page = srv.json(q('/api/v1/calls', limit=1000))
    worst = {}
    for c in page['calls']:
        if c['mos_min'] is not None:
            u = c['to']['user']
            worst[u] = min(worst.get(u, 9), c['mos_min'])
    order = sorted(worst.items(), key=lambda kv: (kv[1], kv[0]))
    check(status == 200 and [r['key'] for r in got['top']] == [k for k, _ in order][:10]
          and all(close(r['worst_mos'], worst[r['key']]) for r in got['top']),
          '%s: top by worst MOS: the lowest of each callee\'s calls first' % tag)
    for bad in ({}, {'by': 'nope'}, {'by': 'callee', 'metric': 'nope'}, {'by': 'callee', 'limit': 101}):
        check(srv.get(q('/api/v1/top', **bad))[0] == 400, '%s: top %s refused' % (tag, bad))


def serve_checks(check, exe, db, truth, tag):
    srv = Server(exe, db)
    try:
        series_checks(check, srv, truth, tag)
        top_checks(check, srv, truth, tag)
    finally:
        srv.stop()


def run(check, exe, db, truth, pcap, tag):
    subprocess.run([exe, 'analyze', '--no-progress', '--db', db, pcap], check=True, capture_output=True)
    serve_checks(check, exe, db, truth, tag)


# The previous schema (SQLite 4, PostgreSQL 2) had no trend columns: the series and the
# worst-N read answer time, PDD and the To URI's host from each call's object. Taking the
# columns away again gives such a database, with the rows sipscope wrote.
SQLITE_BACK = (
    'DROP INDEX calls_trend; DROP INDEX streams_reported;'
    ' ALTER TABLE calls DROP COLUMN answer_time; ALTER TABLE calls DROP COLUMN pdd_ms;'
    ' ALTER TABLE calls DROP COLUMN to_domain; ALTER TABLE streams DROP COLUMN reported;'
    ' PRAGMA user_version = 4;')
PG_BACK = ('ALTER TABLE calls DROP COLUMN answer_time, DROP COLUMN pdd_ms, DROP COLUMN to_domain;'
           ' ALTER TABLE streams DROP COLUMN reported;'
           " UPDATE meta SET value = '2' WHERE key = 'schema';")


def open_as_writer(exe, db, tmp):
    """A writer opens db (analyze --db of a capture with no packet): it migrates the schema."""
    empty = os.path.join(tmp, 'empty.pcap')
    with open(empty, 'wb') as f:  # a pcap header (LINKTYPE_ETHERNET), no packet
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    subprocess.run([exe, 'analyze', '--no-progress', '--db', db, empty], check=True, capture_output=True)


def migrated_sqlite(check, exe, db, truth, tmp):
    old = os.path.join(tmp, 'old.db')
    src = sqlite3.connect(db)
    dst = sqlite3.connect(old)
    src.backup(dst)
    src.close()
    dst.executescript(SQLITE_BACK)
    cols = [r[1] for r in dst.execute('PRAGMA table_info(calls)')]
    dst.close()
    check('answer_time' not in cols, 'sqlite: a schema 4 file made (calls: %s)' % ', '.join(cols))
    r = subprocess.run([exe, 'serve', '--db', old, '--listen', '127.0.0.1:0'], capture_output=True, text=True,
                       timeout=30)
    check(r.returncode != 0 and 'schema 4' in r.stderr, 'sqlite: a reader refuses schema 4: %s' % r.stderr.strip())
    open_as_writer(exe, old, tmp)
    o = sqlite3.connect(old)
    check(o.execute('PRAGMA user_version').fetchone()[0] == 5 and
          o.execute('SELECT count(*) FROM calls WHERE answer_time IS NOT NULL').fetchone()[0] ==
          sum(1 for c in truth['calls'] if c['answer_ns'] is not None), 'sqlite: schema 4 migrated to 5, filled')
    o.close()
    serve_checks(check, exe, old, truth, 'sqlite migrated')


def migrated_pg(check, exe, pg, truth, pcap, tmp):
    db = pg.uri('trends_old')
    subprocess.run([exe, 'analyze', '--no-progress', '--db', db, pcap], check=True, capture_output=True)
    pg.sql('trends_old', PG_BACK)
    open_as_writer(exe, db, tmp)
    got = pg.sql('trends_old', "SELECT (SELECT value FROM meta WHERE key = 'schema'),"
                               ' (SELECT count(answer_time) FROM calls)')[0]
    check(got == ['3', str(sum(1 for c in truth['calls'] if c['answer_ns'] is not None))],
          'postgresql: schema 2 migrated to 3, filled: %s' % got)
    serve_checks(check, exe, db, truth, 'postgresql migrated')


# A To URI's domain as RFC 3261 §19.1 reads its host (without case, brackets, port or
# parameters; none without a user part): PostgreSQL's sip_host, as test_store_query holds
# SQLite's to the same answers.
HOSTS = [('sip:a@Carrier.NET:5060;user=phone', 'carrier.net'), ('sip:b@carrier.net', 'carrier.net'),
         ('sips:c@[2001:DB8::1]:5061;transport=tls', '2001:db8::1'),
         ('sip:d@other.example?subject=x', 'other.example'), ('tel:+4930123', ''), ('sip:carrier.net', '')]


def hosts(check, pg):
    got = pg.sql('trends', 'SELECT ' + ', '.join("coalesce(sip_host('%s'), '')" % u for u, _ in HOSTS))[0]
    check(got == [h for _, h in HOSTS], 'postgresql: sip_host %s, want %s' % (got, [h for _, h in HOSTS]))


def main(exe):
    check = Checks()
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, 'c.pcap')
        truth = generate('calls', pcap, os.path.join(tmp, 'c.json'), '--calls', '40', '--duration', '2',
                         '--gap-ms', '15000', '--outcomes', OUTCOMES, '--callees', '5', '--loss', '0.04')
        run(check, exe, os.path.join(tmp, 'c.db'), truth, pcap, 'sqlite')
        migrated_sqlite(check, exe, os.path.join(tmp, 'c.db'), truth, tmp)
        print('sqlite: %.1f s' % (time.monotonic() - t0))
        try:
            server = pgserver.PgServer()
        except pgserver.Missing as e:
            print('PostgreSQL: %s: its half skipped' % e)
            rc = check.done()
            return rc if rc else skip('PostgreSQL absent (%s)' % e)
        with server as pg:
            run(check, exe, pg.uri('trends'), truth, pcap, 'postgresql')
            hosts(check, pg)
            migrated_pg(check, exe, pg, truth, pcap, tmp)
    print('trends: %.1f s' % (time.monotonic() - t0))
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
