#!/usr/bin/env python3
"""A HEP collector keeps the media quality its probes report (issue 25), on loopback.

- A probe (`sipscope analyze --hep-out`, agent id 77) analyses a generated capture into a
  collector (`sipscope capture --hep-listen --db`). Every stream the probe measured is a
  stream of the same call in the collector's JSON, in its database (read back through
  `sipscope serve`'s API) and in `analyze --json` of a capture of the probe's HEP: with
  `reported_by` naming agent 77 and the probe's host, and the probe's own figures
  (packets, lost, expected, mean and max jitter, MOS, R). The probe's figures are its own
  `--json` ones, and its packet and loss counts are checked here against the generator's
  truth; the collector's must equal them.
- RTCP sent by this test's own HEP encoder (not sipscope's), for the probe's last call:
  a raw sender report, then a raw receiver report with an RFC 3611 VoIP Metrics block.
  The stream they speak of carries what the bytes say (RFC 3550 §6.4.1: the sender's
  packet count, the cumulative loss, jitter in timestamp units read at 8 kHz; RFC 3611
  §4.7.5: MOS-LQ in tenths, R).
- A quality report and Homer-JSON RTCP for calls the collector never saw are kept as
  orphan reports (streams of no call), listed by /api/v1/streams?reported=orphan; an
  unreadable report is counted. /metrics and capture.hep_reports count what came.

- A real media relay, rtpengine (Debian's rtpengine-daemon, with --homer), relays a call
  set up over its ng protocol and reports the RTCP it relays as HEP (Homer's JSON, the
  Call-ID as correlation id) to a collector that saw the call's INVITE: the streams the
  RTCP spoke of are streams of that call, reported by rtpengine's agent id, with what
  the test's RTCP said (RFC 3550 §6.4). Skipped (failed in CI) without rtpengine; it uses
  the loopback ports 47100-47199 for media, which no other test uses.
Kamailio's siptrace sends SIP only; heplify and FreeSWITCH's hepipe are not in Debian 12.

With `pg`, the collector writes `--db postgresql://` to a real PostgreSQL server
(tests/lib/pgserver.py) and `serve` reads it from there: the same checks of its JSON and
of the API (the rtpengine part runs with SQLite only).

Usage: test_hep_quality.py PATH/TO/sipscope [pg]"""
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.dont_write_bytecode = True  # the imports below leave nothing in the tree

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, os.path.join(HERE, '..', 'gen'))
sys.path.insert(0, HERE)
from sstest import Checks, analyze, free_port, generate, metrics, need_ci, poll, skip  # noqa: E402
import pgserver  # noqa: E402
from pcapwrite import PcapWriter, ether, ipv4, udp  # noqa: E402
from test_hep import Receiver  # noqa: E402

AGENT = 77
ORPHAN_QOS, ORPHAN_RTCP = 'orphan-call@hep-quality.test', 'gone-call@hep-quality.test'
SSRC_RAW, SSRC_REPORTER, SSRC_JSON = 0x5eed0001, 0x5eed0002, 0x5eed0003


def hep3(payload, src, sport, dst, dport, t_ns, ptype, capid, corr=None, node=None):
    """HEPv3 as the spec lays it out: vendor-0 chunks, the correlation id in chunk 17 and
    the node name in chunk 19 (heplify's)."""
    sec, ns = divmod(t_ns, 10**9)
    chunks = [(1, b'\x02'), (2, b'\x11'), (3, socket.inet_aton(src)), (4, socket.inet_aton(dst)),
              (7, struct.pack('!H', sport)), (8, struct.pack('!H', dport)), (9, struct.pack('!I', sec)),
              (10, struct.pack('!I', ns // 1000)), (11, bytes([ptype])), (12, struct.pack('!I', capid)),
              (15, payload)]
    if corr is not None:
        chunks.append((17, corr.encode()))
    if node is not None:
        chunks.append((19, node.encode()))
    body = b''.join(struct.pack('!HHH', 0, t, 6 + len(v)) + v for t, v in chunks)
    return b'HEP3' + struct.pack('!H', 6 + len(body)) + body


def rtcp_sr(ssrc, packets, octets):
    """RFC 3550 §6.4.1: a sender report with no report blocks."""
    return struct.pack('!BBHIIIIII', 0x80, 200, 6, ssrc, 0xe8000000, 0, 160000, packets, octets)


def rtcp_rr_xr(reporter, about, fraction, lost, jitter, mos_lq, r):
    """RFC 3550 §6.4.2 receiver report with one block about `about`, then RFC 3611 §4.7 an
    XR packet with one VoIP Metrics block about it."""
    rr = struct.pack('!BBHI', 0x81, 201, 7, reporter) + struct.pack('!IB', about, fraction) + \
        lost.to_bytes(3, 'big', signed=True) + struct.pack('!IIII', 1012, jitter, 0, 0)
    block = struct.pack('!BBHI', 7, 0, 8, about) + bytes([8, 0, 0, 0]) + struct.pack('!HHHH', 0, 0, 40, 20) + \
        struct.pack('!bb', -20, -70) + bytes([127, 127, r, 127, mos_lq, 127, 0, 0]) + struct.pack('!HHH', 60, 120, 200)
    xr = struct.pack('!BBHI', 0x80, 207, (8 + len(block)) // 4 - 1, reporter) + block
    return rr + xr


def test_reports(last_call_id, t_ns):
    """This test's own reports: (HEP packets, what the collector must make of them)."""
    a, b = '10.77.0.1', '10.77.0.2'
    qos = {'CORRELATION_ID': ORPHAN_QOS, 'TYPE': 'HANGUP', 'SRC_IP': a, 'SRC_PORT': 30000, 'DST_IP': b,
           'DST_PORT': 40000, 'SSRC': '0x0000beef', 'CODEC_PT': 8, 'CODEC_NAME': 'PCMA', 'CLOCK': 8000,
           'TOTAL_PK': 500, 'EXPECTED_PK': 503, 'PACKET_LOSS': 3, 'DUPLICATES': 0, 'OUT_OF_ORDER': 1,
           'DELTA': 61.5, 'JITTER': 1.5, 'MAX_JITTER': 4.25, 'MOS': 4.1, 'R_FACTOR': 82.3,
           'START_TS': t_ns // 1000 - 10**7, 'REPORT_TS': t_ns // 1000}
    homer = {'type': 201, 'ssrc': 0x5eed0004, 'report_count': 1, 'sender_information': None,
             'report_blocks': [{'source_ssrc': SSRC_JSON, 'fraction_lost': 3, 'packets_lost': 5,
                                'highest_seq_no': 70000, 'ia_jitter': 160, 'lsr': 0, 'dlsr': 0}]}
    pkts = [
        hep3(json.dumps(qos).encode(), a, 30000, b, 40000, t_ns, 0x22, 901, ORPHAN_QOS, 'edge-probe'),
        hep3(rtcp_sr(SSRC_RAW, 1000, 160000), a, 30001, b, 40001, t_ns, 5, 902, last_call_id),
        hep3(rtcp_rr_xr(SSRC_REPORTER, SSRC_RAW, 25, 12, 400, 38, 80), b, 40001, a, 30001, t_ns + 10**6, 5, 902,
             last_call_id),
        hep3(json.dumps(homer).encode(), b, 40003, a, 30003, t_ns + 2 * 10**6, 5, 903, ORPHAN_RTCP),
        hep3(b'{"TOTAL_PK": "not a number"', a, 30000, b, 40000, t_ns, 0x22, 904, ORPHAN_QOS),
    ]
    # what each of the reported streams must say, and of which call (None: orphan)
    want = {
        0xbeef: (None, 901, 'edge-probe', ['qos'], False,
                 dict(packets=500, lost=3, expected=503, mean_jitter_ms=1.5, max_jitter_ms=4.25, mos=4.1,
                      r_factor=82.3, out_of_order=1, codec='PCMA', payload_type=8, max_delta_ms=61.5)),
        # RFC 3550: 1000 packets sent (SR), 12 lost; jitter 400 units at 8 kHz = 50 ms;
        # RFC 3611: MOS-LQ 38 = 3.8, R 80
        SSRC_RAW: (last_call_id, 902, None, ['rtcp'], True,
                   dict(packets=1000, lost=12, expected=1012, mean_jitter_ms=50.0, max_jitter_ms=50.0, mos=3.8,
                        r_factor=80, payload_type=None)),
        # no SR: no packet count; jitter 160 units = 20 ms; no XR: no MOS
        SSRC_JSON: (None, 903, None, ['rtcp'], True,
                    dict(packets=0, lost=5, expected=5, mean_jitter_ms=20.0, mos=None, payload_type=None)),
    }
    return pkts, want


def get(port, path):
    """An API answer; {} for an error status (the checks then say what is missing)."""
    try:
        with urllib.request.urlopen('http://127.0.0.1:%d%s' % (port, path), timeout=30) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        print('GET %s: %s' % (path, e))
        return {}


def r3(x):
    return None if x is None else round(x, 3)


def figures(s):
    """The figures a quality report carries, as the probe's --json gives them (jitter and
    delta to the 0.001 ms the report is written in)."""
    return dict(packets=s['packets'], lost=s['lost'], expected=s['expected'], duplicates=s['duplicates'],
                out_of_order=s['out_of_order'], mean_jitter_ms=r3(s['mean_jitter_ms']),
                max_jitter_ms=r3(s['max_jitter_ms']), max_delta_ms=r3(s['max_delta_ms']), mos=s['mos'],
                r_factor=s['r_factor'], codec=s['codec'], payload_type=s['payload_type'], ssrc=s['ssrc'])


def compare(check, what, probe, streams, calls, call_id_of, want_test, node):
    """streams (a list of stream objects) against the probe's and the test's reports."""
    cid = {c['id']: c['call_id'] for c in calls}
    key = lambda s: (s['src'], s['dst'], s['ssrc'])
    got = {key(s): s for s in streams if s.get('reported_by') and s['reported_by']['agent_id'] == AGENT}
    bad = []
    for s in probe['streams']:
        g = got.get(key(s))
        rb = g and g['reported_by']
        ok = (g and figures(g) == figures(s) and cid.get(g['call']) == call_id_of[s['id']] and
              rb['node'] == node and 'qos' in rb['reports'] and
              rb['correlation_id'] == call_id_of[s['id']] and not rb['clock_assumed'])
        if not ok:
            bad.append((s['id'], g and figures(g), figures(s)))
    check(len(got) == len(probe['streams']) and not bad,
          '%s: the probe\'s %d streams are %d streams reported by agent %d, each of its call, with the probe\'s '
          'figures (differing: %s)' % (what, len(probe['streams']), len(got), AGENT, bad[:1]))
    by_ssrc = {int(s['ssrc'], 16): s for s in streams if s.get('reported_by') and
               s['reported_by']['agent_id'] != AGENT}
    for ssrc, (call, agent, nd, via, assumed, figs) in want_test.items():
        s = by_ssrc.get(ssrc)
        rb = s and s['reported_by']
        ok = (s and rb['agent_id'] == agent and rb['node'] == nd and rb['reports'] == via and
              rb['clock_assumed'] == assumed and cid.get(s['call']) == call and
              all(s[k] == v if not isinstance(v, float) else abs(s[k] - v) < 1e-9 for k, v in figs.items()))
        check(ok, '%s: the test\'s report of SSRC 0x%08x: %s, %s (got %s)' % (
            what, ssrc, 'of call ' + call if call else 'kept as an orphan report', figs,
            s and ({k: s[k] for k in figs}, s['call'], rb)))
    # every reported stream is in its call's list
    listed = {sid for c in calls for sid in (c['streams'] or [])}
    missing = [s['id'] for s in streams if s.get('reported_by') and s['call'] and s['id'] not in listed]
    check(not missing, '%s: each reported stream of a call is in the call\'s streams (missing: %s)' % (what, missing))


def probe_hep(exe, pcap, n):
    """The probe's n HEP datagrams, received by this test (the probe is run into a socket of
    ours as into the collector); fewer when no more come for 3 s."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(('127.0.0.1', 0))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        s.settimeout(3)
        got = []

        def rx():
            while len(got) < n:
                try:
                    got.append(s.recv(70000))
                except socket.timeout:
                    return
        t = threading.Thread(target=rx)
        t.start()
        subprocess.run([exe, 'analyze', '--no-progress', '--hep-out', '127.0.0.1:%d' % s.getsockname()[1],
                        '--hep-id', str(AGENT), pcap], check=True, capture_output=True)
        t.join()
    return got


def hep_time(d):
    """A HEPv3 packet's time (chunks 9 and 10), ns."""
    off, sec, usec = 6, 0, 0
    while off + 6 <= len(d):
        _, ty, ln = struct.unpack('!HHH', d[off:off + 6])
        if ty in (9, 10):
            v = struct.unpack('!I', d[off + 6:off + 10])[0]
            sec, usec = (v, usec) if ty == 9 else (sec, v)
        off += ln
    return sec * 10**9 + usec * 1000


def write_hep_pcap(path, datagrams):
    """The datagrams as a capture of a HEP feed (agent 10.99.0.2 to collector 10.99.0.1),
    each at its HEP time, kept in sending order."""
    w, t = PcapWriter(path, 1), 0
    for d in datagrams:
        t = max(t, hep_time(d))
        w.write(t, ether(ipv4('10.99.0.2', '10.99.0.1', 17, udp(9060, 9060, d, src='10.99.0.2', dst='10.99.0.1')),
                         0x0800))
    w.close()


def benc(x):
    """Bencode, rtpengine's ng protocol."""
    if isinstance(x, dict):
        return b'd' + b''.join(benc(k) + benc(v) for k, v in sorted(x.items())) + b'e'
    if isinstance(x, int):
        return b'i%de' % x
    x = x.encode() if isinstance(x, str) else x
    return b'%d:%s' % (len(x), x)


def bdec(b, i=0):
    """(value, next index) of bencoded b at i."""
    c = b[i:i + 1]
    if c in (b'd', b'l'):
        i, out = i + 1, []
        while b[i:i + 1] != b'e':
            v, i = bdec(b, i)
            out.append(v)
        return (dict(zip([k.decode() for k in out[::2]], out[1::2])) if c == b'd' else out), i + 1
    if c == b'i':
        j = b.index(b'e', i)
        return int(b[i + 1:j]), j + 1
    j = b.index(b':', i)
    return b[j + 1:j + 1 + int(b[i:j])], j + 1 + int(b[i:j])


class Ng:
    """rtpengine's control socket: one command, its answer (a unique cookie each)."""

    def __init__(self, port):
        self.port, self.n = port, 0
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.settimeout(2)

    def __call__(self, **d):
        self.n += 1
        cookie = b'sq%d ' % self.n
        self.s.sendto(cookie + benc(d), ('127.0.0.1', self.port))
        try:
            r = self.s.recv(65535)
        except socket.timeout:
            return {}
        return bdec(r[len(cookie):])[0] if r.startswith(cookie) else {}


def rtpengine_part(check, exe, tmp):
    """rtpengine relays a call's RTCP and reports it as HEP to a collector."""
    rx = Receiver(exe, tmp, 'rtpe.json')
    check('capturing HEP' in rx.line and rx.api, 'the collector for rtpengine starts: %s' % rx.line.strip())
    ng = Ng(free_port())
    log = open(os.path.join(tmp, 'rtpengine.log'), 'w')
    rtpe = subprocess.Popen(['rtpengine', '--config-file=none', '--foreground', '--log-stderr', '--table=-1',
                             '--interface=127.0.0.1', '--listen-ng=127.0.0.1:%d' % ng.port, '--port-min=47100',
                             '--port-max=47199', '--homer=127.0.0.1:%d' % rx.port, '--homer-protocol=udp',
                             '--homer-id=4242'], stderr=log)
    try:
        up = poll(lambda: ng(command='ping').get('result') == b'pong', deadline=30)
        check(up, 'rtpengine answers its ng ping')
        cid = 'rtpengine-call@hep-quality.test'
        invite = ('INVITE sip:b@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-rtpe\r\n'
                  'From: <sip:a@127.0.0.1>;tag=ft1\r\nTo: <sip:b@127.0.0.1>\r\nCall-ID: %s\r\n'
                  'CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n' % cid).encode()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(hep3(invite, '127.0.0.1', 5062, '127.0.0.1', 5064, time.time_ns(), 1, 4242),
                     ('127.0.0.1', rx.port))
        check(poll(lambda: rx.read() >= 1, deadline=30), 'the collector has the call\'s INVITE')
        a_rtp, a_rtcp, b_rtp = (socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(3))
        for x in (a_rtp, a_rtcp, b_rtp):
            x.bind(('127.0.0.1', 0))
        sdp = lambda port: ('v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n'
                            'm=audio %d RTP/AVP 0\r\na=rtcp:%d\r\na=sendrecv\r\n' % (port, port + 1))
        ng(command='offer', **{'call-id': cid, 'from-tag': 'ft1', 'sdp': sdp(a_rtp.getsockname()[1])})
        ans = ng(command='answer', **{'call-id': cid, 'from-tag': 'ft1', 'to-tag': 'tt1',
                                      'sdp': sdp(b_rtp.getsockname()[1])})
        m = re.search(rb'm=audio (\d+)', ans.get('sdp', b''))
        check(ans.get('result') == b'ok' and m, 'rtpengine takes the offer and answer: %s' % ans.get('result'))
        if not m:
            return
        to = ('127.0.0.1', int(m.group(1)))  # where the caller sends, RTCP one port up (RFC 3550 §11)
        for i in range(5):
            a_rtp.sendto(struct.pack('!BBHII', 0x80, 0, i, i * 160, 0x11112222) + b'\xff' * 160, to)
        a_rtcp.sendto(rtcp_sr(0x11112222, 5, 800), (to[0], to[1] + 1))
        a_rtcp.sendto(rtcp_rr_xr(0x11112222, 0x33334444, 25, 12, 400, 38, 80), (to[0], to[1] + 1))
        got = lambda: metrics(rx.api).get('sipscope_hep_reports_received_total', 0) >= 2
        check(poll(got, deadline=30), 'the collector reads two RTCP reports from rtpengine')
        ng(command='delete', **{'call-id': cid, 'from-tag': 'ft1'})
    finally:
        rtpe.send_signal(signal.SIGTERM)
        rtpe.wait(timeout=30)
        log.close()
        rx.p.send_signal(signal.SIGINT)
        rc = rx.p.wait(timeout=60)
        rx.p.stderr.close()
        rx.out.close()
    check(rc == 0, 'the collector for rtpengine ends on SIGINT with status 0 (%s)' % rc)
    d = json.load(open(os.path.join(tmp, 'rtpe.json')))
    call = [c['id'] for c in d['calls'] if c['call_id'] == cid]
    by = {s['ssrc']: s for s in d['streams'] if s.get('reported_by')}
    sr, rr = by.get('0x11112222'), by.get('0x33334444')
    who = lambda s: s and (s['call'], s['reported_by']['agent_id'], s['reported_by']['correlation_id'],
                           s['reported_by']['reports'])
    want = (call[0] if call else 'the call', 4242, cid, ['rtcp'])
    # RFC 3550 §6.4.1: the SR's sender packet count; the RR block's cumulative loss and
    # jitter (400 timestamp units at 8 kHz: 50 ms), as the test wrote them
    check(who(sr) == want and sr['packets'] == 5, 'rtpengine\'s report of the caller\'s SR: a stream of the '
          'call, by agent 4242, 5 packets (%s, %s)' % (who(sr), sr and sr['packets']))
    check(who(rr) == want and rr['lost'] == 12 and rr['mean_jitter_ms'] == 50.0 and
          rr['reported_by']['clock_assumed'],
          'rtpengine\'s report of the caller\'s RR: 12 lost, jitter 50 ms (%s, %s)'
          % (who(rr), rr and (rr['lost'], rr['mean_jitter_ms'])))


def main(exe, backend='sqlite'):
    check = Checks()
    if backend == 'pg':
        try:
            server = pgserver.PgServer()
        except pgserver.Missing as e:
            return skip(str(e))
        with server as pg, tempfile.TemporaryDirectory() as tmp:
            collector(exe, check, tmp, pg.uri('collector'))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            collector(exe, check, tmp, None)
    return check.done()


def collector(exe, check, tmp, db):
    """The probe, the collector writing to db (None: a SQLite file), serve reading it."""
    pcap = os.path.join(tmp, 'c.pcap')
    truth = generate('calls', pcap, os.path.join(tmp, 'c.json'), '--calls', '4', '--duration', '8',
                     '--loss', '0.02', '--seed', '25')
    probe = analyze(exe, pcap)
    # the probe's own figures against the generator's truth, so that "equal to the
    # probe's" means equal to what was sent
    tk = {(s['src'], s['dst'], s['ssrc']): (s['packets'], s['lost']) for c in truth['calls'] for s in c['streams']}
    pk = {(s['src'], s['dst'], s['ssrc']): (s['packets'], s['lost']) for s in probe['streams']}
    check(pk == tk, 'the probe measures the generator\'s %d streams, packets and loss as written' % len(tk))
    call_id_of = {sid: c['call_id'] for c in probe['calls'] for sid in c['streams']}
    last = max(probe['calls'], key=lambda c: c['end_time'])
    t_ns = int(last['end_time'] * 10**6) * 1000 + 10**8
    ours, want_test = test_reports(last['call_id'], t_ns)

    rx = Receiver(exe, tmp, 'col.json', db)
    check('capturing HEP' in rx.line and rx.api, 'capture --hep-listen starts: %s' % rx.line.strip())
    r = subprocess.run([exe, 'analyze', '-v', '--no-progress', '--hep-out', '127.0.0.1:%d' % rx.port,
                        '--hep-id', str(AGENT), pcap], capture_output=True, text=True)
    sent = [int(x) for x in re.findall(
        r'(\d+) RTCP packets, 0 not; (\d+) stream reports, 0 not', r.stderr)[0]] if 'stream reports, 0 not' \
        in r.stderr else [0, 0]
    check(r.returncode == 0 and sent[1] == len(probe['streams']),
          'the probe sent %d RTCP packets and a report per stream (%d)' % (sent[0], sent[1]))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for d in ours:
            s.sendto(d, ('127.0.0.1', rx.port))
    received = sum(sent) + 4  # ours: one quality report and three RTCP packets read, one unreadable
    m = {}

    def counted():
        m.update(metrics(rx.api))
        return m.get('sipscope_hep_reports_received_total', 0) + \
            m.get('sipscope_hep_reports_unreadable_total', 0) >= received + 1
    check(poll(counted, deadline=60), 'the collector\'s /metrics count every report within 60 s')
    check((m.get('sipscope_hep_reports_received_total'), m.get('sipscope_hep_reports_attached_total'),
           m.get('sipscope_hep_reports_orphaned_total'), m.get('sipscope_hep_reports_unreadable_total')) ==
          (received, received - 2, 2, 1),
          '/metrics: %d reports received, %d attached, 2 orphaned, 1 unreadable (%s)' % (
              received, received - 2, {k: v for k, v in m.items() if 'hep_reports' in k}))
    rx.p.send_signal(signal.SIGINT)
    rc = rx.p.wait(timeout=60)
    rx.p.stderr.close()
    rx.out.close()
    col = json.load(open(os.path.join(tmp, 'col.json')))
    check(rc == 0, 'the collector ends on SIGINT with status 0')
    check(col['capture'].get('hep_reports') == dict(received=received, attached=received - 2, orphaned=2,
                                                 unreadable=1),
          'capture.hep_reports: %s' % col['capture'].get('hep_reports'))
    node = socket.gethostname()
    compare(check, 'the collector\'s JSON', probe, col['streams'], col['calls'], call_id_of, want_test, node)

    # the database, through the API
    srv = subprocess.Popen([exe, 'serve', '--db', db or os.path.join(tmp, 'col.json.db'), '--listen',
                            '127.0.0.1:0'], stderr=subprocess.PIPE, text=True)
    try:
        line = srv.stderr.readline()
        port = int(re.search(r'port (\d+)', line).group(1)) if 'port' in line else 0
        check(port, 'serve --db of the collector\'s database starts: %s' % line.strip())
        calls = get(port, '/api/v1/calls?limit=1000').get('calls', [])
        streams = [s for c in calls for s in get(port, '/api/v1/calls/%s/streams' % c['id']).get('streams', [])]
        orphans = get(port, '/api/v1/streams?reported=orphan&limit=1000').get('streams', [])
        compare(check, 'the API', probe, streams + orphans, calls, call_id_of, want_test, node)
        check(sorted(s['reported_by']['correlation_id'] for s in orphans) == sorted([ORPHAN_QOS, ORPHAN_RTCP]),
              '/api/v1/streams?reported=orphan lists the two orphan reports (%s)'
              % [s['reported_by'] for s in orphans])
        everyone = get(port, '/api/v1/streams?reported=any&limit=1000').get('streams', [])
        check(len(everyone) == len(probe['streams']) + 3, '/api/v1/streams?reported=any lists %d reported '
              'streams (%d)' % (len(probe['streams']) + 3, len(everyone)))
    finally:
        srv.send_signal(signal.SIGTERM)
        srv.wait(timeout=30)
        srv.stderr.close()

    # analyze --json of a capture of the same HEP feed
    feed = os.path.join(tmp, 'feed.pcap')
    write_hep_pcap(feed, probe_hep(exe, pcap, probe['capture']['sip_messages'] + sum(sent)) + ours)
    off = analyze(exe, feed)
    compare(check, 'analyze --json of the HEP feed', probe, off['streams'], off['calls'], call_id_of,
            want_test, node)
    check(off['capture'].get('hep_reports') == col['capture'].get('hep_reports'),
          'analyze of the feed counts the reports as the collector did (%s)' % off['capture'].get('hep_reports'))

    if not db and need_ci(check, shutil.which('rtpengine'), 'rtpengine (a real relay that reports RTCP as HEP)'):
        rtpengine_part(check, exe, tmp)


if __name__ == '__main__':
    sys.exit(main(*sys.argv[1:3]))
