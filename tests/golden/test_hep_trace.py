#!/usr/bin/env python3
"""A proxy's SIP seen twice (issue 21): on the wire and in the HEPv3 trace the proxy sends
of it (Kamailio's siptrace next to a SPAN port). tests/gen/paths.py writes its calls through
proxies three ways: the wire alone, the wire with every proxy's HEP trace beside it (the
HEP time on the tracer's own clock, several ms off the wire's, the HEP packet before or
after the wire frame), and the HEP trace alone. A message in both views is one send:
beside the wire, sipscope drops exactly the HEP copies the generator wrote
(capture.duplicates) and reads the same messages, retransmissions and issues as from the
wire alone, "sent N times" included; P1's genuine INVITE resends (Timer A, 500 ms apart,
each seen in both views) stay one send each. The truths are the generator's: copies
written, resends written, the issues each scenario was built to raise.

Usage: test_hep_trace.py PATH/TO/sipscope"""
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from sstest import Checks, analyze, generate  # noqa: E402


def sent_times(c):
    """{issue kind: N} of every "sent N times" a call's issues say (summary or diagnosis)."""
    out = {}
    for i in c['issues']:
        m = re.search(r'sent (\d+) times', i['summary'] + ' ' + i['diagnosis'])
        if m:
            out[i['kind']] = int(m.group(1))
    return out


def per_call(j):
    return {c['call_id']: c for c in j['calls']}


def main(exe):
    check = Checks()
    with tempfile.TemporaryDirectory() as tmp:
        runs = {}
        for name, args in (('wire', ()), ('both', ('--hep',)), ('hep', ('--hep-only',))):
            pcap = os.path.join(tmp, name + '.pcap')
            truth = generate('paths', pcap, os.path.join(tmp, name + '.json'), *args)
            runs[name] = (truth, analyze(exe, pcap, '--messages'))
        tw, w = runs['wire']
        tb, b = runs['both']
        # the capture covers what the issue describes: HEP copies whose time is further from
        # the wire's than a mirror copy's 5 ms, some arriving before their wire frame
        check(tb['hep_copies'] > 0 and tb['hep_before_wire'] > 0 and tb['hep_max_skew_ms'] > 5,
              'the capture: %d HEP copies, %d before their wire frame, up to %.1f ms off'
              % (tb['hep_copies'], tb['hep_before_wire'], tb['hep_max_skew_ms']))
        check(w['capture']['duplicates'] == 0, 'wire alone: no duplicates (%s)' % w['capture']['duplicates'])
        check(b['capture']['duplicates'] == tb['hep_copies'],
              'wire + HEP: %s copies dropped, %d HEP copies written' % (b['capture']['duplicates'], tb['hep_copies']))
        check(b['capture']['sip_messages'] == w['capture']['sip_messages'] == len(w['messages']),
              'wire + HEP: %s SIP messages, the wire alone %s' % (b['capture']['sip_messages'],
                                                                w['capture']['sip_messages']))
        check(len(b['messages']) == len(w['messages']), 'wire + HEP: %d messages listed, the wire alone %d'
              % (len(b['messages']), len(w['messages'])))
        check(sum(m['retransmission'] for m in b['messages']) == sum(s['resends'] for s in tb['scenarios']),
              'wire + HEP: %d messages marked retransmission, %d resends written'
              % (sum(m['retransmission'] for m in b['messages']), sum(s['resends'] for s in tb['scenarios'])))
        wc, bc = per_call(w), per_call(b)
        for t in tb['scenarios']:
            n, cid = t['name'], t['call_id']
            x, y = wc.get(cid), bc.get(cid)
            if not check(x and y, '%s: the call in both runs' % n):
                continue
            check(x['retransmissions'] == y['retransmissions'] == t['resends'],
                  '%s: retransmissions wire %s, wire + HEP %s, written %d' % (n, x['retransmissions'],
                                                                              y['retransmissions'], t['resends']))
            check(x['messages'] == y['messages'], '%s: messages wire %s, wire + HEP %s' % (n, x['messages'], y['messages']))
            got = sorted((i['kind'], i['severity']) for i in y['issues'])
            check(got == sorted(tuple(i) for i in t['issues']), '%s: issues %s, truth %s' % (n, got, t['issues']))
            check(sent_times(x) == sent_times(y), '%s: "sent N times" wire %s, wire + HEP %s'
                  % (n, sent_times(x), sent_times(y)))
            # hop figures: the same hops, each within the HEP clocks' skew of the wire's
            tol = 2 * tb['hep_max_skew_ms'] + 0.01
            hx = [(h['host'], h['held_ms']) for h in x['hops']]
            hy = [(h['host'], h['held_ms']) for h in y['hops']]
            check(len(hx) == len(hy) and all(a[0] == c[0] and abs(a[1] - c[1]) <= tol for a, c in zip(hx, hy)),
                  '%s: hops wire %s, wire + HEP %s' % (n, hx, hy))
            if n == 'timeout408':  # P1's INVITE: the first send and 6 resends, each in both views
                e = next((i['evidence'] for i in y['issues'] if i['kind'] == 'slow_hop'), {})
                check(e.get('forwarded_copies') == 1 + t['resends'],
                      '%s: slow_hop forwarded_copies %s, sent %d times' % (n, e.get('forwarded_copies'), 1 + t['resends']))
                check(sent_times(y).get('retransmissions') == 1 + t['resends'],
                      '%s: retransmissions says sent %s times, written %d' % (n, sent_times(y), 1 + t['resends']))
        # the HEP trace alone: nothing to drop against, P1's resends still its resends
        th, h = runs['hep']
        check(h['capture']['duplicates'] == 0, 'HEP alone: no duplicates (%s)' % h['capture']['duplicates'])
        c = per_call(h).get(next(t['call_id'] for t in th['scenarios'] if t['name'] == 'timeout408'))
        check(c and c['retransmissions'] == 6, 'HEP alone: timeout408 retransmissions %s, 6 written'
              % (c and c['retransmissions']))
        # --keep-duplicates analyses both views, as tshark would
        k = analyze(exe, os.path.join(tmp, 'both.pcap'))
        k2 = analyze(exe, os.path.join(tmp, 'both.pcap'), '--keep-duplicates')
        check(k['capture']['sip_messages'] + tb['hep_copies'] == k2['capture']['sip_messages']
              and k2['capture']['duplicates'] == 0,
              '--keep-duplicates: %s SIP messages, %s with copies dropped, %d copies'
              % (k2['capture']['sip_messages'], k['capture']['sip_messages'], tb['hep_copies']))
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
