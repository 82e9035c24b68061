#!/usr/bin/env python3
"""Seeds for fuzz_tcp (format in fuzz_tcp.c): SIP over TCP in one and several segments, a
WebSocket upgrade with masked frames, a HEP3 stream. Usage: make_tcp_seeds.py OUT_DIR"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'gen'))
from decode_cases import hep3, sip_req, ws_frame  # noqa: E402


def seg(payload, rev=False, syn=False, fin=False, jump=0, step=1):
    flags = (1 if rev else 0) | (2 if syn else 0) | (4 if fin else 0)
    return struct.pack('!BhBH', flags, jump, step, len(payload)) + payload


def main(out):
    os.makedirs(out, exist_ok=True)
    m1, m2 = sip_req('f-1', 'INVITE', b'v=0\r\n'), sip_req('f-2')
    seeds = {
        'split': seg(b'', syn=True) + seg(m1[:30]) + seg(m1[30:]) + seg(m2) + seg(b'', fin=True),
        'reorder': seg(m1 + m2) + seg(m2[:20], jump=-len(m2)) + seg(m1, jump=40, step=30),
        'ws': seg(b'GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n') +
              seg(b'HTTP/1.1 101 Switching\r\nUpgrade: websocket\r\n\r\n', rev=True) +
              seg(ws_frame(m1, mask=b'abcd')) + seg(ws_frame(m2[:9], fin=False, mask=b'abcd') +
                                                   ws_frame(m2[9:], opcode=0, mask=b'abcd')),
        'hep': seg(hep3(m1, '10.0.0.1', 5060, '10.0.0.2', 5060, 1700000000 * 10**9) +
                   hep3(m2, '10.0.0.2', 5060, '10.0.0.1', 5060, 1700000000 * 10**9)),
    }
    for name, blob in seeds.items():
        with open(os.path.join(out, name), 'wb') as f:
            f.write(blob)


if __name__ == '__main__':
    main(sys.argv[1])
