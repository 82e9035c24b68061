"""SIP calls with RTP and RTCP, and the truth of what was written.

Each call is a direct UA-to-UA dialog over UDP (RFC 3261 §24.2 style): INVITE with an SDP
offer, 100, 180, 200 with the answer, ACK, G.711 RTP both ways (20 ms, RFC 3551), an RTCP
sender report from each side every 5 s (RFC 3550 §6.4.1), BYE and 200. Outcomes other
than "answered": "busy" (486 + ACK), "cancelled" (CANCEL, 200, 487, ACK) and
"answered-retrans" (the INVITE re-sent after T1 = 500 ms without a 100, and the 200 re-sent
after 500 ms because the ACK is late: RFC 3261 §17.1.1.2, §13.3.1.4).
Calls are written interleaved in packet-time order; the truth file lists, per call, the
frames and times of its messages and, per stream, packets sent and lost (dropped here on
purpose with --loss), so tests know the answer without asking sipscope."""
import base64
import heapq
import random
import struct

import audio

from pcapwrite import csum, ip4

MS = 1_000_000
SEC = 1_000_000_000

ETH_SRC, ETH_DST = b'\x02\0\0\0\0\x01', b'\x02\0\0\0\0\x02'


class Flow:
    """Precomputed Ethernet/IPv4/UDP header for one direction of one 5-tuple."""

    def __init__(self, src, sport, dst, dport):
        self.src, self.sport, self.dst, self.dport = src, sport, dst, dport
        self.ident = random.randrange(65536)
        self.sa, self.da = ip4(src), ip4(dst)

    def frame(self, payload: bytes) -> bytes:
        self.ident = (self.ident + 1) & 0xFFFF
        tl = 28 + len(payload)
        h = struct.pack('!BBHHHBBH4s4s', 0x45, 0xb8 if self.sport != 5060 else 0x60, tl, self.ident,
                        0x4000, 64, 17, 0, self.sa, self.da)
        h = h[:10] + struct.pack('!H', csum(h)) + h[12:]
        # UDP checksum 0: "not computed", allowed for IPv4 (RFC 768)
        return ETH_DST + ETH_SRC + b'\x08\x00' + h + struct.pack('!HHHH', self.sport, self.dport, 8 + len(payload), 0) + payload


# payload type: (name, payload bytes per 20 ms packet, filler byte). G.729 (RFC 3551
# §4.5.6) sends 10 bytes per 10 ms frame, two frames per packet.
CODECS = {0: ('PCMU', 160, 0xff), 8: ('PCMA', 160, 0xd5), 18: ('G729', 20, 0x00)}
PT_OF = {v[0]: k for k, v in CODECS.items()}


# SDES suites (RFC 4568 §6.2, RFC 7714 §14.2): bytes of master key || master salt
SRTP_SUITES = {'AES_CM_128_HMAC_SHA1_80': 30, 'AES_CM_128_HMAC_SHA1_32': 30,
               'AEAD_AES_128_GCM': 28, 'AEAD_AES_256_GCM': 44}


def sdp(user, ip, port, sess_id, pt, crypto=None):
    """crypto: (suite, base64 key||salt) makes the media RTP/SAVP with that a=crypto line
    (RFC 4568 §9.1), the key its side sends with."""
    codec = CODECS[pt][0] + '/8000'
    proto = 'RTP/SAVP' if crypto else 'RTP/AVP'
    line = 'a=crypto:1 %s inline:%s\r\n' % crypto if crypto else ''
    return ('v=0\r\no=%s %d %d IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n'
            'm=audio %d %s %d 101\r\n%sa=rtpmap:%d %s\r\n'
            'a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\na=sendrecv\r\n'
            % (user, sess_id, sess_id, ip, ip, port, proto, pt, line, pt, codec))


class Call:
    def __init__(self, idx, start_ns, duration_s, outcome, loss, pt, rng, srtp=None, callees=None):
        self.idx, self.start, self.outcome, self.loss, self.pt, self.rng = idx, start_ns, outcome, loss, pt, rng
        self.srtp = srtp
        self.duration = duration_s * SEC
        a, b = idx // 250, idx % 250
        self.caller_ip, self.callee_ip = '10.1.%d.%d' % (a, b + 1), '10.2.%d.%d' % (a, b + 1)
        self.call_id = '%08x-%d@%s' % (rng.getrandbits(32), idx, self.caller_ip)
        self.from_user, self.to_user = '1%03d%04d' % (a, b), '2%03d%04d' % (a, b)
        if callees:  # a few destinations called again and again (a trunk's numbers)
            k = idx % callees
            self.callee_ip, self.to_user = '10.3.%d.%d' % (k // 250, k % 250 + 1), '3%07d' % k
        self.from_tag, self.to_tag = '%x' % rng.getrandbits(32), '%x' % rng.getrandbits(32)
        self.display = 'Caller %s' % self.from_user
        self.trying = 'Trying'  # the 100's reason phrase
        self.sig_ab = Flow(self.caller_ip, 5060, self.callee_ip, 5060)
        self.sig_ba = Flow(self.callee_ip, 5060, self.caller_ip, 5060)
        self.rtp_port_a, self.rtp_port_b = 10000 + 2 * (idx % 20000), 20000 + 2 * (idx % 20000)
        self.truth = dict(call_id=self.call_id, outcome=outcome,
                          from_user=self.from_user, to_user=self.to_user,
                          to_domain=self.callee_ip,  # the To URI's host
                          caller='%s:5060' % self.caller_ip, callee='%s:5060' % self.callee_ip,
                          messages=[], streams=[])

    # -- SIP text --------------------------------------------------------------------------
    def _hdrs(self, cseq, method, to_tag=True, via_branch=None):
        return ('Via: SIP/2.0/UDP %s:5060;branch=%s\r\n'
                'Max-Forwards: 70\r\n'
                'From: "%s" <sip:%s@%s>;tag=%s\r\n'
                'To: <sip:%s@%s>%s\r\n'
                'Call-ID: %s\r\nCSeq: %d %s\r\n'
                % (self.caller_ip, via_branch or 'z9hG4bK-%s-%d' % (self.from_tag, cseq),
                   self.display, self.from_user, self.caller_ip, self.from_tag,
                   self.to_user, self.callee_ip, ';tag=' + self.to_tag if to_tag else '',
                   self.call_id, cseq, method))

    def _req(self, method, cseq, body='', to_tag=True, branch=None, uri_ip=None):
        s = '%s sip:%s@%s SIP/2.0\r\n' % (method, self.to_user, uri_ip or self.callee_ip)
        s += self._hdrs(cseq, method, to_tag, branch)
        s += 'Contact: <sip:%s@%s:5060>\r\nUser-Agent: sipscope-gen\r\n' % (self.from_user, self.caller_ip)
        if body:
            s += 'Content-Type: application/sdp\r\n'
        s += 'Content-Length: %d\r\n\r\n%s' % (len(body), body)
        return s.encode()

    def _resp(self, code, reason, cseq, method, body='', to_tag=True, branch=None):
        s = 'SIP/2.0 %d %s\r\n' % (code, reason)
        s += self._hdrs(cseq, method, to_tag, branch)
        if code != 100:
            s += 'Contact: <sip:%s@%s:5060>\r\nServer: sipscope-gen\r\n' % (self.to_user, self.callee_ip)
        if body:
            s += 'Content-Type: application/sdp\r\n'
        s += 'Content-Length: %d\r\n\r\n%s' % (len(body), body)
        return s.encode()

    def _sip(self, t, forward, text, label, retrans=False):
        flow = self.sig_ab if forward else self.sig_ba
        msg = dict(time_ns=t, label=label, frame=None, retransmission=retrans,
                   src='%s:5060' % flow.src, dst='%s:5060' % flow.dst)
        self.truth['messages'].append(msg)
        return (t, flow.frame(text), msg)

    # -- the call --------------------------------------------------------------------------
    def events(self):
        """Yields (t_ns, frame, message truth or None) in time order."""
        rng, t0 = self.rng, self.start
        self.keys = {}
        if self.srtp:  # each side's key from its own generator: the call's rng is untouched,
            # so the same seed gives the same media with and without SRTP
            for side in (True, False):
                kr = random.Random('srtp-%s-%d' % (self.call_id, side))
                raw = bytes(kr.getrandbits(8) for _ in range(SRTP_SUITES[self.srtp]))
                self.keys[side] = base64.b64encode(raw).decode()
        offer = sdp(self.from_user, self.caller_ip, self.rtp_port_a, self.idx + 1000, self.pt,
                    (self.srtp, self.keys[True]) if self.srtp else None)
        answer = sdp(self.to_user, self.callee_ip, self.rtp_port_b, self.idx + 2000, self.pt,
                     (self.srtp, self.keys[False]) if self.srtp else None)
        inv_branch = 'z9hG4bK-%s-1' % self.from_tag
        tr = self.truth
        tr['invite_ns'] = t0
        retrans = self.outcome == 'answered-retrans'
        yield self._sip(t0, True, self._req('INVITE', 1, offer, to_tag=False), 'INVITE')
        if retrans:  # Timer A: T1 later, the same INVITE again
            yield self._sip(t0 + 500 * MS, True, self._req('INVITE', 1, offer, to_tag=False), 'INVITE', True)
            t0 += 500 * MS
        yield self._sip(t0 + 2 * MS, False, self._resp(100, self.trying, 1, 'INVITE', to_tag=False), '100')
        t_ring = t0 + (300 + rng.randrange(700)) * MS
        yield self._sip(t_ring, False, self._resp(180, 'Ringing', 1, 'INVITE'), '180')
        tr['ringing_ns'] = t_ring
        t_final = t_ring + (1000 + rng.randrange(3000)) * MS
        if self.outcome == 'busy':
            yield self._sip(t_final, False, self._resp(486, 'Busy Here', 1, 'INVITE'), '486')
            yield self._sip(t_final + 1 * MS, True, self._req('ACK', 1, branch=inv_branch), 'ACK')
            tr.update(final_status=486, state='busy', answer_ns=None, end_ns=t_final)
            return
        if self.outcome == 'unavailable':  # the network's failure, not the user's
            yield self._sip(t_final, False, self._resp(503, 'Service Unavailable', 1, 'INVITE'), '503')
            yield self._sip(t_final + 1 * MS, True, self._req('ACK', 1, branch=inv_branch), 'ACK')
            tr.update(final_status=503, state='failed', answer_ns=None, end_ns=t_final)
            return
        if self.outcome == 'cancelled':
            yield self._sip(t_final, True, self._req('CANCEL', 1, to_tag=False, branch=inv_branch), 'CANCEL')
            yield self._sip(t_final + 2 * MS, False, self._resp(200, 'OK', 1, 'CANCEL', to_tag=False, branch=inv_branch), '200')
            yield self._sip(t_final + 3 * MS, False, self._resp(487, 'Request Terminated', 1, 'INVITE'), '487')
            yield self._sip(t_final + 4 * MS, True, self._req('ACK', 1, branch=inv_branch), 'ACK')
            tr.update(final_status=487, state='cancelled', answer_ns=None, end_ns=t_final)
            return
        yield self._sip(t_final, False, self._resp(200, 'OK', 1, 'INVITE', answer), '200')
        if retrans:  # no ACK yet: the UAS re-sends its 2xx (RFC 3261 §13.3.1.4)
            yield self._sip(t_final + 500 * MS, False, self._resp(200, 'OK', 1, 'INVITE', answer), '200', True)
            t_final += 500 * MS
        yield self._sip(t_final + 1 * MS, True, self._req('ACK', 1, branch='z9hG4bK-%s-ack' % self.from_tag), 'ACK')
        t_media = t_final + 5 * MS
        t_bye = t_media + self.duration
        tr.update(final_status=200, state='completed',
                  answer_ns=t_final - (500 * MS if retrans else 0), end_ns=t_bye + 10 * MS)
        media = [self._stream(True, t_media, t_bye), self._stream(False, t_media + 7 * MS, t_bye)]
        for ev in heapq.merge(*media, key=lambda e: e[0]):
            yield ev
        yield self._sip(t_bye + 10 * MS, True, self._req('BYE', 2), 'BYE')
        yield self._sip(t_bye + 12 * MS, False, self._resp(200, 'OK', 2, 'BYE'), '200')

    def _stream(self, forward, t_start, t_end):
        rng = self.rng
        if forward:
            flow = Flow(self.caller_ip, self.rtp_port_a, self.callee_ip, self.rtp_port_b)
            rflow = Flow(self.caller_ip, self.rtp_port_a + 1, self.callee_ip, self.rtp_port_b + 1)
        else:
            flow = Flow(self.callee_ip, self.rtp_port_b, self.caller_ip, self.rtp_port_a)
            rflow = Flow(self.callee_ip, self.rtp_port_b + 1, self.caller_ip, self.rtp_port_a + 1)
        ssrc = rng.getrandbits(32)
        seq0, ts0 = rng.randrange(65536), rng.getrandbits(32)
        st = dict(src='%s:%d' % (flow.src, flow.sport), dst='%s:%d' % (flow.dst, flow.dport),
                  ssrc='0x%08x' % ssrc, payload_type=self.pt, sent=0, packets=0, lost=0,
                  first_ns=None, last_ns=None, rtcp_packets=0, expected=0,
                  codec=CODECS[self.pt][0])
        if self.srtp:  # the key its sender protects it with (the sender's own a=crypto)
            st['srtp'] = dict(suite=self.srtp, key=self.keys[forward])
        first_i = last_i = None
        self.truth['streams'].append(st)
        name, size, fill = CODECS[self.pt]
        # G.711 talks (speech-like noise, see audio.speech_packets); G.729's filler is kept:
        # the generator has no G.729 encoder
        law = {0: 'ulaw', 8: 'alaw'}.get(self.pt)
        talk = audio.speech_packets(law) if law else [bytes([fill]) * size]
        n = int((t_end - t_start) // (20 * MS))
        next_rtcp = t_start + 5 * SEC
        octets = 0
        for i in range(n):
            t = t_start + i * 20 * MS + rng.randrange(-200, 200) * 1000  # +-0.2 ms of jitter
            while next_rtcp <= t:
                # RFC 3550 §6.4.1 SR with no report blocks, plus an SDES CNAME
                sr = struct.pack('!BBHIIIIII', 0x80, 200, 6, ssrc, 0, 0, (ts0 + i * 160) & 0xFFFFFFFF,
                                 st['sent'], octets)
                cname = b'gen@' + flow.src.encode()
                sdes_items = bytes([1, len(cname)]) + cname + b'\0'
                sdes_items += b'\0' * ((-len(sdes_items)) % 4)
                sdes = struct.pack('!BBHI', 0x81, 202, (4 + len(sdes_items)) // 4, ssrc) + sdes_items
                st['rtcp_packets'] += 1
                yield (next_rtcp, rflow.frame(sr + sdes), None)
                next_rtcp += 5 * SEC
            st['sent'] += 1
            octets += size
            if self.loss and rng.random() < self.loss:
                st['lost'] += 1
                continue
            hdr = struct.pack('!BBHII', 0x80, (0x80 if i == 0 else 0) | self.pt, (seq0 + i) & 0xFFFF,
                              (ts0 + i * 160) & 0xFFFFFFFF, ssrc)
            st['packets'] += 1
            st['first_ns'] = st['first_ns'] if st['first_ns'] is not None else t
            st['last_ns'] = t
            first_i = i if first_i is None else first_i
            last_i = i
            # RFC 3550 A.3: expected runs from the first to the last sequence number received
            st['expected'] = last_i - first_i + 1
            yield (t, flow.frame(hdr + talk[i % len(talk)]), None)


# What each scripted outcome is, by the definitions of the KPIs (not by status codes):
# whether the call was answered (ITU-T E.411's ASR counts those), and whether its end was a
# user's decision rather than the network's (ITU-T E.425's NER: answered, user busy, and
# the caller giving up while it rang all count; a network failure would not).
OUTCOME_KPI = {'answered': (True, True), 'answered-retrans': (True, True), 'busy': (False, True),
               'cancelled': (False, True), 'unavailable': (False, False)}


def kpis(calls):
    """The stats block's KPIs as the generator knows them (issue 22: tests used to copy the
    formulas of metrics/kpi.c): ASR and NER over every call (each reaches its outcome),
    ACD the mean answered duration in seconds, and the post-dial delays (INVITE to 180, in
    ms) for the test to take percentiles of."""
    answered = [c for c in calls if OUTCOME_KPI[c['outcome']][0]]
    user = [c for c in calls if OUTCOME_KPI[c['outcome']][1]]
    durs = [(c['end_ns'] - c['answer_ns']) / 1e9 for c in answered]
    return dict(calls=len(calls), answered=len(answered),
                asr_pct=100 * len(answered) / len(calls) if calls else None,
                ner_pct=100 * len(user) / len(calls) if calls else None,
                acd_s=sum(durs) / len(durs) if durs else None,
                pdd_ms=sorted((c['ringing_ns'] - c['invite_ns']) / 1e6 for c in calls if c['ringing_ns']))


def generate(writer, calls=10, duration=30, concurrency=5, seed=1, loss=0.0, outcomes=None,
             start_ns=1_700_000_000 * SEC, gap_ms=None, display=None, codecs=('PCMU', 'PCMA'), trying=None,
             srtp=None, callees=None):
    """Writes the calls through writer(t_ns, frame) and returns the truth dict."""
    rng = random.Random(seed)
    random.seed(seed)  # Flow's IP identification start values
    plan = outcomes or ['answered']
    # calls start evenly so that about `concurrency` are up at any time
    # whole microseconds: the pcap holds microsecond stamps, and the truth must say what
    # the file holds
    gap = max(1000, int(duration * SEC / max(1, concurrency)) // 1000 * 1000)
    if gap_ms is not None:  # or a fixed gap between call starts, whatever the duration
        gap = max(1000, int(gap_ms * 1_000_000) // 1000 * 1000)
    objs = []
    for i in range(calls):
        outcome = plan[i % len(plan)]
        objs.append(Call(i, start_ns + i * gap, duration, outcome, loss, PT_OF[codecs[i % len(codecs)]],
                         random.Random(rng.getrandbits(64)), srtp, callees))
    if display is not None and objs:  # the first call's From display name, as given
        objs[0].display = objs[0].truth['display'] = display
    for c in objs if trying is not None else ():  # every 100's reason phrase, as given
        c.trying = c.truth['trying'] = trying
    frames = 0
    for t, frame, msg in heapq.merge(*(c.events() for c in objs), key=lambda e: e[0]):
        frames += 1
        writer(t, frame)
        if msg is not None:
            msg['frame'] = frames  # 1-based, as tshark numbers them
    return dict(calls=[c.truth for c in objs], frames=frames, kpi=kpis([c.truth for c in objs]),
                sip_messages=sum(len(c.truth['messages']) for c in objs),
                rtp_packets=sum(s['packets'] for c in objs for s in c.truth['streams']),
                rtcp_packets=sum(s['rtcp_packets'] for c in objs for s in c.truth['streams']))


def flood(writer, invites, seed=1, start_ns=1_700_000_000 * SEC, sources=60000, rate=100000):
    """An INVITE flood (a scanner or a toll-fraud burst): `invites` initial INVITEs with unique
    Call-IDs, each with an SDP offer on its own port, never answered, `rate` per second from
    `sources` addresses in turn. In the middle, one well-formed call (INVITE, 100, 180, 200,
    ACK, G.711 RTP both ways, BYE, 200) that must still be reported with its streams.
    Returns the truth of that call and the counts."""
    rng = random.Random(seed)
    spacing_ns = max(1000, SEC // rate // 1000 * 1000)  # whole microseconds, as the pcap holds
    tmpl = ('INVITE sip:%s@198.51.100.1 SIP/2.0\r\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK-f%d\r\n'
            'Max-Forwards: 70\r\nFrom: <sip:100@%s>;tag=f%d\r\nTo: <sip:%s@198.51.100.1>\r\n'
            'Call-ID: flood-%d-%08x@%s\r\nCSeq: 1 INVITE\r\nContact: <sip:100@%s:5060>\r\n'
            'User-Agent: friendly-scanner\r\nContent-Type: application/sdp\r\n'
            'Content-Length: %d\r\n\r\n%s')
    flows = {}
    good = Call(0, 0, 0, 'answered', 0, 0, random.Random(seed + 1))
    good_at = invites // 2
    t = start_ns
    frames = 0
    pending = []
    for i in range(invites):
        k = i % max(1, sources)
        src = '100.%d.%d.%d' % (64 + (k >> 16), (k >> 8) & 255, k & 255)
        f = flows.get(src) or flows.setdefault(src, Flow(src, 5060, '198.51.100.1', 5060))
        num = '9011%08d' % rng.randrange(10 ** 8)
        # each offer an endpoint of its own (a source's next port each round): every INVITE
        # adds two to follow, RTP and RTCP
        body = sdp('100', src, 10000 + 2 * ((i // max(1, sources)) % 25000), i, 0)
        writer(t, f.frame((tmpl % (num, src, i, src, i, num, i, rng.getrandbits(32), src, src,
                                   len(body), body)).encode()))
        frames += 1
        if i == good_at:
            good.start = t + spacing_ns // 2
            good.duration = 2 * SEC
            pending = list(good.events())
        while pending and pending[0][0] <= t + spacing_ns:
            ts, fr, msg = pending.pop(0)
            frames += 1
            writer(ts, fr)
            if msg is not None:
                msg['frame'] = frames
        t += spacing_ns
    for ts, fr, msg in pending:
        frames += 1
        writer(ts, fr)
        if msg is not None:
            msg['frame'] = frames
    return dict(frames=frames, invites=invites, sources=min(sources, invites), rate=rate,
                spacing_ns=spacing_ns, good=good.truth,
                last_invite_ns=start_ns + (invites - 1) * spacing_ns)
