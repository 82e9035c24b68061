#!/usr/bin/env python3
"""Per-hop timing and DNS beside SIP, end to end (tests/gen/paths.py): for each scenario,
the hops of the call and the time each held the INVITE, its downstream's answer time and
its relay time; the DNS look-ups tied to the call, with their type, answer code, tries and
duration; and exactly the issues the scenario was built to raise (none on each twin), with
evidence that names the host. Everything expected is written by the generator, by
construction, never read off sipscope. The same capture with every frame doubled (a
mirror port) must read the same.

Usage: test_paths.py PATH/TO/sipscope"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from sstest import Checks, analyze, generate  # noqa: E402


def close(a, b):
    return a is None and b is None or a is not None and b is not None and abs(a - b) < 0.01


def view(j):
    """What a call's path, look-ups and issues read as, by Call-ID: for comparing runs."""
    return {c['call_id']: (c['hops'], [{k: v for k, v in s.items() if k not in ('frame',)} for s in c['path']],
                           [{k: v for k, v in d.items() if k not in ('frames', 'next_frame')} for d in c['dns']],
                           sorted((i['kind'], i['severity'], i['summary']) for i in c['issues']))
            for c in j['calls']}


def main(exe):
    check = Checks()
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, 'p.pcap')
        truth = generate('paths', pcap, os.path.join(tmp, 'p.json'))
        j = analyze(exe, pcap, '--messages')
        calls = {c['call_id']: c for c in j['calls']}
        frames_of = {}
        for m in j['messages']:
            frames_of.setdefault(m['call'], set()).add(m['frame'])
        check(len(j['calls']) == len(truth['scenarios']), '%d calls, %d scenarios' % (len(j['calls']), len(truth['scenarios'])))
        for t in truth['scenarios']:
            n, h = t['name'], t['hosts']
            c = calls.get(t['call_id'])
            if not c:
                check(False, '%s: call missing' % n)
                continue
            check(len(c['path']) == t['segments'], '%s: %d segments of the path, truth %d' % (n, len(c['path']), t['segments']))
            check(c['path'] and c['path'][0]['forwards'] is None, '%s: the first INVITE forwards nothing' % n)
            got = [(x['host'].split(':')[0], x['held_ms'], x['downstream_ms'], x['relay_ms']) for x in c['hops']]
            want = [(h[x['host']], x['held_ms'], x['downstream_ms'], x['relay_ms']) for x in t['hops']]
            check(len(got) == len(want) and all(g[0] == w[0] and all(close(a, b) for a, b in zip(g[1:], w[1:]))
                                                for g, w in zip(got, want)),
                  '%s: hops %s, truth %s' % (n, got, want))
            check(all(s['matched_by'] == 'via' for s in c['path'][1:]), '%s: forwarded copies matched by Via' % n)
            if 'pdd_ms' in t:  # the caller's 180, not the first one downstream (RFC 6076 §4.1)
                check(close(c['pdd_ms'], t['pdd_ms']), '%s: PDD %s ms, truth %s' % (n, c['pdd_ms'], t['pdd_ms']))
            got = [(d['host'], d['server'], d['name'], d['type'], d['rcode'], d['tries'], d['duration_ms']) for d in c['dns']]
            want = [(h[d['host']], h[d['server']], d['name'], d['type'], d['rcode'], d['tries'], float(d['duration_ms']))
                    for d in t['dns']]
            check(got == want, '%s: DNS %s, truth %s' % (n, got, want))
            # every look-up's frames are DNS frames of the capture, not the call's SIP
            for d in c['dns']:
                check(all(1 <= f <= truth['frames'] and f not in frames_of.get(c['id'], ()) for f in d['frames']),
                      '%s: look-up frames %s' % (n, d['frames']))
            got = sorted((i['kind'], i['severity']) for i in c['issues'])
            want = sorted(tuple(x) for x in t['issues'])
            check(got == want, '%s: issues %s, truth %s' % (n, got, want))
            for i in c['issues']:
                check(set(i['frames']) & frames_of.get(c['id'], set()), '%s: %s frames %s name a message of the call'
                      % (n, i['kind'], i['frames']))
                check(i['summary'] and i['diagnosis'], '%s: %s has words' % (n, i['kind']))
            ev = {i['kind']: i['evidence'] for i in c['issues']}
            if n == 'two_proxy':
                e = ev.get('slow_hop', {})
                check(e.get('host') == h['p1'] + ':5060' and close(e.get('held_ms'), 1500)
                      and e.get('to') == h['p2'] + ':5060', '%s: slow_hop names P1, 1500 ms, towards P2: %s' % (n, e))
            if n == 'srv_slow':
                e = ev.get('dns_slow', {})
                check(e.get('host') == h['a'] and e.get('name') == '_sip._udp.example.com' and e.get('type') == 'SRV'
                      and e.get('tries') == 2 and close(e.get('duration_ms'), 2500) and e.get('server') == h['dns2'],
                      '%s: dns_slow names the caller, the SRV, 2 tries, 2500 ms: %s' % (n, e))
                invite = c['path'][0]['frame']
                check(invite in next(i for i in c['issues'] if i['kind'] == 'dns_slow')['frames'],
                      '%s: the delayed INVITE (frame %d) is evidence' % (n, invite))
            if n == 'nxdomain':
                e = ev.get('dns_failure', {})
                check(e.get('host') == h['p1'] and e.get('name') == 'nowhere.example'
                      and e.get('answers') == 'NAPTR NXDOMAIN, SRV NXDOMAIN, A NXDOMAIN',
                      '%s: dns_failure names P1 and the three NXDOMAINs: %s' % (n, e))
            if n == 'timeout408':
                e = ev.get('slow_hop', {})
                w = t['timeout']
                check(e.get('host') == h[w['host']] + ':5060' and e.get('status') == w['status']
                      and close(e.get('after_ms'), w['after_ms']) and e.get('to') == h['p2'] + ':5060'
                      and e.get('forwarded_copies') == 7 and e.get('downstream_answer') == 'none',
                      '%s: slow_hop names P1, 408 after 32.02 s, P2 silent: %s' % (n, e))
        # the issues list of the document holds them too, as many as the scenarios raise
        mine = ('dns_slow', 'dns_failure', 'slow_hop')
        kinds = sorted(i['kind'] for i in j['issues'] if i['kind'] in mine)
        want = sorted(k for t in truth['scenarios'] for k, _ in t['issues'] if k in mine)
        check(kinds == want, 'document issues %s, truth %s' % (kinds, want))
        # the DNS counts as the generator wrote them (issue 22: no longer numbers read off
        # sipscope): messages whole (a TCP answer in two segments is one), look-ups (a
        # retry is a try of one), TCP answers that never ended, responses to no query
        ly, td = j['capture']['layers'], truth['dns']
        got = (ly['dns'], ly['dns_tcp_partial'], ly['dns_lookups'], ly['dns_unmatched_responses'])
        want = (td['messages'], td['tcp_partial'], td['lookups'], td['unmatched_responses'])
        check(got == want and td['tcp_messages'] == 2,
              'DNS: messages, unended TCP answers, look-ups, unmatched responses %s, truth %s' % (got, want))

        # a mirror port doubling every frame: the same paths, look-ups and issues
        mpcap = os.path.join(tmp, 'm.pcap')
        mt = generate('paths', mpcap, os.path.join(tmp, 'm.json'), '--mirror')
        jm = analyze(exe, mpcap)
        check(jm['capture']['duplicates'] == mt['mirror_copies'], 'mirror: %s copies dropped, %d written'
              % (jm['capture']['duplicates'], mt['mirror_copies']))
        a, b = view(j), view(jm)
        check(a == b, 'mirror: the doubled capture reads the same%s'
              % ('' if a == b else ': ' + str([k for k in a if a[k] != b.get(k)])))

        # the thresholds are knobs: a 2 s hold is allowed, and a 3 s look-up
        jt = analyze(exe, pcap, '--threshold', 'hop_hold_warn_ms=2000', '--threshold', 'dns_slow_warn_ms=3000')
        left = sorted(i['kind'] for i in jt['issues'] if i['kind'] in ('dns_slow', 'slow_hop'))
        check(left == ['slow_hop', 'slow_hop'], 'thresholds raised: only the 408 hop and the 5.5 s hold are left: %s'
              % left)
        jt = analyze(exe, pcap, '--threshold', 'dns_slow_warn_ms=3000')
        p = next(c for c in jt['calls'] if c['call_id'] == next(t['call_id'] for t in truth['scenarios']
                                                                  if t['name'] == 'proxy_srv_slow'))
        check([i['kind'] for i in p['issues']] == [],
              'proxy_srv_slow with a 3 s DNS threshold: its 2 s hold is still the look-up\'s, no slow_hop: %s'
              % [i['kind'] for i in p['issues']])

        # the terminal ladder shows the holds and the look-ups
        cid = next(t['call_id'] for t in truth['scenarios'] if t['name'] == 'srv_slow')
        r = subprocess.run([exe, 'ladder', pcap, cid], capture_output=True, text=True)
        check(r.returncode == 0 and 'SRV _sip._udp.example.com' in r.stdout and '2500.0 ms' in r.stdout,
              'ladder srv_slow: the look-up and its 2500 ms:\n%s' % r.stdout)
        cid = next(t['call_id'] for t in truth['scenarios'] if t['name'] == 'two_proxy')
        r = subprocess.run([exe, 'ladder', pcap, cid], capture_output=True, text=True)
        check(r.returncode == 0 and 'held 1500.0 ms' in r.stdout and 'held 40.0 ms' in r.stdout,
              'ladder two_proxy: both holds:\n%s' % r.stdout)
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
