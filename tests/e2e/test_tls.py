#!/usr/bin/env python3
"""SIP over TLS read with a key log, against real TLS stacks we did not write (issue 27).

In a network namespace of its own (only its loopback, so gnutls-serv's listening on every
address reaches nothing outside), gnutls-serv echoes what gnutls-cli sends over TLS to
127.0.0.91:5061: SIP messages of one call per connection (INVITE with SDP, ACK, BYE), so
each crosses the wire twice, once each way. gnutls-cli writes the NSS key log
(SSLKEYLOGFILE). One connection per suite: TLS 1.2 with ECDHE-ECDSA AES-128-GCM,
AES-256-GCM (SHA-384 PRF) and ChaCha20-Poly1305; TLS 1.3 with its three suites; TLS 1.2
with ECDHE-ECDSA AES-CBC, the MAC forced to each of HMAC-SHA1, -SHA256 and -SHA384 (SHA-384
PRF), encrypt-then-MAC (RFC 7366, which gnutls agrees to unless told %NO_ETM) and
MAC-then-encrypt (RFC 5246 §6.2.3.2) both present, as tshark reads the ServerHellos.
tcpdump captures the lot; then:

- with --tls-keylog: the SIP messages (frame, Call-ID, CSeq, method) are tshark's with the
  same key log (-o tls.keylog_file:), and those are every message sent, both ways; each
  has transport "tls";
- without it: no SIP message, every connection counted in tls_no_keys;
- a key log without one connection's lines: that connection alone is missing and counted;
- one byte of an application data record changed (an AEAD tag; a CBC record's MAC under
  encrypt-then-MAC; its last block, padding and MAC, under MAC-then-encrypt):
  tls_bad_record counted, the messages in it missing, the others all there;
- live: `sipscope capture -i lo` given a key log that is empty when it starts, written by
  the clients as they connect, reads every message (the file is read again as it grows).
Skipped (77) without root, unshare, gnutls-bin, tcpdump, openssl or tshark.

Usage: test_tls.py PATH/TO/sipscope"""
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from sstest import Checks, poll, skip  # noqa: E402

ADDR, PORT = '127.0.0.91', 5061
# (version, cipher, and: the MAC of a CBC suite, ETM or NO_ETM; or wss)
SUITES = [('1.2', 'AES-128-GCM'), ('1.2', 'AES-256-GCM'), ('1.2', 'CHACHA20-POLY1305'),
          ('1.3', 'AES-128-GCM'), ('1.3', 'AES-256-GCM'), ('1.3', 'CHACHA20-POLY1305'),
          ('1.2', 'AES-128-CBC', 'SHA1', 'ETM'), ('1.2', 'AES-256-CBC', 'SHA1', 'NO_ETM'),
          ('1.2', 'AES-128-CBC', 'SHA256', 'ETM'), ('1.2', 'AES-256-CBC', 'SHA384', 'NO_ETM'),
          ('1.3', 'AES-256-GCM', 'wss')]  # the last: SIP over secure WebSocket (RFC 7118)
# what the ServerHello of each CBC connection must say: IANA's suite, and RFC 7366's
# extension (22) or not
CBC_WANT = {6: (0xC009, True), 7: (0xC00A, False), 8: (0xC023, True), 9: (0xC024, False)}
TOOLS = ('unshare', 'ip', 'gnutls-serv', 'gnutls-cli', 'tcpdump', 'openssl', 'tshark')


def call_messages(cid):
    """One call's requests as a caller sends them over TLS (RFC 3261 §26.2: sips, TLS Via)."""
    sdp = ('v=0\r\no=- 1 1 IN IP4 127.0.0.91\r\ns=-\r\nc=IN IP4 127.0.0.91\r\nt=0 0\r\n'
           'm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n')
    out = []
    for n, (method, body) in enumerate([('INVITE', sdp), ('ACK', ''), ('BYE', '')]):
        cseq = 2 if method == 'BYE' else 1
        out.append((
            '%s sips:bob@%s SIP/2.0\r\nVia: SIP/2.0/TLS %s:40000;branch=z9hG4bK%s%d\r\n'
            'Max-Forwards: 70\r\nFrom: <sips:alice@example.com>;tag=a1\r\n'
            'To: <sips:bob@example.com>%s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n'
            'Contact: <sips:alice@%s:40000>\r\n%sContent-Length: %d\r\n\r\n%s'
            % (method, ADDR, ADDR, cid, n, '' if method == 'INVITE' else ';tag=b1', cid, cseq,
               method, ADDR, 'Content-Type: application/sdp\r\n' if body else '', len(body),
               body)).encode())
    return out


def ws_frame(payload, mask=b'\x11\x22\x33\x44'):
    """One masked text frame (RFC 6455 §5.2, a client's)."""
    n = len(payload)
    hdr = bytes([0x81, 0x80 | n]) if n < 126 else bytes([0x81, 0x80 | 126]) + n.to_bytes(2, 'big')
    return hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def wss_messages(cid):
    """The same call over WebSocket (RFC 7118): the upgrade, then one frame a message."""
    up = (b'GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
          b'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: sip\r\n'
          b'Sec-WebSocket-Version: 13\r\n\r\n' % ADDR.encode())
    return [up] + [ws_frame(m) for m in call_messages(cid)]


def wait_file_has(path, text, deadline=30):
    return poll(lambda: os.path.exists(path) and text in open(path, errors='replace').read(),
                deadline)


def run_client(version, cipher, cid, keylog, d, opt=()):
    """One TLS connection: the call's messages sent, kept open until all came back."""
    prio = 'NORMAL:-VERS-ALL:+VERS-TLS%s:-CIPHER-ALL:+%s' % (version, cipher)
    wss = opt == ('wss',)
    if len(opt) == 2:  # a CBC suite: its MAC alone, and encrypt-then-MAC or not
        prio += ':-MAC-ALL:+%s%s' % (opt[0], ':%NO_ETM' if opt[1] == 'NO_ETM' else '')
    env = dict(os.environ, SSLKEYLOGFILE=keylog)
    msgs = wss_messages(cid) if wss else call_messages(cid)
    cli = subprocess.Popen(['gnutls-cli', '--insecure', '--priority', prio, '-p', str(PORT), ADDR],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           env=env, cwd=d)
    sent = b''.join(msgs)
    got = b''
    end = time.monotonic() + 30
    cli.stdin.write(b''.join(msgs))
    cli.stdin.flush()
    # gnutls-serv's echo works a line at a time: WebSocket frames (binary, masked) may come
    # back cut differently, and only the client's copy of them is checked
    def back():
        return len(got) >= len(sent) if wss else sent in got
    while not back() and time.monotonic() < end:
        r, _, _ = select.select([cli.stdout], [], [], 0.5)
        if r:
            chunk = os.read(cli.stdout.fileno(), 65536)
            if not chunk:
                break
            got += chunk
    cli.stdin.close()
    cli.wait(timeout=30)
    return back()


def tshark_sip(pcap, keylog):
    r = subprocess.run(['tshark', '-r', pcap, '-o', 'tls.keylog_file:' + keylog, '-Y', 'sip',
                        '-T', 'fields', '-E', 'occurrence=a', '-e', 'frame.number',
                        '-e', 'sip.Call-ID', '-e', 'sip.CSeq.seq', '-e', 'sip.Method'],
                       capture_output=True, text=True, check=True)
    rows = []
    for line in r.stdout.splitlines():
        f = line.split('\t')
        # a frame may carry several messages: one row each
        for cid, seq, meth in zip(f[1].split(','), f[2].split(','), f[3].split(',')):
            rows.append((int(f[0]), cid, int(seq), meth))
    return sorted(rows)


def ours(exe, pcap, *args):
    r = subprocess.run([exe, 'analyze', '--json', '--messages', '--no-progress', *args, pcap],
                       capture_output=True, text=True, check=True)
    return json.loads(r.stdout)


def msg_rows(doc, wss=False):
    """(frame, Call-ID, CSeq number, method) of the messages over TLS, or over WSS."""
    return sorted((m['frame'], m['call_id'], int(m['cseq'].split()[0]), m['method'])
                  for m in doc['messages'] if (m['transport'] == 'wss') == wss)


def start_tcpdump(d, pcap, iface='lo'):
    err = os.path.join(d, os.path.basename(pcap) + '.err')
    p = subprocess.Popen(['tcpdump', '-Z', 'root', '-i', iface, '--immediate-mode', '-U', '-w', pcap,
                          'tcp port %d' % PORT], stdout=subprocess.DEVNULL,
                         stderr=open(err, 'w'))
    wait_file_has(err, 'listening on')
    return p


def tls_conns_closed(pcap):
    """Connections in the pcap that began with a ClientHello and whose both sides sent FIN:
    once every client's is there, the capture holds all it will."""
    b = open(pcap, 'rb').read() if os.path.exists(pcap) else b''
    hello, fins = set(), {}
    off = 24
    while off + 16 <= len(b):
        incl = int.from_bytes(b[off + 8:off + 12], 'little')
        f = b[off + 16:off + 16 + incl]
        off += 16 + incl
        if len(f) < 14 + 20 + 20 or f[12:14] != b'\x08\x00':
            continue
        ip = f[14:]
        ihl = (ip[0] & 15) * 4
        tcp = ip[ihl:]
        sp, dp = int.from_bytes(tcp[0:2], 'big'), int.from_bytes(tcp[2:4], 'big')
        conn = tuple(sorted([sp, dp]))
        pay = tcp[(tcp[12] >> 4) * 4:]
        if pay[:1] == b'\x16' and pay[5:6] == b'\x01':
            hello.add(conn)
        if tcp[13] & 1:
            fins.setdefault(conn, set()).add(sp)
    return sum(1 for c in hello if len(fins.get(c, ())) == 2)


def start_server(d):
    # gnutls' NORMAL leaves out the CBC suites' SHA-256 and SHA-384 MACs: let clients ask
    srv = subprocess.Popen(['gnutls-serv', '--echo', '--crlf', '-q', '-p', str(PORT),
                            '--priority', 'NORMAL:+SHA256:+SHA384',
                            '--x509certfile', 'c.pem', '--x509keyfile', 'k.pem'],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=d)
    import socket

    def up():
        s = socket.socket()
        try:
            s.connect((ADDR, PORT))
            return True
        except OSError:
            return False
        finally:
            s.close()
    poll(up, 30)
    return srv


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGINT)
    try:
        p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def corrupt_frame(src, dst, frame, from_end):
    """A copy of the pcap with one byte of frame `frame` flipped, from_end bytes before its
    end (inside the last record's authentication tag)."""
    b = bytearray(open(src, 'rb').read())
    off, n = 24, 0
    while off < len(b):
        incl = int.from_bytes(b[off + 8:off + 12], 'little')
        n += 1
        if n == frame:
            b[off + 16 + incl - from_end] ^= 0x01
            break
        off += 16 + incl
    open(dst, 'wb').write(bytes(b))


def in_namespace(exe, check):
    d = tempfile.mkdtemp(prefix='sipscope-tls-')
    try:
        subprocess.run(['ip', 'link', 'set', 'lo', 'up'], check=True)
        subprocess.run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt',
                        'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'k.pem', '-out', 'c.pem',
                        '-days', '2', '-subj', '/CN=sipscope.test'], cwd=d, check=True,
                       capture_output=True)
        pcap, keylog = os.path.join(d, 'tls.pcap'), os.path.join(d, 'keylog.txt')
        open(keylog, 'w').close()  # empty when the live capture starts: the clients fill it
        dump = start_tcpdump(d, pcap)
        live = subprocess.Popen([exe, 'capture', '-i', 'lo', '-f', 'tcp port %d' % PORT, '--json',
                                 '--messages', '--no-progress', '--tls-keylog', keylog],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ready = False
        for _ in range(5):  # the capture is ready once it says so
            line = live.stderr.readline()
            ready = 'capturing' in line
            if ready or not line:
                break
        check(ready, 'sipscope capture started')
        srv = start_server(d)
        cids = []
        for i, (v, c, *opt) in enumerate(SUITES):
            cid = 'tls%s-%s-%d' % (v, c.lower(), i)
            cids.append(cid)
            check(run_client(v, c, cid, keylog, d, tuple(opt)),
                  'TLS %s %s %s: the echo came back' % (v, c, ' '.join(opt)))
        text = open(keylog).read()
        n12 = sum(1 for s in SUITES if s[0] == '1.2')
        check(text.count('CLIENT_RANDOM') == n12 and text.count('SERVER_TRAFFIC_SECRET_0') == 4,
              'gnutls-cli wrote its key log for each connection')
        check(poll(lambda: tls_conns_closed(pcap) >= len(SUITES), 30),
              'tcpdump wrote every connection to its end')
        stop(srv)
        stop(dump)
        live.send_signal(signal.SIGINT)
        out, _ = live.communicate(timeout=60)
        check(live.returncode == 0, 'the live capture ended cleanly on SIGINT (%s)' % live.returncode)
        return d, pcap, keylog, cids, out
    except Exception:
        shutil.rmtree(d, ignore_errors=True)
        raise


def server_hellos(pcap):
    """tshark's reading of each ServerHello: (suite, extension types), in capture order."""
    r = subprocess.run(['tshark', '-r', pcap, '-Y', 'tls.handshake.type == 2', '-T', 'fields',
                        '-e', 'tls.handshake.ciphersuite', '-e', 'tls.handshake.extension.type'],
                       capture_output=True, text=True, check=True)
    out = []
    for line in r.stdout.splitlines():
        suite, ext = (line.split('\t') + [''])[:2]
        out.append((int(suite, 0), {int(e) for e in ext.split(',') if e}))
    return out


def corrupted(exe, check, d, pcap, keylog, oracle, cid, from_end, what):
    """A flipped byte from_end bytes before the end of the frame that carried cid's BYE
    (client to server, the frame's last record): authentication fails, counted; what that
    record held is missing, the rest is there."""
    bye = [r for r in oracle if r[1] == cid and r[3] == 'BYE'][0]
    bad = os.path.join(d, 'bad.pcap')
    corrupt_frame(pcap, bad, bye[0], from_end)
    bdoc = ours(exe, bad, '--tls-keylog', keylog)
    brow = msg_rows(bdoc)
    check(bdoc['capture']['tls']['tls_bad_record'] >= 1,
          '%s, a corrupted record: tls_bad_record counted (%s)' % (what, bdoc['capture']['tls']))
    # gnutls-cli sends what it read at once as one record: the frame's messages go together
    check(bye not in brow and brow == [r for r in oracle if r[0] != bye[0]],
          '%s: the messages of the corrupted record alone are missing (%d of %d)'
          % (what, len(brow), len(oracle)))


def checks(exe, check, d, pcap, keylog, cids, live_out):
    sent = 2 * 3 * (len(SUITES) - 1)  # every message both ways, WSS aside
    hellos = server_hellos(pcap)
    check(len(hellos) == len(SUITES) and all(
        hellos[i][0] == suite and (22 in hellos[i][1]) == etm for i, (suite, etm) in CBC_WANT.items()),
        'tshark: the CBC connections use the suites and MAC orders meant (%s)'
        % [(hex(h[0]), 22 in h[1]) for h in hellos])
    oracle = tshark_sip(pcap, keylog)
    check(len(oracle) == sent, 'tshark reads every message sent: %d of %d' % (len(oracle), sent))
    doc = ours(exe, pcap, '--tls-keylog', keylog)
    got = msg_rows(doc)
    check(got == oracle, 'with the key log: the same SIP messages as tshark (%d vs %d)'
          % (len(got), len(oracle)))
    if got != oracle:
        print('  ours only:', sorted(set(got) - set(oracle))[:6])
        print('  tshark only:', sorted(set(oracle) - set(got))[:6])
    # tshark does not follow the WebSocket upgrade inside TLS: the truth is what was sent.
    # Only the client's copy: the echo server sends the upgrade head back a line a record,
    # and a head split across segments is not taken for an upgrade (as over plain TCP)
    want_wss = sorted((cids[-1], 2 if m == 'BYE' else 1, m) for m in ('INVITE', 'ACK', 'BYE'))
    got_wss = msg_rows(doc, wss=True)
    check(sorted(r[1:] for r in got_wss) == want_wss and len({r[0] for r in got_wss}) == 1,
          'WSS: the three messages the client sent, read from its one record (%s)' % got_wss)
    wss = {m['call_id'] for m in doc['messages'] if m['transport'] == 'wss'}
    check(all(m['transport'] == ('wss' if m['call_id'] == cids[-1] else 'tls')
              for m in doc['messages']) and doc['messages'] and wss == {cids[-1]},
          'every message marked transport tls, the WebSocket ones wss')
    tls = doc['capture']['tls']
    check(tls['tls_no_keys'] == 0 and tls['tls_bad_record'] == 0,
          'with the key log: nothing counted as undecryptable (%s)' % tls)
    check(tls['flows'] >= len(SUITES), 'every connection followed as TLS (%s)' % tls)

    bare = ours(exe, pcap)
    check(bare['capture']['sip_messages'] == 0 and not bare['messages'],
          'without the key log: no SIP message')
    check(bare['capture']['tls']['tls_no_keys'] == len(SUITES),
          'without the key log: every connection counted in tls_no_keys (%s)'
          % bare['capture']['tls'])
    check(bare['capture']['decode_errors'].get('tls_no_keys') == len(SUITES),
          'tls_no_keys also under decode_errors')

    # one connection's secrets left out: that connection alone is missing
    lines = open(keylog).read().splitlines()
    first_cr = None
    part = os.path.join(d, 'part.txt')
    for ln in lines:
        if ln.startswith('CLIENT_RANDOM '):
            first_cr = ln.split()[1]
            break
    with open(part, 'w') as f:
        f.write('\n'.join(ln for ln in lines if first_cr not in ln) + '\n')
    pdoc = ours(exe, pcap, '--tls-keylog', part)
    prow = msg_rows(pdoc)
    check(prow == [r for r in oracle if r[1] != cids[0]],
          'a key log without one connection: its messages alone are missing')
    check(pdoc['capture']['tls']['tls_no_keys'] == 1, 'and that connection counted in tls_no_keys')

    # the byte flipped: a TLS 1.3 record's tag; under encrypt-then-MAC the MAC after the
    # ciphertext; under MAC-then-encrypt the last block (its padding and MAC deciphered as
    # garbage), and 40 bytes from the end, in the third block from last: that block and
    # one byte of the next decipher wrong, all of them inside SHA-384's 48-byte MAC when
    # the padding is under 16 bytes, as gnutls pads, so the MAC check alone can tell
    corrupted(exe, check, d, pcap, keylog, oracle, cids[3], 3, 'TLS 1.3 AES-128-GCM')
    corrupted(exe, check, d, pcap, keylog, oracle, cids[6], 3, 'TLS 1.2 AES-128-CBC-SHA, ETM')
    corrupted(exe, check, d, pcap, keylog, oracle, cids[7], 3, 'TLS 1.2 AES-256-CBC-SHA, MtE')
    corrupted(exe, check, d, pcap, keylog, oracle, cids[9], 40, 'TLS 1.2 AES-256-CBC-SHA384, MtE')

    # live, the key log written while the capture ran
    try:
        ldoc = json.loads(live_out)
        lrow = sorted((m['call_id'], int(m['cseq'].split()[0]), m['method'])
                      for m in ldoc['messages'])
        check(lrow == sorted([(r[1], r[2], r[3]) for r in oracle] + want_wss),
              'live: every message read with a key log that grew during the capture (%d of %d)'
              % (len(lrow), len(oracle)))
    except ValueError:
        check(False, 'live: the capture printed its JSON')


def main(argv):
    exe = os.path.abspath(argv[1])
    if os.environ.get('SIPSCOPE_TLS_NS') != '1':
        missing = [t for t in TOOLS if not shutil.which(t)]
        if missing:
            return skip('%s not installed' % ', '.join(missing))
        if os.geteuid() != 0:
            return skip('not root: no network namespace of our own')
        env = dict(os.environ, SIPSCOPE_TLS_NS='1')
        return subprocess.run(['unshare', '-n', sys.executable, os.path.abspath(__file__), exe],
                              env=env).returncode
    check = Checks()
    d, pcap, keylog, cids, live_out = in_namespace(exe, check)
    try:
        checks(exe, check, d, pcap, keylog, cids, live_out)
    finally:
        if not os.environ.get('SIPSCOPE_KEEP'):
            shutil.rmtree(d, ignore_errors=True)
        else:
            print('kept', d)
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv))
