"""REGISTER flows (RFC 3261 §10) with known outcomes, for the registration tests:
each entry of the truth says what the binding must read as at the end of the capture."""
from calls import MS, SEC, Flow

REGISTRAR = '198.51.100.5'


def _reg(ua, aor_user, cseq, branch, contact_expires=None, expires_hdr=None, auth=False,
         cid=None, contact='default'):
    c = ('<sip:%s@%s:5060>%s' % (aor_user, ua, ';expires=%d' % contact_expires if contact_expires is not None else '')
         if contact == 'default' else contact)
    s = ('REGISTER sip:example.net SIP/2.0\r\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK-%s\r\n'
         'Max-Forwards: 70\r\nFrom: <sip:%s@example.net>;tag=r%s\r\nTo: <sip:%s@example.net>\r\n'
         'Call-ID: %s\r\nCSeq: %d REGISTER\r\nContact: %s\r\n'
         % (ua, branch, aor_user, aor_user, aor_user, cid or 'reg-%s@%s' % (aor_user, ua), cseq, c))
    if expires_hdr is not None:
        s += 'Expires: %d\r\n' % expires_hdr
    if auth:
        s += ('Authorization: Digest username="%s", realm="example.net", nonce="abc", '
              'uri="sip:example.net", response="0123456789abcdef0123456789abcdef"\r\n' % aor_user)
    s += 'User-Agent: gen-phone/1.0\r\nContent-Length: 0\r\n\r\n'
    return s.encode()


def _resp(ua, aor_user, cseq, branch, code, reason, extra='', cid=None):
    return ('SIP/2.0 %d %s\r\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK-%s\r\n'
            'From: <sip:%s@example.net>;tag=r%s\r\nTo: <sip:%s@example.net>;tag=reg%d\r\n'
            'Call-ID: %s\r\nCSeq: %d REGISTER\r\n%sContent-Length: 0\r\n\r\n'
            % (code, reason, ua, branch, aor_user, aor_user, aor_user, code,
               cid or 'reg-%s@%s' % (aor_user, ua), cseq, extra)).encode()


CHALLENGE = 'WWW-Authenticate: Digest realm="example.net", nonce="abc", algorithm=MD5\r\n'


def generate(writer, start_ns=1_700_000_000 * SEC):
    frames = []  # (t, frame)
    truth = []

    def up(ua, t, data):
        frames.append((t, Flow(ua, 5060, REGISTRAR, 5060).frame(data)))

    def down(ua, t, data):
        frames.append((t, Flow(REGISTRAR, 5060, ua, 5060).frame(data)))

    t = start_ns
    # 1: challenged, then registered; asks 3600, the registrar grants 1800 for its Contact
    ua = '10.9.0.1'
    up(ua, t, _reg(ua, 'alice', 1, 'a1', expires_hdr=3600))
    down(ua, t + 50 * MS, _resp(ua, 'alice', 1, 'a1', 401, 'Unauthorized', CHALLENGE))
    up(ua, t + 100 * MS, _reg(ua, 'alice', 2, 'a2', expires_hdr=3600, auth=True))
    up(ua, t + 600 * MS, _reg(ua, 'alice', 2, 'a2', expires_hdr=3600, auth=True))  # retransmission
    down(ua, t + 650 * MS, _resp(ua, 'alice', 2, 'a2', 200, 'OK',
                                 'Contact: <sip:alice@%s:5060>;expires=1800\r\n' % ua))
    truth.append(dict(aor='sip:alice@example.net', state='registered', final_status=200,
                      challenges=1, attempts=2, expires_s=1800, expired=False))
    # 2: unregister (Contact expires=0)
    ua = '10.9.0.2'
    up(ua, t + 1 * SEC, _reg(ua, 'bob', 7, 'b7', contact_expires=0))
    down(ua, t + 1 * SEC + 40 * MS, _resp(ua, 'bob', 7, 'b7', 200, 'OK'))
    truth.append(dict(aor='sip:bob@example.net', state='unregistered', final_status=200,
                      challenges=0, attempts=1, expires_s=0, expired=False))
    # 3: refused
    ua = '10.9.0.3'
    up(ua, t + 2 * SEC, _reg(ua, 'carol', 1, 'c1', expires_hdr=600))
    down(ua, t + 2 * SEC + 30 * MS, _resp(ua, 'carol', 1, 'c1', 403, 'Forbidden'))
    truth.append(dict(aor='sip:carol@example.net', state='failed', final_status=403,
                      challenges=0, attempts=1, expires_s=600, expired=False))
    # 4: an auth loop: three challenges, never a success
    ua = '10.9.0.4'
    for k in range(3):
        up(ua, t + (3 + k) * SEC, _reg(ua, 'dave', k + 1, 'd%d' % k, expires_hdr=300, auth=k > 0))
        down(ua, t + (3 + k) * SEC + 30 * MS, _resp(ua, 'dave', k + 1, 'd%d' % k, 401, 'Unauthorized', CHALLENGE))
    truth.append(dict(aor='sip:dave@example.net', state='challenged', final_status=401,
                      challenges=3, attempts=3, expires_s=300, expired=False))
    # 5: granted 60 s, never refreshed; the capture goes on for 2 minutes
    ua = '10.9.0.5'
    up(ua, t + 7 * SEC, _reg(ua, 'erin', 1, 'e1', contact_expires=60))
    down(ua, t + 7 * SEC + 20 * MS, _resp(ua, 'erin', 1, 'e1', 200, 'OK',
                                          'Contact: <sip:erin@%s:5060>;expires=60\r\n' % ua))
    truth.append(dict(aor='sip:erin@example.net', state='unregistered', final_status=200,
                      challenges=0, attempts=1, expires_s=60, expired=True))
    # 6: refreshed in time: still registered at the end
    ua = '10.9.0.6'
    for k in range(3):
        up(ua, t + (8 + 50 * k) * SEC, _reg(ua, 'frank', k + 1, 'f%d' % k, contact_expires=60))
        down(ua, t + (8 + 50 * k) * SEC + 20 * MS, _resp(ua, 'frank', k + 1, 'f%d' % k, 200, 'OK',
                                                         'Contact: <sip:frank@%s:5060>;expires=60\r\n' % ua))
    truth.append(dict(aor='sip:frank@example.net', state='registered', final_status=200,
                      challenges=0, attempts=3, expires_s=60, expired=False))
    # the capture ends 130 s in (an OPTIONS keepalive as the last packet)
    frames.append((t + 130 * SEC, Flow('10.9.0.9', 5060, REGISTRAR, 5060).frame(
        b'OPTIONS sip:example.net SIP/2.0\r\nVia: SIP/2.0/UDP 10.9.0.9:5060;branch=z9hG4bK-o1\r\n'
        b'From: <sip:ka@example.net>;tag=o\r\nTo: <sip:example.net>\r\nCall-ID: ka-1\r\n'
        b'CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n')))
    frames.sort(key=lambda f: f[0])
    for ts, fr in frames:
        writer(ts, fr)
    return dict(frames=len(frames), registrations=truth)


def storm(writer, n, spacing_ns=20_000, start_ns=1_700_000_000 * SEC):
    """A REGISTER storm: n phones (after a registrar restart, say) each register with a
    challenge: REGISTER, 401, REGISTER with credentials, 200 with the binding. One phone
    starts every spacing_ns; each step takes 2 ms. Returns the count of messages."""
    events = []
    for i in range(n):
        ua = '10.%d.%d.%d' % (40 + (i >> 16), (i >> 8) & 255, i & 255)
        user = 'u%06d' % i
        up, down = Flow(ua, 5060, REGISTRAR, 5060), Flow(REGISTRAR, 5060, ua, 5060)
        t = start_ns + i * spacing_ns
        events += [(t, up, _reg(ua, user, 1, 's%d' % i, expires_hdr=3600)),
                   (t + 2 * MS, down, _resp(ua, user, 1, 's%d' % i, 401, 'Unauthorized', CHALLENGE)),
                   (t + 4 * MS, up, _reg(ua, user, 2, 't%d' % i, expires_hdr=3600, auth=True)),
                   (t + 6 * MS, down, _resp(ua, user, 2, 't%d' % i, 200, 'OK',
                                            'Contact: <sip:%s@%s:5060>;expires=3600\r\n' % (user, ua)))]
    events.sort(key=lambda e: e[0])
    for t, flow, data in events:
        writer(t, flow.frame(data))
    return len(events)
