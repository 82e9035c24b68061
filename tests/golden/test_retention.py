#!/usr/bin/env python3
"""Retention of the store (issue 7): only what should go goes.

By age: 60 calls start a minute apart (generator truth gives each INVITE's time). With
--retention-days 0.02 (28.8 minutes of packet time back from the newest call), exactly the
calls whose INVITE is at most that old stay; everything of the others (messages, streams,
legs, issues) is gone, and everything of the kept ones is still there, row for row, as
in a database filled without retention. The final update of every call at the end of
the input does not bring back a removed one. With --spool-rtp --spool-days 0.01, the
spooled media of calls whose media began more than 14.4 minutes before the newest call
goes, and the calls stay.

By size: 20,000 calls 5 ms apart with --max-db-mb 4: the data ends under 4 MB, the calls
kept are exactly the newest ones, each still whole.

Usage: test_retention.py PATH/TO/sipscope"""
import os
import sqlite3
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from sstest import Checks, analyze, generate  # noqa: E402

TABLES = ('messages', 'streams', 'issues', 'legs')


def per_call(db, seqs):
    """{table: sorted rows (without their own ids) of calls in seqs}, and the calls' objects."""
    out = {}
    cols = {'messages': 'call_seq, frame, time, src, dst, method, status, call_id, raw_len, frame_bytes',
            'streams': 'call_seq, seq, src, dst, json', 'issues': 'call_seq, kind, json',
            'legs': 'call_seq, call_id, from_tag, to_tag'}
    for t in TABLES:
        rows = db.execute('SELECT %s FROM %s WHERE call_seq IS NOT NULL' % (cols[t], t)).fetchall()
        out[t] = sorted((r for r in rows if r[0] in seqs), key=repr)
    out['calls'] = sorted(db.execute('SELECT seq, json FROM calls').fetchall())
    out['calls'] = [r for r in out['calls'] if r[0] in seqs]
    return out


def main(exe):
    check = Checks()
    with tempfile.TemporaryDirectory() as tmp:
        # ---- by age ----
        pcap = os.path.join(tmp, 'age.pcap')
        truth = generate('calls', pcap, os.path.join(tmp, 'age.json'), '--calls', '60', '--duration', '2',
                         '--gap-ms', '60000', '--seed', '3', '--outcomes', 'answered,busy,cancelled,answered')
        full_f, kept_f = os.path.join(tmp, 'full.db'), os.path.join(tmp, 'kept.db')
        analyze(exe, pcap, '--db', full_f)
        j = analyze(exe, pcap, '--db', kept_f, '--retention-days', '0.02')
        full, kept = sqlite3.connect(full_f), sqlite3.connect(kept_f)
        newest = max(c['invite_ns'] for c in truth['calls'])
        window = int(0.02 * 86400 * 1e9)
        # the calls are numbered in the order of their INVITEs, as in the truth
        want = {i + 1 for i, c in enumerate(truth['calls']) if c['invite_ns'] >= newest - window}
        have = {r[0] for r in kept.execute('SELECT seq FROM calls')}
        check(len(want) == 29 and have == want, 'by age: calls kept %s, expected the %d newest (%d-%d)'
              % (sorted(have)[:3], len(want), min(want), max(want)))
        # by the truth's own names too (issue 22): the kept rows are the Call-IDs whose
        # INVITE is inside the window, with the truth's state, whatever the numbering
        cids = {c['call_id']: c['state'] for c in truth['calls'] if c['invite_ns'] >= newest - window}
        rows = dict(kept.execute('SELECT call_id, state FROM calls'))
        check(rows == cids, 'by age: the %d Call-IDs kept are the truth\'s inside the window, with its states (%d)'
              % (len(rows), len(cids)))
        check(len(j['calls']) == 60, 'by age: the analysis itself still reports every call')
        a, b = per_call(full, want), per_call(kept, want)
        for t in TABLES + ('calls',):
            check(a[t] == b[t] and (a[t] or t == 'issues'), 'by age: %s of the kept calls all there (%d rows)'
                  % (t, len(b[t])))
        gone = set(range(1, 61)) - want
        for t in TABLES:
            n = kept.execute('SELECT count(*) FROM %s WHERE call_seq IN (%s)' % (t, ','.join(map(str, gone)))).fetchone()[0]
            check(n == 0, 'by age: no %s of the removed calls left (%d)' % (t, n))
        check(kept.execute('SELECT count(*) FROM streams').fetchone()[0] ==
              full.execute('SELECT count(*) FROM streams WHERE call_seq IN (%s)' % ','.join(map(str, want))).fetchone()[0],
              'by age: no stream left without its call')
        check(kept.execute('PRAGMA integrity_check').fetchone()[0] == 'ok', 'by age: integrity ok')
        full.close()
        kept.close()

        # ---- spooled media, by its own age: calls stay, their media older than the
        # window goes ----
        media_f = os.path.join(tmp, 'media.db')
        analyze(exe, pcap, '--db', media_f, '--spool-rtp', '--spool-days', '0.01')
        m = sqlite3.connect(media_f)
        mwin = int(0.01 * 86400 * 1e9)
        with_media = {i + 1 for i, c in enumerate(truth['calls']) if c['streams'] and
                      min(st['first_ns'] for st in c['streams']) >= newest - mwin}
        spooled = {r[0] for r in m.execute('SELECT DISTINCT call_seq FROM media')}
        check(with_media and spooled == with_media, 'media: spooled media kept for calls %s, expected %s'
              % (sorted(spooled), sorted(with_media)))
        check(m.execute('SELECT count(*) FROM calls').fetchone()[0] == 60, 'media: every call kept')
        m.close()

        # ---- by size ----
        pcap = os.path.join(tmp, 'size.pcap')
        size_truth = generate('calls', pcap, os.path.join(tmp, 'size.json'), '--calls', '20000', '--duration', '0',
                 '--gap-ms', '5', '--seed', '7', '--outcomes', 'answered,busy,cancelled')
        small_f = os.path.join(tmp, 'small.db')
        analyze(exe, pcap, '--db', small_f, '--max-db-mb', '4')
        db = sqlite3.connect(small_f)
        pages, free, size = (db.execute('PRAGMA %s' % p).fetchone()[0]
                             for p in ('page_count', 'freelist_count', 'page_size'))
        used = (pages - free) * size
        check(used <= 4 << 20, 'by size: %.2f MB of data under the 4 MB limit' % (used / 1048576))
        seqs = [r[0] for r in db.execute('SELECT seq FROM calls ORDER BY seq')]
        check(len(seqs) > 100 and seqs == list(range(20001 - len(seqs), 20001)),
              'by size: the %d newest calls kept, no gap' % len(seqs))
        # and by the truth's Call-IDs: the newest INVITEs the generator wrote
        newest_ids = {c['call_id'] for c in sorted(size_truth['calls'], key=lambda c: c['invite_ns'])[-len(seqs):]}
        kept_ids = {r[0] for r in db.execute('SELECT call_id FROM calls')}
        check(kept_ids == newest_ids, 'by size: the Call-IDs kept are the truth\'s %d newest (%d differ)'
              % (len(newest_ids), len(kept_ids ^ newest_ids)))
        whole = db.execute('SELECT count(*) FROM calls c WHERE (SELECT count(*) FROM messages m'
                           ' WHERE m.call_seq = c.seq) < 3').fetchone()[0]
        check(whole == 0, 'by size: every kept call has its messages')
        older = db.execute('SELECT count(*) FROM messages WHERE call_seq < ?', (seqs[0],)).fetchone()[0]
        check(older == 0, 'by size: no message of a removed call left (%d)' % older)
        check(db.execute('PRAGMA integrity_check').fetchone()[0] == 'ok', 'by size: integrity ok')
        db.close()
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
