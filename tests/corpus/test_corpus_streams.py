#!/usr/bin/env python3
"""RTP streams of every capture in ../shared/corpus against tshark's `-z rtp,streams`
(rtp_streams.txt): matched by source, destination and SSRC, the same packets and lost, and
max delta, max jitter and mean jitter within 0.1 ms or 1 %. Where sipscope differs on
purpose, the rule below says how and why, and is checked as strictly:

- UNTIMED: a telephone-event stream (RFC 4733) keeps one timestamp across an event's
  packets, so interarrival jitter is meaningless; a payload type no SDP mapped and no
  static table knows has no clock to measure it with. sipscope says null for both; tshark
  prints 0. Everything else must match.
- Captures without SIP (tshark was run with its RTP heuristic) are matched like the rest:
  sipscope finds media no SDP announced with nDPI, as orphan streams (call null).
- T38_WITHDRAWN: heplify_fax_t38 offers T.38 (CSeq 3) and withdraws it 100 ms later for
  audio (CSeq 4, answered 200); tshark goes on decoding the RTP as UDPTL ("Malformed
  Packet") and cuts the streams there. sipscope follows the final offer/answer (RFC 3264
  §8): it must count at least tshark's packets, all of them RTP.
Skips (77) without the corpus.

Usage: test_corpus_streams.py PATH/TO/sipscope"""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from sstest import Checks, analyze, corpus, skip  # noqa: E402

RULES = {'heplify_fax_t38.pcap': 'T38_WITHDRAWN'}


def oracle(path):
    out = []
    for l in open(path):
        m = re.match(r'\s*([\d.]+)\s+([\d.]+)\s+(\S+)\s+(\d+)\s+(\S+)\s+(\d+)\s+(0x[0-9A-Fa-f]+)\s+(.+?)\s+(\d+)\s+(-?\d+) \(.*?\)'
                     r'\s+([\d.-]+)\s+([\d.-]+)\s+([\d.-]+)\s+([\d.-]+)\s+([\d.-]+)\s+([\d.-]+)', l)
        if m:
            g = m.groups()
            fmt = lambda a, p: '[%s]:%s' % (a, p) if ':' in a else '%s:%s' % (a, p)
            out.append(dict(src=fmt(g[2], g[3]), dst=fmt(g[4], g[5]), ssrc=int(g[6], 16), payload=g[7],
                            packets=int(g[8]), lost=int(g[9]), max_delta_ms=float(g[12]),
                            mean_jitter_ms=float(g[14]), max_jitter_ms=float(g[15])))
    return out


def close(a, b):
    return a is not None and abs(a - b) <= max(0.005, 0.01 * abs(b))


def main(exe):
    found = corpus()
    if not found:
        return skip('../shared/corpus is not present')
    corpus_dir, names = found
    check = Checks()
    for name in names:
        ref = oracle(os.path.join(corpus_dir, 'oracle', name, 'rtp_streams.txt'))
        j = analyze(exe, os.path.join(corpus_dir, 'pcap', name))
        ours = {(s['src'], s['dst'], int(s['ssrc'], 16)): s for s in j['streams']}
        rule = RULES.get(name)
        for o in ref:
            s = ours.get((o['src'], o['dst'], o['ssrc']))
            w = '%s %s -> %s' % (name, o['src'], o['dst'])
            if not check(s is not None, w + ': missing'):
                continue
            if o['payload'] and name.startswith('sipp_') and not j['calls']:
                check(s['call'] is None, w + ': an orphan (no SDP) has no call')
            if rule == 'T38_WITHDRAWN':
                check(s['packets'] >= o['packets'] and s['codec'] == 'PCMA', w + ': %d packets' % s['packets'])
                continue
            check(s['packets'] == o['packets'], w + ': packets %s, tshark %s' % (s['packets'], o['packets']))
            check(s['lost'] == o['lost'], w + ': lost %s, tshark %s' % (s['lost'], o['lost']))
            check(close(s['max_delta_ms'], o['max_delta_ms']), w + ': max delta %s, tshark %s' % (s['max_delta_ms'], o['max_delta_ms']))
            if s['codec'] == 'telephone-event' or s['clock_rate'] is None:
                check(s['max_jitter_ms'] is None and s['mean_jitter_ms'] is None and
                      o['max_jitter_ms'] == 0 and o['mean_jitter_ms'] == 0, w + ': untimed jitter')
                continue
            check(close(s['max_jitter_ms'], o['max_jitter_ms']), w + ': max jitter %s, tshark %s' % (s['max_jitter_ms'], o['max_jitter_ms']))
            check(close(s['mean_jitter_ms'], o['mean_jitter_ms']), w + ': mean jitter %s, tshark %s' % (s['mean_jitter_ms'], o['mean_jitter_ms']))
        extra = set(ours) - {(o['src'], o['dst'], o['ssrc']) for o in ref}
        check(not extra, '%s: streams tshark does not list: %s' % (name, sorted(extra)))
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
