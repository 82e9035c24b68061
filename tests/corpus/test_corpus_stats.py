#!/usr/bin/env python3
"""The stats block on every capture of ../shared/corpus against tshark:
- requests by method and responses by status code equal `-z sip,stat` (sip_stat.txt);
- every frame tshark marks resent (sip.resend, run here) is a retransmission for us too;
- every further frame we call a retransmission repeats an earlier message on the same
  path, by the oracle's TSV alone (same source, destination, Call-ID, CSeq and
  method/status): a provisional re-sent unchanged (RFC 3261 §13.3.1.1, RFC 3262), a CANCEL
  re-sent by Timer E (§17.1.2.2), or a mirror port's copy — which tshark 4.0 does not
  count as resent.
Skips (77) without the corpus.

Usage: test_corpus_stats.py PATH/TO/sipscope"""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from sstest import analyze, corpus, in_ci, skip  # noqa: E402

OPTS = {'heplify_sip_tcp_fragmented.pcap': ['-d', 'tcp.port==6060,sip']}


def sip_stat(path):
    statuses, methods, section = {}, {}, None
    for line in open(path):
        if 'Status Codes' in line:
            section = statuses
        elif 'Request methods' in line:
            section = methods
        m = re.match(r'\s+SIP (\d{3}) .*:\s+(\d+) Packets', line)
        if m and section is statuses:
            statuses[m.group(1)] = int(m.group(2))
        m = re.match(r'\s+(\S+)\s+:\s+(\d+) Packets', line)
        if m and section is methods and not line.strip().startswith('SIP '):
            methods[m.group(1)] = int(m.group(2))
    return statuses, methods


def tsv_messages(path):
    """frame -> list of (src, dst, call_id, cseq, method-or-status)"""
    res = {}
    for line in open(path):
        f = line.rstrip('\n').split('\t')
        if len(f) < 10 or not f[0]:
            continue
        src = (f[2] or f[3]).split('|')[-1]
        dst = (f[4] or f[5]).split('|')[-1]
        kinds = (f[8].split('|') if f[8] else []) + (f[9].split('|') if f[9] else [])
        res[int(f[0])] = [(src, dst, cid, cs, k) for cid, cs, k in zip(f[6].split('|'), f[7].split('|'), kinds)]
    return res


def main(exe):
    found = corpus()
    if not found:
        return skip('../shared/corpus is not present')
    corpus_dir, names = found
    pdir = os.path.join(corpus_dir, 'pcap')
    have_tshark = shutil.which('tshark') is not None
    if not have_tshark and in_ci():
        return skip('tshark not installed')  # in CI, a failure
    passed = failed = 0
    for name in names:
        pcap = os.path.join(pdir, name)
        j = analyze(exe, pcap, '--messages', '--keep-duplicates')  # tshark keeps mirror copies
        st = j['stats']
        statuses, methods = sip_stat(os.path.join(corpus_dir, 'oracle', name, 'sip_stat.txt'))
        bad = []
        if st['statuses'] != statuses:
            bad.append('statuses ours %s tshark %s' % (st['statuses'], statuses))
        if st['methods'] != methods:
            bad.append('methods ours %s tshark %s' % (st['methods'], methods))
        ours = sorted(m['frame'] for m in j['messages'] if m['retransmission'])
        if st['retransmissions'] != len(ours):
            bad.append('retransmissions %d, messages flagged %d' % (st['retransmissions'], len(ours)))
        if have_tshark:
            out = subprocess.run(['tshark', '-n', '-r', pcap, *OPTS.get(name, []), '-Y', 'sip.resend==1',
                                  '-T', 'fields', '-e', 'frame.number'], capture_output=True, text=True,
                                 check=True).stdout
            theirs = sorted(int(x) for x in out.split())
            missing = set(theirs) - set(ours)
            if missing:
                bad.append('tshark resent, not ours: %s' % sorted(missing))
            tsv = tsv_messages(os.path.join(corpus_dir, 'oracle', name, 'sip_messages.tsv'))
            for f in sorted(set(ours) - set(theirs)):
                msgs = tsv.get(f, [])
                if not any(any(g < f and m in tsv[g] for g in tsv) for m in msgs):
                    bad.append('frame %d: no earlier identical message on the same path' % f)
        if bad:
            failed += 1
            print('%s: differs' % name)
            for b in bad[:5]:
                print('  ' + b)
        else:
            passed += 1
            print('%s: methods, statuses and retransmissions agree (%d ours, tshark a subset)' % (name, len(ours)))
    print('%d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
