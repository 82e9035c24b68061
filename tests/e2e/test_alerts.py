#!/usr/bin/env python3
"""--alerts: rules judged over windows of packet time, POSTed to a webhook on loopback.

Two generated captures (tests/gen/sipgen.py calls) ten minutes apart: in the first, three
calls in four are busy (ASR 25 %); in the second every call is answered. With a 120 s
window, the receiver (a Python http.server on 127.0.0.1, port of its own) must get:
- low_asr (asr < 50, at least 5 calls): one "firing" whose value is the first capture's
  ASR from the generator's truth (answered over calls), over its 20 calls, with busy calls
  as examples and offenders, then one "resolved" (ASR 100 %) - nothing more;
- slow_pdd (pdd_p95 > a threshold under every PDD): one "firing" whose value is the
  nearest-rank p95 of the first capture's PDDs from the truth, and no resolution (it
  stays bad: no repeat);
- never (pdd_p95 above ten minutes): nothing.
The log line of each change is on stderr; a rules file with a bad line is refused naming
the line.

Then the security kinds, whose issues belong to no call and are reported only when their
episode ends (tests/gen/security.py): its sweep (203.0.113.66 scans for 60 s, guessing
1001's password in its last 30 s) under count:KIND rules with a 20 s window must fire
sip_scan and auth_brute_force once each while the sweep goes on (the window ends before
its last packet), name 203.0.113.66 as the top offender with the link to its issue (the
issue of the same run's JSON), resolve once, and never fire again although the scan goes
on past the resolution; its twin, the busy PBX, fires nothing.

Usage: test_alerts.py PATH/TO/sipscope"""
import http.server
import json
import math
import os
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from sstest import Checks, generate  # noqa: E402

SHIFT_S = 600


def shift_pcap(src, dst, seconds):
    """A copy of a classic pcap file with every timestamp moved on by `seconds`."""
    d = open(src, 'rb').read()
    e = '<' if d[:4] in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
    out, off = bytearray(d[:24]), 24
    while off < len(d):
        sec, frac, incl, orig = struct.unpack(e + 'IIII', d[off:off + 16])
        out += struct.pack(e + 'IIII', sec + seconds, frac, incl, orig) + d[off + 16:off + 16 + incl]
        off += 16 + incl
    open(dst, 'wb').write(out)


class Receiver(http.server.BaseHTTPRequestHandler):
    got = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
        Receiver.got.append((self.path, self.headers.get('Content-Type'), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def nearest_rank(values, p):
    v = sorted(values)
    return v[max(0, math.ceil(p / 100 * len(v)) - 1)]


def main(exe):
    check = Checks()
    started = time.monotonic()
    srv = http.server.HTTPServer(('127.0.0.1', 0), Receiver)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp:
        a, b = os.path.join(tmp, 'a.pcap'), os.path.join(tmp, 'b.pcap')
        common = ['--calls', '20', '--duration', '2', '--concurrency', '5']
        ta = generate('calls', a, os.path.join(tmp, 'a.json'), *common, '--outcomes', 'busy,busy,busy,answered')
        generate('calls', b, os.path.join(tmp, 'b0.json'), *common, '--outcomes', 'answered', '--seed', '4')
        tb = json.load(open(os.path.join(tmp, 'b0.json')))
        b2 = os.path.join(tmp, 'b2.pcap')
        shift_pcap(b, b2, SHIFT_S)
        pdd_a = [(c['ringing_ns'] - c['invite_ns']) / 1e6 for c in ta['calls'] if c.get('ringing_ns')]
        pdd_all = pdd_a + [(c['ringing_ns'] - c['invite_ns']) / 1e6 for c in tb['calls'] if c.get('ringing_ns')]
        low = min(pdd_all) - 1
        rules = os.path.join(tmp, 'rules')
        with open(rules, 'w') as f:
            f.write('# the test\'s rules\nwebhook http://127.0.0.1:%d/hook\n'
                    'low_asr  asr < 50 120 5\n'
                    'slow_pdd pdd_p95 > %r 120   # under every PDD: bad throughout\n'
                    'never    pdd_p95 > 600000 120\n' % (srv.server_port, low))
        r = subprocess.run([exe, 'analyze', '--no-progress', '--alerts', rules, a, b2], capture_output=True,
                           text=True, timeout=120)
        check(r.returncode == 0, 'analyze --alerts runs (%s)' % r.stderr[-300:])
        posts = [json.loads(body) for path, ctype, body in Receiver.got
                 if check(path == '/hook' and ctype == 'application/json', 'a JSON POST to /hook')]
        payload_checks(check, posts, ta, pdd_a, low)
        lines = [l for l in r.stderr.splitlines() if ' alert ' in l]
        check(len(lines) == 3 and sum('low_asr firing' in l for l in lines) == 1
              and sum('low_asr resolved' in l for l in lines) == 1 and sum('slow_pdd firing' in l for l in lines) == 1,
              'a log line per change (%s)' % lines)
        with open(rules, 'a') as f:
            f.write('bad asr <= 50 120\n')
        r = subprocess.run([exe, 'analyze', '--no-progress', '--alerts', rules, a], capture_output=True,
                           text=True, timeout=60)
        check(r.returncode != 0 and 'line 6' in r.stderr and '< or >' in r.stderr,
              'a bad line is refused, named (%s)' % r.stderr.strip()[-200:])
        security_checks(check, exe, tmp, srv.server_port)
    srv.shutdown()
    print('took %.1f s' % (time.monotonic() - started))
    return check.done()


SEC_RULES = ('webhook http://127.0.0.1:%d/sec\n'
             'scan   count:sip_scan > 0 20\n'
             'guess  count:auth_brute_force > 0 20\n'
             'hijack rate:registration_hijack > 0 20\n'
             'fraud  count:toll_fraud_pattern > 0 20\n')


def security_run(check, exe, tmp, port, only):
    """The scenario's capture analysed with SEC_RULES: (truth, posts, issues, alert lines)."""
    pcap = os.path.join(tmp, only + '.pcap')
    truth = generate('security', pcap, os.path.join(tmp, only + '.json'), '--only', only)
    rules = os.path.join(tmp, 'sec-rules')
    with open(rules, 'w') as f:
        f.write(SEC_RULES % port)
    del Receiver.got[:]
    r = subprocess.run([exe, 'analyze', '--no-progress', '--json', '--alerts', rules, pcap],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, '%s: analyze --alerts runs (%s)' % (only, r.stderr[-300:]))
    posts = [json.loads(body) for path, ctype, body in Receiver.got
             if check(path == '/sec' and ctype == 'application/json', 'a JSON POST to /sec')]
    issues = json.loads(r.stdout)['issues'] if r.returncode == 0 else []
    return truth, posts, issues, [l for l in r.stderr.splitlines() if ' alert ' in l]


def security_checks(check, exe, tmp, port):
    truth, posts, issues, lines = security_run(check, exe, tmp, port, 'sweep')
    kinds = {'scan': 'sip_scan', 'guess': 'auth_brute_force'}
    seq = sorted((p['rule'], p['state']) for p in posts)
    check(seq == sorted((r, s) for r in kinds for s in ('firing', 'resolved')) and len(lines) == 4,
          'sweep: scan and guess fire once and resolve once, nothing else (%s)' % seq)
    src = [e[1] for e in truth['expected']]
    check(src == ['203.0.113.66'] * 2, 'the truth names the sweep\'s source for both (%s)' % src)
    for rule, kind in kinds.items():
        fire = next((p for p in posts if p['rule'] == rule and p['state'] == 'firing'), None)
        if not check(fire is not None, '%s fired' % rule):
            continue
        check(fire['metric'] == 'count:' + kind and fire['value'] == 1 and fire['calls'] == 1,
              '%s: one %s in the window (%s)' % (rule, kind, {k: fire[k] for k in ('metric', 'value', 'calls')}))
        check(fire['window']['end'] < truth['last_ns'] / 1e9,
              '%s fired while the sweep went on (at %.1f s of %.1f)'
              % (rule, fire['window']['end'] - truth['first_ns'] / 1e9, (truth['last_ns'] - truth['first_ns']) / 1e9))
        top = fire['top_offenders']
        issue = next((i for i in issues if i['kind'] == kind), None)
        if not check(len(top) == 1 and top[0].get('source') == src[0] and top[0]['issues'] == 1
                     and top[0]['kind'] == kind and issue is not None, '%s: the offender is %s (%s)' % (rule, src[0], top)):
            continue
        q = dict(kv.split('=') for kv in top[0]['link'].partition('?')[2].split('&'))
        check(top[0]['link'].startswith('/api/v1/issues?') and q['kind'] == kind
              and float(q['from']) <= issue['time'] < float(q['to']) and float(q['to']) - float(q['from']) < 0.01,
              '%s: the link selects the issue at %.6f (%s)' % (rule, issue['time'], top[0]['link']))
        check(issue['evidence']['source'] == src[0], 'the issue linked names %s' % src[0])
    _, posts, issues, lines = security_run(check, exe, tmp, port, 'pbx')
    check(not posts and not lines, 'the busy PBX fires nothing (%s)' % [(p['rule'], p['state']) for p in posts])


def payload_checks(check, posts, ta, pdd_a, low):
    seq = [(p['rule'], p['state']) for p in posts]
    check(seq == [('low_asr', 'firing'), ('slow_pdd', 'firing'), ('low_asr', 'resolved')]
          or sorted(seq) == sorted([('low_asr', 'firing'), ('slow_pdd', 'firing'), ('low_asr', 'resolved')])
          and seq.index(('low_asr', 'firing')) < seq.index(('low_asr', 'resolved')),
          'one firing per rule that went bad, one resolution, nothing else (%s)' % seq)
    calls = ta['calls']
    answered = sum(1 for c in calls if c['outcome'] == 'answered')
    busy_callees = {c['callee'].rpartition(':')[0] for c in calls if c['outcome'] != 'answered'}
    busy_ids = {'call-%d' % (i + 1) for i, c in enumerate(sorted(calls, key=lambda c: c['invite_ns']))
                if c['outcome'] != 'answered'}
    last_end = max(c.get('end_ns') or c['invite_ns'] for c in calls) / 1e9
    fire = next((p for p in posts if p['rule'] == 'low_asr' and p['state'] == 'firing'), None)
    if check(fire is not None, 'low_asr fired'):
        check(abs(fire['value'] - 100 * answered / len(calls)) < 1e-9 and fire['calls'] == len(calls),
              'its value is the truth\'s ASR %.1f %% over %d calls (%s over %s)'
              % (100 * answered / len(calls), len(calls), fire['value'], fire['calls']))
        check(fire['metric'] == 'asr' and fire['operator'] == '<' and fire['threshold'] == 50
              and fire['window']['seconds'] == 120
              and abs(fire['window']['end'] - fire['window']['start'] - 120) < 1e-6
              and fire['window']['end'] <= last_end + 1e-6 and fire['window']['end'] >= last_end - 120,
              'its rule and window (%s)' % {k: fire[k] for k in ('metric', 'operator', 'threshold', 'window')})
        ex = fire['examples']
        check(len(ex) == 5 and all(e['call'] in busy_ids and e['link'] == '/api/v1/calls/' + e['call'] for e in ex),
              'five examples, busy calls, with their links (%s)' % ex)
        top = fire['top_offenders']
        check(len(top) == 5 and all(t['callee'] in busy_callees and t['calls'] == 1 for t in top),
              'the top offenders are the busy calls\' callees (%s)' % top)
    res = next((p for p in posts if p['rule'] == 'low_asr' and p['state'] == 'resolved'), None)
    check(res is not None and res['value'] == 100 and res['window']['start'] > last_end,
          'low_asr resolved at 100 %% in the second capture (%s)' % (res and res['value']))
    pdd = next((p for p in posts if p['rule'] == 'slow_pdd'), None)
    want = nearest_rank(pdd_a, 95)
    check(pdd is not None and abs(pdd['value'] - want) < 1e-6 and pdd['threshold'] == low,
          'slow_pdd fired at the truth\'s nearest-rank p95 %.3f ms (%s)' % (want, pdd and pdd['value']))


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
