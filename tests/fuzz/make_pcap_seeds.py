#!/usr/bin/env python3
"""Seeds for fuzz_pcap: the generator's captures (pcap or pcapng), each cut to its first
frames so that an input stays small and fast. Captures of the decoding cases are kept
whole (a few dozen frames each); calls, issues, scenarios and registrations are cut.
Usage: make_pcap_seeds.py OUT_DIR CAPTURE... [--frames N]"""
import os
import struct
import sys


def cut(data, frames):
    magic, = struct.unpack_from('<I', data)
    if magic in (0xa1b2c3d4, 0xa1b23c4d):
        pos, n = 24, 0
        while pos + 16 <= len(data) and n < frames:
            pos += 16 + struct.unpack_from('<I', data, pos + 8)[0]
            n += 1
        return data[:pos]
    pos, n = 0, 0  # pcapng: blocks, counting packet blocks (EPB 6, SPB 3, PB 2)
    while pos + 12 <= len(data) and n < frames:
        btype, blen = struct.unpack_from('<II', data, pos)
        if blen < 12:
            break
        pos += blen
        n += btype in (2, 3, 6)
    return data[:pos]


def main(argv):
    frames = 300
    if '--frames' in argv:
        i = argv.index('--frames')
        frames = int(argv[i + 1])
        del argv[i:i + 2]
    out, paths = argv[0], argv[1:]
    os.makedirs(out, exist_ok=True)
    for p in paths:
        with open(p, 'rb') as f:
            data = f.read()
        with open(os.path.join(out, os.path.basename(p)), 'wb') as f:
            f.write(cut(data, frames))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
