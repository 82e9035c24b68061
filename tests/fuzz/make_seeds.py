#!/usr/bin/env python3
"""Turns the generator's decoding cases into seed inputs for fuzz_decode (format in
fuzz_decode.c): one seed per capture, its frames in order.
Usage: make_seeds.py CASES_DIR OUT_DIR"""
import os
import struct
import sys

LT_INDEX = {1: 0, 113: 1, 276: 2, 101: 3, 0: 4, 108: 5, 228: 6, 229: 7}


def frames(path):
    data = open(path, 'rb').read()
    magic, = struct.unpack_from('<I', data)
    if magic in (0xa1b2c3d4, 0xa1b23c4d):
        lt = struct.unpack_from('<I', data, 20)[0]
        pos, out = 24, []
        while pos + 16 <= len(data):
            _, _, cap, wire = struct.unpack_from('<IIII', data, pos)
            out.append((data[pos + 16:pos + 16 + cap], wire > cap))
            pos += 16 + cap
        return lt, out
    return None, []


def sip_seeds(cases, outdir):
    """Every SIP message the generator wrote, one per seed (for fuzz_sip)."""
    n = 0
    for name in sorted(os.listdir(cases)):
        if not name.endswith('.pcap'):
            continue
        _, fr = frames(os.path.join(cases, name))
        for f, _ in fr:
            for start in (b'OPTIONS ', b'INVITE ', b'MESSAGE ', b'SIP/2.0 ', b'REGISTER '):
                i = f.find(start)
                if i >= 0:
                    with open(os.path.join(outdir, '%s-%d' % (name[:-5], n)), 'wb') as g:
                        g.write(f[i:])
                    n += 1
                    break
    print('%d SIP seeds in %s' % (n, outdir))


def main(cases, outdir):
    os.makedirs(outdir, exist_ok=True)
    n = 0
    for name in sorted(os.listdir(cases)):
        if not name.endswith('.pcap'):
            continue
        lt, fr = frames(os.path.join(cases, name))
        if lt not in LT_INDEX:
            continue
        blob = bytes([LT_INDEX[lt]])
        for f, cut in fr:
            f = f[:0x7fff]
            blob += struct.pack('!H', len(f) | (0x80 if cut else 0)) + f
        with open(os.path.join(outdir, name[:-5]), 'wb') as g:
            g.write(blob)
        n += 1
    print('%d seeds in %s' % (n, outdir))


if __name__ == '__main__':
    if len(sys.argv) > 3 and sys.argv[3] == '--sip':
        os.makedirs(sys.argv[2], exist_ok=True)
        sip_seeds(sys.argv[1], sys.argv[2])
    else:
        main(sys.argv[1], sys.argv[2])
