"""Call scenarios with known outcomes (RFC 3261 and friends), one capture for all, and the
truth of how each call must read: state, final status, times, who hung up, legs.

Every call runs between its own pair of hosts, so the scenarios cannot disturb each other;
they are spread over time, and the capture ends with the last scenario's last packet."""
import struct

from calls import MS, SEC, Flow

T0 = 1_700_000_000 * SEC


def sdp(ip, port, direction='sendrecv'):
    return ('v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n'
            'm=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=%s\r\n' % (ip, ip, port, direction))


class Dialog:
    """Messages of one Call-ID between a caller A and a callee B (or a B2BUA)."""

    def __init__(self, out, n, cid, a, b, extra=''):
        self.out, self.cid, self.a, self.b = out, cid, a, b
        self.ab, self.ba = Flow(a, 5060, b, 5060), Flow(b, 5060, a, 5060)
        self.ftag, self.extra, self.n = 'ft%d' % n, extra, n

    def _hdrs(self, fwd, cseq, method, to_tag, branch):
        via_host = self.a if fwd else self.b
        return ('Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-%s\r\nMax-Forwards: 70\r\n'
                'From: <sip:a%d@%s>;tag=%s\r\nTo: <sip:b%d@%s>%s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n'
                % (via_host, branch, self.n, self.a, self.ftag, self.n, self.b,
                   ';tag=' + to_tag if to_tag else '', self.cid, cseq, method))

    def req(self, t, method, cseq, to_tag=None, body='', extra='', fwd=True, branch=None,
            ctype='application/sdp'):
        """A request; fwd=False: sent by the callee (From/To swapped in its eyes, as in a BYE
        from B: here the tags are written as A's dialog sees them, From being B)."""
        branch = branch or '%s-%s-%d-%s' % (self.cid[:8], method.lower(), cseq, 'f' if fwd else 'r')
        if fwd:
            h = self._hdrs(True, cseq, method, to_tag, branch)
        else:  # the callee's request: its From is the callee, its To the caller
            h = ('Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-%s\r\nMax-Forwards: 70\r\n'
                 'From: <sip:b%d@%s>;tag=%s\r\nTo: <sip:a%d@%s>;tag=%s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n'
                 % (self.b, branch, self.n, self.b, to_tag, self.n, self.a, self.ftag, self.cid, cseq, method))
        s = '%s sip:%s SIP/2.0\r\n%s%s%s' % (method, self.b if fwd else self.a, h, self.extra if method == 'INVITE' else '', extra)
        if body:
            s += 'Content-Type: %s\r\n' % ctype
        s += 'Content-Length: %d\r\n\r\n%s' % (len(body), body)
        self.out.append((t, (self.ab if fwd else self.ba).frame(s.encode())))

    def resp(self, t, code, reason, cseq, method, to_tag=None, body='', extra='', fwd_req=True, branch=None):
        """A response to a request sent by A (fwd_req) or by B."""
        branch = branch or '%s-%s-%d-%s' % (self.cid[:8], method.lower(), cseq, 'f' if fwd_req else 'r')
        if fwd_req:
            h = self._hdrs(True, cseq, method, to_tag, branch)
        else:
            h = ('Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-%s\r\n'
                 'From: <sip:b%d@%s>;tag=%s\r\nTo: <sip:a%d@%s>;tag=%s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n'
                 % (self.b, branch, self.n, self.b, to_tag, self.n, self.a, self.ftag, self.cid, cseq, method))
        s = 'SIP/2.0 %d %s\r\n%s%s' % (code, reason, h, extra)
        if body:
            s += 'Content-Type: application/sdp\r\n'
        s += 'Content-Length: %d\r\n\r\n%s' % (len(body), body)
        self.out.append((t, (self.ba if fwd_req else self.ab).frame(s.encode())))


def generate(writer):
    out, truth = [], []
    base = [T0]

    def scenario(n, name, **want):
        t = base[0]
        base[0] += 10 * SEC
        a, b = '10.20.%d.1' % n, '10.20.%d.2' % n
        d = Dialog(out, n, 'sc-%s@%s' % (name, a), a, b)
        want.update(call_id=d.cid, name=name)
        truth.append(want)
        return d, t, a, b

    ms = lambda x: x * MS
    # a zombie: answered with a 90 s session timer (RFC 4028), never refreshed, no BYE; the
    # capture goes on for minutes
    d, t, a, b = scenario(14, 'zombie', state='unfinished', final_status=200, answered=True,
                          session_expired=True, end_offset_ms=700 + 90000)
    d.req(t, 'INVITE', 1, body=sdp(a, 4000), extra='Supported: timer\r\nSession-Expires: 90\r\n')
    d.resp(t + ms(700), 200, 'OK', 1, 'INVITE', 'x14', body=sdp(b, 5000),
           extra='Require: timer\r\nSession-Expires: 90;refresher=uac\r\n')
    d.req(t + ms(701), 'ACK', 1, 'x14', branch='ack14')
    # ringing when the capture ends
    d, t, a, b = scenario(1, 'ringing', state='ringing', final_status=None, answered=False)
    d.req(t, 'INVITE', 1, body=sdp(a, 4000)); d.resp(t + ms(2), 100, 'Trying', 1, 'INVITE')
    d.resp(t + ms(300), 180, 'Ringing', 1, 'INVITE', 'x1')
    # early media (183 with SDP) when the capture ends
    d, t, a, b = scenario(2, 'early', state='early_media', final_status=None, answered=False)
    d.req(t, 'INVITE', 1, body=sdp(a, 4000)); d.resp(t + ms(400), 183, 'Session Progress', 1, 'INVITE', 'x2', body=sdp(b, 5000))
    # answered, never hung up
    d, t, a, b = scenario(3, 'unfinished', state='unfinished', final_status=200, answered=True,
                          session_expired=False)
    d.req(t, 'INVITE', 1, body=sdp(a, 4000)); d.resp(t + ms(200), 180, 'Ringing', 1, 'INVITE', 'x3')
    d.resp(t + ms(900), 200, 'OK', 1, 'INVITE', 'x3', body=sdp(b, 5000)); d.req(t + ms(901), 'ACK', 1, 'x3', branch='ack3')
    # rejected and failed
    d, t, a, b = scenario(4, 'notfound', state='rejected', final_status=404, answered=False, ended_by=None)
    d.req(t, 'INVITE', 1); d.resp(t + ms(80), 404, 'Not Found', 1, 'INVITE', 'x4'); d.req(t + ms(81), 'ACK', 1, 'x4')
    d, t, a, b = scenario(5, 'unavailable', state='failed', final_status=503, answered=False, ended_by=None)
    d.req(t, 'INVITE', 1); d.resp(t + ms(2), 100, 'Trying', 1, 'INVITE'); d.resp(t + ms(50), 503, 'Service Unavailable', 1, 'INVITE', 'x5')
    d.req(t + ms(51), 'ACK', 1, 'x5')
    # nothing answers: Timer B (the INVITE re-sent at 0.5, 1.5, 3.5 s...)
    d, t, a, b = scenario(6, 'timerb', state='failed', final_status=None, answered=False, end_offset_ms=7500 + 32000)
    for k, at in enumerate((0, 500, 1500, 3500, 7500)):
        d.req(t + ms(at), 'INVITE', 1)
    base[0] += 40 * SEC  # room for Timer B before the next scenario
    # CANCEL racing the 200: the 200 wins; the call is answered and later hung up
    d, t, a, b = scenario(7, 'cancelrace', state='completed', final_status=200, answered=True, ended_by='caller')
    d.req(t, 'INVITE', 1, body=sdp(a, 4000)); d.resp(t + ms(300), 180, 'Ringing', 1, 'INVITE', 'x7')
    d.req(t + ms(2000), 'CANCEL', 1, branch='%s-invite-1-f' % d.cid[:8])
    d.resp(t + ms(2001), 200, 'OK', 1, 'INVITE', 'x7', body=sdp(b, 5000))
    d.resp(t + ms(2002), 200, 'OK', 1, 'CANCEL', 'x7', branch='%s-invite-1-f' % d.cid[:8])
    d.req(t + ms(2003), 'ACK', 1, 'x7', branch='ack7')
    d.req(t + ms(5000), 'BYE', 2, 'x7'); d.resp(t + ms(5001), 200, 'OK', 2, 'BYE', 'x7')
    # reliable provisional (RFC 3262): 183 + PRACK; the callee hangs up
    d, t, a, b = scenario(8, 'prack', state='completed', final_status=200, answered=True, ended_by='callee')
    d.req(t, 'INVITE', 1, body=sdp(a, 4000), extra='Supported: 100rel\r\n')
    d.resp(t + ms(300), 183, 'Session Progress', 1, 'INVITE', 'x8', body=sdp(b, 5000), extra='Require: 100rel\r\nRSeq: 1\r\n')
    d.req(t + ms(301), 'PRACK', 2, 'x8', extra='RAck: 1 1 INVITE\r\n'); d.resp(t + ms(302), 200, 'OK', 2, 'PRACK', 'x8')
    d.resp(t + ms(1500), 200, 'OK', 1, 'INVITE', 'x8', body=sdp(b, 5000)); d.req(t + ms(1501), 'ACK', 1, 'x8', branch='ack8')
    d.req(t + ms(4000), 'BYE', 1, 'x8', fwd=False); d.resp(t + ms(4001), 200, 'OK', 1, 'BYE', 'x8', fwd_req=False)
    # hold and resume by re-INVITE: the call's answer is the first 200 only
    d, t, a, b = scenario(9, 'hold', state='completed', final_status=200, answered=True, ended_by='caller',
                          holds=[[2000, 4000, 'caller']])
    d.req(t, 'INVITE', 1, body=sdp(a, 4000)); d.resp(t + ms(500), 200, 'OK', 1, 'INVITE', 'x9', body=sdp(b, 5000))
    d.req(t + ms(501), 'ACK', 1, 'x9', branch='ack9a')
    d.req(t + ms(2000), 'INVITE', 2, 'x9', body=sdp(a, 4000, 'sendonly')); d.resp(t + ms(2050), 200, 'OK', 2, 'INVITE', 'x9', body=sdp(b, 5000, 'recvonly'))
    d.req(t + ms(2051), 'ACK', 2, 'x9', branch='ack9b')
    d.req(t + ms(4000), 'INVITE', 3, 'x9', body=sdp(a, 4000)); d.resp(t + ms(4050), 200, 'OK', 3, 'INVITE', 'x9', body=sdp(b, 5000))
    d.req(t + ms(4051), 'ACK', 3, 'x9', branch='ack9c')
    d.req(t + ms(6000), 'BYE', 4, 'x9'); d.resp(t + ms(6001), 200, 'OK', 4, 'BYE', 'x9')
    # forking: two early dialogs, the second answers
    d, t, a, b = scenario(10, 'fork', state='completed', final_status=200, answered=True, ended_by='caller', to_tag='fork-b')
    d.req(t, 'INVITE', 1, body=sdp(a, 4000)); d.resp(t + ms(200), 180, 'Ringing', 1, 'INVITE', 'fork-a')
    d.resp(t + ms(250), 180, 'Ringing', 1, 'INVITE', 'fork-b')
    d.resp(t + ms(1200), 200, 'OK', 1, 'INVITE', 'fork-b', body=sdp(b, 5000)); d.req(t + ms(1201), 'ACK', 1, 'fork-b', branch='ack10')
    d.req(t + ms(3000), 'BYE', 2, 'fork-b'); d.resp(t + ms(3001), 200, 'OK', 2, 'BYE', 'fork-b')
    # an INVITE challenged, then sent again with credentials: one call
    d, t, a, b = scenario(11, 'challenge', state='completed', final_status=200, answered=True, ended_by='caller', challenges=1)
    d.req(t, 'INVITE', 1, body=sdp(a, 4000)); d.resp(t + ms(60), 407, 'Proxy Authentication Required', 1, 'INVITE', 'x11a',
                                                   extra='Proxy-Authenticate: Digest realm="x", nonce="n"\r\n')
    d.req(t + ms(61), 'ACK', 1, 'x11a')
    d.req(t + ms(120), 'INVITE', 2, body=sdp(a, 4000), extra='Proxy-Authorization: Digest username="a", realm="x", nonce="n", uri="sip:b", response="00"\r\n')
    d.resp(t + ms(400), 180, 'Ringing', 2, 'INVITE', 'x11'); d.resp(t + ms(900), 200, 'OK', 2, 'INVITE', 'x11', body=sdp(b, 5000))
    d.req(t + ms(901), 'ACK', 2, 'x11', branch='ack11')
    d.req(t + ms(3000), 'BYE', 3, 'x11'); d.resp(t + ms(3001), 200, 'OK', 3, 'BYE', 'x11')
    # transfer: REFER, 202, NOTIFY with the sipfrag; then the transferor hangs up
    d, t, a, b = scenario(12, 'refer', state='completed', final_status=200, answered=True, ended_by='caller',
                          transfers=[[2000, 'caller', 'sip:c@10.20.12.3', 202, 200]])
    d.req(t, 'INVITE', 1, body=sdp(a, 4000)); d.resp(t + ms(500), 200, 'OK', 1, 'INVITE', 'x12', body=sdp(b, 5000))
    d.req(t + ms(501), 'ACK', 1, 'x12', branch='ack12')
    d.req(t + ms(2000), 'REFER', 2, 'x12', extra='Refer-To: <sip:c@10.20.12.3>\r\n'); d.resp(t + ms(2010), 202, 'Accepted', 2, 'REFER', 'x12')
    d.req(t + ms(2500), 'NOTIFY', 1, 'x12', fwd=False, extra='Event: refer\r\nSubscription-State: terminated\r\n',
          body='SIP/2.0 200 OK\r\n', ctype='message/sipfrag')
    d.resp(t + ms(2501), 200, 'OK', 1, 'NOTIFY', 'x12', fwd_req=False)
    d.req(t + ms(2600), 'BYE', 3, 'x12'); d.resp(t + ms(2601), 200, 'OK', 3, 'BYE', 'x12')
    # a B2BUA that keeps RFC 7989's Session-ID on both legs (no X-CID)
    d, t, a, b = scenario(16, 'sessionid', state='completed', final_status=200, answered=True, ended_by='caller', legs=2)
    sid = 'Session-ID: ab30317f1a784dc48ff824d0d3715d86;remote=00000000000000000000000000000000\r\n'
    d.extra = sid
    leg2 = Dialog(out, 116, 'sc-sessionid-leg-b@%s' % b, b, '10.20.16.3',
                  extra='Session-ID: ab30317f1a784dc48ff824d0d3715d86;remote=00000000000000000000000000000000\r\n')
    d.req(t, 'INVITE', 1, body=sdp(a, 4000)); leg2.req(t + ms(5), 'INVITE', 1, body=sdp(b, 6000))
    leg2.resp(t + ms(900), 200, 'OK', 1, 'INVITE', 'sb', body=sdp('10.20.16.3', 7000)); leg2.req(t + ms(901), 'ACK', 1, 'sb', branch='ack16b')
    d.resp(t + ms(903), 200, 'OK', 1, 'INVITE', 'sa', body=sdp(b, 5000)); d.req(t + ms(904), 'ACK', 1, 'sa', branch='ack16a')
    d.req(t + ms(3000), 'BYE', 2, 'sa'); d.resp(t + ms(3001), 200, 'OK', 2, 'BYE', 'sa')
    leg2.req(t + ms(3002), 'BYE', 2, 'sb'); leg2.resp(t + ms(3003), 200, 'OK', 2, 'BYE', 'sb')
    # NAT: A announces its private address; its RTP really comes from a public one, and B
    # answers to that (symmetric RTP). Both streams belong to the call; one end of each was
    # never announced.
    d, t, a, b = scenario(15, 'nat', state='completed', final_status=200, answered=True, ended_by='caller',
                          streams=[['203.0.113.15:31000', '10.20.15.2:5000', False, True],
                                   ['10.20.15.2:5000', '203.0.113.15:31000', True, False]])
    d.req(t, 'INVITE', 1, body=sdp(a, 4000)); d.resp(t + ms(500), 200, 'OK', 1, 'INVITE', 'x15', body=sdp(b, 5000))
    d.req(t + ms(501), 'ACK', 1, 'x15', branch='ack15')
    fwd, back = Flow('203.0.113.15', 31000, b, 5000), Flow(b, 5000, '203.0.113.15', 31000)
    for k in range(10):
        for flow, ssrc in ((fwd, 0x15151515), (back, 0x25252525)):
            rtp = struct.pack('!BBHII', 0x80, 0, k, 160 * k, ssrc) + b'\xff' * 160
            out.append((t + ms(600 + 20 * k + (ssrc & 1)), flow.frame(rtp)))
    d.req(t + ms(2000), 'BYE', 2, 'x15'); d.resp(t + ms(2001), 200, 'OK', 2, 'BYE', 'x15')
    # a B2BUA: leg A from the caller, leg B to the callee naming leg A in X-CID
    d, t, a, b = scenario(13, 'b2bua', state='completed', final_status=200, answered=True, ended_by='caller', legs=2)
    leg_b = Dialog(out, 113, 'sc-b2bua-leg-b@%s' % b, b, '10.20.13.3', extra='X-CID: %s\r\n' % d.cid)
    d.req(t, 'INVITE', 1, body=sdp(a, 4000)); leg_b.req(t + ms(5), 'INVITE', 1, body=sdp(b, 6000))
    leg_b.resp(t + ms(300), 180, 'Ringing', 1, 'INVITE', 'lb'); d.resp(t + ms(302), 180, 'Ringing', 1, 'INVITE', 'la')
    leg_b.resp(t + ms(900), 200, 'OK', 1, 'INVITE', 'lb', body=sdp('10.20.13.3', 7000)); leg_b.req(t + ms(901), 'ACK', 1, 'lb', branch='ack13b')
    d.resp(t + ms(903), 200, 'OK', 1, 'INVITE', 'la', body=sdp(b, 5000)); d.req(t + ms(904), 'ACK', 1, 'la', branch='ack13a')
    d.req(t + ms(3000), 'BYE', 2, 'la'); d.resp(t + ms(3001), 200, 'OK', 2, 'BYE', 'la')
    leg_b.req(t + ms(3002), 'BYE', 2, 'lb'); leg_b.resp(t + ms(3003), 200, 'OK', 2, 'BYE', 'lb')
    # DTMF as SIP INFO: "5" by dtmf-relay with 160 ms, "#" by dtmf-relay as signal 11 (a
    # common vendor numbering) and "9" by application/dtmf (no duration), both directions
    d, t, a, b = scenario(17, 'infodtmf', state='completed', final_status=200, answered=True, ended_by='caller',
                          dtmf=[[1000, '5', 160, 'caller'], [1500, '#', 250, 'caller'], [2000, '9', None, 'callee']])
    d.req(t, 'INVITE', 1, body=sdp(a, 4000)); d.resp(t + ms(500), 200, 'OK', 1, 'INVITE', 'x17', body=sdp(b, 5000))
    d.req(t + ms(501), 'ACK', 1, 'x17', branch='ack17')
    d.req(t + ms(1000), 'INFO', 2, 'x17', body='Signal=5\r\nDuration=160\r\n', ctype='application/dtmf-relay')
    d.resp(t + ms(1001), 200, 'OK', 2, 'INFO', 'x17')
    d.req(t + ms(1500), 'INFO', 3, 'x17', body='Signal= 11\r\nDuration= 250\r\n', ctype='application/dtmf-relay')
    d.resp(t + ms(1501), 200, 'OK', 3, 'INFO', 'x17')
    d.req(t + ms(2000), 'INFO', 1, 'x17', body='9', ctype='application/dtmf', fwd=False)
    d.req(t + ms(2100), 'INFO', 4, 'x17', body='Signal=Z\r\n', ctype='application/dtmf-relay')  # not a digit
    d.req(t + ms(3000), 'BYE', 5, 'x17'); d.resp(t + ms(3001), 200, 'OK', 5, 'BYE', 'x17')

    out.sort(key=lambda f: f[0])
    for ts, fr in out:
        writer(ts, fr)
    return dict(frames=len(out), calls=truth)
