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
    main(sys.argv[1], sys.argv[2])
