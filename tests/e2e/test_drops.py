#!/usr/bin/env python3
"""Drops are counted honestly (issue 9). In a network namespace the test makes (a veth
pair, nothing outside it), tcpreplay sends generated SIP captures into one end while
`sipscope capture` follows the other:

- at a rate the analysis keeps up with, every packet is analysed and none is dropped;
- with a small ring and kernel buffer and the capture replayed as fast as tcpreplay can,
  the analysis falls behind: drops are counted (capture.dropped, /metrics), no crash,
  and every packet sent is either analysed or counted dropped, exactly.
Skipped (77) without root, ip (iproute2) or tcpreplay.

Usage: test_drops.py PATH/TO/sipscope"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from sstest import Checks, generate, skip  # noqa: E402

FILTER = 'udp port 5060'  # the SIP the generator writes, nothing the namespace says itself


def netns(name, *cmd, **kw):
    return subprocess.run(['ip', 'netns', 'exec', name, *cmd], **kw)


def capture(exe, ns, tmp, *args):
    out = open(os.path.join(tmp, 'cap.json'), 'w')
    p = subprocess.Popen(['ip', 'netns', 'exec', ns, exe, 'capture', '-i', 'v1', '-f', FILTER, '--json', *args],
                         stdout=out, stderr=subprocess.PIPE, text=True)
    line = p.stderr.readline()  # "capturing on ..." once the interface is open
    return p, out, line


def stop(p, out, tmp):
    time.sleep(1.5)  # the last block out of the kernel (its timeout is 50 ms) and the ring
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
            p, out, line = capture(exe, ns, tmp)
            check('capturing' in line, 'capture starts on the veth: %s' % line.strip())
            sent, rated = replay(ns, small, '--pps=20000')
            rc, doc, err = stop(p, out, tmp)
            cap = doc['capture']
            print('20,000 packets/s: sent %d, analysed %d, dropped %s (%s)' % (sent, cap['packets'], cap['dropped'], rated))
            check(rc == 0 and sent > 10000 and cap['packets'] == sent and cap['dropped'] == 0,
                  'at 20,000 packets/s: all %d analysed, none dropped' % sent)
            check(cap['sip_messages'] == sent and len(doc['calls']) == 2000, 'and every call is there')

            # faster than it can follow, with little room to wait in
            p, out, line = capture(exe, ns, tmp, '--ring-mb', '1', '--buffer-mb', '1')
            sent, rated = replay(ns, big, '--topspeed')
            rc, doc, err = stop(p, out, tmp)
            cap = doc['capture']
            print('top speed: sent %d, analysed %d, dropped %s (%s)' % (sent, cap['packets'], cap['dropped'], rated))
            check(rc == 0, 'no crash under overload (exit %d)' % rc)
            check(cap['dropped'] > 0, 'drops are counted: %s' % cap['dropped'])
            check(cap['packets'] + cap['dropped'] == sent,
                  'every packet sent is analysed or counted dropped: %d + %d = %d' % (cap['packets'], cap['dropped'], sent))
            check('dropped' in err, 'and logged: %s' % err.strip()[-200:])
    finally:
        subprocess.run(['ip', 'netns', 'delete', ns])
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
