#!/usr/bin/env python3
"""HEP in and out (issue 9), on loopback.

- A generated capture (the issue scenarios) is sent as HEPv3, one datagram per SIP
  message (and again over one TCP connection), by this test's own sender (the generator's HEP encoder, not sipscope's) to
  `sipscope capture --hep-listen`: it finds the same calls, registrations and messages as
  `sipscope analyze` of the capture itself.
- `sipscope analyze --hep-out` of the same capture into another `capture --hep-listen`:
  the same again.
Compared per call: Call-ID, state, final status, INVITE/answer/end times, caller, callee,
users, messages and retransmissions (HEP carries the original addresses and times; it
carries no RTP, so media figures are not compared).

Usage: test_hep.py PATH/TO/sipscope"""
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, os.path.join(HERE, '..', 'gen'))
from sstest import Checks, analyze, generate  # noqa: E402
from decode_cases import hep3  # noqa: E402

KEYS = ('call_id', 'state', 'final_status', 'invite_time', 'answer_time', 'end_time', 'caller', 'callee',
        'messages', 'retransmissions')


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def sip_datagrams(pcap):
    """(t_ns, src, sport, dst, dport, payload) of each UDP datagram that holds SIP, from a
    classic pcap of Ethernet/IPv4 frames (what the generator writes)."""
    data = open(pcap, 'rb').read()
    magic = struct.unpack('<I', data[:4])[0]
    nano = magic == 0xa1b23c4d
    off, out = 24, []
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack('<IIII', data[off:off + 16])
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if len(frame) < 42 or frame[12:14] != b'\x08\x00' or frame[23] != 17:
            continue
        ihl = (frame[14] & 0x0f) * 4
        src, dst = socket.inet_ntoa(frame[26:30]), socket.inet_ntoa(frame[30:34])
        u = 14 + ihl
        sport, dport, ulen = struct.unpack('!HHH', frame[u:u + 6])
        payload = frame[u + 8:u + ulen]
        first = payload.split(b'\r\n', 1)[0]
        if first.startswith(b'SIP/2.0 ') or first.endswith(b' SIP/2.0'):
            out.append((sec * 10**9 + (frac if nano else frac * 1000), src, sport, dst, dport, payload))
    return out


def receiver(exe, port, tmp, name):
    out = open(os.path.join(tmp, name), 'w')
    p = subprocess.Popen([exe, 'capture', '--hep-listen', '127.0.0.1:%d' % port, '--json'], stdout=out,
                         stderr=subprocess.PIPE, text=True)
    line = p.stderr.readline()
    return p, out, line


def finish(p, out, tmp, name):
    time.sleep(1)
    p.send_signal(signal.SIGINT)
    rc = p.wait(timeout=60)
    p.stderr.close()
    out.close()
    return rc, json.load(open(os.path.join(tmp, name)))


def same_calls(check, what, got, want):
    key = lambda d: {c['call_id']: {k: c[k] for k in KEYS} | {'from': c['from']['user'], 'to': c['to']['user']}
                     for c in d['calls']}
    g, w = key(got), key(want)
    diff = [cid for cid in w if g.get(cid) != w[cid]]
    check(len(g) == len(w) and not diff, '%s: %d calls, the capture analysed directly has %d; differing: %s'
          % (what, len(g), len(w), [(cid, g.get(cid), w[cid]) for cid in diff[:1]]))
    regs = lambda d: sorted((r['aor'], r['state'], r['first_time'], r['last_time']) for r in d['registrations'])
    check(regs(got) == regs(want), '%s: the same %d registrations' % (what, len(want['registrations'])))
    check(got['capture']['sip_messages'] == want['capture']['sip_messages'] and got['capture']['dropped'] == 0,
          '%s: %d SIP messages, none dropped' % (what, got['capture']['sip_messages']))


def main(exe):
    check = Checks()
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, 'i.pcap')
        generate('issues', pcap, os.path.join(tmp, 'i.json'))
        direct = analyze(exe, pcap)

        # our own HEPv3 sender into --hep-listen
        port = free_udp_port()
        p, out, line = receiver(exe, port, tmp, 'a.json')
        check('capturing HEP' in line, 'capture --hep-listen starts: %s' % line.strip())
        grams = sip_datagrams(pcap)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for t, src, sport, dst, dport, payload in grams:
                s.sendto(hep3(payload, src, sport, dst, dport, t), ('127.0.0.1', port))
        rc, got = finish(p, out, tmp, 'a.json')
        check(rc == 0 and len(grams) == direct['capture']['sip_messages'],
              'sent %d SIP messages as HEPv3 (the capture has %d)' % (len(grams), direct['capture']['sip_messages']))
        same_calls(check, 'HEPv3 from the test', got, direct)

        # the same over TCP: one connection, HEP packets back to back, framed by their length
        port = free_udp_port()
        p, out, line = receiver(exe, port, tmp, 't.json')
        with socket.create_connection(('127.0.0.1', port)) as s:
            s.sendall(b''.join(hep3(payload, src, sport, dst, dport, t) for t, src, sport, dst, dport, payload in grams))
        rc, got = finish(p, out, tmp, 't.json')
        check(rc == 0, 'the TCP receiver ends on SIGINT with status 0')
        same_calls(check, 'HEPv3 over TCP', got, direct)

        # sipscope --hep-out into another sipscope's --hep-listen
        port = free_udp_port()
        p, out, line = receiver(exe, port, tmp, 'b.json')
        r = subprocess.run([exe, 'analyze', '-v', '--no-progress', '--hep-out', '127.0.0.1:%d' % port, '--hep-id', '77',
                            pcap], capture_output=True, text=True)
        check(r.returncode == 0 and ('%d SIP messages sent, 0 not' % direct['capture']['sip_messages']) in r.stderr,
              'analyze --hep-out sent every message: %s' % r.stderr.strip().splitlines()[-1:])
        rc, got = finish(p, out, tmp, 'b.json')
        check(rc == 0, 'the receiver ends on SIGINT with status 0')
        same_calls(check, 'sipscope --hep-out into --hep-listen', got, direct)
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
