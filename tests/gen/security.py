"""Attacks on a SIP service and their innocent twins, for the security watch's golden test.

Each scenario runs from its own addresses, one after another on packet time, and the
truth names the security issues it must raise: (kind, key), the key being the source
address for sip_scan and auth_brute_force and the account ("sip:user@host") for
registration_hijack and toll_fraud_pattern. Twins raise none of the four kinds; their
sources and accounts are listed so that the test can say so.

  attacks
    sweep     203.0.113.66, User-Agent friendly-scanner (SIPVicious): OPTIONS to 300
              extensions, then INVITE to the same (404 back), then guesses the password of
              1001 150 times (REGISTER, 401, REGISTER with a digest, 403)
    regsweep  198.18.7.20, an innocent-looking User-Agent: REGISTER to 200 extensions
              without credentials from ports that change every request (404, 401 for 10)
    guess     192.0.2.77: 40 digest attempts for 2001, each refused by another 401
    hijack    3001's phone at 10.20.0.5 refreshes every 60 s; 198.19.5.5 registers the
              account every 60 s in between, the registrar keeping one binding
    guesswin  192.0.2.200 guesses 2500's password (12 failures), then registers it
    spread    5001's password guessed from 8 networks (100.64.1-8.7), 3 refusals each
    fraud     4001 at 10.30.0.9 calls 8 international numbers in 80 s (407, then with
              credentials, 200, BYE)
    parallel  4101 at 10.30.0.10 holds one call at a time (two now and then) for 12
              minutes, then 12 answered calls at once
  twins
    pbx       60 phones in 10.40.0.0/24 register with a challenge, refresh, and call one
              another and national numbers (some busy); one phone has a wrong password
              (3 refusals)
    fumble    5101's phone is refused twice at its usual address, then registers
    wifi      6001 registers from 10.50.0.7, then once from 172.16.9.7 (new Wi-Fi), and
              refreshes only from there
    callcentre 40 agents in 10.60.0.0/24 each hold one national call, all at once; the
              centre's trunk account 7900 holds 20 calls at once for 16 minutes
"""
from calls import MS, SEC, Flow

REG = '198.51.100.10'
DOMAIN = 'example.net'
CHAL = 'WWW-Authenticate: Digest realm="example.net", nonce="n%d", algorithm=MD5\r\n'
PCHAL = 'Proxy-Authenticate: Digest realm="example.net", nonce="p%d", algorithm=MD5\r\n'


class Gen:
    def __init__(self):
        self.events = []
        self.n = 0

    def uid(self):
        self.n += 1
        return self.n

    def send(self, t, src, sport, dst, dport, text):
        self.events.append((t, Flow(src, sport, dst, dport).frame(text.encode())))


def request(method, ruri, src, sport, frm, to, cid, cseq, branch, ua=None, auth=None,
            contact=None, expires=None, to_tag=None, body=''):
    s = ('%s %s SIP/2.0\r\nVia: SIP/2.0/UDP %s:%d;branch=z9hG4bK-%s\r\nMax-Forwards: 70\r\n'
         'From: <sip:%s@%s>;tag=f%s\r\nTo: <sip:%s@%s>%s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n'
         % (method, ruri, src, sport, branch, frm, DOMAIN, cid[:8], to, DOMAIN,
            ';tag=%s' % to_tag if to_tag else '', cid, cseq, method))
    if contact:
        s += 'Contact: <sip:%s@%s:%d>\r\n' % (frm, src, sport)
    if expires is not None:
        s += 'Expires: %d\r\n' % expires
    if auth:
        s += ('%s: Digest username="%s", realm="example.net", nonce="n", uri="%s", '
              'response="0123456789abcdef0123456789abcdef", algorithm=MD5\r\n' % (auth[0], auth[1], ruri))
    if ua:
        s += 'User-Agent: %s\r\n' % ua
    return s + 'Content-Length: %d\r\n\r\n%s' % (len(body), body)


def response(code, reason, src, sport, frm, to, cid, cseq, method, branch, extra='', to_tag='t1'):
    return ('SIP/2.0 %d %s\r\nVia: SIP/2.0/UDP %s:%d;branch=z9hG4bK-%s\r\n'
            'From: <sip:%s@%s>;tag=f%s\r\nTo: <sip:%s@%s>;tag=%s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n'
            '%sServer: gen-registrar\r\nContent-Length: 0\r\n\r\n'
            % (code, reason, src, sport, branch, frm, DOMAIN, cid[:8], to, DOMAIN, to_tag, cid,
               cseq, method, extra))


def exchange(g, t, src, sport, method, ruri, frm, to, code, reason, cseq=1, cid=None, ua=None,
             auth=None, contact=False, expires=None, extra='', dt=20 * MS):
    """One request from src and its final answer from the registrar."""
    cid = cid or 'c%d@%s' % (g.uid(), src)
    br = 'b%d' % g.uid()
    g.send(t, src, sport, REG, 5060, request(method, ruri, src, sport, frm, to, cid, cseq, br, ua,
                                             auth, contact, expires))
    if code:
        g.send(t + dt, REG, 5060, src, sport, response(code, reason, src, sport, frm, to, cid, cseq,
                                                       method, br, extra))
    return cid


def register(g, t, src, user, ua, expires=120, challenge=True, password_ok=True, sport=5060,
             contacts=None):
    """A phone registers: challenged first (401), then with credentials (200 with its binding,
    or 403 for a wrong password)."""
    cid = 'reg-%s@%s' % (user, src)
    ruri = 'sip:%s' % DOMAIN
    if challenge:
        exchange(g, t, src, sport, 'REGISTER', ruri, user, user, 401, 'Unauthorized', 1, cid, ua,
                 contact=True, expires=expires, extra=CHAL % g.uid())
        t += 40 * MS
    bindings = contacts or ['<sip:%s@%s:%d>;expires=%d' % (user, src, sport, expires)]
    if password_ok:
        exchange(g, t, src, sport, 'REGISTER', ruri, user, user, 200, 'OK', 2, cid, ua,
                 ('Authorization', user), True, expires,
                 ''.join('Contact: %s\r\n' % c for c in bindings))
    else:
        exchange(g, t, src, sport, 'REGISTER', ruri, user, user, 403, 'Forbidden', 2, cid, ua,
                 ('Authorization', user), True, expires)


def call(g, t, src, caller, dest, ua, answer=True, hold_s=30, busy=False):
    """An INVITE challenged by the proxy (407), sent again with credentials, answered (or
    486), and hung up with a BYE hold_s later."""
    cid = 'call%d@%s' % (g.uid(), src)
    ruri = 'sip:%s@%s' % (dest, DOMAIN)
    exchange(g, t, src, 5060, 'INVITE', ruri, caller, dest, 407, 'Proxy Authentication Required',
             1, cid, ua, contact=True, extra=PCHAL % g.uid())
    g.send(t + 30 * MS, src, 5060, REG, 5060,
           request('ACK', ruri, src, 5060, caller, dest, cid, 1, 'ack%d' % g.uid(), to_tag='t1'))
    t += 60 * MS
    code, reason = (486, 'Busy Here') if busy else (200, 'OK') if answer else (480, 'Unavailable')
    exchange(g, t, src, 5060, 'INVITE', ruri, caller, dest, code, reason, 2, cid, ua,
             ('Proxy-Authorization', caller), True,
             extra='Contact: <sip:%s@%s:5060>\r\n' % (dest, REG) if code == 200 else '', dt=2 * SEC)
    t += 2 * SEC + 10 * MS
    g.send(t, src, 5060, REG, 5060,
           request('ACK', ruri, src, 5060, caller, dest, cid, 2, 'ack%d' % g.uid(), to_tag='t1'))
    if code != 200:
        return
    t += hold_s * SEC
    br = 'bye%d' % g.uid()
    g.send(t, src, 5060, REG, 5060, request('BYE', ruri, src, 5060, caller, dest, cid, 3, br, ua,
                                            to_tag='t1'))
    g.send(t + 20 * MS, REG, 5060, src, 5060,
           response(200, 'OK', src, 5060, caller, dest, cid, 3, 'BYE', br))


def sweep(g, t):
    src, ua = '203.0.113.66', 'friendly-scanner'
    for method in ('OPTIONS', 'INVITE'):
        for ext in range(100, 400):
            exchange(g, t, src, 5070, method, 'sip:%d@%s' % (ext, REG), str(ext), str(ext), 404,
                     'Not Found', ua=ua)
            t += 50 * MS
    for i in range(150):  # the guessing run against 1001
        cid = 'crack%d@%s' % (i, src)
        exchange(g, t, src, 5070, 'REGISTER', 'sip:%s' % DOMAIN, '1001', '1001', 401,
                 'Unauthorized', 1, cid, ua, contact=True, extra=CHAL % g.uid())
        exchange(g, t + 60 * MS, src, 5070, 'REGISTER', 'sip:%s' % DOMAIN, '1001', '1001', 403,
                 'Forbidden', 2, cid, ua, ('Authorization', '1001'), True)
        t += 200 * MS
    return t


def regsweep(g, t):
    src = '198.18.7.20'
    for ext in range(200, 400):
        code, reason = (401, 'Unauthorized') if ext % 20 == 0 else (404, 'Not Found')
        exchange(g, t, src, 20000 + ext, 'REGISTER', 'sip:%s' % DOMAIN, str(ext), str(ext), code,
                 reason, ua='Linksys/SPA942-6.1.5', contact=True,
                 extra=CHAL % g.uid() if code == 401 else '')
        t += 100 * MS
    return t


def guess(g, t, src='192.0.2.77', user='2001', n=40, then_register=False):
    for i in range(n):
        cid = 'g%d@%s' % (i, src)
        exchange(g, t, src, 5060, 'REGISTER', 'sip:%s' % DOMAIN, user, user, 401, 'Unauthorized',
                 1, cid, 'Z 5.2.28 rv2.8.3', contact=True, extra=CHAL % g.uid())
        exchange(g, t + 50 * MS, src, 5060, 'REGISTER', 'sip:%s' % DOMAIN, user, user, 401,
                 'Unauthorized', 2, cid, 'Z 5.2.28 rv2.8.3', ('Authorization', user), True,
                 extra=CHAL % g.uid())
        t += 500 * MS
    if then_register:
        register(g, t, src, user, 'Z 5.2.28 rv2.8.3', expires=600)
    return t + SEC


SPREAD_NETS = ['100.64.%d.7' % n for n in range(1, 9)]


def spread(g, t):
    """5001's password guessed from 8 networks, 3 refused digests from each: every network
    stays under auth_fail (10), the account gets 24."""
    for src in SPREAD_NETS:
        t = guess(g, t, src, '5001', 3)
    return t


def fumble(g, t):
    """5101's phone at its usual address is refused twice (a mistyped password), then
    registers."""
    register(g, t, '10.70.0.5', '5101', 'Yealink SIP-T46S 66.85', password_ok=False)
    register(g, t + 5 * SEC, '10.70.0.5', '5101', 'Yealink SIP-T46S 66.85', password_ok=False)
    register(g, t + 20 * SEC, '10.70.0.5', '5101', 'Yealink SIP-T46S 66.85')
    return t + 30 * SEC


def hijack(g, t):
    for i in range(4):  # the phone's refresh, then the intruder's, each within the other's 120 s
        register(g, t + i * 60 * SEC, '10.20.0.5', '3001', 'Yealink SIP-T46S 66.85', challenge=i == 0)
        register(g, t + i * 60 * SEC + 30 * SEC, '198.19.5.5', '3001', 'MicroSIP/3.21.3')
    return t + 240 * SEC


def fraud(g, t):
    dests = ['00881620543210', '0044702512345', '002521234567', '00375291234567',
             '0053554123456', '00223201234567', '0088213123456', '00960331234567']
    register(g, t, '10.30.0.9', '4001', 'Grandstream GXP1625 1.0.11')
    for i, d in enumerate(dests):
        call(g, t + SEC + i * 10 * SEC, '10.30.0.9', '4001', d, 'Grandstream GXP1625 1.0.11', hold_s=5)
    return t + 100 * SEC


def parallel(g, t):
    """4101's habit for 12 minutes: one national call at a time, now and then two; then 12
    at once (none to a listed prefix: the burst is the number of calls alone)."""
    ua = 'Grandstream GXP1625 1.0.11'
    register(g, t, '10.30.0.10', '4101', ua, expires=3600)
    for i in range(15):
        call(g, t + SEC + i * 50 * SEC, '10.30.0.10', '4101', '0301235%04d' % i, ua, hold_s=30)
        if i % 3 == 0:
            call(g, t + 11 * SEC + i * 50 * SEC, '10.30.0.10', '4101', '0301236%04d' % i, ua, hold_s=15)
    t += 760 * SEC
    for i in range(12):
        call(g, t + i * 2 * SEC, '10.30.0.10', '4101', '0301234%04d' % i, ua, hold_s=60)
    return t + 100 * SEC


def idlephone(g, t):
    """4201, a phone that does not register (its PBX trusts its address): its habit of one
    or two calls for 12 minutes, a quiet half hour, then 12 at once. Let go when quiet, it
    came back as a new account, held to three times the floor (30), and was missed."""
    ua = 'Grandstream GXP1625 1.0.11'
    for i in range(15):
        call(g, t + SEC + i * 50 * SEC, '10.30.0.11', '4201', '0301242%04d' % i, ua, hold_s=30)
        if i % 3 == 0:
            call(g, t + 11 * SEC + i * 50 * SEC, '10.30.0.11', '4201', '0301243%04d' % i, ua, hold_s=15)
    t += 760 * SEC + 1800 * SEC
    for i in range(12):
        call(g, t + i * 2 * SEC, '10.30.0.11', '4201', '0301244%04d' % i, ua, hold_s=60)
    return t + 100 * SEC


def pbx(g, t):
    phones = [('10.40.0.%d' % (10 + i), str(1100 + i)) for i in range(60)]
    for i, (ip, user) in enumerate(phones):
        register(g, t + i * 200 * MS, ip, user, 'Yealink SIP-T46S 66.85')
    register(g, t + 13 * SEC, '10.40.0.200', '1199', 'Yealink SIP-T46S 66.85', password_ok=False)
    register(g, t + 14 * SEC, '10.40.0.200', '1199', 'Yealink SIP-T46S 66.85', password_ok=False)
    register(g, t + 15 * SEC, '10.40.0.200', '1199', 'Yealink SIP-T46S 66.85', password_ok=False)
    t += 20 * SEC
    for i, (ip, user) in enumerate(phones):  # each calls a colleague, then a national number
        call(g, t + i * 500 * MS, ip, user, phones[(i + 7) % 60][1], 'Yealink SIP-T46S 66.85',
             hold_s=20, busy=i % 9 == 0)
        call(g, t + 40 * SEC + i * 500 * MS, ip, user, '0301234%04d' % i, 'Yealink SIP-T46S 66.85',
             hold_s=20)
    for i, (ip, user) in enumerate(phones):  # the refresh
        register(g, t + 90 * SEC + i * 200 * MS, ip, user, 'Yealink SIP-T46S 66.85', challenge=False)
    return t + 110 * SEC


def wifi(g, t):
    register(g, t, '10.50.0.7', '6001', 'Linphone/5.2.5')
    register(g, t + 40 * SEC, '10.50.0.7', '6001', 'Linphone/5.2.5', challenge=False, expires=300)
    for i in range(3):  # moved to another Wi-Fi, and stays there
        register(g, t + 100 * SEC + i * 60 * SEC, '172.16.9.7', '6001', 'Linphone/5.2.5',
                 challenge=i == 0, expires=120)
    return t + 300 * SEC


def callcentre(g, t):
    for i in range(40):
        ip, user = '10.60.0.%d' % (10 + i), str(7000 + i)
        register(g, t + i * 100 * MS, ip, user, 'Polycom VVX 411 6.3')
        call(g, t + 5 * SEC + i * 250 * MS, ip, user, '0891234%04d' % i, 'Polycom VVX 411 6.3',
             hold_s=120)
    # the centre's trunk account 7900 always holds 20 calls: from its first minute to its 16th
    register(g, t, '10.60.0.200', '7900', 'Asterisk PBX 18.20.0', expires=3600)
    for k in range(8):
        for j in range(20):
            call(g, t + SEC + j * 6 * SEC + k * 120 * SEC, '10.60.0.200', '7900', '0891235%04d' % (k * 20 + j),
                 'Asterisk PBX 18.20.0', hold_s=114)
    return t + 970 * SEC


TRUNK_UA = 'Asterisk PBX 18.20.0'


def trunk_habit(g, t, ip, user, prefix, expires):
    """A PBX trunk account's day: 15 calls at once for 14 minutes (its usual concurrency
    learnt near 14: a limit near 42, three times it). Returns when the day's calls end."""
    register(g, t, ip, user, TRUNK_UA, expires=expires)
    for k in range(7):
        for j in range(15):
            call(g, t + SEC + j * 8 * SEC + k * 120 * SEC, ip, user, prefix + '%04d' % (k * 15 + j),
                 TRUNK_UA, hold_s=114)
    return t + 7 * 120 * SEC


def trunkburst(g, t):
    """The trunk 7950's day, then 50 at once, national numbers all (no listed prefix: the
    burst is the number of calls alone)."""
    t = trunk_habit(g, t, '10.60.0.210', '7950', '0301237', 3600) + 60 * SEC
    for i in range(50):
        call(g, t + i * SEC, '10.60.0.210', '7950', '0301238%04d' % i, TRUNK_UA, hold_s=90)
    return t + 150 * SEC


def trunkday(g, t):
    """Its twin, 7960: the same day, then an evening of one call a minute for 14 minutes, a
    quiet hour, and a morning's ramp to 20 calls over 10 minutes. The evening's few calls
    must not erase the day's habit, so that the morning is no burst."""
    t = trunk_habit(g, t, '10.60.0.220', '7960', '0301239', 7200) + 120 * SEC
    for i in range(14):
        call(g, t + i * 60 * SEC, '10.60.0.220', '7960', '0301240%04d' % i, TRUNK_UA, hold_s=20)
    t += 14 * 60 * SEC + 3600 * SEC
    register(g, t - 10 * SEC, '10.60.0.220', '7960', TRUNK_UA, expires=7200, challenge=False)
    for i in range(20):
        call(g, t + i * 30 * SEC, '10.60.0.220', '7960', '0301241%04d' % i, TRUNK_UA, hold_s=900)
    return t + 1500 * SEC


STEPS = [  # (scenario, how to run it, silence after it: more than the 60 s window)
    ('sweep', sweep, 90), ('regsweep', regsweep, 90), ('guess', guess, 90), ('hijack', hijack, 90),
    ('guesswin', lambda g, t: guess(g, t, '192.0.2.200', '2500', 12, then_register=True), 90),
    ('spread', spread, 90), ('fumble', fumble, 90), ('fraud', fraud, 320), ('parallel', parallel, 90), ('idlephone', idlephone, 90), ('pbx', pbx, 90), ('wifi', wifi, 90),
    ('callcentre', callcentre, 90), ('trunkburst', trunkburst, 90), ('trunkday', trunkday, 10)]


def generate(writer, start_ns=1_700_000_000 * SEC, only=None):
    """Every scenario one after another, or only the one named."""
    g = Gen()
    t = start_ns
    for name, run, gap in STEPS:
        if only in (None, name):
            t = run(g, t) + gap * SEC
    g.events.sort(key=lambda e: e[0])
    for ts, fr in g.events:
        writer(ts, fr)
    acct = 'sip:%s@' + DOMAIN
    expected = [('sweep', ['sip_scan', '203.0.113.66']), ('sweep', ['auth_brute_force', '203.0.113.66']),
                ('regsweep', ['sip_scan', '198.18.7.20']), ('guess', ['auth_brute_force', '192.0.2.77']),
                ('hijack', ['registration_hijack', acct % '3001']),
                ('guesswin', ['auth_brute_force', '192.0.2.200']),
                ('guesswin', ['registration_hijack', acct % '2500']),
                ('spread', ['auth_brute_force', acct % '5001']),
                ('fraud', ['toll_fraud_pattern', acct % '4001']),
                ('parallel', ['toll_fraud_pattern', acct % '4101']),
                ('idlephone', ['toll_fraud_pattern', acct % '4201']),
                ('trunkburst', ['toll_fraud_pattern', acct % '7950'])]
    return dict(
        frames=len(g.events), first_ns=min(e[0] for e in g.events), last_ns=max(e[0] for e in g.events),
        expected=[e for sc, e in expected if only in (None, sc)],
        evidence={'203.0.113.66': dict(user_agent='friendly-scanner', known_scanner=1,
                                       requests=600 + 300, extensions=300, failed=150,
                                       accounts_sample=['1001']),
                  '198.18.7.20': dict(known_scanner=0, requests=200, extensions=200),
                  '192.0.2.77': dict(failed=40, accounts_sample=['2001']),
                  acct % '5001': dict(failed=3 * len(SPREAD_NETS), networks=len(SPREAD_NETS),
                                      networks_all=[a.rpartition('.')[0] + '.0/24' for a in SPREAD_NETS])},
        twins=dict(sources=['10.40.0.%d' % (10 + i) for i in range(60)] + ['10.40.0.200', '10.50.0.7',
                                                                          '172.16.9.7'] +
                   ['10.60.0.%d' % (10 + i) for i in range(40)] + ['10.60.0.200', '10.60.0.220', '10.70.0.5'],
                   accounts=[acct % str(1100 + i) for i in range(60)] + [acct % '6001'] +
                   [acct % str(7000 + i) for i in range(40)] + [acct % '7900', acct % '7960', acct % '5101']))


def scan_flood(writer, sources=100000, rate=20000, start_ns=1_700_000_000 * SEC):
    """A scan from `sources` addresses, each in a /24 of its own, one OPTIONS each (never
    answered, no User-Agent that names a tool: each alone is no scan), `rate` a second;
    through it one source, 203.0.113.66, sweeps 300 extensions with INVITE (404 back), the
    only scan to report."""
    g = Gen()
    gap = SEC // rate
    for i in range(sources):
        src = '%d.%d.%d.9' % (100 + (i >> 16), (i >> 8) & 255, i & 255)
        t = start_ns + i * gap
        g.send(t, src, 5060, REG, 5060, request('OPTIONS', 'sip:%d@%s' % (100 + i % 900, REG), src, 5060, 'scan',
                                                 str(100 + i % 900), 'o%d' % i, 1, 'o%d' % i, ua='Asterisk PBX 18'))
        if i % (sources // 300 or 1) == 0 and i // (sources // 300 or 1) < 300:
            ext = 100 + i // (sources // 300 or 1)
            exchange(g, t + gap // 2, '203.0.113.66', 5070, 'INVITE', 'sip:%d@%s' % (ext, REG), str(ext), str(ext),
                     404, 'Not Found', ua='Asterisk PBX 18')
    g.events.sort(key=lambda e: e[0])
    for ts, fr in g.events:
        writer(ts, fr)
    return dict(frames=len(g.events), sources=sources + 1,
                expected=[['sip_scan', '203.0.113.66']], extensions=300)
