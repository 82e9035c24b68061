#!/usr/bin/env python3
"""A capture as a service (issue 9): --user gives up root once the interface is open (the
process's uids become the user's, it still captures, and its database is handed over);
--log-file takes the logs and SIGHUP reopens it after logrotate has moved it; --syslog
runs. Skipped (77) without root or without the user nobody.

Usage: test_service.py PATH/TO/sipscope"""
import json
import os
import pwd
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from sstest import Checks, skip  # noqa: E402

PORT = 5041
OPTIONS = (b'OPTIONS sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5040;branch=z9hG4bK%d\r\n'
           b'From: <sip:b@x>;tag=1\r\nTo: <sip:a@x>\r\nCall-ID: svc-%d\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n')


def send(n):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for i in range(n):
            s.sendto(OPTIONS % (i, i), ('127.0.0.1', PORT))


def uids(pid):
    for line in open('/proc/%d/status' % pid):
        if line.startswith('Uid:'):
            return [int(x) for x in line.split()[1:]]
    return []


def main(exe):
    if os.geteuid() != 0:
        return skip('needs root')
    try:
        nobody = pwd.getpwnam('nobody')
    except KeyError:
        return skip('no user nobody')
    check = Checks()
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o777)  # the database's directory: its -wal and -shm come and go
        log, db, out = os.path.join(tmp, 'sipscope.log'), os.path.join(tmp, 'svc.db'), os.path.join(tmp, 'o.json')
        p = subprocess.Popen([exe, 'capture', '-i', 'lo', '-f', 'udp port %d' % PORT, '--user', 'nobody',
                              '--log-file', log, '-v', '--json', '--db', db], stdout=open(out, 'w'),
                             stderr=subprocess.PIPE, text=True)
        line = p.stderr.readline()
        check('capturing' in line, 'capture starts: %s' % line.strip())
        time.sleep(0.3)
        check(uids(p.pid) == [nobody.pw_uid] * 4, 'runs as nobody once capturing: uids %s' % uids(p.pid))
        send(3)
        time.sleep(0.5)
        os.rename(log, log + '.1')  # what logrotate does
        p.send_signal(signal.SIGHUP)
        send(2)
        time.sleep(0.5)
        p.send_signal(signal.SIGINT)
        rc = p.wait(timeout=60)
        p.stderr.close()
        doc = json.load(open(out))
        check(rc == 0 and doc['capture']['sip_messages'] == 5, 'still captures as nobody: %d SIP messages'
              % doc['capture']['sip_messages'])
        check(os.stat(db).st_uid == nobody.pw_uid, 'the database was handed to nobody')
        d = sqlite3.connect(db)
        check(d.execute('SELECT count(*) FROM messages').fetchone()[0] == 5 and
              d.execute('PRAGMA integrity_check').fetchone()[0] == 'ok', 'and written by it: 5 messages')
        d.close()
        old, new = open(log + '.1').read(), open(log).read() if os.path.exists(log) else ''
        check('running as nobody' in old, 'the log file has the start: %s' % old.strip()[:120])
        check('capture stopped: ' in new and 'running as' not in new,
              'SIGHUP reopened it: the new file has what came after (%s)' % new.strip()[:120])
        # SIGINT once it says it captures (not after a fixed second: a loaded host may not
        # be there yet, and the signal would then end it with status 130)
        p = subprocess.Popen([exe, 'capture', '-i', 'lo', '-f', 'udp port %d' % PORT, '--syslog', '-v'],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        said = ''
        deadline = time.monotonic() + 60
        while 'capturing' not in said and time.monotonic() < deadline:
            line = p.stderr.readline()
            if not line:
                break
            said += line
        p.send_signal(signal.SIGINT)
        rc = p.wait(timeout=30)
        p.stderr.close()
        check('capturing' in said and rc == 0, '--syslog runs (exit %d, said %r)' % (rc, said.strip()[-160:]))
        r = subprocess.run([exe, 'capture', '-i', 'lo', '--user', 'no-such-user-here'], capture_output=True, text=True,
                           timeout=30)
        check(r.returncode == 1 and 'no such user' in r.stderr, 'an unknown user stops it before capturing: %s'
              % r.stderr.strip()[-120:])
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
