#!/usr/bin/env python3
"""A quiet link finishes its calls (issue 21), live, with real sipp on loopback.

`sipscope capture -i lo --db --serve --stream-idle 2` follows three answered calls between
sipp's built-in UAS (`-sn uas -rtp_echo`, echoing RTP back) and three sipp UACs that play
sipp's sample RTP (g711a.pcap); after them nothing more crosses the capture's filter. Every
call must then be complete in the API -- state completed, its two RTP streams (one each
way), a MOS on each, the worst MOS on the call -- within --stream-idle + 2 s of the last
packet the capture saw (the latest SIP message or RTP packet of the calls, kernel stamps,
the clock this test reads too), and the /api/v1/events stream must deliver each call so,
within the same bound. Before the fix a call waited 64*T1 (32 s) for retransmissions and
then up to 10 s more for its judgement, or for the next packet.

The same through `capture --hep-listen`: a probe whose clock is a year behind ours sends
the SIP of an answered call and of a busy one as HEPv3 (this test's own encoder, the
generator's), then nothing. Both calls must be handed on (/metrics counts them by state)
and the busy one's row be whole (its issues known: a list, not null) within
--stream-idle + 2 s of the last datagram sent. (A feed without RTP has no streams to
wait for; an answered call's media verdicts wait 5 minutes there, as the README says.)

And --call-linger, which a terminal session shortens to forget ended calls sooner, leaves
Timer B and a transaction's lifetime at 64*T1: an unanswered INVITE's copies stay one call.

Skipped (77) without sipp, or without the right to capture (not root).

Usage: test_live_quiet.py PATH/TO/sipscope"""
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, os.path.join(HERE, '..', 'gen'))
from sstest import SIPP_PCAP, Checks, free_port, stop_capture, sipp_live_skip  # noqa: E402
from decode_cases import hep3  # noqa: E402

PCAP = SIPP_PCAP
ADDR = '127.0.0.73'  # this test's alone: other e2e tests use 127.0.0.1
IDLE = 2             # --stream-idle, seconds
SLACK = 2            # the bound: IDLE + SLACK after the last packet
CALLS = 3


def sipp(*args, cwd):
    return subprocess.Popen(['sipp', *args, '-nostdin', '-trace_err'], cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def complete(c):
    """Whether a call's object is whole: completed, two streams, worst MOS."""
    return (c.get('state') == 'completed' and isinstance(c.get('streams'), list) and len(c['streams']) == 2
            and c.get('mos_min') is not None)


class Events(threading.Thread):
    """Reads /api/v1/events, keeping (arrival time, call object) of each 'call' event."""

    def __init__(self, url):
        super().__init__(daemon=True)
        self.resp = urllib.request.urlopen(url, timeout=120)
        self.got = []
        self.lock = threading.Lock()

    def run(self):
        try:
            for raw in self.resp:
                line = raw.decode('utf-8', 'replace').rstrip('\n')
                if line.startswith('data: '):
                    obj = json.loads(line[6:])
                    with self.lock:
                        self.got.append((time.time(), obj))
        except (OSError, ValueError):
            pass

    def first_complete(self):
        """{call id: arrival time of its first complete event}"""
        out = {}
        with self.lock:
            for t, c in self.got:
                if isinstance(c, dict) and complete(c) and c['id'] not in out:
                    out[c['id']] = t
        return out


def start(exe, args):
    """capture ARGS --serve on a free port: (process, port or None)."""
    cap = subprocess.Popen([exe, 'capture', *args, '--serve', '127.0.0.1:0', '--stream-idle', str(IDLE)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    port = None
    for _ in range(5):
        line = cap.stderr.readline()
        m = re.search(r'serving http on port (\d+)', line)
        port = int(m.group(1)) if m else port
        if 'capturing' in line or not line:
            break
    return cap, port


def stop(check, cap):
    rc, err = stop_capture(cap)
    check(rc == 0, 'capture ends on SIGINT with status 0 (%s) %s' % (rc, err.strip()[-300:]))



def sip(first, cid, ftag, ttag, cseq, body=''):
    """One SIP message between the caller 198.51.100.1:5060 and the callee 198.51.100.2:5060."""
    to = '<sip:bob@198.51.100.2>' + (';tag=' + ttag if ttag else '')
    lines = [first, 'Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bK-%s-%s' % (cid, cseq.replace(' ', '')),
             'From: <sip:alice@198.51.100.1>;tag=' + ftag, 'To: ' + to, 'Call-ID: ' + cid, 'CSeq: ' + cseq,
             'Contact: <sip:alice@198.51.100.1:5060>', 'Max-Forwards: 70']
    if body:
        lines.append('Content-Type: application/sdp')
    lines.append('Content-Length: %d' % len(body))
    return ('\r\n'.join(lines) + '\r\n\r\n' + body).encode()


def sdp(ip, port):
    return ('v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %d RTP/AVP 8\r\n'
            'a=rtpmap:8 PCMA/8000\r\n' % (ip, ip, port))


def hep_case(exe, check, tmp):
    """--hep-listen: both calls handed on, the busy one whole, within the bound."""
    A, B = '198.51.100.1', '198.51.100.2'
    ans, busy = 'quiet-answered@hep', 'quiet-busy@hep'
    R = 'sip:bob@198.51.100.2'
    # (direction, message): caller to callee is 1, back is -1
    msgs = [(1, sip('INVITE %s SIP/2.0' % R, ans, 'a1', None, '1 INVITE', sdp(A, 40000))),
            (-1, sip('SIP/2.0 180 Ringing', ans, 'a1', 'b1', '1 INVITE')),
            (-1, sip('SIP/2.0 200 OK', ans, 'a1', 'b1', '1 INVITE', sdp(B, 50000))),
            (1, sip('ACK %s SIP/2.0' % R, ans, 'a1', 'b1', '1 ACK')),
            (1, sip('INVITE %s SIP/2.0' % R, busy, 'c1', None, '1 INVITE', sdp(A, 40010))),
            (-1, sip('SIP/2.0 486 Busy Here', busy, 'c1', 'd1', '1 INVITE')),
            (1, sip('ACK %s SIP/2.0' % R, busy, 'c1', 'd1', '1 ACK')),
            (1, sip('BYE %s SIP/2.0' % R, ans, 'a1', 'b1', '2 BYE')),
            (-1, sip('SIP/2.0 200 OK', ans, 'a1', 'b1', '2 BYE'))]
    for k in range(3):  # a port taken between our look and its bind is tried again
        hport = free_port()
        cap, port = start(exe, ['--hep-listen', '127.0.0.1:%d' % hport, '--db', os.path.join(tmp, 'hep%d.db' % k)])
        if port is not None:
            break
        stop(lambda *_: None, cap)
    if not check(port is not None, 'capture --hep-listen serves its API'):
        return
    base = 'http://127.0.0.1:%d' % port
    try:
        skew = 365 * 86400 * 10**9  # the probe's clock: a year behind ours
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for d, m in msgs:
                src, dst = (A, B) if d > 0 else (B, A)
                s.sendto(hep3(m, src, 5060, dst, 5060, time.time_ns() - skew), ('127.0.0.1', hport))
                time.sleep(0.05)
        sent = time.time()
        bound = sent + IDLE + SLACK
        by_state, rows, done_at = {}, {}, None
        while time.time() < bound + 4:
            text = urllib.request.urlopen(base + '/metrics', timeout=30).read().decode()
            by_state = {k: float(v) for k, v in
                        re.findall(r'^sipscope_calls_total\{state="([a-z_]+)"\} ([0-9.]+)$', text, re.M) if float(v)}
            rows = {c['call_id']: c for c in
                    json.loads(urllib.request.urlopen(base + '/api/v1/calls?limit=10', timeout=30).read())['calls']}
            if (by_state == {'completed': 1, 'busy': 1} and busy in rows and
                    isinstance(rows[busy].get('issues'), list)):
                done_at = time.time()
                break
            time.sleep(0.1)
        check(done_at is not None and done_at <= bound,
              '--hep-listen: both calls handed on, the busy one whole, within --stream-idle + %d s of the last '
              'datagram: %s' % (SLACK, 'after %.2f s' % (done_at - sent) if done_at else
                                'not after %.1f s: %s, %s' % (time.time() - sent, by_state,
                                                              {k: (c['state'], c['issues']) for k, c in rows.items()})))
        check(rows.get(ans, {}).get('state') == 'completed' and rows.get(busy, {}).get('state') == 'busy',
              '--hep-listen: the calls as sent (%s)' % {k: c['state'] for k, c in rows.items()})
    finally:
        stop(check, cap)


def linger_case(exe, check, tmp):
    """--call-linger holds ended calls for less, and nothing else: an INVITE nobody answers,
    its copies at RFC 3261's Timer A intervals (0, 0.5, 1.5, 3.5 s: §17.1.1.2), sent through
    --hep-listen to a capture with --call-linger 1, stays one call that has not failed:
    Timer B is 64*T1 after the last copy whatever the linger is, and a copy 2 s after the
    one before is still a retransmission of its transaction."""
    A, B = '198.51.100.1', '198.51.100.2'
    inv = sip('INVITE sip:bob@198.51.100.2 SIP/2.0', 'linger-unanswered@hep', 'e1', None, '1 INVITE', sdp(A, 40020))
    for k in range(3):
        hport = free_port()
        cap, port = start(exe, ['--hep-listen', '127.0.0.1:%d' % hport, '--call-linger', '1',
                                 '--db', os.path.join(tmp, 'linger%d.db' % k)])
        if port is not None:
            break
        stop(lambda *_: None, cap)
    if not check(port is not None, '--call-linger: capture --hep-listen serves its API'):
        return
    try:
        base = time.time_ns() - 3_500_000_000
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for at in (0, 500, 1500, 3500):
                s.sendto(hep3(inv, A, 5060, B, 5060, base + at * 1_000_000), ('127.0.0.1', hport))
        sent = time.time()
        active, ended = None, {}
        while time.time() < sent + 3:  # past the linger's second twice over, on the live clock
            text = urllib.request.urlopen('http://127.0.0.1:%d/metrics' % port, timeout=30).read().decode()
            m = re.search(r'^sipscope_active_calls ([0-9.]+)$', text, re.M)
            active = float(m.group(1)) if m else None
            ended = {k: float(v) for k, v in
                     re.findall(r'^sipscope_calls_total\{state="([a-z_]+)"\} ([0-9.]+)$', text, re.M) if float(v)}
            if ended:
                break
            time.sleep(0.2)
        check(active == 1 and not ended,
              '--call-linger 1: the unanswered INVITE and its 3 copies are one call still followed, none failed '
              '(active %s, ended %s)' % (active, ended))
    finally:
        stop(check, cap)


def main(exe):
    rc = sipp_live_skip()
    if rc is not None:
        return rc
    check = Checks()
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, 'quiet.db')
        cap, port = start(exe, ['-i', 'lo', '-f', 'udp and host %s' % ADDR, '--db', db])
        if not check(port is not None, 'capture serves its API'):
            stop(check, cap)
            return check.done()
        base = 'http://127.0.0.1:%d' % port

        def api(path):
            return json.loads(urllib.request.urlopen(base + '/api/v1/' + path, timeout=30).read())
        try:
            events = Events(base + '/api/v1/events')
            events.start()
            uas = sipp('-sn', 'uas', '-rtp_echo', '-i', ADDR, '-p', '5060', '-mp', '26000', '-m', str(CALLS),
                       cwd=tmp)
            time.sleep(0.5)
            uac = [sipp('%s:5060' % ADDR, '-sf', os.path.join(HERE, 'uac_media.xml'), '-i', ADDR,
                        '-p', str(5080 + k), '-mp', str(26100 + 10 * k), '-m', '1', cwd=tmp) for k in range(CALLS)]
            rcs = []
            for p in uac:  # a UAC ends with the 200 to its BYE (the UAS waits a while longer)
                try:
                    rcs.append(p.wait(timeout=40))
                except subprocess.TimeoutExpired:
                    p.kill()
                    rcs.append('timeout')
            sipp_done = time.time()
            # from here on the link is silent: watch the API until every call is whole, a
            # little past the bound (so that a failure shows how late it was, cheaply)
            done_at, calls = None, []
            while time.time() < sipp_done + IDLE + SLACK + 4:
                calls = api('calls?limit=100')['calls']
                if len(calls) == CALLS and all(complete(c) for c in calls):
                    done_at = time.time()
                    break
                time.sleep(0.1)
            # the last packet the capture saw: the latest message or RTP packet of the calls
            last = 0.0
            for c in calls:
                for m in api('calls/%s/messages' % c['id'])['messages']:
                    last = max(last, m['time'])
            streams = api('streams?limit=100')['streams']
            for s in streams:
                last = max(last, s['last_time'])
            try:
                rcs.append(uas.wait(timeout=20))
            except subprocess.TimeoutExpired:
                uas.kill()
                rcs.append('timeout')
            check(rcs == [0] * (CALLS + 1), 'sipp: every call successful (exit %s)' % rcs)
            check(len(calls) == CALLS, '%d calls stored (%d)' % (CALLS, len(calls)))
            check(0 < last <= sipp_done, 'the last packet (%.3f) came before sipp ended (%.3f)' % (last, sipp_done))
            bound = last + IDLE + SLACK
            check(done_at is not None and done_at <= bound,
                  'every call complete in the API within --stream-idle + %d s of the last packet: %s' %
                  (SLACK, 'after %.2f s' % (done_at - last) if done_at else
                   'not after %.1f s: %s' % (time.time() - last,
                                             [(c['id'], c['state'], c['streams'], c['mos_min']) for c in calls])))
            for c in calls:
                mine = [s for s in streams if s['call'] == c['id']]
                dirs = {(s['src'], s['dst']) for s in mine}
                check(len(mine) == 2 and all((d, s) in dirs for s, d in dirs) and
                      sorted(c['streams'] or []) == sorted(s['id'] for s in mine),
                      '%s: its two streams, one each way, on the call (%s)' % (c['id'], sorted(dirs)))
                mos = [s['mos'] for s in mine]
                check(all(m is not None for m in mos) and c['mos_min'] == min(mos),
                      '%s: a MOS on each stream %s, the worst on the call (%s)' % (c['id'], mos, c['mos_min']))
            # the event stream: each call whole, within the same bound
            deadline = max(bound, time.time()) + 1
            while time.time() < deadline and len(events.first_complete()) < CALLS:
                time.sleep(0.1)
            got = events.first_complete()
            check(len(got) == CALLS and all(t <= bound for t in got.values()),
                  '/api/v1/events: each call complete within --stream-idle + %d s of the last packet: %s' %
                  (SLACK, {k: round(t - last, 2) for k, t in got.items()}))
        finally:
            stop(check, cap)
        hep_case(exe, check, tmp)
        linger_case(exe, check, tmp)
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
