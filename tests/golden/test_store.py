#!/usr/bin/env python3
"""The SQLite store (store/sqlite.c) end to end: `analyze --db` on the issue scenarios
keeps every record type and gives back exactly the objects the JSON document holds —
calls (streams, worst MOS and issues filled in), streams, their timelines, registrations,
issues — and every SIP message with its fields, its raw text and the frame that carried
it. The filter columns agree with the objects. The schema is versioned (PRAGMA
user_version), WAL is on, a database of a newer schema is refused, and a second analysis
into the same file is added with ids numbered after the first's. Beside those round trips,
the rows are checked against the generator's truth: a calls capture's states, statuses,
users, times, messages (frames, retransmissions) and streams (packets, loss), and the
issue scenarios' issue kinds and severities.

Usage: test_store.py PATH/TO/sipscope"""
import json
import os
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from sstest import Checks, analyze, generate  # noqa: E402

SCHEMA = 5

# Schema 1, as sipscope 0.x wrote it (store/sqlite.c, migration 0 -> 1): the test builds
# such a file by hand and checks that opening it migrates every row.
SCHEMA1 = '''
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE calls(seq INTEGER PRIMARY KEY, call_id TEXT, from_user TEXT, to_user TEXT,
  caller TEXT, callee TEXT, state TEXT NOT NULL, final_status INTEGER,
  invite_time REAL NOT NULL, end_time REAL, mos_min REAL, issue_kinds TEXT, json TEXT NOT NULL);
CREATE INDEX calls_time ON calls(invite_time);
CREATE TABLE streams(seq INTEGER PRIMARY KEY, call_seq INTEGER, src TEXT, dst TEXT,
  codec TEXT, first_time REAL, last_time REAL, mos REAL, json TEXT NOT NULL, timeline TEXT);
CREATE TABLE registrations(id INTEGER PRIMARY KEY, aor TEXT NOT NULL, contact TEXT,
  source TEXT, state TEXT, first_time REAL, last_time REAL, json TEXT NOT NULL);
CREATE TABLE issues(id INTEGER PRIMARY KEY, kind TEXT NOT NULL, severity TEXT NOT NULL,
  call_seq INTEGER, stream_seq INTEGER, registration TEXT, time REAL NOT NULL, json TEXT NOT NULL);
CREATE TABLE messages(id INTEGER PRIMARY KEY, call_seq INTEGER, frame INTEGER,
  time REAL NOT NULL, src TEXT, dst TEXT, transport TEXT, method TEXT, status INTEGER,
  call_id TEXT, cseq TEXT, retransmission INTEGER NOT NULL, raw BLOB NOT NULL,
  linktype INTEGER, frame_bytes BLOB);
CREATE INDEX messages_call ON messages(call_seq, time);
CREATE INDEX messages_call_id ON messages(call_id);
CREATE INDEX messages_time ON messages(time);
PRAGMA user_version = 1;
'''


def main(exe):
    check = Checks()
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, 'i.pcap')
        generate('issues', pcap, os.path.join(tmp, 'i.json'))
        dbf = os.path.join(tmp, 'out.db')
        j = analyze(exe, pcap, '--messages', '--timelines', '--db', dbf)
        db = sqlite3.connect(dbf)
        q = lambda sql: db.execute(sql).fetchall()
        check(q('PRAGMA user_version')[0][0] == SCHEMA, 'schema version %d' % SCHEMA)
        check(q('PRAGMA journal_mode')[0][0] == 'wal', 'WAL journal')
        check(q('PRAGMA integrity_check')[0][0] == 'ok', 'integrity_check ok')

        calls = [json.loads(r[0]) for r in q('SELECT json FROM calls ORDER BY seq')]
        check(calls == j['calls'], 'calls: %d stored, the document has %d, equal' % (len(calls), len(j['calls'])))
        for c in j['calls']:
            row = q("SELECT call_id, from_user, to_user, caller, callee, state, final_status, invite_time,"
                    " end_time, mos_min, issue_kinds FROM calls WHERE seq = %d" % int(c['id'][5:]))
            want = (c['call_id'], c['from']['user'], c['to']['user'], c['caller'], c['callee'], c['state'],
                    c['final_status'], c['invite_time'], c['end_time'], c['mos_min'],
                    ','.join(i['kind'] for i in c['issues']))
            check(row and row[0] == want, '%s: columns %s, object %s' % (c['id'], row and row[0], want))
        tl = {s['id']: s['timeline'] for s in j['streams']}
        streams = q('SELECT seq, call_seq, src, dst, json, timeline FROM streams ORDER BY seq')
        check([json.loads(r[4]) for r in streams] == j['streams'], 'streams equal (%d)' % len(streams))
        check(all(json.loads(r[5]) == tl['stream-%d' % r[0]] for r in streams), 'stream timelines equal')
        check(all((r[1] and 'call-%d' % r[1]) == s['call'] and r[2] == s['src'] and r[3] == s['dst']
                  for r, s in zip(streams, j['streams'])), 'stream columns')
        regs = [json.loads(r[0]) for r in q('SELECT json FROM registrations ORDER BY id')]
        key = lambda x: json.dumps(x, sort_keys=True)
        check(sorted(regs, key=key) == sorted(j['registrations'], key=key), 'registrations equal (%d)' % len(regs))
        iss = q('SELECT kind, severity, call_seq, stream_seq, registration, time, json FROM issues')
        check(sorted((json.loads(r[6]) for r in iss), key=key) == sorted(j['issues'], key=key),
              'issues equal (%d)' % len(iss))
        check(all(r[0] == json.loads(r[6])['kind'] and (r[2] and 'call-%d' % r[2]) == json.loads(r[6])['call']
                  for r in iss), 'issue columns')

        msgs = q('SELECT frame, time, src, dst, transport, method, status, call_id, cseq, call_seq,'
                 ' retransmission, t.raw, linktype, frame_bytes, m.raw FROM messages m'
                 ' JOIN message_text t USING(id) ORDER BY id')
        check(len(msgs) == len(j['messages']), '%d messages stored, %d in the document' % (len(msgs), len(j['messages'])))
        for r, m in zip(msgs, j['messages']):
            got = (r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9] and 'call-%d' % r[9], bool(r[10]))
            want = (m['frame'], m['time'], m['src'], m['dst'], m['transport'], m['method'], m['status'],
                    m['call_id'], m['cseq'], m['call'], m['retransmission'])
            if got != want:
                check(False, 'message %d: %s, document %s' % (m['frame'], got, want))
                break
        raw_ok = all(r[11].startswith((r[5] or 'SIP/2.0').encode()) and r[11] in r[13] and r[12] == 1
                     for r in msgs)
        check(raw_ok, 'raw SIP text stored, inside the Ethernet frame stored beside it')
        udp = [r for r in msgs if r[4] == 'udp']
        check(udp and all(r[14] is None for r in udp), 'UDP messages: the text is not stored twice (%d)' % len(udp))
        # what tshark sees in the same frames is the text we give back
        want_text = {}
        for line in subprocess.run(['tshark', '-r', pcap, '-Y', 'sip', '-T', 'fields', '-e', 'frame.number',
                                    '-e', 'sip.Call-ID'], capture_output=True, text=True, check=True).stdout.splitlines():
            f, _, cid = line.partition('\t')
            want_text[int(f)] = cid
        # (tshark's field stops at a NUL byte, which one scenario's Call-ID holds; we keep it)
        check(all(r[7] is None or r[7].split('\0')[0] in want_text.get(r[0], '').split(',') for r in msgs),
              'Call-ID column equals tshark sip.Call-ID of the same frame')
        legs = q('SELECT call_seq, call_id, from_tag, to_tag FROM legs ORDER BY call_seq, rowid')
        want_legs = [(int(c['id'][5:]), l['call_id'], l.get('from_tag'), l.get('to_tag'))
                     for c in j['calls'] for l in c['legs']]
        check(legs == want_legs, 'legs: %d stored, equal to the calls\' legs (%d)' % (len(legs), len(want_legs)))
        runs = q('SELECT started, ended, first_call_seq, last_call_seq, json FROM runs')
        check(len(runs) == 1 and runs[0][2] == 1 and runs[0][3] == len(j['calls']) and runs[0][1] >= runs[0][0]
              and json.loads(runs[0][4]) == {'capture': j['capture'], 'stats': j['stats']},
              'the run is recorded, with the capture and stats blocks of the document')

        # a second analysis into the same file is added: its calls and streams numbered
        # after the first's, its objects stored as its own document shows them
        n_calls, n_streams = len(j['calls']), len(j['streams'])
        j2 = analyze(exe, pcap, '--db', dbf)
        check(j2['calls'][0]['id'] == 'call-%d' % (n_calls + 1) and
              j2['streams'][0]['id'] == 'stream-%d' % (n_streams + 1), 'second analysis numbered after the first')
        calls2 = [json.loads(r[0]) for r in q('SELECT json FROM calls WHERE seq > %d ORDER BY seq' % n_calls)]
        check(calls2 == j2['calls'], 'second analysis: calls equal (%d)' % len(calls2))
        first = [json.loads(r[0]) for r in q('SELECT json FROM calls WHERE seq <= %d ORDER BY seq' % n_calls)]
        check(first == j['calls'], 'first analysis untouched')
        check(q('SELECT count(*) FROM streams')[0][0] == 2 * n_streams and
              q('SELECT count(*) FROM messages')[0][0] == 2 * len(j['messages']), 'streams and messages added')
        check(all(x['call'] is None or int(x['call'][5:]) > n_calls for x in j2['streams']), 'streams point at the new calls')
        db.close()
        newer = os.path.join(tmp, 'newer.db')
        n = sqlite3.connect(newer)
        n.execute('PRAGMA user_version = %d' % (SCHEMA + 1))
        n.commit()
        n.close()
        r = subprocess.run([exe, 'analyze', '--no-progress', '--db', newer, pcap], capture_output=True, text=True)
        check(r.returncode == 1 and 'newer' in r.stderr, 'newer schema refused: %s' % r.stderr.strip())
        # an empty file from before (schema 0) is migrated
        empty = os.path.join(tmp, 'empty.db')
        sqlite3.connect(empty).close()
        analyze(exe, pcap, '--db', empty)
        e = sqlite3.connect(empty)
        check(e.execute('PRAGMA user_version').fetchone()[0] == SCHEMA and
              e.execute('SELECT count(*) FROM calls').fetchone()[0] == len(j['calls']), 'empty database migrated and filled')
        e.close()

        # a schema 1 file (the previous version): every row is kept; raw text that lies
        # in its frame moves there, legs are filled from the stored calls
        old = os.path.join(tmp, 'schema1.db')
        o = sqlite3.connect(old)
        o.executescript(SCHEMA1)
        for c in j['calls']:
            o.execute('INSERT INTO calls(seq, call_id, state, invite_time, json) VALUES(?,?,?,?,?)',
                      (int(c['id'][5:]), c['call_id'], c['state'], c['invite_time'], json.dumps(c)))
        for r in msgs:
            o.execute('INSERT INTO messages(call_seq, frame, time, retransmission, raw, linktype, frame_bytes)'
                      ' VALUES(?,?,?,0,?,?,?)', (r[9], r[0], r[1], r[11], r[12], r[13]))
        o.execute("INSERT INTO messages(call_seq, frame, time, retransmission, raw) VALUES(NULL, 0, 0, 0, x'41')")
        o.commit()
        o.close()
        r = subprocess.run([exe, 'export', '--db', old, '--call', 'call-1', '-o', os.path.join(tmp, 'o.pcap')],
                           capture_output=True, text=True)
        check(r.returncode == 0, 'schema 1 file opened (and migrated) by export: %s' % r.stderr.strip())
        o = sqlite3.connect(old)
        check(o.execute('PRAGMA user_version').fetchone()[0] == SCHEMA, 'schema 1 migrated to %d' % SCHEMA)
        got = o.execute('SELECT t.raw, m.raw IS NULL FROM messages m JOIN message_text t USING(id) ORDER BY id').fetchall()
        check([g[0] for g in got] == [r[11] for r in msgs] + [b'A'],
              'schema 1 migrated: all %d messages give back the same text' % len(got))
        check(sum(g[1] for g in got) == len(msgs), 'schema 1 migrated: text inside the frame is kept once')
        mlegs = o.execute('SELECT call_seq, call_id, from_tag, to_tag FROM legs ORDER BY call_seq, rowid').fetchall()
        check(mlegs == want_legs, 'schema 1 migrated: legs filled from the stored calls (%d)' % len(mlegs))
        # the trend columns, filled from the stored objects (docs/output.md's members)
        cols = o.execute('SELECT seq, answer_time, pdd_ms FROM calls ORDER BY seq').fetchall()
        want = sorted((int(c['id'][5:]), c.get('answer_time'), c.get('pdd_ms')) for c in j['calls'])
        check(cols == want and any(c[1] is not None for c in cols) and any(c[2] is not None for c in cols),
              'schema 1 migrated: answer time and PDD columns as the objects say')
        doms = o.execute('SELECT to_domain FROM calls ORDER BY seq').fetchall()
        check([d[0] for d in doms] == [c['to']['uri'].split('@', 1)[1].lower() if '@' in (c['to'].get('uri') or '')
                                       else None for c in sorted(j['calls'], key=lambda c: int(c['id'][5:]))],
              'schema 1 migrated: the To URI\'s host as the objects say')
        check(o.execute('PRAGMA integrity_check').fetchone()[0] == 'ok', 'schema 1 migrated: integrity ok')
        o.close()

        # without raw SIP: fields stay, text and frames go
        bare = os.path.join(tmp, 'noraw.db')
        analyze(exe, pcap, '--db', bare, '--db-no-raw')
        b = sqlite3.connect(bare)
        check(b.execute('SELECT count(*), count(raw), count(frame_bytes), count(raw_len) FROM messages').fetchone()
              == (len(msgs), 0, 0, len(msgs)), '--db-no-raw: messages without text or frames')
        b.close()
        truth_checks(check, exe, tmp)
    return check.done()


def truth_checks(check, exe, tmp):
    """The store against the generator's truth (issue 22: everything above compares with
    the analysis's own document): a calls capture's rows hold each call's state, final
    status, users and times, each message at the truth's frame with its Call-ID and
    retransmission flag, each stream the packets written, and the issue scenarios' rows
    the issue kinds and severities their truth raises."""
    pcap, dbf = os.path.join(tmp, 'c.pcap'), os.path.join(tmp, 'c.db')
    truth = generate('calls', pcap, os.path.join(tmp, 'c.json'), '--calls', '12', '--duration', '3',
                     '--concurrency', '4', '--seed', '31', '--loss', '0.03',
                     '--outcomes', 'answered,busy,answered-retrans,cancelled')
    subprocess.run([exe, 'analyze', '--no-progress', '--db', dbf, pcap], check=True, capture_output=True)
    db = sqlite3.connect(dbf)
    us = lambda t: None if t is None else round(t * 1e6)
    ns_us = lambda t: None if t is None else round(t / 1000)
    rows = {r[0]: r[1:] for r in db.execute('SELECT call_id, seq, state, final_status, from_user, to_user, caller,'
                                              ' callee, invite_time, end_time FROM calls')}
    check(len(rows) == len(truth['calls']), 'truth: %d calls stored, %d written' % (len(rows), len(truth['calls'])))
    for t in truth['calls']:
        r = rows.get(t['call_id'])
        got = r and (r[1], r[2], r[3], r[4], r[5], r[6], us(r[7]), us(r[8]))
        want = (t['state'], t['final_status'], t['from_user'], t['to_user'], t['caller'], t['callee'],
                ns_us(t['invite_ns']), ns_us(t['end_ns']))
        check(got == want, 'truth: %s columns %s, truth %s' % (t['call_id'], got, want))
        if not r:
            continue
        got = sorted(db.execute('SELECT frame, call_id, retransmission FROM messages WHERE call_seq = ?', (r[0],)))
        want = sorted((m['frame'], t['call_id'], int(m['retransmission'])) for m in t['messages'])
        check(got == want, 'truth: %s messages at the truth\'s frames, Call-IDs and retransmissions (%d, truth %d)'
              % (t['call_id'], len(got), len(want)))
        got = sorted((src, dst, json.loads(js)['packets'], json.loads(js)['lost']) for src, dst, js in
                     db.execute('SELECT src, dst, json FROM streams WHERE call_seq = ?', (r[0],)))
        want = sorted((x['src'], x['dst'], x['packets'], x['expected'] - x['packets']) for x in t['streams'])
        check(got == want, 'truth: %s streams %s, truth %s' % (t['call_id'], got, want))
    db.close()
    # the issue scenarios: each call's stored issue kinds and severities are its truth's
    pcap, dbf = os.path.join(tmp, 'i2.pcap'), os.path.join(tmp, 'i2.db')
    truth = generate('issues', pcap, os.path.join(tmp, 'i2.json'))
    subprocess.run([exe, 'analyze', '--no-progress', '--db', dbf, pcap], check=True, capture_output=True)
    db = sqlite3.connect(dbf)
    seq = dict(db.execute('SELECT call_id, seq FROM calls'))
    for t in (t for t in truth['scenarios'] if 'call_id' in t):
        got = sorted(db.execute('SELECT kind, severity FROM issues WHERE call_seq = ?', (seq.get(t['call_id']),)))
        want = sorted(tuple(x) for x in t['issues'])
        check(got == want, 'truth: %s issues stored %s, truth %s' % (t['name'], got, want))
    db.close()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
