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
  Packet"), its T.38 heuristic takes six more packets, and it cuts the stream there.
  sipscope follows the final offer/answer (RFC 3264 §8): the port carries RTP again. The
  reference is then tshark told the same — SDP and T.38 off, the ports decoded as RTP —
  and every figure must match it as strictly as elsewhere (issue 22: this was "at least
  tshark's packets"). Its other stream has comfort noise: its max delta and jitter are
  worked from tshark's per-packet decode by the rule of a8_over_talk.
Skips (77) without the corpus.

Usage: test_corpus_streams.py PATH/TO/sipscope"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from sstest import Checks, analyze, corpus, skip  # noqa: E402

RULES = {'heplify_fax_t38.pcap': 'T38_WITHDRAWN'}


def oracle(path):
    return parse(open(path).read())


def tshark_as_rtp(pcap, ports):
    """tshark's `-z rtp,streams` with SDP and T.38 off and the ports decoded as RTP: what
    it reads once told the port carries RTP, as the final answer said (RFC 3264 §8)."""
    args = ['tshark', '-r', pcap, '--disable-protocol', 'sdp', '--disable-protocol', 't38', '-q', '-z', 'rtp,streams']
    for p in ports:
        args += ['-d', 'udp.port==%d,rtp' % p]
    return parse(subprocess.run(args, check=True, capture_output=True, text=True).stdout)


def a8_over_talk(pcap, ports, o):
    """For a stream with comfort noise (RFC 3389, PT 13) beside its voice: max delta and
    the mean and max of RFC 3550 A.8's J, worked here from tshark's own per-packet decode
    (arrival time, payload type, RTP timestamp; the ports as RTP, as in tshark_as_rtp).
    tshark's rtp,streams folds the silence into its figures; sipscope gives them for the
    talk (README, metrics/stream.c), so the exact difference is: the gap after a CN packet
    is silence, not a delta; CN packets stay on J's chain (their timestamps run at the
    audio's 8 kHz, RFC 3551 Table 4) but give no sample, nor does the voice packet that
    ends the silence; a dynamic payload type no SDP mapped has no clock and is left out."""
    args = ['tshark', '-r', pcap, '--disable-protocol', 'sdp', '--disable-protocol', 't38', '-Y',
            'rtp && ip.src == %s && udp.srcport == %s && rtp.ssrc == %d' % (*o['src'].rsplit(':', 1), o['ssrc']),
            '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'rtp.p_type', '-e', 'rtp.timestamp']
    for p in ports:
        args += ['-d', 'udp.port==%d,rtp' % p]
    rows = [l.split('\t') for l in subprocess.run(args, check=True, capture_output=True, text=True).stdout.split('\n')
            if l]
    voice = int(next(r[1] for r in rows if r[1] != '13'))
    j, prev, last_cn, samples, delta = 0.0, None, False, [], 0.0
    for t, pt, ts in ((float(r[0]), int(r[1]), int(r[2])) for r in rows):
        if pt not in (voice, 13):
            continue
        if prev is not None:
            j += (abs((t - prev[0]) * 8000 - (ts - prev[1])) - j) / 16
            if not last_cn:
                delta = max(delta, (t - prev[0]) * 1000)
            if pt == voice and not last_cn:
                samples.append(j / 8)
        prev, last_cn = (t, ts), pt == 13
    return dict(o, max_delta_ms=delta, mean_jitter_ms=sum(samples) / len(samples), max_jitter_ms=max(samples))


def parse(text):
    out = []
    for l in text.splitlines():
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
        pcap = os.path.join(corpus_dir, 'pcap', name)
        j = analyze(exe, pcap)
        ours = {(s['src'], s['dst'], int(s['ssrc'], 16)): s for s in j['streams']}
        rule = RULES.get(name)
        if rule == 'T38_WITHDRAWN':
            cut = [o for o in ref if o['payload'].startswith('g711A') and ours.get((o['src'], o['dst'], o['ssrc'])) and
                   ours[(o['src'], o['dst'], o['ssrc'])]['packets'] != o['packets']]
            check(len(cut) == 1, '%s: tshark cuts one stream at the T.38 offer (%d)' % (name, len(cut)))
            ports = sorted({int(o['src'].rsplit(':', 1)[1]) for o in cut})
            ref = tshark_as_rtp(pcap, ports)
            check(len(ref) == 2 and all(o['payload'].startswith('g711A') for o in ref),
                  '%s: tshark decoding the port as RTP finds both G.711 streams: %s' % (name, ref))
            ref = [a8_over_talk(pcap, ports, o) if ', CN' in o['payload'] else o for o in ref]
        for o in ref:
            s = ours.get((o['src'], o['dst'], o['ssrc']))
            w = '%s %s -> %s' % (name, o['src'], o['dst'])
            if not check(s is not None, w + ': missing'):
                continue
            if o['payload'] and name.startswith('sipp_') and not j['calls']:
                check(s['call'] is None, w + ': an orphan (no SDP) has no call')
            if rule == 'T38_WITHDRAWN':
                check(s['codec'] == 'PCMA', w + ': PCMA, as the final answer says (%s)' % s['codec'])
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
