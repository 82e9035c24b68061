#!/usr/bin/env python3
"""A capture for the TLS bench: one TLS connection (OpenSSL through Python's ssl, over
memory BIOs: no socket) per suite given, each carrying N SIP messages each way, one record
per message, written as Ethernet/IPv4/TCP frames to port 5061, with the NSS key log.
Usage: make_tls_pcap.py OUT.pcap KEYLOG [N [CIPHER [no-etm]]]
  N default 5000; TLS 1.3 AES-128-GCM, or with CIPHER that TLS 1.2 suite (OpenSSL's name,
  e.g. ECDHE-ECDSA-AES128-SHA: encrypt-then-MAC, RFC 7366, unless no-etm)"""
import os
import ssl
import struct
import subprocess
import sys
import tempfile


def sip(i, cid):
    return ('OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/TLS 192.0.2.1:40000;branch=z9hG4bK-%d\r\n'
            'From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: %s-%d\r\n'
            'CSeq: %d OPTIONS\r\nContent-Length: 0\r\n\r\n' % (i, cid, i, i + 1)).encode()


OP_NO_ENCRYPT_THEN_MAC = 1 << 19  # OpenSSL's SSL_OP_NO_ENCRYPT_THEN_MAC (ssl.h)


def main(out, keylog, n, cipher=None, no_etm=False):
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt',
                        'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'k.pem', '-out', 'c.pem',
                        '-days', '2', '-subj', '/CN=bench.test'], cwd=d, check=True,
                       capture_output=True)
        cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        cctx.check_hostname, cctx.verify_mode = False, ssl.CERT_NONE
        cctx.keylog_filename = keylog
        sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        sctx.load_cert_chain(os.path.join(d, 'c.pem'), os.path.join(d, 'k.pem'))
        for c in (cctx, sctx) if cipher else ():
            c.minimum_version = c.maximum_version = ssl.TLSVersion.TLSv1_2
            c.set_ciphers(cipher)
            if no_etm:
                c.options |= OP_NO_ENCRYPT_THEN_MAC
        cin, cout, sin, sout = (ssl.MemoryBIO() for _ in range(4))
        cl = cctx.wrap_bio(cin, cout, server_side=False)
        sv = sctx.wrap_bio(sin, sout, server_side=True)
        f = open(out, 'wb')
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        seq = [1000, 90000]
        t = [1700000000.0]

        def frame(p, rev):
            sp, dp = (5061, 40000) if rev else (40000, 5061)
            a, b = bytes([192, 0, 2, 2 if rev else 1]), bytes([192, 0, 2, 1 if rev else 2])
            tcp = struct.pack('!HHIIBBHHH', sp, dp, seq[rev], 0, 5 << 4, 0x18, 65535, 0, 0) + p
            ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0, a, b)
            fr = b'\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00' + ip + tcp
            t[0] += 0.001
            f.write(struct.pack('<IIII', int(t[0]), int((t[0] % 1) * 1e6), len(fr), len(fr)) + fr)
            seq[rev] += len(p)

        def pump():
            for bio, peer, rev in ((cout, sin, 0), (sout, cin, 1)):
                b = bio.read()
                while b:  # at most 60000 bytes a segment
                    frame(b[:60000], rev)
                    peer.write(b[:60000])
                    b = b[60000:]

        for _ in range(20):
            for side in (cl, sv):
                try:
                    side.do_handshake()
                except ssl.SSLWantReadError:
                    pass
            pump()
        for i in range(n):
            cl.write(sip(i, 'c'))
            pump()
            sv.read(65536)
            sv.write(sip(i, 's'))
            pump()
            cl.read(65536)
        f.close()


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 5000,
         sys.argv[4] if len(sys.argv) > 4 else None, sys.argv[5:6] == ['no-etm'])
