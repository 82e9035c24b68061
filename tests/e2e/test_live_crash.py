#!/usr/bin/env python3
"""Crash safety of a live capture (issue 11): `sipscope capture --hep-listen --db` is fed
SIP as HEPv3 over loopback at a steady pace and killed with SIGKILL while it writes. The
database must then pass PRAGMA integrity_check and hold every call the writer reported
committed before the kill (at -vv it logs, after each commit, how many calls it has
committed and the last one), each with its messages. Then the service starts again on the
same file, takes new calls, numbers them after the survivors, writes their rows whole
(streams and issues filled in) while it runs, stops cleanly on SIGTERM, and the file is
still sound.

Usage: test_live_crash.py PATH/TO/sipscope"""
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, os.path.join(HERE, '..', 'gen'))
from sstest import Checks, check_after_kill, free_port, generate, poll  # noqa: E402
from decode_cases import hep3  # noqa: E402
from test_hep import sip_datagrams  # noqa: E402

COMMITTED = re.compile(r'database: committed (\d+) calls \(last call-(\d+)\)')
KILL_AFTER = 3      # commit lines that report calls, seen before the kill
RATE = 4000         # HEP datagrams per second


def start(exe, dbf, *args, stdout=subprocess.DEVNULL):
    """capture --hep-listen --db on a free port, started: (process, port)."""
    for _ in range(5):
        port = free_port()
        p = subprocess.Popen([exe, 'capture', '-vv', '--hep-listen', '127.0.0.1:%d' % port, '--db', dbf, *args],
                             stdout=stdout, stderr=subprocess.PIPE, text=True)
        for line in p.stderr:
            if 'capturing HEP' in line or 'sipscope capture:' in line:
                break
        if 'capturing HEP' in line:
            return p, port
        p.wait(timeout=30)
    raise SystemExit('capture --hep-listen did not start: ' + line)


def send(port, datagrams, stop):
    """Sends the datagrams as HEPv3 at RATE per second, until done or stop is set."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        t0 = time.monotonic()
        for i, (t, src, sport, dst, dport, payload) in enumerate(datagrams):
            if stop.is_set():
                return
            ahead = i / RATE - (time.monotonic() - t0)
            if ahead > 0:
                time.sleep(ahead)
            s.sendto(hep3(payload, src, sport, dst, dport, t), ('127.0.0.1', port))


def main(exe):
    check = Checks()
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, 'calls.pcap')
        truth = generate('calls', pcap, os.path.join(tmp, 't.json'), '--calls', '3000', '--duration', '0',
                         '--gap-ms', '20', '--seed', '11', '--outcomes', 'answered,busy,cancelled')
        dbf = os.path.join(tmp, 'live.db')

        p, port = start(exe, dbf)
        stop = threading.Event()
        sender = threading.Thread(target=send, args=(port, sip_datagrams(pcap), stop))
        sender.start()
        n = last = seen = 0
        for line in p.stderr:
            m = COMMITTED.search(line)
            if m:
                n, last = int(m.group(1)), int(m.group(2))
                seen += n > 0
                if seen == KILL_AFTER:
                    p.send_signal(signal.SIGKILL)
                    break
        rc = p.wait(timeout=60)
        p.stderr.close()
        stop.set()
        sender.join()
        check(rc == -signal.SIGKILL, 'the live capture was killed with SIGKILL while writing (%s)' % rc)
        check(0 < n < len(truth['calls']), 'killed mid-stream: %d of %d calls reported committed'
              % (n, len(truth['calls'])))
        top = check_after_kill(check, dbf, n, last)

        # the service again, on the same file: new calls after the survivors, their rows
        # whole (streams and issues filled in) while it runs, a clean stop. 40 calls 10 s
        # apart: the first ones are handed on 32 s after they end and, this feed holding no
        # RTP, judged ISSUE_STREAM_KEEP (300 s) later, long before the last message
        small = os.path.join(tmp, 'small.pcap')
        more = generate('calls', small, os.path.join(tmp, 's.json'), '--calls', '40', '--duration', '0',
                        '--gap-ms', '10000', '--seed', '12', '--outcomes', 'busy,cancelled')
        report = open(os.path.join(tmp, 'report.json'), 'w')
        p, port = start(exe, dbf, '--json', '--report-max', '10', stdout=report)
        drain = threading.Thread(target=lambda: [None for _ in p.stderr])
        drain.start()
        send(port, sip_datagrams(small), threading.Event())
        last = max(c['end_ns'] for c in more['calls']) / 1e9
        early = {c['call_id'] for c in more['calls'] if c['end_ns'] / 1e9 < last - 32 - 300 - 10 - 5}

        def whole():
            db = sqlite3.connect(dbf)
            rows = db.execute('SELECT call_id, json FROM calls WHERE seq > ?', (top,)).fetchall()
            db.close()
            return {cid for cid, js in rows if '"issues":[' in js and '"streams":[' in js}
        # waited for in the database itself, not a fixed 3 s (issue 22); 60 s bounds a hang
        poll(lambda: early <= whole(), deadline=60, every=0.2)
        got = whole()
        check(early and early <= got, 'while capturing, %d of the %d calls that ended over 347 s before '
              'the last message have whole rows' % (len(early & got), len(early)))
        p.send_signal(signal.SIGTERM)
        rc = p.wait(timeout=60)
        drain.join()
        check(rc == 0, 'restarted, it stops on SIGTERM with status 0 (%s)' % rc)
        db = sqlite3.connect(dbf)
        check(db.execute('PRAGMA integrity_check').fetchone()[0] == 'ok', 'integrity_check ok after the restart')
        rows = dict(db.execute('SELECT call_id, seq FROM calls WHERE seq > ?', (top,)).fetchall())
        want = [c['call_id'] for c in more['calls']]
        check(sorted(rows) == sorted(want), 'the new calls are stored after call-%d: %d of %d'
              % (top, len(rows), len(want)))
        db.close()
        # its report at the end keeps the newest 10 (--report-max), the database all 40
        report.close()
        j = json.load(open(report.name))
        newest = sorted(rows.values())[-len(j['calls']):]
        check(len(j['calls']) == 10 and [int(c['id'][5:]) for c in j['calls']] == newest and
              j['capture']['evicted'].get('report_calls') == 30,
              'the report keeps the newest 10 calls, 30 counted in evicted.report_calls (%s)'
              % j['capture']['evicted'])
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
