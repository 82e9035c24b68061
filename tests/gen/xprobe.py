"""One call through a B2BUA (or a proxy) seen as two legs by two probes: probe A's capture
holds the caller's side, probe B's the callee's side, and the truth says which calls of
the two are one call (joined by X-CID, by RFC 7989 Session-ID, or by the same Call-ID
through a proxy) and which are not (twins: unrelated calls at the same time, one on each
probe, with keys that look alike but do not match).

Each message is written to exactly one capture, so the truth knows which probe saw it."""
from calls import MS, SEC
from scenarios import Dialog, sdp

T0 = 1_700_100_000 * SEC
ZERO = '0' * 32


def generate(write_a, write_b):
    out_a, out_b, truth = [], [], []
    base = [T0]

    def ms(x):
        return x * MS

    def call(n, name, join, a_cid, b_cid, a_extra='', b_extra='', a_ok='', b_ok='', gap=5):
        """Leg A caller 10.40.n.1 -> B2BUA 10.40.n.2 (probe A); leg B B2BUA 10.40.n.2 ->
        callee 10.40.n.3 (probe B). a_ok / b_ok: headers of each leg's 200 OK."""
        t = base[0]
        base[0] += 10 * SEC
        caller, b2bua, callee = '10.40.%d.1' % n, '10.40.%d.2' % n, '10.40.%d.3' % n
        la = Dialog(out_a, n, a_cid, caller, b2bua, extra=a_extra)
        lb = Dialog(out_b, 100 + n, b_cid, b2bua, callee, extra=b_extra)
        la.req(t, 'INVITE', 1, body=sdp(caller, 4000))
        la.resp(t + ms(1), 100, 'Trying', 1, 'INVITE')
        lb.req(t + ms(gap), 'INVITE', 1, body=sdp(b2bua, 6000))
        lb.resp(t + ms(300), 180, 'Ringing', 1, 'INVITE', 'tb%d' % n)
        la.resp(t + ms(302), 180, 'Ringing', 1, 'INVITE', 'ta%d' % n)
        lb.resp(t + ms(900), 200, 'OK', 1, 'INVITE', 'tb%d' % n, body=sdp(callee, 7000), extra=b_ok)
        lb.req(t + ms(901), 'ACK', 1, 'tb%d' % n, branch='ackb%d' % n)
        la.resp(t + ms(903), 200, 'OK', 1, 'INVITE', 'ta%d' % n, body=sdp(b2bua, 5000), extra=a_ok)
        la.req(t + ms(904), 'ACK', 1, 'ta%d' % n, branch='acka%d' % n)
        la.req(t + ms(3000), 'BYE', 2, 'ta%d' % n)
        la.resp(t + ms(3001), 200, 'OK', 2, 'BYE', 'ta%d' % n)
        lb.req(t + ms(3002), 'BYE', 2, 'tb%d' % n)
        lb.resp(t + ms(3003), 200, 'OK', 2, 'BYE', 'tb%d' % n)
        # every message of a leg: (time in us, method or status, Call-ID), as the probe saw it
        msgs = {'A': [(ts // 1000, m) for ts, m in [(t, 'INVITE'), (t + ms(1), 100), (t + ms(302), 180),
                                                    (t + ms(903), 200), (t + ms(904), 'ACK'),
                                                    (t + ms(3000), 'BYE'), (t + ms(3001), 200)]],
                'B': [(ts // 1000, m) for ts, m in [(t + ms(gap), 'INVITE'), (t + ms(300), 180),
                                                    (t + ms(900), 200), (t + ms(901), 'ACK'),
                                                    (t + ms(3002), 'BYE'), (t + ms(3003), 200)]]}
        truth.append(dict(name=name, join=join, call_id_a=a_cid, call_id_b=b_cid,
                          invite_time_a=t / SEC, invite_time_b=(t + ms(gap)) / SEC, messages=msgs))

    # a B2BUA naming its incoming leg in X-CID on the outgoing INVITE
    call(1, 'xcid', 'x_cid', 'xp-xcid-a@10.40.1.1', 'xp-xcid-b@10.40.1.2',
         b_extra='X-CID: xp-xcid-a@10.40.1.1\r\n')
    # RFC 7989 Session-ID, passed on by the B2BUA: the caller's UUID on both INVITEs; the
    # callee's comes back in the 200s, the caller's as remote
    u1, u2 = 'a1b2c3d4e5f60718293a4b5c6d7e8f90', '0f1e2d3c4b5a69788796a5b4c3d2e1f0'
    call(2, 'session', 'session_id', 'xp-sid-a@10.40.2.1', 'xp-sid-b@10.40.2.2',
         a_extra='Session-ID: %s;remote=%s\r\n' % (u1, ZERO),
         b_extra='Session-ID: %s;remote=%s\r\n' % (u1, ZERO),
         a_ok='Session-ID: %s;remote=%s\r\n' % (u2, u1), b_ok='Session-ID: %s;remote=%s\r\n' % (u2, u1))
    # a proxy between two probes: one Call-ID on both sides
    call(3, 'samecid', 'call_id', 'xp-same@10.40.3.1', 'xp-same@10.40.3.1')
    # twins: unrelated calls at the same moment, one on each probe. Their X-CID names a
    # Call-ID no probe saw, their Session-IDs are other UUIDs (and the null UUID on both,
    # which RFC 7989 §6 says means "unknown", must not join them)
    call(4, 'twin-xcid', None, 'xp-twin-a@10.40.4.1', 'xp-twin-b@10.40.4.2',
         b_extra='X-CID: xp-elsewhere@10.40.9.9\r\n')
    call(5, 'twin-session', None, 'xp-twin2-a@10.40.5.1', 'xp-twin2-b@10.40.5.2',
         a_extra='Session-ID: %s;remote=%s\r\n' % ('1' * 32, ZERO),
         b_extra='Session-ID: %s;remote=%s\r\n' % ('2' * 32, ZERO),
         a_ok='Session-ID: %s;remote=%s\r\n' % ('3' * 32, ZERO), b_ok='Session-ID: %s;remote=%s\r\n' % ('4' * 32, ZERO))
    for out, write in ((out_a, write_a), (out_b, write_b)):
        out.sort(key=lambda f: f[0])
        for ts, fr in out:
            write(ts, fr)
    return dict(calls=truth, frames_a=len(out_a), frames_b=len(out_b))
