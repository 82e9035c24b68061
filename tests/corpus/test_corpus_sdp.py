#!/usr/bin/env python3
"""The SDP of every SIP message in ../shared/corpus (SDP carried by SIP only: H.248
in heplify_fax_t38 carries SDP too) against tshark's own SDP dissection,
run here (tshark is an independent reader): for each frame, the media ports and the
connection addresses. Skips (exit 77) without the corpus or without tshark.

Usage: test_corpus_sdp.py PATH/TO/sipscope"""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from sstest import analyze, corpus, skip  # noqa: E402

# per-capture decode options, as ../shared/corpus/make_oracle.sh uses them
OPTS = {'heplify_sip_tcp_fragmented.pcap': ['-d', 'tcp.port==6060,sip']}


def tshark_sdp(path, name):
    out = subprocess.run(['tshark', '-n', '-r', path, *OPTS.get(name, []), '-Y', 'sip && sdp', '-T', 'fields',
                          '-E', 'occurrence=a', '-E', 'aggregator=|', '-e', 'frame.number',
                          '-e', 'sdp.media.port', '-e', 'sdp.connection_info.address'],
                         capture_output=True, text=True, check=True).stdout
    res = {}
    for line in out.splitlines():
        f = line.split('\t')
        ports = sorted(int(p) for p in f[1].split('|') if p) if len(f) > 1 else []
        addrs = sorted(set(a for a in f[2].split('|') if a)) if len(f) > 2 else []
        res[int(f[0])] = (ports, addrs)
    return res


def ours(exe, path):
    res = {}
    for m in analyze(exe, path, '--messages', '--keep-duplicates')['messages']:  # as tshark
        if not m.get('sdp'):
            continue
        ports, addrs = res.setdefault(m['frame'], ([], []))
        for md in m['sdp']['media']:
            ports.append(md['port'])
            if md['addr']:
                addrs.append(md['addr'])
    return {f: (sorted(p), sorted(set(a))) for f, (p, a) in res.items()}


def main(exe):
    found = corpus()
    if not found or not shutil.which('tshark'):
        return skip('corpus or tshark not present')
    corpus_dir, names = found
    pdir = os.path.join(corpus_dir, 'pcap')
    passed = failed = 0
    for name in names:
        path = os.path.join(pdir, name)
        want, got = tshark_sdp(path, name), ours(exe, path)
        if want == got:
            passed += 1
            print('%s: SDP of %d messages agrees with tshark' % (name, len(got)))
            continue
        failed += 1
        print('%s: differs' % name)
        for f in sorted(set(want) | set(got))[:8]:
            if want.get(f) != got.get(f):
                print('  frame %d: tshark %s, ours %s' % (f, want.get(f), got.get(f)))
    print('%d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
