#!/usr/bin/env python3
"""Seeds for fuzz_calls: the issue scenarios (tests/gen/issues.py) cut into records of
fuzz_calls' input format, one seed file per scenario's stretch of the capture.

Usage: make_call_seeds.py OUTDIR"""
import os
import struct
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'gen'))
import issues  # noqa: E402


def main(outdir):
    os.makedirs(outdir, exist_ok=True)
    frames = []
    issues.generate(lambda ts, fr: frames.append((ts, fr)))
    seeds, cur, start, hosts = [], [], None, {}
    last = None
    for ts, fr in frames:
        if start is None or ts - start > 12 * 10**9:
            if cur:
                seeds.append(b''.join(cur))
            cur, start, hosts, last = [], ts, {}, ts
        ip = fr[14:34]
        src, dst = ip[12:16], ip[16:20]
        sport, dport = struct.unpack('!HH', fr[34:38])
        payload = fr[42:]
        for a in (src, dst):
            hosts.setdefault(a, len(hosts) & 3)
        rtp = 0x10 if sport != 5060 and dport != 5060 else 0
        step = min(7, (ts - last) // (300 * 10**6))
        last += step * 300 * 10**6
        flags = hosts[src] | hosts[dst] << 2 | rtp | step << 5
        if rtp and len(cur) > 80:  # media: a few packets per stretch are enough
            continue
        cur.append(struct.pack('!BH', flags, len(payload)) + payload)
    if cur:
        seeds.append(b''.join(cur))
    for i, s in enumerate(seeds):
        with open(os.path.join(outdir, 'scenario-%02d' % i), 'wb') as f:
            f.write(s)
    # the security watch's lists, as shipped: '#' makes the harness read its input as them
    data = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'data')
    with open(os.path.join(outdir, 'security-lists'), 'wb') as f:
        f.write(b'#' + b''.join(open(os.path.join(data, n), 'rb').read()
                                for n in ('scanner-agents.txt', 'toll-prefixes.txt')))
    print('%d seeds' % len(seeds))


if __name__ == '__main__':
    main(sys.argv[1])
