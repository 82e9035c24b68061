"""Hostile traffic (issue 11): what an attacker on a mirrored network can send a monitor.
Each kind writes the attack and, in its middle, one well-formed call (calls.Call: INVITE,
100, 180, 200, ACK, 2 s of G.711 both ways, BYE, 200) that must still be reported right.
The truth holds that call's and what the attack put on the wire.

Kinds:
  register_flood  REGISTERs from N phones, each its own AoR and Call-ID, never answered
  rtp_ports       one RTP packet to each of N random UDP 5-tuples (no SDP announced them)
  frag_never      N first IPv4 fragments of SIP datagrams whose other fragments never come
  tcp_partial     N TCP connections that send the start of an INVITE and never its end, and
                  a few that send header lines without end (megabytes each)
  content_length  INVITEs that claim a body of 2^31 bytes, over UDP and over TCP
  many_headers    an INVITE with 10,000 header fields (TCP) and one with 3,000 (UDP,
                  fragmented)
  nested_multipart  INVITEs whose body nests multipart/mixed 1,000 deep (TCP) and 400 deep
                  (UDP, fragmented), the SDP at the bottom
  sdp_many_m      an INVITE whose SDP has 10,000 m= lines (TCP), and one with 2,000 (UDP)"""
import heapq
import random
import struct

from calls import SEC, MS, Call, Flow
from pcapwrite import ether, fragment, ipv4, tcp, udp

T0 = 1_700_000_000 * SEC
VICTIM = '198.51.100.1'


def _ip(i, net=100):
    """The i-th address of a private-looking /8 (net.x.y.z), never .0 or .255 at the end."""
    return '%d.%d.%d.%d' % (net, (i >> 14) & 255, (i >> 6) & 255, (i & 63) + 1)


def _invite(cid, src, extra='', body=b'', ctype=None, clen=None, transport='UDP'):
    h = ('INVITE sip:bob@%s SIP/2.0\r\nVia: SIP/2.0/%s %s:5060;branch=z9hG4bK-%s\r\n'
         'Max-Forwards: 70\r\nFrom: <sip:mallory@%s>;tag=m%s\r\nTo: <sip:bob@%s>\r\n'
         'Call-ID: %s\r\nCSeq: 1 INVITE\r\nContact: <sip:mallory@%s:5060>\r\n%s'
         % (VICTIM, transport, src, cid, src, cid, VICTIM, cid, src, extra))
    if ctype:
        h += 'Content-Type: %s\r\n' % ctype
    h += 'Content-Length: %d\r\n\r\n' % (len(body) if clen is None else clen)
    return h.encode() + body


def _udp_frames(src, dst, payload, ident, sport=5060, dport=5060):
    """A UDP datagram as one frame, or as IPv4 fragments of 1480 bytes when it is larger."""
    dgram = udp(sport, dport, payload)
    if len(dgram) <= 1480:
        return [ether(ipv4(src, dst, 17, dgram, ident=ident), 0x0800)]
    return [ether(ipv4(src, dst, 17, piece, ident=ident, mf=more, offset=off), 0x0800)
            for off, piece, more in fragment(dgram, 1480)]


class _Tcp:
    """One direction of a TCP connection to the victim's port 5060, segments of 1400 bytes."""

    def __init__(self, src, sport, isn=1000):
        self.src, self.sport, self.seq = src, sport, isn

    def send(self, data):
        out = []
        for off in range(0, len(data), 1400):
            piece = data[off:off + 1400]
            out.append(ether(ipv4(self.src, VICTIM, 6, tcp(self.sport, 5060, piece, seq=self.seq)), 0x0800))
            self.seq = (self.seq + len(piece)) & 0xFFFFFFFF
        return out


def register_flood(rng, n=120000):
    for i in range(n):
        src = _ip(i)
        aor = 'sip:u%d@%s' % (i, VICTIM)
        msg = ('REGISTER sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK-r%d\r\n'
               'Max-Forwards: 70\r\nFrom: <%s>;tag=r%d\r\nTo: <%s>\r\nCall-ID: reg-%d-%08x@%s\r\n'
               'CSeq: 1 REGISTER\r\nContact: <sip:u%d@%s:5060>\r\nExpires: 3600\r\n'
               'Content-Length: 0\r\n\r\n' % (VICTIM, src, i, aor, i, aor, i, rng.getrandbits(32), src, i, src))
        yield 20_000 * i, _udp_frames(src, VICTIM, msg.encode(), i & 0xFFFF)[0]
    return dict(registers=n)


def rtp_ports(rng, n=100000):
    payload = b'\xff' * 160
    for i in range(n):
        hdr = struct.pack('!BBHII', 0x80, 0, rng.randrange(65536), rng.getrandbits(32), rng.getrandbits(32))
        sport, dport = 1024 + 2 * rng.randrange(32000), 1024 + 2 * rng.randrange(32000)
        yield 10_000 * i, _udp_frames(_ip(i, 172), '172.31.255.1', hdr + payload, i & 0xFFFF, sport, dport)[0]
    return dict(flows=n)


def frag_never(rng, n=20000):
    for i in range(n):
        src = _ip(i >> 4, 10)
        msg = _invite('frag-%d' % i, src, extra='X-Pad: %s\r\n' % ('p' * 2000))
        first = _udp_frames(src, VICTIM, msg, i & 0xFFFF)[0]  # the rest never comes
        yield 50_000 * i, first
    return dict(datagrams=n)


def tcp_partial(rng, n=70000, big=20, big_bytes=1 << 20):
    t = 0
    for i in range(n):
        c = _Tcp(_ip(i >> 2), 20000 + (i & 3))
        start = _invite('tcp-%d' % i, c.src, transport='TCP')[:150]  # no end of headers
        for f in c.send(start):
            yield t, f
            t += 10_000
    for i in range(big):
        c = _Tcp('10.99.0.%d' % (i + 1), 30000)
        head = _invite('big-%d' % i, c.src, transport='TCP').split(b'Content-Length')[0]
        pad = b''.join(b'X-Pad-%d: %s\r\n' % (k, b'q' * 100) for k in range(big_bytes // 110))
        for f in c.send(head + pad):
            yield t, f
            t += 10_000
    return dict(connections=n, big_connections=big, big_bytes=big_bytes)


def content_length(rng, n=1000):
    t = 0
    for i in range(n):
        src = _ip(i, 10)
        msg = _invite('cl-udp-%d' % i, src, body=b'v=0\r\n', clen=2 ** 31)
        yield t, _udp_frames(src, VICTIM, msg, i & 0xFFFF)[0]
        t += 100_000
        c = _Tcp(src, 40000)
        for f in c.send(_invite('cl-tcp-%d' % i, src, body=b'v=0\r\n', clen=2 ** 31, transport='TCP')):
            yield t, f
            t += 100_000
    return dict(udp=n, tcp=n)


def many_headers(rng, n=20):
    t = 0
    for i in range(n):
        src = _ip(i, 10)
        c = _Tcp(src, 41000)
        extra = ''.join('X-H%d: v\r\n' % k for k in range(10000))
        for f in c.send(_invite('hdrs-tcp-%d' % i, src, extra=extra, transport='TCP')):
            yield t, f
            t += 100_000
        extra = ''.join('X-H%d: v\r\n' % k for k in range(3000))
        for f in _udp_frames(src, VICTIM, _invite('hdrs-udp-%d' % i, src, extra=extra), i):
            yield t, f
            t += 100_000
    return dict(tcp=n, udp=n)


def nested_multipart(rng, n=20, depth=1000, udp_depth=400):
    def nest(levels):
        body = b'v=0\r\no=- 1 1 IN IP4 10.0.0.9\r\ns=-\r\nc=IN IP4 10.0.0.9\r\nt=0 0\r\nm=audio 7000 RTP/AVP 0\r\n'
        ctype = 'application/sdp'
        for d in range(levels):
            b = 'b%d' % d
            body = (('--%s\r\nContent-Type: %s\r\n\r\n' % (b, ctype)).encode() + body +
                    ('\r\n--%s--\r\n' % b).encode())
            ctype = 'multipart/mixed;boundary=%s' % b
        return body, ctype
    deep, udp_body = nest(depth), nest(udp_depth)
    t = 0
    for i in range(n):
        src = _ip(i, 10)
        c = _Tcp(src, 43000)
        for f in c.send(_invite('mp-tcp-%d' % i, src, body=deep[0], ctype=deep[1], transport='TCP')):
            yield t, f
            t += 100_000
        for f in _udp_frames(src, VICTIM, _invite('mp-udp-%d' % i, src, body=udp_body[0], ctype=udp_body[1]), i):
            yield t, f
            t += 100_000
    return dict(tcp=n, udp=n, depth=depth, udp_depth=udp_depth)


def sdp_many_m(rng, n=20):
    def sdp(lines):
        return (b'v=0\r\no=- 1 1 IN IP4 10.0.0.9\r\ns=-\r\nc=IN IP4 10.0.0.9\r\nt=0 0\r\n' +
                b''.join(b'm=audio %d RTP/AVP 0\r\n' % (10000 + 2 * k) for k in range(lines)))
    t = 0
    for i in range(n):
        src = _ip(i, 10)
        c = _Tcp(src, 42000)
        for f in c.send(_invite('m-tcp-%d' % i, src, body=sdp(10000), ctype='application/sdp', transport='TCP')):
            yield t, f
            t += 100_000
        for f in _udp_frames(src, VICTIM, _invite('m-udp-%d' % i, src, body=sdp(2000), ctype='application/sdp'), i):
            yield t, f
            t += 100_000
    return dict(tcp=n, udp=n)


KINDS = {f.__name__: f for f in (register_flood, rtp_ports, frag_never, tcp_partial, content_length,
                                 many_headers, nested_multipart, sdp_many_m)}


def generate(writer, kind, seed=1):
    """Writes the attack of `kind` with the well-formed call starting at its middle; returns
    the truth: frames written, the attack's counts, the call's truth (calls.Call)."""
    rng = random.Random(seed)
    attack = []
    gen = KINDS[kind](rng)
    try:
        while True:
            t, f = next(gen)
            attack.append((T0 + t, f))
    except StopIteration as e:
        counts = e.value
    good = Call(0, 0, 2, 'answered', 0, 0, random.Random(seed + 1))
    good.start = attack[len(attack) // 2][0] + 1000
    events = [(t, f, m) for t, f, m in good.events()]
    frames = 0
    for t, f, m in heapq.merge(((t, f, None) for t, f in attack), events, key=lambda e: e[0]):
        frames += 1
        writer(t, f)
        if m is not None:
            m['frame'] = frames
    return dict(kind=kind, frames=frames, attack=counts, good=good.truth)
