#!/usr/bin/env python3
"""Seeds for fuzz_tls (format in fuzz_tls.c): real TLS sessions between Python's ssl
(OpenSSL) client and server, run over memory BIOs (no socket at all), carrying SIP both
ways, with the client's NSS key log: TLS 1.3 with each of its suites, TLS 1.2 with
ECDHE-ECDSA AES-128-GCM, AES-256-GCM and ChaCha20-Poly1305, and AES-CBC with HMAC-SHA1
under encrypt-then-MAC (RFC 7366, OpenSSL's default) and HMAC-SHA384 under
MAC-then-encrypt. A self-signed certificate is made with the openssl command.
Usage: make_tls_seeds.py OUT_DIR"""
import os
import ssl
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'gen'))
from decode_cases import sip_req  # noqa: E402

CASES = {
    'tls13_aes128': (ssl.TLSVersion.TLSv1_3, 'TLS_AES_128_GCM_SHA256'),
    'tls13_aes256': (ssl.TLSVersion.TLSv1_3, 'TLS_AES_256_GCM_SHA384'),
    'tls13_chacha': (ssl.TLSVersion.TLSv1_3, 'TLS_CHACHA20_POLY1305_SHA256'),
    'tls12_aes128': (ssl.TLSVersion.TLSv1_2, 'ECDHE-ECDSA-AES128-GCM-SHA256'),
    'tls12_aes256': (ssl.TLSVersion.TLSv1_2, 'ECDHE-ECDSA-AES256-GCM-SHA384'),
    'tls12_chacha': (ssl.TLSVersion.TLSv1_2, 'ECDHE-ECDSA-CHACHA20-POLY1305'),
    'tls12_cbc_sha_etm': (ssl.TLSVersion.TLSv1_2, 'ECDHE-ECDSA-AES128-SHA'),
    'tls12_cbc_sha384_mte': (ssl.TLSVersion.TLSv1_2, 'ECDHE-ECDSA-AES256-SHA384', 'no-etm'),
}
OP_NO_ENCRYPT_THEN_MAC = 1 << 19  # OpenSSL's SSL_OP_NO_ENCRYPT_THEN_MAC (ssl.h), not in Python's ssl


def seg(payload, rev=False):
    return struct.pack('!BhBH', 1 if rev else 0, 0, 1, len(payload)) + payload


def session(d, version, cipher, *opt):
    keylog = os.path.join(d, 'kl-%s.txt' % cipher)
    cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cctx.check_hostname, cctx.verify_mode = False, ssl.CERT_NONE
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(os.path.join(d, 'c.pem'), os.path.join(d, 'k.pem'))
    for c in (cctx, sctx):
        c.minimum_version = c.maximum_version = version
        if version == ssl.TLSVersion.TLSv1_2:
            c.set_ciphers(cipher)
        if 'no-etm' in opt:
            c.options |= OP_NO_ENCRYPT_THEN_MAC
    cctx.keylog_filename = keylog
    cin, cout, sin, sout = (ssl.MemoryBIO() for _ in range(4))
    cl = cctx.wrap_bio(cin, cout, server_side=False)
    sv = sctx.wrap_bio(sin, sout, server_side=True)
    segs = []

    def pump():
        moved = True
        while moved:
            moved = False
            b = cout.read()
            if b:
                segs.append(seg(b))
                sin.write(b)
                moved = True
            b = sout.read()
            if b:
                segs.append(seg(b, rev=True))
                cin.write(b)
                moved = True

    for _ in range(20):
        for side in (cl, sv):
            try:
                side.do_handshake()
            except ssl.SSLWantReadError:
                pass
        pump()
        if cl.version() and sv.version():
            break
    cl.write(sip_req('fz-1', 'INVITE', b'v=0\r\n', transport='TLS'))
    pump()
    sv.read(65536)
    sv.write(sip_req('fz-2', 'OPTIONS', transport='TLS'))
    pump()
    cl.read(65536)
    pump()
    return open(keylog, 'rb').read(), b''.join(segs), cl.cipher()[0]


def main(out):
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt',
                        'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'k.pem', '-out', 'c.pem',
                        '-days', '2', '-subj', '/CN=fuzz.test'], cwd=d, check=True,
                       capture_output=True)
        for name, (version, cipher, *opt) in CASES.items():
            if version == ssl.TLSVersion.TLSv1_3:
                # a child process: OpenSSL reads its configuration (the TLS 1.3 suite) once
                # (its TLS 1.3 suites are not set_ciphers')
                cnf = os.path.join(d, 'ossl.cnf')
                with open(cnf, 'w') as f:
                    f.write('openssl_conf = c\n[c]\nssl_conf = s\n[s]\nsystem_default = t\n'
                            '[t]\nCiphersuites = %s\n' % cipher)
                r = subprocess.run([sys.executable, __file__, '--one', d, cipher], check=True,
                                   capture_output=True, env=dict(os.environ, OPENSSL_CONF=cnf))
                kl, blob = r.stdout.split(b'\0', 1)
            else:
                kl, blob, got = session(d, version, cipher, *opt)
                assert got == cipher, (got, cipher)
            with open(os.path.join(out, name), 'wb') as f:
                f.write(struct.pack('!H', len(kl)) + kl + blob)


def one(d, suite):
    kl, blob, got = session(d, ssl.TLSVersion.TLSv1_3, suite)
    assert got == suite, (got, suite)
    sys.stdout.buffer.write(kl + b'\0' + blob)


if __name__ == '__main__':
    if sys.argv[1] == '--one':
        one(sys.argv[2], sys.argv[3])
    else:
        main(sys.argv[1])
