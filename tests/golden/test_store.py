#!/usr/bin/env python3
"""The SQLite store (store/sqlite.c) end to end: `analyze --db` on the issue scenarios
keeps every record type and gives back exactly the objects the JSON document holds —
calls (streams, worst MOS and issues filled in), streams, their timelines, registrations,
issues — and every SIP message with its fields, its raw text and the frame that carried
it. The filter columns agree with the objects. The schema is versioned (PRAGMA
user_version), WAL is on, a database of a newer schema is refused, and a second analysis
into the same file is added with ids numbered after the first's.

Usage: test_store.py PATH/TO/sipscope"""
import json
import os
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from sstest import Checks, analyze, generate  # noqa: E402

SCHEMA = 1


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
                 ' retransmission, raw, linktype, frame_bytes FROM messages ORDER BY id')
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
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
