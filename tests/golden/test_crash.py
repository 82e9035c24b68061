#!/usr/bin/env python3
"""Crash safety of the store (issue 7): `analyze --db` is killed with SIGKILL while it
writes a large capture. The database must then pass PRAGMA integrity_check, and hold
every call the writer reported committed before the kill (at -vv it logs, after each
commit, how many calls it has committed and the last one). Calls start 5 ms apart over
100 s of packet time, so that they end (32 s after their last message) while the file
is still being read. A killed process leaves a WAL
file behind; reopening recovers it, and sipscope itself must then open the file again,
add a new analysis after the calls that survived, and export one of them.

Usage: test_crash.py PATH/TO/sipscope"""
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from sstest import Checks, check_after_kill, generate  # noqa: E402

COMMITTED = re.compile(r'database: committed (\d+) calls \(last call-(\d+)\)')
KILL_AFTER = 4  # commit lines that report calls, seen before the kill


def run_and_kill(exe, pcap, dbf):
    """Starts analyze, reads its commit lines, kills it after KILL_AFTER of them; returns
    (calls committed, last call seq, whether it was killed before finishing)."""
    p = subprocess.Popen([exe, 'analyze', '-vv', '--no-progress', '--json', '--db', dbf, pcap],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    n = last = seen = 0
    for line in p.stderr:
        m = COMMITTED.search(line)
        if not m:
            continue
        n, last = int(m.group(1)), int(m.group(2))
        seen += n > 0
        if seen == KILL_AFTER:
            p.send_signal(signal.SIGKILL)
            break
    p.stderr.close()
    rc = p.wait()
    return n, last, rc == -signal.SIGKILL


def main(exe):
    check = Checks()
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, 'big.pcap')
        truth = generate('calls', pcap, os.path.join(tmp, 't.json'), '--calls', '20000', '--duration', '0',
                         '--gap-ms', '5', '--seed', '7', '--outcomes', 'answered,busy,cancelled')
        dbf = os.path.join(tmp, 'crash.db')
        n, last, killed = run_and_kill(exe, pcap, dbf)
        check(killed, 'analyze killed with SIGKILL after %d commit reports' % KILL_AFTER)
        check(0 < n < len(truth['calls']), 'killed mid-capture: %d of %d calls reported committed'
              % (n, len(truth['calls'])))
        check(os.path.exists(dbf + '-wal'), 'the kill left a WAL file behind')
        top = check_after_kill(check, dbf, n, last)

        # sipscope opens it again: a new analysis goes after what survived, and a
        # surviving call exports
        small = os.path.join(tmp, 'small.pcap')
        generate('calls', small, os.path.join(tmp, 's.json'), '--calls', '3', '--duration', '0')
        r = subprocess.run([exe, 'analyze', '--no-progress', '--json', '--db', dbf, small],
                           capture_output=True, text=True)
        check(r.returncode == 0 and '"call-%d"' % (top + 1) in r.stdout,
              'reopened by sipscope: the next analysis numbered from call-%d (%s)' % (top + 1, r.stderr.strip()))
        out = os.path.join(tmp, 'last.pcap')
        r = subprocess.run([exe, 'export', '--db', dbf, '--call', 'call-%d' % last, '-o', out],
                           capture_output=True, text=True)
        check(r.returncode == 0 and os.path.getsize(out) > 24, 'call-%d exports after the crash' % last)
        db = sqlite3.connect(dbf)
        check(db.execute('PRAGMA integrity_check').fetchone()[0] == 'ok', 'integrity_check ok after reuse')
        db.close()
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
