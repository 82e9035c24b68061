#!/usr/bin/env python3
"""Mirror duplicates in ../shared/corpus (issue 12): on every capture, capture.duplicates
equals the number of frames that tshark shows as an exact copy of an earlier one (same
innermost IP addresses, protocol, IP ID and length, same UDP/TCP ports and payload) less
than 5 ms after it; and with --keep-duplicates nothing is dropped. heplify_fax_t38 holds
every SIP message twice, 0.3 to 1.5 ms apart, with the same IP ID: a mirror that copied
both sides of the path.

Usage: test_corpus_dedup.py PATH/TO/sipscope    (SIPSCOPE_CORPUS names the corpus; skips
with exit 77 when it is absent)"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from sstest import Checks, analyze, corpus, skip  # noqa: E402

WINDOW_NS = 5_000_000
FIELDS = ['frame.time_epoch', 'ip.id', 'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst', 'ip.proto', 'ipv6.nxt',
          'ip.len', 'ipv6.plen', 'udp.srcport', 'udp.dstport', 'tcp.srcport', 'tcp.dstport', 'tcp.seq_raw',
          'udp.payload', 'tcp.payload']


def tshark_copies(pcap):
    """Frames that repeat an earlier frame's datagram within the window (the first copy's
    time counts, as for sipscope)."""
    out = subprocess.run(['tshark', '-r', pcap, '-T', 'fields', '-E', 'occurrence=l'] +
                         sum((['-e', f] for f in FIELDS), []), check=True, capture_output=True,
                         text=True).stdout
    first, copies = {}, 0
    for line in out.splitlines():
        f = line.split('\t')
        if not (f[2] or f[4]) or not (f[10] or f[12]):
            continue  # not UDP/TCP over IP
        t = int(round(float(f[0]) * 1e9))
        key = tuple(f[1:])
        seen = first.get(key)
        if seen is not None and 0 <= t - seen <= WINDOW_NS:
            copies += 1
        else:
            first[key] = t
    return copies


def main(exe):
    found = corpus()
    if not found:
        return skip('no corpus')
    corpus_dir, names = found
    check = Checks()
    total = 0
    for name in names:
        pcap = os.path.join(corpus_dir, 'pcap', name)
        want = tshark_copies(pcap)
        got = analyze(exe, pcap)['capture']['duplicates']
        kept = analyze(exe, pcap, '--keep-duplicates')['capture']['duplicates']
        check(got == want and kept == 0, '%s: %s duplicates dropped, tshark shows %d exact copies; '
              '--keep-duplicates drops %s' % (name, got, want, kept))
        total += want
    check(total > 0, 'the corpus holds mirror copies to find (%d)' % total)
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
