"""Decoding cases with known truth: one capture per case, and beside it <case>.truth.json
saying what a correct decoder must deliver (every UDP datagram / TCP segment, in order,
with addresses, length and payload fingerprint) and which rejections it must count.

The truth is what this generator put into the capture, by construction; it is never
taken from sipscope's output."""
import json
import os
import struct

from pcapwrite import (ip4, ip6, LT_ETHERNET, LT_IPV4, LT_IPV6, LT_LOOP, LT_NULL, LT_RAW, LT_SLL,
                       LT_SLL2, LT_USER0, PcapngWriter, PcapWriter, ether, fnv1a64, fragment,
                       ipv4, ipv6, ipv6_ext, ipv6_frag, loop_hdr, mpls, null_hdr, sll, sll2, tcp,
                       udp, vlan)

T0 = 1_700_000_000_000_000_000  # 2023-11-14 22:13:20 UTC, in ns

A4, B4 = '192.0.2.10', '198.51.100.20'
A6, B6 = '2001:db8::10', '2001:db8:1::20'


def sip_text(n=0, size=None):
    body = ('OPTIONS sip:b@example.com SIP/2.0\r\n'
            'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-%d\r\n'
            'From: <sip:a@example.com>;tag=%d\r\nTo: <sip:b@example.com>\r\n'
            'Call-ID: case-%d@192.0.2.10\r\nCSeq: %d OPTIONS\r\nContent-Length: 0\r\n\r\n' % (n, n, n, n + 1))
    b = body.encode()
    if size:
        b = (b + b'x' * size)[:size]
    return b


def addr(ip, port):
    return '[%s]:%d' % (ip, port) if ':' in ip else '%s:%d' % (ip, port)


class Case:
    def __init__(self, name, linktype, nano=False, pcapng=False, snaplen=262144):
        self.name, self.linktype, self.nano, self.pcapng = name, linktype, nano, pcapng
        self.snaplen = snaplen
        self.frames = []        # (t_ns, bytes, caplen)
        self.deliveries = []
        self.errors = {}
        self.counts = {}
        self.sip = None         # SIP messages expected, when the case checks them

    def frame(self, data, t=None, caplen=None):
        t = T0 + len(self.frames) * 1_000_000 if t is None else t
        self.frames.append((t, data, caplen))
        return len(self.frames)  # 1-based frame number, as tshark counts

    def deliver(self, frame, proto, src, sport, dst, dport, payload, truncated=False,
                reassembled=False, vlan_id=0):
        self.deliveries.append(dict(frame=frame, proto=proto, src=addr(src, sport),
                                    dst=addr(dst, dport), len=len(payload),
                                    fnv='%016x' % fnv1a64(payload), truncated=truncated,
                                    reassembled=reassembled, vlan=vlan_id))

    def sip_msg(self, frame, call_id, transport, **inner):
        """inner: src, dst ("ip:port") and time_ns where they differ from the frame's own
        (HEP carries the original capture's addresses and time)."""
        if self.sip is None:
            self.sip = []
        self.sip.append(dict(frame=frame, call_id=call_id, transport=transport, **inner))

    def error(self, reason, n=1):
        self.errors[reason] = self.errors.get(reason, 0) + n

    def count(self, key, n=1):
        self.counts[key] = self.counts.get(key, 0) + n

    def write(self, outdir, files=None, truth=True):
        path = os.path.join(outdir, self.name + ('.pcapng' if self.pcapng else '.pcap'))
        w = (PcapngWriter(path, self.linktype, self.snaplen) if self.pcapng
             else PcapWriter(path, self.linktype, self.snaplen, nano=self.nano))
        for t, data, cap in self.frames:
            w.write(t, data, cap)
        w.close()
        if not truth:
            return
        truth = dict(files=files or [os.path.basename(path)], frames=len(self.frames),
                     first_ns=min(f[0] for f in self.frames), last_ns=max(f[0] for f in self.frames),
                     deliveries=self.deliveries, errors=self.errors, counts=self.counts)
        if self.sip is not None:
            truth['sip'] = self.sip
        with open(os.path.join(outdir, self.name + '.truth.json'), 'w') as f:
            json.dump(truth, f, indent=1)


def udp4_frame(c, payload, sport=5060, dport=5060, wrap=lambda ip: ether(ip, 0x0800), vid=0,
               src=A4, dst=B4):
    n = c.frame(wrap(ipv4(src, dst, 17, udp(sport, dport, payload, src=src, dst=dst))))
    c.deliver(n, 'udp', src, sport, dst, dport, payload, vlan_id=vid)
    return n


def udp6_frame(c, payload, sport=5060, dport=5060, wrap=lambda ip: ether(ip, 0x86dd), vid=0):
    n = c.frame(wrap(ipv6(A6, B6, 17, udp(sport, dport, payload))))
    c.deliver(n, 'udp', A6, sport, B6, dport, payload, vlan_id=vid)
    return n


def case_ethernet(out):
    c = Case('ethernet', LT_ETHERNET)
    udp4_frame(c, sip_text(1))
    udp4_frame(c, b'hi')                       # padded to 60 bytes: padding is not payload
    udp6_frame(c, sip_text(2))
    # IPv4 options (router alert) and TCP options (MSS + NOPs)
    pl = sip_text(3)
    n = c.frame(ether(ipv4(A4, B4, 6, tcp(40000, 5060, pl, options=b'\x02\x04\x05\xb4\x01\x01\x01\x01'),
                           options=b'\x94\x04\x00\x00'), 0x0800))
    c.deliver(n, 'tcp', A4, 40000, B4, 5060, pl)
    c.frame(ether(b'\0\x01\x08\x00\x06\x04\x00\x01' + b'\0' * 20, 0x0806))  # ARP
    c.count('non_ip')
    c.frame(ether(b'\xaa\xaa\x03' + b'\0' * 40, 40))                          # 802.3 + LLC
    c.count('non_ip')
    c.frame(ether(ipv4(A4, B4, 1, b'\x08\0\0\0\0\0\0\0'), 0x0800))             # ICMP
    c.count('other_proto')
    c.write(out)


def case_vlan(out):
    c = Case('vlan', LT_ETHERNET)
    for tpids, name in (((0x8100,), '802.1Q'), ((0x88a8, 0x8100), '802.1ad QinQ'),
                        ((0x9100, 0x8100), 'old QinQ'), ((0x8100, 0x8100, 0x8100), 'triple')):
        def wrap(ip, tpids=tpids):
            body, typ = ip, 0x0800
            vids = list(range(100, 100 + len(tpids)))
            for tpid, vid in reversed(list(zip(tpids, vids))):
                body, typ = vlan(body, typ, vid, tpid)
            return ether(body, typ)
        udp4_frame(c, sip_text(len(c.frames)), wrap=wrap, vid=100)
    # a tag cut short by the frame's end (not by snaplen): vlan_truncated
    c.frame(ether(b'\x00', 0x8100, pad=False))
    c.error('vlan_truncated')
    c.write(out)


def case_mpls(out):
    c = Case('mpls', LT_ETHERNET)
    udp4_frame(c, sip_text(1), wrap=lambda ip: ether(mpls(ip, [16]), 0x8847))
    udp4_frame(c, sip_text(2), wrap=lambda ip: ether(mpls(ip, [16, 17, 18]), 0x8847))
    udp6_frame(c, sip_text(3), wrap=lambda ip: ether(mpls(ip, [30, 31]), 0x8847))
    # VLAN, then MPLS (a provider edge mirror)
    udp4_frame(c, sip_text(4), wrap=lambda ip: ether(*vlan(mpls(ip, [40]), 0x8847, 7)), vid=7)
    # pseudowire control word after the stack: not IP
    c.frame(ether(mpls(b'\0\0\0\0' + b'\0' * 40, [50]), 0x8847))
    c.error('mpls_payload_unknown')
    # bottom-of-stack never set before the frame ends
    c.frame(ether(b'\x00\x01\x00\x40' * 3, 0x8847, pad=False))
    c.error('mpls_truncated')
    c.write(out)


def case_sll(out):
    c = Case('sll', LT_SLL)
    udp4_frame(c, sip_text(1), wrap=lambda ip: sll(ip, 0x0800))
    udp6_frame(c, sip_text(2), wrap=lambda ip: sll(ip, 0x86dd))
    c.frame(sll(b'\0' * 28, 0x0806))
    c.count('non_ip')
    c.frame(b'\0' * 10)
    c.error('link_truncated')
    c.write(out)


def case_sll2(out):
    c = Case('sll2', LT_SLL2)
    udp4_frame(c, sip_text(1), wrap=lambda ip: sll2(ip, 0x0800))
    udp6_frame(c, sip_text(2), wrap=lambda ip: sll2(ip, 0x86dd))
    c.write(out)


def case_raw(out):
    c = Case('raw', LT_RAW)
    udp4_frame(c, sip_text(1), wrap=lambda ip: ip)
    udp6_frame(c, sip_text(2), wrap=lambda ip: ip)
    c.frame(b'\x50' + b'\0' * 30)
    c.error('ip_bad_version')
    c.write(out)
    c = Case('raw_ipv4', LT_IPV4)
    udp4_frame(c, sip_text(3), wrap=lambda ip: ip)
    c.write(out)
    c = Case('raw_ipv6', LT_IPV6)
    udp6_frame(c, sip_text(4), wrap=lambda ip: ip)
    c.write(out)


def case_null(out):
    c = Case('null', LT_NULL)
    udp4_frame(c, sip_text(1), wrap=lambda ip: null_hdr(ip, 2))
    udp6_frame(c, sip_text(2), wrap=lambda ip: null_hdr(ip, 30))                  # macOS
    udp6_frame(c, sip_text(3), wrap=lambda ip: null_hdr(ip, 24))                  # NetBSD/OpenBSD
    udp4_frame(c, sip_text(4), wrap=lambda ip: null_hdr(ip, 2, big_endian=True))  # big-endian host
    c.frame(null_hdr(b'\0' * 20, 7))
    c.count('non_ip')
    c.write(out)
    c = Case('loop', LT_LOOP)
    udp4_frame(c, sip_text(5), wrap=lambda ip: loop_hdr(ip, 2))
    udp6_frame(c, sip_text(6), wrap=lambda ip: loop_hdr(ip, 28))
    c.write(out)


def case_ipv6_ext(out):
    c = Case('ipv6_ext', LT_ETHERNET)
    pl = sip_text(1)
    u = udp(5060, 5060, pl)
    chain = ipv6_ext(60, b'\x01\x02\0\0') + ipv6_ext(43, b'\0\0\0\0\0\0' + b'\0' * 16) + ipv6_ext(17, b'\x01\x02\0\0') + u
    n = c.frame(ether(ipv6(A6, B6, 0, chain), 0x86dd))
    c.deliver(n, 'udp', A6, 5060, B6, 5060, pl)
    # AH (RFC 4302): length in 32-bit words minus 2; 12 bytes of ICV here
    ah = bytes([17, 4]) + b'\0\0' + b'\0\0\0\x01' + b'\0\0\0\x01' + b'\0' * 12
    n = c.frame(ether(ipv6(A6, B6, 51, ah + u), 0x86dd))
    c.deliver(n, 'udp', A6, 5060, B6, 5060, pl)
    # atomic fragment (RFC 6946): offset 0, M=0 -> no reassembly
    n = c.frame(ether(ipv6(A6, B6, 44, ipv6_frag(17, 0, False, 77) + u), 0x86dd))
    c.deliver(n, 'udp', A6, 5060, B6, 5060, pl)
    # an extension header that runs past the payload
    c.frame(ether(ipv6(A6, B6, 60, bytes([17, 20]) + b'\0' * 6), 0x86dd))
    c.error('ipv6_ext_truncated')
    c.write(out)


def case_tunnels(out):
    c = Case('tunnels', LT_ETHERNET)
    pl = sip_text(1)
    inner = ipv4('10.0.0.1', '10.0.0.2', 17, udp(5060, 5060, pl, src='10.0.0.1', dst='10.0.0.2'))
    n = c.frame(ether(ipv4(A4, B4, 4, inner), 0x0800))
    c.deliver(n, 'udp', '10.0.0.1', 5060, '10.0.0.2', 5060, pl)
    inner6 = ipv6(A6, B6, 17, udp(5060, 5062, pl))
    n = c.frame(ether(ipv4(A4, B4, 41, inner6), 0x0800))
    c.deliver(n, 'udp', A6, 5060, B6, 5062, pl)
    deep = inner
    for _ in range(6):
        deep = ipv4(A4, B4, 4, deep)
    c.frame(ether(deep, 0x0800))
    c.error('tunnel_too_deep')

    # mirror tunnels: each carries one SIP datagram between 10.0.1.1 and 10.0.1.2, and the
    # truth is that datagram (the carrier is not delivered)
    def sip_eth(k):
        p = sip_text(10 + k)
        src, dst = '10.0.1.1', '10.0.1.2'
        return p, ether(ipv4(src, dst, 17, udp(5060, 5070 + k, p, src=src, dst=dst)), 0x0800)

    def gre(ptype, payload, key=None, seq=None, csum=False):
        flags = (0x8000 if csum else 0) | (0x2000 if key is not None else 0) | (0x1000 if seq is not None else 0)
        h = struct.pack('!HH', flags, ptype)
        if csum:
            h += b'\0\0\0\0'
        if key is not None:
            h += struct.pack('!I', key)
        if seq is not None:
            h += struct.pack('!I', seq)
        return ipv4(A4, B4, 47, h + payload)

    def carried(k, outer):
        p, _ = sip_eth(k)
        n = c.frame(ether(outer, 0x0800))
        c.deliver(n, 'udp', '10.0.1.1', 5060, '10.0.1.2', 5070 + k, p)

    p0 = sip_text(10)
    ip_in = ipv4('10.0.1.1', '10.0.1.2', 17, udp(5060, 5070, p0, src='10.0.1.1', dst='10.0.1.2'))
    carried(0, gre(0x0800, ip_in))                                            # GRE, IPv4 inside
    carried(1, gre(0x6558, sip_eth(1)[1], key=7, seq=1, csum=True))          # GRE bridging Ethernet
    carried(2, gre(0x88be, struct.pack('!HHI', 0x1000 | 5, 0x0001, 0) + sip_eth(2)[1], seq=9))  # ERSPAN II
    carried(3, gre(0x22eb, struct.pack('!HHIHH', 0x2000, 0x0001, 12345, 0, 0) + sip_eth(3)[1], seq=10))  # ERSPAN III
    carried(4, gre(0x22eb, struct.pack('!HHIHH', 0x2000, 0x0001, 12345, 0, 1) + b'\0' * 8 + sip_eth(4)[1],
                   seq=11))                                                  # ERSPAN III, platform subheader
    carried(5, ipv4(A4, B4, 17, udp(49152, 4789, struct.pack('!II', 0x08000000, 42 << 8) + sip_eth(5)[1],
                                    src=A4, dst=B4)))                        # VXLAN
    carried(6, ipv4(A4, B4, 17, udp(37008, 37008, b'\x01\x00\x00\x01' + b'\x00' + b'\x0a\x01\x05' + b'\x01'
                                    + sip_eth(6)[1], src=A4, dst=B4)))       # TZSP, a tag and padding
    # broken carriers: counted, nothing delivered
    c.frame(ether(ipv4(A4, B4, 47, b'\x00'), 0x0800))
    c.error('gre_truncated')
    c.frame(ether(gre(0x880b, b'\xff\x03' + p0), 0x0800))                   # PPP in GRE: not ours
    c.error('gre_unsupported')
    # on a tunnel's port but not that tunnel: counted, then an ordinary datagram
    bad = b'\x00' * 8 + sip_eth(7)[1]                                         # VXLAN I flag clear
    n = c.frame(ether(ipv4(A4, B4, 17, udp(49152, 4789, bad, src=A4, dst=B4)), 0x0800))
    c.deliver(n, 'udp', A4, 49152, B4, 4789, bad)
    c.error('vxlan_bad')
    bad = b'\x01\x00\x00\x12' + b'\x01' + p0                                 # TZSP carrying 802.11
    n = c.frame(ether(ipv4(A4, B4, 17, udp(37008, 37008, bad, src=A4, dst=B4)), 0x0800))
    c.deliver(n, 'udp', A4, 37008, B4, 37008, bad)
    c.error('tzsp_bad')
    c.write(out)


def frag4_frames(payload, ident, size=1480, sport=5060, dport=5060):
    u = udp(sport, dport, payload, src=A4, dst=B4)
    return [ether(ipv4(A4, B4, 17, piece, ident=ident, mf=more, offset=off), 0x0800)
            for off, piece, more in fragment(u, size)]


def case_frag4(out):
    c = Case('frag4', LT_ETHERNET)
    big = sip_text(1, 4000)
    # in order
    fr = frag4_frames(big, 100)
    for f in fr[:-1]:
        c.frame(f)
    n = c.frame(fr[-1])
    c.deliver(n, 'udp', A4, 5060, B4, 5060, big, reassembled=True)
    # reverse order
    big2 = sip_text(2, 3000)
    fr = frag4_frames(big2, 101)
    for f in reversed(fr[1:]):
        c.frame(f)
    n = c.frame(fr[0])
    c.deliver(n, 'udp', A4, 5060, B4, 5060, big2, reassembled=True)
    # a duplicated middle fragment (mirror port)
    big3 = sip_text(3, 4000)
    fr = frag4_frames(big3, 102)
    c.frame(fr[0]); c.frame(fr[1]); c.frame(fr[1])
    n = c.frame(fr[2])
    c.deliver(n, 'udp', A4, 5060, B4, 5060, big3, reassembled=True)
    c.count('frag_duplicates')
    # overlapping fragments that agree (re-fragmented at other boundaries): accepted
    big4 = sip_text(4, 2000)
    u = udp(5060, 5060, big4, src=A4, dst=B4)
    c.frame(ether(ipv4(A4, B4, 17, u[0:1024], ident=103, mf=True, offset=0), 0x0800))
    c.frame(ether(ipv4(A4, B4, 17, u[512:1536], ident=103, mf=True, offset=512), 0x0800))
    n = c.frame(ether(ipv4(A4, B4, 17, u[1024:], ident=103, mf=False, offset=1024), 0x0800))
    c.deliver(n, 'udp', A4, 5060, B4, 5060, big4, reassembled=True)
    # overlapping fragments that disagree: the datagram is dropped, counted
    big5 = sip_text(5, 2000)
    u = udp(5060, 5060, big5, src=A4, dst=B4)
    c.frame(ether(ipv4(A4, B4, 17, u[0:1024], ident=104, mf=True, offset=0), 0x0800))
    evil = bytes(b ^ 0xFF for b in u[512:1024])
    c.frame(ether(ipv4(A4, B4, 17, evil, ident=104, mf=True, offset=512), 0x0800))
    c.error('ipfrag_overlap')
    c.frame(ether(ipv4(A4, B4, 17, u[1024:], ident=104, mf=False, offset=1024), 0x0800))
    c.error('ipfrag_incomplete')  # the last piece starts a datagram that never completes
    # two datagrams interleaved, same addresses, different IDs
    b6, b7 = sip_text(6, 3000), sip_text(7, 3000)
    f6, f7 = frag4_frames(b6, 106, sport=5061), frag4_frames(b7, 107, sport=5062)
    c.frame(f6[0]); c.frame(f7[0]); c.frame(f7[1]); c.frame(f6[1])
    n = c.frame(f7[2])
    c.deliver(n, 'udp', A4, 5062, B4, 5060, b7, reassembled=True)
    n = c.frame(f6[2])
    c.deliver(n, 'udp', A4, 5061, B4, 5060, b6, reassembled=True)
    # a piece never arrives
    fr = frag4_frames(sip_text(8, 3000), 108)
    c.frame(fr[0]); c.frame(fr[2])
    c.error('ipfrag_incomplete')
    # the "ping of death": a piece that ends past 65535
    c.frame(ether(ipv4(A4, B4, 17, b'\0' * 200, ident=109, mf=False, offset=65528 - 8), 0x0800))
    c.error('ipfrag_oversize')
    # a non-last piece whose length is not a multiple of 8
    c.frame(ether(ipv4(A4, B4, 17, b'\0' * 100, ident=110, mf=True, offset=0), 0x0800))
    c.error('ipfrag_bad_length')
    # an unfragmented datagram after all that still decodes
    udp4_frame(c, sip_text(9))
    c.write(out)


def case_frag_timeout(out):
    c = Case('frag_timeout', LT_ETHERNET)
    fr = frag4_frames(sip_text(1, 3000), 200)
    c.frame(fr[0], t=T0)
    c.frame(fr[1], t=T0 + 1_000_000_000)
    # 40 s later: the first two pieces have timed out (30 s); the last piece alone is left
    c.frame(fr[2], t=T0 + 40_000_000_000)
    c.error('ipfrag_timeout')
    c.error('ipfrag_incomplete')
    # a complete datagram within the timeout still reassembles
    big = sip_text(2, 3000)
    fr = frag4_frames(big, 201)
    c.frame(fr[0], t=T0 + 41_000_000_000)
    c.frame(fr[1], t=T0 + 50_000_000_000)
    n = c.frame(fr[2], t=T0 + 60_000_000_000)
    c.deliver(n, 'udp', A4, 5060, B4, 5060, big, reassembled=True)
    c.write(out)


def case_frag6(out):
    c = Case('frag6', LT_SLL)
    big = sip_text(1, 3000)
    u = udp(5060, 5060, big)
    pieces = fragment(u, 1448)
    frames = [sll(ipv6(A6, B6, 44, ipv6_frag(17, off, more, 0xb0647780) + p), 0x86dd)
              for off, p, more in pieces]
    for f in frames[:-1]:
        c.frame(f)
    n = c.frame(frames[-1])
    c.deliver(n, 'udp', A6, 5060, B6, 5060, big, reassembled=True)
    # out of order, with a destination-options header inside the fragmentable part
    big2 = sip_text(2, 2500)
    inner = ipv6_ext(17, b'\x01\x02\0\0') + udp(5060, 5070, big2)
    pieces = fragment(inner, 1024)
    frames = [sll(ipv6(A6, B6, 44, ipv6_frag(60, off, more, 0x1234) + p), 0x86dd)
              for off, p, more in pieces]
    c.frame(frames[2]); c.frame(frames[0])
    n = c.frame(frames[1])
    c.deliver(n, 'udp', A6, 5060, B6, 5070, big2, reassembled=True)
    c.write(out)


def case_truncated(out):
    c = Case('truncated', LT_ETHERNET)  # frames cut one by one (caplen < len)
    pl = sip_text(1, 600)
    # snaplen cut in the payload: delivered, flagged, 96 - 14 - 20 - 8 bytes
    f = ether(ipv4(A4, B4, 17, udp(5060, 5060, pl, src=A4, dst=B4)), 0x0800)
    n = c.frame(f, caplen=96)
    c.deliver(n, 'udp', A4, 5060, B4, 5060, pl[:96 - 42], truncated=True)
    c.error('snaplen_truncated')
    c.error('sip_headers_unterminated')  # still reported as SIP, flagged malformed
    # snaplen cut inside the IPv4 header
    c.frame(f, caplen=20)
    c.error('snaplen_truncated')
    # a cut fragment can never be reassembled
    fr = frag4_frames(sip_text(2, 3000), 300)
    c.frame(fr[0], caplen=96)
    c.error('snaplen_truncated')
    c.error('ipfrag_truncated')
    # IPv6 cut in the payload
    f6 = ether(ipv6(A6, B6, 17, udp(5060, 5060, pl)), 0x86dd)
    n = c.frame(f6, caplen=96)
    c.deliver(n, 'udp', A6, 5060, B6, 5060, pl[:96 - 62], truncated=True)
    c.error('snaplen_truncated')
    # not cut by snaplen, but lying about lengths: malformed, rejected
    c.frame(ether(ipv4(A4, B4, 17, udp(5060, 5060, b'abc'), total_len=200), 0x0800))
    c.error('ipv4_bad_length')
    c.frame(ether(ipv4(A4, B4, 17, udp(5060, 5060, b'abc'), ihl=4), 0x0800))
    c.error('ipv4_bad_header')
    c.frame(ether(ipv4(A4, B4, 17, udp(5060, 5060, b'abc', length=57343)), 0x0800))
    c.error('udp_bad_length')
    c.frame(ether(ipv4(A4, B4, 17, b'\x13\xc4\x13'), 0x0800))
    c.error('udp_truncated')
    c.frame(ether(ipv4(A4, B4, 6, tcp(1, 2, b'', doff=3)), 0x0800))
    c.error('tcp_bad_header')
    c.frame(ether(ipv6(A6, B6, 17, udp(5060, 5060, b'abc'), plen=500), 0x86dd))
    c.error('ipv6_bad_length')
    c.frame(b'\x02\0\0\0\0\x02\x02\0\0\0')
    c.error('link_truncated')
    # after all of that, a good frame is still good
    udp4_frame(c, sip_text(3))
    c.write(out)


def case_unsupported(out):
    c = Case('unsupported_link', LT_USER0)
    c.frame(b'\0' * 40)
    c.frame(b'\0' * 40)
    c.error('link_unsupported', 2)
    c.write(out)


def case_timestamps(out):
    # nanosecond pcap: stamps must come through to the nanosecond
    c = Case('nanosecond', LT_ETHERNET, nano=True)
    for i, t in enumerate((T0 + 123_456_789, T0 + 1_000_000_001, T0 + 2_999_999_999)):
        n = c.frame(ether(ipv4(A4, B4, 17, udp(5060, 5060, sip_text(i), src=A4, dst=B4)), 0x0800), t=t)
        c.deliver(n, 'udp', A4, 5060, B4, 5060, sip_text(i))
    c.write(out)
    c = Case('pcapng', LT_ETHERNET, pcapng=True)
    for i, t in enumerate((T0 + 5, T0 + 700_000_123)):
        n = c.frame(ether(ipv4(A4, B4, 17, udp(5060, 5060, sip_text(i), src=A4, dst=B4)), 0x0800), t=t)
        c.deliver(n, 'udp', A4, 5060, B4, 5060, sip_text(i))
    c.write(out)


def case_merge(out):
    """Two files whose frames interleave in time: merged, they must come out in time order
    (ties to the first file named). Source port = position in the merged order."""
    a = Case('merge_a', LT_ETHERNET)
    b = Case('merge_b', LT_SLL)
    order = [('a', 0), ('b', 1), ('b', 2), ('a', 3), ('a', 5), ('b', 5), ('b', 9)]
    merged = Case('merge', LT_ETHERNET)
    for i, (which, ms) in enumerate(order):
        t = T0 + ms * 1_000_000
        pl = sip_text(i)
        ip = ipv4(A4, B4, 17, udp(6000 + i, 5060, pl, src=A4, dst=B4))
        (a if which == 'a' else b).frame(ether(ip, 0x0800) if which == 'a' else sll(ip, 0x0800), t=t)
        merged.deliver(i + 1, 'udp', A4, 6000 + i, B4, 5060, pl)
    a.write(out, truth=False)  # only the merged truth is meaningful
    b.write(out, truth=False)
    truth = dict(files=['merge_a.pcap', 'merge_b.pcap'], frames=len(order),
                 first_ns=T0, last_ns=T0 + 9_000_000, deliveries=merged.deliveries, errors={},
                 counts={})
    with open(os.path.join(out, 'merge.truth.json'), 'w') as f:
        json.dump(truth, f, indent=1)


def sip_req(cid, method='OPTIONS', body=b'', transport='TCP'):
    hdr = ('%s sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/%s 192.0.2.10;branch=z9hG4bK-%s\r\n'
           'From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: %s\r\n'
           'CSeq: 1 %s\r\nContent-Length: %d\r\n\r\n' % (method, transport, cid, cid, method, len(body)))
    return hdr.encode() + body


class TcpConn:
    """One direction of a TCP connection: SYN, data segments with the right sequence
    numbers (or deliberately wrong ones), FIN. Frames are recorded on the Case, each with
    the delivery the L4 truth expects."""

    def __init__(self, case, sport, dport, isn=1000, src=A4, dst=B4, t0=None):
        self.c, self.sport, self.dport, self.src, self.dst = case, sport, dport, src, dst
        self.isn, self.seq, self.t = isn, isn + 1, t0
        self.ident = sport  # IP IDs count up per segment, as a sender's stack does

    def _frame(self, payload, seq, flags, t):
        self.ident = (self.ident + 1) & 0xFFFF  # a retransmission is a new datagram
        n = self.c.frame(ether(ipv4(self.src, self.dst, 6, tcp(self.sport, self.dport, payload,
                                                                seq=seq, flags=flags), ident=self.ident), 0x0800), t=t)
        self.c.deliver(n, 'tcp', self.src, self.sport, self.dst, self.dport, payload)
        return n

    def syn(self, t=None):
        return self._frame(b'', self.isn, 0x02, t)

    def send(self, payload, t=None, seq=None, advance=True):
        """Sends payload at seq (default: the next byte); returns the frame number."""
        at = self.seq if seq is None else seq
        n = self._frame(payload, at & 0xFFFFFFFF, 0x18, t)
        if advance and seq is None:
            self.seq += len(payload)
        return n

    def fin(self, t=None):
        return self._frame(b'', self.seq, 0x11, t)


def case_tcp_sip(out):
    c = Case('tcp_sip', LT_ETHERNET)
    T = lambda ms: T0 + ms * 1_000_000
    # 1: two messages in one segment; one over three; a retransmission; two pieces
    #    reordered; a body cut in the middle; FIN
    a = TcpConn(c, 40001, 5060)
    a.syn(T(0))
    n = a.send(sip_req('tcp-1') + sip_req('tcp-2'), T(1))
    c.sip_msg(n, 'tcp-1', 'tcp'); c.sip_msg(n, 'tcp-2', 'tcp')
    m3 = sip_req('tcp-3')
    a.send(m3[:40], T(2)); seq_mid = a.seq; a.send(m3[40:100], T(3))
    n = a.send(m3[100:], T(4))
    c.sip_msg(n, 'tcp-3', 'tcp')
    a.send(m3[40:100], T(5), seq=seq_mid)           # retransmission: nothing new
    c.count('tcp_retransmitted')
    m4 = sip_req('tcp-4')
    s1 = a.seq
    a.send(m4[60:], T(6), seq=s1 + 60)              # second half first
    n = a.send(m4[:60], T(7), seq=s1)               # the first half completes it
    a.seq = s1 + len(m4)
    c.sip_msg(n, 'tcp-4', 'tcp')
    m5 = sip_req('tcp-5', 'MESSAGE', b'hello, this is a body')
    a.send(m5[:-8], T(8))
    n = a.send(m5[-8:], T(9))
    c.sip_msg(n, 'tcp-5', 'tcp')
    a.fin(T(10))
    # 2: capture starts mid-stream; later, bytes that are not SIP to skip
    b = TcpConn(c, 40002, 5060)
    b.send(b'tag=77\r\nContent-Length: 0\r\n\r\n', T(20))  # the tail of an unseen message
    n = b.send(sip_req('tcp-6'), T(21))
    c.sip_msg(n, 'tcp-6', 'tcp')
    n = b.send(b'GARBAGE that is not SIP\r\nmore of it\r\n' + sip_req('tcp-7'), T(22))
    c.sip_msg(n, 'tcp-7', 'tcp')
    c.error('sip_tcp_resync')
    # 2b: mid-stream, and the next message starts inside the first captured segment
    b2 = TcpConn(c, 40006, 5060)
    n = b2.send(b'xyz\r\nContent-Length: 0\r\n\r\n' + sip_req('tcp-8'), T(25))
    c.sip_msg(n, 'tcp-8', 'tcp')
    c.error('sip_tcp_resync')  # the tail before it is skipped, and said so
    # 3: a hole that never fills (the capture lost a segment): after the hole timeout the
    #    messages behind it come out, each with the frame that brought its last byte
    h = TcpConn(c, 40003, 5060)
    h.syn(T(30))
    m9 = sip_req('tcp-9')
    h.send(m9[:50], T(31))
    h.seq += 50                                      # bytes 50..100 never captured
    h.send(m9[100:], T(32))
    n10 = h.send(sip_req('tcp-10'), T(33))
    n = h.send(sip_req('tcp-11'), T(3100))           # 3 s later
    c.sip_msg(n10, 'tcp-10', 'tcp'); c.sip_msg(n, 'tcp-11', 'tcp')
    c.error('sip_tcp_gap'); c.error('sip_tcp_resync')
    # 4: a hole still open when the capture ends: what waits behind it is flushed
    e = TcpConn(c, 40004, 5060)
    e.syn(T(4000))
    e.send(sip_req('tcp-12')[:60], T(4001))      # holds a whole start line: followed
    e.seq += 40
    n = e.send(sip_req('tcp-13'), T(4002))
    c.sip_msg(n, 'tcp-13', 'tcp')
    c.error('sip_tcp_gap')
    # 5: a TLS ClientHello on 5061 without a key log: followed as TLS, never read as SIP
    f = TcpConn(c, 40005, 5061)
    f.send(b'\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03' + b'\x00' * 40, T(5000))
    c.write(out)


def ws_frame(payload, opcode=1, fin=True, mask=None):
    b0 = (0x80 if fin else 0) | opcode
    n = len(payload)
    if n < 126:
        hdr = bytes([b0, (0x80 if mask else 0) | n])
    elif n < 65536:
        hdr = bytes([b0, (0x80 if mask else 0) | 126]) + n.to_bytes(2, 'big')
    else:
        hdr = bytes([b0, (0x80 if mask else 0) | 127]) + n.to_bytes(8, 'big')
    if mask:
        payload = bytes(x ^ mask[i % 4] for i, x in enumerate(payload))
        hdr += mask
    return hdr + payload


def case_websocket(out):
    c = Case('websocket', LT_ETHERNET)
    T = lambda ms: T0 + int(ms * 1_000_000)
    cl = TcpConn(c, 50000, 8080)
    sv = TcpConn(c, 8080, 50000, isn=9000, src=B4, dst=A4)
    cl.syn(T(0)); sv.syn(T(1))
    cl.send(b'GET /ws HTTP/1.1\r\nHost: sip.example.com\r\nUpgrade: websocket\r\n'
            b'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'
            b'Sec-WebSocket-Protocol: sip\r\nSec-WebSocket-Version: 13\r\n\r\n', T(2))
    sv.send(b'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
            b'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: sip\r\n\r\n', T(3))
    key = b'\x37\xfa\x21\x3d'
    n = cl.send(ws_frame(sip_req('ws-1', transport='WS'), mask=key), T(4))       # masked client frame
    c.sip_msg(n, 'ws-1', 'ws')
    n = sv.send(ws_frame(sip_req('ws-2', transport='WS')), T(5))                 # unmasked server frame
    c.sip_msg(n, 'ws-2', 'ws')
    m = sip_req('ws-3', transport='WS')
    cl.send(ws_frame(m[:70], fin=False, mask=key), T(6))                          # fragmented message,
    cl.send(ws_frame(b'ping!', opcode=9, mask=key), T(7))                         # a ping in between,
    n = cl.send(ws_frame(m[70:], opcode=0, mask=key), T(8))                       # the last piece
    c.sip_msg(n, 'ws-3', 'ws')
    big = sip_req('ws-4', 'MESSAGE', b'x' * 300, transport='WS')                  # 16-bit length form
    n = cl.send(ws_frame(big, mask=key) + ws_frame(sip_req('ws-5', transport='WS'), mask=key), T(9))
    c.sip_msg(n, 'ws-4', 'ws'); c.sip_msg(n, 'ws-5', 'ws')
    cl.send(ws_frame(b'', mask=key), T(9.5))                                      # an empty message
    fr = ws_frame(sip_req('ws-6', transport='WS'), mask=key)                      # a frame over 2 segments
    cl.send(fr[:10], T(10))
    n = cl.send(fr[10:], T(11))
    c.sip_msg(n, 'ws-6', 'ws')
    c.write(out)


def hep3(payload, src, sport, dst, dport, t_ns, ptype=1, proto=17, capid=2001, bad_chunk=False):
    """HEPv3: "HEP3", total length, then (vendor 0, type, length, value) chunks."""
    v6 = ':' in src
    sec, ns = divmod(t_ns, 1_000_000_000)
    chunks = [(1, bytes([10 if v6 else 2])), (2, bytes([proto])),
              (5 if v6 else 3, ip6(src) if v6 else ip4(src)), (6 if v6 else 4, ip6(dst) if v6 else ip4(dst)),
              (7, struct.pack('!H', sport)), (8, struct.pack('!H', dport)),
              (9, struct.pack('!I', sec)), (10, struct.pack('!I', ns // 1000)),
              (11, bytes([ptype])), (12, struct.pack('!I', capid)), (15, payload)]
    body = b''
    for t, v in chunks:
        ln = 6 + len(v) - (3 if bad_chunk and t == 7 else 0)
        body += struct.pack('!HHH', 0, t, ln) + (v[:ln - 6] if bad_chunk and t == 7 else v)
    return b'HEP3' + struct.pack('!H', 6 + len(body)) + body


def hep2(payload, src, sport, dst, dport, t_ns, capid=3):
    """HEPv2, IPv4: a 28-byte header; the time header in little-endian, as agents write it."""
    sec, ns = divmod(t_ns, 1_000_000_000)
    return (struct.pack('!BBBBHH4s4s', 2, 28, 2, 17, sport, dport, ip4(src), ip4(dst)) +
            struct.pack('<IIHH', sec, ns // 1000, capid, 0) + payload)


def case_hep(out):
    c = Case('hep', LT_ETHERNET)
    AG, COL = '203.0.113.5', '203.0.113.9'
    T = lambda ms: T0 + ms * 1_000_000
    def over_udp(blob, t):
        n = c.frame(ether(ipv4(AG, COL, 17, udp(9060, 9060, blob, src=AG, dst=COL)), 0x0800), t=t)
        c.deliver(n, 'udp', AG, 9060, COL, 9060, blob)
        return n
    orig = T(0) - 1_500_000_000  # captured by the agent 1.5 s before the feed carried it
    n = over_udp(hep3(sip_req('hep-1', 'INVITE', transport='UDP'), '10.0.0.1', 5060, '10.0.0.2', 5060, orig), T(0))
    c.sip_msg(n, 'hep-1', 'udp', src='10.0.0.1:5060', dst='10.0.0.2:5060', time_ns=orig)
    n = over_udp(hep3(sip_req('hep-2'), '2001:db8::1', 5061, '2001:db8::2', 5060, orig + 1000, proto=6), T(1))
    c.sip_msg(n, 'hep-2', 'tcp', src='[2001:db8::1]:5061', dst='[2001:db8::2]:5060', time_ns=orig + 1000)
    over_udp(hep3(b'\x81\xc8\x00\x06' + b'\0' * 24, '10.0.0.1', 10001, '10.0.0.2', 20001, orig, ptype=5), T(2))
    c.count('hep_rtcp')
    n = over_udp(hep2(sip_req('hep-3', transport='UDP'), '10.0.0.3', 5060, '10.0.0.4', 5080, orig + 2000), T(3))
    c.sip_msg(n, 'hep-3', 'udp', src='10.0.0.3:5060', dst='10.0.0.4:5080', time_ns=orig + 2000)
    over_udp(hep3(sip_req('hep-bad'), '10.0.0.1', 5060, '10.0.0.2', 5060, orig, bad_chunk=True), T(4))
    c.error('hep_bad_chunk')
    # a HEP feed over TCP: two packets in one segment, then one over two segments
    tc = TcpConn(c, 41000, 9061, src=AG, dst=COL)
    tc.syn(T(10))
    a = hep3(sip_req('hep-4'), '10.0.0.5', 5060, '10.0.0.6', 5060, orig + 3000)
    b = hep3(sip_req('hep-5'), '10.0.0.6', 5060, '10.0.0.5', 5060, orig + 4000)
    n = tc.send(a + b, T(11))
    c.sip_msg(n, 'hep-4', 'udp', src='10.0.0.5:5060', dst='10.0.0.6:5060', time_ns=orig + 3000)
    c.sip_msg(n, 'hep-5', 'udp', src='10.0.0.6:5060', dst='10.0.0.5:5060', time_ns=orig + 4000)
    e = hep3(sip_req('hep-6'), '10.0.0.5', 5060, '10.0.0.6', 5060, orig + 5000)
    tc.send(e[:50], T(12))
    n = tc.send(e[50:], T(13))
    c.sip_msg(n, 'hep-6', 'udp', src='10.0.0.5:5060', dst='10.0.0.6:5060', time_ns=orig + 5000)
    c.count('hep', 7)
    c.write(out)


def sctp_packet(sport, dport, chunks):
    """SCTP common header (verification tag, checksum left 0: we do not check CRC32c)
    and DATA chunks given as (flags, tsn, stream id, user data)."""
    body = b''
    for flags, tsn, sid, data in chunks:
        ln = 16 + len(data)
        body += struct.pack('!BBHIHHI', 0, flags, ln, tsn, sid, 0, 0) + data  # PPID 0: by port
        body += b'\0' * (-ln % 4)
    return struct.pack('!HHII', sport, dport, 0x1234, 0) + body


def case_sctp(out):
    """SIP over SCTP (RFC 4168): a whole message in one DATA chunk, one split over two
    chunks in two packets, and an empty DATA chunk (RFC 4960 3.3.1 forbids it; it once made
    realloc(buf, 0) free a buffer twice)."""
    c = Case('sctp', LT_ETHERNET)
    def pkt(chunks):
        return c.frame(ether(ipv4(A4, B4, 132, sctp_packet(5060, 5060, chunks)), 0x0800))
    n = pkt([(3, 1, 0, sip_req('sctp-1', transport='SCTP'))])
    c.sip_msg(n, 'sctp-1', 'sctp')
    m = sip_req('sctp-2', transport='SCTP')
    pkt([(2, 2, 1, m[:40])])
    n = pkt([(1, 3, 1, m[40:])])
    c.sip_msg(n, 'sctp-2', 'sctp')
    pkt([(2, 4, 2, b'')])
    c.error('sctp_truncated')
    pkt([(2, 5, 3, m[:40]), (1, 6, 3, b'')])
    c.error('sctp_truncated')
    c.count('other_proto', 0)
    c.write(out)


def dns_name(dotted):
    return b''.join(bytes([len(l)]) + l.encode() for l in dotted.split('.')) + b'\0'


def case_dns(out):
    """DNS beside SIP (issue 12): messages on UDP port 53 are read and counted; one that
    breaks RFC 1035 (a pointer loop) or ends early is a counted error. Each is still a
    delivered UDP datagram."""
    c = Case('dns', LT_ETHERNET)
    q = lambda i, fl, an: struct.pack('!HHHHHH', i, fl, 1, an, 0, 0)
    a_query = q(1, 0x0100, 0) + dns_name('sip.example.com') + struct.pack('!HH', 1, 1)
    a_answer = (q(1, 0x8180, 1) + dns_name('sip.example.com') + struct.pack('!HH', 1, 1) +
                struct.pack('!HHHIH', 0xc00c, 1, 1, 60, 4) + bytes([192, 0, 2, 10]))
    srv_query = q(2, 0x0100, 0) + dns_name('_sip._udp.example.net') + struct.pack('!HH', 33, 1)
    nxdomain = q(2, 0x8183, 0) + dns_name('_sip._udp.example.net') + struct.pack('!HH', 33, 1)
    loop = q(3, 0x8180, 0) + struct.pack('!HHH', 0xc00c, 1, 1)
    for payload, sport, dport in ((a_query, 40000, 53), (a_answer, 53, 40000), (srv_query, 40001, 53),
                                  (nxdomain, 53, 40001), (loop, 53, 40002), (a_query[:6], 53, 40003)):
        udp4_frame(c, payload, sport, dport)
    c.count('dns', 4)
    c.error('dns_bad_name')
    c.error('dns_truncated')
    c.write(out)


ALL = [case_ethernet, case_vlan, case_mpls, case_sll, case_sll2, case_raw, case_null,
       case_ipv6_ext, case_tunnels, case_frag4, case_frag_timeout, case_frag6, case_truncated,
       case_unsupported, case_timestamps, case_merge, case_tcp_sip, case_websocket, case_hep,
       case_sctp, case_dns]


def write_all(outdir):
    os.makedirs(outdir, exist_ok=True)
    for fn in ALL:
        fn(outdir)
