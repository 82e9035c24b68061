#!/usr/bin/env python3
"""Per-hop timing and DNS on ../shared/corpus (issue 12), against tshark:
- every hop sipscope reports joins two frames that tshark's sip_messages.tsv shows as
  INVITEs of the call's Call-ID, the first sent to the hop's address, and the hop's
  holding time is the difference of tshark's times for those frames;
- the number of DNS messages read equals the frames tshark decodes as DNS, less those
  whose UDP length is bogus (refused as udp_bad_length: a stated deviation);
- every look-up tied to a call names frames that tshark decodes as a DNS query for that
  name (and, when answered, a response for it with the same RCODE).

Usage: test_corpus_hops.py PATH/TO/sipscope    (SIPSCOPE_CORPUS names the corpus; skips
with exit 77 when it is absent)"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from sstest import Checks, analyze, corpus, skip  # noqa: E402

RCODES = {'0': 'NOERROR', '1': 'FORMERR', '2': 'SERVFAIL', '3': 'NXDOMAIN'}


def tsv(cdir, name):
    rows = {}
    with open(os.path.join(cdir, 'oracle', name, 'sip_messages.tsv')) as f:
        for line in f:
            c = line.rstrip('\n').split('\t')
            rows[int(c[0])] = dict(time=float(c[1]), src=c[2] or c[3], dst=c[4] or c[5], call_id=c[6],
                                   method=c[8])
    return rows


def dns_frames(pcap):
    # a datagram whose UDP length is bogus is refused (udp_bad_length, RFC 768); tshark
    # decodes what it can of it (tcpdump_rtp-seg-fault-1: port 53, length 57343 of 17)
    out = subprocess.run(['tshark', '-r', pcap, '-Y', 'dns and not udp.length.bad', '-T', 'fields', '-E', 'occurrence=f', '-e',
                          'frame.number', '-e', 'dns.qry.name', '-e', 'dns.flags.response', '-e',
                          'dns.flags.rcode'], check=True, capture_output=True, text=True).stdout
    return {int(f[0]): f[1:] for f in (line.split('\t') for line in out.splitlines())}


def main(exe):
    c = corpus()
    if not c:
        return skip('corpus absent')
    cdir, names = c
    check = Checks()
    hops = 0
    for name in names:
        pcap = os.path.join(cdir, 'pcap', name)
        j = analyze(exe, pcap)
        rows = tsv(cdir, name) if os.path.exists(os.path.join(cdir, 'oracle', name, 'sip_messages.tsv')) else {}
        for call in j['calls']:
            for h in call['hops']:
                hops += 1
                a, b = call['path'][h['in']], call['path'][h['out']]
                ra, rb = rows.get(a['frame']), rows.get(b['frame'])
                ok = ra and rb and ra['method'] == 'INVITE' and rb['method'] == 'INVITE' and \
                    ra['call_id'].split('|')[0] in [l['call_id'] for l in call['legs']] and \
                    h['host'].rsplit(':', 1)[0].strip('[]') == ra['dst']
                check(ok, '%s %s: hop %s joins INVITE frames %d and %d' % (name, call['id'], h['host'], a['frame'], b['frame']))
                if ok:
                    want = round((rb['time'] - ra['time']) * 1000, 3)
                    check(abs(h['held_ms'] - want) < 0.002, '%s %s: %s held %.3f ms, tshark\'s times say %.3f'
                          % (name, call['id'], h['host'], h['held_ms'], want))
        seen = dns_frames(pcap)
        check(j['capture']['layers']['dns'] == len(seen), '%s: %d DNS messages read, tshark decodes %d'
              % (name, j['capture']['layers']['dns'], len(seen)))
        for call in j['calls']:
            for d in call['dns']:
                q = seen.get(d['frames'][0])
                check(q and q[0].lower() == d['name'].lower() and q[1] in ('0', 'False'),
                      '%s %s: look-up frame %d is tshark\'s query for %s (%s)' % (name, call['id'], d['frames'][0], d['name'], q))
                if len(d['frames']) > 1:
                    r = seen.get(d['frames'][1])
                    check(r and r[0].lower() == d['name'].lower() and r[1] in ('1', 'True') and RCODES.get(r[2]) == d['rcode'],
                          '%s %s: answer frame %d is tshark\'s %s response (%s)' % (name, call['id'], d['frames'][1], d['rcode'], r))
    check(hops >= 4, '%d hops checked in the corpus' % hops)
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
