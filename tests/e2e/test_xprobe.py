#!/usr/bin/env python3
"""Cross-probe calls (issue 25): one call through a B2BUA (or a proxy) seen as two legs by
two probes. The generator (tests/gen/xprobe.py) writes probe A's capture (the caller's
side) and probe B's (the callee's side) with the truth: which calls are one (joined by
X-CID, by RFC 7989 Session-ID, by the same Call-ID) and which are twins that must not join.
Each capture is analysed by its own `analyze --probe A|B --db DB` into one database, then
`serve --db DB` must show, against the truth:

- /api/v1/calls lists each joined call once (as probe A's, the leg whose INVITE came
  first) and both twins of each pair;
- /api/v1/calls/{id} of either leg names the other as "joined", with its probe, its
  Call-ID and how it was joined; a twin's "joined" is empty;
- /api/v1/calls/{id}/messages of a joined call holds every message both probes saw, in
  time order, each with the probe that saw it (the truth's (time, method/status, probe)).

Usage: test_xprobe.py PATH/TO/sipscope sqlite|pg"""
import http.client
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from sstest import SIPGEN, Checks, skip  # noqa: E402
import pgserver  # noqa: E402
from serve import Server  # noqa: E402


def run(exe, check, db, tmp):
    a, b, t = (os.path.join(tmp, n) for n in ('a.pcap', 'b.pcap', 't.json'))
    subprocess.run([sys.executable, SIPGEN, 'xprobe', '-o', a, '--output-b', b, '--truth', t], check=True)
    truth = json.load(open(t))
    for probe, pcap in (('A', a), ('B', b)):
        r = subprocess.run([exe, 'analyze', '--no-progress', '--probe', probe, '--db', db, pcap],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 0, 'analyze --probe %s exits 0: %s' % (probe, r.stderr[-300:]))
    srv = Server(exe, db)
    try:
        status, doc = srv.json('/api/v1/calls?limit=100')
        listed = [c['call_id'] for c in doc['calls']] if doc else []
        ids = {}  # (probe, Call-ID) -> call id, from every call's own leg
        for c in truth['calls']:
            for probe in 'AB':
                cid = c['call_id_' + probe.lower()]
                st, d = srv.json('/api/v1/calls?call_id=' + cid)
                for x in (d or {}).get('calls', []):
                    st2, full = srv.json('/api/v1/calls/' + x['id'])
                    if full and full['probe'] == probe:
                        ids[(probe, cid)] = x['id']
        check(len(ids) == 2 * len(truth['calls']), 'every leg found by its Call-ID, with its probe: %d of %d'
              % (len(ids), 2 * len(truth['calls'])))
        for c in truth['calls']:
            ca, cb = c['call_id_a'], c['call_id_b']
            ida, idb = ids.get(('A', ca)), ids.get(('B', cb))
            _, da = srv.json('/api/v1/calls/%s' % ida)
            _, db_ = srv.json('/api/v1/calls/%s' % idb)
            ja, jb = (da or {}).get('joined'), (db_ or {}).get('joined')
            if c['join']:
                check(listed.count(ca) == 1 and (ca == cb or cb not in listed),
                      '%s: listed once, as probe A\'s leg %s (listed: %s)' % (c['name'], ca, listed))
                check(ja and len(ja) == 1 and ja[0]['id'] == idb and ja[0]['probe'] == 'B' and
                      ja[0]['call_id'] == cb and c['join'] in ja[0]['joined_by'],
                      '%s: probe A\'s call names probe B\'s leg %s joined by %s: %s' % (c['name'], cb, c['join'], ja))
                check(jb and len(jb) == 1 and jb[0]['id'] == ida and jb[0]['probe'] == 'A' and
                      c['join'] in jb[0]['joined_by'],
                      '%s: probe B\'s call names probe A\'s: %s' % (c['name'], jb))
                if ca != cb:  # a filter only B's leg matches lists it, though A's began first
                    _, d = srv.json('/api/v1/calls?q=' + cb)
                    got = [x['id'] for x in (d or {}).get('calls', [])]
                    check(got == [idb], '%s: calls?q=%s lists probe B\'s leg %s: %s' % (c['name'], cb, idb, got))
                want = sorted([(us, str(m), p) for p in 'AB' for us, m in c['messages'][p]])
                for leg in (ida, idb):
                    _, ms = srv.json('/api/v1/calls/%s/messages' % leg)
                    got = [(round(m['time'] * 1e6), str(m['method'] or m['status']), m['probe'])
                           for m in (ms or {}).get('messages', [])]
                    check(got == want, '%s: %s\'s messages are both probes\', in time order, each with its'
                          ' probe (%d, want %d)%s' % (c['name'], leg, len(got), len(want),
                                                       '' if got == want else ': %s' % got))
            else:
                check(ca in listed and cb in listed, '%s: the unrelated calls are listed apart' % c['name'])
                check(ja == [] and jb == [], '%s: neither joins the other: %s %s' % (c['name'], ja, jb))
                _, ms = srv.json('/api/v1/calls/%s/messages' % ida)
                got = set(m['probe'] for m in (ms or {}).get('messages', []))
                check(got == {'A'} and len(ms['messages']) == len(c['messages']['A']),
                      '%s: probe A\'s call has its own messages only' % c['name'])
    finally:
        srv.stop()


def broken(exe, check, db):
    """A stored call whose object is not JSON (a damaged file) is a server error, not a call
    with nothing in it but its probe."""
    con = sqlite3.connect(db)
    seq = con.execute('SELECT min(seq) FROM calls').fetchone()[0]
    con.execute("UPDATE calls SET json = '{not json' WHERE seq = ?", (seq,))
    con.commit()
    con.close()
    srv = Server(exe, db)
    try:
        c = http.client.HTTPConnection('127.0.0.1', srv.port, timeout=30)
        c.request('GET', '/api/v1/calls/call-%d' % seq)
        status = c.getresponse().status
        c.close()
        check(status == 500, 'a stored call that is not JSON: HTTP %d, want 500' % status)
    finally:
        srv.stop()


def main(exe, what):
    check = Checks()
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        if what == 'sqlite':
            db = os.path.join(tmp, 'x.db')
            run(exe, check, db, tmp)
            broken(exe, check, db)
        else:
            try:
                server = pgserver.PgServer()
            except pgserver.Missing as e:
                return skip(str(e))
            with server as pg:
                run(exe, check, pg.uri('xprobe'), tmp)
    print('%s: %.1f s' % (what, time.monotonic() - t0))
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1], sys.argv[2]))
