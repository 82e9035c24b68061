"""Packet and capture-file building blocks for sipscope's own test captures.

Standard library only. Everything here is written from the formats' specifications
(pcap and pcapng file formats, IEEE 802.1Q/802.1ad, RFC 3032 MPLS, Linux cooked capture
v1/v2, RFC 791 IPv4, RFC 8200 IPv6, RFC 768 UDP, RFC 9293 TCP), not from sipscope's
code, so that a test built on these captures checks the decoder against the formats.
"""
import random
import socket
import struct

# link types (LINKTYPE_* of the pcap specification)
LT_NULL, LT_ETHERNET, LT_RAW, LT_LOOP = 0, 1, 101, 108
LT_SLL, LT_SLL2, LT_IPV4, LT_IPV6, LT_USER0 = 113, 276, 228, 229, 147


def fnv1a64(data: bytes) -> int:
    """Payload fingerprint shared with the C tests (FNV-1a, 64 bit)."""
    h = 0xcbf29ce484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip4(a: str) -> bytes:
    return socket.inet_pton(socket.AF_INET, a)


def ip6(a: str) -> bytes:
    return socket.inet_pton(socket.AF_INET6, a)


# ---- link layers -------------------------------------------------------------------------

def ether(payload: bytes, ethertype: int, src=b'\x02\0\0\0\0\x01', dst=b'\x02\0\0\0\0\x02',
          pad=True) -> bytes:
    f = dst + src + struct.pack('!H', ethertype) + payload
    if pad and len(f) < 60:  # minimum frame without FCS; the padding is not IP's
        f += b'\0' * (60 - len(f))
    return f


def vlan(payload: bytes, inner_type: int, vid: int, tpid=0x8100, prio=0):
    """Returns (bytes after the outer ethertype, outer ethertype) for one tag."""
    return struct.pack('!HH', (prio << 13) | vid, inner_type) + payload, tpid


def mpls(payload: bytes, labels) -> bytes:
    out = b''
    for i, lab in enumerate(labels):
        bos = 1 if i == len(labels) - 1 else 0
        out += struct.pack('!I', (lab << 12) | (bos << 8) | 64)
    return out + payload


def sll(payload: bytes, proto: int) -> bytes:
    # packet type 0 (to us), ARPHRD_ETHER, 6-byte address padded to 8, protocol
    return struct.pack('!HHH', 0, 1, 6) + b'\x02\0\0\0\0\x01\0\0' + struct.pack('!H', proto) + payload


def sll2(payload: bytes, proto: int) -> bytes:
    # protocol, reserved, interface index, ARPHRD_ETHER, packet type, address length, address
    return struct.pack('!HHIHBB', proto, 0, 3, 1, 0, 6) + b'\x02\0\0\0\0\x01\0\0' + payload


def null_hdr(payload: bytes, af: int, big_endian=False) -> bytes:
    return struct.pack('>I' if big_endian else '<I', af) + payload


def loop_hdr(payload: bytes, af: int) -> bytes:
    return struct.pack('!I', af) + payload


# ---- IP and above -------------------------------------------------------------------------

def ipv4(src: str, dst: str, proto: int, payload: bytes, ident=1, ttl=64, mf=False, offset=0,
         options=b'', total_len=None, ihl=None) -> bytes:
    hl = 20 + len(options)
    assert hl % 4 == 0
    ihl = hl // 4 if ihl is None else ihl
    tl = hl + len(payload) if total_len is None else total_len
    ff = (0x2000 if mf else 0) | (offset // 8)
    h = struct.pack('!BBHHHBBH4s4s', 0x40 | ihl, 0, tl, ident, ff, ttl, proto, 0, ip4(src), ip4(dst))
    h += options
    h = h[:10] + struct.pack('!H', csum(h)) + h[12:]
    return h + payload


def ipv6(src: str, dst: str, nxt: int, payload: bytes, hlim=64, plen=None) -> bytes:
    pl = len(payload) if plen is None else plen
    return struct.pack('!IHBB16s16s', 6 << 28, pl, nxt, hlim, ip6(src), ip6(dst)) + payload


def ipv6_ext(nxt: int, body: bytes) -> bytes:
    """Hop-by-hop / routing / destination options: body padded to 8n-2 bytes."""
    body += b'\0' * ((-(len(body) + 2)) % 8)
    return struct.pack('!BB', nxt, (len(body) + 2) // 8 - 1) + body


def ipv6_frag(nxt: int, offset: int, more: bool, ident: int) -> bytes:
    return struct.pack('!BBHI', nxt, 0, (offset // 8) << 3 | (1 if more else 0), ident)


def udp(sport: int, dport: int, payload: bytes, length=None, src=None, dst=None) -> bytes:
    ln = 8 + len(payload) if length is None else length
    h = struct.pack('!HHHH', sport, dport, ln, 0)
    if src and dst and ':' not in src and length is None:
        pseudo = ip4(src) + ip4(dst) + struct.pack('!BBH', 0, 17, ln)
        c = csum(pseudo + h + payload) or 0xFFFF
        h = h[:6] + struct.pack('!H', c)
    return h + payload


def tcp(sport: int, dport: int, payload: bytes, seq=1, ack=1, flags=0x18, options=b'',
        doff=None) -> bytes:
    assert len(options) % 4 == 0
    off = (20 + len(options)) // 4 if doff is None else doff
    return struct.pack('!HHIIBBHHH', sport, dport, seq, ack, off << 4, flags, 65535, 0, 0) + options + payload


def fragment(payload: bytes, size: int):
    """Splits an IP payload into (offset, bytes, more) pieces of `size` bytes (multiple of 8)."""
    assert size % 8 == 0
    out = []
    for off in range(0, len(payload), size):
        piece = payload[off:off + size]
        out.append((off, piece, off + size < len(payload)))
    return out


# ---- capture files ------------------------------------------------------------------------

class PcapWriter:
    """Classic pcap; nanosecond stamps when nano=True (magic 0xa1b23c4d)."""

    def __init__(self, path, linktype, snaplen=262144, nano=False):
        self.f = open(path, 'wb')
        self.nano = nano
        magic = 0xa1b23c4d if nano else 0xa1b2c3d4
        self.f.write(struct.pack('<IHHiIII', magic, 2, 4, 0, 0, snaplen, linktype))

    def write(self, t_ns: int, frame: bytes, caplen=None):
        """t_ns: epoch nanoseconds. caplen < len(frame) writes a snaplen-cut frame."""
        cap = len(frame) if caplen is None else min(caplen, len(frame))
        sec, ns = divmod(t_ns, 1_000_000_000)
        sub = ns if self.nano else ns // 1000
        self.f.write(struct.pack('<IIII', sec, sub, cap, len(frame)))
        self.f.write(frame[:cap])

    def close(self):
        self.f.close()


def mirror_copy(frame: bytes) -> bytes:
    """The same Ethernet/IPv4 frame as a second mirror port shows it after a router: other
    MAC addresses, the TTL one lower (and so the header checksum). Anything else is returned
    as it is."""
    if len(frame) < 34 or frame[12:14] != b'\x08\x00':
        return frame
    ip = bytearray(frame[14:])
    ihl = (ip[0] & 15) * 4
    ip[8] = max(1, ip[8] - 1)
    ip[10:12] = b'\0\0'
    ip[10:12] = struct.pack('!H', csum(bytes(ip[:ihl])))
    return b'\x02\0\0\0\0\x0b' + b'\x02\0\0\0\0\x0a' + frame[12:14] + bytes(ip)


class MirrorWriter:
    """Writes every frame twice, as a SPAN session copying both sides of a path does: the
    copy (mirror_copy) 20 to 300 us after the original, all in time order. frame_map[i]
    is the 1-based number in the file of the i-th frame given (its first copy)."""

    def __init__(self, writer, seed=1):
        self.out, self.rng, self.frames = writer, random.Random(seed), []

    def write(self, t_ns: int, frame: bytes):
        n = len(self.frames) // 2
        self.frames.append((t_ns, 2 * n, frame))
        self.frames.append((t_ns + self.rng.randrange(20_000, 300_000), 2 * n + 1, mirror_copy(frame)))

    def close(self):
        self.frames.sort(key=lambda f: (f[0], f[1]))
        self.frame_map = {}
        for i, (t, k, frame) in enumerate(self.frames):
            if k % 2 == 0:
                self.frame_map[k // 2 + 1] = i + 1
            self.out(t, frame)


def hep3(payload: bytes, src: str, sport: int, dst: str, dport: int, t_ns: int, proto=17, capid=2001) -> bytes:
    """HEPv3 (the HEP3 specification: "HEP3", total length, then chunks of vendor 0, type,
    length including the 6-byte chunk header, value; all big-endian) carrying one SIP
    message (payload type 1) of an IPv4 5-tuple, with the time in seconds and microseconds."""
    sec, ns = divmod(t_ns, 1_000_000_000)
    chunks = [(1, bytes([2])), (2, bytes([proto])), (3, ip4(src)), (4, ip4(dst)),
              (7, struct.pack('!H', sport)), (8, struct.pack('!H', dport)),
              (9, struct.pack('!I', sec)), (10, struct.pack('!I', ns // 1000)),
              (11, bytes([1])), (12, struct.pack('!I', capid)), (15, payload)]
    body = b''.join(struct.pack('!HHH', 0, t, 6 + len(v)) + v for t, v in chunks)
    return b'HEP3' + struct.pack('!H', 6 + len(body)) + body


class HepTraceWriter:
    """Writes every frame, and beside each SIP message over UDP/IPv4 that a tracing host sent
    or received a HEPv3 copy of it, as Kamailio's siptrace sends one (to a collector's port
    9060, from the host's SIP socket): what a capture holding both a proxy's wire and its
    HEP mirror shows. The HEP chunk time is the tracer's own clock when it traced the
    message (siptrace calls gettimeofday as it builds the packet): a sender traces up to
    0.3 ms before its send, a receiver 0.05 to 3 ms after the message arrived, and each
    tracer's clock is off the capture's by a fixed amount (clock_ms: NTP on a LAN). The HEP
    packet reaches the capture 20 to 200 us after the tracer sent it, so it can come before
    the wire frame. copies counts the HEP copies written; a message two tracers saw (one
    proxy's send, the next one's receipt) has two. hep_only leaves out the wire frames the
    HEP copies stand for (a HEP-only feed of the same tracers). written: the frames written;
    before: the HEP packets that came before their wire frame; max_skew_ns: the largest
    distance between a HEP time and its wire frame's."""

    def __init__(self, writer, seed=1, collector='10.99.0.1', clock_ms=8.0, hep_only=False):
        self.out, self.rng, self.frames = writer, random.Random(seed), []
        self.collector, self.clock_ms, self.hep_only = collector, clock_ms, hep_only
        self.copies = self.before = self.max_skew_ns = 0

    def write(self, t_ns: int, frame: bytes):
        self.frames.append((t_ns, frame))

    @staticmethod
    def sip_udp(frame: bytes):
        """(src, sport, dst, dport, payload) of an Ethernet/IPv4/UDP frame carrying SIP."""
        if len(frame) < 42 or frame[12:14] != b'\x08\x00' or frame[23] != 17:
            return None
        ihl = (frame[14] & 15) * 4
        tl = struct.unpack('!H', frame[16:18])[0]
        u = 14 + ihl
        sport, dport = struct.unpack('!HH', frame[u:u + 4])
        payload = frame[u + 8:14 + tl]
        first = payload.split(b'\r\n', 1)[0]
        if not (first.startswith(b'SIP/2.0 ') or first.endswith(b' SIP/2.0')):
            return None
        return (socket.inet_ntop(socket.AF_INET, frame[26:30]), sport,
                socket.inet_ntop(socket.AF_INET, frame[30:34]), dport, payload)

    def close(self, tracers):
        """tracers: the IPv4 addresses whose SIP is traced."""
        from calls import Flow  # noqa: E402 (calls imports this module)
        offset = {h: int(self.rng.uniform(-self.clock_ms, self.clock_ms) * 1e6) for h in sorted(tracers)}
        flows, out = {}, []
        for t, frame in self.frames:
            m = self.sip_udp(frame)
            traced = [h for h in (m[0], m[2]) if h in tracers] if m else []
            if not (traced and self.hep_only):
                out.append((t, len(out), frame))
            for h in traced:
                sender = h == m[0]
                # when the tracer traced it, by the capture's clock
                at = t - self.rng.randrange(0, 300_000) if sender else t + self.rng.randrange(50_000, 3_000_000)
                hep = hep3(m[4], m[0], m[1], m[2], m[3], at + offset[h])
                f = flows.setdefault(h, Flow(h, 5060, self.collector, 9060))
                arrives = at + self.rng.randrange(20_000, 200_000)
                out.append((arrives, len(out), f.frame(hep)))
                self.copies += 1
                self.before += arrives < t
                self.max_skew_ns = max(self.max_skew_ns, abs(at + offset[h] - t))
        out.sort()
        self.written = len(out)
        for t, _, frame in out:
            self.out(t, frame)


class PcapngWriter:
    """pcapng with one section and one interface (if_tsresol 9: nanoseconds)."""

    def __init__(self, path, linktype, snaplen=262144):
        self.f = open(path, 'wb')
        shb_body = struct.pack('<IHHq', 0x1A2B3C4D, 1, 0, -1)
        self._block(0x0A0D0D0A, shb_body)
        opt = struct.pack('<HHB3x', 9, 1, 9) + struct.pack('<HH', 0, 0)  # if_tsresol=9, end
        self._block(1, struct.pack('<HHI', linktype, 0, snaplen) + opt)

    def _block(self, btype, body):
        body += b'\0' * ((-len(body)) % 4)
        ln = 12 + len(body)
        self.f.write(struct.pack('<II', btype, ln) + body + struct.pack('<I', ln))

    def write(self, t_ns: int, frame: bytes, caplen=None):
        cap = len(frame) if caplen is None else min(caplen, len(frame))
        body = struct.pack('<IIIII', 0, t_ns >> 32, t_ns & 0xFFFFFFFF, cap, len(frame)) + frame[:cap]
        self._block(6, body)

    def close(self):
        self.f.close()
