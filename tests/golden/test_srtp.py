#!/usr/bin/env python3
"""SRTP from SDES keys (issue 27). The generator writes calls whose SDP offers RTP/SAVP with
an a=crypto line per side (tests/gen/calls.py: the keys in its truth, per stream, each the
key its sender uses, RFC 4568 §6.1); libsrtp2 itself then protects the media with those
keys (tests/support/srtp_protect.c). For every suite:
  - the decrypted streams' figures equal those of the same calls generated in clear (same
    seed: the same packets), and the truth's packet and loss counts;
  - every SRTP/SRTCP packet is counted decrypted, none failing;
  - the streams are marked srtp_decrypted, not encrypted;
  - with each direction protected by the other side's key, every packet is an
    authentication failure, counted in the capture and per stream, the streams are marked
    encrypted and still measured from their clear headers (packets, loss as the truth says);
  - no key appears in the JSON or the log.

Usage: test_srtp.py PATH/TO/sipscope PATH/TO/srtp_protect"""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from sstest import Checks, generate, metrics  # noqa: E402

SUITES = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32', 'AEAD_AES_128_GCM', 'AEAD_AES_256_GCM']
FIGURES = ['packets', 'expected', 'lost', 'duplicates', 'out_of_order', 'max_delta_ms', 'max_jitter_ms',
           'mean_jitter_ms', 'r_factor', 'mos', 'payload_type', 'codec', 'ssrc', 'audio', 'audio_unavailable']
GEN = ['--calls', '2', '--duration', '11', '--loss', '0.02', '--seed', '27']


def run(exe, pcap):
    import json
    p = subprocess.run([exe, 'analyze', '--json', pcap], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout), p.stdout + p.stderr


def hep_out(exe, pcap):
    """analyze -v --hep-out into a loopback socket of this test (port 0: no collision with
    other tests): (stderr, every datagram's bytes joined)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(('127.0.0.1', 0))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        s.settimeout(3)
        got = []

        def rx():
            while True:
                try:
                    got.append(s.recv(70000))
                except socket.timeout:
                    return
        t = threading.Thread(target=rx)
        t.start()
        r = subprocess.run([exe, 'analyze', '-v', '--no-progress', '--hep-out', '127.0.0.1:%d' % s.getsockname()[1],
                            pcap], capture_output=True, text=True, timeout=60)
        t.join()
    return r.stderr, b''.join(got)


def served_metrics(exe, pcap, db):
    """/metrics of `analyze --serve` once its analysis is over (its second line says so)."""
    p = subprocess.Popen([exe, 'analyze', '--no-progress', '--db', db, '--serve', '127.0.0.1:0', pcap],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        m = re.search(r'on port (\d+)', p.stderr.readline())
        done = p.stderr.readline()
        return metrics(int(m.group(1))) if m and 'until Ctrl-C' in done else {}
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)
        p.stderr.close()


def key_args(truth, swap=False):
    """srtp_protect's arguments: each stream's destination and its sender's key (swap: the
    other direction's key, which the SDP gave the other side)."""
    out = []
    for c in truth['calls']:
        st = c['streams']
        for i, s in enumerate(st):
            k = st[1 - i]['srtp'] if swap else s['srtp']
            out.append('%s:%s:%s' % (s['dst'], k['suite'], k['key']))
    return out


def by_path(j):
    return {(s['src'], s['dst']): s for s in j['streams']}


def main(exe, protect):
    check = Checks()
    with tempfile.TemporaryDirectory() as tmp:
        plain_pcap = os.path.join(tmp, 'plain.pcap')
        plain_truth = generate('calls', plain_pcap, os.path.join(tmp, 'plain.json'), *GEN)
        plain, _ = run(exe, plain_pcap)
        for suite in SUITES:
            sdp_pcap, enc_pcap = os.path.join(tmp, 'sdp.pcap'), os.path.join(tmp, 'enc.pcap')
            truth = generate('calls', sdp_pcap, os.path.join(tmp, 'sdp.json'), *GEN, '--srtp', suite)
            n_rtp = sum(s['packets'] for c in truth['calls'] for s in c['streams'])
            n_rtcp = sum(s['rtcp_packets'] for c in truth['calls'] for s in c['streams'])
            check(n_rtp == plain_truth['rtp_packets'] and n_rtcp > 0,
                  '%s: the SRTP calls carry the clear calls\' %d RTP packets, and RTCP' % (suite, n_rtp))
            subprocess.run([protect, sdp_pcap, enc_pcap, *key_args(truth)], check=True, capture_output=True)
            j, text = run(exe, enc_pcap)
            sc = j['capture'].get('srtp', {})
            check(sc.get('decrypted') == n_rtp + n_rtcp and sc.get('srtp_auth_failures') == 0,
                  '%s: %s decrypted of %d SRTP + %d SRTCP, %s failing' %
                  (suite, sc.get('decrypted'), n_rtp, n_rtcp, sc.get('srtp_auth_failures')))
            got, want = by_path(j), by_path(plain)
            check(len(got) == len(want) == 4, '%s: 4 streams (%d, clear %d)' % (suite, len(got), len(want)))
            for path, w in want.items():
                g = got.get(path, {})
                diff = [f for f in FIGURES if g.get(f) != w.get(f)]
                check(not diff, '%s %s: figures equal the clear run%s' %
                      (suite, '->'.join(path), ': differ in %s' % diff if diff else ''))
                check(g.get('srtp_decrypted') is True and g.get('encrypted') is False
                      and g.get('srtp_auth_failures') == 0 and w.get('srtp_decrypted') is False
                      and w.get('encrypted') is False,
                      '%s %s: marked decrypted, not encrypted (clear run: neither)' % (suite, '->'.join(path)))
                check((g.get('rtcp') is None) == (w.get('rtcp') is None),
                      '%s %s: RTCP read as in the clear run' % (suite, '->'.join(path)))
            keys = [s['srtp']['key'] for c in truth['calls'] for s in c['streams']]
            check(not any(k in text or k[:16] in text for k in keys), '%s: no key in the JSON or the log' % suite)
            if suite == SUITES[0]:
                # issue 27: the same counts as Prometheus counters
                mx = served_metrics(exe, enc_pcap, os.path.join(tmp, 'right.db'))
                check(mx.get('sipscope_srtp_decrypted_total') == n_rtp + n_rtcp
                      and mx.get('sipscope_srtp_auth_failures_total') == 0
                      and mx.get('sipscope_srtp_keyless_total') == 0 and mx.get('sipscope_srtp_endpoints_keyed') == 4,
                      '%s: /metrics counts %d decrypted, 4 endpoints keyed: %s' %
                      (suite, n_rtp + n_rtcp, {k: v for k, v in mx.items() if '_srtp_' in k}))
                log, hep = hep_out(exe, enc_pcap)
                check(hep.count(b'a=crypto:1 ') == 4 and log,
                      '--hep-out carried the 4 SDP bodies (%d) and -v logged' % hep.count(b'a=crypto:1 '))
                check(not any(k.encode() in hep or k[:16].encode() in hep or k in log for k in keys),
                      '--hep-out and the -v log hold no key')

            # each direction protected with the other side's key: nothing authenticates
            subprocess.run([protect, sdp_pcap, enc_pcap, *key_args(truth, swap=True)], check=True,
                           capture_output=True)
            j, text = run(exe, enc_pcap)
            sc = j['capture'].get('srtp', {})
            if suite == SUITES[0]:
                mx = served_metrics(exe, enc_pcap, os.path.join(tmp, 'wrong.db'))
                check(mx.get('sipscope_srtp_auth_failures_total') == n_rtp + n_rtcp
                      and mx.get('sipscope_srtp_decrypted_total') == 0,
                      '%s, wrong keys: /metrics counts %d authentication failures: %s' %
                      (suite, n_rtp + n_rtcp, {k: v for k, v in mx.items() if '_srtp_' in k}))
            check(sc.get('decrypted') == 0 and sc.get('srtp_auth_failures') == n_rtp + n_rtcp,
                  '%s, wrong keys: %s decrypted, %s authentication failures of %d' %
                  (suite, sc.get('decrypted'), sc.get('srtp_auth_failures'), n_rtp + n_rtcp))
            got = by_path(j)
            for c in truth['calls']:
                for s in c['streams']:
                    g = got.get((s['src'], s['dst']), {})
                    check(g.get('encrypted') is True and g.get('srtp_decrypted') is False
                          and g.get('srtp_auth_failures') == s['packets'],
                          '%s, wrong keys, %s: marked encrypted, %s authentication failures (truth %d packets)'
                          % (suite, s['dst'], g.get('srtp_auth_failures'), s['packets']))
                    check(g.get('audio') is None and str(g.get('audio_unavailable')).startswith('encrypted'),
                          '%s, wrong keys, %s: ciphertext is not heard (audio %s, unavailable %r)'
                          % (suite, s['dst'], g.get('audio'), g.get('audio_unavailable')))
                    check(g.get('packets') == s['packets'] and g.get('lost') == s['lost'],
                          '%s, wrong keys, %s: measured from the clear header, %s packets %s lost (truth %d, %d)'
                          % (suite, s['dst'], g.get('packets'), g.get('lost'), s['packets'], s['lost']))
            check(not any(k in text for k in keys), '%s, wrong keys: no key in the JSON or the log' % suite)
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1], sys.argv[2]))
