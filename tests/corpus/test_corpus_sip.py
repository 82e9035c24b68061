#!/usr/bin/env python3
"""Every SIP message of every capture in ../shared/corpus, against tshark's oracle
(sip_messages.tsv): the same set of (frame, source IP, destination IP, Call-ID, CSeq
number, CSeq method, request method, status code). The expected set is read from the
oracle here, never from sipscope. A frame holding several messages (TCP) has its values
joined with '|' in the oracle and is split back into messages.

Usage: test_corpus_sip.py PATH/TO/sipscope    (SIPSCOPE_CORPUS names the corpus; skips
with exit 77 when it is absent)"""
import ipaddress
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from sstest import analyze, corpus, skip  # noqa: E402


def norm_ip(a):
    return str(ipaddress.ip_address(a))


def cseq_key(v):
    num, _, meth = v.strip().partition(' ')
    return (int(num), meth.strip())


def oracle_messages(path):
    """(frame, src, dst, call_id, cseq, method|None, status|None) multiset, via tshark's
    per-message fields."""
    res = []
    for line in open(path):
        f = line.rstrip('\n').split('\t')
        if len(f) < 10 or not f[0]:
            continue
        frame = int(f[0])
        src = norm_ip((f[2] or f[3]).split('|')[-1])  # tunnels: the innermost header
        dst = norm_ip((f[4] or f[5]).split('|')[-1])
        cids, cseqs = f[6].split('|'), f[7].split('|')
        methods = f[8].split('|') if f[8] else []
        codes = [int(c) for c in f[9].split('|')] if f[9] else []
        for cid, cs in zip(cids, cseqs):
            res.append((frame, src, dst, cid, cseq_key(cs)))
        res.append(('kinds', frame, tuple(sorted(methods)), tuple(sorted(codes))))
    return res


def ours(exe, pcap):
    res = []
    kinds = {}
    for m in analyze(exe, pcap, '--messages', '--keep-duplicates')['messages']:  # tshark keeps copies
        src = norm_ip(m['src'].rsplit(':', 1)[0].strip('[]'))
        dst = norm_ip(m['dst'].rsplit(':', 1)[0].strip('[]'))
        res.append((m['frame'], src, dst, m['call_id'], cseq_key(m['cseq']) if m['cseq'] else None))
        k = kinds.setdefault(m['frame'], ([], []))
        if m['method'] is not None:
            k[0].append(m['method'])
        else:
            k[1].append(m['status'])
    for frame, (meths, codes) in kinds.items():
        res.append(('kinds', frame, tuple(sorted(meths)), tuple(sorted(codes))))
    return res


def main(exe):
    found = corpus()
    if not found:
        return skip('../shared/corpus is not present')
    corpus_dir, names = found
    pdir = os.path.join(corpus_dir, 'pcap')
    passed = failed = 0
    for name in names:
        want = sorted(oracle_messages(os.path.join(corpus_dir, 'oracle', name, 'sip_messages.tsv')), key=str)
        got = sorted(ours(exe, os.path.join(pdir, name)), key=str)
        if want == got:
            passed += 1
            print('%s: %d SIP messages agree with tshark' % (name, sum(1 for w in want if w[0] != 'kinds')))
        else:
            failed += 1
            ws, gs = set(want), set(got)
            print('%s: differs from tshark' % name)
            for x in sorted(ws - gs, key=str)[:5]:
                print('  tshark only:', x)
            for x in sorted(gs - ws, key=str)[:5]:
                print('  ours only:  ', x)
    print('%d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
