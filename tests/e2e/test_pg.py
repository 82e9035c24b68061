#!/usr/bin/env python3
"""The PostgreSQL store against a real PostgreSQL server (issue 25), started by
tests/lib/pgserver.py in a temporary folder on a unix socket only.

union      a URI with a password refused; two probes (two `analyze --db postgresql://...` on different generated captures,
           running at once) and `serve --db postgresql://...`: every route answers, and the
           API equals the union of the same two runs into one SQLite file, field by field
           (the call-N / stream-N ids aside: each probe numbers in its own block); the ids
           never collide, every row carries its probe, and each probe stored as many calls
           as its own --json reported.
kill       `analyze --db postgresql://` killed with SIGKILL after its writer reported calls
           committed (-vv): every one of them is in the database, each with its messages.
restart    the server restarted (pg_ctl stop -m fast, start) while a probe writes: the probe
           reconnects and finishes with exit status 0, and the database holds every call of
           the capture (generator truth) exactly once with all its messages; `serve`,
           started before the restart, answers after it with every call.
outage     the server stopped until the probe's 1 MB queue overflows, then started: the probe
           reconnects, exits 1, and says what it dropped; the messages stored plus those it
           counted as dropped are every message of the capture (generator truth).
retention  calls 5 h apart over three days (generator truth), --retention-days 1: exactly
           the days wholly older than a day before the newest call lose their partitions
           (and their rows); with --spool-days 1 only those days' media goes, every call
           stays; with --max-db-mb 0.01 only the newest day is left.

follow     a follower of new calls (/api/v1/events) while two probes write: one probe's
           batch has taken its revision and not yet committed (a psql session standing for
           a slow probe: it takes the revision lock and a revision as a batch does, then
           waits) while a second probe (`analyze --db`) writes its calls. No revision above
           the open one becomes visible before it commits (the second probe waits), and the
           follower gets every call of both, each once: before revisions were taken in
           commit order it went on past the open revision and never got that call.

Usage: test_pg.py PATH/TO/sipscope union|kill|restart|outage|retention|follow"""
import calendar
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from sstest import Checks, generate, poll, skip  # noqa: E402
import pgserver  # noqa: E402
from serve import Server  # noqa: E402

ID = re.compile(r'^(call|stream)-\d+$')
COMMITTED = re.compile(r'database: committed (\d+) calls \(last call-(\d+)\)')


def norm(o):
    """The object with every call-N / stream-N id replaced: the two stores number apart."""
    if isinstance(o, dict):
        return {k: norm(v) for k, v in o.items()}
    if isinstance(o, list):
        return [norm(v) for v in o]
    if isinstance(o, str) and ID.match(o):
        return 'ID'
    return o


def bag(objs):
    return sorted(json.dumps(norm(o), sort_keys=True) for o in objs)


def filters(calls):
    """The API's call filters, with values taken from the calls stored."""
    c = next(x for x in calls if x.get('caller'))
    out = [{}, {'state': 'completed'}, {'state': 'rejected'}, {'status': '2'}, {'status': '486'},
           {'user': c['from']['user']}, {'from_user': c['from']['user']},
           {'to_user': c['to']['user']}, {'call_id': c['call_id']},
           {'issue': 'one_way_audio'}, {'issue': 'packet_loss'}, {'min_mos': '4'},
           {'max_mos': '3.5'}, {'address': c['caller']}, {'address': c['caller'].rsplit(':', 1)[0]},
           {'from': str(c['invite_time']), 'to': str(c['invite_time'] + 120)}]
    return out


def union(exe, check, pg, tmp):
    a, b = os.path.join(tmp, 'a.pcap'), os.path.join(tmp, 'b.pcap')
    generate('issues', a, os.path.join(tmp, 'a.json'))
    generate('calls', b, os.path.join(tmp, 'b.json'), '--calls', '30', '--duration', '4',
             '--loss', '0.03', '--seed', '11', '--outcomes', 'answered,busy,cancelled')
    uri = pg.uri('union')
    t0 = time.monotonic()
    runs = [subprocess.Popen([exe, 'analyze', '--no-progress', '--json', '--spool-rtp', '--db', uri,
                              '--probe', probe, pcap], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True) for probe, pcap in (('probe-a', a), ('probe-b', b))]
    outs = [p.communicate(timeout=120) for p in runs]
    check(all(p.returncode == 0 for p in runs), 'two probes wrote at once, both exit 0: %s'
          % [o[1][-300:] for o in outs])
    print('two probes into PostgreSQL at once: %.2f s' % (time.monotonic() - t0))
    dbf = os.path.join(tmp, 'union.db')
    # the same probe names: the API says which probe stored each call and message
    for probe, pcap in (('probe-a', a), ('probe-b', b)):
        subprocess.run([exe, 'analyze', '--no-progress', '--spool-rtp', '--db', dbf, '--probe', probe, pcap],
                       check=True, capture_output=True)
    # each probe's rows carry its name, as many calls as its own output reported
    jsons = [json.loads(o[0]) for o in outs]
    per = dict((r[0], int(r[1])) for r in pg.sql('union', 'SELECT probe, count(*) FROM calls GROUP BY probe'))
    check(per == {'probe-a': len(jsons[0]['calls']), 'probe-b': len(jsons[1]['calls'])},
          'calls by probe %s, as each run reported (%d, %d)' % (per, len(jsons[0]['calls']), len(jsons[1]['calls'])))
    blank = pg.sql('union', "SELECT (SELECT count(*) FROM messages WHERE probe IS NULL)"
                            " + (SELECT count(*) FROM streams WHERE probe IS NULL)"
                            " + (SELECT count(*) FROM issues WHERE probe IS NULL)")[0][0]
    check(blank == '0', 'every message, stream and issue row carries its probe')
    ids_a = set(c['id'] for c in jsons[0]['calls']) | set(s['id'] for s in jsons[0]['streams'])
    ids_b = set(c['id'] for c in jsons[1]['calls']) | set(s['id'] for s in jsons[1]['streams'])
    check(ids_a and ids_b and not ids_a & ids_b, 'the two probes\' call and stream ids never collide')

    # a password never goes in the URI: the process list would show it
    r = subprocess.run([exe, 'analyze', '--no-progress', '--db', uri.replace(':///', '://postgres:pw@localhost/'), a],
                       capture_output=True, text=True)
    check(r.returncode == 1 and 'password' in r.stderr, 'a URI with a password refused: %s' % r.stderr.strip())
    pg.createdb('empty')
    r = subprocess.run([exe, 'serve', '--db', uri.replace('/union?', '/empty?')], capture_output=True, text=True,
                       timeout=30)
    check(r.returncode == 1 and 'analyze --db creates it' in r.stderr,
          'serve of a database no probe wrote: refused, saying why (%s)' % r.stderr.strip())
    sq, ps = Server(exe, dbf), Server(exe, uri)
    try:
        compare(check, sq, ps)
    finally:
        sq.stop()
        ps.stop()


def compare(check, sq, ps):
    calls_s = sq.pages('/api/v1/calls', 'calls')
    calls_p = ps.pages('/api/v1/calls', 'calls')
    check(calls_p is not None and len(calls_p) == len(calls_s) > 60,
          '/api/v1/calls: %s calls from PostgreSQL, %d from SQLite' % (calls_p and len(calls_p), len(calls_s)))
    check(bag(calls_p or []) == bag(calls_s), '/api/v1/calls: the same calls, field by field')
    times = [c['invite_time'] for c in calls_p or []]
    check(times == sorted(times, reverse=True), '/api/v1/calls: newest first')
    for f in filters(calls_s):
        got, want = ps.pages('/api/v1/calls', 'calls', **f), sq.pages('/api/v1/calls', 'calls', **f)
        check(got is not None and bag(got) == bag(want), '/api/v1/calls?%s: %s calls, SQLite %d'
              % (urllib.parse.urlencode(f), got and len(got), len(want)))
    for path, key, params in (('/api/v1/streams', 'streams', {}), ('/api/v1/registrations', 'registrations', {}),
                              ('/api/v1/issues', 'issues', {}), ('/api/v1/issues', 'issues', {'severity': 'critical'}),
                              ('/api/v1/issues', 'issues', {'kind': 'one_way_audio'})):
        got, want = ps.pages(path, key, **params), sq.pages(path, key, **params)
        check(got is not None and len(want) > 0 and bag(got) == bag(want), '%s %s: %s rows, SQLite %d'
              % (path, params, got and len(got), len(want)))
    # every call's own routes, matched by Call-ID and INVITE time
    by_key = dict(((c['call_id'], c['invite_time']), c['id']) for c in calls_p or [])
    same = {'call': 0, 'messages': 0, 'streams': 0, 'pcap': 0, 'levels': 0}
    for c in calls_s:
        pid = by_key.get((c['call_id'], c['invite_time']))
        if not pid:
            continue
        for sub, key in (('', 'call'), ('/messages', 'messages'), ('/streams', 'streams'),
                         ('/pcap', 'pcap'), ('/levels', 'levels')):
            s1, d1 = sq.get('/api/v1/calls/%s%s' % (c['id'], sub))
            s2, d2 = ps.get('/api/v1/calls/%s%s' % (pid, sub))
            if key == 'pcap':
                ok = s1 == s2 and d1 == d2
            else:
                ok = s1 == s2 and (s1 != 200 or norm(json.loads(d1)) == norm(json.loads(d2)))
            same[key] += ok
    check(all(v == len(calls_s) for v in same.values()),
          'every call\'s object, messages, streams, pcap and audio levels equal: %s of %d' % (same, len(calls_s)))
    s1, st_s = sq.json('/api/v1/stats')
    s2, st_p = ps.json('/api/v1/stats')
    for st in (st_s, st_p):
        st.pop('last_run', None)
    check(s2 == 200 and st_p == st_s, '/api/v1/stats equal (but the last run): %s' % st_p)
    s1, ev = ps.get('/api/v1/calls/call-99999999/messages')
    check(s1 == 404, 'an unknown call: 404 from PostgreSQL too')


def kill(exe, check, pg, tmp):
    pcap = os.path.join(tmp, 'big.pcap')
    truth = generate('calls', pcap, os.path.join(tmp, 't.json'), '--calls', '5000', '--duration', '0',
                     '--gap-ms', '20', '--seed', '7', '--outcomes', 'answered,busy,cancelled')
    uri = pg.uri('kill')
    p = subprocess.Popen([exe, 'analyze', '-vv', '--no-progress', '--db', uri, '--probe', 'k', pcap],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    n = last = seen = 0
    for line in p.stderr:
        m = COMMITTED.search(line)
        if m:
            n, last = int(m.group(1)), int(m.group(2))
            seen += n > 0
            if seen == 2:
                p.send_signal(signal.SIGKILL)
                break
    p.stderr.close()
    rc = p.wait()
    check(rc == -signal.SIGKILL, 'analyze killed with SIGKILL after 2 commit reports')
    check(0 < n < len(truth['calls']), 'killed mid-capture: %d of %d calls reported committed'
          % (n, len(truth['calls'])))
    stored = int(pg.sql('kill', 'SELECT count(*) FROM calls')[0][0])
    print('killed after %d calls reported committed (last call-%d); %d calls in the database'
          % (n, last, stored))
    check(stored >= n, '%d calls stored, %d reported committed before the kill' % (stored, n))
    check(pg.sql('kill', 'SELECT count(*) FROM calls WHERE seq = %d' % last)[0][0] == '1',
          'the last call reported committed (call-%d) is there' % last)
    bare = pg.sql('kill', 'SELECT count(*) FROM calls c WHERE NOT EXISTS'
                          ' (SELECT 1 FROM messages m WHERE m.call_seq = c.seq)')[0][0]
    check(bare == '0', 'every stored call has its messages (%s without)' % bare)


def restart(exe, check, pg, tmp):
    pcap = os.path.join(tmp, 'big.pcap')
    truth = generate('calls', pcap, os.path.join(tmp, 't.json'), '--calls', '5000', '--duration', '0',
                     '--gap-ms', '20', '--seed', '8', '--outcomes', 'answered,busy,cancelled')
    uri = pg.uri('restart')
    p = subprocess.Popen([exe, 'analyze', '-vv', '--no-progress', '--db', uri, '--probe', 'r', pcap],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    n_before = 0
    log = []
    for line in p.stderr:
        log.append(line)
        m = COMMITTED.search(line)
        if m and int(m.group(1)) > 0:
            n_before = int(m.group(1))
            break
    srv = Server(exe, uri)  # serve reads across the restart too
    before, _ = srv.json('/api/v1/stats')
    t0 = time.monotonic()
    pg.restart()
    print('server restarted in %.2f s, after %d calls committed' % (time.monotonic() - t0, n_before))
    rest = p.stderr.read()
    p.stderr.close()
    rc = p.wait(timeout=120)
    log.append(rest)
    text = ''.join(log)
    check(n_before > 0, 'the restart came mid-write (%d calls committed before it)' % n_before)
    check('reconnected' in text, 'the probe said it reconnected')
    check(rc == 0, 'exit status 0: nothing dropped (%d; %s)' % (rc, rest[-400:] if rc else ''))
    want = len(truth['calls'])
    got = pg.sql('restart', 'SELECT count(*), count(DISTINCT seq) FROM calls')[0]
    check(got == [str(want), str(want)], 'every call of the capture stored once: %s of %d' % (got, want))
    status, st = srv.json('/api/v1/stats')
    srv.stop()
    check(before == 200 and status == 200 and st['calls'] == want,
          'serve answered before the restart and after it, with every call (%s)' % (st and st['calls']))
    msgs = sum(len(c['messages']) for c in truth['calls'])
    stored = int(pg.sql('restart', 'SELECT count(*) FROM messages WHERE call_seq IS NOT NULL')[0][0])
    check(stored >= msgs, 'every message of the calls stored: %d of %d' % (stored, msgs))
    print('in flight at the restart: the batch being written; committed before it: %d calls;'
          ' dropped: none (exit 0); messages stored %d, truth %d' % (n_before, stored, msgs))


def retention(exe, check, pg, tmp):
    pcap = os.path.join(tmp, 'days.pcap')
    truth = generate('calls', pcap, os.path.join(tmp, 't.json'), '--calls', '14', '--duration', '1',
                     '--gap-ms', str(5 * 3600 * 1000), '--seed', '9')
    starts = sorted(c['messages'][0]['time_ns'] / 1e9 for c in truth['calls'])
    newest = starts[-1]
    days = sorted(set(int(t // 86400) for t in starts))
    keep = [d for d in days if (d + 1) * 86400 > newest - 86400]
    check(len(days) >= 3 and len(keep) < len(days), 'calls over %d days, %d of which are to be kept'
          % (len(days), len(keep)))
    uri = pg.uri('ret')
    r = subprocess.run([exe, 'analyze', '--no-progress', '--db', uri, '--retention-days', '1', pcap],
                       capture_output=True, text=True)
    check(r.returncode == 0, 'analyze with --retention-days 1: %s' % r.stderr[-300:])

    def parts():
        rows = pg.sql('ret', "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                             " JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'calls'")
        return sorted(calendar.timegm(time.strptime(x[0][7:], '%Y%m%d')) // 86400 for x in rows)
    have = parts()
    dropped = [d for d in days if d not in keep]
    check(not set(dropped) & set(have) and set(keep) <= set(have),
          'partitions of days %s dropped, %s kept (have %s)' % (dropped, keep, have))
    want = sum(1 for t in starts if int(t // 86400) in keep)
    got = int(pg.sql('ret', 'SELECT count(*) FROM calls')[0][0])
    check(got == want, 'the calls of the kept days only: %d, truth %d' % (got, want))
    old = int(pg.sql('ret', 'SELECT count(*) FROM messages WHERE time < %d' % (keep[0] * 86400))[0][0])
    check(old == 0, 'no message of a dropped day is left (%d)' % old)
    # spooled media by its own age: the old days' media goes, every call stays
    uri = pg.uri('media')
    r = subprocess.run([exe, 'analyze', '--no-progress', '--db', uri, '--spool-rtp', '--spool-days', '1', pcap],
                       capture_output=True, text=True)
    calls = int(pg.sql('media', 'SELECT count(*) FROM calls')[0][0])
    media_days = sorted(int(x[0]) for x in pg.sql('media', 'SELECT DISTINCT floor(first_time / 86400)::int FROM media'))
    check(r.returncode == 0 and calls == len(starts) and media_days == keep,
          '--spool-days 1: all %d calls kept (of %d), media only of days %s (%s)'
          % (calls, len(starts), keep, media_days))
    # by size: only the newest day stays
    uri = pg.uri('size')
    r = subprocess.run([exe, 'analyze', '--no-progress', '--db', uri, '--max-db-mb', '0.01', pcap],
                       capture_output=True, text=True)
    rows = pg.sql('size', 'SELECT DISTINCT floor(invite_time / 86400)::int FROM calls')
    check(r.returncode == 0 and [int(x[0]) for x in rows] == [days[-1]],
          '--max-db-mb 0.01: only the newest day left (%s)' % rows)


def outage(exe, check, pg, tmp):
    """The server down longer than the queue lasts: what is dropped is counted, said, and
    makes the exit status 1; what is stored plus what is counted is every message."""
    pcap = os.path.join(tmp, 'big.pcap')
    truth = generate('calls', pcap, os.path.join(tmp, 't.json'), '--calls', '5000', '--duration', '0',
                     '--gap-ms', '20', '--seed', '10', '--outcomes', 'answered,busy,cancelled')
    uri = pg.uri('outage')
    p = subprocess.Popen([exe, 'analyze', '-vv', '--no-progress', '--db-queue-mb', '1', '--db', uri,
                          '--probe', 'o', pcap], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    log, n_before = [], 0
    for line in p.stderr:
        log.append(line)
        m = COMMITTED.search(line)
        if m and int(m.group(1)) > 0:
            n_before = int(m.group(1))
            break
    pg.stop()
    # down until the probe says its queue overflowed (it waits 5 s for its writer first)
    for line in p.stderr:
        log.append(line)
        if 'queue full' in line:
            break
    pg.start()
    log.append(p.stderr.read())
    p.stderr.close()
    rc = p.wait(timeout=120)
    text = ''.join(log)
    dropped = dict((k, int(v)) for k, v in re.findall(r' (\w+) (\d+) dropped', text))
    check(n_before > 0 and 'reconnected' in text, 'the server stopped mid-write (%d calls committed before),'
          ' the probe reconnected when it came back' % n_before)
    check(rc == 1 and dropped.get('messages', 0) > 0, 'exit status 1, drops counted and said: %s (rc %d)'
          % (dropped, rc))
    want = sum(len(c['messages']) for c in truth['calls'])
    stored = int(pg.sql('outage', 'SELECT count(*) FROM messages')[0][0])
    check(stored + dropped.get('messages', 0) == want, 'messages stored %d + counted as dropped %d = %d sent'
          % (stored, dropped.get('messages', 0), want))
    calls = int(pg.sql('outage', 'SELECT count(*) FROM calls')[0][0])
    # a call may be written more than once (as it stands, then whole): each call missing had
    # at least one of its records dropped
    distinct = int(pg.sql('outage', 'SELECT count(DISTINCT seq) FROM calls')[0][0])
    check(distinct == calls and dropped.get('calls', 0) >= len(truth['calls']) - calls,
          'calls stored once each (%d); the %d missing are within the %d call records counted as dropped'
          % (calls, len(truth['calls']) - calls, dropped.get('calls', 0)))
    print('outage: committed before it %d calls; dropped %s; stored after it %d calls, %d messages'
          % (n_before, dropped, calls, stored))


class Events(threading.Thread):
    """Reads /api/v1/events from a revision on: (revision, call object) of each event."""

    def __init__(self, port, rev):
        super().__init__(daemon=True)
        req = urllib.request.Request('http://127.0.0.1:%d/api/v1/events' % port,
                                     headers={'Last-Event-ID': str(rev)})
        self.resp = urllib.request.urlopen(req, timeout=120)
        self.got, self.lock = [], threading.Lock()

    def run(self):
        rev = None
        try:
            for raw in self.resp:
                line = raw.decode('utf-8', 'replace').rstrip('\n')
                if line.startswith('id: '):
                    rev = int(line[4:])
                elif line.startswith('data: '):
                    with self.lock:
                        self.got.append((rev, json.loads(line[6:])))
        except (OSError, ValueError):
            pass

    def call_ids(self):
        with self.lock:
            return [c.get('call_id') for _, c in self.got if isinstance(c, dict)]


def follow(exe, check, pg, tmp):
    a, b = os.path.join(tmp, 'a.pcap'), os.path.join(tmp, 'b.pcap')
    generate('calls', a, os.path.join(tmp, 'a.json'), '--calls', '3', '--duration', '2', '--seed', '21')
    truth = generate('calls', b, os.path.join(tmp, 'b.json'), '--calls', '5000', '--duration', '0',
                     '--gap-ms', '20', '--seed', '22', '--outcomes', 'answered,busy,cancelled')
    uri = pg.uri('follow')
    subprocess.run([exe, 'analyze', '--no-progress', '--db', uri, '--probe', 'probe-a', a], check=True,
                   capture_output=True, timeout=120)
    top = int(pg.sql('follow', 'SELECT max(rev) FROM calls')[0][0])
    t_a = pg.sql('follow', 'SELECT min(invite_time) FROM calls')[0][0]
    srv = Server(exe, uri)
    try:
        ev = Events(srv.port, top)
        ev.start()
        # the second probe, writing batch after batch: under way once it says it committed
        fast = subprocess.Popen([exe, 'analyze', '-vv', '--no-progress', '--db', uri, '--probe', 'probe-b', b],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        commits = []
        for line in fast.stderr:
            m = COMMITTED.search(line)
            if m and int(m.group(1)) > 0:
                commits.append(int(m.group(1)))
                break
        drain = threading.Thread(target=lambda: commits.extend(
            int(m.group(1)) for m in map(COMMITTED.search, fast.stderr) if m), daemon=True)
        drain.start()
        # a slow probe's batch: the revision lock (store/pg.c's PG_LOCK_REVS) and a revision
        # taken, the commit not yet
        slow = pg.session('follow')
        slow.stdin.write("BEGIN; SELECT pg_advisory_xact_lock(1936290405);"
                         "INSERT INTO calls(seq, probe, call_id, state, invite_time, json, rev)"
                         " VALUES (999999999999, 'probe-slow', 'slow-call', 'completed', %s,"
                         " '{\"id\": \"call-999999999999\", \"call_id\": \"slow-call\"}',"
                         " nextval('call_revs')) RETURNING rev;\n" % t_a)
        slow.stdin.flush()
        line = slow.stdout.readline()
        while line == '\n':  # the lock's SELECT: a void value
            line = slow.stdout.readline()
        slow_rev = int(line)
        before = len(commits)
        # the second probe's next batches are due within this (it commits about every 0.2 s)
        seen_above = 0
        end = time.monotonic() + 3
        while time.monotonic() < end and fast.poll() is None:
            seen_above = max(seen_above, int(pg.sql('follow', 'SELECT count(*) FROM calls WHERE rev > %d'
                                                    % slow_rev)[0][0]))
            time.sleep(0.2)
        check(fast.poll() is None, 'the second probe was still writing while the slow batch was open')
        check(seen_above == 0, 'while the slow batch holds revision %d open, no higher revision is visible'
              ' (%d were; the second probe reported %d more commits)' % (slow_rev, seen_above,
                                                                         len(commits) - before))
        slow.stdin.write('COMMIT;\n')
        slow.stdin.close()
        slow.wait(timeout=30)
        fast.wait(timeout=120)
        drain.join(timeout=10)
        check(fast.returncode == 0, 'the second probe finishes, exit 0')
        want = set(['slow-call'] + [c['call_id'] for c in truth['calls']])
        poll(lambda: want <= set(ev.call_ids()))
        got = set(ev.call_ids())
        check(got == want, 'the follower got every new call: %d of %d, missing %s'
              % (len(got & want), len(want), sorted(want - got)[:5]))
        revs = [r for r, _ in ev.got]
        check(revs == sorted(revs) and len(revs) == len(set(revs)), 'in revision order, each once')
    finally:
        srv.stop()


def main(exe, what):
    check = Checks()
    try:
        server = pgserver.PgServer()
    except pgserver.Missing as e:
        return skip(str(e))
    t0 = time.monotonic()
    with server as pg, tempfile.TemporaryDirectory() as tmp:
        print('PostgreSQL up in %.2f s' % (time.monotonic() - t0))
        {'union': union, 'kill': kill, 'restart': restart, 'retention': retention, 'outage': outage,
         'follow': follow}[what](exe, check, pg, tmp)
    print('%s: %.1f s' % (what, time.monotonic() - t0))
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1], sys.argv[2]))
