#!/usr/bin/env python3
"""End to end, live (issue 9): real sipp UACs and UASes (Debian's sip-tester) place calls
on loopback while `sipscope capture -i lo --db --serve` runs; the test then asks the
running capture's JSON API.

- three answered calls at once, each playing sipp's sample RTP (g711a.pcap, 236 packets)
  both ways; the UAS answers every call from one media port, as a media server does;
- two calls the UAS rejects with 486; two the UAC cancels while they ring.
While the answered calls are up, the API already shows them (live progress). Each call
sipp reports successful must be there with its state (completed, busy, cancelled), and each answered call must have exactly two RTP streams, one each way,
with all 236 packets and zero loss. The capture must report no drops.
Skipped (77) without sipp, or without the right to capture (not root).

Usage: test_sipp.py PATH/TO/sipscope"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from sstest import SIPP_PCAP, Checks, metrics, poll, stop_capture, sipp_live_skip, udp_ports  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PCAP = SIPP_PCAP
PACKETS = 236  # in g711a.pcap (capinfos)


def sipp(*args, cwd):
    return subprocess.Popen(['sipp', *args, '-nostdin', '-trace_err'], cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def scenario(name):
    return os.path.join(HERE, name)


def main(exe):
    rc = sipp_live_skip()
    if rc is not None:
        return rc
    check = Checks()
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, 'live.db')
        # the ports this test's sipps use, and nothing else on lo (other tests run beside it)
        cap = subprocess.Popen([exe, 'capture', '-i', 'lo', '-f',
                                'udp and host 127.0.0.1 and (portrange 5060-5099 or portrange 16000-17999)', '--db', db,
                                '--serve', '127.0.0.1:0', '--stream-idle', '3'],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        port = None
        for _ in range(3):
            line = cap.stderr.readline()
            m = re.search(r'serving http on port (\d+)', line)
            port = int(m.group(1)) if m else port
            if 'capturing' in line:
                break
        check(port is not None, 'capture serves its API')
        api = lambda path: json.loads(urllib.request.urlopen('http://127.0.0.1:%d/api/v1/%s' % (port, path),
                                                             timeout=30).read())
        try:
            seen = set()

            def watch():
                for c in api('calls?limit=100')['calls']:
                    seen.add(c['state'])
            results = place_calls(tmp, watch)
            check('answered' in seen or 'ringing' in seen,
                  'calls are shown while they are up, before they end (states seen: %s)' % sorted(seen))
            for name, rc in results:
                check(rc == 0, 'sipp %s: every call successful (exit %s)' % (name, rc))
            # calls are shown while in progress, and handed on for good --stream-idle
            # after they end (issue 21): wait for all seven
            # to be handed on, as /metrics counts them
            want = {'completed': 3, 'busy': 2, 'cancelled': 2}
            ended = lambda: sum(v for k, v in metrics(port).items() if k.startswith('sipscope_calls_total{'))
            poll(lambda: ended() >= sum(want.values()), deadline=90, every=0.5)
            calls = api('calls?limit=100')['calls']
            states = {}
            for c in calls:
                states[c['state']] = states.get(c['state'], 0) + 1
            check(states == want, 'calls by state %s, sipp placed %s' % (states, want))
            check(all(c['caller'].startswith('127.0.0.1:508') or c['caller'].startswith('127.0.0.1:509')
                      for c in calls), 'callers are the sipp UACs')
            busy = [c for c in calls if c['state'] == 'busy']
            check(all(c['final_status'] == 486 for c in busy), 'busy calls ended with 486')
            cancelled = [c for c in calls if c['state'] == 'cancelled']
            check(all(c['final_status'] == 487 for c in cancelled), 'cancelled calls ended with 487')
            for c in calls:
                if c['state'] != 'completed':
                    continue
                streams = api('calls/%s/streams' % c['id'])['streams']
                dirs = {(s['src'], s['dst']) for s in streams}
                check(len(streams) == 2 and len(dirs) == 2 and all((d, s) in dirs for s, d in dirs),
                      '%s: two streams, one each way (%s)' % (c['id'], sorted(dirs)))
                check(all(s['packets'] == PACKETS and s['expected'] == PACKETS and s['lost'] == 0
                          and s['codec'] == 'PCMA' for s in streams),
                      '%s: every stream %d packets, zero loss: %s' % (c['id'], PACKETS,
                      [(s['packets'], s['lost']) for s in streams]))
            stats = api('stats')
            check(stats['calls'] == 7, 'stats: 7 calls stored')
            mx = metrics(port)
            check(float(mx.get('sipscope_packets_total', 0)) > 1400 and
                  float(mx.get('sipscope_dropped_packets_total{by="kernel"}', -1)) == 0 and
                  float(mx.get('sipscope_dropped_packets_total{by="ring"}', -1)) == 0,
                  '/metrics while capturing: packets counted, none dropped')
            check(all(float(mx.get('sipscope_calls_total{state="%s"}' % k, -1)) == n for k, n in want.items()),
                  '/metrics: calls by state as sipp placed them')
        finally:
            rc, err = stop_capture(cap)
        check(rc == 0, 'capture ends on SIGINT with status 0 (%s) %s' % (rc, err.strip()[-300:]))
        check('dropped' not in err, 'no packet dropped')
    return check.done()


def place_calls(tmp, during):
    """Runs the UASes, then the UACs at once; returns (name, exit status) of each UAC and UAS."""
    uas = [('uas media', sipp('-sf', scenario('uas_media.xml'), '-i', '127.0.0.1', '-p', '5070', '-mp', '17000',
                              '-m', '3', cwd=tmp)),
           ('uas busy', sipp('-sf', scenario('uas_busy.xml'), '-i', '127.0.0.1', '-p', '5072', '-m', '2', cwd=tmp)),
           ('uas cancel', sipp('-sf', scenario('uas_cancel.xml'), '-i', '127.0.0.1', '-p', '5074', '-m', '2',
                               cwd=tmp))]
    # the UACs start once the UASes listen (issue 22: not after a fixed half second)
    poll(lambda: {5070, 5072, 5074} <= udp_ports() or any(p.poll() is not None for _, p in uas), deadline=30,
         every=0.05)
    # each answered call from its own UAC, so that each has its own media port
    uac = [('uac media %d' % k, sipp('127.0.0.1:5070', '-sf', scenario('uac_media.xml'), '-i', '127.0.0.1',
                                     '-p', str(5080 + k), '-mp', str(16000 + 10 * k), '-m', '1', cwd=tmp))
           for k in range(3)]
    uac += [('uac busy', sipp('127.0.0.1:5072', '-sf', scenario('uac_busy.xml'), '-i', '127.0.0.1', '-p', '5090',
                              '-m', '2', cwd=tmp)),
            ('uac cancel', sipp('127.0.0.1:5074', '-sf', scenario('uac_cancel.xml'), '-i', '127.0.0.1', '-p', '5091',
                                '-m', '2', cwd=tmp))]
    # while the calls are up, look at the API now and then
    deadline = time.time() + 60
    while any(p.poll() is None for _, p in uac) and time.time() < deadline:
        during()
        time.sleep(0.5)
    out = []
    for name, p in uac + uas:
        try:
            out.append((name, p.wait(timeout=60)))
        except subprocess.TimeoutExpired:
            p.kill()
            out.append((name, 'timeout'))
    return out


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
