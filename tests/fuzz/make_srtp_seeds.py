#!/usr/bin/env python3
"""Seeds for fuzz_srtp: an a=crypto value line, then an INVITE whose SDP (tests/gen/calls.py)
offers RTP/SAVP with that key, then a few SRTP-shaped packets (2-byte length, a selector
byte, the bytes). Usage: make_srtp_seeds.py DIR"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'gen'))
import calls  # noqa: E402

KEYS = {'AES_CM_128_HMAC_SHA1_80': 'PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR',
        'AES_CM_128_HMAC_SHA1_32': 'PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR',
        'AEAD_AES_128_GCM': 'CzBVep/E6Q4zWH2ix+wRNluApcrvFDleg6jN8g==',
        'AEAD_AES_256_GCM': 'CzBVep/E6Q4zWH2ix+wRNluApcrvFDleg6jN8hc8YYar0PUaP2SJrtP4HUI='}


def main(out):
    os.makedirs(out, exist_ok=True)
    for i, (suite, key) in enumerate(sorted(KEYS.items())):
        body = calls.sdp('alice', '127.0.0.1', 4000, 1, 0, (suite, key))
        sip = ('INVITE sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1\r\n'
               'From: <sip:alice@127.0.0.1>;tag=1\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: seed%d\r\n'
               'CSeq: 1 INVITE\r\nContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s'
               % (i, len(body), body))
        rtp = struct.pack('!BBHII', 0x80, 0, 1, 160, 0x12345678) + b'\xff' * 160 + b'\0' * 10
        rtcp = struct.pack('!BBHI', 0x80, 201, 1, 0x12345678) + b'\x80\0\0\x01' + b'\0' * 10
        pkts = b''.join(struct.pack('!HB', len(p), sel) + p for p, sel in ((rtp, 0), (rtcp, 0x81), (rtp, 2)))
        line = '1 %s inline:%s\n' % (suite, key)
        with open(os.path.join(out, 'sdes_%d' % i), 'wb') as f:
            f.write(line.encode() + pkts)
        with open(os.path.join(out, 'sip_%d' % i), 'wb') as f:
            f.write(sip.encode())


if __name__ == '__main__':
    main(sys.argv[1])
