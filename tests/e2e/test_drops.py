#!/usr/bin/env python3
"""Drops are counted honestly (issue 9). In a network namespace the test makes (a veth
pair, nothing outside it), tcpreplay sends generated SIP captures into one end while
`sipscope capture` follows the other:

- at a rate the analysis keeps up with, every packet is analysed and none is dropped;
- with a small ring and kernel buffer and the capture replayed as fast as tcpreplay can,
  the analysis may fall behind: no crash, every packet sent is either analysed or counted
  dropped, exactly, and what was not dropped is analysed (every packet is SIP). A host fast
  enough to drop nothing passes too (issue 22): the test checks the accounting, not the
  host's speed.
The capture is stopped once its /metrics (in the namespace) account for every packet
sent, not after a fixed sleep.
Skipped (77) without root, ip (iproute2) or tcpreplay.

Usage: test_drops.py PATH/TO/sipscope"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from sstest import Checks, generate, poll, skip  # noqa: E402

FILTER = 'udp port 5060'  # the SIP the generator writes, nothing the namespace says itself


def netns(name, *cmd, **kw):
    return subprocess.run(['ip', 'netns', 'exec', name, *cmd], **kw)


def capture(exe, ns, tmp, *args):
    """capture on v1 with its API on the namespace's loopback: (process, output, its
    "capturing" line, the API's port)."""
    out = open(os.path.join(tmp, 'cap.json'), 'w')
    db = os.path.join(tmp, 'cap%d.db' % len(os.listdir(tmp)))
    p = subprocess.Popen(['ip', 'netns', 'exec', ns, exe, 'capture', '-i', 'v1', '-f', FILTER, '--json',
                          '--db', db, '--serve', '127.0.0.1:0', *args],
                         stdout=out, stderr=subprocess.PIPE, text=True)
    port, line = None, ''
    for _ in range(5):  # "serving http on port N", then "capturing on ..." once v1 is open
        line = p.stderr.readline()
        m = re.search(r'serving http on port (\d+)', line)
        port = int(m.group(1)) if m else port
        if 'capturing' in line or not line:
            break
    return p, out, line, port


# /metrics of the capture, asked from inside the namespace (its loopback is its own)
ASK = ('import re, urllib.request as u; t = u.urlopen("http://127.0.0.1:%d/metrics", timeout=10).read().decode(); '
       'print(sum(float(v) for v in re.findall(r"^sipscope_(?:packets_total|dropped_packets_total\\{[^}]*\\}) (\\S+)$", '
       't, re.M)))')


def accounted(ns, port):
    """Packets the running capture has read or counted dropped, by its /metrics."""
    r = netns(ns, sys.executable, '-c', ASK % port, capture_output=True, text=True)
    return int(float(r.stdout)) if r.returncode == 0 and r.stdout.strip() else -1


def stop(p, out, tmp, ns, port, sent):
    # the last block out of the kernel (its timeout is 50 ms) and the ring: waited for by
    # the capture's own count, published once a second, with a deadline that only bounds
    # a hang (issue 22: a fixed 1.5 s was a guess about the host)
    n = poll(lambda: accounted(ns, port) >= sent, deadline=90, every=0.5)
    if not n:
        print('after 90 s the capture accounts for %d of %d packets sent' % (accounted(ns, port), sent))
    p.send_signal(signal.SIGINT)
    rc = p.wait(timeout=120)
    err = p.stderr.read()
    p.stderr.close()
    out.close()
    doc = json.load(open(os.path.join(tmp, 'cap.json')))
    return rc, doc, err


def replay(ns, pcap, *rate):
    r = netns(ns, 'tcpreplay', '-i', 'v0', *rate, pcap, capture_output=True, text=True)
    sent = [l for l in r.stdout.splitlines() if 'Successful packets' in l]
    rated = [l for l in r.stdout.splitlines() if l.strip().startswith('Rated')]
    return (int(sent[0].split()[-1]) if sent else -1), (rated[0].strip() if rated else '')


def main(exe):
    if os.geteuid() != 0 or not shutil.which('ip') or not shutil.which('tcpreplay'):
        return skip('needs root, ip and tcpreplay')
    check = Checks()
    ns = 'ssdrop%d' % os.getpid()
    subprocess.run(['ip', 'netns', 'add', ns], check=True)
    try:
        netns(ns, 'ip', 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1', check=True)
        for dev in ('v0', 'v1', 'lo'):
            netns(ns, 'ip', 'link', 'set', dev, 'up', check=True)
        with tempfile.TemporaryDirectory() as tmp:
            small, big = os.path.join(tmp, 'small.pcap'), os.path.join(tmp, 'big.pcap')
            generate('calls', small, os.path.join(tmp, 's.json'), '--calls', '2000', '--duration', '0',
                     '--concurrency', '200', '--seed', '3', '--outcomes', 'answered,busy,cancelled')
            generate('calls', big, os.path.join(tmp, 'b.json'), '--calls', '20000', '--duration', '0',
                     '--concurrency', '2000', '--seed', '5', '--outcomes', 'answered,busy,cancelled')

            # a rate it keeps up with
            p, out, line, port = capture(exe, ns, tmp)
            check('capturing' in line and port, 'capture starts on the veth: %s' % line.strip())
            sent, rated = replay(ns, small, '--pps=20000')
            rc, doc, err = stop(p, out, tmp, ns, port, sent)
            cap = doc['capture']
            print('20,000 packets/s: sent %d, analysed %d, dropped %s (%s)' % (sent, cap['packets'], cap['dropped'], rated))
            check(rc == 0 and sent > 10000 and cap['packets'] == sent and cap['dropped'] == 0,
                  'at 20,000 packets/s: all %d analysed, none dropped' % sent)
            check(cap['sip_messages'] == sent and len(doc['calls']) == 2000, 'and every call is there')

            # faster than it can follow, with little room to wait in
            p, out, line, port = capture(exe, ns, tmp, '--ring-mb', '1', '--buffer-mb', '1')
            check('capturing' in line and port, 'the small-ring capture starts: %s' % line.strip())
            sent, rated = replay(ns, big, '--topspeed')
            rc, doc, err = stop(p, out, tmp, ns, port, sent)
            cap = doc['capture']
            print('top speed: sent %d, analysed %d, dropped %s (%s)' % (sent, cap['packets'], cap['dropped'], rated))
            check(rc == 0, 'no crash under overload (exit %d)' % rc)
            # whichever happens (issue 22: a faster host drops nothing): what was dropped
            # is counted, what was not is analysed
            check(sent > 100000 and cap['packets'] + cap['dropped'] == sent,
                  'every packet sent is analysed or counted dropped: %d + %d = %d' % (cap['packets'], cap['dropped'], sent))
            check(cap['sip_messages'] == cap['packets'],
                  'every packet not dropped is analysed: %d SIP messages of %d packets read'
                  % (cap['sip_messages'], cap['packets']))
            logged = re.search(r'capture: (\d+) packets dropped by the kernel, (\d+) by our ring', err)
            if cap['dropped']:
                check(logged and int(logged.group(1)) + int(logged.group(2)) == cap['dropped'],
                      '%d drops, and logged: %s' % (cap['dropped'], err.strip()[-200:]))
            else:
                check(len(doc['calls']) == 20000 and not logged,
                      'nothing dropped: all 20000 calls there, no drop logged (%d)' % len(doc['calls']))
    finally:
        subprocess.run(['ip', 'netns', 'delete', ns])
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
