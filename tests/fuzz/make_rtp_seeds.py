#!/usr/bin/env python3
"""Seeds for fuzz_rtp: records of (length, arrival step ms, flags, datagram) as the
harness reads them: a G.711 stream with loss and reordering, RFC 4733 events, an SR, an
RR with LSR/DLSR, SDES, BYE and an XR VoIP Metrics block."""
import os
import struct
import sys


def rtp(seq, ts, pt=0, marker=False, ssrc=0xABC, payload=b'\xff' * 20):
    return struct.pack('!BBHII', 0x80, (0x80 if marker else 0) | pt, seq & 0xFFFF, ts, ssrc) + payload


def rec(data, step=20, flags=0):
    return bytes([len(data), step, flags]) + data


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    stream = b''.join(rec(rtp(65530 + i, 160 * i)) for i in range(12) if i != 5)
    stream += rec(rtp(65535, 160 * 5), 2)
    events = b''.join(rec(rtp(20 + k, 3200, 101, k == 0, payload=bytes([5, 0x8a if k > 2 else 0x0a, 0, 160 * (k + 1) & 0xff])))
                      for k in range(6))
    sr = struct.pack('!BBHIIIIII', 0x80, 200, 6, 0xABC, 0x1234, 0x80000000, 1600, 12, 1000)
    sdes = struct.pack('!BBHI', 0x81, 202, 2, 0xABC) + bytes([1, 2]) + b'ab' + b'\0\0'
    rr = struct.pack('!BBHI', 0x81, 201, 7, 0x999) + struct.pack('!IIIIII', 0xABC, 2, 65540, 24, 0x12348000, 0x1999)
    bye = struct.pack('!BBHI', 0x81, 203, 1, 0x999)
    xr = struct.pack('!BBHI', 0x80, 207, 10, 0x999) + struct.pack('!BBH', 7, 0, 8) + struct.pack(
        '!IBBBBHHHHbbBBBBBBBBHHH', 0xABC, 13, 26, 128, 3, 120, 4000, 85, 60, -20, -80, 127, 16, 88, 127, 41, 40, 0x80, 0, 40, 80, 240)
    seeds = {
        'stream': stream,
        'events': stream + events,
        'rtcp': stream + rec(sr + sdes, 5, 1) + rec(rr + bye, 150, 3) + rec(xr, 1, 3),
    }
    for name, data in seeds.items():
        with open(os.path.join(out, name), 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    main()
