"""One capture with a scenario per issue kind of docs/output.md, and beside each a
twin that must not raise it: a call on hold is not one-way audio, 180 with local ringback
is not ringback silence, a single 401 then 200 is not an auth loop, a mirror duplicate is
not a retransmission...

The truth lists, per scenario, exactly the issue kinds (with severity) its call,
registration or stream must carry: by construction of what was written here (RTP sent or
not, loss dropped on purpose, delays chosen), and the thresholds of docs/output.md, never from
sipscope's output. Each scenario has its own hosts and its own 12 s of the timeline."""
import random
import struct

import audio

from calls import MS, SEC, Flow
from scenarios import Dialog

T0 = 1_710_000_000 * SEC


def sdp(ip, port, pts=(0,), direction='sendrecv', extra=''):
    names = {0: 'PCMU/8000', 8: 'PCMA/8000', 18: 'G729/8000', 101: 'telephone-event/8000'}
    return ('v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %d RTP/AVP %s\r\n%s'
            'a=%s\r\n%s' % (ip, ip, port, ' '.join(str(p) for p in pts),
                            ''.join('a=rtpmap:%d %s\r\n' % (p, names[p]) for p in pts), direction, extra))


def rtp(out, flow, t0, t1, ssrc, pt=0, lose=lambda k: False, delay=lambda k: 0, seq0=0, ts0=0):
    """G.711 at 20 ms from t0 to t1 (ns): packet k sent at t0 + 20k ms, seen delay(k) ns
    later unless lose(k); sequence numbers from seq0, timestamps from ts0 (a stream that
    resumes after a pause goes on from where it was)."""
    n = int((t1 - t0) // (20 * MS))
    talk = audio.speech_packets('alaw' if pt == 8 else 'ulaw')
    for k in range(n):
        if lose(k):
            continue
        pkt = struct.pack('!BBHII', 0x80, pt, (seq0 + k) & 0xFFFF, (ts0 + 160 * k) & 0xFFFFFFFF, ssrc) + talk[k % 50]
        out.append((t0 + k * 20 * MS + delay(k), flow.frame(pkt)))
    return n


def rtcp_sr(ssrc, t_ns):
    """An RTCP sender report without report blocks (RFC 3550 §6.4.1)."""
    return struct.pack('!BBHIQIII', 0x80, 200, 6, ssrc, ntp(t_ns), 0, 0, 0)


def ntp(t_ns):
    s, f = divmod(t_ns, SEC)
    return ((s + 2208988800) << 32) | (f * (1 << 32) // SEC)


def generate(writer):
    out, truth = [], []
    base = [T0]
    ms = lambda x: x * MS

    def scenario(n, name, issues, a=None, b=None, slot=12, evidence=None):
        """evidence: per issue kind, figures its evidence must hold (numbers either exact or
        {'approx': v, 'within': tolerance})."""
        t = base[0]
        base[0] += slot * SEC
        a = a or '10.30.%d.1' % n
        b = b or '10.30.%d.2' % n
        d = Dialog(out, n, 'is-%s@%s' % (name, a), a, b)
        truth.append(dict(name=name, call_id=d.cid, issues=sorted(issues)))
        if evidence:
            truth[-1]['evidence'] = evidence
        return d, t, a, b

    def answered(d, t, a, b, n, ans=500, end=5000, media=(True, True), bye=True, asdp=None,
                 bsdp=None, ring=None, early=None, pt=(0, 0)):
        """INVITE, optional 18x, 200, ACK, RTP each way as asked until end, BYE."""
        d.req(t, 'INVITE', 1, body=asdp or sdp(a, 4000))
        d.resp(t + ms(2), 100, 'Trying', 1, 'INVITE')
        if ring is not None:
            d.resp(t + ms(ring), 180, 'Ringing', 1, 'INVITE', 't%d' % n)
        if early is not None:
            d.resp(t + ms(early), 183, 'Session Progress', 1, 'INVITE', 't%d' % n, body=bsdp or sdp(b, 5000))
        d.resp(t + ms(ans), 200, 'OK', 1, 'INVITE', 't%d' % n, body=bsdp or sdp(b, 5000))
        d.req(t + ms(ans + 1), 'ACK', 1, 't%d' % n, branch='ack%d' % n)
        if media[0]:
            rtp(out, Flow(a, 4000, b, 5000), t + ms(ans + 20), t + ms(end), 0x1000 + n, pt=pt[0])
        if media[1]:
            rtp(out, Flow(b, 5000, a, 4000), t + ms(ans + 25), t + ms(end), 0x2000 + n, pt=pt[1])
        if bye:
            d.req(t + ms(end + 10), 'BYE', 2, 't%d' % n)
            d.resp(t + ms(end + 11), 200, 'OK', 2, 'BYE', 't%d' % n)

    # --- audio ---
    d, t, a, b = scenario(1, 'good', [])
    answered(d, t, a, b, 1)
    d, t, a, b = scenario(2, 'oneway', [['one_way_audio', 'critical']])
    answered(d, t, a, b, 2, media=(False, True))
    d, t, a, b = scenario(3, 'noaudio', [['no_audio', 'critical']])
    answered(d, t, a, b, 3, media=(False, False))
    # hold: the caller puts the callee on hold (sendonly) from 1.5 to 9 s and sends music;
    # the callee, told recvonly, sends nothing meanwhile. Not one-way audio.
    d, t, a, b = scenario(4, 'hold', [])
    d.req(t, 'INVITE', 1, body=sdp(a, 4000)); d.resp(t + ms(300), 200, 'OK', 1, 'INVITE', 't4', body=sdp(b, 5000))
    d.req(t + ms(301), 'ACK', 1, 't4', branch='ack4a')
    rtp(out, Flow(a, 4000, b, 5000), t + ms(320), t + ms(10000), 0x1004)
    rtp(out, Flow(b, 5000, a, 4000), t + ms(325), t + ms(1500), 0x2004)
    d.req(t + ms(1500), 'INVITE', 2, 't4', body=sdp(a, 4000, direction='sendonly'))
    d.resp(t + ms(1550), 200, 'OK', 2, 'INVITE', 't4', body=sdp(b, 5000, direction='recvonly'))
    d.req(t + ms(1551), 'ACK', 2, 't4', branch='ack4b')
    d.req(t + ms(9000), 'INVITE', 3, 't4', body=sdp(a, 4000))
    d.resp(t + ms(9050), 200, 'OK', 3, 'INVITE', 't4', body=sdp(b, 5000))
    d.req(t + ms(9051), 'ACK', 3, 't4', branch='ack4c')
    rtp(out, Flow(b, 5000, a, 4000), t + ms(9060), t + ms(10000), 0x3004)
    d.req(t + ms(10010), 'BYE', 4, 't4'); d.resp(t + ms(10011), 200, 'OK', 4, 'BYE', 't4')

    # --- ringback ---
    d, t, a, b = scenario(5, 'ringback183', [['ringback_silence', 'warning']])
    answered(d, t, a, b, 5, ans=6000, end=9000, early=300)
    d, t, a, b = scenario(6, 'ringback180', [])
    answered(d, t, a, b, 6, ans=6000, end=9000, ring=300)
    d, t, a, b = scenario(7, 'earlymedia', [])
    rtp(out, Flow(b, 5000, a, 4000), t + ms(400), t + ms(6000), 0x4007)
    answered(d, t, a, b, 7, ans=6000, end=9000, early=300)
    # a B2BUA: the far leg rings with 180, the B2BUA tells the caller 183 with SDP and
    # plays nothing
    d, t, a, b = scenario(8, 'b2bua183', [['ringback_silence', 'warning']])
    leg = Dialog(out, 108, 'is-b2bua-leg@%s' % b, b, '10.30.8.3', extra='X-CID: %s\r\n' % d.cid)
    d.req(t, 'INVITE', 1, body=sdp(a, 4000)); leg.req(t + ms(5), 'INVITE', 1, body=sdp(b, 6000))
    leg.resp(t + ms(300), 180, 'Ringing', 1, 'INVITE', 'l8')
    d.resp(t + ms(302), 183, 'Session Progress', 1, 'INVITE', 't8', body=sdp(b, 5000))
    leg.resp(t + ms(6000), 200, 'OK', 1, 'INVITE', 'l8', body=sdp('10.30.8.3', 7000))
    leg.req(t + ms(6001), 'ACK', 1, 'l8', branch='ack108')
    d.resp(t + ms(6003), 200, 'OK', 1, 'INVITE', 't8', body=sdp(b, 5000))
    d.req(t + ms(6004), 'ACK', 1, 't8', branch='ack8')
    rtp(out, Flow(a, 4000, b, 5000), t + ms(6020), t + ms(9000), 0x1008)
    rtp(out, Flow(b, 5000, a, 4000), t + ms(6025), t + ms(9000), 0x2008)
    d.req(t + ms(9010), 'BYE', 2, 't8'); d.resp(t + ms(9011), 200, 'OK', 2, 'BYE', 't8')
    leg.req(t + ms(9012), 'BYE', 2, 'l8'); leg.resp(t + ms(9013), 200, 'OK', 2, 'BYE', 'l8')
    # a third "leg" whose Call-ID holds a NUL byte (fuzz_calls found it leaking the leg's
    # index entry): ignored, and the call reads as before
    junk = ('INVITE sip:10.30.8.4 SIP/2.0\r\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK-nul\r\n'
            'From: <sip:x@%s>;tag=nul\r\nTo: <sip:y@10.30.8.4>\r\nCall-ID: nul\0leg@%s\r\n'
            'CSeq: 1 INVITE\r\nX-CID: %s\r\nContent-Length: 0\r\n\r\n' % (b, b, b, d.cid))
    out.append((t + ms(6), Flow(b, 5060, '10.30.8.4', 5060).frame(junk.encode())))

    # --- NAT ---
    # the caller (public signaling 198.51.100.9) announces 192.168.1.9; its RTP really comes
    # from the NAT's 198.51.100.9:40000 and the callee answers there (latching): info
    pub, pub_b = '198.51.100.9', '203.0.113.9'
    d, t, a, b = scenario(9, 'natlatched', [['sdp_private_address', 'info']], a=pub, b=pub_b)
    d.req(t, 'INVITE', 1, body=sdp('192.168.1.9', 4000)); d.resp(t + ms(300), 200, 'OK', 1, 'INVITE', 't9', body=sdp(pub_b, 5000))
    d.req(t + ms(301), 'ACK', 1, 't9', branch='ack9')
    rtp(out, Flow(pub, 40000, pub_b, 5000), t + ms(320), t + ms(5000), 0x1009)
    rtp(out, Flow(pub_b, 5000, pub, 40000), t + ms(325), t + ms(5000), 0x2009)
    d.req(t + ms(5010), 'BYE', 2, 't9'); d.resp(t + ms(5011), 200, 'OK', 2, 'BYE', 't9')
    # the same without latching: the callee sends to the private address, the caller's RTP
    # never arrives: one-way audio, the NAT case, and the private address a warning
    pub, pub_b = '198.51.100.10', '203.0.113.10'
    d, t, a, b = scenario(10, 'natoneway', [['one_way_audio', 'critical'], ['sdp_private_address', 'warning']],
                          a=pub, b=pub_b)
    d.req(t, 'INVITE', 1, body=sdp('192.168.1.10', 4000)); d.resp(t + ms(300), 200, 'OK', 1, 'INVITE', 't10', body=sdp(pub_b, 5000))
    d.req(t + ms(301), 'ACK', 1, 't10', branch='ack10')
    rtp(out, Flow(pub_b, 5000, '192.168.1.10', 4000), t + ms(325), t + ms(5000), 0x200a)
    d.req(t + ms(5010), 'BYE', 2, 't10'); d.resp(t + ms(5011), 200, 'OK', 2, 'BYE', 't10')
    # a LAN call: private everywhere, nothing to say
    d, t, a, b = scenario(11, 'lan', [], a='192.168.11.1', b='192.168.11.2')
    answered(d, t, a, b, 11)

    # --- authentication ---
    d, t, a, b = scenario(12, 'authloop', [['auth_loop', 'warning']])
    d.req(t, 'INVITE', 1, body=sdp(a, 4000))
    for k in range(4):
        d.resp(t + ms(100 + 400 * k), 407, 'Proxy Authentication Required', 1 + k, 'INVITE', 'x12-%d' % k,
               extra='Proxy-Authenticate: Digest realm="r12", nonce="n12-%d"\r\n' % k)
        d.req(t + ms(101 + 400 * k), 'ACK', 1 + k, 'x12-%d' % k)
        if k < 3:
            d.req(t + ms(300 + 400 * k), 'INVITE', 2 + k, body=sdp(a, 4000),
                  extra='Proxy-Authorization: Digest username="u12", realm="r12", nonce="n12-%d", '
                        'uri="sip:b", response="00"\r\n' % k)
    d, t, a, b = scenario(13, 'challenge', [])
    d.req(t, 'INVITE', 1, body=sdp(a, 4000))
    d.resp(t + ms(60), 407, 'Proxy Authentication Required', 1, 'INVITE', 'x13a',
           extra='Proxy-Authenticate: Digest realm="r13", nonce="n13"\r\n')
    d.req(t + ms(61), 'ACK', 1, 'x13a')
    d.req(t + ms(3000), 'INVITE', 2, body=sdp(a, 4000),  # 3 s to type: not post-dial delay
          extra='Proxy-Authorization: Digest username="u13", realm="r13", nonce="n13", uri="sip:b", response="00"\r\n')
    d.resp(t + ms(3300), 180, 'Ringing', 2, 'INVITE', 't13')
    d.resp(t + ms(4000), 200, 'OK', 2, 'INVITE', 't13', body=sdp(b, 5000))
    d.req(t + ms(4001), 'ACK', 2, 't13', branch='ack13')
    rtp(out, Flow(a, 4000, b, 5000), t + ms(4020), t + ms(8000), 0x100d)
    rtp(out, Flow(b, 5000, a, 4000), t + ms(4025), t + ms(8000), 0x200d)
    d.req(t + ms(8010), 'BYE', 3, 't13'); d.resp(t + ms(8011), 200, 'OK', 3, 'BYE', 't13')

    # --- codecs ---
    d, t, a, b = scenario(14, 'codec488', [['codec_mismatch', 'warning']])
    d.req(t, 'INVITE', 1, body=sdp(a, 4000, (18,)))
    d.resp(t + ms(80), 488, 'Not Acceptable Here', 1, 'INVITE', 'x14'); d.req(t + ms(81), 'ACK', 1, 'x14')
    d, t, a, b = scenario(15, 'codecdisjoint', [['codec_mismatch', 'critical']])
    answered(d, t, a, b, 15, asdp=sdp(a, 4000, (8,)), bsdp=sdp(b, 5000, (0,)))

    # --- timing ---
    d, t, a, b = scenario(16, 'pdd', [['long_post_dial_delay', 'warning']])
    answered(d, t, a, b, 16, ring=7000, ans=8000, end=10000)
    d, t, a, b = scenario(17, 'slowsetup', [['slow_setup', 'warning']])
    answered(d, t, a, b, 17, ans=7000, end=10000)
    # the INVITE re-sent at 0.5 and 1.5 s (no 100 until 1.6 s): three sends
    d, t, a, b = scenario(18, 'retrans', [['retransmissions', 'warning']])
    for at in (0, 500, 1500):
        d.req(t + ms(at), 'INVITE', 1, body=sdp(a, 4000))
    d.resp(t + ms(1600), 180, 'Ringing', 1, 'INVITE', 't18')
    d.resp(t + ms(2000), 200, 'OK', 1, 'INVITE', 't18', body=sdp(b, 5000))
    d.req(t + ms(2001), 'ACK', 1, 't18', branch='ack18')
    rtp(out, Flow(a, 4000, b, 5000), t + ms(2020), t + ms(6000), 0x1012)
    rtp(out, Flow(b, 5000, a, 4000), t + ms(2025), t + ms(6000), 0x2012)
    d.req(t + ms(6010), 'BYE', 2, 't18'); d.resp(t + ms(6011), 200, 'OK', 2, 'BYE', 't18')
    # a mirror port showing the INVITE twice, 0.2 ms apart: not a retransmission
    d, t, a, b = scenario(19, 'mirrordup', [])
    d.req(t, 'INVITE', 1, body=sdp(a, 4000))
    out.append((t + 200_000, out[-1][1]))
    d.resp(t + ms(200), 180, 'Ringing', 1, 'INVITE', 't19')
    d.resp(t + ms(500), 200, 'OK', 1, 'INVITE', 't19', body=sdp(b, 5000))
    d.req(t + ms(501), 'ACK', 1, 't19', branch='ack19')
    rtp(out, Flow(a, 4000, b, 5000), t + ms(520), t + ms(5000), 0x1013)
    rtp(out, Flow(b, 5000, a, 4000), t + ms(525), t + ms(5000), 0x2013)
    d.req(t + ms(5010), 'BYE', 2, 't19'); d.resp(t + ms(5011), 200, 'OK', 2, 'BYE', 't19')

    # --- endings ---
    # a zombie: media stops at 3 s, no BYE, and the capture goes on for minutes
    d, t, a, b = scenario(20, 'zombie', [['unfinished_call', 'warning']])
    answered(d, t, a, b, 20, end=3000, bye=False)
    d, t, a, b = scenario(21, 'afterbye', [['rtp_after_bye', 'warning']])
    answered(d, t, a, b, 21, end=3000, media=(True, False))
    rtp(out, Flow(b, 5000, a, 4000), t + ms(525), t + ms(8000), 0x2015)
    d, t, a, b = scenario(22, 'servererror', [['server_error', 'warning']])
    d.req(t, 'INVITE', 1, body=sdp(a, 4000)); d.resp(t + ms(2), 100, 'Trying', 1, 'INVITE')
    d.resp(t + ms(90), 503, 'Service Unavailable', 1, 'INVITE', 'x22'); d.req(t + ms(91), 'ACK', 1, 'x22')
    d, t, a, b = scenario(23, 'busy', [])
    d.req(t, 'INVITE', 1, body=sdp(a, 4000)); d.resp(t + ms(300), 180, 'Ringing', 1, 'INVITE', 'x23')
    d.resp(t + ms(2000), 486, 'Busy Here', 1, 'INVITE', 'x23'); d.req(t + ms(2001), 'ACK', 1, 'x23')
    d, t, a, b = scenario(24, 'global', [['global_failure', 'warning']])
    d.req(t, 'INVITE', 1, body=sdp(a, 4000)); d.resp(t + ms(90), 604, 'Does Not Exist Anywhere', 1, 'INVITE', 'x24')
    d.req(t + ms(91), 'ACK', 1, 'x24')

    # --- quality ---
    rng = random.Random(6)
    # 20 of the caller's 400 packets (5 %) dropped at random: loss above 3 % is critical,
    # and G.711 (Bpl 25.1) at 5 % random loss has Ie,eff = 95*5/(5+25.1) = 15.8, so R is
    # about 93.2 - 15.8 = 77 and MOS about 3.9: low_mos warning
    drop = set(rng.sample(range(400), 20))
    d, t, a, b = scenario(25, 'loss', [['packet_loss', 'critical'], ['low_mos', 'warning']])
    answered(d, t, a, b, 25, end=8500, media=(False, True))
    rtp(out, Flow(a, 4000, b, 5000), t + ms(520), t + ms(8500), 0x1019, lose=lambda k: k in drop)
    # 0.5 %: under every threshold
    d, t, a, b = scenario(26, 'lightloss', [])
    answered(d, t, a, b, 26, end=8500, media=(False, True))
    rtp(out, Flow(a, 4000, b, 5000), t + ms(520), t + ms(8500), 0x101a, lose=lambda k: k in (100, 300))
    # transit delay uniform on 0..75 ms: RFC 3550 jitter tends to E|D1-D2|/... = 75/3 = 25 ms,
    # between 20 and 50: warning
    jit = [rng.randrange(0, 75 * MS) for _ in range(500)]
    d, t, a, b = scenario(27, 'jitter', [['high_jitter', 'warning']])
    answered(d, t, a, b, 27, end=9000, media=(False, True))
    rtp(out, Flow(a, 4000, b, 5000), t + ms(520), t + ms(9000), 0x101b, delay=lambda k: jit[k])

    # RTP that no SDP announced, and a call whose RTCP shows a 700 ms round trip: half of it,
    # a packet and the buffer make about 400 ms one way (critical past 300); G.107's delay
    # impairment at that (Idd about 24, Idte about 5) leaves R near 64, MOS about 3.3:
    # low_mos critical
    t = base[0]
    base[0] += 12 * SEC
    rtp(out, Flow('10.30.28.1', 30000, '10.30.28.2', 30002), t, t + ms(4000), 0x101c)
    truth.append(dict(name='orphan', stream=dict(src='10.30.28.1:30000', dst='10.30.28.2:30002'),
                      issues=[['orphan_media', 'info']]))
    d, t, a, b = scenario(29, 'latency', [['high_latency', 'critical'], ['low_mos', 'critical']])
    answered(d, t, a, b, 29, end=8000, media=(False, True))
    rtp(out, Flow(a, 4000, b, 5000), t + ms(520), t + ms(8000), 0x101d)
    # SR from the caller at 2 s; the callee's RR about it leaves 50 ms after it arrived and
    # reaches the capture point 750 ms after the SR passed it: RTT 700 ms
    sr_t = t + ms(2000)
    sr = struct.pack('!BBHIQIII', 0x80, 200, 6, 0x101d, ntp(sr_t), 12000, 75, 12000)
    out.append((sr_t, Flow(a, 4001, b, 5001).frame(sr)))
    lsr = (ntp(sr_t) >> 16) & 0xFFFFFFFF
    rr = struct.pack('!BBHI', 0x81, 201, 7, 0x201d) + struct.pack('!IIIIII', 0x101d, 0, 100, 0, lsr, 65536 // 20)
    out.append((sr_t + ms(750), Flow(b, 5001, a, 4001).frame(rr)))

    # partial one-way audio (issue 22): the caller's RTP stops after 15 % of the answered
    # call while the callee's runs to the BYE: one_way_audio, a warning (the direction covers
    # less than one_way_ratio 0.2 of the call, the other at least 0.8). Its twin: both
    # directions stop together at 15 % (the call goes quiet both ways): not one-way.
    # Numbered from 60, clear of the others' (addresses 10.30.n.x, SSRCs 0x1000 + n).
    d, t, a, b = scenario(60, 'partialoneway', [['one_way_audio', 'warning']])
    answered(d, t, a, b, 60, end=10000, media=(False, True))
    rtp(out, Flow(a, 4000, b, 5000), t + ms(520), t + ms(500 + 1425), 0x103c)
    d, t, a, b = scenario(61, 'partialboth', [])
    answered(d, t, a, b, 61, end=10000, media=(False, False))
    rtp(out, Flow(a, 4000, b, 5000), t + ms(520), t + ms(500 + 1425), 0x103d)
    rtp(out, Flow(b, 5000, a, 4000), t + ms(525), t + ms(500 + 1425), 0x203d)

    # registrations
    def register(n, name, issues, steps):
        t = base[0]
        base[0] += 12 * SEC
        ua, reg = '10.30.%d.1' % n, '10.30.%d.2' % n
        up, down = Flow(ua, 5060, reg, 5060), Flow(reg, 5060, ua, 5060)
        aor = 'sip:u%d@example.net' % n
        truth.append(dict(name=name, registration=aor, issues=issues))
        for k, (code, creds, nonce) in enumerate(steps):
            auth = ('Authorization: Digest username="u%d", realm="example.net", nonce="%s", '
                    'uri="sip:example.net", response="00"\r\n' % (n, creds)) if creds else ''
            h = ('Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-r%d-%d\r\nFrom: <%s>;tag=r%d\r\nTo: <%s>\r\n'
                 'Call-ID: reg-%d@%s\r\nCSeq: %d REGISTER\r\n' % (ua, n, k, aor, n, aor, n, ua, k + 1))
            out.append((t + ms(200 * k), up.frame(('REGISTER sip:example.net SIP/2.0\r\n%sContact: <sip:u%d@%s>\r\n'
                                                   'Expires: 3600\r\n%sContent-Length: 0\r\n\r\n' % (h, n, ua, auth)).encode())))
            ch = ('WWW-Authenticate: Digest realm="example.net", nonce="%s"\r\n' % nonce) if code == 401 else ''
            reason = {200: 'OK', 401: 'Unauthorized', 403: 'Forbidden'}[code]
            out.append((t + ms(200 * k + 50), down.frame(('SIP/2.0 %d %s\r\n%s%sContent-Length: 0\r\n\r\n'
                                                          % (code, reason, h, ch)).encode())))
    register(30, 'regloop', [['auth_loop', 'warning']],
             [(401, None, 'a1'), (401, 'a1', 'a2'), (401, 'a2', 'a3')])
    register(31, 'regok', [], [(401, None, 'b1'), (200, 'b1', None)])
    register(32, 'regfail', [['registration_failure', 'critical']], [(403, None, None)])

    # --- the media against the SDP (issue 21) ---
    # as real sipp's uas does: the offer is PCMA and telephone-event, the answer PCMU only
    # (no codec in common), and both ends send PCMA all the same: the answer is wrong, the
    # audio was not. A warning, whose evidence lists the payload types of each direction
    d, t, a, b = scenario(34, 'codecoffered', [['codec_mismatch', 'warning']], evidence={'codec_mismatch': {
        'offer_payload_types': [8, 101], 'answer_payload_types': [0], 'media_confirms_offer': 'yes',
        'rtp_payload_types': {'caller_to_callee': [8], 'callee_to_caller': [8]}}})
    answered(d, t, a, b, 34, asdp=sdp(a, 4000, (8, 101)), bsdp=sdp(b, 5000, (0,)), pt=(8, 8))
    # its twin: the answer is right (PCMA), the same media: nothing to say
    d, t, a, b = scenario(35, 'codecright', [])
    answered(d, t, a, b, 35, asdp=sdp(a, 4000, (8, 101)), bsdp=sdp(b, 5000, (8,)), pt=(8, 8))
    # the same wrong answer, and only the caller's PCMA flows: nothing proves the callee
    # decodes it, the mismatch stays critical (beside the one-way audio)
    d, t, a, b = scenario(36, 'codeconeway', [['codec_mismatch', 'critical'], ['one_way_audio', 'critical']],
                          evidence={'codec_mismatch': {'media_confirms_offer': 'no', 'rtp_payload_types': {
                              'caller_to_callee': [8], 'callee_to_caller': []}}})
    answered(d, t, a, b, 36, asdp=sdp(a, 4000, (8, 101)), bsdp=sdp(b, 5000, (0,)), media=(True, False), pt=(8, 8))

    def during_hold(runs, offer_at=1500):
        """What a side sent during a hold_call's hold, as media_during_hold's evidence gives
        it: packets and seconds between a second after the answer (the time a phone takes
        to act on it) and the resuming offer at 9 s; allowed is the hold's SDP's word."""
        lo, hi = offer_at + 50 + 1000, 9000
        pk = sum(1 for t0, t1 in runs for k in range(int((t1 - t0) // 20)) if lo <= t0 + 20 * k < hi)
        sec = sum(max(0, min(t1, hi) - max(t0, lo)) for t0, t1 in runs) / 1000
        return {'packets': {'approx': pk, 'within': 2}, 'seconds': {'approx': sec, 'within': 0.1}}

    def hold_call(n, d, t, a, b, hold_dir, answer_dir, caller_rtp, callee_rtp, offer_at=1500):
        """A call answered at 0.3 s, a re-INVITE from the caller at offer_at offering
        hold_dir, answered answer_dir; resumed by a sendrecv re-INVITE at 9 s; BYE at 10 s.
        caller_rtp/callee_rtp: the (from, to) ms stretches each side sends in, one SSRC
        each, sequence and timestamp going on across the pauses."""
        d.req(t, 'INVITE', 1, body=sdp(a, 4000)); d.resp(t + ms(300), 200, 'OK', 1, 'INVITE', 't%d' % n, body=sdp(b, 5000))
        d.req(t + ms(301), 'ACK', 1, 't%d' % n, branch='ack%da' % n)
        d.req(t + ms(offer_at), 'INVITE', 2, 't%d' % n, body=sdp(a, 4000, direction=hold_dir))
        d.resp(t + ms(offer_at + 50), 200, 'OK', 2, 'INVITE', 't%d' % n, body=sdp(b, 5000, direction=answer_dir))
        d.req(t + ms(offer_at + 51), 'ACK', 2, 't%d' % n, branch='ack%db' % n)
        d.req(t + ms(9000), 'INVITE', 3, 't%d' % n, body=sdp(a, 4000))
        d.resp(t + ms(9050), 200, 'OK', 3, 'INVITE', 't%d' % n, body=sdp(b, 5000))
        d.req(t + ms(9051), 'ACK', 3, 't%d' % n, branch='ack%dc' % n)
        for flow, runs, ssrc in ((Flow(a, 4000, b, 5000), caller_rtp, 0x1000 + n), (Flow(b, 5000, a, 4000), callee_rtp, 0x2000 + n)):
            seq = 0
            for t0, t1 in runs:
                seq += rtp(out, flow, t + ms(t0), t + ms(t1), ssrc, seq0=seq, ts0=8 * (t0 - runs[0][0]))
        d.req(t + ms(10010), 'BYE', 4, 't%d' % n); d.resp(t + ms(10011), 200, 'OK', 4, 'BYE', 't%d' % n)

    # the caller holds (sendonly, answered recvonly) from 1.5 to 9 s and sends music on hold,
    # as sendonly allows; the callee keeps sending all the same: 2.55 to 9 s judged (a second
    # after the answer), 6.45 s of it, about 322 packets
    ab, ba = [(320, 10000)], [(325, 10000)]
    d, t, a, b = scenario(37, 'holdignored', [['media_during_hold', 'warning']], evidence={'media_during_hold': {
        'held_by': 'caller', 'caller_direction': 'sendonly', 'callee_direction': 'recvonly',
        'contradicted': 'callee_to_caller', 'caller_to_callee': dict(during_hold(ab), allowed=True),
        'callee_to_caller': dict(during_hold(ba), allowed=False)}})
    hold_call(37, d, t, a, b, 'sendonly', 'recvonly', ab, ba)
    # an inactive hold (answered inactive): the callee stops, the caller goes on sending
    ba = [(325, 1500), (9060, 10000)]
    d, t, a, b = scenario(38, 'holdinactive', [['media_during_hold', 'warning']], evidence={'media_during_hold': {
        'held_by': 'caller', 'caller_direction': 'inactive', 'callee_direction': 'inactive',
        'contradicted': 'caller_to_callee', 'caller_to_callee': dict(during_hold(ab), allowed=False),
        'callee_to_caller': dict(during_hold(ba), allowed=False)}})
    hold_call(38, d, t, a, b, 'inactive', 'inactive', ab, ba)
    # its twin: both stop for the hold and go on after it with the same SSRC: nothing
    d, t, a, b = scenario(39, 'holdinactiveok', [])
    hold_call(39, d, t, a, b, 'inactive', 'inactive', [(320, 1500), (9060, 10000)], [(325, 1500), (9060, 10000)])
    # the hold is the answer's: the caller re-offers sendrecv (a refresh) and the callee
    # answers inactive, and neither stops sending
    d, t, a, b = scenario(40, 'holdbyanswer', [['media_during_hold', 'warning']], evidence={'media_during_hold': {
        'held_by': 'callee', 'caller_direction': 'sendrecv', 'callee_direction': 'inactive', 'contradicted': 'both'}})
    hold_call(40, d, t, a, b, 'sendrecv', 'inactive', [(320, 10000)], [(325, 10000)])

    def rtcp_call(n, d, t, a, b, asdp, bsdp, ports):
        """A call of 8 s whose ends send a sender report every 2 s between ports (the
        caller's, the callee's)."""
        answered(d, t, a, b, n, end=8000, asdp=asdp, bsdp=bsdp)
        for k in range(1, 4):
            at = t + ms(500 + 2000 * k)
            out.append((at, Flow(a, ports[0], b, ports[1]).frame(rtcp_sr(0x1000 + n, at))))
            out.append((at + ms(7), Flow(b, ports[1], a, ports[0]).frame(rtcp_sr(0x2000 + n, at + ms(7)))))

    mux = 'a=rtcp-mux\r\n'
    # both SDPs say a=rtcp-mux (RFC 5761), and RTCP goes between the ports above RTP's all
    # the same: neither end muxed. The caller's report is the first
    d, t, a, b = scenario(41, 'muxignored', [['rtcp_not_muxed', 'warning']], evidence={'rtcp_not_muxed': {
        'offer_rtcp_mux': 'yes', 'answer_rtcp_mux': 'yes', 'rtp': '10.30.41.1:4000 -> 10.30.41.2:5000',
        'rtcp': '10.30.41.1:4001 -> 10.30.41.2:5001', 'rtcp_sent_by': 'both', 'rtcp_packets_apart': 6,
        'rtcp_packets_muxed': 0}})
    rtcp_call(41, d, t, a, b, sdp(a, 4000, extra=mux), sdp(b, 5000, extra=mux), (4001, 5001))
    # twins: muxed on the RTP ports; and no mux asked, RTCP one port up (RFC 3550 §11)
    d, t, a, b = scenario(42, 'muxok', [])
    rtcp_call(42, d, t, a, b, sdp(a, 4000, extra=mux), sdp(b, 5000, extra=mux), (4000, 5000))
    d, t, a, b = scenario(43, 'nomux', [])
    rtcp_call(43, d, t, a, b, sdp(a, 4000), sdp(b, 5000), (4001, 5001))
    # the answer says a=rtcp-mux to an offer without it, which RFC 5761 §5.1.1 forbids; the
    # media follows the offer
    d, t, a, b = scenario(44, 'muxanswerwrong', [['rtcp_not_muxed', 'warning']], evidence={'rtcp_not_muxed': {
        'offer_rtcp_mux': 'no', 'answer_rtcp_mux': 'yes', 'rtcp': '10.30.44.1:4001 -> 10.30.44.2:5001',
        'rtcp_sent_by': 'both', 'rtcp_packets_apart': 6, 'rtcp_packets_muxed': 0}})
    rtcp_call(44, d, t, a, b, sdp(a, 4000), sdp(b, 5000, extra=mux), (4001, 5001))

    # the last call: answered, media to the very end of the capture: the capture cut it
    d, t, a, b = scenario(33, 'cut', [['unfinished_call', 'info']])
    answered(d, t, a, b, 33, end=4000, bye=False)

    out.sort(key=lambda f: f[0])
    for ts, fr in out:
        writer(ts, fr)
    return dict(frames=len(out), scenarios=truth)
